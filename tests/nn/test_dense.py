"""Dense against torch.nn.functional.linear (Keras kernel (in, out) = PyTorch weight transposed)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.nn import Dense
from tests.nn.helpers import layer_test


@pytest.mark.parametrize("batch", [1, 4])
def test_dense_matches_torch(batch):
    layer_test(lambda: Dense(3), lambda x, w: F.linear(x, w[0].T, w[1]), (5,), batch)


def test_dense_activation_no_bias():
    layer_test(lambda: Dense(4, activation="sigmoid"), lambda x, w: torch.sigmoid(x @ w[0] + w[1]), (3,))
    r = layer_test(lambda: Dense(2, use_bias=False, activation="tanh"), lambda x, w: torch.tanh(x @ w[0]), (6,))
    assert len(r["grads"]) == 1


def test_dense_layout_and_defaults():
    d = Dense(7, name="fc")
    y = d(np.ones((2, 3), dtype=np.uint8))
    k, b = d.get_weights()
    assert k.shape == (3, 7) and b.shape == (7,) and np.all(b == 0)
    assert y.dtype == np.float32 and d.units == 7 and d.count_params() == 28
    limit = np.sqrt(6 / (3 + 7))     # Glorot uniform, as Keras
    assert np.abs(k).max() <= limit
