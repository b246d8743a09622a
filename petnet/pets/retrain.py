"""Retrain the last layer on your own photos: ``retrain(image_dir, ...) -> RetrainResult``.

TensorFlow's ``retrain.py``, rebuilt on petnet, as a function (``petnet retrain`` is a thin shell
over it, with ``retrain.py``'s flag names)::

    scan image_dir (one sub-folder per class)  ->  stable hash split (training/validation/testing)
    -> bottleneck features of every photo and view (cached in bottleneck_dir)
    -> train the new softmax layer (max_iter steps, learning_rate, batch_size)
    -> test accuracy -> RetrainResult (model, labels, metrics, history); .save(output_graph, output_labels)

Every parameter is checked before any folder is scanned or any feature computed. ``log(line)``
receives the lines ``petnet retrain`` prints while it works (skipped files, counts, the cache, the
split, one ``Step ...`` line per ``eval_step_interval``); the results are in the returned object.

The distortion parameters choose cached views (see :mod:`petnet.pets.preprocess`)::

    flip_left_right   -> flip                 random_crop       -> crop_tl, crop_tr, crop_bl, crop_br
    random_scale      -> zoom, wide           random_brightness -> brighter, darker

Every training step samples, per photo, one of its views. Predictions average the softmax
over ``center`` and (with ``flip_left_right``) ``flip``.
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.errors import ParamError
from petnet.pets.model_file import PetModel

MAX_ITER = 1_000_000      # training steps: ~10 minutes of work for 37 classes; more is a typo
MAX_BATCH = 1_000_000     # photos per step (a batch larger than the training set uses all of it)

DISTORTION_VIEWS = {
    "flip_left_right": ("flip",),
    "random_crop": ("crop_tl", "crop_tr", "crop_bl", "crop_br"),
    "random_scale": ("zoom", "wide"),
    "random_brightness": ("brighter", "darker"),
}


@dataclass
class RetrainResult:
    """What :func:`retrain` learned and measured.

    ``model``: the :class:`~petnet.pets.model_file.PetModel` (head, labels, backbone, test views);
    ``labels``: the class names in index order; ``metrics``: the counts, views, test accuracy
    (``test_accuracy``, ``test_top3``, ``test_n`` when there is a test set), ``seconds`` and the
    ``history``; ``history``: one row per evaluation (``step``, ``train_accuracy``,
    ``cross_entropy``, ``validation_accuracy``); ``skipped``: ``(path, reason)`` of files that were
    not used; ``misclassified``: ``(path, predicted label)`` of the test photos it got wrong;
    ``confusion``: ``C[true, predicted]`` counts on the test set (None without one)."""

    model: PetModel
    labels: list[str]
    metrics: dict
    history: list[dict]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    misclassified: list[tuple[Path, str]] = field(default_factory=list)
    confusion: np.ndarray | None = None

    def __repr__(self) -> str:     # short, for notebooks (the arrays and the history are long)
        m = self.metrics
        test = f"{m['test_accuracy']:.3f} (N={m['test_n']})" if "test_accuracy" in m else "-"
        return (f"RetrainResult({len(self.labels)} classes, {self.model.arch}, "
                f"{m.get('training', '?')} training photos, test accuracy {test}, "
                f"{len(self.skipped)} skipped)")

    def save(self, output_graph, output_labels) -> tuple[Path, Path]:
        """Write the model (``.npz``) and the labels file (one label per line) together: if either
        cannot be written, the previous files of both names are left as they were."""
        from petnet.pets.model_file import save_model_and_labels
        return save_model_and_labels(output_graph, output_labels, self.model)


def retrain(image_dir, *, architecture: str = "lite2", max_iter: int = 1000, learning_rate: float = 0.001,
            batch_size: int = 100, l2: float = 1e-3, optimizer: str = "adam",
            validation_percentage: float = 10, testing_percentage: float = 10,
            eval_step_interval: int = 100, validation_batch_size: int | None = None,
            test_batch_size: int | None = None, flip_left_right: bool = False, random_crop: bool = False,
            random_scale: bool = False, random_brightness: bool = False, bottleneck_dir=None,
            random_state: int = 0, progress=None, log=None, backbone_factory=None) -> RetrainResult:
    """Retrain a softmax layer on the photos of ``image_dir`` (one sub-folder per class).

    ``max_iter`` training steps of ``batch_size`` photos (``learning_rate``, ``l2`` weight decay,
    ``optimizer`` from ``petnet.optim.OPTIMIZERS``); ``validation_percentage`` /
    ``testing_percentage`` of the photos (by a stable hash of the file name) are held out;
    ``validation_batch_size`` / ``test_batch_size``: evaluate on only that many of them (None:
    all). ``bottleneck_dir``: the feature cache (default ``~/.cache/petnet/bottlenecks``).
    ``progress``: None, True or ``progress(stage, done, total)``; ``log(line)``: see the module.
    ``backbone_factory`` builds a stand-in backbone (tests). Raises ``ParamError`` naming the
    parameter for a bad value, before any work; ``PetnetError`` for an unusable folder."""
    from petnet.pets.backbones import arch_spec
    from petnet.pets.dataset import scan_image_dir, split
    from petnet.pets.preprocess import preprocess_id

    t0 = time.perf_counter()
    arch = arch_spec(architecture).name
    _check_params(max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size, l2=l2,
                  optimizer=optimizer, validation_percentage=validation_percentage,
                  testing_percentage=testing_percentage, eval_step_interval=eval_step_interval,
                  validation_batch_size=validation_batch_size, test_batch_size=test_batch_size,
                  random_state=random_state)
    say = log or (lambda line: None)
    image_set = scan_image_dir(image_dir)
    for p, reason in image_set.skipped:
        say(f"skipped {p}: {reason}")
    train_views, test_views = views_for(flip_left_right, random_crop, random_scale, random_brightness)
    say(f"{len(image_set)} images in {len(image_set.labels)} classes; backbone {arch}; "
        f"views {', '.join(train_views)}")
    feats, paths, y, cache, failures = load_features(image_set, arch, train_views, bottleneck_dir,
                                                     backbone_factory, progress=progress, log=say)
    say(f"bottlenecks: {cache.hits} from the cache, {cache.computed} computed ({cache.folder})")
    sets = split([p.name for p in paths], validation_percentage, testing_percentage)
    tr, va, te = (np.array(sets[s], np.int64) for s in ("training", "validation", "testing"))
    say(f"split (stable hash of file names): {len(tr)} training, {len(va)} validation, "
        f"{len(te)} testing")
    if len(tr) == 0:
        raise ParamError("validation_percentage", "and testing_percentage leave no training images "
                         "after the split; lower them or add photos")
    ti = [train_views.index(v) for v in test_views]
    va_eval = va if validation_batch_size is None else va[:validation_batch_size]

    def step_line(row):
        say(f"Step {row['step']}: Train accuracy = {_percent(row['train_accuracy'])}, "
            f"Cross entropy = {row['cross_entropy']:.4f}, "
            f"Validation accuracy = {_percent(row['validation_accuracy'])} (N={len(va_eval)})")

    head = train_head(feats[tr], y[tr], len(image_set.labels), max_iter=max_iter,
                      learning_rate=learning_rate, batch_size=batch_size, l2=l2, optimizer=optimizer,
                      eval_step_interval=eval_step_interval,
                      val=(feats[va_eval][:, ti], y[va_eval]) if len(va_eval) else None,
                      log=step_line, quiet=progress is not True, random_state=random_state)
    metrics = {"architecture": arch, "classes": len(image_set.labels), "images": len(paths),
               "training": len(tr), "validation": len(va), "testing": len(te),
               "train_views": list(train_views), "test_views": list(test_views),
               "history": head.history_}
    misclassified, conf = [], None
    if len(te):
        te_eval = te if test_batch_size is None else te[:test_batch_size]
        P = head.predict_proba(feats[te_eval][:, ti])
        hit1 = topk_hits(P, y[te_eval], 1)
        metrics.update(test_accuracy=float(hit1.mean()), test_top3=float(topk_hits(P, y[te_eval], 3).mean()),
                       test_n=len(te_eval))
        misclassified = [(paths[i], image_set.labels[int(P[row].argmax())])
                         for row, (i, ok) in enumerate(zip(te_eval, hit1)) if not ok]
        conf = confusion(P.argmax(1), y[te_eval], len(image_set.labels))
    model = PetModel(head.W_, head.b_, image_set.labels, arch, preprocess_id(arch), test_views)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    return RetrainResult(model, list(image_set.labels), metrics, head.history_,
                         list(image_set.skipped) + failures, misclassified, conf)


DEFAULTS = {name: p.default for name, p in inspect.signature(retrain).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _check_params(*, max_iter, learning_rate, batch_size, l2, optimizer, validation_percentage,
                  testing_percentage, eval_step_interval, validation_batch_size, test_batch_size,
                  random_state) -> None:
    """Every numeric parameter of :func:`retrain`, checked together before any work."""
    from petnet import optim
    from petnet.pets.dataset import check_percentages
    from petnet.validate import check_choice, check_int, check_number
    check_int("max_iter", max_iter, min=1, max=MAX_ITER)
    check_number("learning_rate", learning_rate, min=0, min_exclusive=True)
    check_int("batch_size", batch_size, min=1, max=MAX_BATCH)
    check_number("l2", l2, min=0)
    check_choice("optimizer", optimizer, optim.OPTIMIZERS)
    check_percentages(validation_percentage, testing_percentage)
    check_int("eval_step_interval", eval_step_interval, min=1, max=MAX_ITER)
    for name, value in (("validation_batch_size", validation_batch_size), ("test_batch_size", test_batch_size)):
        if value is not None:
            check_int(name, value, min=1, max=MAX_BATCH)
    check_int("random_state", random_state, min=0, max=2 ** 32 - 1)


def default_head_kwargs() -> dict:
    """:func:`train_head`'s keyword arguments for :func:`retrain`'s defaults (benchmarks, tests)."""
    return {k: DEFAULTS[k] for k in ("max_iter", "learning_rate", "batch_size", "l2", "optimizer")}


def views_for(flip_left_right=False, random_crop=False, random_scale=False, random_brightness=False):
    """``(train_views, test_views)`` for the distortion flags."""
    flags = dict(flip_left_right=flip_left_right, random_crop=random_crop,
                 random_scale=random_scale, random_brightness=random_brightness)
    train = ["center"]
    for name, on in flags.items():
        if on:
            train += DISTORTION_VIEWS[name]
    test = ("center", "flip") if flip_left_right else ("center",)
    return tuple(train), test


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def topk_hits(P: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Boolean per row: is the true class among the ``k`` most probable?"""
    top = np.argsort(-P, axis=1)[:, :k]
    return (top == np.asarray(y)[:, None]).any(axis=1)


def load_features(image_set, arch: str, views, bottleneck_dir=None, backbone_factory=None,
                  progress=None, log=None):
    """Cached features of every photo of ``image_set``: ``(feats (n, V, 1280), paths, y, cache,
    failures)``. Unreadable photos are skipped (each ``skipped <path>: <reason>`` goes to ``log``
    and into ``failures``); the class-size rules are checked again afterwards."""
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import ImageSet, check_classes

    paths, ys = image_set.samples()
    cache = BottleneckCache(bottleneck_dir, arch, backbone_factory=backbone_factory)
    feats, ok, failures = cache.get(paths, views=views, progress=progress)
    for p, reason in failures:
        if log:
            log(f"skipped {p}: {reason}")
    label_of = dict(zip(paths, ys))
    y = np.array([label_of[p] for p in ok], np.int64)
    kept = ImageSet(image_set.root, image_set.labels,
                    {lab: [p for p in ok if label_of[p] == i] for i, lab in enumerate(image_set.labels)})
    check_classes(kept)
    return feats, ok, y, cache, list(failures)


def train_head(feats, y, n_classes, *, max_iter, learning_rate, batch_size, l2=1e-3, optimizer="adam",
               eval_step_interval=100, val=None, log=None, quiet=True, random_state=0, scaling="global"):
    """Fit a :class:`~petnet.pets.head.SoftmaxHead`; ``val = (feats_val, y_val)`` or None."""
    from petnet.pets.head import SoftmaxHead
    head = SoftmaxHead(n_classes, max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size,
                       l2=l2, optimizer=optimizer, eval_step_interval=eval_step_interval,
                       random_state=random_state,
                       scaling=scaling)
    Xv, yv = val if val is not None else (None, None)
    return head.fit(feats, y, Xv, yv, log=log, quiet=quiet)


def confusion(pred, y, k) -> np.ndarray:
    """``C[i, j]`` = number of photos of class ``i`` predicted as class ``j``."""
    C = np.zeros((k, k), np.int64)
    np.add.at(C, (np.asarray(y), np.asarray(pred)), 1)
    return C


def write_summaries(summaries_dir, metrics: dict, conf, labels, log=None) -> Path:
    """Write ``metrics.json``, ``history.csv`` and ``confusion.png`` into a **new** sub-folder
    ``run-YYYYmmdd-HHMMSS`` of ``summaries_dir`` (``retrain.py`` deleted the whole folder;
    petnet never deletes or overwrites anything). ``log(line)`` gets a note when no font can draw
    the class names. ``retrain(...)``'s result: ``write_summaries(folder, r.metrics, r.confusion,
    r.labels)``."""
    root = Path(summaries_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise ParamError("summaries_dir", f"{root} is a file; give a folder")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / f"run-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"run-{stamp}-{n}"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = ["step,train_accuracy,cross_entropy,validation_accuracy"]
    for r in metrics["history"]:
        va = "" if r["validation_accuracy"] is None else f"{r['validation_accuracy']:.6f}"
        lines.append(f"{r['step']},{r['train_accuracy']:.6f},{r['cross_entropy']:.6f},{va}")
    (folder / "history.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if conf is not None:
        import warnings

        from petnet.pets.sheet import chinese_font, drawable
        from petnet.plotting import finish, pyplot
        plt = pyplot()
        fp, charmap = chinese_font(size=6)
        if log and not all(drawable(lab, charmap) for lab in labels):
            log("note: no installed font can draw every Chinese character of the class names; the "
                "confusion matrix shows boxes for them (install a CJK font, e.g. fonts-noto-cjk)")
        k = len(labels)
        fig, ax = plt.subplots(figsize=(max(4, 0.25 * k + 2), max(4, 0.25 * k + 2)))
        ax.imshow(conf, cmap="Blues")
        ax.set_xticks(range(k), labels, rotation=90, fontsize=6, fontproperties=fp)
        ax.set_yticks(range(k), labels, fontsize=6, fontproperties=fp)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("confusion matrix (test set)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # missing CJK glyphs (noted above)
            finish(fig, folder / "confusion.png", dpi=100)
    return folder


def cross_validate(feats, y, k_folds: int, paths, n_classes, test_view_index, folds=None, **head_kwargs):
    """k-fold cross-validation with stable hash folds; returns the probabilities of every photo
    predicted by the model that did not see it, ``(n, K)``. ``folds``: the fold (0..k-1) of each
    photo, to use another assignment than the file-name hash."""
    from petnet.pets.dataset import kfold_of
    if folds is None:
        folds = np.array([kfold_of(Path(p).name, k_folds) for p in paths])
    P = np.zeros((len(y), n_classes))
    for f in range(k_folds):
        tr, te = folds != f, folds == f
        if not te.any():
            continue
        head = train_head(feats[tr], y[tr], n_classes, **head_kwargs)
        P[te] = head.predict_proba(feats[te][:, test_view_index])
    return P
