"""Softmax cross-entropy and MSE against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.errors import PetnetError
from petnet.nn import MeanSquaredError, SoftmaxCrossEntropy


def torch_ce(z, target):
    zt = torch.tensor(z, requires_grad=True)
    loss = F.cross_entropy(zt, torch.tensor(target))
    loss.backward()
    return loss.item(), zt.grad.numpy()


def test_cross_entropy_int_labels_matches_torch():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    loss = SoftmaxCrossEntropy()
    value, cache = loss.forward(z, y)
    ref, grad = torch_ce(z, y)
    assert value == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(loss.backward(cache), grad, rtol=1e-10)


def test_cross_entropy_one_hot_and_soft_labels_match_torch():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 3))
    for t in (np.eye(3)[[0, 2, 1, 1]], rng.dirichlet(np.ones(3), 4)):
        loss = SoftmaxCrossEntropy()
        ref, grad = torch_ce(z, t)
        value, cache = loss.forward(z, t)
        assert value == pytest.approx(ref, rel=1e-12)
        np.testing.assert_allclose(loss.backward(cache), grad, rtol=1e-10)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    loss = SoftmaxCrossEntropy()
    value, cache = loss.forward(z, [2, 1])
    ref, grad = torch_ce(z, np.array([2, 1]))
    assert np.isfinite(value) and value == pytest.approx(ref)
    np.testing.assert_allclose(loss.backward(cache), grad, atol=1e-12)


def test_mse_matches_torch():
    rng = np.random.default_rng(2)
    a, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    at = torch.tensor(a, requires_grad=True)
    ref = F.mse_loss(at, torch.tensor(t))
    ref.backward()
    loss = MeanSquaredError()
    value, cache = loss.forward(a, t)
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(cache), at.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("labels,match", [
    (np.array([0, 1]), "2 labels for 3 samples"),
    (np.array([0, 1, 7]), r"in 0\.\.3"),
    (np.array([0, -1, 2]), r"in 0\.\.3"),
    (np.array([0.5, 1, 2]), "whole numbers"),
    (np.eye(3), "do not match"),
])
def test_bad_labels_are_clear_errors(labels, match):
    with pytest.raises(PetnetError, match=match):
        SoftmaxCrossEntropy()(np.zeros((3, 4)), labels)


def test_mse_shape_mismatch():
    with pytest.raises(PetnetError, match="do not match"):
        MeanSquaredError()(np.zeros((3, 2)), np.zeros((2, 2)))
