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
# # 第 4 章：反向传播
#
# 分享的 4.2 节在最小的网络上手推链式法则：一个输入，三个只有一个神经元的层：
#
#     x --w1,b1--> Y1 --w2,b2--> Y2 --w3,b3--> Y3        E = (Y3 − t)² / 2
#
# 这里会：把这个例子的每个数字和 PyTorch 的自动求导对一遍；指出分享里有几处说得不太对；算 4.2.5 的 4×4 → 5
# 的例子；最后用同一个算法，借助 `fit` 和回调函数在 MNIST 手写数字上训练一个小 CNN——用从训练数据里分出来的
# 验证集做提前停止，测试集只在最后测一次。`PETNET_FAST=1` 时用更少的数字训练。
#
# *English:* Section 4.2's chain rule on a three-neuron network, checked against PyTorch; the talk's
# slips; the 4×4 → 5 example; then a small CNN on MNIST with early stopping on a validation split and
# the test set used once at the end.

# %%
# needs: mnist
import os

import numpy as np
import torch
from IPython.display import Image, display

from petnet import nn
from petnet.exercises import check, close, same
from petnet.nn import backprop, mnist
from petnet.paths import shared_data
from petnet.plotting import finish, pyplot

FAST = os.environ.get("PETNET_FAST") == "1"
plt = pyplot()

# %% [markdown]
# ## 1. 手推的例子（4.2.1–4.2.3）
#
# x = 1，目标 t = 0.9，sigmoid 神经元，w = (0.5, −0.4, 0.8)，b = (0.1, 0.2, −0.3)。前向传播计算
# z_i = w_i·input_i + b_i 和 Y_i = f(z_i)；反向传播从最后一层开始计算**局部梯度** d_i = dE/dz_i，
# 每一个都是后一个乘以一个权重和一个斜率：
#
#     d3 = (Y3 − t)·f'(z3)      d2 = d3·w3·f'(z2)      d1 = d2·w2·f'(z1)
#
# 参数的梯度是 dE/dw_i = d_i ·（这一层的输入），dE/db_i = d_i。
#
# *English:* The forward pass computes z_i and Y_i; the backward pass the local gradients d_i = dE/dz_i,
# last layer first; then dE/dw_i = d_i · input and dE/db_i = d_i.

# %%
r = backprop.worked_example()
print(backprop.format_report(r))

# %%
g = r.gradients
assert f"{g['d3']:+.8e}" == "-9.42975266e-02"
assert f"{g['dE/dw3']:+.8e}" == "-4.57756488e-02"
assert round(r.forward["E"], 8) == 0.07141428

# %% [markdown]
# ### 同样的数字，由 PyTorch 的自动求导算出
#
# 一个独立的检查：用 PyTorch 写出这三层，调用 `backward()`，逐个比较。
#
# *English:* An independent check: the same three layers in PyTorch, `backward()`, compare.

# %%
P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in r.params.items()}
z = {}
Y1 = torch.sigmoid(z.setdefault("z1", P["w1"] * 1.0 + P["b1"]))
Y2 = torch.sigmoid(z.setdefault("z2", P["w2"] * Y1 + P["b2"]))
Y3 = torch.sigmoid(z.setdefault("z3", P["w3"] * Y2 + P["b3"]))
for v in z.values():
    v.retain_grad()                                    # 保留 dE/dz_i：局部梯度
E = (Y3 - 0.9) ** 2 / 2
E.backward()
auto = {f"d{i}": z[f"z{i}"].grad.item() for i in (1, 2, 3)}
auto.update({f"dE/d{k}": P[k].grad.item() for k in P})
for k, v in auto.items():
    print(f"{k:7} petnet {g[k]:+.10e}   autograd {v:+.10e}")
    assert abs(g[k] - v) <= 1e-12 * max(1.0, abs(v))

# %% [markdown]
# ## 2. 在它上面做梯度下降（4.2.4）
#
# `w ← w − α·dE/dw`，α = 1，走十步：E 从 0.0714 降到 0.0164。α = 10 时降得更快（10 步后约 0.00007）；
# α = 100 时第一步就把 E 降到 0.005，然后再也不动了：Y3 一下子跳到约 1，sigmoid 饱和，f'(z3) ≈ 0——梯度消失了，
# 和第 3 章的深层 sigmoid 网络一样。步子太大不只是会冲过头，还可能让网络停住。
#
# *English:* Ten steps with α = 1 lower E from 0.0714 to 0.0164; α = 10 is faster; α = 100 saturates the
# sigmoid after one step and the gradient vanishes.

# %%
hist = r.descent["history"]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot([h["step"] for h in hist], [h["E"] for h in hist], marker="o")
ax.set_xlabel("step")
ax.set_ylabel("E")
ax.set_title("the worked example, gradient descent (α = 1)")
display(Image(finish(fig, "descent.png")))
assert round(hist[-1]["E"], 8) == 0.01644036 and all(a["E"] > b["E"] for a, b in zip(hist, hist[1:]))
for lr in (10, 100):
    print(f"learning rate {lr}: E after 10 steps = {backprop.worked_example(learning_rate=lr).descent['history'][-1]['E']:.6f}")

# %% [markdown]
# ## 3. 检查分享里的说法
#
# * **“purelin”：`d3 = Y3 − t`，`d2 = d3·w3`，`d1 = d2·w2`。** 对恒等传递函数（f' = 1）成立，也只对它成立：
#   用 sigmoid 时每一步还要乘以 f'(z) ≤ 1/4。
# * **“损失在往回传时被放大 w3 倍”**：只有 |w3| > 1 时才是放大；这里 w3 = 0.8，其实是缩小。
# * **“局部梯度 d_i 与 X 无关”。** 有关：它们里面的 Y 值都来自 x。把 x 从 1 改成 2，每个 d_i 都会变。
# * 在 4.2.2 中，分享写的是“[w3, b3]”，其实指的是第二层的 **[w2, b2]**。
#
# *English:* The purelin formulas hold only for f' = 1; "amplified w3 times" only if |w3| > 1; the local
# gradients do depend on x; "[w3, b3]" in 4.2.2 means [w2, b2].

# %%
lin = backprop.worked_example(activation="purelin")
Y3, t, w2, w3 = lin.forward["Y3"], lin.forward["t"], lin.params["w2"], lin.params["w3"]
assert np.isclose(lin.gradients["d3"], Y3 - t)
assert np.isclose(lin.gradients["d2"], (Y3 - t) * w3) and np.isclose(lin.gradients["d1"], (Y3 - t) * w3 * w2)
print("purelin: d3 = Y3 - t =", round(lin.gradients["d3"], 6), " d2 = d3 w3 =", round(lin.gradients["d2"], 6))

other_x = backprop.worked_example(x=2.0)
for k in ("d1", "d2", "d3"):
    print(f"{k}: x = 1 -> {g[k]:+.6e}   x = 2 -> {other_x.gradients[k]:+.6e}")
    assert g[k] != other_x.gradients[k]               # 局部梯度依赖于输入

# %% [markdown]
# ## 4. 4×4 的输入和五个神经元（4.2.5）
#
# `z1_j = Σ_rc w1[r,c,j]·X[r,c] + b1_j`：第一层 4·4·5 = 80 个权重中每一个的梯度都是 `d1_j · X[r,c]`——
# 每个神经元一个局部梯度，乘以这个权重所乘的那个像素。
#
# *English:* Each of the 80 first-layer weights has the gradient d1_j · X[r,c]: one local gradient per
# neuron times the pixel it multiplies.

# %%
m = r.matrix_example
print({k: m[k] for k in ("input_shape", "neurons", "dE/dw1_shape", "dE/dw1_count")})
print("d1 (one per neuron):", np.round(m["d1"], 6))
assert m["dE/dw1_count"] == 80 and tuple(m["dE/dw1_shape"]) == (4, 4, 5)

# %% [markdown]
# ## 5. 同一个算法，整个 CNN（从第 4 章到 MNIST）
#
# `petnet.nn` 一层一层地应用链式法则：每一层的 `backward(cache, dy)` 返回 dL/dx 和它的权重梯度。
# `model.loss_and_gradients(x, y)` 做一次前向和反向传播，但不更新权重。和上面一样的检查，这次在一个很小的 CNN
# （151 个权重）上，对照中心差分：
#
# *English:* petnet.nn applies the chain rule layer by layer; the gradients of a tiny CNN (151 weights)
# are checked against central differences.

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
w = tiny.trainable_weights[0]                        # 卷积核，(3, 3, 1, 4)
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
# ## 6. 诚实地训练：验证集用来提前停止，测试集只测一次
#
# 现在用 petnet 唯一的训练循环 `fit` 在 MNIST 上训练一个小 CNN，配三个回调：`History`（`fit` 的返回值）、
# 盯着验证损失的 `EarlyStopping`，以及我们自己写的、记录每一批损失的回调。
#
# **验证集从哪里来？** 提前停止要根据某一份数据上的损失来**选择**停在哪一轮。如果这份数据就是测试集，那么测试集
# 已经参与了选择，再在它上面报告的准确率就偏乐观了——这叫信息泄漏。所以这里从**训练数据**里切出一块验证集：
# `fit` 只看训练集，`EarlyStopping` 只看验证集，测试集在训练全部结束后才测**一次**。
#
# *English:* Early stopping chooses an epoch, so it must not look at the test set: a validation split is
# carved from the training digits, and the test accuracy is measured once, after training.

# %%
class BatchLosses(nn.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


n_train, n_val, epochs = (3000, 1000, 3) if FAST else (10000, 2000, 4)
x_all, y_all = mnist.load(shared_data("mnist"), "train", limit=n_train + n_val)
x, y = x_all[:n_train], y_all[:n_train]                     # 训练集：fit 用它更新权重
x_val, y_val = x_all[n_train:], y_all[n_train:]             # 验证集：来自训练文件，只用来提前停止
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
history = cnn.fit(x, y, epochs=epochs, batch_size=64, validation_data=(x_val, y_val),
                  callbacks=[batch_losses, stop], random_state=0, verbose=0)
print({k: [round(v, 4) for v in vals] for k, vals in history.history.items()})
print(f"early stopping kept epoch {stop.best_epoch_ + 1} (lowest validation loss {stop.best_:.4f})")

# %% [markdown]
# 训练结束，权重已经定下来了。现在才第一次、也是唯一一次打开测试集：
#
# *English:* Training is over and the weights are fixed; only now is the test set opened, once.

# %%
xt, yt = mnist.load(shared_data("mnist"), "test", limit=1000)
loss, acc = cnn.evaluate(xt, yt)
print(f"{cnn.count_params()} parameters, test accuracy {acc:.4f} on {len(xt)} digits (measured once)")
assert acc > 0.85 and cnn.count_params() == 5_258 and tiny.count_params() == 151
assert len(set(map(bytes, x_val[:50])) & set(map(bytes, xt[:50]))) == 0   # 验证集和测试集是不同的数字

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(batch_losses.losses, lw=0.8)
ax.set_xlabel("batch")
ax.set_ylabel("loss")
ax.set_yscale("log")
ax.set_title("the loss of every mini-batch")
display(Image(finish(fig, "cnn_batches.png")))

# %% [markdown]
# 训练时第一个 `Conv2D` 不计算它对输入的梯度：它的输入是图像，图像不需要学习，没人需要那里的 dL/dx。
# `fit` 调用第一层的 backward 时传入 `need_dx=False`，省下这份计算（一次 col2im）。这个 CNN 每一步要算
# 3·3·1·8 + 8 = 80、3·3·8·16 + 16 = 1,168 和 400·10 + 10 = 4,010，一共 5,258 个梯度，每个参数一个。
#
# *English:* The first layer skips its input gradient (need_dx=False); the CNN computes 5,258 weight
# gradients per step, one per parameter.

# %% [markdown]
# ## 小结
#
# * 反向传播从最后一层往回，每层把局部梯度乘以一个权重和一个斜率；参数梯度 = 局部梯度 × 这一层的输入。
# * petnet 的梯度和 PyTorch 自动求导、和中心差分都一致。
# * 做选择（提前停止、调参）用验证集，验证集要从训练数据里切出来；测试集只在最后测一次。
#
# *English:* Backpropagation multiplies local gradients by weights and slopes, layer by layer; choose on a
# validation split carved from the training data, and measure on the test set once.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里写好函数（删掉 `raise NotImplementedError`），再运行下面的检查单元格，
# 它会拿你的结果和 petnet 的实现比较。参考答案在 `notebooks/solutions/ch4_backpropagation.py`。
#
# 1. **全连接层的反向传播。** `dense_backward(x, W, b, dy)`：层的前向是 `a = sigmoid(x @ W + b)`，
#    给定 `dy = dL/da`，返回 `(dL/dx, dL/dW, dL/db)`。和 `nn.Dense(..., activation="sigmoid")` 的 `backward` 比较。
# 2. **手推的例子。** `local_gradients(x, t, w, b)`：三层 sigmoid 网络（`w`、`b` 各三个数），返回 `(d1, d2, d3)`。
#    和 `backprop.worked_example(x, t, w, b)` 比较。
# 3. **softmax 交叉熵的梯度。** `softmax_ce_gradient(z, y)`：`z` 是 `(N, K)` 的 logits，`y` 是类别编号；
#    损失是 `−mean(log softmax(z)[y])`，返回 dL/dz。和 `nn.SoftmaxCrossEntropy` 比较。
# 4. **提前停止选哪一轮。** `early_stopping(val_losses, patience)`：每轮结束后看验证损失，比目前最好的低就记下这一轮；
#    连续 `patience` 轮都没有更低之后，再下一轮就停。返回 `(恢复的那一轮, 停下的那一轮)`，都从 0 开始数，
#    没有提前停下时第二个是 `None`。和 `nn.EarlyStopping` 比较。
#
# *English:* Write a sigmoid dense layer's backward pass, the worked example's local gradients, the
# softmax cross-entropy gradient and the epoch early stopping keeps; each is checked against petnet.nn.

# %%
# 练习 1：a = sigmoid(x @ W + b) 的反向传播，返回 (dx, dW, db)
def dense_backward(x, W, b, dy):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_dense_backward():
    rng = np.random.default_rng(4)
    x, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    dy = rng.normal(size=(5, 4))
    layer = nn.Dense(4, activation="sigmoid", dtype=np.float64)
    layer.build((3,))
    layer.set_weights([W, b])
    _, cache = layer.forward(x)
    dx, (dW, db) = layer.backward(cache, dy)
    mine = dense_backward(x, W, b, dy)
    for got, want, name in zip(mine, (dx, dW, db), ("dL/dx", "dL/dW", "dL/db")):
        close(got, want, name)


check(1, test_dense_backward)


# %%
# 练习 2：三层 sigmoid 网络的局部梯度 (d1, d2, d3)
def local_gradients(x, t, w, b):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_local_gradients():
    for x, t, w, b in [(1.0, 0.9, (0.5, -0.4, 0.8), (0.1, 0.2, -0.3)), (2.0, 0.1, (-1.2, 0.7, 1.5), (0.0, -0.5, 0.3))]:
        want = backprop.worked_example(x, t, w, b).gradients
        close(local_gradients(x, t, w, b), [want["d1"], want["d2"], want["d3"]], f"x = {x} 时的 (d1, d2, d3)")


check(2, test_local_gradients)


# %%
# 练习 3：softmax 交叉熵对 logits 的梯度
def softmax_ce_gradient(z, y):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_softmax_ce():
    rng = np.random.default_rng(5)
    z, y = rng.normal(0, 3, size=(6, 4)), rng.integers(0, 4, 6)
    loss = nn.SoftmaxCrossEntropy()
    _, cache = loss.forward(z, y)
    close(softmax_ce_gradient(z, y), loss.backward(cache), "dL/dz")


check(3, test_softmax_ce)


# %%
# 练习 4：提前停止恢复哪一轮、在哪一轮停下（都从 0 开始数）
def early_stopping(val_losses, patience):
    raise NotImplementedError  # 在这里写你的代码


# %%
class Weights:
    """只有权重的假模型：权重就是当前的轮次，这样恢复了哪一轮的权重一看便知。"""

    def __init__(self):
        self.epoch, self.stop_training = 0, False

    def get_weights(self):
        return [self.epoch]

    def set_weights(self, weights):
        self.epoch = weights[0]


def run_early_stopping(val_losses, patience):
    model, cb = Weights(), nn.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, v in enumerate(val_losses):
        model.epoch = epoch
        cb.on_epoch_end(epoch, {"val_loss": v})
        if model.stop_training:
            break
    cb.on_train_end()
    return model.epoch, cb.stopped_epoch_


def test_early_stopping():
    cases = [([0.9, 0.7, 0.8, 0.75, 0.72, 0.6], 1), ([0.9, 0.7, 0.8, 0.75, 0.72, 0.6], 3),
             ([1.0, 0.9, 0.8, 0.7], 0), ([0.5, 0.6, 0.7, 0.8, 0.9], 2)]
    for losses_, patience in cases:
        same(tuple(early_stopping(losses_, patience)), run_early_stopping(losses_, patience),
             f"验证损失 {losses_}、patience = {patience} 时的 (恢复的轮, 停下的轮)")


check(4, test_early_stopping)
