"""A VGG-style network for 28x28 digits, trained on MNIST by the NumPy engine (``petnet vgg mnist``).

VGG's recipe, scaled down: blocks of 3x3 'same' convolutions (each followed by batch normalisation
and ReLU), a 2x2 max pooling at the end of each block, then the dense classifier:

    config [32, 32, 'M', 64, 64, 'M']:   28x28x1 -> 28x28x32 -> 14x14x32 -> 14x14x64 -> 7x7x64
    flatten (3136) -> fc1 128 -> dropout -> fc2 128 -> dropout -> predictions 10 (softmax)

The same builder as VGG16 (``petnet.vgg.VGG``) with a custom configuration list. Data come
from ``petnet.nn.mnist.load`` (the engine's idx reader). The batch-norm moving averages use
momentum 0.9 (Keras' 0.99 needs several hundred steps before the inference statistics are usable,
more than a short run on a CPU has).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from petnet import nn
from petnet.nn.mnist import default_folder, load
from petnet.validate import check_int, check_number
from petnet.vgg.model import VGG

MNIST_CONFIG = [32, 32, "M", 64, 64, "M"]


def build(seed: int = 0, fc_units: int = 128, dropout: float = 0.3) -> nn.Model:
    """The VGG-style MNIST network (485,098 parameters)."""
    nn.set_seed(seed)
    return VGG(MNIST_CONFIG, include_top=True, input_shape=(28, 28, 1), classes=10, batch_norm=True,
               fc_units=fc_units, dropout=dropout, bn_momentum=0.9, name="vgg_mnist")


@dataclass
class VGGMnistResult:
    """What :func:`train_mnist` returns."""
    train_images: int
    test_images: int
    epochs: int
    batch_size: int
    params: int
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    train_seconds: float
    test_seconds: float
    model: nn.Model = field(repr=False)


def train_mnist(data=None, *, epochs: int = 1, limit: int = 6000, test_limit: int = 0, batch_size: int = 64,
                learning_rate: float = 1e-3, random_state: int = 0, verbose: bool = True,
                log=None) -> VGGMnistResult:
    """``petnet vgg mnist``: train :func:`build` with Adam on the first ``limit`` training images
    (0 = all) of the MNIST files in ``data`` (default ``../shared/data/mnist``), through
    ``Model.fit``; evaluate on the first ``test_limit`` test images (0 = all). ``verbose``: a
    progress bar; ``log(line)`` gets one line per epoch."""
    epochs = check_int("epochs", epochs, min=1, max=1000)
    limit = check_int("limit", limit, min=0)
    test_limit = check_int("test_limit", test_limit, min=0)
    batch_size = check_int("batch_size", batch_size, min=1, max=60000)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=1e3)
    random_state = check_int("random_state", random_state, min=0)
    folder = data if data is not None else default_folder()
    x, y = load(folder, "train", limit)
    xt, yt = load(folder, "test", test_limit)
    model = build(random_state)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], lr=learning_rate)
    t0 = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=int(verbose), log=log,
                        random_state=random_state)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    loss, acc = model.evaluate(xt, yt)
    return VGGMnistResult(train_images=len(x), test_images=len(xt), epochs=epochs, batch_size=batch_size,
                          params=model.count_params(), train_accuracy=history.history["accuracy"][-1],
                          test_loss=float(loss), test_accuracy=float(acc), train_seconds=train_s,
                          test_seconds=time.perf_counter() - t1, model=model)
