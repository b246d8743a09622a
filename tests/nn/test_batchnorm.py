"""BatchNormalization against torch.nn.functional.batch_norm, training and inference."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.errors import PetnetError
from petnet.nn import BatchNormalization
from tests.nn.helpers import layer_test


def bn_weights(layer, rng):
    c = layer.input_shape[-1]
    return [rng.uniform(0.5, 1.5, c), rng.standard_normal(c), rng.standard_normal(c), rng.uniform(0.5, 2.0, c)]


def torch_bn(training, momentum=0.99, eps=1e-3):
    def fn(x, w):
        gamma, beta, mean, var = w
        c = x.shape[-1]
        flat = x.reshape(-1, c)
        y = F.batch_norm(flat, mean.clone(), var.clone(), gamma, beta, training=training,
                         momentum=1 - momentum, eps=eps)
        return y.reshape(x.shape)
    return fn


@pytest.mark.parametrize("shape,batch", [((4, 3, 3), 3), ((5,), 4), ((3, 2, 2), 1)])
def test_batchnorm_training_matches_torch(shape, batch):
    layer_test(BatchNormalization, torch_bn(True), shape, batch, training=True, weights=bn_weights)


@pytest.mark.parametrize("shape", [(4, 3, 3), (5,)])
def test_batchnorm_inference_matches_torch(shape):
    layer_test(BatchNormalization, torch_bn(False), shape, 2, training=False, weights=bn_weights)


def test_moving_statistics_follow_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4, 4, 3)) * 3 + 1
    bn = BatchNormalization(momentum=0.9)
    bn(x)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        bn.forward(x, training=True)
        F.batch_norm(torch.tensor(x.reshape(-1, 3)), rm, rv, training=True, momentum=0.1)
    np.testing.assert_allclose(bn.moving_mean, rm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.moving_variance, rv.numpy(), rtol=1e-10)
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2


def test_batchnorm_rejects_single_value_training():
    bn = BatchNormalization()
    bn(np.ones((2, 3)))
    with pytest.raises(PetnetError, match="batch size above 1"):
        bn.forward(np.ones((1, 3)), training=True)
