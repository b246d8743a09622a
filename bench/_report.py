"""The benchmarks' machine-readable side: ``--json PATH`` writes a bench's key figures for
``bench/all.py`` (``make bench``), which prints them in one table. Written atomically."""

from __future__ import annotations

import json


def add_json_flag(parser) -> None:
    """The shared ``--json PATH`` option of the benchmarks."""
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the key figures as JSON to PATH (read by bench/all.py)")


def write_json(path, figures: dict) -> None:
    """Write ``figures`` to ``path`` (nothing when ``path`` is None), atomically
    (:func:`petnet.atomic.write_text`)."""
    if not path:
        return
    from petnet.atomic import write_text
    write_text(path, json.dumps(figures, indent=1, default=float), what="benchmark figures")
