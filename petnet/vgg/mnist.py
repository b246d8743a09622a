"""A VGG-style network for 28x28 digits, trained on MNIST by the NumPy engine (``petnet vgg mnist``).

VGG's recipe, scaled down: blocks of 3x3 'same' convolutions (each followed by batch normalisation
and ReLU), a 2x2 max pooling at the end of each block, then the dense classifier:

    config [32, 32, 'M', 64, 64, 'M']:   28x28x1 -> 28x28x32 -> 14x14x32 -> 14x14x64 -> 7x7x64
    flatten (3136) -> fc1 128 -> dropout -> fc2 128 -> dropout -> predictions 10 (softmax)

The same builder as VGG16 (``petnet.vgg.model.vgg``) with a custom configuration list. Data come
from ``petnet.nn.mnist.load`` (the engine's idx reader). The batch-norm moving averages use
momentum 0.9 (Keras' 0.99 needs several hundred steps before the inference statistics are usable,
more than a short run on a CPU has).
"""

from __future__ import annotations

import time

from petnet.errors import PetnetError

MNIST_CONFIG = [32, 32, "M", 64, 64, "M"]


def build(seed: int = 0, fc_units: int = 128, dropout: float = 0.3):
    """The VGG-style MNIST network (485,098 parameters)."""
    from petnet import nn
    from petnet.vgg.model import vgg

    nn.set_seed(seed)
    return vgg(MNIST_CONFIG, include_top=True, input_shape=(28, 28, 1), classes=10, batch_norm=True,
               fc_units=fc_units, dropout=dropout, bn_momentum=0.9, name="vgg_mnist")


def train(folder=None, epochs: int = 1, limit: int = 6000, test_limit: int = 0, batch_size: int = 64,
          lr: float = 1e-3, seed: int = 0, verbose: bool = True) -> dict:
    """Train on the first ``limit`` training images, evaluate on the first ``test_limit`` test
    images (0 = all); returns accuracy, loss, sizes and seconds."""
    from petnet.nn.mnist import default_folder, load

    if epochs < 1 or limit < 0 or test_limit < 0 or batch_size < 1 or lr <= 0:
        raise PetnetError("--epochs and --batch-size must be >= 1, --limit/--test-limit >= 0, --lr > 0")
    folder = folder or default_folder()
    x, y = load(folder, "train", limit)
    xt, yt = load(folder, "test", test_limit)
    model = build(seed)
    model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=lr)
    t0 = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=int(verbose), seed=seed)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    loss, acc = model.evaluate(xt, yt)
    test_s = time.perf_counter() - t1
    return {"train_images": len(x), "test_images": len(xt), "epochs": epochs, "batch_size": batch_size,
            "params": model.count_params(), "train_accuracy": history.history["accuracy"][-1],
            "test_loss": float(loss), "test_accuracy": float(acc), "train_seconds": train_s,
            "test_seconds": test_s, "model": model}


def run(args) -> int:
    """Handler of ``petnet vgg mnist``."""
    r = train(args.data, args.epochs, args.limit, args.test_limit, args.batch_size, args.lr, args.seed,
              verbose=not args.quiet)
    if not args.quiet:
        r["model"].summary()
    print(f"VGG-style net ({r['params']:,} parameters), {r['epochs']} epoch(s) on {r['train_images']} "
          f"training images, batch {r['batch_size']}: train accuracy {r['train_accuracy']:.4f}")
    print(f"test accuracy {r['test_accuracy']:.4f} (loss {r['test_loss']:.4f}) on {r['test_images']} test images; "
          f"training {r['train_seconds']:.1f} s, testing {r['test_seconds']:.1f} s")
    return 0
