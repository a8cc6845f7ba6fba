"""keyframeface: language to facial animation on the 61 ARKit / Live Link Face channels.

The public API (each a stage of the pipeline; see DESIGN.md)::

    script = keyframeface.Script.from_dict({...})   # or keyframeface.load_script("scene.json")
    keys = keyframeface.generate(script)            # Keyframes: 61 values per keyframe
    anim = keyframeface.animate(keys)               # Animation: dense curves
    keyframeface.export(anim, "out/take.csv")       # Live Link Face CSV, glTF, JSON, npz
    keyframeface.render(anim, "out/take.gif")       # previews: PNG sheet, one face, curves, GIF / MP4
    result = keyframeface.run("scene.json", output="out")   # all of the above at once: the main job
    described = keyframeface.annotate(keys)         # coefficients -> language

Importing the package is cheap: the stages need only numpy; heavy backends (and Pillow for ``render``) are
imported on first use. The stage functions are bound here eagerly on purpose: a lazily imported subpackage
``keyframeface.animate`` (or ``keyframeface.render``) would otherwise shadow the function of the same name.
``annotate`` (whose vocabulary takes a moment to load) is bound on first access; no subpackage shares its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .pipeline import RunResult, run
from .plan import plan
from .render.outputs import render
from .script import Animation, Keyframe, Keyframes, Script, load_keyframes, load_script

if TYPE_CHECKING:
    from .semantics.annotate import annotate

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
    "RunResult",
    "Script",
    "ScriptError",
    "__version__",
    "animate",
    "annotate",
    "export",
    "extract",
    "generate",
    "load_keyframes",
    "load_script",
    "plan",
    "render",
    "run",
]


def __getattr__(name: str) -> Any:
    """``keyframeface.annotate``, imported on first use (see the module docstring)."""
    if name == "annotate":
        from .semantics.annotate import annotate

        globals()["annotate"] = annotate
        return annotate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

