"""Only the face moves the face: idioms of expression get their meaning, scene text is set aside.

:func:`read_scene` rewrites one description before it is tagged:

1. **Idioms and metaphors of expression** (:data:`IDIOMS`) are replaced by the facial actions they mean ("bites
   her tongue" -> lips pressed together; "as if she had bitten into a lemon" -> puckered lips and a wrinkled nose;
   "shoots daggers" -> a glare). Meanings follow common dictionary senses (Cambridge / Merriam-Webster idioms).
2. **Scene clauses** are set aside: a clause whose subject is a thing or a stranger making a sound, introduced by
   an indefinite article ("a siren wails", "somewhere a phone rings", "a baby cries"; "the coach shouts" may be
   the character and is kept) and a verb of the face lexicon used on a non-facial object
   ("shakes hands", "tears open the envelope", "shrugs off her coat", "closes the door", "turns the page", "raises
   a hand"). A verb keeps its facial meaning when its object is a face part, a pronoun-less direction or nothing
   ("shakes his head", "turns away", "she shrugs").

The words set aside are returned so that a warning can name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["IDIOMS", "SceneReading", "read_scene"]

_POSS = r"(?:his|her|their|my|your|our|its|one's)"
#: (pattern, meaning) pairs, tried in order; patterns are case-insensitive regular expressions.
IDIOMS: tuple[tuple[str, str], ...] = (
    (rf"\bbit(?:es|e|ing|ten)?\s+{_POSS}\s+tongue\b", "presses her lips together"),
    (r"\b(?:as\s+if|like)\s+(?:she|he|they|i|you|someone)?\s*(?:had|has|'d)?\s*(?:just\s+)?"
     r"(?:bit(?:ten)?|suck(?:ed|ing)?|tast(?:ed|ing)|chew(?:ed|ing)?|ate|eaten|bite)\s+(?:in(?:to)?\s+|on\s+)?"
     r"(?:a\s+|an\s+|some\s+|something\s+)?(?:lemon|lime|sour|bitter)\w*(?:\s+\w+)?",
     "lips pucker, the nose wrinkles and the eyes squint"),
    (r"\b(?:face|expression|features)\s+(?:fell|falls|drops|dropped|crumpled|crumples)\b",
     "looks crestfallen, the mouth corners turn down and the inner brows rise"),
    (r"\beyes\s+(?:lit|light|lights|lighting)\s+up\b", "eyes widen with a bright smile"),
    (r"\b(?:shoot(?:s|ing)?|shot|look(?:s|ed|ing)?|glar(?:es|ed|ing))\s+daggers\b", "glares angrily"),
    (r"\b(?:face|expression|features)\s+(?:closed|closes|shut|shuts|shutting|closing)(?:\s+(?:down|up|off))?"
     r"(?:\s+like\s+an?\s+(?:\w+\s+){0,2}?(?:door|gate|book|shutter|window|trap)s?)?",
     "the face goes blank and still, lips pressed"),
    (r"\blike\s+an?\s+(?:slammed\s+|closed\s+|shut\s+)?(?:door|gate|book|shutter)s?\b", ""),
    (r"\b(?:stony|stone[- ]faced|poker[- ]faced?|straight[- ]faced?|deadpan|stony[- ]faced|blank\s+face)\b"
     r"(?:\s+face)?", "a neutral expression"),
    (r"\b(?:grin(?:s|ning|ned)?|smil(?:es|ing|ed|e))\s+from\s+ear\s+to\s+ear\b", "grins very broadly"),
    (r"\bfrom\s+ear\s+to\s+ear\b", "very broadly"),
    (r"\bface\s+like\s+thunder\b", "a furious scowl"),
    (r"\bgreen\s+around\s+the\s+gills\b", "nauseated"),
    (r"\bturn(?:s|ed|ing)?\s+up\s+" + _POSS + r"\s+nose\b", "wrinkles her nose in disdain"),
    (r"\blong\s+face\b", "a sad face"),
    (r"\bjaw\s+(?:hit|hits|hitting)\s+the\s+floor\b", "jaw drops wide open"),
    (r"\ball\s+smiles\b", "smiling broadly"),
    (r"\bjaw\s+(?:hanging|hangs|hung)(?:\s+(?:open|loose|slack))?", "jaw drops open"),
    # the face as the place where something happens ("a smile spreads across his face") is not an actor
    (r"\b(?:across|over|on|onto|through|all\s+over)\s+(?:his|her|their|my|your|the)\s+(?:whole\s+|entire\s+)?"
     r"face\b", ""),
    (r"\b(?:in|into|burst(?:s|ing)?\s+into)\s+tears\b", "crying"),
    (r"\bteary[- ]eyed\b", "teary eyes, sad"),
)  # fmt: skip
_IDIOM_RES = tuple((re.compile(p, re.IGNORECASE), meaning) for p, meaning in IDIOMS)

#: Verbs of the face lexicon that also act on objects; their forms are matched by prefix.
_AMBIGUOUS = ("shak", "shook", "tear", "tore", "torn", "rip", "bit", "shrug", "open", "clos", "shut", "rais",
              "lift", "drop", "roll", "turn", "wav", "curl", "clench", "pull", "wip", "rub", "cover", "point",
              "squeez", "press", "wrinkl", "knit", "fold", "cross", "pursu", "lower", "tilt", "throw", "threw",
              "flick", "snap", "slam", "grab", "push", "blow")
_PARTICLES = frozenset({"open", "off", "out", "of", "up", "down", "apart", "away", "back", "on", "over", "in",
                        "into", "onto", "firmly", "slowly", "quickly", "gently", "hard", "wide", "shut", "loose"})
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "my", "your", "our", "its", "some", "this",
                          "that", "one", "both", "two", "another", "wet", "old", "new", "heavy", "big", "small"})
_PRONOUN_OBJECTS = frozenset({"it", "them", "him", "me", "us", "everything", "something"})
_FACE_WORDS = frozenset({
    "head", "face", "eye", "eyes", "eyebrow", "eyebrows", "brow", "brows", "lid", "lids", "eyelid", "eyelids",
    "mouth", "lip", "lips", "jaw", "chin", "nose", "nostril", "nostrils", "cheek", "cheeks", "tongue", "teeth",
    "gaze", "glance", "look", "forehead", "smile", "grin", "frown", "corner", "corners", "neck", "expression",
    "features", "left", "right", "side", "sideways", "toward", "towards", "to", "at", "with", "away", "around",
    "round", "upward", "upwards", "downward", "downwards", "back", "slightly", "little", "bit", "in",
})  # fmt: skip
#: Verbs of sound (the subject makes a noise: not a face of the character unless the subject is the character).
_SOUND_VERBS = re.compile(
    r"^(?:wail|howl|ring|rang|cry|cries|cried|scream|shriek|bang|slam|crash|buzz|beep|honk|bark|roar|whistl|hum|"
    r"rattl|creak|thunder|blar|chim|rumbl|squeal|screech|sob|shout|yell|laugh|sing|sang|clatter|explod|boom|"
    r"blast|hiss|groan|moan|squeak|tick|ticks|knock|pop|drip|drone|whir)", re.IGNORECASE)
_STRANGER_SUBJECT = re.compile(
    r"^\s*(?:(?:somewhere|outside|nearby|in\s+the\s+distance|far\s+away|behind\s+\w+|then|suddenly)[,\s]+)*"
    r"(?:(?:a|an|some|someone|somebody|another)\s+)(?P<rest>(?:[a-z'-]+\s*){1,4})", re.IGNORECASE)
_PERSON_NOUNS = frozenset({
    "man", "woman", "girl", "boy", "child", "kid", "person", "lady", "guy", "actor", "actress", "hero", "heroine",
    "detective", "teenager", "student", "mother", "father", "mom", "dad", "old", "young", "character", "king",
    "queen", "soldier", "stranger", "princess", "prince", "villain", "clown", "nurse", "doctor", "teacher",
})  # fmt: skip
_NOT_SUBJECTS = frozenset({"to", "at", "with", "away", "around", "round", "back", "slightly", "little", "bit", "in",
                           "left", "right", "side", "toward", "towards", "upward", "upwards", "downward",
                           "downwards", "sideways"})
_CLAUSE_SPLIT = re.compile(r"(?<=[.;!?])\s+|;\s*|,\s*(?:and\s+|while\s+|as\s+)?|\s+(?:and|while|as|but)\s+")


@dataclass
class SceneReading:
    """``text``: the description with idioms rewritten and scene text removed; ``idioms``: ``(phrase, meaning)``;
    ``scene``: the clauses or phrases set aside."""

    text: str
    idioms: list[tuple[str, str]] = field(default_factory=list)
    scene: list[str] = field(default_factory=list)


#: Things hands hold and wear, and body parts below the head: words the parser's vocabulary also has (as gaze
#: targets or "hand over mouth" gestures) that are never what a facial verb acts on.
_OBJECT_NOUNS = frozenset({
    "hand", "hands", "arm", "arms", "finger", "fingers", "fist", "fists", "shoulder", "shoulders", "leg", "legs",
    "glass", "book", "phone", "cup", "coat", "jacket", "hat", "door", "window", "page", "key", "paper", "letter",
    "envelope", "bag", "box", "camera", "hair",
})  # fmt: skip


def _object_is_facial(words: list[str]) -> bool:
    """The words after an ambiguous verb: does the verb act on the face (or on nothing)? Words of the parser's
    vocabulary ("high", "together", "tightly") modify the facial verb; any other noun is an object."""
    from .casual import _vocabulary

    vocab = _vocabulary()
    for k, w in enumerate(words[:5]):
        if w == "a" and k + 1 < len(words) and words[k + 1] in ("little", "bit", "touch", "fraction"):
            return True
        if w in _FACE_WORDS:
            return True
        if w in _PARTICLES or w in _DETERMINERS or w.endswith("ly"):
            continue
        if not w.isalpha():
            return True
        return w not in _PRONOUN_OBJECTS and w not in _OBJECT_NOUNS and w in vocab
    return True


def _strip_objects(clause: str, scene: list[str]) -> str:
    words = re.findall(r"[A-Za-z']+|[^\sA-Za-z']", clause)
    low = [w.lower() for w in words]
    for i, w in enumerate(low):
        if not w.startswith(_AMBIGUOUS) or i + 1 >= len(low):
            continue
        rest = low[i + 1:]
        if any(w in _FACE_WORDS - _NOT_SUBJECTS for w in low[max(0, i - 3):i]) or _object_is_facial(rest):
            continue
        # a noun that is neither a face part nor a particle: the verb acts on an object
        end = i + 1
        while end < len(low) and (low[end] in _PARTICLES or low[end] in _DETERMINERS):
            end += 1
        end += 1
        phrase = " ".join(words[i:end])
        scene.append(phrase)
        return _strip_objects(" ".join(words[:i] + words[end:]), scene)
    return clause


def read_scene(text: str) -> SceneReading:
    """Rewrite idioms and set scene text aside (see the module docstring)."""
    out = SceneReading(text=text)
    for rx, meaning in _IDIOM_RES:
        m = rx.search(out.text)
        while m is not None:
            out.idioms.append((m.group(0), meaning))
            out.text = out.text[:m.start()] + (f" {meaning} " if meaning else " ") + out.text[m.end():]
            m = rx.search(out.text, m.start() + len(meaning) + 2)
    pieces: list[str] = []
    pos = 0
    for sep in [*_CLAUSE_SPLIT.finditer(out.text), None]:
        end = sep.start() if sep is not None else len(out.text)
        clause = out.text[pos:end]
        joiner = sep.group(0) if sep is not None else ""
        pos = sep.end() if sep is not None else len(out.text)
        m = _STRANGER_SUBJECT.match(clause)
        if (m and any(_SOUND_VERBS.match(w) for w in m.group("rest").split()[:4])
                and not (set(clause.lower().split()) & (_PERSON_NOUNS | _FACE_WORDS - {"to", "at", "in", "back"}))):
            out.scene.append(clause.strip())
            pieces.append(" " + joiner)
            continue
        pieces.append(_strip_objects(clause, out.scene) + joiner)
    out.text = "".join(pieces)
    return out
