"""keyframeface: language to facial animation on the 61 ARKit / Live Link Face channels.

The public API (each a stage of the pipeline; see DESIGN.md)::

    script = keyframeface.Script.from_dict({...})   # or keyframeface.load_script("scene.json")
    keys = keyframeface.generate(script)            # Keyframes: 61 values per keyframe
    anim = keyframeface.animate(keys)               # Animation: dense curves
    keyframeface.export(anim, "out/take.csv")       # Live Link Face CSV, glTF, JSON, npz

Importing the package is cheap: heavy stages are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    BackendError,
    BackendUnavailableError,
    FormatError,
    GenerationError,
    KeyframeFaceError,
    ModelOutputError,
    ScriptError,
)
from .script import Animation, Keyframe, Keyframes, Script, load_keyframes, load_script

if TYPE_CHECKING:
    from .animate import animate
    from .extract import extract
    from .generate import generate
    from .io.registry import export
    from .plan import plan

__all__ = [
    "Animation",
    "BackendError",
    "BackendUnavailableError",
    "FormatError",
    "GenerationError",
    "Keyframe",
    "KeyframeFaceError",
    "Keyframes",
    "ModelOutputError",
    "Script",
    "ScriptError",
    "__version__",
    "animate",
    "export",
    "extract",
    "generate",
    "load_keyframes",
    "load_script",
    "plan",
]

_LAZY = {
    "generate": ("keyframeface.generate", "generate"),
    "animate": ("keyframeface.animate", "animate"),
    "extract": ("keyframeface.extract", "extract"),
    "export": ("keyframeface.io.registry", "export"),
    "plan": ("keyframeface.plan", "plan"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'keyframeface' has no attribute {name!r}")
