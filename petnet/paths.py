"""Where petnet finds the shared data sets: one resolver for the library, tests and benchmarks.

The data of ``../shared/data`` (pet photos, non-pet photos, MNIST, house prices) lives beside the
project, never inside it. ``$PETNET_SHARED`` points elsewhere (``$PETNET_SHARED/data/...``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: the repository root (the folder that holds ``petnet/``)
ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``$PETNET_SHARED`` if set, else ``shared/`` beside the repository."""
    env = os.environ.get("PETNET_SHARED")
    return Path(env).expanduser() if env else ROOT.parent / "shared"


def shared_data(*parts: str) -> Path:
    """A path under the shared data folder: ``shared_data("pets", "train")``."""
    return shared_dir().joinpath("data", *parts)
