"""Inverted dropout: scaled mask while training, identity at inference."""

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.nn import Dropout


def test_dropout_training_mask_scaling_and_backward():
    x = np.random.default_rng(0).standard_normal((200, 50)).astype(np.float32)
    d = Dropout(0.3, seed=1)
    d(x)
    y, cache = d.forward(x, training=True)
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-6)
    dy = np.ones_like(x)
    dx, grads = d.backward(cache, dy)
    assert grads == []
    np.testing.assert_allclose(dx, kept / 0.7, rtol=1e-6)
    assert abs(y.mean() - x.mean()) < 0.05   # expected value kept
    assert y.dtype == np.float32


def test_dropout_is_identity_at_inference():
    x = np.arange(12.0).reshape(3, 4)
    d = Dropout(0.5)
    np.testing.assert_array_equal(d(x), x)
    y, cache = d.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(d.backward(cache, np.ones_like(x))[0], np.ones_like(x))


def test_dropout_rate_must_be_valid():
    with pytest.raises(PetnetError, match=r"\[0, 1\)"):
        Dropout(1.0)
