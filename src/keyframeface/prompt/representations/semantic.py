"""The ``"semantic"`` representation (this project's): the face in words first, then the values.

The answer is a ``Regions:`` block, one line per active region (action, intensity, symmetry; written by
:func:`keyframeface.semantics.describe.describe_regions` with this module's thresholds), then ``Values:`` and the
compact pairs (:mod:`.compact`). The parser reads the values after the *last* ``Values:`` line.
"""

from __future__ import annotations

import math
import re
from typing import Final

import numpy as np

from ...semantics.describe import describe_regions as _describe
from ..cleaning import FENCE
from ..context import Extracted, ParseContext
from ..grammar import GrammarSpec
from .base import Representation
from .compact import GRAMMAR as COMPACT_GRAMMAR
from .compact import extract_compact, format_compact
from .release_json import extract_json

__all__ = ["GRAMMAR", "REPRESENTATION", "SYSTEM_PROMPT", "describe_regions", "extract_semantic", "format_semantic"]

#: System prompt of the "semantic" representation (this project's): a short structured description of the face
#: first (regions, intensities, symmetry, as in the sister project SemanticFace), then the values. Writing the
#: description first lets a model reason in words before committing to numbers, in a form a person can check.
SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate the ARKit facial parameters for exactly one requested "
    "semantic keyframe. First describe the face under 'Regions:', one line per active region, as "
    "'- region: action intensity, symmetry' (regions: brows, eyes, gaze, cheeks, nose, jaw, mouth, tongue, head; "
    "intensity: slight, moderate, strong or full; symmetry: symmetric, left stronger, right stronger, left only or "
    "right only). Then write 'Values:' followed by the non-zero parameters as Name=value pairs separated by "
    "semicolons, for example Values: MouthSmileLeft=0.4; BrowInnerUp=0.3. The 52 blendshapes are in [0,1] and the "
    "9 head/eye pose parameters in [-1,1]; parameters you leave out are 0 ('Values: neutral' for a neutral face)."
)

#: Intensity words of the semantic description, by upper bound of the magnitude (FACS-like A-E scale folded
#: into four words; the bounds are this project's choice and only shape the text, not the values).
_INTENSITY_WORDS: Final[tuple[tuple[float, str], ...]] = (
    (0.25, "slight"), (0.5, "moderate"), (0.8, "strong"), (math.inf, "full"),
)  # fmt: skip
#: Below this magnitude a channel is not mentioned in the description (still written in the values).
_DESCRIBE_MIN: Final[float] = 0.05
#: Left and right differing by less than this are "symmetric".
_SYMMETRY_TOLERANCE: Final[float] = 0.1
_VALUES_MARKER = re.compile(r"^[ \t>*_#-]*values[ \t*_]*[:=]", re.IGNORECASE | re.MULTILINE)

#: A ``Regions:`` block of up to six short ``- region: words`` lines, ``Values: ``, then the compact pairs.
GRAMMAR: Final[GrammarSpec] = GrammarSpec(
    values="pairs",
    pair_separator=COMPACT_GRAMMAR.pair_separator,
    neutral=COMPACT_GRAMMAR.neutral,
    preamble='"Regions:\\n" line{1,6}',
    preamble_rules='line ::= "- " [a-z_]{2,12} ": " [a-z0-9 ,;.+-]{1,80} "\\n"\n',
    values_marker="Values: ",
    # How a decoder sampling the description freely sees that the values begin.
    values_marker_pattern=re.compile(r"(?:^|\n)[ \t>*_#-]*values[ \t*_]*:", re.IGNORECASE),
)


def describe_regions(values: np.ndarray) -> list[str]:
    """The semantic representation's description of ``values`` ((61,) in CHANNELS order): one line per active
    region, ``"- mouth: smile moderate, left stronger; jaw open slight"``-style. Empty for a neutral face."""
    return _describe(values, min_magnitude=_DESCRIBE_MIN, symmetry_tolerance=_SYMMETRY_TOLERANCE,
                     intensity_words=_INTENSITY_WORDS)


def format_semantic(values: np.ndarray, number: int, digits: int) -> str:
    """``Regions:`` lines (``- face: neutral`` for a neutral face), then ``Values:`` and the compact pairs."""
    lines = describe_regions(values) or ["- face: neutral"]
    return "Regions:\n" + "\n".join(lines) + "\n" + GRAMMAR.values_marker + format_compact(values, number, digits)


def extract_semantic(text: str, ctx: ParseContext) -> Extracted:
    """The ``"semantic"`` representation: a description, then ``Values:`` and the compact pairs (or a JSON
    object). The *last* ``Values:`` line is used, so a draft in the description does not count. Without one,
    ``strict`` fails; ``repair`` reads ``Name=value`` pairs anywhere in the answer, with a warning."""
    text = FENCE.sub("\n", text)
    marks = list(_VALUES_MARKER.finditer(text))
    if not marks:
        if ctx.policy == "strict":
            raise ctx.fail("no 'Values:' line after the description; expected 'Regions:' lines, then "
                           "'Values: MouthSmileLeft=0.4; BrowInnerUp=0.3' (or 'Values: neutral')")
        ctx.warnings.append("no 'Values:' line after the description; read Name=value pairs from the whole answer")
        return extract_compact(text, ctx)
    tail = text[marks[-1].end():]
    if "{" in tail:
        found = extract_json(tail, ctx)
        return Extracted(found.pairs, found.key, absent_is_zero=True)
    return extract_compact(tail, ctx)



REPRESENTATION: Final[Representation] = Representation(
    "semantic", SYSTEM_PROMPT, extract_semantic, format_semantic, GRAMMAR
)
