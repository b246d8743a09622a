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
# # 第 2 章练习的参考答案
#
# 每个单元格对应笔记本 `ch2_gradient_descent.py` 里的一道练习：把它粘贴到练习单元格里（或在笔记本末尾运行），
# 再运行检查单元格。先自己做，再来看！
#
# *English:* Reference solutions of chapter 2's exercises, one cell per exercise; try them yourself first.

# %%
# 练习 1：损失 L = 1/(2N)·Σ(a0 + a1·x − y)² 的梯度 (dL/da0, dL/da1)
def gradient(a0, a1, x, y):
    r = a0 + a1 * x - y                  # 每个样本的残差 F(x) − y
    return np.array([r.mean(), (r * x).mean()])


# %%
# 练习 2：一步梯度下降，返回新的 (a0, a1)
def gd_step(a0, a1, x, y, learning_rate):
    r = a0 + a1 * x - y
    return a0 - learning_rate * r.mean(), a1 - learning_rate * (r * x).mean()


# %%
# 练习 3：带动量的一步，返回 (w, v)
def momentum_step(w, v, grad, learning_rate, momentum):
    v = momentum * v + grad              # 速度：过去梯度的指数加权和
    return w - learning_rate * v, v


# %%
# 练习 4：Huber 损失 mean h(f − y) 对 f 的梯度
def huber_gradient(y, f, delta):
    r = f - y                            # |r| <= delta：r（平方部分的导数）；否则 ±delta（线性部分）
    return np.clip(r, -delta, delta) / r.size
