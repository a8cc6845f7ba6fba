"""Convert a PEFT LoRA adapter (``adapter_model.safetensors`` + ``adapter_config.json``) to a GGUF LoRA adapter that
llama.cpp (and so the ``llama`` backend) loads with ``lora_path``.

The file follows llama.cpp's own ``convert_lora_to_gguf.py`` layout:

* metadata ``general.architecture`` (the base model's, e.g. ``gemma3``), ``general.type = "adapter"``,
  ``adapter.type = "lora"`` and ``adapter.lora.alpha`` (llama.cpp scales by ``alpha / rank``);
* for every adapted linear layer two tensors named after the base model's GGUF tensor plus ``.lora_a`` /
  ``.lora_b`` (``blk.3.attn_q.weight.lora_a``), with the names taken from the ``gguf`` package's tensor map. PEFT's
  ``lora_A`` (rank x in) and ``lora_B`` (out x rank) are written as they are (GGUF dims ``[in, rank]`` and
  ``[rank, out]``).

Gemma 3 needs no permutation of the q/k projections (llama.cpp uses NEOX rope for it), so the matrices are copied
unchanged. Needs ``gguf`` and ``safetensors`` (extra ``[train]``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError

__all__ = ["GgufLoraResult", "convert_peft_to_gguf", "gguf_tensor_name"]

_LAYER = re.compile(r"\.layers\.(\d+)\.")
_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")
_DTYPES = ("f16", "f32")


@dataclass(frozen=True)
class GgufLoraResult:
    """What :func:`convert_peft_to_gguf` wrote: the path, the tensor names in order, rank and alpha."""

    path: Path
    tensors: tuple[str, ...]
    rank: int
    alpha: float


def _import_gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise FormatError("converting a LoRA adapter to GGUF needs the gguf package: pip install "
                          "'keyframeface[train]'") from None
    return gguf


def gguf_tensor_name(hf_module: str, *, architecture: str = "gemma3", n_blocks: int = 64) -> str:
    """The GGUF name of the base weight of Hugging Face module ``hf_module`` (``model.layers.0.self_attn.q_proj``
    -> ``blk.0.attn_q.weight``). Raises :class:`FormatError` for a module llama.cpp has no tensor for."""
    gguf = _import_gguf()
    arch = next((a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == architecture), None)
    if arch is None:
        raise FormatError(f"the gguf package knows no architecture {architecture!r}")
    name = gguf.get_tensor_name_map(arch, n_blocks).get_name(hf_module + ".weight", try_suffixes=(".weight",))
    if name is None:
        raise FormatError(f"no llama.cpp tensor for module {hf_module!r} of a {architecture} model; adapt only "
                          "the attention and MLP projections")
    return str(name)


def _read_peft(adapter_dir: Path) -> tuple[Mapping[str, Any], dict[str, np.ndarray]]:
    config_path, weights_path = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not config_path.is_file() or not weights_path.is_file():
        raise FormatError(f"{adapter_dir} is not a PEFT adapter folder (needs adapter_config.json and "
                          "adapter_model.safetensors)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise FormatError(f"{adapter_dir}: only LoRA adapters convert, not {config.get('peft_type')!r}")
    if config.get("use_dora") or config.get("use_rslora"):
        raise FormatError(f"{adapter_dir}: DoRA / rsLoRA adapters are not supported by this converter")
    from safetensors.numpy import load_file

    return config, dict(load_file(str(weights_path)))


def convert_peft_to_gguf(adapter_dir: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                         architecture: str = "gemma3", dtype: str = "f16") -> GgufLoraResult:
    """Write ``out_path`` (a GGUF LoRA adapter) from the PEFT adapter folder ``adapter_dir``.

    ``architecture``: the base model's llama.cpp architecture name (must match the model file's, llama.cpp refuses
    an adapter for another one). ``dtype``: ``"f16"`` (default, half the size) or ``"f32"``. Written atomically.
    Raises :class:`FormatError` for a folder that is not a plain LoRA adapter or a module llama.cpp cannot adapt.
    """
    if dtype not in _DTYPES:
        raise FormatError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    gguf = _import_gguf()
    src = Path(adapter_dir)
    config, weights = _read_peft(src)
    rank = int(config.get("r", 0))
    alpha = float(config.get("lora_alpha", rank))
    if rank <= 0:
        raise FormatError(f"{src}: adapter_config.json has no positive rank r")
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        m = _PEFT_KEY.match(key)
        if m is None:
            raise FormatError(f"{src}: unexpected tensor {key!r} (only lora_A / lora_B weights convert; modules "
                              "saved whole, such as embeddings, are not supported)")
        pairs.setdefault(m["module"], {})[m["ab"]] = value
    if not pairs:
        raise FormatError(f"{src}: the adapter has no LoRA tensors")
    blocks = [int(m.group(1)) for m in (_LAYER.search(k) for k in pairs) if m]
    n_blocks = max(blocks, default=0) + 1
    np_dtype = np.float16 if dtype == "f16" else np.float32

    def order(module: str) -> tuple[int, str]:
        m = _LAYER.search(module)
        return (int(m.group(1)) if m else -1, module)

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lora-", suffix=".gguf", dir=out.parent)
    os.close(fd)
    names: list[str] = []
    try:
        writer = gguf.GGUFWriter(tmp, architecture)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        for module in sorted(pairs, key=order):
            ab = pairs[module]
            if set(ab) != {"A", "B"}:
                raise FormatError(f"{src}: module {module!r} has lora_{''.join(ab)} but not both A and B")
            a, b = ab["A"], ab["B"]
            if a.ndim != 2 or b.ndim != 2 or a.shape[0] != rank or b.shape[1] != rank:
                raise FormatError(f"{src}: module {module!r} has shapes {a.shape} / {b.shape}, not (r, in) / "
                                  f"(out, r) with r={rank}")
            base = gguf_tensor_name(module, architecture=architecture, n_blocks=n_blocks)
            for suffix, array in ((".lora_a", a), (".lora_b", b)):
                writer.add_tensor(base + suffix, np.ascontiguousarray(array, dtype=np_dtype))
                names.append(base + suffix)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return GgufLoraResult(out, tuple(names), rank, alpha)
