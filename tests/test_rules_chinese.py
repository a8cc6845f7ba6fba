"""Chinese descriptions through the rules composer: common actions, intensities, negation, sides, carry-over."""

from __future__ import annotations

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.semantics.composer import compose
from keyframeface.semantics.parse import parse


def v(values: np.ndarray, *names: str) -> float:
    return float(np.mean([values[rig.CHANNEL_INDEX[n]] for n in names]))


@pytest.mark.parametrize(("text", "channels", "at_least"), [
    ("她微笑。", ("MouthSmileLeft", "MouthSmileRight"), 0.3),
    ("他开怀大笑。", ("MouthSmileLeft", "JawOpen"), 0.3),
    ("她皱眉。", ("BrowDownLeft", "BrowDownRight"), 0.3),
    ("他挑眉。", ("BrowOuterUpLeft", "BrowOuterUpRight"), 0.3),
    ("她眨眼。", ("EyeBlinkLeft", "EyeBlinkRight"), 0.9),
    ("他闭上眼睛。", ("EyeBlinkLeft", "EyeBlinkRight"), 0.9),
    ("她睁大眼睛。", ("EyeWideLeft", "EyeWideRight"), 0.2),
    ("他张嘴。", ("JawOpen",), 0.3),
    ("她撅嘴。", ("MouthShrugLower", "MouthPucker"), 0.2),
    ("他咬紧牙关。", ("MouthPressLeft", "MouthPressRight"), 0.25),
    ("她抿嘴。", ("MouthPressLeft", "MouthPressRight"), 0.3),
    ("他低头。", ("HeadPitch",), 0.1),
    ("她向下看。", ("EyeLookDownLeft", "EyeLookDownRight"), 0.25),
    ("他鼓起腮帮子。", ("CheekPuff",), 0.4),
    ("她吐舌头。", ("TongueOut",), 0.4),
])
def test_common_actions(text: str, channels: tuple[str, ...], at_least: float) -> None:
    assert v(compose(text).values, *channels) >= at_least


def test_head_up_and_gaze_left() -> None:
    i = rig.CHANNEL_INDEX
    assert compose("他抬头。").values[i["HeadPitch"]] < -0.1
    vals = compose("她向左看。").values
    assert vals[i["LeftEyeYaw"]] < -0.1 and vals[i["EyeLookOutLeft"]] > 0.2


def test_sides() -> None:
    i = rig.CHANNEL_INDEX
    for text in ("左眼眨了一下", "她眨了一下左眼", "她闭上左眼"):
        vals = compose(text).values
        assert vals[i["EyeBlinkLeft"]] - vals[i["EyeBlinkRight"]] >= 0.5, text
    right = compose("他右眼眨了一下。").values
    assert right[i["EyeBlinkRight"]] - right[i["EyeBlinkLeft"]] >= 0.5
    assert compose("他向右转头。").values[i["HeadYaw"]] > 0.05


def test_intensities() -> None:
    slight = v(compose("她轻微地皱眉。").values, "BrowDownLeft")
    plain = v(compose("她皱眉。").values, "BrowDownLeft")
    strong = v(compose("她非常用力地皱眉。").values, "BrowDownLeft")
    assert slight < plain < strong
    assert v(compose("她稍微张开嘴。").values, "JawOpen") < v(compose("她把嘴张得很大。").values, "JawOpen")


def test_negation_and_stop() -> None:
    assert v(compose("他没有笑。", emotion="开心").values, "MouthSmileLeft", "MouthSmileRight") == 0.0
    assert v(compose("她不笑。").values, "MouthSmileLeft") == 0.0
    prev = compose("她皱眉。").values
    assert v(compose("她不再皱眉。", previous=prev).values, "BrowDownLeft", "BrowDownRight") == 0.0
    # emotion words starting with 不 are not negations
    assert [m.name for m in parse("他很不满。")] == ["anger"]


def test_carry_over_and_fading() -> None:
    prev = compose("他开心地微笑。").values
    kept = compose("他仍然微笑着，向右转头。", previous=prev).values
    assert v(kept, "MouthSmileLeft") == pytest.approx(v(prev, "MouthSmileLeft"), abs=0.02)
    faded = compose("她的笑容渐渐消失了。", previous=prev).values
    assert v(faded, "MouthSmileLeft") < 0.1


def test_emotions_and_mixed_text() -> None:
    fear = compose("她看起来非常害怕。").values
    assert v(fear, "EyeWideLeft") > 0.2 and fear[rig.CHANNEL_INDEX["BrowInnerUp"]] > 0.3
    mixed = compose("She smiles and 眨左眼.").values
    assert v(mixed, "MouthSmileLeft") > 0.3
    assert mixed[rig.CHANNEL_INDEX["EyeBlinkLeft"]] > 0.9 > mixed[rig.CHANNEL_INDEX["EyeBlinkRight"]]


def test_chinese_explanation_keeps_the_original_phrase() -> None:
    records = compose("她轻轻地笑了一下。").explanation
    smile = next(r for r in records if "smile" in r["rule"])
    assert "笑" in smile["phrase"] and "轻轻" in smile["rule"]
