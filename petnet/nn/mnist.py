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

:func:`train_mnist` is ``petnet nn mnist``: Conv2D(32, 3, relu) - MaxPool(2) -
Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - Dense(10) (logits),
Adam with a decaying learning rate, softmax cross-entropy: the classic Keras MNIST convnet, trained
by ``Model.fit`` (the engine's one training loop), and returns an :class:`MnistResult`.
"""

from __future__ import annotations

import gzip
import math
import resource
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet import optim
from petnet.errors import ParamError, PetnetError
from petnet.nn.callbacks import Callback
from petnet.nn.conv2d import Conv2D
from petnet.nn.dense import Dense
from petnet.nn.dropout import Dropout
from petnet.nn.flatten import Flatten
from petnet.nn.layer import reset_names, set_seed
from petnet.nn.model import Sequential
from petnet.nn.pooling import MaxPooling2D
from petnet.paths import shared_data
from petnet.safe_io import check_output_file, printable, read_bytes, read_gzip
from petnet.validate import check_int, check_number

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
    return shared_data("mnist")


#: an idx file (or what a .gz unpacks to) larger than this is refused: the training images are 47 MB
MAX_IDX_BYTES = 256 << 20


def _read_bytes(path: Path) -> bytes:
    """The (unpacked) bytes of an idx file: a regular file only (a FIFO is refused, not waited on),
    at most :data:`MAX_IDX_BYTES` (a gzip bomb is stopped there)."""
    if not path.exists() and not path.is_symlink():
        raise PetnetError(f"{printable(path)}: file not found; {WHERE}")
    try:
        if path.suffix == ".gz":
            return read_gzip(path, "MNIST file", MAX_IDX_BYTES)
        return read_bytes(path, "MNIST file", MAX_IDX_BYTES)
    except gzip.BadGzipFile as exc:
        raise PetnetError(f"{printable(path)}: not a valid gzip file ({exc}); download it again") from None
    except EOFError:
        raise PetnetError(f"{printable(path)}: the gzip stream is truncated (the download stopped early); "
                          "download it again") from None
    except zlib.error as exc:
        raise PetnetError(f"{printable(path)}: corrupted gzip data ({exc}); download it again") from None
    except OSError as exc:
        raise PetnetError(f"{printable(path)}: cannot read it ({exc.strerror or exc})") from None


def read_idx(path, magic: int | None = None) -> np.ndarray:
    """One idx (or idx.gz) file as a ``uint8`` array of shape ``dims`` from its header.

    ``magic`` (2051 images, 2049 labels) is checked when given.
    """
    path = Path(path)
    raw = _read_bytes(path)
    shown = printable(path)
    if len(raw) < 4:
        raise PetnetError(f"{shown}: truncated: only {len(raw)} bytes, not even the 4-byte magic number")
    (found,) = struct.unpack(">I", raw[:4])
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise PetnetError(f"{shown}: bad magic number {found} (0x{found:08x}); an idx file of unsigned bytes "
                          f"starts with {IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels)")
    if magic is not None and found != magic:
        kind = {IMAGES_MAGIC: "an image", LABELS_MAGIC: "a label"}
        raise PetnetError(f"{shown}: magic number {found} ({kind.get(found, 'unknown')} file) where "
                          f"{magic} ({kind.get(magic, '?')} file) was expected; are the files swapped?")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PetnetError(f"{shown}: truncated header: {len(raw)} bytes, the {ndim} dimensions need {header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if any(d == 0 for d in dims[1:]):
        raise PetnetError(f"{shown}: header has a zero dimension {dims}")
    expected = math.prod(dims)     # exact: np.prod in int64 wraps around for huge dimensions
    got = len(raw) - header
    if got < expected:
        raise PetnetError(f"{shown}: truncated: the header says {' x '.join(map(str, dims))} = {expected} bytes "
                          f"of data, the file has {got}")
    if got > expected:
        raise PetnetError(f"{shown}: {got - expected} unexpected bytes after the {expected} bytes of data the "
                          f"header announces ({' x '.join(map(str, dims))}); the file is corrupt")
    try:
        return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    except ValueError:   # e.g. 0 x 2097152 x 2097152 x 2097152: no data, but no such array either
        raise PetnetError(f"{shown}: impossible dimensions {' x '.join(map(str, dims))} in the header; "
                          "the file is corrupt") from None


def load_split(folder, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (n, 28, 28), labels uint8 (n,))`` of the ``'train'`` or ``'test'`` split."""
    if split not in FILES:
        raise PetnetError(f"unknown MNIST split {split!r}; use 'train' or 'test'")
    folder = Path(folder)
    if not folder.is_dir():
        raise PetnetError(f"MNIST folder {printable(folder)} does not exist; {WHERE}")
    img_name, lab_name = FILES[split]
    images = read_idx(folder / img_name, IMAGES_MAGIC)
    labels = read_idx(folder / lab_name, LABELS_MAGIC)
    if images.ndim != 3:
        raise PetnetError(f"{printable(folder / img_name)}: images need 3 dimensions (count, rows, cols), "
                          f"the header has {images.ndim}")
    if labels.ndim != 1:
        raise PetnetError(f"{printable(folder / lab_name)}: labels need 1 dimension, the header has {labels.ndim}")
    if len(images) != len(labels):
        raise PetnetError(f"{printable(folder)}: {len(images)} images in {img_name} but {len(labels)} labels in {lab_name}")
    if labels.size and labels.max() > 9:
        raise PetnetError(f"{printable(folder / lab_name)}: label {int(labels.max())} is not a digit 0-9")
    return images, labels


def load(folder, split: str = "train", limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))``, the first ``limit`` items if ``limit > 0``."""
    images, labels = load_split(folder, split)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return (images.astype(np.float32) / np.float32(255.0))[..., None], labels.astype(np.int64)


# --------------------------------------------------------------------------- the CNN
def build_model(seed: int | None = 0) -> Sequential:
    """The Keras MNIST example network, channels-last, logits out (the loss applies the softmax)::

        Conv2D(32, 3, relu) (26x26x32) - MaxPooling2D(2) (13x13x32)
        Conv2D(64, 3, relu) (11x11x64) - MaxPooling2D(2) (5x5x64)
        Flatten (1600) - Dense(128, relu) - Dropout(0.5) - Dense(10)      225,034 parameters
    """
    set_seed(seed)
    reset_names()
    return Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10),
    ])


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


@dataclass
class MnistResult:
    """What :func:`train_mnist` returns; ``to_dict()`` is the JSON of ``petnet nn mnist --json``."""
    test_accuracy: float
    test_errors: int
    test_images: int
    train_images: int
    epochs: int
    batch_size: int
    lr: float
    lr_decay: float
    augment: bool
    seed: int
    params: int
    seconds: float
    cpu_seconds: float
    max_rss_mib: float
    history: list = field(default_factory=list)     # one {"epoch", "loss", "train_accuracy", "seconds"} per epoch
    per_class_accuracy: dict = field(default_factory=dict)
    model: str = MODEL_TEXT
    saved: str | None = None
    network: Sequential | None = field(default=None, repr=False)   # the trained model

    def to_dict(self) -> dict:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "network"}
        if d["saved"] is None:
            del d["saved"]
        return d


class _EpochRows(Callback):
    """The per-epoch rows of the result, and the old one-line epoch report through ``log``."""

    def __init__(self, log, t_start):
        self.rows, self.log, self.t_start = [], log, t_start

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.t_start
        self.rows.append({"epoch": epoch + 1, "loss": logs["loss"], "train_accuracy": logs["accuracy"],
                          "seconds": seconds})
        if self.log is not None:
            self.log(f"epoch {epoch + 1}/{self.model.fit_params['epochs']}: loss {logs['loss']:.4f}, "
                     f"train accuracy {logs['accuracy']:.4f} ({seconds:.0f} s)")


def train_mnist(data=None, *, epochs: int = 5, batch_size: int = 64, learning_rate: float = 2e-3,
                limit: int = 0, test_limit: int = 0, random_state: int = 0, augment: bool = False,
                decay: float = 0.1, save=None, verbose: bool = True, log=None) -> MnistResult:
    """``petnet nn mnist``: train :func:`build_model` with Adam on the MNIST files in ``data``
    (default ``../shared/data/mnist``), evaluate on the test images.

    The learning rate decays exponentially from ``learning_rate`` to ``learning_rate * decay`` over
    the whole run (``optim.ExponentialDecay``), which settles the last epoch's weights. ``limit`` /
    ``test_limit``: use the first N images (0 = all). ``augment``: random shifts of up to 2 pixels.
    ``verbose``: a progress bar; ``log(line)`` gets one line per epoch. ``save``: a .npz path for the
    trained weights."""
    epochs = check_int("epochs", epochs, min=1, max=1000)
    batch_size = check_int("batch_size", batch_size, min=1, max=60000)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=1e3)
    limit = check_int("limit", limit, min=0)
    test_limit = check_int("test_limit", test_limit, min=0)
    random_state = check_int("random_state", random_state, min=0)
    decay = check_number("decay", decay, min=0, min_exclusive=True, max=1)
    if save is not None:      # before minutes of training, not after
        check_output_file(save, "", error=lambda message: ParamError("save", message))
        if Path(save).suffix != ".npz":
            raise ParamError("save", f"is {printable(save)!r}: weights are saved as .npz files; "
                                     "use a name ending in .npz")
    folder = Path(data) if data is not None else default_folder()
    if not folder.exists():
        raise ParamError("data", f"is {printable(folder)}, which does not exist; give the folder with the four MNIST idx "
                                 ".gz files (train-images-idx3-ubyte.gz, ...; from http://yann.lecun.com/exdb/mnist/ "
                                 "or ../shared/data/mnist beside the project)")

    t_start, c_start = time.perf_counter(), time.process_time()
    x_train, y_train = load(folder, "train", limit)
    x_test, y_test = load(folder, "test", test_limit)
    total_steps = epochs * math.ceil(len(x_train) / batch_size)
    schedule = optim.ExponentialDecay(learning_rate, decay_steps=total_steps, rate=decay) if decay < 1 \
        else learning_rate
    model = build_model(random_state)
    model.compile(optimizer=optim.Adam(lr=schedule), loss="softmax_cross_entropy", metrics=["accuracy"])
    rows = _EpochRows(log, t_start)
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=int(verbose), callbacks=[rows],
              augment=(lambda xb, yb, rng: (shift_images(xb, rng), yb)) if augment else None,
              random_state=random_state)
    pred = model.predict(x_test, batch_size=500).argmax(axis=1)
    per_class = {int(d): float(np.mean(pred[y_test == d] == d)) for d in range(10) if np.any(y_test == d)}
    return MnistResult(
        test_accuracy=float(np.mean(pred == y_test)), test_errors=int(np.sum(pred != y_test)),
        test_images=int(len(y_test)), train_images=int(len(x_train)), epochs=epochs, batch_size=batch_size,
        lr=learning_rate, lr_decay=decay, augment=augment, seed=random_state, params=int(model.count_params()),
        seconds=time.perf_counter() - t_start, cpu_seconds=time.process_time() - c_start,
        max_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, history=rows.rows,
        per_class_accuracy=per_class, saved=str(model.save_weights(save)) if save else None, network=model)


def format_result(r: MnistResult) -> str:
    """The human-readable summary of :func:`train_mnist`."""
    lines = [f"model: {r.model} ({r.params:,} parameters)",
             f"trained on {r.train_images:,} images, {r.epochs} epochs, batch {r.batch_size}, "
             f"Adam lr {r.lr:g} (decaying x{r.lr_decay:g})" + (", shifted images" if r.augment else "")]
    for h in r.history:
        lines.append(f"  epoch {h['epoch']}: loss {h['loss']:.4f}, train accuracy {h['train_accuracy']:.4f}")
    lines.append(f"test accuracy: {r.test_accuracy:.4f} ({r.test_errors} errors in {r.test_images:,} "
                 "test images)")
    lines.append("per digit: " + "  ".join(f"{d}:{a:.3f}" for d, a in r.per_class_accuracy.items()))
    lines.append(f"time: {r.seconds:.1f} s wall, {r.cpu_seconds:.1f} s CPU "
                 f"(peak memory {r.max_rss_mib:.0f} MiB)")
    if r.saved:
        lines.append(f"weights saved to {printable(r.saved)}")
    return "\n".join(lines)
