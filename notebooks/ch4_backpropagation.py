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
# # Chapter 4 — backpropagation
#
# The talk's section 4.2 works the chain rule by hand on the smallest network there is, one input
# and three one-neuron layers:
#
#     x --w1,b1--> Y1 --w2,b2--> Y2 --w3,b3--> Y3        E = (Y3 − t)² / 2
#
# Here: every number of that example, checked against PyTorch's autograd; what the talk gets
# slightly wrong about it; the 4×4 → 5 example of 4.2.5; and then the same algorithm training a
# small CNN on MNIST digits with `fit` and callbacks. `PETNET_FAST=1` trains on fewer digits.

# %%
# needs: mnist
import os

import numpy as np
import torch
from IPython.display import Image, display

from petnet import nn
from petnet.nn import backprop, mnist
from petnet.paths import shared_data
from petnet.plotting import finish, pyplot

FAST = os.environ.get("PETNET_FAST") == "1"
plt = pyplot()

# %% [markdown]
# ## 1. The worked example (4.2.1–4.2.3)
#
# x = 1, target t = 0.9, sigmoid neurons, w = (0.5, −0.4, 0.8), b = (0.1, 0.2, −0.3). The forward
# pass computes z_i = w_i·input_i + b_i and Y_i = f(z_i); the backward pass the **local gradients**
# d_i = dE/dz_i, last layer first, each one the previous times a weight and a slope:
#
#     d3 = (Y3 − t)·f'(z3)      d2 = d3·w3·f'(z2)      d1 = d2·w2·f'(z1)
#
# and the parameter gradients dE/dw_i = d_i · (the layer's input), dE/db_i = d_i.

# %%
r = backprop.worked_example()
print(backprop.format_report(r))

# %%
g = r.gradients
assert f"{g['d3']:+.8e}" == "-9.42975266e-02"
assert f"{g['dE/dw3']:+.8e}" == "-4.57756488e-02"
assert round(r.forward["E"], 8) == 0.07141428

# %% [markdown]
# ### The same numbers from PyTorch's autograd
#
# An independent check: write the three layers in PyTorch, call `backward()`, compare.

# %%
P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in r.params.items()}
z = {}
Y1 = torch.sigmoid(z.setdefault("z1", P["w1"] * 1.0 + P["b1"]))
Y2 = torch.sigmoid(z.setdefault("z2", P["w2"] * Y1 + P["b2"]))
Y3 = torch.sigmoid(z.setdefault("z3", P["w3"] * Y2 + P["b3"]))
for v in z.values():
    v.retain_grad()                                    # keep dE/dz_i: the local gradients
E = (Y3 - 0.9) ** 2 / 2
E.backward()
auto = {f"d{i}": z[f"z{i}"].grad.item() for i in (1, 2, 3)}
auto.update({f"dE/d{k}": P[k].grad.item() for k in P})
for k, v in auto.items():
    print(f"{k:7} petnet {g[k]:+.10e}   autograd {v:+.10e}")
    assert abs(g[k] - v) <= 1e-12 * max(1.0, abs(v))

# %% [markdown]
# ## 2. Gradient descent on it (4.2.4)
#
# `w ← w − α·dE/dw` with α = 1, ten steps: E falls from 0.0714 to 0.0164.

# %%
hist = r.descent["history"]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot([h["step"] for h in hist], [h["E"] for h in hist], marker="o")
ax.set_xlabel("step")
ax.set_ylabel("E")
ax.set_title("the worked example, gradient descent (α = 1)")
display(Image(finish(fig, "descent.png")))
assert round(hist[-1]["E"], 8) == 0.01644036 and all(a["E"] > b["E"] for a, b in zip(hist, hist[1:]))

# %% [markdown]
# ## 3. What the talk says, checked
#
# * **"purelin": `d3 = Y3 − t`, `d2 = d3·w3`, `d1 = d2·w2`.** True for the identity transfer
#   function (f' = 1), and only then: with the sigmoid every step also multiplies by f'(z) ≤ 1/4.
# * **"The loss is amplified w3 times"** on its way back: only if |w3| > 1; here w3 = 0.8 shrinks it.
# * **"The local gradients d_i do not depend on X".** They do: the Y values in them come from x.
#   Change x from 1 to 2 and every d_i changes.
# * In 4.2.2 the talk writes "[w3, b3]" where the second layer's **[w2, b2]** is meant.

# %%
lin = backprop.worked_example(activation="purelin")
Y3, t, w2, w3 = lin.forward["Y3"], lin.forward["t"], lin.params["w2"], lin.params["w3"]
assert np.isclose(lin.gradients["d3"], Y3 - t)
assert np.isclose(lin.gradients["d2"], (Y3 - t) * w3) and np.isclose(lin.gradients["d1"], (Y3 - t) * w3 * w2)
print("purelin: d3 = Y3 - t =", round(lin.gradients["d3"], 6), " d2 = d3 w3 =", round(lin.gradients["d2"], 6))

other_x = backprop.worked_example(x=2.0)
for k in ("d1", "d2", "d3"):
    print(f"{k}: x = 1 -> {g[k]:+.6e}   x = 2 -> {other_x.gradients[k]:+.6e}")
    assert g[k] != other_x.gradients[k]               # the local gradients depend on the input

# %% [markdown]
# ## 4. A 4×4 input and five neurons (4.2.5)
#
# `z1_j = Σ_rc w1[r,c,j]·X[r,c] + b1_j`: the gradient of every one of the 4·4·5 = 80 first-layer
# weights is `d1_j · X[r,c]` — one local gradient per neuron times the pixel it multiplies.

# %%
m = r.matrix_example
print({k: m[k] for k in ("input_shape", "neurons", "dE/dw1_shape", "dE/dw1_count")})
print("d1 (one per neuron):", np.round(m["d1"], 6))
assert m["dE/dw1_count"] == 80 and tuple(m["dE/dw1_shape"]) == (4, 4, 5)

# %% [markdown]
# ## 5. The same algorithm, a whole CNN (chapter 4 → MNIST)
#
# `petnet.nn` applies the chain rule layer by layer: each layer's `backward(cache, dy)` returns
# dL/dx and its weight gradients. `model.loss_and_gradients(x, y)` is one forward and backward pass
# without an update. The same kind of check as above, on a tiny CNN (151 weights), this time against
# central differences:

# %%
nn.set_seed(0)
nn.reset_names()
tiny = nn.Sequential([
    nn.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
    nn.MaxPooling2D((2, 2)),
    nn.Flatten(),
    nn.Dense(3),
], dtype=np.float64)
tiny.compile(loss="softmax_cross_entropy")
rng = np.random.default_rng(0)
xs, ys = rng.normal(size=(5, 8, 8, 1)), rng.integers(0, 3, 5)
res = tiny.loss_and_gradients(xs, ys)
w = tiny.trainable_weights[0]                        # the conv kernel, (3, 3, 1, 4)
h, worst = 1e-6, 0.0
for idx in [(0, 0, 0, 0), (1, 2, 0, 3), (2, 1, 0, 1)]:
    old = w[idx]
    w[idx] = old + h
    up = tiny.loss_and_gradients(xs, ys).loss
    w[idx] = old - h
    down = tiny.loss_and_gradients(xs, ys).loss
    w[idx] = old
    worst = max(worst, abs((up - down) / (2 * h) - res.gradients[0][idx]))
print("largest |backprop - central difference| over three kernel weights:", worst)
assert worst < 1e-8

# %% [markdown]
# Now train a small CNN on MNIST digits with `fit`, petnet's one training loop, and three callbacks:
# `History` (returned by `fit`), `EarlyStopping` on the validation loss, and one of our own that
# records the loss of every batch.

# %%
class BatchLosses(nn.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


n_train, epochs = (3000, 3) if FAST else (10000, 4)
x, y = mnist.load(shared_data("mnist"), "train", limit=n_train)
xt, yt = mnist.load(shared_data("mnist"), "test", limit=1000)
nn.set_seed(0)
nn.reset_names()
cnn = nn.Sequential([
    nn.Conv2D(8, (3, 3), activation="relu", input_shape=(28, 28, 1)),
    nn.MaxPooling2D((2, 2)),
    nn.Conv2D(16, (3, 3), activation="relu"),
    nn.MaxPooling2D((2, 2)),
    nn.Flatten(),
    nn.Dense(10),
])
cnn.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=2e-3)
batch_losses = BatchLosses()
stop = nn.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
history = cnn.fit(x, y, epochs=epochs, batch_size=64, validation_data=(xt, yt),
                  callbacks=[batch_losses, stop], random_state=0, verbose=0)
print(history.history)
loss, acc = cnn.evaluate(xt, yt)
print(f"{cnn.count_params()} parameters, test accuracy {acc:.4f} on {len(xt)} digits")
assert acc > 0.85 and cnn.count_params() == 5_258 and tiny.count_params() == 151

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(batch_losses.losses, lw=0.8)
ax.set_xlabel("batch")
ax.set_ylabel("loss")
ax.set_yscale("log")
ax.set_title("the loss of every mini-batch")
display(Image(finish(fig, "cnn_batches.png")))

# %% [markdown]
# ## Exercises
#
# 1. With `activation="purelin"`, what are d1, d2, d3 in terms of Y3 − t and the weights? Check
#    with `backprop.worked_example(activation="purelin")`.
# 2. Run the worked example with `learning_rate=10` and with `learning_rate=100`. What happens to E?
# 3. In section 5, why does the first `Conv2D` not compute its input gradient while training?
# 4. How many weight gradients does the CNN of section 5 compute per step?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# d3 = Y3 − t, d2 = (Y3 − t)·w3, d1 = (Y3 − t)·w3·w2 — the talk's formulas; with f' = 1 each layer
# back multiplies only by its weight: d3 = −1.232, d2 = −0.9856, d1 = 0.39424.
# </details>
#
# <details><summary>Answer 2</summary>
#
# α = 10: E falls faster, to 0.00007 after 10 steps (0.0164 with α = 1). α = 100: the first step
# lowers E to 0.005 and then nothing moves: 0.005 = (1 − 0.9)²/2, so Y3 has jumped to ≈ 1, z3 is
# large, the sigmoid is saturated and f'(z3) ≈ 0 — the gradient vanishes, as in chapter 3's deep
# sigmoid network. Too large a step does not only overshoot; it can also stall the network.
# </details>
#
# <details><summary>Answer 3</summary>
#
# Its input is the image, which is not learnt: nobody needs dL/dx there. `fit` calls the first
# layer's backward with `need_dx=False` and saves that work (one col2im).
# </details>
#
# <details><summary>Answer 4</summary>
#
# `cnn.count_params()`: 3·3·1·8 + 8 = 80, 3·3·8·16 + 16 = 1,168, 400·10 + 10 = 4,010: 5,258 in all,
# one gradient for each, every step.
# </details>
