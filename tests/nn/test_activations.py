"""Activation functions against PyTorch, and the talk's transfer functions."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.errors import PetnetError
from petnet.nn import Activation, Dense
from petnet.nn import activations as A
from tests.nn.helpers import layer_test

TORCH = {
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "logsig": torch.sigmoid,
    "tanh": torch.tanh,
    "tansig": torch.tanh,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "linear": lambda x: x,
    "purelin": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_activation_matches_torch(name):
    layer_test(lambda: Activation(name), lambda x, w: TORCH[name](x), (6,), batch=3)


def test_activation_on_images_and_extreme_values():
    layer_test(lambda: Activation("softmax"), lambda x, w: F.softmax(x, dim=-1), (3, 2, 4))
    z = np.array([[-1000.0, 0.0, 1000.0]])
    np.testing.assert_allclose(A.sigmoid(z), [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(A.softmax(z), [[0.0, 0.0, 1.0]])
    assert np.all(np.isfinite(A.Sigmoid()(np.array([-800.0, 800.0]))))


def test_hardlim_is_the_talks_step():
    n = np.array([-2.0, -1e-9, 0.0, 0.5])
    np.testing.assert_array_equal(A.hardlim(n), [0, 0, 1, 1])      # a = 1 if n >= 0
    h = A.get("hardlim")
    _, cache = h.forward(n)
    np.testing.assert_array_equal(h.backward(cache, np.ones(4)), 0)      # derivative 0 almost everywhere
    np.testing.assert_allclose(A.purelin(n), n)
    np.testing.assert_allclose(A.logsig(n), 1 / (1 + np.exp(-n)))
    np.testing.assert_allclose(A.tansig(n), np.tanh(n))


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(PetnetError, match="unknown activation 'rellu'.*relu"):
        Dense(3, activation="rellu")
    with pytest.raises(PetnetError, match="unknown activation"):
        Activation("swishy")
