"""What several commands show or write the same way: keyframes to a file or stdout, explanations and the
progress of :func:`keyframeface.pipeline.run` on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ScriptError
from ..pipeline import ProgressCallback
from ..script import Keyframes, save_json
from .common import write_text_output

__all__ = ["print_explanations", "save_keyframes", "stage_progress"]

#: The unit each pipeline stage counts in its bar.
_UNITS = {"generate": "kf", "preview": "frame"}


def save_keyframes(keys: Keyframes, output: str) -> None:
    """``keys`` as keyframes JSON to the file ``output`` (atomically), or to stdout when ``output`` is ``-``."""
    if output == "-":
        write_text_output(json.dumps(keys.to_dict(), ensure_ascii=False, indent=1) + "\n", None)
    else:
        save_json(keys, output)


def print_explanations(keys: Keyframes) -> None:
    """``--explain``: which phrase produced which channels, per keyframe, on stderr (from ``meta.explanations``)."""
    explanations = keys.meta.get("explanations") or {}
    for i, kf in enumerate(keys.keyframes):
        print(f"keyframe {i + 1}: {kf.description}", file=sys.stderr)
        for record in explanations.get(str(i), []):
            channels = ", ".join(f"{n}={v:.2f}" for n, v in dict(record.get("channels", {})).items())
            print(f"  {record.get('phrase', '')!r} [{record.get('rule', '')}] -> {channels}", file=sys.stderr)


@contextmanager
def stage_progress(*, quiet: bool) -> Iterator[ProgressCallback]:
    """A ``progress(stage, done, total)`` for :func:`keyframeface.pipeline.run`: one tqdm bar per stage on stderr
    (keyframes while generating, frames while previewing), each closed when the next stage starts; silent when
    quiet or stderr is not a terminal."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for previous in bars.values():
                previous.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=_UNITS.get(stage, "it"), file=sys.stderr,
                                     disable=quiet or None, leave=False)
        elif bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


def check_strict(args: argparse.Namespace, keys: Keyframes) -> None:
    """With ``--strict``, a keyframe whose description gave no facial action is an error (one line, numbered from
    1 like the warnings); without it the warning logged by ``generate`` stands."""
    blank = (keys.meta.get("language") or {}).get("blank") or []
    if not getattr(args, "strict", False) or not blank:
        return
    from ..generate import blank_message

    i = blank[0]
    coverage = keys.meta["language"]["coverage"][str(i)]
    more = f" (and {len(blank) - 1} more)" if len(blank) > 1 else ""
    raise ScriptError(f"--strict: {blank_message(i, keys.keyframes[i].description, coverage)}{more}",
                      field=f"keyframes[{i}]")
