"""Gradient checking: is every hand-written ``backward`` right? Compare it with central differences.

For a scalar function L(theta), the numerical gradient of each entry is

    dL/dtheta_i ~ (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)        (error O(eps^2))

and the check reports the relative error  ||g_analytic - g_numeric|| / (||g_analytic|| + ||g_numeric||),
which is ~1e-10 in float64 when backward is right and ~1 when it is wrong.

Each layer is checked with L = sum(layer(x) * R) for a fixed random R (so dL/dy = R), for the
gradient w.r.t. its input and every parameter; the losses are checked directly, and a small conv net
(and a residual model) end to end through the loss. Everything runs in float64.
"""

from __future__ import annotations

import numpy as np

from petnet.blas import one_blas_thread
from petnet.nn import layer as layer_mod
from petnet.nn.activations import ACTIVATIONS, Activation
from petnet.nn.batchnorm import BatchNormalization
from petnet.nn.conv2d import Conv2D
from petnet.nn.dense import Dense
from petnet.nn.dropout import Dropout
from petnet.nn.flatten import Flatten
from petnet.nn.losses import MeanSquaredError, SoftmaxCrossEntropy
from petnet.nn.merge import Add
from petnet.nn.model import Input, Model, Sequential
from petnet.nn.pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from petnet.nn.residual import residual_block


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` w.r.t. every entry of ``x`` (changed in place, restored)."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


def rel_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def check_layer(layer, x, training: bool = False, seed: int = 0, eps: float = 1e-6) -> float:
    """Max relative error of ``layer.backward`` (input and parameter gradients) against central differences."""
    rng = np.random.default_rng(seed)
    xs = [np.asarray(a, dtype=np.float64) for a in (x if isinstance(x, list) else [x])]
    arg = lambda: xs if isinstance(x, list) else xs[0]  # noqa: E731
    if not layer.built:
        layer(arg())
    dropout_seed = int(rng.integers(1 << 30))

    def run():
        if isinstance(layer, Dropout):   # the same mask on every evaluation
            layer._rng = np.random.default_rng(dropout_seed)
        return layer.forward(arg(), training=training)

    R = rng.standard_normal(run()[0].shape)
    loss = lambda: float(np.sum(run()[0] * R))  # noqa: E731
    dx, grads = layer.backward(run()[1], R)
    dxs = dx if isinstance(x, list) else [dx]
    analytic = list(dxs) + [np.array(g) for g in grads]
    targets = xs + list(layer.params)
    return max(rel_error(a, numerical_gradient(loss, t, eps)) for a, t in zip(analytic, targets))


def check_loss(loss, z, y, eps: float = 1e-6) -> float:
    z = np.array(z, dtype=np.float64)
    g = loss.backward(loss.forward(z, y)[1])
    return rel_error(g, numerical_gradient(lambda: loss(z, y), z, eps))


def check_model(model, loss, x, y, eps: float = 1e-6) -> float:
    """End to end: gradients of loss(model(x), y) w.r.t. the input and every trainable weight."""
    x = np.array(x, dtype=np.float64)
    model.compile(optimizer="gd", loss=loss)

    def value():
        return model.loss_and_gradients(x, y, training=False).loss

    _, grads, dx = model.loss_and_gradients(x, y, training=False)
    errs = [rel_error(dx, numerical_gradient(value, x, eps))]
    for w, g in zip(model.trainable_weights, grads):
        errs.append(rel_error(g, numerical_gradient(value, w, eps)))
    return max(errs)


@one_blas_thread()
def gradcheck_all(seed: int = 0) -> dict:
    """Check every layer type, activation and loss, plus a small conv net and a residual model.

    Returns ``{"layers": {"Dense": err, "Conv2D": err, ...}, "max_rel_error": float}``.
    """
    rng = np.random.default_rng(seed)
    layer_mod.set_seed(seed)
    img = lambda *s: rng.standard_normal(s)  # noqa: E731
    errs: dict[str, float] = {}

    def put(key, err):
        errs[key] = max(errs.get(key, 0.0), err)

    put("Dense", check_layer(Dense(4, activation="tanh"), img(3, 5), seed=seed))
    put("Conv2D", check_layer(Conv2D(3, (3, 3), activation="relu"), img(2, 6, 5, 2), seed=seed))
    put("Conv2D", check_layer(Conv2D(2, (3, 2), strides=2, padding="same"), img(2, 7, 6, 3), seed=seed))
    put("MaxPooling2D", check_layer(MaxPooling2D((2, 2)), img(2, 5, 6, 3), seed=seed))
    put("MaxPooling2D", check_layer(MaxPooling2D((3, 3), strides=2, padding="same"), img(1, 7, 6, 2), seed=seed))
    put("AveragePooling2D", check_layer(AveragePooling2D((2, 2)), img(2, 4, 5, 3), seed=seed))
    put("AveragePooling2D", check_layer(AveragePooling2D((3, 3), strides=2, padding="same"), img(2, 6, 7, 2),
                                        seed=seed))
    put("GlobalAveragePooling2D", check_layer(GlobalAveragePooling2D(), img(2, 3, 4, 3), seed=seed))
    put("GlobalMaxPooling2D", check_layer(GlobalMaxPooling2D(), img(2, 3, 4, 3), seed=seed))
    put("Flatten", check_layer(Flatten(), img(2, 3, 4, 2), seed=seed))
    put("Dropout", check_layer(Dropout(0.4), img(3, 6), training=True, seed=seed))
    bn = BatchNormalization()
    bn(img(4, 3, 3, 2))
    bn.set_weights([rng.uniform(0.5, 1.5, 2), rng.standard_normal(2), rng.standard_normal(2), rng.uniform(0.5, 2, 2)])
    put("BatchNormalization", check_layer(bn, img(4, 3, 3, 2), training=True, seed=seed))
    put("BatchNormalization", check_layer(bn, img(4, 3, 3, 2), training=False, seed=seed))
    for name in ACTIVATIONS.names():
        put(f"Activation({name})", check_layer(Activation(name), img(3, 5), seed=seed))
    put("Add", check_layer(Add(), [img(2, 3, 3, 2), img(2, 3, 3, 2), img(2, 3, 3, 2)], seed=seed))
    put("SoftmaxCrossEntropy", check_loss(SoftmaxCrossEntropy(), img(4, 5), rng.integers(0, 5, 4)))
    put("SoftmaxCrossEntropy", check_loss(SoftmaxCrossEntropy(), img(4, 5), np.eye(5)[rng.integers(0, 5, 4)]))
    put("MeanSquaredError", check_loss(MeanSquaredError(), img(4, 3), img(4, 3)))

    net = Sequential([Conv2D(3, (3, 3), padding="same", activation="relu"), BatchNormalization(),
                      MaxPooling2D((2, 2)), Conv2D(4, (2, 2), strides=2, activation="elu"), Flatten(),
                      Dense(5, activation="softmax")], dtype="float64")
    net.build((8, 8, 2))
    put("ConvNet (end to end)", check_model(net, "softmax_cross_entropy", img(3, 8, 8, 2), rng.integers(0, 5, 3)))
    inputs = Input(shape=(5, 5, 2), dtype="float64")
    h = residual_block(inputs, 3)
    h = residual_block(h, 3)
    outputs = Dense(2)(GlobalAveragePooling2D()(h))
    put("Residual model (end to end)", check_model(Model(inputs, outputs), "mse", img(2, 5, 5, 2), img(2, 2)))
    return {"layers": errs, "max_rel_error": max(errs.values())}
