"""Coefficients <-> language.

Language -> coefficients (the ``rules`` backend's composer): :func:`~keyframeface.semantics.composer.compose`
turns a keyframe description (English or Chinese) into 61 values, with the script's emotion as a baseline and the
previous keyframe carried over, and explains which phrase produced which channel values.

Modules: :mod:`.lexicon` (facial actions, parts, predicates), :mod:`.intensity` (calibrated intensity words),
:mod:`.laterality` (sides and directions), :mod:`.negation` (negation, contrast, carry-over), :mod:`.emotions`
(FACS emotion prototypes), :mod:`.chinese` (Chinese phrases), :mod:`.tagger` / :mod:`.binding` / :mod:`.parse`
(text -> mentions) and :mod:`.composer` (mentions -> values).

Importing this package is cheap; the lexicon is compiled on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .composer import Composition, compose
    from .mentions import Mention, Mode, Side

# ``parse`` is not re-exported: it would clash with the submodule of the same name
# (use ``from keyframeface.semantics.parse import parse``).
__all__ = ["Composition", "Mention", "Mode", "Side", "compose"]

_LAZY = {
    "Composition": "composer",
    "compose": "composer",
    "Mention": "mentions",
    "Mode": "mentions",
    "Side": "mentions",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
