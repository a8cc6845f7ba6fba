"""Description text -> mentions: normalise, tokenise, tag (English and Chinese), bind; other languages are
read into English first (:mod:`.languages`).

The English lexicon is compiled once, on first use, under a lock (a few tens of milliseconds); parsing is cached
per text, so a keyframe description is parsed once however often it is composed.
"""

from __future__ import annotations

import functools
import threading

from .binding import bind
from .chinese import has_cjk, tag_chinese
from .emotions import emotion_entries
from .intensity import intensity_entries, percent_level
from .languages import point_back, read_foreign
from .laterality import direction_entries, side_entries
from .lexicon import lexicon_entries, structure_entries
from .mentions import Mention
from .negation import cue_entries
from .tagger import PatternSet, Tag, Token, normalize, tokenize

__all__ = ["clear_cache", "parse", "tag_text"]

_LOCK = threading.Lock()
_PATTERNS: PatternSet | None = None


def _patterns() -> PatternSet:
    global _PATTERNS
    if _PATTERNS is None:
        with _LOCK:
            if _PATTERNS is None:
                # Order decides ties between equally long matches: the lexicon (parts, predicates, action
                # words) first, then cues, emotions, intensities, sides, directions and structure words.
                _PATTERNS = PatternSet([
                    *lexicon_entries(), *cue_entries(), *emotion_entries(), *intensity_entries(),
                    *side_entries(), *direction_entries(), *structure_entries(),
                ])
    return _PATTERNS


def _percentages(tags: list[Tag], tokens: list[Token]) -> list[Tag]:
    """``50 %`` / ``50 percent``: fold the number into the intensity tag as its level."""
    out: list[Tag] = []
    for t in tags:
        if t.kind == "int" and t.data.get("percent"):
            level = percent_level(tokens[t.start - 1].text) if t.start > 0 else None
            if level is None:
                continue
            out.append(Tag("int", "percent", t.start - 1, t.end, f"{tokens[t.start - 1].text} {t.text}",
                           {"level": level}))
            continue
        out.append(t)
    return out


def tag_text(text: str) -> tuple[str, list[Token], list[Tag]]:
    """Normalised text, its tokens and its tags (for tests and debugging)."""
    norm = normalize(text)
    tokens = tokenize(norm)
    tags = _percentages(_patterns().tag(norm, tokens), tokens)
    if has_cjk(norm):
        covered = [i for t in tags for i in range(t.start, t.end)]
        tags = sorted([*tags, *tag_chinese(norm, tokens, skip=covered)], key=lambda t: (t.start, t.end))
    return norm, tokens, tags


def _bind_text(text: str) -> tuple[Mention, ...]:
    norm, tokens, tags = tag_text(text)
    return tuple(bind(norm, tokens, tags))


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> tuple[Mention, ...]:
    # other languages (Spanish ... Korean): read as canonical English, then bound as English (languages/)
    reading = read_foreign(text)
    if reading is not None:
        return point_back(reading, _bind_text(reading.english))
    return _bind_text(text)


def parse(text: str) -> tuple[Mention, ...]:
    """The mentions of one description (English, Chinese or both, or another language of
    :mod:`.languages`), in reading order."""
    if not text or not text.strip():
        return ()
    return _parse_cached(text)


def clear_cache() -> None:
    """Forget parsed descriptions (benchmarks measure the cost of new text this way)."""
    _parse_cached.cache_clear()
