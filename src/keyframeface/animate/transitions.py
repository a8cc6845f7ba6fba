"""Per-group transitions: each channel group moves between keyframes with its own speed, start and profile.

Between keyframe ``k - 1`` (held until ``times[k-1] + holds[k-1]``) and keyframe ``k`` (reached at ``times[k]``)
each group starts at the beginning of that window plus its stagger (:data:`STAGGER_S`) and moves in its own time:

* **gaze and eye rotations**: a saccade (main sequence fitted from real takes, :mod:`keyframeface.models.motion`):
  peak velocity ``v0 + v1 x amplitude`` in eye-rotation units per second, a minimum-jerk profile whose duration
  gives that peak (``1.875 x amplitude / peak``);
* **every other group**: the fitted Beta velocity profile of real onsets (its peak early in the movement), lasting
  so that its 10-90 % time is the group's fitted median 10-90 % duration, varied per transition by a
  seeded log-normal factor (sigma :data:`DURATION_SIGMA`); then an overshoot of the change drawn from the fitted
  distribution, settling back before the keyframe time (the movement starts inside the previous hold when that
  is what leaves the overshoot room to settle; never before the previous keyframe's time).

A movement that does not fit its window is compressed to end at ``times[k]``, so every group reaches keyframe
``k``'s values exactly at ``times[k]``; before the first keyframe the first values hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from .. import rig

__all__ = ["DURATION_SIGMA", "STAGGER_S", "group_transitions"]

#: Start of each group after the window opens, seconds: the eyes lead and the head lags (E. G. Freedman 2008,
#: "Coordination of the eyes and head during visual orienting", Exp. Brain Res. 190:369-387: gaze shifts start
#: with the eyes; J. Osipa, *Stop Staring*: brows and lids lead the mouth). Hand-set within a few frames.
STAGGER_S: Final[Mapping[str, float]] = {
    "gaze": 0.0, "eye_rotation": 0.0, "eyes": 0.03, "brows": 0.03, "nose": 0.05, "cheeks": 0.07,
    "mouth": 0.07, "jaw": 0.07, "tongue": 0.07, "head": 0.12,
}  # fmt: skip
#: Per-transition variation of the group durations (log-normal sigma), so no two transitions are identical.
DURATION_SIGMA: Final[float] = 0.25
#: An overshoot (a bump of 1.2 x the movement's duration starting at 0.6 of it) has settled 1.8 movement durations
#: after the movement starts.
_SETTLED: Final[float] = 1.8
#: Groups without their own fitted duration borrow another's; the head is slower (about twice the face: head
#: turns last 0.3-1 s, Freedman 2008), the lids follow the brows.
_BORROW: Final[Mapping[str, tuple[str, float]]] = {
    "eyes": ("brows", 0.8), "tongue": ("mouth", 1.0), "head": ("all", 2.0),
}  # fmt: skip


def _template(onsets: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, float]:
    """(u grid (G,) in [0, 1], monotone position (G,) from 0 to 1, share of the movement between its 10 % and
    90 % crossings): the fitted Beta(a, b) velocity profile integrated (peak early, as in real onsets)."""
    beta = onsets["velocity_beta"]
    a, b = float(beta["a"]), float(beta["b"])
    u = np.linspace(0.0, 1.0, 257)
    mid = 0.5 * (u[1:] + u[:-1])
    pdf = mid ** (a - 1.0) * (1.0 - mid) ** (b - 1.0)
    pos = np.concatenate([[0.0], np.cumsum(pdf)])
    pos /= pos[-1]
    span = float(np.interp(0.9, pos, u) - np.interp(0.1, pos, u))
    return u, pos, span


def _d1090(onsets: Mapping[str, Any], group: str) -> float:
    table = onsets["duration_1090"]
    if group in table:
        return float(table[group]["median_s"])
    source, factor = _BORROW.get(group, ("all", 1.0))
    return float(table.get(source, table["all"])["median_s"]) * factor


def _overshoot_bump(tau: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Compact bump, 0 at tau <= 0 and tau >= length, peak 1 at length / 3."""
    x = np.clip(tau / length, 0.0, 1.0)
    return np.asarray(6.75 * x * (1.0 - x) ** 2)


def group_transitions(
    times_s: np.ndarray,
    holds_s: np.ndarray,
    values: np.ndarray,
    t: np.ndarray,
    *,
    model: Mapping[str, Any],
    rng: np.random.Generator,
    overshoot: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Dense curves (T, 61) float32 at ``t`` (T,) through keyframes ``values`` (K, 61) at ``times_s`` (K,).

    ``holds_s``: (K,) seconds each pose is held before the window of the next transition opens. ``model``: the
    motion parameters (``load_motion()``). Returns (frames, a summary of the median group durations used).
    """
    x = np.asarray(times_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    tt = np.asarray(t, dtype=np.float64)
    k = x.shape[0]
    out = np.empty((tt.shape[0], rig.NUM_CHANNELS), dtype=np.float32)
    out[:] = v[0].astype(np.float32)
    if k == 1 or tt.shape[0] == 0:
        return out, {}
    u_grid, pos, span = _template(model["onsets"])
    over_q = np.asarray(model["onsets"]["overshoot_quantiles"], dtype=np.float64)
    sac = model["saccades"]
    v0, v1 = float(sac["peak_velocity"]["intercept"]), float(sac["peak_velocity"]["per_unit"])
    w0 = x[:-1] + np.asarray(holds_s, dtype=np.float64)[:-1]  # window opens (K-1,)
    w1 = x[1:]
    room = np.maximum(w1 - w0, 1e-3)
    rot = rig.eye_rotations_from_look(v.astype(np.float32)).astype(np.float64)[:, [0, 1]]  # left eye yaw, pitch
    gaze_amp = np.linalg.norm(np.diff(rot, axis=0), axis=1)
    summary: dict[str, Any] = {}
    # Searchsorted once per group over the movement starts; segment j goes from values[j] to values[j + 1].
    for group, names in rig.GROUPS.items():
        cols = np.array([rig.CHANNEL_INDEX[n] for n in names])
        stagger = STAGGER_S.get(group, 0.05)
        if group in ("gaze", "eye_rotation"):
            peak = v0 + v1 * gaze_amp
            total = np.clip(1.875 * gaze_amp / np.maximum(peak, 1e-3), 1.0 / 120.0, 0.4)
        else:
            d = _d1090(model["onsets"], group) * np.exp(rng.normal(0.0, DURATION_SIGMA, k - 1))
            total = d / span  # the whole movement, from its fitted 10-90 % time
        total = np.minimum(total, room)
        start = np.minimum(w0 + stagger, w1 - total)
        bumps = overshoot and group not in ("gaze", "eye_rotation", "eyes")
        if bumps:
            amount = np.interp(rng.uniform(size=k - 1), np.linspace(0, 1, over_q.shape[0]), over_q)
            amount = np.clip(amount, 0.0, 0.3)
            # the overshoot settles by 1.8 x total after the start: where the window is too short, the movement
            # starts earlier, inside the previous pose's hold (never before the previous keyframe's time)
            early = np.minimum(w0 + stagger, w1 - _SETTLED * total)
            fits = (early >= x[:-1] + 1e-6) & (amount > 0.0)
            start = np.where(fits, early, start)
            amount = np.where(fits, amount, 0.0)
        summary[group] = round(float(np.median(total)), 4)
        seg = np.clip(np.searchsorted(start, tt, side="right") - 1, 0, k - 2)
        u = np.clip((tt - start[seg]) / total[seg], 0.0, 1.0)
        if group in ("gaze", "eye_rotation"):
            p = u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)  # minimum jerk (Flash & Hogan 1985)
        else:
            p = np.interp(u, u_grid, pos)
        before = tt < start[0]
        p = np.where(before, 0.0, p)
        vg = v[:, cols].astype(np.float32)
        a = vg[seg]
        delta = vg[seg + 1] - a
        curve = a + delta * p.astype(np.float32)[:, None]
        if bumps:
            bump_start = start + 0.6 * total
            bump = _overshoot_bump(tt - bump_start[seg], (_SETTLED - 0.6) * total[seg]) * amount[seg]
            curve += delta * (bump * ~before).astype(np.float32)[:, None]
        # after the last keyframe (and at it) the last values, exactly
        end = tt >= x[-1]
        curve[end] = vg[-1]
        out[:, cols] = curve
    return out, {"durations_s": summary}
