"""Regenerate one keyframe of a script, keeping every other keyframe as the user has it.

A thin call of :func:`keyframeface.generate` with ``indices=[index]`` and ``current=`` the keyframes on screen:
only keyframe ``index`` reaches the backend, with the whole script as context (the release prompt lists every
keyframe), and direct backends get the user's current values of keyframe ``index - 1`` as ``previous`` so that
carried-over states ("the brows remain worried") follow what is on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..backends.base import Backend
from ..errors import ScriptError
from ..generate import generate
from ..script import Keyframe, Keyframes, Script

__all__ = ["regenerate_keyframe"]


def regenerate_keyframe(
    script: Script,
    index: int,
    *,
    backend: Backend,
    current: Keyframes | None = None,
    representation: str | None = None,
    **generate_options: Any,
) -> Keyframe:
    """Generate keyframe ``index`` of ``script`` again and return it (with values, and the script's time/name).

    ``current``: the keyframes on screen; their values are the context for direct backends (``previous``).
    ``representation``: as in :func:`keyframeface.generate` (``None``: the backend's preferred one, else json).
    ``generate_options`` go to :func:`keyframeface.generate` (``seed``, ``temperature``, ``timeout_s``,
    ``policy``, ``cancel``). Raises :class:`ScriptError` for a bad index and whatever ``generate`` raises
    (:class:`~keyframeface.errors.GenerationError` when the keyframe failed).
    """
    if script.needs_planning:
        raise ScriptError("the script has no keyframes yet; plan it first", field="keyframes")
    count = len(script.keyframes)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ScriptError(f"index {index!r} is out of range; the script has {count} keyframes", field="index")
    options: Mapping[str, Any] = {"concurrency": 1, **generate_options}
    result = generate(
        script, backend=backend, representation=representation, indices=[index], current=current, **options
    )
    return result.keyframes[index]
