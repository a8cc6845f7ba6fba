"""SFT export: ms-swift messages lines in the release's request form, representations, read-back, HF folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keyframeface.data.corpus import build_corpus
from keyframeface.data.loader import load_dataset
from keyframeface.data.sft import HF_FIELDS, export_sft
from keyframeface.errors import ScriptError
from keyframeface.prompt import (
    REPRESENTATIONS,
    SYSTEM_PROMPT,
    build_messages,
    parse_user_message,
    parse_values,
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("sft")
    build_corpus(base / "corpus", seed=1, size=40, use_shared=False)
    export_sft(base / "corpus", base / "out")
    return base / "corpus", base / "out"


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_json_lines_match_the_release_request_form(exported: tuple[Path, Path]) -> None:
    corpus, out = exported
    ds = load_dataset(corpus)
    by_split = {s: [c for c in ds if c.split == s] for s in ("train", "validation", "test")}
    for split, clips in by_split.items():
        lines = _lines(out / "json" / f"{split}.jsonl")
        assert len(lines) == sum(len(c.keyframes) for c in clips)
        k = 0
        for clip in clips:
            kfs = clip.resolved()
            script = kfs.script()
            for i in range(len(kfs)):
                line = lines[k]
                k += 1
                record = json.loads(line)
                # written like the release file: compact separators, UTF-8 text
                assert line == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                assert list(record) == ["messages"]
                msgs = record["messages"]
                assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
                assert all(list(m) == ["role", "content"] for m in msgs)
                assert msgs[:2] == build_messages(script, i)
                assert msgs[0]["content"] == SYSTEM_PROMPT
                content = parse_user_message(msgs[1]["content"])
                assert content.target == i and len(content.descriptions) == len(kfs)
                values = parse_values(msgs[2]["content"], policy="strict", index=i).values
                assert np.allclose(values, kfs.keyframes[i].array, atol=6e-4)


def test_structure_equals_the_release_example(exported: tuple[Path, Path], release_dir: Path) -> None:
    _, out = exported
    example = [json.loads(line) for line in _lines(release_dir / "example.jsonl")]
    ours = json.loads(_lines(out / "json" / "train.jsonl")[0])
    ref = example[0]["messages"]
    mine = ours["messages"][:2]
    assert [m["role"] for m in mine] == [m["role"] for m in ref]
    assert mine[0]["content"] == ref[0]["content"]

    def layout(text: str) -> list[str]:
        """The user message's line skeleton: which kind of line comes where."""
        kinds = []
        for line in text.split("\n"):
            for prefix in ("Keyframe Description Sequence:", "- Keyframe ", "Background: ", "Emotion: ",
                           "Task Instruction: Generate the facial expression parameters for Keyframe "):
                if line.startswith(prefix):
                    kinds.append(prefix)
                    break
            else:
                kinds.append("blank" if not line else "other")
        return [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]

    assert layout(mine[1]["content"]) == layout(ref[1]["content"])
    answer = json.loads(ours["messages"][2]["content"])
    assert list(answer) == ["Keyframe_one"] and len(answer["Keyframe_one"]) == 61


def test_every_representation_is_written_and_parses_back(exported: tuple[Path, Path]) -> None:
    _, out = exported
    for rep in REPRESENTATIONS:
        line = json.loads(_lines(out / rep / "train.jsonl")[0])
        msgs = line["messages"]
        ref = json.loads(_lines(out / "json" / "train.jsonl")[0])["messages"]
        assert msgs[1] == ref[1]  # same request text; only the system prompt and answer form differ
        got = parse_values(msgs[2]["content"], policy="strict", index=0, representation=rep).values
        want = parse_values(ref[2]["content"], policy="strict", index=0).values
        assert np.allclose(got, want, atol=6e-4), rep


def test_swift_messages_adapter_reads_the_export_back(exported: tuple[Path, Path]) -> None:
    corpus, out = exported
    original = load_dataset(corpus)
    back = load_dataset(out / "json")
    assert back.adapter == "swift-messages"
    assert len(back) == len(original)
    in_export_order = [c for split in ("train", "validation", "test") for c in original if c.split == split]
    for a, b in zip(in_export_order, back, strict=True):
        assert a.split == b.split
        assert [k.description for k in a.keyframes.keyframes] == [k.description for k in b.keyframes.keyframes]
        assert np.allclose(a.resolved().array(), b.keyframes.array(), atol=6e-4)
    single = load_dataset(out / "compact" / "test.jsonl")
    assert single.clips[0].split == "test"


def test_hf_folder(exported: tuple[Path, Path]) -> None:
    _, out = exported
    hf = out / "hf"
    readme = (hf / "README.md").read_text()
    assert readme.startswith("---\nconfigs:") and "path: train.jsonl" in readme
    infos = json.loads((hf / "dataset_infos.json").read_text())
    assert set(infos["default"]["features"]) == set(HF_FIELDS)
    record = json.loads(_lines(hf / "train.jsonl")[0])
    assert list(record) == list(HF_FIELDS) and len(record["values"]) == 61
    assert infos["default"]["splits"]["train"]["num_examples"] == len(_lines(hf / "train.jsonl"))
    info = json.loads((out / "sft.json").read_text())
    assert info["representations"] == list(REPRESENTATIONS)


def test_hf_folder_loads_with_datasets(exported: tuple[Path, Path]) -> None:
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is not installed")
    _, out = exported
    files = {s: str(out / "hf" / f"{s}.jsonl") for s in ("train", "validation", "test")
             if (out / "hf" / f"{s}.jsonl").is_file()}
    loaded = datasets.load_dataset("json", data_files=files)
    assert loaded["train"][0]["messages"][0]["role"] == "system"
    assert len(loaded["train"][0]["values"]) == 61
    folder = datasets.load_dataset(str(out / "hf"))  # the README's configs name the split files
    assert folder["train"].num_rows == loaded["train"].num_rows


def test_export_options_and_errors(exported: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, _ = exported
    summary = export_sft(corpus, tmp_path / "o", representations=["compact"], huggingface=False)
    assert summary.representations == ("compact",)
    assert (tmp_path / "o" / "compact" / "train.jsonl").is_file() and not (tmp_path / "o" / "hf").exists()
    with pytest.raises(ScriptError, match="representation"):
        export_sft(corpus, tmp_path / "p", representations=["yaml"])
    with pytest.raises(ScriptError, match="Hugging Face"):
        export_sft(corpus, tmp_path / "q", representations=["compact"])


def test_cli_dataset_sft(exported: tuple[Path, Path], tmp_path: Path) -> None:
    from keyframeface.cli.main import main

    corpus, _ = exported
    assert main(["-q", "dataset", "sft", str(corpus), "-o", str(tmp_path / "s"), "--representation", "json"]) == 0
    assert (tmp_path / "s" / "json" / "train.jsonl").is_file() and (tmp_path / "s" / "hf" / "README.md").is_file()


def test_swift_adapter_keeps_identical_scripts_apart_and_reports_bad_lines(tmp_path: Path) -> None:
    from keyframeface.errors import FormatError
    from keyframeface.prompt import format_answer
    from keyframeface.script import Keyframe, Script

    script = Script(keyframes=(Keyframe("The face rests in a neutral expression."),))
    lines = []
    for value in (0.0, 0.2):
        values = np.zeros(61)
        values[0] = value
        msgs = [*build_messages(script, 0), {"role": "assistant", "content": format_answer(values, 0)}]
        lines.append(json.dumps({"messages": msgs}))
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    ds = load_dataset(tmp_path / "train.jsonl")
    assert len(ds) == 2 and ds.clips[1].keyframes.array()[0, 0] == pytest.approx(0.2)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "test.jsonl").write_text(lines[0] + "\n" + json.dumps({"messages": [msgs[0]]}) + "\n")
    with pytest.raises(FormatError, match=r"test\.jsonl line 2, field 'messages'"):
        load_dataset(tmp_path / "bad")
