"""Keyframe extraction from dense captures (keyframeface.extract, keyframeface.extract_methods)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyframeface import extract_methods, rig
from keyframeface.animate.interpolate import interpolate
from keyframeface.errors import KeyframeFaceError, ScriptError
from keyframeface.extract import DEFAULT_MAX_ERROR, extract, select_keyframes
from keyframeface.extract_methods import (
    Fit,
    available_methods,
    linear_interpolate,
    register_method,
    turning_points,
    uniform_knots,
)
from keyframeface.script import MAX_KEYFRAMES, Animation, Keyframes

FPS = 60.0
BOUND_METHODS = ("greedy", "dp", "rdp", "uniform")


# ------------------------------------------------------------------------------------------------- helpers
def keyed_take(seed: int, *, keys: int = 6, method: str = "pchip") -> tuple[Animation, np.ndarray]:
    """A take made by interpolating ``keys`` known keyframes at 60 fps; returns it and the keys' frame numbers.

    One channel zigzags between 0.1 and 0.9 so that every key is a turning point; four more channels get random
    values, so the keys are distinct poses as in an animator's blocking pass.
    """
    rng = np.random.default_rng(seed)
    frames_at = np.concatenate([[0], np.cumsum(rng.integers(24, 48, keys - 1))])
    times = frames_at / FPS
    values = np.zeros((keys, rig.NUM_CHANNELS), dtype=np.float32)
    chans = rng.choice(rig.NUM_BLENDSHAPES, 5, replace=False)
    values[:, chans[1:]] = rng.uniform(0.0, 1.0, (keys, 4))
    values[:, chans[0]] = np.where(np.arange(keys) % 2, 0.9, 0.1)
    t = np.arange(frames_at[-1] + 1) / FPS
    return Animation(interpolate(times, values, t, method=method), fps=FPS), frames_at


def smooth_take(seed: int, frames: int, *, noise: float = 0.0) -> Animation:
    """Random smooth curves (a few sines per channel, in range), optionally with capture-like jitter."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    freq = rng.uniform(0.1, 2.0, (3, rig.NUM_CHANNELS))
    phase = rng.uniform(0, 2 * np.pi, (3, rig.NUM_CHANNELS))
    amp = rng.uniform(0.0, 0.3, (3, rig.NUM_CHANNELS))
    curves = 0.5 + (amp[:, None, :] * np.sin(2 * np.pi * freq[:, None, :] * t[None, :, None] + phase[:, None, :])).sum(0)
    curves += noise * rng.standard_normal(curves.shape)
    curves[:, rig.NUM_BLENDSHAPES:] -= 0.5  # pose channels around 0
    return Animation(np.clip(curves, rig.LOW, rig.HIGH).astype(np.float32), fps=FPS)


def reconstruction(anim: Animation, sel_indices: np.ndarray, interpolation: str = "pchip") -> np.ndarray:
    """Independent check: |interpolated keys - clamped capture| on the valid frames, (n_valid, 61)."""
    t = anim.frame_times()
    valid = np.ones(anim.num_frames, bool) if anim.valid is None else anim.valid
    target, _ = rig.clamp(anim.frames)
    recon = interpolate(t[sel_indices], target[sel_indices], t[valid], method=interpolation)
    return np.abs(recon.astype(np.float64) - target[valid])


# ---------------------------------------------------------------------------------------------- recovery
@pytest.mark.parametrize("seed", range(4))
def test_dp_recovers_keys_of_a_pchip_curve(seed: int) -> None:
    anim, keys = keyed_take(seed)
    sel = select_keyframes(anim, max_error=0.02, method="dp")
    assert len(sel) == len(keys)
    assert np.abs(sel.indices - keys).max() <= 1
    assert sel.max_frame_error <= 0.02


@pytest.mark.parametrize("method", ["greedy", "dp", "rdp"])
@pytest.mark.parametrize("seed", range(3))
def test_linear_curve_recovered_exactly_by_every_method(method: str, seed: int) -> None:
    anim, keys = keyed_take(seed, method="linear")
    sel = select_keyframes(anim, max_error=1e-3, method=method, interpolation="linear")
    np.testing.assert_array_equal(sel.indices, keys)
    assert sel.max_abs < 1e-4


@pytest.mark.parametrize("seed", range(3))
def test_count_mode_recovers_keys_of_a_linear_curve(seed: int) -> None:
    anim, keys = keyed_take(seed, method="linear")
    for method in ("greedy", "dp"):
        sel = select_keyframes(anim, count=len(keys), method=method, interpolation="linear")
        np.testing.assert_array_equal(sel.indices, keys)


def test_greedy_pchip_on_keyed_take_is_close() -> None:
    # Greedy inserts the worst frame first, so on pchip content it needs a few more keys than were used; it
    # must still land a key within a few frames of every true one and respect the bound.
    anim, keys = keyed_take(0)
    sel = select_keyframes(anim, max_error=0.05, method="greedy")
    assert len(keys) <= len(sel) <= 2 * len(keys)
    assert max(np.abs(sel.indices - k).min() for k in keys) <= 3


# ---------------------------------------------------------------------------------------------- the bound
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    frames=st.integers(3, 240),
    max_error=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
    noise=st.sampled_from([0.0, 0.01]),
    method=st.sampled_from(BOUND_METHODS),
)
def test_max_error_respected_on_random_smooth_data(
    seed: int, frames: int, max_error: float, noise: float, method: str
) -> None:
    anim = smooth_take(seed, frames, noise=noise)
    sel = select_keyframes(anim, max_error=max_error, method=method)
    assert sel.max_frame_error <= max_error + 1e-6
    assert reconstruction(anim, sel.indices).max() <= max_error + 1e-5
    assert sel.indices[0] == 0 and sel.indices[-1] == frames - 1
    assert np.all(np.diff(sel.indices) > 0)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["greedy", "dp"]))
def test_rmse_metric_bound(seed: int, method: str) -> None:
    anim = smooth_take(seed, 150, noise=0.02)
    sel = select_keyframes(anim, max_error=0.02, method=method, metric="rmse")
    per_frame = np.sqrt((reconstruction(anim, sel.indices) ** 2).mean(axis=1))
    assert per_frame.max() <= 0.02 + 1e-5
    assert sel.metric == "rmse"


@pytest.mark.parametrize("interpolation", ["step", "linear", "cubic", "pchip", "akima"])
def test_bound_holds_for_every_interpolation(interpolation: str) -> None:
    anim = smooth_take(3, 200, noise=0.005)
    for method in ("greedy", "dp"):
        sel = select_keyframes(anim, max_error=0.05, method=method, interpolation=interpolation)
        assert reconstruction(anim, sel.indices, interpolation).max() <= 0.05 + 1e-5
        assert sel.interpolation == interpolation


def test_declared_locality_gives_the_same_keys_as_global_evaluation() -> None:
    anim = smooth_take(11, 300, noise=0.01)

    def pchip_global(times_s: np.ndarray, values: np.ndarray, t_out: np.ndarray) -> np.ndarray:
        return interpolate(times_s, values, t_out)  # no ``locality`` attribute: every insertion re-evaluates all

    local = select_keyframes(anim, max_error=0.03, method="greedy")
    full = select_keyframes(anim, max_error=0.03, method="greedy", interpolation=pchip_global)
    np.testing.assert_array_equal(local.indices, full.indices)


def test_greedy_beats_uniform_at_equal_count_on_a_blinky_take() -> None:
    # Short events (blinks) are what uniform spacing misses.
    anim = smooth_take(5, 600, noise=0.002)
    frames = anim.frames.copy()
    blink = np.exp(-0.5 * ((np.arange(600)[:, None] - np.array([100, 330, 470])) / 3.0) ** 2).sum(1)
    frames[:, rig.CHANNEL_INDEX["EyeBlinkLeft"]] = blink
    anim = Animation(frames, fps=FPS)
    greedy = select_keyframes(anim, max_error=0.05, method="greedy")
    uniform = select_keyframes(anim, count=len(greedy), method="uniform")
    assert greedy.max_abs < uniform.max_abs


# ---------------------------------------------------------------------------------------------- count mode
@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    frames=st.integers(3, 200),
    data=st.data(),
    method=st.sampled_from(BOUND_METHODS),
)
def test_count_respected_exactly(seed: int, frames: int, data: st.DataObject, method: str) -> None:
    count = data.draw(st.integers(2, frames))
    anim = smooth_take(seed, frames, noise=0.01)
    sel = select_keyframes(anim, count=count, method=method)
    assert len(sel) == count
    assert sel.indices[0] == 0 and sel.indices[-1] == frames - 1
    assert np.all(np.diff(sel.indices) > 0)


def test_count_on_a_constant_take_spreads_keys() -> None:
    anim = Animation(np.full((50, rig.NUM_CHANNELS), 0.25, np.float32), fps=FPS)
    for method in BOUND_METHODS:
        sel = select_keyframes(anim, count=5, method=method)
        assert len(sel) == 5 and sel.max_abs < 1e-6
    assert len(select_keyframes(anim, max_error=0.01)) == 2


# ---------------------------------------------------------------------------------------------- tracking loss
def test_tracking_loss_frames_are_ignored() -> None:
    anim = smooth_take(2, 300, noise=0.005)
    valid = np.ones(300, bool)
    valid[[0, 1, 50, 51, 52, 200, 299]] = False
    frames = anim.frames.copy()
    frames[~valid] = 1.0  # garbage where tracking was lost: it must neither be keyed nor counted
    lossy = Animation(frames, fps=FPS, valid=valid)
    clean = Animation(anim.frames[valid], fps=FPS, times_s=anim.frame_times()[valid])
    for method in BOUND_METHODS:
        a = select_keyframes(lossy, max_error=0.05, method=method)
        b = select_keyframes(clean, max_error=0.05, method=method)
        assert valid[a.indices].all()
        np.testing.assert_array_equal(a.indices, np.nonzero(valid)[0][b.indices])
        assert a.frames_used == 293 and a.frames_total == 300
        assert a.max_frame_error == pytest.approx(b.max_frame_error)
    keys = extract(lossy, max_error=0.05)
    # Times count from the take's first row even though it was lost, so keys stay aligned with the take's audio.
    assert keys.keyframes[0].time_s == pytest.approx(2 / FPS)
    assert keys.meta["frames"] == {"total": 300, "used": 293, "ignored": 7}


def test_duplicated_timecodes_are_ignored() -> None:
    anim = smooth_take(4, 100)
    t = anim.frame_times().copy()
    t[40] = t[39]  # a repeated timecode
    sel = select_keyframes(Animation(anim.frames, fps=FPS, times_s=t), max_error=0.02)
    assert 40 not in sel.indices and sel.frames_used == 99


def test_take_without_valid_frames_is_refused() -> None:
    anim = Animation(np.zeros((5, rig.NUM_CHANNELS), np.float32), valid=np.zeros(5, bool))
    with pytest.raises(ScriptError, match="no valid frames"):
        extract(anim)


# ---------------------------------------------------------------------------------------------- tiny takes
def test_single_frame_take() -> None:
    frames = np.full((1, rig.NUM_CHANNELS), 0.3, np.float32)
    keys = extract(Animation(frames, fps=FPS))
    assert len(keys) == 1 and keys.keyframes[0].time_s == 0.0
    assert len(extract(Animation(frames, fps=FPS), count=1)) == 1
    with pytest.raises(ScriptError, match="exceeds the 1 valid frames"):
        extract(Animation(frames, fps=FPS), count=2)


@pytest.mark.parametrize("method", BOUND_METHODS)
def test_two_frame_take(method: str) -> None:
    frames = np.stack([np.zeros(rig.NUM_CHANNELS), np.full(rig.NUM_CHANNELS, 0.5)]).astype(np.float32)
    keys = extract(Animation(frames, fps=FPS), method=method)
    assert [kf.time_s for kf in keys.keyframes] == pytest.approx([0.0, 1 / FPS])
    assert keys.meta["error"]["max_abs"] == 0.0
    assert len(extract(Animation(frames, fps=FPS), count=2, method=method)) == 2
    with pytest.raises(ScriptError, match="at least 2"):
        extract(Animation(frames, fps=FPS), count=1)


def test_two_valid_frames_among_lost_ones() -> None:
    frames = np.full((4, rig.NUM_CHANNELS), 0.2, np.float32)
    anim = Animation(frames, fps=FPS, valid=np.array([False, True, False, True]))
    sel = select_keyframes(anim)
    np.testing.assert_array_equal(sel.indices, [1, 3])


# ---------------------------------------------------------------------------------------------- output
def test_extract_returns_keyframes_with_meta_and_clamped_values(tmp_path: Path) -> None:
    anim = smooth_take(8, 180, noise=0.01)
    frames = anim.frames.copy()
    frames[0, rig.CHANNEL_INDEX["JawOpen"]] = 1.08  # captures exceed 1 slightly
    anim = Animation(frames, fps=FPS, meta={"source": "livelink_csv"})
    keys = extract(anim, max_error=0.05, method="dp", source="take.csv")
    assert isinstance(keys, Keyframes)
    assert all(kf.description == "" for kf in keys.keyframes)
    assert keys.array()[0, rig.CHANNEL_INDEX["JawOpen"]] == 1.0
    assert keys.keyframes[0].time_s == 0.0
    assert keys.keyframes[-1].time_s == pytest.approx(179 / FPS)
    meta = keys.meta
    assert meta["method"] == "dp" and meta["interpolation"] == "pchip" and meta["source"] == "take.csv"
    assert meta["options"]["max_error"] == 0.05 and meta["options"]["count"] is None
    assert meta["error"]["max_frame_error"] <= 0.05
    assert set(meta["error"]) >= {"rmse", "max_abs", "metric", "worst_channel"}
    assert len(meta["frame_indices"]) == len(keys)
    again = Keyframes.from_dict(json.loads(json.dumps(keys.to_dict())))
    assert len(again) == len(keys)
    assert extract(anim, count=4).meta["options"] == {
        "max_error": None, "count": 4, "metric": "max_abs", "channels": None, "weights": None,
    }  # fmt: skip


def test_default_max_error_is_used() -> None:
    anim = smooth_take(1, 120, noise=0.01)
    keys = extract(anim)
    assert keys.meta["options"]["max_error"] == DEFAULT_MAX_ERROR
    assert keys.meta["error"]["max_frame_error"] <= DEFAULT_MAX_ERROR


def test_deterministic() -> None:
    anim = smooth_take(6, 400, noise=0.01)
    for method in BOUND_METHODS:
        a = select_keyframes(anim, max_error=0.03, method=method)
        b = select_keyframes(anim, max_error=0.03, method=method)
        np.testing.assert_array_equal(a.indices, b.indices)


def test_too_many_keyframes_for_a_document() -> None:
    rng = np.random.default_rng(0)
    anim = Animation(rng.uniform(0, 1, (MAX_KEYFRAMES + 40, rig.NUM_CHANNELS)).astype(np.float32), fps=FPS)
    with pytest.raises(ScriptError, match="more than the 256 allowed"):
        extract(anim, max_error=0.0)
    assert len(select_keyframes(anim, max_error=0.0)) == MAX_KEYFRAMES + 40
    with pytest.raises(ScriptError, match="count=257"):
        extract(anim, count=MAX_KEYFRAMES + 1)


# ---------------------------------------------------------------------------------------------- channels
def test_channels_restrict_what_drives_the_selection() -> None:
    frames = np.zeros((120, rig.NUM_CHANNELS), np.float32)
    frames[:, rig.CHANNEL_INDEX["EyeBlinkLeft"]] = np.abs(np.sin(np.arange(120) / 7.0))
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = np.linspace(0, 0.6, 120)
    anim = Animation(frames, fps=FPS)
    assert len(select_keyframes(anim, max_error=0.01, channels=["jaw"])) == 2
    assert len(select_keyframes(anim, max_error=0.01, channels=["jawOpen"])) == 2
    assert len(select_keyframes(anim, max_error=0.01, weights={"eyes": 0.0})) == 2
    assert len(select_keyframes(anim, max_error=0.01)) > 2
    sel = select_keyframes(anim, max_error=0.01, channels=["EyeBlinkLeft"])
    assert sel.worst_channel == "EyeBlinkLeft"


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_error": 0.1, "count": 3}, "not both"),
        ({"max_error": -0.1}, "max_error"),
        ({"max_error": float("nan")}, "max_error"),
        ({"max_error": "0.1"}, "max_error"),
        ({"max_error": True}, "max_error"),
        ({"count": 0}, "at least 2"),
        ({"count": 1}, "at least 2"),
        ({"count": 2.5}, "whole number"),
        ({"count": True}, "whole number"),
        ({"count": 10_000}, "exceeds"),
        ({"method": "magic"}, "greedy"),
        ({"metric": "mae"}, "max_abs"),
        ({"interpolation": "bezier"}, "pchip"),
        ({"channels": ["EyeBlinkMiddle"]}, "unknown channel"),
        ({"channels": []}, "no channel is measured"),
        ({"weights": {"JawOpen": -1.0}}, "weights.JawOpen"),
        ({"weights": {"JawOpen": float("inf")}}, "weights.JawOpen"),
        ({"weights": [1.0]}, "weights"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    anim = smooth_take(0, 30)
    with pytest.raises(ScriptError, match=match) as info:
        extract(anim, **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, KeyframeFaceError) and isinstance(info.value, ValueError)


def test_not_an_animation() -> None:
    with pytest.raises(ScriptError, match="expected an Animation"):
        extract(np.zeros((5, 61)))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- registry
def test_registry_lists_methods_and_accepts_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(BOUND_METHODS) <= set(available_methods())
    monkeypatch.setattr(extract_methods, "_METHODS", dict(extract_methods._METHODS))  # restored after the test

    def ends_only(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
        return np.array([0, fit.n - 1])

    def broken(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
        return np.array([3, 1])

    register_method("test_ends_only", ends_only)
    register_method("test_broken", broken)
    anim = smooth_take(0, 30)
    assert len(select_keyframes(anim, method="test_ends_only")) == 2
    with pytest.raises(ScriptError, match="invalid selection"):
        select_keyframes(anim, method="test_broken")
    with pytest.raises(ScriptError, match="identifiers"):
        register_method("no good", ends_only)
    assert "test_ends_only" in available_methods()


def test_long_spans_scored_in_blocks_give_the_same_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    anim = smooth_take(9, 400, noise=0.003)
    whole = select_keyframes(anim, max_error=0.05, method="dp")
    monkeypatch.setattr(extract_methods, "_SPAN_BLOCK", 2_000)
    blocked = select_keyframes(anim, max_error=0.05, method="dp")
    np.testing.assert_array_equal(whole.indices, blocked.indices)


# ---------------------------------------------------------------------------------------------- building blocks
def test_linear_interpolate_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 5, 7))
    v = rng.uniform(0, 1, (7, 3))
    q = np.linspace(-1, 6, 50)
    got = linear_interpolate(t, v, q)
    want = np.stack([np.interp(q, t, v[:, c]) for c in range(3)], axis=1)
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(linear_interpolate(t[:1], v[:1], q), np.repeat(v[:1], 50, 0), atol=1e-7)


def test_turning_points() -> None:
    x = np.array([0.0, 0.5, 1.0, 0.9, 0.95, 0.2, 0.1, 0.6])
    assert turning_points(x, 0.3) == [0, 2, 6, 7]
    assert turning_points(x, 2.0) == []


def test_uniform_knots_even_in_time_and_unique() -> None:
    t = np.concatenate([np.arange(10), np.arange(50, 60)]) / FPS  # a long gap in the middle
    for count in range(2, 21):
        idx = uniform_knots(t, count)
        assert len(np.unique(idx)) == count and idx[0] == 0 and idx[-1] == 19


# ---------------------------------------------------------------------------------------------- real capture
@pytest.mark.shared
def test_real_take_bound_holds(realdata_dir: Path) -> None:
    from keyframeface.io.livelink_csv import read_livelink_csv

    path = realdata_dir / "jmtechart_llf" / "MySlate_3_Jason_Millers_iPhone.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anim = read_livelink_csv(path)
    for method in ("greedy", "dp"):
        keys = extract(anim, max_error=0.1, method=method, source=str(path))
        sel = np.asarray(keys.meta["frame_indices"])
        assert keys.meta["error"]["max_frame_error"] <= 0.1
        assert reconstruction(anim, sel).max() <= 0.1 + 1e-5
        assert len(keys) < anim.num_frames / 4  # a real reduction: 5.5 s at 60 fps
        assert keys.keyframes[0].time_s == 0.0
        assert keys.keyframes[-1].time_s == pytest.approx(anim.duration_s, abs=1e-6)
    few = extract(anim, count=8, method="dp")
    assert len(few) == 8


def test_capture_limit_grows_with_duration_and_refuses_count_early() -> None:
    from keyframeface.extract import MAX_KEYFRAMES_PER_S, capture_keyframe_limit

    assert capture_keyframe_limit(1.0) == MAX_KEYFRAMES
    assert capture_keyframe_limit(600.0) == int(600 * MAX_KEYFRAMES_PER_S)
    anim = smooth_take(3, 60 * 60, noise=0.01)  # 60 s: up to 720 keyframes
    with pytest.raises(ScriptError, match="count=5000 exceeds the 720"):
        extract(anim, count=5000)
