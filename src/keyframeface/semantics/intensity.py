"""Intensity words -> levels in [0, 1], and how a level becomes channel values.

Calibration. The levels follow the five FACS intensity grades (Ekman, Friesen & Hager, *Facial Action Coding
System*, 2002: A trace, B slight, C marked/pronounced, D severe/extreme, E maximum; not in reference/FACS.md, so
treat the anchoring as this project's choice):

=========  =====  =====================================================================
grade      level  words
=========  =====  =====================================================================
A trace    0.12   barely, a hint of, the ghost of, almost imperceptibly, very slightly
A-B        0.22   faint(ly), subtle, subtly, tiny, a touch, not quite
B slight   0.33   slight(ly), a little, a bit, small, gentle, soft(ly), mild(ly), light(ly)
B-C        0.45   somewhat, half, restrained, modest, partly
C marked   0.55   moderate(ly), noticeable, visible
(default)  0.60   no intensity word: each action's ``default_level`` (0.6 for most)
C-D        0.70   clear(ly), distinct(ly), firm(ly), quite, pronounced
D severe   0.82   strong(ly), very, deep(ly), hard, big, broad(ly), wide(ly), tight(ly), high
E maximum  0.95   extreme(ly), fully, completely, huge
E (limit)  1.00   all the way, to the max, max out, as wide as possible: the end of the range itself
=========  =====  =====================================================================

An action's channel value is ``full x level`` for its primary channels and ``full x level**2`` for secondary ones
(see :mod:`keyframeface.semantics.lexicon`): composites grow faster than linearly, so a restrained smile has almost
no cheek raise (the release's restrained smile: mouthSmile 0.4, cheekSquint 0.1) while a beaming one reaches the
"joy" preset of reference/FACS.md (mouthSmile ~0.8, cheekSquint ~0.6).

Several intensity words on one action average ("a small, restrained smile"). "almost"/"nearly" depend on the
action: "eyes almost closed" is 0.8 of a state, "almost smiles" is a trace of a degree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .tagger import Entry

__all__ = [
    "ALMOST_DEGREE",
    "ALMOST_STATE",
    "DEFAULT_LEVEL",
    "INTENSITY_WORDS",
    "combine_levels",
    "intensity_entries",
    "percent_level",
    "scale_emotion_level",
]

#: The level of an action named without any intensity word (FACS grade C, "marked").
DEFAULT_LEVEL = 0.6
#: "eyes almost closed": most of a state.
ALMOST_STATE = 0.8
#: "almost smiles": a trace of a degree.
ALMOST_DEGREE = 0.2

TRACE, FAINT, SLIGHT, SOMEWHAT, MODERATE, CLEAR, STRONG, MAXIMUM = 0.12, 0.22, 0.33, 0.45, 0.55, 0.7, 0.82, 0.95
#: "all the way", "to the max", "max out": the end of the action's range (its calibrated full value).
FULL = 1.0

#: (pattern, level) in the tagger's pattern language. Longer phrases win over their parts ("very slightly").
INTENSITY_WORDS: tuple[tuple[str, float], ...] = (
    # A: trace
    ("(barely|scarcely|hardly|imperceptibly|minimally|fractionally)", TRACE),
    ("(almost imperceptibly|just barely|ever so slightly|very slightly|very faintly|the slightest|the faintest)", TRACE),
    ("[the|a] (hint|trace|ghost|flicker|whisper|suggestion|shadow|glimmer|twitch) of [a|an]", TRACE),
    ("[a] (tiny|little) bit [of]", FAINT),
    ("(just slightly|only slightly|only a little|just a little|a tiny bit|a wee bit|not quite|micro)", FAINT),
    ("(faint|faintly|subtle|subtly|tiny|weak|weakly|wan|a tad|a touch|a fraction|fleeting|fleetingly)", FAINT),
    ("(slight|slightly|a little|a bit|small|little|gentle|gently|soft|softly|mild|mildly|lightly)", SLIGHT),
    ("(shallow|low|minor|delicate|delicately|hesitant|hesitantly|tentative|tentatively|timid|timidly)", SLIGHT),
    ("(a little bit|a small amount|kind of|sort of|somewhat slightly)", SLIGHT),
    ("(somewhat|half|halfway|partly|partially|part way|restrained|modest|modestly|reserved|polite|politely)", SOMEWHAT),
    ("(moderate|moderately|noticeable|noticeably|visible|visibly|medium|fair|fairly|rather|reasonably)", MODERATE),
    ("(clear|clearly|distinct|distinctly|firm|firmly|quite|definite|definitely|obvious|obviously)", CLEAR),
    ("(pronounced|marked|markedly|evident|evidently|plainly|real|genuine|warm|warmly)", CLEAR),
    ("with [visible|obvious|clear|some|great] tension", CLEAR),
    ("(strong|strongly|very|really|deep|deeply|hard|big|bigger|broad|broadly|wide|widely|large|high)", STRONG),
    ("(intense|intensely|heavily|heavy|sharp|sharply|tight|tightly|much|a lot|greatly|significantly)", STRONG),
    ("(highly|dramatically|vigorously|forcefully|fiercely|wildly|keenly|furiously|violently|powerfully)", STRONG),
    ("(severe|severely|very much|really wide|radiant|radiantly)", STRONG),
    ("(extremely|fully|completely|totally|entirely|utterly|absolutely|huge|hugely|enormous|enormously)", MAXIMUM),
    ("(massive|massively|maximal|maximally|maximum|extreme|incredibly|exaggerated|exaggeratedly)", MAXIMUM),
    ("(tremendously|immensely|ear to ear)", MAXIMUM),
    # phrases that name the end of the range itself, not a strong degree: the action's full value
    ("(all the way|to the max|to the maximum|to the limit|max out|max it out|maxed out|maxed|maxes out|maxing out|"
     "as far as possible|as much as possible|as far as it goes|as far as they go|at full tilt|flat out)", FULL),
    ("as (wide|widely|high|hard|much|far|big|tight|tightly|broadly|strongly|open) as (possible|she can|he can|they can|it can|it will|it goes|they go|they will|humanly possible|ever|can be)", FULL),
    ("(from ear to ear|very very|extremely wide|very wide|very big|very strongly|so wide|so much)", MAXIMUM),
    ("(not very|not too|not fully|not completely|not much)", SOMEWHAT),
)

_PERCENT = re.compile(r"^(\d{1,3})(?:\.\d+)?$")


def intensity_entries() -> list[Entry]:
    """Tagger entries (kind ``int``) for the English intensity words, plus "almost"/"nearly"."""
    entries = [Entry("int", f"int{level:.2f}", pattern, {"level": level}) for pattern, level in INTENSITY_WORDS]
    entries.append(Entry("int", "almost", "(almost|nearly|not entirely|just about)", {"level": None, "almost": True}))
    entries.append(Entry("int", "percent", "(percent|per cent|%)", {"level": None, "percent": True}))
    return entries


def percent_level(number_text: str) -> float | None:
    """``"50"`` (before ``%``) -> 0.5; ``None`` when it is not a percentage in [0, 100]."""
    m = _PERCENT.match(number_text)
    if not m:
        return None
    value = float(number_text)
    return value / 100.0 if 0.0 <= value <= 100.0 else None


def combine_levels(levels: Iterable[float]) -> float | None:
    """Several intensity words on one action average; no words gives ``None`` (the action's default)."""
    vals = list(levels)
    if not vals:
        return None
    return min(1.0, max(0.0, sum(vals) / len(vals)))


def scale_emotion_level(strength: float, modifiers: Iterable[float]) -> float:
    """An emotion word's own strength scaled by intensity modifiers ("slightly nervous" < "nervous").

    A modifier at the default level (0.6) leaves the strength unchanged; "very" (0.82) raises it by ~37%.
    """
    mods = list(modifiers)
    if not mods:
        return strength
    ratio = (sum(mods) / len(mods)) / DEFAULT_LEVEL
    return min(1.0, max(0.0, strength * ratio))
