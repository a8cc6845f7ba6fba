"""Build a reproducible training / evaluation corpus: real keyframes and synthetic emotion arcs, annotated.

Two parts (both described in the dataset card, :mod:`keyframeface.data.card`):

* **real**: every Live Link Face take under ``shared/realdata`` (read at build time, referenced as
  ``shared:...`` and never copied) is reduced to keyframes with :func:`keyframeface.extract.extract` at two
  densities (one keyframe per ~1.2 s and per ~2 s); consecutive keyframes are cut into scripts of 3-5 keyframes,
  each also mirrored left/right (:func:`keyframeface.rig.mirror`), and annotated
  (:func:`keyframeface.semantics.annotate.annotate`). Group = the take.
* **synthetic**: emotion arcs of 2-5 keyframes over the FACS prototypes and compound emotions of
  :mod:`keyframeface.semantics.emotions` (Ekman & Friesen, EMFACS, Du et al. 2014 via reference/FACS.md), with
  random intensity, per-channel variation, one-sided asymmetry, gaze, small head motion, blinks and timing;
  turned into values, then annotated. Group = the arc's emotion family (its set of emotions).

Everything is drawn from ``seed``: the same seed and size give the same corpus, byte for byte apart from the
``created`` time stamps. When the shared folder is absent only the synthetic part is built, and the card says so.
"""

from __future__ import annotations

import csv
import json
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .. import rig
from .._version import __version__
from ..errors import KeyframeFaceError, ScriptError
from ..io.atomic import atomic_write_text
from ..script import Keyframe, Keyframes
from ..semantics.annotate import ANNOTATOR_VERSION, annotate, emotion_text
from ..semantics.emotions import PROTOTYPES, prototype_vector
from ..semantics.laterality import SIDED_PAIRS
from .layout import DATASET_FILE, DATASET_FORMAT, DATASET_VERSION, MANIFEST_FILE, README_FILE, SHARED_PREFIX
from .splits import DEFAULT_FRACTIONS, assign_splits, check_no_leakage

__all__ = ["DEFAULT_SIZE", "CorpusSummary", "build_corpus"]

#: Default number of scripts (real + synthetic).
DEFAULT_SIZE = 3000
#: Keyframe spacing (seconds of capture per keyframe) of the two real extractions.
REAL_SPACINGS_S: tuple[float, ...] = (1.2, 2.0)
#: Values are rounded like the published model's answers are precise (3 decimals are plenty; 0.1 is the model's).
DIGITS = 3

ProgressCallback = Callable[[int, int], None]

# Situations for synthetic backgrounds: deliberately emotion-neutral, so the emotion field carries the feeling.
_SITUATIONS: tuple[str, ...] = (
    "A customer listens to a long explanation at a help desk.",
    "A student waits for an exam result to appear on a screen.",
    "A traveller reads a message on a phone at a train station.",
    "An actor rehearses a short scene in front of a camera.",
    "A nurse talks with a patient's relative in a hallway.",
    "A chess player studies the board after the opponent's move.",
    "A cook tastes a new dish in a busy kitchen.",
    "A driver waits at a red light and notices something outside.",
    "A gamer watches the final seconds of a close match.",
    "An employee opens an email from the manager.",
    "A child unwraps a parcel at a birthday party.",
    "A hiker reaches the top of a hill and looks around.",
    "A musician hears a recording of their own performance.",
    "A neighbour knocks on the door late in the evening.",
    "A witness recalls an accident for a police officer.",
    "A teacher reads a student's unexpected answer.",
    "A shopper finds the price tag on a coat.",
    "A patient hears a diagnosis from a doctor.",
    "A speaker waits backstage before a talk.",
    "A friend hears an old story retold at dinner.",
)


@dataclass(frozen=True)
class CorpusSummary:
    """What :func:`build_corpus` wrote: ``root``, clip counts per split and kind, keyframes, the number of takes
    used (0 without shared data), whether the real part was built, ``seconds`` taken, and the dataset ``info``."""

    root: Path
    clips_per_split: dict[str, int]
    clips_per_kind: dict[str, int]
    keyframes: int
    takes: int
    real_part: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------- real part
def _takes(shared: Path) -> list[tuple[str, Path, str]]:
    """(take id, path, content note) of every capture under ``shared/realdata``, sorted by id."""
    root = shared / "realdata"
    notes: dict[str, str] = {}
    index = root / "index.csv"
    if index.is_file():
        with index.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                notes[row.get("file", "")] = (row.get("content") or "").strip()
    out = []
    for path in sorted(root.glob("*/**/*.csv")):
        rel = path.relative_to(root).as_posix()
        out.append((rel, path, notes.get(rel, "")))
    return out


def _real_clips(shared: Path, *, seed: int) -> tuple[list[dict[str, Any]], int]:
    """Real clips (manifest entries with inline, annotated scripts) and the number of takes read."""
    from ..extract import extract
    from ..io.livelink_csv import read_livelink_csv

    entries: list[dict[str, Any]] = []
    takes = 0
    for take_id, path, note in _takes(shared):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # repairs of captured values are counted in the reader's meta
            try:
                anim = read_livelink_csv(path)
            except KeyframeFaceError:
                continue
        takes += 1
        rng = random.Random(f"real:{seed}:{take_id}")
        stem = take_id.rsplit(".", 1)[0].replace("/", "__")
        for spacing in REAL_SPACINGS_S:
            count = int(min(256, max(4, round(anim.duration_s / spacing))))
            keys = extract(anim, count=count)
            rows = [int(i) for i in keys.meta["frame_indices"]]
            start = 0
            while start < len(keys) - 2:
                n = min(rng.randint(3, 5), len(keys) - start)
                chunk = keys.keyframes[start:start + n]
                frames = rows[start:start + n]
                start += n
                for mirrored in (False, True):
                    cid = f"real-{stem}-s{spacing:g}-k{frames[0]:05d}{'-m' if mirrored else ''}".replace(".", "p")
                    entries.append(_real_entry(cid, take_id, chunk, frames, note, mirrored=mirrored,
                                               seed=seed, fps=anim.fps))
    return entries, takes


def _real_entry(cid: str, take_id: str, chunk: Sequence[Keyframe], frames: Sequence[int], note: str, *,
                mirrored: bool, seed: int, fps: float) -> dict[str, Any]:
    t0 = float(chunk[0].time_s or 0.0)
    values = np.stack([kf.array for kf in chunk])
    if mirrored:
        values = rig.mirror(values)
    values = np.round(rig.clamp(values)[0], DIGITS)
    what = f" ({note})" if note else ""
    background = f"A performer is recorded with an iPhone running Live Link Face{what}."
    kfs = Keyframes.from_array(values, times_s=[round(float(kf.time_s or 0.0) - t0, 4) for kf in chunk],
                               background=background)
    described = annotate(kfs, seed=seed)
    script = _clip_script(described, frames=None if mirrored else frames)
    entry: dict[str, Any] = {
        "id": cid,
        "split": "train",
        "kind": "real",
        "group": f"take:{take_id}",
        "script": script,
        # Mirrored clips are derived values, not rows of the capture: they keep no capture reference.
        "capture": None if mirrored else f"{SHARED_PREFIX}realdata/{take_id}",
        "capture_frames": None if mirrored else [int(frames[0]), int(frames[-1]) + 1],
        "meta": {"take": take_id, "mirrored": mirrored, "fps": fps},
    }
    return {k: v for k, v in entry.items() if v is not None}


# -------------------------------------------------------------------------------------------- synthetic part
_EMOTIONS: tuple[str, ...] = tuple(n for n in PROTOTYPES if n != "neutral")
_BLINK = (rig.CHANNEL_INDEX["EyeBlinkLeft"], rig.CHANNEL_INDEX["EyeBlinkRight"])
_LEFT = np.array([rig.CHANNEL_INDEX[left] for left, _ in SIDED_PAIRS])
_RIGHT = np.array([rig.CHANNEL_INDEX[right] for _, right in SIDED_PAIRS])
_GAZE = {  # direction -> eyeLook channels moved (rig convention: both eyes look the same way)
    "up": ("EyeLookUpLeft", "EyeLookUpRight"),
    "down": ("EyeLookDownLeft", "EyeLookDownRight"),
    "left": ("EyeLookOutLeft", "EyeLookInRight"),  # toward the subject's left
    "right": ("EyeLookInLeft", "EyeLookOutRight"),
}


def _arc_emotions(rng: random.Random) -> list[str]:
    """The emotions an arc visits, in order (1-3 distinct, sometimes starting from calm)."""
    k = rng.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0]
    names = rng.sample(_EMOTIONS, k)
    if rng.random() < 0.2 and "calm" not in names:
        names.insert(0, "calm")
    return names


def _synthetic_values(emotion: str, rng: random.Random) -> np.ndarray:
    level = rng.uniform(0.3, 1.0)
    v = prototype_vector(emotion, level).astype(np.float64)
    active = v[: rig.NUM_BLENDSHAPES] != 0
    v[: rig.NUM_BLENDSHAPES][active] *= np.array([rng.uniform(0.8, 1.2) for _ in range(int(active.sum()))])
    if rng.random() < 0.3:  # one-sided: one side weaker (real faces are rarely symmetric)
        weak = _LEFT if rng.random() < 0.5 else _RIGHT
        v[weak] *= rng.uniform(0.3, 0.8)
    if rng.random() < 0.5:  # a gaze direction, sometimes diagonal
        dirs = rng.sample([("up", "down")[rng.random() < 0.6], ("left", "right")[rng.random() < 0.5]],
                          rng.choice((1, 2)))
        amount = rng.uniform(0.15, 0.6)
        for d in dirs:
            for name in _GAZE[d]:
                v[rig.CHANNEL_INDEX[name]] = max(v[rig.CHANNEL_INDEX[name]], amount)
    if rng.random() < 0.4:  # small head motion (captured head rotations stay |x| < 0.2, reference/FACS.md)
        axis = rng.choice(("HeadYaw", "HeadPitch", "HeadRoll"))
        v[rig.CHANNEL_INDEX[axis]] += rng.uniform(-0.2, 0.2)
    if rng.random() < 0.08:  # eyes closed for a moment
        for j in _BLINK:
            v[j] = rng.uniform(0.9, 1.0)
    out = rig.clamp(v.astype(np.float32))[0]
    return np.round(rig.sync_eye_rotations(out), DIGITS).astype(np.float32)


def _emotion_field(names: Sequence[str]) -> str:
    words = [emotion_text(n) for n in names]
    text = words[0] if len(words) == 1 else " giving way to ".join([words[0], words[-1]]) if len(words) == 2 else \
        f"{words[0]}, then {words[1]}, then {words[2]}"
    return text[0].upper() + text[1:] + "."


def _synthetic_entry(i: int, *, seed: int) -> dict[str, Any]:
    rng = random.Random(f"synthetic:{seed}:{i}")
    names = _arc_emotions(rng)
    n = rng.randint(max(2, len(names)), 5)
    # spread the emotions over the keyframes in order (each emotion holds a run of keyframes)
    per = [names[min(len(names) - 1, k * len(names) // n)] for k in range(n)]
    values = np.stack([_synthetic_values(e, rng) for e in per])
    times = [0.0]
    for _ in range(n - 1):
        times.append(round(times[-1] + rng.uniform(0.5, 2.5), 2))
    kfs = Keyframes.from_array(values, times_s=times, background=rng.choice(_SITUATIONS),
                               emotion=_emotion_field(names))
    described = annotate(kfs, seed=seed * 100_003 + i)
    family = "+".join(sorted(set(names)))
    return {
        "id": f"syn-{i:06d}",
        "split": "train",
        "kind": "synthetic",
        "group": f"family:{family}",
        "script": _clip_script(described, frames=None),
        "meta": {"emotions": names, "keyframe_emotions": per},
    }


# ------------------------------------------------------------------------------------------------- writing
def _clip_script(kfs: Keyframes, *, frames: Sequence[int] | None) -> dict[str, Any]:
    structured = (kfs.meta.get("annotation") or {}).get("keyframes") or [None] * len(kfs)
    items = []
    for i, kf in enumerate(kfs.keyframes):
        item: dict[str, Any] = {"description": kf.description, "time_s": kf.time_s}
        if frames is not None:
            item["frame"] = int(frames[i])
        item["values"] = rig.to_dict(kf.array, digits=DIGITS)
        if structured[i] is not None:
            item["structured"] = structured[i]
        items.append(item)
    return {"background": kfs.background, "emotion": kfs.emotion, "keyframes": items}


def build_corpus(
    out_dir: str | Path,
    *,
    seed: int = 0,
    size: int = DEFAULT_SIZE,
    use_shared: bool = True,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    progress: ProgressCallback | None = None,
) -> CorpusSummary:
    """Build the corpus into ``out_dir`` (created; files in it are replaced atomically).

    ``size``: total scripts (the real part first, then synthetic arcs up to ``size``; at least 1). ``seed``:
    every random choice. ``use_shared=False`` skips the real captures even when the shared folder exists.
    ``fractions``: target share of clips in train / validation / test (split by group, see
    :mod:`keyframeface.data.splits`). ``progress(done, total)`` is called as synthetic arcs are made.

    Writes ``manifest.jsonl``, ``dataset.json`` and ``README.md`` (the dataset card) and returns a
    :class:`CorpusSummary`. Raises :class:`ScriptError` for a bad size or fractions.
    """
    import time

    from ..shared_data import shared_dir
    from .card import dataset_card
    from .loader import dataset_stats, load_dataset

    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1_000_000:
        raise ScriptError(f"size must be an int in [1, 1000000], got {size!r}", field="size")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScriptError(f"seed must be an int, got {seed!r}", field="seed")
    started = time.monotonic()
    root = Path(out_dir)
    shared = shared_dir() if use_shared else None
    real: list[dict[str, Any]] = []
    takes = 0
    if shared is not None and (shared / "realdata").is_dir():
        real, takes = _real_clips(shared, seed=seed)
        real = real[:size]
    n_syn = max(0, size - len(real))
    synthetic: list[dict[str, Any]] = []
    for i in range(n_syn):
        synthetic.append(_synthetic_entry(i, seed=seed))
        if progress is not None and (i + 1) % 100 == 0:
            progress(i + 1, n_syn)
    # Real and synthetic parts are split separately, so the real test set holds whole real takes.
    for part in (real, synthetic):
        assignment = assign_splits([e["group"] for e in part], seed=seed, fractions=fractions)
        for e in part:
            e["split"] = assignment[e["group"]]
    entries = real + synthetic
    leaks = check_no_leakage((e["group"], e["split"]) for e in entries)
    if leaks:  # assign_splits maps each group once, so this is a bug, not bad input
        raise RuntimeError(f"split leakage in the corpus builder: {sorted(leaks)[:3]}")
    lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in entries]
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(root / MANIFEST_FILE, "".join(line + "\n" for line in lines))
    info: dict[str, Any] = {
        "format": DATASET_FORMAT,
        "version": DATASET_VERSION,
        "name": "keyframeface-corpus",
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "generator": {
            "command": f"keyframeface dataset build -o {root.name} --seed {seed} --size {size}"
                       + ("" if use_shared else " --no-shared"),
            "function": "keyframeface.data.corpus.build_corpus",
            "package_version": __version__,
            "annotator_version": ANNOTATOR_VERSION,
            "seed": seed,
            "size": size,
            "fractions": list(fractions),
            "real_spacings_s": list(REAL_SPACINGS_S),
            "shared_folder_found": shared is not None,
            "takes": takes,
        },
    }
    atomic_write_text(root / DATASET_FILE, json.dumps(info, ensure_ascii=False, indent=1) + "\n")
    dataset = load_dataset(root)
    stats = dataset_stats(dataset)
    atomic_write_text(root / README_FILE, dataset_card(dataset, stats=stats, real_part=bool(real), takes=takes))
    kinds: dict[str, int] = {}
    for e in entries:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    return CorpusSummary(root, dict(stats["clips_per_split"]), kinds, int(stats["keyframes"]), takes, bool(real),
                         round(time.monotonic() - started, 2), info)
