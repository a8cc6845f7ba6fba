"""The second round of generalisation (issue 13): subject carried over between clauses, the FACS code table with
side prefixes, limit phrases, one-side and "add" notes, idioms read before spelling correction, and a CLI that
builds without importing training code."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.models.bundled.clauses import inherit_subject, split_clauses
from keyframeface.semantics.casual import correct_word, normalize_casual
from keyframeface.semantics.reading import read_description
from keyframeface.semantics.relative import apply_relative, find_relative
from keyframeface.semantics.technical import read_technical

IDX = rig.CHANNEL_INDEX


def test_a_clause_without_a_subject_takes_the_one_before() -> None:
    cs = split_clauses("The inner brows rise and pull together, she closes her eyes and bows her head.")
    got = [inherit_subject(c, cs[i - 1] if i else None) for i, c in enumerate(cs)]
    assert got[1] == "the inner brows pull together"
    assert got[0] is None and got[2] is None  # a clause with its own subject
    assert got[3] is None  # "her eyes" is the object of "closes", not a subject to share


def test_the_grounder_reads_an_inherited_subject_without_the_encoder() -> None:
    from keyframeface.models.bundled.grounding import SUBJECT_LABEL, Grounder
    from keyframeface.models.bundled.head import load_head

    def encode(texts: object) -> np.ndarray:
        raise AssertionError("the encoder must not be needed")

    g = Grounder(load_head(), encode)
    found = g.ground_description("The lips part and press together again.")
    assert found and found[0].label == SUBJECT_LABEL
    assert g.ground_description("The brows rise and knit.")[0].mentions[0].name in ("brow_knit", "brow_worried")


@pytest.mark.parametrize(("text", "expected"), [
    ("AU45", {"EyeBlinkLeft": 1.0, "EyeBlinkRight": 1.0}),  # blink and wink are not intensity-scored
    ("L46", {"EyeBlinkLeft": 1.0}),
    ("AU46", {"EyeBlinkLeft": 1.0}),  # one-sided by definition
    ("R12A", {"MouthSmileRight": 0.17}),
    ("AU2 on the left only, C", {"BrowOuterUpLeft": 0.45}),
    ("AU51", {"HeadYaw": -0.18}),  # signed poses keep their sign
])
def test_facs_codes(text: str, expected: dict[str, float]) -> None:
    assert read_technical(text).channels == pytest.approx(expected)


def test_an_au_combination_after_one_prefix_and_no_false_codes() -> None:
    assert set(read_technical("AU1+4 (worry)").channels) == {"BrowInnerUp", "BrowDownLeft", "BrowDownRight"}
    assert read_technical("Room L2 is cold").channels == {}
    assert read_technical("R2D2 smiles").channels == {}


def test_one_side_and_add_notes() -> None:
    ops, rest = find_relative("Now just the right one.")
    assert [o.op for o in ops] == ["right"] and not rest.strip(" .")
    assert find_relative("He glances up and to the right.")[0] == []  # a direction, not a note
    ops, rest = find_relative("Now add a little squint.")
    assert [o.op for o in ops] == ["hold"] and "a little squint" in rest
    assert [o.op for o in find_relative("Same thing, only wider.")[0]] == ["hold", "bigger"]
    base = np.zeros(61, np.float32)
    prev = base.copy()
    prev[IDX["BrowOuterUpRight"]] = 0.5
    prev[IDX["HeadYaw"]] = 0.2
    out, _ = apply_relative(find_relative("Now the left.")[0], prev, base, None)
    assert out[IDX["BrowOuterUpLeft"]] == pytest.approx(0.5) and out[IDX["BrowOuterUpRight"]] == 0.0
    assert out[IDX["HeadYaw"]] == pytest.approx(-0.2)  # the lean to the right is mirrored whole


def test_idioms_are_read_before_spelling_correction() -> None:
    assert "eyes closed" in read_description("She dozes off.").text
    assert "widen" in read_description("His eyes were like saucers.").text


def test_short_misspellings_and_redundant_emoticons() -> None:
    assert correct_word("eys") == "eyes"
    assert correct_word("the") == "the"
    assert "a smile" not in normalize_casual("lil smile :)")
    assert "a big grin" in normalize_casual("smilin big :D")


def test_building_the_cli_imports_no_training_code() -> None:
    code = ("import sys; from keyframeface.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.endswith('.train')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
