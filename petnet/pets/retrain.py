"""Retrain the last layer on your own photos: ``retrain(image_dir, ...) -> RetrainResult``.

TensorFlow's ``retrain.py``, rebuilt on petnet, as a function (``petnet retrain`` is a thin shell
over it, with ``retrain.py``'s flag names)::

    scan image_dir (one sub-folder per class)  ->  stable hash split (training/validation/testing)
    -> bottleneck features of every photo and view (cached in bottleneck_dir)
    -> train the new softmax layer (max_iter steps, learning_rate, batch_size)
    -> test accuracy -> RetrainResult (model, labels, metrics, history); .save(output_graph, output_labels)

Every parameter is checked before any folder is scanned or any feature computed. A ``progress``
callable gets :class:`~petnet.progress.ProgressEvent` s as the work goes, in four phases:
``features`` (photos done of those to compute), ``training`` (the step of ``max_iter``, one event
per ``eval_step_interval``), ``calibration`` and ``review`` (folds done of 5). The lines
``petnet retrain`` prints (skipped files, counts, the cache, the split, ``Step ...``, the
calibration) are the events' ``message`` s; the results are in the returned object.

The distortion parameters choose cached views (see :mod:`petnet.pets.preprocess`)::

    flip_left_right   -> flip                 random_crop       -> crop_tl, crop_tr, crop_bl, crop_br
    random_scale      -> zoom, wide           random_brightness -> brighter, darker

Every training step samples, per photo, one of its views. Predictions average the softmax
over ``center`` and (with ``flip_left_right``) ``flip``.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from petnet.errors import ParamError
from petnet.pets.calibration import MIN_CALIBRATION_PHOTOS, calibrate
from petnet.pets.evaluation import K_FOLDS, confusion, cross_validate, topk_hits
from petnet.pets.model_file import PetModel
from petnet.progress import ProgressEvent
from petnet.safe_io import printable

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
    ``confusion``: ``C[true, predicted]`` counts on the test set (None without one).

    Review (:func:`~petnet.pets.review.write_summaries` draws it): ``paths`` and ``y`` of every photo used,
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
        from petnet.output_guard import guard
        from petnet.pets.model_file import check_output_names, save_model_and_labels
        check_output_names(output_graph, output_labels)
        photos = list(self.paths) + [p for p, _ in self.skipped]
        guard({"output_graph": output_graph, "output_labels": output_labels},     # never over a photo
              {"photo": photos}, kinds={"photo": "file"})
        return save_model_and_labels(output_graph, output_labels, self.model)


def retrain(image_dir, *, architecture: str = "lite2", max_iter: int = 1000, learning_rate: float = 0.001,
            batch_size: int = 100, l2: float = 1e-3, optimizer: str = "adam",
            validation_percentage: float = 10, testing_percentage: float = 10,
            eval_step_interval: int = 100, validation_batch_size: int | None = None,
            test_batch_size: int | None = None, flip_left_right: bool = False, random_crop: bool = False,
            random_scale: bool = False, random_brightness: bool = False, bottleneck_dir=None,
            random_state: int = 0, review: bool = True, progress=None, log=None,
            backbone_factory=None, precision: str = "auto") -> RetrainResult:
    """Retrain a softmax layer on the photos of ``image_dir`` (one sub-folder per class).

    ``max_iter`` training steps of ``batch_size`` photos (``learning_rate``, ``l2`` weight decay,
    ``optimizer`` from ``petnet.optim.OPTIMIZERS``); ``validation_percentage`` /
    ``testing_percentage`` of the photos (by a stable hash of the file name) are held out;
    ``validation_batch_size`` / ``test_batch_size``: evaluate on only that many of them (None:
    all). ``bottleneck_dir``: the feature cache (default ``~/.cache/petnet/bottlenecks``).
    ``progress``: None (silent), True (petnet's bars) or a callable that gets every
    :class:`~petnet.progress.ProgressEvent` (see the module); ``log(line)``: deprecated, the events'
    messages (``progress=lambda e: e.message and print(e.message)`` does the same).
    ``random_state`` seeds the training (batches, initial weights). The head's temperature is fitted
    on 5 held-out folds of the training photos (:func:`~petnet.pets.calibration.calibrate`; 5 more
    trainings of the head); ``review``: also cross-validate over all photos for
    :func:`~petnet.pets.review.write_review` (``cv_proba``; 5 more).
    ``precision``: the backbone's arithmetic for the features (``fp32``, ``int8`` or ``auto``: the
    architecture's measured default, :data:`petnet.pets.quantize.DEFAULT_PRECISION`); stored in the
    model, which is used at the same precision under ``precision='auto'``. With ``backbone_factory``
    the factory's backbone decides, and its ``precision`` attribute (default fp32) is stored.
    ``backbone_factory`` builds a stand-in backbone (tests). Raises ``ParamError`` naming the
    parameter for a bad value, before any work; ``PetnetError`` for an unusable folder."""
    from petnet.pets.backbones import arch_spec
    from petnet.pets.dataset import scan_image_dir, split
    from petnet.blas import one_blas_thread
    from petnet.pets.head import train_heads
    from petnet.pets.preprocess import preprocess_id

    t0 = time.perf_counter()
    arch = arch_spec(architecture).name
    _check_params(max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size, l2=l2,
                  optimizer=optimizer, validation_percentage=validation_percentage,
                  testing_percentage=testing_percentage, eval_step_interval=eval_step_interval,
                  validation_batch_size=validation_batch_size, test_batch_size=test_batch_size,
                  random_state=random_state)
    precision = _training_precision(precision, arch, backbone_factory)
    report = _reporter(progress, log, arch)

    def say(phase, line, step=0, total=0):
        report(ProgressEvent(phase, step, total, line))

    image_set = scan_image_dir(image_dir)
    for p, reason in image_set.skipped:
        say("features", f"skipped {p}: {reason}")
    train_views, test_views = views_for(flip_left_right, random_crop, random_scale, random_brightness)
    say("features", f"{len(image_set)} images in {len(image_set.labels)} classes; backbone {arch}; "
        f"views {', '.join(train_views)}")
    feats, paths, y, cache, failures = load_features(image_set, arch, train_views, bottleneck_dir,
                                                     backbone_factory, progress=report, precision=precision)
    say("features", f"bottlenecks: {cache.hits} from the cache, {cache.computed} computed ({cache.folder})")
    sets = split([p.name for p in paths], validation_percentage, testing_percentage)
    tr, va, te = (np.array(sets[s], np.int64) for s in ("training", "validation", "testing"))
    say("training", f"split (stable hash of file names): {len(tr)} training, {len(va)} validation, "
        f"{len(te)} testing", 0, max_iter)
    if len(tr) == 0:
        raise ParamError("validation_percentage", "and testing_percentage leave no training images "
                         "after the split; lower them or add photos")
    ti = [train_views.index(v) for v in test_views]
    va_eval = va if validation_batch_size is None else va[:validation_batch_size]

    def step_line(row):
        say("training", f"Step {row['step']}: Train accuracy = {_percent(row['train_accuracy'])}, "
            f"Cross entropy = {row['cross_entropy']:.4f}, "
            f"Validation accuracy = {_percent(row['validation_accuracy'])} (N={len(va_eval)})",
            row["step"], max_iter)

    K = len(image_set.labels)
    head_kwargs = dict(max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size, l2=l2,
                       optimizer=optimizer, random_state=random_state)
    # train_heads: the same head as train_head(feats[tr], ...), by a leaner loop (one BLAS thread:
    # the products are small, and the digits do not depend on the number of threads)
    with one_blas_thread():
        head, = train_heads(feats, y, K, [tr], eval_step_interval=eval_step_interval,
                            vals=[(feats[va_eval][:, ti], y[va_eval]) if len(va_eval) else None],
                            logs=[step_line], **head_kwargs)
        cal = calibrate(feats[tr], y[tr], [paths[i] for i in tr], K, ti, progress=report, **head_kwargs)
    T, rel = cal.temperature, cal.reliability
    settings = {"architecture": arch, "learning_rate": learning_rate, "max_iter": max_iter,
                "batch_size": batch_size, "l2": l2, "optimizer": optimizer, "random_state": random_state,
                "eval_step_interval": eval_step_interval, "validation_percentage": validation_percentage,
                "testing_percentage": testing_percentage, "train_views": list(train_views),
                "test_views": list(test_views), "temperature": T, "petnet_version": _version(),
                "precision": precision,
                "head": "softmax layer on the backbone's 1280 features (petnet.pets.head.SoftmaxHead)"}
    metrics = {"architecture": arch, "classes": K, "images": len(paths),
               "training": len(tr), "validation": len(va), "testing": len(te),
               "train_views": list(train_views), "test_views": list(test_views),
               "settings": settings, "history": head.history_}
    metrics["calibration"] = cal.metrics()
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
        with one_blas_thread():
            cv_proba = cross_validate(feats, y, K_FOLDS, paths, K, ti, **head_kwargs, reuse=[(tr, head)],
                                      progress=lambda e: report(replace(e, phase="review")))
        if T != 1.0:
            cv_proba = apply_temperature(probs_to_logits(cv_proba), T)
        metrics["cv_accuracy"] = float((cv_proba.argmax(1) == y).mean())
        say("review", f"{K_FOLDS}-fold cross-validation over all {len(paths)} photos (for the review): "
            f"top-1 {100 * metrics['cv_accuracy']:.1f}%", K_FOLDS, K_FOLDS)
    from petnet.pets.openworld import class_features
    from petnet.pets.names import names_to_store
    model = PetModel(head.W_, head.b_, image_set.labels, arch, preprocess_id(arch), test_views,
                     temperature=T, label_species=species, settings=settings,
                     class_features=class_features(feats[tr][:, ti], y[tr], K),
                     names=names_to_store(image_set.labels), precision=precision)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    return RetrainResult(model, list(image_set.labels), metrics, head.history_,
                         list(image_set.skipped) + failures, misclassified, conf,
                         paths=list(paths), y=y, cv_proba=cv_proba, reliability=rel)


def _reporter(progress, log, arch):
    """The callable that gets :func:`retrain`'s events: ``progress`` (None, True: bars, or a
    callable) and, for the deprecated ``log``, each event's message."""
    from petnet.progress import Reporter, reporter
    report = Reporter(desc={"features": f"bottlenecks {arch}"}) if progress is True else reporter(progress)
    if log is None:
        return report
    import warnings
    warnings.warn("retrain(log=...) is deprecated: progress= gets every line as ProgressEvent.message",
                  DeprecationWarning, stacklevel=3)

    def both(event):
        report(event)
        if event.message is not None:
            log(event.message)
    return both


def _label_species(cache, arch, feats, y, n_classes, train_views):
    """:func:`~petnet.pets.openworld.label_species` of the classes from their training photos'
    views that are among :data:`~petnet.pets.openworld.PET_VIEWS`, by the same evidence the answers
    are decided on (:func:`~petnet.pets.openworld.evidence_features`: the learned scorer where
    petnet ships one for the backbone)."""
    from types import SimpleNamespace

    from petnet.pets.openworld import PET_VIEWS, evidence_features, imagenet_view_probs, label_species
    keep = [i for i, v in enumerate(train_views) if v in PET_VIEWS]
    F = np.asarray(feats[:, keep], np.float32)
    imagenet_logits = getattr(cache.backbone, "imagenet_logits", None)
    if imagenet_logits is None:          # a feature extractor without the ImageNet head (Ray workers)
        from petnet.pets.backbone import Backbone
        imagenet_logits = Backbone(arch).imagenet_logits
    probs = imagenet_view_probs(imagenet_logits, F)
    heads = SimpleNamespace(arch=arch, imagenet_logits=imagenet_logits)
    ev = evidence_features(heads, F, probs, views=[train_views[i] for i in keep])
    return label_species(None, y, n_classes, ev=ev)


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


def _training_precision(precision, arch: str, backbone_factory) -> str:
    """``fp32``/``int8``: the precision of retrain's features. Without a factory: ``precision``
    resolved for ONNX Runtime on the CPU (PyTorch without it: fp32). With one: its backbones
    decide (a factory given as ``functools.partial(Backbone, ..., precision=...)`` says which)."""
    from petnet.pets.backbone import _onnxruntime_available
    from petnet.pets.quantize import check_precision, resolve_precision
    precision = check_precision(precision)
    if backbone_factory is None:
        return resolve_precision(precision, arch, "onnx" if _onnxruntime_available() else "torch", "cpu")
    keywords = getattr(backbone_factory, "keywords", None)
    declared = keywords.get("precision") if isinstance(keywords, dict) else None
    if declared in ("fp32", "int8"):
        return declared
    if precision == "int8":
        raise ParamError("precision", "is 'int8' but the backbone was given (backbone_factory) without "
                         "one: give a factory that says precision='int8', or leave precision 'auto'")
    return "fp32"


def load_features(image_set, arch: str, views, bottleneck_dir=None, backbone_factory=None,
                  progress=None, precision: str = "fp32"):
    """Cached features of every photo of ``image_set``: ``(feats (n, V, 1280), paths, y, cache,
    failures)``. ``progress``: None, True (a bar) or a callable that gets the cache's
    :class:`~petnet.progress.ProgressEvent` s and, for each unreadable photo (skipped, and in
    ``failures``), one with the message ``skipped <path>: <reason>``. The class-size rules are
    checked again afterwards."""
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import ImageSet, check_classes

    paths, ys = image_set.samples()
    cache = BottleneckCache(bottleneck_dir, arch, backbone_factory=backbone_factory, precision=precision)
    feats, ok, failures = cache.get(paths, views=views, progress=progress)
    for p, reason in failures:
        if callable(progress):
            progress(ProgressEvent("features", 0, 0, f"skipped {p}: {reason}"))
    label_of = dict(zip(paths, ys))
    y = np.array([label_of[p] for p in ok], np.int64)
    kept = ImageSet(image_set.root, image_set.labels,
                    {lab: [p for p in ok if label_of[p] == i] for i, lab in enumerate(image_set.labels)})
    check_classes(kept)
    return feats, ok, y, cache, list(failures)
