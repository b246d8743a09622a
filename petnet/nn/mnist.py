"""MNIST: the idx file reader, and a small CNN trained on it with the NumPy engine.

The idx format (Y. LeCun, http://yann.lecun.com/exdb/mnist/), here gzip-compressed::

    bytes 0-1   0x00 0x00
    byte  2     data type, 0x08 = unsigned byte
    byte  3     number of dimensions (3 for images, 1 for labels)
    then        one big-endian uint32 per dimension (count, rows, cols)
    then        the data, row-major, one byte per value

So the 32-bit "magic number" is 0x00000803 = **2051** for an image file and 0x00000801 =
**2049** for a label file. :func:`read_idx` checks the magic number, the dimensions and that
the data holds exactly prod(dims) bytes; every problem (missing file, not gzip, truncated
gzip stream, wrong magic, short or overlong data) is a ``PetnetError`` naming the file.

:func:`train_and_evaluate` is ``petnet nn mnist``: Conv2D(32, 3, relu) - MaxPool(2) -
Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - Dense(10, softmax),
Adam with a decaying learning rate, softmax cross-entropy: the classic Keras MNIST convnet.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

MODEL_TEXT = ("Conv2D(32,3,relu)-MaxPool(2)-Conv2D(64,3,relu)-MaxPool(2)-Flatten-Dense(128,relu)-"
              "Dropout(0.5)-Dense(10)")

WHERE = ("MNIST is the four idx .gz files from http://yann.lecun.com/exdb/mnist/ "
         "(a copy lives in ../shared/data/mnist beside the project)")


# --------------------------------------------------------------------------- reader
def default_folder() -> Path:
    """``../shared/data/mnist`` beside the project (``$PETNET_SHARED/data/mnist`` if set)."""
    from petnet.paths import shared_data
    return shared_data("mnist")


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise PetnetError(f"{path}: file not found; {WHERE}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except gzip.BadGzipFile as exc:
        raise PetnetError(f"{path}: not a valid gzip file ({exc}); download it again") from None
    except EOFError:
        raise PetnetError(f"{path}: the gzip stream is truncated (the download stopped early); "
                          "download it again") from None
    except zlib.error as exc:
        raise PetnetError(f"{path}: corrupted gzip data ({exc}); download it again") from None
    except OSError as exc:
        raise PetnetError(f"{path}: cannot read it ({exc})") from None


def read_idx(path, magic: int | None = None) -> np.ndarray:
    """One idx (or idx.gz) file as a ``uint8`` array of shape ``dims`` from its header.

    ``magic`` (2051 images, 2049 labels) is checked when given.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise PetnetError(f"{path}: truncated: only {len(raw)} bytes, not even the 4-byte magic number")
    (found,) = struct.unpack(">I", raw[:4])
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise PetnetError(f"{path}: bad magic number {found} (0x{found:08x}); an idx file of unsigned bytes "
                          f"starts with {IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels)")
    if magic is not None and found != magic:
        kind = {IMAGES_MAGIC: "an image", LABELS_MAGIC: "a label"}
        raise PetnetError(f"{path}: magic number {found} ({kind.get(found, 'unknown')} file) where "
                          f"{magic} ({kind.get(magic, '?')} file) was expected; are the files swapped?")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PetnetError(f"{path}: truncated header: {len(raw)} bytes, the {ndim} dimensions need {header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if any(d == 0 for d in dims[1:]):
        raise PetnetError(f"{path}: header has a zero dimension {dims}")
    expected = int(np.prod(dims, dtype=np.int64))
    got = len(raw) - header
    if got < expected:
        raise PetnetError(f"{path}: truncated: the header says {' x '.join(map(str, dims))} = {expected} bytes "
                          f"of data, the file has {got}")
    if got > expected:
        raise PetnetError(f"{path}: {got - expected} unexpected bytes after the {expected} bytes of data the "
                          f"header announces ({' x '.join(map(str, dims))}); the file is corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_split(folder, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (n, 28, 28), labels uint8 (n,))`` of the ``'train'`` or ``'test'`` split."""
    if split not in FILES:
        raise PetnetError(f"unknown MNIST split {split!r}; use 'train' or 'test'")
    folder = Path(folder)
    if not folder.is_dir():
        raise PetnetError(f"MNIST folder {folder} does not exist; {WHERE}")
    img_name, lab_name = FILES[split]
    images = read_idx(folder / img_name, IMAGES_MAGIC)
    labels = read_idx(folder / lab_name, LABELS_MAGIC)
    if images.ndim != 3:
        raise PetnetError(f"{folder / img_name}: images need 3 dimensions (count, rows, cols), "
                          f"the header has {images.ndim}")
    if labels.ndim != 1:
        raise PetnetError(f"{folder / lab_name}: labels need 1 dimension, the header has {labels.ndim}")
    if len(images) != len(labels):
        raise PetnetError(f"{folder}: {len(images)} images in {img_name} but {len(labels)} labels in {lab_name}")
    if labels.size and labels.max() > 9:
        raise PetnetError(f"{folder / lab_name}: label {int(labels.max())} is not a digit 0-9")
    return images, labels


def load(folder, split: str = "train", limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))``, the first ``limit`` items if ``limit > 0``."""
    images, labels = load_split(folder, split)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return (images.astype(np.float32) / np.float32(255.0))[..., None], labels.astype(np.int64)


# --------------------------------------------------------------------------- the CNN
def build_model(seed: int | None = 0):
    """The Keras MNIST example network, channels-last, logits out (softmax fused into the loss)::

        Conv2D(32, 3, relu) (26x26x32) - MaxPooling2D(2) (13x13x32)
        Conv2D(64, 3, relu) (11x11x64) - MaxPooling2D(2) (5x5x64)
        Flatten (1600) - Dense(128, relu) - Dropout(0.5) - Dense(10)      225,034 parameters
    """
    from petnet.nn import Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential, reset_names, set_seed

    set_seed(seed)
    reset_names()
    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10),
    ])
    model.build((28, 28, 1))
    return model


def shift_images(x: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Data augmentation: move each image by up to ``max_shift`` pixels (zeros enter at the border)."""
    n, h, w, c = x.shape
    m = max_shift
    padded = np.zeros((n, h + 2 * m, w + 2 * m, c), dtype=x.dtype)
    padded[:, m:m + h, m:m + w] = x
    dy, dx = rng.integers(0, 2 * m + 1, n), rng.integers(0, 2 * m + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]                     # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]                     # (n, w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


class Trainer:
    """The training loop of section 4.2.4 on mini-batches, written out with the engine's public API::

        logits = model.forward(x, training=True)      # every layer caches what backward needs
        L      = cross_entropy(softmax(logits), y)     # fused, numerically stable
        model.backward(dL/dlogits)                     # chain rule, last layer first
        optimizer.step(model.trainable_weights, model.gradients)
    """

    def __init__(self, seed: int | None = 0, lr=1e-3, optimizer: str = "adam"):
        from petnet import optim
        from petnet.nn.losses import SoftmaxCrossEntropy

        self.seed = seed
        self.model = None
        self.loss = SoftmaxCrossEntropy()
        self.optimizer = optim.get(optimizer, lr=lr)

    def build(self, input_shape=(28, 28, 1)):
        self.model = build_model(self.seed)
        first = self.model.layers[0]
        if hasattr(first, "need_input_grad"):
            first.need_input_grad = False     # nobody needs dL/d(pixels): skip that GEMM and col2im
        return self

    def get_weights(self):
        return self.model.get_weights()

    def train_step(self, x, y, training: bool = True) -> float:
        """One step of gradient descent on a batch; with ``training=False`` only the loss (no update)."""
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is reported below
            logits = self.model.forward(x, training=training)
            value = self.loss.forward(logits, y)
        if not training:
            return value
        if not math.isfinite(value):
            raise PetnetError(f"the loss became {value} during training: the learning rate "
                              f"({self.optimizer.current_lr:g}) is probably too high; try a 10x smaller --lr")
        self.model.backward(self.loss.backward())
        self.optimizer.step(self.model.trainable_weights, self.model.gradients)
        self.last_logits = logits
        return value

    def predict(self, x, batch_size: int = 500) -> np.ndarray:
        """Class ids (argmax of the logits), in inference mode (dropout off)."""
        return np.concatenate([self.model.forward(x[i:i + batch_size], training=False).argmax(axis=1)
                               for i in range(0, len(x), batch_size)])

    def layer_times(self, x, y, repeats: int = 5) -> dict:
        """Forward/backward seconds per layer (for the benchmark's breakdown)."""
        times = {l.name: [0.0, 0.0] for l in self.model.layers}
        for _ in range(repeats):
            a = x
            for l in self.model.layers:
                t0 = time.perf_counter()
                a = l.forward(a, training=True)
                times[l.name][0] += time.perf_counter() - t0
            self.loss.forward(a, y)
            d = self.loss.backward()
            for l in reversed(self.model.layers):
                t0 = time.perf_counter()
                d = l.backward(d)
                times[l.name][1] += time.perf_counter() - t0
                if d is None:
                    break
        return {k: (f / repeats, b / repeats) for k, (f, b) in times.items()}


def train_and_evaluate(folder, epochs: int = 5, batch_size: int = 64, lr: float = 2e-3, limit: int = 0,
                       test_limit: int = 0, seed: int = 0, save=None, quiet: bool = False,
                       augment: bool = False, decay: float = 0.1) -> dict:
    """``petnet nn mnist``: train :func:`build_model` with Adam, report test accuracy and times.

    The learning rate decays exponentially from ``lr`` to ``lr * decay`` over the whole run
    (``optim.ExponentialDecay``), which settles the last epoch's weights.
    """
    import resource

    from petnet import optim
    from petnet.progress import progress

    t_start, c_start = time.perf_counter(), time.process_time()
    x_train, y_train = load(folder, "train", limit)
    x_test, y_test = load(folder, "test", test_limit)
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    total_steps = epochs * steps_per_epoch
    schedule = optim.ExponentialDecay(lr, decay_steps=total_steps, rate=decay) if decay < 1 else lr
    trainer = Trainer(seed=seed, lr=schedule).build()
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        total, correct, seen = 0.0, 0, 0
        bar = progress(total=steps_per_epoch, desc=f"epoch {epoch}/{epochs}", unit="batch", quiet=quiet)
        try:
            for idx in optim.batches(len(x_train), batch_size, rng=rng):
                xb = x_train[idx]
                if augment:
                    xb = shift_images(xb, rng)
                value = trainer.train_step(xb, y_train[idx])
                total += value * len(idx)
                correct += int((trainer.last_logits.argmax(axis=1) == y_train[idx]).sum())
                seen += len(idx)
                bar.set_postfix({"loss": f"{total / seen:.4f}", "acc": f"{correct / seen:.4f}"}, refresh=False)
                bar.update(1)
        finally:
            bar.close()
        history.append({"epoch": epoch, "loss": total / seen, "train_accuracy": correct / seen,
                        "seconds": time.perf_counter() - t_start})
        if not quiet:
            import sys
            print(f"epoch {epoch}/{epochs}: loss {total / seen:.4f}, train accuracy {correct / seen:.4f} "
                  f"({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
    pred = trainer.predict(x_test)
    acc = float(np.mean(pred == y_test))
    per_class = {int(d): float(np.mean(pred[y_test == d] == d)) for d in range(10) if np.any(y_test == d)}
    result = {"test_accuracy": acc, "test_errors": int(np.sum(pred != y_test)), "test_images": int(len(y_test)),
              "train_images": int(len(x_train)), "epochs": epochs, "batch_size": batch_size, "lr": lr,
              "lr_decay": decay, "augment": augment, "seed": seed,
              "params": int(trainer.model.count_params()),
              "seconds": time.perf_counter() - t_start, "cpu_seconds": time.process_time() - c_start,
              "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "history": history, "per_class_accuracy": per_class,
              "model": MODEL_TEXT}
    if save:
        result["saved"] = str(trainer.model.save_weights(save))
    return result


def format_result(r: dict) -> str:
    """The human-readable summary of :func:`train_and_evaluate`."""
    lines = [f"model: {r['model']} ({r['params']:,} parameters)",
             f"trained on {r['train_images']:,} images, {r['epochs']} epochs, batch {r['batch_size']}, "
             f"Adam lr {r['lr']:g} (decaying x{r['lr_decay']:g})" + (", shifted images" if r["augment"] else "")]
    for h in r["history"]:
        lines.append(f"  epoch {h['epoch']}: loss {h['loss']:.4f}, train accuracy {h['train_accuracy']:.4f}")
    lines.append(f"test accuracy: {r['test_accuracy']:.4f} ({r['test_errors']} errors in {r['test_images']:,} "
                 "test images)")
    lines.append("per digit: " + "  ".join(f"{d}:{a:.3f}" for d, a in r["per_class_accuracy"].items()))
    lines.append(f"time: {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU "
                 f"(peak memory {r['max_rss_mib']:.0f} MiB)")
    if r.get("saved"):
        lines.append(f"weights saved to {r['saved']}")
    return "\n".join(lines)
