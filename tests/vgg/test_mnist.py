"""`petnet vgg mnist`: the VGG-style net with batch norm learns MNIST (short run on real data)."""

import re

from petnet.cli import main
from petnet.vgg.accounting import totals, vgg_layers
from petnet.vgg.mnist import MNIST_CONFIG, build
from tests.conftest import shared_path


def test_structure():
    model = build()
    assert model.count_params() == totals(vgg_layers(MNIST_CONFIG, (28, 28, 1), classes=10, batch_norm=True,
                                                     fc_units=128))["total_params"]
    assert tuple(model.get_layer("block2_pool").output_shape) == (7, 7, 64)


def test_learns_real_digits():
    """Sanity check of the whole VGG-style stack (conv, BN, ReLU, pool, dropout, dense, softmax, Adam):
    a few steps on 32 real digits drive their loss well down."""
    from petnet.nn.mnist import load

    x, y = load(shared_path("data", "mnist"), "train", 32)
    model = build(seed=1)
    model.compile(optimizer="adam", metrics=["accuracy"], lr=1e-3)
    first = model.train_on_batch(x, y)[0]
    for _ in range(11):
        loss, acc = model.train_on_batch(x, y)
    assert first > 2.0 and loss < first / 2, (first, loss)     # measured: 2.75 -> 0.73
    assert acc > 0.5                                           # measured: 0.78 (dropout on)


def test_command_runs(capsys):
    folder = shared_path("data", "mnist")
    assert main(["vgg", "mnist", "--data", str(folder), "--epochs", "1", "--limit", "128",
                 "--test-limit", "100", "--quiet"]) == 0
    out = capsys.readouterr().out
    acc = float(re.search(r"test accuracy ([0-9.]+) \(loss ([0-9.]+)\) on 100 test images", out).group(1))
    assert 0 <= acc <= 1 and "128 training images" in out


def test_bad_options(capsys):
    assert main(["vgg", "mnist", "--epochs", "0", "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err
