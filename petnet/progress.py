"""Progress bars for long work (tqdm), quiet when asked or when output is not a terminal."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

from petnet.safe_io import printable


def progress(iterable=None, *, total=None, desc=None, unit="it", quiet=False, **kwargs):
    """A tqdm bar on stderr; disabled by ``quiet=True`` or when stderr is not a TTY
    (so logs and tests stay clean). ``desc`` may come from a folder name: it is shown through
    :func:`petnet.safe_io.printable`, so it cannot send escape sequences to the terminal."""
    disable = quiet or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=None if desc is None else printable(desc), unit=unit, disable=disable,
                file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)
