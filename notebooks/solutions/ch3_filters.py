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
# # 第 3.1 节练习的参考答案
#
# 每个单元格对应笔记本 `ch3_filters.py` 里的一道练习。先自己做，再来看！
#
# *English:* Reference solutions of section 3.1's exercises, one cell per exercise.

# %%
# 练习 1：补 0 的二维互相关，输出和输入一样大
def correlate2d(image, kernel):
    kh, kw = kernel.shape
    h, w = image.shape
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2)))     # 四周补 0
    out = np.zeros((h, w))
    for i in range(kh):                  # 对卷积核的每个位置，把整张移位后的图像加进来
        for j in range(kw):
            out += kernel[i, j] * padded[i:i + h, j:j + w]
    return out


# %%
# 练习 2：Sobel 梯度幅值 sqrt(Gx² + Gy²)
def sobel_magnitude(gray):
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    gx = filter2d(gray, kx)              # 水平方向的导数
    gy = filter2d(gray, kx.T)            # 竖直方向的导数
    return np.sqrt(gx ** 2 + gy ** 2)


# %%
# 练习 3：一维高斯核，元素之和为 1
def gaussian_kernel_1d(size, sigma):
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


# %%
# 练习 4：PSNR，单位 dB
def my_psnr(reference, image):
    mse = np.mean((np.asarray(reference) - np.asarray(image)) ** 2)
    return 10 * np.log10(1.0 / mse)      # 像素的最大值是 1


# %%
# 练习 5：3×3 中值滤波，边界镜像
def median3(image):
    h, w = image.shape
    padded = np.pad(image, 1, mode="reflect")
    windows = np.stack([padded[i:i + h, j:j + w] for i in range(3) for j in range(3)])
    return np.median(windows, axis=0)
