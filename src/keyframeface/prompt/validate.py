"""Validation of extracted ``(name, raw value)`` pairs into 61 values, under the ``strict`` or ``repair`` policy."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from .. import rig
from .context import Extracted, ParseContext, show
from .lenient_json import Pairs

__all__ = ["validate"]

#: Values this close outside a channel's range are clipped silently (float noise, as in script.py's check).
_RANGE_TOLERANCE: Final[float] = 1e-6
_NUMERIC_STRING = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(raw: Any, *, strings_expected: bool) -> tuple[float | None, str | None]:
    """A raw value -> ``(number or None, note)``. ``note`` says what was unusual (or why it is not a number)."""
    if isinstance(raw, bool):
        return None, "a boolean"
    if isinstance(raw, int):
        try:
            return float(raw), None
        except OverflowError:
            return (math.inf if raw > 0 else -math.inf), None
    if isinstance(raw, float):
        return raw, None
    if raw is None:
        return None, "null"
    if isinstance(raw, str):
        token = raw.strip()[:64]
        if _NUMERIC_STRING.fullmatch(token):
            return float(token), None if strings_expected else "a number written as a string"
        if token.endswith("%") and _NUMERIC_STRING.fullmatch(token[:-1].strip()):
            return float(token[:-1]) / 100.0, "a percentage"
        return None, f"not a number ({raw[:20]!r})"
    return None, f"not a number ({'an object' if isinstance(raw, Pairs) else 'a list'})"


def _names(channels: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(channels[:limit])
    return shown + (f" and {len(channels) - limit} more" if len(channels) > limit else "")


def validate(extracted: Extracted, ctx: ParseContext) -> np.ndarray:
    """Pairs -> (61,) float32 under the policy. Strict: collect every problem and raise one error. Repair: fix
    each (missing -> 0, out of range -> clamped, non-number -> 0, unknown -> dropped) and warn.

    Findings are gathered per channel (at most 61 of each kind), so a hostile answer repeating one key thousands
    of times yields a handful of warnings, not thousands.
    """
    strict = ctx.policy == "strict"
    values = np.zeros(rig.NUM_CHANNELS, dtype=np.float64)
    seen: dict[int, float] = {}
    not_numbers: dict[str, str] = {}  # channel -> what it was
    percentages: dict[str, str] = {}  # channel -> the text written
    strings: dict[str, None] = {}
    repeated: dict[str, int] = {}  # channel -> extra occurrences with the same value
    conflicting: dict[str, tuple[float, float]] = {}  # channel -> (first value, last value)
    unknown: dict[str, None] = {}
    unknown_count = 0
    for name, raw in extracted.pairs:
        if rig.is_ignored_name(name):
            continue
        channel = rig.try_canonical_name(name) if isinstance(name, str) else None
        if channel is None:
            unknown_count += 1
            if len(unknown) < 5:
                unknown.setdefault(show(name))
            continue
        j = rig.CHANNEL_INDEX[channel]
        number, note = _number(raw, strings_expected=extracted.absent_is_zero)
        if note == "a number written as a string":
            strings.setdefault(channel)
        elif note == "a percentage":
            percentages.setdefault(channel, str(raw)[:20])
            if strict:
                continue
        if number is None:
            not_numbers.setdefault(channel, str(note))
            continue
        if j in seen:
            if seen[j] == number or (math.isnan(number) and math.isnan(seen[j])):
                repeated[channel] = repeated.get(channel, 0) + 1
            else:
                conflicting[channel] = (conflicting.get(channel, (seen[j], number))[0], number)
        seen[j] = number
        values[j] = number

    problems: list[str] = []  # strict: errors; repair: warnings
    if unknown_count:
        total = f" ({unknown_count} in all)" if unknown_count > len(unknown) else ""
        problems.append(f"unknown key(s) {', '.join(unknown)}{total}")
    for channel, raw_text in percentages.items():
        if strict:
            problems.append(f"{channel} is a percentage ({raw_text!r}); expected a plain number")
    if percentages and not strict:
        ctx.warnings.append(f"read percentage(s) as fractions (/ 100): {_names(list(percentages))}")
    problems.extend(f"{channel} is {note}" for channel, note in not_numbers.items())
    if strings:
        ctx.warnings.append(f"number(s) written as strings: {_names(list(strings))}")
    if repeated:
        ctx.warnings.append("given more than once with the same value: "
                            + _names([f"{c} ({n + 1} times)" for c, n in repeated.items()]))
    if conflicting:
        shown = _names([f"{c} ({a:g}, then {b:g})" for c, (a, b) in conflicting.items()], 5)
        if strict:
            problems.append(f"given more than once with different values: {shown}")
        else:
            ctx.warnings.append(f"given more than once with different values: {shown}; kept the last")
    reported = {rig.CHANNEL_INDEX[c] for c in (*not_numbers, *percentages)}
    missing = [rig.CHANNELS[j] for j in range(rig.NUM_CHANNELS) if j not in seen and j not in reported]
    if missing and not extracted.absent_is_zero:
        problems.append(f"missing {len(missing)} channel(s): {_names(missing)}")
    bad = ~np.isfinite(values)
    if bad.any():
        problems.append(f"not finite (NaN or infinity): {_names([rig.CHANNELS[j] for j in np.flatnonzero(bad)])}")
        values[bad] = 0.0
    low, high = rig.LOW.astype(np.float64), rig.HIGH.astype(np.float64)
    outside = (values < low - _RANGE_TOLERANCE) | (values > high + _RANGE_TOLERANCE)
    if outside.any():
        shown = _names([f"{rig.CHANNELS[j]}={values[j]:g} (range [{low[j]:g}, {high[j]:g}])"
                        for j in np.flatnonzero(outside)], 5)
        problems.append(f"out of range: {shown}")
    if problems and strict:
        raise ctx.fail(
            "the model's answer is not 61 valid values: " + "; ".join(problems[:6])
            + (f"; and {len(problems) - 6} more problem(s)" if len(problems) > 6 else "")
            + ". Fix the answer, or parse with policy='repair' (missing -> 0, out of range -> clamped)"
        )
    ctx.warnings.extend(f"repaired: {problem}" for problem in problems)
    return np.clip(values, low, high).astype(np.float32)

