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
# # Chapter 6 — recognise and retrain your pets
#
# The talk ends with a demo: TensorFlow's `retrain.py` puts a new last layer on a pretrained network
# (Inception V3), trains only that layer on a folder of pet photos, and a short script prints the
# top 3 breeds of every test photo with Chinese names. petnet does the same offline with an
# EfficientNet-Lite backbone:
#
# 1. recognise photos with the embedded 37-breed model (`Recognizer().predict`);
# 2. retrain the last layer on a tiny folder of your own pets (3 breeds, 6 photos each);
# 3. recognise with the new model.
#
# The retraining photos come from the shared data set (`../shared/data/pets/train`).

# %%
# needs: pets/train
import shutil
from pathlib import Path

import numpy as np
from IPython.display import Image as Show, display
from PIL import Image

from petnet.paths import ROOT, shared_data
from petnet.pets import BACKBONES, Recognizer, retrain
from petnet.plotting import finish, pyplot

# %% [markdown]
# ## 1. Recognise
#
# A photo can be given as a path, a PIL image, a NumPy array or the bytes of a file. Load two of
# the bundled example photos as PIL images and look at them:

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
# `Recognizer()` is the embedded model: a backbone pretrained on ImageNet plus a softmax layer
# retrained on 37 breeds. The first `predict` loads the network (a few seconds), later ones are fast.
# Each prediction has the top 3 guesses: the label, the Chinese name, and the probability.

# %%
rec = Recognizer()
preds = rec.predict([persian, pug])
for p in preds:
    print(p.source)
    for g in p.top:
        print(f"   {g.name} ({g.label}): {g.score:.5f}")
assert [p.top[0].label for p in preds] == ["Persian", "pug"]
assert round(preds[1].top[0].score, 5) == 0.99937           # the README's `petnet predict examples/`

# %% [markdown]
# The same photo as a NumPy array (height × width × 3 colours, 0–255) gives the same answer;
# something that is not a photo gives an error in the result instead of stopping the batch.

# %%
array = np.asarray(persian)
print(array.shape, array.dtype)
again, broken = rec.predict([array, b"not a photo"])
print(again.top[0], "|", broken.error)
assert abs(again.top[0].score - preds[0].top[0].score) < 1e-6 and broken.top == []

# %% [markdown]
# ## 2. Retrain on your own pets
#
# `retrain` wants one sub-folder per class. We make a tiny one: 6 photos each of 3 breeds.

# %%
for breed in ("Persian", "pug", "samoyed"):
    (Path("my_pets") / breed).mkdir(parents=True, exist_ok=True)
    for photo in sorted((shared_data("pets", "train") / breed).glob("*.jpg"))[:6]:
        shutil.copy(photo, Path("my_pets") / breed / photo.name)
print(sorted(str(p) for p in Path("my_pets").glob("*/*"))[:4], "...")

# %% [markdown]
# The backbone turns every photo into 1280 numbers (the "bottleneck", cached on disk); only the last
# layer — 1280 × 3 weights and 3 biases — is trained, by gradient descent (Adam) on the softmax
# cross-entropy. 30 % of the photos are held out for testing, chosen by a stable hash of the file
# names, as `retrain.py` does.

# %%
lines = []
result = retrain("my_pets", max_iter=100, eval_step_interval=50, validation_percentage=0,
                 testing_percentage=30, bottleneck_dir="bottlenecks", log=lines.append)
print("\n".join(lines))
print(result.labels, "test accuracy", result.metrics["test_accuracy"], "on", result.metrics["test_n"], "photos")
assert result.labels == ["Persian", "pug", "samoyed"] and result.metrics["test_accuracy"] == 1.0

# %% [markdown]
# ## 3. Recognise with the new model
#
# Save the model (a `.npz` file and the labels), load it into a new `Recognizer`, give Chinese names
# for the classes you want, and predict.

# %%
result.save("model/pets.npz", "model/labels.txt")
mine = Recognizer("model/pets.npz", top=2, names={"pug": "巴哥犬", "Persian": "波斯猫", "samoyed": "萨摩耶犬"})
samoyed = Image.open(ROOT / "examples" / "samoyed_11.jpg")
for p in mine.predict([persian, pug, samoyed]):
    print([(g.name, round(g.score, 3)) for g in p.top])
assert [p.top[0].label for p in mine.predict([persian, pug, samoyed])] == ["Persian", "pug", "samoyed"]

# %% [markdown]
# ## Exercises
#
# 1. The new model knows only 3 breeds. What does it answer for a Siamese cat
#    (`examples/Siamese_109.jpg`)?
# 2. Which backbones can `retrain` use, and what image size does each one expect?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# One of its 3 breeds — a softmax always spreads 100 % over the classes it knows, so a model
# trained on 3 breeds cannot say "none of these". The embedded 37-breed model knows Siamese cats.
# </details>

# %%
# answer 1
siamese = ROOT / "examples" / "Siamese_109.jpg"
new, old = mine.predict([siamese])[0], rec.predict([siamese])[0]
print(new.top[0], "|", old.top[0])
assert new.top[0].label in ("Persian", "pug", "samoyed") and old.top[0].label == "Siamese"
all3 = Recognizer("model/pets.npz", top=3).predict([siamese])[0]
print("the 3 probabilities sum to", round(sum(g.score for g in all3.top), 6))
assert abs(sum(g.score for g in all3.top) - 1.0) < 1e-5

# %% [markdown]
# <details><summary>Answer 2</summary>
#
# The registry `BACKBONES` lists them: EfficientNet-Lite0, Lite1 and Lite2, larger ones taking
# larger images (224, 240 and 260 pixels).
# </details>

# %%
# answer 2
sizes = {name: BACKBONES.get(name).image_size for name in BACKBONES.names()}
print(sizes)
assert sizes == {"lite0": 224, "lite1": 240, "lite2": 260}
