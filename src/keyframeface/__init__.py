"""keyframeface: language to facial animation on the 61 ARKit / Live Link Face channels.

The public API (each a stage of the pipeline; see DESIGN.md)::

    script = keyframeface.Script.from_dict({...})   # or keyframeface.load_script("scene.json")
    keys = keyframeface.generate(script)            # Keyframes: 61 values per keyframe
    anim = keyframeface.animate(keys)               # Animation: dense curves
    keyframeface.export(anim, "out/take.csv")       # Live Link Face CSV, glTF, JSON, npz

Importing the package is cheap: the stages need only numpy; heavy backends are imported on first use.
The stage functions are bound here eagerly on purpose: a lazily imported subpackage ``keyframeface.animate`` would
otherwise shadow the function ``keyframeface.animate``.
"""

from __future__ import annotations

from ._version import __version__
from .animate import animate
from .errors import (
    BackendError,
    BackendUnavailableError,
    FormatError,
    GenerationError,
    KeyframeFaceError,
    ModelOutputError,
    ScriptError,
)
from .extract import extract

# Stage functions (after the classes they use). Each rebinds the name its module's import put on the package.
from .generate import generate
from .io.registry import export
from .plan import plan
from .script import Animation, Keyframe, Keyframes, Script, load_keyframes, load_script

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

