"""A description in another language -> short canonical English sentences the English parser reads as usual.

Each language module gives a :class:`LanguageLexicon`: patterns (over lower-cased, accent-folded text for Latin
scripts, raw text for Japanese and Korean) that name a *word class* and a language-independent *value*:

* ``act``  a whole facial action (``smile``, ``frown``, ``wink``, ``nod`` ...; :data:`ACT_PHRASES`);
* ``verb`` an action that needs a part (``open``, ``close``, ``raise``, ``lower``, ``press``, ``turn`` ...);
* ``part`` a part of the face (``eyes``, ``mouth``, ``brows``, ``head``, ``corners`` ...);
* ``int``  an intensity grade (``trace``, ``faint``, ``slight``, ``strong``, ``max``: :data:`INTENSITY_WORDS`);
* ``neg``  negation scoping the *next* action ("no sonríe", "ne sourit pas", Korean "안 웃는다"); ``negpost``
  the *previous* one (Japanese ない/ず, Korean 지 않다); ``negclause`` the previous action of its clause if any,
  else the next (German "lacht nicht", "nicht lächelnd"); ``stop`` "no longer" (next action);
* ``lr``   left/right (a side for parts, a direction for gaze, turns and tilts); ``dir`` up/down/together/ahead;
* ``emo``  an emotion (English adjective); ``keep`` "still" (next action); ``sep`` a clause boundary; ``and``
  a conjunction (modifiers do not cross it).

Morphology is handled in the patterns by stems (``sonr(?:i|e)\\w*`` covers sonríe, sonreír, sonriendo, sonrisa;
``閉じ`` any ending; Korean stems with their endings), not by listing inflected forms.

Reading (:func:`read`): matches are collected (longest wins where two overlap), split into clauses at
punctuation and ``sep`` words, and each clause's actions (``act`` / ``verb``) take their parts and modifiers:
a verb takes the parts after it up to the next action in verb-object languages (before it in Japanese and
Korean), else the nearest one on the other side; a modifier goes to the nearest action of its clause (negation as
its kind says). Each action becomes one English sentence ("The left eye winks slightly.", "Does not smile.")
whose character span in the original text is kept, so mentions can point back at the words that made them.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["ACT_PHRASES", "INTENSITY_WORDS", "LanguageLexicon", "Reading", "Sentence", "fold", "read"]

#: English adverb for each intensity grade; the English intensity table (:mod:`..intensity`) gives the level.
INTENSITY_WORDS = {"trace": "barely", "faint": "faintly", "slight": "slightly", "somewhat": "somewhat",
                   "clear": "clearly", "strong": "very", "max": "extremely"}
_RANK = {"trace": 0, "faint": 1, "slight": 2, "somewhat": 3, "clear": 4, "strong": 5, "max": 6}

#: Whole actions -> an English phrase (``{side}``: "left "/"right "/"" where the action can be one-sided).
ACT_PHRASES = {
    "smile": "smiles", "grin": "grins", "smirk": "smirks", "laugh": "laughs out loud", "cry": "cries",
    "tears": "the eyes fill with tears", "frown": "frowns", "scowl": "scowls", "wink": "the {side}eye winks",
    "blink": "blinks", "nod": "nods", "headshake": "shakes the head", "pout": "pouts", "yawn": "yawns",
    "sigh": "sighs", "scream": "screams", "gasp": "gasps", "grimace": "grimaces", "sneer": "sneers",
    "eyes_wide": "the eyes go wide", "eyes_narrow": "narrows the eyes", "eyes_closed": "closes the eyes",
    "eyes_squeeze": "squeezes the eyes shut", "brows_raise": "raises the {side}eyebrows",
    "brows_knit": "knits the brows", "nose_wrinkle": "wrinkles the nose", "jaw_drop": "the jaw drops",
    "mouth_open": "opens the mouth", "lips_press": "presses the lips together", "kiss": "purses the lips",
    "lip_bite": "bites the lower lip", "cheek_puff": "puffs out the cheeks", "tongue_out": "sticks out the tongue",
    "lips_part": "the lips part", "look": "looks", "look_up": "looks up", "look_down": "looks down", "turn": "turns the head", "tilt": "tilts the head", "head_down": "bows the head",
    "head_up": "lifts the chin", "neutral": "the face is neutral", "blush": "", "roll_eyes": "rolls the eyes",
}
#: Actions whose left/right is a direction (look to the left), not a side (the left eye).
_DIRECTIONAL = {"look", "turn", "tilt"}
#: Parts -> English nouns, with the side a one-sided part keeps.
_PART_NOUN = {"eyes": "eyes", "eye": "{side}eye", "mouth": "mouth", "lips": "lips", "lip": "lower lip",
              "brows": "eyebrows", "brow": "{side}eyebrow", "head": "head", "forehead": "forehead",
              "corners": "{side}corners of the mouth", "gaze": "gaze", "chin": "chin", "nose": "nose",
              "cheeks": "cheeks", "tongue": "tongue", "teeth": "teeth", "face": "face", "jaw": "jaw"}


def _verb_phrase(verb: str, part: str | None, direction: str | None, level: str | None) -> str | None:
    """English for ``verb`` applied to ``part`` (None: the verb cannot act without a part it has not got)."""
    strong = level in ("strong", "max")
    p = part or ""
    if verb in ("pull", "move", "raise", "lower") and direction in ("up", "down", "together"):
        verb = {"up": "raise", "down": "lower", "together": "together"}[direction]
    if verb == "together":
        return {"brows": "knits the brows", "brow": "knits the brows", "forehead": "knits the brows",
                "lips": "presses the lips together", "mouth": "presses the lips together",
                "eyes": "narrows the eyes", "eye": "narrows the eyes"}.get(p)
    if verb == "open":
        if p in ("eyes", "eye"):
            return "the eyes go wide" if strong and p == "eyes" else "opens the {part}"
        if p in ("mouth", "lips", "jaw"):
            return "opens the mouth wide" if strong else "opens the mouth"
        return None
    if verb == "close":
        if p in ("eyes", "eye"):
            return "closes the {part}"
        if p in ("mouth", "jaw"):
            return "closes the mouth"
        if p == "lips":
            return "presses the lips together"
        return None
    if verb == "raise":
        return {"brows": "raises the eyebrows", "brow": "raises the {part}", "head": "lifts the chin",
                "chin": "lifts the chin", "eyes": "looks up", "gaze": "looks up",
                "corners": "the {part} turn up", "lip": "curls the upper lip"}.get(p)
    if verb == "lower":
        return {"brows": "lowers the brows", "brow": "lowers the brows", "eyes": "looks down", "gaze": "looks down",
                "head": "bows the head", "chin": "lowers the chin", "corners": "the {part} turn down",
                "eye": "looks down"}.get(p)
    if verb == "narrow":
        return "narrows the eyes" if p in ("eyes", "eye", "") else None
    if verb == "widen":
        return "the eyes go wide" if p in ("eyes", "eye", "") else None
    if verb == "press":
        return {"lips": "presses the lips together", "mouth": "presses the lips together",
                "eyes": "squeezes the eyes shut", "teeth": "clenches the jaw", "jaw": "clenches the jaw",
                "": "presses the lips together"}.get(p)
    if verb == "squeeze":
        if direction == "together" or p in ("eyes", "eye"):
            return "narrows the eyes" if not strong else "squeezes the eyes shut"
        return None
    if verb == "knit":
        return "knits the brows" if p in ("brows", "brow", "forehead", "") else None
    if verb == "wrinkle":
        return {"forehead": "frowns", "brows": "frowns", "nose": "wrinkles the nose", "": "frowns"}.get(p)
    if verb == "turn":
        return {"eyes": "looks", "gaze": "looks", "eye": "looks"}.get(p, "turns the head")
    if verb == "tilt":
        return "tilts the head" if p in ("head", "") else None
    if verb == "look":
        return "looks"
    if verb == "bite":
        return "bites the lower lip" if p in ("lips", "lip", "") else None
    if verb == "puff":
        return "puffs out the cheeks" if p in ("cheeks", "") else None
    if verb == "shake":
        return "shakes the head" if p in ("head", "") else None
    if verb == "stick_out":
        return "sticks out the tongue" if p in ("tongue", "") else None
    if verb == "curl":
        return "curls the upper lip" if p in ("lips", "lip") else None
    return None


@dataclass(frozen=True)
class LanguageLexicon:
    """One language: ``code`` (ISO 639-1), English ``name``, word ``order`` (``"vo"`` verb before its object,
    ``"ov"`` after), ``entries`` ``(pattern, kind, value)``, ``stopwords`` and ``letters`` (characters typical of
    the language, for :mod:`.detect`) and ``latin`` (patterns match whole words of folded text)."""

    code: str
    name: str
    order: str
    entries: tuple[tuple[str, str, str], ...]
    stopwords: frozenset[str] = frozenset()
    letters: str = ""
    latin: bool = True
    _compiled: list[tuple[re.Pattern[str], str, str]] = field(default_factory=list, compare=False, repr=False)
    _vocabulary: list[re.Pattern[str]] = field(default_factory=list, compare=False, repr=False)

    def vocabulary(self) -> re.Pattern[str]:
        """One pattern matching any entry but clause boundaries (for :mod:`.detect`: one scan per language)."""
        if not self._vocabulary:
            body = "|".join(f"(?:{p})" for p, kind, _v in self.entries if kind not in ("sep", "and"))
            self._vocabulary.append(re.compile(rf"(?<![\w'])(?:{body})(?![\w])" if self.latin else body))
        return self._vocabulary[0]

    def compiled(self) -> list[tuple[re.Pattern[str], str, str]]:
        """The entries' patterns, compiled on first use."""
        if not self._compiled:
            for pattern, kind, value in self.entries:
                body = rf"(?<![\w'])(?:{pattern})(?![\w])" if self.latin else pattern
                self._compiled.append((re.compile(body), kind, value))
        return self._compiled


def fold(text: str) -> tuple[str, list[int]]:
    """Lower-case, accent-free text and, for each of its characters, the index of the original character
    (``œ`` -> ``oe``, ``ß`` -> ``ss``, typographic apostrophes -> ``'``)."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low in ("œ", "æ", "ß"):
            rep = {"œ": "oe", "æ": "ae", "ß": "ss"}[low]
        elif low in ("’", "ʼ", "`", "´"):
            rep = "'"
        else:
            rep = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c)) or low
        out.append(rep)
        where.extend([i] * len(rep))
    return "".join(out), where


@dataclass(frozen=True)
class _Item:
    start: int  # offsets in the original text
    end: int
    kind: str
    value: str


@dataclass(frozen=True)
class Sentence:
    """One English sentence of a reading and the span of the original words it came from."""

    english: str
    start: int
    end: int


@dataclass(frozen=True)
class Reading:
    """``text`` read in ``language`` (ISO code; ``name`` in English) as English ``sentences``."""

    text: str
    language: str
    name: str
    sentences: tuple[Sentence, ...]

    @property
    def english(self) -> str:
        """The sentences joined into one text (what the English parser reads)."""
        return " ".join(s.english for s in self.sentences)

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence that covers character ``offset`` of :attr:`english`."""
        pos = 0
        for s in self.sentences:
            if pos <= offset < pos + len(s.english) + 1:
                return s
            pos += len(s.english) + 1
        return None


_PUNCT = re.compile(r"[.!?;:,\u3002\uff01\uff1f\uff1b\uff1a\uff0c\u3001()\[\]\"\u300c\u300d]+")


def _items(text: str, lexicon: LanguageLexicon) -> list[_Item]:
    folded, where = fold(text) if lexicon.latin else (text, list(range(len(text))))
    found: list[tuple[int, int, int, str, str]] = []
    for order, (regex, kind, value) in enumerate(lexicon.compiled()):
        for m in regex.finditer(folded):
            if m.end() > m.start():
                found.append((m.start(), m.end(), order, kind, value))
    # longest first, then the earlier entry; a match overlapping a kept one is dropped
    found.sort(key=lambda f: (-(f[1] - f[0]), f[2], f[0]))
    taken = [False] * (len(folded) + 1)
    items: list[_Item] = []
    for start, end, _order, kind, value in found:
        if any(taken[start:end]):
            continue
        for k in range(start, end):
            taken[k] = True
        items.append(_Item(where[start], where[end - 1] + 1, kind, value))
    for m in _PUNCT.finditer(text):
        items.append(_Item(m.start(), m.end(), "sep", m.group()))
    items.sort(key=lambda it: (it.start, it.end))
    return items


def _clauses(items: Sequence[_Item]) -> list[list[_Item]]:
    clauses: list[list[_Item]] = [[]]
    for it in items:
        if it.kind == "sep":
            clauses.append([])
        else:
            clauses[-1].append(it)
    return [c for c in clauses if c]


@dataclass
class _Frame:
    head: _Item
    parts: list[_Item] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    side: str | None = None
    direction: str | None = None
    neg: str | None = None  # "not" / "no longer"
    keep: bool = False
    start: int = 0
    end: int = 0


def _nearest(heads: list[int], i: int, prefer_before: bool) -> int | None:
    before = [h for h in heads if h < i]
    after = [h for h in heads if h > i]
    b = before[-1] if before else None
    a = after[0] if after else None
    if b is None or a is None:
        return b if a is None else a
    db, da = i - b, a - i
    if db == da:
        return b if prefer_before else a
    return b if db < da else a


#: Heads whose left/right is a direction.
_TAKES_DIRECTION = frozenset({"look", "look_up", "look_down", "turn", "tilt"})


def _same_segment(clause: list[_Item], heads: list[int], i: int) -> list[int]:
    """The heads between the same ``and`` words as item ``i`` (all of ``heads`` when none is there): a modifier
    does not cross "and" to reach another action ("gira la cabeza a la izquierda y sonríe levemente")."""
    ands = [k for k, it in enumerate(clause) if it.kind == "and"]
    lo = max((k for k in ands if k < i), default=-1)
    hi = min((k for k in ands if k > i), default=len(clause))
    inside = [h for h in heads if lo < h < hi]
    return inside or heads


def _frames(clause: list[_Item], order: str) -> tuple[list[_Frame], list[_Item]]:
    heads = [i for i, it in enumerate(clause) if it.kind in ("act", "verb")]
    frames = {i: _Frame(clause[i], start=clause[i].start, end=clause[i].end) for i in heads}
    loose: list[_Item] = []
    vo = order == "vo"
    for i, it in enumerate(clause):
        if it.kind in ("act", "verb", "and"):
            continue
        target: int | None
        if it.kind == "part":
            # verb-object: the last action before the part, else the next; object-verb: the reverse
            near = _same_segment(clause, heads, i)
            before = [h for h in near if h < i]
            after = [h for h in near if h > i]
            if vo:
                target = before[-1] if before else (after[0] if after else None)
            else:
                target = after[0] if after else (before[-1] if before else None)
        elif it.kind in ("neg", "stop", "keep"):
            # the next action; at the end of a clause the one before ("er lächelt nicht mehr")
            after = [h for h in heads if h > i]
            before = [h for h in heads if h < i]
            target = after[0] if after else (before[-1] if before else None)
        elif it.kind == "negpost":
            before = [h for h in heads if h < i]
            target = before[-1] if before else None
        elif it.kind == "negclause":
            before = [h for h in heads if h < i]
            after = [h for h in heads if h > i]
            target = before[-1] if before else (after[0] if after else None)
        elif it.kind in ("lr", "dir"):
            # a direction goes to an action that takes one (look, turn, tilt) when the clause has one
            directional = [h for h in heads if clause[h].value in _TAKES_DIRECTION]
            target = _nearest(_same_segment(clause, directional or heads, i), i, prefer_before=vo)
        else:
            target = _nearest(_same_segment(clause, heads, i), i, prefer_before=vo)
        if target is None:
            loose.append(it)
            continue
        f = frames[target]
        f.start, f.end = min(f.start, it.start), max(f.end, it.end)
        if it.kind == "part":
            f.parts.append(it)
        elif it.kind == "int":
            f.levels.append(it.value)
        elif it.kind == "lr":
            f.side = it.value
        elif it.kind == "dir":
            f.direction = it.value
        elif it.kind in ("neg", "negpost", "negclause"):
            f.neg = "not"
        elif it.kind == "stop":
            f.neg = "no longer"
        elif it.kind == "keep":
            f.keep = True
        elif it.kind == "emo":
            loose.append(it)
    return [frames[i] for i in heads], loose


def _render(f: _Frame) -> list[str]:
    level: str | None = max(f.levels, key=lambda v: _RANK.get(v, 3)) if f.levels else None
    side = f"{f.side} " if f.side else ""
    head = f.head
    if f.side and head.value not in _DIRECTIONAL:  # 右目, 왼쪽 눈: one eye when a side is named
        f.parts = [dataclasses.replace(p, value="eye") if p.value == "eyes" else p for p in f.parts]
    phrases: list[str] = []
    if head.kind == "act":
        phrase = ACT_PHRASES.get(head.value)
        if head.value in ("look", "turn", "tilt", "brows_raise") and f.parts and f.direction in ("up", "down"):
            phrase = _verb_phrase("raise" if f.direction == "up" else "lower", f.parts[0].value, None, level)
        if phrase:
            phrases.append(phrase)
    else:
        parts: list[str | None] = [p.value for p in f.parts] or [None]
        for p in parts:
            phrase = _verb_phrase(head.value, p, f.direction, level)
            if phrase:
                noun = _PART_NOUN.get(p or "", "")
                phrases.append(phrase.replace("{part}", noun))
    out: list[str] = []
    for phrase in dict.fromkeys(phrases):
        directional = head.value in _DIRECTIONAL or phrase.startswith(("looks", "turns the head", "tilts"))
        text = phrase.replace("{side}", "" if directional else side)
        if f.side and not directional and "{side}" not in phrase and side not in text:
            text += f" on the {f.side} side"
        if directional:
            if f.direction in ("up", "down") and text == "looks":
                text += f" {f.direction}"
            elif f.direction == "ahead":
                text += " straight ahead"
            if f.side:
                text += f" to the {f.side}"
        if level and "wide" not in text:
            text = f"{INTENSITY_WORDS.get(level, '')} {text}"
        if f.neg:
            text = f"{f.neg} {text}"
        elif f.keep:
            text = f"still {text}"
        out.append(text.strip())
    return out


def read(text: str, lexicon: LanguageLexicon, *, emotions: dict[str, str] | None = None) -> Reading:
    """``text`` (a description in ``lexicon``'s language) as English sentences; see the module docstring.
    ``emotions``: English adjective per ``emo`` value (default: the value itself)."""
    sentences: list[Sentence] = []
    for clause in _clauses(_items(text, lexicon)):
        frames, loose = _frames(clause, lexicon.order)
        negated = any(it.kind in ("neg", "negpost", "negclause") for it in clause) and not frames
        for it in loose:
            if it.kind == "emo" and not negated:
                adj = (emotions or {}).get(it.value, it.value)
                sentences.append(Sentence(f"Looks {adj}.", it.start, it.end))
        # a part with a direction and no action: the gaze or head goes that way ("mirada hacia abajo")
        if not frames:
            parts = [it for it in clause if it.kind == "part"]
            dirs = [it for it in clause if it.kind in ("dir", "lr")]
            if parts and dirs and parts[0].value in ("gaze", "eyes", "head"):
                verb = "turn" if parts[0].value == "head" else "look"
                synthetic = _Item(parts[0].start, parts[0].end, "act", verb)
                frames, _ = _frames([synthetic if it is parts[0] else it for it in clause], lexicon.order)
        said: set[str] = set()
        for f in frames:
            for english in _render(f):
                if english not in said:  # にっこり笑った, 눈살을 찌푸렸다: two words, one action
                    said.add(english)
                    sentences.append(Sentence(english[0].upper() + english[1:] + ".", f.start, f.end))
    sentences.sort(key=lambda s: s.start)
    return Reading(text, lexicon.code, lexicon.name, tuple(sentences))
