"""Couplings of real faces the composer applies last: lids follow vertical gaze, MouthClose <= JawOpen."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.rules import RulesBackend
from keyframeface.evaluate.semantic_checks import load_cases
from keyframeface.script import Script
from keyframeface.semantics.composer import compose
from keyframeface.semantics.couplings import (
    LID_GAZE,
    MOUTH_CLOSE_GIVEN_JAW,
    couple_lids,
    couple_mouth_close,
    lid_offsets,
    typical_mouth_close,
    uncouple_lids,
)

IDX = rig.CHANNEL_INDEX
ROOT = Path(__file__).resolve().parents[1]


def ch(values: np.ndarray, name: str) -> float:
    return float(values[IDX[name]])


def pitch(values: np.ndarray) -> float:
    """Mean eye pitch (+ = down) of composed values."""
    return (ch(values, "LeftEyePitch") + ch(values, "RightEyePitch")) / 2.0


def looking(down: float = 0.0, up: float = 0.0) -> np.ndarray:
    v = np.zeros(rig.NUM_CHANNELS, dtype=np.float32)
    for side in ("Left", "Right"):
        v[IDX[f"EyeLookDown{side}"]] = down
        v[IDX[f"EyeLookUp{side}"]] = up
    return rig.sync_eye_rotations(v)


# ------------------------------------------------------------------------------------------------ the functions
def test_lid_offsets_follow_the_fitted_slopes() -> None:
    assert all(o == 0.0 for o in lid_offsets(looking()).values())
    down = looking(down=0.5)
    p = pitch(down)
    assert p > 0
    offsets = lid_offsets(down)
    assert offsets["EyeBlinkLeft"] == pytest.approx(LID_GAZE["EyeBlink"][0] * p, abs=1e-5)
    assert offsets["EyeWideLeft"] == offsets["EyeSquintLeft"] == 0.0
    up = lid_offsets(looking(up=0.5))
    assert up["EyeBlinkRight"] == 0.0
    assert up["EyeWideRight"] == pytest.approx(LID_GAZE["EyeWide"][1] * -pitch(looking(up=0.5)), abs=1e-5)
    assert up["EyeSquintRight"] > 0


def test_couple_then_uncouple_gives_the_lids_back_and_stays_in_range() -> None:
    v = looking(down=0.6)
    v[IDX["EyeWideLeft"]] = 0.3
    coupled, changed = couple_lids(v)
    assert set(changed) == {"EyeBlinkLeft", "EyeBlinkRight"}
    np.testing.assert_allclose(uncouple_lids(coupled), v, atol=1e-6)
    shut = looking(up=1.0)
    shut[IDX["EyeBlinkLeft"]] = 0.9
    out, _ = couple_lids(shut, sides=("Left",))
    assert ch(out, "EyeWideLeft") <= 1.0 - 0.9 + 1e-6  # a closing lid is not wide
    assert ch(out, "EyeWideRight") == 0.0  # the right side was not asked for
    assert np.all(out[: rig.NUM_BLENDSHAPES] <= 1.0) and np.all(out[: rig.NUM_BLENDSHAPES] >= 0.0)


def test_mouth_close_is_limited_to_the_jaw_and_filled_from_the_captures() -> None:
    v = np.zeros(rig.NUM_CHANNELS, dtype=np.float32)
    v[IDX["MouthClose"]] = 0.2
    out, new = couple_mouth_close(v)
    assert new == 0.0 and ch(out, "MouthClose") == 0.0
    v[IDX["JawOpen"]] = 0.341
    out, new = couple_mouth_close(v)
    assert new is None  # 0.2 is above the median (0.153) and below the jaw: kept
    v[IDX["MouthClose"]] = 0.0
    assert couple_mouth_close(v)[1] == pytest.approx(0.153)
    assert couple_mouth_close(v, fill=False)[1] is None
    jaws = np.linspace(0.0, 1.0, 101)
    typical = np.array([typical_mouth_close(j) for j in jaws])
    assert np.all(typical <= jaws + 1e-9) and np.all(typical >= 0.0)
    assert typical_mouth_close(1.0) == pytest.approx(MOUTH_CLOSE_GIVEN_JAW[-1][1])


# ------------------------------------------------------------------------------------------------ in the composer
def test_lids_follow_the_composed_gaze() -> None:
    down, up, ahead = compose("She looks down.").values, compose("She looks up.").values, compose("She smiles.").values
    assert pitch(down) > 0.1 and pitch(up) < -0.1
    assert ch(down, "EyeBlinkLeft") == pytest.approx(LID_GAZE["EyeBlink"][0] * pitch(down), abs=0.002)
    assert ch(down, "EyeWideLeft") == 0.0
    assert ch(up, "EyeWideLeft") == pytest.approx(LID_GAZE["EyeWide"][1] * -pitch(up), abs=0.002)
    assert ch(up, "EyeBlinkLeft") == 0.0
    assert ch(ahead, "EyeBlinkLeft") == ch(ahead, "EyeWideLeft") == 0.0
    assert any("lids follow the vertical gaze" in r["rule"] for r in compose("She looks down.").explanation)
    # a neutral face resets the face but says nothing about the lids: they still follow the gaze
    assert ch(compose("A neutral face, looking down.").values, "EyeBlinkLeft") > 0.1


@pytest.mark.parametrize(("description", "channel", "expected"), [
    ("She closes her eyes and looks down.", "EyeBlinkLeft", 1.0),
    ("Her eyes go wide as she looks down.", "EyeBlinkLeft", 0.0),
    ("She squints, looking up.", "EyeWideLeft", 0.0),
    ("Eyes open, looking down.", "EyeBlinkLeft", 0.0),
    ("EyeBlinkLeft 0.05, looking down.", "EyeBlinkLeft", 0.05),
])
def test_lids_the_description_sets_win(description: str, channel: str, expected: float) -> None:
    values = compose(description).values
    assert pitch(values) != 0.0
    assert ch(values, channel) == pytest.approx(expected, abs=1e-3)


def test_a_wink_keeps_its_side() -> None:
    values = compose("He winks with his left eye, looking down.").values
    assert ch(values, "EyeBlinkLeft") == 1.0
    assert ch(values, "EyeBlinkRight") < 0.5


def test_carried_lids_are_not_coupled_twice() -> None:
    descriptions = ["She looks down.", "She is still looking down.", "Same expression.", "She keeps looking down.",
                    "She looks straight ahead."]
    s = Script.from_dict({"keyframes": [{"description": d} for d in descriptions]})
    backend, prev, blinks = RulesBackend(), None, []
    for i in range(len(descriptions)):
        prev = backend.generate_values(s, i, previous=prev, options=GenerationOptions()).values
        blinks.append(ch(prev, "EyeBlinkLeft"))
    first = blinks[0]
    assert first > 0.1
    assert blinks[1:4] == pytest.approx([first] * 3, abs=0.01)  # held gaze, held lids: never growing
    assert blinks[4] < 0.05  # the gaze comes back, the lids with it


def test_pressed_lips_keep_press_and_roll_not_mouth_close() -> None:
    values = compose("He presses his lips together.").values
    assert ch(values, "JawOpen") == 0.0 and ch(values, "MouthClose") == 0.0
    assert ch(values, "MouthPressLeft") > 0.3
    parted = compose("Her lips part.").values
    assert ch(parted, "JawOpen") > 0 and ch(parted, "MouthClose") == 0.0  # described: the lips are apart
    assert any("MouthClose" in r["channels"] and "coupling" in r["rule"]
               for r in compose("He presses his lips together.").explanation)


def test_no_composed_keyframe_has_mouth_close_above_the_jaw() -> None:
    """Every keyframe of two packaged semantic case sets, composed in order with its previous keyframe."""
    backend, opts, seen = RulesBackend(), GenerationOptions(), 0
    for case in load_cases("dev,eval"):
        prev = None
        for i in range(len(case.script.keyframes)):
            prev = backend.generate_values(case.script, i, previous=prev, options=opts).values
            assert ch(prev, "MouthClose") <= ch(prev, "JawOpen") + 1e-6, (case.id, i)
            seen += 1
    assert seen > 300


# ------------------------------------------------------------------------------------------------ the fit
def test_shipped_constants_are_what_the_fit_measures(realdata_dir: Path) -> None:
    """`benchmarks/fit_couplings.py` on ../shared/realdata reproduces the constants in semantics/couplings.py."""
    spec = importlib.util.spec_from_file_location("fit_couplings", ROOT / "benchmarks" / "fit_couplings.py")
    assert spec is not None and spec.loader is not None
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    from keyframeface.evaluate.motion.signals import load_real_takes

    takes = load_real_takes(realdata_dir)
    lids = fit.fit_lid_gaze(takes)
    for name, (down, up) in LID_GAZE.items():
        for shipped, measured in ((down, lids[name]["down"]), (up, lids[name]["up"])):
            # slopes under 0.15 in magnitude ship as 0 (module docstring)
            assert shipped == pytest.approx(measured if abs(measured) >= 0.15 else 0.0, abs=0.01), name
    jaw = fit.fit_jaw_close(takes)
    assert jaw["share_close_above_jaw_0.02"] <= 0.02
    knots = [(b["median_jaw"], b["median_close"]) for b in jaw["median_ratio_by_jaw"]]
    assert knots[1:] == [pytest.approx(k, abs=1e-3) for k in MOUTH_CLOSE_GIVEN_JAW[2:]]
