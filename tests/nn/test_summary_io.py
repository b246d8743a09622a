"""summary() parameter counts (checked against PyTorch modules) and .npz weights save/load."""

import numpy as np
import pytest
import torch

from petnet.errors import PetnetError
from petnet.nn import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D, Model,
                       Sequential, residual_block)


def mnist_cnn():
    return Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1), name="conv1"),
        MaxPooling2D((2, 2), name="pool1"),
        Conv2D(64, (3, 3), activation="relu", name="conv2"),
        BatchNormalization(name="bn"),
        MaxPooling2D((2, 2), name="pool2"),
        Flatten(name="flatten"),
        Dropout(0.5, name="drop"),
        Dense(128, activation="relu", name="fc1"),
        Dense(10, activation="softmax", name="fc2"),
    ])


def test_summary_counts_equal_torch():
    s = mnist_cnn().summary(print_fn=None)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.MaxPool2d(2), torch.nn.Conv2d(32, 64, 3),
                              torch.nn.BatchNorm2d(64), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(5 * 5 * 64, 128), torch.nn.Linear(128, 10))
    trainable = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for n, b in net.named_buffers() if "running" in n)
    assert s.trainable_params == trainable
    assert s.non_trainable_params == buffers == 128
    assert s.total_params == trainable + buffers
    assert [r[0] for r in s.rows] == ["conv1", "pool1", "conv2", "bn", "pool2", "flatten", "drop", "fc1", "fc2"]
    assert s.rows[0][1:] == ("Conv2D", (26, 26, 32), 320)
    assert s.rows[4][2] == (5, 5, 64)
    assert s.as_dict()["layers"][-1] == {"name": "fc2", "type": "Dense", "output_shape": [10], "params": 1290}


def test_summary_text_is_keras_like(capsys):
    model = mnist_cnn()
    model.summary()
    out = capsys.readouterr().out
    assert "Layer (type)" in out and "Output Shape" in out and "Param #" in out
    assert "conv1 (Conv2D)" in out and "(None, 26, 26, 32)" in out
    total = model.count_params()
    assert f"Total params: {total:,}" in out and "Non-trainable params: 128" in out


def test_functional_summary_has_input_row():
    inputs = Input(shape=(8, 8, 3), name="image")
    model = Model(inputs, residual_block(inputs, 3))
    s = model.summary(print_fn=None)
    assert s.rows[0] == ("image", "InputLayer", (8, 8, 3), 0)
    assert s.total_params == 2 * (3 * 3 * 3 * 3 + 3)


def test_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    a = mnist_cnn()
    a.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in a.get_weights()])
    a.layers[3].moving_variance[:] = rng.uniform(0.5, 2, 64)
    path = a.save_weights(tmp_path / "w.npz")
    with np.load(path, allow_pickle=False) as f:     # plain arrays only
        assert "w0" in f.files and list(f["layer_names"])[:2] == ["conv1", "conv2"]
    b = mnist_cnn()
    b.load_weights(path)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    x = rng.random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_load_mismatches_are_clear_and_change_nothing(tmp_path):
    a = mnist_cnn()
    path = a.save_weights(tmp_path / "w.npz")
    fewer = Sequential([Conv2D(32, 3, input_shape=(28, 28, 1)), Flatten(), Dense(10)])
    with pytest.raises(PetnetError, match="weights for 5 layers.*has 2 layers with weights"):
        fewer.load_weights(path)
    other = mnist_cnn()
    other.layers[-1] = Dense(7, name="fc2")
    other.build((28, 28, 1))
    before = other.get_weights()
    with pytest.raises(PetnetError, match="shape mismatch for layer 'fc2'.*\\(128, 7\\).*\\(128, 10\\)"):
        other.load_weights(path)
    for w0, w1 in zip(before, other.get_weights()):   # nothing half-loaded
        np.testing.assert_array_equal(w0, w1)
    swapped = Sequential([Dense(3, input_shape=(4,)), BatchNormalization()])
    swapped.save_weights(tmp_path / "s.npz")
    with pytest.raises(PetnetError, match="is a BatchNormalization but the file has a Dense"):
        Sequential([BatchNormalization(input_shape=(4,)), Dense(3)]).load_weights(tmp_path / "s.npz")
    renamed = Sequential([Dense(3, input_shape=(4,), name="x1"), BatchNormalization(name="x2")])
    with pytest.raises(PetnetError, match="layer 'x1' has no weights in"):
        renamed.load_weights(tmp_path / "s.npz", by_name=True)
    with pytest.raises(PetnetError, match="does not exist"):
        a.load_weights(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(PetnetError, match="not a petnet weights file"):
        a.load_weights(tmp_path / "bad.npz")
    with pytest.raises(PetnetError, match=".npz"):
        a.save_weights(tmp_path / "w.h5")
