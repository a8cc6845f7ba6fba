"""Real-vs-generated overlay plots for the motion report, drawn with Pillow (the ``[render]`` extra).

:func:`write_motion_plots` writes five PNGs: ``blinks.png`` (blinks aligned on their peak), ``onset.png``
(expression onsets, normalised to their amplitude, aligned on the 10 % crossing), ``gaze_shift.png`` (gaze shifts
>= 0.1, displacement along the shift, normalised), ``head.png`` (10 s of head yaw/pitch/roll, means removed) and
``held.png`` (a held expression: the most engaged brow or mouth channel over a quiet stretch, mean removed). Real
captures are blue, generated clips orange (Okabe-Ito colours, as in :mod:`keyframeface.render.curves`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from ... import rig
from ...render.base import require_package
from ...render.curves import PALETTE
from ...render.raster import load_font, write_png
from . import stats as S
from .events import blinks, gaze_shifts, gaze_signal, movements
from .report import MotionReport
from .signals import MotionTake

__all__ = ["Curve", "overlay_plot", "write_motion_plots"]

REAL_COLOUR: Final[str] = PALETTE[0]
GENERATED_COLOUR: Final[str] = PALETTE[1]
_MAX_EVENTS: Final[int] = 12


@dataclass(frozen=True)
class Curve:
    """One line: ``t`` (N,) seconds, ``y`` (N,) values, ``colour``, ``width`` in pixels, ``label`` for the
    legend (None: not listed)."""

    t: np.ndarray
    y: np.ndarray
    colour: str
    width: int = 1
    label: str | None = None


def overlay_plot(curves: Sequence[Curve], *, title: str, ylabel: str = "", width: int = 900,
                 height: int = 420) -> np.ndarray:
    """Draw ``curves`` on shared axes: returns (height, width, 3) uint8. An empty list draws empty axes."""
    require_package("PIL", purpose="motion plots")
    from PIL import Image, ImageDraw

    ss = 2
    W, H = width * ss, height * ss
    img = Image.new("RGB", (W, H), "#ffffff")
    draw = ImageDraw.Draw(img)
    font, small = load_font(13 * ss), load_font(11 * ss)
    left, right, top, bottom = 64 * ss, W - 150 * ss, 40 * ss, H - 44 * ss
    ts = [c.t for c in curves if len(c.t)]
    ys = [c.y for c in curves if len(c.y)]
    t0 = min((float(t.min()) for t in ts), default=0.0)
    t1 = max((float(t.max()) for t in ts), default=1.0)
    lo = min((float(y.min()) for y in ys), default=0.0)
    hi = max((float(y.max()) for y in ys), default=1.0)
    if t1 - t0 < 1e-6:
        t1 = t0 + 1.0
    pad = 0.05 * max(hi - lo, 1e-3)
    lo, hi = lo - pad, hi + pad

    def px(t: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        x = left + (right - left) * (t - t0) / (t1 - t0)
        v = bottom - (bottom - top) * (y - lo) / (hi - lo)
        return list(zip(x.tolist(), v.tolist(), strict=True))

    for k in range(6):  # horizontal grid with labels
        v = lo + (hi - lo) * k / 5
        yv = bottom - (bottom - top) * k / 5
        draw.line([(left, yv), (right, yv)], fill="#e6e9ed", width=ss)
        draw.text((left - 6 * ss, yv), f"{v:.3g}", fill="#444c56", font=small, anchor="rm")
    for k in range(6):
        tv = t0 + (t1 - t0) * k / 5
        xv = left + (right - left) * k / 5
        draw.line([(xv, top), (xv, bottom)], fill="#f0f2f4", width=ss)
        draw.text((xv, bottom + 6 * ss), f"{tv:.2f}", fill="#444c56", font=small, anchor="mt")
    draw.rectangle((left, top, right, bottom), outline="#9aa4ae", width=ss)
    draw.text(((left + right) / 2, H - 6 * ss), "time (s)", fill="#444c56", font=small, anchor="md")
    draw.text((left, 10 * ss), title[:120], fill="#1f2328", font=font)
    if ylabel:
        draw.text((6 * ss, top - 16 * ss), ylabel[:40], fill="#444c56", font=small)
    for c in curves:
        if len(c.t) >= 2:
            draw.line(px(np.asarray(c.t, float), np.asarray(c.y, float)), fill=c.colour, width=c.width * ss,
                      joint="curve")
    ly = top + 8 * ss
    for c in curves:
        if c.label:
            draw.line([(right + 12 * ss, ly), (right + 30 * ss, ly)], fill=c.colour, width=3 * ss)
            draw.text((right + 36 * ss, ly), c.label[:18], fill="#1f2328", font=small, anchor="lm")
            ly += 20 * ss
    return np.asarray(img.reduce(ss), dtype=np.uint8)


def _segment(take: MotionTake, x: np.ndarray, centre: float, before_s: float, after_s: float,
             ) -> tuple[np.ndarray, np.ndarray] | None:
    """Samples of x from centre - before_s to centre + after_s (centre a fractional index), times relative to it."""
    a = math.floor(centre - before_s * take.fps)
    b = math.ceil(centre + after_s * take.fps)
    if a < 0 or b >= take.num_frames or not take.valid[a : b + 1].all():
        return None
    idx = np.arange(a, b + 1)
    return (idx - centre) / take.fps, x[idx]


def _with_mean(curves: list[Curve], segs: list[tuple[np.ndarray, np.ndarray]], colour: str, label: str) -> None:
    """Thin lines for each event, then their mean (on the first event's time grid) thick and labelled."""
    for t, y in segs[:_MAX_EVENTS]:
        curves.append(Curve(t, y, colour, 1))
    if segs:
        grid = segs[0][0]
        mean = np.mean([np.interp(grid, t, y) for t, y in segs], axis=0)
        curves.append(Curve(grid, mean, colour, 3, f"{label} (n={len(segs)})"))


def _blink_segments(takes: Sequence[MotionTake]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for take in takes:
        lid = take.mean_of(("EyeBlinkLeft", "EyeBlinkRight"))
        for b in blinks(take):
            seg = _segment(take, lid, float(b.index), 0.3, 0.5)
            if seg is not None:
                out.append(seg)
    return out


def _onset_segments(takes: Sequence[MotionTake]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for channels in (S.SMILE, tuple(c for c in rig.BLENDSHAPES if c.startswith(("Brow", "Jaw", "Mouth")))):
        for take in takes:
            for c in channels:
                x = take.channel(c)
                for m in movements(take, c):
                    seg = _segment(take, x, m.t10_s * take.fps, 0.3, 1.0)
                    if seg is not None:
                        out.append((seg[0], (seg[1] - x[m.start]) / m.amplitude))
        if out:
            break
    return out


def _gaze_segments(takes: Sequence[MotionTake]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for take in takes:
        g = gaze_signal(take)
        for s in gaze_shifts(take):
            if s.amplitude < S.GAZE_SHIFT_MIN:
                continue
            direction = (g[s.stop] - g[s.start]) / s.amplitude
            proj = (g - g[s.start]) @ direction / s.amplitude
            seg = _segment(take, proj, float(s.start), 0.2, 0.6)
            if seg is not None:
                out.append(seg)
    return out


def _head_curves(take: MotionTake | None, colour: str, label: str, span_s: float = 10.0) -> list[Curve]:
    if take is None:
        return []
    n = min(take.num_frames, int(span_s * take.fps))
    t = np.arange(n) / take.fps
    curves = []
    for k, axis in enumerate(S.HEAD):
        y = take.channel(axis)[:n]
        curves.append(Curve(t, y - y.mean(), colour, 2 if k == 0 else 1, f"{label} {axis[4:].lower()}"))
    return curves


def _held(takes: Sequence[MotionTake], colour: str, label: str, span_s: float = 2.0) -> list[Curve]:
    """The most engaged brow/mouth channel over the first quiet stretch of span_s (mean removed)."""
    idx = [rig.CHANNEL_INDEX[c] for c in S.BROWS + S.MOUTH]
    for take in takes:
        n = int(span_s * take.fps)
        for a in range(0, take.num_frames - n + 1, n // 2):
            if not take.valid[a : a + n].all():
                continue
            x = take.values[a : a + n][:, idx]
            if float((x.max(axis=0) - x.min(axis=0)).max()) > S.QUIET_RANGE or float(x.mean(axis=0).max()) < 0.1:
                continue
            k = int(np.argmax(x.mean(axis=0)))
            name = (S.BROWS + S.MOUTH)[k]
            y = x[:, k]
            return [Curve(np.arange(n) / take.fps, y - y.mean(), colour, 2, f"{label} {name}"[:18])]
    return []


def write_motion_plots(report: MotionReport, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the five overlay PNGs of ``report`` (its real and generated takes) into ``folder`` (created);
    returns their paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    real, gen = report.real_takes, report.generated_takes
    figures: list[tuple[str, list[Curve], str, str]] = []

    curves: list[Curve] = []
    _with_mean(curves, _blink_segments(real), REAL_COLOUR, "real")
    _with_mean(curves, _blink_segments(gen), GENERATED_COLOUR, "generated")
    figures.append(("blinks.png", curves, "Blinks aligned on their peak (mean EyeBlink)", "lid closure"))

    curves = []
    _with_mean(curves, _onset_segments(real), REAL_COLOUR, "real")
    _with_mean(curves, _onset_segments(gen), GENERATED_COLOUR, "generated")
    figures.append(("onset.png", curves, "Expression onsets (smile when any), aligned at 10 %, normalised",
                    "share of amplitude"))

    curves = []
    _with_mean(curves, _gaze_segments(real), REAL_COLOUR, "real")
    _with_mean(curves, _gaze_segments(gen), GENERATED_COLOUR, "generated")
    figures.append(("gaze_shift.png", curves, "Gaze shifts >= 0.1, displacement along the shift, normalised",
                    "share of amplitude"))

    moving = [t for t in real if float(t.values[:, [rig.CHANNEL_INDEX[a] for a in S.HEAD]].std(axis=0).max())
              >= S.HEAD_MOVES_STD]
    curves = _head_curves(moving[0] if moving else None, REAL_COLOUR, "real")
    curves += _head_curves(max(gen, key=lambda t: t.num_frames) if gen else None, GENERATED_COLOUR, "gen")
    figures.append(("head.png", curves, "Head rotation, first 10 s, means removed", "rotation units"))

    curves = _held(real, REAL_COLOUR, "real") + _held(gen, GENERATED_COLOUR, "gen")
    figures.append(("held.png", curves, "A held expression: the most engaged brow/mouth channel, mean removed",
                    "value - mean"))

    written = []
    for name, cs, title, ylabel in figures:
        written.append(write_png(overlay_plot(cs, title=title, ylabel=ylabel), out / name))
    return written
