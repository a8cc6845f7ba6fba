"""Values -> words -> values: how much of a keyframe survives being described and generated back.

:func:`roundtrip` annotates keyframes (:func:`keyframeface.semantics.annotate.annotate`), generates values from the
annotated text with a backend (the deterministic ``rules`` composer by default) and compares them with the
originals: the mean absolute error per rig group (:data:`keyframeface.rig.GROUPS`) and overall. It measures the
annotator's calibration and the composer's coverage together; the evaluation package can reuse :func:`region_mae`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import rig
from ..errors import ScriptError
from ..script import Keyframes

__all__ = ["RoundTripReport", "region_mae", "roundtrip"]


def region_mae(predicted: Any, target: Any, *, groups: Mapping[str, Iterable[str]] | None = None) -> dict[str, float]:
    """Mean absolute error per channel group between two (K, 61) (or (61,)) value arrays in rig.CHANNELS order.

    ``groups``: name -> channel names (default :data:`rig.GROUPS`). Returns ``{group: mae, ..., "all": mae}``
    (``"all"`` over every channel). Raises :class:`ScriptError` on mismatched shapes.
    """
    p = np.asarray(predicted, dtype=np.float64).reshape(-1, rig.NUM_CHANNELS) if np.size(predicted) else None
    t = np.asarray(target, dtype=np.float64).reshape(-1, rig.NUM_CHANNELS) if np.size(target) else None
    if p is None or t is None or p.shape != t.shape:
        raise ScriptError(f"expected two (K, {rig.NUM_CHANNELS}) arrays of the same shape, got "
                          f"{np.shape(predicted)} and {np.shape(target)}")
    err = np.abs(p - t)
    out: dict[str, float] = {}
    for name, channels in (groups or rig.GROUPS).items():
        cols = [rig.CHANNEL_INDEX[rig.canonical_name(c)] for c in channels]
        out[name] = float(err[:, cols].mean())
    out["all"] = float(err.mean())
    return out


@dataclass(frozen=True)
class RoundTripReport:
    """Round-trip errors: ``mae`` per rig group and ``"all"``; ``baseline`` the same for an all-neutral answer
    (what the words must beat); counts of ``scripts`` and ``keyframes``; ``backend`` and ``seed`` used."""

    mae: Mapping[str, float]
    baseline: Mapping[str, float]
    scripts: int
    keyframes: int
    backend: str
    seed: int
    context: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "mae": {k: round(v, 4) for k, v in self.mae.items()},
            "neutral_baseline_mae": {k: round(v, 4) for k, v in self.baseline.items()},
            "scripts": self.scripts,
            "keyframes": self.keyframes,
            "backend": self.backend,
            "seed": self.seed,
            "context": self.context,
        }

    def to_markdown(self) -> str:
        lines = [
            f"Round trip over {self.keyframes} keyframes in {self.scripts} scripts (backend {self.backend}, seed "
            f"{self.seed}, {'with' if self.context else 'without'} background and emotion): mean absolute error per "
            "region, and for an all-neutral face.",
            "",
            "| region | round trip MAE | neutral MAE |",
            "|---|---|---|",
        ]
        for name, value in self.mae.items():
            lines.append(f"| {name} | {value:.4f} | {self.baseline.get(name, float('nan')):.4f} |")
        return "\n".join(lines) + "\n"


def roundtrip(items: Iterable[Keyframes], *, backend: Any = "rules", seed: int = 0, max_facts: int = 6,
              annotated: bool = False, context: bool = True) -> RoundTripReport:
    """Annotate each :class:`Keyframes` (all keyframes with values), generate values from the text with
    ``backend`` and compare. ``annotated=True`` uses the descriptions already there instead of annotating.
    ``context=False`` blanks the background and emotion before generating, so only the keyframe descriptions
    count (the ``rules`` composer adds an emotion baseline on top of what the descriptions say).

    Returns a :class:`RoundTripReport`; raises :class:`ScriptError` for an empty input or keyframes without values.
    """
    from ..generate import generate
    from .annotate import annotate

    targets: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    scripts = 0
    for kfs in items:
        if not isinstance(kfs, Keyframes):
            raise ScriptError(f"roundtrip() takes Keyframes, got {type(kfs).__name__}")
        described = kfs if annotated else annotate(kfs, seed=seed, max_facts=max_facts)
        if not context:
            described = replace(described, background="", emotion="")
        out = generate(described.script(), backend=backend, seed=seed)
        targets.append(kfs.array())
        preds.append(out.array())
        scripts += 1
    if not targets:
        raise ScriptError("roundtrip() needs at least one Keyframes with values")
    target = np.concatenate(targets)
    pred = np.concatenate(preds)
    name = backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)
    return RoundTripReport(region_mae(pred, target), region_mae(np.zeros_like(target), target), scripts,
                           int(target.shape[0]), str(name), seed, context)
