"""Build a tiny, randomly initialised transformers model with a real tokenizer and a real PEFT LoRA adapter.

Used by tests/test_backend_hf.py so that the ``hf`` backend runs the real engines (transformers generate, PEFT
adapter loading, chat templates) offline in seconds. Nothing is downloaded: the tokenizer is a byte-level BPE trained
here on text made from the release prompt format and the 61 channel names, the model is a 2-layer Qwen3 with a
64-wide hidden state, and the adapter is a LoRA on the attention projections after a few optimizer steps (so its
weights are non-zero and it changes the model's outputs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keyframeface import prompt, rig
from keyframeface.script import Script

#: ChatML-like template, the layout Qwen models use; ``enable_thinking`` is read as Qwen3's template does.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]


@dataclass(frozen=True)
class TinyModel:
    """Paths of a saved tiny model (tokenizer beside it) and of a LoRA adapter trained on it."""

    model_dir: Path
    adapter_dir: Path
    plain_dir: Path  # the same model with a tokenizer that has no chat template


def example_script(count: int = 3) -> Script:
    """A small script in the release's style."""
    descriptions = [
        "The gaze is lowered, the inner brows lift slightly and the lips press together.",
        "The gaze rises and both mouth corners form a small restrained smile.",
        "The head tilts a little to the left and the eyes widen in surprise.",
        "The jaw drops open and the brows rise high.",
    ]
    return Script.from_dict(
        {
            "background": "A student waits outside an interview room and tries to hide their anxiety.",
            "emotion": "Anxiety concealed by a restrained smile.",
            "keyframes": [{"description": descriptions[i % len(descriptions)]} for i in range(count)],
        }
    )


def _corpus(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = [" ".join(rig.CHANNELS), prompt.SYSTEM_PROMPT]
    for count in (1, 2, 3, 4):
        script = example_script(count)
        lines.extend(prompt.user_message(script, i) for i in range(count))
    for i in range(200):
        values = np.array([rng.choice([0.0, 0.1, 0.2, 0.35, 0.5, 1.0]) for _ in range(rig.NUM_BLENDSHAPES)]
                          + [rng.choice([0.0, -0.1, 0.2, -0.05]) for _ in rig.POSE], dtype=np.float64)
        lines.append(prompt.format_answer(values, i % 5, digits=rng.choice([1, 2, 3])))
    return lines


def build_tokenizer(*, chat_template: str | None = CHAT_TEMPLATE) -> Any:
    """A byte-level BPE (every byte is a token, so any text can be written) wrapped as a fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def build_tiny_model(root: Path, *, seed: int = 0, train_steps: int = 4) -> TinyModel:
    """Save a tiny Qwen3 model + tokenizer under ``root/model`` and a LoRA adapter under ``root/adapter``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=4096,
        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen3ForCausalLM(config)
    # A larger init than the default 0.02 so the random model's logits are well separated (no near-ties that
    # float noise could flip between batched and single runs).
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.2)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    model_dir = root / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)

    plain_dir = root / "plain"
    model.save_pretrained(plain_dir)
    build_tokenizer(chat_template=None).save_pretrained(plain_dir)

    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    script = example_script(2)
    text = tokenizer.apply_chat_template(prompt.build_messages(script, 0), tokenize=False, add_generation_prompt=True)
    target = prompt.format_answer(np.full(rig.NUM_CHANNELS, 0.5), 0, digits=1)
    ids = tokenizer(text + target + "<|im_end|>", return_tensors="pt")["input_ids"]
    optimizer = torch.optim.Adam([p for p in peft_model.parameters() if p.requires_grad], lr=5e-2)
    peft_model.train()
    for _ in range(train_steps):
        loss = peft_model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    adapter_dir = root / "adapter"
    peft_model.save_pretrained(adapter_dir)
    return TinyModel(model_dir=model_dir, adapter_dir=adapter_dir, plain_dir=plain_dir)
