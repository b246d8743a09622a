"""Is there headroom above ``petnet retrain``'s accuracy on the shared pet photos? Three experiments.

They use the 5-fold stable-hash cross-validation of ``bench/pets_accuracy.py`` and center+flip
test-time averaging, so their top-1 can be compared with its table.

``--scaling``
    The head's input scaling, one scale for all features (retrain's default) against classic
    per-feature standardisation, for lite0/lite1/lite2 (cached bottlenecks, retrain's defaults,
    ``--flip_left_right``), each over 5 different fold assignments (salted file-name hashes) so
    that the comparison is paired and less noisy than one 5-fold split.

``--resolution 260,300,340``   (Lite2)
    Features at larger input sizes (same crop fraction, bicubic upscaling; "FixRes" says a
    network trained with random-resized crops often does better when tested above its
    training size), each followed by retrain's default head.

``--finetune``   (Lite2)
    Fine-tune the *last two MBConv blocks + the head conv* instead of only the last layer:
    activations before those blocks are cached for 8 views (center, flip, 4 corner crops,
    zoom, wide); in each fold the new softmax layer is first fitted on the frozen features
    (linear probe, "LP"), then blocks, head conv and softmax are trained together ("FT",
    Adam, lr 3e-5 for the blocks, BatchNorm frozen, one random view per photo per step).

    python bench/pets_headroom.py --scaling                            # about 3 min (cached features)
    python bench/pets_headroom.py --resolution 260,300,340 --finetune   # about 10 min on 2 cores
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petnet.paths import shared_data  # noqa: E402  (after the sys.path line)

ARCH = "lite2"
TRAIN_VIEWS = ("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br", "zoom", "wide")


def _images(image_dir):
    from petnet.pets.dataset import kfold_of, scan_image_dir
    from petnet.pets.images import load_image
    image_set = scan_image_dir(image_dir)
    paths, ys = image_set.samples()
    folds = np.array([kfold_of(Path(p).name, 5) for p in paths])
    return image_set, [load_image(p) for p in paths], np.array(ys), folds, paths


def _scores(P, y, cat):
    from petnet.pets.evaluation import topk_hits
    return (f"top-1 {100 * topk_hits(P, y, 1).mean():.1f}%  top-3 {100 * topk_hits(P, y, 3).mean():.1f}%  "
            f"cat-vs-dog {100 * (cat[P.argmax(1)] == cat[y]).mean():.1f}%")


def scaling(image_dir, archs=("lite0", "lite1", "lite2"), repeats=5, bottleneck_dir=None):
    """Paired comparison of the head's input scaling over ``repeats`` fold assignments."""
    import hashlib

    from petnet.pets.dataset import scan_image_dir
    from petnet.pets.evaluation import cross_validate, topk_hits
    from petnet.pets.head import default_head_kwargs
    from petnet.pets.retrain import load_features
    image_set = scan_image_dir(image_dir)
    K = len(image_set.labels)
    kw = default_head_kwargs()
    print("| backbone | scaling | top-1 for fold assignments 0..4 | mean top-1 | mean top-3 |")
    print("|---|---|---|---:|---:|")
    for arch in archs:
        feats, paths, y, *_ = load_features(image_set, arch, ("center", "flip"), bottleneck_dir)
        for how in ("global", "per_feature"):
            top1, top3 = [], []
            for salt in range(repeats):
                folds = np.array([int(hashlib.sha1(f"{salt}:{Path(p).name}".encode()).hexdigest(), 16) % 5
                                  for p in paths])
                P = cross_validate(feats, y, 5, paths, K, [0, 1], folds=folds, random_state=salt, scaling=how, **kw)
                top1.append(100 * topk_hits(P, y, 1).mean())
                top3.append(100 * topk_hits(P, y, 3).mean())
            print(f"| {arch} | {how} | {' '.join(f'{a:.1f}' for a in top1)} | {np.mean(top1):.1f}% | "
                  f"{np.mean(top3):.1f}% |", flush=True)


def resolution(model, image_set, imgs, y, paths, sizes):
    """Center+flip features at each input size -> retrain's default head, 5-fold CV."""
    import torch
    from PIL import Image

    from petnet.pets.evaluation import cross_validate
    from petnet.pets.head import default_head_kwargs
    from petnet.pets.preprocess import MEAN, STD, view_box
    kw = default_head_kwargs()
    cat = np.array([label[0].isupper() for label in image_set.labels])
    for size in sizes:
        t0 = time.perf_counter()
        feats = np.zeros((len(imgs), 2, 1280), np.float32)
        with torch.no_grad():
            for i in range(0, len(imgs), 16):
                crops = [np.asarray(im.resize((size, size), Image.Resampling.BICUBIC,
                                              box=view_box(*im.size, ARCH, "center")), np.float32)
                         for im in imgs[i:i + 16]]
                x = (np.stack(crops) - MEAN) / STD
                for v, batch in enumerate((x, x[:, :, ::-1])):
                    t = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
                    feats[i:i + 16, v] = model.features(t).numpy()
        P = cross_validate(feats, y, 5, paths, len(image_set.labels), [0, 1], **kw)
        print(f"input {size}x{size}: {_scores(P, y, cat)}  ({time.perf_counter() - t0:.0f} s)", flush=True)


def finetune(model, image_set, imgs, y, folds, n_tail=2, epochs=8, lr_body=3e-5, seed=0):
    """Linear probe, then fine-tune the last ``n_tail`` blocks + head conv; 5-fold CV."""
    import torch
    import torch.nn.functional as F

    from petnet.pets.preprocess import preprocess
    torch.manual_seed(seed)
    K = len(image_set.labels)
    cat = np.array([label[0].isupper() for label in image_set.labels])
    cut = len(model._blocks) - n_tail
    t0 = time.perf_counter()
    acts = None
    with torch.no_grad():
        for v, view in enumerate(TRAIN_VIEWS):
            for i in range(0, len(imgs), 32):
                x = np.stack([preprocess(im, ARCH, view) for im in imgs[i:i + 32]])
                h = F.relu6(model._bn0(model._conv_stem(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))))
                for block in model._blocks[:cut]:
                    h = block(h)
                if acts is None:
                    acts = torch.zeros((len(imgs), len(TRAIN_VIEWS)) + tuple(h.shape[1:]))
                acts[i:i + 32, v] = h
    print(f"cached activations {tuple(acts.shape)} before block {cut} in {time.perf_counter() - t0:.0f} s",
          flush=True)

    class Tail(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = copy.deepcopy(model._blocks[cut:])
            self.conv, self.bn = copy.deepcopy(model._conv_head), copy.deepcopy(model._bn1)
            self.fc = torch.nn.Linear(1280, K)

        def features(self, h):
            for block in self.blocks:
                h = block(h)
            return F.relu6(self.bn(self.conv(h))).mean((2, 3))

        def forward(self, h):
            return self.fc(self.features(h))

    P_lp, P_ft = np.zeros((len(y), K)), np.zeros((len(y), K))
    yt = torch.from_numpy(y)
    for fold in range(5):
        t0 = time.perf_counter()
        tr, te = np.where(folds != fold)[0], np.where(folds == fold)[0]
        net = Tail().eval()                       # eval mode: BatchNorm statistics stay frozen
        with torch.no_grad():
            feats = torch.cat([net.features(acts[tr, v]) for v in range(len(TRAIN_VIEWS))])
        labels = yt[tr].repeat(len(TRAIN_VIEWS))
        opt = torch.optim.Adam(net.fc.parameters(), 1e-3)
        for _ in range(1000):                     # retrain's defaults: 1000 steps, batch 100, l2 1e-3
            idx = torch.randint(0, len(feats), (100,))
            loss = F.cross_entropy(net.fc(feats[idx]), labels[idx]) + 1e-3 * (net.fc.weight ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()

        def predict():
            with torch.no_grad():
                return ((F.softmax(net(acts[te, 0]), 1) + F.softmax(net(acts[te, 1]), 1)) / 2).numpy()

        P_lp[te] = predict()
        body = [p for n, p in net.named_parameters() if not n.startswith("fc.")]
        opt = torch.optim.Adam([{"params": body, "lr": lr_body}, {"params": net.fc.parameters(), "lr": 1e-3}])
        for _ in range(epochs):
            perm = torch.from_numpy(tr)[torch.randperm(len(tr))]
            for i in range(0, len(perm), 32):
                idx = perm[i:i + 32]
                view = torch.randint(0, len(TRAIN_VIEWS), (len(idx),))
                loss = F.cross_entropy(net(acts[idx, view]), yt[idx]) + 1e-3 * (net.fc.weight ** 2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        P_ft[te] = predict()
        print(f"  fold {fold}: LP {100 * (P_lp[te].argmax(1) == y[te]).mean():.1f}%  "
              f"FT {100 * (P_ft[te].argmax(1) == y[te]).mean():.1f}%  ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    print(f"linear probe (8 views): {_scores(P_lp, y, cat)}")
    print(f"fine-tuned last {n_tail} blocks + head conv, {epochs} epochs: {_scores(P_ft, y, cat)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image_dir", default=str(shared_data("pets", "train")))
    ap.add_argument("--scaling", action="store_true", help="one scale vs per-feature standardisation")
    ap.add_argument("--resolution", default="", help="comma-separated input sizes, e.g. 260,300,340")
    ap.add_argument("--finetune", action="store_true")
    ap.add_argument("--epochs", type=int, default=8)
    args = ap.parse_args(argv)
    if args.scaling:
        scaling(args.image_dir)
    if not (args.resolution or args.finetune):
        return 0
    import torch

    from petnet.pets.efficientnet import load_pretrained
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    model = load_pretrained(ARCH).eval()
    image_set, imgs, y, folds, paths = _images(args.image_dir)
    print(f"{len(imgs)} photos, {len(image_set.labels)} breeds, {ARCH}, 5-fold CV, center+flip at test time")
    if args.resolution:
        resolution(model, image_set, imgs, y, paths, [int(s) for s in args.resolution.split(",")])
    if args.finetune:
        finetune(model, image_set, imgs, y, folds, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
