"""Benchmark of chapter 6 (pets): how much faster petnet's backbone is than a plain forward.

Prints, in one run, with every ratio measured against a reference in the same process:

* feature-extraction and predict throughput (images/s, JPEG decoding + preprocessing
  included) of petnet's paths vs a plain PyTorch eager NCHW forward of the same network
  with the same number of compute threads;
* the compute-only throughput (already preprocessed batches);
* cold- and warm-cache retrain times on the shared photos (``bench/pets_retrain_timing.py``);
* peak memory (max resident set size of this process).

Each contender runs ``--reps`` times, interleaved with the others (the machine may be
shared), and the best run counts.

    nice .venv/bin/python bench/pets_bench.py --arch lite2 --images 48 --threads 1
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
from petnet.paths import shared_dir
SHARED = shared_dir()


def pet_photos(n: int) -> list[str]:
    paths = sorted(glob.glob(str(SHARED / "data" / "pets" / "train" / "*" / "*.jpg")))
    if not paths:
        sys.exit(f"no photos under {SHARED}/data/pets/train (set PETNET_SHARED)")
    step = max(1, len(paths) // n)
    return paths[::step][:n]


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="lite2", choices=["lite0", "lite1", "lite2"])
    ap.add_argument("--images", type=int, default=48, help="number of shared pet photos")
    ap.add_argument("--threads", type=int, default=1, help="compute threads of every contender")
    ap.add_argument("--workers", type=int, default=1, help="decode threads of petnet's extract()")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-retrain", action="store_true", help="skip the retrain timings")
    args = ap.parse_args(argv)

    import torch

    from petnet.pets.backbone import Backbone
    from petnet.pets.efficientnet import load_pretrained
    from petnet.pets.images import load_image
    from petnet.pets.preprocess import preprocess

    torch.set_num_threads(args.threads)
    T, arch, bs = args.threads, args.arch, args.batch_size
    paths = pet_photos(args.images)
    n = len(paths)

    # ---------------- the reference: plain PyTorch, eager, NCHW, decode in the same thread ----
    eager = load_pretrained(arch)

    def eager_run(predict: bool):
        out = []
        with torch.no_grad():
            for i in range(0, n, bs):
                x = np.stack([preprocess(load_image(p), arch) for p in paths[i:i + bs]])
                xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()   # NCHW
                f = eager.features(xt)
                out.append(torch.softmax(eager._fc(f), 1) if predict else f)
        return torch.cat(out).numpy()

    t0 = time.perf_counter()
    onnx_bb = Backbone(arch, engine="onnx", threads=T)
    onnx_start = time.perf_counter() - t0
    torch_bb = Backbone(arch, engine="torch", threads=T)

    def petnet_run(bb, predict: bool, workers: int):
        feats, ok, _ = bb.extract(paths, batch_size=bs, workers=workers, quiet=True)
        f = feats[:, 0]
        return softmax(bb.imagenet_logits(f)) if predict else f

    contenders = {
        "eager NCHW (reference)": lambda p: eager_run(p),
        "petnet onnx, decode overlapped": lambda p: petnet_run(onnx_bb, p, args.workers),
        "petnet onnx, decode serial": lambda p: petnet_run(onnx_bb, p, 0),
        "petnet torch folded+channels_last": lambda p: petnet_run(torch_bb, p, args.workers),
    }
    results = {}
    outputs = {}
    for task in ("features", "predict"):
        best = {k: float("inf") for k in contenders}
        for _ in range(args.reps):
            for name, fn in contenders.items():
                t = time.perf_counter()
                outputs[(task, name)] = fn(task == "predict")
                best[name] = min(best[name], time.perf_counter() - t)
        results[task] = best

    # compute only (no decoding): one preprocessed batch
    x = np.stack([preprocess(load_image(p), arch) for p in paths[:bs]])
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    compute = {"eager NCHW (reference)": lambda: eager.features(xt),
               "petnet onnx": lambda: onnx_bb.features(x),
               "petnet torch folded+channels_last": lambda: torch_bb.features(x)}
    cbest = {k: float("inf") for k in compute}
    with torch.no_grad():
        for _ in range(args.reps + 1):
            for name, fn in compute.items():
                t = time.perf_counter()
                fn()
                cbest[name] = min(cbest[name], time.perf_counter() - t)

    print(f"# pets backbone benchmark: EfficientNet-{arch}, {n} shared pet photos "
          f"(JPEG ~500x375), {T} compute thread(s), batch {bs}, best of {args.reps}")
    print(f"# petnet's overlapped path uses {args.workers} extra decode thread(s); "
          f"'decode serial' decodes in the calling thread like the reference")
    print(f"# ONNX Runtime session start (cached graph): {onnx_start:.2f} s")
    ref_name = "eager NCHW (reference)"
    for task, best in results.items():
        print(f"\n| {task} (decoding included) | images/s | speed-up vs eager |")
        print("|---|---:|---:|")
        for name, t in best.items():
            print(f"| {name} | {n / t:.1f} | {best[ref_name] / t:.2f}x |")
    print(f"\n| compute only (batch of {bs}, preprocessed) | images/s | speed-up vs eager |")
    print("|---|---:|---:|")
    for name, t in cbest.items():
        print(f"| {name} | {bs / t:.1f} | {cbest[ref_name] / t:.2f}x |")

    # agreement of the fast paths with the reference
    ref_p = outputs[("predict", ref_name)]
    print("\n| agreement with eager (predict) | max abs prob diff | same top-1 |")
    print("|---|---:|---:|")
    for name in contenders:
        if name == ref_name:
            continue
        p = outputs[("predict", name)]
        print(f"| {name} | {np.abs(p - ref_p).max():.2e} | "
              f"{(p.argmax(1) == ref_p.argmax(1)).mean() * 100:.0f}% |")

    # cold vs warm retrain (D2's function)
    print("\n| retrain on the shared photos | seconds |")
    print("|---|---:|")
    timing_file = ROOT / "bench" / "pets_retrain_timing.py"
    if args.no_retrain:
        print("| (skipped: --no-retrain) | |")
    elif timing_file.exists():
        spec = importlib.util.spec_from_file_location("pets_retrain_timing", timing_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key, value in module.retrain_timings().items():
            shown = f"{value:.2f}" if isinstance(value, float) else value
            print(f"| {key} | {shown} |")
    else:
        print("| TODO: cold / warm-cache retrain (bench/pets_retrain_timing.py not written yet) | - |")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB
    print(f"\npeak memory (max RSS of this process): {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
