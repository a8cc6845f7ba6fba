"""Backend registry: names -> lazily imported classes.

Built-in backends are registered by dotted path so that listing them imports nothing heavy. Third-party packages
register the same way through the ``keyframeface.backends`` entry-point group (``name = "pkg.module:Class"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import BackendUnavailableError
from ..plugins import MissingModule
from ..registry import Registry
from .base import Backend

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "FALLBACK_BACKEND", "BackendInfo", "default_backend_name", "get_backend", "list_backends", "register_backend", "resolve_backend_class"]

logger = logging.getLogger(__name__)

#: The offline default (see README, "Which backend is the default"): chosen by `keyframeface eval --compare`.
DEFAULT_BACKEND = "bundled"
#: Used, with a warning, when the default cannot run here (its encoder package was removed or not installed).
FALLBACK_BACKEND = "rules"

#: Every backend by name: built in, registered, or from the ``keyframeface.backends`` entry-point group.
BACKENDS: Registry[str | type[Backend]] = Registry(
    "backend", entry_point_group="keyframeface.backends", valid_name=lambda n: bool(n)
)
for _name, _target, _extra in (
    ("rules", "keyframeface.backends.rules:RulesBackend", None),
    ("bundled", "keyframeface.backends.bundled:BundledBackend", None),
    ("llama", "keyframeface.backends.llama:LlamaBackend", "llm"),
    ("openai", "keyframeface.backends.openai:OpenAIBackend", None),
    ("hf", "keyframeface.backends.hf:HFBackend", "hf"),
):
    BACKENDS.register(_name, _target, extra=_extra)
#: The registry's ``{name: "module:Class"}`` dict (kept under its old name for code that patched it).
_REGISTRY = BACKENDS.entries


def register_backend(name: str, target: str | type[Backend]) -> None:
    """Register a backend under ``name``: a class or a ``"module:Class"`` path imported on first use."""
    if not name or not name.replace("-", "_").isidentifier():
        raise ValueError(f"backend names are identifiers, got {name!r}")
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    BACKENDS.register(name, target)


def _names() -> list[str]:
    return sorted(BACKENDS.names())


def resolve_backend_class(name: str) -> type[Backend]:
    """Import and return the class registered as ``name``.

    Raises :class:`BackendUnavailableError` listing the valid names when ``name`` is unknown, or saying what is
    missing when the backend's module cannot be imported.
    """
    target = BACKENDS.target(name)
    if target is None:
        raise BackendUnavailableError(
            f"unknown backend {str(name)[:40]!r}; choose one of: {', '.join(_names())}{BACKENDS.suggestion(name)}"
        )
    try:
        cls = BACKENDS.load(name)
    except MissingModule as exc:
        raise BackendUnavailableError(f"backend {name!r} cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendUnavailableError(f"backend {name!r} points at {target!r}, which is not a Backend class")
    return cls


def default_backend_name() -> str:
    """:data:`DEFAULT_BACKEND` when it can run here, else :data:`FALLBACK_BACKEND` (with a warning)."""
    usable, reason = resolve_backend_class(DEFAULT_BACKEND).availability()
    if usable:
        return DEFAULT_BACKEND
    logger.warning("the default backend %r cannot run here (%s); using %r instead", DEFAULT_BACKEND, reason,
                   FALLBACK_BACKEND)
    return FALLBACK_BACKEND


def get_backend(name: str | Backend | None = None, **options: Any) -> Backend:
    """A ready backend instance. ``name=None`` gives the default; an instance is returned as is.

    ``options`` go to the backend's constructor (``model=``, ``base_url=`` ...). Raises
    :class:`BackendUnavailableError` with the reason when the backend cannot run here.
    """
    if isinstance(name, Backend):
        return name
    cls = resolve_backend_class(name or DEFAULT_BACKEND)
    usable, reason = cls.availability()
    if not usable and not name and not options:
        logger.warning("the default backend %r cannot run here (%s); using %r instead", cls.name, reason,
                       FALLBACK_BACKEND)
        cls = resolve_backend_class(FALLBACK_BACKEND)
        usable, reason = cls.availability()
    if not usable:
        raise BackendUnavailableError(f"backend {cls.name!r} is not usable here: {reason}")
    cls.check_options(options)  # names against the backend's declared Options, with the list of valid ones
    try:
        return cls(**options)
    except TypeError as exc:
        raise BackendUnavailableError(f"backend {cls.name!r} does not take these options: {exc}") from None


@dataclass(frozen=True)
class BackendInfo:
    """One row of ``keyframeface backends``."""

    name: str
    usable: bool
    reason: str
    chat: bool
    default: bool


def list_backends() -> list[BackendInfo]:
    """Every registered backend with whether it is usable here and why not."""
    rows = []
    for name in _names():
        try:
            cls = resolve_backend_class(name)
            usable, reason = cls.availability()
            chat = cls.capabilities.chat
        except BackendUnavailableError as exc:
            usable, reason, chat = False, str(exc), False
        rows.append(BackendInfo(name, usable, reason, chat, name == DEFAULT_BACKEND))
    return rows
