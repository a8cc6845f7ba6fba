"""The main job, once: plan -> generate -> animate -> export -> preview.

:func:`run` is what ``keyframeface animate`` does and what the web app's ``/api/generate`` and ``/api/animate``
call: a script (a :class:`~keyframeface.script.Script`, a path to a script file, or ``text=`` to plan) becomes
keyframes (planned first when the script is free text), then an animation, then files in an output folder
(keyframes JSON plus the chosen animation formats, and previews on request). Input that already has values
(:class:`~keyframeface.script.Keyframes` without holes) skips generation. Nothing here prints: progress goes to
the ``progress`` callback, problems raise :mod:`keyframeface.errors`.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .backends.base import Backend
from .errors import GenerationError, ScriptError
from .io.registry import writer_names
from .script import Animation, Keyframes, Script, load_script, save_json

__all__ = ["ALL_FORMATS", "DEFAULT_FORMATS", "ProgressCallback", "RunResult", "keyframes_path", "run"]

#: The animation files ``run`` writes unless told otherwise (``keyframeface animate --format``'s default).
DEFAULT_FORMATS: tuple[str, ...] = ("csv", "json", "glb")
#: Every animation format ``run`` writes: the defaults, then every other registered writer in name order.
ALL_FORMATS: tuple[str, ...] = (*DEFAULT_FORMATS, *sorted(n for n in writer_names() if n not in DEFAULT_FORMATS))

#: ``progress(stage, done, total)``: ``stage`` is ``"generate"`` (keyframes) or ``"preview"`` (frames). Each stage
#: is announced with ``done=0`` before its work starts.
ProgressCallback = Callable[[str, int, int], None]

Stage = Literal["generate", "animate"]


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` made.

    ``keyframes``: the generated keyframes (with the times ``animate`` chose when it ran). ``animation``: the dense
    animation, ``None`` when ``stop_after="generate"``. ``written``: every file written, keyframes JSON first
    (the run's manifest beside them, ``<name>.manifest.json``, is not listed).
    ``warnings``: what generation warned about per keyframe (``"keyframe 2: ..."``, from ``meta["warnings"]``).
    """

    keyframes: Keyframes
    animation: Animation | None = None
    written: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()


def keyframes_path(output: str | os.PathLike[str], name: str) -> Path:
    """Where :func:`run` writes the keyframes JSON."""
    return Path(output) / f"{name}.keyframes.json"


def partial_keyframes_path(output: str | os.PathLike[str], name: str) -> Path:
    """Where :func:`run` saves the keyframes that succeeded when generation fails (never over a good result)."""
    return Path(output) / f"{name}.partial.keyframes.json"


def check_name(name: str) -> str:
    """``name`` when it is a plain file-name stem (no folder, not ``.``/``..``); :class:`ScriptError` otherwise,
    so that no output can land outside the output folder."""
    if (not isinstance(name, str) or not name.strip() or name in (".", "..") or Path(name).name != name
            or any(c in name for c in "\\/\x00")):
        raise ScriptError(f"must be a plain file name stem without folders, got {name!r}", field="name")
    return name


def _options(options: Any, what: str) -> dict[str, Any]:
    """Keyword arguments from an options mapping or a (frozen) options dataclass; ``None`` -> ``{}``."""
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return dict(options)
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    raise ScriptError(f"{what} must be a mapping of keyword arguments or an options dataclass, "
                      f"got {type(options).__name__}")


def _formats(formats: Iterable[str]) -> list[str]:
    names = [str(f).strip().lower().lstrip(".") for f in formats]
    names = [f for f in names if f]
    unknown = [f for f in names if f not in ALL_FORMATS]
    if unknown:
        raise ScriptError(f"unknown format {','.join(unknown)!r}; choose among {', '.join(ALL_FORMATS)}",
                          field="formats")
    return list(dict.fromkeys(names))


def _source(script: Script | Keyframes | str | os.PathLike[str] | None, text: str | None) -> Script | Keyframes:
    if text is not None and script is not None:
        raise ScriptError("give a script or text, not both")
    if text is not None:
        return Script.from_text(text)
    if script is None:
        raise ScriptError("give a script (a Script, Keyframes or a script file) or text")
    if isinstance(script, (Script, Keyframes)):
        return script
    return load_script(script)


def _warnings(keys: Keyframes) -> tuple[str, ...]:
    recorded = keys.meta.get("warnings")
    if not isinstance(recorded, Mapping):
        return ()
    out: list[str] = []
    for index, items in recorded.items():
        label = f"keyframe {int(index) + 1}" if str(index).isdigit() else str(index)
        for item in items if isinstance(items, (list, tuple)) else [items]:
            out.append(f"{label}: {item}")
    return tuple(out)


def run(
    script: Script | Keyframes | str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    backend: str | Backend | None = None,
    backend_options: Mapping[str, Any] | None = None,
    generate_options: Any = None,
    animate_options: Any = None,
    explain: bool = False,
    output: str | os.PathLike[str] | None = None,
    name: str | None = None,
    formats: Iterable[str] = DEFAULT_FORMATS,
    preview: str | None = None,
    format_options: Mapping[str, Mapping[str, Any]] | None = None,
    stop_after: Stage = "animate",
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Script -> keyframes -> animation -> files: the main job.

    ``script``: a :class:`Script` (free ``text`` scripts are planned first), a path to a script file (JSON/YAML;
    a keyframes file's descriptions are used), or :class:`Keyframes` whose every keyframe has values (generation is
    skipped); or give ``text=`` (one free sentence) instead. ``backend`` (a name or a ready backend),
    ``backend_options`` (its constructor options) and ``explain`` are :func:`keyframeface.generate`'s;
    ``generate_options``: its other settings (``seed``, ``policy``, ``representation`` ...) as a
    :class:`~keyframeface.options.GenerateOptions` or a mapping of its keyword arguments; ``animate_options``:
    :func:`keyframeface.animate`'s (``fps``, ``method``, ``life``, ``seed`` ...) as an
    :class:`~keyframeface.options.AnimateOptions` or a mapping. ``stop_after="generate"`` returns the keyframes
    without animating (and writes nothing).

    ``output``: the folder to write to (created if needed; ``None`` writes nothing): ``<name>.keyframes.json``,
    then ``<name>.<format>`` for each of ``formats`` (among :data:`ALL_FORMATS`), then with ``preview`` (``"gif"``
    or ``"mp4"``, needs the ``[render]`` extra) a contact sheet, a curve plot and the video, and last
    ``<name>.manifest.json`` (run id, each file's sha256): the files are staged in a hidden folder and moved in
    together (:mod:`keyframeface.io.staging`), debris of killed runs removed first. ``name``: the file
    stem (default: the script file's stem, else ``"animation"``). ``format_options``: writer options per format
    name (``{"glb": {"mesh": "ict"}, "csv": {"tracking_loss": "drop"}}``). ``progress(stage, done, total)`` reports
    generation (keyframes) and previews (frames); ``cancel`` stops scheduling generation requests.

    Returns a :class:`RunResult`. Raises :class:`ScriptError` for bad input or options, and
    :class:`GenerationError` when keyframes fail for good; with ``output`` the keyframes that did succeed are first
    saved to :func:`partial_keyframes_path` (``error.partial`` holds them too), beside any earlier complete result,
    which stays whole.
    """
    gen_kwargs = {**_options(generate_options, "generate_options"), "backend": backend,
                  "backend_options": backend_options, "explain": explain}
    anim_kwargs = _options(animate_options, "animate_options")
    if stop_after not in ("generate", "animate"):
        raise ScriptError(f"stop_after must be 'generate' or 'animate', got {stop_after!r}", field="stop_after")
    if preview is not None and preview not in ("gif", "mp4"):
        raise ScriptError(f"preview must be 'gif', 'mp4' or None, got {preview!r}", field="preview")
    fmts = _formats(formats)
    outdir = Path(output) if output is not None else None
    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise ScriptError(f"output {outdir} exists and is not a folder", field="output")
    if name is None:
        name = Path(script).stem if isinstance(script, (str, os.PathLike)) and os.fspath(script) != "-" else "animation"
    check_name(name)
    if preview and output is not None:  # before any generation: a missing [render] extra must not waste an LLM run
        from .render.base import require_package

        require_package("PIL", purpose="previews")
    source = _source(script, text)

    if isinstance(source, Keyframes):  # values given: nothing to generate (animate refuses keyframes with holes)
        keys = source
    else:
        keys = _generate(source, gen_kwargs, progress=progress, cancel=cancel,
                         partial_path=None if outdir is None else partial_keyframes_path(outdir, name))
    if stop_after == "generate":
        return RunResult(keyframes=keys, warnings=_warnings(keys))

    from .animate import animate

    anim = animate(keys, **anim_kwargs)
    timed = anim.keyframes if anim.keyframes is not None else keys
    written: tuple[Path, ...] = ()
    if outdir is not None:
        written = _write_outputs(anim, timed, outdir, name, fmts, preview, format_options, progress)
    return RunResult(keyframes=timed, animation=anim, written=written, warnings=_warnings(keys))


def _write_outputs(anim: Animation, timed: Keyframes, outdir: Path, name: str, fmts: list[str], preview: str | None,
                   format_options: Mapping[str, Mapping[str, Any]] | None,
                   progress: ProgressCallback | None) -> tuple[Path, ...]:
    """Write the run's files into a staging folder inside ``outdir`` and move them in with a manifest
    (:class:`~keyframeface.io.staging.StagedOutput`): the folder never mixes files of two runs unnoticed, and a
    killed run's debris is removed by the next."""
    from .io.registry import export
    from .io.staging import StagedOutput

    with StagedOutput(outdir, name) as stage:
        staged = [stage.path(keyframes_path(".", name).name)]
        save_json(timed, staged[0])
        for fmt in fmts:
            staged.append(export(anim, stage.path(f"{name}.{fmt}"), format=fmt,
                                 **dict((format_options or {}).get(fmt, {}))))
        if preview:
            from .render import write_previews

            def frames_done(done: int, total: int) -> None:
                if progress is not None:
                    progress("preview", done, total)

            staged.extend(write_previews(anim, stage.staging, name, video=preview, progress=frames_done))
        return stage.commit(staged)


def _generate(
    script: Script,
    options: dict[str, Any],
    *,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    partial_path: Path | None,
) -> Keyframes:
    """Plan (when the script is free text) then generate; partial keyframes are saved to ``partial_path``."""
    from .generate import generate

    if script.needs_planning:  # planned here, not inside generate(), so progress counts the real keyframes
        from .plan import plan

        script = plan(script.text or "", backend=options.get("backend"), seed=options.get("seed"),
                      backend_options=options.get("backend_options"), timeout_s=options.get("timeout_s", 120.0))
    if progress is not None:
        progress("generate", 0, len(script.keyframes))

    def done(count: int, total: int) -> None:
        if progress is not None:
            progress("generate", count, total)

    try:
        return generate(script, **options, progress=done, cancel=cancel)
    except GenerationError as exc:
        if partial_path is not None and isinstance(exc.partial, Keyframes):
            save_json(exc.partial, partial_path)
        raise
