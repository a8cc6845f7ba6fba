"""Default values of a subcommand's options read from a config class that is imported only when needed.

``keyframeface --help`` and every other command build all subcommand parsers; the training subcommands take their
defaults from their training modules' config dataclasses, and importing those (and what they import) cost every
cold run of ``keyframeface generate`` tens of milliseconds. A :class:`LazyDefault` stands in for such a default:
``--help`` formats it (importing the config then), and the run function calls :func:`resolve_defaults` first,
which replaces the options left at their defaults by the real values.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["LazyConfig", "LazyDefault", "resolve_defaults"]


class LazyConfig:
    """The defaults of the dataclass at ``target`` (``"module:Class"``), instantiated on first use."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._instance: Any = None

    def instance(self) -> Any:
        """The config with its default values (imported and built once)."""
        if self._instance is None:
            module, _, name = self.target.partition(":")
            self._instance = getattr(importlib.import_module(module), name)()
        return self._instance

    def field(self, name: str, transform: Callable[[Any], Any] | None = None) -> LazyDefault:
        """A stand-in for the default of field ``name`` (``transform`` applied to it, e.g. joining a tuple)."""
        return LazyDefault(self, name, transform)


class LazyDefault:
    """One option's default, read from a :class:`LazyConfig` when formatted or resolved."""

    def __init__(self, config: LazyConfig, name: str, transform: Callable[[Any], Any] | None = None) -> None:
        self.config, self.name, self.transform = config, name, transform

    @property
    def value(self) -> Any:
        """The default value itself."""
        value = getattr(self.config.instance(), self.name)
        return self.transform(value) if self.transform is not None else value

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


def resolve_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with every :class:`LazyDefault` replaced by its value (in place; returned for convenience)."""
    for key, value in vars(args).items():
        if isinstance(value, LazyDefault):
            setattr(args, key, value.value)
    return args
