"""A measured rate with its count and a 95% interval: ``Rate`` and ``wilson_interval``.

petnet reports every accuracy as ``k/n = p% [lo%, hi%]``: the count says how much evidence there
is, the interval how far the true rate may be from the one measured. The interval is Wilson's
score interval (Wilson 1927), which stays inside [0, 1] and behaves at 0/n and n/n, unlike the
textbook ``p ± z·sqrt(p(1-p)/n)``::

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)          p = k/n, z = 1.96 for 95%
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from petnet.validate import check_int, check_number

Z95 = 1.959963984540054      # the 97.5% quantile of the standard normal distribution


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval ``(lo, hi)`` of a proportion: ``k`` successes in ``n`` trials."""
    n = check_int("n", n, min=1)
    k = check_int("k", k, min=0, max=n)
    z = check_number("z", z, min=0, min_exclusive=True)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` (e.g. photos right of photos tested), with ``value`` and its 95% ``interval``."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.k, self.n)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"{self.k}/{self.n} = {100 * self.value:.1f}% [{100 * lo:.1f}%, {100 * hi:.1f}%]"
