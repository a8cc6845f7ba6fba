"""keyframeface eval motion: every statistic on synthetic signals with known answers, the report, the CLI."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.evaluate.motion import events as E
from keyframeface.evaluate.motion import stats as S
from keyframeface.evaluate.motion.frechet import motion_frechet
from keyframeface.evaluate.motion.report import load_motion_scripts, motion_report
from keyframeface.evaluate.motion.signals import MotionTake, take_from_animation
from keyframeface.script import Animation

FPS = 60.0
CI = rig.CHANNEL_INDEX


def make_take(seconds: float, *, name: str = "t", seed: int = 0, noise: float = 0.0) -> tuple[np.ndarray, int]:
    n = round(seconds * FPS)
    values = np.zeros((n, rig.NUM_CHANNELS))
    if noise:
        values[:, : rig.NUM_BLENDSHAPES] = 0.2 + np.random.default_rng(seed).normal(0, noise, (n, rig.NUM_BLENDSHAPES))
    return values, n


def take(values: np.ndarray, name: str = "t") -> MotionTake:
    return MotionTake(name, values, np.ones(len(values), bool))


def smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return 3 * u**2 - 2 * u**3


def raised_cosine_blink(values: np.ndarray, at_s: float, duration_s: float, peak: float = 1.0) -> None:
    t = np.arange(len(values)) / FPS
    u = (t - at_s) / duration_s
    b = np.where((u >= 0) & (u <= 1), peak * (0.5 - 0.5 * np.cos(2 * np.pi * u)), 0.0)
    for c in E.BLINK_CHANNELS:
        values[:, CI[c]] = np.maximum(values[:, CI[c]], b)


# ------------------------------------------------------------------------------------------------- frozen
def test_frozen_share_counts_only_runs_of_half_a_second() -> None:
    values, n = make_take(4.0, noise=0.01)
    values[60:120, : rig.NUM_BLENDSHAPES] = values[60, : rig.NUM_BLENDSHAPES]  # 60 equal frames (~1 s)
    values[180:190, : rig.NUM_BLENDSHAPES] = values[180, : rig.NUM_BLENDSHAPES]  # 1/6 s frozen: too short to count
    got = S.frozen_share([take(values)])
    assert got.value == pytest.approx(100.0 * 60 / n)
    # eye channels moving do not unfreeze the face
    values[60:120, CI["EyeBlinkLeft"]] = np.linspace(0, 1, 60)
    assert S.frozen_share([take(values)]).value == pytest.approx(100.0 * 60 / n)


def test_frozen_share_ignores_tracking_loss() -> None:
    values, n = make_take(4.0, noise=0.01)
    values[60:180] = values[60]  # held by the reader during tracking loss
    valid = np.ones(n, bool)
    valid[61:180] = False
    assert S.frozen_share([MotionTake("t", values, valid)]).value == 0.0


# ------------------------------------------------------------------------------------------------- onsets
def test_onset_of_a_smoothstep_has_the_known_rise_time_and_profile() -> None:
    values, n = make_take(3.0)
    t = np.arange(n) / FPS
    values[:, CI["MouthSmileLeft"]] = 0.5 * smoothstep((t - 1.0) / 0.5)
    tk = take(values)
    (m,) = E.movements(tk, "MouthSmileLeft")
    # smoothstep 3u^2 - 2u^3 passes 10 % at u = 0.1958 and 90 % at u = 0.8042: 0.6084 of its length
    assert m.rise_s == pytest.approx(0.6084 * 0.5, abs=0.004)
    # peak speed 1.5 A / R; mean speed of the 10-90 % span 0.8 A / (0.6084 R): ratio 1.141
    assert m.velocity_ratio == pytest.approx(1.141, abs=0.03)
    assert m.peak_share == pytest.approx(0.5, abs=0.06)
    assert m.overshoot == pytest.approx(0.0, abs=1e-9)
    assert S.onset_time([tk], channels=S.SMILE).value == pytest.approx(304, abs=4)
    assert S.onset_time([tk]).n == 1


def test_overshoot_of_a_held_onset() -> None:
    values, n = make_take(3.0)
    t = np.arange(n) / FPS
    rise = 0.55 * smoothstep((t - 1.0) / 0.2)  # up to 0.55, then back down to 0.5 within 0.1 s and held
    settle = 0.05 * smoothstep((t - 1.2) / 0.1)
    values[:, CI["BrowInnerUp"]] = rise - settle
    (m,) = E.movements(take(values), "BrowInnerUp")
    assert m.overshoot == pytest.approx(0.05 / 0.55, abs=0.01)
    assert S.overshoot([take(values)]).value == pytest.approx(100 * 0.05 / 0.55, abs=1.0)
    assert S.overshoot_share([take(values)]).value == 100.0


def test_falling_movements_are_not_onsets() -> None:
    values, n = make_take(3.0)
    t = np.arange(n) / FPS
    values[:, CI["JawOpen"]] = 0.5 - 0.5 * smoothstep((t - 1.0) / 0.5)
    assert E.movements(take(values), "JawOpen") == ()
    assert len(E.movements(take(values), "JawOpen", rising_only=False)) == 1
    assert math.isnan(S.onset_time([take(values)]).value)


def test_zigzag_ignores_reversals_below_the_threshold() -> None:
    x = np.array([0.0, 0.2, 0.19, 0.4, 0.1, 0.3])
    assert E.zigzag_pivots(x, 0.05) == [0, 3, 4, 5]
    assert E.zigzag_pivots(np.zeros(5), 0.05) == []


# ------------------------------------------------------------------------------------------------- gaze
def test_gaze_shift_of_a_linear_ramp() -> None:
    values, n = make_take(2.0)
    t = np.arange(n) / FPS
    yaw = 0.2 * np.clip((t - 1.0) / 0.1, 0, 1)  # 0.2 in 100 ms: 2 units/s
    for c in ("LeftEyeYaw", "RightEyeYaw"):
        values[:, CI[c]] = yaw
    tk = take(values)
    (s,) = E.gaze_shifts(tk)
    assert s.amplitude == pytest.approx(0.2, abs=1e-6)
    assert s.peak_velocity == pytest.approx(2.0, rel=0.01)
    assert s.duration_s == pytest.approx(0.1, abs=1 / FPS + 1e-9)
    assert S.gaze_shift_velocity([tk]).value == pytest.approx(2.0, rel=0.01)
    assert S.saccade_amplitude([tk]).value == pytest.approx(0.2, abs=1e-6)
    # a shift below 0.1 does not count for the velocity statistic but does for the amplitude one
    values[:, CI["LeftEyeYaw"]] = values[:, CI["RightEyeYaw"]] = yaw / 4
    assert math.isnan(S.gaze_shift_velocity([take(values)]).value)
    assert S.saccade_amplitude([take(values)]).value == pytest.approx(0.05, abs=1e-6)


# ------------------------------------------------------------------------------------------------- blinks
def test_blink_duration_rate_and_partial_share() -> None:
    values, n = make_take(10.0)
    raised_cosine_blink(values, 1.0, 0.3)  # width at 10 %: (1 - 2 acos(0.8) / 2 pi) x 0.3 = 0.2386 s
    raised_cosine_blink(values, 4.0, 0.3, peak=0.6)  # partial
    raised_cosine_blink(values, 8.5, 0.3)
    tk = take(values)
    found = E.blinks(tk)
    assert len(found) == 3
    assert [b.duration_s for b in found] == pytest.approx([0.2386] * 3, abs=0.004)
    assert S.blink_duration([tk]).value == pytest.approx(238.6, abs=4)
    assert S.blink_rate([tk]).value == pytest.approx(3 / (n / FPS / 60))
    assert S.partial_blink_share([tk]).value == pytest.approx(100 / 3)
    # intervals 3.0 and 4.5 s: CV = 0.75 / 3.75
    assert S.blink_interval_cv([tk]).value == pytest.approx(0.2, abs=0.01)


def test_slow_eye_closing_is_not_a_blink() -> None:
    values, _ = make_take(5.0)
    raised_cosine_blink(values, 1.0, 2.0)
    assert E.blinks(take(values)) == ()


def test_regular_blinks_have_zero_cv() -> None:
    values, _ = make_take(20.0)
    for k in range(6):
        raised_cosine_blink(values, 1.0 + 3.0 * k, 0.25)
    assert S.blink_interval_cv([take(values)]).value == pytest.approx(0.0, abs=0.01)  # peaks snap to frames


def test_blink_coincidence_identical_vs_independent() -> None:
    rng = np.random.default_rng(3)
    clips_same, clips_diff = [], []
    times = np.cumsum(rng.uniform(1.5, 4.5, 8))
    for k in range(6):
        a, _ = make_take(30.0)
        b, _ = make_take(30.0)
        for s in times:
            raised_cosine_blink(a, s, 0.25)
        for s in np.cumsum(np.random.default_rng(10 + k).uniform(1.5, 4.5, 8)):
            raised_cosine_blink(b, s, 0.25)
        clips_same.append(take(a, f"a{k}"))
        clips_diff.append(take(b, f"b{k}"))
    same = S.blink_coincidence(clips_same).value
    diff = S.blink_coincidence(clips_diff).value
    assert same > 5.0
    assert diff < 2.0


def test_eyes_move_down_during_blinks_and_lids_follow_gaze() -> None:
    values, n = make_take(10.0)
    t = np.arange(n) / FPS
    pitch = 0.1 * np.sin(2 * np.pi * 0.2 * t)
    for c in ("LeftEyePitch", "RightEyePitch"):
        values[:, CI[c]] = pitch
    for c in E.BLINK_CHANNELS:
        values[:, CI[c]] = 0.2 + 0.5 * pitch
    tk = take(values)
    assert S.lid_gaze_correlation([tk]).value == pytest.approx(1.0, abs=1e-6)
    values2 = values.copy()
    raised_cosine_blink(values2, 5.0, 0.3)
    bump = np.where((t >= 5.0) & (t <= 5.3), 0.2 * (0.5 - 0.5 * np.cos(2 * np.pi * (t - 5.0) / 0.3)), 0.0)
    for c in ("LeftEyePitch", "RightEyePitch"):
        values2[:, CI[c]] = bump
    assert S.blink_eye_pitch([take(values2)]).value == pytest.approx(0.2, abs=0.01)


# ------------------------------------------------------------------------------------------------- micro-motion, head
def test_quiet_std_measures_engaged_channels_only() -> None:
    values, n = make_take(5.0)
    rng = np.random.default_rng(0)
    values[:, CI["BrowInnerUp"]] = 0.3 + rng.normal(0, 0.01, n)
    got = S.quiet_std([take(values)])
    assert got.value == pytest.approx(0.01, rel=0.15)
    assert got.n == 5
    values[:, CI["BrowInnerUp"]] = 0.3  # a held, dead expression
    assert S.quiet_std([take(values)]).value == 0.0
    values[:, CI["BrowInnerUp"]] = 0.0  # nothing engaged: nothing measured
    assert math.isnan(S.quiet_std([take(values)]).value)


def test_head_std_and_spectrum() -> None:
    values, n = make_take(10.0)
    t = np.arange(n) / FPS
    values[:, CI["HeadYaw"]] = 0.02 * np.sin(2 * np.pi * 2.0 * t)
    tk = take(values)
    assert S.head_std([tk]).value == pytest.approx(0.02 / math.sqrt(2), rel=0.01)
    assert S.head_high_frequency_share([tk]).value > 99.0
    values[:, CI["HeadYaw"]] = 0.02 * np.sin(2 * np.pi * 0.5 * t)
    assert S.head_high_frequency_share([take(values)]).value < 1.0
    still, _ = make_take(10.0)  # no head tracking: left out
    assert math.isnan(S.head_std([take(still)]).value)


def test_jaw_lip_coupling_and_symmetric_smiles() -> None:
    values, n = make_take(5.0)
    t = np.arange(n) / FPS
    values[:, CI["JawOpen"]] = 0.3 + 0.2 * np.sin(2 * np.pi * t)
    values[:, CI["MouthClose"]] = 0.5 * values[:, CI["JawOpen"]]
    assert S.jaw_lip_coupling([take(values)]).value == pytest.approx(1.0)
    values[:, CI["MouthClose"]] = 0.0
    assert S.jaw_lip_coupling([take(values)]).value == 0.0
    values[:, CI["MouthSmileLeft"]] = values[:, CI["MouthSmileRight"]] = np.linspace(0, 0.6, n)
    smiling = int(((values[:, CI["MouthSmileLeft"]]) > S.SMILING_ABOVE).sum())
    got = S.symmetric_smile_share([take(values)])
    assert got.value == 100.0 and got.n == smiling
    values[:, CI["MouthSmileRight"]] += 0.01
    assert S.symmetric_smile_share([take(values)]).value == 0.0


# ------------------------------------------------------------------------------------------------- grid, Frechet
def test_resampling_a_30fps_capture_with_gaps() -> None:
    n = 90
    times = 1000.0 + np.arange(n) / 30.0
    times[50:] += 0.5  # a 0.5 s gap: dropped frames
    frames = np.zeros((n, rig.NUM_CHANNELS), np.float32)
    frames[:, CI["JawOpen"]] = np.linspace(0, 1, n)
    valid = np.ones(n, bool)
    valid[10] = False
    tk = take_from_animation(Animation(frames=frames, fps=30.0, times_s=times, valid=valid), name="x")
    assert tk.fps == 60.0 and tk.source_fps == 30.0
    assert tk.num_frames == round((times[-1] - times[0]) * 60) + 1
    assert not tk.valid[19:21].any()  # around the invalid source frame 10 (t = 0.333 s)
    gap = (tk.times_s > times[49] - 1000.0 + 1e-6) & (tk.times_s < times[50] - 1000.0 - 1e-6)
    assert gap.any() and not tk.valid[gap].any()
    assert tk.valid.sum() > 0.75 * tk.num_frames


def test_frechet_ratio_small_for_real_like_clips_and_large_for_frozen() -> None:
    rng = np.random.default_rng(0)
    reals = []
    for k in range(6):
        values, n = make_take(20.0, seed=k, noise=0.01)
        values[:, CI["LeftEyeYaw"]] = np.cumsum(rng.normal(0, 0.005, n))
        reals.append(take(values, f"r{k}"))
    similar = []
    for k in range(3):
        values, n = make_take(20.0, seed=100 + k, noise=0.01)
        values[:, CI["LeftEyeYaw"]] = np.cumsum(rng.normal(0, 0.005, n))
        similar.append(take(values, f"s{k}"))
    frozen = [take(make_take(20.0)[0] + 0.2, "f")]
    near = motion_frechet(reals, similar)
    far = motion_frechet(reals, frozen + frozen)
    assert near.ratio < 3.0
    assert far.ratio > 10 * near.ratio
    assert motion_frechet(reals[:1], similar).ratio != motion_frechet(reals[:1], similar).ratio  # nan: 1 take


# ------------------------------------------------------------------------------------------------- report, CLI
SMALL_SCRIPTS = {
    "format": "keyframeface.motion_scripts", "version": 1,
    "scripts": [
        {"name": "smile", "script": {"background": "A friend waves.", "emotion": "Joy.", "keyframes": [
            {"description": "A neutral face.", "time_s": 0.0},
            {"description": "A broad smile, eyes look to the right.", "time_s": 1.5},
            {"description": "The smile fades.", "time_s": 3.5},
            {"description": "Neutral, eyes forward.", "time_s": 5.0}]}},
        {"name": "frown", "script": {"background": "Bad news.", "emotion": "Sadness.", "keyframes": [
            {"description": "A neutral face.", "time_s": 0.0},
            {"description": "The brows pull together, the mouth corners drop.", "time_s": 2.0},
            {"description": "The jaw drops open.", "time_s": 4.0},
            {"description": "Lips pressed, eyes down.", "time_s": 5.5}]}},
    ],
}


def test_packaged_scripts_are_varied() -> None:
    scripts = load_motion_scripts()
    assert len(scripts) >= 10
    assert len({name for name, _ in scripts}) == len(scripts)
    assert len({s.emotion for _, s in scripts}) == len(scripts)
    for _, s in scripts:
        assert 4 <= len(s.keyframes) <= 8
        assert 4.0 <= max(kf.time_s or 0.0 for kf in s.keyframes) <= 15.0


def _synthetic_real() -> list[MotionTake]:
    out = []
    for k in range(4):
        values, _n = make_take(12.0, seed=k, noise=0.008)
        for j, at in enumerate(np.cumsum(np.random.default_rng(k).uniform(1.0, 4.0, 4))):
            raised_cosine_blink(values, float(at), 0.28, peak=0.6 + 0.1 * j)
        out.append(take(values, f"real{k}"))
    return out


def test_report_is_deterministic_and_complete(tmp_path: Path) -> None:
    path = tmp_path / "scripts.json"
    path.write_text(json.dumps(SMALL_SCRIPTS))
    real = _synthetic_real()
    a = motion_report(real, scripts=path)
    b = motion_report(real, scripts=path)
    da, db = a.to_dict(), b.to_dict()
    da["meta"].pop("seconds"), db["meta"].pop("seconds")
    assert da == db
    keys = [r["key"] for r in da["rows"]]
    assert keys[-1] == "frechet_ratio" and "blink_coincidence" in keys and "symmetric_smile" in keys
    assert a.targeted == 10
    table = a.to_markdown()
    assert table.count("\n|") == len(keys) + 2 and "targets met" in table
    assert a.meta["generated_clips"] == 2 and a.meta["seed"] is None
    seeded = motion_report(real, scripts=path, seed=5)
    assert seeded.meta["clip_seeds"] == [5, 5]


def test_report_on_given_animations() -> None:
    values, _ = make_take(6.0, noise=0.01)
    anim = Animation(frames=np.clip(values, 0, 1).astype(np.float32), fps=60.0)
    report = motion_report(_synthetic_real(), generated=[anim, ("named", anim)])
    assert report.meta["generated_clips"] == 2
    assert [t.name for t in report.generated_takes] == ["clip_0", "named"]
    assert report.row("frozen_share").generated.value == 0.0


def test_cli_end_to_end_on_a_small_real_take(realdata_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    from keyframeface.cli.main import main

    real = tmp_path / "real"
    real.mkdir()
    for name in ("jmtechart_llf/MySlate_3_Jason_Millers_iPhone.csv", "neurosync_trainer_testset_llf/testset.csv"):
        shutil.copy(realdata_dir / name, real / Path(name).name)
    (real / "index.csv").write_text("file,label\nx.csv,y\n")  # not a take: skipped
    scripts = tmp_path / "scripts.json"
    scripts.write_text(json.dumps(SMALL_SCRIPTS))
    out = tmp_path / "report.json"
    plots = tmp_path / "plots"
    rc = main(["eval", "motion", "--real", str(real), "--scripts", str(scripts), "--json", str(out),
               "--plots", str(plots)])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["meta"]["real_takes"] == 2 and data["meta"]["generated_clips"] == 2
    assert sorted(p.name for p in plots.iterdir()) == ["blinks.png", "gaze_shift.png", "head.png", "held.png",
                                                        "onset.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in plots.iterdir())
    assert data["rows"][0]["real"]["value"] == 0.0  # real faces never freeze


def test_cli_refuses_a_folder_without_takes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.cli.main import main

    assert main(["eval", "motion", "--real", str(tmp_path)]) != 0
    assert "no Live Link Face CSV" in capsys.readouterr().err
