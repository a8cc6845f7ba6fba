"""The answer text a model should write: training targets in any representation (:func:`format_answer`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import rig
from ..errors import ScriptError
from .ordinals import check_number
from .representations import get_representation

__all__ = ["format_answer"]


def format_answer(values: np.ndarray | Sequence[float], index: int, *, representation: str = "json",
                  digits: int = 3) -> str:
    """The answer text a model should write for keyframe ``index`` (0-based) with ``values`` ((61,) in CHANNELS
    order), e.g. a training target: ``{"Keyframe_one":{...61 keys...}}`` for ``"json"`` (compact separators, as
    the release's answers), ``MouthSmileLeft=0.4; BrowInnerUp=0.3`` for ``"compact"``, ``Regions:`` lines then
    ``Values: ...`` for ``"semantic"``. Values are rounded to
    ``digits`` decimals and written as given (clamp first with :func:`rig.clamp` if they may leave their range).
    :func:`parse_values` reads the text back.
    """
    rep = get_representation(representation)
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise ScriptError(f"expected {rig.NUM_CHANNELS} numbers, got {type(values).__name__}") from None
    if arr.shape[0] != rig.NUM_CHANNELS or not np.isfinite(arr).all():
        raise ScriptError(f"expected {rig.NUM_CHANNELS} finite values, got shape {arr.shape}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ScriptError(f"index must be a 0-based int, got {index!r}", field="index")
    number = check_number(int(index) + 1)
    return rep.format(arr, number, digits)
