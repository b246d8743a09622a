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
# # Chapter 2 — gradient descent fits house prices
#
# The talk's chapter 2 (梯度下降介绍) with petnet's Python API: fit `price = a0 + a1 · area` to
# house sales by gradient descent, compare the optimizers that fix its flaws, see the local
# minimum, the loss catalogue, the gradient as a vector field, and what the talk's own settings
# (learning rate 0.01, 1000 iterations, tolerance 1e-4, k = 100) really do.
#
# Every number the talk (or petnet's README) states is asserted in a cell, so this notebook is
# also a test (`tests/test_notebooks.py` runs it). `PETNET_FAST=1` only shrinks what is drawn.

# %%
import os

import numpy as np
from IPython.display import Image, display

from petnet.gd import LinearRegressionGD, compare, example_path, load_xy, losses, surface
from petnet.gd.field import gradient_field, plot_gradient_field
from petnet.gd.plots import plot_contour_path, plot_fit, plot_loss_curves, plot_losses, plot_surface_paths
from petnet.gd.talk_settings import plot_talk_settings, talk_settings

FAST = os.environ.get("PETNET_FAST") == "1"

# %% [markdown]
# ## 1. The houses and the fitted line (2.2.1 – 2.2.3)
#
# 16 Portland houses: area in square feet (x) and price in dollars (y). The talk's model is the
# line `F(x) = a0 + a1·x`, its loss is `MSE/2`, and gradient descent starts from `a0 = a1 = 1`.

# %%
X, y, names = load_xy(example_path(), "size_sqft", "price_usd")
print(X.shape, y[:3])
model = LinearRegressionGD(learning_rate=0.5).fit(X, y)
print(f"a0 = {model.intercept_:.1f}, a1 = {model.coef_[0]:.3f} dollars/sqft, {model.n_iter_} iterations")
assert model.n_iter_ == 26 and round(model.coef_[0], 3) == 155.318

# %%
display(Image(plot_fit(X, y, model, out="fit.png", names=names, target="price_usd")))

# %% [markdown]
# The answer is the least-squares line, which numpy computes in closed form: gradient descent
# must land on it.

# %%
A = np.column_stack([np.ones(len(y)), X])
lstsq = np.linalg.lstsq(A, y, rcond=None)[0]
print(lstsq)
np.testing.assert_allclose([model.intercept_, model.coef_[0]], lstsq, rtol=1e-4)

# %% [markdown]
# ## 2. Every optimizer (2.2.5: "too slow" and its fixes)
#
# Momentum, Nesterov, AdaGrad, RMSProp and Adam change how each step is made. All of them reach
# the same least-squares line; the table says how fast.

# %%
result = compare(X, y, feature_names=names, target="price_usd")
for row in result.table():
    print(f"{row['optimizer']:<10} {row['n_iter']:>5} iterations, error vs lstsq {row['error']:.1e}")
assert all(run.converged and run.error < 1e-4 for run in result.runs.values())

# %%
display(Image(plot_loss_curves(result, out="loss.png")))
display(Image(plot_contour_path(result, out="path.png")))

# %% [markdown]
# ## 3. The local minimum (2.2.5: "局部最优")
#
# On `f(x, y) = x⁴ − 2x² + 0.4x + y²/2` plain gradient descent rolls into the nearer, worse
# minimum; momentum carries over the ridge into the global one.

# %%
paths = surface(n_steps=500)
for name, run in paths.runs.items():
    print(f"{name:<10} ends at {run.end.round(3)} in the {run.reached} minimum")
assert paths.runs["momentum"].reached == "global" and paths.runs["gd"].reached == "local"
display(Image(plot_surface_paths(paths, out="surface.png")))

# %% [markdown]
# ## 4. The loss catalogue (2.2.2)
#
# The talk lists eight losses. Each one's value and gradient for one sample:

# %%
for row in losses.catalogue():
    print(f"{row.kind:<12} {row.name:<14} {row.formula}")
display(Image(plot_losses(out="losses.png")))

# %% [markdown]
# Why would anyone not use MSE? One house sold for 5 million dollars (a data-entry error) turns the
# least-squares slope negative; the Huber loss grows only linearly for big errors and shrugs it off.

# %%
X2, y2 = np.r_[X, [[1500.0]]], np.r_[y, 5_000_000.0]
mse = LinearRegressionGD().fit(X2, y2)
huber = LinearRegressionGD(loss=losses.Huber(delta=50_000), max_iter=50_000).fit(X2, y2)
print(f"MSE slope {mse.coef_[0]:.1f}, Huber slope {huber.coef_[0]:.1f} dollars per sqft")
assert mse.coef_[0] < 0 < huber.coef_[0]

# %% [markdown]
# ## 5. The gradient as a vector field (2.1.1)
#
# "The gradient is a vector ... keep moving a small step against it." Here is `−∇L` at every point
# of the (a0, a1) plane, area and price standardised, with gradient descent's path on top.
# With one standardised feature the Hessian `AᵀA/N` is the identity: every arrow points straight
# at the minimum, and each step shrinks the distance to it by exactly `1 − lr`.

# %%
field = gradient_field(learning_rate=0.1, n_steps=30, grid=11 if FAST else 15)
print("minimum (a0, a1):", field.minimum.round(4), " shrink factor per step:", round(field.contraction, 6))
assert abs(field.contraction - 0.9) < 1e-9
display(Image(plot_gradient_field(field, out="field.png")))

# %% [markdown]
# Check one arrow against the definition of the gradient (a central difference):

# %%
f, (a0, a1), h = field.loss_function, field.path[0], 1e-6
numeric = [(f(a0 + h, a1) - f(a0 - h, a1)) / (2 * h), (f(a0, a1 + h) - f(a0, a1 - h)) / (2 * h)]
print(f.gradient(a0, a1), numeric)
np.testing.assert_allclose(f.gradient(a0, a1), numeric, rtol=1e-6)

# %% [markdown]
# ## 6. The talk's own settings (2.2.3 – 2.2.4)
#
# The pseudo-code sets `learning_rate = 0.01`, `max_iterations = 1000`, `tolerance = 0.0001`; 2.2.3
# says "start from a0 = a1 = 1 and run k = 100 iterations until it converges, otherwise it failed"
# — so k is the same loop's iteration budget. The talk never runs them. We do, on the raw table
# (what the talk's code would get) and on standardised data.

# %%
talk = talk_settings()
raw, scaled = talk.raw, talk.scaled
print(f"raw: eigenvalues of AᵀA/N {raw.eigenvalues}, stable only below lr = {raw.stable_below:.3g}")
print(f"     error x{raw.factor:.0f} per step, loss inf after {raw.overflow_at} steps")
print(f"scaled: error x{scaled.factor} per step, converges after {scaled.iterations_needed} iterations")
assert raw.diverges and raw.overflow_at == 32 and round(raw.factor) == 46564
assert scaled.iterations_needed == 1503 and not scaled.converged_within(1000)

# %%
display(Image(plot_talk_settings(talk, out="talk.png")))

# %% [markdown]
# **Why.** Each step multiplies the error along an eigenvector of `AᵀA/N` by `1 − lr·λ`.
# On raw data `λmax ≈ mean(area²) ≈ 4.66·10⁶`, so `lr·λmax ≈ 46565 > 2`: every step multiplies the
# error by ~46564 and the loss by its square, ~2.2·10⁹, until it overflows. On standardised data
# `λ = 1`, so the error shrinks by 0.99 per step — the excess loss by 0.98 — and from ~6·10¹⁰ dollars²
# it takes 1503 steps until the loss changes by less than 10⁻⁴ dollars² per step. After 100 steps the
# loss is still 10× the minimum; after 1000 the line is right to 4 digits but the stop rule has not fired.

# %% [markdown]
# ## Exercises
#
# 1. With the talk's settings on standardised data, which learning rate converges fastest? Try a few
#    with `talk_settings(learning_rate=...)`.
# 2. What is the largest learning rate plain gradient descent survives on the **raw** data?
# 3. Fit the data with the 5-million outlier with `losses.Huber(delta=...)` for delta = 5 million,
#    1 million and 50 000. Which ones are robust, and why?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# With `λ = 1` the error shrinks by `|1 − lr|` per step, so `lr = 1` jumps to the minimum in one
# step (then one more step sees no change). Between 1 and 2 it overshoots and oscillates; at 2 and
# beyond it diverges.
# </details>

# %%
# answer 1
for lr in (0.01, 0.1, 0.5, 1.0, 1.5):
    print(lr, talk_settings(learning_rate=lr, max_run=10_000).scaled.iterations_needed)
assert talk_settings(learning_rate=1.0, max_run=10_000).scaled.iterations_needed <= 2
assert talk_settings(learning_rate=2.5, max_run=10_000).scaled.diverges

# %% [markdown]
# <details><summary>Answer 2</summary>
#
# `2/λmax = 4.3·10⁻⁷`. Below it the fit does not blow up — but the other eigenvalue is 0.129, so the
# slow direction shrinks by `1 − 4.3·10⁻⁷ · 0.129` per step: tens of millions of steps. This is why
# petnet scales the features by default.
# </details>

# %%
# answer 2
slow = talk_settings(learning_rate=0.9 * raw.stable_below, max_run=10_000).raw
print(f"limit {raw.stable_below:.3g}; at 90% of it: error x{slow.slowest_factor:.10f} per step, "
      f"diverges: {slow.diverges}, converged within 10000 steps: {slow.iterations_needed is not None}")
assert not slow.diverges and slow.iterations_needed is None

# %% [markdown]
# <details><summary>Answer 3</summary>
#
# Huber is MSE/2 for errors below `delta` and grows linearly beyond. With `delta` = 5 million the
# outlier's error (~4.8 million) is inside the quadratic part: it is plain least squares again and
# the slope turns negative. With `delta` = 1 million the outlier is partly tamed (~102 dollars/sqft).
# </details>

# %%
# answer 3
for delta in (5_000_000, 1_000_000, 50_000):
    fit = LinearRegressionGD(loss=losses.Huber(delta=delta), max_iter=50_000).fit(X2, y2)
    print(f"delta {delta:>9}: slope {fit.coef_[0]:8.1f} dollars/sqft")
    assert (fit.coef_[0] < 0) == (delta == 5_000_000)
