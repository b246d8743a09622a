"""Transfer learning (迁移学习), shown: the same few photos, a CNN from scratch vs the retrained last layer.

Chapter 6 never trains a network on the pet photos: it keeps EfficientNet-Lite, trained on the
1.28 million photos of ImageNet, and trains only a new last layer on its 1280 "bottleneck"
features. That is **transfer learning** -- what a network learnt on one task reused for another --
in its cheapest form, **feature extraction** (the pretrained layers are frozen; only the new layer
learns). **Fine-tuning** would also update some or all of the pretrained layers (with a small
learning rate); petnet does not do it (see docs/pets.md).

Why not train a CNN on the pet photos themselves? :func:`compare` answers with numbers, on one
folder and one split::

    photos --stable hash of the file name--> testing (scored once at the end, the same photos for
                                              every model) | validation | training
    majority class     : always answer the most frequent training class (the simplest baseline)
    CNN from scratch   : petnet.nn, 3 conv blocks on image_size x image_size photos, Adam, random
                         left-right flips, ``epochs`` epochs; scored twice: with the weights of the
                         epoch of lowest validation loss (early stopping's choice) and of the last
    transfer (frozen)  : the backbone's features of the training photos + a softmax layer trained
                         with ``petnet retrain``'s default settings (SoftmaxHead, Adam, 1000 steps)

Both models learn from the same training photos; the validation photos only choose the CNN's epoch
(the softmax layer uses ``retrain``'s fixed defaults and needs none). Every accuracy is printed as
``p% (k/n) [95% Wilson interval]`` (:func:`petnet.stats.rate_text`). The training runs on one BLAS
thread, so the numbers do not depend on the thread count. Tasks: ``"classes"`` (the folder's sub-folders: the 37 breeds of
the shared photos) and ``"species"`` (cat vs dog, by the Oxford-IIIT naming rule: cat breeds are
capitalised, dog breeds lower-case).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet import nn
from petnet.errors import ParamError, PetnetError

TASKS = ("classes", "species")
SETS = ("training", "validation", "testing")
MAX_IMAGE_SIZE = 256      # the CNN trains on the CPU: 64 x 64 takes ~1 s per epoch for 200 photos
MAX_EPOCHS = 1000


# --------------------------------------------------------------------------- the data
def held_out_split(names, testing_percentage: float = 30, validation_percentage: float = 10) -> dict:
    """Indices of ``names`` (file names or paths) in ``"training"``, ``"validation"``, ``"testing"``.

    By the stable hash of the file name (:func:`petnet.pets.dataset.split_percentage`, a number in
    [0, 100]): below ``testing_percentage`` -> testing, then the next ``validation_percentage`` ->
    validation, the rest training. The testing photos depend only on ``testing_percentage``, so
    changing the validation share never moves a photo into or out of the test set; ``petnet
    retrain --validation_percentage 0 --testing_percentage T`` holds out the same photos."""
    from petnet.pets.dataset import split_percentage
    from petnet.validate import check_number
    t = check_number("testing_percentage", testing_percentage, min=0, max=100, min_exclusive=True)
    if t >= 100:
        raise ParamError("testing_percentage", f"must be below 100 so that photos are left for training, got {t:g}")
    v = check_number("validation_percentage", validation_percentage, min=0, max=100)
    if t + v >= 100:
        raise ParamError("validation_percentage", f"must be below {100 - t:g} (100 minus the testing "
                         f"percentage {t:g}) so that photos are left for training, got {v:g}")
    out = {s: [] for s in SETS}
    for i, name in enumerate(names):
        p = split_percentage(Path(name).name)
        out["testing" if p < t else "validation" if p < t + v else "training"].append(i)
    return {s: np.array(ix, np.int64) for s, ix in out.items()}


def species_of(labels) -> list[str]:
    """``"cat"`` or ``"dog"`` for each Oxford-IIIT breed name: cat breeds start with a capital letter
    (``Persian``), dog breeds with a small one (``pug``). A ``PetnetError`` if the folder names do
    not give both (they are not Oxford-IIIT breed names)."""
    out = ["cat" if lab[:1].isupper() else "dog" for lab in labels]
    if len(set(out)) < 2:
        raise PetnetError("the species task needs Oxford-IIIT breed folders: cat breeds capitalised "
                          "(Persian), dog breeds in small letters (pug); these folders give only "
                          f"{out[0]}s -- use task 'classes'")
    return out


def load_pixels(paths, size: int) -> tuple[np.ndarray, list[Path], list[tuple[Path, str]]]:
    """``(x, ok_paths, failures)``: the centred square of each readable photo, resized to
    ``size x size`` (Pillow's bilinear filter with its reducing support), as float32 in [0, 1],
    shape ``(n, size, size, 3)``. Unreadable photos go to ``failures`` as ``(path, reason)``."""
    from PIL import Image

    from petnet.pets.images import ImageError, load_image
    rows, ok, failures = [], [], []
    for p in paths:
        try:
            img = load_image(p)
        except ImageError as exc:
            failures.append((Path(p), str(exc)))
            continue
        w, h = img.size
        c = min(w, h)
        left, top = (w - c) // 2, (h - c) // 2
        img = img.crop((left, top, left + c, top + c)).resize((size, size), Image.BILINEAR)
        rows.append(np.asarray(img, np.float32) / 255.0)
        ok.append(Path(p))
    x = np.stack(rows) if rows else np.zeros((0, size, size, 3), np.float32)
    return x, ok, failures


# --------------------------------------------------------------------------- the two models
def small_cnn(input_shape, n_classes: int):
    """The from-scratch model: three blocks of a 3x3 convolution (16, 32, 64 filters, ReLU, 'same'
    padding) and a 2x2 max-pooling, global average pooling, a softmax layer: 23,584 convolution
    weights plus 65 per class (25,989 for 37 classes) -- few, as it learns from a few hundred photos."""
    return nn.Sequential([
        nn.Conv2D(16, (3, 3), activation="relu", padding="same", input_shape=tuple(input_shape)),
        nn.MaxPooling2D((2, 2)),
        nn.Conv2D(32, (3, 3), activation="relu", padding="same"),
        nn.MaxPooling2D((2, 2)),
        nn.Conv2D(64, (3, 3), activation="relu", padding="same"),
        nn.MaxPooling2D((2, 2)),
        nn.GlobalAveragePooling2D(),
        nn.Dense(n_classes),
    ])


def _flip(xb, yb, rng):
    """Augmentation: mirror each photo of the batch left-right with probability 1/2."""
    flip = rng.random(len(xb)) < 0.5
    xb = xb.copy()
    xb[flip] = xb[flip, :, ::-1]
    return xb, yb


class BestEpoch(nn.Callback):
    """Keeps the weights of the epoch with the lowest validation loss (what early stopping with
    ``restore_best_weights`` keeps) without stopping the training: ``best_epoch_`` (0-based),
    ``best_loss_``, ``weights_``."""

    def on_train_begin(self, logs=None):
        self.best_loss_, self.best_epoch_, self.weights_ = np.inf, None, None

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.best_loss_:
            self.best_loss_, self.best_epoch_ = float(logs["val_loss"]), epoch
            self.weights_ = self.model.get_weights()


def train_from_scratch(x, y, x_val, y_val, n_classes: int, *, epochs: int = 40, learning_rate: float = 1e-3,
                       batch_size: int = 16, random_state: int = 0):
    """:func:`small_cnn` trained on ``x``/``y`` for ``epochs`` epochs (Adam, random flips), watching
    the validation loss on ``x_val``/``y_val``. Returns ``(model, best, history)``: the model with
    its **last** epoch's weights, ``best`` with ``best_epoch_`` (0-based) and ``weights_`` of the
    epoch with the lowest validation loss -- early stopping's choice (``model.set_weights(best.weights_)``)
    -- and the ``History`` (``accuracy``, ``val_loss``, ... per epoch). Trained on one BLAS thread,
    so the result does not depend on the thread count."""
    from petnet.blas import one_blas_thread
    nn.set_seed(random_state)
    model = small_cnn(x.shape[1:], n_classes)
    model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=learning_rate)
    best = BestEpoch()
    # one BLAS thread: a float32 sum split over threads changes the last bits, and over 40 epochs
    # the weights and a few test answers -- the printed numbers are the same whatever the machine
    with one_blas_thread():
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=(x_val, y_val),
                            augment=_flip, callbacks=[best], random_state=random_state, verbose=0)
    return model, best, history


def train_last_layer(feats, y, n_classes: int, random_state: int = 0):
    """A :class:`~petnet.pets.head.SoftmaxHead` on frozen backbone features, with ``retrain``'s
    default settings (:func:`~petnet.pets.head.default_head_kwargs`)."""
    from petnet.pets.head import SoftmaxHead, default_head_kwargs
    return SoftmaxHead(n_classes, random_state=random_state, **default_head_kwargs()).fit(feats, y)


# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Rate:
    """``k`` right of ``n`` test photos; printed as ``74.2% (92/124) [65.8-81.1]`` with the 95%
    Wilson interval (:func:`petnet.stats.rate_text`)."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def __str__(self) -> str:
        from petnet.stats import rate_text
        return rate_text(self.k, self.n)


@dataclass
class Arm:
    """One model's result: ``trained``: the weights it learnt on these photos (0: none), its test
    ``accuracy`` (a :class:`Rate`), ``seconds`` of training, a ``note``."""

    name: str
    trained: int
    accuracy: Rate
    seconds: float = 0.0
    note: str = ""


@dataclass
class TaskResult:
    """The models on one task: ``labels`` (its classes), the split ``counts``, ``arms`` in the order
    majority class, CNN from scratch (early stopping's epoch), the same CNN's last epoch, transfer;
    ``history``: the CNN's per-epoch ``History.history``; ``best_epoch``: early stopping's (1-based)."""

    task: str
    labels: list[str]
    counts: dict
    arms: list[Arm]
    history: dict = field(default_factory=dict)
    best_epoch: int = 0

    @property
    def baseline(self) -> Arm:
        return self.arms[0]

    @property
    def scratch(self) -> Arm:
        return self.arms[1]

    @property
    def scratch_last(self) -> Arm:
        return self.arms[2]

    @property
    def transfer(self) -> Arm:
        return self.arms[3]


@dataclass
class TransferResult:
    """What :func:`compare` measured: the settings and one :class:`TaskResult` per task."""

    image_dir: Path
    architecture: str
    image_size: int
    settings: dict
    tasks: list[TaskResult] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    def task(self, name: str) -> TaskResult:
        return next(t for t in self.tasks if t.task == name)

    def text(self) -> str:
        """The report ``petnet transfer`` prints."""
        s = self.settings
        c = self.tasks[0].counts if self.tasks else {}
        lines = [f"{_shown(self.image_dir)}: {sum(c.values())} photos, split by a stable hash of the file "
                 f"names into {c.get('training', 0)} training, {c.get('validation', 0)} validation (only to "
                 f"choose the CNN's epoch) and {c.get('testing', 0)} testing photos (the same for every model)"]
        for t in self.tasks:
            title = (f"{len(t.labels)} classes (the sub-folders)" if t.task == "classes"
                     else "cat vs dog (the species of the Oxford-IIIT breed folders)")
            lines += ["", f"task: {title}",
                      f"  {'model':<50} {'trained weights':>15}   test accuracy [95% interval]"]
            for a in t.arms:
                w = "-" if a.trained == 0 else f"{a.trained:,}"
                lines.append(f"  {a.name:<50} {w:>15}   {a.accuracy}")
                if a.note:
                    lines.append(f"  {'':<50} {'':>15}   ({a.note})")
        lines += ["", f"CNN from scratch: {self.image_size}x{self.image_size} pixels, {s['epochs']} epochs, Adam "
                      f"learning rate {s['learning_rate']:g}, batch {s['batch_size']}, random left-right flips.",
                  f"transfer: EfficientNet-{self.architecture.capitalize()} pretrained on ImageNet, frozen; a "
                  f"softmax layer on its 1280 features with `petnet retrain`'s defaults ({s['head']}).",
                  "intervals: Wilson 95%. "
                  f"{len(self.skipped)} files skipped. {self.seconds:.0f} s."]
        return "\n".join(lines)


def _shown(path) -> str:
    """``path`` for the report: relative to the working folder when that is shorter
    (``../shared/data/pets/train``), printable either way."""
    import os

    from petnet.safe_io import printable
    try:
        rel = os.path.relpath(path)
    except ValueError:                   # another drive (Windows)
        rel = str(path)
    return printable(rel if len(rel) < len(str(path)) else path)


def compare(image_dir, *, tasks=TASKS, image_size: int = 64, epochs: int = 40, learning_rate: float = 1e-3,
            batch_size: int = 16, testing_percentage: float = 30, validation_percentage: float = 10,
            architecture: str = "lite2", bottleneck_dir=None, random_state: int = 0, backbone_factory=None,
            log=None) -> TransferResult:
    """Train a small CNN from scratch and a softmax layer on frozen backbone features on the same
    training photos of ``image_dir`` (one sub-folder per class), and score both -- and the
    majority class -- on the same held-out photos (see the module docstring).

    ``tasks``: any of ``"classes"``, ``"species"``. ``image_size``, ``epochs``, ``learning_rate``,
    ``batch_size``: the CNN's settings. ``testing_percentage`` / ``validation_percentage``:
    :func:`held_out_split`. ``architecture``, ``bottleneck_dir``, ``backbone_factory``: the feature
    extractor and its cache, as for ``retrain``. ``random_state`` seeds both trainings.
    ``log(line)`` gets progress lines. Raises ``ParamError`` naming the parameter before any work."""
    from petnet.pets.backbones import arch_spec
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.head import default_head_kwargs
    from petnet.pets.dataset import scan_image_dir
    from petnet.blas import one_blas_thread
    from petnet.validate import check_choice, check_int, check_number

    t0 = time.perf_counter()
    say = log or (lambda line: None)
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    if not tasks:
        raise ParamError("tasks", f"must name at least one of {', '.join(TASKS)}")
    for t in tasks:
        check_choice("tasks", t, TASKS)
    image_size = check_int("image_size", image_size, min=8, max=MAX_IMAGE_SIZE)
    epochs = check_int("epochs", epochs, min=1, max=MAX_EPOCHS)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True)
    batch_size = check_int("batch_size", batch_size, min=1, max=100_000)
    random_state = check_int("random_state", random_state, min=0, max=2 ** 32 - 1)
    held_out_split([], testing_percentage, validation_percentage)          # checks the percentages
    arch = arch_spec(architecture).name

    image_set = scan_image_dir(image_dir)
    if "species" in tasks:
        species_of(image_set.labels)                                       # refuse before any work
    paths, ys = image_set.samples()
    say(f"{len(paths)} photos in {len(image_set.labels)} classes")
    cache = BottleneckCache(bottleneck_dir, arch, backbone_factory=backbone_factory)
    feats, ok_feats, fail_feats = cache.get(paths, views=("center",))
    say(f"features ({arch}): {cache.hits} from the cache, {cache.computed} computed ({cache.folder})")
    x, ok, fail_pix = load_pixels(ok_feats, image_size)
    row = {p: i for i, p in enumerate(ok_feats)}
    feats = feats[[row[p] for p in ok], 0]
    label_of = dict(zip(paths, ys))
    y_all = np.array([label_of[p] for p in ok], np.int64)
    sets = held_out_split([p.name for p in ok], testing_percentage, validation_percentage)
    counts = {s: len(ix) for s, ix in sets.items()}
    tr, va, te = sets["training"], sets["validation"], sets["testing"]
    if min(counts.values()) == 0:
        raise PetnetError(f"the split left an empty set ({', '.join(f'{k} {v}' for k, v in counts.items())}); "
                          "add photos or change testing_percentage / validation_percentage")
    say(f"split: {counts['training']} training, {counts['validation']} validation, {counts['testing']} testing")
    mu = x[tr].mean(axis=(0, 1, 2))
    sd = x[tr].std(axis=(0, 1, 2)) + 1e-6
    x = (x - mu) / sd                                  # per colour channel, from the training photos

    settings = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
                "random_state": random_state, "testing_percentage": testing_percentage,
                "validation_percentage": validation_percentage,
                "head": ", ".join(f"{k} {v}" for k, v in default_head_kwargs().items())}
    result = TransferResult(Path(image_dir), arch, image_size, settings,
                            skipped=list(image_set.skipped) + list(fail_feats) + list(fail_pix))

    def score(predict) -> Rate:
        return Rate(int((predict(te).argmax(1) == y[te]).sum()), len(te))

    with one_blas_thread():     # the same numbers whatever the thread count
        for task in tasks:
            if task == "classes":
                labels, y = list(image_set.labels), y_all
            else:
                sp = species_of(image_set.labels)
                labels = sorted(set(sp))
                y = np.array([labels.index(sp[i]) for i in y_all], np.int64)
            K = len(labels)
            majority = int(np.bincount(y[tr], minlength=K).argmax())
            arms = [Arm(f"majority class ({labels[majority]}): the baseline", 0,
                        Rate(int((y[te] == majority).sum()), len(te)))]

            t = time.perf_counter()
            cnn, best, history = train_from_scratch(x[tr], y[tr], x[va], y[va], K, epochs=epochs,
                                                    learning_rate=learning_rate, batch_size=batch_size,
                                                    random_state=random_state)
            seconds = time.perf_counter() - t
            h = history.history
            last = score(lambda ix: cnn.predict(x[ix]))
            cnn.set_weights(best.weights_)
            n_w, k_best = cnn.count_params(), best.best_epoch_ + 1
            arms.append(Arm(f"CNN from scratch, early stopping (epoch {k_best})", n_w,
                            score(lambda ix: cnn.predict(x[ix])), seconds,
                            f"lowest validation loss of the {epochs} epochs; training photos right: "
                            f"{100 * h['accuracy'][k_best - 1]:.0f}%"))
            arms.append(Arm(f"CNN from scratch, all {epochs} epochs", n_w, last, seconds,
                            f"training photos right: {100 * h['accuracy'][-1]:.0f}%"))
            say(f"{task}: CNN from scratch {arms[1].accuracy} (epoch {k_best}), {last} (epoch {epochs}); "
                f"{seconds:.0f} s")

            t = time.perf_counter()
            head = train_last_layer(feats[tr], y[tr], K, random_state=random_state)
            arms.append(Arm(f"transfer learning: {arch} features + softmax layer", int(head.W_.size + head.b_.size),
                            score(lambda ix: head.predict_proba(feats[ix])), time.perf_counter() - t))
            say(f"{task}: transfer learning {arms[-1].accuracy} ({arms[-1].seconds:.0f} s)")
            result.tasks.append(TaskResult(task, labels, counts, arms, dict(h), k_best))
    result.seconds = time.perf_counter() - t0
    return result
