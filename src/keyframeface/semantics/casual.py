"""Casual writing -> the lexicon's vocabulary: emoji and emoticons, dropped g's, misspellings, slang, capitals.

:func:`normalize_casual` rewrites a description before it is tagged:

* **Emoji and emoticons** become the facial phrase they depict (:data:`EMOJI`, :data:`EMOTICONS`; meanings from
  the Unicode CLDR short names, e.g. U+1F602 "face with tears of joy"). Repeating one ("😱😱😱") intensifies it.
* **Dropped g's** ("smilin", "lookin'") are restored when the ``-ing`` form is a word of the vocabulary.
* **Misspellings** are corrected against the vocabulary of the parser's own entries by Damerau-Levenshtein
  distance: 1 edit for words of 5-7 letters, 2 for longer ones, only when exactly one vocabulary word is that
  close (short words are too ambiguous: "brow" / "grow", "lips" / "hips").
* **Slang**: chat abbreviations (:data:`SLANG`) and intensifiers ("super", "hella") become plain English; a word
  in capitals ("HUGE") is read as emphasised ("very huge").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = ["EMOJI", "EMOTICONS", "SLANG", "correct_word", "normalize_casual"]

#: Emoji -> the facial phrase it depicts (CLDR short names, read as a face).
EMOJI: Mapping[str, str] = MappingProxyType({
    "😂": "laughing with tears", "🤣": "laughing hard", "😆": "laughing, eyes squeezed", "😹": "laughing",
    "😀": "a big grin", "😃": "a big open smile", "😄": "a big smile, smiling eyes", "😁": "a beaming grin",
    "🙂": "a slight smile", "😊": "a warm smile, smiling eyes", "☺": "a warm smile", "😍": "a big smile",
    "🥰": "a warm smile", "😇": "a gentle smile", "😉": "winks", "😜": "winks with tongue out",
    "😛": "tongue out", "😝": "tongue out, eyes squeezed shut", "😋": "tongue out, smiling", "😏": "smirks",
    "😒": "unimpressed, a sideways glance", "🙄": "rolls her eyes", "😐": "a neutral face",
    "😑": "a neutral face, eyes half closed", "😶": "a neutral face", "😬": "a grimace",
    "😢": "crying", "😭": "sobbing", "😞": "sad, looking down", "😔": "sad, looking down", "😟": "worried",
    "🙁": "a slight frown", "☹": "a sad frown", "😕": "confused", "😣": "eyes squeezed shut, grimacing",
    "😖": "eyes squeezed shut, grimacing", "😫": "tired, grimacing", "😩": "weary", "🥺": "pleading, brows raised",
    "😠": "angry", "😡": "furious", "🤬": "furious, shouting", "😤": "angry, nostrils flared",
    "😱": "screaming in terror", "😨": "afraid", "😰": "anxious", "😧": "shocked", "😦": "shocked, mouth open",
    "😮": "mouth open in surprise", "😯": "surprised", "😲": "astonished, mouth open", "😳": "wide eyes, embarrassed",
    "🤢": "disgusted", "🤮": "disgusted", "🤔": "thinking, brows knit", "🤨": "one eyebrow raised",
    "😴": "eyes closed", "😪": "sleepy", "🥱": "yawns", "😘": "puckered lips", "😗": "puckered lips",
    "😚": "puckered lips, eyes closed", "😙": "puckered lips", "🤐": "lips pressed together", "😷": "a neutral face",
    "🤪": "a goofy grin, tongue out", "😎": "a cool smile", "🥲": "a sad smile", "😅": "a nervous smile",
    "🙃": "a slight smile", "😌": "relieved, eyes closed, slight smile", "😵": "dazed", "🫤": "a skeptical look",
})  # fmt: skip

#: ASCII emoticons (read when they stand alone between spaces) -> the facial phrase.
EMOTICONS: Mapping[str, str] = MappingProxyType({
    ":)": "a smile", ":-)": "a smile", "(:": "a smile", "=)": "a smile", ":]": "a smile", ":D": "a big grin",
    ":-D": "a big grin", "xD": "laughing", "XD": "laughing", ":(": "a sad frown", ":-(": "a sad frown",
    "):": "a sad frown", "=(": "a sad frown", ":'(": "crying", ";)": "winks", ";-)": "winks", ";D": "winks",
    ":O": "mouth open in surprise", ":o": "mouth open in surprise", ":-O": "mouth open in surprise",
    ":-o": "mouth open in surprise", "D:": "horrified", ":P": "tongue out", ":p": "tongue out", ":-P": "tongue out",
    ":|": "a neutral face", ":-|": "a neutral face", ">:(": "angry", ">:-(": "angry", ":/": "a skeptical look",
    ":-/": "a skeptical look", ":S": "confused", "-_-": "unimpressed, eyes half closed", "^^": "a happy smile",
    "^_^": "a happy smile", "o_O": "one eyebrow raised", "O_o": "one eyebrow raised", "T_T": "crying",
    ":*": "puckered lips", "<3": "a warm smile",
})  # fmt: skip

#: Chat abbreviations and slang intensifiers -> plain English ("" drops the word).
SLANG: Mapping[str, str] = MappingProxyType({
    "u": "you", "ur": "your", "w/": "with", "w/o": "without", "rn": "now", "tbh": "", "imo": "", "pls": "",
    "plz": "", "bc": "because", "cuz": "because", "lol": "laughing", "lmao": "laughing hard", "rofl": "laughing hard",
    "haha": "laughing", "hahaha": "laughing hard", "lft": "left", "rt": "right", "rite": "right", "rigth": "right",
    "super": "very", "hella": "very", "mega": "very", "uber": "very", "totally": "very", "mad": "angry",
    "kinda": "slightly", "sorta": "slightly", "lil": "little", "gonna": "going to", "wanna": "want to",
    "'em": "them", "em": "them", "ya": "you", "thru": "through", "tho": "though", "bout": "about",
    "sadder": "more sad", "happier": "more happy", "angrier": "more angry", "madder": "more angry",
    "scarier": "more scared", "calmer": "more calm", "grumpier": "more grumpy", "pissed": "angry", "stoked": "delighted", "bummed": "sad", "meh": "unimpressed",
})  # fmt: skip
#: Words in capitals that are not shouted emphasis.
_CAPS_EXEMPT = frozenset({"AU", "OK", "TV", "MBP", "FACS", "CSV", "USA", "UK", "BTW", "LOL"})

_EMOJI_RE = re.compile("(" + "|".join(sorted(map(re.escape, EMOJI), key=len, reverse=True)) + r")[\ufe0f]?")
_EMOTICON_RE = re.compile(r"(?:(?<=\s)|^)(" + "|".join(sorted(map(re.escape, EMOTICONS), key=len, reverse=True))
                          + r")(?=\s|$|[.,!?])")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*(?:/[a-z]*)?")


@functools.lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Every word of the parser's entries (parts, predicates in all verb forms, actions, emotions, modifiers)."""
    from .emotions import emotion_entries
    from .intensity import intensity_entries
    from .laterality import direction_entries, side_entries
    from .lexicon import lexicon_entries
    from .negation import cue_entries

    words: set[str] = set()
    entries: Iterable[object] = [*lexicon_entries(), *cue_entries(), *emotion_entries(), *intensity_entries(),
                                 *side_entries(), *direction_entries()]
    for e in entries:
        words.update(re.findall(r"[a-z]+", str(getattr(e, "pattern", ""))))
    return frozenset(w for w in words if len(w) > 1)


def _damerau(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b`` (stops early above ``limit``)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@functools.lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """``word`` (lowercase) or its unique vocabulary correction (see the module docstring)."""
    vocab = _vocabulary()
    if word in vocab or not word.isalpha() or len(word) < 5:
        return word
    if word.endswith("in") and word + "g" in vocab:  # dropped g: "smilin"
        return word + "g"
    limit = 1 if len(word) <= 7 else 2
    best: list[str] = []
    best_d = limit + 1
    for v in vocab:
        if abs(len(v) - len(word)) > limit or (v[0] != word[0] and len(word) < 8):
            continue
        d = _damerau(word, v, limit)
        if d < best_d:
            best, best_d = [v], d
        elif d == best_d:
            best.append(v)
    if len(best) > 1:  # a tie: a swap or substitution ("riases" -> "raises") beats a dropped letter ("rises")
        best = [v for v in best if len(v) == len(word)] or best
    return best[0] if len(best) == 1 else word


def normalize_casual(text: str) -> str:
    """``text`` with emoji, emoticons, slang, dropped g's, capitals and misspellings rewritten (see the module)."""
    def emoji(m: re.Match[str]) -> str:
        return f" {EMOJI[m.group(1)]}, "

    out = _EMOJI_RE.sub(emoji, text)
    # "😱😱😱" became three phrases: say it once, intensely
    out = re.sub(r"(\b[a-z][^,]*), (?:\s*\1,\s*)+", r"very intensely \1, ", out)
    out = _EMOTICON_RE.sub(lambda m: f" {EMOTICONS[m.group(1)]}, ", out)

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        low = w.lower()
        if low in SLANG:
            return SLANG[low]
        if low.endswith("in'") and len(low) > 4:
            low = low[:-1] + "g"
        fixed = correct_word(low)
        emphasised = w.isupper() and len(w) >= 3 and w not in _CAPS_EXEMPT and not _all_caps(text)
        if fixed == low and low not in _vocabulary() and not emphasised:
            return w
        return ("very " if emphasised else "") + fixed

    return _WORD_RE.sub(word, out)


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 12 and all(c.isupper() for c in letters)
