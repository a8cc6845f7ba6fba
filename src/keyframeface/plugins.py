"""Loading a registered component from its ``"module:attribute"`` path, the one mechanism behind every registry.

Backends, writers and renderers are registered by dotted path so that listing them imports nothing heavy; each
registry turns :class:`MissingModule` into its own user-facing error (which extra to install, which other choice
to make).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["MissingModule", "load_target"]


class MissingModule(ImportError):
    """The target's module, or a package it needs, is not installed.

    ``module``: the module the target names. ``missing``: the module Python could not find; when the two are the
    same, the component itself is absent, otherwise one of its dependencies is.
    """

    def __init__(self, module: str, missing: str, reason: str) -> None:
        self.module = module
        self.missing = missing
        super().__init__(reason)

    @property
    def component_absent(self) -> bool:
        return self.missing == self.module


def load_target(target: str) -> Any:
    """Import ``"module:attribute"`` and return the attribute, or ``None`` when the module has no such name.

    Raises :class:`MissingModule` when the module or one of its imports cannot be found.
    """
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingModule(module_name, exc.name or module_name, str(exc)) from None
    return getattr(module, attr, None)
