"""The chapter's command line: petnet nn gradcheck, petnet nn mnist (tiny data), help texts, errors."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

from petnet.cli import build_parser, main
from petnet.nn import mnist
from tests.conftest import shared_path


def write_idx_gz(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 + arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def synthetic_digits(folder, n_train=200, n_test=100, seed=0):
    """A tiny, easy MNIST look-alike: class k is a bright bar at row 2 + 2k (plus noise)."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(y):
            x[i, 3 + 2 * k: 5 + 2 * k, 4:24] = 250
        img, lab = mnist.FILES[split]
        write_idx_gz(folder / img, x)
        write_idx_gz(folder / lab, y)
    return folder


def test_help_texts_and_registration(capsys):
    parser = build_parser()
    for argv in (["nn", "--help"], ["nn", "mnist", "--help"], ["nn", "gradcheck", "--help"], ["backprop", "--help"]):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "example" in out
    assert main(["nn"]) == 2          # a bare group prints its help and exits 2 (CLI convention)


def test_mnist_command_learns_tiny_data(tmp_path, capsys):
    synthetic_digits(tmp_path)
    save = tmp_path / "w.npz"
    code = main(["nn", "mnist", "--data", str(tmp_path), "--epochs", "2", "--batch-size", "40", "--lr", "3e-3",
                 "--json", "--save", str(save)])
    assert code == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("test_accuracy", "epochs", "seconds", "cpu_seconds"):
        assert key in r
    assert r["epochs"] == 2 and r["train_images"] == 200 and r["test_images"] == 100
    assert r["test_accuracy"] > 0.5          # chance is 0.1
    assert r["history"][-1]["loss"] < r["history"][0]["loss"]
    # the saved weights reproduce the reported accuracy
    model = mnist.build_model(seed=1)
    model.load_weights(save)
    x, y = mnist.load(tmp_path, "test")
    acc = float(np.mean(model.predict(x).argmax(axis=1) == y))
    assert acc == pytest.approx(r["test_accuracy"])


def test_mnist_command_text_output_on_real_subset(capsys):
    folder = shared_path("data", "mnist")
    assert main(["nn", "mnist", "--data", str(folder), "--limit", "256", "--test-limit", "200", "--epochs", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy:" in out and "200 test images" in out and "256 images" in out
    assert "s wall" in out and "s CPU" in out


def test_mnist_command_errors(tmp_path, capsys):
    assert main(["nn", "mnist", "--data", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "nowhere" in err and "mnist" in err.lower()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    assert main(["nn", "mnist", "--data", str(tmp_path)]) == 2
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["nn", "mnist", "--epochs", "0"])


def test_shift_images_moves_pixels():
    rng = np.random.default_rng(0)
    x = np.zeros((50, 28, 28, 1), np.float32)
    x[:, 14, 14, 0] = 1
    s = mnist.shift_images(x, rng, max_shift=2)
    assert s.shape == x.shape and np.all(s.sum(axis=(1, 2, 3)) == 1)
    pos = np.argwhere(s[..., 0] == 1)[:, 1:]
    assert np.all(np.abs(pos - 14) <= 2) and len({tuple(p) for p in pos}) > 5


def test_gradcheck_command(capsys):
    pytest.importorskip("petnet.nn.gradcheck")
    code = main(["nn", "gradcheck", "--json"])
    r = json.loads(capsys.readouterr().out)
    assert set(r) >= {"layers", "max_rel_error"}
    assert "Conv2D" in r["layers"] and "Dense" in r["layers"]
    assert r["max_rel_error"] == pytest.approx(max(r["layers"].values()))
    assert r["max_rel_error"] < 1e-5 and code == 0
    assert main(["nn", "gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "max rel error" in out and "Conv2D" in out and "FAIL" not in out


def test_perceptron_command(capsys):
    assert main(["nn", "perceptron", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["AND"]["converged"] and r["AND"]["predictions"] == [0, 0, 0, 1]
    assert r["OR"]["converged"] and r["OR"]["predictions"] == [0, 1, 1, 1]
    assert not r["XOR"]["converged"] and r["XOR"]["accuracy"] < 1
    assert main(["nn", "perceptron", "--gate", "xor", "--max-epochs", "5"]) == 0
    assert "NOT separable" in capsys.readouterr().out
