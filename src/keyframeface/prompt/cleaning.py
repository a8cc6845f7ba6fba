"""Pre-cleaning of model answers: ``<think>`` blocks and code fences."""

from __future__ import annotations

import re

__all__ = ["FENCE", "strip_reasoning"]

# Only the exact Qwen3 tags: a looser pattern such as ``<\s*/?\s*think\s*>`` backtracks quadratically on long runs
# of spaces, and the models emit these exact tags.
_THINK_TAG = re.compile(r"</?think>", re.IGNORECASE)
#: A code fence opening or closing (```json), replaced by a line break before reading pairs.
FENCE = re.compile(r"```[A-Za-z0-9_+\-]*")


def strip_reasoning(text: str) -> tuple[str, str | None]:
    """Remove ``<think>...</think>`` blocks. Returns ``(answer text, text of an unclosed <think> block or None)``.

    A closing tag without an opening one means the opening tag was in the prompt (Qwen3 chat templates, vLLM
    reasoning parsers), so everything before it is reasoning and is dropped.
    """
    parts: list[str] = []
    pos = 0
    open_at: int | None = None
    for m in _THINK_TAG.finditer(text):
        closing = m.group().startswith("</")
        if open_at is None:
            if closing:
                parts, pos = [], m.end()
            else:
                parts.append(text[pos : m.start()])
                open_at = m.end()
        elif closing:
            open_at, pos = None, m.end()
    if open_at is not None:
        return "".join(parts), text[open_at:]
    parts.append(text[pos:])
    return "".join(parts), None

