"""LLM-assisted reading: descriptions the rule composer cannot read are rewritten by a chat model into its canonical
vocabulary, then composed as usual. Off by default (``generate(..., assist="openai")``, ``--assist openai``).

The stage runs after a first composition, from what that composition understood (``meta["language"]["coverage"]``):

1. **Routing** (:func:`route`): only keyframes that need it are sent, so most cost nothing and none that the
   composer read well can be damaged (a probe found a small model damaging keyframes the composer already read):

   * ``blank``: no facial action and words that were not understood (``coverage["unknown"]``), with no scene
     text recognised (a description the composer read as scene text, "A car passes outside.", is right blank);
   * ``low coverage``: an English description with a facial action, no scene text and nothing the reading layer
     resolved (idioms, casual writing, notes), but at least
     :data:`MIN_UNREAD` content words that no entry read and under :data:`MIN_READ_SHARE` of its content words
     read (counted the way ``coverage["unknown"]`` is);
   * ``suspicious``: a relative note that needs a keyframe before it ("Hold.", "the other eye", "bigger") on the
     first keyframe.

2. **Rewriting** (:func:`build_messages`, :func:`rewrite_script`): each routed keyframe is sent, in order, with the
   whole scene as context (background, emotion, the keyframes before it as they will be composed). The answer is
   ``{"actions": [{"action": PHRASE, "degree": GRADE}]}`` from :mod:`keyframeface.semantics.vocabulary`;
   :class:`~keyframeface.backends.base.GenerationOptions` ``.extra`` carries its JSON Schema and GBNF grammar, which
   the ``openai`` backend sends to engines that constrain decoding (llama.cpp's server, vLLM, Ollama). Phrases
   outside the vocabulary are dropped (what an unconstrained engine, such as the ``llama`` backend's free decoding,
   can write). An empty list keeps the description as it was.

3. **Merge**: :func:`keyframeface.generate.generate` composes the rewritten script again; the output keeps the
   user's descriptions, each rewritten keyframe's explanation starts with the rewrite, and ``meta["assist"]``
   records the assistant, what was routed and why, each rewrite, and the seconds spent. A failing assistant never
   fails the generation: the keyframe keeps its first composition and the error is recorded.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from .backends.base import Backend, GenerationOptions, Message
from .errors import BackendUnavailableError, KeyframeFaceError
from .script import Script

__all__ = [
    "MIN_READ_SHARE", "MIN_UNREAD", "AssistResult", "Rewrite", "build_messages", "get_assistant", "rewrite_script",
    "route", "unread_words",
]

logger = logging.getLogger(__name__)

#: "low coverage": at least this many content words unread ... (on the packaged case sets, two unread words were
#: mostly scene words of descriptions read right, "He squints into the bright sun"; see docs/assist.md).
MIN_UNREAD: Final[int] = 3
#: ... and under this share of the content words read.
MIN_READ_SHARE: Final[float] = 0.5
#: Longest answer asked for: four actions in compact JSON are ~60 tokens with the Qwen2.5 tokenizer.
MAX_ANSWER_TOKENS: Final[int] = 160


@dataclass(frozen=True)
class Rewrite:
    """One routed keyframe: ``index`` (0-based), ``reason`` (``blank``, ``low coverage``, ``suspicious``),
    ``original`` description, ``actions`` chosen (``(phrase, degree)``), ``text`` (the rewrite, ``""``: none),
    ``seconds`` the request took, ``error`` when the assistant failed."""

    index: int
    reason: str
    original: str
    actions: tuple[tuple[str, str], ...] = ()
    text: str = ""
    seconds: float = 0.0
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """The explanation record of a rewrite (shown first in the keyframe's explanation)."""
        return {"phrase": self.original, "rule": f"rewritten by the assistant ({self.reason}) as {self.text!r}",
                "channels": {}}

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "original": self.original, "rewrite": self.text,
                "actions": [list(a) for a in self.actions], "seconds": round(self.seconds, 3),
                **({"error": self.error} if self.error else {})}


@dataclass(frozen=True)
class AssistResult:
    """The rewritten ``script`` (descriptions replaced where a rewrite was made), every routed keyframe's
    :class:`Rewrite` by index, and ``info`` (the assistant's ``describe()``)."""

    script: Script
    rewrites: Mapping[int, Rewrite] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> list[int]:
        """Indices whose description was rewritten."""
        return sorted(i for i, r in self.rewrites.items() if r.text)

    def meta(self) -> dict[str, Any]:
        """``meta["assist"]`` of the output."""
        return {**self.info, "routed": {str(i): r.reason for i, r in sorted(self.rewrites.items())},
                "rewrites": {str(i): r.to_dict() for i, r in sorted(self.rewrites.items())},
                "seconds": round(self.seconds, 3)}


# ------------------------------------------------------------------------------------------------ routing
_WORD = re.compile(r"[^\W\d_][\w']*")


def unread_words(description: str) -> tuple[list[str], int]:
    """``(unread, content)``: the content words of ``description`` that no lexicon entry read (after casual
    writing, idioms, notes and scene text are resolved, as :func:`keyframeface.semantics.reading.coverage` counts
    them) and how many content words it has. Other languages than English and Chinese count as fully read (their
    lexicons read whole sentences, and Chinese is tagged by character; a blank one is routed as ``blank``)."""
    from .semantics.languages import detect_language
    from .semantics.parse import tag_text
    from .semantics.reading import _STOP, read_description

    if detect_language(description) != "en":
        return [], 0
    reading = read_description(description)
    _, tokens, tags = tag_text(reading.text)
    covered = {i for t in tags for i in range(t.start, t.end)}
    content = [(i, t.text) for i, t in enumerate(tokens) if _WORD.fullmatch(t.text) and t.text.lower() not in _STOP]
    return [w for i, w in content if i not in covered], len(content)


#: Relative notes that refer to a keyframe before ("neutral" and "relax" mean the same on the first keyframe).
_NEEDS_BEFORE: Final[frozenset[str]] = frozenset({"hold", "again", "bigger", "smaller", "other", "undo"})


def route(description: str, coverage: Mapping[str, Any] | None, *, index: int) -> str | None:
    """Why keyframe ``index`` (0-based) should be rewritten (``"blank"``, ``"low coverage"``, ``"suspicious"``),
    or ``None`` when its first composition can stand (see the module docstring). ``coverage``: that composition's
    ``meta["language"]["coverage"]`` entry (``None``: the backend said nothing, nothing is routed)."""
    if coverage is None or not description.strip():
        return None
    if not coverage.get("facial", True):
        return "blank" if coverage.get("unknown") and not coverage.get("scene") else None
    from .semantics.reading import read_description

    if index == 0 and any(op.op in _NEEDS_BEFORE for op in read_description(description).relative):
        return "suspicious"
    if coverage.get("scene") or read_description(description).records:
        # the rest of a description with scene text is mostly scene words too; one whose idioms, casual words or
        # notes the reading resolved was understood (measured: rewriting "She bites her tongue and lets him talk"
        # lost the idiom's meaning)
        return None
    unread, content = unread_words(description)
    if len(unread) >= MIN_UNREAD and content and 1.0 - len(unread) / content < MIN_READ_SHARE:
        return "low coverage"
    return None


# ------------------------------------------------------------------------------------------------- prompt
_SYSTEM: Final[str] = (
    "You rewrite one keyframe description of a facial animation into a fixed vocabulary of facial actions.\n"
    "The description may be in any language, casual, a note relative to the keyframe before (hold, again, bigger, "
    "smaller, the other side, back to neutral, undo), or mix the face with scene text (sounds, objects, hands, "
    "body). Keep only what the FACE does; sounds, objects and body movements are not facial actions.\n"
    'Answer with one JSON object only: {{"actions":[{{"action":PHRASE,"degree":DEGREE}}]}}, at most {max} '
    "actions, each PHRASE copied exactly from the list below and DEGREE one of: {degrees}. "
    'If the face does nothing, answer {{"actions":[]}}. Left and right are the character\'s own.\n'
    "PHRASES: {phrases}.\n"
    "Examples:\n"
    '"Frunce el ceño." -> {{"actions":[{{"action":"the brows lower","degree":"marked"}}]}}\n'
    '"smilin big lol" -> {{"actions":[{{"action":"the mouth corners rise","degree":"strong"}}]}}\n'
    '"Hold." -> {{"actions":[{{"action":"hold","degree":"marked"}}]}}\n'
    '"A dog barks outside; she keeps typing." -> {{"actions":[]}}'
)


def system_prompt() -> str:
    """The system message: the task, the answer format, every phrase of the vocabulary and four examples. It is
    the same for every request, so servers that cache a shared prompt prefix (llama.cpp) read it once."""
    from .semantics.vocabulary import DEGREES, MAX_ACTIONS, phrases

    return _SYSTEM.format(max=MAX_ACTIONS, degrees=", ".join(DEGREES), phrases="; ".join(phrases()))


def build_messages(script: Script, index: int, *, descriptions: Sequence[str] | None = None) -> list[Message]:
    """The chat messages asking for keyframe ``index``'s rewrite, with the scene as context: background, emotion,
    and the keyframes before it (``descriptions``: as they will be composed, i.e. earlier rewrites applied;
    default the script's)."""
    texts = list(descriptions) if descriptions is not None else [k.description for k in script.keyframes]
    lines = []
    if script.background.strip():
        lines.append(f"Background: {script.background.strip()}")
    if script.emotion.strip():
        lines.append(f"Emotion: {script.emotion.strip()}")
    before = texts[max(0, index - 3):index]  # the three before it are enough context for relative notes
    if before:
        lines.append("Keyframes before it:")
        lines.extend(f"{index - len(before) + k + 1}. {t.strip()}" for k, t in enumerate(before))
    lines.append(f'Rewrite keyframe {index + 1}: "{script.keyframes[index].description.strip()}"')
    return [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "\n".join(lines)}]


# ------------------------------------------------------------------------------------------------ running
def get_assistant(assist: str | Backend, options: Mapping[str, Any] | None = None) -> Backend:
    """The chat backend named ``assist`` (or the instance given) with its constructor ``options``; raises
    :class:`BackendUnavailableError` for a backend that is not a chat backend."""
    from .backends.registry import get_backend

    backend = assist if isinstance(assist, Backend) else get_backend(assist, **dict(options or {}))
    if not backend.capabilities.chat:
        raise BackendUnavailableError(f"the assistant must be a chat backend (openai, llama, hf), got {backend.name!r}")
    return backend


def rewrite_script(
    script: Script,
    coverage: Mapping[int, Mapping[str, Any]],
    assistant: Backend,
    *,
    indices: Sequence[int] | None = None,
    seed: int | None = None,
    timeout_s: float = 120.0,
    cancel: threading.Event | None = None,
) -> AssistResult:
    """Route ``indices`` (default: every keyframe in ``coverage``) and rewrite those that need it, in order, each
    with the scene and the earlier (rewritten) descriptions as context. Greedy decoding (temperature 0). Never
    raises for an assistant's failure: that keyframe keeps its description and the :class:`Rewrite` holds the
    error."""
    from .semantics.vocabulary import gbnf, json_schema, parse_actions, render

    start = time.perf_counter()
    texts = [k.description for k in script.keyframes]
    options = GenerationOptions(seed=seed, temperature=0.0, max_tokens=MAX_ANSWER_TOKENS, timeout_s=timeout_s,
                                representation="plan", extra={"json_schema": json_schema(), "grammar": gbnf()})
    rewrites: dict[int, Rewrite] = {}
    for i in sorted(indices if indices is not None else coverage):
        reason = route(texts[i], coverage.get(i), index=i)
        if reason is None:
            continue
        if cancel is not None and cancel.is_set():
            break
        t0 = time.perf_counter()
        try:
            answer = assistant.complete(build_messages(script, i, descriptions=texts), options=options)
            actions = [(p, d) for p, d in parse_actions(answer) if i > 0 or not _is_note(p)]
            text = render(actions)
            rewrites[i] = Rewrite(i, reason, texts[i], tuple(actions), text, time.perf_counter() - t0)
        except (KeyframeFaceError, ValueError) as exc:
            logger.warning("assist: keyframe %d kept as written (%s)", i + 1, str(exc).splitlines()[0][:160])
            rewrites[i] = Rewrite(i, reason, texts[i], seconds=time.perf_counter() - t0,
                                  error=str(exc).splitlines()[0][:200])
            continue
        if text:
            texts[i] = text
        logger.info("assist: keyframe %d (%s) %r -> %r", i + 1, reason, script.keyframes[i].description, text)
    keyframes = tuple(replace(k, description=t) for k, t in zip(script.keyframes, texts, strict=True))
    info = {"backend": assistant.name, **{k: v for k, v in assistant.describe().items() if k != "backend"}}
    return AssistResult(replace(script, keyframes=keyframes), rewrites, info, time.perf_counter() - start)


def _is_note(phrase: str) -> bool:
    from .semantics.vocabulary import phrases

    return phrases()[phrase].kind == "note"
