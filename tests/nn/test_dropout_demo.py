"""Dropout against overfitting (talk 3.3.4) on a small MNIST subset: the curves' shape, measured
first (three seeds, see the numbers below) and asserted with a margin."""

from __future__ import annotations

import numpy as np
import pytest

from petnet.errors import ParamError
from petnet.nn import dropout_demo
from petnet.nn.dropout import Dropout
from tests.conftest import shared_path


def test_both_nets_start_from_the_same_weights():
    plain = dropout_demo.build_net(0.0, hidden=16, random_state=3)
    drop = dropout_demo.build_net(0.5, input_rate=0.2, hidden=16, random_state=3)
    assert [type(l).__name__ for l in drop.layers] == ["Dropout", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert not any(isinstance(l, Dropout) for l in plain.layers)
    for a, b in zip(plain.get_weights(), drop.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    np.testing.assert_allclose(plain.predict(x), drop.predict(x), rtol=1e-6)      # dropout is off at inference


def test_bad_values_are_named():
    with pytest.raises(ParamError, match="rate must be greater than 0"):
        dropout_demo.dropout_curves(rate=0)
    with pytest.raises(ParamError, match="input_rate must be at most 0.95"):
        dropout_demo.dropout_curves(input_rate=1)


def test_dropout_narrows_the_gap_between_train_and_test():
    """1000 digits, 784-256-256-10, 15 epochs of Adam. Measured with random_state 0 / 1 / 2:
    no dropout: train accuracy 1.000, test - train loss 0.468 / 0.449 / 0.454, test loss 0.470 / 0.451 / 0.456;
    dropout:    train accuracy 0.990, test - train loss 0.368 / 0.350 / 0.359, test loss 0.417 / 0.401 / 0.407.
    (The test accuracies differ by less than the seeds do: 0.867 vs 0.866, 0.877 vs 0.875, 0.876 vs 0.858.)"""
    folder = shared_path("data", "mnist")
    r = dropout_demo.dropout_curves(folder, hidden=256, n_train=1000, n_test=1000, epochs=15, random_state=0)
    plain, drop = r.curves["no dropout"], r.curves["dropout"]
    assert all(len(v) == 15 for v in plain.values())
    assert plain["train_accuracy"][-1] == 1.0 > drop["train_accuracy"][-1]      # it memorised every digit
    assert plain["train_loss"][-1] < drop["train_loss"][-1] / 5
    assert r.gap("no dropout", "loss") > r.gap("dropout", "loss") + 0.05
    assert drop["test_loss"][-1] < plain["test_loss"][-1] - 0.02
    # overfitting: without dropout the test loss has turned upward from its lowest value
    assert plain["test_loss"][-1] > min(plain["test_loss"]) + 0.02
    assert "train - test accuracy" in dropout_demo.format_result(r)


def test_command_line_names_the_flag(capsys):
    from petnet.cli import main

    assert main(["nn", "dropout", "--input-rate", "1"]) == 2
    assert "error: --input-rate must be at most 0.95, got 1" in capsys.readouterr().err
