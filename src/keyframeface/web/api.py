"""The JSON API under ``/api``: each route calls one library function (plan, generate, animate, export).

Errors are JSON ``{"error": "..."}``: 422 for invalid input (with ``field`` when known), 400 for a backend that is
unknown or unusable here, 413 for a body over the limit, 502 when the backend failed (``partial`` keeps the
keyframes that did succeed), 503 ``busy`` with ``Retry-After`` when every worker is taken, 504 when generation
took longer than the server allows. Clients never name files: exports are chosen by format name only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, Response

from .. import rig
from .._version import __version__
from ..backends.registry import list_backends
from ..errors import ScriptError
from ..io import registry as io_registry
from ..pipeline import run
from ..plan import plan
from ..script import Animation, Keyframe, Keyframes, Script
from .limits import Busy, Limits
from .models import (
    AnimateRequest,
    AnimateResponse,
    BackendRow,
    BackendsResponse,
    ChannelRow,
    ChannelsResponse,
    ClientErrorReport,
    ErrorResponse,
    ExportRequest,
    GenerateRequest,
    HealthResponse,
    KeyframesDoc,
    PlanRequest,
    RegenerateRequest,
    RegenerateResponse,
    ScriptDoc,
)
from .regenerate import regenerate_keyframe
from .state import ServerState

__all__ = ["ExportFormat", "export_bytes", "router"]

logger = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "unknown or unusable backend"),
        (404, "no such animation (only recent ones are kept)"),
        (413, "request body or input over the server's limits"),
        (422, "invalid input (the error names the field)"),
        (502, "the backend failed; partial results in 'partial'"),
        (503, "busy: every worker is taken; retry after the Retry-After header's seconds"),
        (504, "generation took longer than the server allows"),
    )
}

router = APIRouter(prefix="/api", responses=_ERRORS)


if TYPE_CHECKING:

    class ExportFormat(str, Enum):
        """The formats a client may ask for (by name; never a path)."""

else:
    #: The formats a client may ask for (by name; never a path): every registered writer offered for download.
    ExportFormat = Enum(
        "ExportFormat",
        {w.name: w.name for w in io_registry.WRITERS.values() if w.download},
        type=str,
        module=__name__,
    )

_MEDIA_TYPES = {f.value: io_registry.WRITERS[f.value].media_type for f in ExportFormat}


class LimitError(ScriptError):
    """Input over one of the web server's :class:`~keyframeface.web.limits.Limits` (answered with 413)."""


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.keyframeface
    return state


# ------------------------------------------------------------------------------------------ input checking
def _check_texts(background: str, emotion: str, keyframes: list[Any], limits: Limits, text: str | None = None) -> None:
    if len(keyframes) > limits.max_keyframes:
        raise LimitError(f"has {len(keyframes)} keyframes; this server takes at most {limits.max_keyframes}",
                         field="keyframes")
    for name, value in (("background", background), ("emotion", emotion), ("text", text or "")):
        if len(value) > limits.max_text_chars:
            raise LimitError(f"is {len(value)} characters long; this server takes at most {limits.max_text_chars}",
                             field=name)
    for i, kf in enumerate(keyframes):
        if len(kf.description) > limits.max_description_chars:
            raise LimitError(
                f"is {len(kf.description)} characters long; this server takes at most {limits.max_description_chars}",
                field=f"keyframes[{i}].description",
            )
        if kf.time_s is not None and kf.time_s > limits.max_duration_s:
            raise LimitError(f"{kf.time_s:g} s is later than this server animates ({limits.max_duration_s:g} s)",
                             field=f"keyframes[{i}].time_s")


def _script(doc: ScriptDoc, limits: Limits) -> Script:
    _check_texts(doc.background, doc.emotion, doc.keyframes, limits, doc.text)
    return Script.from_dict(doc.model_dump(exclude_none=True))


def _keyframes(doc: KeyframesDoc, limits: Limits) -> Keyframes:
    _check_texts(doc.background, doc.emotion, doc.keyframes, limits)
    return Keyframes.from_dict(doc.model_dump(exclude_none=True))


def _check_animate(body: AnimateRequest, limits: Limits) -> None:
    if body.fps > limits.max_fps:
        raise LimitError(f"{body.fps:g} is above this server's {limits.max_fps:g} fps", field="fps")
    if body.duration_s is not None and body.duration_s > limits.max_duration_s:
        raise LimitError(f"{body.duration_s:g} s is longer than this server's {limits.max_duration_s:g} s",
                         field="duration_s")
    if body.tail_s is not None and body.tail_s > limits.max_duration_s:
        raise LimitError(f"{body.tail_s:g} s is longer than this server's {limits.max_duration_s:g} s", field="tail_s")


def export_bytes(obj: Animation | Keyframes, fmt: str, *, mesh: str = "default") -> bytes:
    """``obj`` written in format ``fmt`` (an :data:`ExportFormat`) as bytes, by the library's writers; ``mesh`` goes
    to the writers that take one (glTF)."""
    options = {"mesh": mesh} if io_registry.find_writer(format=fmt).accepts("mesh") else {}
    return io_registry.export_bytes(obj, fmt, **options)


def _file(data: bytes, fmt: str, stem: str) -> Response:
    return Response(
        content=data,
        media_type=_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


# ---------------------------------------------------------------------------------------------------- routes
@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> dict[str, Any]:
    """Liveness and what this server runs: version, head mesh, generations running now."""
    st = _state(request)
    return {
        "status": "ok",
        "version": __version__,
        "mesh": st.mesh,
        "running": st.generation.running,
        "max_concurrency": st.generation.max_concurrency,
    }


@router.post("/client-error", status_code=204, response_class=Response)
async def client_error(body: ClientErrorReport, request: Request) -> Response:
    """A page that cannot work (no WebGL, a script that did not load) says why: one log line on the server (at
    most 10 a minute; more are dropped), so the person who started ``serve`` sees it too."""
    if _state(request).client_errors.allow():
        message = " ".join(body.message.split())[:300]  # one line, whatever the page sent
        logger.warning("the page in the browser reports a %s problem: %s", body.kind, message)
    return Response(status_code=204)


@router.get("/backends", response_model=BackendsResponse)
async def backends(request: Request) -> dict[str, Any]:
    """Every registered backend, whether it is usable here and why not; ``default`` is the server's choice."""
    st = _state(request)
    rows = [
        BackendRow(name=r.name, usable=r.usable, reason=r.reason, chat=r.chat, default=r.name == st.default_backend)
        for r in list_backends()
    ]
    return {"default": st.default_backend, "backends": rows}


@router.get("/channels", response_model=ChannelsResponse)
async def channels() -> dict[str, Any]:
    """The 61 channels in order, with their group and range (what the page's sliders show)."""
    rows = [
        ChannelRow(name=n, group=rig.group_of(n), low=float(rig.LOW[i]), high=float(rig.HIGH[i]))
        for i, n in enumerate(rig.CHANNELS)
    ]
    return {"channels": rows, "groups": list(rig.GROUPS)}


@router.post("/plan", response_model=ScriptDoc, response_model_exclude_none=True)
async def plan_route(body: PlanRequest, request: Request) -> dict[str, Any]:
    """Free text -> a script with timed keyframes (the deterministic planner)."""
    limits = _state(request).limits
    if len(body.text) > limits.max_text_chars:
        raise LimitError(f"is {len(body.text)} characters long; this server takes at most {limits.max_text_chars}",
                         field="text")
    return plan(body.text).to_dict()


@contextmanager
def _held(lock: threading.Lock | None, timeout_s: float) -> Iterator[None]:
    """Hold a backend's lock (backends that run one generation at a time), waiting no longer than the request's
    deadline: a generation stuck past its own deadline must not lock every later request out (:class:`Busy`)."""
    if lock is None:
        yield
        return
    if not lock.acquire(timeout=max(timeout_s, 0.0)):
        raise Busy(1)
    try:
        yield
    finally:
        lock.release()


@router.post("/generate", response_model=KeyframesDoc, response_model_exclude_none=True)
async def generate_route(body: GenerateRequest, request: Request) -> dict[str, Any]:
    """Script -> keyframes (61 values each) with the chosen backend, in a worker with a time limit."""
    st = _state(request)
    script = _script(body.script, st.limits)
    engine, lock = st.backend(body.backend)
    timeout_s = st.limits.generate_timeout_s

    def work(cancel: threading.Event) -> Keyframes:
        options = {"seed": body.seed, "temperature": body.temperature, "timeout_s": timeout_s, "policy": body.policy}
        with _held(lock, timeout_s):
            return run(script, backend=engine, generate_options=options, stop_after="generate",
                       cancel=cancel).keyframes

    result = await st.generation.run(work, timeout_s=timeout_s)
    return result.to_dict()


@router.post("/regenerate", response_model=RegenerateResponse, response_model_exclude_none=True)
async def regenerate_route(body: RegenerateRequest, request: Request) -> dict[str, Any]:
    """One keyframe again, from the edited script; every other keyframe keeps the values it has."""
    st = _state(request)
    script = _script(body.script, st.limits)
    current = _keyframes(body.keyframes, st.limits) if body.keyframes is not None else None
    if script.needs_planning:
        raise ScriptError("regenerating needs a script with keyframes", field="script.keyframes")
    if current is not None and len(current) != len(script.keyframes):
        raise ScriptError(f"has {len(current)} keyframes but the script has {len(script.keyframes)}; send both "
                          "as they are now", field="keyframes")
    if body.index >= len(script.keyframes):
        raise ScriptError(f"{body.index} is out of range; the script has {len(script.keyframes)} keyframes",
                          field="index")
    engine, lock = st.backend(body.backend)
    timeout_s = st.limits.generate_timeout_s

    def work(cancel: threading.Event) -> Keyframe:
        with _held(lock, timeout_s):
            return regenerate_keyframe(script, body.index, backend=engine, current=current, seed=body.seed,
                                       temperature=body.temperature, timeout_s=timeout_s, policy=body.policy,
                                       cancel=cancel)

    new = await st.generation.run(work, timeout_s=timeout_s)
    base = current if current is not None else Keyframes(keyframes=script.keyframes, background=script.background,
                                                         emotion=script.emotion)
    # The edited script's texts win; the other keyframes keep their values (None where never generated).
    merged = tuple(
        new if i == body.index else Keyframe(description=kf.description, time_s=kf.time_s, name=kf.name,
                                             values=base.keyframes[i].values)
        for i, kf in enumerate(script.keyframes)
    )
    # meta comes from the client: keep only the keyframe indices that make sense for this script.
    before = base.meta.get("regenerated")
    kept = {i for i in before if type(i) is int and 0 <= i < len(merged)} if isinstance(before, list) else set()
    meta = {**dict(base.meta), "regenerated": sorted({*kept, body.index})}
    doc = Keyframes(keyframes=merged, background=script.background, emotion=script.emotion, meta=meta)
    return {"index": body.index, "keyframe": new.to_dict(), "keyframes": doc.to_dict()}


async def _animation(body: AnimateRequest, st: ServerState) -> Animation:
    kfs = _keyframes(body.keyframes, st.limits)
    _check_animate(body, st.limits)

    def work(_cancel: threading.Event) -> Animation:
        # every option of animate(), as declared; keyframes with values: the pipeline only animates
        anim = run(kfs, animate_options=body.animate_options()).animation
        assert anim is not None  # run animates unless told to stop after generating
        return anim

    return await st.rendering.run(work, timeout_s=st.limits.generate_timeout_s)


@router.post("/animate", response_model=AnimateResponse, response_model_exclude_none=True)
async def animate_route(body: AnimateRequest, request: Request) -> dict[str, Any]:
    """Keyframes -> dense animation: a summary, the timed keyframes and URLs of its files (frames inline on
    request). Files stay available for the last 32 animations."""
    st = _state(request)
    anim = await _animation(body, st)
    key = st.animations.put(anim)
    timed = anim.keyframes if anim.keyframes is not None else Keyframes(keyframes=())
    out: dict[str, Any] = {
        "id": key,
        "fps": anim.fps,
        "num_frames": anim.num_frames,
        "duration_s": anim.duration_s,
        "keyframe_times_s": [float(t or 0.0) for t in timed.times()],
        "keyframes": timed.to_dict(),
        "urls": {f.value: f"/api/animations/{key}.{f.value}" for f in ExportFormat},
        "channels": list(rig.CHANNELS),
    }
    if body.include_frames:
        out["frames"] = anim.to_dict(digits=4)["frames"]
    return out


@router.get("/animations/{anim_id}.{fmt}", response_class=Response)
async def animation_file(anim_id: str, fmt: ExportFormat, request: Request) -> Response:
    """A recent animation (from ``POST /api/animate``) as a file; the glTF head is the server's mesh."""
    st = _state(request)
    anim = st.animations.get(anim_id)
    if anim is None:
        raise HTTPException(404, "no such animation here (only the last 32 are kept); POST /api/animate again")
    data = await st.rendering.run(lambda _c: export_bytes(anim, fmt.value, mesh=st.mesh))
    return _file(data, fmt.value, "keyframeface-animation")


@router.get("/head.glb", response_class=Response)
async def head(request: Request) -> Response:
    """The server's head at rest (one neutral frame), for the page to show before anything is generated."""
    st = _state(request)
    if st.head_glb is None:
        neutral = Keyframes.from_array(rig.neutral()[None, :], times_s=[0.0])
        st.head_glb = await st.rendering.run(lambda _c: export_bytes(neutral, "glb", mesh=st.mesh))
    return Response(content=st.head_glb, media_type=_MEDIA_TYPES["glb"])


@router.post("/export/{fmt}", response_class=Response)
async def export_route(fmt: ExportFormat, body: ExportRequest, request: Request) -> Response:
    """Keyframes (animated first, unless ``what`` is ``keyframes``) as a file download in ``fmt``."""
    st = _state(request)
    obj: Animation | Keyframes
    if body.what == "keyframes":
        obj = _keyframes(body.keyframes, st.limits)
        if obj.missing:  # as /api/animate does: a file with holes in it is never handed out
            raise ScriptError(f"keyframes {obj.missing} have no values; generate (or regenerate) them before "
                              "exporting", field="keyframes")
    else:
        obj = await _animation(body, st)
    data = await st.rendering.run(lambda _c: export_bytes(obj, fmt.value, mesh=st.mesh))
    return _file(data, fmt.value, f"keyframeface-{body.what}")
