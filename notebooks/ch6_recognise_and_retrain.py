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
# # 第 6 章：识别和重新训练你的宠物
#
# 分享最后是一个演示：TensorFlow 的 `retrain.py` 在一个预训练好的网络（Inception V3）上换一个新的最后一层，只在
# 一个宠物照片文件夹上训练这一层，然后一段短短的脚本给每张测试照片打印最可能的 3 个品种和中文名。petnet 用
# EfficientNet-Lite 作骨干网络，离线地做同样的事：
#
# 1. 用内置的 37 个品种的模型识别照片（`Recognizer().predict`）；
# 2. 在你自己的一个小文件夹上重新训练最后一层（3 个品种，每个 6 张照片）；
# 3. 用新模型识别；
# 4. 先问一张照片里到底是不是猫或狗（分享的演示从来不问）；
# 5. 给这种做法一个名字——**迁移学习**——并且量一量：同样的照片，从零训练一个 CNN 会怎样？
#
# 重新训练用的照片来自共享数据集（`../shared/data/pets/train`）。
#
# *English:* Chapter 6: recognise pets with the embedded model, retrain the last layer on three breeds of
# your own, recognise with it, ask "cat or dog at all?", and measure transfer learning against a CNN
# trained from scratch on the same photos.

# %%
# needs: pets/train
import os
import shutil
from pathlib import Path

import numpy as np
from IPython.display import Image as Show, display
from PIL import Image

from petnet.exercises import check, close, same
from petnet.paths import ROOT, shared_data
from petnet.pets import BACKBONES, Recognizer, retrain
from petnet.plotting import finish, pyplot

FAST = os.environ.get("PETNET_FAST") == "1"

# %% [markdown]
# ## 1. 识别
#
# 一张照片可以是路径、PIL 图像、NumPy 数组或文件的字节。先把两张自带的示例照片读成 PIL 图像看一看：
#
# *English:* A photo can be a path, a PIL image, a NumPy array or a file's bytes; load two example photos.

# %%
persian = Image.open(ROOT / "examples" / "Persian_143.jpg")
pug = Image.open(ROOT / "examples" / "pug_168.jpg")
print(persian.size, persian.mode, pug.size)

plt = pyplot()
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
for ax, img in zip(axes, (persian, pug)):
    ax.imshow(img)
    ax.axis("off")
display(Show(finish(fig, "photos.png")))

# %% [markdown]
# `Recognizer()` 就是内置模型：一个在 ImageNet 上预训练的骨干网络，加上一个在 37 个品种上重新训练的 softmax 层。
# 第一次 `predict` 要加载网络（几秒钟），之后就快了。每个预测给出最可能的 3 个猜测：标签、中文名和概率。
#
# *English:* Recognizer() is the embedded model: an ImageNet backbone plus a softmax layer retrained on 37
# breeds; each prediction has the top 3 guesses.

# %%
rec = Recognizer()
preds = rec.predict([persian, pug])
for p in preds:
    print(p.source)
    for g in p.top:
        print(f"   {g.name} ({g.label}): {g.score:.5f}")
assert [p.top[0].label for p in preds] == ["Persian", "pug"]
assert round(preds[1].top[0].score, 5) == 0.99937           # README 里 `petnet predict examples/` 的数字

# %% [markdown]
# 同一张照片换成 NumPy 数组（高 × 宽 × 3 个颜色，0–255）答案相同；不是照片的东西会在结果里得到一个错误，
# 而不会让整批停下来。
#
# *English:* The same photo as an array gives the same answer; something that is not a photo gives an
# error in its result instead of stopping the batch.

# %%
array = np.asarray(persian)
print(array.shape, array.dtype)
again, broken = rec.predict([array, b"not a photo"])
print(again.top[0], "|", broken.error)
assert abs(again.top[0].score - preds[0].top[0].score) < 1e-6 and broken.top == []

# %% [markdown]
# ## 2. 在你自己的宠物上重新训练
#
# `retrain` 需要每个类别一个子文件夹。我们做一个很小的：3 个品种，每个 6 张照片。
#
# *English:* retrain wants one sub-folder per class; we make a tiny one, 3 breeds of 6 photos each.

# %%
for breed in ("Persian", "pug", "samoyed"):
    (Path("my_pets") / breed).mkdir(parents=True, exist_ok=True)
    for photo in sorted((shared_data("pets", "train") / breed).glob("*.jpg"))[:6]:
        shutil.copy(photo, Path("my_pets") / breed / photo.name)
print(sorted(str(p) for p in Path("my_pets").glob("*/*"))[:4], "...")

# %% [markdown]
# 骨干网络把每张照片变成 1280 个数（“瓶颈”特征，缓存在磁盘上）；只有最后一层——1280 × 3 个权重和 3 个偏置——
# 用梯度下降（Adam）在 softmax 交叉熵上训练。30% 的照片按文件名的稳定哈希留出来做测试，和 `retrain.py` 的做法一样。
#
# *English:* The backbone turns each photo into 1280 cached features; only the last layer (1280 × 3
# weights, 3 biases) is trained; 30% of the photos are held out by a stable hash of the file names.

# %%
events = []                        # ProgressEvent(phase, step, total, message)：petnet retrain 打印的那些行
result = retrain("my_pets", max_iter=100, eval_step_interval=50, validation_percentage=0,
                 testing_percentage=30, bottleneck_dir="bottlenecks", progress=events.append)
print("\n".join(e.message for e in events if e.message))
print(result.labels, "test accuracy", result.metrics["test_accuracy"], "on", result.metrics["test_n"], "photos")
assert result.labels == ["Persian", "pug", "samoyed"] and result.metrics["test_accuracy"] == 1.0

# %% [markdown]
# ## 3. 用新模型识别
#
# 保存模型（一个 `.npz` 文件和标签文件），把它加载进一个新的 `Recognizer`，给想要的类别起中文名，然后预测。
#
# *English:* Save the model, load it into a new Recognizer with Chinese names, and predict.

# %%
result.save("model/pets.npz", "model/labels.txt")
mine = Recognizer("model/pets.npz", top=2, names={"pug": "巴哥犬", "Persian": "波斯猫", "samoyed": "萨摩耶犬"})
samoyed = Image.open(ROOT / "examples" / "samoyed_11.jpg")
for p in mine.predict([persian, pug, samoyed]):
    print([(g.name, round(g.score, 3)) for g in p.top])
assert [p.top[0].label for p in mine.predict([persian, pug, samoyed])] == ["Persian", "pug", "samoyed"]

# %% [markdown]
# 新模型只认识 3 个品种。给它一只暹罗猫，它会回答什么？它 3 个品种中的一个——softmax 总是把 100% 分给它认识的
# 类别，所以品种层自己说不出“都不是”。这张照片仍然被认出是猫（`is_pet`、`species`：ImageNet 的输出和 petnet 的
# 物种判断与你的类别无关），而最好的品种分数不高、或者品种属于另一个物种时，答案会标成“拿不准”（`unsure`）。
# 内置的 37 个品种的模型认识暹罗猫。
#
# *English:* The 3-breed model must answer one of its breeds for a Siamese cat (a softmax spreads 100%
# over what it knows); the photo is still a cat, and a weak best breed makes the answer unsure.

# %%
siamese = ROOT / "examples" / "Siamese_109.jpg"
new, old = mine.predict([siamese])[0], rec.predict([siamese])[0]
print(new.top[0], "| unsure:", new.unsure, "| species:", new.species, "|", old.top[0])
assert new.top[0].label in ("Persian", "pug", "samoyed") and old.top[0].label == "Siamese"
assert new.is_pet and new.species == "cat"
all3 = Recognizer("model/pets.npz", top=3).predict([siamese])[0]
print("the 3 probabilities sum to", round(sum(g.score for g in all3.top), 6))
assert abs(sum(g.score for g in all3.top) - 1.0) < 1e-5

# %% [markdown]
# `retrain` 能用哪些骨干网络？注册表 `BACKBONES` 列出了它们：EfficientNet-Lite0、Lite1 和 Lite2，越大的网络
# 要的图像越大（224、240 和 260 像素）。
#
# *English:* The registry BACKBONES lists EfficientNet-Lite0, Lite1 and Lite2, taking 224, 240 and 260
# pixels.

# %%
sizes = {name: BACKBONES.get(name).image_size for name in BACKBONES.names()}
print(sizes)
assert sizes == {"lite0": 224, "lite1": 240, "lite2": 260}

# %% [markdown]
# ## 4. 到底是不是猫或狗？
#
# 在 3 个（或 37 个）品种上做的 softmax 总会说出其中一个，哪怕照片里是一杯咖啡。骨干网络还保留着它自己的
# 1000 类 ImageNet 输出，里面有 118 种狗和 5 种猫。petnet 的**宠物分数**就是 ImageNet 所有猫类和狗类的概率之和
# （加上澳洲野狗，减去泰迪熊），取最像宠物的那个视图；低于 `min_pet_score`（0.35）时，这张照片就“不像猫或狗”，
# petnet 会说它更像什么。一只宠物的最好品种分数低于 `min_breed_score`（0.6）时，答案是**拿不准**。scikit-image
# 自带一张咖啡和一张虎斑猫的照片（虎斑猫不在 37 个品种里）：
#
# *English:* The backbone's own ImageNet output gives the pet score (cat and dog probability); below 0.35
# the photo is not a pet, and a weak best breed is unsure. Try a cup of coffee and a tabby cat.

# %%
from skimage import data

coffee, tabby = data.coffee(), data.chelsea()
answers = rec.predict([coffee, tabby, pug])
for name, p in zip(("coffee", "tabby", "pug"), answers):
    print(f"{name:6s} is_pet={p.is_pet!s:5s} pet_score={p.pet_score:.3f} species={p.species} "
          f"unsure={p.unsure}  looks like: {p.imagenet_top.label} ({p.imagenet_top.score:.2f}); "
          f"best breed {p.top[0].label} {p.top[0].score:.2f}")
cup, cat, dog = answers
assert not cup.is_pet and cup.species is None and cup.imagenet_top.label == "espresso"
assert cat.is_pet and cat.species == "cat" and cat.unsure          # 是猫，但没有哪个品种很合适
assert dog.is_pet and dog.species == "dog" and not dog.unsure

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, img, p in zip(axes, (coffee, tabby, pug), answers):
    ax.imshow(img)
    ax.axis("off")
    verdict = ("not a cat or dog" if not p.is_pet else
               f"{p.species}, {'unsure' if p.unsure else 'sure'}: {p.top[0].label}")
    ax.set_title(f"{verdict}\npet score {p.pet_score:.2f}", fontsize=9)
display(Show(finish(fig, "open_world.png")))

# %% [markdown]
# ## 5. 迁移学习：同样的照片，从零训练和借用 ImageNet
#
# 分享最后一章做的事有一个它没说出来的名字：**迁移学习**（transfer learning）——把一个网络在一个任务上学到的东西
# （ImageNet：1000 类、128 万张照片）拿到另一个照片很少的任务上。借用预训练网络有两种做法：
#
# * **特征提取**（feature extraction）：预训练的各层**冻结**不动，每张照片只过一遍网络，得到的 1280 个特征存进缓存，
#   只训练新的最后一层。这就是 `retrain.py` 和 `petnet retrain` 的做法：几秒钟训练完，要学的权重很少。
# * **微调**（fine-tuning）：从预训练的权重出发，和新的最后一层一起继续训练部分或全部层（学习率要小）。每一步都要
#   在网络里前向再反向走一遍，什么都不能缓存；照片少时多出来的自由度容易过拟合。petnet 不提供微调
#   （docs/pets.md 里测过：微调最后两个块反而比冻结特征差）。
#
# 那为什么不干脆在宠物照片上从零训练一个 CNN？`petnet.pets.transfer.compare` 在同样的训练照片上训练两个模型——
# 用 `petnet.nn` 从零训练的小 CNN，和冻结的 EfficientNet-Lite2 特征上的 softmax 层——再在同样的留出照片上
# 给它们和“永远回答最多的那一类”的基线打分。命令行是 `petnet transfer`。
#
# *English:* Transfer learning reuses what a network learnt on ImageNet: feature extraction (frozen
# layers, a new last layer — what retrain does) or fine-tuning (training the pretrained layers too). Here
# a CNN trained from scratch and the retrained last layer learn from the same photos and are scored on
# the same held-out photos.

# %%
from petnet.pets.transfer import compare

if FAST:     # 测试时：只做猫狗任务，32×32 像素，训练 8 轮（几秒钟）
    tl = compare(shared_data("pets", "train"), tasks=("species",), image_size=32, epochs=8)
else:        # 和 docs/pets.md 里 `petnet transfer` 的设置相同（1–3 分钟）
    tl = compare(shared_data("pets", "train"))
print(tl.text())
for t in tl.tasks:
    assert t.transfer.accuracy.n == t.scratch.accuracy.n == t.baseline.accuracy.n    # 同样的测试照片
    scratch_best = max(t.scratch.accuracy.value, t.scratch_last.accuracy.value)
    assert t.transfer.accuracy.value > scratch_best + 0.3                            # 差距很大
assert tl.task("species").transfer.accuracy.value > 0.95

# %%
from petnet.stats import wilson_interval

fig, axes = plt.subplots(1, len(tl.tasks), figsize=(5.5 * len(tl.tasks), 3.4), squeeze=False)
for ax, t in zip(axes[0], tl.tasks):
    labels = ["majority class", "from scratch\n(early stopping)", f"from scratch\n(all epochs)", "transfer\nlearning"]
    values = [100 * a.accuracy.value for a in t.arms]
    lows, highs = zip(*(wilson_interval(a.accuracy.k, a.accuracy.n) for a in t.arms))
    err = [[v - 100 * lo for v, lo in zip(values, lows)], [100 * hi - v for v, hi in zip(values, highs)]]
    ax.bar(labels, values, yerr=err, capsize=4, color=["0.7", "tab:orange", "tab:orange", "tab:blue"])
    ax.set_ylim(0, 100)
    ax.set_ylabel("test accuracy (%), 95% interval")
    ax.set_title("37 breeds" if t.task == "classes" else "cat vs dog", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
display(Show(finish(fig, "transfer.png")))

# %% [markdown]
# 从零训练的 CNN 和基线差不多：几百张照片、每个品种几张，不够让随机初始化的网络学会“猫长什么样”，它只是记住了
# 训练照片；而冻结的特征早已从一百多万张照片里学会了边缘、纹理和形状，一个线性的 softmax 层就够了。
# 完整设置下的数字（37 个品种：从零训练 0.8% 和 4.8%，迁移学习 74.2%；猫狗：52.4% 和 58.1%，迁移学习 99.2%，
# 基线 56.5%）见 docs/pets.md 的“Transfer learning”一节。
#
# *English:* From scratch the CNN stays near the baseline — it memorises its few training photos — while
# the frozen ImageNet features need only a linear layer; full-setting numbers are in docs/pets.md.

# %% [markdown]
# ## 小结
#
# * 识别 = 预训练的骨干网络提取特征 + 一个 softmax 层；重新训练只训练这一层。
# * softmax 总会给出一个类别；“是不是宠物”和“拿不准”要靠 ImageNet 的输出和分数阈值来回答。
# * 这就是迁移学习（特征提取）：同样几百张照片，从零训练的 CNN 接近瞎猜，借用 ImageNet 特征的最后一层好得多。
# * 留出的测试照片按文件名的稳定哈希选出，准确率要带上照片数和 95% 区间。
#
# *English:* Recognition is pretrained features plus a softmax layer; retraining trains only that layer —
# transfer learning by feature extraction, far better than a CNN from scratch on a few hundred photos.

# %% [markdown]
# ## 练习
#
# 每道题先在“练习 N”单元格里写好函数（删掉 `raise NotImplementedError`），再运行下面的检查单元格，
# 它会拿你的结果和 petnet 的实现比较。参考答案在 `notebooks/solutions/ch6_recognise_and_retrain.py`。
#
# 1. **稳定的哈希划分。** `which_set(file_name, validation_percentage, testing_percentage)`：和 `retrain.py` 一样，
#    去掉 `_nohash_` 及其后面的部分，求文件名的 SHA-1，`p = (int(sha1) mod 2²⁷) · 100 / (2²⁷ − 1)`；
#    `p` 小于验证百分比时是 `"validation"`，小于两者之和时是 `"testing"`，否则是 `"training"`。
#    和 `petnet.pets.dataset.which_set` 在全部 362 张共享照片上比较。
# 2. **Wilson 区间。** `wilson(k, n)`：`n` 张照片里对了 `k` 张，准确率的 95% Wilson 区间 `(下限, 上限)`，z = 1.96。
#    和 `petnet.stats.wilson_interval` 比较。
# 3. **自己给留出的照片打分。** `held_out_score(model_path, folder, testing_percentage)`：找出 `folder` 里
#    按哈希划进测试集的照片（验证百分比为 0），用 `Recognizer(model_path)` 预测，数一数最好的猜测和照片所在的
#    文件夹名相同的有几张，返回 `(对的张数, 测试照片张数)`。和第 2 节 `retrain` 报告的测试准确率比较。
# 4. **新的最后一层。** `last_layer(features, W, b)`：`softmax(features @ W + b)`，每一行的和为 1；logits 很大时
#    也不能溢出。和 petnet 重新训练的那一层的预测函数比较。
#
# *English:* Write retrain.py's stable hash split, the Wilson interval, the score of a retrained model on its
# held-out photos, and the new last layer's softmax; each is checked against petnet.

# %%
from petnet.pets import dataset, head
from petnet.stats import wilson_interval

names = sorted(p.name for p in shared_data("pets", "train").glob("*/*.jpg")) + ["cat_nohash_1.jpg", "cat_nohash_2.jpg"]


# 练习 1：retrain.py 的稳定哈希划分
def which_set(file_name, validation_percentage, testing_percentage):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_which_set():
    for v, t in [(10, 10), (0, 30), (25, 5)]:
        mine = [which_set(n, v, t) for n in names]
        want = [dataset.which_set(n, v, t) for n in names]
        wrong = [n for n, a, b in zip(names, mine, want) if a != b]
        assert not wrong, f"验证 {v}%、测试 {t}% 时有 {len(wrong)} 个文件分错了，比如 {wrong[0]}"


check(1, test_which_set)


# %%
# 练习 2：k/n 的 95% Wilson 区间
def wilson(k, n):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_wilson():
    for k, n in [(92, 124), (123, 124), (0, 10), (10, 10), (6, 124)]:
        close(wilson(k, n), wilson_interval(k, n), f"{k}/{n} 的 Wilson 区间", rtol=1e-4)


check(2, test_wilson)


# %%
# 练习 3：给重新训练的模型在留出的照片上打分，返回 (对的张数, 测试照片张数)
def held_out_score(model_path, folder, testing_percentage):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_held_out_score():
    right, n = held_out_score("model/pets.npz", "my_pets", 30)
    same(n, result.metrics["test_n"], "测试照片的张数")
    same(right, round(result.metrics["test_accuracy"] * result.metrics["test_n"]), "答对的张数")


check(3, test_held_out_score)


# %%
# 练习 4：新的最后一层：softmax(features @ W + b)
def last_layer(features, W, b):
    raise NotImplementedError  # 在这里写你的代码


# %%
def test_last_layer():
    rng = np.random.default_rng(6)
    W, b = result.model.W, result.model.b
    features = rng.gamma(1.0, 1.0, size=(5, W.shape[0])).astype(np.float32)
    close(last_layer(features, W, b), head.predict_proba(W, b, features), "概率")
    huge = features * 1e4                                   # logits 很大：直接 exp 会溢出
    close(last_layer(huge, W, b), head.predict_proba(W, b, huge), "logits 很大时的概率")


check(4, test_last_layer)
