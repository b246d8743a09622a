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
# # Chapter 3.1 — convolution as filtering
#
# The talk (3.1): a convolution slides a small kernel over the image and replaces every pixel by
# the weighted sum of its neighbourhood, `out(p) = Σᵢ Conv(i) · P(p + i)`. Its list of kernels
# (3.1.1): mean and Gaussian filters remove noise, the Sobel operator extracts edges, the bilateral
# filter blurs textures but keeps strong edges. Here each one runs on a photo, and the noise claim
# is measured (PSNR and SSIM). `PETNET_FAST=1` works on a smaller crop.

# %%
import os

import numpy as np
from IPython.display import Image, display

from petnet.filters import FILTERS, apply, filter2d, gaussian_kernel, load_image, save_image
from petnet.filters.denoise import DENOISERS, denoise, median_filter, plot_denoise
from petnet.filters.kernels import box_kernel, deriv_kernels, laplacian_kernel
from petnet.filters.metrics import psnr, ssim
from petnet.paths import ROOT
from petnet.plotting import finish, pyplot

FAST = os.environ.get("PETNET_FAST") == "1"
SIDE = 128 if FAST else 256


def show(images, titles, name):
    """A row of images, written to ``name`` and displayed."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), 3.4))
    for ax, img, title in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    display(Image(finish(fig, name)))


# %% [markdown]
# ## 1. Kernels are small tables of weights
#
# A 3×3 mean kernel averages 9 pixels; a Gaussian weighs the centre most; Sobel's x kernel is a
# smoothing column times a difference row. Smoothing kernels sum to 1 (a flat image stays the
# same); edge kernels sum to 0 (a flat image gives 0).

# %%
mean3 = np.outer(box_kernel(3), box_kernel(3))
gauss5 = np.outer(gaussian_kernel(5, 1.0), gaussian_kernel(5, 1.0))
sobel_x = np.outer(deriv_kernels(0, 3), deriv_kernels(1, 3))
print("mean 3x3:\n", mean3.round(3), "\nGaussian 5x5, sigma 1:\n", gauss5.round(3))
print("Sobel x:\n", sobel_x, "\nLaplacian:\n", laplacian_kernel())
assert abs(mean3.sum() - 1) < 1e-12 and abs(gauss5.sum() - 1) < 1e-12
assert sobel_x.sum() == 0 and laplacian_kernel().sum() == 0
np.testing.assert_array_equal(sobel_x, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])

# %% [markdown]
# ## 2. Convolution = filtering a photo
#
# `filter2d` is the talk's formula on the same routine the CNN uses (`petnet.conv.correlate`);
# `apply` is the fast path (separable passes). They agree.

# %%
photo = load_image(ROOT / "examples" / "Persian_143.jpg").pixels[:SIDE, :SIDE]
print(photo.shape, photo.dtype, photo.min(), photo.max())
blurred = apply(photo, "gaussian", size=5, sigma=1.0)
reference = filter2d(photo, gauss5)
print("max |fast - reference| =", np.abs(blurred - reference).max())
assert np.abs(blurred - reference).max() < 1e-5

# %%
edges = apply(photo.mean(axis=2), "sobel")
smooth = apply(photo, "bilateral", size=9, sigma_color=25.5, sigma_space=3.0)
show([photo, blurred, edges / edges.max(), smooth],
     ["photo", "Gaussian 5x5", "Sobel gradient magnitude", "bilateral"], "filters.png")
print(FILTERS.names())

# %% [markdown]
# On a flat region the Sobel response is 0; at the edge of a bright square it is large:

# %%
square = np.zeros((32, 32))
square[8:24, 8:24] = 1.0
g = apply(square, "sobel")
print(g[16, 16], g[16, 8])
assert g[16, 16] == 0 and g[16, 8] > 1

# %% [markdown]
# ## 3. "Mean and Gaussian filters remove noise" (3.1.1), measured
#
# We add two kinds of noise to the photo: **Gaussian** (every pixel off by a little, σ = 0.1) and
# **salt and pepper** (5 % of the pixels set to black or white), clean each with four filters and
# measure against the clean photo:
#
# * **PSNR** = 10·log₁₀(1 / MSE) in dB — higher is better, +6 dB = half the error;
# * **SSIM** (Wang et al. 2004) compares local means, contrasts and structure in a Gaussian
#   window — 1 means identical.

# %%
result = denoise(photo, noise_sigma=0.1, salt_pepper=0.05, random_state=0)
print(f"{'noise':<14} {'filter':<10} {'PSNR dB':>8} {'SSIM':>7}")
for row in result.rows:
    print(f"{row.noise:<14} {row.method:<10} {row.psnr:>8.2f} {row.ssim:>7.4f}")

# %%
display(Image(plot_denoise(result, out="denoise.png")))

# %% [markdown]
# What the table says:
#
# * against Gaussian noise every smoothing filter gains several dB; the Gaussian and the bilateral
#   filter (which averages only similar neighbours) do best;
# * against salt and pepper the averages only smear each dot over the window, while the **median**
#   ignores the outliers altogether — it is not a convolution (no kernel of weights computes a
#   median), which is why the talk's list misses it;
# * the bilateral filter leaves salt and pepper untouched: a white dot differs from its
#   neighbours by more than `sigma_color`, so to the filter it is an edge worth keeping.

# %%
rows = {(r.noise, r.method): r for r in result.rows}
for noise in ("gaussian", "salt & pepper"):
    for m in ("mean", "gaussian", "median"):
        assert rows[noise, m].psnr > rows[noise, "noisy"].psnr + 3, (noise, m)
assert result.best("salt & pepper").method == "median"
assert abs(rows["salt & pepper", "bilateral"].psnr - rows["salt & pepper", "noisy"].psnr) < 1

# %% [markdown]
# PSNR by hand, to see there is no magic:

# %%
noisy = result.images["gaussian"]["noisy"]
mse = np.mean((noisy - photo) ** 2)
print(10 * np.log10(1 / mse), psnr(photo, noisy))
assert abs(10 * np.log10(1 / mse) - psnr(photo, noisy)) < 1e-9

# %% [markdown]
# ## Exercises
#
# 1. Make the Gaussian noise stronger (σ = 0.2). Does the best filter change? Does a bigger
#    Gaussian window help more now?
# 2. The median of a 3×3 window can remove a dot of one pixel. What about a 2×2 white block?
# 3. Is the median filter linear — is `median(a + b)` equal to `median(a) + median(b)`?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# Stronger noise needs more averaging: the larger Gaussian window (7×7, σ = 1.5) beats the 5×5 one,
# because the noise now costs more than the blur.
# </details>

# %%
# answer 1
strong = denoise(photo, noise_sigma=0.2, random_state=0, methods=["gaussian"]).images["gaussian"]["noisy"]
small = psnr(photo, np.clip(apply(strong, "gaussian", size=5, sigma=1.0), 0, 1))
large = psnr(photo, np.clip(apply(strong, "gaussian", size=7, sigma=1.5), 0, 1))
print(f"5x5: {small:.2f} dB, 7x7: {large:.2f} dB")
assert large > small

# %% [markdown]
# <details><summary>Answer 2</summary>
#
# A 2×2 block fills 4 of the 9 pixels of any 3×3 window — fewer than half — so the median still
# removes it. A 3×3 block (≥ 5 of 9 in the windows at its centre) survives: a median of size k removes
# specks smaller than about half its window.
# </details>

# %%
# answer 2
img = np.zeros((12, 12))
img[3:5, 3:5] = 1.0           # a 2x2 block
img[7:10, 7:10] = 1.0         # a 3x3 block
out = median_filter(img, 3)
print(out[3:5, 3:5].max(), out[8, 8])
assert out[3:5, 3:5].max() == 0 and out[8, 8] == 1

# %% [markdown]
# <details><summary>Answer 3</summary>
#
# No. Take the windows a = (0, 0, 1) and b = (1, 0, 0): median(a) = median(b) = 0 but
# median(a + b) = median(1, 0, 1) = 1. A convolution is linear, so no kernel can be a median.
# </details>

# %%
# answer 3
a, b = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
print(np.median(a + b), np.median(a) + np.median(b))
assert np.median(a + b) != np.median(a) + np.median(b)
