"""The BERT uncased WordPiece tokenizer of all-MiniLM-L6-v2, in pure Python.

Matches the Hugging Face ``tokenizers`` pipeline the model was trained with (``BertNormalizer`` with clean_text,
handle_chinese_chars, lowercase and accent stripping; ``BertPreTokenizer``; ``WordPiece`` with ``##`` continuation
and ``max_input_chars_per_word=100``; ``[CLS] ... [SEP]``), truncated to the model's ``max_seq_length`` of 256.

The vocabulary ships as ``data/vocab.txt.gz`` (see ``data/NOTICE.md``); its sha256 is checked when it is loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources

from keyframeface.errors import FormatError

__all__ = ["MAX_SEQ_LENGTH", "VOCAB_SHA256", "WordPieceTokenizer", "load_tokenizer"]

#: sha256 of the uncompressed vocab.txt of sentence-transformers/all-MiniLM-L6-v2 (30,522 entries).
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
#: sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (sentence_bert_config.json), [CLS] and [SEP] included.
MAX_SEQ_LENGTH = 256
#: WordPiece's max_input_chars_per_word (tokenizer.json): longer words become [UNK].
MAX_WORD_CHARS = 100

# Whitespace as Rust's char::is_whitespace (Unicode White_Space), which the Hugging Face tokenizers use.
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _is_control(char: str) -> bool:
    """Characters BertNormalizer's clean_text drops: Unicode "other" categories (Cc, Cf, Cn, Co, Cs) but not \\t\\n\\r."""
    if char in "\t\n\r":
        return False
    return unicodedata.category(char)[0] == "C"


def _is_chinese(code: int) -> bool:
    """The CJK Unified Ideograph blocks BERT pads with spaces (the ranges of Google's original BERT tokenizer)."""
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _is_punctuation(char: str) -> bool:
    """BertPreTokenizer's split characters: ASCII punctuation (includes $+<=>^`|~) or a Unicode P* category."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


@lru_cache(maxsize=4096)
def _char_class(char: str) -> str:
    """Classify one character once: ``d`` drop, ``s`` space, ``c`` CJK (own word), ``p`` punctuation, ``w`` word."""
    code = ord(char)
    if code == 0 or code == 0xFFFD or _is_control(char):
        return "d"
    if char in _WHITESPACE:
        return "s"
    if _is_chinese(code):
        return "c"
    if _is_punctuation(char):
        return "p"
    return "w"


def _normalize_word(word: str) -> str:
    """Accent stripping (NFD, drop Mn) then lower-casing, in BertNormalizer's order."""
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
    # Lower-case character by character as the Rust tokenizer does: no final-sigma rule ("ΑΣ" -> "ασ", not "ας").
    return word.replace("Σ", "σ").lower()


def _split_words(text: str) -> Iterator[str]:
    """Normalize and pre-tokenize ``text`` into words (punctuation and CJK characters are single words), lazily."""
    current: list[str] = []
    for char in text:
        kind = _char_class(char)
        if kind == "w":
            current.append(char)
            continue
        if kind == "d":  # dropped characters join their neighbours: "ctrl\x00chars" is one word
            continue
        if current:
            yield from _normalized("".join(current))
            current = []
        if kind in "cp":
            yield from _normalized(char)
    if current:
        yield from _normalized("".join(current))


def _normalized(word: str) -> list[str]:
    normalized = _normalize_word(word)
    if normalized.isascii() and normalized.isalnum():
        return [normalized]
    # Normalization can produce whitespace, punctuation or nothing (a lone accent); split again.
    return _resplit(normalized)


def _resplit(word: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    for char in word:
        kind = _char_class(char)
        if kind == "d":
            continue
        if kind == "s":
            if current:
                pieces.append("".join(current))
                current = []
            continue
        if kind == "p":
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(char)
            continue
        current.append(char)
    if current:
        pieces.append("".join(current))
    return pieces


class WordPieceTokenizer:
    """Text to token ids for BERT uncased models.

    ``vocab`` maps token to id; it must contain ``[CLS]``, ``[SEP]``, ``[UNK]`` and ``[PAD]``.
    """

    def __init__(self, vocab: dict[str, int], *, max_length: int = MAX_SEQ_LENGTH) -> None:
        for special in ("[CLS]", "[SEP]", "[UNK]", "[PAD]"):
            if special not in vocab:
                raise FormatError(f"WordPiece vocabulary lacks the special token {special}")
        if max_length < 2:
            raise ValueError(f"max_length must be >= 2 ([CLS] and [SEP]), got {max_length}")
        self.vocab = vocab
        self.max_length = max_length
        self.cls_id = vocab["[CLS]"]
        self.sep_id = vocab["[SEP]"]
        self.unk_id = vocab["[UNK]"]
        self.pad_id = vocab["[PAD]"]
        self._word_cache: dict[str, tuple[int, ...]] = {}

    def word_ids(self, word: str) -> tuple[int, ...]:
        """WordPiece of one normalized word: greedy longest match first, ``##`` for continuations, else [UNK]."""
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        vocab = self.vocab
        ids: list[int] = []
        if len(word) > MAX_WORD_CHARS:
            ids = [self.unk_id]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = -1
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = vocab.get(piece, -1)
                    if found >= 0:
                        break
                    end -= 1
                if found < 0:
                    ids = [self.unk_id]
                    break
                ids.append(found)
                start = end
        result = tuple(ids)
        if len(self._word_cache) < 65536:
            self._word_cache[word] = result
        return result

    def tokenize_ids(self, text: str, *, limit: int | None = None) -> list[int]:
        """Token ids of ``text`` without special tokens; stops reading once ``limit`` ids exist (then cut to it)."""
        ids: list[int] = []
        for word in _split_words(text):
            ids.extend(self.word_ids(word))
            if limit is not None and len(ids) >= limit:
                return ids[:limit]
        return ids

    def encode(self, text: str) -> list[int]:
        """``[CLS] tokens [SEP]`` ids of ``text``, tokens truncated so the whole fits ``max_length``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        ids = self.tokenize_ids(text, limit=self.max_length - 2)
        return [self.cls_id, *ids, self.sep_id]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` for each text."""
        return [self.encode(text) for text in texts]


def _read_vocab() -> dict[str, int]:
    data = resources.files("keyframeface.models.bundled.encoder").joinpath("data/vocab.txt.gz").read_bytes()
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as error:
        raise FormatError(f"the bundled WordPiece vocabulary is not valid gzip ({error}); reinstall keyframeface") from error
    digest = hashlib.sha256(raw).hexdigest()
    if digest != VOCAB_SHA256:
        raise FormatError(
            f"the bundled WordPiece vocabulary has sha256 {digest}, expected {VOCAB_SHA256}; reinstall keyframeface"
        )
    lines = raw.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {token: index for index, token in enumerate(lines)}


@lru_cache(maxsize=1)
def load_tokenizer() -> WordPieceTokenizer:
    """The all-MiniLM-L6-v2 tokenizer with the bundled vocabulary (loaded once, sha256-checked)."""
    return WordPieceTokenizer(_read_vocab())
