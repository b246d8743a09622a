"""A layer called more than once in a functional graph shares its weights; the gradients of all its
calls are summed. Checked against PyTorch (float64, rtol 1e-6) like every other engine test."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.errors import PetnetError
from petnet.nn import Add, BatchNormalization, Conv2D, Dense, Flatten, Input, Model, Sequential, set_seed
from petnet.nn.gradcheck import numerical_gradient
from tests.nn.helpers import model_matches_torch, nchw, nhwc, torch_kernel


def check_against_torch(model, x, t, torch_forward):
    model.compile(loss="mse")
    model_matches_torch(model, x, t, lambda xt, w: F.mse_loss(torch_forward(xt, w), torch.tensor(t)))


def test_dense_applied_twice_like_an_unrolled_recurrence():
    rng = np.random.default_rng(0)
    inputs = Input(shape=(5,), dtype="float64")
    step = Dense(5, activation="tanh", name="step")
    outputs = Dense(3, name="out")(step(step(inputs)))
    model = Model(inputs, outputs)
    assert [l.name for l in model.layers] == ["step", "out"]        # the shared layer once
    assert model.count_params() == 5 * 5 + 5 + 5 * 3 + 3
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])

    def torch_forward(x, w):
        h = torch.tanh(torch.tanh(x @ w[0] + w[1]) @ w[0] + w[1])
        return h @ w[2] + w[3]

    check_against_torch(model, rng.standard_normal((4, 5)), rng.standard_normal((4, 3)), torch_forward)


def test_siamese_conv_on_two_branches():
    rng = np.random.default_rng(1)
    inputs = Input(shape=(6, 6, 3), dtype="float64")
    other = Conv2D(3, (1, 1), name="mix")(inputs)
    shared = Conv2D(2, (3, 3), padding="same", activation="relu", name="shared")
    merged = Add()([shared(inputs), shared(other)])
    model = Model(inputs, Dense(2, name="out")(Flatten()(merged)))
    model.set_weights([rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()])

    order = [l.name for l in model.layers if l.params]       # weights come layer by layer in this order

    def torch_forward(x, w):
        p = {name: w[2 * i: 2 * i + 2] for i, name in enumerate(order)}
        xc = nchw(x)
        other = F.conv2d(xc, torch_kernel(p["mix"][0]), p["mix"][1])

        def conv(h):
            return F.relu(F.conv2d(F.pad(h, (1, 1, 1, 1)), torch_kernel(p["shared"][0]), p["shared"][1]))
        merged = nhwc(conv(xc) + conv(other)).reshape(len(x), -1)
        return merged @ p["out"][0] + p["out"][1]

    check_against_torch(model, rng.standard_normal((3, 6, 6, 3)), rng.standard_normal((3, 2)), torch_forward)


def test_shared_model_trains_and_saves_each_weight_once(tmp_path):
    set_seed(0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    inputs = Input(shape=(4,))
    block = Dense(4, activation="relu", name="block")
    norm = BatchNormalization(name="norm")
    h = norm(block(norm(block(inputs))))
    model = Model(inputs, Dense(2, activation="softmax", name="out")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "shared.npz"
    model.save_weights(path)
    clone_in = Input(shape=(4,))
    b2, n2 = Dense(4, activation="relu", name="block"), BatchNormalization(name="norm")
    clone = Model(clone_in, Dense(2, activation="softmax", name="out")(n2(b2(n2(b2(clone_in))))))
    clone.load_weights(path)
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-6)
    summary = model.summary(print_fn=lambda *_: None)
    assert [row[0] for row in summary.rows].count("block") == 1
    assert summary.total_params == model.count_params() == (4 * 4 + 4) + 2 * 4 + 2 * 4 + (4 * 2 + 2)


def test_shared_batchnorm_in_training_mode_against_central_differences():
    """BatchNorm's batch statistics and x-hat are per call: each call's cache is on the tape and
    its backward uses that one (not the second call's twice)."""
    rng = np.random.default_rng(3)
    inputs = Input(shape=(3,), dtype="float64")
    mix, norm = Dense(3, activation="tanh", name="mix"), BatchNormalization(name="norm")
    model = Model(inputs, Dense(2, name="out")(norm(mix(norm(mix(inputs))))))
    model.compile(loss="mse")
    weights = [rng.standard_normal(w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    _, grads, dx = model.loss_and_gradients(x, t, training=True)

    def loss():   # training mode: batch statistics, so the moving averages do not matter
        return model.loss_and_gradients(x, t, training=True).loss

    assert len(grads) == 2 + 2 + 2        # mix, norm (gamma, beta), out: the shared ones once
    for g, w in zip(grads, model.trainable_weights):   # the model's own arrays, nudged in place
        np.testing.assert_allclose(g, numerical_gradient(loss, w), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-5, atol=1e-8)


def test_a_sequential_points_to_the_functional_api_for_sharing():
    step = Dense(3, input_shape=(3,))
    with pytest.raises(PetnetError, match="functional API"):
        Sequential([step, step])
