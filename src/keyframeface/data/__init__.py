"""Datasets: the on-disk format and its loader, the corpus builder, splits, SFT export and the dataset card.

Importing this package is cheap; each function imports what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .corpus import CorpusSummary, build_corpus
    from .loader import Clip, Dataset, dataset_stats, list_adapters, load_dataset, register_adapter
    from .sft import SftSummary, export_sft

__all__ = [
    "Clip",
    "CorpusSummary",
    "Dataset",
    "SftSummary",
    "build_corpus",
    "dataset_stats",
    "export_sft",
    "list_adapters",
    "load_dataset",
    "register_adapter",
]

_LAZY = {
    "CorpusSummary": "corpus",
    "build_corpus": "corpus",
    "Clip": "loader",
    "Dataset": "loader",
    "dataset_stats": "loader",
    "list_adapters": "loader",
    "load_dataset": "loader",
    "register_adapter": "loader",
    "SftSummary": "sft",
    "export_sft": "sft",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
