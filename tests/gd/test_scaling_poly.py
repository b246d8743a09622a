import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.gd.polynomial import power_features, power_names, to_original_units
from petnet.gd.scaling import StandardScaler


def test_standard_scaler_round_trip():
    X = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    s = StandardScaler().fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-15)
    np.testing.assert_allclose(Z.std(0), 1)
    np.testing.assert_allclose(s.inverse_transform(Z), X)


def test_constant_feature_is_named():
    with pytest.raises(PetnetError, match="'bedrooms' is constant"):
        StandardScaler(["size", "bedrooms"]).fit([[1.0, 3.0], [2.0, 3.0]])
    with pytest.raises(PetnetError, match="at least two samples"):
        StandardScaler().fit([[1.0]])


def test_power_features():
    X = np.array([[2.0, 3.0], [1.0, -1.0]])
    np.testing.assert_array_equal(power_features(X, 3), [[2, 4, 8, 3, 9, 27], [1, 1, 1, -1, 1, -1]])
    assert power_names(["a", "b"], 2) == ["a", "a^2", "b", "b^2"]


def test_to_original_units_evaluates_the_same_polynomial():
    c = np.array([0.5, -1.0, 2.0, 0.25])
    m, s = 1800.0, 650.0
    p = to_original_units(c, m, s)
    x = np.linspace(800, 4500, 7)
    z = (x - m) / s
    np.testing.assert_allclose(np.polyval(p[::-1], x), np.polyval(c[::-1], z), rtol=1e-9)
