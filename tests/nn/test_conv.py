"""Conv2D and petnet.conv against PyTorch: strides, both paddings (TF 'same'), odd sizes, batch 1."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet import conv
from petnet.nn import Conv2D
from tests.nn.helpers import layer_test, nchw, nhwc, torch_kernel, torch_pad_same


def torch_conv(kernel_size, strides, padding, activation=None):
    def fn(x, w):
        xc = nchw(x)
        if padding == "same":
            xc = torch_pad_same(xc, kernel_size, strides)
        y = F.conv2d(xc, torch_kernel(w[0]), w[1] if len(w) > 1 else None, stride=strides)
        if activation == "relu":
            y = F.relu(y)
        return nhwc(y)
    return fn


CASES = [
    # (input_shape, filters, kernel, strides, padding, batch)
    ((6, 5, 2), 3, (3, 3), (1, 1), "valid", 2),
    ((6, 5, 2), 3, (3, 3), (1, 1), "same", 2),
    ((7, 6, 3), 2, (3, 3), (2, 2), "same", 2),     # odd extra pad on bottom/right
    ((7, 7, 1), 4, (4, 4), (1, 1), "same", 1),     # even kernel: pads (1, 2); batch size 1
    ((9, 8, 2), 2, (3, 2), (2, 3), "valid", 2),    # rectangular kernel, unequal strides
    ((5, 5, 3), 2, (1, 1), (1, 1), "valid", 3),    # 1x1 convolution
    ((8, 7, 2), 3, (5, 3), (3, 2), "same", 1),
]


@pytest.mark.parametrize("shape,filters,k,s,padding,batch", CASES)
def test_conv2d_matches_torch(shape, filters, k, s, padding, batch):
    r = layer_test(lambda: Conv2D(filters, k, strides=s, padding=padding), torch_conv(k, s, padding), shape, batch)
    oh, ow = r["y"].shape[1:3]
    if padding == "same":
        assert (oh, ow) == (-(-shape[0] // s[0]), -(-shape[1] // s[1]))   # ceil(in / stride)


def test_conv2d_relu_and_no_bias():
    layer_test(lambda: Conv2D(3, (3, 3), padding="same", activation="relu"),
               torch_conv((3, 3), (1, 1), "same", "relu"), (5, 6, 2))
    r = layer_test(lambda: Conv2D(2, 3, use_bias=False), torch_conv((3, 3), (1, 1), "valid"), (5, 5, 2))
    assert len(r["layer"].get_weights()) == 1


def test_conv2d_attributes_and_keras_layout():
    layer = Conv2D(8, (3, 2), strides=2, padding="same", name="block1_conv1")
    layer(np.zeros((1, 9, 9, 3), np.float32))
    k, b = layer.get_weights()
    assert k.shape == (3, 2, 3, 8) and b.shape == (8,)
    assert k.dtype == np.float32
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding) == (8, (3, 2), (2, 2), "same")
    assert layer.name == "block1_conv1" and layer.input_shape == (9, 9, 3) and layer.output_shape == (5, 5, 8)
    assert layer.count_params() == 3 * 2 * 3 * 8 + 8


def test_correlate_backward_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 6, 3))
    k = rng.standard_normal((3, 3, 3, 4))
    out = conv.correlate(x, k, strides=2, padding="same")
    dout = rng.standard_normal(out.shape)
    dx, dk = conv.correlate_backward(dout, x.shape, k, x=x, strides=2, padding="same")
    xt, kt = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    yt = nhwc(F.conv2d(torch_pad_same(nchw(xt), (3, 3), (2, 2)), torch_kernel(kt), stride=2))
    (yt * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dk, kt.grad.numpy(), rtol=1e-10)


def test_im2col_paths_agree():
    """The few-channel (slice copy) and many-channel (strided reshape) im2col paths give the same matrix."""
    rng = np.random.default_rng(2)
    for c in (1, 3, 8, 16):
        x = rng.standard_normal((2, 6, 7, c))
        cols, (n, oh, ow), _ = conv.im2col(x, (3, 2), (2, 1), "same")
        ref = np.stack([x_pad_window(x, (3, 2), (2, 1), y, xx) for y in range(oh) for xx in range(ow)], axis=1)
        np.testing.assert_array_equal(cols.reshape(n, oh * ow, -1), ref)


def x_pad_window(x, k, s, y, xx):
    from tests.nn.helpers import tf_same_pads
    (t, b), (l, r) = tf_same_pads(x.shape[1], k[0], s[0]), tf_same_pads(x.shape[2], k[1], s[1])
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    return xp[:, y * s[0]:y * s[0] + k[0], xx * s[1]:xx * s[1] + k[1], :].reshape(len(x), -1)
