"""The benchmarks' machine-readable side: ``--json PATH`` writes a bench's key figures for
``bench/all.py`` (``make bench``), which prints them in one table. Written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def add_json_flag(parser) -> None:
    """The shared ``--json PATH`` option of the benchmarks."""
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the key figures as JSON to PATH (read by bench/all.py)")


def write_json(path, figures: dict) -> None:
    """Write ``figures`` to ``path`` (nothing when ``path`` is None), via a temporary file."""
    if not path:
        return
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(figures, f, indent=1, default=float)
    os.replace(tmp, path)
