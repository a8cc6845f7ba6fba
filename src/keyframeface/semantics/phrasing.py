"""Words for the annotator: calibrated intensity adverbs, per-action clause templates, clause joining.

Coefficients -> language is the inverse of the ``rules`` composer, so the intensity words come from the same
grades (:mod:`keyframeface.semantics.intensity`: FACS A-E, Ekman, Friesen & Hager 2002, anchored by this project).
A fact at level ``x`` (its channel value divided by the action's full value in
:mod:`keyframeface.semantics.lexicon`) is written with a word of the grade whose level is nearest to ``x``; the
composer reads that word back to the same grade, so values -> words -> values returns within one grade step.

Every grade has several synonyms and every action several templates; which one is used is chosen by a seeded
:class:`random.Random`, so annotations vary in wording while staying reproducible. Every synonym listed here is
one the composer's intensity table knows (checked by tests/test_annotate.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .intensity import CLEAR, DEFAULT_LEVEL, FAINT, MAXIMUM, MODERATE, SLIGHT, SOMEWHAT, STRONG, TRACE

__all__ = ["GRADES", "TEMPLATES", "Grade", "Template", "grade_for", "intensity_label", "join_clauses", "render"]


@dataclass(frozen=True)
class Grade:
    """An intensity grade: its ``level`` (what the composer reads), a ``label`` for structured descriptions and
    the adverbs that express it (``""`` = no word: the action's default level)."""

    level: float
    label: str
    adverbs: tuple[str, ...]


#: Grades in increasing level. Adverbs avoid words some actions reinterpret ("tight", "firmly", "half").
GRADES: Final[tuple[Grade, ...]] = (
    Grade(TRACE, "trace", ("barely", "very slightly", "ever so slightly")),
    Grade(FAINT, "faint", ("faintly", "subtly", "just slightly")),
    Grade(SLIGHT, "slight", ("slightly", "a little", "gently", "mildly")),
    Grade(SOMEWHAT, "mild", ("somewhat", "partly", "modestly")),
    Grade(MODERATE, "moderate", ("moderately", "noticeably", "visibly")),
    Grade(DEFAULT_LEVEL, "marked", ("",)),
    Grade(CLEAR, "clear", ("clearly", "distinctly")),
    Grade(STRONG, "strong", ("strongly", "intensely", "heavily")),
    Grade(MAXIMUM, "maximal", ("fully", "completely", "extremely")),
)


def grade_for(level: float, *, default_level: float = DEFAULT_LEVEL) -> Grade:
    """The grade whose level is nearest to ``level`` (levels above the top grade get the top grade).

    ``default_level``: what the action reads with no intensity word (its lexicon ``level``; 0.6 for most): the
    word-less grade stands at that level, so an action whose default is 0.8 gets no word at 0.8, not at 0.6.
    """
    def distance(g: Grade) -> float:
        return abs((default_level if g.adverbs == ("",) else g.level) - level)

    return min(GRADES, key=distance)


def intensity_label(level: float) -> str:
    """A one-word intensity label for ``level`` ("trace", "slight", ..., "maximal")."""
    return grade_for(level).label


@dataclass(frozen=True)
class Template:
    """Clause templates of one action. ``both`` for a symmetric action, ``one`` for one side (``{side}`` is
    "left" / "right"), ``keep`` for an action held from the previous keyframe, ``fade`` for one that goes away.
    ``{a}`` is the adverb slot (with its leading space, or empty); ``{dir}`` a direction phrase."""

    both: tuple[str, ...]
    one: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    fade: tuple[str, ...] = ()


#: Clause templates per annotator fact id (the fact ids are the lexicon's action ids they invert).
TEMPLATES: Final[dict[str, Template]] = {
    "brow_raise": Template(
        ("the brows rise{a}", "the brows lift{a}", "the eyebrows rise{a}"),
        (),
        ("the brows stay raised",), ("the raised brows relax",)),
    "brow_inner_raise": Template(
        ("the inner brows lift{a}", "the inner brows rise{a}", "the inner ends of the brows lift{a}"),
        (), ("the inner brows stay raised",), ("the inner brows relax",)),
    "brow_outer_raise": Template(
        ("the outer brows lift{a}", "the outer brows rise{a}"),
        ("the {side} outer brow lifts{a}", "the {side} outer brow rises{a}"),
        ("the outer brows stay raised",), ("the outer brows relax",)),
    "brow_lower": Template(
        ("the brows lower{a}", "the brows draw down{a}", "the eyebrows lower{a}"),
        ("the {side} brow lowers{a}", "the {side} eyebrow draws down{a}"),
        ("the brows stay lowered",), ("the brows relax",)),
    "eyes_wide": Template(
        ("the eyes widen{a}", "the eyelids widen{a}"),
        ("the {side} eye widens{a}",),
        ("the eyes stay wide",), ("the wide eyes relax",)),
    "eyes_narrow": Template(
        ("the eyes narrow{a}", "the eyelids tighten{a}"),
        ("the {side} eye narrows{a}",),
        ("the eyes stay narrowed",), ("the eyelids relax",)),
    "eyes_close": Template(
        ("the eyes close", "the eyes shut"),
        ("the {side} eye closes", "the {side} eye shuts"),
        ("the eyes stay closed",), ("the eyes open",)),
    "eyes_droop": Template(
        ("the eyelids droop{a}", "the eyelids lower{a}"),
        ("the {side} eyelid droops{a}", "the {side} eyelid lowers{a}"),
        ("the eyelids stay heavy",), ("the eyes open",)),
    "gaze": Template(
        ("the gaze moves{a} {dir}", "the eyes look{a} {dir}", "the eyes glance{a} {dir}"),
        (), ("the gaze stays {dir}",), ("the gaze returns to the center",)),
    "cheek_raise": Template(
        ("the cheeks raise{a}", "the cheeks lift{a}"),
        ("the {side} cheek raises{a}", "the {side} cheek lifts{a}"),
        ("the cheeks stay raised",), ("the cheeks relax",)),
    "cheek_puff": Template(
        ("the cheeks puff out{a}", "the cheeks puff{a}"),
        (), ("the cheeks stay puffed",), ("the cheeks relax",)),
    "nose_wrinkle": Template(
        ("the nose wrinkles{a}", "the nose scrunches{a}"),
        (), ("the nose stays wrinkled",), ("the nose relaxes",)),
    "smile": Template(
        ("the mouth corners rise{a}", "both mouth corners lift{a}", "the corners of the mouth rise{a}"),
        ("the {side} mouth corner rises{a}", "the {side} corner of the mouth lifts{a}"),
        ("the smile remains",), ("the smile fades",)),
    "mouth_frown": Template(
        ("the mouth corners turn down{a}", "the corners of the mouth turn down{a}"),
        ("the {side} mouth corner turns down{a}",),
        ("the mouth corners stay turned down",), ("the mouth corners relax",)),
    "lips_press": Template(
        ("the lips press together{a}", "the lips press{a}"),
        (), ("the lips stay pressed",), ("the lips relax",)),
    "mouth_stretch": Template(
        ("the lips stretch{a}", "the lips stretch sideways{a}"),
        (), ("the lips stay stretched",), ("the lips relax",)),
    "pucker": Template(
        ("the lips pucker{a}",), (), ("the lips stay puckered",), ("the lips relax",)),
    "funnel": Template(
        ("the lips round{a}",), (), ("the lips stay rounded",), ("the lips relax",)),
    "upper_lip_raise": Template(
        ("the upper lip raises{a}", "the upper lip lifts{a}", "the upper lip curls{a}"),
        (), ("the upper lip stays raised",), ("the upper lip relaxes",)),
    "lower_lip_down": Template(
        ("the lower lip lowers{a}", "the lower lip drops{a}"),
        (), ("the lower lip stays lowered",), ("the lower lip relaxes",)),
    "lips_roll": Template(
        ("the lips roll in{a}", "the lips roll inward{a}"),
        (), ("the lips stay rolled in",), ("the lips relax",)),
    "lip_bite": Template(
        ("the lower lip rolls in{a}", "the lower lip tucks in{a}"),
        (), ("the lower lip stays rolled in",), ("the lower lip relaxes",)),
    "upper_lip_roll": Template(
        ("the upper lip rolls in{a}", "the upper lip tucks in{a}"),
        (), ("the upper lip stays rolled in",), ("the upper lip relaxes",)),
    "chin_raise": Template(
        ("the chin raises{a}", "the chin tightens{a}"),
        (), ("the chin stays raised",), ("the chin relaxes",)),
    "dimple": Template(
        ("dimples appear{a} at the mouth corners", "the mouth corners tighten{a}"),
        (), ("the dimples remain",), ("the dimples fade",)),
    "mouth_side": Template(
        ("the mouth shifts{a} {dir}", "the mouth moves{a} {dir}"),
        (), ("the mouth stays {dir}",), ("the mouth returns to the center",)),
    "jaw_open": Template(
        ("the jaw drops{a}", "the mouth opens{a}", "the jaw lowers{a}"),
        (), ("the mouth stays open",), ("the mouth closes",)),
    "jaw_forward": Template(
        ("the jaw juts forward{a}", "the jaw pushes forward{a}"),
        (), ("the jaw stays forward",), ("the jaw relaxes",)),
    "jaw_side": Template(
        ("the jaw shifts{a} {dir}", "the jaw moves{a} {dir}"),
        (), ("the jaw stays {dir}",), ("the jaw relaxes",)),
    "tongue_out": Template(
        ("the tongue sticks out{a}", "the tongue pokes out{a}"),
        (), ("the tongue stays out",), ("the tongue goes back in",)),
    "head_yaw": Template(
        ("the head turns{a} {dir}",), (), ("the head stays turned {dir}",), ("the head turns back to the center",)),
    "head_down": Template(
        ("the head lowers{a}", "the head tilts{a} down", "the head bows{a}"),
        (), ("the head stays lowered",), ("the head rises back",)),
    "head_up": Template(
        ("the head tilts{a} up", "the head rises{a}", "the head tilts{a} back"),
        (), ("the head stays raised",), ("the head lowers back",)),
    "head_roll": Template(
        ("the head tilts{a} {dir}", "the head cocks{a} {dir}"),
        (), ("the head stays tilted {dir}",), ("the head straightens",)),
}

NEUTRAL_SENTENCES: Final[tuple[str, ...]] = (
    "The face rests in a neutral expression.",
    "The face is relaxed, with a neutral expression.",
    "A neutral expression, the face at rest.",
)


def render(
    fact_id: str,
    *,
    level: float,
    rng: random.Random,
    side: str = "both",
    direction: str = "",
    form: str = "set",
    adverb: bool = True,
    default_level: float = DEFAULT_LEVEL,
) -> str:
    """One clause for a fact: ``form`` is ``"set"`` (the action at ``level``), ``"keep"`` or ``"fade"``.

    ``side`` is ``"both"``, ``"left"`` or ``"right"`` (subject's side); ``direction`` fills ``{dir}``
    ("down and to the left"). ``adverb=False`` writes no intensity word (for states such as closed eyes).
    ``default_level``: the action's level without an intensity word (see :func:`grade_for`).
    Raises ``KeyError`` for an unknown fact id (a programming error, not user input).
    """
    tpl = TEMPLATES[fact_id]
    if form == "keep" and tpl.keep:
        choices: Sequence[str] = tpl.keep
    elif form == "fade" and tpl.fade:
        choices = tpl.fade
    elif side in ("left", "right") and tpl.one:
        choices = tpl.one
    else:
        choices = tpl.both
    text = rng.choice(list(choices))
    grade = grade_for(level, default_level=default_level)
    word = rng.choice(list(grade.adverbs)) if adverb and form == "set" else ""
    return text.format(a=f" {word}" if word else "", side=side, dir=direction).strip()


def join_clauses(clauses: Sequence[str]) -> str:
    """Clauses -> one sentence in the release's style: "A, b, and c." (capitalised, one final period)."""
    parts = [c.strip().rstrip(".") for c in clauses if c.strip()]
    if not parts:
        return ""
    if len(parts) == 1:
        body = parts[0]
    elif len(parts) == 2:
        body = f"{parts[0]} and {parts[1]}"
    else:
        body = ", ".join(parts[:-1]) + f", and {parts[-1]}"
    return body[0].upper() + body[1:] + "."
