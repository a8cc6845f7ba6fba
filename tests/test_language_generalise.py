"""Reading rules that generalise beyond the case sets: vocalisations, thing subjects, startles, apposition, and the
tagger's lazy pattern compilation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.generate import generate
from keyframeface.script import Script
from keyframeface.semantics.laterality import resolve_apposition
from keyframeface.semantics.parse import parse
from keyframeface.semantics.scene import read_scene


def _values(description: str, backend: str = "rules") -> dict[str, float]:
    script = Script.from_dict({"background": "", "emotion": "", "keyframes": [{"description": description}]})
    out = generate(script, backend=backend)
    return dict(zip(rig.CHANNELS, np.asarray(out.keyframes[0].array, dtype=float), strict=True))


def _mean(v: dict[str, float], stem: str) -> float:
    return (v[f"{stem}Left"] + v[f"{stem}Right"]) / 2


@pytest.mark.parametrize("text", ["The bouncer bellows at the crowd.", "She yells at her brother."])
def test_a_shout_lowers_the_brows(text: str) -> None:
    v = _values(text)
    assert v["JawOpen"] >= 0.35 and _mean(v, "BrowDown") >= 0.2 and _mean(v, "EyeWide") <= 0.05


@pytest.mark.parametrize("text", ["He shrieks when the lights go out.", "She screams."])
def test_a_scream_widens_the_eyes(text: str) -> None:
    v = _values(text)
    assert v["JawOpen"] >= 0.35 and _mean(v, "EyeWide") >= 0.25 and _mean(v, "BrowDown") <= 0.05


@pytest.mark.parametrize("text", ["The tram rattles past the window.", "A truck backs into the yard.",
                                  "The microwave beeps twice."])
def test_a_thing_as_subject_is_scene_text(text: str) -> None:
    reading = read_scene(text)
    assert reading.scene and not parse(reading.text)


@pytest.mark.parametrize("text", ["The light in her eyes fades.", "The dog's owner smiles."])
def test_a_face_part_or_possessor_keeps_the_clause(text: str) -> None:
    assert not read_scene(text).scene


def test_a_person_jumping_is_startled_but_not_a_physical_jump() -> None:
    assert _mean(_values("Thunder cracks and the old man jumps."), "EyeWide") >= 0.25
    assert _mean(_values("He jumps onto the wall."), "EyeWide") <= 0.05
    assert _mean(_values("Her brows jump up."), "BrowOuterUp") >= 0.25  # the brows' own movement


@pytest.mark.parametrize(("text", "side"), [("one eyebrow raised, the right one", "right"),
                                            ("raises one brow - the left.", "left"),
                                            ("lifts one eyebrow \u2014 the right, and smiles", "right")])
def test_a_side_in_apposition_goes_to_its_part(text: str, side: str) -> None:
    assert f"the {side} " in resolve_apposition(text)


def test_apposition_scopes_the_side() -> None:
    v = _values("She cocks one eyebrow, the right one, and grins.")
    assert v["BrowOuterUpRight"] - v["BrowOuterUpLeft"] >= 0.3
    assert abs(v["MouthSmileLeft"] - v["MouthSmileRight"]) <= 0.1


def test_patterns_compile_only_when_a_text_can_match_them() -> None:
    # a fresh process: other tests have compiled much of the lexicon in this one
    code = ("from keyframeface.semantics.parse import _patterns, tag_text\n"
            "tag_text('she smiles')\n"
            "entries = {id(c): c for cands in _patterns()._index.values() for c in cands}.values()\n"
            "print(sum(c._regex is not None for c in entries), _patterns().size)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    compiled, size = map(int, done.stdout.split())
    assert compiled < size // 4  # a short text compiles a handful, not the whole lexicon
