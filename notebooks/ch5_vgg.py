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
# # 第 5 章：VGG16，一层一层地算
#
# 分享第 5 章介绍 VGG16（13 个卷积层 + 3 个全连接层 = 16 个权重层），并在 5.2 节计算它前两层的开销。那些计算把
# 两件不同的事混在了一起：一层要学的**参数**，和它要做的**乘加运算**（MAC）。这里用 `petnet.vgg.summary`
# 精确地算账（纯算术，不分配任何权重），重现分享的数字并把它们放回正确的位置，最后在少量 MNIST 数字上训练一个
# VGG 风格的小网络。`PETNET_FAST=1` 时用更少的数字训练。
#
# *English:* Chapter 5: VGG16's accounting done exactly — parameters versus multiply-accumulates, which
# the talk's numbers mix up — and a small VGG-style network trained on MNIST.

# %%
# needs: mnist
import os

import numpy as np
from IPython.display import Image, display

from petnet import vgg
from petnet.exercises import check, close, same
from petnet.plotting import finish, pyplot
from petnet.vgg import mnist as vgg_mnist
from petnet.vgg.configs import CONFIGS

FAST = os.environ.get("PETNET_FAST") == "1"
plt = pyplot()

# %% [markdown]
# ## 1. 五种配置 A–E（5.1）
#
# 每种配置都是一串 3×3 卷积的宽度，`M` 表示一个 2×2 最大池化，后面接同样的三个全连接层（4096、4096、1000）。
# D 就是 VGG16，E 就是 VGG19。
#
# *English:* Each configuration lists 3×3 convolution widths, M for a 2×2 max-pooling, then the same three
# dense layers; D is VGG16, E is VGG19.

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
# ## 2. VGG16 的完整表格
#
# 每一层的输出形状、参数个数、乘加次数、激活值占用的内存和感受野（RF）。分享里的输入“244×244”是笔误：
# VGG 的输入是 224×224×3。
#
# *English:* Output shape, parameters, MACs, activation memory and receptive field of every layer; the
# talk's "244×244" input is a typo for 224×224.

# %%
print(d.text())

# %% [markdown]
# ## 3. 5.2 节的算术：重现，并改正
#
# **输出尺寸。** `O = (W − K + 2P)/S + 1`：P = 1、S = 1 的 3×3 卷积保持 224 不变；S = 2 的 2×2 池化让尺寸减半。
# 五次池化：224 → 112 → 56 → 28 → 14 → 7。
#
# *English:* O = (W − K + 2P)/S + 1: a 3×3 convolution with padding 1 keeps 224, a 2×2 pooling halves
# it; five poolings give 7.

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
# **从输入到 conv1（5.2.2）。** 分享：“W = 50176 × 27 = 1,354,752；b = 27 × 64 = 50176；W = 1,354,752 × 64 =
# 86,704,128；b = 50176 × 64 = 3,211,264”。作为算术，除了一个乘法都是对的（27 × 64 是 1,728，不是 50,176），
# 但它们数的是**计算量**，不是参数：同一个 3×3×3 的卷积核在 224·224 = 50,176 个位置上重复使用（权重共享），所以
#
# * conv1 的参数 = 3·3·3·64 个权重 + 64 个偏置 = **1,792**；
# * 86,704,128 = 50,176 × 27 × 64 是它的**乘加次数**；
# * 3,211,264 = 50,176 × 64 是**输出**的个数（每个输出做一次偏置**加法**），偏置只有 64 个。
#
# *English:* The talk's products count work, not parameters: conv1 has 1,792 parameters (weight sharing);
# 86,704,128 is its MAC count and 3,211,264 its number of outputs.

# %%
conv1, conv2 = d.rows[1], d.rows[2]
positions = 224 * 224
assert positions == 50_176 and positions * 27 == 1_354_752
assert 27 * 64 == 1_728 != 50_176                                    # 分享的笔误
assert positions * 27 * 64 == 86_704_128 == conv1.macs              # 分享的“W”= 乘加次数
assert positions * 64 == 3_211_264 == int(np.prod(conv1.output_shape))   # 分享的“b”= 输出个数
assert conv1.params == 3 * 3 * 3 * 64 + 64 == 1_792
print(conv1)

# %% [markdown]
# **从 conv1 到 conv2（5.2.5）。** 输入 224×224×64，卷积核 3×3×64，64 个滤波器。分享：“W = 50176 × 576 =
# 28,901,376；× 64 = 18.4 亿；b = 576 × 64 = 36,864”。同样，1,849,688,064 是乘加次数（约 18.5 亿），而 36,864 是
# **权重**的个数（3·3·64·64）；偏置是 64 个。
#
# *English:* Again 1,849,688,064 is the MAC count and 36,864 the number of weights (3·3·64·64); the
# biases are 64.

# %%
assert positions * 576 == 28_901_376
assert positions * 576 * 64 == 1_849_688_064 == conv2.macs           # “18.4 亿”：乘加次数
assert 576 * 64 == 36_864 and conv2.params == 36_864 + 64 == 36_928  # 权重 + 偏置
print(conv2)

# %% [markdown]
# ## 4. 参数在全连接层，计算在卷积层
#
# 13 个卷积层只有 138.4 M 个参数中的 14.7 M；光 `fc1`（7·7·512 × 4096 + 4096）就占了 74%。乘加次数正好反过来：
# 15.47 G 次中有 15.35 G 次在卷积层。
#
# *English:* The convolutions hold 14.7 M of the 138.4 M parameters (fc1 alone 74%), but 15.35 G of the
# 15.47 G multiply-accumulates.

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
# ## 5. 三个 3×3 层看到的和一个 7×7 层一样多（感受野）
#
# 每个 3×3 卷积让一个输出看到的范围增加 2 个像素（再乘以到这一层为止的步长）：3、5，经过池化是 6……三个叠在一起的
# 3×3 层看到 7×7，只用 3·9·C² = 27C² 个权重，而不是 49C²——这就是 VGG 的核心想法。
#
# *English:* Each 3×3 convolution adds 2 pixels (times the stride so far) to what an output sees: three
# stacked 3×3 layers see 7×7 with 27C² weights instead of 49C².

# %%
rf = {r.name: r.receptive_field for r in d.rows}
print({k: rf[k] for k in ("block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block5_conv3", "block5_pool")})
assert (rf["block1_conv1"], rf["block1_conv2"], rf["block1_pool"]) == (3, 5, 6) and rf["block5_pool"] == 212
C = 256
assert 3 * (3 * 3 * C * C) == 27 * C * C < 7 * 7 * C * C

# %% [markdown]
# ## 6. 在 MNIST 数字上训练一个 VGG 风格的网络，一个短短的轮次
#
# 同样的配方换成 MNIST 的规模——几组 3×3 卷积（padding 'same'），每组以 2×2 最大池化结束，然后是全连接层——
# 由 `vgg.VGG` 按配置列表在 `petnet.nn` 引擎上搭起来，用 `fit` 在少量数字上训练一轮。
#
# *English:* The same recipe at MNIST's scale, built by vgg.VGG from a configuration list and trained for
# one epoch on a few digits.

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
assert small_vgg.count_params() == 59_202 and acc > 0.75          # 瞎猜是 0.1

# %% [markdown]
# `petnet vgg mnist` 训练的是更大的 `petnet.vgg.mnist.build()`（32、32、M、64、64、M，带批归一化，485,098 个参数；
# 在全部 60,000 个数字上训练 3 轮后测试准确率 0.9919，见 docs/vgg.md）。批归一化一个短短的轮次是不够的：
# 它的滑动平均从均值 0、方差 1 开始，按 Keras 的动量 0.99，63 步之后仍保留着 0.99⁶³ ≈ 53% 的初始值——推理时
# 网络就用错误的统计量做归一化（实测过一次：这个网络带批归一化在 2000 个数字上训练一轮后，训练准确率 0.74，
# 测试准确率 0.38）。所以 `petnet.vgg.mnist` 用的动量是 0.9。
#
# *English:* Batch normalisation needs more than one short epoch: with momentum 0.99 its moving averages
# still hold 53% of their starting values after 63 steps, which is why petnet.vgg.mnist uses 0.9.

# %%
assert vgg_mnist.build().count_params() == 485_098
assert round(0.99 ** 63, 2) == 0.53

# %% [markdown]
# ## 7. 三个问题
#
# * **输入换成 32×32×3，`block1_conv1` 的参数和乘加次数怎么变？** 参数还是 1,792——它们和图像大小无关（权重共享）；
#   乘加次数变成 32·32·27·64 = 1,769,472，而不是 86,704,128。
# * **为什么 VGG19（E）比 VGG16 只多 5.3 M 个参数，却多 4.2 G 次乘加？** 多出来的三层是 56×56 上的
#   3×3×256→256、28×28 和 14×14 上的 3×3×512→512：参数是 0.59 M + 2.36 M + 2.36 M，但每一层都要在一张很大的
#   特征图的每个位置上运行，乘加是 1.85 G + 1.85 G + 0.46 G。
# * **`include_top=False` 时还剩多少参数？** 14,714,688 个，10.6%——都是卷积层；另外 89.4% 在三个全连接层里。
#
# *English:* Parameters do not depend on the image size, MACs do; VGG19's three extra layers are cheap in
# parameters but run at every position; without the top only 10.6% of the parameters are left.

# %%
small = vgg.summary("D", (32, 32, 3)).rows[1]
assert (small.params, small.macs) == (1_792, 32 * 32 * 27 * 64) == (1_792, 1_769_472)
e = vgg.summary("E", (224, 224, 3))
print(f"VGG19 - VGG16: {e.total_params - d.total_params:,} parameters, {(e.total_macs - d.total_macs) / 1e9:.2f} G MACs")
assert round((e.total_params - d.total_params) / 1e6, 1) == 5.3 and round((e.total_macs - d.total_macs) / 1e9, 1) == 4.2
top_free = vgg.summary("D", (224, 224, 3), include_top=False).total_params
assert top_free == 14_714_688 and round(top_free / d.total_params, 3) == 0.106

# %% [markdown]
# ## 小结
#
# * 参数个数和图像大小无关（权重共享）；乘加次数和每层输出的位置数成正比。
# * VGG16 的参数大多在全连接层，计算大多在卷积层。
# * 叠三个 3×3 卷积得到 7×7 的感受野，参数更少、非线性更多。
#
# *English:* Parameters do not depend on the image size, MACs do; VGG16's parameters sit in the dense
# layers and its work in the convolutions; stacked 3×3 layers grow the receptive field cheaply.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里写好函数（删掉 `raise NotImplementedError`），再运行下面的检查单元格，
# 它会拿你的结果和 `vgg.summary` 比较。参考答案在 `notebooks/solutions/ch5_vgg.py`。配置是像
# `CONFIGS["A"] = [64, "M", 128, "M", 256, 256, "M", ...]` 这样的列表：整数是一个 3×3、padding 'same'、
# 带偏置的卷积层的滤波器个数，`"M"` 是一个 2×2、步长 2 的最大池化。
#
# 1. **数参数。** `vgg_params(config, side=224, channels=3, classes=1000)`：卷积层的参数，加上三个全连接层
#    （展平 → 4096 → 4096 → `classes`，都带偏置）的参数。检查单元格会问配置 A（VGG11）、D 和 E。
# 2. **数乘加。** `conv_macs(config, side=224, channels=3)`：每个卷积层的乘加次数列成一个列表
#    （输出的位置数 × 3·3·输入通道 × 输出通道）。
# 3. **感受野。** `receptive_fields(config)`：每个卷积层和池化层之后，一个输出看到的输入边长（从 1 开始；
#    卷积加上 2 × 目前为止的总步长，池化加上 1 × 目前为止的总步长，然后总步长翻倍）。
#
# *English:* Count a VGG configuration's parameters (config A included), each convolution's MACs, and the
# receptive field after every layer; each is checked against vgg.summary.

# %%
# 练习 1：一个 VGG 配置的参数个数（卷积层 + 三个全连接层）
def vgg_params(config, side=224, channels=3, classes=1000):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_vgg_params():
    for c in "ADE":
        same(vgg_params(CONFIGS[c]), vgg.summary(c, (224, 224, 3)).total_params, f"配置 {c} 的参数个数")
    same(vgg_params(CONFIGS["B"], side=32, channels=1, classes=10),
         vgg.summary("B", (32, 32, 1), classes=10).total_params, "配置 B 在 32×32×1、10 类时的参数个数")


check(1, test_vgg_params)


# %%
# 练习 2：每个卷积层的乘加次数
def conv_macs(config, side=224, channels=3):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_conv_macs():
    for c in "AD":
        want = [r.macs for r in vgg.summary(c, (224, 224, 3)).rows if r.kind == "Conv2D"]
        close(conv_macs(CONFIGS[c]), want, f"配置 {c} 各卷积层的乘加次数", rtol=0)


check(2, test_conv_macs)


# %%
# 练习 3：每个卷积层和池化层之后的感受野
def receptive_fields(config):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_receptive_fields():
    for c in "AD":
        want = [r.receptive_field for r in vgg.summary(c, (224, 224, 3)).rows if r.kind in ("Conv2D", "MaxPooling2D")]
        close(receptive_fields(CONFIGS[c]), want, f"配置 {c} 的感受野", rtol=0)


check(3, test_receptive_fields)
