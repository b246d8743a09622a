"""The checks behind docs/talk_errata.md (and docs/zh-CN/talk_errata.md): one test per erratum that
needs more than a command, each against an independent reference (central differences, a brute-force
enumeration, the talk's own arithmetic), and a test that every passage the errata quote is the
talk's own words (../shared/talk/talk.txt, up to spaces and full-width punctuation)."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from functools import reduce
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, shared_path

EN = ROOT / "docs" / "talk_errata.md"
ZH = ROOT / "docs" / "zh-CN" / "talk_errata.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


# ----------------------------------------------------------------------------- the quotes are the talk's
def normalise(text: str) -> str:
    """Spaces dropped and full-width punctuation made half-width, so that a quote typeset for a
    Chinese page (“，” and a space between Chinese and Latin letters) still matches the talk."""
    table = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "？": "?", "！": "!",
                           "“": '"', "”": '"'})
    return re.sub(r"\s+", "", text.translate(table))


def quotes(path: Path) -> list[str]:
    """The passages of the talk quoted in an errata page: in English ``"..."`` holding Chinese, in
    Chinese ``“...”`` right after 分享 (the talk) and a colon."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)      # code blocks and inline code: not
    text = re.sub(r"`[^`\n]*`", "", text)                            # the talk's prose
    if path == EN:
        found = [q for q in re.findall(r'"([^"\n]+)"', text) if CJK.search(q)]
    else:
        found = re.findall(r"分享(?:（[^）]*）)?[：:]\s*“([^”]+)”", text)
    return found


def not_in(talk: str, quote: str) -> str | None:
    """The piece of ``quote`` that the (normalised) talk does not have, in order; None if all are."""
    at = 0
    for piece in re.split(r"\.\.\.|…+", quote):              # "..." leaves words out
        piece = normalise(piece)
        if piece:
            at = talk.find(piece, at)
            if at < 0:
                return piece
    return None


@pytest.mark.parametrize("page", [EN, ZH], ids=["en", "zh-CN"])
def test_every_quote_is_the_talks_own_words(page):
    talk = normalise(shared_path("talk", "talk.txt").read_text(encoding="utf-8"))
    found = quotes(page)
    assert len(found) >= 15, f"{page.name}: only {len(found)} quotes found"
    for q in found:
        assert not_in(talk, q) is None, f"{page.name}: not the talk's words: {q!r} ({not_in(talk, q)!r})"


def test_the_quote_check_sees_a_changed_word():
    talk = normalise(shared_path("talk", "talk.txt").read_text(encoding="utf-8"))
    assert not_in(talk, "展开 Loss针对三个模型变量 a0, a1的偏导数") is None
    assert not_in(talk, "展开 Loss 针对三个模型变量 a0，a1 的偏导数") is None          # typeset for a zh page
    assert not_in(talk, "展开 Loss针对两个模型变量 a0, a1的偏导数") is not None
    assert not_in(talk, "反向传播: 误差信息从末端传递到输入端的过程...也称之为训练过程") is None
    assert not_in(talk, "也称之为训练过程...反向传播: 误差信息") is not None            # order kept


def sections(page: Path) -> list[tuple[str, ...]]:
    """The talk's section numbers of each entry (``## 3.1.2, 4.2.3, 4.3 — ...``), in order."""
    heads = re.findall(r"^## (.*)$", page.read_text(encoding="utf-8"), flags=re.M)
    return [tuple(re.findall(r"\d+(?:\.\d+)+", h.split("—")[0])) for h in heads]


def test_both_pages_have_the_same_entries():
    en, zh = sections(EN), sections(ZH)
    assert en == zh                                      # the same entries, in the same order
    assert len([s for s in en if s]) >= 17               # numbered entries, "already corrected" aside


# ----------------------------------------------------------------------------- 3.2.1 hardlim
def test_hardlim_passes_back_zeros_the_perceptron_rule_trains_it():
    from petnet.nn.activations import get
    from petnet.nn.perceptron import AND, Perceptron, gradient_descent
    z = np.array([-2.0, -0.3, 0.4, 3.0])
    act = get("hardlim")
    a, cache = act.forward(z)
    np.testing.assert_array_equal(a, [0, 0, 1, 1])
    np.testing.assert_array_equal(act.backward(cache, np.ones(4)), 0)          # the engine's derivative
    h = 1e-6                                                                  # central differences: 0 too
    np.testing.assert_array_equal((act.forward(z + h)[0] - act.forward(z - h)[0]) / (2 * h), 0)
    assert gradient_descent(*AND).max_gradient == 0 and Perceptron().fit(*AND).score(*AND) == 1.0


# ----------------------------------------------------------------------------- 5.2.1 receptive field
def test_the_receptive_field_grows_with_depth():
    """Measured: the input pixels whose change moves the centre output of VGG's first layers
    (3x3 kernels everywhere), through petnet.nn's backward pass, against petnet vgg summary's RF."""
    from petnet.nn import AveragePooling2D, Conv2D, Input, Sequential
    from petnet.vgg.accounting import vgg_layers

    expected = {info.name: info.receptive_field for info in vgg_layers()[1:8]}
    assert list(expected.values()) == [3, 5, 6, 10, 14, 16, 24]
    layers = []
    measured = {}
    for name in expected:               # average pooling: max pooling's window, and every pixel counts
        layers.append(AveragePooling2D(2) if name.endswith("pool") else
                      Conv2D(1, 3, padding="same", use_bias=False, kernel_initializer="ones"))
        model = Sequential([Input(shape=(64, 64, 1)), *layers], dtype=np.float64)
        x = np.random.default_rng(0).random((1, 64, 64, 1))
        y, tape = model.forward(x)
        dy = np.zeros_like(y)
        dy[0, y.shape[1] // 2, y.shape[2] // 2, 0] = 1                      # one output pixel
        dx, _ = model.backward(tape, dy)
        rows, cols = np.nonzero(dx[0, :, :, 0])
        assert rows.max() - rows.min() == cols.max() - cols.min()
        measured[name] = int(rows.max() - rows.min() + 1)
    assert measured == expected          # 3, 5, 6, 10, ...: never the kernel size 3 after the first layer


# ----------------------------------------------------------------------------- 3.1.2 Haar features
SHAPES = {  # cells of the five shapes, as in both cascades: weights per cell, up to sign and scale
    "edge-x": ((1, -1),), "edge-y": ((1,), (-1,)), "line-x": ((1, -2, 1),), "line-y": ((1,), (-2,), (1,)),
    "checker": ((1, -1), (-1, 1)),
}


def family_size(width: int, height: int) -> int:
    """How many features of the five shapes fit a window: every cell size, every position."""
    total = 0
    for cells in SHAPES.values():
        ny, nx = len(cells), len(cells[0])
        total += sum((width - nx * w + 1) * (height - ny * h + 1)
                     for w in range(1, width // nx + 1) for h in range(1, height // ny + 1))
    return total


def shape_of(feature) -> tuple[str, tuple[int, int, int, int]]:
    """The shape of an OpenCV feature (overlapping weighted rectangles), its cell size and position."""
    xs = [v for x, _, w, _, _ in feature.rects for v in (x, x + w)]
    ys = [v for _, y, _, h, _ in feature.rects for v in (y, y + h)]
    x0, y0 = min(xs), min(ys)
    cw, ch = reduce(math.gcd, [v - x0 for v in xs]), reduce(math.gcd, [v - y0 for v in ys])
    cells = feature.mask()[y0:max(ys), x0:max(xs)][::ch, ::cw]
    cells = cells / cells.flat[np.flatnonzero(cells)[0]]
    for name, want in SHAPES.items():
        if cells.shape == np.shape(want) and np.allclose(cells, want):
            return name, (x0, y0, cw, ch)
    return "other", (x0, y0, cw, ch)


def test_haar_features_are_a_fixed_family_that_adaboost_selects_from():
    from petnet.haar.cascade import load_cascade
    from petnet.haar.features import KINDS, haar_feature

    # the count, checked against a brute-force enumeration of petnet's own features on a small window
    n = 0
    for kind in KINDS:
        for w in range(1, 8):
            for h in range(1, 8):
                for x in range(7):
                    for y in range(7):
                        fw, fh = haar_feature(kind, x, y, w, h).size      # x + width, y + height
                        n += fw <= 7 and fh <= 7
    assert n == family_size(7, 7)
    assert family_size(24, 24) == 162_336
    used = {}
    for name in ("face", "catface"):
        c = load_cascade(name)
        assert c.window == (24, 24) and not c.has_tilted
        shapes = Counter()
        for i in range(len(c.rects)):
            f = c.feature(i)
            kind, (x, y, cw, ch) = shape_of(f)
            shapes[kind] += 1
            assert abs(f.mask().sum()) < 1e-6                 # a contrast: 0 on a flat patch
            fw, fh = f.size
            assert fw <= 24 and fh <= 24
        assert set(shapes) == set(SHAPES), shapes             # only the five shapes, nothing else
        used[name] = len(c.rects)
    assert used == {"face": 2913, "catface": 1056}           # selected by AdaBoost out of 162,336


# ----------------------------------------------------------------------------- 3.2.2 "不可导"
def test_sigmoid_and_tanh_are_differentiable_with_small_slopes():
    from petnet.nn.activations import get
    z = np.linspace(-6, 6, 241)                                # 0 included
    h = 1e-6
    for name, closed in (("sigmoid", lambda s: s * (1 - s)), ("tanh", lambda a: 1 - a ** 2)):
        act = get(name)
        a, cache = act.forward(z)
        slope = act.backward(cache, np.ones_like(z))
        numeric = (act.forward(z + h)[0] - act.forward(z - h)[0]) / (2 * h)
        np.testing.assert_allclose(slope, numeric, atol=1e-8)  # a derivative everywhere, at 0 too
        np.testing.assert_allclose(slope, closed(a), atol=1e-12)
    sig = get("sigmoid")
    s = sig.backward(sig.forward(z)[1], np.ones_like(z))
    assert s.max() == pytest.approx(0.25) and z[s.argmax()] == 0     # at most 1/4, at z = 0
    relu = get("relu")                                  # not differentiable at 0, no vanishing
    left, right = [(relu.forward(np.array([d]))[0] - relu.forward(np.array([0.0]))[0]) / d for d in (-h, h)]
    assert left == 0 and right == 1


# ----------------------------------------------------------------------------- 3.3.3 negative outputs
def bars(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """8x8 images of one vertical (class 0) or horizontal (class 1) bright bar on noise."""
    x = rng.normal(0, 0.3, (n, 8, 8, 1))
    y = rng.integers(0, 2, n)
    where = rng.integers(1, 7, n)
    for i in range(n):
        if y[i]:
            x[i, where[i], :, 0] += 2
        else:
            x[i, :, where[i], 0] += 2
    return x, y


def test_negative_outputs_do_not_make_training_unstable():
    """A convolution layer whose outputs are negative half of the time (tanh, and leaky ReLU) trains
    as steadily as one that clips them (ReLU): the loss falls, the accuracy reaches 100%."""
    from petnet.nn import Conv2D, Dense, GlobalAveragePooling2D, Input, Sequential
    from petnet.nn.layer import set_seed

    rng = np.random.default_rng(0)
    x, y = bars(256, rng)
    xt, yt = bars(128, rng)
    for act in ("tanh", "leaky_relu", "relu"):
        set_seed(0)
        conv = Conv2D(8, 3, padding="same", activation=act)
        model = Sequential([Input(shape=(8, 8, 1)), conv, GlobalAveragePooling2D(), Dense(2)], dtype=np.float64)
        model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=0.02)
        history = model.fit(x, y, epochs=15, batch_size=32, verbose=0, random_state=0).history["loss"]
        probe = Sequential([Input(shape=(8, 8, 1)), conv], dtype=np.float64)   # the conv layer's output
        negative = float((probe.predict(xt) < 0).mean())
        accuracy = float((model.predict(xt).argmax(1) == yt).mean())
        assert accuracy == 1.0 and history[-1] < history[0] / 5, (act, accuracy, history)
        assert np.all(np.isfinite(history))
        if act != "relu":
            assert negative > 0.3, (act, negative)            # negative outputs, and no harm done
        else:
            assert negative == 0


# ----------------------------------------------------------------------------- 2.2.3 "三个模型变量"
def test_the_talks_model_has_two_variables():
    from petnet.gd import LinearRegressionGD
    from petnet.gd.data import example_path, load_xy
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    model = LinearRegressionGD().fit(X, y)
    assert model.coef_.shape == (1,) and np.ndim(model.intercept_) == 0     # a0 and a1: two numbers
    a = np.linalg.lstsq(np.column_stack([np.ones(len(X)), X[:, 0]]), y, rcond=None)[0]
    np.testing.assert_allclose([model.intercept_, model.coef_[0]], a, rtol=1e-4)


# ----------------------------------------------------------------------------- 4.2.2 layer numbering
def test_w3_is_the_last_layers_weight():
    """In the talk's 3-layer net, w3 feeds only z3 (the last layer, 倒数第1层), w1 the first."""
    from petnet.nn.backprop import forward, make_params
    base = forward(make_params(), 1.0, 0.9)
    for k, changed in ((3, {"z3"}), (2, {"z2", "z3"}), (1, {"z1", "z2", "z3"})):
        p = make_params()
        p[f"w{k}"] += 0.1
        moved = {z for z in ("z1", "z2", "z3") if forward(p, 1.0, 0.9)[z] != base[z]}
        assert moved == changed
    assert sorted(k for k in base if k.startswith("z")) == ["z1", "z2", "z3"]   # three layers, no 4th


# ----------------------------------------------------------------------------- 6 the os.walk loop
def talks_loop(input_path: str) -> tuple[list[str], list[str]]:
    """The file loop of the talk's recognition script (chapter 6), without TensorFlow: the paths it
    would open, and the files it passes over."""
    opened, passed = [], []
    for root, dirs, files in os.walk(input_path):
        for file in files:
            file_name, file_extend = os.path.splitext(file)
            if not file_extend == ".jpg":
                passed.append(os.path.join(root, file))
                continue
            full_img_path = input_path + file
            opened.append(full_img_path)
    return opened, passed


def test_the_talks_folder_loop(tmp_path):
    from PIL import Image

    from petnet.pets.predict import collect_paths
    folder = tmp_path / "pets"
    (folder / "cat").mkdir(parents=True)
    names = ["a.jpg", "B.JPG", "c.jpeg", "d.png", "cat/e.jpg", "cat/a.jpg"]
    for i, name in enumerate(names):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / name, format="PNG" if name.endswith("png") else "JPEG")
    opened, passed = talks_loop(str(folder) + "/")
    root = str(folder) + "/"
    assert sorted(opened) == sorted([root + "a.jpg", root + "a.jpg", root + "e.jpg"])
    assert not os.path.exists(root + "e.jpg")                  # cat/e.jpg looked for in the top folder
    assert opened.count(root + "a.jpg") == 2                   # cat/a.jpg read as the top folder's a.jpg
    assert sorted(Path(p).name for p in passed) == ["B.JPG", "c.jpeg", "d.png"]   # skipped
    found, _ = collect_paths([folder])                         # petnet: every photo, from its own folder
    assert sorted(p.relative_to(folder).as_posix() for p in found) == sorted(names)


# ----------------------------------------------------------------------------- 5.2.5 the numbers
def test_18_5_yi_and_the_biases_of_conv1_2():
    from petnet.vgg.accounting import vgg_layers
    from petnet.vgg.model import VGG16
    macs = 28_901_376 * 64
    assert macs == 1_849_688_064 == {i.name: i.macs for i in vgg_layers()}["block1_conv2"]
    assert math.floor(macs / 1e8 * 10) / 10 == 18.4            # the talk: cut off
    assert round(macs / 1e8, 1) == 18.5                        # rounded: 18.5亿
    conv = VGG16(include_top=False, input_shape=(32, 32, 3)).get_layer("block1_conv2")
    assert conv.kernel.shape == (3, 3, 64, 64) and conv.bias.shape == (64,)    # 64 biases, one a filter
    assert 576 * 64 == conv.kernel.size == 36_864              # the talk's "b" is the weight count
    assert conv.kernel.size + conv.bias.size == 36_928 == {i.name: i.params for i in vgg_layers()}["block1_conv2"]
    assert 50_176 * 64 == 3_211_264                            # bias additions, counted as in 5.2.2


# ----------------------------------------------------------------------------- 4.1 backprop vs training
def test_backpropagation_computes_gradients_training_moves_the_weights():
    from petnet.nn import Dense, Input, Sequential
    from petnet.nn.layer import set_seed
    set_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, 16)
    model = Sequential([Input(shape=(3,)), Dense(4, activation="sigmoid"), Dense(2)], dtype=np.float64)
    model.compile(optimizer="gd", loss="softmax_cross_entropy", lr=0.5)
    before = [w.copy() for w in model.get_weights()]
    grads = model.loss_and_gradients(x, y).gradients            # backpropagation: the gradients only
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)   # training: + the update step
    for b, g, a in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(a, b - 0.5 * g, rtol=1e-12, atol=1e-15)
