"""Other languages: detection, each language's main actions, negation and sides, and the explanation's note."""

from __future__ import annotations

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.semantics.composer import compose
from keyframeface.semantics.languages import detect_language, read_foreign

IDX = rig.CHANNEL_INDEX


def v(text: str, name: str) -> float:
    return float(compose(text).values[IDX[name]])


def smile(text: str) -> float:
    return (v(text, "MouthSmileLeft") + v(text, "MouthSmileRight")) / 2


@pytest.mark.parametrize(("text", "code"), [
    ("She raises her eyebrows.", "en"), ("Neutral.", "en"), ("Disgust.", "en"), ("Animator's shot notes.", "en"),
    ("A driver checks the passenger-side mirror.", "en"), ("", "en"), ("...", "en"),
    ("Frunce el ceño.", "es"), ("Il fronce les sourcils.", "fr"), ("Sie zieht die Augenbrauen hoch.", "de"),
    ("Ele franze a testa.", "pt"), ("Aggrotta le sopracciglia.", "it"), ("彼は眉をひそめた。", "ja"),
    ("그는 눈살을 찌푸렸다.", "ko"), ("他皱起眉头。", "zh"),
])
def test_detect_language(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_english_and_chinese_are_not_read_here() -> None:
    assert read_foreign("She smiles.") is None
    assert read_foreign("她笑了。") is None


@pytest.mark.parametrize("text", ["Sonríe.", "Elle sourit.", "Sie lächelt.", "Ela sorri.", "Sorride.",
                                  "彼女は微笑んだ。", "그녀는 미소를 짓는다."])
def test_smiles(text: str) -> None:
    assert smile(text) >= 0.3


@pytest.mark.parametrize("text", ["Frunce el ceño.", "Il fronce les sourcils.", "Er runzelt die Stirn.",
                                  "Ele franze a testa.", "Aggrotta le sopracciglia.", "彼は眉をひそめた。",
                                  "그는 눈살을 찌푸렸다."])
def test_frowns(text: str) -> None:
    assert v(text, "BrowDownLeft") >= 0.2 and smile(text) <= 0.1


def test_german_brows_up_is_not_a_smile() -> None:
    text = "Sie zieht die Augenbrauen hoch."
    assert v(text, "BrowOuterUpLeft") >= 0.25 and smile(text) <= 0.05


@pytest.mark.parametrize(("text", "closed", "open_"), [
    ("Le guiña el ojo izquierdo.", "EyeBlinkLeft", "EyeBlinkRight"),
    ("Il fait un clin d'œil de l'œil droit.", "EyeBlinkRight", "EyeBlinkLeft"),
    ("Er zwinkert mit dem linken Auge.", "EyeBlinkLeft", "EyeBlinkRight"),
    ("Ela pisca o olho direito.", "EyeBlinkRight", "EyeBlinkLeft"),
    ("Strizza l'occhio sinistro.", "EyeBlinkLeft", "EyeBlinkRight"),
    ("左目でウインクする。", "EyeBlinkLeft", "EyeBlinkRight"),
    ("오른쪽 눈으로 윙크한다.", "EyeBlinkRight", "EyeBlinkLeft"),
])
def test_sides(text: str, closed: str, open_: str) -> None:
    assert v(text, closed) >= 0.6 and v(text, open_) <= 0.3


@pytest.mark.parametrize(("text", "sign"), [
    ("Mira hacia la derecha.", 1), ("Il regarde à gauche.", -1), ("Er blickt nach links.", -1),
    ("Ele olha para a esquerda.", -1), ("Guarda a destra.", 1), ("彼女は右の方を見た。", 1), ("왼쪽을 바라본다.", -1),
])
def test_gaze_directions(text: str, sign: int) -> None:
    assert sign * v(text, "LeftEyeYaw") >= 0.08


@pytest.mark.parametrize("text", ["No sonríe.", "Elle ne sourit pas.", "Sie lächelt nicht.", "Ele não sorri.",
                                  "Non sorride.", "笑わない。", "그는 웃지 않는다."])
def test_negation(text: str) -> None:
    assert smile(text) <= 0.05


def test_negation_turns_off_the_previous_smile() -> None:
    prev = compose("Sonríe ampliamente.").values
    after = compose("Ya no sonríe.", previous=prev).values
    assert after[IDX["MouthSmileLeft"]] <= 0.1 < prev[IDX["MouthSmileLeft"]]


def test_intensity_words_scale() -> None:
    assert smile("Sonríe levemente.") + 0.2 < smile("Sonríe de oreja a oreja.")
    assert v("口を少し開けた。", "JawOpen") < v("口を大きく開けた。", "JawOpen")


def test_head_and_mouth() -> None:
    assert v("Il hoche la tête.", "HeadPitch") >= 0.03
    assert v("Gira la testa a sinistra.", "HeadYaw") <= -0.05
    assert v("Er neigt den Kopf nach rechts.", "HeadRoll") >= 0.02
    assert v("입을 크게 벌린다.", "JawOpen") >= 0.4
    assert v("Er presst die Lippen fest aufeinander.", "MouthPressLeft") >= 0.2


def test_a_modifier_does_not_cross_and() -> None:
    values = compose("Gira la cabeza hacia la izquierda y sonríe levemente.").values
    assert values[IDX["HeadYaw"]] <= -0.05
    assert abs(values[IDX["MouthSmileLeft"]] - values[IDX["MouthSmileRight"]]) < 0.05


def test_the_explanation_names_the_language_and_points_at_the_words() -> None:
    comp = compose("Frunce el ceño.")
    rules = " ".join(r["rule"] for r in comp.explanation)
    assert "Spanish" in rules
    assert any(r["phrase"] == "Frunce el ceño" for r in comp.explanation)


def test_traditional_chinese() -> None:
    assert v("他皺起眉頭。", "BrowDownLeft") >= 0.2


def test_emotion_field_in_another_language() -> None:
    values = compose("Mira hacia abajo.", emotion="Alegría tranquila.").values
    assert (values[IDX["MouthSmileLeft"]] + values[IDX["MouthSmileRight"]]) / 2 >= 0.08


def test_unread_words_give_nothing_rather_than_noise() -> None:
    assert not np.any(compose("Il mange une pomme.").values)
