"""Progress reporting for the pets API: ``progress=None`` (silent), ``True`` (petnet's bars on
stderr, shown only on a terminal) or a callable ``progress(stage, done, total)``, called as work
advances (``stage`` is e.g. ``"features lite2"``). Library code never prints otherwise."""

from __future__ import annotations


class _Callback:
    def __init__(self, fn, total: int, desc: str):
        self.fn, self.total, self.desc, self.done = fn, total, desc, 0

    def update(self, n: int = 1) -> None:
        self.done += n
        self.fn(self.desc, self.done, self.total)

    def close(self) -> None:
        pass


def bar(progress, *, total: int, desc: str, unit: str = "img"):
    """An object with ``update(n)`` and ``close()`` reporting to ``progress`` (see the module)."""
    if callable(progress):
        return _Callback(progress, total, desc)
    from petnet.progress import progress as tqdm_bar
    return tqdm_bar(total=total, desc=desc, unit=unit, quiet=not progress)
