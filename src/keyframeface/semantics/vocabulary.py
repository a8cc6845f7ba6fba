"""The composer's canonical vocabulary: the closed set of phrases an LLM rewrite may use, and its answer grammar.

The LLM-assisted reading (:mod:`keyframeface.assist`) asks a chat model to restate a description the composer could
not read in these phrases only. Every phrase is one the composer reads back to the action it names (checked by
``tests/test_assist.py``), so a rewrite that keeps to the vocabulary is always understood.

The phrases come from the annotator's clause templates (:data:`keyframeface.semantics.phrasing.TEMPLATES`: the
inverse of the composer, one clause per action, with a side or a direction where the action has one), plus the
whole-face action words (laugh, cry, wink ...), the emotion prototypes (:data:`keyframeface.semantics.emotions.
PROTOTYPES`, named as the annotator names them) and the relative notes (:mod:`keyframeface.semantics.relative`).
Intensity is a separate field whose values are the annotator's grade labels (:data:`~.phrasing.GRADES`: FACS A-E
calibrated), rendered with that grade's first adverb.

The answer is one JSON object, ``{"actions": [{"action": PHRASE, "degree": GRADE}, ...]}`` (an empty list: no
facial action), stated as a JSON Schema (:func:`json_schema`, enums of the phrases and grades) and as a GBNF grammar
(:func:`gbnf`, llama.cpp's format) so any engine that constrains decoding keeps the model inside the vocabulary.
Pure Python; the phrase table is built once on first use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .phrasing import GRADES, TEMPLATES, join_clauses

__all__ = ["DEGREES", "MAX_ACTIONS", "Phrase", "gbnf", "json_schema", "parse_actions", "phrases", "render"]

#: Most actions one rewrite may name (a keyframe rarely needs more; the limit also bounds the answer's length).
MAX_ACTIONS: Final[int] = 4
#: The intensity grades a rewrite may give, weakest first ("marked": the action's own default, no adverb).
DEGREES: Final[tuple[str, ...]] = tuple(g.label for g in GRADES)
_ADVERB: Final[dict[str, str]] = {g.label: g.adverbs[0] for g in GRADES}
_ADJECTIVE: Final[dict[str, str]] = {"trace": "faint", "faint": "faint", "slight": "slight", "mild": "mild",
                                     "moderate": "moderate", "marked": "", "clear": "clear", "strong": "strong",
                                     "maximal": "extreme"}

# Directions the direction-driven templates take ({dir}), as the composer's direction words read them.
_GAZE_DIRS: Final[tuple[str, ...]] = ("to the left", "to the right", "up", "down", "up and to the left",
                                      "up and to the right", "down and to the left", "down and to the right")
_SIDE_DIRS: Final[tuple[str, ...]] = ("to the left", "to the right")
_DIRS: Final[Mapping[str, tuple[str, ...]]] = {"gaze": _GAZE_DIRS, "head_yaw": _SIDE_DIRS, "head_roll": _SIDE_DIRS,
                                               "mouth_side": _SIDE_DIRS, "jaw_side": _SIDE_DIRS}
# Whole-face action words the composer reads as one action ("{a}" takes the adverb).
_ACTION_WORDS: Final[tuple[str, ...]] = (
    "laughs{a}", "cries{a}", "screams{a}", "yawns", "blinks", "winks with the left eye", "winks with the right eye",
    "sneers{a}", "grins{a}", "pouts{a}", "gasps{a}", "sighs",
)
# Emotion prototypes offered by name: the common ones (the full table is larger than a small model can use well).
_EMOTIONS: Final[tuple[str, ...]] = (
    "happiness", "sadness", "anger", "surprise", "fear", "disgust", "contempt", "anxiety", "confusion", "tiredness",
    "boredom", "determination", "pain", "embarrassment", "pride", "skepticism", "interest", "relief", "excitement",
)
# Relative notes (semantics/relative.py): resolved against the previous keyframe, no degree.
_NOTES: Final[tuple[str, ...]] = ("hold", "again", "same but bigger", "same but smaller",
                                  "now the other side", "back to neutral", "relax", "undo")

# Annotator clauses the composer does not read back as an action (tests/test_assist.py checks every other one).
_UNREAD: Final[frozenset[str]] = frozenset({"the dimples remain", "the mouth returns to the center"})


@dataclass(frozen=True)
class Phrase:
    """One canonical phrase: ``text`` (what the model writes), ``template`` (``{a}``: the adverb slot, with its
    leading space; ``{adj}``: an adjective slot) and ``kind`` (``action``, ``emotion`` or ``note``)."""

    text: str
    template: str
    kind: str = "action"

    def render(self, degree: str = "marked") -> str:
        """The clause at ``degree`` (one of :data:`DEGREES`; unknown degrees read as ``"marked"``)."""
        adverb = _ADVERB.get(degree, "")
        adjective = _ADJECTIVE.get(degree, "")
        return (self.template.replace("{a}", f" {adverb}" if adverb else "")
                .replace("{adj}", f"{adjective} " if adjective else ""))


@functools.lru_cache(maxsize=1)
def phrases() -> dict[str, Phrase]:
    """Every canonical phrase by its text, in a stable order (actions by region, then action words, emotions and
    notes)."""
    out: dict[str, Phrase] = {}

    def add(template: str, kind: str = "action") -> None:
        text = " ".join(template.replace("{a}", "").replace("{adj}", "").split())
        if text not in _UNREAD:
            out.setdefault(text, Phrase(text, template, kind))

    for fact, tpl in TEMPLATES.items():
        for form in (tpl.both[:1], tpl.one[:1], tpl.keep[:1], tpl.fade[:1]):
            for template in form:
                sides = ("left", "right") if "{side}" in template else ("",)
                dirs = _DIRS.get(fact, ("",)) if "{dir}" in template else ("",)
                for side in sides:
                    for d in dirs:
                        add(template.replace("{side}", side).replace("{dir}", d))
    for word in _ACTION_WORDS:
        add(word)
    for noun in _EMOTIONS:
        add("a {adj}look of " + noun, "emotion")
    for note in _NOTES:
        add(note, "note")
    return out


def render(actions: Sequence[tuple[str, str]]) -> str:
    """``[(phrase, degree), ...]`` -> one sentence the composer reads ("The brows rise strongly and the eyes
    widen."); "" for no actions. Raises ``KeyError`` for a phrase outside the vocabulary."""
    table = phrases()
    return join_clauses([table[p].render(d) for p, d in actions])


def parse_actions(text: str) -> list[tuple[str, str]]:
    """The ``(phrase, degree)`` pairs of a model's answer ``{"actions": [...]}``, keeping only phrases of the
    vocabulary (a model that was not constrained may write others: they are dropped, never guessed at) and at most
    :data:`MAX_ACTIONS`; unknown degrees become ``"marked"``. Raises ``ValueError`` when ``text`` holds no JSON
    object with an ``actions`` list."""
    data = _first_object(text)
    items = data.get("actions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError('expected {"actions": [...]}')
    table = phrases()
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            item = {"action": item}
        if not isinstance(item, dict):
            continue
        phrase = " ".join(str(item.get("action", "")).lower().split()).strip(" .")
        if phrase not in table or any(p == phrase for p, _ in out):
            continue
        degree = str(item.get("degree", "marked")).lower().strip()
        out.append((phrase, degree if degree in DEGREES else "marked"))
    return out[:MAX_ACTIONS]


def _first_object(text: str) -> Any:
    """The first JSON object in ``text`` (models may wrap it in prose or a code fence); ``None`` when none parses."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            return decoder.raw_decode(text, start)[0]
        except ValueError:
            start = text.find("{", start + 1)
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an answer: ``{"actions": [{"action": enum, "degree": enum}]}``, at most
    :data:`MAX_ACTIONS` items, no other keys (what ``response_format`` / ``format`` / ``json_schema`` take)."""
    item = {"type": "object",
            "properties": {"action": {"type": "string", "enum": list(phrases())},
                           "degree": {"type": "string", "enum": list(DEGREES)}},
            "required": ["action", "degree"], "additionalProperties": False}
    return {"type": "object", "properties": {"actions": {"type": "array", "items": item, "maxItems": MAX_ACTIONS}},
            "required": ["actions"], "additionalProperties": False}


def _literal(text: str) -> str:
    return json.dumps(json.dumps(text))  # a GBNF string literal of the JSON string literal


def gbnf() -> str:
    """A GBNF grammar (llama.cpp's format) of the same answer as :func:`json_schema`, in compact JSON."""
    actions = " | ".join(_literal(p) for p in phrases())
    degrees = " | ".join(_literal(d) for d in DEGREES)
    item = '"{\\"action\\":" phrase ",\\"degree\\":" degree "}"'
    more = " ".join('("," item' for _ in range(MAX_ACTIONS - 1)) + ")?" * (MAX_ACTIONS - 1)
    return (f'root ::= "{{\\"actions\\":[" (item {more})? "]}}"\n'
            f"item ::= {item}\nphrase ::= {actions}\ndegree ::= {degrees}\n")
