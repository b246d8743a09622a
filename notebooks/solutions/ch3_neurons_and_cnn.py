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
# # 第 3.2–3.3 节练习的参考答案
#
# 每个单元格对应笔记本 `ch3_neurons_and_cnn.py` 里的一道练习。先自己做，再来看！
#
# *English:* Reference solutions of sections 3.2–3.3's exercises, one cell per exercise.

# %%
# 练习 1：感知机规则的一轮，返回 (w, b, 犯错次数)
def perceptron_epoch(w, b, X, t, learning_rate):
    w, mistakes = np.array(w, dtype=float), 0
    for p, target in zip(X, t):
        a = 1 if w @ p + b >= 0 else 0         # hardlim
        e = target - a                         # +1、0 或 −1
        if e != 0:
            w = w + learning_rate * e * p
            b = b + learning_rate * e
            mistakes += 1
    return w, b, mistakes


# %%
# 练习 2：sigmoid 的斜率 σ(z)·(1 − σ(z))
def sigmoid_slope(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


# %%
# 练习 3：f×f 的最大池化，x 的形状 (N, H, W, C)
def max_pool(x, f):
    n, h, w, c = x.shape
    x = x[:, :h // f * f, :w // f * f]         # 丢掉凑不满窗口的行和列
    return x.reshape(n, h // f, f, w // f, f, c).max(axis=(2, 4))


# %%
# 练习 4：卷积层的前向计算（不补边）
def conv2d_valid(x, kernel, bias):
    kh, kw, _, c_out = kernel.shape
    n, h, w, _ = x.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, c_out))
    for i in range(kh):
        for j in range(kw):                    # 每个卷积核位置：一块移位的输入乘以 (C_in, C_out) 的权重
            out += x[:, i:i + h - kh + 1, j:j + w - kw + 1, :] @ kernel[i, j]
    return out + bias
