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
# # 第 5 章练习的参考答案
#
# 每个单元格对应笔记本 `ch5_vgg.py` 里的一道练习。先自己做，再来看！
#
# *English:* Reference solutions of chapter 5's exercises, one cell per exercise.

# %%
# 练习 1：一个 VGG 配置的参数个数（卷积层 + 三个全连接层）
def vgg_params(config, side=224, channels=3, classes=1000):
    total, c_in = 0, channels
    for layer in config:
        if layer == "M":
            side //= 2                              # 池化：尺寸减半，没有参数
        else:
            total += 3 * 3 * c_in * layer + layer   # 权重 + 偏置
            c_in = layer
    n_in = side * side * c_in                       # 展平之后的长度
    for units in (4096, 4096, classes):
        total += n_in * units + units
        n_in = units
    return total


# %%
# 练习 2：每个卷积层的乘加次数
def conv_macs(config, side=224, channels=3):
    macs, c_in = [], channels
    for layer in config:
        if layer == "M":
            side //= 2
        else:
            macs.append(side * side * 3 * 3 * c_in * layer)   # 每个输出位置：3·3·c_in 次乘加，共 layer 个通道
            c_in = layer
    return macs


# %%
# 练习 3：每个卷积层和池化层之后的感受野
def receptive_fields(config):
    rf, stride, out = 1, 1, []
    for layer in config:
        if layer == "M":
            rf += 1 * stride                        # 2×2 池化：核大小 2，多看 (2 − 1)·stride
            stride *= 2
        else:
            rf += 2 * stride                        # 3×3 卷积：多看 (3 − 1)·stride
        out.append(rf)
    return out
