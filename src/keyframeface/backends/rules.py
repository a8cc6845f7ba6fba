"""The ``rules`` backend: an interpretable, deterministic semantic composer (the first offline default).

Each keyframe description is parsed into facial actions with their intensity, side, direction and mode
(:mod:`keyframeface.semantics`), read with the script's emotion and background as context, and composed into the
61 channels with the previous keyframe carried over where the text says so. Every value can be traced to the
words that produced it: :meth:`RulesBackend.explain`, or the ``explanation`` of each :class:`DirectResult`
(``generate(..., explain=True)`` keeps them in the output's ``meta``).

Conventions (everything it writes follows :mod:`keyframeface.rig`):

* Left/Right are the subject's own side; "camera left" / "screen left" / "the viewer's left" are mirrored.
* HeadYaw > 0 turns toward the subject's right, HeadRoll > 0 tilts toward the subject's right shoulder, HeadPitch
  > 0 looks down (like eye pitch). Magnitudes stay small: a clear turn ~0.25, a nod ~0.2, never beyond +/-0.5.
* Eye rotations are recomputed from the eyeLook channels (capture convention, pitch > 0 = looking down).
* Between keyframes, an explicit "still / remains / keeps" carries the previous state fully; everything not
  mentioned relaxes toward the script's emotion baseline, keeping 30% of its difference from it; blinks are not
  carried (:mod:`keyframeface.semantics.composer` documents the full order of composition).

No model, no randomness, no extra dependencies; well under a millisecond per keyframe on a CPU
(``benchmarks/bench_rules.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ScriptError
from ..script import Script
from ..semantics.composer import compose
from ..semantics.reading import read_description
from .base import Backend, Capabilities, DirectResult, GenerationOptions

__all__ = ["RULES_VERSION", "RulesBackend"]

#: Version of the rule set, recorded in output metadata; bump it when the rules change what they produce.
RULES_VERSION = "2"  # 2: reading layer (casual, technical, idioms, scene text, relative notes)


@dataclass(frozen=True)
class RulesOptions:
    """The rules backend takes no options."""


class RulesBackend(Backend):
    """Description -> 61 values by rules (lexicon, FACS emotion prototypes, negation and carry-over).

    Construction is free and the backend holds no state between calls, so one instance can serve many threads.
    """

    name: ClassVar[str] = "rules"
    capabilities: ClassVar[Capabilities] = Capabilities(explains=True, concurrent=True)
    Options: ClassVar[type | None] = RulesOptions  # declared once: names, defaults, help

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": "keyframeface-rules", "rules_version": RULES_VERSION}

    def generate_values(
        self,
        script: Script,
        index: int,
        *,
        previous: np.ndarray | None,
        options: GenerationOptions,
    ) -> DirectResult:
        """61 values for ``script.keyframes[index]``: (61,) float32 within range, with an explanation.

        ``previous``: the values chosen for keyframe ``index - 1``. When it is ``None`` for a later keyframe,
        the earlier keyframes are composed first, so any keyframe can be asked for alone. ``options`` are
        accepted for the common interface; the rules are deterministic and ignore seed and temperature.
        """
        _check_index(script, index)
        if previous is None and index > 0:
            previous = self._values_up_to(script, index - 1)
        comp = self._compose(script, index, previous)
        return DirectResult(values=comp.values, explanation=list(comp.explanation), coverage=comp.coverage)

    def explain(self, script: Script, index: int, *, previous: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Which phrase of keyframe ``index`` produced which channel values: records
        ``{"phrase", "rule", "channels": {name: value}}`` in the order they were applied."""
        _check_index(script, index)
        if previous is None and index > 0:
            previous = self._values_up_to(script, index - 1)
        return list(self._compose(script, index, previous).explanation)

    # ------------------------------------------------------------------------------------------ internals
    def _compose(self, script: Script, index: int, previous: np.ndarray | None) -> Any:
        kf = script.keyframes[index]
        prev_desc = script.keyframes[index - 1].description if index > 0 else ""
        if previous is not None:
            previous = np.asarray(previous, dtype=np.float32).reshape(-1)
        before = None
        if index >= 2 and read_description(kf.description).needs_history:  # "undo": the keyframe two back
            before = self._values_up_to(script, index - 2)
        try:
            return compose(
                kf.description,
                emotion=script.emotion,
                background=script.background,
                previous=previous,
                previous_description=prev_desc,
                before_previous=before,
            )
        except ValueError as exc:
            raise ScriptError(str(exc), field=f"keyframes[{index}]") from None

    def _values_up_to(self, script: Script, last: int) -> np.ndarray:
        values: np.ndarray | None = None
        for i in range(last + 1):
            values = self._compose(script, i, values).values
        assert values is not None  # last >= 0, so the loop ran
        return values


def _check_index(script: Script, index: int) -> None:
    if not isinstance(script, Script):
        raise ScriptError(f"expected a Script, got {type(script).__name__}")
    if script.needs_planning:
        raise ScriptError("this script has only free text; plan it into keyframes first (keyframeface.plan)")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(script.keyframes):
        raise ScriptError(
            f"keyframe index {index!r} is out of range; the script has {len(script.keyframes)} keyframes"
        )
