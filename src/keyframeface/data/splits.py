"""Train / validation / test splits by group, so nothing leaks between splits.

A *group* is the unit that must stay whole: for real data the source take (every keyframe, window, extraction
variant and mirrored copy of one capture lands in one split), for synthetic arcs the emotion family (the set of
emotion prototypes the arc visits: every arc of e.g. ``fear+relief`` in one split, so a test arc's emotion
combination is never seen in training). Groups are shuffled with a fixed seed and filled greedily, by clip count,
toward the target fractions; each split gets at least one group when there are at least three.
"""

from __future__ import annotations

import math
import numbers
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from ..errors import ScriptError
from .layout import SPLITS

__all__ = ["DEFAULT_FRACTIONS", "assign_splits", "check_no_leakage", "split_counts"]

#: Target share of clips per split (train, validation, test).
DEFAULT_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)


def assign_splits(groups: Iterable[str], *, seed: int = 0,
                  fractions: Sequence[float] = DEFAULT_FRACTIONS) -> dict[str, str]:
    """Map every group (given once per clip, so sizes are counted) to a split name.

    Deterministic for the same groups, seed and fractions (whatever the input order). Raises
    :class:`ScriptError` for fractions that are not three finite non-negative numbers with a positive sum.
    """
    if (len(fractions) != len(SPLITS)
            or not all(isinstance(f, numbers.Real) and not isinstance(f, bool) and math.isfinite(f) and f >= 0
                       for f in fractions)
            or sum(fractions) <= 0):
        raise ScriptError(f"fractions must be {len(SPLITS)} finite non-negative numbers (train, validation, test) with a "
                          f"positive sum, got {list(fractions)}", field="fractions")
    sizes = Counter(groups)
    if not sizes:
        return {}
    names = sorted(sizes)
    random.Random(f"splits:{seed}").shuffle(names)
    total = sum(sizes.values())
    share = [f / sum(fractions) for f in fractions]
    filled = dict.fromkeys(SPLITS, 0)
    out: dict[str, str] = {}
    # Seed the smaller splits with one group each, so none is empty when there are enough groups.
    queue = list(names)
    if len(queue) >= len(SPLITS):
        for split, f in zip(SPLITS[::-1], share[::-1], strict=True):
            if f > 0 and split != SPLITS[0]:
                g = queue.pop()
                out[g] = split
                filled[split] += sizes[g]
    for g in queue:
        # the split furthest below its target share takes the next group
        split = max(SPLITS, key=lambda s: share[SPLITS.index(s)] * total - filled[s])
        out[g] = split
        filled[split] += sizes[g]
    return out


def check_no_leakage(items: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """``(group, split)`` pairs -> groups that appear in more than one split (empty when nothing leaks)."""
    seen: dict[str, set[str]] = {}
    for group, split in items:
        seen.setdefault(group, set()).add(split)
    return {g: s for g, s in seen.items() if len(s) > 1}


def split_counts(assignment: Mapping[str, str], sizes: Mapping[str, int]) -> dict[str, int]:
    """Clips per split for an assignment and the group sizes."""
    out = dict.fromkeys(SPLITS, 0)
    for g, split in assignment.items():
        out[split] += sizes.get(g, 0)
    return out
