"""Wilson's interval against SciPy's (an independent implementation) and its edge cases."""

import pytest

from petnet.errors import ParamError
from petnet.stats import Rate, wilson_interval

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (7, 124), (62, 124), (1, 1), (118, 120), (3, 37)])
def test_wilson_matches_scipy(k, n):
    ci = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_is_not_the_textbook_interval_at_the_edges():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and 0.27 < hi < 0.28          # p ± z·sqrt(p(1-p)/n) would give [0, 0]


def test_rate_prints_count_value_and_interval():
    r = Rate(7, 124)
    assert r.value == pytest.approx(7 / 124)
    assert str(r) == "7/124 = 5.6% [2.8%, 11.2%]"


@pytest.mark.parametrize("k,n,param", [(3, 2, "k"), (-1, 5, "k"), (0, 0, "n"), (1.5, 4, "k")])
def test_bad_counts_name_the_parameter(k, n, param):
    with pytest.raises(ParamError) as e:
        wilson_interval(k, n)
    assert e.value.param == param
