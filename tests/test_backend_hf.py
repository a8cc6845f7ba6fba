"""The ``hf`` backend: transformers + PEFT on a tiny random model made here (tests/hf_tiny.py), never downloaded.

Fast tests cover the pure-Python parts (the constrained-decoding grammar, option checks, lazy imports). Tests that
load a model need torch, transformers and peft (``pip install -e '.[hf]'``; CPU torch is enough) and are marked slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import prompt, rig
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.hf import HFBackend
from keyframeface.backends.hf_constrained import MAX_DECIMALS, AnswerGrammar, TokenConstraint
from keyframeface.backends.registry import get_backend, list_backends, resolve_backend_class
from keyframeface.errors import BackendUnavailableError, GenerationError

# ----------------------------------------------------------------------------------------------- grammar (fast)
_blend = st.floats(0.0, 1.0, allow_nan=False)
_pose = st.floats(-1.0, 1.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_blend, min_size=rig.NUM_BLENDSHAPES, max_size=rig.NUM_BLENDSHAPES),
    st.lists(_pose, min_size=len(rig.POSE), max_size=len(rig.POSE)),
    st.integers(0, 40),
    st.integers(1, MAX_DECIMALS),
)
def test_grammar_accepts_every_formatted_answer(blend: list[float], pose: list[float], index: int, digits: int) -> None:
    values = np.array(blend + pose)
    text = prompt.format_answer(values, index, digits=digits)
    assert AnswerGrammar(prompt.answer_key(index + 1)).accepts(text)
    assert not AnswerGrammar(prompt.answer_key(index + 2)).accepts(text)  # the key is fixed


def test_grammar_accepts_the_release_answer_format() -> None:
    values = np.zeros(rig.NUM_CHANNELS)
    values[rig.CHANNEL_INDEX["MouthPressLeft"]] = 0.4
    values[rig.CHANNEL_INDEX["HeadPitch"]] = -0.1
    text = prompt.format_answer(values, 0, digits=1)
    assert text.startswith('{"Keyframe_one":{"EyeBlinkLeft":0.0,')
    assert AnswerGrammar("Keyframe_one").accepts(text)
    bare = json.dumps(json.loads(text)["Keyframe_one"], separators=(",", ":"))
    assert AnswerGrammar(None).accepts(bare)
    assert not AnswerGrammar("Keyframe_one").accepts(bare)


@pytest.mark.parametrize(
    "bad",
    [
        lambda t: t.replace('"EyeBlinkLeft":0.0', '"EyeBlinkLeft":-0.1'),  # negative blendshape
        lambda t: t.replace('"HeadYaw":0.0', '"HeadYaw":1.5'),  # out of range
        lambda t: t.replace('"HeadYaw":0.0', '"HeadYaw":0.1234'),  # too many decimals
        lambda t: t.replace('"HeadYaw":0.0', '"HeadYaw":.5'),
        lambda t: t.replace('"HeadYaw":0.0', '"HeadYaw":"0.1"'),
        lambda t: t.replace('"JawLeft":0.0,', ""),  # a channel missing
        lambda t: t[:-1],  # cut off
        lambda t: t + "}",
        lambda t: t.replace(":", ": "),
    ],
)
def test_grammar_rejects_invalid_answers(bad: object) -> None:
    text = prompt.format_answer(np.zeros(rig.NUM_CHANNELS), 0, digits=1)
    broken = bad(text)  # type: ignore[operator]
    assert broken != text
    assert not AnswerGrammar("Keyframe_one").accepts(broken)


def test_every_accepted_answer_parses_strictly() -> None:
    """Walk the grammar choosing random allowed characters: whatever it lets through is a strict answer."""
    rng = np.random.default_rng(0)
    grammar = AnswerGrammar("Keyframe_two")
    alphabet = sorted(set('{}":,.-_0123456789') | set("".join(rig.CHANNELS)) | set("Keyframe_two"))
    for _ in range(5):
        state, text = grammar.start, ""
        while not grammar.done(state):
            options = [(ch, nxt) for ch in alphabet if (nxt := grammar.step(state, ch)) is not None]
            ch, state = options[int(rng.integers(len(options)))]
            text += ch
        parsed = prompt.parse_values(text, policy="strict", index=1)
        assert parsed.warnings == [] and parsed.key == "Keyframe_two"


def test_token_constraint_walks_multi_character_tokens() -> None:
    tokens = ['{"', "Keyframe", "_", "one", '":{"', "EyeBlinkLeft", '":', "0", ".", "12", "3", ",", '"', ',"', "x y",
              None, "1234", '":-', "<eos>"]
    eos = len(tokens) - 1
    tc = TokenConstraint(tokens, [eos])
    state = tc.grammar("Keyframe_one").start
    assert set(tc.allowed("Keyframe_one", state)) == {0}
    for tid in (0, 1, 2, 3, 4, 5, 6):
        state = tc.advance("Keyframe_one", state, tid)
    allowed = {tokens[i] for i in tc.allowed("Keyframe_one", state)}
    assert allowed == {"0"}  # a number starts; "1" is not in this vocabulary, "1234" cannot follow ":"
    for tid in (7, 8, 9):  # 0 . 12
        state = tc.advance("Keyframe_one", state, tid)
    allowed = {tokens[i] for i in tc.allowed("Keyframe_one", state)}
    assert allowed == {"0", "3", ",", ',"'}  # one more decimal or the separator; "1234" would make 6 decimals
    assert tc.advance("Keyframe_one", state, tokens.index("1234")) is None
    assert tc.allowed("Keyframe_one", None) == (eos,)  # a dead row may only stop


# ------------------------------------------------------------------------------------------ options (fast)
def test_registered_and_listed() -> None:
    assert resolve_backend_class("hf") is HFBackend
    assert HFBackend.capabilities.chat and HFBackend.capabilities.batch and HFBackend.capabilities.seed
    assert "hf" in {row.name for row in list_backends()}


def test_importing_the_backend_imports_no_heavy_package() -> None:
    code = (
        "import sys, keyframeface.backends.hf, keyframeface.backends.hf_constrained\n"
        "from keyframeface.backends.registry import list_backends; list_backends()\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_availability_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    usable, reason = HFBackend.availability()
    assert not usable and "keyframeface[hf]" in reason and "peft" in reason
    with pytest.raises(BackendUnavailableError, match=r"keyframeface\[hf\]"):
        get_backend("hf", model="some/model")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "needs a model"),
        ({"model": "m", "device": "gpu"}, "device"),
        ({"model": "m", "dtype": "int8"}, "dtype"),
        ({"model": "m", "batch_size": 0}, "batch_size"),
        ({"model": "m", "max_new_tokens": -1}, "max_new_tokens"),
        ({"model": "m", "local_files_only": "yes"}, "local_files_only"),
    ],
)
def test_bad_options_are_refused_at_construction(options: dict[str, object], match: str) -> None:
    with pytest.raises(BackendUnavailableError, match=match):
        HFBackend(**options)  # type: ignore[arg-type]


def test_unknown_option_is_a_clear_error() -> None:
    if not HFBackend.availability()[0]:
        pytest.skip("torch/transformers/peft not installed")
    with pytest.raises(BackendUnavailableError, match="does not take these options"):
        get_backend("hf", model="m", base_url="http://x")


def test_construction_loads_nothing(tmp_path: Path) -> None:
    backend = HFBackend(model=str(tmp_path / "missing"), adapter="also/missing/adapter")
    assert backend.describe() == {"backend": "hf", "model": str(tmp_path / "missing"),
                                  "adapter": "also/missing/adapter", "device": "auto", "dtype": "auto"}


def test_constrained_answer_key_comes_from_the_request() -> None:
    messages = _conversations(3)[1]
    repair = [*messages, {"role": "assistant", "content": "oops"}, {"role": "user", "content": "Answer again."}]
    backend = HFBackend(model="m", constrained=True)
    json_options = GenerationOptions()
    assert backend._answer_key(messages, json_options) == "Keyframe_two"
    assert backend._answer_key(repair, json_options) == "Keyframe_two"  # the repair pass keeps the key
    assert backend._answer_key([{"role": "user", "content": "Say hi."}], json_options) == ""  # bare object
    assert backend._answer_key(messages, GenerationOptions(representation="compact")) is None
    assert HFBackend(model="m")._answer_key(messages, json_options) is None


# ------------------------------------------------------------------------------ real tiny model (slow)
@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    torch = pytest.importorskip("torch", reason="needs torch (pip install torch; CPU is enough)")
    pytest.importorskip("transformers", reason="needs transformers (pip install -e '.[hf]')")
    pytest.importorskip("peft", reason="needs peft (pip install -e '.[hf]')")
    from hf_tiny import build_tiny_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-wide model gains nothing from threads, and they fight on a shared CPU
    try:
        yield build_tiny_model(tmp_path_factory.mktemp("hf_tiny"))
    finally:
        torch.set_num_threads(threads)


def _backend(tiny: object, **options: object) -> HFBackend:
    defaults: dict[str, object] = {"model": str(tiny.model_dir), "adapter": str(tiny.adapter_dir),  # type: ignore[attr-defined]
                                   "local_files_only": True}
    return HFBackend(**{**defaults, **options})  # type: ignore[arg-type]


def _conversations(count: int) -> list[list[dict[str, str]]]:
    from hf_tiny import example_script

    script = example_script(count)
    return [prompt.build_messages(script, i) for i in range(count)]


SHORT = GenerationOptions(max_tokens=24)


@pytest.mark.slow
def test_adapter_is_applied_and_greedy_is_deterministic(tiny: object) -> None:
    messages = _conversations(2)[0]
    adapted = _backend(tiny)
    base = _backend(tiny, adapter=None)
    first = adapted.complete(messages, options=SHORT)
    assert first == adapted.complete(messages, options=SHORT)
    assert first != base.complete(messages, options=SHORT)
    info = adapted.describe()
    assert info["adapter"] == str(tiny.adapter_dir) and info["device"] == "cpu" and info["dtype"] == "float32"  # type: ignore[attr-defined]


@pytest.mark.slow
def test_chat_template_is_used_with_thinking_off(tiny: object) -> None:
    backend = _backend(tiny)
    text = backend.render(_conversations(2)[1])
    assert text.startswith("<|im_start|>system\n" + prompt.SYSTEM_PROMPT)
    assert "Generate the facial expression parameters for Keyframe Two.<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


@pytest.mark.slow
def test_batched_equals_single_at_temperature_zero(tiny: object) -> None:
    conversations = _conversations(3)
    # 3 conversations: one padded batch of 2 and one of 1. float64 so that the different summation order of padded
    # and unpadded rows cannot flip a near-tie of the random model's logits.
    backend = _backend(tiny, batch_size=2, dtype="float64")
    batched = backend.complete_batch(conversations, options=SHORT)
    single = [backend.complete(c, options=SHORT) for c in conversations]
    assert batched == single
    assert len(batched) == 3 and all(isinstance(t, str) for t in batched)


@pytest.mark.slow
def test_constrained_batched_equals_single(tiny: object) -> None:
    conversations = _conversations(2)
    backend = _backend(tiny, constrained=True, dtype="float64")
    batched = backend.complete_batch(conversations, options=GenerationOptions())
    assert batched == [backend.complete(c, options=GenerationOptions()) for c in conversations]
    assert [prompt.parse_values(t, index=i).key for i, t in enumerate(batched)] == ["Keyframe_one", "Keyframe_two"]


@pytest.mark.slow
def test_sampling_is_seeded(tiny: object) -> None:
    import torch

    backend = _backend(tiny)
    messages = _conversations(1)[0]
    state = torch.random.get_rng_state()
    a = backend.complete(messages, options=GenerationOptions(max_tokens=24, temperature=1.0, seed=7))
    b = backend.complete(messages, options=GenerationOptions(max_tokens=24, temperature=1.0, seed=7))
    c = backend.complete(messages, options=GenerationOptions(max_tokens=24, temperature=1.0, seed=8))
    assert a == b and a != c
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is left alone
    unseeded = {backend.complete(messages, options=GenerationOptions(max_tokens=24, temperature=1.0)) for _ in "ab"}
    assert len(unseeded) == 2  # without a seed, calls differ


@pytest.mark.slow
def test_tokenizer_without_chat_template_uses_a_plain_layout(tiny: object) -> None:
    backend = HFBackend(model=str(tiny.plain_dir), local_files_only=True)  # type: ignore[attr-defined]
    messages = _conversations(1)[0]
    text = backend.render(messages)
    assert text.startswith("System: " + prompt.SYSTEM_PROMPT) and text.endswith("\n\nAssistant:\n")
    assert isinstance(backend.complete(messages, options=SHORT), str)


@pytest.mark.slow
def test_constrained_generate_end_to_end_is_valid(tiny: object) -> None:
    from hf_tiny import example_script
    from keyframeface.generate import generate

    class Recording(HFBackend):  # the real backend, keeping its raw answers for the assertions below
        raw: ClassVar[list[str]] = []

        def complete_batch(self, conversations, *, options):  # type: ignore[no-untyped-def]
            texts = super().complete_batch(conversations, options=options)
            self.raw.extend(texts)
            return texts

    backend = Recording(model=str(tiny.model_dir), adapter=str(tiny.adapter_dir),  # type: ignore[attr-defined]
                        local_files_only=True, constrained=True)
    keyframes = generate(example_script(2), backend=backend, policy="repair")
    assert len(backend.raw) == 2  # one batched call, no repair pass needed
    for i, text in enumerate(backend.raw):  # the random model, constrained, writes strictly valid answers
        parsed = prompt.parse_values(text, policy="strict", index=i)
        assert parsed.warnings == [] and parsed.key == prompt.answer_key(i + 1)
    assert len(keyframes.keyframes) == 2 and "warnings" not in keyframes.meta
    for kf in keyframes.keyframes:
        values = kf.array
        assert values.shape == (rig.NUM_CHANNELS,) and np.all(values >= rig.LOW) and np.all(values <= rig.HIGH)
    assert keyframes.meta["backend"] == "hf" and keyframes.meta["constrained"] is True


@pytest.mark.slow
def test_unconstrained_random_model_keeps_partial_results(tiny: object) -> None:
    """A random model writes garbage: generate() must fail cleanly per keyframe, not crash."""
    from hf_tiny import example_script
    from keyframeface.generate import generate

    backend = _backend(tiny, max_new_tokens=16)
    with pytest.raises(GenerationError) as info:
        generate(example_script(2), backend=backend, policy="repair", repair_attempts=0)
    assert set(info.value.failed) == {0, 1}


@pytest.mark.slow
def test_cli_generate_with_hf_backend(tiny: object, tmp_path: Path) -> None:
    from hf_tiny import example_script
    from keyframeface.cli.main import main
    from keyframeface.script import Keyframes

    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(example_script(1).to_dict()))
    out = tmp_path / "keyframes.json"
    code = main(["generate", str(script_path), "-o", str(out), "--backend", "hf", "--model", str(tiny.model_dir),  # type: ignore[attr-defined]
                 "--adapter", str(tiny.adapter_dir), "--option", "local_files_only=true",  # type: ignore[attr-defined]
                 "--option", "constrained=true"])
    assert code == 0
    keyframes = Keyframes.from_dict(json.loads(out.read_text()))
    assert len(keyframes.keyframes) == 1 and keyframes.meta["model"] == str(tiny.model_dir)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_missing_model_folder_is_a_clear_error(tiny: object, tmp_path: Path) -> None:
    backend = HFBackend(model=str(tmp_path / "nope"), local_files_only=True)
    with pytest.raises(BackendUnavailableError, match="does not exist"):
        backend.complete(_conversations(1)[0], options=SHORT)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackendUnavailableError, match="could not load the tokenizer"):
        HFBackend(model=str(empty), local_files_only=True).complete(_conversations(1)[0], options=SHORT)


@pytest.mark.slow
def test_bad_adapters_are_clear_errors(tiny: object, tmp_path: Path) -> None:
    messages = _conversations(1)[0]
    not_adapter = tmp_path / "not_adapter"
    not_adapter.mkdir()
    with pytest.raises(BackendUnavailableError, match=r"adapter_config\.json"):
        _backend(tiny, adapter=str(not_adapter)).complete(messages, options=SHORT)
    with pytest.raises(BackendUnavailableError, match="does not exist"):
        _backend(tiny, adapter=str(tmp_path / "missing")).complete(messages, options=SHORT)
    with pytest.raises(BackendUnavailableError, match="could not be loaded"):  # a hub id, not in the local cache
        _backend(tiny, adapter="nobody/no-such-keyframeface-adapter").complete(messages, options=SHORT)
    # an adapter for modules this model does not have
    config = json.loads((tiny.adapter_dir / "adapter_config.json").read_text())  # type: ignore[attr-defined]
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    config["target_modules"] = ["no_such_proj"]
    (wrong / "adapter_config.json").write_text(json.dumps(config))
    (wrong / "adapter_model.safetensors").write_bytes((tiny.adapter_dir / "adapter_model.safetensors").read_bytes())  # type: ignore[attr-defined]
    with pytest.raises(BackendUnavailableError, match="could not be applied"):
        _backend(tiny, adapter=str(wrong)).complete(messages, options=SHORT)


def test_empty_batch_loads_nothing() -> None:
    backend = HFBackend(model="/no/such/model/folder")
    assert backend.complete_batch([], options=SHORT) == []


def test_constraint_reads_sentencepiece_style_tokens() -> None:
    """SentencePiece vocabularies mark a word start with "▁": such a token writes a space, which the grammar refuses,
    so the constraint must see the space (decoded after other text), not the bare token."""
    pytest.importorskip("transformers", reason="needs transformers (pip install -e '.[hf]')")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    lines = [prompt.format_answer(np.full(rig.NUM_CHANNELS, v), 0, digits=1) for v in (0.0, 0.5)]
    lines += ["Keyframe one answer 0 . 5 and 1 . 0", " ".join(rig.CHANNELS)]
    tok.train_from_iterator(lines, trainer=trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "</s>"],
                                                              show_progress=False))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>")
    eos = fast.eos_token_id
    constraint = HFBackend._build_constraint(fast, [eos])
    spaced = [i for i in range(len(fast)) if fast.convert_ids_to_tokens(i).startswith("▁")
              and len(fast.convert_ids_to_tokens(i)) > 1]
    assert spaced, "the trained vocabulary has word-start tokens"
    grammar = constraint.grammar("Keyframe_one")
    state = grammar.start
    text = prompt.format_answer(np.zeros(rig.NUM_CHANNELS), 0, digits=1)
    for _ in range(len(text)):  # greedy walk: always take the longest allowed token
        if grammar.done(state):
            break
        allowed = constraint.allowed("Keyframe_one", state)
        assert not set(allowed) & set(spaced)
        best = max((i for i in allowed if i != eos), key=lambda i: len(fast.decode([i])))
        state = constraint.advance("Keyframe_one", state, best)
        assert state is not None
    assert grammar.done(state) and constraint.allowed("Keyframe_one", state) == (eos,)


@pytest.mark.slow
def test_explicit_dtype_and_device(tiny: object) -> None:
    import torch

    backend = _backend(tiny, dtype="bfloat16", device="cpu")  # the GPU dtype, on CPU (torch supports both)
    assert isinstance(backend.complete(_conversations(1)[0], options=SHORT), str)
    assert backend.describe()["dtype"] == "bfloat16"
    assert backend._load().model.dtype == torch.bfloat16
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailableError, match="no CUDA GPU"):
            _backend(tiny, device="cuda").complete(_conversations(1)[0], options=SHORT)


def test_token_counting_leaves_out_padding_and_stops_at_eos() -> None:
    torch = pytest.importorskip("torch", reason="needs torch (pip install torch; CPU is enough)")
    from keyframeface.backends.hf import _count_tokens_rows

    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])  # left padding: 3 + 5 prompt tokens
    new = torch.tensor([[5, 6, 2, 2, 2], [5, 6, 7, 8, 9]])  # eos = 2: row 0 wrote 3 tokens, row 1 ran to the limit
    assert _count_tokens_rows(mask, new, (2,)) == (8, 8)
    assert HFBackend(model="m").usage() == {"prompt_tokens": 0, "completion_tokens": 0}


@pytest.mark.slow
def test_usage_counts_prompt_and_completion_tokens(tiny: object) -> None:
    backend = _backend(tiny)
    conversations = _conversations(3)
    assert backend.usage() == {"prompt_tokens": 0, "completion_tokens": 0}
    backend.complete_batch(conversations, options=SHORT)
    loaded = backend._load()
    prompts = [len(loaded.tokenizer(backend.render(c), add_special_tokens=False)["input_ids"]) for c in conversations]
    first = backend.usage()
    assert first["prompt_tokens"] == sum(prompts)
    assert 3 <= first["completion_tokens"] <= 3 * SHORT.max_tokens
    # batched or one at a time, the counts are the same (padding is not counted)
    single = _backend(tiny, batch_size=1)
    single.complete_batch(conversations, options=SHORT)
    assert single.usage() == first
    backend.complete(conversations[0], options=SHORT)
    assert backend.usage()["prompt_tokens"] == sum(prompts) + prompts[0]
