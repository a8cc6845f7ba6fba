"""A tiny randomly initialised Gemma 3 causal LM with a tiny tokenizer, and a tiny SFT export, for the LoRA tests.

Nothing is downloaded: the tokenizer is a byte-level BPE trained here on release-format text with Gemma's special
tokens (``<bos>``, ``<start_of_turn>``, ``<end_of_turn>`` ...), and the model is a 2-layer Gemma 3 with a 32-wide
hidden state, saved as a Hugging Face folder that ``train_lora(config=LoraConfig(base=FOLDER))`` loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from keyframeface import prompt, rig
from keyframeface.script import Script

SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]


def example_script(count: int = 3, seed: int = 0) -> Script:
    """A small script in the release's style."""
    descriptions = [
        "The gaze is lowered, the inner brows lift slightly and the lips press together.",
        "The gaze rises and both mouth corners form a small restrained smile.",
        "The head tilts a little to the left and the eyes widen in surprise.",
        "The jaw drops open and the brows rise high.",
    ]
    return Script.from_dict({
        "background": "A student waits outside an interview room.",
        "emotion": "Anxiety concealed by a restrained smile.",
        "keyframes": [{"description": descriptions[(i + seed) % len(descriptions)]} for i in range(count)],
    })


def _values(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(rig.NUM_CHANNELS)
    idx = rng.choice(rig.NUM_BLENDSHAPES, size=4, replace=False)
    v[idx] = rng.uniform(0.05, 0.9, size=4)
    return v


def write_sft(root: Path, *, representations: tuple[str, ...] = ("compact", "json"), digits: int = 3,
              per_split: int = 6) -> Path:
    """A small SFT export at ``root`` (the layout of :func:`keyframeface.data.sft.export_sft`)."""
    rng = np.random.default_rng(0)
    for rep in representations:
        for split in ("train", "validation", "test"):
            lines = []
            for k in range(per_split):
                script = example_script(2, seed=k)
                i = k % 2
                msgs = prompt.build_messages(script, i, representation=rep)
                msgs.append({"role": "assistant",
                             "content": prompt.format_answer(_values(rng), i, representation=rep, digits=digits)})
                lines.append(json.dumps({"messages": msgs}, ensure_ascii=False, separators=(",", ":")))
            (root / rep).mkdir(parents=True, exist_ok=True)
            (root / rep / f"{split}.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    (root / "sft.json").write_text(json.dumps({"format": "keyframeface.sft", "version": 1, "source": "/nonexistent",
                                               "source_name": "tiny", "digits": digits,
                                               "created": "2026-01-01T00:00:00+00:00"}), encoding="utf-8")
    return root


def build_tokenizer() -> Any:
    """A byte-level BPE with Gemma's special tokens, as a fast tokenizer that adds ``<bos>``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    text = [" ".join(rig.CHANNELS), prompt.SYSTEM_PROMPT, prompt.COMPACT_SYSTEM_PROMPT,
            *(prompt.user_message(example_script(3), i) for i in range(3)), "0.1 0.2 0.35 0.5 1.0"]
    tok.train_from_iterator(text, trainer)
    bos = tok.token_to_id("<bos>")
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", bos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                   unk_token="<unk>", additional_special_tokens=["<start_of_turn>", "<end_of_turn>"])


def build_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny Gemma 3 (2 layers, hidden 32) and its tokenizer in ``folder``; returns ``folder``."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=64,
                              max_position_embeddings=2048, pad_token_id=tokenizer.pad_token_id,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    model = Gemma3ForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
