"""Pooling against PyTorch, including ties (PyTorch gives the gradient to the first maximum) and 'same'."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.nn import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from tests.nn.helpers import layer_test, nchw, nhwc, tf_same_pads, torch_pad_same


def torch_max(pool, strides, padding="valid"):
    def fn(x, w):
        xc = nchw(x)
        if padding == "same":
            xc = torch_pad_same(xc, pool, strides, value=-float("inf"))
        return nhwc(F.max_pool2d(xc, pool, strides))
    return fn


def torch_avg(pool, strides, padding="valid"):
    def fn(x, w):
        xc = nchw(x)
        if padding == "valid":
            return nhwc(F.avg_pool2d(xc, pool, strides))
        # TF 'same' average: sum of the real pixels / number of real pixels in the window
        ones = torch.ones_like(xc[:, :1])
        s = F.avg_pool2d(torch_pad_same(xc, pool, strides), pool, strides, divisor_override=1)
        n = F.avg_pool2d(torch_pad_same(ones, pool, strides), pool, strides, divisor_override=1)
        return nhwc(s / n)
    return fn


MAX_CASES = [
    ((6, 6, 3), (2, 2), (2, 2), "valid", 2),
    ((7, 5, 2), (2, 2), (2, 2), "valid", 1),      # odd sizes: last row/column dropped
    ((7, 7, 2), (3, 3), (2, 2), "valid", 2),      # overlapping windows
    ((7, 6, 2), (3, 3), (2, 2), "same", 2),
    ((5, 5, 1), (2, 2), (2, 2), "same", 1),       # extra pad bottom/right
    ((6, 7, 2), (2, 3), (1, 2), "valid", 2),
]


@pytest.mark.parametrize("shape,pool,strides,padding,batch", MAX_CASES)
def test_max_pooling_matches_torch(shape, pool, strides, padding, batch):
    layer_test(lambda: MaxPooling2D(pool, strides, padding), torch_max(pool, strides, padding), shape, batch)


@pytest.mark.parametrize("pool,strides", [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((3, 2), (2, 1))])
def test_max_pooling_ties_match_torch(pool, strides):
    """Integer-valued inputs from {0, 1, 2} make many tied maxima (also across overlapping windows)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 6, 6, 2)).astype(np.float64)
    x[0, :, :, 0] = 1.0           # a whole plane of ties
    r = layer_test(lambda: MaxPooling2D(pool, strides), torch_max(pool, strides), (6, 6, 2), x=x, numeric=False)
    windows = np.prod(r["y"].shape)
    # each window hands its gradient to exactly one input (overlaps may then add up)
    if pool == strides:
        assert np.count_nonzero(r["dx"]) == windows


@pytest.mark.parametrize("shape,pool,strides,padding", [
    ((6, 6, 2), (2, 2), (2, 2), "valid"), ((7, 5, 3), (3, 3), (2, 2), "valid"),
    ((7, 6, 2), (3, 3), (2, 2), "same"), ((5, 5, 1), (2, 2), (2, 2), "same")])
def test_average_pooling_matches_torch(shape, pool, strides, padding):
    layer_test(lambda: AveragePooling2D(pool, strides, padding), torch_avg(pool, strides, padding), shape)


def test_global_pooling_matches_torch():
    layer_test(GlobalAveragePooling2D, lambda x, w: x.mean(dim=(1, 2)), (4, 5, 3))
    layer_test(GlobalMaxPooling2D, lambda x, w: F.adaptive_max_pool2d(nchw(x), 1)[:, :, 0, 0], (4, 5, 3), batch=1)
    x = np.zeros((2, 3, 3, 2))
    x[1, 1, 2, 1] = 5.0
    layer_test(GlobalMaxPooling2D, lambda x, w: F.adaptive_max_pool2d(nchw(x), 1)[:, :, 0, 0], (3, 3, 2),
               x=x, numeric=False)


def test_pooling_shapes_keras_defaults():
    p = MaxPooling2D()
    y = p(np.zeros((1, 28, 28, 32), np.float32))
    assert y.shape == (1, 14, 14, 32) and p.strides == (2, 2) and p.count_params() == 0
    assert AveragePooling2D(3, 2, "same").compute_output_shape((7, 7, 1)) == (4, 4, 1)
    assert tf_same_pads(7, 3, 2) == (1, 1)
