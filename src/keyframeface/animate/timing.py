"""When each keyframe happens and how long it is held: timing chosen from what changes and from the words.

A keyframe's ``time_s`` is when its pose is *reached*; its hold is how long the pose then stays before the
face moves on to the next keyframe (which is reached at the next ``time_s``). So between keyframes ``k`` and
``k + 1`` the interval ``times[k + 1] - times[k]`` is ``hold[k]`` followed by a transition. The last
keyframe's hold runs to the end of the animation (``duration_s``).

How the natural timing is chosen (deterministic; every constant is a hand-set rule of thumb, tunable here):

1. **Transition into keyframe k**: for each channel group (``rig.GROUPS``) the largest change of any of its
   channels between keyframes ``k - 1`` and ``k``; each group that moves needs ``base + per_unit x change``
   seconds (:data:`GROUP_SPEED`: lids and gaze are fast, brows quick, a smile spreads, the head is slowest)
   and the transition takes the slowest group's time.
2. **Hold of keyframe k**: :data:`HOLD_BASE_S` plus :data:`HOLD_PER_UNIT_S` x the largest change into it (a
   bigger change needs longer to read).
3. **Words**: the keyframe's description scales its transition and hold (:data:`CUES`: "suddenly", "a flash
   of" make it fast and short; "slowly", "gradually", "settles" slow; "lingers", "remains" hold longer); the
   script's emotion and background set an overall tempo (:data:`TEMPO`: grief and exhaustion are slow,
   surprise and fear quick).
4. **Given times are kept**: missing times are filled between the given ones in proportion to the natural
   intervals (before the first given time the run starts at 0; after the last it uses the natural intervals,
   or is stretched to end at ``duration_s``). With no time given at all, the first keyframe is at 0 and the
   whole natural timeline is scaled to ``duration_s`` when that is set.
5. **Holds with given times**: each interval is split between hold and transition in the natural proportion.
6. ``seed=`` (only when given) multiplies the natural holds and transitions by small random factors
   (log-normal, sigma 0.12, clipped to [0.78, 1.28]) for human variation; ``seed=None`` is fully
   deterministic.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from .. import rig
from ..errors import ScriptError
from ..script import Keyframe, Keyframes

__all__ = [
    "CUES",
    "GROUP_SPEED",
    "HOLD_BASE_S",
    "HOLD_PER_UNIT_S",
    "TEMPO",
    "Timing",
    "cue_factors",
    "plan_timing",
    "tempo_factors",
]

# (base seconds, seconds per unit of change) per channel group. Hand-set rules of thumb, not fitted: an eyelid
# closes in under 0.1 s (a whole blink is ~0.23 s, shared/reference/FACS.md), saccades last tens of
# milliseconds (Bahill, Clark & Stark 1975), brow raises and smile onsets take a few tenths of a second (smile
# onset durations were measured by Schmidt et al. 2006, J. Nonverbal Behav. 30:37-52; the values here are not
# taken from that paper) and head turns are the slowest.
# Head and eye rotations are in the rig's [-1, 1] units.
GROUP_SPEED: Final[Mapping[str, tuple[float, float]]] = {
    "eyes": (0.10, 0.15),
    "gaze": (0.08, 0.15),
    "eye_rotation": (0.08, 0.15),
    "brows": (0.18, 0.30),
    "cheeks": (0.25, 0.40),
    "nose": (0.20, 0.35),
    "jaw": (0.20, 0.40),
    "mouth": (0.25, 0.50),
    "tongue": (0.20, 0.30),
    "head": (0.30, 1.20),
}
#: A group "moves" when some channel of it changes by more than this (smaller changes ride along).
MOVE_THRESHOLD: Final[float] = 0.02
#: Transition when nothing visible changes, or when values are not known yet.
STILL_TRANSITION_S: Final[float] = 0.25
UNKNOWN_TRANSITION_S: Final[float] = 0.5
UNKNOWN_CHANGE: Final[float] = 0.3
#: Hold = HOLD_BASE_S + HOLD_PER_UNIT_S x (largest change into the pose): a pose must stay long enough to
#: read; bigger changes get a little longer.
HOLD_BASE_S: Final[float] = 0.45
HOLD_PER_UNIT_S: Final[float] = 0.5
#: The last pose is held at least this long at the end when duration_s is not set.
MIN_TAIL_S: Final[float] = 0.8
_TRANSITION_RANGE: Final[tuple[float, float]] = (0.05, 6.0)
_HOLD_RANGE: Final[tuple[float, float]] = (0.05, 8.0)
_JITTER_SIGMA: Final[float] = 0.12
_JITTER_RANGE: Final[tuple[float, float]] = (0.78, 1.28)

#: Words in a keyframe's description -> (transition factor, hold factor). Patterns match whole words (stems).
CUES: Final[tuple[tuple[str, float, float], ...]] = (
    (r"sudden(ly)?|abrupt(ly)?|instant(ly)?|immediately|all at once|in an instant", 0.45, 1.0),
    (
        r"quick(ly)?|rapid(ly)?|sharp(ly)?|snap(s|ped)?|jerks?|jolts?|darts?|startled?|bursts?|burst out",
        0.6,
        1.0,
    ),
    (r"a flash of|flash(es)?|flicker(s|ing)?|fleeting|twitch(es)?", 0.45, 0.35),
    (r"brief(ly)?|momentar(y|ily)|for an instant|glances?", 1.0, 0.45),
    (r"slow(ly)?|gradual(ly)?|little by little|by degrees|creeps?|eventually|languid(ly)?", 1.8, 1.0),
    (
        r"gentl[ey]|soft(ly)?|settles?|settling|spreads?|spreading|sinks?|melts?|drifts?|eases?|easing",
        1.4,
        1.0,
    ),
    (
        r"lingers?|lingering|remains?|stays?|holds?|frozen|freezes|fixed|steady|for a (long )?moment|a while",
        1.0,
        1.8,
    ),
)
#: Words in the emotion / background -> (transition factor, hold factor) for the whole script.
TEMPO: Final[tuple[tuple[str, float, float], ...]] = (
    (
        r"grie(f|ving)|sorrow\w*|sad(ness)?|melanchol\w*|despair\w*|mourn\w*|depress\w*|resign\w*|heartbr\w*"
        r"|exhaust\w*|tired|weary|weariness|fatigue\w*|numb",
        1.35,
        1.3,
    ),
    (
        r"calm\w*|relax\w*|seren\w*|content(ed|ment)?|peace\w*|sleepy|drows\w*|bored\w*|tender\w*|nostalg\w*",
        1.2,
        1.15,
    ),
    (
        r"surpris\w*|shock\w*|startl\w*|fear\w*|afraid|panic\w*|terr(or|ified)|alarm\w*|scared|frighten\w*",
        0.75,
        0.85,
    ),
    (r"ang(er|ry)|rage|furious|fury|irritat\w*|annoy\w*|outrage\w*", 0.85, 0.95),
    (r"excite\w*|delight\w*|elat\w*|thrill\w*|ecsta\w*", 0.85, 0.95),
)
_CUE_RES = tuple((re.compile(rf"\b(?:{p})\b", re.IGNORECASE), a, b) for p, a, b in CUES)
_TEMPO_RES = tuple((re.compile(rf"\b(?:{p})\b", re.IGNORECASE), a, b) for p, a, b in TEMPO)
_GROUP_COLUMNS: Final[tuple[tuple[str, np.ndarray], ...]] = tuple(
    (g, np.array([rig.CHANNEL_INDEX[n] for n in names])) for g, names in rig.GROUPS.items()
)


@dataclass(frozen=True)
class Timing:
    """The timeline of K keyframes.

    ``times_s``: (K,) seconds when each pose is reached, strictly increasing. ``holds_s``: (K,) seconds each
    pose is held before the face moves on (the last one: until ``duration_s``). ``duration_s``: end of the
    animation (>= the last time). ``chosen``: (K,) True where the time was chosen here, False where it was
    given.
    """

    times_s: tuple[float, ...]
    holds_s: tuple[float, ...]
    duration_s: float
    chosen: tuple[bool, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "times_s": [round(t, 6) for t in self.times_s],
            "holds_s": [round(h, 6) for h in self.holds_s],
            "duration_s": round(self.duration_s, 6),
            "chosen": list(self.chosen),
        }


def cue_factors(text: str) -> tuple[float, float]:
    """(transition factor, hold factor) from the pace words in a keyframe description (1.0, 1.0 when none)."""
    return _factors(text, _CUE_RES)


def tempo_factors(text: str) -> tuple[float, float]:
    """(transition factor, hold factor) for a whole script from its emotion / background words."""
    return _factors(text, _TEMPO_RES)


def _factors(text: str, table: tuple[tuple[re.Pattern[str], float, float], ...]) -> tuple[float, float]:
    trans = hold = 1.0
    for pattern, a, b in table:
        if text and pattern.search(text):
            trans *= a
            hold *= b
    return trans, hold


def _group_changes(prev: np.ndarray, cur: np.ndarray) -> dict[str, float]:
    delta = np.abs(cur.astype(np.float64) - prev.astype(np.float64))
    return {g: float(delta[cols].max()) for g, cols in _GROUP_COLUMNS}


def _transition_s(prev: np.ndarray | None, cur: np.ndarray | None) -> tuple[float, float]:
    """(natural transition seconds, largest change) between two poses (61,) or unknown poses."""
    if prev is None or cur is None:
        return UNKNOWN_TRANSITION_S, UNKNOWN_CHANGE
    changes = _group_changes(prev, cur)
    moving = [GROUP_SPEED[g][0] + GROUP_SPEED[g][1] * c for g, c in changes.items() if c > MOVE_THRESHOLD]
    return (max(moving) if moving else STILL_TRANSITION_S), max(changes.values())


def _natural(
    keyframes: Sequence[Keyframe], emotion: str, background: str, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Natural (transition into k (K,), hold of k (K,)) in seconds; transition[0] is 0."""
    k = len(keyframes)
    tempo_t, tempo_h = tempo_factors(f"{emotion}\n{background}")
    arrays = [kf.array if kf.values is not None else None for kf in keyframes]
    trans = np.zeros(k)
    hold = np.zeros(k)
    for i, kf in enumerate(keyframes):
        if i == 0:
            change = float(np.abs(arrays[0]).max()) if arrays[0] is not None else UNKNOWN_CHANGE
            t_s = 0.0
        else:
            t_s, change = _transition_s(arrays[i - 1], arrays[i])
        cue_t, cue_h = cue_factors(kf.description)
        trans[i] = float(np.clip(t_s * cue_t * tempo_t, *_TRANSITION_RANGE)) if i else 0.0
        hold[i] = float(
            np.clip((HOLD_BASE_S + HOLD_PER_UNIT_S * min(change, 1.0)) * cue_h * tempo_h, *_HOLD_RANGE)
        )
    if seed is not None:
        rng = np.random.default_rng(seed)
        jitter = np.clip(np.exp(rng.normal(0.0, _JITTER_SIGMA, size=(2, k))), *_JITTER_RANGE)
        trans *= jitter[0]
        hold *= jitter[1]
    return trans, hold


def _given_time(value: float | None, index: int) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise ScriptError(f"expected seconds >= 0, got {value!r}", field=f"keyframes[{index}].time_s")
    return float(value)


def plan_timing(
    keyframes: Keyframes | Sequence[Keyframe],
    *,
    duration_s: float | None = None,
    emotion: str | None = None,
    background: str | None = None,
    seed: int | None = None,
) -> Timing:
    """Choose a time and a hold for every keyframe (keeping the times that are given).

    ``keyframes``: a :class:`Keyframes` (its emotion / background set the tempo) or a sequence of
    :class:`Keyframe`; values may be missing (a script before generation), which times them as a medium
    change.
    ``duration_s``: total length of the animation; ``None`` = natural (the last pose is held for its natural
    hold, at least :data:`MIN_TAIL_S`). ``emotion`` / ``background`` override those of a :class:`Keyframes`.
    ``seed``: ``None`` = deterministic natural timing; an int adds small reproducible human variation.

    Raises :class:`ScriptError` when there are no keyframes, given times do not increase, missing times cannot
    fit (a keyframe without a time before a given time of 0) or ``duration_s`` ends before the given times.
    """
    if isinstance(keyframes, Keyframes):
        emotion = keyframes.emotion if emotion is None else emotion
        background = keyframes.background if background is None else background
        kfs: Sequence[Keyframe] = keyframes.keyframes
    else:
        kfs = keyframes
    k = len(kfs)
    if k == 0:
        raise ScriptError("there are no keyframes to time; expected at least one", field="keyframes")
    if duration_s is not None and (
        isinstance(duration_s, bool)
        or not isinstance(duration_s, (int, float))
        or not math.isfinite(duration_s)
        or duration_s <= 0
    ):
        raise ScriptError(f"expected a positive number of seconds, got {duration_s!r}", field="duration_s")
    given = [_given_time(kf.time_s, i) for i, kf in enumerate(kfs)]
    anchors = [i for i, t in enumerate(given) if t is not None]
    for a, b in itertools.pairwise(anchors):
        if given[b] <= given[a]:  # type: ignore[operator]
            raise ScriptError(
                f"time_s {given[b]:g} is not after keyframe {a}'s {given[a]:g}; keyframe times must increase",
                field=f"keyframes[{b}].time_s",
            )

    trans, hold = _natural(kfs, emotion or "", background or "", seed)
    interval = hold[:-1] + trans[1:]  # natural seconds from keyframe k to k + 1, (K-1,)
    pos = np.concatenate([[0.0], np.cumsum(interval)])  # natural positions, (K,)
    tail = max(float(hold[-1]), MIN_TAIL_S)
    times = np.zeros(k)

    if not anchors:
        scale = 1.0 if duration_s is None else float(duration_s) / (pos[-1] + tail)
        times = pos * scale
        end = (pos[-1] + tail) * scale if duration_s is not None else pos[-1] + tail
    else:
        for i in anchors:
            times[i] = given[i]
        first, last = anchors[0], anchors[-1]
        if first > 0:  # the leading run starts at 0 and reaches the first given time in natural proportion
            if times[first] <= 0.0:
                raise ScriptError(
                    f"keyframe {first} is at {times[first]:g} s but {first} keyframe(s) without time_s come "
                    "before "
                    "it; give them times or move it later",
                    field=f"keyframes[{first}].time_s",
                )
            times[:first] = pos[:first] / pos[first] * times[first]
        for a, b in itertools.pairwise(anchors):
            if b > a + 1:
                times[a + 1 : b] = times[a] + (pos[a + 1 : b] - pos[a]) / (pos[b] - pos[a]) * (
                    times[b] - times[a]
                )
        natural_rest = pos[-1] - pos[last] + tail
        if duration_s is None:
            times[last + 1 :] = times[last] + (pos[last + 1 :] - pos[last])
            end = times[-1] + tail
        else:
            room = float(duration_s) - times[last]
            if room < 0 or (room == 0 and last < k - 1):
                raise ScriptError(
                    f"{duration_s:g} s ends before keyframe {last} at {times[last]:g} s"
                    + (" and the keyframes after it" if last < k - 1 else "")
                    + "; give a longer duration or leave it unset",
                    field="duration_s",
                )
            times[last + 1 :] = times[last] + (pos[last + 1 :] - pos[last]) * (room / natural_rest)
            end = float(duration_s)

    # Split every interval between hold and transition in the natural proportion (timing's own intervals keep
    # exactly their natural split; given ones are shared out the same way).
    holds = np.empty(k)
    if k > 1:
        holds[:-1] = np.diff(times) * (hold[:-1] / interval)
    holds[-1] = end - times[-1]
    if k > 1 and not (np.diff(times) > 0).all():
        raise ScriptError("the keyframe times could not be made to increase; give explicit time_s values")
    return Timing(
        times_s=tuple(float(t) for t in times),
        holds_s=tuple(float(h) for h in holds),
        duration_s=float(end),
        chosen=tuple(t is None for t in given),
    )
