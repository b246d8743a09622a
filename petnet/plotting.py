"""matplotlib set-up shared by every chapter's figures.

Figures are written to PNG files with the non-interactive Agg backend, so they work on machines
without a display; only ``show=True`` (the commands' ``--show``) asks for a window.
"""

from __future__ import annotations

from pathlib import Path


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
    fig.tight_layout()
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi)
    if show:
        plt.show()
    plt.close(fig)
    return out
