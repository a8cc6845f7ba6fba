"""`keyframeface eval` and `keyframeface train evaluator` end to end, and the evaluation cases file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyframeface.cli.main import main
from keyframeface.evaluate.metrics import REGIONS
from keyframeface.evaluate.runner import EVAL_CASES_PATH
from keyframeface.evaluate.semantic_checks import DEFAULT_CASES_PATH, load_cases


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from keyframeface.data.corpus import build_corpus

    root = tmp_path_factory.mktemp("evcli") / "corpus"
    build_corpus(root, seed=2, size=150, use_shared=False)
    return root


def test_eval_cases_file() -> None:
    cases = load_cases(EVAL_CASES_PATH)
    assert len(cases) >= 60
    assert len({c.id for c in cases}) == len(cases)
    tags = {t for c in cases for t in c.tags}
    assert {"paraphrase", "intensity", "laterality", "gaze", "sequence", "negation", "head"} <= tags
    # kept apart from the rules backend's own test set: no shared ids or descriptions
    other = load_cases(DEFAULT_CASES_PATH)
    assert not {c.id for c in cases} & {c.id for c in other}
    texts = {k.description for c in other for k in c.script.keyframes}
    assert not {k.description for c in cases for k in c.script.keyframes} & texts


def test_eval_compare_table_and_json(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    rc = main(["-q", "eval", "--compare", "rules", "no-such-backend", "--corpus", str(corpus), "--seeds", "0", "1",
               "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| rules |" in text and "| no-such-backend | n/a" in text and "real keyframes (ceiling)" in text
    assert "MAE per region" in text and "not evaluated" in text
    report = json.loads(out.read_text())
    assert report["format"] == "keyframeface.evaluation" and report["split"] == "test"
    rules, missing, baseline = report["rows"]
    assert missing["available"] is False and "unknown backend" in missing["reason"]
    assert baseline["backend"] == "neutral face (baseline)"
    assert baseline["summary"]["mae"]["mean"] > rules["summary"]["mae"]["mean"]
    assert baseline["summary"]["r_precision_top1"]["mean"] < 0.2
    s = rules["summary"]
    for key in ("mse", "mae", "mae_brows", "mae_pose", "r_precision_top1", "r_precision_top3", "mm_distance", "fid",
                "diversity", "validity", "s_per_keyframe"):
        assert s[key]["mean"] is not None, key
    assert s["validity"]["mean"] == 1.0
    assert 0.0 <= s["r_precision_top1"]["mean"] <= s["r_precision_top3"]["mean"] <= 1.0
    assert len(rules["runs"]) == 2 and rules["info"]["generations"] == 1  # greedy: generated once, scored twice
    assert rules["semantic"]["cases"] >= 60 and 0.0 <= rules["semantic"]["check_pass_rate"] <= 1.0
    # bootstrap intervals over clips (deterministic backend: still an interval), and over cases for semantic
    for key in ("mse", "mae", "mae_brows", "mae_pose", "validity"):
        low, high = s[key]["interval95"]
        assert low <= s[key]["mean"] <= high, key
    assert s["mae"]["interval95"][0] < s["mae"]["interval95"][1]
    sem = rules["semantic"]
    assert sem["check_interval95"][0] <= sem["check_pass_rate"] <= sem["check_interval95"][1]
    assert sem["case_interval95"][0] <= sem["case_pass_rate"] <= sem["case_interval95"][1]
    assert "prompt_tokens_per_keyframe" not in s  # the rules backend counts no tokens
    assert report["intervals"]["resamples"] == 1000 and report["corpus"]["manifest_sha256"]


def test_eval_run_and_saved_predictions_agree(corpus: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    preds = tmp_path / "preds"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["-q", "eval", "run", "--backend", "rules", "--corpus", str(corpus), "--split", "validation",
                 "--limit", "6", "--no-semantic", "--write-predictions", str(preds), "--json", str(a)]) == 0
    assert len(list(preds.glob("*.json"))) == 6
    assert main(["-q", "eval", "run", "--keyframes", str(preds), "--corpus", str(corpus), "--split", "validation",
                 "--limit", "6", "--json", str(b)]) == 0
    capsys.readouterr()
    ra, rb = (json.loads(p.read_text())["rows"][0]["summary"] for p in (a, b))
    assert ra["mae"]["mean"] == pytest.approx(rb["mae"]["mean"], abs=1e-4)
    assert ra["r_precision_top1"]["mean"] == pytest.approx(rb["r_precision_top1"]["mean"], abs=1e-6)
    assert rb["validity"]["mean"] == 1.0


def test_eval_errors_are_one_line(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--compare", "rules"]) == 1
    assert "--corpus" in capsys.readouterr().err
    assert main(["eval", "--corpus", str(corpus), "--split", "test", "--limit", "0"]) == 1
    assert "limit" in capsys.readouterr().err
    assert main(["eval", "run", "--backend", "nope", "--corpus", str(corpus), "--limit", "2"]) == 1
    assert "unknown backend" in capsys.readouterr().err


def test_eval_semantic_eval_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "semantic", "--cases", "eval"]) == 0
    assert "checks passed" in capsys.readouterr().out


def test_train_evaluator_cli_then_eval_with_it(corpus: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    weights = tmp_path / "ev.npz"
    assert main(["-q", "train", "evaluator", "--corpus", str(corpus), "-o", str(weights), "--epochs", "2",
                 "--buckets", "256", "--hidden", "16", "--embed", "16"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["weights"] == str(weights) and weights.with_suffix(".json").is_file()
    assert main(["-q", "eval", "--corpus", str(corpus), "--evaluator", str(weights), "--no-semantic",
                 "--limit", "5"]) == 0
    assert "| bundled |" in capsys.readouterr().out


@pytest.mark.slow
def test_readme_quick_start(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented quick start: build the default corpus, then compare the rules backend on its test split."""
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "dataset", "build", "-o", "corpus"]) == 0
    capsys.readouterr()
    assert main(["-q", "eval", "--compare", "rules", "--corpus", "corpus", "--json", "eval.json"]) == 0
    assert "| rules |" in capsys.readouterr().out
    row = json.loads(Path("eval.json").read_text())["rows"][0]
    assert row["summary"]["validity"]["mean"] == 1.0


def test_probe_backend_in_child_process() -> None:
    from keyframeface.evaluate.runner import probe_backend

    assert probe_backend("rules", timeout_s=120) is None


def test_runner_refuses_empty_seeds_and_reserved_generate_options(corpus: Path) -> None:
    from keyframeface.errors import FormatError
    from keyframeface.evaluate.runner import (
        evaluate_backend,
        evaluate_keyframes,
        load_split,
        real_pairs_ceiling,
        run_backend,
    )

    clips = load_split(corpus, limit=3)
    with pytest.raises(FormatError, match="seeds"):
        real_pairs_ceiling(clips, seeds=())
    with pytest.raises(FormatError, match="seeds"):
        evaluate_keyframes({}, clips, seeds=())
    with pytest.raises(FormatError, match="seeds"):
        evaluate_backend("rules", clips, seeds=())
    for key in ("seed", "temperature"):
        with pytest.raises(FormatError, match=key):
            evaluate_backend("rules", clips, generate_options={key: 1}, semantic=False)
    with pytest.raises(FormatError, match="seed"):
        run_backend(object(), clips, generate_options={"seed": 1})
    assert real_pairs_ceiling(clips, seeds=[0, 1])["mm_distance"] >= 0


def test_report_escapes_pipes_in_table_cells() -> None:
    from keyframeface.evaluate.report import EvalReport
    from keyframeface.evaluate.runner import BackendEvaluation

    rows = (BackendEvaluation("a|b", False, "needs x | y\nsecond line"),
            BackendEvaluation("c|d", True, summary={"mae": (0.1, 0.0), "mae_brows": (0.2, 0.0)},
                              failures={"clip1": "bad | value"}))
    md = EvalReport(rows).to_markdown()
    table_rows = [line for line in md.splitlines() if line.startswith("| a") or line.startswith("| c")]
    assert len(table_rows) == 3  # main table twice (one per backend) and the region table once
    for line in table_rows:
        assert "a\\|b" in line or "c\\|d" in line
        cells = line.replace("\\|", "").strip("|").split("|")
        assert len(cells) in (len(md.splitlines()[2].strip("|").split("|")), 1 + len(REGIONS))
    assert "needs x \\| y second line" in md and "bad \\| value" in md


def test_eval_compare_rules_limit_5_table(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["-q", "eval", "--compare", "rules", "rules:policy=repair,representation=compact", "--corpus",
                 str(corpus), "--limit", "5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("| backend |"))
    for title in ("n clips", "MSE", "MAE", "checks", "cases", "valid", "s/keyframe", "prompt tok/kf", "compl. tok/kf"):
        assert title in header, title
    row = next(line for line in text.splitlines() if line.startswith("| rules |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "5" and "[" in cells[3] and cells[-1] == "-" and cells[-2] == "-"
    assert "| rules:policy=repair,representation=compact | 5 |" in text  # rows are labelled by the full spec
    assert "(first 5 clips)" in text and "checks passed (" in text and "cases fully passed (" in text
    report = json.loads(out.read_text())
    assert report["limit"] == 5
    spec_row = report["rows"][1]
    assert spec_row["backend"] == "rules:policy=repair,representation=compact"
    assert spec_row["info"]["generate_options"] == {"policy": "repair", "representation": "compact"}
    assert report["timings_s"].keys() == {"rules", "rules:policy=repair,representation=compact"}


def test_eval_json_then_merge_notes_different_limits(corpus: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    a, b, merged = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.md"
    assert main(["-q", "eval", "--compare", "rules", "--corpus", str(corpus), "--no-semantic", "--no-baseline",
                 "--json", str(a)]) == 0
    assert main(["-q", "eval", "run", "--backend", "rules", "--corpus", str(corpus), "--no-semantic", "--limit", "4",
                 "--json", str(b)]) == 0
    capsys.readouterr()
    assert main(["eval", "merge", str(a), str(b), "-o", str(merged)]) == 0
    md = merged.read_text()
    assert "different limits" in md and "different clip sets" in md
    n_test = json.loads(a.read_text())["rows"][0]["info"]["clips"]
    assert f"| rules | {n_test} |" in md and "| rules | 4 |" in md


def test_eval_run_labels_rows(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "eval", "run", "--backend", "rules", "--corpus", str(corpus), "--no-semantic", "--limit", "2",
                 "--label", "rules-custom"]) == 0
    assert "| rules-custom |" in capsys.readouterr().out
    assert main(["-q", "eval", "run", "--backend", "rules", "--corpus", str(corpus), "--no-semantic", "--limit", "2",
                 "--representation", "compact"]) == 0
    assert "| rules:representation=compact |" in capsys.readouterr().out
