"""Request and response bodies of the web API (pydantic models, so the OpenAPI schema documents them).

The models describe shapes; the library's own validators (:meth:`keyframeface.script.Script.from_dict`,
:meth:`keyframeface.script.Keyframes.from_dict`) still check every document, so the API and the files agree and
errors name the offending field (``keyframes[2].time_s: ...``). Field names are the library's keyword arguments
(``fps``, ``duration_s``, ``seed``). Nothing here accepts a file path: exports are chosen by format name.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..animate import DEFAULT_METHOD
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


class _BackendChoice(BaseModel):
    model_config = _STRICT
    backend: str | None = Field(None, max_length=64, description="a name from GET /api/backends; null = server default")
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    policy: Literal["strict", "repair"] = "strict"


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


class AnimateRequest(BaseModel):
    """Keyframes and the options of :func:`keyframeface.animate`."""

    model_config = _STRICT
    keyframes: KeyframesDoc
    fps: float = Field(30.0, ge=1, description="frames per second, at least 1")
    duration_s: float | None = Field(None, gt=0)
    method: str = Field(DEFAULT_METHOD, max_length=32)
    life: bool = True
    seed: int = Field(0, ge=0, le=2**31 - 1)
    include_frames: bool = Field(False, description="also return the dense frames inline (T x 61 numbers)")


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
