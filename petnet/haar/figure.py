"""Drawing detections: photos side by side with their boxes (matplotlib, written to PNG)."""

from __future__ import annotations

import math


def boxes_figure(panels, out=None, show: bool = False, columns: int | None = None, colour: str = "lime",
                 title_font=None, panel_inches: float = 3.6, dpi: int = 100):
    """Draw ``panels`` -- ``(image, boxes, title)`` tuples, image grey or RGB, boxes ``(N, 4)``
    ``x, y, w, h`` -- in a grid and save it to ``out`` (PNG, PDF or SVG). ``title_font``: a
    matplotlib ``FontProperties`` for the titles (e.g. one with Chinese glyphs); each panel is
    ``panel_inches`` wide at ``dpi`` dots per inch. Returns ``out``."""
    from matplotlib.patches import Rectangle

    from petnet.plotting import finish, literal, pyplot

    plt = pyplot(show)
    n = len(panels)
    if n == 0:
        raise ValueError("panels must hold at least one (image, boxes, title)")
    cols = columns or min(n, 4)
    rows = math.ceil(n / cols)
    size = (panel_inches * cols, (panel_inches + 0.3) * rows)
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (img, boxes, title) in zip(axes.ravel(), panels):
        ax.imshow(img, cmap="gray" if getattr(img, "ndim", 3) == 2 else None, vmin=0, vmax=255)
        for x, y, w, h in boxes:
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor=colour, linewidth=2))
        ax.set_title(literal(title), fontsize=9 if panel_inches >= 3 else 7, fontproperties=title_font)
    return finish(fig, out, show, dpi=dpi)
