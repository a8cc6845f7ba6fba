"""Coefficients -> language: describe keyframes the way the KeyframeFace dataset does.

For each keyframe the annotator writes

* a **structured description** in SemanticFace's four parts: the expression ``category`` (nearest FACS emotion
  prototype of :mod:`keyframeface.semantics.emotions`, with a confidence), the ``movements`` by region with AU,
  intensity, side and direction, the emotional ``implication``, and ``symmetry``; plus the ``changes`` since the
  previous keyframe;
* one **sentence** in the style of the release example ("The gaze is lowered, the inner brows lift slightly, and
  the lips press together with visible tension."), built from the most salient movements, holding ("the brows stay
  raised") and fading ("the smile fades") what changed little or went away since the previous keyframe.

Intensity words are calibrated on the ``rules`` composer (:mod:`keyframeface.semantics.phrasing`): a movement's
level is its channel value over the action's full value in :mod:`keyframeface.semantics.lexicon`, written with the
nearest grade's word, so values -> words -> values (:mod:`keyframeface.semantics.roundtrip`) comes back close.

Deterministic by default: the wording is chosen by ``random.Random(f"{seed}:{index}")``. With ``backend=`` (any
chat backend), a language model rewrites each sentence from the structured description; an empty or malformed
answer falls back to the deterministic sentence and is recorded in ``meta``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Final

import numpy as np

from .. import rig
from .._version import __version__
from ..errors import BackendError, BackendUnavailableError, ScriptError
from ..script import Keyframes
from .describe import read_pair
from .emotions import PROTOTYPE_SOURCES, PROTOTYPES, prototype_vector
from .laterality import SIDED_PAIRS
from .lexicon import ACTIONS
from .phrasing import NEUTRAL_SENTENCES, grade_for, intensity_label, join_clauses, render

__all__ = [
    "ANNOTATOR_SYSTEM_PROMPT",
    "ANNOTATOR_VERSION",
    "Annotation",
    "Fact",
    "StructuredDescription",
    "annotate",
    "annotate_values",
    "describe",
    "emotion_text",
]

#: Version of the annotation rules, recorded in ``meta``; bump it when the same values give different text.
ANNOTATOR_VERSION: Final[str] = "1"
#: Blendshape values below this are capture noise, not movements: the neutral idle take of shared/realdata
#: rests with mouthSmile ~0.08 and noseSneer ~0.05 (realdata/index.csv, "top_mean_channels").
MIN_VALUE: Final[float] = 0.08
#: Head and eye-direction magnitudes below this are not described (captured head rotations stay |x| < 0.2,
#: reference/FACS.md "Conventions measured on real Live Link Face captures").
MIN_POSE: Final[float] = 0.05
#: Below this largest face value (gaze excluded) the expression is called neutral.
NEUTRAL_ACTIVITY: Final[float] = 0.12
#: A pair is one-sided when its weaker side is below this share of the stronger one (and 0.1 apart).
ONE_SIDED_SHARE: Final[float] = 0.5
#: ... and its sides are more than this apart.
_ONE_SIDED_GAP: Final[float] = 0.1
#: Movements below this level (between the "trace" and "faint" grades of semantics/intensity.py) are left out of
#: sentences that already have three clearer movements (the structured description keeps them).
_TRACE_CUT: Final[float] = 0.17

_IDX = rig.CHANNEL_INDEX

#: FACS action units of each fact id (reference/FACS.md mapping table).
_AU: Final[Mapping[str, str]] = {
    "brow_raise": "AU1+2", "brow_inner_raise": "AU1", "brow_outer_raise": "AU2", "brow_lower": "AU4",
    "eyes_wide": "AU5", "eyes_narrow": "AU7", "eyes_close": "AU43", "eyes_droop": "AU43 (partial)",
    "gaze": "AU61-64", "cheek_raise": "AU6", "cheek_puff": "AU34", "nose_wrinkle": "AU9", "smile": "AU12",
    "mouth_frown": "AU15", "lips_press": "AU24", "mouth_stretch": "AU20", "pucker": "AU18", "funnel": "AU22",
    "upper_lip_raise": "AU10", "lower_lip_down": "AU16", "lips_roll": "AU28", "lip_bite": "AU28 (lower lip)",
    "upper_lip_roll": "AU28 (upper lip)", "chin_raise": "AU17",
    "dimple": "AU14", "mouth_side": "lateral lip shift", "jaw_open": "AU26/27", "jaw_forward": "AU29",
    "jaw_side": "AU30", "tongue_out": "AU19", "head_yaw": "AU51/52", "head_down": "AU54", "head_up": "AU53",
    "head_roll": "AU55/56",
}  # fmt: skip

#: Order in which movements are written in a sentence (the release example starts with the gaze).
_REGION_ORDER: Final[tuple[str, ...]] = ("head", "gaze", "brows", "eyes", "cheeks", "nose", "mouth", "jaw", "tongue")

#: How each emotion prototype is named in implications and emotion fields (noun phrase).
_EMOTION_NOUNS: Final[Mapping[str, str]] = {
    "joy": "happiness", "sadness": "sadness", "anger": "anger", "surprise": "surprise", "fear": "fear",
    "disgust": "disgust", "contempt": "contempt", "neutral": "a neutral state",
    "happily_surprised": "happy surprise", "happily_disgusted": "amused disgust", "sadly_angry": "sad anger",
    "sadly_fearful": "sad fear", "sadly_surprised": "sad surprise", "fearfully_surprised": "fearful surprise",
    "fearfully_angry": "fearful anger", "angrily_surprised": "angry surprise",
    "angrily_disgusted": "angry disgust", "disgustedly_surprised": "disgusted surprise", "appalled": "appalled disgust",
    "awed": "awe", "anxiety": "anxiety", "confusion": "confusion", "tiredness": "tiredness", "boredom": "boredom",
    "determination": "determination", "pain": "pain", "shame": "shame", "embarrassment": "embarrassment",
    "pride": "pride", "skepticism": "skepticism", "interest": "interest", "thoughtfulness": "thoughtfulness",
    "tenderness": "tenderness", "relief": "relief", "excitement": "excitement", "mischief": "mischief",
    "longing": "longing", "sulkiness": "sulkiness", "defiance": "defiance", "desperation": "desperation",
    "calm": "calm", "alertness": "alertness", "bittersweet": "bittersweet feelings", "annoyance": "annoyance",
}  # fmt: skip

ANNOTATOR_SYSTEM_PROMPT: Final[str] = (
    "You are a facial animation annotator. You are given a structured description of one keyframe of a face "
    "(expression category, muscle movements by region with intensity, emotional implication, symmetry, and changes "
    "since the previous keyframe) and a plain draft sentence. Write ONE natural English sentence that describes the "
    "visible facial movements of this keyframe, keeping every movement, its side and its intensity word from the "
    "draft (slightly, clearly, strongly ...). Describe what the face does, not the emotion's name. Answer with the "
    "sentence only."
)


# ------------------------------------------------------------------------------------------------ facts
@dataclass(frozen=True)
class Fact:
    """One described movement. ``id``: the lexicon action it inverts (see :data:`phrasing.TEMPLATES`).
    ``region``: rig group. ``level``: measured value over the action's full value (>= 0; ~1 = the action's
    strongest form). ``value``: the measured channel value. ``side``: ``"both"``, ``"left"`` or ``"right"``
    (subject's side). ``direction``: words for gaze/head/jaw/mouth-shift facts; ``direction_key`` a short
    label ("down-left") for comparing keyframes. ``channels``: the channels measured."""

    id: str
    region: str
    level: float
    value: float
    side: str = "both"
    direction: str = ""
    direction_key: str = ""
    channels: tuple[str, ...] = ()
    adverb: bool = True

    @property
    def au(self) -> str:
        return _AU.get(self.id, "")

    @property
    def salience(self) -> float:
        return float(self.level)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "region": self.region,
            "action": self.id,
            "au": self.au,
            "intensity": intensity_label(self.level) if self.adverb else "full",
            "level": round(float(self.level), 3),
            "value": round(float(self.value), 3),
            "side": self.side,
        }
        if self.direction:
            d["direction"] = self.direction_key
        d["channels"] = list(self.channels)
        return d


def _full(action: str, channel: str) -> float:
    """The action's value for ``channel`` at level 1 (lexicon), so level = value / full."""
    act = ACTIONS[action]
    value = act.primary.get(channel)
    if value is None:
        raise KeyError(f"lexicon action {action!r} has no primary channel {channel!r}")
    return abs(float(value))


def _pair(v: np.ndarray, stem: str) -> tuple[float, float]:
    return float(v[_IDX[stem + "Left"]]), float(v[_IDX[stem + "Right"]])


def _sided(left: float, right: float) -> tuple[float, str] | None:
    """(value, side) of a left/right pair (values clamped, so >= 0), or ``None`` below :data:`MIN_VALUE`: the
    stronger side's value when the pair is one-sided (see :data:`ONE_SIDED_SHARE`), else the mean and ``"both"``."""
    reading = read_pair(left, right, floor=MIN_VALUE, symmetric_within=_ONE_SIDED_GAP, one_sided_share=ONE_SIDED_SHARE)
    if reading is None:
        return None
    if reading.balance == "one_sided":
        return reading.peak, reading.stronger
    return reading.mean, "both"


def _fact(action: str, region: str, value: float, channel: str, *, side: str = "both",
          channels: Sequence[str] = (), **kw: Any) -> Fact:
    return Fact(action, region, value / _full(action, channel), value, side,
                channels=tuple(channels) or (channel,), **kw)


def _pair_fact(v: np.ndarray, stem: str, action: str, region: str) -> Fact | None:
    found = _sided(*_pair(v, stem))
    if found is None:
        return None
    value, side = found
    return _fact(action, region, value, stem + "Left", side=side, channels=(stem + "Left", stem + "Right"))


def _single_fact(v: np.ndarray, channel: str, action: str, region: str) -> Fact | None:
    value = float(v[_IDX[channel]])
    return _fact(action, region, value, channel) if value >= MIN_VALUE else None


def _direction_words(x: float, y: float) -> tuple[str, str]:
    """Words and key for a direction: x > 0 toward the subject's right, y > 0 up."""
    mag = max(abs(x), abs(y))
    parts: list[str] = []
    keys: list[str] = []
    if abs(y) >= 0.4 * mag:
        parts.append("up" if y > 0 else "down")
        keys.append(parts[-1])
    if abs(x) >= 0.4 * mag:
        side = "right" if x > 0 else "left"
        parts.append(f"to the {side}")
        keys.append(side)
    return " and ".join(parts), "-".join(keys)


def _facts(values: np.ndarray) -> list[Fact]:
    """Every movement in (61,) values, before selection."""
    v = np.asarray(values, dtype=np.float32)
    facts: list[Fact | None] = []
    # brows: raised together (AU1+2), or inner / outer alone, and lowered (AU4)
    inner = float(v[_IDX["BrowInnerUp"]])
    outer = _sided(*_pair(v, "BrowOuterUp"))
    raise_inner, raise_outer = inner / _full("brow_raise", "BrowInnerUp"), 0.0
    if outer is not None:
        raise_outer = outer[0] / _full("brow_raise", "BrowOuterUpLeft")
    if outer is not None and outer[1] == "both" and inner >= MIN_VALUE and \
            max(raise_inner, raise_outer) <= 1.6 * min(raise_inner, raise_outer):
        level = (raise_inner + raise_outer) / 2.0
        facts.append(Fact("brow_raise", "brows", level, (inner + outer[0]) / 2.0,
                          channels=("BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight")))
    else:
        facts.append(_single_fact(v, "BrowInnerUp", "brow_inner_raise", "brows"))
        facts.append(_pair_fact(v, "BrowOuterUp", "brow_outer_raise", "brows"))
    facts.append(_pair_fact(v, "BrowDown", "brow_lower", "brows"))
    # lids: closed, drooping, wide, narrowed
    blink = _sided(*_pair(v, "EyeBlink"))
    if blink is not None and max(_pair(v, "EyeBlink")) >= 0.85:
        facts.append(Fact("eyes_close", "eyes", 1.0, blink[0], blink[1], channels=("EyeBlinkLeft", "EyeBlinkRight"),
                          adverb=False))
    elif blink is not None and max(_pair(v, "EyeBlink")) >= 0.25:
        facts.append(_fact("eyes_droop", "eyes", blink[0], "EyeBlinkLeft", side=blink[1],
                           channels=("EyeBlinkLeft", "EyeBlinkRight")))
    facts.append(_pair_fact(v, "EyeWide", "eyes_wide", "eyes"))
    facts.append(_pair_fact(v, "EyeSquint", "eyes_narrow", "eyes"))
    # gaze, from the eyeLook blendshapes (rig convention: both eyes look the same way)
    x = ((v[_IDX["EyeLookInLeft"]] - v[_IDX["EyeLookOutLeft"]]) + (v[_IDX["EyeLookOutRight"]] - v[_IDX["EyeLookInRight"]])) / 2
    y = ((v[_IDX["EyeLookUpLeft"]] + v[_IDX["EyeLookUpRight"]]) - (v[_IDX["EyeLookDownLeft"]] + v[_IDX["EyeLookDownRight"]])) / 2
    mag = max(abs(float(x)), abs(float(y)))
    if mag >= 0.1:
        words, key = _direction_words(float(x), float(y))
        gaze_channels = tuple(n for n in rig.GROUPS["gaze"])
        # the composer scales a diagonal look to 0.8 of a straight one on each axis (semantics/laterality.py)
        full = _full("gaze", "gaze") * (0.8 if "-" in key else 1.0)
        facts.append(Fact("gaze", "gaze", mag / full, mag, direction=words, direction_key=key,
                          channels=gaze_channels))
    # cheeks and nose
    facts.append(_pair_fact(v, "CheekSquint", "cheek_raise", "cheeks"))
    facts.append(_single_fact(v, "CheekPuff", "cheek_puff", "cheeks"))
    sneer = _sided(*_pair(v, "NoseSneer"))
    if sneer is not None:
        facts.append(_fact("nose_wrinkle", "nose", max(_pair(v, "NoseSneer")), "NoseSneerLeft",
                           channels=("NoseSneerLeft", "NoseSneerRight")))
    # mouth
    facts.append(_pair_fact(v, "MouthSmile", "smile", "mouth"))
    facts.append(_pair_fact(v, "MouthFrown", "mouth_frown", "mouth"))
    for stem, action in (("MouthPress", "lips_press"), ("MouthStretch", "mouth_stretch"),
                         ("MouthUpperUp", "upper_lip_raise"), ("MouthLowerDown", "lower_lip_down"),
                         ("MouthDimple", "dimple")):
        f = _pair_fact(v, stem, action, "mouth")
        facts.append(replace(f, side="both") if f is not None else None)
    facts.append(_single_fact(v, "MouthPucker", "pucker", "mouth"))
    facts.append(_single_fact(v, "MouthFunnel", "funnel", "mouth"))
    # lips rolled in: both lips (AU28), or one lip alone (the lexicon's lip_bite / upper_lip_roll)
    lower, upper = float(v[_IDX["MouthRollLower"]]), float(v[_IDX["MouthRollUpper"]])
    if max(lower, upper) >= MIN_VALUE:
        if min(lower, upper) >= ONE_SIDED_SHARE * max(lower, upper):
            level = (lower / _full("lips_roll", "MouthRollLower") + upper / _full("lips_roll", "MouthRollUpper")) / 2
            facts.append(Fact("lips_roll", "mouth", level, max(lower, upper),
                              channels=("MouthRollLower", "MouthRollUpper")))
        elif lower > upper:
            facts.append(_fact("lip_bite", "mouth", lower, "MouthRollLower"))
        else:
            facts.append(_fact("upper_lip_roll", "mouth", upper, "MouthRollUpper"))
    facts.append(_single_fact(v, "MouthShrugLower", "chin_raise", "mouth"))
    shift = float(v[_IDX["MouthRight"]] - v[_IDX["MouthLeft"]])
    if abs(shift) >= MIN_VALUE:
        side = "right" if shift > 0 else "left"
        facts.append(Fact("mouth_side", "mouth", abs(shift) / _full("mouth_side", "mouth_side"), abs(shift),
                          direction=f"to the {side}", direction_key=side, channels=("MouthLeft", "MouthRight")))
    # jaw and tongue
    facts.append(_single_fact(v, "JawOpen", "jaw_open", "jaw"))
    facts.append(_single_fact(v, "JawForward", "jaw_forward", "jaw"))
    jaw_shift = float(v[_IDX["JawRight"]] - v[_IDX["JawLeft"]])
    if abs(jaw_shift) >= MIN_VALUE:
        side = "right" if jaw_shift > 0 else "left"
        facts.append(Fact("jaw_side", "jaw", abs(jaw_shift) / _full("jaw_side", "jaw_side"), abs(jaw_shift),
                          direction=f"to the {side}", direction_key=side, channels=("JawLeft", "JawRight")))
    facts.append(_single_fact(v, "TongueOut", "tongue_out", "tongue"))
    # head (rig signs: yaw > 0 toward the subject's right, pitch > 0 down, roll > 0 toward the right shoulder)
    yaw, pitch, roll = (float(v[_IDX[n]]) for n in ("HeadYaw", "HeadPitch", "HeadRoll"))
    if abs(yaw) >= MIN_POSE:
        side = "right" if yaw > 0 else "left"
        facts.append(Fact("head_yaw", "head", abs(yaw) / _full("head_yaw", "HeadYaw"), yaw,
                          direction=f"to the {side}", direction_key=side, channels=("HeadYaw",)))
    if pitch >= MIN_POSE:
        facts.append(Fact("head_down", "head", pitch / _full("head_down", "HeadPitch"), pitch, channels=("HeadPitch",)))
    elif pitch <= -MIN_POSE:
        facts.append(Fact("head_up", "head", -pitch / _full("head_up", "HeadPitch"), pitch, channels=("HeadPitch",)))
    if abs(roll) >= MIN_POSE:
        side = "right" if roll > 0 else "left"
        facts.append(Fact("head_roll", "head", abs(roll) / _full("head_roll", "HeadRoll"), roll,
                          direction=f"to the {side}", direction_key=side, channels=("HeadRoll",)))
    return [f for f in facts if f is not None and f.level >= 0.08]


# ----------------------------------------------------------------------------------- the four-part description
def _category(values: np.ndarray) -> tuple[str, float]:
    """Nearest emotion prototype by cosine similarity over the face blendshapes (gaze excluded)."""
    v = np.asarray(values, dtype=np.float64)[: rig.NUM_BLENDSHAPES].copy()
    v[[_IDX[n] for n in rig.GROUPS["gaze"]]] = 0.0
    if float(v.max(initial=0.0)) < NEUTRAL_ACTIVITY:
        return "neutral", 1.0
    # Capture noise (resting blinks ~0.1, see MIN_VALUE) must not decide the category: compare above a floor.
    v = np.maximum(v - MIN_VALUE / 2.0, 0.0)
    best, best_score = "neutral", 0.0
    norm = float(np.linalg.norm(v))
    for name in PROTOTYPES:
        if name == "neutral":
            continue
        p = prototype_vector(name, 1.0).astype(np.float64)[: rig.NUM_BLENDSHAPES]
        p[[_IDX[n] for n in rig.GROUPS["gaze"]]] = 0.0
        pn = float(np.linalg.norm(p))
        if pn == 0.0:
            continue
        score = float(v @ p) / (norm * pn)
        if score > best_score:
            best, best_score = name, score
    return best, best_score


def emotion_text(name: str) -> str:
    """The noun phrase used for emotion prototype ``name`` ("happily_surprised" -> "happy surprise")."""
    return _EMOTION_NOUNS.get(name, name.replace("_", " "))


def _implication(name: str, confidence: float) -> str:
    if name == "neutral":
        return "The face shows no particular emotion."
    verb = "clearly suggests" if confidence >= 0.8 else "suggests" if confidence >= 0.6 else "may hint at"
    return f"The expression {verb} {emotion_text(name)}."


def _symmetry(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    diffs: list[tuple[float, str, str]] = []
    total = signed = 0.0
    for left, right in SIDED_PAIRS:
        a, b = float(v[_IDX[left]]), float(v[_IDX[right]])
        if max(a, b) < MIN_VALUE:
            continue
        total += max(a, b)
        signed += a - b
        diffs.append((abs(a - b), left, right))
    if total == 0.0:
        return {"label": "symmetric", "score": 0.0, "stronger_side": None, "channels": []}
    score = sum(d for d, _, _ in diffs) / total
    side = None if abs(signed) < 1e-6 else ("left" if signed > 0 else "right")
    label = "symmetric" if score < 0.15 else (
        f"slightly asymmetric, stronger on the {side}" if score < 0.35 else f"asymmetric, stronger on the {side}")
    top = sorted(diffs, reverse=True)[:2]
    return {
        "label": label,
        "score": round(score, 3),
        "stronger_side": side if score >= 0.15 else None,
        "channels": [left[: -len("Left")] for d, left, _ in top if d >= 0.1],
    }


@dataclass(frozen=True)
class StructuredDescription:
    """SemanticFace's four parts plus changes: ``category`` (prototype name), ``confidence`` (cosine in [0, 1]),
    ``movements`` (facts by salience), ``implication`` (a sentence), ``symmetry`` (label, score, side,
    channels) and ``changes`` since the previous keyframe."""

    category: str
    confidence: float
    movements: tuple[Fact, ...]
    implication: str
    symmetry: Mapping[str, Any]
    changes: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": {
                "name": self.category,
                "label": emotion_text(self.category),
                "confidence": round(float(self.confidence), 3),
                "source": PROTOTYPE_SOURCES.get(self.category, "keyframeface composition (semantics/emotions.py)"),
            },
            "movements": [f.to_dict() for f in self.movements],
            "implication": self.implication,
            "symmetry": dict(self.symmetry),
            "changes": [dict(c) for c in self.changes],
        }


def _check_values(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise ScriptError(f"expected {rig.NUM_CHANNELS} numbers, got {type(values).__name__}", field=what) from None
    if arr.shape[0] != rig.NUM_CHANNELS or not np.isfinite(arr).all():
        raise ScriptError(f"expected {rig.NUM_CHANNELS} finite values in rig.CHANNELS order, got shape {arr.shape}",
                          field=what)
    return rig.clamp(arr)[0]


def _changes(current: Sequence[Fact], previous: Sequence[Fact]) -> list[dict[str, Any]]:
    prev = {f.id: f for f in previous}
    now = {f.id: f for f in current}
    out: list[dict[str, Any]] = []
    for f in current:
        p = prev.get(f.id)
        if p is None:
            out.append({"action": f.id, "change": "appears", "to": round(f.level, 3)})
            continue
        same_grade = grade_for(p.level) is grade_for(f.level) or not f.adverb
        same_place = p.side == f.side and p.direction_key == f.direction_key
        change = "same" if same_grade and same_place else (
            "moves" if not same_place else "stronger" if f.level > p.level else "weaker")
        out.append({"action": f.id, "change": change, "from": round(p.level, 3), "to": round(f.level, 3)})
    for p in previous:
        if p.id not in now:
            out.append({"action": p.id, "change": "gone", "from": round(p.level, 3)})
    return out


def describe(values: Any, *, previous: Any = None) -> StructuredDescription:
    """The structured (four-part) description of one keyframe's (61,) values in rig.CHANNELS order.

    ``previous``: the previous keyframe's (61,) values, for ``changes`` (``None`` for the first keyframe).
    Values are clamped into range first. Raises :class:`ScriptError` for anything that is not 61 finite numbers.
    """
    v = _check_values(values, "values")
    facts = sorted(_facts(v), key=lambda f: -f.salience)
    name, confidence = _category(v)
    changes: list[dict[str, Any]] = []
    if previous is not None:
        changes = _changes(facts, _facts(_check_values(previous, "previous")))
    return StructuredDescription(name, confidence, tuple(facts), _implication(name, confidence), _symmetry(v),
                                 tuple(changes))


# ------------------------------------------------------------------------------------------------- sentences
@dataclass(frozen=True)
class Annotation:
    """A keyframe's annotation: the one-sentence ``description`` and its ``structured`` form."""

    description: str
    structured: StructuredDescription

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, **self.structured.to_dict()}


def _sentence(desc: StructuredDescription, rng: random.Random, *, max_facts: int, has_previous: bool) -> str:
    chosen = list(desc.movements[:max_facts])
    # Trace-level movements (below the "faint" grade) read as noise next to clearer ones: keep them only while
    # the sentence would otherwise have fewer than three movements.
    clear = [f for f in chosen if f.level >= _TRACE_CUT or not f.adverb]
    if len(clear) >= 3:
        chosen = clear
    change_of = {c["action"]: c["change"] for c in desc.changes}
    clauses: list[tuple[int, str]] = []
    for f in chosen:
        form = "keep" if has_previous and change_of.get(f.id) == "same" else "set"
        text = render(f.id, level=f.level, rng=rng, side=f.side, direction=f.direction, form=form, adverb=f.adverb,
                      default_level=ACTIONS[f.id].level)
        clauses.append((_REGION_ORDER.index(f.region), text))
    clauses.sort(key=lambda c: c[0])
    texts = [t for _, t in clauses]
    # What went away since the previous keyframe (only what was clearly visible: the rest fades by itself).
    gone = [c for c in desc.changes if c["change"] == "gone" and c.get("from", 0.0) >= 0.3]
    for c in sorted(gone, key=lambda c: -float(c.get("from", 0.0)))[:2]:
        texts.append(render(str(c["action"]), level=0.0, rng=rng, form="fade"))
    texts = list(dict.fromkeys(texts))  # two facts can share a fading clause ("the lips relax")
    if not texts:
        return rng.choice(list(NEUTRAL_SENTENCES))
    return join_clauses(texts)


def annotate_values(values: Any, *, previous: Any = None, seed: int | str = 0, index: int = 0,
                    max_facts: int = 6) -> Annotation:
    """Annotate one keyframe's (61,) values: a sentence and its structured description.

    ``previous``: the previous keyframe's values (for holding/fading wording and ``changes``). ``seed`` and
    ``index`` choose the wording (same inputs, same text). ``max_facts``: most movements in the sentence (the
    structured description keeps all).
    """
    if isinstance(max_facts, bool) or not isinstance(max_facts, int) or max_facts < 1:
        raise ScriptError(f"max_facts must be an int >= 1, got {max_facts!r}", field="max_facts")
    desc = describe(values, previous=previous)
    rng = random.Random(f"{seed}:{index}")
    return Annotation(_sentence(desc, rng, max_facts=max_facts, has_previous=previous is not None), desc)


# ------------------------------------------------------------------------------------------------ LLM mode
_SENTENCE_LIMIT = 600


def _llm_messages(annotation: Annotation, previous_text: str) -> list[dict[str, str]]:
    import json

    user = (
        "Structured description:\n" + json.dumps(annotation.structured.to_dict(), ensure_ascii=False)
        + (f"\n\nPrevious keyframe: {previous_text}" if previous_text else "")
        + f"\n\nDraft sentence: {annotation.description}\n\nWrite the sentence."
    )
    return [{"role": "system", "content": ANNOTATOR_SYSTEM_PROMPT}, {"role": "user", "content": user}]


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def _clean_llm_sentence(text: str) -> str | None:
    """The model's sentence, or ``None`` when it is unusable (empty, JSON, too long)."""
    if not isinstance(text, str):
        return None
    text = _THINK.sub("", text).split("</think>")[-1].strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    sentence = lines[0].strip().strip("\"'`").strip()
    for prefix in ("Sentence:", "Answer:", "Description:"):
        if sentence.lower().startswith(prefix.lower()):
            sentence = sentence[len(prefix):].strip()
    if not sentence or len(sentence) > _SENTENCE_LIMIT or "{" in sentence or len(sentence.split()) < 3:
        return None
    return sentence


# ------------------------------------------------------------------------------------------------ keyframes
def _infer_emotion(structs: Sequence[StructuredDescription]) -> str:
    names: list[str] = []
    for s in structs:
        if s.category != "neutral" and s.confidence >= 0.5 and (not names or names[-1] != s.category):
            names.append(s.category)
    if not names:
        return "A calm, neutral state."
    first = emotion_text(names[0])
    if len(names) == 1:
        return first[0].upper() + first[1:] + "."
    last = emotion_text(names[-1])
    return f"{first[0].upper() + first[1:]} shifting to {last}."


def annotate(
    keyframes: Keyframes,
    *,
    seed: int = 0,
    max_facts: int = 6,
    backend: Any = None,
    backend_options: Mapping[str, Any] | None = None,
    temperature: float = 0.0,
    timeout_s: float = 120.0,
    infer_emotion: bool = True,
) -> Keyframes:
    """Describe every keyframe of ``keyframes`` (which must all have values) in language.

    Returns a copy whose keyframes carry a one-sentence ``description`` each (values and times kept), whose
    ``emotion`` is inferred from the expression categories when the input has none (``infer_emotion``), and whose
    ``meta`` gains ``"annotation"``: annotator version, seed, options, backend, time, and one structured
    (four-part) description per keyframe (``meta["annotation"]["keyframes"]``). The input's own ``meta`` is kept
    under ``meta["source"]``.

    ``backend=None`` is the deterministic annotator; a chat backend name or instance (``"llama"``,
    ``"openai"`` ...) rewrites each sentence from its structured description (``backend_options`` go to its
    constructor; ``temperature`` / ``timeout_s`` / ``seed`` to each request). Raises :class:`ScriptError` for
    keyframes without values, :class:`BackendUnavailableError` for a backend that cannot chat.
    """
    if not isinstance(keyframes, Keyframes):
        raise ScriptError(f"annotate() takes Keyframes, got {type(keyframes).__name__}; load them with load_keyframes")
    if keyframes.missing:
        raise ScriptError(f"keyframes {keyframes.missing[:5]} have no values; generate or extract them first",
                          field="keyframes")
    engine = None
    if backend is not None:
        from ..backends.base import GenerationOptions
        from ..backends.registry import get_backend

        engine = get_backend(backend, **dict(backend_options or {}))
        if not engine.capabilities.chat:
            raise BackendUnavailableError(
                f"backend {engine.name!r} cannot write text (it is not a chat backend); use a chat backend such as "
                "llama or openai, or no backend for the deterministic annotator")
        options = GenerationOptions(seed=seed, temperature=temperature, max_tokens=160, timeout_s=timeout_s)
    annotations: list[Annotation] = []
    fallbacks: list[dict[str, Any]] = []
    new_kfs = []
    previous: np.ndarray | None = None
    for i, kf in enumerate(keyframes.keyframes):
        ann = annotate_values(kf.array, previous=previous, seed=seed, index=i, max_facts=max_facts)
        text = ann.description
        if engine is not None:
            try:
                answer = engine.complete(_llm_messages(ann, annotations[-1].description if annotations else ""),
                                         options=options)
            except BackendError as exc:
                answer, reason = "", f"backend error: {str(exc)[:200]}"
            else:
                reason = "unusable answer (empty, JSON or too long)"
            cleaned = _clean_llm_sentence(answer)
            if cleaned is None:
                fallbacks.append({"keyframe": i, "reason": reason, "answer": str(answer)[:300]})
            else:
                text = cleaned
                ann = Annotation(text, ann.structured)
        annotations.append(ann)
        new_kfs.append(replace(kf, description=text))
        previous = kf.array
    emotion = keyframes.emotion
    if not emotion and infer_emotion:
        emotion = _infer_emotion([a.structured for a in annotations])
    meta: dict[str, Any] = {
        "annotation": {
            "annotator": "keyframeface.semantics.annotate",
            "annotator_version": ANNOTATOR_VERSION,
            "package_version": __version__,
            "seed": seed,
            "max_facts": max_facts,
            "backend": None if engine is None else engine.describe(),
            "temperature": temperature if engine is not None else None,
            "fallbacks": fallbacks,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "keyframes": [a.structured.to_dict() for a in annotations],
        },
    }
    if keyframes.meta:
        meta["source"] = dict(keyframes.meta)
    return Keyframes(keyframes=tuple(new_kfs), background=keyframes.background, emotion=emotion, meta=meta)
