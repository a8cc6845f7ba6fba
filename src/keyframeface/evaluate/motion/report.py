"""The motion realism report: real captures vs generated clips on every statistic, with targets.

:func:`motion_report` is what ``keyframeface eval motion`` runs::

    from keyframeface.evaluate.motion.report import motion_report
    report = motion_report("../shared/realdata")          # animates the packaged scripts with the default pipeline
    print(report.to_markdown())

``generated=`` takes animations made elsewhere instead (e.g. an engine under development), and
``animate_options=`` passes keyword arguments to :func:`keyframeface.animate` for the packaged scripts.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

from ..._version import __version__
from ...errors import FormatError, ScriptError
from ...script import Animation, Script
from . import stats as S
from .frechet import FrechetResult, motion_frechet
from .signals import MotionTake, load_real_takes, take_from_animation

__all__ = [
    "MOTION_SCRIPTS_PATH",
    "STATISTICS",
    "MotionReport",
    "Row",
    "Statistic",
    "Target",
    "animate_scripts",
    "default_real_dir",
    "load_motion_scripts",
    "motion_report",
]

#: The packaged scripts the report animates.
MOTION_SCRIPTS_PATH: Final[Path] = Path(__file__).resolve().parent.parent / "data" / "motion_scripts.json"
_SCRIPTS_FORMAT: Final[str] = "keyframeface.motion_scripts"
_MAX_SCRIPTS_BYTES: Final[int] = 4 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A pass condition on a value: ``low <= value <= high`` (either bound may be None); ``text`` as shown."""

    text: str
    low: float | None = None
    high: float | None = None

    def passed(self, value: float) -> bool | None:
        """True / False, or None when the value is nan (nothing measured: not a pass)."""
        if math.isnan(value):
            return None
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Statistic:
    """One row of the report: ``key`` (JSON name), ``label`` (table text), ``compute`` (takes -> Measured),
    ``target`` (None: shown for information, no pass/fail)."""

    key: str
    label: str
    compute: Callable[[Sequence[MotionTake]], S.Measured]
    target: Target | None = None


#: Every statistic of the report in table order; targets are those of issue 12's "Done means".
STATISTICS: Final[tuple[Statistic, ...]] = (
    Statistic("frozen_share", "frames of the non-eye face exactly frozen (runs >= 0.5 s), %", S.frozen_share,
              Target("<= 5 %", high=5.0)),
    Statistic("onset_ms", "expression onset 10-90 %, median, ms", S.onset_time, Target("120-300 ms", 120.0, 300.0)),
    Statistic("smile_onset_ms", "smile onset 10-90 %, median, ms", partial(S.onset_time, channels=S.SMILE)),
    Statistic("peak_velocity_ratio", "onset peak speed / mean speed, median", S.peak_velocity_ratio),
    Statistic("peak_time_share", "time of peak speed, share of the onset, mean +- sd", S.peak_time_share),
    Statistic("overshoot", "overshoot on held onsets, median, %", S.overshoot),
    Statistic("overshoot_above_5", "held onsets overshooting > 5 %, %", S.overshoot_share),
    Statistic("gaze_peak_velocity", "gaze shifts >= 0.1: peak speed, median, units/s", S.gaze_shift_velocity,
              Target(">= 2.5 /s", low=2.5)),
    Statistic("gaze_shift_ms", "gaze shifts >= 0.1: duration, median, ms", S.gaze_shift_duration),
    Statistic("saccade_amplitude", "saccade amplitude (>= 0.03), mean +- sd", S.saccade_amplitude),
    Statistic("blink_rate", "blinks per minute", S.blink_rate),
    Statistic("blink_ms", "blink duration (width at 10 %), mean, ms", S.blink_duration,
              Target("200-320 ms", 200.0, 320.0)),
    Statistic("blink_interval_cv", "inter-blink interval CV", S.blink_interval_cv, Target(">= 0.7", low=0.7)),
    Statistic("partial_blinks", "partial blinks (peak < 0.8), %", S.partial_blink_share),
    Statistic("blink_coincidence", "blinks coinciding across clips (+-0.1 s), x chance", S.blink_coincidence,
              Target("<= 2x chance", high=2.0)),
    Statistic("blink_eye_pitch", "eye pitch change during blinks (+ = down)", S.blink_eye_pitch),
    Statistic("lid_gaze_r", "lids follow vertical gaze: r(eye pitch, lid) outside blinks", S.lid_gaze_correlation),
    Statistic("quiet_std_brows", "quiet-window std, brows", S.quiet_std, Target(">= 0.003", low=0.003)),
    Statistic("quiet_std_mouth", "quiet-window std, mouth", partial(S.quiet_std, channels=S.MOUTH),
              Target(">= 0.003", low=0.003)),
    Statistic("head_std_yaw", "head std, yaw", S.head_std),
    Statistic("head_std_pitch", "head std, pitch", partial(S.head_std, axis="HeadPitch")),
    Statistic("head_std_roll", "head std, roll", partial(S.head_std, axis="HeadRoll")),
    Statistic("head_power_above_1hz", "head motion power above 1 Hz, %", S.head_high_frequency_share),
    Statistic("jaw_lip_r", "JawOpen -> MouthClose coupling, r", S.jaw_lip_coupling),
    Statistic("symmetric_smile", "smiling frames with left = right exactly, %", S.symmetric_smile_share,
              Target("<= 20 %", high=20.0)),
)
FRECHET_TARGET: Final[Target] = Target("<= 1.5x floor", high=1.5)


@dataclass(frozen=True)
class Row:
    """One statistic measured on both sides: ``passed`` is None without a target or when nothing was measured."""

    key: str
    label: str
    real: S.Measured
    generated: S.Measured
    target: str
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "real": self.real.to_dict(),
                "generated": self.generated.to_dict(), "target": self.target, "passed": self.passed}


@dataclass(frozen=True)
class MotionReport:
    """The report: ``rows`` (one per :data:`STATISTICS` entry, then the Fréchet row), ``frechet``, ``meta``
    (real folder, takes, scripts, backend, seed, package version, seconds). ``real_takes`` and
    ``generated_takes`` keep the measured takes for plots; they are not serialised."""

    rows: tuple[Row, ...]
    frechet: FrechetResult
    meta: Mapping[str, Any]
    real_takes: tuple[MotionTake, ...] = field(default=(), repr=False)
    generated_takes: tuple[MotionTake, ...] = field(default=(), repr=False)

    def row(self, key: str) -> Row:
        """The row named ``key``; raises KeyError."""
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.rows if r.passed)

    @property
    def targeted(self) -> int:
        return sum(1 for r in self.rows if r.target)

    def to_dict(self) -> dict[str, Any]:
        return {"format": "keyframeface.motion_report", "version": 1, "meta": dict(self.meta),
                "rows": [r.to_dict() for r in self.rows], "frechet": self.frechet.to_dict(),
                "passed": self.passed, "targeted": self.targeted}

    def to_markdown(self) -> str:
        m = self.meta
        lines = [
            f"Motion realism: {m.get('generated_clips')} generated clips ({m.get('generated_s', 0):.0f} s, backend "
            f"{m.get('backend')}, seed {m.get('seed') if m.get('seed') is not None else 'per clip'}) vs "
            f"{m.get('real_takes')} real takes ({m.get('real_s', 0):.0f} s) from {m.get('real_dir')}",
            "",
            "| statistic | real captures | generated | target | pass |",
            "|---|---|---|---|---|",
        ]
        for r in self.rows:
            mark = "" if r.passed is None and not r.target else ("yes" if r.passed else "NO")
            lines.append(f"| {r.label} | {r.real.text} | {r.generated.text} | {r.target or '-'} | {mark or '-'} |")
        lines += ["", f"{self.passed} of {self.targeted} targets met."]
        return "\n".join(lines) + "\n"


def default_real_dir() -> Path | None:
    """``$KEYFRAMEFACE_SHARED/realdata`` or ``../shared/realdata`` beside the checkout, if it exists."""
    from ...shared_data import shared_dir

    root = shared_dir()
    if root is None or not (root / "realdata").is_dir():
        return None
    return root / "realdata"


def load_motion_scripts(path: str | os.PathLike[str] | None = None) -> list[tuple[str, Script]]:
    """(name, Script) pairs from a motion scripts file (default: the packaged one): ``{"format":
    "keyframeface.motion_scripts", "scripts": [{"name": ..., "script": {script fields}}, ...]}``; a plain JSON
    list of scripts is accepted too. Raises :class:`FormatError` for anything else."""
    from ...script import read_json_file

    p = Path(path) if path is not None else MOTION_SCRIPTS_PATH
    data = read_json_file(p, max_bytes=_MAX_SCRIPTS_BYTES)
    items = data.get("scripts") if isinstance(data, dict) else data
    if isinstance(data, dict) and data.get("format") not in (None, _SCRIPTS_FORMAT):
        raise FormatError(f"{p}: expected format {_SCRIPTS_FORMAT!r}, got {str(data.get('format'))[:40]!r}")
    if not isinstance(items, list) or not items:
        raise FormatError(f"{p}: expected a non-empty list of scripts under \"scripts\"")
    out = []
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise FormatError(f"{p}: script {k} is not an object")
        body = item.get("script", item)
        name = str(item.get("name") or f"script_{k}")
        try:
            out.append((name, Script.from_dict(body)))
        except ScriptError as exc:
            raise FormatError(f"{p}: script {name!r}: {exc}") from None
    return out


def animate_scripts(
    scripts: Sequence[tuple[str, Script]],
    *,
    backend: str | None = "bundled",
    seed: int | None = None,
    animate_options: Mapping[str, Any] | None = None,
) -> list[tuple[str, Animation]]:
    """Generate keyframes with ``backend`` and animate them with :func:`keyframeface.animate`, each script with
    the engine's own seed (``seed=None``: the seed argument is not passed, so the engine chooses it) unless
    ``seed`` overrides it. ``animate_options``: further keyword arguments for ``animate``."""
    from ...animate import animate
    from ...generate import generate

    options = dict(animate_options or {})
    if seed is not None:
        options["seed"] = seed
    out = []
    for name, script in scripts:
        keys = generate(script, backend=backend)
        out.append((name, animate(keys, **options)))
    return out


def _sha256(path: Path) -> str:
    from ...io.files import sha256_file

    return sha256_file(path)


def motion_report(
    real: str | os.PathLike[str] | Sequence[MotionTake] | None = None,
    *,
    scripts: str | os.PathLike[str] | None = None,
    generated: Sequence[Animation | tuple[str, Animation]] | None = None,
    backend: str | None = "bundled",
    seed: int | None = None,
    animate_options: Mapping[str, Any] | None = None,
) -> MotionReport:
    """Measure generated motion against real captures on every statistic of :data:`STATISTICS` and the Fréchet
    distance.

    ``real``: a folder of Live Link Face CSVs (default: :func:`default_real_dir`) or takes already loaded.
    ``generated``: animations (or (name, animation) pairs) to measure; default: the scripts of ``scripts`` (default
    the packaged :data:`MOTION_SCRIPTS_PATH`) generated with ``backend`` and animated (:func:`animate_scripts`
    with ``seed`` and ``animate_options``). Raises :class:`FormatError` when no real captures are found.
    """
    start = time.perf_counter()
    if real is None:
        real = default_real_dir()
        if real is None:
            raise FormatError("no real captures: pass a folder of Live Link Face CSVs (--real DIR) or set "
                              "KEYFRAMEFACE_SHARED to a folder holding realdata/")
    if isinstance(real, (str, os.PathLike)):
        real_dir: str = str(real)
        real_takes = load_real_takes(real)
    else:
        real_dir, real_takes = "(given takes)", list(real)
    if not real_takes:
        raise FormatError("no real takes to compare with")
    meta: dict[str, Any] = {"package_version": __version__, "real_dir": real_dir}
    if generated is None:
        script_path = Path(scripts) if scripts is not None else MOTION_SCRIPTS_PATH
        named = animate_scripts(load_motion_scripts(script_path), backend=backend, seed=seed,
                                animate_options=animate_options)
        meta.update({"scripts": str(script_path) if scripts is not None else "packaged",
                     "scripts_sha256": _sha256(script_path), "backend": backend, "seed": seed,
                     "animate_options": dict(animate_options or {})})
    else:
        named = [g if isinstance(g, tuple) else (f"clip_{k}", g) for k, g in enumerate(generated)]
        meta.update({"scripts": "(given animations)", "backend": None, "seed": None})
    gen_takes = [take_from_animation(anim, name=name) for name, anim in named]
    seeds = [anim.meta.get("seed") for _, anim in named]
    meta["clip_seeds"] = seeds
    rows = []
    for stat in STATISTICS:
        r, g = stat.compute(real_takes), stat.compute(gen_takes)
        rows.append(Row(stat.key, stat.label, r, g, stat.target.text if stat.target else "",
                        stat.target.passed(g.value) if stat.target else None))
    fd = motion_frechet(real_takes, gen_takes)
    rows.append(Row("frechet_ratio", "Frechet distance on 1 s windows / real-vs-real floor",
                    S.Measured(1.0, fd.real_windows, f"1.0x (floor {fd.floor:.2f})"),
                    S.Measured(fd.ratio, fd.generated_windows,
                               "n/a" if math.isnan(fd.ratio) else f"{fd.ratio:.1f}x ({fd.generated:.2f})"),
                    FRECHET_TARGET.text, FRECHET_TARGET.passed(fd.ratio)))
    meta.update({
        "real_takes": len(real_takes),
        "real_s": round(sum(t.duration_s for t in real_takes), 2),
        "generated_clips": len(gen_takes),
        "generated_s": round(sum(t.duration_s for t in gen_takes), 2),
        "seconds": round(time.perf_counter() - start, 2),
    })
    return MotionReport(tuple(rows), fd, meta, tuple(real_takes), tuple(gen_takes))


def write_motion_report(report: MotionReport, path: str | os.PathLike[str]) -> Path:
    """Write ``report.to_dict()`` as JSON, atomically."""
    from ...io.atomic import atomic_write_text

    target = Path(path)
    atomic_write_text(target, json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n")
    return target
