"""Supervised fine-tuning data: ms-swift ``messages`` JSONL in the release's request format, and a Hugging Face
``datasets`` folder.

For every keyframe of every clip, one conversation: the release's system prompt and user message for that
keyframe (:func:`keyframeface.prompt.build_messages`, byte-identical in form to
``reference/keyframeface-release/example.jsonl``) and the assistant answer holding the keyframe's values
(:func:`keyframeface.prompt.format_answer`). One folder per representation in :data:`keyframeface.prompt.
REPRESENTATIONS` (``json`` is the release's; ``compact`` and any later one, such as ``semantic``, follow)::

    OUTDIR/json/train.jsonl  validation.jsonl  test.jsonl      ms-swift: swift sft --dataset OUTDIR/json/train.jsonl
    OUTDIR/compact/...
    OUTDIR/hf/train.jsonl ... README.md dataset_infos.json      datasets.load_dataset("json", data_files=...) or
                                                                 datasets.load_dataset("OUTDIR/hf")
    OUTDIR/sft.json                                              how it was made, counts

Lines are written like the release's: ``json.dumps`` with compact separators and ``ensure_ascii=False``.
Values keep the rig's conventions (eye pitch positive = looking down).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import rig
from .._version import __version__
from ..errors import ScriptError
from ..io.atomic import atomic_write_text
from ..prompt import REPRESENTATIONS, build_messages, format_answer
from ..script import Script
from .layout import SPLITS
from .loader import Dataset, load_dataset

__all__ = ["HF_FIELDS", "SftSummary", "export_sft", "sft_records"]

#: Fields of each record of the Hugging Face form.
HF_FIELDS: tuple[str, ...] = ("id", "clip_id", "keyframe_index", "kind", "messages", "background", "emotion",
                              "descriptions", "values")


@dataclass(frozen=True)
class SftSummary:
    """What :func:`export_sft` wrote: ``root``, ``representations``, conversations per split, files written."""

    root: Path
    representations: tuple[str, ...]
    conversations: dict[str, int]
    files: tuple[Path, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def sft_records(dataset: Dataset, *, representation: str = "json", digits: int = 3) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Yield ``(split, ms-swift record, hf record)`` for every keyframe of every clip, in dataset order.

    The ms-swift record is ``{"messages": [system, user, assistant]}``; the HF record adds ids, texts and the
    values as a list of 61 floats in rig.CHANNELS order (see :data:`HF_FIELDS`).
    """
    for clip in dataset.clips:
        kfs = clip.resolved()
        script = kfs.script()
        if not isinstance(script, Script):  # pragma: no cover - Keyframes.script() always returns a Script
            raise ScriptError(f"clip {clip.id!r} has no script")
        descriptions = [kf.description for kf in script.keyframes]
        for i, kf in enumerate(kfs.keyframes):
            values = kf.array
            messages = build_messages(script, i, representation=representation)
            messages.append({"role": "assistant",
                             "content": format_answer(values, i, representation=representation, digits=digits)})
            hf = {
                "id": f"{clip.id}#{i}",
                "clip_id": clip.id,
                "keyframe_index": i,
                "kind": clip.kind,
                "messages": messages,
                "background": script.background,
                "emotion": script.emotion,
                "descriptions": descriptions,
                "values": [round(float(v), digits) + 0.0 for v in values],
            }
            yield clip.split, {"messages": messages}, hf


def _hf_readme(counts: dict[str, int], representation: str) -> str:
    files = "\n".join(f"  - split: {s}\n    path: {s}.jsonl" for s in SPLITS if counts.get(s))
    return (
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + files + "\n---\n\n"
        "# keyframeface SFT data\n\n"
        "One record per keyframe: `messages` (system, user and assistant turns in the KeyframeFace release's "
        f"request format; representation `{representation}`), the script's `background`, `emotion` and "
        "`descriptions`, and the keyframe's 61 `values` in Live Link Face channel order:\n\n"
        + ", ".join(rig.CHANNELS) + ".\n\n"
        "Load with `datasets.load_dataset(\"json\", data_files={\"train\": \"train.jsonl\", ...})` or "
        "`datasets.load_dataset(PATH_TO_THIS_FOLDER)`.\n\n"
        "Records per split: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in SPLITS) + ".\n"
    )


def _hf_infos(counts: dict[str, int]) -> dict[str, Any]:
    features = {
        "id": {"dtype": "string", "_type": "Value"},
        "clip_id": {"dtype": "string", "_type": "Value"},
        "keyframe_index": {"dtype": "int64", "_type": "Value"},
        "kind": {"dtype": "string", "_type": "Value"},
        "messages": [{"role": {"dtype": "string", "_type": "Value"},
                      "content": {"dtype": "string", "_type": "Value"}}],
        "background": {"dtype": "string", "_type": "Value"},
        "emotion": {"dtype": "string", "_type": "Value"},
        "descriptions": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
        "values": {"feature": {"dtype": "float64", "_type": "Value"}, "_type": "Sequence"},
    }
    return {"default": {
        "description": "keyframeface SFT data: keyframe descriptions -> 61 ARKit channel values",
        "features": features,
        "splits": {s: {"name": s, "num_examples": counts.get(s, 0)} for s in SPLITS if counts.get(s)},
    }}


def export_sft(
    corpus: str | Path | Dataset,
    out_dir: str | Path,
    *,
    representations: Sequence[str] | None = None,
    huggingface: bool = True,
    digits: int = 3,
) -> SftSummary:
    """Write SFT files for ``corpus`` (a dataset path, loaded with :func:`load_dataset`, or a :class:`Dataset`).

    ``representations``: which prompt representations to write (default: all of
    :data:`keyframeface.prompt.REPRESENTATIONS`). ``huggingface``: also write the ``hf/`` folder (with the release's
    ``json`` representation in ``messages``). ``digits``: decimals of the answer values. Files are written
    atomically; a split with no clips gets no file. Returns an :class:`SftSummary`.
    """
    dataset = corpus if isinstance(corpus, Dataset) else load_dataset(corpus)
    reps = tuple(representations) if representations is not None else tuple(REPRESENTATIONS)
    unknown = [r for r in reps if r not in REPRESENTATIONS]
    if unknown or not reps:
        raise ScriptError(f"unknown representation(s) {unknown}; expected some of {list(REPRESENTATIONS)}",
                          field="representations")
    if huggingface and "json" not in reps:
        raise ScriptError("the Hugging Face form uses the 'json' representation; include it or pass huggingface=False",
                          field="representations")
    root = Path(out_dir)
    written: list[Path] = []
    counts: dict[str, int] = {}
    for rep in reps:
        swift: dict[str, list[str]] = {s: [] for s in SPLITS}
        hf: dict[str, list[str]] = {s: [] for s in SPLITS}
        for split, record, hf_record in sft_records(dataset, representation=rep, digits=digits):
            swift[split].append(_line(record))
            if rep == "json":
                hf[split].append(_line(hf_record))
        for split in SPLITS:
            path = root / rep / f"{split}.jsonl"
            if swift[split]:
                atomic_write_text(path, "".join(line + "\n" for line in swift[split]))
                written.append(path)
            else:  # an earlier export's file for this split would otherwise mix two corpora
                path.unlink(missing_ok=True)
        counts = {s: len(swift[s]) for s in SPLITS}
        if huggingface and rep == "json":
            for split in SPLITS:
                path = root / "hf" / f"{split}.jsonl"
                if hf[split]:
                    atomic_write_text(path, "".join(line + "\n" for line in hf[split]))
                    written.append(path)
                else:
                    path.unlink(missing_ok=True)
            atomic_write_text(root / "hf" / "README.md", _hf_readme(counts, "json"))
            atomic_write_text(root / "hf" / "dataset_infos.json", json.dumps(_hf_infos(counts), indent=1) + "\n")
            written += [root / "hf" / "README.md", root / "hf" / "dataset_infos.json"]
    info = {
        "format": "keyframeface.sft",
        "version": 1,
        "source": str(dataset.root),
        "source_name": dataset.info.get("name"),
        "adapter": dataset.adapter,
        "representations": list(reps),
        "conversations_per_split": counts,
        "digits": digits,
        "package_version": __version__,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    atomic_write_text(root / "sft.json", json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    written.append(root / "sft.json")
    return SftSummary(root, reps, counts, tuple(written), info)
