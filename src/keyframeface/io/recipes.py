"""The recipe JSON written beside every shipped weight file, and the check every loader makes of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..script import read_json_file
from .files import sha256_file

__all__ = ["verified_recipe"]


def verified_recipe(weights: Path, recipe_file: Path, fmt: str, *, fix: str) -> dict[str, Any]:
    """The recipe ``recipe_file`` of ``weights``, checked: its ``format`` is ``fmt`` and its ``sha256`` is the sha256
    of ``weights``' bytes.

    Raises :class:`FormatError` for an unreadable, oversized, invalid or wrongly formatted recipe, and for a sha256
    mismatch (the message ends with ``fix``: what to do).
    """
    recipe = read_json_file(recipe_file)  # size cap, UTF-8, NaN and deep nesting give FormatError
    if not isinstance(recipe, dict) or recipe.get("format") != fmt:
        raise FormatError(f"{recipe_file}: expected format {fmt!r}")
    digest = sha256_file(weights)
    if recipe.get("sha256") != digest:
        raise FormatError(f"{weights}: sha256 {digest[:12]}... does not match the recipe's "
                          f"{str(recipe.get('sha256'))[:12]}...; the file was changed or damaged; {fix}")
    return recipe
