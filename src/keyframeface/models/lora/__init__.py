"""The LoRA adapter shipped for the ``llama`` backend's demo model (Gemma 3 270M): training, conversion, weights.

* :mod:`.train`: ``keyframeface train lora`` (PEFT LoRA with torch, the ``[train]`` extra);
* :mod:`.gguf`: the PEFT adapter converted to llama.cpp's GGUF LoRA format;
* ``gemma3-270m-keyframes-lora.gguf`` / ``.json``: the shipped adapter and its recipe (sha256 checked at load by
  :mod:`keyframeface.backends.llama`, which loads it from :data:`ADAPTER_DIR`).

Importing this package imports neither numpy nor torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["ADAPTER_DIR", "SHIPPED_ADAPTER"]

#: The folder holding the shipped adapter (``SHIPPED_ADAPTER + ".gguf"``) and its recipe (``+ ".json"``).
ADAPTER_DIR: Final[Path] = Path(__file__).resolve().parent
#: The shipped adapter's name: the stem of its ``.gguf`` file and of its recipe.
SHIPPED_ADAPTER: Final[str] = "gemma3-270m-keyframes-lora"
