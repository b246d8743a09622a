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
# # 第 4 章练习的参考答案
#
# 每个单元格对应笔记本 `ch4_backpropagation.py` 里的一道练习。先自己做，再来看！
#
# *English:* Reference solutions of chapter 4's exercises, one cell per exercise.

# %%
# 练习 1：a = sigmoid(x @ W + b) 的反向传播，返回 (dx, dW, db)
def dense_backward(x, W, b, dy):
    a = 1 / (1 + np.exp(-(x @ W + b)))
    dz = dy * a * (1 - a)                  # 链式法则：乘以 sigmoid 的斜率
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


# %%
# 练习 2：三层 sigmoid 网络的局部梯度 (d1, d2, d3)
def local_gradients(x, t, w, b):
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))
    y1 = sigmoid(w[0] * x + b[0])          # 前向
    y2 = sigmoid(w[1] * y1 + b[1])
    y3 = sigmoid(w[2] * y2 + b[2])
    d3 = (y3 - t) * y3 * (1 - y3)          # 反向：f'(z) = Y (1 − Y)
    d2 = d3 * w[2] * y2 * (1 - y2)
    d1 = d2 * w[1] * y1 * (1 - y1)
    return d1, d2, d3


# %%
# 练习 3：softmax 交叉熵对 logits 的梯度
def softmax_ce_gradient(z, y):
    p = np.exp(z - z.max(axis=1, keepdims=True))     # 先减去最大值，exp 不会溢出
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[y]
    return (p - onehot) / len(z)


# %%
# 练习 4：提前停止恢复哪一轮、在哪一轮停下（都从 0 开始数）
def early_stopping(val_losses, patience):
    best, best_epoch, wait = float("inf"), None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait > patience:            # 连续 patience 轮没有进步之后的那一轮停下
                return best_epoch, epoch
    return best_epoch, None
