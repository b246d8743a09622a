"""``petnet predict --sheet out.png``: a contact sheet, each photo with its top 3 under it.

The talk showed each photo with ``plt.imshow`` after printing its guesses. Chinese names need a
font with CJK glyphs; matplotlib's bundled DejaVu fonts have none. A system CJK font is used when
there is one (``fc-list :lang=zh`` lists them; e.g. Noto Sans CJK, WenQuanYi, SimHei, PingFang,
Microsoft YaHei); otherwise petnet's own ``data/fonts/NotoSansSC-petnet.otf``, a 23 KB subset of
Noto Sans CJK SC (SIL OFL 1.1) with the glyphs of the bundled Chinese breed names. A name with a
character that the chosen font cannot draw is shown in English instead, and the caller is told.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from petnet.pets.answer import score_text
from petnet.safe_io import printable

_CJK_HINTS = ("cjk", "wenquanyi", "wqy", "simhei", "simsun", "yahei", "pingfang", "heiti",
              "hiragino", "source han", "noto sans sc", "noto serif sc", "ar pl", "droid sans fallback",
              "unifont", "fangsong", "kaiti", "songti", "ms gothic", "takao", "ipa")
_PROBE = "猫"
BUNDLED_FONT = Path(__file__).parent / "data" / "fonts" / "NotoSansSC-petnet.otf"


def find_cjk_font():
    """A system font file able to draw Chinese, else petnet's bundled subset (None if missing)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    candidates = [f for f in font_manager.fontManager.ttflist
                  if any(h in f.name.lower() or h in Path(f.fname).name.lower() for h in _CJK_HINTS)]
    serif = ("serif", "song", "sun", "ming", "kai", "fangsong")   # prefer a sans (hei) face for labels
    candidates.sort(key=lambda f: (any(w in f.name.lower() for w in serif) and "sans" not in f.name.lower(),
                                   str(f.weight) not in ("400", "normal"), f.name))
    for f in candidates:
        try:
            if ord(_PROBE) in FT2Font(f.fname).get_charmap():
                return f.fname
        except Exception:  # noqa: BLE001 -- an unreadable font file is just not a candidate
            continue
    return str(BUNDLED_FONT) if BUNDLED_FONT.exists() else None


def font_charmap(font_file) -> set[int]:
    """The code points a font file can draw (empty set for None or an unreadable file)."""
    from matplotlib.ft2font import FT2Font
    try:
        return set(FT2Font(str(font_file)).get_charmap()) if font_file else set()
    except Exception:  # noqa: BLE001 -- unreadable font: draws nothing
        return set()


def font_properties(font_file, size=None):
    """Matplotlib font properties drawing Latin with DejaVu Sans and, glyph by glyph, everything
    DejaVu lacks (Chinese) with ``font_file``; plain DejaVu Sans when ``font_file`` is None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    families = ["DejaVu Sans"]
    if font_file:
        try:
            if all(f.fname != str(font_file) for f in font_manager.fontManager.ttflist):
                font_manager.fontManager.addfont(str(font_file))   # once per process
            families.append(FT2Font(str(font_file)).family_name)
        except Exception:  # noqa: BLE001 -- an unreadable font file: draw without it
            pass
    return font_manager.FontProperties(family=families, size=size)


def chinese_font(size=None):
    """``(font properties, charmap)`` for text that may hold Chinese: the properties of
    :func:`font_properties` for :func:`find_cjk_font`, and the code points that font can draw."""
    font_file = find_cjk_font()
    return font_properties(font_file, size), font_charmap(font_file)


def drawable(text: str, charmap: set[int]) -> bool:
    """Can ``text`` be drawn: every CJK character in ``charmap`` (others come from DejaVu)."""
    return all(ord(ch) in charmap for ch in text if has_cjk(ch))


def has_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


MAX_SHEET_PHOTOS = 64    # a sheet shows at most this many photos (16 rows: ~1200 x 5600 px)


def has_display() -> bool:
    """Can a window open here? False on Linux/BSD without ``DISPLAY`` or ``WAYLAND_DISPLAY``
    (a server, a container, ssh without X forwarding), where matplotlib's ``show`` silently
    does nothing; True on macOS and Windows."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def verdict(pred, imagenet: bool = False):
    """The open-world note a sheet shows for a :class:`~petnet.pets.predict.Prediction`:
    ``(chinese, english, instead_of_guesses)`` for a photo that is not a cat or dog (drawn
    instead of its guesses) or an unsure answer (drawn above them, with its reason); ``None`` for
    a sure pet, an unreadable photo, or the ``"imagenet"`` model (``imagenet=True``)."""
    if imagenet or pred.verdict in ("pet", "error"):
        return None
    if pred.verdict == "not_pet":
        g = pred.imagenet_top
        zh = g.name.split("、")[0]
        return (f"不像猫或狗\n更像: {zh or g.label} ({score_text(g.score, 2)})",
                f"not a cat or dog\nlooks like: {g.label} ({score_text(g.score, 2)})", True)
    why = {"other_species": ("不确定: 物种不符", "unsure: other species"),
           "far_from_class": ("不确定: 不像训练照片", "unsure: unlike its class"),
           "low_score": ("不确定: 分数低", "unsure: low score")}
    zh, en = why.get(pred.unsure_reason, ("不确定:", "unsure:"))
    return zh, en, False


def contact_sheet(results, out_path=None, show: bool = False, columns: int = 4):
    """Draw ``results`` = ``[(path, [(label, name, score), ...]), ...]``, optionally with a third
    item per photo, its :func:`verdict` (or None); save to ``out_path`` and/or show it. Returns
    ``(out_path, all_names_drawn: bool)``: False when some Chinese name or note had to be shown in
    English (no font could draw it). Only the first ``MAX_SHEET_PHOTOS`` photos are drawn."""
    from petnet.plotting import bounded_figsize, check_picture_path, finish, literal, pyplot
    if out_path:
        check_picture_path(out_path, "sheet")      # before any photo is read
    plt = pyplot(show)
    from petnet.pets.images import ImageError, load_image

    fp, charmap = chinese_font()
    all_drawn = True
    results = list(results)[:MAX_SHEET_PHOTOS]
    n = max(1, len(results))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=bounded_figsize(3.2 * cols, 3.9 * rows, dpi=90), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (path, top, *rest) in zip(axes.ravel(), results):
        note = rest[0] if rest else None
        try:
            img = load_image(path)
            img.thumbnail((400, 400))
            ax.imshow(img)
        except ImageError:
            pass
        lines = []
        if note is not None:
            zh, en, instead = note
            lines.append(zh if drawable(zh.replace("\n", ""), charmap) else en)
            all_drawn &= lines[-1] == zh
        for label, name, score, *_ in ([] if note is not None and note[2] else top[:3]):
            shown = name if drawable(name, charmap) else label
            all_drawn &= shown == name
            lines.append(f"{shown} ({score_text(score, 3)})")
        ax.set_title(literal(printable(Path(path).name)), fontsize=8, fontproperties=fp)
        ax.text(0.5, -0.04, literal("\n".join(lines)), transform=ax.transAxes, ha="center", va="top",
                fontsize=9, fontproperties=fp)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # file names with glyphs the font lacks
        finish(fig, out_path, show, dpi=90)
    return out_path, all_drawn
