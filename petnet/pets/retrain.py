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
from petnet.safe_io import printable

MAX_ITER = 1_000_000      # training steps: ~10 minutes of work for 37 classes; more is a typo
MAX_BATCH = 1_000_000     # photos per step (a batch larger than the training set uses all of it)
K_FOLDS = 5               # folds of the temperature fit and of the review's cross-validation
MIN_CALIBRATION_PHOTOS = 20   # fewer training photos: no temperature (T = 1)

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
    ``confusion``: ``C[true, predicted]`` counts on the test set (None without one).

    Review (:func:`write_summaries` draws it): ``paths`` and ``y`` of every photo used,
    ``cv_proba``: the probabilities of every photo from a ``K_FOLDS``-fold cross-validation of the
    same head settings (each photo predicted by a head that did not see it; calibrated with the
    model's temperature), ``reliability``: ``{"uncalibrated": Reliability, "temperature-scaled":
    Reliability}`` of the training photos' held-out predictions that chose the temperature (empty
    when too few photos to fit one)."""

    model: PetModel
    labels: list[str]
    metrics: dict
    history: list[dict]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    misclassified: list[tuple[Path, str]] = field(default_factory=list)
    confusion: np.ndarray | None = None
    paths: list[Path] = field(default_factory=list)
    y: np.ndarray | None = None
    cv_proba: np.ndarray | None = None
    reliability: dict = field(default_factory=dict)

    def __repr__(self) -> str:     # short, for notebooks (the arrays and the history are long)
        m = self.metrics
        test = f"{m['test_accuracy']:.3f} (N={m['test_n']})" if "test_accuracy" in m else "-"
        return (f"RetrainResult({len(self.labels)} classes, {self.model.arch}, "
                f"{m.get('training', '?')} training photos, test accuracy {test}, "
                f"{len(self.skipped)} skipped)")

    def save(self, output_graph, output_labels) -> tuple[Path, Path]:
        """Write the model (``.npz``) and the labels file (one label per line) together: if either
        cannot be written, the previous files of both names are left as they were."""
        from petnet.pets.model_file import check_output_names, save_model_and_labels
        from petnet.safe_io import check_distinct
        check_output_names(output_graph, output_labels)
        photos = list(self.paths) + [p for p, _ in self.skipped]
        check_distinct({printable(p): p for p in photos},          # never over one of the photos
                       {"output_graph": output_graph, "output_labels": output_labels})
        return save_model_and_labels(output_graph, output_labels, self.model)


def retrain(image_dir, *, architecture: str = "lite2", max_iter: int = 1000, learning_rate: float = 0.001,
            batch_size: int = 100, l2: float = 1e-3, optimizer: str = "adam",
            validation_percentage: float = 10, testing_percentage: float = 10,
            eval_step_interval: int = 100, validation_batch_size: int | None = None,
            test_batch_size: int | None = None, flip_left_right: bool = False, random_crop: bool = False,
            random_scale: bool = False, random_brightness: bool = False, bottleneck_dir=None,
            random_state: int = 0, review: bool = True, progress=None, log=None,
            backbone_factory=None) -> RetrainResult:
    """Retrain a softmax layer on the photos of ``image_dir`` (one sub-folder per class).

    ``max_iter`` training steps of ``batch_size`` photos (``learning_rate``, ``l2`` weight decay,
    ``optimizer`` from ``petnet.optim.OPTIMIZERS``); ``validation_percentage`` /
    ``testing_percentage`` of the photos (by a stable hash of the file name) are held out;
    ``validation_batch_size`` / ``test_batch_size``: evaluate on only that many of them (None:
    all). ``bottleneck_dir``: the feature cache (default ``~/.cache/petnet/bottlenecks``).
    ``progress``: None, True or ``progress(stage, done, total)``; ``log(line)``: see the module.
    ``random_state`` seeds the training (batches, initial weights). The head's temperature is fitted
    on 5 held-out folds of the training photos (:func:`calibrate`; 5 more trainings of the head);
    ``review``: also cross-validate over all photos for :func:`write_review` (``cv_proba``; 5 more).
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
    K = len(image_set.labels)
    head_kwargs = dict(max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size, l2=l2,
                       optimizer=optimizer, random_state=random_state)
    T, rel = calibrate(feats[tr], y[tr], [paths[i] for i in tr], K, ti, log=say, **head_kwargs)
    settings = {"architecture": arch, "learning_rate": learning_rate, "max_iter": max_iter,
                "batch_size": batch_size, "l2": l2, "optimizer": optimizer, "random_state": random_state,
                "eval_step_interval": eval_step_interval, "validation_percentage": validation_percentage,
                "testing_percentage": testing_percentage, "train_views": list(train_views),
                "test_views": list(test_views), "temperature": T, "petnet_version": _version(),
                "head": "softmax layer on the backbone's 1280 features (petnet.pets.head.SoftmaxHead)"}
    metrics = {"architecture": arch, "classes": K, "images": len(paths),
               "training": len(tr), "validation": len(va), "testing": len(te),
               "train_views": list(train_views), "test_views": list(test_views),
               "settings": settings, "history": head.history_}
    if rel:
        metrics["calibration"] = {"temperature": T, "folds": K_FOLDS, "photos": len(tr),
                                  "ece_before": rel["uncalibrated"].ece,
                                  "ece_after": rel["temperature-scaled"].ece}
    misclassified, conf = [], None
    if len(te):
        te_eval = te if test_batch_size is None else te[:test_batch_size]
        P = head.predict_proba(feats[te_eval][:, ti])
        hit1 = topk_hits(P, y[te_eval], 1)
        metrics.update(test_accuracy=float(hit1.mean()), test_top3=float(topk_hits(P, y[te_eval], 3).mean()),
                       test_n=len(te_eval))
        misclassified = [(paths[i], image_set.labels[int(P[row].argmax())])
                         for row, (i, ok) in enumerate(zip(te_eval, hit1)) if not ok]
        conf = confusion(P.argmax(1), y[te_eval], K)
    species = _label_species(cache, arch, feats[tr], y[tr], K, train_views)
    cv_proba = None
    if review and len(paths) >= MIN_CALIBRATION_PHOTOS:
        from petnet.pets.calibration import apply_temperature, probs_to_logits
        cv_proba = cross_validate(feats, y, K_FOLDS, paths, K, ti, **head_kwargs)
        if T != 1.0:
            cv_proba = apply_temperature(probs_to_logits(cv_proba), T)
        metrics["cv_accuracy"] = float((cv_proba.argmax(1) == y).mean())
        say(f"{K_FOLDS}-fold cross-validation over all {len(paths)} photos (for the review): "
            f"top-1 {100 * metrics['cv_accuracy']:.1f}%")
    from petnet.pets.openworld import class_features
    model = PetModel(head.W_, head.b_, image_set.labels, arch, preprocess_id(arch), test_views,
                     temperature=T, label_species=species, settings=settings,
                     class_features=class_features(feats[tr][:, ti], y[tr], K))
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    return RetrainResult(model, list(image_set.labels), metrics, head.history_,
                         list(image_set.skipped) + failures, misclassified, conf,
                         paths=list(paths), y=y, cv_proba=cv_proba, reliability=rel)


def calibrate(feats, y, paths, n_classes, test_view_index, log=None, **head_kwargs):
    """The temperature of a head trained on ``feats``/``y`` with ``head_kwargs``: fitted on the
    held-out predictions of a ``K_FOLDS``-fold cross-validation of the same photos (folds: the
    stable file-name hash, :func:`~petnet.pets.dataset.kfold_of`), so no photo's own prediction
    chooses it. Returns ``(T, {"uncalibrated": Reliability, "temperature-scaled": Reliability})``
    of those held-out predictions; ``(1.0, {})`` with fewer than ``MIN_CALIBRATION_PHOTOS`` photos
    or fewer than 2 folds. ``log(line)`` gets the ECE before and after."""
    from petnet.pets.calibration import (apply_temperature, cross_validated_temperature,
                                         probs_to_logits, reliability)
    from petnet.pets.dataset import kfold_of
    say = log or (lambda line: None)
    folds = np.array([kfold_of(Path(p).name, K_FOLDS) for p in paths])
    if len(y) < MIN_CALIBRATION_PHOTOS or len(np.unique(folds)) < 2:
        say(f"calibration: skipped ({len(y)} training photos; it needs {MIN_CALIBRATION_PHOTOS}): "
            "temperature 1")
        return 1.0, {}
    held_out = np.zeros((len(y), n_classes))

    def fit_predict(tr, te):
        h = train_head(feats[tr], y[tr], n_classes, **head_kwargs)
        held_out[te] = h.predict_proba(feats[te][:, test_view_index])
        return held_out[te]

    T = cross_validated_temperature(fit_predict, y, folds)
    before = reliability(held_out, y)
    after = reliability(apply_temperature(probs_to_logits(held_out), T), y)
    say(f"calibration ({K_FOLDS}-fold, held-out training photos): temperature {T:.3f}, expected "
        f"calibration error {100 * before.ece:.1f}% before, {100 * after.ece:.1f}% after")
    return T, {"uncalibrated": before, "temperature-scaled": after}


def _label_species(cache, arch, feats, y, n_classes, train_views):
    """:func:`~petnet.pets.openworld.label_species` of the classes from their training photos'
    views that are among :data:`~petnet.pets.openworld.PET_VIEWS` (the backbone's ImageNet head,
    and petnet's species head where it ships one)."""
    from petnet.pets.openworld import PET_VIEWS, imagenet_view_probs, label_species
    from petnet.pets.species import species_head
    keep = [i for i, v in enumerate(train_views) if v in PET_VIEWS]
    F = np.asarray(feats[:, keep], np.float32)
    imagenet_logits = getattr(cache.backbone, "imagenet_logits", None)
    if imagenet_logits is None:          # a feature extractor without the ImageNet head (Ray workers)
        from petnet.pets.backbone import Backbone
        imagenet_logits = Backbone(arch).imagenet_logits
    probs = imagenet_view_probs(imagenet_logits, F)
    sp = species_head(arch)
    return label_species(probs, y, n_classes, species_logodds=None if sp is None else sp.logodds(F))


def _version() -> str:
    from petnet import __version__
    return __version__


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


def write_summaries(summaries_dir, metrics: dict, conf, labels, log=None, result=None) -> Path:
    """Write ``metrics.json``, ``history.csv`` and ``confusion.png`` (test set) into a **new**
    sub-folder ``run-YYYYmmdd-HHMMSS`` of ``summaries_dir`` (``retrain.py`` deleted the whole folder;
    petnet never deletes or overwrites anything). ``log(line)`` gets a note when no font can draw
    the class names. ``retrain(...)``'s result: ``write_summaries(folder, r.metrics, r.confusion,
    r.labels, result=r)``; with ``result`` also the review (:func:`write_review`)."""
    root = Path(summaries_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise ParamError("summaries_dir", f"{printable(root)} is a file; give a folder")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / f"run-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"run-{stamp}-{n}"
    folder.mkdir(parents=True)
    from petnet.atomic import write_text
    from petnet.pets.model_file import json_default
    write_text(folder / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False, default=json_default))
    lines = ["step,train_accuracy,cross_entropy,validation_accuracy"]
    for r in metrics["history"]:
        va = "" if r["validation_accuracy"] is None else f"{r['validation_accuracy']:.6f}"
        lines.append(f"{r['step']},{r['train_accuracy']:.6f},{r['cross_entropy']:.6f},{va}")
    write_text(folder / "history.csv", "\n".join(lines) + "\n")
    if conf is not None:
        draw_confusion(conf, labels, folder / "confusion.png", "confusion matrix (test set)", log=log)
    if result is not None:
        write_review(folder, result, log=log)
    return folder


MAX_FIGURE_INCHES = 20      # pictures at most 2000 x 2000 pixels (dpi 100), whatever the classes
MAX_COUNTS = 40             # counts written in the cells up to this many classes
MAX_TICK_LABELS = 100       # class names on the axes up to this many classes


def draw_confusion(C, labels, out, title: str, log=None) -> Path:
    """A confusion matrix PNG: colours and (up to ``MAX_COUNTS`` classes) the count in each
    non-empty cell, a colour bar, class names on the axes (up to ``MAX_TICK_LABELS``); at most
    ``MAX_FIGURE_INCHES`` inches (2000 px) a side, so 1000 classes stay a 2000 x 2000 picture."""
    import warnings

    from petnet.pets.sheet import chinese_font, drawable
    from petnet.plotting import bounded_figsize, finish, literal, pyplot
    plt = pyplot()
    C = np.asarray(C)
    k = len(labels)
    fp, charmap = chinese_font(size=6)
    if log and k <= MAX_TICK_LABELS and not all(drawable(lab, charmap) for lab in labels):
        log("note: no installed font can draw every Chinese character of the class names; the "
            "confusion matrix shows boxes for them (install a CJK font, e.g. fonts-noto-cjk)")
    side = min(MAX_FIGURE_INCHES - 1, max(4, 0.25 * k + 2))
    fig, ax = plt.subplots(figsize=bounded_figsize(side + 1, side, dpi=100))
    im = ax.imshow(C, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="photos")
    if k <= MAX_COUNTS:
        for i, j in zip(*np.nonzero(C)):
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=5,
                    color="white" if C[i, j] > C.max() / 2 else "black")
    if k <= MAX_TICK_LABELS:
        names = [literal(lab) for lab in labels]      # folder names, drawn as written
        ax.set_xticks(range(k), names, rotation=90, fontsize=6, fontproperties=fp)
        ax.set_yticks(range(k), names, fontsize=6, fontproperties=fp)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(literal(title))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # missing CJK glyphs (noted above)
        finish(fig, out, dpi=100)
    return Path(out)


def write_review(folder, result: RetrainResult, log=None, worst: int = 16) -> list[Path]:
    """The review of a :class:`RetrainResult` in ``folder`` (what fastai users look at after
    training): ``confusion_cv.png`` (counts over all photos from the cross-validation),
    ``top_losses.png`` (the ``worst`` photos by the probability the cross-validated head gave
    their true class, like fastai's ``plot_top_losses``), ``training_curve.png`` (from the
    history) and ``reliability.png`` (before/after temperature scaling). Returns the files."""
    from petnet.pets.calibration import draw_reliability
    folder = Path(folder)
    out = []
    if result.cv_proba is not None:
        k = len(result.labels)
        C = confusion(result.cv_proba.argmax(1), result.y, k)
        acc = np.trace(C) / max(1, C.sum())
        out.append(draw_confusion(C, result.labels, folder / "confusion_cv.png",
                                  f"confusion matrix, {K_FOLDS}-fold cross-validation over all "
                                  f"{C.sum()} photos (top-1 {100 * acc:.1f}%)", log=log))
        out.append(draw_top_losses(result, folder / "top_losses.png", worst))
    if result.history:
        out.append(draw_training_curve(result.history, folder / "training_curve.png"))
    if result.reliability:
        out.append(Path(draw_reliability(result.reliability, folder / "reliability.png",
                                         title="held-out training photos")))
    return out


def draw_top_losses(result: RetrainResult, out, worst: int = 16) -> Path:
    """The ``worst`` photos by cross-validated probability of their true class, each titled
    ``true -> predicted`` with both probabilities (4 columns, thumbnails of at most 300 px)."""
    import math
    import warnings

    from petnet.pets.images import ImageError, load_image
    from petnet.pets.sheet import chinese_font
    from petnet.plotting import finish, literal, pyplot
    plt = pyplot()
    P, y = result.cv_proba, result.y
    p_true = P[np.arange(len(y)), y]
    order = np.argsort(p_true, kind="stable")[:worst]
    cols = min(4, len(order))
    rows = math.ceil(len(order) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.3 * rows), squeeze=False)
    fp, _ = chinese_font(size=7)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), order):
        try:
            img = load_image(result.paths[i])
            img.thumbnail((300, 300))
            ax.imshow(img)
        except ImageError:
            pass
        guess = int(P[i].argmax())
        ax.set_title(literal(f"{Path(result.paths[i]).name}\n{result.labels[y[i]]} {p_true[i]:.2f} -> "
                             f"{result.labels[guess]} {P[i, guess]:.2f}"), fontsize=7, fontproperties=fp)
    fig.suptitle("worst-scored photos (cross-validated): true class p -> predicted p", fontsize=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        finish(fig, out, dpi=90)
    return Path(out)


def draw_training_curve(history, out) -> Path:
    """Training and validation accuracy and the cross entropy over the steps of ``history``."""
    from petnet.plotting import finish, pyplot
    plt = pyplot()
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(steps, [100 * r["train_accuracy"] for r in history], label="train accuracy")
    val = [(r["step"], 100 * r["validation_accuracy"]) for r in history if r["validation_accuracy"] is not None]
    if val:
        ax.plot(*zip(*val), label="validation accuracy")
    ax.set_xlabel("step")
    ax.set_ylabel("accuracy (%)")
    ax2 = ax.twinx()
    ax2.plot(steps, [r["cross_entropy"] for r in history], color="C3", linestyle="--", label="cross entropy")
    ax2.set_ylabel("cross entropy")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="center right", fontsize=8)
    ax.set_title("training curve")
    finish(fig, out, dpi=100)
    return Path(out)


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
