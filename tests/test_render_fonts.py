"""Captions in any script: a CJK font where Pillow's default lacks the glyphs, and a warning where none is here."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PIL")

from keyframeface.render import raster
from keyframeface.render.sheet import Panel, draw_panels


def _glyph(font: object, char: str) -> bytes:
    return bytes(font.getmask(char))  # type: ignore[attr-defined]


def test_default_font_lacks_chinese_and_the_cjk_font_has_it() -> None:
    assert raster.missing_glyphs("a smile 微笑 and 눈") == "微笑눈"
    assert raster.missing_glyphs("a smile, café") == ""
    default = raster.load_font(24)
    # Tofu: the default font draws different characters as the same box.
    assert _glyph(default, "微") == _glyph(default, "笑")
    if raster.cjk_font_file() is None:
        pytest.skip("no CJK font here: pip install 'keyframeface[render]' (manimgx-fonts-cjk) or fonts-noto-cjk")
    font = raster.load_font(24, "微笑")
    assert font is not default
    glyphs = {_glyph(font, c) for c in "微笑张嘴眨眼"}
    assert len(glyphs) == 6 and all(any(g) for g in glyphs)  # six distinct, non-empty glyphs


def test_chinese_caption_on_a_sheet_is_not_tofu() -> None:
    if raster.cjk_font_file() is None:
        pytest.skip("no CJK font here")
    values = np.zeros(61, dtype=np.float32)
    one = draw_panels([Panel(values, "1", "微笑")], size=128, columns=1)
    other = draw_panels([Panel(values, "1", "张嘴")], size=128, columns=1)
    assert one.shape == other.shape and not np.array_equal(one, other)  # boxes would look the same


def test_missing_font_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    raster.cjk_font_file.cache_clear()
    raster._cjk_font.cache_clear()
    monkeypatch.setattr(raster, "_packaged_cjk_font", lambda: None)
    monkeypatch.setattr(raster, "CJK_FONT_FILES", ())
    monkeypatch.setattr(raster, "_warned_missing", set())
    try:
        with pytest.warns(UserWarning, match="characters the default font lacks"):
            font = raster.load_font(20, "开心")
        assert font is raster.load_font(20)  # the default font: boxes
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            raster.load_font(20, "开心")  # once only
    finally:
        raster.cjk_font_file.cache_clear()
        raster._cjk_font.cache_clear()
