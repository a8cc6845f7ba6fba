"""``keyframeface eval merge``: saved reports combined into one table (synthetic reports; the end-to-end run of
eval --json then merge is in test_eval_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keyframeface.cli.main import main
from keyframeface.errors import FormatError
from keyframeface.evaluate.intervals import Interval
from keyframeface.evaluate.report import EvalReport, corpus_version, load_report, merge_reports, write_report
from keyframeface.evaluate.runner import BackendEvaluation


def _row(name: str, clips: int, mae: float, *, digest: str = "abc", tokens: bool = False) -> BackendEvaluation:
    summary = {"mae": (mae, 0.0), "mse": (mae * mae, 0.0), "mae_brows": (mae, 0.0), "validity": (1.0, 0.0)}
    if tokens:
        summary["prompt_tokens_per_keyframe"] = (812.5, 0.0)
        summary["completion_tokens_per_keyframe"] = (40.25, 0.0)
    semantic = {"check_pass_rate": 0.8, "case_pass_rate": 0.5, "check_interval95": [0.7, 0.9],
                "case_interval95": [0.3, 0.7], "checks_passed": 8, "checks_total": 10, "cases_passed": 2,
                "cases": 4, "generations": 1}
    return BackendEvaluation(name, True, "", ({"mae": mae},), summary, semantic,
                             {"clips": clips, "keyframes": clips * 3, "seeds": [0], "clip_ids_sha256": digest},
                             {}, {"mae": Interval(mae, mae - 0.01, mae + 0.01, clips)})


def _report(rows: tuple[BackendEvaluation, ...], *, limit: int | None = None, sha: str = "s1",
            split: str = "test") -> EvalReport:
    return EvalReport(rows, split, {"path": "/c", "manifest_sha256": sha}, {"r_precision_top1": 0.9, "clips": 10.0},
                      {"sha256": "ev"}, {rows[0].backend: 1.0}, limit)


def _save(report: EvalReport, path: Path) -> Path:
    write_report(report, path)
    return path


def test_round_trip_keeps_intervals_tokens_and_semantic(tmp_path: Path) -> None:
    report = _report((_row("llama:representation=compact", 20, 0.05, tokens=True),), limit=20)
    back = load_report(_save(report, tmp_path / "a.json"))
    row = back.rows[0]
    assert back.limit == 20 and back.corpus["manifest_sha256"] == "s1"
    assert row.intervals["mae"].to_list() == pytest.approx([0.04, 0.06])
    assert row.summary["prompt_tokens_per_keyframe"][0] == 812.5
    assert row.semantic is not None and row.semantic["check_interval95"] == [0.7, 0.9]
    md = back.to_markdown()
    assert "| llama:representation=compact | 20 | 0.0025 | 0.0500 [0.0400, 0.0600] | 0.800 [0.700, 0.900] " \
           "| 0.500 [0.300, 0.700] |" in md
    assert "| 812.5 | 40.2 |" in md or "| 812.5 | 40.3 |" in md
    assert "8/10 checks passed (0.800 [0.700, 0.900]), 2/4 cases fully passed (0.500 [0.300, 0.700])" in md


def test_merge_notes_different_limits_and_clip_sets(tmp_path: Path) -> None:
    a = _save(_report((_row("rules", 300, 0.02, digest="all"),)), tmp_path / "rules.json")
    b = _save(_report((_row("llama", 40, 0.05, digest="first40", tokens=True),), limit=40), tmp_path / "llama.json")
    merged = merge_reports([(p.name, load_report(p)) for p in (a, b)])
    md = merged.to_markdown()
    assert "| rules | 300 |" in md and "| llama | 40 |" in md
    assert "different limits" in md and "different clip sets" in md
    assert "from `llama.json`" in md and "`rules.json`: split test, limit None, 300 clips" in md
    assert [r.info["source_file"] for r in merged.rows] == ["rules.json", "llama.json"]
    # merging a merged report keeps every source
    again = merge_reports([("m.json", EvalReport.from_dict(json.loads(json.dumps(merged.to_dict()))))])
    assert len(again.sources) == 2 and "different limits" in again.to_markdown()


def test_same_context_has_no_warning(tmp_path: Path) -> None:
    a = _save(_report((_row("rules", 30, 0.02),), limit=30), tmp_path / "a.json")
    b = _save(_report((_row("bundled", 30, 0.01),), limit=30), tmp_path / "b.json")
    md = merge_reports([(p.name, load_report(p)) for p in (a, b)]).to_markdown()
    assert "different" not in md


def test_corpus_mismatch_is_refused_unless_forced(tmp_path: Path) -> None:
    a = _save(_report((_row("rules", 30, 0.02),), sha="one"), tmp_path / "a.json")
    b = _save(_report((_row("llama", 30, 0.05),), sha="two"), tmp_path / "b.json")
    loaded = [(p.name, load_report(p)) for p in (a, b)]
    with pytest.raises(FormatError, match=r"different corpus versions.*--force"):
        merge_reports(loaded)
    md = merge_reports(loaded, force=True).to_markdown()
    assert "different corpora" in md


def test_corpus_version() -> None:
    assert corpus_version({"manifest_sha256": "x", "name": "n"}) == "x"
    assert corpus_version({"name": "n", "created": "t"}) == "n@t"
    assert corpus_version({"path": "/p"}) is None


def test_cli_merge_writes_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _save(_report((_row("rules", 300, 0.02, digest="x"),)), tmp_path / "a.json")
    b = _save(_report((_row("llama", 40, 0.05, digest="y"),), limit=40), tmp_path / "b.json")
    out_md, out_json = tmp_path / "t.md", tmp_path / "m.json"
    assert main(["eval", "merge", str(a), str(b), "-o", str(out_md), "--json", str(out_json)]) == 0
    assert "| llama | 40 |" in out_md.read_text() and capsys.readouterr().out == ""
    data = json.loads(out_json.read_text())
    assert [r["backend"] for r in data["rows"]] == ["rules", "llama"] and len(data["sources"]) == 2
    assert main(["eval", "merge", str(a)]) == 0
    assert "| rules | 300 |" in capsys.readouterr().out
    c = _save(_report((_row("x", 1, 0.1),), sha="other"), tmp_path / "c.json")
    assert main(["eval", "merge", str(a), str(c)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["eval", "merge", str(a), str(c), "--force"]) == 0


@pytest.mark.parametrize("content, match", [
    ("not json", "not valid JSON"),
    ('{"format": "something else"}', "keyframeface.evaluation"),
    ('{"format": "keyframeface.evaluation"}', "rows"),
    ('{"format": "keyframeface.evaluation", "rows": [{"nobackend": 1}]}', "backend"),
    ('{"format": "keyframeface.evaluation", "rows": [], "limit": "5"}', "limit"),
    ('{"format": "keyframeface.evaluation", "rows": [{"backend": "x", "summary": [1]}]}', "summary"),
    ("[" * 100000 + "]" * 100000, "not valid JSON"),
])
def test_bad_report_files_are_clear_errors(tmp_path: Path, content: str, match: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=match) as info:
        load_report(path)
    assert "bad.json" in str(info.value)
    assert main(["eval", "merge", str(path)]) == 1
    assert "bad.json" in capsys.readouterr().err
    assert main(["eval", "merge", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_old_reports_without_new_fields_still_merge(tmp_path: Path) -> None:
    old: dict[str, Any] = {"format": "keyframeface.evaluation", "version": 1, "split": "test",
                           "corpus": {"path": "c"}, "rows": [{"backend": "rules", "available": True,
                                                              "summary": {"mae": {"mean": 0.02, "ci95": 0.0}},
                                                              "semantic": {"check_pass_rate": 0.9,
                                                                           "case_pass_rate": 0.8, "cases": 5},
                                                              "info": {"clips": 10}}]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    md = merge_reports([("old.json", load_report(path))]).to_markdown()
    assert "| rules | 10 | - | 0.0200 | 0.900 | 0.800 |" in md
