"""Rates with their uncertainty: the Wilson score interval of a binomial proportion.

A rate measured on n photos is only known to within an interval; petnet reports every rate as
``k/n = p% [lo%, hi%]``. The Wilson interval (E. B. Wilson, 1927) stays inside [0, 1] and is
sensible at 0 and n successes, where the normal approximation collapses to a point::

    centre = (k + z^2 / 2) / (n + z^2)
    half   = z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4)
"""

from __future__ import annotations

import math

from petnet.errors import ParamError


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """``(low, high)``: the Wilson score interval of ``k`` successes in ``n`` trials (default
    z: 95%). ``n = 0`` gives ``(0, 1)`` (nothing is known)."""
    if isinstance(k, bool) or int(k) != k or isinstance(n, bool) or int(n) != n:
        raise ParamError("k", f"and n must be whole numbers, got {k!r} and {n!r}")
    k, n = int(k), int(n)
    if n < 0 or not 0 <= k <= n:
        raise ParamError("k", f"must be between 0 and n = {n}, got {k}")
    if not z > 0:
        raise ParamError("z", f"must be > 0, got {z!r}")
    if n == 0:
        return 0.0, 1.0
    z2 = z * z
    centre = (k + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_text(k: int, n: int, digits: int = 1) -> str:
    """``"99.5% (199/200) [97.2-99.9]"``: the rate, the counts and the 95% Wilson interval in
    percent (``"- (0/0)"`` for no photos)."""
    if n == 0:
        return "- (0/0)"
    lo, hi = wilson_interval(k, n)
    return f"{100 * k / n:.{digits}f}% ({k}/{n}) [{100 * lo:.{digits}f}-{100 * hi:.{digits}f}]"
