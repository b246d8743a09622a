"""Benchmark: one MNIST CNN training step (forward + backward + Adam update, float32, batch 64),
petnet's NumPy engine against PyTorch CPU, in one process with the same number of threads.

    nice .venv/bin/python bench/nn_bench.py [--steps 20] [--batch 64] [--threads N] [--profile]

Network (the one `petnet nn mnist` trains):
    Conv2D(32, 3, relu) - MaxPool(2) - Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dense(128, relu)
    - Dropout(0.5) - Dense(10)

Prints ms/step for both and the ratio, peak memory of each (tracemalloc for NumPy arrays; the
process's ru_maxrss growth), and a cProfile breakdown of petnet's step (where the time goes).
Both frameworks start from the same weights and the first step's loss is compared.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# NumPy is imported inside main(), after --threads has set the BLAS thread variables

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads() -> tuple[int, str]:
    """Threads NumPy's BLAS uses (threadpoolctl if installed, else the usual environment variables;
    OpenBLAS with none of them set uses every core)."""
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            return int(info[0]["num_threads"]), f"{info[0].get('internal_api')} {info[0].get('version')}"
    except ImportError:
        pass
    for var in THREAD_VARS:
        if os.environ.get(var):
            return int(os.environ[var]), f"from ${var}"
    return os.cpu_count() or 1, "OpenBLAS default: all cores"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for both: sets OPENBLAS/OMP/MKL_NUM_THREADS before NumPy loads "
                         "(default: what NumPy's BLAS uses)")
    ap.add_argument("--profile", action="store_true", help="cProfile top functions of petnet's step")
    args = ap.parse_args(argv)

    if args.threads:
        if "numpy" in sys.modules:
            raise SystemExit("--threads must be set before NumPy is imported")
        for var in THREAD_VARS:
            os.environ[var] = str(args.threads)
    import numpy as np

    threads, blas = blas_threads()
    threads = args.threads or threads

    import torch

    from petnet.nn import mnist

    torch.set_num_threads(threads)
    env = {k: os.environ.get(k, "-") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"threads: numpy BLAS {threads} ({blas}), torch {torch.get_num_threads()}; "
          f"env {' '.join(f'{k}={v}' for k, v in env.items())}; cpu_count {os.cpu_count()}")
    print(f"numpy {np.__version__}, torch {torch.__version__}, batch {args.batch}, float32, "
          f"{args.steps} timed steps after {args.warmup} warm-up\n")

    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)

    # ---------------- petnet
    trainer = mnist.Trainer(seed=0, lr=1e-3)
    trainer.build((28, 28, 1))
    weights = [w.copy() for w in trainer.get_weights()]
    loss0_petnet = trainer.train_step(x, y, training=False)
    for _ in range(args.warmup):
        trainer.train_step(x, y)

    tracemalloc.start()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        trainer.train_step(x, y)
    t_np = (time.perf_counter() - t0) / args.steps
    c_np = (time.process_time() - c0) / args.steps
    peak_np = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_np = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0

    # ---------------- torch (same weights, NCHW)
    import torch.nn as tnn

    net = tnn.Sequential(tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(32, 64, 3), tnn.ReLU(),
                         tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(64 * 5 * 5, 128), tnn.ReLU(), tnn.Dropout(0.5),
                         tnn.Linear(128, 10))
    k1, b1, k2, b2, kd, bd, ko, bo = weights
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(k1.transpose(3, 2, 0, 1).copy()))
        net[0].bias.copy_(torch.from_numpy(b1))
        net[3].weight.copy_(torch.from_numpy(k2.transpose(3, 2, 0, 1).copy()))
        net[3].bias.copy_(torch.from_numpy(b2))
        # petnet flattens NHWC (h, w, c); torch flattens NCHW (c, h, w): permute the dense rows
        kd_t = kd.reshape(5, 5, 64, 128).transpose(2, 0, 1, 3).reshape(-1, 128)
        net[7].weight.copy_(torch.from_numpy(kd_t.T.copy()))
        net[7].bias.copy_(torch.from_numpy(bd))
        net[10].weight.copy_(torch.from_numpy(ko.T.copy()))
        net[10].bias.copy_(torch.from_numpy(bo))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y)
    lossf = tnn.CrossEntropyLoss()
    net.eval()
    with torch.no_grad():
        loss0_torch = float(lossf(net(xt), yt))
    net.train()

    def tstep():
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xt), yt)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        tstep()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        tstep()
    t_t = (time.perf_counter() - t0) / args.steps
    c_t = (time.process_time() - c0) / args.steps
    rss_t = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss1

    print(f"first-step loss (same weights, no dropout): petnet {loss0_petnet:.6f}  torch {loss0_torch:.6f}")
    print()
    print("| framework | ms/step (wall) | ms/step (CPU) | ratio (wall) | peak memory |")
    print("|---|---:|---:|---:|---|")
    print(f"| PyTorch {torch.__version__} CPU | {1e3 * t_t:.1f} | {1e3 * c_t:.1f} | 1.00x | "
          f"ru_maxrss +{rss_t / 1024:.0f} MiB |")
    print(f"| petnet (NumPy) | {1e3 * t_np:.1f} | {1e3 * c_np:.1f} | {t_np / t_t:.2f}x | "
          f"tracemalloc peak {peak_np / 2**20:.0f} MiB, ru_maxrss +{rss_np / 1024:.0f} MiB |")

    if args.profile:
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(args.steps):
            trainer.train_step(x, y)
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(15)
        print("\npetnet step profile (cProfile, sorted by own time):")
        lines = s.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start:start + 16]))
        print("\nper layer (forward / backward ms per step):")
        for name, (f, b) in trainer.layer_times(x, y, repeats=max(3, args.steps // 4)).items():
            print(f"  {name:<16} {1e3 * f:7.2f} / {1e3 * b:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
