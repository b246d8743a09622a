"""matplotlib set-up shared by every chapter's figures.

Figures are written to picture files with the non-interactive Agg backend, so they work on
machines without a display; only ``show=True`` (the commands' ``--show``) asks for a window.

* The path of a picture is checked before any work (:func:`check_picture_path`, from
  :mod:`petnet.output_guard`): a folder, a name
  ending in ``/``, a name without an extension or with one matplotlib cannot write is refused with
  a message that names the problem (matplotlib would otherwise write ``dir/.png`` for ``dir/`` and
  ``dir.png`` for ``dir``).
* Pictures are bounded: at most ``MAX_PICTURE_PIXELS`` = 40 megapixels (about 6300 x 6300, a
  160 MB RGBA raster) and 65 000 pixels a side. :func:`bounded_figsize` gives a figure size that
  fits, and :func:`finish` lowers the resolution of any figure that would not (a 1000-class
  confusion matrix asked for 25 200 x 25 200 pixels and 20 GB).
* Pictures are written atomically (:mod:`petnet.atomic`): a full disk never leaves half a PNG.
* Text that comes from the user -- a file, folder, class or column name -- goes through
  :func:`literal`, so ``cat$\\x$.jpg`` is drawn as written instead of being parsed as TeX math (an
  error at drawing time). Math text itself stays on: matplotlib writes the tick labels of log axes
  as ``$\\mathdefault{10^{-2}}$`` and must parse them to draw 10⁻².
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from petnet.output_guard import PICTURE_FORMATS, check_picture_path  # noqa: F401  (checked by the output guard too)
from petnet.safe_io import printable

MAX_PICTURE_PIXELS = 40_000_000
MAX_SIDE_PIXELS = 65_000          # Agg cannot draw 2**16 pixels or more a side


def pyplot(show: bool = False):
    """``matplotlib.pyplot``, on the Agg backend unless a window is wanted."""
    import matplotlib
    if not show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def literal(text) -> str:
    """``text`` (any object, as ``str``) escaped so that matplotlib draws it character for
    character: every ``$`` becomes ``\\$``, so a name such as ``cat$\\x$.jpg`` is never read as
    TeX math, while the figure's own math text (the ``10^{-2}`` ticks of a log axis) still is.
    For every title, label, tick label or legend entry built from user data (file, folder,
    class or column names)."""
    return str(text).replace("$", "\\$")


def bounded_figsize(width: float, height: float, dpi: float = 100,
                    max_pixels: int | None = None) -> tuple[float, float]:
    """``(width, height)`` in inches, scaled down (keeping the aspect ratio) so that the picture at
    ``dpi`` has at most ``max_pixels`` (default ``MAX_PICTURE_PIXELS``) pixels and
    ``MAX_SIDE_PIXELS`` a side."""
    scale = _scale(width * dpi, height * dpi, max_pixels)
    return width * scale, height * scale


def _scale(w_px: float, h_px: float, max_pixels: int | None = None) -> float:
    max_pixels = MAX_PICTURE_PIXELS if max_pixels is None else max_pixels
    scale = 1.0
    if w_px * h_px > max_pixels:
        scale = math.sqrt(max_pixels / (w_px * h_px))
    side = max(w_px, h_px) * scale
    if side > MAX_SIDE_PIXELS:
        scale *= MAX_SIDE_PIXELS / side
    return scale


def finish(fig, out=None, show: bool = False, dpi: int = 110):
    """Lay out ``fig``, save it to ``out`` (folders created; written atomically) and/or show it,
    then close it. ``out`` is checked first (:func:`check_picture_path`); a figure larger than
    ``MAX_PICTURE_PIXELS`` is saved at a lower resolution. Returns ``out``."""
    import matplotlib.pyplot as plt

    from petnet.atomic import write_atomically
    given = out
    try:
        if out:
            out = check_picture_path(out)
        fig.tight_layout()
        if out:
            width, height = fig.get_size_inches()
            dpi = dpi * _scale(width * dpi, height * dpi)
            fmt = PICTURE_FORMATS[out.suffix.lower()]
            write_atomically(out, lambda f: fig.savefig(f, format=fmt, dpi=dpi), what="the picture")
        if show:
            plt.show()
    finally:
        plt.close(fig)
    return given
