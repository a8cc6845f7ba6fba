"""Compose one keyframe's 61 values from its description, the script's emotion and the previous keyframe.

Order of composition (each step is recorded in the explanation):

1. **Emotion baseline.** Emotion words of the script's ``emotion`` field give a mild baseline: their FACS
   prototypes (:mod:`keyframeface.semantics.emotions`) at :data:`BASELINE_WEIGHT` of their strength. If the
   field names no emotion, emotion words of the ``background`` count at :data:`BACKGROUND_WEIGHT`; if neither
   does, the actions the emotion field describes ("a forced smile") count at :data:`BASELINE_WEIGHT`.
2. **Carry-over.** With a previous keyframe, every channel starts at the baseline plus :data:`RESIDUAL` (30%) of
   the previous keyframe's difference from it: what is not mentioned relaxes most of the way toward the baseline.
   Blinks and winks of the previous keyframe are not carried. "same expression" / "freezes" keep it all.
3. **Emotions in the description** ("she looks terrified", "her brows stay worried") replace the carried values
   of the regions their prototype touches (or the part they are attached to) by the prototype at the word's
   strength.
4. **Actions**, in reading order. ``SET`` writes the action's channels (two actions on one channel: the larger
   wins) and resets the residue of exclusive regions it touches (brows, lids, gaze: a new gaze direction does
   not mix with the old one). ``OFF`` zeroes them; ``KEEP`` copies them from the previous keyframe when it shows
   the action (else sets it); ``REDUCE`` / ``INCREASE`` scale the previous keyframe's values. Region relaxing
   ("the brows relax") reduces everything not explicitly set in the region.
5. **Conflicts**: closed eyes cannot be wide; wide and squinting eyes, smiles and frowns, puckers and smiles keep
   the explicitly described one; an open jaw releases pressed lips; a shown tongue opens the jaw a little.
6. **Couplings of real faces** (:mod:`keyframeface.semantics.couplings`, fitted on real captures), once per
   keyframe after everything above: the lids of each eye follow the composed vertical gaze (looking down lowers
   the upper lid, looking up widens) unless the description set that eye's lids (closed, wide, narrowed, winking,
   kept: those win); MouthClose never exceeds JawOpen and, where not described, is what real captures show at the
   composed JawOpen. A previous keyframe's lids are carried over without its coupling, so it is not counted twice.
7. Range: head rotations within +/- :data:`HEAD_LIMIT`, everything clipped to the rig's ranges, eye rotations
   recomputed from the eyeLook channels (:func:`keyframeface.rig.sync_eye_rotations`), values rounded to 3
   decimals.

Sign conventions (the rig's, see :mod:`keyframeface.rig`): HeadYaw > 0 turns toward the subject's right, HeadPitch
> 0 looks down (as eye pitch does), HeadRoll > 0 tilts toward the subject's right shoulder. Magnitudes stay small
(a clear turn ~0.25, a nod ~0.2) as in real captures (reference/FACS.md: |x| < 0.2 typically).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import rig
from ..errors import ScriptError
from .couplings import LID_CHANNELS, couple_lids, couple_mouth_close, uncouple_lids
from .emotions import PROTOTYPE_SOURCES, RESET_ALL, prototype_regions, prototype_vector
from .laterality import apply_side, direction_vector, resolve_side
from .lexicon import ACTIONS, Action
from .mentions import Mention, Mode, Side
from .negation import KEEP_MIN_SHARE, RESIDUAL
from .parse import parse
from .reading import coverage, read_description, refine_brows
from .relative import apply_relative

__all__ = ["BACKGROUND_WEIGHT", "BASELINE_WEIGHT", "HEAD_LIMIT", "Composition", "compose", "emotion_baseline"]

#: Share of the emotion field's prototypes used as every keyframe's baseline.
BASELINE_WEIGHT = 0.3
#: Share used for emotion words found only in the background.
BACKGROUND_WEIGHT = 0.15
#: Largest head rotation written (real captures stay under 0.2; a strong turn or bow reaches ~0.35-0.4).
HEAD_LIMIT = 0.5

#: "the smile widens": the previous value x 1.35 + 0.12 (0.4 -> 0.66), at least the action's default value.
_GROW_FACTOR, _GROW_STEP = 1.35, 0.12

_IDX = rig.CHANNEL_INDEX
_EXCLUSIVE = ("brows", "eyes", "gaze")
_GROUP_IDX: Mapping[str, np.ndarray] = {g: np.array([_IDX[n] for n in names]) for g, names in rig.GROUPS.items()}
_BLEND = np.arange(rig.NUM_BLENDSHAPES)
_HEAD = np.array([_IDX["HeadYaw"], _IDX["HeadPitch"], _IDX["HeadRoll"]])
_EYE_LOOK = tuple(n for n in rig.BLENDSHAPES if n.startswith("EyeLook"))
_LIDS = frozenset(ch for names in LID_CHANNELS.values() for ch in names)


@dataclass(frozen=True, eq=False)
class Composition:
    """The composer's answer: ``values`` (61,) float32 in rig.CHANNELS order, within range; ``explanation``:
    records ``{"phrase", "rule", "channels": {name: value}}`` in the order they were applied; ``mentions``: what
    the parser found; ``coverage``: what the reading understood (:func:`keyframeface.semantics.reading.coverage`:
    ``facial`` is false when the description gave no facial action, only the baseline or nothing)."""

    values: np.ndarray
    explanation: tuple[dict[str, Any], ...]
    mentions: tuple[Mention, ...]
    coverage: dict[str, Any] = field(default_factory=dict)


def _record(phrase: str, rule: str, channels: Mapping[str, float]) -> dict[str, Any]:
    return {
        "phrase": phrase,
        "rule": rule,
        "channels": {k: round(float(v), 3) + 0.0 for k, v in channels.items()},
    }


def _nonzero(values: np.ndarray, *, threshold: float = 0.01) -> dict[str, float]:
    return {rig.CHANNELS[i]: float(values[i]) for i in range(rig.NUM_CHANNELS) if abs(values[i]) > threshold}


def _merge_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: the value with the larger magnitude (so negative head pitch is kept)."""
    return np.where(np.abs(b) > np.abs(a), b, a).astype(np.float32)


# ------------------------------------------------------------------------------------------------ baseline
def emotion_baseline(emotion: str, background: str = "") -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The mild baseline of a script: (61,) float32 and the explanation records for it."""
    base = np.zeros(rig.NUM_CHANNELS, dtype=np.float32)
    records: list[dict[str, Any]] = []
    sources = [(emotion, BASELINE_WEIGHT, "emotion"), (background, BACKGROUND_WEIGHT, "background")]
    for text, weight, label in sources:
        mentions = [m for m in parse(text) if m.kind == "emotion" and m.mode is not Mode.OFF]
        if not mentions:
            continue
        for m in mentions:
            if m.name in RESET_ALL:
                continue
            vec = prototype_vector(m.name, (m.level or 0.0) * weight)
            base = _merge_max(base, vec)
            records.append(_record(
                m.phrase,
                f"{label} baseline: {m.name} at {m.level or 0.0:.2f} x {weight} "
                f"({PROTOTYPE_SOURCES.get(m.name, 'this project')})" + (f"; {m.notes[0]}" if m.notes else ""),
                _nonzero(vec),
            ))
        return base, records
    # no emotion words anywhere: what the emotion field describes, mildly ("a forced smile")
    for m in parse(emotion):
        if m.kind != "action" or m.mode is not Mode.SET:
            continue
        vals = action_values(ACTIONS[m.name], m)
        vec = np.zeros(rig.NUM_CHANNELS, dtype=np.float32)
        for ch, v in vals.items():
            vec[_IDX[ch]] = v * BASELINE_WEIGHT
        base = _merge_max(base, vec)
        records.append(_record(m.phrase, f"emotion baseline from action {m.name} x {BASELINE_WEIGHT}", _nonzero(vec)))
    return base, records


# ------------------------------------------------------------------------------------------------ actions
def action_values(action: Action, mention: Mention) -> dict[str, float]:
    """Channel values of ``action`` as ``mention`` asks (level, side, directions). Includes explicit zeros."""
    level = mention.level if mention.level is not None else action.level
    side = resolve_side(mention.side, Side.ONE if action.side == "one" else Side.BOTH)
    values: dict[str, float] = {}
    for ch, full in action.primary.items():
        if ch == "gaze":
            values.update(_gaze(mention.directions, full * level))
        elif ch in ("HeadYaw", "HeadRoll") and action.axis == ch:
            values[ch] = full * level * _sign(mention.directions, action.default_dir)
        elif ch == "jaw_side":
            right = _sign(mention.directions, action.default_dir) > 0
            values["JawRight" if right else "JawLeft"] = full * level
            values["JawLeft" if right else "JawRight"] = 0.0
        elif ch == "mouth_side":
            right = _sign(mention.directions, action.default_dir) > 0
            values["MouthRight" if right else "MouthLeft"] = full * level
            values["MouthLeft" if right else "MouthRight"] = 0.0
        else:
            values[ch] = full * level
    for ch, full in action.secondary.items():
        v = full * level * level * mention.quality
        if abs(v) > abs(values.get(ch, 0.0)):
            values[ch] = v
    for ch in action.zeros:
        values.setdefault(ch, 0.0)
    if action.pull_mouth and side in (Side.LEFT, Side.RIGHT):
        pull = "MouthLeft" if side is Side.LEFT else "MouthRight"
        values[pull] = max(values.get(pull, 0.0), 0.2 * level)
    if side in (Side.LEFT, Side.RIGHT):
        # one side: the action's values move to that side (the other keeps ``spill``); explicit zeros only
        # apply on that side ("the left eye closes" says nothing about the right eye's width)
        keep = "Left" if side is Side.LEFT else "Right"
        other = "Right" if side is Side.LEFT else "Left"
        sided = apply_side({ch: v for ch, v in values.items() if v != 0.0 or ch not in action.zeros}, side,
                           spill=action.spill)
        for ch in action.zeros:
            if ch.endswith(other) and ch[: -len(other)] + keep in _IDX and ch not in ("JawRight", "JawLeft",
                                                                                      "MouthRight", "MouthLeft"):
                continue
            sided.setdefault(ch, 0.0)
        values = sided
    return values


def _sign(directions: tuple[str, ...], default: str | None) -> float:
    for d in directions:
        if d == "right":
            return 1.0
        if d in ("left", "away"):
            return -1.0
    return 1.0 if default == "right" else -1.0


def _gaze(directions: tuple[str, ...], amount: float) -> dict[str, float]:
    vec = direction_vector(directions)
    if vec is None:
        return {}
    x, y = vec
    out = {n: 0.0 for n in _EYE_LOOK}
    if x > 0:  # toward the subject's right: the left eye looks in, the right eye looks out
        out["EyeLookInLeft"] = out["EyeLookOutRight"] = amount * x
    elif x < 0:
        out["EyeLookOutLeft"] = out["EyeLookInRight"] = amount * -x
    if y > 0:
        out["EyeLookUpLeft"] = out["EyeLookUpRight"] = amount * y
    elif y < 0:
        out["EyeLookDownLeft"] = out["EyeLookDownRight"] = amount * -y
    return out


def _shows(action: Action, mention: Mention, prev: np.ndarray) -> bool:
    """Whether ``prev`` shows ``action`` at least :data:`KEEP_MIN_SHARE` of its default strength."""
    if action.axis == "gaze":
        return any(prev[_IDX[n]] > 0.1 for n in _EYE_LOOK)
    nominal = action_values(action, mention)
    for ch, v in nominal.items():
        if ch in action.primary and abs(v) > 0.05 and abs(prev[_IDX[ch]]) >= KEEP_MIN_SHARE * abs(v):
            return True
    return False


def _describe(m: Mention, action: Action | None) -> str:
    parts = [f"{m.name}: {action.summary}" if action else m.name]
    if m.level is not None:
        words = ", ".join(repr(w) for w in m.level_words)
        parts.append(f"level {m.level:.2f}" + (f" ({words})" if words else " (default)"))
    if m.side not in (None, Side.BOTH) and action is not None:
        side = resolve_side(m.side, Side.BOTH)
        parts.append(f"side {side.value}" + (f" ({', '.join(repr(w) for w in m.side_words)})" if m.side_words else ""))
    if m.directions:
        parts.append("direction " + "+".join(m.directions))
    if m.mode is not Mode.SET:
        parts.append(f"{m.mode.value} ({', '.join(repr(w) for w in m.mode_words)})")
    parts.extend(m.notes)
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------ compose
class _State:
    def __init__(self, base: np.ndarray, prev: np.ndarray | None) -> None:
        self.base = base
        self.prev = prev
        self.values = base.copy()
        self.explicit = np.zeros(rig.NUM_CHANNELS, dtype=bool)
        # set by the description itself, not only as another action's secondary (a smile's squint): the lids of a
        # side described so keep their values instead of following the gaze (:func:`_apply_couplings`)
        self.described = np.zeros(rig.NUM_CHANNELS, dtype=bool)
        # the previous keyframe without its gaze-lid coupling: what is carried over, held or relaxed
        self.prev_free = None if prev is None else uncouple_lids(prev)
        self.emotional = np.zeros(rig.NUM_CHANNELS, dtype=bool)  # set by an emotion of this description
        self.set_now = np.zeros(rig.NUM_CHANNELS, dtype=bool)
        self.reset_groups: set[str] = set()
        self.records: list[dict[str, Any]] = []
        self.relative = False  # a relative note set the start: emotions add to it instead of replacing it

    def reset_exclusive(self, channels: list[str]) -> None:
        for group in _EXCLUSIVE:
            if group in self.reset_groups:
                continue
            if any(rig.group_of(ch) == group for ch in channels):
                idx = _GROUP_IDX[group]
                keep = self.explicit[idx] | self.emotional[idx]
                self.values[idx] = np.where(keep, self.values[idx], self.base[idx])
                self.reset_groups.add(group)


def _check_previous(previous: object) -> np.ndarray:
    """``previous`` as (61,) float32, or :class:`ScriptError` unless it is 61 finite numbers."""
    try:
        prev = np.asarray(previous, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise ScriptError(f"expected {rig.NUM_CHANNELS} numbers, got {type(previous).__name__} that is not "
                          "numeric", field="previous") from None
    if prev.shape != (rig.NUM_CHANNELS,):
        raise ScriptError(f"expected {rig.NUM_CHANNELS} values (one per channel in rig order), got {prev.shape[0]}",
                          field="previous")
    if not np.all(np.isfinite(prev)):
        raise ScriptError("expected finite numbers, got NaN or infinity", field="previous")
    return prev


def compose(
    description: str,
    *,
    emotion: str = "",
    background: str = "",
    previous: np.ndarray | None = None,
    previous_description: str = "",
    extra_mentions: Sequence[Mention] = (),
    before_previous: np.ndarray | None = None,
) -> Composition:
    """61 values for one keyframe ``description`` (English and/or Chinese).

    ``emotion`` / ``background``: the script's fields (baseline and context). ``previous``: (61,) values of the
    previous keyframe or ``None``; ``previous_description``: its text (to know its blinks are not carried).
    ``extra_mentions``: mentions found by something other than the rule parser (the ``bundled`` backend's learned
    grounding of clauses the parser does not understand); they are merged with the parsed ones by ``position``.
    ``before_previous``: the keyframe two back, for an "undo" note (:mod:`keyframeface.semantics.relative`).
    The description is first prepared by :func:`keyframeface.semantics.reading.read_description` (casual
    writing, AU codes and channel values, idioms, scene text, relative notes).
    Returns a :class:`Composition`. Deterministic: the same inputs give the same values. Raises
    :class:`~keyframeface.errors.ScriptError` for text arguments that are not strings or a ``previous`` that is not
    61 finite numbers.
    """
    for name, text in (("description", description), ("emotion", emotion), ("background", background),
                       ("previous_description", previous_description)):
        if not isinstance(text, str):
            raise ScriptError(f"expected text, got {type(text).__name__}; pass a string", field=name)
    prev = None if previous is None else _check_previous(previous)
    reading = read_description(description)
    mentions = refine_brows(parse(reading.text))
    if extra_mentions:
        if not all(isinstance(m, Mention) for m in extra_mentions):
            raise ScriptError("extra_mentions must be Mention objects")
        mentions = refine_brows(sorted((*mentions, *extra_mentions), key=lambda m: m.position))
    base, base_records = emotion_baseline(emotion, background)
    st = _State(base, prev)
    st.records.extend(base_records)
    st.records.extend(reading.records)

    if prev is not None:
        free = st.prev_free if st.prev_free is not None else prev  # its lids without the gaze coupling
        carried = (base + RESIDUAL * (free - base)).astype(np.float32)
        transient = [ch for m in parse(previous_description) if m.kind == "action" and m.mode is Mode.SET
                     and ACTIONS[m.name].transient for ch in ACTIONS[m.name].primary]
        for ch in transient:
            if ch in _IDX:
                carried[_IDX[ch]] = base[_IDX[ch]]
        if reading.relative:
            before = None if before_previous is None else uncouple_lids(_check_previous(before_previous))
            carried, rule = apply_relative(reading.relative, free, base, before)
            st.relative = True
            st.records.append(_record(", ".join(op.phrase for op in reading.relative), rule, _nonzero(carried)))
        elif any(m.kind == "hold" for m in mentions):
            carried = free.copy()  # the coupling is applied again at the end: the same gaze gives the same lids
            st.records.append(_record(
                next(m.phrase for m in mentions if m.kind == "hold"),
                "hold: the whole previous expression is kept", _nonzero(prev)))
        else:
            diff = _nonzero(carried - base, threshold=0.02)
            if diff:
                st.records.append(_record(
                    "(previous keyframe)",
                    f"carry-over: unmentioned channels relax toward the baseline, keeping {RESIDUAL:.0%}"
                    + (f"; not carried: {', '.join(dict.fromkeys(transient))}" if transient else ""),
                    {k: float(carried[_IDX[k]]) for k in diff}))
        st.values = carried

    for m in mentions:
        if m.kind == "emotion":
            _apply_emotion(st, m)
    for m in mentions:
        if m.kind == "action":
            _apply_action(st, m)
        elif m.kind == "relax":
            _apply_relax(st, m)

    if reading.limit is not None:
        capped = st.set_now & (np.abs(st.values) > reading.limit)
        st.values[capped] = np.sign(st.values[capped]) * reading.limit
        if capped.any():
            st.records.append(_record("", f"limit {reading.limit:.2f} as written",
                                      {rig.CHANNELS[i]: float(st.values[i]) for i in np.nonzero(capped)[0]}))
    _resolve_conflicts(st)
    for name, value in reading.channels:  # explicit numbers are the last word
        st.values[_IDX[name]] = value
        st.described[_IDX[name]] = True
    _apply_couplings(st)
    values = st.values
    values[_HEAD] = np.clip(values[_HEAD], -HEAD_LIMIT, HEAD_LIMIT)
    values, _ = rig.clamp(values)
    values = rig.sync_eye_rotations(values)
    values = np.round(values.astype(np.float64), 3).astype(np.float32) + np.float32(0.0)
    cov = coverage(reading, mentions) if prev is not None or not reading.relative else coverage(
        read_description(""), mentions)
    return Composition(values=values, explanation=tuple(st.records), mentions=tuple(mentions), coverage=cov)


def _apply_emotion(st: _State, m: Mention) -> None:
    level = m.level or 0.0
    vec = prototype_vector(m.name, level)
    regions = m.regions or prototype_regions(m.name)
    idx = np.concatenate([_GROUP_IDX[g] for g in regions]) if regions else np.array([], dtype=int)
    mask = np.zeros(rig.NUM_CHANNELS, dtype=bool)
    mask[idx] = True
    rule = f"emotion {m.name} at {level:.2f} ({PROTOTYPE_SOURCES.get(m.name, 'this project')})"
    if m.regions:
        rule += f" on {'/'.join(m.regions)}"
    if m.mode is Mode.OFF:
        off = mask & (vec != 0) & ~st.explicit
        st.values[off] = 0.0
        st.records.append(_record(m.phrase, rule + f"; off ({', '.join(m.mode_words)})",
                                  {rig.CHANNELS[i]: 0.0 for i in np.nonzero(off)[0]}))
        return
    if m.mode is Mode.REDUCE and st.prev is not None:
        chans = mask & (vec != 0)
        st.values[chans] = st.prev[chans] * m.factor
        st.explicit |= chans
        st.described |= chans
        st.records.append(_record(m.phrase, rule + f"; reduced to {m.factor:.0%} of the previous keyframe",
                                  {rig.CHANNELS[i]: float(st.values[i]) for i in np.nonzero(chans)[0]}))
        return
    if m.mode is Mode.KEEP and st.prev is not None:
        # kept when the previous keyframe shows the prototype's main channel in these regions
        strength = np.where(mask, np.abs(vec), 0.0)
        main = int(np.argmax(strength))
        if strength[main] > 0.05 and abs(st.prev[main]) >= KEEP_MIN_SHARE * strength[main]:
            st.values[mask] = st.prev[mask]
            st.explicit |= mask
            st.described |= mask
            st.records.append(_record(m.phrase, rule + f"; kept from the previous keyframe ({', '.join(m.mode_words)})",
                                      {rig.CHANNELS[i]: float(st.values[i]) for i in np.nonzero(mask & (st.values != 0))[0]}))
            return
    if m.name in RESET_ALL:
        st.values[mask & ~st.explicit] = 0.0
        st.records.append(_record(m.phrase, rule + "; face reset to neutral", {}))
        return
    # an emotion the description names replaces the baseline and the carried residue in its regions
    fresh = mask & ~st.explicit
    st.values[fresh] = np.where(st.emotional[fresh] | st.relative, _merge_max(st.values, vec)[fresh], vec[fresh])
    st.emotional |= fresh
    if m.regions:
        st.explicit |= mask & (vec != 0)
        st.described |= mask & (vec != 0)
    st.records.append(_record(m.phrase, rule, {rig.CHANNELS[i]: float(vec[i]) for i in np.nonzero(mask & (vec != 0))[0]}))


def _apply_action(st: _State, m: Mention) -> None:
    action = ACTIONS[m.name]
    vals = action_values(action, m)
    rule = _describe(m, action)
    mode = m.mode
    if mode is Mode.KEEP and m.level_words:
        mode = Mode.SET  # "only a trace of a smile remains": the state goes on at the intensity described
        rule += " -> shown at the described intensity"
    if mode is Mode.KEEP:
        if st.prev is not None and _shows(action, m, st.prev):
            chans = list(vals) or list(action.channels)
            for group in _EXCLUSIVE:
                if any(rig.group_of(ch) == group for ch in chans if abs(vals.get(ch, 0.0)) > 0):
                    chans.extend(n for n in rig.GROUPS[group] if n not in chans)
            for ch in chans:
                i = _IDX[ch]
                st.values[i] = st.prev[i]
                st.explicit[i] = True
                st.described[i] = True
            st.records.append(_record(m.phrase, rule + " -> kept from the previous keyframe",
                                      {ch: float(st.values[_IDX[ch]]) for ch in chans if abs(st.values[_IDX[ch]]) > 0.005}))
            return
        mode = Mode.SET
    if mode is Mode.SET:
        st.reset_exclusive([ch for ch, v in vals.items() if abs(v) > 0 and ch not in action.secondary])
        # an action about the lids: one of its own channels is a lid, or it only zeroes lids ("eyes open"; not
        # "a neutral face", which zeroes the whole face and leaves the lids to follow the gaze)
        lid_action = any(ch in _LIDS for ch in action.primary) or (
            not action.primary and bool(action.zeros) and all(ch in _LIDS for ch in action.zeros))
        for ch, v in vals.items():
            i = _IDX[ch]
            if ch in action.secondary and ch not in action.primary:
                # composites add to what is there (a fearful brow is not lowered by wide eyes' brow lift)
                st.values[i] = v if abs(v) > abs(st.values[i]) else st.values[i]
                st.explicit[i] = st.explicit[i] or v != 0.0
                continue
            if st.set_now[i] and v != 0.0:
                st.values[i] = v if abs(v) > abs(st.values[i]) else st.values[i]
            elif st.set_now[i] and v == 0.0:
                continue  # an explicit zero never erases another action's value in the same keyframe
            else:
                st.values[i] = v
            st.explicit[i] = True
            # an explicit zero describes the lids only for a lid action ("eyes open"), not a small smile's squint
            st.described[i] = st.described[i] or v != 0.0 or lid_action
            st.set_now[i] = st.set_now[i] or v != 0.0
        st.records.append(_record(m.phrase, rule, {ch: float(st.values[_IDX[ch]]) for ch in vals}))
        return
    chans = [ch for ch in action.channels if ch not in action.zeros] or list(vals)
    if action.axis == "gaze":
        chans = list(_EYE_LOOK)
    if m.regions is not None:  # "smiles, but not with her eyes": only the channels in those regions
        chans = [ch for ch in chans if rig.group_of(ch) in m.regions]
    ref = st.prev if st.prev is not None else st.values
    out: dict[str, float] = {}
    for ch in chans:
        i = _IDX[ch]
        if mode is Mode.OFF:
            new = 0.0
        elif mode is Mode.REDUCE:
            new = float(ref[i]) * m.factor
        else:  # INCREASE: a third more than before plus a step, and at least the action's own value
            if ch not in action.primary and ch not in action.secondary:
                continue
            target, before = vals.get(ch, 0.0), float(ref[i])
            grown = abs(before) * _GROW_FACTOR + _GROW_STEP if abs(before) > 0.02 else 0.0
            new = min(1.0, max(abs(target), grown))
            if target < 0 or before < 0:
                new = -new
        st.values[i] = new
        st.explicit[i] = True
        st.described[i] = True
        out[ch] = new
    st.records.append(_record(m.phrase, rule, out))


def _apply_relax(st: _State, m: Mention) -> None:
    regions = m.regions or ()
    ref = st.prev_free if st.prev_free is not None else st.values
    out: dict[str, float] = {}
    for g in regions:
        for i in _GROUP_IDX[g]:
            if st.explicit[i]:
                continue
            st.values[i] = st.base[i] + (ref[i] - st.base[i]) * m.factor
            if abs(st.values[i]) > 0.005 or abs(ref[i]) > 0.005:
                out[rig.CHANNELS[i]] = float(st.values[i])
    st.records.append(_record(m.phrase, f"{'/'.join(regions) or 'face'} relax to {m.factor:.0%} of their previous "
                              f"offset from the baseline ({', '.join(m.mode_words)})", out))


# ------------------------------------------------------------------------------------------------ conflicts
def _resolve_conflicts(st: _State) -> None:
    v, ex = st.values, st.explicit
    changed: dict[str, float] = {}
    notes: list[str] = []

    def setv(name: str, value: float, note: str) -> None:
        i = _IDX[name]
        if abs(v[i] - value) > 1e-6:
            v[i] = value
            changed[name] = value
            if note not in notes:
                notes.append(note)

    def pair(a: str, b: str, note: str, keep_factor: float = 0.25) -> None:
        ia, ib = _IDX[a], _IDX[b]
        if v[ia] <= 0.05 or v[ib] <= 0.05:
            return
        if ex[ia] and not ex[ib]:
            setv(b, float(v[ib]) * keep_factor, note)
        elif ex[ib] and not ex[ia]:
            setv(a, float(v[ia]) * keep_factor, note)
        elif not ex[ia] and not ex[ib]:
            if v[ia] >= v[ib]:
                setv(b, float(v[ib]) * keep_factor, note)
            else:
                setv(a, float(v[ia]) * keep_factor, note)

    for s in ("Left", "Right"):
        blink = float(v[_IDX[f"EyeBlink{s}"]])
        if blink >= 0.5 and v[_IDX[f"EyeWide{s}"]] > 0:
            setv(f"EyeWide{s}", float(v[_IDX[f"EyeWide{s}"]]) * max(0.0, (0.8 - blink) / 0.3),
                 "closed eyes cannot be wide")
        pair(f"EyeWide{s}", f"EyeSquint{s}", "wide and narrowed eyes: the described one wins", 0.2)
        pair(f"MouthSmile{s}", f"MouthFrown{s}", "smile and frown: the described one wins", 0.2)
        for a, b in ((f"EyeLookIn{s}", f"EyeLookOut{s}"), (f"EyeLookUp{s}", f"EyeLookDown{s}")):
            ia, ib = _IDX[a], _IDX[b]
            if v[ia] > 0 and v[ib] > 0:
                lo = min(float(v[ia]), float(v[ib]))
                setv(a, float(v[ia]) - lo, "opposite gaze directions cancel")
                setv(b, float(v[ib]) - lo, "opposite gaze directions cancel")
    pucker = max(float(v[_IDX["MouthPucker"]]), float(v[_IDX["MouthFunnel"]]))
    if pucker > 0.3 and (ex[_IDX["MouthPucker"]] or ex[_IDX["MouthFunnel"]]):
        for s in ("Left", "Right"):
            if not ex[_IDX[f"MouthSmile{s}"]] or v[_IDX[f"MouthSmile{s}"]] > 0.3:
                setv(f"MouthSmile{s}", float(v[_IDX[f"MouthSmile{s}"]]) * 0.5, "puckered lips limit the smile")
            setv(f"MouthStretch{s}", float(v[_IDX[f"MouthStretch{s}"]]) * 0.3, "puckered lips limit the smile")
    if v[_IDX["JawOpen"]] > 0.3:
        for name in ("MouthPressLeft", "MouthPressRight", "MouthClose", "MouthRollLower", "MouthRollUpper"):
            if not ex[_IDX[name]]:
                setv(name, float(v[_IDX[name]]) * 0.3, "an open jaw releases pressed lips")
    tongue = float(v[_IDX["TongueOut"]])
    if tongue > 0.2 and v[_IDX["JawOpen"]] < 0.1 + 0.2 * tongue:
        setv("JawOpen", 0.1 + 0.2 * tongue, "a tongue out needs the jaw a little open")
    if v[_IDX["CheekPuff"]] > 0.3 and not ex[_IDX["JawOpen"]] and v[_IDX["JawOpen"]] > 0.05:
        setv("JawOpen", 0.05, "puffed cheeks keep the lips closed")
    if changed:
        st.records.append(_record("", "conflicts: " + "; ".join(notes), changed))


# ------------------------------------------------------------------------------------------------ couplings
def _apply_couplings(st: _State) -> None:
    """The last step of composition: couplings of real faces (:mod:`keyframeface.semantics.couplings`).

    The lids of each side follow the composed gaze pitch unless the description set that side's lids (closed,
    wide, narrowed, winking, drooping, kept, or given as numbers: those win); MouthClose never exceeds JawOpen (a
    pressed-lips description keeps MouthPress / MouthRollLower), and where the description did not set it, it is
    what real captures show at the composed JawOpen (the lips stay together as the jaw starts to open)."""
    v = np.clip(st.values, -1.0, 1.0)  # the pitch of eyeLook channels within range, as the output will have them
    sides = [s for s, names in LID_CHANNELS.items() if not any(st.described[_IDX[n]] for n in names)]
    _, changed = couple_lids(v, sides=sides)
    for name, value in changed.items():
        st.values[_IDX[name]] = value
    if changed:
        st.records.append(_record("", "coupling: the lids follow the vertical gaze (real captures, "
                                  "semantics/couplings.py)", changed))
    _, close = couple_mouth_close(st.values, fill=not st.explicit[_IDX["MouthClose"]])
    if close is not None:
        st.values[_IDX["MouthClose"]] = close
        st.records.append(_record("", "coupling: MouthClose closes the lips against an open jaw: at most JawOpen, "
                                  "and as real captures show it at this JawOpen unless described (real captures, "
                                  "semantics/couplings.py)", {"MouthClose": close}))
