"""Sequential and functional models: gradients vs PyTorch, training, predict/evaluate, dtype, names."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet import optim
from petnet.nn import (Activation, Add, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                       GlobalAveragePooling2D, Input, MaxPooling2D, Model, Sequential, reset_names,
                       residual_block, set_seed)
from tests.nn.helpers import model_matches_torch, nchw, nhwc, torch_kernel, torch_pad_same


def small_cnn(dtype="float64"):
    model = Sequential([
        Conv2D(3, (3, 3), padding="same", activation="relu", input_shape=(7, 7, 2)),
        MaxPooling2D((2, 2)),
        Conv2D(4, (2, 2), strides=2, activation="tanh"),
        Flatten(),
        Dense(5, activation="softmax"),
    ], dtype=dtype)
    return model


def torch_small_cnn(x, w):
    h = F.relu(F.conv2d(torch_pad_same(nchw(x), (3, 3), (1, 1)), torch_kernel(w[0]), w[1]))
    h = F.max_pool2d(h, 2)
    h = torch.tanh(F.conv2d(h, torch_kernel(w[2]), w[3], stride=2))
    h = nhwc(h).reshape(len(x), -1)     # Keras flattens channels-last
    return h @ w[4] + w[5]              # logits


def test_sequential_cnn_loss_and_gradients_match_torch():
    rng = np.random.default_rng(0)
    model = small_cnn()
    model.set_weights([rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = rng.standard_normal((3, 7, 7, 2)), np.array([0, 4, 2])
    xt, wt = model_matches_torch(model, x, y,
                                 lambda xt, wt: F.cross_entropy(torch_small_cnn(xt, wt), torch.tensor(y)))
    np.testing.assert_allclose(model.predict(x), F.softmax(torch_small_cnn(xt, wt), 1).detach().numpy(), rtol=1e-10)


def test_train_on_batch_is_one_optimizer_step_like_torch():
    rng = np.random.default_rng(1)
    model = small_cnn()
    model.set_weights([rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()])
    model.compile(optimizer=optim.Adam(lr=0.01), loss="softmax_cross_entropy")
    x, y = rng.standard_normal((4, 7, 7, 2)), np.array([1, 0, 3, 3])
    wt = [torch.tensor(w, requires_grad=True) for w in model.get_weights()]
    opt = torch.optim.Adam(wt, lr=0.01)
    for _ in range(3):
        model.train_on_batch(x, y)
        opt.zero_grad()
        F.cross_entropy(torch_small_cnn(torch.tensor(x), wt), torch.tensor(y)).backward()
        opt.step()
    for w, t in zip(model.get_weights(), wt):
        np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_functional_model_with_skip_connection_matches_torch():
    rng = np.random.default_rng(2)
    inputs = Input(shape=(5, 5, 2), dtype="float64")
    a = Conv2D(3, (3, 3), padding="same", activation="relu")(inputs)
    b = Conv2D(3, (3, 3), padding="same")(a)
    h = Activation("relu")(Add()([a, b]))
    outputs = Dense(2)(GlobalAveragePooling2D()(h))
    model = Model(inputs, outputs)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
    model.compile(loss="mse")
    x, t = rng.standard_normal((3, 5, 5, 2)), rng.standard_normal((3, 2))

    def torch_loss(xt, w):
        ta = F.relu(F.conv2d(F.pad(nchw(xt), (1, 1, 1, 1)), torch_kernel(w[0]), w[1]))
        tb = F.conv2d(F.pad(ta, (1, 1, 1, 1)), torch_kernel(w[2]), w[3])
        out = F.relu(ta + tb).mean(dim=(2, 3)) @ w[4] + w[5]
        return F.mse_loss(out, torch.tensor(t))

    model_matches_torch(model, x, t, torch_loss)


def test_residual_block_shapes_and_projection():
    inputs = Input(shape=(6, 6, 3))
    same = residual_block(inputs, 3, name="res1")
    proj = residual_block(same, 5, name="res2")
    model = Model(inputs, proj)
    names = [l.name for l in model.layers]
    assert "res2_shortcut" in names and "res1_shortcut" not in names
    assert model.output_shape == (6, 6, 5)
    assert model.predict(np.ones((2, 6, 6, 3))).shape == (2, 6, 6, 5)


def lines_data(n, rng):
    """Images with a vertical (class 0) or horizontal (class 1) bright line, plus noise."""
    x = rng.normal(0, 0.1, (n, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, n)
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, :, pos[i], 0] += 1
        else:
            x[i, pos[i], :, 0] += 1
    return x, y


def test_fit_trains_a_cnn_and_reports_history():
    set_seed(0)
    rng = np.random.default_rng(0)
    x, y = lines_data(256, rng)
    xv, yv = lines_data(64, rng)
    model = Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(),
                        Flatten(), Dropout(0.2), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], lr=0.01)
    hist = model.fit(x, y, epochs=8, batch_size=32, validation_data=(xv, yv), verbose=0, random_state=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist.history["loss"]) == 8 and hist.epoch == list(range(8))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] >= 0.95
    loss, acc = model.evaluate(xv, yv)
    assert acc == pytest.approx(hist.history["val_accuracy"][-1])
    assert model.evaluate(xv, yv, return_dict=True) == {"loss": loss, "accuracy": acc}
    probs = model.predict(xv, batch_size=7)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(probs, model(xv), rtol=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == yv))
    assert model.get_weights()[0].dtype == np.float32


def test_fit_with_one_hot_labels_and_mse():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    m = Sequential([Dense(8, activation="tanh"), Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"], lr=0.05)
    h = m.fit(x, np.eye(2)[y], epochs=15, batch_size=16, verbose=0, random_state=1)
    assert h.history["accuracy"][-1] > 0.9
    r = Sequential([Dense(1)])
    r.compile(optimizer="adam", loss="mse", lr=0.1)
    t = x @ np.array([2.0, -1.0]) + 0.5
    h = r.fit(x, t, epochs=40, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.01 * h.history["loss"][0]
    k, b = r.get_weights()
    np.testing.assert_allclose(k[:, 0], [2, -1], atol=0.05)


def test_frozen_layer_is_not_trained():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((32, 4)).astype(np.float32), rng.integers(0, 3, 32)
    m = Sequential([Dense(5, activation="relu", trainable=False), BatchNormalization(), Dense(3)])
    m.build((4,))
    before = m.layers[0].get_weights()
    m.compile(optimizer="sgd", loss="softmax_cross_entropy", lr=0.1)
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(before, m.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    s = m.summary(print_fn=None)
    assert s.non_trainable_params == 4 * 5 + 5 + 2 * 5
    assert len(m.trainable_weights) == len(m.loss_and_gradients(x, y).gradients) == 4


def test_dtype_rules():
    m = Sequential([Dense(3)])
    assert m(np.ones((2, 4))).dtype == np.float64        # built on float64 data -> float64
    m2 = Sequential([Dense(3)])
    m2.compile(loss="mse")
    m2.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)   # fit builds float32 and casts the data
    assert m2.layers[0].kernel.dtype == np.float32
    assert m2.predict(np.ones((2, 4), dtype=np.float64)).dtype == np.float32


def test_keras_style_names():
    reset_names()
    layers = [Conv2D(2, 3), Conv2D(2, 3), MaxPooling2D(), BatchNormalization(), Dense(2), Dense(3)]
    assert [l.name for l in layers] == ["conv2d", "conv2d_1", "max_pooling2d", "batch_normalization",
                                        "dense", "dense_1"]
    assert Sequential().name.startswith("sequential")


def test_sequential_input_shape_sources_and_logits_output():
    a = Sequential([Input(shape=(4,)), Dense(3, name="d1")])
    assert a.built and a.output_shape == (3,)
    b = Sequential()
    b.add(Dense(3))
    assert not b.built
    b.build((4,))
    assert b.layers[0].kernel.shape == (4, 3)
    # no final softmax: outputs are logits and the loss applies the softmax itself
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    a.compile(loss="softmax_cross_entropy")
    logits = a.predict(x)
    loss = a.evaluate(x, y)
    ref = F.cross_entropy(torch.tensor(logits, dtype=torch.float64), torch.tensor(y)).item()
    assert loss == pytest.approx(ref, rel=1e-5)
