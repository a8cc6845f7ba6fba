"""The contract of every backend, renderer, interpolator and extraction method, run against every registered one.

A new implementation is tested by registering it. Backends that need a model or a server (chat backends) are
skipped here with a reason; their own test files run them against real engines.
"""

from __future__ import annotations

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.animate.interpolate import INTERPOLATORS, interpolate
from keyframeface.backends.registry import BACKENDS, resolve_backend_class
from keyframeface.errors import BackendUnavailableError, FormatError
from keyframeface.extract import select_keyframes
from keyframeface.extract_methods import METHODS
from keyframeface.render.base import RENDERERS, get_renderer
from keyframeface.script import Animation, Script

_SCRIPT = Script.from_dict({
    "background": "A friend tells a joke at dinner.",
    "emotion": "Amusement.",
    "keyframes": [{"description": "A neutral face, eyes forward."},
                  {"description": "A broad smile with raised cheeks; the eyes narrow."}],
})


# ----------------------------------------------------------------------------------------------- backends
@pytest.mark.parametrize("name", BACKENDS.names())
def test_offline_backend_gives_61_values_in_range(name: str) -> None:
    from keyframeface.generate import generate

    try:
        cls = resolve_backend_class(name)
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    if cls.capabilities.chat:
        pytest.skip(f"{name} needs a model or a server (tested against a real engine in its own tests)")
    usable, reason = cls.availability()
    if not usable:
        pytest.skip(f"{name} cannot run here: {reason}")
    keys = generate(_SCRIPT, backend=name, seed=0)
    values = keys.array()
    assert values.shape == (2, rig.NUM_CHANNELS) and values.dtype == np.float32
    assert np.isfinite(values).all()
    assert (values >= rig.LOW - 1e-6).all() and (values <= rig.HIGH + 1e-6).all()
    assert keys.meta["backend"] == name


# ---------------------------------------------------------------------------------------------- renderers
@pytest.mark.parametrize("name", RENDERERS.names())
@pytest.mark.parametrize("size", [32, 96])
def test_renderer_draws_an_rgb_image_of_the_size_asked(name: str, size: int) -> None:
    try:
        renderer = get_renderer(name)
        image = renderer.render(rig.neutral(), size=size)  # some renderers import their packages on first use
    except FormatError as exc:
        pytest.skip(f"the {name} renderer cannot run here: {exc}")
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    smile = rig.neutral()
    smile[rig.CHANNEL_INDEX["MouthSmileLeft"]] = smile[rig.CHANNEL_INDEX["MouthSmileRight"]] = 1.0
    smile[rig.CHANNEL_INDEX["JawOpen"]] = 0.8
    assert not np.array_equal(renderer.render(smile, size=size), image)  # the face follows the values


# ------------------------------------------------------------------------------------------- interpolators
@pytest.mark.parametrize("name", INTERPOLATORS.names())
def test_interpolator_passes_through_the_keys_with_the_stated_shape(name: str) -> None:
    rng = np.random.default_rng(5)
    times = np.array([0.0, 0.4, 1.0, 1.7, 2.0])
    values = rng.uniform(rig.LOW, rig.HIGH, size=(5, rig.NUM_CHANNELS)).astype(np.float32)
    t_out = np.linspace(0.0, 2.0, 121)
    dense = interpolate(times, values, t_out, method=name)
    assert dense.shape == (121, rig.NUM_CHANNELS) and dense.dtype == np.float32
    assert np.isfinite(dense).all()
    at_keys = interpolate(times, values, times, method=name)
    np.testing.assert_allclose(at_keys, values, atol=1e-5)


# ----------------------------------------------------------------------------------------- extract methods
@pytest.mark.parametrize("name", METHODS.names())
@pytest.mark.parametrize("bound", [0.02, 0.1])
def test_extraction_method_honours_the_error_bound(name: str, bound: float) -> None:
    rng = np.random.default_rng(11)
    t = np.arange(240) / 60.0
    freq = rng.uniform(0.2, 1.5, rig.NUM_CHANNELS)
    curves = 0.5 + 0.3 * np.sin(2 * np.pi * freq[None, :] * t[:, None])
    curves[:, rig.NUM_BLENDSHAPES:] -= 0.5
    anim = Animation(np.clip(curves, rig.LOW, rig.HIGH).astype(np.float32), fps=60.0)
    sel = select_keyframes(anim, max_error=bound, method=name)
    assert 2 <= len(sel) <= anim.num_frames
    assert sel.max_frame_error <= bound + 1e-6
    assert (np.diff(sel.indices) > 0).all() and sel.indices[0] == 0 and sel.indices[-1] == anim.num_frames - 1
