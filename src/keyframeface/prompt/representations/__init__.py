"""The registry of answer representations: one module per representation, each owning its system prompt,
extractor (text -> values), formatter (values -> answer text) and grammar spec (:mod:`..grammar`).

``"json"`` (:mod:`.release_json`) is the release's format; ``"compact"`` (:mod:`.compact`) lists the active
channels as ``Name=value`` pairs; ``"semantic"`` (:mod:`.semantic`) describes the face in words, then gives the
compact values. To add one: write a module with a :class:`~.base.Representation` named ``REPRESENTATION`` and add
it to :data:`_REGISTRY` below; messages, parsing, validation, training data and the constrained decoders of the
``llama``, ``hf`` and ``openai`` backends take it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ...errors import ScriptError
from ..grammar import GrammarSpec
from . import compact, release_json, semantic
from .base import Representation

__all__ = ["REPRESENTATIONS", "Representation", "get_representation", "grammar_for"]

_REGISTRY: Final[Mapping[str, Representation]] = {
    rep.name: rep for rep in (release_json.REPRESENTATION, compact.REPRESENTATION, semantic.REPRESENTATION)
}
#: The representation names :func:`keyframeface.prompt.build_messages` and :func:`~keyframeface.prompt.parse_values`
#: accept, the release's ``"json"`` first.
REPRESENTATIONS: Final[tuple[str, ...]] = tuple(_REGISTRY)


def get_representation(name: str) -> Representation:
    """The representation called ``name``; :class:`ScriptError` (naming the valid ones) for anything else."""
    rep = _REGISTRY.get(name) if isinstance(name, str) else None
    if rep is None:
        raise ScriptError(f"unknown representation {name!r}; expected one of {sorted(_REGISTRY)}",
                          field="representation")
    return rep


def grammar_for(name: str) -> GrammarSpec | None:
    """The grammar spec of representation ``name``, or ``None`` for a name that is not a representation (such as
    the planner's ``"plan"`` requests), which constrained decoders then leave unconstrained."""
    rep = _REGISTRY.get(name) if isinstance(name, str) else None
    return None if rep is None else rep.grammar
