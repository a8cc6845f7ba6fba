"""Free text -> Script: the planner behind ``keyframeface animate --text "..."``.

The deterministic planner (no model needed) works in two steps:

1. **Beats.** The text is split into beats at sentence ends and sequencing words ("then", "before", "finally",
   "until", "but", "然后" ...). Two to six beats become keyframe descriptions verbatim, so the rules backend reads the
   user's own words.
2. **Arcs.** A single beat that names an emotion ("a shy girl hears a compliment") becomes an arc of three keyframes
   (onset, apex, settle) written from the emotion's facial actions (FACS prototypes; see
   ``shared/reference/FACS.md``), with the user's sentence kept as background.

Times follow the beats: 0 s, then 1.2-1.8 s per beat depending on its length, so longer beats get more time.

**LLM planning.** When ``backend`` names a chat backend (``openai``, ``llama``, ``hf``), the model is asked to write
the Script itself as JSON (background, emotion, 2-6 keyframe descriptions with times; :data:`PLAN_SYSTEM_PROMPT`).
The answer is read robustly (``<think>`` blocks, code fences and prose around the object are ignored; keyframes may
be strings or objects; times are made increasing), validated with :meth:`Script.from_dict`, and on any failure the
deterministic planner is used instead, with a logged warning saying why.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .errors import KeyframeFaceError, ScriptError
from .script import MAX_DESCRIPTION_CHARS, MAX_TEXT_CHARS, Keyframe, Script, _check_text

if TYPE_CHECKING:
    from .backends.base import Backend

__all__ = ["EMOTION_ARCS", "PLAN_SYSTEM_PROMPT", "parse_plan", "plan", "plan_with_llm", "split_beats"]

logger = logging.getLogger(__name__)

#: System prompt of LLM planning (this project's). It asks for exactly the Script file format (DESIGN.md) and for
#: descriptions in the release's style: visible facial actions, not feelings.
PLAN_SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Turn the user's text into a facial animation script. Answer with "
    'strict JSON only, in the form {"background": "...", "emotion": "...", "keyframes": [{"description": "...", '
    '"time_s": 0.0}, ...]} with 2 to 6 keyframes in temporal order, times in seconds starting at 0 and increasing '
    "(about 1 to 2 seconds apart). Each description says in one sentence what the face visibly does: brows, eyes "
    "and gaze, mouth, jaw, head."
)
#: Tokens allowed for a planning answer (six descriptions of ~40 tokens plus the JSON; thinking models need more).
PLAN_MAX_TOKENS: Final[int] = 1024
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)

MAX_BEATS = 6

_SPLIT = re.compile(
    r"(?:[.!?;。！？；]+\s*|\s*,?\s*\b(?:and then|then|after that|afterwards|before|finally|eventually|until|"
    r"but then|but|suddenly|then suddenly)\b\s*|\s*(?:然后|接着|随后|最后|但是|突然)\s*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Arc:
    """Three keyframe descriptions (onset, apex, settle) and the emotion label for one emotion family."""

    label: str
    onset: str
    apex: str
    settle: str


# Descriptions use the actions of each family's prototype: joy 6+12 (+25), sadness 1+4+15, anger 4+5+7+24,
# fear 1+2+4+5+20, surprise 1+2+5+26, disgust 9+10+17, contempt R12+R14 (Ekman & Friesen; EMFACS; FACS.md).
EMOTION_ARCS: dict[str, _Arc] = {
    "joy": _Arc("Joy", "The mouth corners begin to lift into a faint smile and the eyes soften.",
                "A broad smile spreads across the face, the cheeks raise and the eyes narrow happily.",
                "The smile relaxes into a warm, gentle smile."),
    "sadness": _Arc("Sadness", "The gaze drops and the inner brows lift slightly.",
                    "The inner brows rise and draw together, the mouth corners turn down and the chin raises.",
                    "The face settles into quiet sadness, the gaze still lowered and the brows remain worried."),
    "anger": _Arc("Anger", "The brows lower slightly and the gaze hardens.",
                  "The brows pull down hard, the eyes narrow, the lips press together and the jaw clenches.",
                  "The brows stay lowered and the lips remain pressed in contained anger."),
    "fear": _Arc("Fear", "The brows lift and the eyes widen slightly.",
                 "The eyes go wide, the brows rise and draw together, the lips stretch back and the mouth opens slightly.",
                 "The eyes stay wide and the lips remain tense."),
    "surprise": _Arc("Surprise", "The brows lift slightly.",
                     "The brows shoot up, the eyes widen and the jaw drops open.",
                     "The brows come down a little and the mouth closes, still slightly raised brows."),
    "disgust": _Arc("Disgust", "The nose wrinkles slightly.",
                    "The nose wrinkles, the upper lip raises and the brows lower.",
                    "The nose relaxes but the upper lip stays slightly raised."),
    "contempt": _Arc("Contempt", "The gaze turns slightly to the side.",
                     "One corner of the mouth pulls up into a smirk on the right side and the eyes narrow slightly.",
                     "The smirk fades to a faint one-sided smile."),
    "anxiety": _Arc("Anxiety", "The gaze drops and the inner brows lift slightly.",
                    "The inner brows stay raised, the lips press together and the gaze darts to the side.",
                    "A small restrained smile appears while the brows remain worried."),
    "embarrassment": _Arc("Embarrassment", "The gaze drops and a faint smile appears.",
                          "The head bows slightly, the gaze lowers and the lips press into a shy smile.",
                          "The gaze rises again with a small shy smile."),
    "tired": _Arc("Tiredness", "The eyelids droop slightly.",
                  "The eyes half close and the jaw opens in a wide yawn.",
                  "The mouth closes and the eyelids stay heavy."),
    "neutral": _Arc("Calm", "The face is relaxed with a neutral expression.",
                    "The gaze drifts slightly to the side with a relaxed face.",
                    "The gaze returns to the front and the face stays calm."),
}

_EMOTION_WORDS: dict[str, tuple[str, ...]] = {
    "joy": ("happy", "happiness", "joy", "joyful", "delight", "glad", "cheerful", "laugh", "smile", "pleased",
            "excited", "compliment", "good news", "开心", "高兴", "快乐", "笑"),
    "sadness": ("sad", "sadness", "grief", "griev", "sorrow", "cry", "crying", "tears", "mourn", "heartbroken",
                "disappoint", "lonely", "melanchol", "伤心", "难过", "悲伤", "哭"),
    "anger": ("angry", "anger", "furious", "rage", "mad at", "annoyed", "irritat", "frustrat", "outrag", "生气",
              "愤怒"),
    "fear": ("afraid", "fear", "scared", "terrified", "terror", "frighten", "panic", "horror", "dread", "害怕",
             "恐惧"),
    "surprise": ("surprise", "surprised", "astonish", "amazed", "shock", "stunned", "startled", "unexpected",
                 "惊讶", "吃惊"),
    "disgust": ("disgust", "gross", "revolt", "repuls", "nause", "smell", "stink", "rotten", "恶心", "厌恶"),
    "contempt": ("contempt", "scorn", "disdain", "smug", "sneer", "condescend", "mock", "轻蔑", "不屑"),
    "anxiety": ("anxious", "anxiety", "nervous", "worried", "worry", "tense", "uneasy", "interview", "exam",
                "紧张", "焦虑"),
    "embarrassment": ("embarrass", "shy", "blush", "awkward", "ashamed", "sheepish", "害羞", "尴尬"),
    "tired": ("tired", "sleepy", "exhausted", "yawn", "weary", "drowsy", "困", "累"),
}


def _emotion_of(text: str) -> str | None:
    low = text.lower()
    best, best_pos = None, len(low) + 1
    for family, words in _EMOTION_WORDS.items():
        for w in words:
            pos = low.find(w)
            if 0 <= pos < best_pos:
                best, best_pos = family, pos
    return best


def split_beats(text: str) -> list[str]:
    """Split free text into beats (clauses in temporal order), dropping empty pieces."""
    parts = [p.strip(" ,.;:-\t\n，、：") for p in _SPLIT.split(text)]
    # A beat needs some substance: two CJK characters ("皱眉") or three Latin ones.
    beats = [p for p in parts if len(p) >= (2 if not p.isascii() else 3)]
    return beats


def _capitalised(beat: str) -> str:
    beat = beat.strip()
    if beat and beat[0].isascii():
        beat = beat[0].upper() + beat[1:]
    if beat and beat[-1] not in ".!?。！？":
        beat += "." if beat[-1].isascii() else "。"
    return beat


def _fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when there is one in the last fifth
    (CJK text has no spaces: it is cut at the limit), ending with "..." when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    space = cut.rfind(" ")
    if space >= limit * 4 // 5:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "..."


def _times(descriptions: list[str]) -> list[float]:
    times, t = [], 0.0
    for i, d in enumerate(descriptions):
        times.append(round(t, 2))
        if i + 1 < len(descriptions):
            t += 1.2 + min(len(d), 120) / 200.0
    return times


def plan(
    text: str,
    *,
    backend: str | Backend | None = None,
    seed: int | None = None,
    backend_options: Mapping[str, Any] | None = None,
    timeout_s: float = 120.0,
) -> Script:
    """Turn one free sentence (or a few) into a Script with 2-6 timed keyframes.

    ``backend``: a chat backend (a registered name such as ``"openai"``, or an instance) plans with the LLM
    (:func:`plan_with_llm`), falling back to the deterministic planner with a logged warning when it fails; a
    direct backend (``"rules"``) or ``None`` uses the deterministic planner. ``backend_options`` go to the
    backend's constructor (``base_url=``, ``model=`` ...). ``seed``: passed to the LLM (the deterministic planner
    ignores it). Raises :class:`ScriptError` for empty or oversized text.
    """
    if not isinstance(text, str) or not text.strip():
        raise ScriptError("free text to plan must be a non-empty string", field="text")
    _check_text(text, "text", limit=MAX_TEXT_CHARS)  # length, NUL, lone surrogates: what no Script may hold
    text = text.strip()
    if backend is not None and _is_chat(backend):
        try:
            return plan_with_llm(text, backend=backend, seed=seed, backend_options=backend_options,
                                 timeout_s=timeout_s)
        except KeyframeFaceError as exc:
            logger.warning("LLM planning failed (%s); used the deterministic planner instead", str(exc)[:300])
    return _plan_deterministic(text)


def _is_chat(backend: str | Backend) -> bool:
    from .backends.base import Backend
    from .backends.registry import resolve_backend_class

    if isinstance(backend, Backend):
        return backend.capabilities.chat
    try:
        return resolve_backend_class(backend).capabilities.chat
    except KeyframeFaceError:
        return False  # unknown here; generate() reports unknown backends with the list of valid names


def plan_with_llm(
    text: str,
    *,
    backend: str | Backend,
    seed: int | None = None,
    backend_options: Mapping[str, Any] | None = None,
    timeout_s: float = 120.0,
) -> Script:
    """Ask a chat backend to write the Script for ``text`` (no fallback: errors propagate).

    Raises :class:`BackendError` / :class:`BackendUnavailableError` when the backend fails, and
    :class:`ModelOutputError` (with ``raw_text``) when its answer holds no usable script.
    """
    from .backends.base import GenerationOptions
    from .backends.registry import get_backend

    engine = get_backend(backend, **dict(backend_options or {}))
    messages = [{"role": "system", "content": PLAN_SYSTEM_PROMPT}, {"role": "user", "content": text}]
    options = GenerationOptions(seed=seed, temperature=0.0, max_tokens=PLAN_MAX_TOKENS, timeout_s=timeout_s,
                                representation="plan")
    answer = engine.complete(messages, options=options)
    return parse_plan(answer, text=text)


def _json_objects(text: str, *, raw: str) -> list[dict[str, Any]]:
    """Every outermost JSON object in ``text`` that decodes strictly, in order.

    Uses the prompt package's bounded scanner (prompt/lenient_json.py) (one linear pass, braces nested at most ``MAX_NESTING`` deep), then decodes
    each balanced span; a span that does not decode is passed over for the objects inside it. Deeply nested lists
    (``RecursionError`` in :mod:`json`) count as not decoding. Raises :class:`ModelOutputError` for nesting beyond
    the limit.
    """
    from .errors import ModelOutputError
    from .prompt.context import ParseContext
    from .prompt.lenient_json import MAX_NESTING, scan_objects

    try:
        spans, _ = scan_objects(text, ParseContext(raw=raw, policy="strict", index=None))
    except ModelOutputError:
        raise ModelOutputError(f"the planning answer nests objects deeper than {MAX_NESTING} levels; expected one "
                               'script object {"background": ..., "keyframes": [...]}', raw_text=raw) from None
    found: list[dict[str, Any]] = []
    covered = -1  # end of the last decoded object: objects inside it are part of it
    for start, end in sorted(spans):
        if start < covered:
            continue
        try:
            obj = json.loads(text[start:end])
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            found.append(obj)
            covered = end
    return found


def parse_plan(answer: str, *, text: str = "") -> Script:
    """Read a planning answer into a Script: the last JSON object with ``keyframes`` (after dropping
    ``<think>`` blocks and fences). Keyframes may be strings or ``{"description", "time_s"|"time"}`` objects;
    more than six are cut to six; times that are missing or not increasing are replaced by the planner's spacing;
    ``text`` becomes the background when the answer has none. Raises :class:`ModelOutputError` otherwise.
    """
    from .errors import ModelOutputError
    from .prompt import MAX_RESPONSE_CHARS

    if not isinstance(answer, str):
        raise ModelOutputError(f"expected the planning answer as text, got {type(answer).__name__}")
    if len(answer) > MAX_RESPONSE_CHARS:
        raise ModelOutputError(f"the planning answer is {len(answer)} characters long; the limit is "
                               f"{MAX_RESPONSE_CHARS}. A plan is a short JSON object: lower max_tokens or check "
                               "the model", raw_text=answer)
    cleaned = _THINK_BLOCK.sub(" ", answer)
    if "</think>" in cleaned.lower():  # a closing tag alone: the opening one was in the prompt template
        cleaned = cleaned[cleaned.lower().rfind("</think>") + len("</think>"):]
    candidates = [o for o in _json_objects(cleaned, raw=answer) if isinstance(o.get("keyframes"), list)]
    if not candidates:
        raise ModelOutputError('no JSON object with "keyframes" in the planning answer; expected {"background": '
                               '"...", "emotion": "...", "keyframes": [{"description": "...", "time_s": 0.0}]}',
                               raw_text=answer)
    data = candidates[-1]
    keyframes: list[dict[str, Any]] = []
    for item in data["keyframes"][:MAX_BEATS]:
        if isinstance(item, str):
            item = {"description": item}
        if not isinstance(item, dict):
            continue
        desc = item.get("description") or item.get("text") or ""
        if not isinstance(desc, str) or not desc.strip():
            continue
        time = item.get("time_s", item.get("time"))
        keyframes.append({"description": _fit(" ".join(desc.split()), MAX_DESCRIPTION_CHARS),
                          "time_s": float(time) if isinstance(time, (int, float)) and not isinstance(time, bool)
                          else None})
    if len(keyframes) < 2:
        raise ModelOutputError(f"the planning answer has {len(keyframes)} usable keyframe(s); expected 2 to "
                               f"{MAX_BEATS} with non-empty descriptions", raw_text=answer)
    times = [k["time_s"] for k in keyframes]
    valid = all(t is not None and t >= 0 for t in times) and all(b > a for a, b in itertools.pairwise(times))
    if not valid:
        for k, t in zip(keyframes, _times([k["description"] for k in keyframes]), strict=True):
            k["time_s"] = t
    background = data.get("background")
    emotion = data.get("emotion")
    try:
        return Script.from_dict({
            "background": background if isinstance(background, str) and background.strip() else text,
            "emotion": emotion if isinstance(emotion, str) else "",
            "keyframes": keyframes,
        })
    except ScriptError as exc:
        raise ModelOutputError(f"the planning answer is not a valid script: {exc}", raw_text=answer) from None


def _has_facial_action(beat: str) -> bool:
    """Whether the rule reading finds a facial action (not only an emotion word) in ``beat``."""
    from .semantics.parse import parse
    from .semantics.reading import read_description

    reading = read_description(beat)
    return bool(reading.channels) or any(m.kind == "action" for m in parse(reading.text))


def _plan_deterministic(text: str) -> Script:
    """The deterministic planner (see the module docstring); ``text`` is stripped and non-empty."""
    beats = split_beats(text)[:MAX_BEATS]
    family = _emotion_of(text)
    if len(beats) >= 2:
        descriptions = [_fit(_capitalised(b), MAX_DESCRIPTION_CHARS) for b in beats]
        emotion = EMOTION_ARCS[family].label if family else ""
    else:
        arc = EMOTION_ARCS[family or "neutral"]
        descriptions = [arc.onset, arc.apex, arc.settle]
        action = bool(beats) and _has_facial_action(beats[0])
        # The user's own words go first when they describe the face itself rather than a situation; an action
        # in them ("bursts out laughing", "jumps", "sobs") is the apex of the arc, not replaced by it.
        if beats and family is None:
            descriptions = [EMOTION_ARCS["neutral"].onset, _fit(_capitalised(beats[0]), MAX_DESCRIPTION_CHARS)]
            if not action:
                logger.warning("the text names no facial action or emotion the planner knows: %r; the face may "
                               "stay neutral", _fit(text, 80))
        elif action:
            descriptions = [arc.onset, _fit(_capitalised(beats[0]), MAX_DESCRIPTION_CHARS), arc.settle]
        emotion = arc.label if family else ""
    keyframes = tuple(Keyframe(description=d, time_s=t) for d, t in zip(descriptions, _times(descriptions), strict=True))
    return Script(background=_fit(_capitalised(text), MAX_TEXT_CHARS), emotion=emotion, keyframes=keyframes)
