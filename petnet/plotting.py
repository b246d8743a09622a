"""matplotlib set-up shared by every chapter's figures.

Figures are written to PNG files with the non-interactive Agg backend, so they work on machines
without a display; only ``show=True`` (the commands' ``--show``) asks for a window.
"""

from __future__ import annotations

from pathlib import Path

from petnet.errors import PetnetError


def pyplot(show: bool = False):
    """``matplotlib.pyplot``, on the Agg backend unless a window is wanted."""
    import matplotlib
    if not show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def finish(fig, out=None, show: bool = False, dpi: int = 110):
    """Lay out ``fig``, save it to ``out`` (folders created) and/or show it, then close it.
    Returns ``out``."""
    import matplotlib.pyplot as plt
    try:
        fig.tight_layout()
        if out:
            try:
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(out, dpi=dpi)
            except OSError as exc:
                raise PetnetError(f"cannot write the picture {out}: {exc.strerror or exc}; "
                                  "choose another path") from None
            except ValueError as exc:   # e.g. "Format 'xyz' is not supported"
                raise PetnetError(f"cannot write the picture {out}: {exc}; use .png, .pdf or .svg") from None
        if show:
            plt.show()
    finally:
        plt.close(fig)
    return out
