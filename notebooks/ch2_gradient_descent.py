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
# # 第 2 章：用梯度下降拟合房价
#
# 这是分享第 2 章（梯度下降介绍）的动手版，用的是 petnet 的 Python 接口：用梯度下降把
# `price = a0 + a1 · area` 拟合到房屋成交数据上；比较几种修补梯度下降缺陷的优化器；看局部最优、
# 损失函数一览、梯度构成的向量场；最后真的跑一遍分享里给出的设置（学习率 0.01、1000 次迭代、
# 容差 1e-4、k = 100），看看会发生什么。
#
# 分享（或 petnet 的 README）里说到的每个数字都在某个单元格里用 `assert` 检查，所以这个笔记本本身也是测试
# （`tests/test_notebooks.py` 会运行它）。`PETNET_FAST=1` 只会把图画得小一些。最后是练习：你自己写代码，
# 检查单元格会用中文告诉你对不对。
#
# *English:* Chapter 2 of the talk on petnet's API: fit house prices by gradient descent, compare the
# optimizers, the local minimum, the losses, the gradient field and the talk's own settings. Every number
# is asserted; the exercises at the end are checked against petnet.

# %%
import os
import warnings

import numpy as np
from IPython.display import Image, display

from petnet import optim
from petnet.exercises import check, close
from petnet.gd import LinearRegressionGD, compare, example_path, load_xy, losses, surface
from petnet.gd.field import ScaledLoss, gradient_field, plot_gradient_field
from petnet.gd.plots import plot_contour_path, plot_fit, plot_loss_curves, plot_losses, plot_surface_paths
from petnet.gd.talk_settings import plot_talk_settings, talk_settings

FAST = os.environ.get("PETNET_FAST") == "1"

# %% [markdown]
# ## 1. 房子和拟合出的直线（2.2.1–2.2.3）
#
# 16 套波特兰的房子：面积（平方英尺，x）和价格（美元，y）。分享里的模型是直线 `F(x) = a0 + a1·x`，
# 损失函数是 `MSE/2`，梯度下降从 `a0 = a1 = 1` 出发。
#
# *English:* 16 Portland houses, area (x) and price (y); the model is the line a0 + a1·x, the loss MSE/2,
# and gradient descent starts from a0 = a1 = 1.

# %%
X, y, names = load_xy(example_path(), "size_sqft", "price_usd")
print(X.shape, y[:3])
model = LinearRegressionGD(learning_rate=0.5).fit(X, y)
print(f"a0 = {model.intercept_:.1f}, a1 = {model.coef_[0]:.3f} dollars/sqft, {model.n_iter_} iterations")
assert model.n_iter_ == 26 and round(model.coef_[0], 3) == 155.318

# %%
display(Image(plot_fit(X, y, model, out="fit.png", names=names, target="price_usd")))

# %% [markdown]
# 答案就是最小二乘直线，NumPy 可以用闭式解直接算出来：梯度下降必须落在它上面。
#
# *English:* The answer is the least-squares line, which NumPy solves in closed form; gradient descent
# must land on it.

# %%
A = np.column_stack([np.ones(len(y)), X])
lstsq = np.linalg.lstsq(A, y, rcond=None)[0]
print(lstsq)
np.testing.assert_allclose([model.intercept_, model.coef_[0]], lstsq, rtol=1e-4)

# %% [markdown]
# ## 2. 各种优化器（2.2.5：“太慢”以及怎么改进）
#
# 动量法（Momentum）、Nesterov、AdaGrad、RMSProp 和 Adam 改变的是“每一步怎么走”。它们都到达同一条最小二乘直线，
# 下表给出各自用了多少次迭代。
#
# *English:* Momentum, Nesterov, AdaGrad, RMSProp and Adam change how each step is made; all reach the
# least-squares line, the table says how fast.

# %%
result = compare(X, y, feature_names=names, target="price_usd")
for row in result.table():
    print(f"{row['optimizer']:<10} {row['n_iter']:>5} iterations, error vs lstsq {row['error']:.1e}")
assert all(run.converged and run.error < 1e-4 for run in result.runs.values())

# %%
display(Image(plot_loss_curves(result, out="loss.png")))
display(Image(plot_contour_path(result, out="path.png")))

# %% [markdown]
# ## 3. 局部最优（2.2.5：“局部最优”）
#
# 在 `f(x, y) = x⁴ − 2x² + 0.4x + y²/2` 上，普通梯度下降滚进了离得近、但更差的那个极小值；
# 动量法带着“惯性”越过山脊，到达全局最小值。
#
# *English:* On this surface plain gradient descent rolls into the nearer, worse minimum; momentum carries
# over the ridge into the global one.

# %%
paths = surface(n_steps=500)
for name, run in paths.runs.items():
    print(f"{name:<10} ends at {run.end.round(3)} in the {run.reached} minimum")
assert paths.runs["momentum"].reached == "global" and paths.runs["gd"].reached == "local"
display(Image(plot_surface_paths(paths, out="surface.png")))

# %% [markdown]
# ## 4. 损失函数一览（2.2.2）
#
# 分享列出了八种损失函数。下面是每一种在一个样本上的值和梯度：
#
# *English:* The talk lists eight losses; here is each one's value and gradient for one sample.

# %%
for row in losses.catalogue():
    print(f"{row.kind:<12} {row.name:<14} {row.formula}")
display(Image(plot_losses(out="losses.png")))

# %% [markdown]
# 为什么不一直用 MSE？假如有一套房子被录成了 500 万美元（录入错误），最小二乘的斜率就变成了负数；
# Huber 损失在误差很大时只按线性增长，这个离群点就拉不动它。
#
# *English:* One house entered at 5 million dollars turns the least-squares slope negative; the Huber loss
# grows only linearly for big errors and shrugs the outlier off.

# %%
X2, y2 = np.r_[X, [[1500.0]]], np.r_[y, 5_000_000.0]
mse = LinearRegressionGD().fit(X2, y2)
huber = LinearRegressionGD(loss=losses.Huber(delta=50_000), max_iter=50_000).fit(X2, y2)
print(f"MSE slope {mse.coef_[0]:.1f}, Huber slope {huber.coef_[0]:.1f} dollars per sqft")
assert mse.coef_[0] < 0 < huber.coef_[0]

# %% [markdown]
# ## 5. 梯度是一个向量场（2.1.1）
#
# “梯度是一个向量……沿着它的反方向一小步一小步地走。”下图画出 (a0, a1) 平面上每一点的 `−∇L`
# （面积和价格都已标准化），上面叠着梯度下降走过的路径。只有一个标准化特征时，Hessian 矩阵 `AᵀA/N`
# 就是单位矩阵：每个箭头都笔直指向最小值，每走一步，到最小值的距离恰好缩小为原来的 `1 − lr` 倍。
#
# *English:* The field of −∇L over the (a0, a1) plane with the descent path; with one standardised
# feature every arrow points at the minimum and each step shrinks the distance by exactly 1 − lr.

# %%
field = gradient_field(learning_rate=0.1, n_steps=30, grid=11 if FAST else 15)
print("minimum (a0, a1):", field.minimum.round(4), " shrink factor per step:", round(field.contraction, 6))
assert abs(field.contraction - 0.9) < 1e-9
display(Image(plot_gradient_field(field, out="field.png")))

# %% [markdown]
# 用梯度的定义（中心差分）检查其中一个箭头：
#
# *English:* Check one arrow against the definition of the gradient (a central difference).

# %%
f, (a0, a1), h = field.loss_function, field.path[0], 1e-6
numeric = [(f(a0 + h, a1) - f(a0 - h, a1)) / (2 * h), (f(a0, a1 + h) - f(a0, a1 - h)) / (2 * h)]
print(f.gradient(a0, a1), numeric)
np.testing.assert_allclose(f.gradient(a0, a1), numeric, rtol=1e-6)

# %% [markdown]
# ## 6. 分享自己的设置（2.2.3–2.2.4）
#
# 伪代码里设置了 `learning_rate = 0.01`、`max_iterations = 1000`、`tolerance = 0.0001`；2.2.3 说
# “从 a0 = a1 = 1 开始，迭代 k = 100 次直到收敛，否则就是失败”——所以 k 就是同一个循环的迭代次数上限。
# 分享从来没有真的运行这些设置。我们来运行：一次在原始数据上（分享的代码会得到的结果），一次在标准化的数据上。
#
# *English:* The talk's pseudo-code settings (lr 0.01, 1000 iterations, tolerance 1e-4, k = 100), never
# run in the talk, run here on the raw table and on standardised data.

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
# **为什么。** 每走一步，沿 `AᵀA/N` 的一个特征向量方向的误差都要乘以 `1 − lr·λ`。在原始数据上
# `λmax ≈ mean(area²) ≈ 4.66·10⁶`，所以 `lr·λmax ≈ 46565 > 2`：每一步误差放大约 46564 倍，损失放大它的平方，
# 约 2.2·10⁹ 倍，直到溢出。在标准化的数据上 `λ = 1`，误差每步缩小为 0.99 倍——多出来的损失每步缩小为 0.98 倍——
# 从约 6·10¹⁰ 美元² 开始，要走 1503 步，损失每步的变化才小于 10⁻⁴ 美元²。100 步之后损失仍是最小值的 10 倍；
# 1000 步之后直线已经准确到 4 位有效数字，但停止条件还没有触发。
#
# *English:* Each step multiplies the error along an eigenvector by 1 − lr·λ: on raw data that is about
# −46564 (divergence); on standardised data 0.99, so the stop rule fires only after 1503 steps.

# %% [markdown]
# ## 小结
#
# * 梯度下降每一步沿负梯度方向走 `learning_rate` 倍的梯度；对线性回归，它收敛到最小二乘的闭式解。
# * 学习率有上限 `2/λmax`：原始数据的 `λmax` 很大，所以要先把特征标准化。
# * 动量法等优化器改变的是每一步怎么走；动量还能越过局部最优。
# * MSE 对离群点很敏感，Huber 损失对大误差只线性增长。
#
# *English:* Gradient descent steps against the gradient and reaches the least-squares line; the learning
# rate must stay below 2/λmax (hence scaling); optimizers change the step; Huber resists outliers.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里把函数写完（删掉 `raise NotImplementedError`），再运行下面的检查单元格：
# 它会拿你的结果和 petnet 自己的实现比较，并用中文告诉你对不对。还没做的题会显示“还没做”，笔记本照样能运行到底。
# 参考答案在 `notebooks/solutions/ch2_gradient_descent.py`。
#
# 1. **梯度。** 写出 `gradient(a0, a1, x, y)`：损失 `L = 1/(2N)·Σ(a0 + a1·xᵢ − yᵢ)²` 对 `a0` 和 `a1` 的偏导数。
# 2. **一步梯度下降。** 写出 `gd_step(a0, a1, x, y, learning_rate)`：从 `(a0, a1)` 走一步，返回新的 `(a0, a1)`。
#    检查单元格会和 `LinearRegressionGD(scale=False)` 走过的路径 `path_` 比较。
# 3. **带动量的一步。** 写出 `momentum_step(w, v, grad, learning_rate, momentum)`：先更新速度
#    `v ← momentum·v + grad`，再走 `w ← w − learning_rate·v`，返回 `(w, v)`。和 `petnet.optim.Momentum` 比较。
# 4. **Huber 的梯度。** 写出 `huber_gradient(y, f, delta)`：`mean h(f − y)` 对每个 `f` 的导数
#    （误差小于 `delta` 时是平方，超过时是线性）。和 `losses.Huber(delta).gradient` 比较。
#
# *English:* Fill in each function (remove the `raise NotImplementedError`), then run its checking cell:
# the MSE/2 gradient of the line, one gradient-descent step, one momentum step, the Huber gradient.
# Reference solutions: notebooks/solutions/.

# %%
# 练习 1：损失 L = 1/(2N)·Σ(a0 + a1·x − y)² 的梯度 (dL/da0, dL/da1)
def gradient(a0, a1, x, y):
    raise NotImplementedError  # 在这里写你的代码


# %%
rng = np.random.default_rng(1)
x_ex, y_ex = rng.normal(size=20), rng.normal(size=20)


def test_gradient():
    fx = ScaledLoss(x_ex[:, None], y_ex)      # petnet 的 MSE/2，数据 fx.z、fx.t 已标准化
    for a in [(1.0, 1.0), (0.3, -2.0)]:
        close(gradient(*a, fx.z, fx.t), fx.gradient(*a), "梯度 (dL/da0, dL/da1)")


check(1, test_gradient)


# %%
# 练习 2：一步梯度下降，返回新的 (a0, a1)
def gd_step(a0, a1, x, y, learning_rate):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_gd_step():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # 只走 3 步，当然没有收敛
        path = LinearRegressionGD(scale=False, learning_rate=0.1, max_iter=3).fit(x_ex[:, None], y_ex).path_
    a = (1.0, 1.0)
    for step in (1, 2, 3):
        a = gd_step(*a, x_ex, y_ex, 0.1)
        close(a, path[step], f"第 {step} 步之后的 (a0, a1)")


check(2, test_gd_step)


# %%
# 练习 3：带动量的一步，返回 (w, v)
def momentum_step(w, v, grad, learning_rate, momentum):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_momentum_step():
    def grad_of(w):                                        # 一个简单的碗：L = Σ (w − 3)² / 2
        return w - 3.0
    w_petnet = np.array([0.0, 10.0])
    opt = optim.Momentum(lr=0.1, momentum=0.9)
    w, v = w_petnet.copy(), np.zeros(2)
    for step in range(1, 6):
        g = grad_of(w_petnet)
        opt.step([w_petnet], [g])                           # petnet：原地更新
        w, v = momentum_step(w, v, grad_of(w), 0.1, 0.9)
        close(w, w_petnet, f"第 {step} 步之后的 w")


check(3, test_momentum_step)


# %%
# 练习 4：Huber 损失 mean h(f − y) 对 f 的梯度
def huber_gradient(y, f, delta):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_huber_gradient():
    f_ex = y_ex + rng.normal(0, 2, size=20)
    for delta in (0.5, 1.0, 5.0):
        close(huber_gradient(y_ex, f_ex, delta), losses.Huber(delta).gradient(y_ex, f_ex),
              f"delta = {delta} 时的梯度")


check(4, test_huber_gradient)
