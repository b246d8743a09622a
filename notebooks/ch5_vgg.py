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
# # Chapter 5 — VGG16, layer by layer
#
# The talk's chapter 5 describes VGG16 (13 convolution layers + 3 dense layers = 16 weight layers)
# and, in 5.2, counts what its first two layers cost. Those counts mix up two different things:
# the **parameters** a layer learns and the **multiply-accumulates** (MACs) it computes. Here
# `petnet.vgg.summary` does the accounting exactly (by arithmetic, no weights allocated), the
# talk's numbers are reproduced and put where they belong, and a small VGG-style network is
# trained on a few MNIST digits. `PETNET_FAST=1` trains on fewer digits.

# %%
# needs: mnist
import os

import numpy as np
from IPython.display import Image, display

from petnet import vgg
from petnet.plotting import finish, pyplot
from petnet.vgg import mnist as vgg_mnist

FAST = os.environ.get("PETNET_FAST") == "1"
plt = pyplot()

# %% [markdown]
# ## 1. The five configurations A–E (5.1)
#
# Every configuration is a list of 3×3 convolution widths with `M` for a 2×2 max-pooling, then the
# same three dense layers (4096, 4096, 1000). D is VGG16, E is VGG19.

# %%
print(f"{'config':6} {'name':22} {'weight layers':>13} {'params':>13} {'conv params':>12} {'GMACs':>7}")
for c in "ABCDE":
    s = vgg.summary(c, (224, 224, 3))
    layers = sum(r.kind in ("Conv2D", "Dense") for r in s.rows)
    print(f"{c:6} {s.name:22} {layers:>13} {s.total_params:>13,} {s.conv_params:>12,} {s.total_macs / 1e9:>7.2f}")
d = vgg.summary("D", (224, 224, 3))
assert d.total_params == 138_357_544 and d.conv_params == 14_714_688 and d.total_macs == 15_470_264_320
assert sum(r.kind == "Conv2D" for r in d.rows) == 13 and sum(r.kind == "Dense" for r in d.rows) == 3   # 16 = 13 + 3

# %% [markdown]
# ## 2. The whole VGG16 table
#
# Output shape, parameters, MACs, activation memory and receptive field (RF) of every layer.
# The talk's input "244×244" is a typo: VGG takes 224×224×3.

# %%
print(d.text())

# %% [markdown]
# ## 3. Section 5.2, the talk's arithmetic — reproduced and corrected
#
# **Output size.** `O = (W − K + 2P)/S + 1`: a 3×3 convolution with P = 1, S = 1 keeps 224; a 2×2
# pooling with S = 2 halves it. Five poolings: 224 → 112 → 56 → 28 → 14 → 7.

# %%
def out_size(w, k, p, s):
    return (w - k + 2 * p) // s + 1


assert out_size(224, 3, 1, 1) == 224 and out_size(224, 2, 0, 2) == 112
sizes = [224]
for _ in range(5):
    sizes.append(out_size(sizes[-1], 2, 0, 2))
print(" -> ".join(map(str, sizes)))
assert sizes[-1] == 7 and d.rows[-5].output_shape == (7, 7, 512)

# %% [markdown]
# **Input → conv1 (5.2.2).** The talk: "W = 50176 × 27 = 1,354,752; b = 27 × 64 = 50176; W =
# 1,354,752 × 64 = 86,704,128; b = 50176 × 64 = 3,211,264". Every product but one is right as
# arithmetic (27 × 64 is 1,728, not 50,176), but they count **work**, not parameters: the same
# 3×3×3 kernel is used at all 224·224 = 50,176 positions (weight sharing), so
#
# * parameters of conv1 = 3·3·3·64 weights + 64 biases = **1,792**;
# * 86,704,128 = 50,176 × 27 × 64 is its number of **multiply-accumulates**;
# * 3,211,264 = 50,176 × 64 is the number of **outputs** (one bias *addition* each), 64 biases.

# %%
conv1, conv2 = d.rows[1], d.rows[2]
positions = 224 * 224
assert positions == 50_176 and positions * 27 == 1_354_752
assert 27 * 64 == 1_728 != 50_176                                    # the talk's slip
assert positions * 27 * 64 == 86_704_128 == conv1.macs              # the talk's "W" = MACs
assert positions * 64 == 3_211_264 == int(np.prod(conv1.output_shape))   # the talk's "b" = outputs
assert conv1.params == 3 * 3 * 3 * 64 + 64 == 1_792
print(conv1)

# %% [markdown]
# **conv1 → conv2 (5.2.5).** Input 224×224×64, kernel 3×3×64, 64 filters. The talk: "W = 50176 ×
# 576 = 28,901,376; × 64 = 1.84 billion (18.4亿); b = 576 × 64 = 36,864". Again 1,849,688,064 is the
# MAC count, and 36,864 is the number of **weights** (3·3·64·64); the biases are 64.

# %%
assert positions * 576 == 28_901_376
assert positions * 576 * 64 == 1_849_688_064 == conv2.macs           # "18.4亿": MACs
assert 576 * 64 == 36_864 and conv2.params == 36_864 + 64 == 36_928  # weights + biases
print(conv2)

# %% [markdown]
# ## 4. Parameters sit in the dense layers, work in the convolutions
#
# The 13 convolutions hold 14.7 M of the 138.4 M parameters; `fc1` (7·7·512 × 4096 + 4096) alone
# holds 74 %. The MACs are the other way round: 15.35 G of the 15.47 G are convolutions.

# %%
rows = [r for r in d.rows if r.kind in ("Conv2D", "Dense")]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
names = [r.name.replace("block", "b").replace("_conv", ".") for r in rows]
a1.barh(names, [r.params for r in rows], color=["tab:blue" if r.kind == "Conv2D" else "tab:orange" for r in rows])
a2.barh(names, [r.macs for r in rows], color=["tab:blue" if r.kind == "Conv2D" else "tab:orange" for r in rows])
a1.set_xscale("log")
a2.set_xscale("log")
a1.set_title("parameters per layer")
a2.set_title("multiply-accumulates per image")
a1.invert_yaxis()
display(Image(finish(fig, "vgg16_params_macs.png")))
fc1 = next(r for r in rows if r.name == "fc1")
conv_macs = sum(r.macs for r in rows if r.kind == "Conv2D")
print(f"fc1: {fc1.params:,} parameters = {fc1.params / d.total_params:.1%}; "
      f"convolutions: {conv_macs / d.total_macs:.1%} of the MACs")
assert fc1.params == 102_764_544 and round(fc1.params / d.total_params, 2) == 0.74
assert round(conv_macs / 1e9, 2) == 15.35

# %% [markdown]
# ## 5. Three 3×3 layers see as much as one 7×7 (the receptive field)
#
# Each 3×3 convolution adds 2 pixels (times the stride so far) to what one output sees: 3, 5, then
# the pooling 6, … Three stacked 3×3 layers see 7×7 with 3·9·C² = 27C² weights instead of 49C² —
# VGG's central idea.

# %%
rf = {r.name: r.receptive_field for r in d.rows}
print({k: rf[k] for k in ("block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block5_conv3", "block5_pool")})
assert (rf["block1_conv1"], rf["block1_conv2"], rf["block1_pool"]) == (3, 5, 6) and rf["block5_pool"] == 212
C = 256
assert 3 * (3 * 3 * C * C) == 27 * C * C < 7 * 7 * C * C

# %% [markdown]
# ## 6. A VGG-style network on MNIST digits, one short epoch
#
# The same recipe at MNIST's scale — blocks of 3×3 convolutions (padding 'same') closed by a 2×2
# max-pooling, then dense layers — built by `vgg.VGG` from a configuration list on the `petnet.nn`
# engine and trained with `fit` for one epoch on a few digits.

# %%
from petnet import nn
from petnet.nn import mnist
from petnet.paths import shared_data

n_train = 2000 if FAST else 10000
x, y = mnist.load(shared_data("mnist"), "train", limit=n_train)
xt, yt = mnist.load(shared_data("mnist"), "test", limit=1000)
nn.set_seed(0)
nn.reset_names()
small_vgg = vgg.VGG([8, 8, "M", 16, 16, "M"], input_shape=(28, 28, 1), classes=10, fc_units=64)
small_vgg.summary()
small_vgg.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], lr=2e-3)
history = small_vgg.fit(x, y, epochs=1, batch_size=32, random_state=0, verbose=0)
loss, acc = small_vgg.evaluate(xt, yt)
print(f"one epoch on {n_train} digits: train accuracy {history.history['accuracy'][0]:.3f}, "
      f"test accuracy {acc:.3f} on {len(xt)} digits")
assert small_vgg.count_params() == 59_202 and acc > 0.75          # chance is 0.1

# %% [markdown]
# `petnet vgg mnist` trains the bigger `petnet.vgg.mnist.build()` (32, 32, M, 64, 64, M with batch
# normalisation, 485,098 parameters; 0.9919 test accuracy after 3 epochs on all 60,000 digits, see
# docs/vgg.md). Batch normalisation needs more than one short epoch: its moving averages start at
# mean 0 / variance 1 and, with Keras' momentum 0.99, still hold 0.99⁶³ ≈ 53 % of those starting
# values after 63 steps — at inference the network then normalises with the wrong statistics
# (measured once: 0.74 training accuracy, 0.38 test accuracy for this net with batch normalisation
# after one epoch on 2000 digits). That is why `petnet.vgg.mnist` uses momentum 0.9.

# %%
assert vgg_mnist.build().count_params() == 485_098
assert round(0.99 ** 63, 2) == 0.53

# %% [markdown]
# ## Exercises
#
# 1. How many parameters and MACs has `block1_conv1` for a 32×32×3 input? Which of the two changed?
# 2. Why does VGG19 (E) have only 5.3 M more parameters than VGG16 but 4.2 G more MACs?
# 3. What fraction of VGG16's parameters would be left with `include_top=False`?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# Parameters: still 1,792 — they do not depend on the image size (weight sharing). MACs:
# 32·32·27·64 = 1,769,472 instead of 86,704,128. Check: `vgg.summary("D", (32, 32, 3)).rows[1]`.
# </details>
#
# <details><summary>Answer 2</summary>
#
# Its three extra layers are 3×3×256→256 at 56×56 and 3×3×512→512 at 28×28 and 14×14: 0.59 M +
# 2.36 M + 2.36 M parameters, but each runs at every position of a large feature map, 1.85 G +
# 1.85 G + 0.46 G MACs.
# </details>
#
# <details><summary>Answer 3</summary>
#
# `vgg.summary("D", (224, 224, 3), include_top=False).total_params` = 14,714,688: 10.6 % — the
# convolutions. The other 89.4 % are the three dense layers.
# </details>

# %%
# the answers, checked
small = vgg.summary("D", (32, 32, 3)).rows[1]
assert (small.params, small.macs) == (1_792, 32 * 32 * 27 * 64) == (1_792, 1_769_472)
e = vgg.summary("E", (224, 224, 3))
print(f"VGG19 - VGG16: {e.total_params - d.total_params:,} parameters, {(e.total_macs - d.total_macs) / 1e9:.2f} G MACs")
assert round((e.total_params - d.total_params) / 1e6, 1) == 5.3 and round((e.total_macs - d.total_macs) / 1e9, 1) == 4.2
top_free = vgg.summary("D", (224, 224, 3), include_top=False).total_params
assert top_free == 14_714_688 and round(top_free / d.total_params, 3) == 0.106
