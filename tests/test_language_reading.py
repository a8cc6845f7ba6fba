"""The reading layer (issue 13): casual writing, technical direction, idioms and scene text, relative notes,
worried brows, coverage warnings and --strict, and the planner keeping a free sentence's action."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.cli.main import main
from keyframeface.generate import generate
from keyframeface.plan import plan
from keyframeface.script import Script
from keyframeface.semantics.casual import correct_word, normalize_casual
from keyframeface.semantics.composer import compose
from keyframeface.semantics.reading import read_description
from keyframeface.semantics.relative import find_relative
from keyframeface.semantics.scene import read_scene
from keyframeface.semantics.technical import read_technical

IDX = rig.CHANNEL_INDEX


def v(values: np.ndarray, *names: str) -> float:
    return float(np.mean([values[IDX[n]] for n in names]))


def script(*descriptions: str) -> Script:
    return Script.from_dict({"background": "", "emotion": "", "keyframes": [{"description": d} for d in descriptions]})


def values(*descriptions: str) -> np.ndarray:
    out = generate(script(*descriptions), backend="rules")
    return np.stack([kf.array for kf in out.keyframes])


# ------------------------------------------------------------------------------------------------ casual
@pytest.mark.parametrize(("word", "fixed"), [("smilin", "smiling"), ("simles", "smiles"), ("eyebrwos", "eyebrows"),
                                             ("riases", "raises"), ("squnting", "squinting")])
def test_misspellings_and_dropped_gs_are_corrected(word: str, fixed: str) -> None:
    assert correct_word(word) == fixed


def test_short_and_unknown_words_are_left_alone() -> None:
    assert correct_word("grow") == "grow"  # too short to correct ("brow")
    assert correct_word("xylophone") == "xylophone"


def test_emoji_emoticons_and_caps() -> None:
    assert "laughing" in normalize_casual("😂")
    assert "winks" in normalize_casual("ok ;)")
    assert "very huge" in normalize_casual("a HUGE smile")
    k = values("😢")[0]
    assert v(k, "BrowInnerUp") >= 0.25 or v(k, "MouthFrownLeft", "MouthFrownRight") >= 0.2


# --------------------------------------------------------------------------------------------- technical
def test_au_codes_with_intensities() -> None:
    tech = read_technical("AU4+AU7, strong")
    assert tech.channels["BrowDownLeft"] > 0.5 and tech.channels["EyeSquintRight"] > 0.4
    assert read_technical("AU12A").channels["MouthSmileLeft"] < read_technical("AU12E").channels["MouthSmileLeft"]


def test_channel_values_in_any_spelling_are_honoured() -> None:
    k = values("jawOpen 0.45, mouth_funnel around 0.35, eyeWide_L = 0.5")[0]
    assert k[IDX["JawOpen"]] == pytest.approx(0.45, abs=0.01)
    assert k[IDX["MouthFunnel"]] == pytest.approx(0.35, abs=0.01)
    assert k[IDX["EyeWideLeft"]] == pytest.approx(0.5, abs=0.01) and k[IDX["EyeWideRight"]] < 0.1


def test_limits_and_visemes() -> None:
    assert v(values("Smile, but no more than 0.3.")[0], "MouthSmileLeft", "MouthSmileRight") <= 0.31
    assert values("viseme OU")[0][IDX["MouthPucker"]] >= 0.4


# ------------------------------------------------------------------------------------------ scene, idioms
@pytest.mark.parametrize("text", ["He shakes hands with the new neighbour.", "A dog barks somewhere down the street.",
                                  "She tears open the letter.", "He shrugs off his raincoat."])
def test_scene_text_does_not_move_the_face(text: str) -> None:
    k = values(text)[0]
    assert float(np.abs(k).max()) <= 0.1, text


def test_facial_verbs_keep_their_meaning() -> None:
    assert read_scene("He shakes his head.").scene == []
    assert read_scene("Her lips press into a thin line.").scene == []
    assert abs(values("He shakes his head.")[0][IDX["HeadYaw"]]) >= 0.08


def test_idioms_get_meanings() -> None:
    k = values("He bites his tongue.")[0]
    assert k[IDX["TongueOut"]] < 0.1 and v(k, "MouthPressLeft", "MouthPressRight") >= 0.15


# --------------------------------------------------------------------------------------------- relative
def test_relative_notes_are_found() -> None:
    ops, rest = find_relative("Again, but bigger.")
    assert [o.op for o in ops] == ["again", "bigger"] and not rest.strip(" .,but")
    assert find_relative("She smiles more")[0] == []


def test_hold_bigger_smaller_other_neutral_undo() -> None:
    k = values("A broad smile.", "Hold.")
    assert v(k[1], "MouthSmileLeft", "MouthSmileRight") >= 0.95 * v(k[0], "MouthSmileLeft", "MouthSmileRight")
    k = values("A small smile.", "Bigger.")
    assert v(k[1], "MouthSmileLeft", "MouthSmileRight") > v(k[0], "MouthSmileLeft", "MouthSmileRight") + 0.1
    k = values("Her left eye winks.", "Now the other eye.")
    assert k[1][IDX["EyeBlinkRight"]] >= 0.7 and k[1][IDX["EyeBlinkLeft"]] <= 0.3
    k = values("Mouth wide open.", "Back to neutral.")
    assert k[1][IDX["JawOpen"]] <= 0.05
    k = values("A gentle smile.", "Jaw drops open.", "Undo that.")
    assert k[2][IDX["JawOpen"]] <= 0.2 and v(k[2], "MouthSmileLeft") >= 0.5 * v(k[0], "MouthSmileLeft")


# ------------------------------------------------------------------------------------------------ brows
def test_worried_brows_are_not_angry_brows() -> None:
    k = values("Her brows knit in worry.")[0]
    assert k[IDX["BrowInnerUp"]] >= 0.4 and k[IDX["BrowInnerUp"]] > v(k, "BrowDownLeft", "BrowDownRight")
    k = values("Brows pulled down hard.")[0]
    assert v(k, "BrowDownLeft", "BrowDownRight") >= 0.4 and k[IDX["BrowInnerUp"]] <= 0.25


# ----------------------------------------------------------------------------------------------- coverage
def test_blank_keyframes_warn_and_record_coverage(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        out = generate(script("She smiles.", "zork blimf quaxx"), backend="rules")
    assert out.meta["language"]["blank"] == [1]
    assert out.meta["language"]["coverage"]["0"]["facial"] is True
    assert "keyframe 2" in caplog.text and "zork" in caplog.text
    assert compose("She smiles.").coverage["facial"] is True
    assert read_description("Hold.").relative


def test_strict_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.json"
    path.write_text('{"background": "", "emotion": "", "keyframes": [{"description": "zork blimf"}]}')
    assert main(["generate", str(path), "-o", "k.json", "--backend", "rules"]) == 0
    assert main(["generate", str(path), "-o", "k.json", "--backend", "rules", "--strict"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "--strict" in err[-1] and "keyframe 1" in err[-1]


# ------------------------------------------------------------------------------------------------ planner
def test_planner_keeps_the_action_and_warns_on_gibberish(caplog: pytest.LogCaptureFixture) -> None:
    planned = plan("She hears a joke and bursts out laughing.")
    assert any("laugh" in kf.description.lower() for kf in planned.keyframes)
    with caplog.at_level(logging.WARNING):
        plan("asdf qwer zxcv")
    assert "no facial action" in caplog.text
