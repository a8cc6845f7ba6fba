"""Interpolation: every method, range safety, pass-through, holds, no ringing, any fps, offsets, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.animate.interpolate import (
    DEFAULT_METHOD,
    Interpolator,
    expand_holds,
    get_interpolator,
    interpolate,
    interpolators,
    register_interpolator,
)
from keyframeface.errors import ScriptError

METHODS = ("step", "linear", "cubic", "pchip", "akima")
BOUNDED = ("step", "linear", "cubic", "pchip")
FAST = settings(max_examples=40, deadline=None)


def random_keyframes(seed: int, k: int, *, repeats: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """K keyframes of all 61 channels inside the rig's ranges, with extremes and repeated poses mixed in."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(0.02, 2.0, k)) - 0.01
    u = rng.uniform(0.0, 1.0, (k, rig.NUM_CHANNELS))
    snap = rng.uniform(size=u.shape)
    u = np.where(snap < 0.15, 0.0, np.where(snap > 0.85, 1.0, u))  # many values exactly at the bounds
    values = rig.LOW + (rig.HIGH - rig.LOW) * u
    if repeats and k > 1:
        dup = rng.uniform(size=k - 1) < 0.3
        for i in np.flatnonzero(dup):
            values[i + 1] = values[i]
    return times, values.astype(np.float32)


def test_registry_lists_methods_and_default_is_pchip() -> None:
    assert set(METHODS) <= set(interpolators())
    assert DEFAULT_METHOD == "pchip"
    with pytest.raises(ScriptError, match="pchip"):
        get_interpolator("bezier")
    with pytest.raises(ScriptError, match="unknown interpolation method"):
        interpolate(np.array([0.0]), np.zeros((1, 2)), np.array([0.0]), method="nope")


def test_register_custom_method() -> None:
    register_interpolator(Interpolator("zero_slope", "hermite", "test", lambda x, y: np.zeros_like(y)))
    x, y = np.array([0.0, 1.0]), np.array([[0.0], [1.0]])
    out = interpolate(x, y, np.array([0.0, 0.5, 1.0]), method="zero_slope")
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 1.0], atol=1e-7)
    with pytest.raises(ValueError):
        register_interpolator(Interpolator("bad", "hermite", "no tangents"))


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 9), method=st.sampled_from(METHODS))
def test_every_method_stays_in_range(seed: int, k: int, method: str) -> None:
    times, values = random_keyframes(seed, k)
    t_out = np.linspace(times[0] - 1.0, times[-1] + 1.0, 997)
    out = interpolate(times, values, t_out, method=method)
    assert out.dtype == np.float32 and out.shape == (997, rig.NUM_CHANNELS)
    assert (out >= rig.LOW).all() and (out <= rig.HIGH).all()


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 9), method=st.sampled_from(METHODS))
def test_passes_through_every_keyframe(seed: int, k: int, method: str) -> None:
    times, values = random_keyframes(seed, k)
    out = interpolate(times, values, times, method=method)
    np.testing.assert_array_equal(out, values)


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 9), method=st.sampled_from(BOUNDED))
def test_bounded_methods_never_overshoot_neighbouring_keyframes(seed: int, k: int, method: str) -> None:
    times, values = random_keyframes(seed, k)
    t_out = np.linspace(times[0], times[-1], 2001)
    out = interpolate(times, values, t_out, method=method)
    seg = np.clip(np.searchsorted(times, t_out, side="right") - 1, 0, k - 2)
    lo = np.minimum(values[seg], values[seg + 1])
    hi = np.maximum(values[seg], values[seg + 1])
    assert (out >= lo).all() and (out <= hi).all()


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(3, 9), method=st.sampled_from(METHODS))
def test_equal_keyframes_give_a_flat_segment(seed: int, k: int, method: str) -> None:
    times, values = random_keyframes(seed, k, repeats=False)
    i = k // 2
    values[i] = values[i - 1]  # segment i-1 .. i is a repeated pose
    t_out = np.linspace(times[i - 1], times[i], 101)
    out = interpolate(times, values, t_out, method=method)
    np.testing.assert_array_equal(out, np.broadcast_to(values[i - 1], out.shape))


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 7), method=st.sampled_from(METHODS))
def test_holds_are_flat(seed: int, k: int, method: str) -> None:
    times, values = random_keyframes(seed, k, repeats=False)
    gaps = np.diff(times, append=times[-1] + 1.0)
    holds = gaps * np.random.default_rng(seed).uniform(0.1, 0.8, k)
    kt, kv = expand_holds(times, values, holds)
    assert kt.shape[0] == 2 * k and (np.diff(kt) > 0).all()
    for i in range(k):
        t_out = np.linspace(times[i], times[i] + holds[i], 33)
        out = interpolate(kt, kv, t_out, method=method)
        np.testing.assert_array_equal(out, np.broadcast_to(values[i], out.shape))


def test_expand_holds_zero_hold_adds_no_knot_and_rejects_overlong_holds() -> None:
    t, _ = expand_holds(np.array([0.0, 1.0]), np.array([[0.0], [1.0]]), np.array([0.0, 0.5]))
    np.testing.assert_array_equal(t, [0.0, 1.0, 1.5])
    with pytest.raises(ScriptError, match="hold must end before"):
        expand_holds(np.array([0.0, 1.0]), np.array([[0.0], [1.0]]), np.array([1.0, 0.0]))
    with pytest.raises(ScriptError):
        expand_holds(np.array([0.0, 1.0]), np.array([[0.0], [1.0]]), np.array([-0.1, 0.0]))


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 9))
def test_pchip_is_monotone_on_monotone_data(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(0.05, 1.0, k))
    values = np.sort(rng.uniform(0, 1, (k, 5)), axis=0)
    out = interpolate(times, values, np.linspace(times[0], times[-1], 500))
    assert (np.diff(out, axis=0) >= -1e-7).all()


def test_pchip_and_akima_match_scipy() -> None:
    interp = pytest.importorskip("scipy.interpolate")
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.1, 1.0, 9))
    values = rng.uniform(0, 1, (9, 7))
    t_out = np.linspace(times[0], times[-1], 777)
    pchip = interp.PchipInterpolator(times, values)(t_out)
    np.testing.assert_allclose(interpolate(times, values, t_out, method="pchip"), pchip, atol=2e-6)
    try:
        makima = interp.Akima1DInterpolator(times, values, method="makima")(t_out)
    except TypeError:
        pytest.skip("this SciPy has no makima")
    expected = np.clip(makima, values.min(axis=0), values.max(axis=0))  # our documented clip to the data
    np.testing.assert_allclose(interpolate(times, values, t_out, method="akima"), expected, atol=2e-6)


def test_cubic_is_smoothstep_and_linear_is_linear() -> None:
    times, values = np.array([0.0, 2.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    s = np.linspace(0, 1, 11)
    cubic = interpolate(times, values, 2.0 * s, method="cubic")
    np.testing.assert_allclose(cubic[:, 0], s * s * (3 - 2 * s), atol=1e-6)
    np.testing.assert_allclose(cubic[:, 1], 1 - s * s * (3 - 2 * s), atol=1e-6)
    np.testing.assert_allclose(interpolate(times, values, 2.0 * s, method="linear")[:, 0], s, atol=1e-6)
    step = interpolate(times, values, np.array([-1.0, 0.0, 1.999, 2.0, 5.0]), method="step")
    np.testing.assert_array_equal(step[:, 0], [0, 0, 0, 1, 1])


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 23.976, 30.0, 50.0, 60.0, 120.0])
def test_any_fps(fps: float) -> None:
    times = np.array([0.0, 1.0, 2.5, 4.0])
    values = np.array([[0.0], [1.0], [0.25], [0.25]])
    t_out = np.arange(int(4.0 * fps) + 1) / fps
    out = interpolate(times, values, t_out)
    assert out.shape == (t_out.shape[0], 1)
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1).all()
    assert out[0, 0] == 0.0
    # frames closest to each keyframe are close to its value (the curve is continuous, the slope bounded)
    for tk, vk in zip(times, values[:, 0], strict=True):
        j = int(np.argmin(np.abs(t_out - tk)))
        assert abs(out[j, 0] - vk) < 3.5 / fps


def test_outside_the_keyframes_holds_the_ends_and_single_keyframe_is_constant() -> None:
    out = interpolate(np.array([1.0, 2.0]), np.array([[0.2], [0.8]]), np.array([-5.0, 0.5, 2.5, 100.0]))
    np.testing.assert_allclose(out[:, 0], [0.2, 0.2, 0.8, 0.8], atol=1e-7)
    one = interpolate(np.array([3.0]), np.array([[0.4, -0.5]]), np.linspace(0, 10, 7))
    np.testing.assert_array_equal(one, np.tile(np.array([0.4, -0.5], dtype=np.float32), (7, 1)))
    assert interpolate(np.array([0.0, 1.0]), np.zeros((2, 3)), np.array([])).shape == (0, 3)


def test_long_output_is_evaluated_blockwise_consistently() -> None:
    times, values = random_keyframes(5, 40)
    t_out = np.linspace(0, times[-1], 100_003)  # more than one evaluation block
    out = interpolate(times, values, t_out)
    pick = np.arange(0, t_out.shape[0], 997)
    np.testing.assert_array_equal(out[pick], interpolate(times, values, t_out[pick]))


@FAST
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(METHODS))
def test_offsets_shift_each_channel_in_time(seed: int, method: str) -> None:
    times, values = random_keyframes(seed, 5)
    offsets = np.zeros(rig.NUM_CHANNELS)
    offsets[:10] = -0.08
    offsets[-3:] = 0.06
    t_out = np.linspace(-1, times[-1] + 1, 301)
    out = interpolate(times, values, t_out, method=method, offsets_s=offsets)
    for off in (-0.08, 0.0, 0.06):
        cols = offsets == off
        np.testing.assert_array_equal(
            out[:, cols], interpolate(times, values, t_out - off, method=method)[:, cols]
        )
    # pass-through per channel at the shifted time
    at = interpolate(times, values, times - 0.08, method=method, offsets_s=offsets)
    np.testing.assert_allclose(at[:, :10], values[:, :10], atol=1e-6)  # (t - 0.08) + 0.08 rounds


def test_bad_inputs_raise_script_error() -> None:
    v = np.zeros((3, 2))
    with pytest.raises(ScriptError, match="strictly increase"):
        interpolate(np.array([0.0, 1.0, 1.0]), v, np.array([0.5]))
    with pytest.raises(ScriptError, match="shape"):
        interpolate(np.array([0.0, 1.0]), v, np.array([0.5]))
    with pytest.raises(ScriptError, match="finite"):
        interpolate(np.array([0.0, 1.0, 2.0]), np.full((3, 2), np.nan), np.array([0.5]))
    with pytest.raises(ScriptError, match="K >= 1"):
        interpolate(np.array([]), np.zeros((0, 2)), np.array([0.5]))
    with pytest.raises(ScriptError, match="offsets_s"):
        interpolate(np.array([0.0, 1.0, 2.0]), v, np.array([0.5]), offsets_s=np.zeros(5))
