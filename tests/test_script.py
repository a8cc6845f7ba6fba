"""Scripts, keyframes and animations: validation that names the field, JSON round trips, atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import FormatError, ScriptError
from keyframeface.script import (
    MAX_DESCRIPTION_CHARS,
    MAX_KEYFRAMES,
    Animation,
    Keyframe,
    Keyframes,
    Script,
    load_document,
    load_keyframes,
    load_script,
    save_json,
)

SCRIPT = {
    "background": "A student waits outside an interview room and tries to hide their anxiety.",
    "emotion": "Anxiety concealed by a restrained smile.",
    "keyframes": [
        {"description": "The gaze is lowered, the inner brows lift slightly.", "time_s": 0.0},
        {"description": "The gaze rises and both mouth corners form a small restrained smile.", "time_s": 1.5},
    ],
}


def test_script_round_trip(tmp_path: Path) -> None:
    s = Script.from_dict(SCRIPT)
    assert len(s.keyframes) == 2 and s.keyframes[1].time_s == 1.5
    save_json(s, tmp_path / "s.json")
    assert load_script(tmp_path / "s.json") == s


def test_text_only_script() -> None:
    s = Script.from_dict({"text": "She hears good news."})
    assert s.needs_planning


def test_yaml_script(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    p = tmp_path / "s.yaml"
    p.write_text("emotion: joy\nkeyframes:\n  - description: a big smile\n")
    assert load_script(p).keyframes[0].description == "a big smile"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"keyframes": []}, "keyframes", "at least one keyframe"),
        ({"keyframes": [{"description": ""}]}, "keyframes[0].description", "must not be empty"),
        ({"keyframes": [{}]}, "keyframes[0].description", "must not be empty"),
        ({"keyframes": [{"description": 3}]}, "keyframes[0].description", "expected a string"),
        ({"keyframes": "smile"}, "keyframes", "expected a list"),
        ({"keyframes": [{"description": "a", "time_s": "soon"}]}, "keyframes[0].time_s", "number of seconds"),
        ({"keyframes": [{"description": "a", "time_s": -1}]}, "keyframes[0].time_s", "expected seconds"),
        ({"keyframes": [{"description": "a", "time_s": 2}, {"description": "b", "time_s": 1}]},
         "keyframes[1].time_s", "must increase"),
        ({"keyframes": [{"description": "a", "colour": "red"}]}, "keyframes[0]", "unknown field"),
        ({"keyframes": [{"description": "a", "values": {"EyeBlinkLeft": 2.0}}]},
         "keyframes[0].values.EyeBlinkLeft", "outside"),
        ({"keyframes": [{"description": "a", "values": {"Nope": 0.1}}]}, "keyframes[0].values", "unknown channel"),
        ({"keyframes": [{"description": "a", "values": {"JawOpen": "x"}}]}, "keyframes[0].values.JawOpen", "number"),
        ({"keyframes": [{"description": "x" * (MAX_DESCRIPTION_CHARS + 1)}]}, "keyframes[0].description", "limit"),
        ({"keyframes": [{"description": "a"}] * (MAX_KEYFRAMES + 1)}, "keyframes", "limit"),
        ({"keyframes": [{"description": "a\x00b"}]}, "keyframes[0].description", "NUL"),
        ({"background": ["x"], "keyframes": [{"description": "a"}]}, "background", "expected a string"),
        ({"bogus": 1, "keyframes": [{"description": "a"}]}, None, "unknown field"),
        ([1, 2], "script", "expected an object"),
    ],
)
def test_validation_names_field(data: object, field: str | None, message: str) -> None:
    with pytest.raises(ScriptError, match=message) as info:
        Script.from_dict(data)
    if field:
        assert info.value.field == field
        assert str(info.value).startswith(field)


def test_values_nan_rejected() -> None:
    with pytest.raises(ScriptError, match="finite"):
        Keyframe().with_values([float("nan")] + [0.0] * 60)


def test_keyframes_round_trip(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).uniform(0, 1, (3, 61)).astype(np.float32)
    arr[:, 52:] -= 0.5
    keys = Keyframes.from_array(arr, times_s=[0, 1, 2.5], descriptions=["a", "b", "c"], meta={"backend": "x"})
    save_json(keys, tmp_path / "k.json")
    back = load_keyframes(tmp_path / "k.json")
    np.testing.assert_allclose(back.array(), arr, atol=1e-4)
    assert back.meta["backend"] == "x" and back.times() == [0, 1, 2.5]
    assert isinstance(load_document(tmp_path / "k.json"), Keyframes)
    # a keyframes file is accepted as a script too
    assert [k.description for k in load_script(tmp_path / "k.json").keyframes] == ["a", "b", "c"]


def test_keyframes_missing_values() -> None:
    keys = Keyframes(keyframes=(Keyframe("a", values=tuple([0.0] * 61)), Keyframe("b")))
    assert keys.missing == [1]
    with pytest.raises(ScriptError, match="no values"):
        keys.array()


def test_keyframes_format_checked() -> None:
    with pytest.raises(ScriptError, match="format"):
        Keyframes.from_dict({"format": "other", "keyframes": []})
    with pytest.raises(ScriptError, match="version"):
        Keyframes.from_dict({"format": "keyframeface.keyframes", "version": 99, "keyframes": []})


def test_animation_round_trip(tmp_path: Path) -> None:
    frames = np.zeros((5, 61), dtype=np.float32)
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = np.linspace(0, 1, 5)
    anim = Animation(frames, fps=29.97, meta={"x": 1})
    save_json(anim, tmp_path / "a.json")
    back = load_document(tmp_path / "a.json")
    assert isinstance(back, Animation)
    np.testing.assert_allclose(back.frames, frames, atol=1e-5)
    assert back.fps == pytest.approx(29.97)
    assert back.duration_s == pytest.approx(4 / 29.97)


def test_animation_validation() -> None:
    with pytest.raises(ScriptError):
        Animation(np.zeros((5, 60)))
    with pytest.raises(ScriptError, match="fps"):
        Animation(np.zeros((5, 61)), fps=0)
    with pytest.raises(ScriptError):
        Animation.from_dict({"format": "keyframeface.animation", "version": 1, "fps": 30,
                             "channels": ["JawOpen"], "frames": [[0.1, 0.2]]})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"keyframes": [{"description": "a", "time_s": NaN}]}', "NaN"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "JSON|deep"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises((FormatError, ScriptError), match=message):
        load_script(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read"):
        load_script(tmp_path / "absent.json")


def test_bom_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(SCRIPT).encode())
    assert len(load_script(p).keyframes) == 2


def test_save_is_atomic(tmp_path: Path) -> None:
    p = tmp_path / "k.json"
    p.write_text("previous")

    class Boom:
        def to_dict(self) -> dict:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        save_json(Boom(), p)  # type: ignore[arg-type]
    assert p.read_text() == "previous"
    assert [x.name for x in tmp_path.iterdir()] == ["k.json"]
