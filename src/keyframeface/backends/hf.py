"""The ``hf`` backend: a transformers causal LM, optionally with a PEFT LoRA adapter, run in-process.

This is the KeyframeFace authors' setup without a server: a base model such as ``Qwen/Qwen3-14B`` plus the release's
LoRA adapter folder, bf16 on a GPU (float32 on CPU), all keyframes of a script generated in batches::

    backend = HFBackend(model="Qwen/Qwen3-14B", adapter="path/to/keyframeface-lora")
    keyframes = generate(script, backend=backend)

or ``keyframeface generate SCRIPT.json --backend hf --model Qwen/Qwen3-14B --adapter DIR``.

Prompts are rendered with the tokenizer's chat template (``enable_thinking=False`` for templates that read it, as
Qwen3's does, because the release's answers contain no reasoning); a tokenizer without a template gets a plain
``System: ... / User: ... / Assistant:`` layout. Temperature 0 decodes greedily; above 0 it samples, seeded by
``GenerationOptions.seed`` in a forked RNG so the caller's global torch RNG is untouched. ``constrained=True`` lets
the model write only a valid release-format answer (see :mod:`keyframeface.backends.hf_constrained`).

torch, transformers and peft are imported on first use only (extra ``keyframeface[hf]``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BackendError, BackendUnavailableError, FormatError
from ..options import option
from .base import Backend, Capabilities, GenerationOptions, Message

__all__ = ["HFBackend"]

logger = logging.getLogger(__name__)

_REQUIRED: tuple[str, ...] = ("torch", "transformers", "peft")
_DTYPES: tuple[str, ...] = ("auto", "bfloat16", "float16", "float32", "float64")
#: Sampling settings a caller may pass through ``GenerationOptions.extra``.
_SAMPLING_EXTRAS: tuple[str, ...] = ("top_p", "top_k", "min_p", "repetition_penalty")
_PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


@dataclass
class _Loaded:
    """What :meth:`HFBackend._load` builds once: the torch module, model, tokenizer and settings resolved."""

    torch: Any
    model: Any
    tokenizer: Any
    device: str
    dtype: str
    templated: bool
    eos_ids: tuple[int, ...]
    constraint: Any = None  # hf_constrained.TokenConstraint when constrained


def _looks_like_path(ref: str) -> bool:
    """Whether ``ref`` is meant as a local path rather than a hub id such as ``Qwen/Qwen3-14B``."""
    return (
        os.path.isabs(ref) or ref.startswith((".", "~")) or ref.count("/") > 1 or "\\" in ref or ref.endswith("/")
    )


def _resolve_ref(ref: str, *, what: str, flag: str) -> str:
    """A local folder as an absolute path, or a hub id unchanged; a missing local folder raises."""
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise BackendUnavailableError(f"hf {what} {ref!r} is a file; expected a folder ({flag} DIR) or a hub id")
        return str(path.resolve())
    if _looks_like_path(ref):
        raise BackendUnavailableError(
            f"hf {what} folder {ref!r} does not exist; give an existing folder or a Hugging Face id ({flag})"
        )
    return ref


@dataclass(frozen=True)
class HFOptions:
    """The hf backend's options (:class:`HFBackend`'s constructor keywords; its docstring has more)."""

    model: str | None = option(None, help="a Hugging Face id or a local folder with the model and its tokenizer "
                               "(required)")
    adapter: str | None = option(None, help="a PEFT LoRA adapter folder or hub id")
    device: str = option("auto", help="auto, cpu, cuda, cuda:N or mps")
    dtype: str = option("auto", help="auto (bfloat16 on cuda, float32 elsewhere), bfloat16, float16, float32, float64")
    max_new_tokens: int | None = option(None, low=1, help="answer length limit (default: the call's max_tokens)")
    batch_size: int = option(8, low=1, help="conversations generated together")
    trust_remote_code: bool = option(False, help="let transformers run the model repository's code")
    local_files_only: bool = option(False, help="never download")
    constrained: bool = option(False, help="only valid release-format JSON answers (representation json)")
    attn_implementation: str | None = option(None, help="passed to from_pretrained (sdpa, eager ...)")


class HFBackend(Backend):
    """transformers + PEFT, in-process (chat backend with batched generation).

    ``model``: a Hugging Face id (``Qwen/Qwen3-14B``) or a local folder with the model and its tokenizer (required).
    ``adapter``: a PEFT LoRA adapter folder (the KeyframeFace release's) or hub id, applied on top of ``model``.
    ``device``: ``"auto"`` (cuda when available, else cpu), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    ``dtype``: ``"auto"`` (bfloat16 on cuda, float32 elsewhere) or one of bfloat16, float16, float32, float64.
    ``max_new_tokens``: answer length limit (``None``: ``GenerationOptions.max_tokens``, 1024 as in the release).
    ``batch_size``: conversations generated together (left padding). ``local_files_only``: never download.
    ``constrained``: only let the model write a valid release-format JSON answer (``representation="json"``
    only; other representations are generated unconstrained).
    ``attn_implementation``: passed to ``from_pretrained`` (e.g. ``"sdpa"``, ``"eager"``); ``None``: its default.

    ``GenerationOptions.timeout_s`` bounds each batched generate call (transformers' ``max_time``): an answer cut
    off there fails to parse and goes through generate()'s repair pass, so raise it for large models on CPU.
    When sampling, ``GenerationOptions.extra`` may carry top_p, top_k, min_p and repetition_penalty; otherwise the
    model's generation_config applies. Sampling is reproducible for the same seed and the same batch.

    Construction is cheap; the model loads on first use. Missing packages, a missing folder or an adapter that
    does not fit the model raise :class:`BackendUnavailableError`; failures while generating raise
    :class:`BackendError`. Not thread-safe for concurrent generation (``capabilities.concurrent`` is False).
    """

    name: ClassVar[str] = "hf"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, batch=True, seed=True, structured=True)
    Options: ClassVar[type | None] = HFOptions  # declared once: names, defaults, help

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        adapter: str | os.PathLike[str] | None = None,
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int | None = None,
        batch_size: int = 8,
        trust_remote_code: bool = False,
        local_files_only: bool = False,
        constrained: bool = False,
        attn_implementation: str | None = None,
    ) -> None:
        if model is None or not str(model).strip():
            raise BackendUnavailableError(
                "the hf backend needs a model: --model Qwen/Qwen3-14B (a Hugging Face id) or --model DIR (a local "
                "folder with the model and its tokenizer); add --adapter DIR for a LoRA adapter"
            )
        if not isinstance(device, str) or not (
            device in ("auto", "cpu", "cuda", "mps") or (device.startswith("cuda:") and device[5:].isdigit())
        ):
            raise BackendUnavailableError(f"hf device must be auto, cpu, cuda, cuda:N or mps, got {device!r}")
        if dtype not in _DTYPES:
            raise BackendUnavailableError(f"hf dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise BackendUnavailableError(f"hf batch_size must be an integer >= 1, got {batch_size!r}")
        if max_new_tokens is not None and (
            isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1
        ):
            raise BackendUnavailableError(f"hf max_new_tokens must be an integer >= 1 or None, got {max_new_tokens!r}")
        for flag, value in (("trust_remote_code", trust_remote_code), ("local_files_only", local_files_only),
                            ("constrained", constrained)):
            if not isinstance(value, bool):
                raise BackendUnavailableError(f"hf {flag} must be true or false, got {value!r}")
        self.model = str(model)
        self.adapter = None if adapter is None else str(adapter)
        self.device = device
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.trust_remote_code = trust_remote_code
        self.local_files_only = local_files_only
        self.constrained = constrained
        self.attn_implementation = attn_implementation
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}

    # ------------------------------------------------------------------------------------------------ interface
    @classmethod
    def availability(cls) -> tuple[bool, str]:
        missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
        if missing:
            return False, f"install keyframeface[hf] (missing: {', '.join(missing)})"
        return True, "ready (needs --model; a GPU is used when available)"

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.name, "model": self.model, "adapter": self.adapter}
        if self._loaded is not None:
            info.update(device=self._loaded.device, dtype=self._loaded.dtype)
        else:
            info.update(device=self.device, dtype=self.dtype)
        if self.constrained:
            info["constrained"] = True
        return info

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        return self.complete_batch([messages], options=options)[0]

    def complete_batch(self, conversations: Sequence[Sequence[Message]], *, options: GenerationOptions) -> list[str]:
        """One answer per conversation, in order, generated ``batch_size`` at a time (similar lengths together)."""
        if not conversations:
            return []
        loaded = self._load()
        prompts = [self.render(messages) for messages in conversations]
        keys = [self._answer_key(messages, options) for messages in conversations]
        lengths = [len(ids) for ids in loaded.tokenizer(prompts, add_special_tokens=not loaded.templated)["input_ids"]]
        order = sorted(range(len(prompts)), key=lambda i: (-lengths[i], i))
        answers: dict[int, str] = {}
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            texts = self._generate(loaded, [prompts[i] for i in chunk], [keys[i] for i in chunk], options)
            answers.update(zip(chunk, texts, strict=True))
        return [answers[i] for i in range(len(prompts))]

    def usage(self) -> dict[str, int]:
        """Cumulative tokens over this instance's generate calls: ``prompt_tokens`` (each prompt's tokens,
        padding left out) and ``completion_tokens`` (each answer's new tokens up to and including its first
        end-of-sequence token, padding left out). Counted per conversation, so batching does not change them."""
        with self._lock:
            return dict(self._usage)

    def close(self) -> None:
        with self._lock:
            loaded, self._loaded = self._loaded, None
        if loaded is not None and loaded.device.startswith("cuda"):
            del loaded
            import torch

            torch.cuda.empty_cache()

    # ------------------------------------------------------------------------------------------------- prompting
    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text for ``messages``: the chat template with the generation prompt, or the plain layout."""
        loaded = self._load()
        msgs = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        if loaded.templated:
            kwargs: dict[str, Any] = {}
            if "enable_thinking" in str(loaded.tokenizer.chat_template):
                kwargs["enable_thinking"] = False  # the release's answers have no reasoning block
            try:
                text = loaded.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, **kwargs)
            except Exception as exc:  # jinja errors come in many types; report them as one
                raise BackendError(f"the chat template of {self.model!r} failed on these messages: {exc}") from exc
            return str(text)
        parts = [f"{_PLAIN_ROLES.get(m['role'], m['role'].title())}: {m['content']}" for m in msgs]
        return "\n\n".join([*parts, "Assistant:"]) + "\n"

    def _answer_key(self, messages: Sequence[Message], options: GenerationOptions) -> str | None:
        """The answer key for constrained decoding, from the first user message that names its target."""
        from .hf_constrained import constrains

        if not self.constrained or not constrains(options.representation):
            return None
        from .. import prompt

        for m in messages:
            if m.get("role") != "user":
                continue
            try:
                target = prompt.parse_user_message(str(m.get("content", ""))).target
            except FormatError:
                continue
            if target is not None:
                return prompt.answer_key(target + 1)
        return ""  # constrained, but no keyframe named: a bare 61-key object

    # --------------------------------------------------------------------------------------------------- loading
    def _load(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load_unlocked()
            return self._loaded

    def _load_unlocked(self) -> _Loaded:
        usable, reason = self.availability()
        if not usable:
            raise BackendUnavailableError(f"backend 'hf' is not usable here: {reason}")
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailableError(f"hf device {device!r} was asked for but torch sees no CUDA GPU; use cpu")
        dtype_name = self.dtype if self.dtype != "auto" else ("bfloat16" if device.startswith("cuda") else "float32")
        ref = _resolve_ref(self.model, what="model", flag="--model")
        common = {"local_files_only": self.local_files_only, "trust_remote_code": self.trust_remote_code}
        hint = (
            "only local files were searched (local_files_only); download it first or give a local folder"
            if self.local_files_only else "check the id (and network access) or give a local folder"
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(ref, **common)
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise BackendUnavailableError(f"could not load the tokenizer of {self.model!r}: {exc}; {hint}") from None
        # transformers 4.56 renamed torch_dtype to dtype
        major_minor = tuple(int(p) for p in transformers.__version__.split(".")[:2] if p.isdigit())
        dtype_kw = "dtype" if major_minor >= (4, 56) else "torch_dtype"
        kwargs: dict[str, Any] = {**common, dtype_kw: getattr(torch, dtype_name)}
        if device.startswith("cuda"):
            kwargs["device_map"] = {"": device}  # loads straight onto the GPU (accelerate), no CPU copy of a 14B
        if self.attn_implementation:
            kwargs["attn_implementation"] = self.attn_implementation
        # Weight initialisation before loading draws from the global RNG: fork it so loading leaves the caller's
        # torch RNG as it was.
        with torch.random.fork_rng(devices=_cuda_indices(torch, device)):
            try:
                load: Any = AutoModelForCausalLM.from_pretrained  # typed for model ids only, not paths
                model = load(ref, **kwargs)
            except (OSError, ValueError, KeyError, ImportError) as exc:
                raise BackendUnavailableError(f"could not load the model {self.model!r}: {exc}; {hint}") from None
            if "device_map" not in kwargs:
                model.to(device)
            if self.adapter is not None:
                model = self._apply_adapter(model)
        model.eval()

        tokenizer.padding_side = "left"  # decoder-only models continue from the right end of every row
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.unk_token
        if tokenizer.pad_token_id is None:
            raise BackendUnavailableError(f"the tokenizer of {self.model!r} has no pad, eos or unk token to pad with")
        eos: set[int] = set()
        configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        for value in (configured, tokenizer.eos_token_id):
            if isinstance(value, int):
                eos.add(value)
            elif isinstance(value, (list, tuple)):
                eos.update(int(v) for v in value)
        if not eos:
            raise BackendUnavailableError(f"the model {self.model!r} defines no end-of-sequence token")
        loaded = _Loaded(
            torch=torch, model=model, tokenizer=tokenizer, device=device, dtype=dtype_name,
            templated=bool(getattr(tokenizer, "chat_template", None)), eos_ids=tuple(sorted(eos)),
        )
        if not loaded.templated:
            logger.warning("the tokenizer of %r has no chat template; using a plain System/User/Assistant layout",
                           self.model)
        if self.constrained:
            loaded.constraint = self._build_constraint(tokenizer, loaded.eos_ids)
        logger.info("hf backend: loaded %s%s on %s (%s)", self.model,
                    f" + adapter {self.adapter}" if self.adapter else "", device, dtype_name)
        return loaded

    def _apply_adapter(self, model: Any) -> Any:
        from peft import PeftConfig, PeftModel

        assert self.adapter is not None  # checked by the caller
        ref = _resolve_ref(self.adapter, what="adapter", flag="--adapter")
        if Path(ref).is_dir() and not (Path(ref) / "adapter_config.json").is_file():
            raise BackendUnavailableError(
                f"{self.adapter!r} is not a PEFT adapter folder: it has no adapter_config.json (give the folder "
                "that holds adapter_config.json and adapter_model.safetensors)"
            )
        hub: dict[str, Any] = {} if Path(ref).is_dir() else {"local_files_only": self.local_files_only}
        try:
            config = PeftConfig.from_pretrained(ref, **hub)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # huggingface_hub's errors are OSErrors
            raise BackendUnavailableError(
                f"the adapter {self.adapter!r} could not be loaded: {_first_line(exc)}; give a local adapter folder "
                "(with adapter_config.json) or a Hugging Face id"
            ) from None
        try:
            return PeftModel.from_pretrained(model, ref, config=config, is_trainable=False, **hub)
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise BackendUnavailableError(
                f"the adapter {self.adapter!r} could not be applied to {self.model!r}: {_first_line(exc)}; check "
                "that it was trained for this base model"
            ) from None

    @staticmethod
    def _build_constraint(tokenizer: Any, eos_ids: Sequence[int]) -> Any:
        from .hf_constrained import TokenConstraint

        size = len(tokenizer)
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        # Each token's text as it appears *after* other text: decode (anchor + token) minus the anchor, so
        # SentencePiece's word-start marker shows as the space it writes.
        anchor = list(tokenizer.encode("0", add_special_tokens=False))
        if anchor:
            pieces = tokenizer.batch_decode([[*anchor, i] for i in range(size)], skip_special_tokens=False,
                                            clean_up_tokenization_spaces=False)
            head = len(tokenizer.decode(anchor, skip_special_tokens=False, clean_up_tokenization_spaces=False))
            strings: list[str | None] = [p[head:] for p in pieces]
        else:
            strings = list(tokenizer.batch_decode([[i] for i in range(size)], skip_special_tokens=False,
                                                  clean_up_tokenization_spaces=False))
        for i in special:
            if 0 <= i < size:
                strings[i] = None
        return TokenConstraint(strings, eos_ids)

    # ------------------------------------------------------------------------------------------------ generation
    def _count_tokens(self, loaded: _Loaded, attention_mask: Any, new_tokens: Any) -> None:
        prompt, completion = _count_tokens_rows(attention_mask, new_tokens, loaded.eos_ids)
        with self._lock:
            self._usage["prompt_tokens"] += prompt
            self._usage["completion_tokens"] += completion

    def _generate(self, loaded: _Loaded, prompts: list[str], keys: list[str | None],
                  options: GenerationOptions) -> list[str]:
        torch = loaded.torch
        tokenizer = loaded.tokenizer
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=not loaded.templated)
        enc = enc.to(loaded.device)
        sample = options.temperature > 0
        gen: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens or options.max_tokens,
            "do_sample": sample,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": list(loaded.eos_ids),
            "max_time": options.timeout_s,
        }
        if sample:
            gen["temperature"] = options.temperature
            gen.update({k: options.extra[k] for k in _SAMPLING_EXTRAS if k in options.extra})
        else:  # greedy: clear the model's sampling defaults (Qwen3 ships temperature 0.7 ...) to avoid warnings
            gen.update(temperature=None, top_p=None, top_k=None)
        if loaded.constraint is not None and any(k is not None for k in keys):
            from transformers import LogitsProcessorList

            gen["logits_processor"] = LogitsProcessorList([_constraint_processor(loaded.constraint, keys)])
        try:
            # A seeded call samples from a forked RNG (the caller's stays as it was); an unseeded one draws from the
            # global RNG like any torch code, so repeated calls differ.
            seed = options.seed if sample else None
            with torch.random.fork_rng(devices=_cuda_indices(torch, loaded.device), enabled=seed is not None), \
                    torch.inference_mode():
                if seed is not None:
                    torch.manual_seed(int(seed))
                out = loaded.model.generate(**enc, **gen)
        except torch.cuda.OutOfMemoryError as exc:
            raise BackendError(
                f"out of GPU memory generating {len(prompts)} answers: {_first_line(exc)}; lower "
                f"batch_size (now {self.batch_size}, --option batch_size=N) or max_new_tokens"
            ) from None
        except (RuntimeError, ValueError, TypeError) as exc:
            raise BackendError(f"transformers generation failed: {_first_line(exc)}") from exc
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        self._count_tokens(loaded, enc["attention_mask"], new_tokens)
        texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return [str(t).strip() for t in texts]


def _count_tokens_rows(attention_mask: Any, new_tokens: Any, eos_ids: Sequence[int]) -> tuple[int, int]:
    """(prompt tokens, completion tokens) of one batch: attention-mask ones, and each row's new tokens up to and
    including its first end-of-sequence token (all of them when it has none)."""
    prompt = int(attention_mask.sum().item())
    completion = 0
    eos = set(int(i) for i in eos_ids)
    for row in new_tokens.tolist():
        stop = next((i for i, tok in enumerate(row) if int(tok) in eos), None)
        completion += len(row) if stop is None else stop + 1
    return prompt, completion


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _cuda_indices(torch: Any, device: str) -> list[int]:
    """The CUDA device indices whose RNG ``torch.random.fork_rng`` must save for ``device`` (none on CPU)."""
    if not device.startswith("cuda"):
        return []
    index = torch.device(device).index
    return [torch.cuda.current_device() if index is None else index]


def _constraint_processor(constraint: Any, keys: list[str | None]) -> Any:
    """A transformers logits processor that masks every token the answer grammar does not allow.

    ``keys[row]``: the answer key of that batch row, ``""`` for a bare object, ``None`` for an unconstrained row.
    """
    import torch
    from transformers import LogitsProcessor

    class _GrammarProcessor(LogitsProcessor):
        def __init__(self) -> None:
            self.prompt_len: int | None = None
            self.states: list[Any] = []
            self.masks: dict[tuple[Any, Any], Any] = {}

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if self.prompt_len is None:
                self.prompt_len = int(input_ids.shape[1])
                self.states = [None if k is None else constraint.grammar(k or None).start for k in keys]
            else:
                last = input_ids[:, -1].tolist()
                for row, key in enumerate(keys):
                    if key is not None:
                        self.states[row] = constraint.advance(key or None, self.states[row], int(last[row]))
            masked = scores.clone()
            for row, key in enumerate(keys):
                if key is None:
                    continue
                memo = (key, self.states[row])
                mask = self.masks.get(memo)
                if mask is None:
                    allowed = torch.tensor(constraint.allowed(key or None, self.states[row]), dtype=torch.long)
                    mask = torch.full((scores.shape[1],), float("-inf"), dtype=scores.dtype)
                    mask[allowed[allowed < scores.shape[1]]] = 0.0
                    mask = mask.to(scores.device)
                    self.masks[memo] = mask
                masked[row] = scores[row] + mask
            return masked

    return _GrammarProcessor()
