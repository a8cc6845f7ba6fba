"""Each metric of keyframeface.evaluate.metrics against small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from keyframeface import rig
from keyframeface.errors import KeyframeFaceError
from keyframeface.evaluate.metrics import (
    REGIONS,
    diversity,
    frechet_distance,
    keyframe_errors,
    mean_ci,
    multimodal_distance,
    r_precision,
    region_indices,
)


def test_regions_partition_the_61_channels() -> None:
    idx = region_indices()
    assert set(idx) == {*REGIONS, "all"}
    parts = np.concatenate([idx[r] for r in REGIONS])
    assert sorted(parts.tolist()) == list(range(rig.NUM_CHANNELS))
    assert len(idx["brows"]) == 5 and len(idx["pose"]) == 9 and len(idx["gaze"]) == 8


def test_keyframe_errors_by_hand() -> None:
    pred = np.zeros((2, rig.NUM_CHANNELS))
    true = np.zeros((2, rig.NUM_CHANNELS))
    true[0, rig.CHANNEL_INDEX["BrowInnerUp"]] = 0.5
    true[1, rig.CHANNEL_INDEX["HeadYaw"]] = -0.2
    e = keyframe_errors(pred, true)
    assert e["all"]["mse"] == pytest.approx((0.25 + 0.04) / 122)
    assert e["all"]["mae"] == pytest.approx((0.5 + 0.2) / 122)
    assert e["brows"]["mse"] == pytest.approx(0.25 / 10)
    assert e["brows"]["mae"] == pytest.approx(0.5 / 10)
    assert e["pose"]["mae"] == pytest.approx(0.2 / 18)
    assert e["mouth"] == {"mse": 0.0, "mae": 0.0}


def test_keyframe_errors_rejects_bad_shapes() -> None:
    with pytest.raises(KeyframeFaceError, match="expected two"):
        keyframe_errors(np.zeros((2, 61)), np.zeros((3, 61)))
    with pytest.raises(KeyframeFaceError):
        keyframe_errors(np.zeros((2, 60)), np.zeros((2, 60)))


def test_r_precision_by_hand() -> None:
    # text i = i on a line; motions 1 and 2 swapped. Text 0: own motion nearest (rank 0). Text 1 (at 1): its own
    # motion (at 2) is 1 away, motion 2 (at 1) is closer and motion 0 ties -> rank 2. Text 2 (at 2): motion 1
    # (at 2) is closer than its own (at 1) -> rank 1.
    text = np.array([[0.0], [1.0], [2.0]])
    motion = np.array([[0.0], [2.0], [1.0]])
    assert r_precision(text, motion, batch_size=3) == pytest.approx((1 / 3, 2 / 3, 1.0))
    # ties count against the true motion: text 1 at 1.5 is 0.5 from motions 1 and 2 -> rank 1, not 0;
    # texts 0 and 2 have their own motion strictly nearest -> rank 0
    text = np.array([[0.0], [1.5], [3.0]])
    motion = np.array([[0.0], [1.0], [2.0]])
    assert r_precision(text, motion, batch_size=3) == pytest.approx((2 / 3, 1.0, 1.0))


def test_r_precision_constant_motion_scores_zero() -> None:
    text = np.random.default_rng(0).normal(size=(32, 4))
    assert r_precision(text, np.ones((32, 4))) == (0.0, 0.0, 0.0)


def test_r_precision_perfect_and_drops_incomplete_batch() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8))
    assert r_precision(x, x) == (1.0, 1.0, 1.0)
    # 40 pairs, batches of 32: only one batch is scored, so the result is a multiple of 1/32
    y = rng.normal(size=(40, 8))
    top1 = r_precision(x, y, seed=3)[0]
    assert (top1 * 32) == pytest.approx(round(top1 * 32))
    # fewer than 32 pairs: one batch of all of them
    assert r_precision(x[:5], x[:5], top_k=2) == (1.0, 1.0)


def test_r_precision_refuses_non_finite_and_bad_sizes() -> None:
    x = np.random.default_rng(0).normal(size=(8, 4))
    nan = x.copy()
    nan[2, 1] = np.nan
    with pytest.raises(KeyframeFaceError, match="finite"):
        r_precision(x, nan)
    with pytest.raises(KeyframeFaceError, match="finite"):
        r_precision(np.full((8, 4), np.inf), x)
    with pytest.raises(KeyframeFaceError, match="batch_size"):
        r_precision(x, x, batch_size=0)
    with pytest.raises(KeyframeFaceError, match="top_k"):
        r_precision(x, x, top_k=0)


def test_multimodal_distance_by_hand() -> None:
    assert multimodal_distance(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[3.0, 4.0], [1.0, 1.0]])) == 2.5


def test_frechet_distance_by_hand() -> None:
    a = np.array([[0.0], [2.0]])  # mean 1, sample variance 2
    b = np.array([[1.0], [5.0]])  # mean 3, sample variance 8
    # (1 - 3)^2 + 2 + 8 - 2 sqrt(2 * 8) = 4 + 10 - 8 = 6
    assert frechet_distance(a, b) == pytest.approx(6.0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 4))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, 0.0, 2.0, 0.0])
    assert frechet_distance(x, x + shift) == pytest.approx(5.0, abs=1e-6)


def test_frechet_matches_scipy_sqrtm() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(60, 5)), rng.normal(1.0, 2.0, size=(70, 5))
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * np.real(linalg.sqrtm(s1 @ s2)))
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


def test_diversity_by_hand() -> None:
    assert diversity(np.ones((10, 3))) == 0.0
    x = np.random.default_rng(0).normal(size=(20, 3))
    rng = np.random.default_rng(7)
    first, second = rng.choice(20, 20, replace=False), rng.choice(20, 20, replace=False)
    assert diversity(x, seed=7) == pytest.approx(np.mean(np.linalg.norm(x[first] - x[second], axis=1)))
    assert diversity(2 * x, seed=7) == pytest.approx(2 * diversity(x, seed=7))
    assert math.isnan(diversity(x[:1]))


def test_mean_ci_by_hand() -> None:
    mean, ci = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert ci == pytest.approx(1.96 * math.sqrt(2 / 3) / math.sqrt(3))
    assert mean_ci([0.5]) == (0.5, 0.0)
    assert mean_ci([1.0, float("nan"), 1.0]) == (1.0, 0.0)
    assert all(math.isnan(v) for v in mean_ci([]))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(1, 6)),
              elements=st.floats(-10, 10, allow_nan=False)),
       st.integers(0, 5))
def test_r_precision_properties(x: np.ndarray, seed: int) -> None:
    y = np.roll(x, 1, axis=0)
    top = r_precision(x, y, seed=seed)
    assert all(0.0 <= t <= 1.0 for t in top)
    assert top[0] <= top[1] <= top[2]
    assert frechet_distance(x, y) >= 0.0
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), abs=1e-6 * (1 + np.abs(x).max() ** 2))
