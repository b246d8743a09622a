"""Every figure petnet draws, chapter by chapter, has its text drawn right: no tick label, title,
axis label or legend entry shows raw math text (``$...$``, ``\\mathdefault``) -- what the tick
labels of every log axis showed while ``text.parse_math`` was switched off globally -- and a user's
name with ``$`` in it is drawn as written, not parsed as TeX.

Each figure is inspected just before it is saved (``Figure.savefig`` is wrapped): the canvas is
drawn first, so the tick labels hold the text the formatters gave them, then every Text of the
figure is read the way matplotlib reads it when drawing (math text only with ``parse_math`` on and
an even number of unescaped ``$``).
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.cbook import is_math_text
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from petnet.cli import main
from tests.conftest import ROOT, shared_path

EXAMPLE = ROOT / "examples" / "Persian_143.jpg"


def drawn_literally(text: Text) -> str | None:
    """The characters ``text`` puts on the picture as plain text (escaped ``\\$`` shown as ``$``),
    or None when matplotlib parses it as math text (or draws nothing)."""
    s = text.get_text()
    if not s or text.get_usetex():
        return None
    if not text.get_parse_math():
        return s
    return None if is_math_text(s) else s.replace(r"\$", "$")


def raw_math(fig: Figure) -> list[str]:
    """Texts of ``fig`` that would show math markup literally: drawn as plain text, yet with a
    ``$`` that was not escaped on purpose (:func:`petnet.plotting.literal` writes ``\\$``) or a
    ``\\mathdefault``."""
    bad = []
    for t in fig.findobj(Text):
        s = drawn_literally(t)
        markup = t.get_text().replace("\\$", "")
        if s is not None and ("$" in markup or "\\mathdefault" in markup):
            bad.append(s)
    return bad


@pytest.fixture
def figures(monkeypatch):
    """Wraps ``Figure.savefig``: every saved figure is drawn, its texts collected, then saved.
    Yields the list of ``(texts, raw math texts, log axes)`` per figure saved."""
    seen = []
    save = Figure.savefig

    def checked_savefig(self, *args, **kwargs):
        self.canvas.draw()                        # tick labels get their text at drawing time
        texts = [t.get_text() for t in self.findobj(Text) if t.get_text()]
        logs = sum(ax.get_yscale() == "log" or ax.get_xscale() == "log" for ax in self.axes)
        seen.append((texts, raw_math(self), logs))
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", checked_savefig)
    return seen


def check(seen, n_figures: int, log_axes: int = 0):
    assert len(seen) == n_figures, f"expected {n_figures} figures saved, got {len(seen)}"
    for texts, bad, _ in seen:
        assert not bad, f"raw math text drawn literally: {bad}"
    assert sum(logs for _, _, logs in seen) >= log_axes
    if log_axes:           # the log axes' ticks are math text, and it is parsed: 10^{-2}, not $...$
        assert any("\\mathdefault{10^{" in t for texts, _, _ in seen for t in texts)


def run(*argv):
    assert main([str(a) for a in argv]) == 0, argv


def test_the_checker_sees_raw_math_text(tmp_path, figures):
    """Doctored figures: a log axis with math text switched off, and a '$' name not escaped."""
    import matplotlib

    from petnet.plotting import finish, literal, pyplot
    plt = pyplot()
    with matplotlib.rc_context({"text.parse_math": False}):      # what plotting.py used to do
        fig, ax = plt.subplots()
        ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10])
        finish(fig, tmp_path / "old.png")
    fig, ax = plt.subplots()
    ax.set_title("price $ per sqft")                   # one '$': plain text, but drawn with a '$'
    finish(fig, tmp_path / "dollar.png")
    fig, ax = plt.subplots()
    ax.set_title(literal("cat$\\x$.jpg"))             # a user's name, escaped
    ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10])
    finish(fig, tmp_path / "new.png")
    (_, old, _), (_, dollar, _), (texts, new, _) = figures
    assert any("\\mathdefault{10^{" in s for s in old)
    assert dollar == ["price $ per sqft"]
    assert new == [] and "cat\\$\\x\\$.jpg" in texts
    t = Text(text=literal("cat$\\x$.jpg"))
    assert drawn_literally(t) == "cat$\\x$.jpg"       # drawn character for character


def test_chapter2_gradient_descent(tmp_path, figures):
    run("gd", "fit", "--plot", tmp_path / "fit.png")
    run("gd", "compare", "--plot", tmp_path / "loss.png", "--contour", tmp_path / "path.png")
    run("gd", "surface", "--plot", tmp_path / "surface.png")
    run("gd", "losses", "--plot", tmp_path / "losses.png")
    run("gd", "field", "--plot", tmp_path / "field.png")
    run("gd", "talk", "--plot", tmp_path / "talk.png")
    check(figures, 7, log_axes=2)     # compare's two panels, talk's right panel are log scale


def test_chapter3_filters_and_haar(tmp_path, figures):
    run("filter", EXAMPLE, "--kernel", "bilateral", "--out", tmp_path / "smooth.png", "--compare")
    run("denoise", EXAMPLE, "--max-side", 64, "--plot", tmp_path / "denoise.png")
    run("haar", "detect", EXAMPLE, "--out", tmp_path / "haar.png")
    check(figures, 3)


def test_chapter3_nn_demos(tmp_path, figures):
    mnist = shared_path("data", "mnist")
    run("nn", "vanishing", "--data", mnist, "--depth", 4, "--epochs", 1, "--limit", 64, "--test-limit", 16,
        "--quiet", "--plot", tmp_path / "vanishing.png")
    run("nn", "dropout", "--data", mnist, "--hidden", 16, "--epochs", 1, "--limit", 64, "--test-limit", 16,
        "--plot", tmp_path / "dropout.png")
    run("nn", "pooling", EXAMPLE, "--size", 64, "--factors", 1, 2, "--no-predict", "--plot", tmp_path / "pool.png")
    check(figures, 3, log_axes=1)     # the gradient norms per layer


def test_chapter6_pets(tmp_path, figures):
    from petnet.pets.calibration import reliability
    from petnet.pets.retrain import RetrainResult
    from petnet.pets.review import draw_confusion, write_review
    from petnet.pets.sheet import contact_sheet

    labels = ["Persian", "pug", "Siamese"]
    rng = np.random.default_rng(0)
    y = np.arange(12) % 3
    P = rng.dirichlet(np.ones(3), size=12)
    history = [{"step": s, "train_accuracy": 0.3 + s / 100, "cross_entropy": 1.1 - s / 100,
                "validation_accuracy": 0.3 + s / 120} for s in range(0, 50, 10)]
    result = RetrainResult(None, labels, {}, history, paths=[EXAMPLE] * 12, y=y, cv_proba=P,
                           reliability={"uncalibrated": reliability(P, y)})
    written = write_review(tmp_path, result, worst=4)
    assert [p.name for p in written] == ["confusion_cv.png", "top_losses.png", "training_curve.png",
                                         "reliability.png"]
    draw_confusion(np.eye(3, dtype=int), labels, tmp_path / "confusion.png", "confusion matrix (test set)")
    contact_sheet([(str(EXAMPLE), [("Persian", "波斯猫", 0.9)])], tmp_path / "sheet.png")
    check(figures, 6)


def test_names_with_dollars_are_drawn_as_written(tmp_path, figures):
    """File, folder, class and column names with '$' (even TeX that does not parse) in every figure
    that draws one: drawn literally, no error, no raw markup."""
    from petnet.pets.review import draw_confusion
    from petnet.pets.sheet import contact_sheet

    table = tmp_path / "houses.csv"
    table.write_text("size $\\x$,price $\n" + "".join(f"{x},{3 * x + 1}\n" for x in range(1, 9)))
    run("gd", "fit", "--data", table, "--x", "size $\\x$", "--y", "price $", "--plot", tmp_path / "fit.png")
    run("gd", "compare", "--data", table, "--x", "size $\\x$", "--y", "price $",
        "--plot", tmp_path / "loss.png", "--contour", tmp_path / "path.png")
    photo = tmp_path / "cat$\\q$.png"
    with Image.open(EXAMPLE) as im:
        im.resize((96, 64)).save(photo)
    run("haar", "detect", photo, "--out", tmp_path / "haar.png")
    draw_confusion(np.eye(2, dtype=int), ["$\\q$", "ok"], tmp_path / "c.png", "t")
    contact_sheet([(str(photo), [("a$\\x$", "b$\\y$", 0.5)])], tmp_path / "sheet.png")
    check(figures, 6)
    texts = [t for texts, _, _ in figures for t in texts]
    for name in ("size \\$\\x\\$", "price \\$", "cat\\$\\q\\$.png", "\\$\\q\\$"):
        assert any(name in t for t in texts), name
