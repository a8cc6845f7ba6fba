"""Fuzzing: thousands of malformed inputs to the parsers and loaders. Only keyframeface's own errors
(KeyframeFaceError subclasses) may come out: never another exception, never a hang.

Covered: prompt.parse_values (both policies, both representations), Script / Keyframes / Animation.from_dict,
script.read_json_file and load_document (random bytes, truncated JSON, deep nesting, huge numbers, NaN, NUL, huge
strings, YAML), and the release JSONL readers. Hypothesis drives most; a seeded random mutator adds thousands of
structure-aware mutations of valid inputs. Heavier variants are marked slow.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import KeyframeFaceError
from keyframeface.io.release_jsonl import read_release_requests, read_release_results
from keyframeface.prompt import (
    MAX_RESPONSE_CHARS,
    POLICIES,
    REPRESENTATIONS,
    ParsedValues,
    build_requests,
    format_answer,
    parse_user_message,
    parse_values,
)
from keyframeface.script import Animation, Keyframes, Script, load_document, read_json_file

# KEYFRAMEFACE_FUZZ_EXAMPLES raises the number of hypothesis examples per test for a deeper, longer run.
EXAMPLES = int(os.environ.get("KEYFRAMEFACE_FUZZ_EXAMPLES", "150"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------ shared helpers


def expect_ours(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; a KeyframeFaceError is fine (returns None), any other exception fails the test."""
    try:
        return fn(*args, **kwargs)
    except KeyframeFaceError:
        return None


def check_parsed(result: ParsedValues | None) -> None:
    if result is None:
        return
    v = result.values
    assert isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == (rig.NUM_CHANNELS,)
    assert np.all(np.isfinite(v)) and np.all(v >= rig.LOW) and np.all(v <= rig.HIGH)
    assert all(isinstance(w, str) for w in result.warnings)
    assert result.key is None or isinstance(result.key, str)


def parse_all_ways(text: Any) -> None:
    for policy in POLICIES:
        for representation in REPRESENTATIONS:
            for index in (None, 0, 3):
                check_parsed(expect_ours(parse_values, text, policy=policy, index=index, representation=representation))


HOSTILE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "\U0001f600" * 50, "é" * 3000, "x" * 9000, "\n" * 100, "{", "}",
    "NaN", "Infinity", "-0", "1e400", "0x10", "\u202e", "\\", '"', "'", "<think>", "</think>", "```",
    "Keyframe_one", "JawOpen", "jaw_open", "_neutral", "%s%n", "${x}", "__proto__", "constructor",
]
HUGE_NUMBERS = [10**400, -(10**400), 2**64, -(2**63), 1e308, -1e308, 5e-324, math.nan, math.inf, -math.inf, -0.0]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(HOSTILE_STRINGS),
)
field_names = st.one_of(
    st.sampled_from(["background", "emotion", "keyframes", "text", "format", "version", "meta", "description",
                     "time_s", "name", "values", "fps", "channels", "frames", "times_s", "valid"]),
    st.sampled_from([*rig.CHANNELS[:5], "eyeBlink_L", "_neutral", "Keyframe_one"]),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(field_names, children, max_size=6)),
    max_leaves=25,
)

# --------------------------------------------------------------------------------- valid seed documents


def seed_values(rng: random.Random) -> dict[str, float]:
    return {n: round(rng.uniform(float(lo), float(hi)), 3) for n, lo, hi in zip(rig.CHANNELS, rig.LOW, rig.HIGH,
                                                                                strict=True)}


def seed_script(rng: random.Random) -> dict[str, Any]:
    return {"background": "A quiet room.", "emotion": "Calm.",
            "keyframes": [{"description": f"Face {i}.", "time_s": float(i)} for i in range(rng.randint(1, 3))]}


def seed_keyframes(rng: random.Random) -> dict[str, Any]:
    doc = seed_script(rng)
    for kf in doc["keyframes"]:
        kf["values"] = seed_values(rng)
    return {"format": "keyframeface.keyframes", "version": 1, "meta": {"backend": "rules"}, **doc}


def seed_animation(rng: random.Random) -> dict[str, Any]:
    frames = [list(seed_values(rng).values()) for _ in range(rng.randint(0, 3))]
    doc: dict[str, Any] = {"format": "keyframeface.animation", "version": 1, "fps": 60, "channels": list(rig.CHANNELS),
                           "frames": frames, "meta": {}}
    if rng.random() < 0.5:
        doc["times_s"] = [i / 60 for i in range(len(frames))]
        doc["valid"] = [True] * len(frames)
    if rng.random() < 0.5:
        doc["keyframes"] = seed_keyframes(rng)["keyframes"]
    return doc


SEEDS: dict[str, tuple[Callable[[random.Random], dict[str, Any]], Callable[[Any], Any]]] = {
    "script": (seed_script, Script.from_dict),
    "keyframes": (seed_keyframes, Keyframes.from_dict),
    "animation": (seed_animation, Animation.from_dict),
}

# ------------------------------------------------------------------------------ structure-aware mutator


def junk(rng: random.Random) -> Any:
    choice = rng.randrange(12)
    if choice == 0:
        return rng.choice(HUGE_NUMBERS)
    if choice == 1:
        return rng.choice(HOSTILE_STRINGS)
    if choice == 2:
        pool: list[Any] = [*HUGE_NUMBERS, *HOSTILE_STRINGS]
        return [rng.choice(pool) for _ in range(rng.choice([0, 1, 61, 62]))]
    if choice == 3:
        return {rng.choice(HOSTILE_STRINGS): rng.choice(HUGE_NUMBERS)}
    if choice == 4:
        return rng.choice([None, True, False, 0, 1, -1, 0.5, 1.5, -2.0])
    if choice == 5:
        return "x" * rng.choice([2001, 8001, 100_000])
    if choice == 6:
        nested: Any = 0
        for _ in range(rng.choice([10, 100, 300])):
            nested = [nested]
        return nested
    if choice == 7:
        return [{} for _ in range(rng.choice([255, 256, 257, 300]))]
    if choice == 8:
        return rng.uniform(-1e6, 1e6)
    if choice == 9:
        return [[rng.random() for _ in range(rng.choice([60, 61, 62]))] for _ in range(rng.randint(0, 3))]
    if choice == 10:
        return {n: rng.choice([0.1, "0.1", None, math.nan, 2.0]) for n in rng.sample(rig.CHANNELS, 5)}
    return rng.choice(["keyframeface.keyframes", "keyframeface.animation", 1, 2, "1"])


def containers(node: Any) -> Iterator[Any]:
    """Every dict and list inside ``node`` (depth-first), so a mutation can pick one."""
    stack = [node]
    seen = 0
    while stack and seen < 500:
        cur = stack.pop()
        if isinstance(cur, (dict, list)):
            seen += 1
            yield cur
            stack.extend(cur.values() if isinstance(cur, dict) else cur)


def mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.05:
            return junk(rng)
        targets = list(containers(doc))
        if not targets:
            return doc
        target = rng.choice(targets)
        op = rng.randrange(5)
        if isinstance(target, dict):
            keys = list(target)
            if op == 0 and keys:
                del target[rng.choice(keys)]
            elif op == 1 or not keys:
                target[rng.choice([*HOSTILE_STRINGS, "values", "time_s", "name", "fps", "frames"])] = junk(rng)
            else:
                target[rng.choice(keys)] = junk(rng)
        else:
            if op == 0 and target:
                del target[rng.randrange(len(target))]
            elif op == 1:
                target.append(junk(rng) if rng.random() < 0.5 else copy.deepcopy(rng.choice(target or [0])))
            elif op == 2 and target:
                target.reverse()
            elif target:
                target[rng.randrange(len(target))] = junk(rng)
    return doc


def check_document(kind: str, data: Any) -> None:
    loader = SEEDS[kind][1]
    obj = expect_ours(loader, data)
    if obj is None:
        return
    # Whatever a loader accepts must survive its own writer and load again.
    again = loader(json.loads(json.dumps(obj.to_dict(), allow_nan=False)))
    assert type(again) is type(obj)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_documents(kind: str) -> None:
    rng = random.Random(f"documents-{kind}")
    make = SEEDS[kind][0]
    for _ in range(1500):
        check_document(kind, mutate(make(rng), rng))


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_documents_heavy(kind: str) -> None:
    rng = random.Random(f"documents-heavy-{kind}")
    make = SEEDS[kind][0]
    for _ in range(30_000):
        check_document(kind, mutate(make(rng), rng))


@FAST
@given(json_values, st.sampled_from(sorted(SEEDS)))
def test_random_values_to_loaders(data: Any, kind: str) -> None:
    check_document(kind, data)


@FAST
@given(st.dictionaries(field_names, json_values, max_size=8), st.sampled_from(sorted(SEEDS)))
def test_random_objects_to_loaders(data: dict[str, Any], kind: str) -> None:
    if kind != "script" and "format" not in data:
        data["format"] = "keyframeface.keyframes" if kind == "keyframes" else "keyframeface.animation"
        data["version"] = 1
    check_document(kind, data)


@FAST
@given(st.lists(st.one_of(json_values, st.dictionaries(field_names, json_values, max_size=5)), max_size=5))
def test_random_keyframe_lists(items: list[Any]) -> None:
    check_document("script", {"keyframes": items})
    check_document("keyframes", {"format": "keyframeface.keyframes", "version": 1, "keyframes": items})


# ------------------------------------------------------------------------------------------ parse_values


def seed_answers(rng: random.Random) -> list[str]:
    values = np.array(list(seed_values(rng).values()))
    release = format_answer(values, 0)
    return [
        release,
        format_answer(values, 1, representation="compact"),
        f"<think>Let me see.</think>\n```json\n{release}\n```",
        json.dumps({"Keyframe_one": {n.lower(): v for n, v in zip(rig.CHANNELS, values, strict=True)}}, indent=1),
        release.replace('"', "'"),
    ]


HOSTILE_TOKENS = ["{", "}", "[", "]", '"', "'", ":", ",", "=", ";", "\\", "\\u12", "\\ud800", "NaN", "-Infinity",
                  "1e999", "9" * 5000, "<think>", "</think>", "```json", "\x00", "\n", "%", "Keyframe_two",
                  "JawOpen", "eyeBlink_L", "null", "True", "\u2028", "{" * 40, "}" * 40]


def mutate_text(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 5)):
        n = len(text)
        op = rng.randrange(7)
        i = rng.randrange(n + 1)
        if op == 0:  # truncate
            text = text[:i]
        elif op == 1 and n:  # delete a slice
            j = min(n, i + rng.randint(1, 40))
            text = text[:i] + text[j:]
        elif op == 2:  # insert a hostile token
            text = text[:i] + rng.choice(HOSTILE_TOKENS) + text[i:]
        elif op == 3 and n:  # duplicate a slice
            j = min(n, i + rng.randint(1, 200))
            text = text[:j] + text[i:j] + text[j:]
        elif op == 4 and n:  # replace one character
            text = text[:i] + chr(rng.randrange(0x20, 0x7F)) + text[i + 1 :]
        elif op == 5:  # prose around
            text = rng.choice(["Sure! ", "{ note ", "Here's it: ", ""]) + text + rng.choice(["", " Done.", " {0,1}"])
        else:  # swap two slices
            j = rng.randrange(n + 1)
            a, b = sorted((i, j))
            text = text[b:] + text[a:b] + text[:a]
    return text


def test_mutated_answers() -> None:
    rng = random.Random("answers")
    count = 0
    while count < 2000:
        for text in seed_answers(rng):
            mutated = mutate_text(text, rng)
            for policy in POLICIES:
                for representation in REPRESENTATIONS:
                    check_parsed(expect_ours(parse_values, mutated, policy=policy, index=rng.choice([None, 0, 1]),
                                             representation=representation))
            count += 1


@pytest.mark.slow
def test_mutated_answers_heavy() -> None:
    rng = random.Random("answers-heavy")
    for _ in range(3_000):
        for text in seed_answers(rng):
            parse_all_ways(mutate_text(text, rng))


@FAST
@given(st.text(max_size=400))
def test_random_text_answers(text: str) -> None:
    parse_all_ways(text)


@FAST
@given(st.lists(st.sampled_from(list("{}[]\"':,=;\\ \n<>/%`-.0123456789eE") + HOSTILE_TOKENS
                                + ["think", "Keyframe_one", "NaN", "0.5"]), max_size=120).map("".join))
def test_structured_garbage_answers(text: str) -> None:
    parse_all_ways(text)


@FAST
@given(json_values)
def test_json_values_as_answers(value: Any) -> None:
    text = json.dumps(value)
    parse_all_ways(text)
    parse_all_ways(json.dumps({"Keyframe_one": value}))


@FAST
@given(st.dictionaries(st.sampled_from([*rig.CHANNELS, "JawOpen ", "jaw-open", "Smile", "_neutral"]),
                       json_scalars, max_size=70))
def test_channel_maps_with_random_values(body: dict[str, Any]) -> None:
    parse_all_ways(json.dumps({"Keyframe_one": body}))


@pytest.mark.parametrize("value", [None, 0, b"{}", ["{}"], {"a": 1}])
def test_non_string_answers(value: Any) -> None:
    parse_all_ways(value)


# Pathological inputs: each would take minutes with a quadratic scanner or catastrophic regex backtracking.
PATHOLOGICAL = {
    "open braces": "{" * MAX_RESPONSE_CHARS,
    "close braces": "}" * MAX_RESPONSE_CHARS,
    "empty objects": "{}" * (MAX_RESPONSE_CHARS // 2),
    "quotes": '"' * MAX_RESPONSE_CHARS,
    "brace then quotes": "{" + '"' * (MAX_RESPONSE_CHARS - 1),
    "apostrophes": "{" + "'" * (MAX_RESPONSE_CHARS - 1),
    "backslashes": '{"' + "\\" * (MAX_RESPONSE_CHARS - 2),
    "unterminated string": '{"' + "a" * (MAX_RESPONSE_CHARS - 2),
    "unterminated key": "{" + "a" * (MAX_RESPONSE_CHARS - 1),
    "many keys": "{" + '"a":1,' * ((MAX_RESPONSE_CHARS - 2) // 6) + "}",
    "many channel keys": "{" + '"jaw_open":0.1,' * ((MAX_RESPONSE_CHARS - 2) // 15) + "}",
    "long underscore keys": "{" + ('"' + "_" * 98 + 'l":0,') * (MAX_RESPONSE_CHARS // 110) + "}",
    "deep lists": '{"Keyframe_one":' + "[" * (MAX_RESPONSE_CHARS - 20),
    "deep closed lists": "{" + "[" * 99_000 + "]" * 99_000 + "}",
    "nested to the cap": "{" * 32 + "a" * (MAX_RESPONSE_CHARS - 64) + "}" * 32,
    "think tags": "<think>" * (MAX_RESPONSE_CHARS // 7),
    "close think tags": "</think>" * (MAX_RESPONSE_CHARS // 8),
    "spaces after <": "<" + " " * (MAX_RESPONSE_CHARS - 1),
    "angle brackets": "< /" * (MAX_RESPONSE_CHARS // 3),
    "compact pairs": "a=" * (MAX_RESPONSE_CHARS // 2),
    "compact channels": "JawOpen=0.1;" * (MAX_RESPONSE_CHARS // 12),
    "separators": ";,\n" * (MAX_RESPONSE_CHARS // 3),
    "fences": "```" * (MAX_RESPONSE_CHARS // 3),
    "digits": "{\"JawOpen\":" + "9" * (MAX_RESPONSE_CHARS - 20) + "}",
    "many small answers": ('{"JawOpen":0.1}' + " ") * (MAX_RESPONSE_CHARS // 16),
    "unicode": "{\"\u00e9\":\"" + "\U0001f600" * (MAX_RESPONSE_CHARS - 10) + "\"}",
    "over the cap": "{" * (MAX_RESPONSE_CHARS + 1),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_answers_finish_quickly(name: str) -> None:
    text = PATHOLOGICAL[name]
    for policy in POLICIES:
        for representation in REPRESENTATIONS:
            start = time.perf_counter()
            check_parsed(expect_ours(parse_values, text, policy=policy, representation=representation))
            elapsed = time.perf_counter() - start
            # A hang guard, not a speed check (speed is measured in benchmarks): linear scanning takes well under a
            # second even on a loaded CI machine, while quadratic behaviour on 200k characters takes many minutes.
            assert elapsed < 60.0, f"{name}: {elapsed:.2f} s ({policy}, {representation})"


@FAST
@given(st.text(max_size=600))
def test_user_message_reader(text: str) -> None:
    expect_ours(parse_user_message, text)
    expect_ours(parse_user_message, "Keyframe Description Sequence:\n- Keyframe One: " + text)


# ------------------------------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


_file_counter = iter(range(10**9))


def load_file_all_ways(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"f{next(_file_counter)}{suffix}"
    path.write_bytes(data)
    try:
        expect_ours(read_json_file, path)
        if suffix != ".jsonl":
            obj = expect_ours(load_document, path)
            assert obj is None or isinstance(obj, (Script, Keyframes, Animation))
        else:
            expect_ours(read_release_results, path)
            expect_ours(read_release_results, path, policy="repair")
            expect_ours(read_release_requests, path)
    finally:
        path.unlink()


def seed_files(rng: random.Random) -> list[bytes]:
    script = Script.from_dict(seed_script(rng))
    requests = "\n".join(json.dumps(r) for r in build_requests(script)) + "\n"
    answers = "\n".join(json.dumps({"response": format_answer(np.array(list(seed_values(rng).values())), i)})
                        for i in range(2)) + "\n"
    return [json.dumps(seed(rng), ensure_ascii=False).encode() for seed, _ in SEEDS.values()] + [
        requests.encode(), answers.encode()]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    text = mutate_text(data.decode("utf-8", "replace"), rng)
    raw = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2 and raw:  # a random byte (invalid UTF-8, NUL, BOM fragments)
        i = rng.randrange(len(raw))
        raw = raw[:i] + bytes([rng.randrange(256)]) + raw[i + 1 :]
    if rng.random() < 0.05:
        raw = b"\xef\xbb\xbf" + raw
    return raw


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".yaml"])
def test_mutated_files(fuzz_dir: Path, suffix: str) -> None:
    rng = random.Random(f"files{suffix}")
    for _ in range(120):
        for data in seed_files(rng):
            load_file_all_ways(fuzz_dir, mutate_bytes(data, rng), suffix)


@FAST
@given(st.binary(max_size=300), st.sampled_from([".json", ".jsonl", ".yaml", ".txt"]))
def test_random_bytes_files(fuzz_dir: Path, data: bytes, suffix: str) -> None:
    load_file_all_ways(fuzz_dir, data, suffix)


@settings(max_examples=max(1, EXAMPLES * 2 // 3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from([".json", ".jsonl", ".yaml"]))
def test_random_json_files(fuzz_dir: Path, value: Any, suffix: str) -> None:
    text = json.dumps(value)  # may contain NaN / Infinity, which the readers must refuse cleanly
    load_file_all_ways(fuzz_dir, text.encode("utf-8", "surrogatepass"), suffix)
    load_file_all_ways(fuzz_dir, (json.dumps({"response": text}) + "\n").encode("utf-8", "surrogatepass"), ".jsonl")


SPECIAL_FILES = {
    "deep json lists": b"[" * 100_000 + b"]" * 100_000,
    "deep json objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep yaml": b"[" * 20_000 + b"]" * 20_000,
    "deep yaml block": b"".join(b"  " * i + b"- \n" for i in range(3000)),
    "huge int": b'{"keyframes": [{"description": "a", "time_s": ' + b"9" * 5000 + b"}]}",
    "huge float": b'{"format": "keyframeface.animation", "version": 1, "fps": 1e999, "channels": [], "frames": []}',
    "nan": b'{"keyframes": [{"description": "a", "time_s": NaN}]}',
    "nul": b'{"background": "a\\u0000b", "keyframes": ["x"]}',
    "raw nul": b'{"keyframes": ["x\x00"]}',
    "bom": b'\xef\xbb\xbf{"keyframes": ["x"]}',
    "utf16": '{"keyframes": ["x"]}'.encode("utf-16"),
    "lone surrogate": b'{"keyframes": ["\\ud800"]}',
    "huge string": b'{"keyframes": ["' + b"x" * 3_000_000 + b'"]}',
    "many keyframes": json.dumps({"keyframes": ["x"] * 5_000}).encode(),
    "yaml alias bomb": b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       b"keyframes: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
    "yaml python tag": b"!!python/object/apply:os.system ['true']\n",
    "yaml date": b"keyframes: [{description: x, time_s: 2020-01-01}]\n",
    "yaml int keys": b"keyframes: [{1: 2}]\nbackground: 3\n",
    "empty": b"",
    "jsonl huge response": json.dumps({"response": "{" * 300_000}).encode() + b"\n",
    "jsonl response not str": b'{"response": {"Keyframe_one": {}}}\n',
}


@pytest.mark.parametrize("name", sorted(SPECIAL_FILES))
def test_special_files(fuzz_dir: Path, name: str) -> None:
    for suffix in (".json", ".yaml", ".jsonl"):
        start = time.perf_counter()
        load_file_all_ways(fuzz_dir, SPECIAL_FILES[name], suffix)
        # A hang guard, not a speed check: a pathological file must not take minutes.
        assert time.perf_counter() - start < 60.0, f"{name}{suffix} took too long"


def test_missing_and_directory_paths(fuzz_dir: Path) -> None:
    for path in (fuzz_dir / "does-not-exist.json", fuzz_dir):
        expect_ours(read_json_file, path)
        expect_ours(load_document, path)
        expect_ours(read_release_results, path)
        expect_ours(read_release_requests, path)


# ------------------------------------------------------------------------- regressions found by this fuzzer

ANIMATION = {"format": "keyframeface.animation", "version": 1, "fps": 60, "channels": ["JawOpen"], "frames": [[0.5]]}


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("animation", {**ANIMATION, "times_s": ["a"]}, "times_s: expected a list of numbers"),
        ("animation", {**ANIMATION, "times_s": [math.nan]}, "times_s: contains NaN"),
        ("animation", {**ANIMATION, "times_s": [10**400]}, "times_s: contains a number too large"),
        ("animation", {**ANIMATION, "valid": [[1, 2], 3]}, "valid: expected a list of true/false"),
        ("animation", {**ANIMATION, "fps": 10**400}, r"fps must be a number in \(0, 1000\]"),
        ("animation", {**ANIMATION, "frames": [[10**400]]}, "frames must be rows of numbers"),
        ("animation", {**ANIMATION, "frames": [[1e300]]}, "far outside"),
        ("animation", {**ANIMATION, "meta": {"x": math.nan}}, "meta: must hold plain JSON data"),
        ("keyframes", {"format": "keyframeface.keyframes", "version": 1, "meta": {"x": "\ud800"},
                       "keyframes": []}, "meta: must hold plain JSON data"),
        ("script", {"keyframes": [{"description": "a", "time_s": 10**400}]}, "time_s: expected seconds"),
        ("script", {"keyframes": [{"description": "a", "values": {"JawOpen": 10**400}}]}, "JawOpen: a number above"),
        ("script", {"keyframes": [{"description": "a", "values": [1e39] * 61}]}, r"values\[0\]: a number above"),
        ("script", {"keyframes": ["a\ud800"]}, "unpaired UTF-16 surrogate"),
    ],
)
def test_regressions_in_loaders(kind: str, data: Any, message: str) -> None:
    with pytest.raises(KeyframeFaceError, match=message):
        SEEDS[kind][1](data)


@pytest.mark.parametrize(
    ("suffix", "content", "message"),
    [
        (".json", b'{"keyframes": [{"description": "a", "time_s": ' + b"9" * 5000 + b"}]}", "too many digits"),
        (".json", b'{"keyframes": [{"description": "a", "time_s": NaN}]}', "NaN"),
        (".yaml", b"[" * 20_000 + b"]" * 20_000, "nests too deeply"),
        (".yaml", b"keyframes: [{description: a, time_s: !!timestamp 2020-13-45}]", "tag"),
        (".yaml", b"a: !!float abc", "not valid YAML"),
    ],
)
def test_regressions_in_read_json_file(fuzz_dir: Path, suffix: str, content: bytes, message: str) -> None:
    path = fuzz_dir / f"regression{suffix}"
    path.write_bytes(content)
    with pytest.raises(KeyframeFaceError, match=message):
        read_json_file(path)
