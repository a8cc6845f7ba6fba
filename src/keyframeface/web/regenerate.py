"""Regenerate one keyframe of a script, keeping every other keyframe as the user has it.

:func:`keyframeface.generate` is the one place that prompts, parses, retries and repairs; it works on a whole
script. To ask the model about one keyframe only, the backend is wrapped so that every *other* keyframe is
answered at once from the values the user already has (no model call) and only keyframe ``index`` reaches the
real backend, with the whole script as context (the release prompt lists every keyframe). Direct backends get
the user's current values of keyframe ``index - 1`` as ``previous``, so carried-over states ("the brows remain
worried") follow what is on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .. import prompt, rig
from ..backends.base import Backend, Capabilities, DirectResult, GenerationOptions, Message
from ..errors import ScriptError
from ..generate import generate
from ..script import Keyframe, Keyframes, Script

__all__ = ["regenerate_keyframe"]


def _known_values(current: Keyframes | None, count: int) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = [None] * count
    if current is not None:
        for i, kf in enumerate(current.keyframes[:count]):
            if kf.values is not None:
                out[i] = kf.array
    return out


class _OneDirect(Backend):
    """A direct backend that asks ``inner`` for keyframe ``index`` only."""

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, inner: Backend, index: int, known: list[np.ndarray | None]) -> None:
        self.inner, self.index, self.known = inner, index, known

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def generate_values(
        self, script: Script, index: int, *, previous: np.ndarray | None, options: GenerationOptions
    ) -> DirectResult:
        if index == self.index:
            prev = self.known[index - 1] if index > 0 else None
            return self.inner.generate_values(script, index, previous=prev, options=options)
        known = self.known[index]
        return DirectResult(values=known if known is not None else rig.neutral())


class _OneChat(Backend):
    """A chat backend that sends only keyframe ``index``'s conversation (and its repairs) to ``inner``."""

    capabilities: ClassVar[Capabilities] = Capabilities(chat=True)

    def __init__(self, inner: Backend, index: int, script: Script, representation: str) -> None:
        self.inner, self.index, self.representation = inner, index, representation
        # The user message names the keyframe asked for; it identifies each conversation generate() sends.
        self._index_of = {
            prompt.build_messages(script, i, representation=representation)[-1]["content"]: i
            for i in range(len(script.keyframes))
        }

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        index = self._index_of.get(users[0] if users else "", self.index)
        if index == self.index:
            return self.inner.complete(messages, options=options)
        # Any valid answer will do: generate() parses it and the caller keeps only keyframe ``index``.
        return prompt.format_answer(rig.neutral(), index, representation=self.representation)


def regenerate_keyframe(
    script: Script,
    index: int,
    *,
    backend: Backend,
    current: Keyframes | None = None,
    representation: str = "json",
    **generate_options: Any,
) -> Keyframe:
    """Generate keyframe ``index`` of ``script`` again and return it (with values, and the script's time/name).

    ``current``: the keyframes on screen; their values are the context for direct backends (``previous``).
    ``generate_options`` go to :func:`keyframeface.generate` (``seed``, ``temperature``, ``timeout_s``,
    ``policy``, ``cancel``). Raises :class:`ScriptError` for a bad index and whatever ``generate`` raises
    (:class:`~keyframeface.errors.GenerationError` when the keyframe failed).
    """
    if script.needs_planning:
        raise ScriptError("the script has no keyframes yet; plan it first", field="keyframes")
    count = len(script.keyframes)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ScriptError(f"index {index!r} is out of range; the script has {count} keyframes", field="index")
    wrapper: Backend
    if backend.capabilities.chat:
        wrapper = _OneChat(backend, index, script, representation)
    else:
        wrapper = _OneDirect(backend, index, _known_values(current, count))
    options: Mapping[str, Any] = {"concurrency": 1, **generate_options}
    result = generate(script, backend=wrapper, representation=representation, **options)
    return result.keyframes[index]
