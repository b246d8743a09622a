"""Progress reporting for the pets API: ``progress=None`` (silent), ``True`` (petnet's bars on
stderr, shown only on a terminal) or a callable that gets a :class:`petnet.progress.ProgressEvent`
(``phase`` ``"features"``, ``step`` photos done of ``total``, from 0) as work advances. Library code never
prints otherwise."""

from __future__ import annotations

from petnet.progress import ProgressEvent


class _Callback:
    def __init__(self, fn, total: int, phase: str):
        self.fn, self.total, self.phase, self.done = fn, total, phase, 0
        fn(ProgressEvent(phase, 0, total))           # the work starts: 0 of total

    def update(self, n: int = 1) -> None:
        self.done += n
        self.fn(ProgressEvent(self.phase, self.done, self.total))

    def close(self) -> None:
        pass


def bar(progress, *, total: int, desc: str, unit: str = "img", phase: str = "features"):
    """An object with ``update(n)`` and ``close()`` reporting to ``progress`` (see the module):
    a tqdm bar titled ``desc``, or events of ``phase`` to a callable."""
    if callable(progress):
        return _Callback(progress, total, phase)
    from petnet.progress import progress as tqdm_bar
    return tqdm_bar(total=total, desc=desc, unit=unit, quiet=not progress)
