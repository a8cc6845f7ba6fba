"""The motion model fitted from real captures: the shipped file, its recipe and ``keyframeface train motion``."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.animate import animate
from keyframeface.cli.main import main
from keyframeface.errors import FormatError
from keyframeface.io.livelink_csv import write_livelink_csv
from keyframeface.models.motion import MOTION_FORMAT, load_motion
from keyframeface.script import Animation, Keyframes

SECTIONS = ("blinks", "saccades", "onsets", "micro", "head", "lids")
SHIPPED = resources.files("keyframeface.models.motion")


def shipped_text(name: str) -> str:
    return SHIPPED.joinpath(name).read_text(encoding="utf-8")


def test_shipped_model_loads_and_its_recipe_matches() -> None:
    model = load_motion()
    assert model["format"] == MOTION_FORMAT and set(SECTIONS) <= set(model)
    recipe = json.loads(shipped_text("motion.recipe.json"))
    digest = hashlib.sha256(shipped_text("motion.json").encode("utf-8")).hexdigest()
    assert recipe["sha256"] == {"motion.json": digest}
    assert recipe["inputs"] and all(len(i["sha256"]) == 64 for i in recipe["inputs"])
    assert recipe["config"]["max_error"] == model["micro"]["max_error"]
    # published ranges (Bentivoglio et al. 1997: 10-26 blinks/min; VanderWerf et al. 2003: 100-400 ms)
    assert 10.0 <= model["blinks"]["rate_per_min"] <= 26.0
    assert 0.1 <= float(np.median(model["blinks"]["duration_s_quantiles"])) <= 0.4
    assert model["blinks"]["interval_cv"] >= 0.7
    assert model["blinks"]["pitch_per_closure"] > 0.0 and model["lids"]["blink_per_pitch"] > 0.0
    assert model["micro"]["jaw_mouth_close"]["beta"] > 0.0
    assert model["saccades"]["peak_velocity"]["per_unit"] > 0.0


def test_load_motion_refuses_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(FormatError, match="train motion"):
        load_motion(str(bad))


def synthetic_takes(folder: Path, *, count: int = 2, seconds: float = 60.0) -> None:
    """Live Link CSVs that move like faces: the engine's own animation of many random expressions."""
    rng = np.random.default_rng(0)
    i = rig.CHANNEL_INDEX
    for take in range(count):
        k = int(seconds / 1.2)
        u = rng.uniform(size=(k, rig.NUM_CHANNELS)) ** 2
        values = (rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32) * 0.6
        values[:, [i["EyeBlinkLeft"], i["EyeBlinkRight"]]] = 0.05
        values = rig.sync_eye_rotations(values)
        keys = Keyframes.from_array(values, times_s=list(np.arange(k) * 1.2))
        anim = animate(keys, fps=60.0, duration_s=seconds, seed=take)
        sub = folder / f"actor{take}"
        sub.mkdir(parents=True, exist_ok=True)
        write_livelink_csv(Animation(anim.frames, fps=60.0), sub / f"take{take}.csv")


def test_train_motion_rebuilds_a_model_from_a_folder_of_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("scipy")  # the fit needs it (the [train] / [dev] tooling)
    takes = tmp_path / "takes"
    synthetic_takes(takes)
    out = tmp_path / "model" / "motion.json"
    out.parent.mkdir()
    assert main(["train", "motion", "--real", str(takes), "-o", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seconds"] == pytest.approx(120.0, abs=1.0) and summary["blinks"] > 20
    model = json.loads(out.read_text())
    shipped = load_motion()
    assert model["format"] == MOTION_FORMAT and set(model) == set(shipped)
    for section in SECTIONS:
        assert set(model[section]) >= set(shipped[section]) - {"large_median"}, section
    recipe = json.loads(out.with_suffix(".recipe.json").read_text())
    assert recipe["sha256"]["motion.json"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert sorted(i["file"] for i in recipe["inputs"]) == ["actor0/take0.csv", "actor1/take1.csv"]
    # the takes were made with the shipped model: the fit finds its blinks back
    assert model["blinks"]["rate_per_min"] == pytest.approx(shipped["blinks"]["rate_per_min"], rel=0.35)
    # the rebuilt file drives the engine
    anim = animate(Keyframes.from_array(rig.neutral()[None]), duration_s=10.0, motion_model=str(out))
    assert anim.meta["options"]["motion_model"] == str(out) and np.isfinite(anim.frames).all()
    # same folder, same bytes
    again = tmp_path / "again.json"
    assert main(["train", "motion", "--real", str(takes), "-o", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_train_motion_refuses_a_folder_without_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("scipy")  # the fit needs it (the [train] / [dev] tooling)
    assert main(["train", "motion", "--real", str(tmp_path), "-o", str(tmp_path / "m.json")]) != 0
    assert "no Live Link Face CSV" in capsys.readouterr().err


def test_train_motion_on_the_real_takes_gives_the_shipped_numbers(
    realdata_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("scipy")  # the fit needs it (the [train] / [dev] tooling)
    recipe = json.loads(shipped_text("motion.recipe.json"))
    for item in recipe["inputs"]:
        path = realdata_dir / item["file"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != item["sha256"]:
            pytest.skip(f"{item['file']} is not the take the shipped model was fitted on")
    out = tmp_path / "motion.json"
    assert (
        main(
            [
                "train",
                "motion",
                "--real",
                str(realdata_dir),
                "-o",
                str(out),
                "--max-error",
                str(recipe["config"]["max_error"]),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert out.read_text(encoding="utf-8") == shipped_text("motion.json")
