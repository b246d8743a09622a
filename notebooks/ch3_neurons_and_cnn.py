# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 3.2–3.3 — from one neuron to a convolutional network
#
# The talk builds a network from neurons (3.2.1: a weighted sum and a transfer function), warns that
# deep networks stop learning because their gradients vanish and that ResNet's residual blocks fixed
# it (3.2.2), then adds convolution, pooling and dropout for images (3.3). Each claim is run here:
#
# 1. the perceptron learns AND and OR, and cannot learn XOR;
# 2. the transfer functions and their slopes;
# 3. a convolution layer *is* a filter (chapter 3.1), with learnt weights;
# 4. pooling a photo from 1024 down to 16 pixels, and the breed still recognised;
# 5. vanishing gradients in a 20-layer sigmoid network, and the residual fix;
# 6. dropout against overfitting.
#
# `PETNET_FAST=1` (set by the test suite) uses smaller settings; the claims are asserted either way.

# %%
# needs: mnist
import os

import numpy as np
from IPython.display import Image, display

from petnet import nn
from petnet.filters import filter2d
from petnet.nn import dropout_demo, pooling_demo, vanishing
from petnet.nn.activations import ACTIVATIONS
from petnet.nn.perceptron import AND, OR, XOR, Perceptron
from petnet.paths import ROOT, shared_data
from petnet.pets import Recognizer
from petnet.plotting import finish, pyplot

FAST = os.environ.get("PETNET_FAST") == "1"
MNIST = shared_data("mnist")
plt = pyplot()


def show(fig, name):
    """Write the figure to ``name`` and display it."""
    display(Image(finish(fig, name)))


# %% [markdown]
# ## 1. One neuron: the perceptron (3.2.1)
#
# `a = hardlim(w·p + b)`: 1 if the weighted sum is at least 0, else 0. The perceptron rule
# `e = t − a, w ← w + e·p, b ← b + e` stops when every answer is right — which happens only if one
# straight line separates the 1s from the 0s. AND and OR are separable; XOR is not.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
for ax, (name, (X, t)) in zip(axes, {"AND": AND, "OR": OR, "XOR": XOR}.items()):
    p = Perceptron(learning_rate=1.0, max_iter=20).fit(X, t)
    print(p.report(X, t, name))
    ax.scatter(X[:, 0], X[:, 1], c=t, cmap="bwr", s=120, edgecolors="k")
    w, b = p.coef_, p.intercept_
    if abs(w[1]) > 1e-12:                      # the line w·p + b = 0
        xs = np.array([-0.5, 1.5])
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k--")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_title(f"{name}: {'converged' if p.converged_ else 'never converges'}")
    if name == "XOR":
        assert not p.converged_ and p.score(X, t) < 1
    else:
        assert p.converged_ and p.score(X, t) == 1
show(fig, "perceptron.png")

# %% [markdown]
# ## 2. Transfer functions and their slopes
#
# Backpropagation multiplies by the slope `f'(z)` once per layer. The sigmoid's slope is at most
# **1/4** (at z = 0), tanh's at most 1, ReLU's exactly 1 for every active unit. Keep the 1/4 in
# mind for section 5. The talk's names: `logsig` = sigmoid, `tansig` = tanh, `purelin` = linear,
# `hardlim` = the step (its slope is 0 almost everywhere: it cannot be trained by gradients).

# %%
z = np.linspace(-5, 5, 501)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
slopes = {}
for name in ("sigmoid", "tanh", "relu", "leaky_relu", "hardlim"):
    f = ACTIVATIONS.get(name)()
    a, cache = f.forward(z)
    slope = f.backward(cache, np.ones_like(z))            # f'(z), from the layer's own backward
    slopes[name] = slope.max()
    a1.plot(z, a, label=name)
    a2.plot(z, slope, label=name)
a1.set_title("f(z)")
a2.set_title("f'(z), as backward computes it")
a1.legend()
a2.legend()
show(fig, "activations.png")
print({k: round(float(v), 4) for k, v in slopes.items()})
assert abs(slopes["sigmoid"] - 0.25) < 1e-4 and abs(slopes["tanh"] - 1) < 1e-3 and slopes["relu"] == 1

# %% [markdown]
# ## 3. A convolution layer is a filter with learnt weights (3.3.1)
#
# Chapter 3.1 slid hand-made kernels (Sobel, Gaussian) over photos. A `Conv2D` layer does the same
# sum of products; the only difference is that its kernel is learnt. Give it Sobel's kernel and it
# finds the same edges as the filter (zero padding on both sides).

# %%
from PIL import Image as PILImage

gray = np.asarray(PILImage.open(ROOT / "examples" / "Persian_143.jpg").convert("L"), dtype=np.float32) / 255
gray = gray[:128, :128] if FAST else gray
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)

conv = nn.Conv2D(1, (3, 3), padding="same", use_bias=False)
conv.build(gray.shape + (1,))
conv.set_weights([sobel_x[:, :, None, None]])             # Keras layout (kh, kw, in, out)
by_layer = conv(gray[None, :, :, None])[0, :, :, 0]
by_filter = filter2d(gray, sobel_x, border="zero")
print("largest difference:", float(np.abs(by_layer - by_filter).max()))
assert np.allclose(by_layer, by_filter, atol=1e-5)

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
axes[0].imshow(gray, cmap="gray")
axes[0].set_title("photo")
axes[1].imshow(by_layer, cmap="gray")
axes[1].set_title("Conv2D with Sobel's kernel")
for ax in axes:
    ax.axis("off")
show(fig, "conv_is_filter.png")

# %% [markdown]
# ## 4. Pooling: "a 1024-pixel image pooled down to 200 pixels still looks the same" (3.3.2)
#
# The photo's centre square is enlarged to 1024×1024 (the talk's size), then max- or average-pooled
# with `MaxPooling2D` / `AveragePooling2D` by f×f windows. A 5×5 window gives 204×204 — the talk's
# "200 pixels". The pet recognizer of chapter 6 names the breed of each pooled image.

# %%
factors = (1, 5, 32, 64) if FAST else pooling_demo.FACTORS
pooled = pooling_demo.pooling_pyramid(ROOT / "examples" / "pug_168.jpg", factors=factors,
                                      recognizer=Recognizer(top=1))
print(pooling_demo.format_result(pooled))
display(Image(pooling_demo.plot_pooling(pooled, "pooling.png")))
talk_size = [r for r in pooled.rows if r.side == 204]
assert all(r.label == "pug" and r.score > 0.97 for r in talk_size)     # 200 pixels: still a pug

# %% [markdown]
# Max-pooling keeps the brightest pixel of each window, so it brightens and keeps thin bright
# details (whiskers); average-pooling blurs. Both keep the pug a pug down to 32×32 pixels, 1/1024
# of the pixels; at 16×16 the recognizer is no longer sure.

# %% [markdown]
# ## 5. Vanishing gradients and ResNet's fix (3.2.2)
#
# Three networks of 20 weight layers (width 32) on MNIST digits: sigmoid layers, ReLU layers, and the
# sigmoid layers with skip connections `h ← h + F(h)` (residual blocks). The gradient norm of every
# layer's weights at initialisation, on one batch of 64 digits — then a few epochs of plain
# gradient descent.

# %%
vr = vanishing.vanishing(MNIST, depth=20, n_train=2000 if FAST else 5000, epochs=4 if FAST else 10)
print(vanishing.format_result(vr))
display(Image(vanishing.plot_vanishing(vr, "vanishing.png")))
print({k: f"{vr.ratio(k):.1e}" for k in vr.norms})
assert vr.ratio("sigmoid") < 1e-9          # first layer 10^-12 of the last: nothing reaches it
assert vr.ratio("residual") > 1e-2         # the skip connections carry the gradient down
assert vr.history["sigmoid"]["val_accuracy"][-1] < 0.2 < vr.history["residual"]["val_accuracy"][-1]
sig = np.array(vr.norms["sigmoid"])
per_layer = sig[2:] / sig[1:-1]             # layer 1 reads the 784 pixels: start at layer 2
print("sigmoid: the gradient grows by a factor", per_layer.min().round(2), "to", per_layer.max().round(2), "per layer")
assert 3.3 < per_layer.min() and per_layer.max() < 5.1

# %% [markdown]
# Each sigmoid layer multiplies the gradient by `f'(z)·w`, at most 1/4 times the weight: the line
# falls by a factor 3.4–5.0 per layer, 10¹¹ over 20 layers, and the net never leaves the loss of
# guessing (ln 10 ≈ 2.303). A residual block computes `h + F(h)`, so its backward pass is
# `dh = dh_out·(I + dF/dh)`: the identity lets the gradient through untouched. (The talk says "the
# model chooses whether to bypass"; it does not choose — the skip is always there and the block
# learns what to *add*.) ReLU keeps slope 1, but with Keras' default (Glorot) initialisation each
# layer halves the signal; it learns, slowly, after a plateau.

# %% [markdown]
# ## 6. Dropout prevents overfitting (3.3.4)
#
# The same 784-512-512-10 network (256 units and 15 epochs with `PETNET_FAST=1`) trained on only
# 1000 digits, without and with dropout (20 % of the pixels, 50 % of the hidden units silenced at
# random in every training step); both evaluated with dropout off.

# %%
if FAST:
    dr = dropout_demo.dropout_curves(MNIST, hidden=256, n_train=1000, n_test=1000, epochs=15)
else:
    dr = dropout_demo.dropout_curves(MNIST)
print(dropout_demo.format_result(dr))
display(Image(dropout_demo.plot_dropout(dr, "dropout.png")))
plain, drop = dr.curves["no dropout"], dr.curves["dropout"]
assert plain["train_accuracy"][-1] == 1.0                               # it memorised every digit
assert dr.gap("no dropout", "loss") > dr.gap("dropout", "loss") + 0.05  # the overfitting gap is smaller
assert drop["test_loss"][-1] < plain["test_loss"][-1]

# %% [markdown]
# Without dropout the training loss goes to almost 0 (0.0005 with the full settings: every digit
# memorised, with certainty) while the test loss, after its lowest point (epoch 3), climbs: the network grows over-confident on digits
# it has not seen. Dropout keeps each unit from relying on particular others; its test loss stays
# lower. On 1000 digits the test *accuracy* of the two differs by about one point, as much as
# another random seed changes it: dropout's clearest effect here is on the loss.

# %% [markdown]
# ## Exercises
#
# 1. Train the perceptron on XOR with `max_iter=1000`. Does it converge? Why can no `w, b` work?
# 2. The sigmoid's slope is at most 1/4, yet the measured fall of the gradient per layer is a factor
#    3.4–5.0, not exactly 4. What else is in the factor?
# 3. Run `vanishing.vanishing(MNIST, depth=40, epochs=0, kinds=["sigmoid"])`. How small is the first
#    layer's gradient now?
# 4. A 5×5 max-pooling of a 1024×1024×3 image: how many numbers go in, how many come out?
# 5. Train the dropout demo with `rate=0.8`. What happens to the gaps, and to the losses themselves?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# No: XOR's 1s, (0,1) and (1,0), lie on one diagonal and its 0s on the other; any line with both 1s on
# its positive side also has (0,0) or (1,1) there. The perceptron rule keeps correcting forever.
# One hidden layer (two neurons, e.g. OR and NAND, then AND) solves it.
# </details>
#
# <details><summary>Answer 2</summary>
#
# The factor is `f'(z)·W`: the slope (at most 1/4, less where units saturate) times the layer's
# weights, which can grow or shrink the gradient; here the measured ratio is 3.4–5.0 per layer.
# </details>
#
# <details><summary>Answer 3</summary>
#
# Measured: the last layer's norm is 0.72, the first layer's 3.6·10⁻²⁵ in float64 — and exactly **0**
# in float32 (the engine's default) for the first five layers: the gradient has underflowed. Those
# layers cannot learn at all, whatever the learning rate.
# </details>
#
# <details><summary>Answer 4</summary>
#
# In: 1024·1024·3 = 3,145,728 numbers. Out: 204·204·3 = 124,848 (the last 4 rows and columns fall
# outside a whole window and are dropped) — 25 times fewer, and no weights at all.
# </details>
#
# <details><summary>Answer 5</summary>
#
# Measured with the fast settings (256 units, 1000 digits, 15 epochs): the train−test gaps shrink
# further (accuracy 0.111, loss 0.256) but only because the network learns less — its training loss
# stays at 0.44 (0.05 with rate 0.5) and its test loss at 0.69 (0.41 with rate 0.5), still falling
# at the last epoch. Too much dropout underfits.
# </details>
