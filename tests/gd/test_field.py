"""The gradient field of the house-price loss (talk 2.1.1) against central differences, the
descent path against -lr * grad L and numpy's least squares."""

import numpy as np
import pytest

from petnet.errors import ParamError
from petnet.gd import ConvergenceWarning, LinearRegressionGD, example_path, load_xy
from petnet.gd.field import ScaledLoss, gradient_field, plot_gradient_field


@pytest.fixture(scope="module")
def field():
    return gradient_field(learning_rate=0.1, n_steps=30, grid=9)


def test_field_equals_central_differences_of_the_loss(field):
    f, h = field.loss_function, 1e-6
    A0, A1 = np.meshgrid(field.a0, field.a1)
    d0 = (f(A0 + h, A1) - f(A0 - h, A1)) / (2 * h)
    d1 = (f(A0, A1 + h) - f(A0, A1 - h)) / (2 * h)
    np.testing.assert_allclose(field.descent[0], -d0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(field.descent[1], -d1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(field.loss, f(A0, A1))
    assert field.descent.shape == (2, 9, 9)


def test_path_follows_minus_lr_times_gradient(field):
    f, p = field.loss_function, field.path
    for k in range(len(p) - 1):
        a0, a1 = p[k]
        h = 1e-6
        num = np.array([(f(a0 + h, a1) - f(a0 - h, a1)) / (2 * h), (f(a0, a1 + h) - f(a0, a1 - h)) / (2 * h)])
        np.testing.assert_allclose(p[k + 1], p[k] - 0.1 * num, rtol=1e-7, atol=1e-9)
    assert np.all(np.diff(field.path_loss) < 0)          # every step goes downhill


def test_start_minimum_and_contraction_against_numpy(field):
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    x = X[:, 0]
    # the talk's a0 = a1 = 1 in dollars and sqft, mapped by hand to the standardised plane
    np.testing.assert_allclose(field.path[0], [(1 + x.mean() - y.mean()) / y.std(), x.std() / y.std()])
    # least squares of the standardised line: intercept 0, slope = correlation of area and price
    np.testing.assert_allclose(field.minimum, [0.0, np.corrcoef(x, y)[0, 1]], atol=1e-12)
    # Hessian = identity, so each step multiplies the distance to the minimum by 1 - lr exactly
    assert field.contraction == pytest.approx(0.9, rel=1e-9)
    # the same path as LinearRegressionGD (plain GD, same start), in original units
    with pytest.warns(ConvergenceWarning):
        model = LinearRegressionGD(learning_rate=0.1, max_iter=30, tol=0).fit(X, y)
    np.testing.assert_allclose(field.loss_function.to_original(field.path), model.path_, rtol=1e-9)


def test_plot_and_bad_parameters(tmp_path, field):
    out = plot_gradient_field(field, out=tmp_path / "field.png")
    assert out.stat().st_size > 10_000
    with pytest.raises(ParamError, match="^learning_rate must be"):
        gradient_field(learning_rate=0)
    with pytest.raises(ParamError, match="^grid must be at most 101"):
        gradient_field(grid=1000)
    with pytest.raises(ParamError, match="^X must have exactly one feature column"):
        ScaledLoss(np.ones((5, 2)), np.arange(5.0))


def test_cli_field(capsys, tmp_path):
    from petnet.cli import main
    assert main(["gd", "field", "--plot", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "least squares: (a0, a1) = (0.0000, 0.9415)" in out
    assert "each step multiplies the distance to the minimum by 0.900000 (= 1 - lr)" in out
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert main(["gd", "field", "--lr", "3"]) == 2
    assert "error: --lr must be at most 2, got 3" in capsys.readouterr().err
