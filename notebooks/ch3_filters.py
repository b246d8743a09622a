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
# # 第 3.1 节：卷积就是滤波
#
# 分享（3.1）：卷积让一个小小的卷积核在图像上滑动，把每个像素换成它邻域的加权和，
# `out(p) = Σᵢ Conv(i) · P(p + i)`。它列出的卷积核（3.1.1）：均值滤波和高斯滤波去噪，Sobel 算子提取边缘，
# 双边滤波模糊纹理但保留明显的边缘。这里每一种都在一张照片上运行一遍，“去噪”的说法也用 PSNR 和 SSIM
# 量一量。`PETNET_FAST=1` 时只处理照片里更小的一块。
#
# *English:* Section 3.1: a convolution replaces each pixel by a weighted sum of its neighbourhood. Each
# kernel of the talk runs on a photo, and the denoising claim is measured with PSNR and SSIM.

# %%
import os

import numpy as np
from IPython.display import Image, display

from petnet.exercises import check, close
from petnet.filters import FILTERS, apply, filter2d, gaussian_kernel, load_image
from petnet.filters.denoise import denoise, median_filter, plot_denoise
from petnet.filters.kernels import box_kernel, deriv_kernels, laplacian_kernel
from petnet.filters.metrics import psnr
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
# ## 1. 卷积核就是一张小小的权重表
#
# 3×3 的均值核把 9 个像素平均；高斯核给中心最大的权重；Sobel 的 x 方向核是“一列平滑”乘以“一行差分”。
# 平滑核的元素之和是 1（平坦的图像保持不变）；边缘核的元素之和是 0（平坦的图像得到 0）。
#
# *English:* Kernels are small weight tables: smoothing kernels sum to 1, edge kernels (Sobel, Laplacian)
# sum to 0.

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
# ## 2. 卷积 = 给照片滤波
#
# `filter2d` 就是分享里的公式，用的是 CNN 也在用的同一个例程（`petnet.conv.correlate`）；`apply` 是快速版本
# （可分离的卷积核分两遍做）。两者结果一致。
#
# *English:* filter2d is the talk's formula on the CNN's own routine; apply is the fast separable path.
# They agree.

# %%
photo = load_image(ROOT / "examples" / "Persian_143.jpg").pixels[:SIDE, :SIDE]
print(photo.shape, photo.dtype, photo.min(), photo.max())
blurred = apply(photo, "gaussian", size=5, sigma=1.0)
reference = filter2d(photo, gauss5)
print("max |fast - reference| =", np.abs(blurred - reference).max())
assert np.abs(blurred - reference).max() < 1e-5

# %%
edges = apply(photo.mean(axis=2), "sobel")
smooth = apply(photo, "bilateral", size=9, sigma_color=25.5, sigma_space=3.0)   # sigma_color：灰度级 0..255
show([photo, blurred, edges / edges.max(), smooth],
     ["photo", "Gaussian 5x5", "Sobel gradient magnitude", "bilateral"], "filters.png")
print(FILTERS.names())

# %% [markdown]
# 在平坦的区域 Sobel 的响应是 0；在一个亮方块的边上，响应很大：
#
# *English:* On a flat region the Sobel response is 0; at the edge of a bright square it is large.

# %%
square = np.zeros((32, 32))
square[8:24, 8:24] = 1.0
g = apply(square, "sobel")
print(g[16, 16], g[16, 8])
assert g[16, 16] == 0 and g[16, 8] > 1

# %% [markdown]
# ## 3. “均值和高斯滤波能去噪”（3.1.1），量一量
#
# 我们给照片加两种噪声：**高斯噪声**（每个像素都偏一点，σ = 0.1）和**椒盐噪声**（5% 的像素被设成黑或白），
# 用四种滤波器分别清理，再和干净的照片比较：
#
# * **PSNR** = 10·log₁₀(1 / MSE)，单位 dB——越高越好，高 6 dB 就是误差减半；
# * **SSIM**（Wang 等人，2004）在一个高斯窗口里比较局部的均值、对比度和结构——1 表示完全相同。
#
# *English:* Gaussian noise (σ = 0.1) and salt-and-pepper noise (5%) are cleaned by four filters and
# measured against the clean photo with PSNR (dB, higher is better) and SSIM (1 = identical).

# %%
result = denoise(photo, noise_sigma=0.1, salt_pepper=0.05, random_state=0)
print(f"{'noise':<14} {'filter':<10} {'PSNR dB':>8} {'SSIM':>7}")
for row in result.rows:
    print(f"{row.noise:<14} {row.method:<10} {row.psnr:>8.2f} {row.ssim:>7.4f}")

# %%
display(Image(plot_denoise(result, out="denoise.png")))

# %% [markdown]
# 这张表说明：
#
# * 对付高斯噪声，每个平滑滤波器都能提高好几个 dB；高斯滤波和双边滤波（只平均相似的邻居）效果最好；
# * 对付椒盐噪声，平均类的滤波器只会把每个噪点抹开到整个窗口，而**中值滤波**干脆忽略这些离群值——它不是卷积
#   （没有哪个权重核能算出中位数），所以分享的列表里没有它；
# * 双边滤波对椒盐噪声几乎不起作用：一个白点和邻居的差别远大于 `sigma_color`，在滤波器看来它是一条值得保留的边。
#
# *English:* Every smoothing filter gains several dB against Gaussian noise; against salt and pepper only
# the median (not a convolution) works; the bilateral filter keeps the dots as if they were edges.

# %%
rows = {(r.noise, r.method): r for r in result.rows}
for noise in ("gaussian", "salt & pepper"):
    for m in ("mean", "gaussian", "median"):
        assert rows[noise, m].psnr > rows[noise, "noisy"].psnr + 3, (noise, m)
assert result.best("salt & pepper").method == "median"
assert abs(rows["salt & pepper", "bilateral"].psnr - rows["salt & pepper", "noisy"].psnr) < 1

# %% [markdown]
# 手算一次 PSNR，看看里面没有魔法：
#
# *English:* PSNR by hand, to see there is no magic.

# %%
noisy = result.images["gaussian"]["noisy"]
mse = np.mean((noisy - photo) ** 2)
print(10 * np.log10(1 / mse), psnr(photo, noisy))
assert abs(10 * np.log10(1 / mse) - psnr(photo, noisy)) < 1e-9

# %% [markdown]
# ## 4. 三个小实验
#
# **更强的噪声。** 把高斯噪声加强到 σ = 0.2：这时更大的高斯窗口（7×7，σ = 1.5）胜过 5×5 的窗口，
# 因为噪声带来的损失已经超过了模糊带来的损失。
#
# *English:* With stronger noise (σ = 0.2) the larger Gaussian window wins: the noise now costs more
# than the blur.

# %%
strong = denoise(photo, noise_sigma=0.2, random_state=0, methods=["gaussian"]).images["gaussian"]["noisy"]
small = psnr(photo, np.clip(apply(strong, "gaussian", size=5, sigma=1.0), 0, 1))
large = psnr(photo, np.clip(apply(strong, "gaussian", size=7, sigma=1.5), 0, 1))
print(f"5x5: {small:.2f} dB, 7x7: {large:.2f} dB")
assert large > small

# %% [markdown]
# **中值滤波能去掉多大的斑点？** 一个 2×2 的方块只占任何 3×3 窗口 9 个像素中的 4 个——不到一半——所以
# 中值滤波仍然能去掉它；3×3 的方块（在它中心附近的窗口里至少占 9 个中的 5 个）会留下来：大小为 k 的中值滤波
# 能去掉比半个窗口还小的斑点。
#
# *English:* A 3×3 median removes a 2×2 block (4 of 9 pixels) but keeps a 3×3 block: it removes specks
# smaller than about half its window.

# %%
img = np.zeros((12, 12))
img[3:5, 3:5] = 1.0           # 一个 2x2 的方块
img[7:10, 7:10] = 1.0         # 一个 3x3 的方块
out = median_filter(img, 3)
print(out[3:5, 3:5].max(), out[8, 8])
assert out[3:5, 3:5].max() == 0 and out[8, 8] == 1

# %% [markdown]
# **中值滤波是线性的吗？** 不是。取窗口 a = (0, 0, 1) 和 b = (1, 0, 0)：median(a) = median(b) = 0，
# 但 median(a + b) = median(1, 0, 1) = 1。卷积是线性的，所以没有哪个卷积核能算出中位数。
#
# *English:* The median is not linear (median(a + b) ≠ median(a) + median(b)), so no kernel computes it.

# %%
a, b = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
print(np.median(a + b), np.median(a) + np.median(b))
assert np.median(a + b) != np.median(a) + np.median(b)

# %% [markdown]
# ## 小结
#
# * 卷积（准确地说是互相关）把每个像素换成邻域的加权和；权重表就是卷积核。
# * 平滑核之和为 1，边缘核之和为 0；Sobel 的梯度幅值是 `sqrt(Gx² + Gy²)`。
# * 均值和高斯滤波对付高斯噪声；椒盐噪声要用中值滤波，而中值滤波不是卷积。
#
# *English:* A convolution is a weighted sum over a neighbourhood; smoothing kernels sum to 1, edge
# kernels to 0; the median, not a convolution, is what removes salt and pepper.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里写好函数（删掉 `raise NotImplementedError`），再运行下面的检查单元格，
# 它会拿你的结果和 petnet 的实现比较。参考答案在 `notebooks/solutions/ch3_filters.py`。
#
# 1. **自己写卷积。** `correlate2d(image, kernel)`：灰度图像，四周补 0，输出和输入一样大，
#    `out[r, c] = Σᵢⱼ kernel[i, j] · image[r + i − kh//2, c + j − kw//2]`（不翻转卷积核，和 CNN 一样）。
#    和 `filter2d(image, kernel, border="zero")` 比较。
# 2. **Sobel 边缘。** `sobel_magnitude(gray)`：用 Sobel 的 x 核和它的转置（y 核）各滤一次（可以用 `filter2d`，
#    默认的边界处理），返回 `sqrt(Gx² + Gy²)`。和 `apply(gray, "sobel")` 比较。
# 3. **高斯核。** `gaussian_kernel_1d(size, sigma)`：`g_i ∝ exp(−x_i² / 2σ²)`，`x_i = i − (size − 1)/2`，
#    归一化到和为 1。和 `gaussian_kernel(size, sigma)` 比较。
# 4. **PSNR。** `my_psnr(reference, image)`：像素在 [0, 1] 里，返回 dB。和 `psnr` 比较。
# 5. **3×3 中值滤波。** `median3(image)`：每个像素换成它 3×3 邻域的中位数；边界用镜像
#    （`np.pad(..., mode="reflect")`，即 OpenCV 的 BORDER_REFLECT_101）。和 `median_filter(image, 3)` 比较。
#
# *English:* Write a zero-padded correlation, the Sobel magnitude, a 1-D Gaussian kernel, PSNR and a
# 3×3 median filter; each is checked against petnet's own.

# %%
rng = np.random.default_rng(3)
gray = photo.mean(axis=2)[:48, :40]


# 练习 1：补 0 的二维互相关，输出和输入一样大
def correlate2d(image, kernel):
    raise NotImplementedError  # 在这里写你的代码


# %%
check(1, lambda: close(correlate2d(gray, k := rng.normal(size=(3, 5))), filter2d(gray, k, border="zero"),
                       "correlate2d 的输出"))


# %%
# 练习 2：Sobel 梯度幅值 sqrt(Gx² + Gy²)
def sobel_magnitude(gray):
    raise NotImplementedError  # 在这里写你的代码


# %%
check(2, lambda: close(sobel_magnitude(gray), apply(gray, "sobel"), "Sobel 梯度幅值"))


# %%
# 练习 3：一维高斯核，元素之和为 1
def gaussian_kernel_1d(size, sigma):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_gaussian():
    for size, sigma in [(5, 1.0), (7, 1.5), (9, 0.8)]:
        close(gaussian_kernel_1d(size, sigma), gaussian_kernel(size, sigma), f"size={size}, sigma={sigma} 的高斯核")


check(3, test_gaussian)


# %%
# 练习 4：PSNR，单位 dB
def my_psnr(reference, image):
    raise NotImplementedError  # 在这里写你的代码


# %%
check(4, lambda: close(my_psnr(photo, noisy), psnr(photo, noisy), "PSNR"))


# %%
# 练习 5：3×3 中值滤波，边界镜像
def median3(image):
    raise NotImplementedError  # 在这里写你的代码


# %%
salty = result.images["salt & pepper"]["noisy"].mean(axis=2)[:40, :40]
check(5, lambda: close(median3(salty), median_filter(salty, 3), "3×3 中值滤波的结果"))
