"""The main job as one API function (keyframeface.pipeline.run), the CLI over it, and Animation.sample."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import keyframeface
from keyframeface import rig
from keyframeface.cli.main import main
from keyframeface.errors import FormatError, ScriptError
from keyframeface.options import AnimateOptions, GenerateOptions
from keyframeface.pipeline import DEFAULT_FORMATS, RunResult, keyframes_path, run
from keyframeface.script import Animation, Keyframes, load_script

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: The generation time recorded in meta: JSON text, or the same inside glTF / npz bytes.
CREATED = re.compile(rb'"created": ?"[^"]*"|created[^\n]{0,40}\d{4}-\d\d-\d\dT[\d:+]+')


def test_cli_and_api_write_the_same_files(tmp_path: Path) -> None:
    script = EXAMPLES / "bad_news.json"
    assert main(["-q", "animate", str(script), "-o", str(tmp_path / "cli"), "--format", "csv,json,glb,npz",
                 "--fps", "30", "--seed", "3"]) == 0
    result = run(script, output=tmp_path / "api", formats=("csv", "json", "glb", "npz"),
                 generate_options=GenerateOptions(seed=3), animate_options=AnimateOptions(fps=30.0, seed=3))
    cli_files = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert cli_files == sorted(p.name for p in result.written)
    assert cli_files == ["bad_news.csv", "bad_news.glb", "bad_news.json", "bad_news.keyframes.json", "bad_news.npz"]
    for name in cli_files:  # the same bytes, but for the second generation ran in ("created" in meta)
        cli, api = ((tmp_path / side / name).read_bytes() for side in ("cli", "api"))
        assert CREATED.sub(b"", cli) == CREATED.sub(b"", api), name
    assert result.written[0] == keyframes_path(tmp_path / "api", "bad_news")
    assert result.animation is not None and result.animation.fps == 30.0
    assert result.keyframes.times() == result.animation.keyframes.times()  # type: ignore[union-attr]


def test_run_takes_mappings_and_text_and_writes_nothing_without_output() -> None:
    result = run(text="She hears a joke and bursts out laughing.", animate_options={"fps": 24.0, "life": False})
    assert isinstance(result, RunResult) and result.written == ()
    assert result.animation is not None and result.animation.fps == 24.0
    assert all(t is not None for t in result.keyframes.times())
    assert keyframeface.run is run


def test_run_stops_after_generate_and_skips_generation_for_keyframes() -> None:
    script = load_script(EXAMPLES / "smirk.json")
    keys = run(script, stop_after="generate").keyframes
    assert isinstance(keys, Keyframes) and not keys.missing and len(keys) == len(script.keyframes)
    again = run(keys, animate_options={"seed": 1})
    assert again.animation is not None
    np.testing.assert_array_equal(again.animation.frames, keyframeface.animate(keys, seed=1).frames)


def test_run_refuses_bad_requests(tmp_path: Path) -> None:
    script = EXAMPLES / "smirk.json"
    with pytest.raises(ScriptError, match="unknown format"):
        run(script, formats=("csv", "fbx"))
    with pytest.raises(ScriptError, match="not both"):
        run(script, text="a smile")
    with pytest.raises(ScriptError, match="give a script"):
        run()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScriptError, match="not a folder"):
        run(script, output=tmp_path / "file")
    with pytest.raises(ScriptError, match="preview"):
        run(script, preview="avi")
    with pytest.raises(ScriptError, match=r"keyframes to animate|no values"):
        run(Keyframes(keyframes=()))
    assert DEFAULT_FORMATS == ("csv", "json", "glb")


def test_run_reports_progress_by_stage() -> None:
    seen: list[tuple[str, int, int]] = []
    run(EXAMPLES / "smirk.json", stop_after="generate", progress=lambda *a: seen.append(a))
    assert seen[0][0] == "generate" and seen[0][1] == 0
    assert seen[-1][1] == seen[-1][2] == seen[0][2]


# ---------------------------------------------------------------------------------------------- Animation
def _anim(times_s: list[float] | None = None) -> Animation:
    frames = np.zeros((3, rig.NUM_CHANNELS), np.float32)
    frames[:, 0] = [0.0, 1.0, 0.5]
    return Animation(frames=frames, fps=2.0, times_s=None if times_s is None else np.array(times_s))


def test_sample_is_linear_between_frames_and_held_outside() -> None:
    anim = _anim()  # frames at 0, 0.5 and 1.0 s
    assert anim.sample(0.25).shape == (rig.NUM_CHANNELS,)
    assert anim.sample(0.25)[0] == pytest.approx(0.5)
    got = anim.sample([-1.0, 0.0, 0.5, 0.75, 1.0, 9.0])[:, 0]
    np.testing.assert_allclose(got, [0.0, 0.0, 1.0, 0.75, 0.5, 0.5])
    assert anim.sample(np.zeros(0)).shape == (0, rig.NUM_CHANNELS)
    assert anim.sample([0.1]).dtype == np.float32
    # own times (a capture starting at 10 s with a gap): t counts from the first frame
    capture = _anim([10.0, 10.5, 12.5])
    assert capture.sample(1.5)[0] == pytest.approx(0.75)
    single = Animation(frames=np.full((1, rig.NUM_CHANNELS), 0.2, np.float32))
    np.testing.assert_array_equal(single.sample([0.0, 5.0]), np.full((2, rig.NUM_CHANNELS), 0.2, np.float32))
    with pytest.raises(FormatError, match="no frames"):
        Animation(frames=np.zeros((0, rig.NUM_CHANNELS), np.float32)).sample(0.0)


def test_sample_matches_the_video_resampling() -> None:
    from keyframeface.render.video import resample

    keys = run(EXAMPLES / "smirk.json", stop_after="generate").keyframes
    anim = keyframeface.animate(keys)
    t, values = resample(anim, fps=25)
    np.testing.assert_array_equal(anim.sample(t), values)


def test_from_keyframes_places_one_frame_per_keyframe() -> None:
    from keyframeface.convert import keyframes_to_animation

    keys = Keyframes.from_array(np.full((2, rig.NUM_CHANNELS), 0.1, np.float32), times_s=[0.0, 2.0])
    anim = Animation.from_keyframes(keys, fps=30)
    assert anim.num_frames == 2 and anim.fps == 30.0 and anim.frame_times().tolist() == [0.0, 2.0]
    assert anim.meta["source"] == "keyframes" and anim.keyframes is keys
    again = keyframes_to_animation(keys, fps=30)  # the old name still works
    np.testing.assert_array_equal(again.frames, anim.frames)
