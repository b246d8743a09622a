"""Progress of long work: one event shape for every caller, and bars (tqdm) for people.

Long work in petnet -- retraining (``petnet.pets.retrain``), recognising many photos
(``Recognizer.predict``), filling the bottleneck cache, a Ray bulk job (``petnet.scale``), the web
app's training job (``petnet.serve``) -- takes ``progress=``: ``None`` (silent), ``True`` (petnet's
bars on a terminal) or a callable that gets one :class:`ProgressEvent` at a time::

    ProgressEvent(phase="training", step=200, total=1000, message="Step 200: Train accuracy = ...")

``phase`` says what is being done (``features``, ``training``, ``calibration``, ``review``,
``photos``), ``step`` of ``total`` how far (``total`` 0: no count), and ``message`` is the line
``petnet`` prints for it, or ``None`` for a bare count. A program reads the numbers, never the text.
:class:`Reporter` turns events into the command line's lines and bars.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tqdm.auto import tqdm

from petnet.safe_io import printable

#: the unit of a phase's bar
UNITS = {"features": "img", "photos": "img", "training": "step", "calibration": "fold", "review": "fold"}


@dataclass(frozen=True)
class ProgressEvent:
    """One step of long work: ``step`` of ``total`` in ``phase`` (``total`` 0: no count), and
    ``message``, the line the command line prints for it (``None``: a bare count)."""

    phase: str
    step: int = 0
    total: int = 0
    message: str | None = None


def progress(iterable=None, *, total=None, desc=None, unit="it", quiet=False, **kwargs):
    """A tqdm bar on stderr; disabled by ``quiet=True`` or when stderr is not a TTY
    (so logs and tests stay clean). ``desc`` may come from a folder name: it is shown through
    :func:`petnet.safe_io.printable`, so it cannot send escape sequences to the terminal."""
    disable = quiet or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=None if desc is None else printable(desc), unit=unit, disable=disable,
                file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)


class Reporter:
    """A ``progress=`` callable that shows :class:`ProgressEvent` s to a person: each ``message``
    through ``say(line)`` (``None``: lines are not shown) and, with ``bars``, one bar per phase that
    has a ``total`` (on stderr, only on a terminal; ``desc`` renames a phase's bar). ``close()``
    ends the bar that is still open."""

    def __init__(self, say=None, *, bars: bool = True, desc: dict | None = None):
        self.say, self.bars, self.desc = say, bars, dict(desc or {})
        self._bar, self._phase = None, None

    def __call__(self, event: ProgressEvent) -> None:
        if self.bars and event.total > 0:
            if self._bar is not None and event.phase != self._phase:
                self.close()
            if self._bar is None and event.step < event.total:
                self._bar = progress(total=event.total, desc=self.desc.get(event.phase, event.phase),
                                     unit=UNITS.get(event.phase, "it"))
                self._phase = event.phase
            if self._bar is not None:
                self._bar.total = event.total
                self._bar.n = min(event.step, event.total)
                self._bar.refresh()
                if event.step >= event.total:
                    self.close()
        if event.message is not None and self.say is not None:
            with tqdm.external_write_mode(file=sys.stdout):     # lines above the bar, not through it
                self.say(event.message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._phase = None, None


def reporter(progress_arg):
    """The callable behind a ``progress=`` argument: ``None`` -> one that ignores events, ``True``
    -> petnet's bars (:class:`Reporter` without lines), a callable -> itself."""
    if progress_arg is None or progress_arg is False:
        return _ignore
    if progress_arg is True:
        return Reporter(bars=True)
    if not callable(progress_arg):
        from petnet.errors import ParamError
        raise ParamError("progress", f"must be None, True or a callable taking a ProgressEvent, "
                         f"got {type(progress_arg).__name__}")
    return progress_arg


def _ignore(event: ProgressEvent) -> None:
    pass
