"""The one interface every backend implements.

Two kinds of backend exist, told apart by :attr:`Capabilities.chat`:

* **chat** backends (LLMs: ``llama``, ``openai``, ``hf``) take release-format chat messages built by
  :mod:`keyframeface.prompt` and return the model's raw text; :mod:`keyframeface.generate` parses it.
* **direct** backends (``rules``, ``bundled``) take the whole :class:`~keyframeface.script.Script` and a keyframe
  index and return 61 values directly.

Prompting, parsing, validation, fan-out, retries and repair live once in :mod:`keyframeface.generate`, never here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import BackendUnavailableError
from ..options import OptionInfo, describe, option_names
from ..script import Script

__all__ = ["Backend", "Capabilities", "DirectResult", "GenerationOptions", "Message"]

#: A chat message: ``{"role": "system" | "user" | "assistant", "content": str}``.
Message = Mapping[str, str]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do. ``chat``: messages -> text; otherwise Script -> values (``direct``).

    ``seed``: honours :attr:`GenerationOptions.seed`. ``structured``: can constrain output to valid JSON.
    ``concurrent``: safe to call from several threads at once. ``explains``: returns an explanation.
    ``batch``: chat backends that implement :meth:`Backend.complete_batch` (all keyframes in one call).
    """

    chat: bool = False
    batch: bool = False
    seed: bool = False
    structured: bool = False
    concurrent: bool = False
    explains: bool = False


@dataclass(frozen=True)
class GenerationOptions:
    """Options every backend receives (each uses what applies to it)."""

    seed: int | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout_s: float = 120.0
    representation: str = "json"
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class DirectResult:
    """A direct backend's answer for one keyframe.

    ``values``: (61,) float32 in ``rig.CHANNELS`` order, already within range.
    ``explanation``: optional list of ``{"phrase": str, "channels": {name: value}, "rule": str}`` records saying
    which words produced which channel values. ``coverage``: see the field.
    """

    values: np.ndarray
    explanation: Sequence[Mapping[str, Any]] | None = None
    #: What the backend understood of the description (the rule composer's ``coverage``: ``facial`` false when it
    #: found no facial action, ``unknown`` the words it could not read); ``None`` when a backend does not say.
    coverage: Mapping[str, Any] | None = None


class Backend:
    """Base class of all backends. Subclasses set ``name``, ``capabilities`` and implement one method.

    Construction must be cheap and must not load models: loading happens on first use, so that listing
    backends never imports heavy packages.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The options this backend takes (its constructor's keywords), declared once as a frozen dataclass whose fields
    #: carry a default and a help line (:func:`keyframeface.options.option`), like simonw/llm's ``Options``:
    #: :func:`~keyframeface.backends.registry.get_backend` refuses other names and ``keyframeface backends`` lists
    #: them. ``None``: not declared (a third-party backend written before this); its keywords are not checked.
    Options: ClassVar[type | None] = None

    @classmethod
    def options_info(cls) -> list[OptionInfo] | None:
        """The declared options (name, type, default, help), or ``None`` when :attr:`Options` is not declared."""
        return None if cls.Options is None else describe(cls.Options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Raise :class:`~keyframeface.errors.BackendUnavailableError` (one line naming the valid options) when
        ``options`` holds a name :attr:`Options` does not declare; nothing to check without a declaration."""
        if cls.Options is None:
            return
        valid = option_names(cls.Options)
        unknown = sorted(str(k) for k in options if k not in valid)
        if unknown:
            takes = ", ".join(valid) if valid else "no options"
            raise BackendUnavailableError(
                f"backend {cls.name!r} does not take these options: {', '.join(u[:40] for u in unknown)}; "
                f"it takes {takes}"
            )

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """``(usable, reason)``: whether this backend can run here and, if not, what to install or configure."""
        return True, "ready"

    def describe(self) -> dict[str, Any]:
        """What to record in output metadata (model name, adapter, server URL without secrets ...)."""
        return {"backend": self.name}

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        """Chat backends: return the model's raw answer text to ``messages``.

        Raise :class:`~keyframeface.errors.BackendError` (``transient=True`` for retryable failures).
        """
        raise NotImplementedError(f"backend {self.name!r} is not a chat backend")

    def complete_batch(self, conversations: Sequence[Sequence[Message]], *, options: GenerationOptions) -> list[str]:
        """Chat backends with ``capabilities.batch``: one answer per conversation, in order.

        The default calls :meth:`complete` for each conversation in turn.
        """
        return [self.complete(messages, options=options) for messages in conversations]

    def generate_values(
        self,
        script: Script,
        index: int,
        *,
        previous: np.ndarray | None,
        options: GenerationOptions,
    ) -> DirectResult:
        """Direct backends: 61 values for ``script.keyframes[index]``.

        ``previous`` is the (61,) values chosen for keyframe ``index - 1`` (``None`` for the first), so states
        such as "the brows remain worried" can carry over.
        """
        raise NotImplementedError(f"backend {self.name!r} is not a direct backend")

    def usage(self) -> Mapping[str, int]:
        """Cumulative token counts since construction: ``{"prompt_tokens": n, "completion_tokens": m}``.

        Chat backends that know their token counts override this (the evaluation reports tokens per keyframe
        from the difference before and after a run); the default, for backends without tokens, is ``{}``.
        Counts only ever grow; they are not reset by :meth:`close`.
        """
        return {}

    def close(self) -> None:
        """Release resources (servers, models). Safe to call twice."""
