"""One helper for every layer test: the same layer in petnet and in PyTorch, same float64 weights.

``layer_test(layer_factory, torch_fn, input_shape)``:

1. builds the petnet layer on a random float64 batch and gives it random float64 weights;
2. runs ``forward`` and ``backward(cache, dy)`` for a random dy;
3. runs ``torch_fn(x, weights)`` -- the PyTorch equivalent written with ``torch.nn.functional`` on the
   same NHWC tensor and the same Keras-layout weights (the function transposes to NCHW itself) --
   and lets autograd compute the gradients of sum(y * dy);
4. asserts outputs, input gradient and every parameter gradient agree to rtol 1e-6;
5. checks the same gradients against central differences (independent of both libraries).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from petnet.nn.gradcheck import numerical_gradient as central_diff  # f() changes with x in place

RTOL, ATOL = 1e-6, 1e-9


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def torch_kernel(k):
    """Keras (kh, kw, in, out) -> PyTorch (out, in, kh, kw)."""
    return k.permute(3, 2, 0, 1)


def tf_same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow 'same' padding written out independently: output ceil(size/s), extra pixel after."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def torch_pad_same(x_nchw, k_hw, strides, value=0.0):
    (kh, kw), (sh, sw) = k_hw, strides
    t, b = tf_same_pads(x_nchw.shape[2], kh, sh)
    l, r = tf_same_pads(x_nchw.shape[3], kw, sw)
    return F.pad(x_nchw, (l, r, t, b), value=value)


def layer_test(layer_factory, torch_fn, input_shape, batch: int = 2, training: bool = False, seed: int = 0,
               weights=None, x=None, numeric: bool = True, rtol: float = RTOL):
    """Compare a petnet layer with PyTorch (and central differences); returns a dict of the results."""
    rng = np.random.default_rng(seed)
    if x is None:
        x = rng.standard_normal((batch,) + tuple(input_shape))
    x = np.array(x, dtype=np.float64)
    layer = layer_factory()
    layer(x)
    assert layer.dtype == np.float64, "a layer first called on float64 data must build float64 weights"
    if callable(weights):
        ws = weights(layer, rng)
    elif weights is not None:
        ws = weights
    else:
        ws = [rng.standard_normal(w.shape) for w in layer.get_weights()]
    ws = [np.array(w, dtype=np.float64) for w in ws]
    layer.set_weights(ws)
    n_train = len(layer.params)

    y, cache = layer.forward(x, training=training)
    dy = rng.standard_normal(y.shape)
    dx, grads = layer.backward(cache, dy)
    grads = [np.array(g) for g in grads]
    assert len(grads) == n_train

    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=i < n_train) for i, w in enumerate(ws)]
    yt = torch_fn(xt, wt)
    (yt * torch.tensor(dy)).sum().backward()

    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=rtol, atol=ATOL, err_msg="forward output")
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=rtol, atol=ATOL, err_msg="input gradient")
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, wt[i].grad.numpy(), rtol=rtol, atol=ATOL, err_msg=f"gradient of weight {i}")

    if numeric:
        def loss():
            return float(np.sum(layer.forward(x, training=training)[0] * dy))
        for analytic, target in [(dx, x)] + list(zip(grads, layer.params)):
            num = central_diff(loss, target)
            np.testing.assert_allclose(analytic, num, rtol=1e-5, atol=1e-7, err_msg="central differences")
        if hasattr(layer, "moving_mean"):   # the extra forwards moved them; put the given ones back
            layer.set_weights(ws)
    return {"layer": layer, "x": x, "y": y, "dy": dy, "dx": dx, "grads": grads, "weights": ws}


def model_matches_torch(model, x, y, torch_loss):
    """A compiled petnet model's loss, input gradient and every weight gradient vs PyTorch autograd.

    ``torch_loss(xt, wt)`` computes the same loss from the input tensor and the model's weights
    (``model.get_weights()`` order). Returns ``(xt, wt)`` for further checks."""
    import pytest

    loss, grads, dx = model.loss_and_gradients(x, y)
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in model.get_weights()]
    ref = torch_loss(xt, wt)
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    assert len(grads) == len(wt)
    for g, w in zip(grads, wt):
        np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-6, atol=1e-12)
    return xt, wt
