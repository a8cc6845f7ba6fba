"""What one running web app holds: limits, the worker pools, backend instances and recent animations."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backends.base import Backend
from ..backends.registry import get_backend
from ..script import Animation
from .limits import Limits, WorkPool

__all__ = ["AnimationCache", "ServerState", "resolve_mesh"]


def resolve_mesh(mesh: str) -> str:
    """``"auto"`` -> ``"ict"`` when the ICT-FaceKit head is in the shared data folder, else ``"default"``.

    ``"ict"`` is checked at once: a server started for a head it cannot find fails with the
    :class:`~keyframeface.errors.FormatError` that says where to put it, rather than on every request.
    """
    if mesh not in ("auto", "ict", "default"):
        raise ValueError(f"mesh must be 'auto', 'ict' or 'default', got {mesh!r}")
    if mesh == "default":
        return mesh
    from ..errors import FormatError
    from ..head.ict import find_ict_asset

    try:
        find_ict_asset()
    except FormatError:
        if mesh == "ict":
            raise
        return "default"
    return "ict"


class AnimationCache:
    """The last ``capacity`` animations made by ``POST /api/animate``, by random id (least recently used out)."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Animation] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, anim: Animation) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = anim
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Animation | None:
        with self._lock:
            anim = self._items.get(key)
            if anim is not None:
                self._items.move_to_end(key)
            return anim


@dataclass
class ServerState:
    """Everything the routes share. ``backend_options`` maps a backend name to its constructor options, set by
    whoever starts the server (never by clients); ``mesh`` is the glTF head the page shows."""

    limits: Limits
    generation: WorkPool
    rendering: WorkPool
    default_backend: str
    backend_options: Mapping[str, Mapping[str, Any]]
    mesh: str
    vendor_dir: Path | None
    animations: AnimationCache = field(default_factory=AnimationCache)
    _backends: dict[str, Backend] = field(default_factory=dict)
    _backend_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    head_glb: bytes | None = None

    def backend(self, name: str | None) -> tuple[Backend, threading.Lock | None]:
        """The (cached) backend instance for ``name`` and, when it is not safe to share between threads, the lock
        to hold while using it. Models load once per server, on first use."""
        key = name or self.default_backend
        with self._lock:
            engine = self._backends.get(key)
            if engine is None:
                engine = get_backend(key, **dict(self.backend_options.get(key, {})))
                self._backends[key] = engine
                if not engine.capabilities.concurrent:
                    self._backend_locks[key] = threading.Lock()
            return engine, self._backend_locks.get(key)

    def close(self) -> None:
        with self._lock:
            for engine in self._backends.values():
                engine.close()
            self._backends.clear()
