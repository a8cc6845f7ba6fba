"""The YAML reader: plain data only, bounded work on hostile documents, one-line FormatErrors."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from keyframeface.errors import FormatError

pytest.importorskip("yaml", reason="PyYAML is not installed: pip install 'keyframeface[yaml]'")
from keyframeface.io.safe_yaml import load_yaml


def _bomb(levels: int = 9, width: int = 9, indent: str = "") -> str:
    lines = [f"{indent}a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", ["!!float", "!!int", "!!bool maybe", "!!timestamp 1", "x: !!python/name:os.system ''",
                                  "x: !custom 3", "- !!binary aGVsbG8="])
def test_tags_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(FormatError, match="tag") as info:
        load_yaml(text, label="t.yaml")
    assert "\n" not in str(info.value) and str(info.value).startswith("t.yaml")


@pytest.mark.parametrize("text", [_bomb(), "format: keyframeface.keyframes\nmeta:\n" + _bomb(indent="  ")])
def test_alias_bombs_are_refused_fast_and_small(text: str) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(FormatError, match="expands to more than"):
        load_yaml(text, label="bomb.yaml")
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 4.0 and peak < 50e6  # microseconds when bounded; minutes and gigabytes when not


@pytest.mark.parametrize("text", ["[" * 100_000, "- " * 5_000 + "x", "{a: " * 3_000])
def test_deep_nesting_is_refused_before_parsing(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormatError, match="nests too deeply"):
        load_yaml(text)
    assert time.perf_counter() - start < 4.0


def test_plain_data_reads_as_before() -> None:
    doc = load_yaml("background: A room\nkeyframes:\n  - description: She smiles.\n    time_s: 1.5\n  - {description: x}\n")
    assert doc == {"background": "A room", "keyframes": [{"description": "She smiles.", "time_s": 1.5}, {"description": "x"}]}
    assert load_yaml("when: 2024-01-01\nok: true\nnone: null") == {"when": "2024-01-01", "ok": True, "none": None}
    assert load_yaml("a: &x [1, 2]\nb: *x") == {"a": [1, 2], "b": [1, 2]}  # small anchors still work


@pytest.mark.parametrize("text", ["a: [1, 2", "a: b: c", "\t- x", "key: 'unterminated"])
def test_invalid_yaml_names_the_line(text: str) -> None:
    with pytest.raises(FormatError, match="not valid YAML"):
        load_yaml(text, label="bad.yaml")
