"""The contact sheet's Chinese names: petnet's bundled font subset draws every bundled breed name,
and a name no font can draw falls back to English with a note."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petnet.pets import sheet
from petnet.pets.names import read_names

ROOT = Path(__file__).resolve().parents[2]
NAMES = ROOT / "petnet" / "pets" / "data" / "labels_zh.csv"


@pytest.fixture
def no_system_fonts(monkeypatch):
    """As on a machine without any CJK font installed: only petnet's own font is left."""
    monkeypatch.setattr(sheet, "_CJK_HINTS", ())


def glyph_bitmap(font_file, ch):
    from matplotlib.ft2font import FT2Font
    font = FT2Font(str(font_file))
    font.set_size(32, 72)
    font.set_text(ch, 0.0)
    font.draw_glyphs_to_bitmap()
    return np.asarray(font.get_image())


def test_bundled_font_draws_every_bundled_chinese_name(no_system_fonts):
    assert sheet.find_cjk_font() == str(sheet.BUNDLED_FONT)
    charmap = sheet.font_charmap(sheet.BUNDLED_FONT)
    names = read_names(NAMES)
    assert len(names) == 37
    for english, chinese in names.items():
        assert sheet.has_cjk(chinese), english
        assert sheet.drawable(chinese, charmap), chinese
    assert not sheet.drawable("龘", charmap)              # a subset: not the whole of Chinese
    # real outlines, not one "missing glyph" box drawn for every character
    a, b = glyph_bitmap(sheet.BUNDLED_FONT, "巴"), glyph_bitmap(sheet.BUNDLED_FONT, "猫")
    assert a.sum() > 0 and b.sum() > 0 and (a.shape != b.shape or not np.array_equal(a, b))
    licence = (sheet.BUNDLED_FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert sheet.BUNDLED_FONT.stat().st_size < 100_000


def test_sheet_uses_chinese_names_and_falls_back_per_name(tmp_path, no_system_fonts):
    photo = ROOT / "examples" / "pug_168.jpg"
    top = [("pug", "巴哥犬", 0.9), ("boxer", "拳师犬", 0.05), ("beagle", "比格犬", 0.01)]
    out, all_drawn = sheet.contact_sheet([(photo, top)], tmp_path / "zh.png")
    assert all_drawn and out.exists()
    _, all_drawn = sheet.contact_sheet([(photo, [("x", "龘龘", 0.5)] + top[1:])], tmp_path / "rare.png")
    assert not all_drawn                                  # 龘 is not in the subset: shown as "x"


def test_predict_notes_a_name_it_cannot_draw(tmp_path, capsys, no_system_fonts):
    from petnet.cli import main
    names = tmp_path / "names.csv"
    names.write_text("pug,龘犬\n", encoding="utf-8")
    photo = ROOT / "examples" / "pug_168.jpg"
    assert main(["predict", str(photo), "--names", str(names), "--sheet", str(tmp_path / "s.png"),
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "龘犬 (score" in captured.out                  # the text output keeps the user's name
    assert "shows them in English" in captured.err
    assert main(["predict", str(photo), "--sheet", str(tmp_path / "t.png"), "--quiet"]) == 0
    assert "English" not in capsys.readouterr().err       # the bundled names all draw
