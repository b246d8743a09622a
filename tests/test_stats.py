"""Wilson intervals against SciPy's (``binomtest(...).proportion_ci(method="wilson")``)."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from petnet.errors import ParamError
from petnet.stats import rate_text, wilson_interval


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (199, 200), (297, 297),
                                 (405, 408), (1, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_interval_other_level_and_edges():
    ref = binomtest(7, 20).proportion_ci(confidence_level=0.99, method="wilson")
    assert wilson_interval(7, 20, z=2.5758293035489004) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0


@pytest.mark.parametrize("k,n", [(-1, 5), (6, 5), (1.5, 5), (1, -1), (True, 3)])
def test_wilson_interval_refuses_bad_counts(k, n):
    with pytest.raises(ParamError, match="^k "):
        wilson_interval(k, n)


def test_rate_text():
    lo, hi = wilson_interval(199, 200)
    assert rate_text(199, 200) == f"99.5% (199/200) [{100 * lo:.1f}-{100 * hi:.1f}]"
    assert rate_text(0, 0) == "- (0/0)"
