"""Generation orchestration: Script -> Keyframes through any backend.

This is the only place that knows how a keyframe is produced: it builds release-format prompts
(:mod:`keyframeface.prompt`), calls the backend, parses and validates the answer, retries transient failures with
backoff, re-asks once with the error when an answer is invalid (the repair pass), fans keyframes out in parallel for
chat backends, and keeps partial results when some keyframes fail for good.

Eye rotations: by default (``sync_eyes=True``) every generated keyframe's eye yaw/pitch are recomputed from its
eyeLook channels in the capture convention of :mod:`keyframeface.rig` (pitch positive = looking down), so what
keyframeface writes is always self-consistent whatever convention a model learnt.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any, Final

import numpy as np

from . import rig
from ._version import __version__
from .backends.base import Backend, GenerationOptions
from .backends.registry import get_backend
from .errors import BackendError, GenerationError, KeyframeFaceError, ModelOutputError, ScriptError
from .options import GenerateOptions, Spec, policies, spec_of
from .script import Keyframes, Script

__all__ = ["GenerateSettings", "generate"]

logger = logging.getLogger(__name__)

#: Called after each finished keyframe with (done, total).
ProgressCallback = Callable[[int, int], None]

_REPAIR_INSTRUCTION = (
    "Your previous answer could not be used: {error}. Answer again with strict JSON only, in the form "
    '{{"{key}":{{...}}}} with all 61 parameters as numbers (blendshapes in [0,1], head/eye pose in [-1,1]).'
)


#: The declared defaults and ranges (keyframeface.options.GenerateOptions); generate() and GenerateSettings read them.
_D: Final[GenerateOptions] = GenerateOptions()
_SPECS: Final[dict[str, Spec]] = {f.name: spec_of(f) for f in fields(GenerateOptions)}


@dataclass(frozen=True)
class GenerateSettings:
    """Orchestration settings recorded in the output's ``meta.options`` (this order); the defaults are
    :class:`~keyframeface.options.GenerateOptions`'s, ``representation`` resolved (``json`` when not chosen)."""

    concurrency: int = _D.concurrency
    retries: int = _D.retries
    repair_attempts: int = _D.repair_attempts
    policy: str = _D.policy
    representation: str = "json"
    sync_eyes: bool = _D.sync_eyes
    backoff_s: float = 0.5


def generate(
    script: Script,
    *,
    backend: str | Backend | None = None,
    seed: int | None = _D.seed,
    temperature: float = _D.temperature,
    timeout_s: float = _D.timeout_s,
    concurrency: int = _D.concurrency,
    retries: int = _D.retries,
    repair_attempts: int = _D.repair_attempts,
    policy: str = _D.policy,
    representation: str | None = _D.representation,
    sync_eyes: bool = _D.sync_eyes,
    explain: bool = False,
    backend_options: Mapping[str, Any] | None = None,
    indices: Sequence[int] | None = None,
    current: Keyframes | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Keyframes:
    """Generate 61 values for every keyframe of ``script``.

    ``backend``: a registered name (default: the offline default), or a ready :class:`Backend`.
    ``policy``: ``"strict"`` (invalid model answers fail, then the repair pass re-asks) or ``"repair"`` (missing
    channels become 0 and out-of-range values are clamped, with warnings). ``concurrency`` bounds parallel requests
    for chat backends that allow it. ``retries``: extra attempts on transient backend errors (exponential backoff).
    ``cancel``: set it from another thread to stop scheduling further requests.
    ``representation``: what chat backends write (``"json"``, ``"compact"``, ``"semantic"``); ``None`` uses the
    backend's ``preferred_representation`` (a LoRA adapter's training representation), else ``"json"``.
    ``indices``: generate only these keyframes (0-based; default all); every other keyframe keeps its values from
    ``current`` (the keyframes a user already has, e.g. in an editor), whose values are also the context passed to
    direct backends as ``previous``. This is how one keyframe is regenerated with the whole script as context.

    Returns :class:`Keyframes` whose ``meta`` records backend, model, package version, options, seed and time.
    Raises :class:`GenerationError` when some keyframes fail for good: ``error.partial`` holds every keyframe that
    succeeded (failed ones without values) and ``error.failed`` maps their indices to the causes.
    """
    if not isinstance(script, Script):
        raise ScriptError(f"generate() takes a Script, got {type(script).__name__}; use Script.from_dict or load_script")
    t_spec, temp_spec = _SPECS["timeout_s"], _SPECS["temperature"]
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not (
        (t_spec.low or 0.0) < timeout_s < (t_spec.high or math.inf)
    ):
        raise ScriptError(f"timeout_s must be a number of seconds > 0, got {timeout_s!r}", field="timeout_s")
    low_t, high_t = temp_spec.low or 0.0, temp_spec.high or math.inf
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not low_t <= temperature <= high_t:
        raise ScriptError(f"temperature must be a number in [{low_t:g}, {high_t:g}], got {temperature!r}",
                          field="temperature")
    if script.needs_planning:
        from .plan import plan  # imported lazily: planning is optional

        script = plan(
            script.text or "",
            backend=backend,
            seed=seed,
            backend_options=backend_options,
            timeout_s=timeout_s,
        )
    if policy not in policies():
        raise ScriptError(f"policy must be {' or '.join(repr(p) for p in policies())}, got {policy!r}")
    if concurrency < 1 or retries < 0 or repair_attempts < 0:
        raise ScriptError("concurrency must be >= 1 and retries / repair_attempts >= 0")

    engine = get_backend(backend, **dict(backend_options or {}))
    if representation is None:
        representation = getattr(engine, "preferred_representation", None) or "json"
    settings = GenerateSettings(concurrency, retries, repair_attempts, policy, representation, sync_eyes)
    options = GenerationOptions(
        seed=seed, temperature=temperature, timeout_s=timeout_s, representation=representation
    )
    count = len(script.keyframes)
    selected = _selected(indices, count)
    known: list[np.ndarray | None] = [None] * count
    if current is not None:
        for i, kf in enumerate(current.keyframes[:count]):
            if kf.values is not None:
                known[i] = kf.array
    total = len(selected)
    results: dict[int, np.ndarray] = {}
    explanations: dict[int, Any] = {}
    warnings_by_kf: dict[int, list[str]] = {}
    coverage_by_kf: dict[int, dict[str, Any]] = {}
    failed: dict[int, Exception] = {}
    done = 0

    def finished() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if engine.capabilities.chat:
        workers = min(settings.concurrency, total) if engine.capabilities.concurrent else 1
        lock = threading.Lock()

        first_texts: dict[int, str] = {}
        if engine.capabilities.batch and total > 1 and not (cancel is not None and cancel.is_set()):
            # One batched call for every keyframe; invalid answers then go through the per-keyframe repair pass.
            from . import prompt

            conversations = [prompt.build_messages(script, i, representation=representation) for i in selected]
            try:
                texts = _with_retries(
                    lambda: engine.complete_batch(conversations, options=options),
                    retries=settings.retries,
                    backoff_s=settings.backoff_s,
                    cancel=cancel,
                )
                if len(texts) != len(selected):
                    raise BackendError(f"the batch gave {len(texts)} answers for {len(selected)} requests")
                first_texts = {i: str(t) for i, t in zip(selected, texts, strict=True)}
            except BackendError as exc:
                logger.warning("batched generation failed (%s); falling back to one request per keyframe", exc)

        def run_one(i: int) -> None:
            if cancel is not None and cancel.is_set():
                with lock:
                    failed[i] = GenerationError("cancelled before it started")
                return
            try:
                values, warns = _chat_keyframe(engine, script, i, options, settings, cancel, first_texts.get(i))
                with lock:
                    results[i] = values
                    if warns:
                        warnings_by_kf[i] = warns
            except KeyframeFaceError as exc:
                with lock:
                    failed[i] = exc
            except Exception as exc:  # a third-party backend's own error must not drop the other keyframes
                logger.debug("keyframe %d failed", i + 1, exc_info=True)
                with lock:
                    failed[i] = BackendError(f"{type(exc).__name__}: {exc}")
            finally:
                with lock:
                    finished()

        if workers <= 1:
            for i in selected:
                run_one(i)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keyframeface-gen") as pool:
                list(pool.map(run_one, selected))
    else:
        for i in selected:
            # The keyframe before: just generated, else the caller's current values (None when unknown).
            previous = results.get(i - 1, known[i - 1] if i > 0 else None)
            if cancel is not None and cancel.is_set():
                failed[i] = GenerationError("cancelled before it started")
                finished()
                continue
            try:
                result = _with_retries(
                    functools.partial(engine.generate_values, script, i, previous=previous, options=options),
                    retries=settings.retries,
                    backoff_s=settings.backoff_s,
                    cancel=cancel,
                )
                results[i] = _finish_values(result.values, settings)
                if getattr(result, "coverage", None) is not None:
                    coverage_by_kf[i] = dict(result.coverage)
                if explain and result.explanation is not None:
                    explanations[i] = list(result.explanation)
            except KeyframeFaceError as exc:
                failed[i] = exc
            except Exception as exc:  # a third-party backend's own error must not drop the other keyframes
                logger.debug("keyframe %d failed", i + 1, exc_info=True)
                failed[i] = BackendError(f"{type(exc).__name__}: {exc}")
            finished()

    keyframes = tuple(
        kf.with_values(results[i]) if i in results else (kf.with_values(v) if (v := known[i]) is not None else kf)
        for i, kf in enumerate(script.keyframes)
    )
    meta: dict[str, Any] = {
        **engine.describe(),
        "backend": engine.name,
        "package": "keyframeface",
        "package_version": __version__,
        "options": {**asdict(settings), "temperature": temperature, "timeout_s": timeout_s},
        "seed": seed,
        **({"generated": list(selected)} if indices is not None else {}),
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "eye_convention": "capture (pitch positive = looking down)" if sync_eyes else "as generated",
    }
    if warnings_by_kf:
        meta["warnings"] = {str(i): w for i, w in sorted(warnings_by_kf.items())}
    if coverage_by_kf:
        meta["language"] = language_meta(script, coverage_by_kf)
    if explain and explanations:
        meta["explanations"] = {str(i): e for i, e in sorted(explanations.items())}
    out = Keyframes(keyframes=keyframes, background=script.background, emotion=script.emotion, meta=meta)
    if failed:
        names = ", ".join(f"keyframe {i + 1} ({_short(failed[i])})" for i in sorted(failed))
        raise GenerationError(
            f"{len(failed)} of {total} keyframes failed: {names}; the other {total - len(failed)} were kept",
            partial=out,
            failed=failed,
        )
    return out


def _selected(indices: Sequence[int] | None, count: int) -> list[int]:
    if indices is None:
        return list(range(count))
    out = []
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count:
            raise ScriptError(f"keyframe index {i!r} is out of range; the script has {count} keyframes", field="indices")
        out.append(i)
    return sorted(set(out))


def language_meta(script: Script, coverage: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """``meta["language"]``: each keyframe's coverage (what the reading understood) and ``blank``, the 0-based
    indices of keyframes whose description gave no facial action; each blank keyframe is logged as a warning
    naming it (numbered from 1) and the words that were not understood. ``--strict`` makes them an error."""
    blank = sorted(i for i, c in coverage.items() if not c.get("facial", True))
    for i in blank:
        logger.warning("%s", blank_message(i, script.keyframes[i].description, coverage[i]))
    return {"coverage": {str(i): dict(c) for i, c in sorted(coverage.items())}, "blank": blank}


def blank_message(index: int, description: str, coverage: Mapping[str, Any]) -> str:
    """One line saying that keyframe ``index`` (0-based; shown from 1) has no facial action, and why."""
    unknown = list(coverage.get("unknown") or [])
    scene = list(coverage.get("scene") or [])
    why = []
    if unknown:
        why.append("words not understood: " + ", ".join(unknown))
    if scene:
        why.append("read as scene text: " + "; ".join(scene))
    shown = description if len(description) <= 60 else description[:57] + "..."
    return (f"keyframe {index + 1}: no facial action understood in {shown!r}"
            + (f" ({'; '.join(why)})" if why else "") + "; the face keeps only the emotion baseline")


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _finish_values(values: np.ndarray, settings: GenerateSettings) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    if arr.shape != (rig.NUM_CHANNELS,):
        raise ModelOutputError(f"backend returned {arr.shape[0]} values, expected {rig.NUM_CHANNELS}")
    if not np.isfinite(arr).all():
        raise ModelOutputError("backend returned NaN or inf")
    arr, clamped = rig.clamp(arr)
    if clamped:
        logger.warning("clamped %d out-of-range values: %s", len(clamped), ", ".join(c.channel for c in clamped[:8]))
    if settings.sync_eyes:
        arr = rig.sync_eye_rotations(arr)
    return arr


def _with_retries(
    call: Callable[[], Any], *, retries: int, backoff_s: float, cancel: threading.Event | None
) -> Any:
    """Run ``call``, retrying :class:`BackendError` with ``transient=True`` up to ``retries`` times."""
    attempt = 0
    while True:
        try:
            return call()
        except BackendError as exc:
            if not exc.transient or attempt >= retries or (cancel is not None and cancel.is_set()):
                raise
            delay = backoff_s * (2**attempt) * (1.0 + 0.25 * random.random())  # jitter spreads retries
            logger.warning("transient backend error (%s); retry %d/%d in %.1f s", exc, attempt + 1, retries, delay)
            if cancel is not None:
                if cancel.wait(delay):
                    raise
            else:
                time.sleep(delay)
            attempt += 1


def _chat_keyframe(
    engine: Backend,
    script: Script,
    index: int,
    options: GenerationOptions,
    settings: GenerateSettings,
    cancel: threading.Event | None,
    first_text: str | None = None,
) -> tuple[np.ndarray, list[str]]:
    """One keyframe through a chat backend: prompt, call (with retries), parse, repair pass.

    ``first_text``: an answer already obtained (from a batched call) to parse before asking again.
    """
    from . import prompt

    messages: list[dict[str, str]] = [dict(m) for m in prompt.build_messages(script, index, representation=settings.representation)]
    last_error: ModelOutputError | None = None
    for attempt in range(settings.repair_attempts + 1):
        if cancel is not None and cancel.is_set():
            raise GenerationError("cancelled")
        if attempt == 0 and first_text is not None:
            text = first_text
        else:
            text = _with_retries(
                functools.partial(engine.complete, tuple(messages), options=options),
                retries=settings.retries,
                backoff_s=settings.backoff_s,
                cancel=cancel,
            )
        try:
            parsed = prompt.parse_values(
                text, policy=settings.policy, index=index, representation=settings.representation
            )
        except ModelOutputError as exc:
            last_error = exc
            logger.info("keyframe %d: invalid answer (attempt %d): %s", index + 1, attempt + 1, exc)
            key = prompt.answer_key(index + 1)
            messages = [
                *messages[:2],
                {"role": "assistant", "content": str(text)[:4000]},
                {"role": "user", "content": _REPAIR_INSTRUCTION.format(error=_short(exc), key=key)},
            ]
            continue
        return _finish_values(parsed.values, settings), list(parsed.warnings)
    assert last_error is not None  # the loop ran at least once and only falls through on errors
    raise last_error

