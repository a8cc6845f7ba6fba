"""One small registry behind every extension point: backends, readers, writers, renderers, interpolators, dataset
adapters and extraction methods.

A :class:`Registry` maps a name to a target: either the object itself or a ``"module:attribute"`` path imported on
first use, so that listing names (``keyframeface backends``, ``--help``) imports nothing heavy. A registry may read
third-party entries from an entry-point group (``[project.entry-points."keyframeface.backends"]``), may know which
pip extra provides a target's packages, and suggests the nearest valid name for a misspelt one.

Each extension point keeps its own public functions (``register_backend``, ``register_writer`` ...) and its own
error wording; the registry gives them the mechanism::

    _backends: Registry[type[Backend]] = Registry("backend", entry_point_group="keyframeface.backends")
    _backends.register("rules", "keyframeface.backends.rules:RulesBackend")
    _backends.load("rules")          # imports the module now; MissingModule says what is missing
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterator
from typing import Any, Generic, Literal, TypeVar, cast

from .errors import FormatError
from .plugins import MissingModule, load_target

__all__ = ["MissingModule", "Registry", "did_you_mean", "install_hint", "load_explained"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def did_you_mean(name: object, names: list[str]) -> str:
    """``"; did you mean 'csv'?"`` for the valid name nearest to ``name``, or ``""`` when none is close."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name.strip().lower(), names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def install_hint(exc: MissingModule, extra: str | None) -> str:
    """What to install for a target whose dependency ``exc.missing`` is absent: the extra when one is known."""
    if extra:
        return f"pip install 'keyframeface[{extra}]'"
    return f"pip install {exc.missing.split('.')[0]}"


def load_explained(load: Callable[[], Any], target: str, *, what: str, noun: str, absent_advice: str,
                   missing_advice: Callable[[MissingModule], str]) -> Any:
    """``load()`` a registered component (callable), turning import failures into one-line :class:`FormatError`:
    the component itself absent (``absent_advice``: what to choose instead), one of its packages missing
    (``missing_advice(exc)``: what to install), or ``target`` naming no ``noun`` (function, class) at all."""
    try:
        obj = load()
    except MissingModule as exc:
        if exc.component_absent:
            raise FormatError(
                f"the {what} is not available in this installation ({exc.module} is missing); {absent_advice}"
            ) from None
        raise FormatError(
            f"the {what} needs the Python package {exc.missing!r}, which is not installed; {missing_advice(exc)}"
        ) from None
    if not callable(obj):
        module_name, _, attr = target.partition(":")
        raise FormatError(f"the {what} is broken: {module_name} has no {noun} {attr!r}")
    return obj


class Registry(Generic[T]):
    """Names -> targets (an object, or a ``"module:attribute"`` path imported by :meth:`load`).

``T`` is what is stored: ``Registry[Writer]`` holds objects; ``Registry[str | type[Backend]]`` holds classes or
paths (a registry with ``entry_points="lazy"`` stores entry points as paths, so its ``T`` must include ``str``).

    ``kind`` names the thing in messages (``"backend"``). ``entry_point_group``: third-party targets are read from
    this group the first time the registry is listed or looked up; built-in names win over entry points of the same
    name. ``entry_points="lazy"`` keeps their paths (imported on use); ``"eager"`` loads them at once, logging and
    skipping any that fails, so a broken plug-in never hides the built-in ones. ``valid_name`` filters entry-point
    names. Order is registration order (built in first, then entry points).

    :attr:`entries` is the underlying ``{name: target}`` dict (extension modules expose it under their old private
    names, so code that patched those dicts keeps working).
    """

    def __init__(
        self,
        kind: str,
        *,
        entry_point_group: str | None = None,
        entry_points: Literal["lazy", "eager"] = "lazy",
        valid_name: Callable[[str], bool] = str.isidentifier,
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._eager = entry_points == "eager"
        self._valid_name = valid_name
        self.entries: dict[str, T] = {}
        self.extras: dict[str, str] = {}
        self._entry_points_loaded = entry_point_group is None

    # ------------------------------------------------------------------------------------------- registering
    def register(self, name: str, target: T, *, extra: str | None = None) -> None:
        """Add or replace ``name``. ``target``: the object, or ``"module:attribute"`` imported on first use.
        ``extra``: the pip extra (``"render"``) that provides the packages the target needs."""
        self.entries[name] = target
        if extra:
            self.extras[name] = extra
        else:
            self.extras.pop(name, None)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error when absent)."""
        self.entries.pop(name, None)
        self.extras.pop(name, None)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.entry_point_group or ""):
            if ep.name in self.entries or not self._valid_name(ep.name):
                continue
            if not self._eager:
                self.entries[ep.name] = cast(T, ep.value)  # lazy registries hold "module:attr" paths
                continue
            try:
                self.entries[ep.name] = ep.load()
            except Exception as exc:  # a broken plug-in must not break the built-in entries
                logger.warning("%s %r from %s could not be loaded: %s", self.kind, ep.name, ep.value, exc)

    # ---------------------------------------------------------------------------------------------- looking up
    def names(self) -> list[str]:
        """Every registered name in registration order (entry points included). Imports no target."""
        self._load_entry_points()
        return list(self.entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return isinstance(name, str) and name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def target(self, name: str) -> T | None:
        """The registered target (path or object) of ``name``, or ``None`` when unknown. Imports nothing."""
        self._load_entry_points()
        return self.entries.get(name) if isinstance(name, str) else None

    def extra(self, name: str) -> str | None:
        """The pip extra registered with ``name``, if any."""
        return self.extras.get(name)

    def suggestion(self, name: object) -> str:
        """``"; did you mean 'x'?"`` for a misspelt ``name`` (or ``""``)."""
        return did_you_mean(name, self.names())

    def unknown_message(self, name: object, *, choose: str = "choose one of: ") -> str:
        """The default message for an unknown name: it lists the valid ones and suggests the nearest."""
        return f"unknown {self.kind} {str(name)[:40]!r}; {choose}{', '.join(self.names())}{self.suggestion(name)}"

    def load(self, name: str) -> Any:
        """The object registered as ``name``, importing its module when it was registered by path.

        Raises ``KeyError`` for an unknown name and :class:`~keyframeface.plugins.MissingModule` when the module
        or one of its packages is not installed; a path whose module lacks the attribute gives ``None`` (callers
        say "broken"). Callers turn these into their own user-facing errors.
        """
        target = self.target(name)
        if target is None:
            raise KeyError(name)
        if isinstance(target, str):
            return load_target(target)
        return target
