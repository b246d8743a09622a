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
# # 第 3.2–3.3 节：从一个神经元到卷积神经网络
#
# 分享从神经元搭起网络（3.2.1：加权求和，再经过传递函数），提醒深层网络会因为梯度消失而学不动、ResNet 的残差块
# 解决了这个问题（3.2.2），然后为图像加上卷积、池化和 Dropout（3.3）。这里把每个说法都跑一遍：
#
# 1. 感知机能学会 AND 和 OR，学不会 XOR；
# 2. 传递函数和它们的斜率；
# 3. 卷积层**就是**一个滤波器（第 3.1 节），只是权重是学出来的；
# 4. 把一张照片从 1024 像素池化到 16 像素，品种仍然认得出；
# 5. 20 层 sigmoid 网络里的梯度消失，以及残差连接的修复；
# 6. Dropout 对付过拟合。
#
# `PETNET_FAST=1`（测试时会设置）使用更小的设置；无论哪种设置，结论都用 `assert` 检查。
#
# *English:* Sections 3.2–3.3: the perceptron, transfer functions, a convolution layer as a filter,
# pooling, vanishing gradients and the residual fix, dropout — each claim run and asserted.

# %%
# needs: mnist
import os

import numpy as np
from IPython.display import Image, display

from petnet import nn
from petnet.exercises import check, close
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
# ## 1. 一个神经元：感知机（3.2.1）
#
# `a = hardlim(w·p + b)`：加权和不小于 0 时输出 1，否则输出 0。感知机学习规则
# `e = t − a，w ← w + e·p，b ← b + e` 在每个答案都对时停下——而这只有在一条直线能把 1 和 0 分开时才会发生。
# AND 和 OR 是线性可分的；XOR 不是。
#
# *English:* One hardlim neuron trained by the perceptron rule stops only when a straight line separates
# the classes: AND and OR are separable, XOR is not.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
for ax, (name, (X, t)) in zip(axes, {"AND": AND, "OR": OR, "XOR": XOR}.items()):
    p = Perceptron(learning_rate=1.0, max_iter=20).fit(X, t)
    print(p.report(X, t, name))
    ax.scatter(X[:, 0], X[:, 1], c=t, cmap="bwr", s=120, edgecolors="k")
    w, b = p.coef_, p.intercept_
    if abs(w[1]) > 1e-12:                      # 直线 w·p + b = 0
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
# XOR 的两个 1，(0,1) 和 (1,0)，在一条对角线上，两个 0 在另一条上；任何一条让两个 1 都在正侧的直线，
# 也会把 (0,0) 或 (1,1) 放到正侧，所以感知机规则会一直修正下去。一个隐藏层（两个神经元，比如 OR 和 NAND，
# 再接一个 AND）就能解决 XOR。
#
# *English:* No line puts both 1s of XOR on one side and both 0s on the other; one hidden layer
# (OR and NAND, then AND) solves it.

# %% [markdown]
# ## 2. 传递函数和它们的斜率
#
# 反向传播每经过一层就要乘一次斜率 `f'(z)`。sigmoid 的斜率最大只有 **1/4**（在 z = 0 处），tanh 最大为 1，
# ReLU 对每个激活的单元恰好是 1。记住这个 1/4，第 5 节要用。分享里的名字：`logsig` 就是 sigmoid，
# `tansig` 就是 tanh，`purelin` 是线性函数，`hardlim` 是阶跃函数（它的斜率几乎处处为 0：不能用梯度训练）。
#
# *English:* Backpropagation multiplies by f'(z) once per layer: at most 1/4 for the sigmoid, 1 for tanh
# and ReLU; hardlim's slope is 0 almost everywhere.

# %%
z = np.linspace(-5, 5, 501)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
slopes = {}
for name in ("sigmoid", "tanh", "relu", "leaky_relu", "hardlim"):
    f = ACTIVATIONS.get(name)()
    a, cache = f.forward(z)
    slope = f.backward(cache, np.ones_like(z))            # f'(z)，由这一层自己的 backward 算出
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
# ## 3. 卷积层就是权重靠学习得到的滤波器（3.3.1）
#
# 第 3.1 节让手工设计的卷积核（Sobel、高斯）在照片上滑动。`Conv2D` 层做的是同样的乘积求和，唯一的区别是
# 它的卷积核是学出来的。把 Sobel 的核交给它，它找到的边缘和滤波器一模一样（两边都补 0）。
#
# *English:* A Conv2D layer computes the same sum of products as a filter; given Sobel's kernel it finds
# the same edges.

# %%
from PIL import Image as PILImage

gray = np.asarray(PILImage.open(ROOT / "examples" / "Persian_143.jpg").convert("L"), dtype=np.float32) / 255
gray = gray[:128, :128] if FAST else gray
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)

conv = nn.Conv2D(1, (3, 3), padding="same", use_bias=False)
conv.build(gray.shape + (1,))
conv.set_weights([sobel_x[:, :, None, None]])             # Keras 的布局 (kh, kw, in, out)
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
# ## 4. 池化：“1024 像素的图像池化到 200 像素，看起来还是一样”（3.3.2）
#
# 把照片中间的正方形放大到 1024×1024（分享里的尺寸），再用 `MaxPooling2D` / `AveragePooling2D` 以 f×f 的窗口
# 做最大池化或平均池化。5×5 的窗口得到 204×204——就是分享说的“200 像素”。第 6 章的宠物识别器给每张池化后的
# 图像说出品种。1024·1024·3 = 3,145,728 个数进去，204·204·3 = 124,848 个数出来（最后 4 行和 4 列凑不满一个窗口，
# 被丢掉了），少了 25 倍，而且池化层没有任何权重。
#
# *English:* The photo enlarged to 1024×1024 and pooled by f×f windows; 5×5 gives the talk's "200 pixels"
# (204×204), 25 times fewer numbers, with no weights at all.

# %%
factors = (1, 5, 32, 64) if FAST else pooling_demo.FACTORS
pooled = pooling_demo.pooling_pyramid(ROOT / "examples" / "pug_168.jpg", factors=factors,
                                      recognizer=Recognizer(top=1))
print(pooling_demo.format_result(pooled))
display(Image(pooling_demo.plot_pooling(pooled, "pooling.png")))
talk_size = [r for r in pooled.rows if r.side == 204]
assert all(r.label == "pug" and r.score > 0.97 for r in talk_size)     # 200 像素：还是巴哥犬

# %% [markdown]
# 最大池化保留每个窗口里最亮的像素，所以图像变亮，细小的亮处（胡须）也留了下来；平均池化则是模糊。两种池化都让
# 巴哥犬一直到 32×32 像素（像素只剩 1/1024）都还是巴哥犬；到 16×16 时识别器就不那么确定了。
#
# *English:* Max-pooling keeps the brightest pixel (whiskers survive), average-pooling blurs; the pug
# stays a pug down to 32×32 pixels.

# %% [markdown]
# ## 5. 梯度消失与 ResNet 的修复（3.2.2）
#
# 三个都有 20 个权重层（宽 32）的网络，在 MNIST 手写数字上比较：sigmoid 层、ReLU 层，以及带跳跃连接
# `h ← h + F(h)`（残差块）的 sigmoid 层。先看初始化时每层权重的梯度范数（一批 64 个数字），再用普通的梯度下降
# 训练几轮。
#
# *English:* Three 20-layer networks on MNIST (sigmoid, ReLU, sigmoid with residual blocks): the gradient
# norm of every layer at initialisation, then a few epochs of training.

# %%
vr = vanishing.vanishing(MNIST, depth=20, n_train=2000 if FAST else 5000, epochs=4 if FAST else 10)
print(vanishing.format_result(vr))
display(Image(vanishing.plot_vanishing(vr, "vanishing.png")))
print({k: f"{vr.ratio(k):.1e}" for k in vr.norms})
assert vr.ratio("sigmoid") < 1e-9          # 第一层的梯度只有最后一层的 10^-12：什么都传不到它
assert vr.ratio("residual") > 1e-2         # 跳跃连接把梯度传了下去
assert vr.history["sigmoid"]["val_accuracy"][-1] < 0.2 < vr.history["residual"]["val_accuracy"][-1]
sig = np.array(vr.norms["sigmoid"])
per_layer = sig[2:] / sig[1:-1]             # 第 1 层读的是 784 个像素：从第 2 层算起
print("sigmoid: the gradient grows by a factor", per_layer.min().round(2), "to", per_layer.max().round(2), "per layer")
assert 3.3 < per_layer.min() and per_layer.max() < 5.1

# %% [markdown]
# 每个 sigmoid 层把梯度乘以 `f'(z)·w`，最多是权重的 1/4：这条线每层下降 3.4–5.0 倍（不正好是 4，因为还乘了权重，
# 饱和的单元斜率还更小），20 层下来是 10¹¹ 倍，网络的损失一直停在瞎猜的水平（ln 10 ≈ 2.303）。残差块计算
# `h + F(h)`，所以它的反向传播是 `dh = dh_out·(I + dF/dh)`：单位矩阵让梯度原样通过。（分享说“模型选择是否绕过”；
# 其实它不做选择——跳跃连接一直都在，残差块学的是要**加上**什么。）ReLU 的斜率保持为 1，但用 Keras 默认的
# （Glorot）初始化时每层把信号减半；它能学，只是要先经过一段平台期。深度加到 40 层（`depth=40`）时，
# float32 下最前面几层的梯度会下溢成正好 0：这些层根本学不了，学习率再大也没用。
#
# *English:* Each sigmoid layer multiplies the gradient by f'(z)·w (at most w/4): 10¹¹ over 20 layers.
# A residual block passes it through the identity; the skip is always there, the block learns what to add.

# %% [markdown]
# ## 6. Dropout 防止过拟合（3.3.4）
#
# 同一个 784-512-512-10 的网络（`PETNET_FAST=1` 时为 256 个单元、15 轮）只用 1000 个数字训练，一个不带
# Dropout，一个带 Dropout（每个训练步随机让 20% 的像素和 50% 的隐藏单元“沉默”）；评估时两者都关掉 Dropout。
#
# *English:* The same network trained on 1000 digits without and with dropout (20% of the pixels, 50% of
# the hidden units silenced at random), both evaluated with dropout off.

# %%
if FAST:
    dr = dropout_demo.dropout_curves(MNIST, hidden=256, n_train=1000, n_test=1000, epochs=15)
else:
    dr = dropout_demo.dropout_curves(MNIST)
print(dropout_demo.format_result(dr))
display(Image(dropout_demo.plot_dropout(dr, "dropout.png")))
plain, drop = dr.curves["no dropout"], dr.curves["dropout"]
assert plain["train_accuracy"][-1] == 1.0                               # 它记住了每一个数字
assert dr.gap("no dropout", "loss") > dr.gap("dropout", "loss") + 0.05  # 过拟合的差距更小
assert drop["test_loss"][-1] < plain["test_loss"][-1]

# %% [markdown]
# 不用 Dropout 时训练损失几乎降到 0（完整设置下是 0.0005：每个数字都被记住，而且非常确定），而测试损失在最低点
# （第 3 轮）之后一路上升：网络对没见过的数字越来越过分自信。Dropout 让每个单元不能依赖特定的其他单元，测试损失
# 保持得更低。在 1000 个数字上，两者的测试**准确率**只差一个百分点左右，和换一个随机种子的差别差不多：在这里，
# Dropout 最明显的作用是在损失上。Dropout 也不是越多越好：`rate=0.8` 时网络学得太少，欠拟合了。
#
# *English:* Without dropout the training loss goes to almost 0 while the test loss climbs after epoch
# 3; dropout keeps the test loss lower. Too much dropout (rate 0.8) underfits.

# %% [markdown]
# ## 小结
#
# * 一个神经元只能画一条直线；XOR 需要隐藏层。
# * 反向传播每层乘一次 `f'(z)·w`：sigmoid 的斜率最多 1/4，所以深层 sigmoid 网络的梯度会消失；残差连接让梯度直通。
# * 卷积层就是权重可学习的滤波器；池化没有权重，只是缩小。
# * Dropout 降低过拟合，主要体现在测试损失上。
#
# *English:* A neuron draws one line; gradients vanish through sigmoid layers and pass through residual
# skips; a conv layer is a learnt filter, pooling has no weights; dropout lowers the test loss.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里写好函数（删掉 `raise NotImplementedError`），再运行下面的检查单元格，
# 它会拿你的结果和 petnet 的实现比较。参考答案在 `notebooks/solutions/ch3_neurons_and_cnn.py`。
#
# 1. **感知机的一轮。** `perceptron_epoch(w, b, X, t, learning_rate)`：按顺序对每个样本用一次感知机规则，
#    返回 `(w, b, 本轮犯错的次数)`。检查单元格会一轮一轮地训练 AND 和 OR，直到某一轮没有犯错，再和
#    `Perceptron(learning_rate=...)` 学到的 `coef_`、`intercept_` 比较。
# 2. **sigmoid 的斜率。** `sigmoid_slope(z)`：返回 `σ(z)·(1 − σ(z))`。和 sigmoid 层的 `backward` 比较。
# 3. **最大池化。** `max_pool(x, f)`：`x` 的形状是 `(N, H, W, C)`，用不重叠的 f×f 窗口取最大值，凑不满窗口的
#    行和列丢掉。和 `nn.MaxPooling2D((f, f))` 比较。
# 4. **卷积层的前向计算。** `conv2d_valid(x, kernel, bias)`：`x` 为 `(N, H, W, C_in)`，`kernel` 为
#    `(kh, kw, C_in, C_out)`，不补边，输出 `(N, H − kh + 1, W − kw + 1, C_out)`。和 `nn.Conv2D` 比较。
#
# *English:* Write one epoch of the perceptron rule, the sigmoid's slope, max-pooling and a valid
# convolution layer's forward pass; each is checked against petnet.nn.

# %%
# 练习 1：感知机规则的一轮，返回 (w, b, 犯错次数)
def perceptron_epoch(w, b, X, t, learning_rate):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_perceptron():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(30, 2))
    tr = (Xr @ [1.5, -1.0] + 0.3 > 0).astype(int)           # 一条直线分开的随机点
    for (X, t), lr in [(AND, 1.0), (OR, 1.0), ((Xr, tr), 0.5)]:
        w, b = np.zeros(X.shape[1]), 0.0
        for epoch in range(1, 101):
            w, b, mistakes = perceptron_epoch(w, b, X, t, lr)
            if mistakes == 0:
                break
        p = Perceptron(learning_rate=lr, max_iter=100).fit(X, t)
        close(w, p.coef_, "w")
        close(b, p.intercept_, "b")
        assert epoch == p.n_iter_, f"用了 {epoch} 轮，petnet 用了 {p.n_iter_} 轮"


check(1, test_perceptron)


# %%
# 练习 2：sigmoid 的斜率 σ(z)·(1 − σ(z))
def sigmoid_slope(z):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_sigmoid_slope():
    f = ACTIVATIONS.get("sigmoid")()
    a, cache = f.forward(z)
    close(sigmoid_slope(z), f.backward(cache, np.ones_like(z)), "sigmoid 的斜率")


check(2, test_sigmoid_slope)


# %%
# 练习 3：f×f 的最大池化，x 的形状 (N, H, W, C)
def max_pool(x, f):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_max_pool():
    x = np.random.default_rng(1).normal(size=(2, 7, 9, 3)).astype(np.float32)
    for f in (2, 3):
        close(max_pool(x, f), nn.MaxPooling2D((f, f))(x), f"{f}×{f} 最大池化的输出")


check(3, test_max_pool)


# %%
# 练习 4：卷积层的前向计算（不补边）
def conv2d_valid(x, kernel, bias):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_conv2d():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 8, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 2, 3, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    layer = nn.Conv2D(4, (3, 2))
    layer.build(x.shape[1:])
    layer.set_weights([kernel, bias])
    close(conv2d_valid(x, kernel, bias), layer(x), "卷积层的输出")


check(4, test_conv2d)
