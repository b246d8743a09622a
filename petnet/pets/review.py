"""What ``petnet retrain --summaries_dir`` writes: the run's numbers and the pictures to review it.

:func:`write_summaries` makes a new ``run-YYYYmmdd-HHMMSS`` folder with ``metrics.json``,
``history.csv`` and the test set's confusion matrix, and with a
:class:`~petnet.pets.retrain.RetrainResult` the review (:func:`write_review`): the cross-validated
confusion matrix over all photos, the worst-scored photos, the training curve and the reliability
diagram. Pictures are bounded in size whatever the number of classes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from petnet.errors import ParamError
from petnet.progress import ProgressEvent
from petnet.safe_io import printable


def write_summaries(summaries_dir, metrics: dict, conf, labels, progress=None, result=None) -> Path:
    """Write ``metrics.json``, ``history.csv`` and ``confusion.png`` (test set) into a **new**
    sub-folder ``run-YYYYmmdd-HHMMSS`` of ``summaries_dir`` (``retrain.py`` deleted the whole folder;
    petnet never deletes or overwrites anything). ``progress`` (a callable) gets a
    :class:`~petnet.progress.ProgressEvent` of phase ``review`` whose message is a note when no font
    can draw the class names. ``retrain(...)``'s result: ``write_summaries(folder, r.metrics, r.confusion,
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
        draw_confusion(conf, labels, folder / "confusion.png", "confusion matrix (test set)", progress=progress)
    if result is not None:
        write_review(folder, result, progress=progress)
    return folder


MAX_FIGURE_INCHES = 20      # pictures at most 2000 x 2000 pixels (dpi 100), whatever the classes
MAX_COUNTS = 40             # counts written in the cells up to this many classes
MAX_TICK_LABELS = 100       # class names on the axes up to this many classes


def draw_confusion(C, labels, out, title: str, progress=None) -> Path:
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
    if progress is not None and k <= MAX_TICK_LABELS and not all(drawable(lab, charmap) for lab in labels):
        progress(ProgressEvent("review", 0, 0, "note: no installed font can draw every Chinese character "
                                               "of the class names; the confusion matrix shows boxes for "
                                               "them (install a CJK font, e.g. fonts-noto-cjk)"))
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


def write_review(folder, result: RetrainResult, progress=None, worst: int = 16) -> list[Path]:
    """The review of a :class:`RetrainResult` in ``folder`` (what fastai users look at after
    training): ``confusion_cv.png`` (counts over all photos from the cross-validation),
    ``top_losses.png`` (the ``worst`` photos by the probability the cross-validated head gave
    their true class, like fastai's ``plot_top_losses``), ``training_curve.png`` (from the
    history) and ``reliability.png`` (before/after temperature scaling). Returns the files."""
    from petnet.pets.calibration import draw_reliability
    from petnet.pets.evaluation import K_FOLDS, confusion
    folder = Path(folder)
    out = []
    if result.cv_proba is not None:
        k = len(result.labels)
        C = confusion(result.cv_proba.argmax(1), result.y, k)
        acc = np.trace(C) / max(1, C.sum())
        out.append(draw_confusion(C, result.labels, folder / "confusion_cv.png",
                                  f"confusion matrix, {K_FOLDS}-fold cross-validation over all "
                                  f"{C.sum()} photos (top-1 {100 * acc:.1f}%)", progress=progress))
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
