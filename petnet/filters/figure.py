"""The side-by-side figure *original | result* of ``petnet filter --compare``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petnet.plotting import finish, literal, pyplot


def compare_figure(path, before: np.ndarray, after: np.ndarray, title: str) -> Path:
    """Save ``original | result`` side by side as a PNG (written atomically)."""
    plt = pyplot()
    h, w = before.shape[:2]
    fig, axes = plt.subplots(1, 2, figsize=(2 * 5, 5 * h / w + 0.6))
    try:
        for ax, img, name in zip(axes, (before, after), ("original", title)):
            ax.imshow(img.clip(0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_title(literal(name))
            ax.axis("off")
    except BaseException:
        plt.close(fig)
        raise
    finish(fig, path, dpi=100)
    return Path(path)
