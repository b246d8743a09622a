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
# # 第 6 章练习的参考答案
#
# 每个单元格对应笔记本 `ch6_recognise_and_retrain.py` 里的一道练习。先自己做，再来看！
#
# *English:* Reference solutions of chapter 6's exercises, one cell per exercise.

# %%
# 练习 1：retrain.py 的稳定哈希划分
def which_set(file_name, validation_percentage, testing_percentage):
    import hashlib
    import re
    key = re.sub(r"_nohash_.*$", "", os.path.basename(file_name))      # 近似重复的照片分到同一组
    h = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16)
    p = (h % 2 ** 27) * 100.0 / (2 ** 27 - 1)
    if p < validation_percentage:
        return "validation"
    if p < validation_percentage + testing_percentage:
        return "testing"
    return "training"


# %%
# 练习 2：k/n 的 95% Wilson 区间
def wilson(k, n):
    z, p = 1.96, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# %%
# 练习 3：给重新训练的模型在留出的照片上打分，返回 (对的张数, 测试照片张数)
def held_out_score(model_path, folder, testing_percentage):
    from petnet.pets.dataset import which_set as petnet_which_set
    photos = [p for p in sorted(Path(folder).glob("*/*"))
              if petnet_which_set(p.name, 0, testing_percentage) == "testing"]
    answers = Recognizer(model_path).predict(photos)
    right = sum(a.top[0].label == p.parent.name for a, p in zip(answers, photos))
    return right, len(photos)


# %%
# 练习 4：新的最后一层：softmax(features @ W + b)
def last_layer(features, W, b):
    z = features @ W + b
    z = z - z.max(axis=1, keepdims=True)             # 减去每行的最大值：exp 不会溢出，结果不变
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
