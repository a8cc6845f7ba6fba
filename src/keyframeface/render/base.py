"""The renderer interface and registry: every face renderer draws 61 values into an RGB image.

A renderer is any object with a ``name`` and ``render(values, *, size=512) -> (H, W, 3) uint8``. Built-in renderers
are registered by dotted path and imported on first use, so listing them (or ``import keyframeface``) imports
neither Pillow nor any 3D package:

========  ==============================================  ===============================================
name      class                                           needs
========  ==============================================  ===============================================
``2d``    ``keyframeface.render.face2d:Face2DRenderer``   Pillow (extra ``[render]``); SVG needs nothing
``3d``    ``keyframeface.render.head3d:Head3DRenderer``   see that module (the ICT head from shared data)
========  ==============================================  ===============================================

Third-party renderers register the same way with :func:`register_renderer`.
"""

from __future__ import annotations

import importlib
import math
import re
from types import ModuleType
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np

from .. import rig
from ..errors import FormatError
from ..registry import Registry, load_explained

__all__ = [
    "DEFAULT_RENDERER",
    "MAX_SIZE",
    "MIN_SIZE",
    "RENDERERS",
    "RENDER_EXTRA",
    "FaceRenderer",
    "check_size",
    "check_values",
    "get_renderer",
    "register_renderer",
    "renderer_names",
    "require_package",
]

DEFAULT_RENDERER: Final[str] = "2d"
#: How to install what the raster outputs need (PNG, GIF, MP4, curve plots).
RENDER_EXTRA: Final[str] = "pip install 'keyframeface[render]'"
#: Image sizes a renderer accepts, in pixels (a 16-px face is unreadable; 4096 px is a poster).
MIN_SIZE: Final[int] = 16
MAX_SIZE: Final[int] = 4096


@runtime_checkable
class FaceRenderer(Protocol):
    """Draws one face.

    ``render(values, *, size)``: ``values`` (61,) float32 in ``rig.CHANNELS`` order (out-of-range values are
    clamped, NaN is neutral); returns an (H, W, 3) uint8 RGB image, H = W = ``size`` unless the renderer documents
    otherwise. ``name`` is the registry name (``"2d"``, ``"3d"``).
    """

    name: str

    def render(self, values: np.ndarray, *, size: int = 512) -> np.ndarray: ...


#: Renderer classes by name (a class or ``"module:Class"``), built in first.
RENDERERS: Registry[str | type] = Registry("renderer")
RENDERERS.register("2d", "keyframeface.render.face2d:Face2DRenderer", extra="render")
RENDERERS.register("3d", "keyframeface.render.head3d:Head3DRenderer", extra="render")
#: The registry's dict, under its old name (code that patched it keeps working).
_REGISTRY = RENDERERS.entries


def register_renderer(name: str, target: str | type) -> None:
    """Register a renderer class under ``name``: the class itself, or ``"module:Class"`` imported on first use."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", name):
        raise FormatError(f"renderer names are short lower-case identifiers such as '2d'; got {name!r}")
    if not isinstance(target, (str, type)):
        raise FormatError(f"register a class or a 'module:Class' path, got {type(target).__name__}")
    RENDERERS.register(name, target)


def renderer_names() -> list[str]:
    """Registered renderer names, built-in first."""
    return RENDERERS.names()


def get_renderer(name: str | FaceRenderer = DEFAULT_RENDERER, **options: Any) -> FaceRenderer:
    """A ready renderer: ``"2d"`` (default) or ``"3d"``; a renderer instance is returned as is.

    ``options`` go to the renderer's constructor. Unknown names raise :class:`FormatError` listing the valid ones; a
    renderer whose module or package is missing raises :class:`FormatError` saying what to install.
    """
    if not isinstance(name, str):
        if isinstance(name, FaceRenderer):
            if options:
                raise FormatError("options cannot be applied to a renderer instance; pass its name instead")
            return name
        raise FormatError(f"expected a renderer name ({', '.join(RENDERERS)}) or instance, got {type(name).__name__}")
    key = name.strip().lower()
    target = RENDERERS.target(key)
    if target is None:
        raise FormatError(RENDERERS.unknown_message(name))
    cls = target if isinstance(target, type) else _import_class(key, target)
    renderer = cls(**options)
    if not isinstance(renderer, FaceRenderer):
        raise FormatError(f"{target} does not implement render(values, *, size) and name")
    return renderer


def _import_class(key: str, target: str) -> Any:
    return load_explained(
        lambda: RENDERERS.load(key), target, what=f"{key} renderer", noun="class",
        absent_advice=f"use --renderer {DEFAULT_RENDERER}",
        missing_advice=lambda exc: f"install the [render] extra ({RENDER_EXTRA})")


def check_values(values: Any) -> np.ndarray:
    """Validate one face's values: (61,) numbers -> a clamped (61,) float32 copy (NaN becomes neutral 0)."""
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    if arr.shape[0] != rig.NUM_CHANNELS:
        raise FormatError(
            f"a face needs {rig.NUM_CHANNELS} values in rig.CHANNELS order, got {arr.shape[0]}; "
            "use rig.to_array({name: value}) to build them"
        )
    return rig.clamp(arr, max_reports=0)[0]


def check_size(size: Any) -> int:
    """Validate an image size in pixels (an int in [MIN_SIZE, MAX_SIZE])."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer, float)) or not math.isfinite(size):
        raise FormatError(f"size must be a whole number of pixels, got {size!r}")
    if int(size) != size or not MIN_SIZE <= size <= MAX_SIZE:
        raise FormatError(f"size must be a whole number of pixels in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}")
    return int(size)


def require_package(module: str, *, purpose: str) -> ModuleType:
    """Import an optional package of the ``[render]`` extra or raise a :class:`FormatError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"PIL": "Pillow", "imageio_ffmpeg": "imageio-ffmpeg"}.get(module.split(".")[0], module)
        raise FormatError(
            f"{purpose} needs the Python package {package!r}, which is not installed; install the [render] extra: "
            f"{RENDER_EXTRA}"
        ) from None
