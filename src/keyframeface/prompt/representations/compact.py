"""The ``"compact"`` representation (this project's): only the active channels, ``MouthSmileLeft=0.4; BrowInnerUp=0.3``.

Absent channels are 0; ``neutral`` is a neutral face.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np

from ... import rig
from ..cleaning import FENCE
from ..context import Extracted, ParseContext, is_channel_key
from ..grammar import GrammarSpec
from ..lenient_json import NUMBER
from .base import Representation, format_number

__all__ = ["GRAMMAR", "REPRESENTATION", "SYSTEM_PROMPT", "extract_compact", "format_compact"]

#: System prompt of the "compact" representation (this project's; the release has none).
SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate the ARKit facial parameters for exactly one requested "
    "semantic keyframe. The 52 blendshapes are in [0,1], and the 9 head/eye pose parameters are in [-1,1]. "
    "Return only the non-zero parameters as Name=value pairs separated by semicolons, for example "
    "MouthSmileLeft=0.4; BrowInnerUp=0.3. Parameters you leave out are 0; answer neutral for a neutral face."
)

#: ``Name=value`` pairs of the active channels separated by ``"; "``, or ``neutral``.
GRAMMAR: Final[GrammarSpec] = GrammarSpec(values="pairs", pair_separator="; ", neutral="neutral")


def format_compact(values: np.ndarray, number: int, digits: int) -> str:
    """``Name=value`` pairs of the channels that are not 0 after rounding, in rig.CHANNELS order, or ``neutral``."""
    pairs = [(name, format_number(v, digits)) for name, v in zip(rig.CHANNELS, values, strict=True)]
    active = [f"{name}={v!r}" for name, v in pairs if v != 0.0]
    return GRAMMAR.pair_separator.join(active) if active else GRAMMAR.neutral


_COMPACT_SPLIT = re.compile(r"[;,\n]")
_COMPACT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}")
_NEUTRAL_WORDS = frozenset({"neutral", "none", "neutral face"})


def extract_compact(text: str, ctx: ParseContext) -> Extracted:
    """The ``"compact"`` representation: ``Name=value`` (or ``Name: value``) pairs separated by ``;``, ``,`` or
    newlines; other text is ignored; ``neutral`` alone means all zeros."""
    text = FENCE.sub("\n", text)
    pairs: list[tuple[Any, Any]] = []
    for segment in _COMPACT_SPLIT.split(text):
        item = segment.strip().lstrip("-*• \t").strip()
        if not item:
            continue
        cut = min((p for p in (item.find("="), item.find(":")) if p >= 0), default=-1)
        if cut < 0:
            continue
        name = item[:cut].strip().strip("\"'`").strip()
        value = item[cut + 1 :].strip().strip("\"'`").strip()
        if is_channel_key(name) or (_COMPACT_NAME.fullmatch(name) and NUMBER.fullmatch(value[:64])):
            pairs.append((name, value))
    if not pairs and text.strip().strip(".").strip().lower() not in _NEUTRAL_WORDS:
        raise ctx.fail("no Name=value pairs found in the answer; expected e.g. 'MouthSmileLeft=0.4; BrowInnerUp=0.3' "
                       "or 'neutral'")
    return Extracted(pairs, None, absent_is_zero=True)



REPRESENTATION: Final[Representation] = Representation(
    "compact", SYSTEM_PROMPT, extract_compact, format_compact, GRAMMAR
)
