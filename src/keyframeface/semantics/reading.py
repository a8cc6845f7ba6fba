"""How a description enters the reading: casual writing, technical direction, idioms, scene text and relative
notes are resolved before the rule parser tags it, and what was understood is measured.

:func:`read_description` (cached per text) runs, in order: :mod:`.technical` (on the raw text, so channel names
keep their spelling), :mod:`.casual`, :mod:`.relative`, :mod:`.scene`. Its :class:`Reading` holds the text the
parser reads, explicit channel values, a limit, relative notes and explanation records. :func:`coverage` says
whether a composed keyframe has any facial action and which words were not understood.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .casual import normalize_casual
from .mentions import Mention
from .relative import RelativeOp, find_relative
from .scene import read_scene
from .technical import read_technical

__all__ = ["Reading", "coverage", "read_description", "refine_brows"]


@dataclass(frozen=True)
class Reading:
    """A description prepared for the parser. ``text``: what the parser reads; ``channels``: explicit values by
    channel name (AU codes, channel names, visemes); ``limit``: a cap on the values actions set (or ``None``);
    ``relative``: notes resolved against the previous keyframe; ``scene``: words set aside as scene text;
    ``records``: explanation records of every rewrite."""

    original: str
    text: str
    channels: tuple[tuple[str, float], ...] = ()
    limit: float | None = None
    relative: tuple[RelativeOp, ...] = ()
    scene: tuple[str, ...] = ()
    records: tuple[dict[str, Any], ...] = ()

    @property
    def needs_history(self) -> bool:
        """Whether the keyframe two back is needed ("undo")."""
        return any(op.op == "undo" for op in self.relative)


@functools.lru_cache(maxsize=4096)
def read_description(text: str) -> Reading:
    """Prepare one description (see the module docstring). Deterministic; cached."""
    if not text or not text.strip():
        return Reading(text, text)
    records: list[dict[str, Any]] = []
    tech = read_technical(text)
    records.extend(tech.records)
    from .languages import detect_language

    if detect_language(tech.text) not in ("en", "zh"):
        # Other languages are read by their own lexicons (semantics/languages); English spelling correction,
        # notes and scene rules would only damage them ("Guarda a destra" is not a misspelt "guard").
        return Reading(text, tech.text, tuple(tech.channels.items()), tech.limit, (), (), tuple(records))
    casual = normalize_casual(tech.text)
    if " ".join(casual.lower().split()) != " ".join(tech.text.lower().split()):
        records.append({"phrase": tech.text.strip(), "rule": f"casual writing read as {casual.strip()!r}",
                        "channels": {}})
    ops, rest = find_relative(casual)  # notes first: "push it further" is a note, not a push on an object
    scene = read_scene(rest)
    for phrase, meaning in scene.idioms:
        records.append({"phrase": phrase, "rule": f"idiom read as {meaning!r}" if meaning else "simile dropped",
                        "channels": {}})
    for phrase in scene.scene:
        records.append({"phrase": phrase, "rule": "scene text: not a facial action", "channels": {}})
    return Reading(text, scene.text, tuple(tech.channels.items()), tech.limit, tuple(ops), tuple(scene.scene),
                   tuple(records))


#: Emotions whose brows are the worried AU1+4, not the angry AU4 (Ekman & Friesen: sadness and fear raise the
#: inner brows while drawing them together).
_WORRY = frozenset({"anxiety", "sadness", "fear", "sadly_fearful", "sadly_surprised", "pain"})
_UP = re.compile(r"\b(?:up|upward|upwards|rise|rises|rising|raised|lift|lifts|lifted)\b")


def refine_brows(mentions: Sequence[Mention]) -> tuple[Mention, ...]:
    """Knitted or lowered brows that also go up, or that come with worry, sadness or fear in the same
    description, are the worried brows (AU1+4: inner corners up and together), not anger's (AU4)."""
    worried = any(m.kind == "emotion" and m.name in _WORRY for m in mentions)
    out = []
    for m in mentions:
        if m.kind == "action" and m.name in ("brow_knit", "brow_lower") and m.mode.value in ("set", "keep") and (
                worried or "up" in m.directions or _UP.search(m.phrase.lower())):
            m = replace(m, name="brow_worried", notes=(*m.notes, "worried brows (AU1+4): drawn together and up"))
        out.append(m)
    return tuple(out)


_STOP = frozenset(["a", "an", "the", "and", "or", "but", "so", "to", "of", "in", "on", "at", "by", "for", "with", "from", "into", "onto", "over", "under", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "he", "she", "they", "i", "we", "you", "him", "her", "them", "his", "their", "my", "your", "our", "me", "us", "there", "here", "then", "now", "just", "very", "really", "quite", "still", "again", "while", "when", "if", "than", "like", "not", "no", "nor", "all", "some", "any", "one", "two", "who", "which", "what", "up", "down", "out", "off", "back", "away", "about", "around", "through", "across", "toward", "towards", "after", "before", "once", "more", "most", "much", "many", "few", "do", "does", "did", "has", "have", "had", "will", "would", "can", "could", "should", "may", "might", "must", "shall", "also", "too", "only", "even", "ever", "yet"])


def coverage(reading: Reading, mentions: Sequence[Mention]) -> dict[str, Any]:
    """What the reading understood: ``facial`` (any facial action, emotion, hold, relative note or channel value),
    ``mentions`` (how many), ``unknown`` (content words no entry read, only when nothing facial was found) and
    ``scene`` (words set aside as scene text)."""
    facial = bool(mentions) or bool(reading.channels) or bool(reading.relative)
    out: dict[str, Any] = {"facial": facial, "mentions": len(mentions) + len(reading.channels) + len(reading.relative)}
    if reading.scene:
        out["scene"] = list(reading.scene)
    if not facial:
        from .parse import tag_text

        _, tokens, tags = tag_text(reading.text)
        covered = {i for t in tags for i in range(t.start, t.end)}
        words = [tok.text for i, tok in enumerate(tokens)
                 if i not in covered and re.fullmatch(r"[^\W\d_][\w']*", tok.text) and tok.text not in _STOP]
        out["unknown"] = list(dict.fromkeys(words))[:12]
    return out
