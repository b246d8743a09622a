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
# 3. recognise with the new model;
# 4. ask whether a photo shows a cat or a dog at all (the talk's demo never does).
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
events = []                        # ProgressEvent(phase, step, total, message): the lines petnet retrain prints
result = retrain("my_pets", max_iter=100, eval_step_interval=50, validation_percentage=0,
                 testing_percentage=30, bottleneck_dir="bottlenecks", progress=events.append)
print("\n".join(e.message for e in events if e.message))
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
# ## 4. Is it a cat or a dog at all?
#
# A softmax over 3 (or 37) breeds always names one of them, even for a cup of coffee. The backbone
# still has its own 1000-way ImageNet output, which knows 118 dog breeds and 5 kinds of cat.
# petnet's **pet score** is the ImageNet probability of all cat and dog classes (plus the dingo,
# minus the teddy bear), taken in the view of the photo that shows the most pet; below
# `min_pet_score` (0.35) the photo is "not a cat or dog" and petnet says what it looks like instead.
# A pet whose best breed is below `min_breed_score` (0.6) is **unsure**. scikit-image ships a cup
# of coffee and a tabby cat (a tabby is not one of the 37 breeds):

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
assert cat.is_pet and cat.species == "cat" and cat.unsure          # a cat, but no breed fits well
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
# ## Exercises
#
# 1. The new model knows only 3 breeds. What does it answer for a Siamese cat
#    (`examples/Siamese_109.jpg`)?
# 2. Which backbones can `retrain` use, and what image size does each one expect?

# %% [markdown]
# <details><summary>Answer 1</summary>
#
# One of its 3 breeds — a softmax always spreads 100 % over the classes it knows, so the breed
# layer alone cannot say "none of these". The photo is still a cat (`is_pet`, `species`: the
# ImageNet output and petnet's species head do not depend on your classes), and a weak best breed
# or a breed of the other species makes the answer `unsure`. The embedded 37-breed model knows
# Siamese cats.
# </details>

# %%
# answer 1
siamese = ROOT / "examples" / "Siamese_109.jpg"
new, old = mine.predict([siamese])[0], rec.predict([siamese])[0]
print(new.top[0], "| unsure:", new.unsure, "| species:", new.species, "|", old.top[0])
assert new.top[0].label in ("Persian", "pug", "samoyed") and old.top[0].label == "Siamese"
assert new.is_pet and new.species == "cat"
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
