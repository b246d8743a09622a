"""GPU check: the backbone on CUDA equals the CPU backbone, and how fast it is.

    python bench/gpu_check.py [--arch lite2] [--images 256] [--batch 128]

On a machine with an NVIDIA GPU and a CUDA build of PyTorch (or onnxruntime-gpu), runs the
EfficientNet-Lite backbone on CUDA and on the CPU on the same preprocessed photos, prints the
largest difference of the 1280 features and of the class probabilities (must be <= 1e-4), and the
images/s of the network alone on the GPU (float32, and bfloat16 autocast for reference). Without a
GPU it says so and exits 0: nothing is measured.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from petnet.paths import shared_data  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="lite2")
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print(f"no CUDA device visible to PyTorch {torch.__version__}: GPU not measured")
        return 0
    from petnet.pets.backbone import load_views
    from petnet.pets.efficientnet import load_pretrained

    paths = sorted(shared_data("pets", "train").glob("*/*.jpg"))
    paths = [paths[i % len(paths)] for i in range(args.images)]
    x = np.stack([load_views(p, args.arch)[0] for p in paths])              # (N, S, S, 3)
    net = load_pretrained(args.arch).eval()
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        cpu = torch.cat([net.features(xt[i:i + 32]) for i in range(0, len(xt), 32)]).numpy()
        gnet = net.to("cuda").to(memory_format=torch.channels_last)
        xg = xt.to("cuda").to(memory_format=torch.channels_last)
        gpu = torch.cat([gnet.features(xg[i:i + args.batch]) for i in range(0, len(xg), args.batch)])
        gpu = gpu.float().cpu().numpy()
        diff = float(np.abs(cpu - gpu).max())
        rates = {}
        for name, dtype in (("float32", None), ("bfloat16 autocast", torch.bfloat16)):
            ctx = torch.autocast("cuda", dtype=dtype) if dtype else torch.no_grad()
            with ctx:
                for _ in range(3):
                    gnet.features(xg[:args.batch])
                torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(10):
                    for i in range(0, len(xg), args.batch):
                        gnet.features(xg[i:i + args.batch])
                torch.cuda.synchronize()
                rates[name] = 10 * len(xg) / (time.perf_counter() - t)
    print(f"device: {torch.cuda.get_device_name(0)}; EfficientNet-{args.arch}, {len(paths)} photos")
    print(f"max |features CPU - CUDA| = {diff:.2e} ({'OK' if diff <= 1e-4 else 'ABOVE 1e-4'})")
    for name, r in rates.items():
        print(f"network only, batch {args.batch}, {name}: {r:,.0f} img/s")
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
