"""Which language a description is written in: scripts for CJK, kana and hangul; word profiles for Latin script.

* Hangul syllables or jamo -> ``ko``; any kana (Japanese writes kanji with kana endings) -> ``ja``; Han characters
  without kana -> ``zh`` (when they outnumber the Latin words; otherwise ``en``: English with a Chinese phrase).
* Latin script: each language scores its stop words (``der``, ``la``, ``les`` ...) plus its facial vocabulary
  (the lexicon's patterns; :mod:`.frames`) plus its typical letters (``ñ``, ``ç``, ``ß`` ...); English scores its
  own stop words and wins ties, so a text is read as another language only when that language explains it better.
"""

from __future__ import annotations

import re

from .frames import LanguageLexicon, fold

__all__ = ["ENGLISH_STOPWORDS", "detect_language"]

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z']+")

#: Frequent English function words and the project's commonest facial words (a text made of these is English).
ENGLISH_STOPWORDS = frozenset(
    ["the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "with", "his", "her", "their", "its", "he", "she", "they", "it", "is", "are", "was", "were", "be", "been", "has", "have", "had", "by", "from", "as", "but", "then", "while", "into", "up", "down", "left", "right", "slightly", "very", "eyes", "eye", "mouth", "brows", "brow", "head", "lips", "smile", "smiles", "looks", "look", "face", "gaze", "not", "no", "still", "jaw", "corners", "cheeks", "nose", "this", "that", "one", "both"])


#: Tags of the English parser that count as English vocabulary (facial words, emotions, modifiers).
_ENGLISH_KINDS = frozenset({"act", "part", "pred", "emo", "int", "side", "dir", "mode", "keep", "stop", "hold"})


def _latin_scores(text: str, lexicons: tuple[LanguageLexicon, ...]) -> dict[str, float]:
    """Per language: stop words (1 each; words English shares are not counted for others), vocabulary matches
    (1.5 each) and typical letters (0.5 each)."""
    folded, _ = fold(text)
    words = _WORD.findall(folded.replace("'", "' "))
    scores = {"en": float(sum(w in ENGLISH_STOPWORDS for w in words))}
    lowered = text.lower()
    for lex in lexicons:
        own = lex.stopwords - ENGLISH_STOPWORDS
        # a one-letter word counts only elided (French l', d', n'), not as the "s" of "animator's"
        score = float(sum((w.rstrip("'") in own and (len(w) > 2 or w.endswith("'"))) or (len(w) > 1 and w in own)
                          for w in words))
        score += sum(0.5 for ch in lowered if ch in lex.letters)
        score += 1.5 * sum(1 for _ in lex.vocabulary().finditer(folded))
        scores[lex.code] = score
    return scores


def detect_language(text: str, lexicons: tuple[LanguageLexicon, ...]) -> str:
    """ISO 639-1 code of ``text``'s language among English, Chinese, Japanese, Korean and ``lexicons``'
    (Latin-script ones); ``"en"`` when nothing else explains it better (also for empty text)."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    han = len(_HAN.findall(text))
    if han:
        latin_words = len(re.findall(r"[A-Za-z]+", text))
        return "zh" if han >= latin_words else "en"
    if not re.search(r"[A-Za-z\u00c0-\u024f]", text):
        return "en"
    scores = _latin_scores(text, tuple(lex for lex in lexicons if lex.latin))
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    if best == "en":
        return "en"
    # a candidate: let the English lexicon speak too ("Disgust.", "Neutral.", "half-closed eyes" are English)
    from ..parse import tag_text

    _norm, _tokens, tags = tag_text(text)
    english = scores["en"] + 1.5 * sum(t.kind in _ENGLISH_KINDS for t in tags)
    return best if scores[best] > english else "en"
