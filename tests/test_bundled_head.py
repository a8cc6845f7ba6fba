"""The grounding head: file format, sha256-checked recipe, validation and prediction semantics."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from keyframeface.errors import FormatError
from keyframeface.io.files import sha256_file
from keyframeface.models.bundled.head import (
    DEFAULT_HEAD_PATH,
    HEAD_FORMAT,
    NONE_LABEL,
    GroundingHead,
    load_head,
    save_head,
)

LABELS = ("action:smile:", "emotion:sadness", NONE_LABEL)
PHRASES = ("a smile", "sad", "")


def small_head(threshold: float = 0.5, *, probs: tuple[float, ...] = (0.5, 0.3, 0.2)) -> GroundingHead:
    """A head over 4-D inputs whose probabilities for a zero input are ``probs`` (zero weights, log-prob bias)."""
    rng = np.random.default_rng(0)
    weights = (rng.standard_normal((4, 3)) * 0.0).astype(np.float32)
    bias = np.log(np.asarray(probs, dtype=np.float32))
    return GroundingHead(weights, bias, LABELS, PHRASES, threshold)


def random_head(threshold: float = 0.3) -> GroundingHead:
    rng = np.random.default_rng(1)
    return GroundingHead(rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32),
                         LABELS, PHRASES, threshold)


ZERO = np.zeros((1, 4), dtype=np.float32)


def write_raw(path: Path, recipe: dict[str, object], **arrays: np.ndarray) -> None:
    """An npz with exactly ``arrays`` and a recipe whose sha256 matches it (to reach the checks after the hash)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    path.write_bytes(buf.getvalue())
    full = {"format": HEAD_FORMAT, "threshold": 0.5, **recipe, "sha256": sha256_file(path)}
    path.with_suffix(".json").write_text(json.dumps(full))


# ------------------------------------------------------------------------------------------- files
def test_save_load_round_trip(tmp_path: Path) -> None:
    head = random_head(0.35)
    rp = save_head(head, tmp_path / "h.npz", {"config": {"seed": 3}, "note": "héllo"})
    assert rp == tmp_path / "h.json"
    recipe = json.loads(rp.read_text(encoding="utf-8"))
    assert recipe["format"] == HEAD_FORMAT and recipe["threshold"] == 0.35 and recipe["note"] == "héllo"
    assert recipe["sha256"] == sha256_file(tmp_path / "h.npz")
    assert recipe["bytes"] == (tmp_path / "h.npz").stat().st_size
    back = load_head(tmp_path / "h.npz")
    np.testing.assert_array_equal(back.weights, head.weights)
    np.testing.assert_array_equal(back.bias, head.bias)
    assert back.labels == LABELS and back.phrases == PHRASES and back.threshold == 0.35
    assert back.recipe["config"] == {"seed": 3}
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    assert back.predict(x) == head.predict(x)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.json", "h.npz"]  # atomic writes leave no temp files


def test_load_accepts_str_paths(tmp_path: Path) -> None:
    save_head(random_head(), tmp_path / "h.npz", {})
    assert load_head(str(tmp_path / "h.npz")).labels == LABELS


def test_tampered_weights_are_refused_naming_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(), path, {})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"sha256.*does not match.*keyframeface train bundled"):
        load_head(path)


def test_missing_weights_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="keyframeface train bundled"):
        load_head(tmp_path / "absent.npz")


def test_missing_recipe_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(), path, {})
    path.with_suffix(".json").unlink()
    with pytest.raises(FormatError, match=r"cannot read its recipe h\.json"):
        load_head(path)


@pytest.mark.parametrize("recipe_text", ["not json", "[1, 2]", '{"format": "something.else"}', "{}"])
def test_recipe_of_the_wrong_format_is_refused(tmp_path: Path, recipe_text: str) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(), path, {})
    path.with_suffix(".json").write_text(recipe_text)
    with pytest.raises(FormatError):
        load_head(path)


@pytest.mark.parametrize("threshold", [None, "0.5", True, [0.5]])
def test_recipe_threshold_must_be_a_number(tmp_path: Path, threshold: object) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(), path, {})
    rp = path.with_suffix(".json")
    recipe = json.loads(rp.read_text())
    recipe["threshold"] = threshold
    rp.write_text(json.dumps(recipe))
    with pytest.raises(FormatError, match="threshold"):
        load_head(path)


def test_recipe_threshold_outside_unit_interval_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(), path, {})
    rp = path.with_suffix(".json")
    recipe = json.loads(rp.read_text())
    recipe["threshold"] = 1.5
    rp.write_text(json.dumps(recipe))
    with pytest.raises(FormatError, match="outside"):
        load_head(path)


def test_non_finite_weights_in_a_file_are_refused(tmp_path: Path) -> None:
    w = np.zeros((4, 3), dtype=np.float32)
    w[1, 2] = np.nan
    write_raw(tmp_path / "h.npz", {}, weights=w, bias=np.zeros(3, np.float32), labels=np.array(LABELS),
              phrases=np.array(PHRASES))
    with pytest.raises(FormatError, match="not finite"):
        load_head(tmp_path / "h.npz")


def test_missing_array_and_pickled_arrays_are_refused(tmp_path: Path) -> None:
    write_raw(tmp_path / "a.npz", {}, weights=np.zeros((4, 3), np.float32), bias=np.zeros(3, np.float32),
              labels=np.array(LABELS))
    with pytest.raises(FormatError, match="unreadable"):
        load_head(tmp_path / "a.npz")
    write_raw(tmp_path / "b.npz", {}, weights=np.zeros((4, 3), np.float32), bias=np.zeros(3, np.float32),
              labels=np.array(list(LABELS), dtype=object), phrases=np.array(PHRASES))
    with pytest.raises(FormatError, match="unreadable"):
        load_head(tmp_path / "b.npz")


@pytest.mark.parametrize("content", ["zip", "npy"])
def test_a_file_that_is_not_an_npz_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "h.npz"
    if content == "zip":
        path.write_bytes(b"PK\x03\x04 definitely not a zip")
    else:
        buf = io.BytesIO()
        np.save(buf, np.zeros((4, 3), np.float32))
        path.write_bytes(buf.getvalue())
    path.with_suffix(".json").write_text(json.dumps({"format": HEAD_FORMAT, "threshold": 0.5,
                                                     "sha256": sha256_file(path)}))
    with pytest.raises(FormatError, match="unreadable"):
        load_head(path)


def test_shapes_mismatch_in_a_file_is_refused(tmp_path: Path) -> None:
    write_raw(tmp_path / "h.npz", {}, weights=np.zeros((4, 3), np.float32), bias=np.zeros(2, np.float32),
              labels=np.array(LABELS), phrases=np.array(PHRASES))
    with pytest.raises(FormatError, match="inconsistent shapes"):
        load_head(tmp_path / "h.npz")


def test_a_changed_file_is_reloaded_not_served_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "h.npz"
    save_head(random_head(0.3), path, {})
    assert load_head(path).threshold == 0.3
    save_head(random_head(0.7), path, {"extra": "x" * 100})  # a different size: a different cache stamp
    assert load_head(path).threshold == 0.7


# ------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(("weights", "bias", "labels", "phrases"), [
    (np.zeros((4, 3)), np.zeros(2), LABELS, PHRASES),
    (np.zeros((4, 3)), np.zeros(3), LABELS[:2], PHRASES),
    (np.zeros((4, 3)), np.zeros(3), LABELS, PHRASES[:2]),
    (np.zeros(12), np.zeros(3), LABELS, PHRASES),
    (np.zeros((4, 3, 1)), np.zeros(3), LABELS, PHRASES),
])
def test_inconsistent_shapes_are_refused(weights: np.ndarray, bias: np.ndarray, labels: tuple[str, ...],
                                         phrases: tuple[str, ...]) -> None:
    with pytest.raises(FormatError, match="inconsistent shapes"):
        GroundingHead(weights.astype(np.float32), bias.astype(np.float32), labels, phrases, 0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_or_bias_are_refused(bad: float) -> None:
    w = np.zeros((4, 3), np.float32)
    w[0, 0] = bad
    with pytest.raises(FormatError, match="not finite"):
        GroundingHead(w, np.zeros(3, np.float32), LABELS, PHRASES, 0.5)
    b = np.zeros(3, np.float32)
    b[2] = bad
    with pytest.raises(FormatError, match="not finite"):
        GroundingHead(np.zeros((4, 3), np.float32), b, LABELS, PHRASES, 0.5)


def test_a_head_needs_the_none_label() -> None:
    with pytest.raises(FormatError, match="'none'"):
        GroundingHead(np.zeros((4, 2), np.float32), np.zeros(2, np.float32), LABELS[:2], PHRASES[:2], 0.5)


@pytest.mark.parametrize("threshold", [-0.01, 1.01, math.nan])
def test_threshold_outside_unit_interval_is_refused(threshold: float) -> None:
    with pytest.raises(FormatError, match="threshold"):
        small_head(threshold)


# ------------------------------------------------------------------------------------------- prediction
def test_probabilities_are_a_distribution() -> None:
    head = random_head()
    x = np.random.default_rng(3).standard_normal((7, 4)).astype(np.float32) * 50  # large logits stay stable
    p = head.probabilities(x)
    assert p.shape == (7, 3) and p.dtype == np.float32
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(small_head().probabilities(ZERO)[0], [0.5, 0.3, 0.2], atol=1e-6)


@pytest.mark.parametrize("shape", [(4,), (1, 3), (2, 5), (1, 1, 4)])
def test_embeddings_of_the_wrong_shape_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        random_head().probabilities(np.zeros(shape, np.float32))


def test_below_the_threshold_the_label_is_none() -> None:
    label, p = small_head(0.6).predict(ZERO)[0]
    assert label == NONE_LABEL and p == pytest.approx(0.5, abs=1e-6)  # the top label's probability is reported
    assert small_head(0.49).predict(ZERO)[0][0] == "action:smile:"
    assert small_head(0.0).predict(ZERO)[0][0] == "action:smile:"
    assert small_head(1.0).predict(ZERO)[0][0] == NONE_LABEL


def test_none_as_argmax_is_none_whatever_the_threshold() -> None:
    head = small_head(0.0, probs=(0.2, 0.3, 0.5))
    label, p = head.predict(ZERO)[0]
    assert label == NONE_LABEL and p == pytest.approx(0.5, abs=1e-6)


def test_allowed_restricts_and_renormalises() -> None:
    head = small_head(0.55)
    label, p = head.predict(ZERO, allowed=("emotion:",))[0]
    assert label == "emotion:sadness" and p == pytest.approx(0.3 / 0.5, abs=1e-5)
    assert head.predict(ZERO, allowed=("action:",))[0][0] == "action:smile:"
    label, p = head.predict(ZERO, allowed=("nothing:",))[0]
    assert label == NONE_LABEL and p == pytest.approx(1.0, abs=1e-6)
    assert small_head(0.7).predict(ZERO, allowed=("emotion:",))[0][0] == NONE_LABEL


def test_predict_rows_and_empty_batch() -> None:
    head = random_head()
    x = np.random.default_rng(4).standard_normal((6, 4)).astype(np.float32)
    preds = head.predict(x)
    assert len(preds) == 6 and all(lab in LABELS and 0.0 <= p <= 1.0 for lab, p in preds)
    assert head.predict(np.zeros((0, 4), np.float32)) == []


def test_phrase_and_dim() -> None:
    head = small_head()
    assert head.dim == 4
    assert head.phrase("emotion:sadness") == "sad" and head.phrase(NONE_LABEL) == ""
    with pytest.raises(ValueError):
        head.phrase("action:unknown:")


# ------------------------------------------------------------------------------------------- packaged head
def test_packaged_head_loads_and_matches_its_recipe() -> None:
    head = load_head()
    assert head is load_head(DEFAULT_HEAD_PATH)  # cached
    recipe = head.recipe
    assert recipe["sha256"] == sha256_file(DEFAULT_HEAD_PATH)
    assert recipe["format"] == HEAD_FORMAT and recipe["threshold"] == head.threshold
    assert head.dim == recipe["encoder"]["dim"] == 384
    assert len(head.labels) == recipe["phrases"]["labels"] and NONE_LABEL in head.labels
    for key in ("config", "corpus", "encoder", "phrases", "metrics_validation", "command"):
        assert key in recipe
    assert "file" not in recipe["encoder"]  # no machine paths in the shipped recipe


def test_packaged_canonical_phrases_read_back_as_their_labels() -> None:
    from keyframeface.models.bundled.phrases import label_of

    head = load_head()
    wrong = {lab: (ph, label_of(ph)) for lab, ph in zip(head.labels, head.phrases, strict=True)
             if lab != NONE_LABEL and label_of(ph) != lab}
    assert not wrong
    assert head.phrase(NONE_LABEL) == ""


def test_save_head_refuses_a_json_weights_path(tmp_path: Path) -> None:
    from keyframeface.models.bundled.head import load_head, save_head

    head = load_head()
    with pytest.raises(FormatError, match=r"\.json"):
        save_head(head, tmp_path / "head.json", {})
