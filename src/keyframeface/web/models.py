"""Request and response bodies of the web API (pydantic models, so the OpenAPI schema documents them).

The models describe shapes; the library's own validators (:meth:`keyframeface.script.Script.from_dict`,
:meth:`keyframeface.script.Keyframes.from_dict`) still check every document, so the API and the files agree and
errors name the offending field (``keyframes[2].time_s: ...``). Field names are the library's keyword arguments
(``fps``, ``duration_s``, ``seed``). Nothing here accepts a file path: exports are chosen by format name.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..options import AnimateOptions, GenerateOptions, spec_of
from ..script import FORMAT_VERSION, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS

__all__ = [
    "AnimateRequest",
    "AnimateResponse",
    "BackendRow",
    "BackendsResponse",
    "ChannelRow",
    "ChannelsResponse",
    "ErrorResponse",
    "ExportRequest",
    "GenerateRequest",
    "HealthResponse",
    "KeyframeDoc",
    "KeyframesDoc",
    "PlanRequest",
    "RegenerateRequest",
    "RegenerateResponse",
    "ScriptDoc",
]

_STRICT = ConfigDict(extra="forbid")
_M = TypeVar("_M", bound="_OptionsModel")


class _OptionsModel(BaseModel):
    """A request whose option fields come from a :mod:`keyframeface.options` declaration (see :func:`_with_options`):
    the same names, defaults, ranges, choices and descriptions as the library's keyword arguments."""

    model_config = _STRICT
    _options_cls: typing.ClassVar[type | None] = None

    if TYPE_CHECKING:  # the option fields are added at class creation; type checkers see them as Any

        def __getattr__(self, name: str) -> Any: ...


def _pydantic_field(f: dataclasses.Field[Any], annotation: Any) -> tuple[Any, Any]:
    spec = spec_of(f)
    constraints: dict[str, Any] = {}
    if spec.low is not None:
        constraints["gt" if spec.low_open else "ge"] = spec.low
    if spec.high is not None:
        constraints["lt" if spec.high_open else "le"] = spec.high
    if spec.max_length is not None:
        constraints["max_length"] = spec.max_length
    if spec.choices is not None and spec.closed:
        choices: Any = Literal.__getitem__(tuple(spec.choices()))
        annotation = choices | None if f.default is None else choices
    return annotation, Field(f.default, description=spec.text() or None, **constraints)


def _with_options(options_cls: type, names: Sequence[str] | None = None) -> Callable[[type[_M]], type[_M]]:
    """Class decorator: add ``options_cls``'s web-exposed fields (``names``, in this order; default every field with
    ``web=True``) to the request model, after its own fields."""

    def wrap(model: type[_M]) -> type[_M]:
        hints = typing.get_type_hints(options_cls)
        by_name = {f.name: f for f in dataclasses.fields(options_cls)}
        chosen = list(names) if names is not None else [n for n, f in by_name.items() if spec_of(f).web]
        fields = {name: _pydantic_field(by_name[name], hints[name]) for name in chosen}
        build: Any = create_model  # its overloads cannot type a computed field dict
        made: type[_M] = build(model.__name__, __base__=model, __module__=model.__module__,
                               __qualname__=model.__qualname__, __doc__=model.__doc__, **fields)
        made._options_cls = options_cls
        return made

    return wrap


class KeyframeDoc(BaseModel):
    """One keyframe: a description, an optional time and name, and (after generation) 61 values by name."""

    model_config = _STRICT
    description: str = Field("", max_length=MAX_DESCRIPTION_CHARS)
    time_s: float | None = Field(None, description="seconds from the start; null lets timing choose")
    name: str | None = Field(None, max_length=MAX_NAME_CHARS)
    values: dict[str, float] | None = Field(
        None, description="channel name -> value (blendshapes in [0,1], head/eye pose in [-1,1]); missing = 0"
    )


class ScriptDoc(BaseModel):
    """A script: background, emotion and ordered keyframe descriptions, or one free ``text`` to plan."""

    model_config = _STRICT
    background: str = Field("", max_length=MAX_TEXT_CHARS)
    emotion: str = Field("", max_length=MAX_TEXT_CHARS)
    keyframes: list[KeyframeDoc] = Field(default_factory=list)
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS)


class KeyframesDoc(BaseModel):
    """A ``keyframeface.keyframes`` document (what ``generate`` returns and ``animate`` takes)."""

    model_config = _STRICT
    format: Literal["keyframeface.keyframes"] = "keyframeface.keyframes"  # script.KEYFRAMES_FORMAT
    version: int = FORMAT_VERSION
    meta: dict[str, Any] = Field(default_factory=dict)
    background: str = Field("", max_length=MAX_TEXT_CHARS)
    emotion: str = Field("", max_length=MAX_TEXT_CHARS)
    keyframes: list[KeyframeDoc] = Field(default_factory=list)


class PlanRequest(BaseModel):
    model_config = _STRICT
    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="one free sentence (or a few) to plan")


@_with_options(GenerateOptions, ("seed", "temperature", "policy"))
class _BackendChoice(_OptionsModel):
    """The backend and the generate options a page chooses (``seed``, ``temperature``, ``policy``: as
    :func:`keyframeface.generate`'s)."""

    backend: str | None = Field(None, max_length=64, description="a name from GET /api/backends; null = server default")


class GenerateRequest(_BackendChoice):
    script: ScriptDoc


class RegenerateRequest(_BackendChoice):
    script: ScriptDoc = Field(..., description="the script as edited now (its descriptions are used)")
    index: int = Field(..., ge=0, description="0-based keyframe to regenerate")
    keyframes: KeyframesDoc | None = Field(
        None, description="the current keyframes; their values are kept for every other keyframe"
    )


class RegenerateResponse(BaseModel):
    index: int
    keyframe: KeyframeDoc
    keyframes: KeyframesDoc


@_with_options(AnimateOptions)
class AnimateRequest(_OptionsModel):
    """Keyframes and every option of :func:`keyframeface.animate` (:class:`keyframeface.options.AnimateOptions`:
    the same defaults, e.g. 60 fps, and ranges); :meth:`animate_options` gives them typed."""

    keyframes: KeyframesDoc
    include_frames: bool = Field(False, description="also return the dense frames inline (T x 61 numbers)")

    def animate_options(self) -> AnimateOptions:
        """The request's options, for ``animate(keyframes, **request.animate_options().kwargs())``."""
        return AnimateOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(AnimateOptions)})


class ExportRequest(AnimateRequest):
    what: Literal["animation", "keyframes"] = Field(
        "animation", description="the animated curves, or the keyframes alone (one frame per keyframe)"
    )


class AnimateResponse(BaseModel):
    id: str = Field(..., description="handle of the cached animation for GET /api/animations/{id}.{format}")
    fps: float
    num_frames: int
    duration_s: float
    keyframe_times_s: list[float]
    keyframes: KeyframesDoc = Field(..., description="the keyframes with every time_s filled in by timing")
    urls: dict[str, str] = Field(..., description="format -> URL of the file (glb, gltf, csv, json)")
    channels: list[str]
    frames: list[list[float]] | None = None


class BackendRow(BaseModel):
    name: str
    usable: bool
    reason: str
    chat: bool
    default: bool


class BackendsResponse(BaseModel):
    default: str
    backends: list[BackendRow]


class ChannelRow(BaseModel):
    name: str
    group: str
    low: float
    high: float


class ChannelsResponse(BaseModel):
    channels: list[ChannelRow]
    groups: list[str]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    mesh: str
    running: int
    max_concurrency: int
    vendor: bool = Field(..., description="three.js is served locally under /vendor/ (else the page uses a CDN)")


class ErrorResponse(BaseModel):
    error: str
    field: str | None = None
    partial: dict[str, Any] | None = None
    failed: dict[str, str] | None = None
