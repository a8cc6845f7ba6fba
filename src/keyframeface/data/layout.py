"""The on-disk format of a keyframeface dataset (version 1). Documented for people in docs/dataset.md.

A dataset is a folder::

    DATASET/
      dataset.json      {"format": "keyframeface.dataset", "version": 1, "name": ..., "created": ...,
                         "generator": {how it was made: command, seed, package version, options}, ...}
      manifest.jsonl    one clip per line (below)
      clips/<id>.json   a clip's script, when the manifest line names a file instead of holding it inline
      README.md         the dataset card (statistics and how every part was made)

A **manifest line** (UTF-8 JSON object, one per line; blank lines are ignored)::

    {"id": "real-alex_rom_3-w000",          unique; a letter or digit, then letters, digits, ".", "_", "-" (1-200 characters)
     "split": "train",                      "train" | "validation" | "test"
     "kind": "real",                        "real" (from a capture) | "synthetic" | any short label
     "group": "take:alexdjulin_llf_rom/alex_rom_3",  the unit that must not cross splits (a take, an emotion
                                            family); defaults to the id
     "script": {...} or "clips/<id>.json",  the clip script, inline or as a path relative to the dataset
     "capture": "shared:realdata/x.csv",    optional dense capture: Live Link Face CSV, .npz or animation .json;
                                            relative to the dataset, absolute, or "shared:" + a path under
                                            keyframeface's shared folder
     "capture_frames": [120, 480],          optional [start, end) rows of the capture this clip covers
     "video": "videos/x.mp4",               optional reference video (a path; never read by the loader)
     "meta": {...}}                         optional: anything else (source take, augmentation ...)

A **clip script** is a script with per-keyframe values and positions::

    {"background": "...", "emotion": "...",
     "keyframes": [{"description": "The gaze is lowered, ...", "time_s": 0.0, "frame": 120,
                    "values": {"BrowInnerUp": 0.3, ...},           optional when the clip has a capture
                    "structured": {...}}],                          optional (the annotator's four parts)
     "meta": {...}}

Each keyframe needs ``time_s`` (seconds from the clip's start) or ``frame`` (a row of the capture) or both;
``values`` (any accepted channel spelling, absent channels 0) may be left out when the clip has a capture, and
are then read from the capture's row ``frame`` (or the row nearest ``capture_frames[0]`` + ``time_s``).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CLIPS_DIR",
    "DATASET_FILE",
    "DATASET_FORMAT",
    "DATASET_VERSION",
    "ID_PATTERN",
    "ID_RULE",
    "MANIFEST_FILE",
    "README_FILE",
    "SHARED_PREFIX",
    "SPLITS",
]

DATASET_FORMAT: Final[str] = "keyframeface.dataset"
DATASET_VERSION: Final[int] = 1
DATASET_FILE: Final[str] = "dataset.json"
MANIFEST_FILE: Final[str] = "manifest.jsonl"
README_FILE: Final[str] = "README.md"
CLIPS_DIR: Final[str] = "clips"
#: Split names, as Hugging Face ``datasets`` names them.
SPLITS: Final[tuple[str, ...]] = ("train", "validation", "test")
#: A capture path starting with this is resolved under :func:`keyframeface.shared_data.shared_dir`.
SHARED_PREFIX: Final[str] = "shared:"
#: A clip id: a letter or digit first (so no hidden ".x" or option-like "-x" names), then letters, digits, ".", "_",
#: "-"; 1-200 characters in all. :data:`ID_RULE` says so in error messages.
ID_RULE: Final[str] = "a letter or digit, then letters, digits, '.', '_' or '-' (1-200 characters)"
ID_PATTERN: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,199}")
