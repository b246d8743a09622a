"""Model.fit, the one training loop: callbacks, augmentation hook, steps, sampling, divergence; the
loss registry and from_logits; Sequential as a functional graph."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.nn import (Callback, Dense, EarlyStopping, Input, L2, Model, Sequential, SoftmaxCrossEntropy,
                       TrainingDiverged, activations, losses, set_seed)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, logs["step"], logs["size"]))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 3)).astype(np.float32) + 3 * y[:, None]
    return x, y


def classifier():
    set_seed(0)
    m = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(2)])
    m.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=0.05)
    return m


def test_callback_hooks_in_keras_order():
    x, y = blobs(10)
    rec = Recorder()
    classifier().fit(x, y, epochs=2, batch_size=4, callbacks=[rec], verbose=0)
    assert rec.calls == [("train_begin",), ("epoch_begin", 0), ("batch_end", 0, 1, 4), ("batch_end", 1, 2, 4),
                         ("batch_end", 2, 3, 2), ("epoch_end", 0, ["accuracy", "loss"]), ("epoch_begin", 1),
                         ("batch_end", 0, 4, 4), ("batch_end", 1, 5, 4), ("batch_end", 2, 6, 2),
                         ("epoch_end", 1, ["accuracy", "loss"]), ("train_end",)]


def test_epoch_loss_is_the_mean_of_the_batch_losses():
    x, y = blobs(10)
    losses_seen = []

    class Batches(Callback):
        def on_batch_end(self, batch, logs=None):
            losses_seen.append((logs["loss"], logs["size"]))

    h = classifier().fit(x, y, epochs=1, batch_size=4, callbacks=[Batches()], verbose=0)
    mean = sum(v * n for v, n in losses_seen) / 10
    assert h.history["loss"][0] == pytest.approx(mean, rel=1e-12)


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = blobs(80)
    model = classifier()
    seen = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.get_weights()))

    # validate on flipped labels: the better it learns, the worse val_loss gets
    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = model.fit(x, y, epochs=30, batch_size=16, validation_data=(x, 1 - y), callbacks=[Snap(), stop],
                  verbose=0)
    assert stop.stopped_epoch_ is not None and len(h.epoch) == stop.stopped_epoch_ + 1 < 30
    best = int(np.argmin([v for v, _ in seen]))
    assert stop.best_epoch_ == best and stop.best_ == pytest.approx(seen[best][0])
    for a, b in zip(model.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ParamError, match="monitor 'val_loss' is not in the epoch logs"):
        classifier().fit(x, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


def test_augment_hook_gets_each_batch_and_the_loops_generator():
    x, y = blobs(12)
    got = []

    def augment(xb, yb, rng):
        got.append((xb.copy(), yb.copy(), float(rng.random())))
        return xb * 0, yb                      # the model only sees what the hook returns

    model = classifier()
    model.fit(x, y, epochs=1, batch_size=5, augment=augment, random_state=7, verbose=0, shuffle=False)
    assert [len(b) for b, _, _ in got] == [5, 5, 2]
    np.testing.assert_array_equal(np.concatenate([b for b, _, _ in got]), x)     # no shuffling: in order
    # the same random_state gives the same generator stream
    again = []
    classifier().fit(x, y, epochs=1, batch_size=5, verbose=0, shuffle=False, random_state=7,
                     augment=lambda xb, yb, rng: (again.append(float(rng.random())), (xb, yb))[1])
    assert again == [r for _, _, r in got]


def test_augment_may_change_the_sample_shape():
    """x holds several views per sample; the hook picks one (the pets head's distortions)."""
    rng = np.random.default_rng(0)
    views = rng.normal(size=(20, 3, 4)).astype(np.float32)
    y = rng.integers(0, 2, 20)
    inputs = Input((4,))
    model = Model(inputs, Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="softmax_cross_entropy", lr=0.1)
    h = model.fit(views, y, batch_size=5, verbose=0,
                  augment=lambda xb, yb, r: (xb[np.arange(len(xb)), r.integers(0, 3, len(xb))], yb))
    assert len(h.history["loss"]) == 1
    with pytest.raises(PetnetError, match=r"expects inputs of shape \(None, 4\)"):
        model.fit(views, y, verbose=0)


def test_steps_per_epoch_and_random_sampling():
    x, y = blobs(10)
    sizes = []

    class Sizes(Callback):
        def on_batch_end(self, batch, logs=None):
            sizes.append(logs["size"])

    model = classifier()
    model.fit(x, y, epochs=1, steps_per_epoch=7, batch_size=4, sampling="random", callbacks=[Sizes()], verbose=0,
              random_state=0)
    assert sizes == [4] * 7 and model.optimizer.t == 7
    # sampling='random': each step draws batch_size distinct samples, like rng.choice(n, b, replace=False)
    drawn = []
    classifier().fit(x, y, epochs=1, steps_per_epoch=3, batch_size=4, sampling="random", verbose=0,
                     random_state=5, augment=lambda xb, yb, r: (drawn.append(xb.copy()), (xb, yb))[1])
    ref = np.random.default_rng(5)
    for xb in drawn:
        np.testing.assert_array_equal(xb, x[ref.choice(10, size=4, replace=False)])
    with pytest.raises(ParamError, match="sampling must be one of epoch, random"):
        classifier().fit(x, y, sampling="bootstrap", verbose=0)
    with pytest.raises(ParamError, match="steps_per_epoch must be at least 1"):
        classifier().fit(x, y, steps_per_epoch=0, verbose=0)


def test_seed_is_the_old_name_of_random_state():
    x, y = blobs(10)
    with pytest.warns(DeprecationWarning, match="seed= is deprecated, use random_state="):
        a = classifier().fit(x, y, epochs=2, batch_size=3, seed=4, verbose=0).history
    b = classifier().fit(x, y, epochs=2, batch_size=3, random_state=4, verbose=0).history
    assert a == b


def test_divergence_names_the_learning_rate_and_the_cli_says_the_flag(tmp_path, capsys):
    x, y = blobs(32)
    m = Sequential([Dense(2, input_shape=(3,))])
    m.compile(optimizer="sgd", loss="mse", lr=1e6)
    with pytest.raises(TrainingDiverged, match=r"training diverged: the loss became (inf|nan) at step \d+; "
                                               r"the learning rate is probably too high \(learning_rate 1e\+06") as e:
        m.fit(x * 1e3, np.eye(2)[y], epochs=50, verbose=0)
    assert e.value.param == "learning_rate" and "--" not in str(e.value)
    assert e.value.renamed("--lr").startswith("training diverged") and "(--lr 1e+06: try" in e.value.renamed("--lr")


def test_loss_registry_and_probabilities_against_torch():
    assert losses.LOSSES.names() == ["categorical_crossentropy", "mse", "softmax_cross_entropy"]
    assert losses.get("sparse_categorical_crossentropy").from_logits is False
    assert losses.get("cross_entropy").from_logits is True
    assert "relu" in activations.ACTIVATIONS and "hardlim" in activations.ACTIVATIONS.names()
    with pytest.raises(PetnetError, match="unknown loss 'hinge'; choose one of: categorical_crossentropy"):
        losses.get("hinge")
    # from_logits=False on outputs that are not from a softmax: -mean(sum y log p), like torch's NLL of log p
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), 5)
    y = rng.integers(0, 4, 5)
    loss = SoftmaxCrossEntropy(from_logits=False)
    value, cache = loss.forward(p, y)
    pt = torch.tensor(p, requires_grad=True)
    ref = F.nll_loss(torch.log(pt), torch.tensor(y))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(cache), pt.grad.numpy(), rtol=1e-10)


def test_softmax_output_trains_on_its_logits():
    """A model ending in a softmax: the loss gets the logits from the tape (no log of a probability),
    so the gradient is exactly (softmax - y) / N even where a probability underflows to 0."""
    inputs = Input((2,), dtype="float64")
    dense = Dense(3, activation="softmax")
    model = Model(inputs, dense(inputs))
    model.set_weights([np.array([[400.0, 0, -400], [0, 0, 0]]), np.zeros(3)])
    model.compile(loss="categorical_crossentropy")
    x, y = np.array([[1.0, 0.0]]), np.array([2])
    loss, grads, _ = model.loss_and_gradients(x, y)
    zt = torch.tensor([[400.0, 0, -400]], requires_grad=True)
    ref = F.cross_entropy(zt, torch.tensor(y))
    ref.backward()
    assert np.isfinite(loss) and loss == pytest.approx(ref.item())
    np.testing.assert_allclose(grads[1], zt.grad.numpy()[0], atol=1e-12)


def test_sequential_is_a_functional_graph_and_regularizer_gradient():
    m = Sequential([Dense(3, input_shape=(4,), kernel_regularizer=L2(0.5), name="d")])
    assert isinstance(m, Model) and m.input.shape == (4,) and m.output.layer is m.layers[0]
    m.add(Dense(2, name="e"))
    assert m.output.layer.name == "e" and m.output_shape == (2,)
    m.compile(loss="mse")
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    m.set_weights([w.astype(np.float32) for w in m.get_weights()])
    _, with_reg, _ = m.loss_and_gradients(x, t)
    m.layers[0].regularizers.clear()
    _, without, _ = m.loss_and_gradients(x, t)
    np.testing.assert_allclose(with_reg[0] - without[0], 2 * 0.5 * m.layers[0].kernel, rtol=1e-5, atol=1e-6)
    assert L2(0.5)(np.array([1.0, 2.0])) == pytest.approx(2.5)


def test_cli_rewords_parameter_errors_with_the_flag(tmp_path, capsys):
    from tests.nn.test_cli import synthetic_digits
    synthetic_digits(tmp_path, n_train=8, n_test=4)
    assert main(["nn", "mnist", "--data", str(tmp_path), "--lr", "1e9"]) == 2
    assert "error: --lr must be at most 1000, got 1e+09" in capsys.readouterr().err
    assert main(["nn", "mnist", "--data", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: --data is ")
