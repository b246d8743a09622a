"""``petnet predict --sheet out.png``: a contact sheet, each photo with its top 3 under it.

The talk showed each photo with ``plt.imshow`` after printing its guesses. Chinese names need a
font with CJK glyphs; matplotlib's bundled DejaVu fonts have none. If the system has one
(``fc-list :lang=zh`` lists them; e.g. Noto Sans CJK, WenQuanYi, SimHei, PingFang, Microsoft
YaHei) it is used, otherwise the sheet falls back to the English labels and says so.
"""

from __future__ import annotations

import math
from pathlib import Path

_CJK_HINTS = ("cjk", "wenquanyi", "wqy", "simhei", "simsun", "yahei", "pingfang", "heiti",
              "hiragino", "source han", "noto sans sc", "noto serif sc", "ar pl", "droid sans fallback",
              "unifont", "fangsong", "kaiti", "songti", "ms gothic", "takao", "ipa")
_PROBE = "猫"


def find_cjk_font():
    """A font file path able to draw Chinese, or None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    candidates = [f for f in font_manager.fontManager.ttflist
                  if any(h in f.name.lower() or h in Path(f.fname).name.lower() for h in _CJK_HINTS)]
    for f in candidates:
        try:
            if ord(_PROBE) in FT2Font(f.fname).get_charmap():
                return f.fname
        except Exception:  # noqa: BLE001 -- an unreadable font file is just not a candidate
            continue
    return None


def has_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def contact_sheet(results, out_path=None, show: bool = False, columns: int = 4):
    """Draw ``results`` = ``[(path, [(label, name, score), ...]), ...]``; save to ``out_path``
    and/or show it. Returns ``(out_path, used_cjk_font: bool)``."""
    from petnet.plotting import finish, pyplot
    plt = pyplot(show)
    from matplotlib.font_manager import FontProperties

    from petnet.pets.images import ImageError, load_image

    font_file = find_cjk_font()
    fp = FontProperties(fname=font_file) if font_file else None
    n = max(1, len(results))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (path, top) in zip(axes.ravel(), results):
        try:
            img = load_image(path)
            img.thumbnail((400, 400))
            ax.imshow(img)
        except ImageError:
            pass
        lines = []
        for label, name, score in top[:3]:
            shown = name if (font_file or not has_cjk(name)) else label
            lines.append(f"{shown} ({score:.3f})")
        ax.set_title(Path(path).name, fontsize=8, fontproperties=fp)
        ax.text(0.5, -0.04, "\n".join(lines), transform=ax.transAxes, ha="center", va="top",
                fontsize=9, fontproperties=fp)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # file names with glyphs the font lacks
        finish(fig, out_path, show, dpi=90)
    return out_path, font_file is not None
