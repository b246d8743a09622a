import numpy as np
from scipy.optimize import minimize

from petnet.gd.surfaces import DoubleWell, START, descend, surface
from petnet import optim


def test_gradient_matches_central_differences():
    s = DoubleWell()
    for p in [(0.3, -0.7), (1.7, 1.1), (-1.2, 0.4)]:
        h = 1e-6
        num = [(s(p[0] + h, p[1]) - s(p[0] - h, p[1])) / (2 * h),
               (s(p[0], p[1] + h) - s(p[0], p[1] - h)) / (2 * h)]
        np.testing.assert_allclose(s.gradient(p), num, rtol=1e-7)


def test_minima_agree_with_scipy():
    s = DoubleWell()
    f = lambda p: float(s(*p))
    left = minimize(f, [-1.5, 0.5], jac=s.gradient, method="BFGS").x
    right = minimize(f, [1.5, 0.5], jac=s.gradient, method="BFGS").x
    np.testing.assert_allclose(left, s.global_minimum, atol=1e-5)
    np.testing.assert_allclose(right, s.local_minimum, atol=1e-5)
    assert s(*s.global_minimum) < s(*s.local_minimum)


def test_plain_gd_is_trapped_and_momentum_escapes():
    s = DoubleWell()
    paths = {name: run.path for name, run in surface(n_steps=500, start=START).runs.items()}
    assert s.which_minimum(descend(s, optim.GD(lr=0.01), START, 3000)[-1]) == "local"
    assert s.which_minimum(paths["momentum"][-1]) == "global"
    assert s.which_minimum(paths["nesterov"][-1]) == "global"
    assert all(len(p) == 501 for p in paths.values())
