"""Descriptions in other languages: detection and reading into the English the composer understands.

Languages read: Spanish (``es``), French (``fr``), German (``de``), Portuguese (``pt``), Italian (``it``),
Japanese (``ja``) and Korean (``ko``) here; Chinese (``zh``) by :mod:`keyframeface.semantics.chinese`; English by
the main lexicon. :func:`detect_language` names the language (:mod:`.detect`); :func:`read_foreign` reads a
description in one of the languages above as short canonical English sentences (:mod:`.frames`), which the English
parser then binds as usual, so intensity, negation, sides and carry-over behave as in English. Each language's
vocabulary is one small module of data (``es.py`` ...). See ``docs/languages.md``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from ..mentions import Mention
from .detect import detect_language as _detect
from .frames import LanguageLexicon, Reading, read

__all__ = ["LANGUAGE_NAMES", "Reading", "detect_language", "lexicons", "point_back", "read_foreign"]

#: Every language the composer reads, by ISO 639-1 code.
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "es": "Spanish", "fr": "French", "de": "German",
                  "pt": "Portuguese", "it": "Italian", "ja": "Japanese", "ko": "Korean"}


@functools.cache
def lexicons() -> tuple[LanguageLexicon, ...]:
    """The lexicons of the languages read here (imported on first use)."""
    from . import de, es, fr, it, ja, ko, pt

    return (es.LEXICON, fr.LEXICON, de.LEXICON, pt.LEXICON, it.LEXICON, ja.LEXICON, ko.LEXICON)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language ``text`` is written in (one of :data:`LANGUAGE_NAMES`; ``"en"`` if unsure)."""
    return _detect(text, lexicons())


@functools.lru_cache(maxsize=4096)
def read_foreign(text: str) -> Reading | None:
    """``text`` read as English sentences when it is written in a language of :func:`lexicons`; ``None`` for
    English, Chinese and text with no letters (those go to the main parser as they are)."""
    code = detect_language(text)
    for lex in lexicons():
        if lex.code == code:
            return read(text, lex)
    return None


def point_back(reading: Reading, mentions: Sequence[Mention]) -> tuple[Mention, ...]:
    """``mentions`` parsed from ``reading.english``, pointed back at the original words: ``position`` and
    ``phrase`` become those of the words each sentence was read from, and a note records the language and the
    English reading (the explanation shows it)."""
    out: list[Mention] = []
    for m in mentions:
        s = reading.sentence_at(m.position)
        if s is None:
            out.append(m)
            continue
        note = f"{reading.name}: read as {s.english!r}"
        out.append(dataclasses.replace(m, position=s.start, phrase=reading.text[s.start:s.end],
                                       notes=(*m.notes, note)))
    return tuple(out)
