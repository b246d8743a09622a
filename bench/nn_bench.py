"""Benchmark: one MNIST CNN training step (forward + backward + Adam update, float32, batch 64),
petnet's NumPy engine against PyTorch CPU, in one process with the same number of threads.

    nice .venv/bin/python bench/nn_bench.py [--steps 20] [--batch 64] [--threads N] [--profile]

Network (the one `petnet nn mnist` trains):
    Conv2D(32, 3, relu) - MaxPool(2) - Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dense(128, relu)
    - Dropout(0.5) - Dense(10)

Prints ms/step (wall and CPU time) for both and the ratios -- interleaved rounds, median, so a busy
neighbour on a shared machine slows both alike --, the peak memory of training in each (growth of
the peak resident set (VmHWM) in a fresh child process; tracemalloc for petnet's NumPy arrays), and with --profile a
cProfile breakdown of petnet's step and per-layer forward/backward times (where the time goes).
Both frameworks start from the same weights and the first step's loss is compared.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _report import add_json_flag, write_json  # noqa: E402  (bench/ is on sys.path when run)
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


def make_batch(np, batch):
    rng = np.random.default_rng(0)
    return rng.random((batch, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, batch)


def setup_petnet(x, y):
    """``petnet nn mnist``'s network and loss; one step = ``model.train_on_batch`` (forward, loss,
    backward, Adam update -- the step of ``Model.fit``)."""
    from petnet import optim
    from petnet.nn import mnist

    model = mnist.build_model(seed=0)
    model.compile(optimizer=optim.Adam(lr=1e-3), loss="softmax_cross_entropy")
    loss0 = model.evaluate(x, y)
    return model, (lambda: model.train_on_batch(x, y)), loss0


def layer_times(model, x, y, repeats: int = 5) -> dict:
    """Forward/backward seconds per layer (for the breakdown), with the engine's per-call caches."""
    from petnet.nn.losses import SoftmaxCrossEntropy

    loss = SoftmaxCrossEntropy()
    times = {l.name: [0.0, 0.0] for l in model.layers}
    for _ in range(repeats):
        a, caches = x, []
        for l in model.layers:
            t0 = time.perf_counter()
            a, cache = l.forward(a, training=True)
            times[l.name][0] += time.perf_counter() - t0
            caches.append(cache)
        d = loss.backward(loss.forward(a, y)[1])
        for i, (l, cache) in enumerate(zip(reversed(model.layers), reversed(caches))):
            t0 = time.perf_counter()
            d, _ = l.backward(cache, d, need_dx=i < len(model.layers) - 1)
            times[l.name][1] += time.perf_counter() - t0
    return {k: (f / repeats, b / repeats) for k, (f, b) in times.items()}


def setup_torch(torch, weights, x, y):
    """The same network in PyTorch (NCHW), starting from petnet's weights."""
    import torch.nn as tnn

    net = tnn.Sequential(tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(32, 64, 3), tnn.ReLU(),
                         tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(64 * 5 * 5, 128), tnn.ReLU(), tnn.Dropout(0.5),
                         tnn.Linear(128, 10))
    if weights is not None:
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
        loss0 = float(lossf(net(xt), yt))
    net.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xt), yt)
        loss.backward()
        opt.step()

    return step, loss0


def proc_status_mib(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM peak), in MiB.
    (Not ru_maxrss: Linux carries the parent's peak into a child across fork + exec.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(np, args, threads) -> int:
    """Child process: peak resident memory (VmHWM) after warm-up + timed steps, minus the resident
    memory right after setup (imports, data, weights), in MiB."""
    x, y = make_batch(np, args.batch)
    if args.memory_child == "torch":
        import torch
        torch.set_num_threads(threads)
        step, _ = setup_torch(torch, None, x, y)
    else:
        _, step, _ = setup_petnet(x, y)
    before = proc_status_mib("VmRSS")
    for _ in range(args.warmup + args.steps):
        step()
    print(proc_status_mib("VmHWM") - before)
    return 0


def child_memory(framework: str, args) -> float:
    import subprocess
    cmd = [sys.executable, __file__, "--memory-child", framework, "--batch", str(args.batch),
           "--steps", str(min(args.steps, 10)), "--warmup", str(args.warmup)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for both: sets OPENBLAS/OMP/MKL_NUM_THREADS before NumPy loads "
                         "(default: what NumPy's BLAS uses)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    ap.add_argument("--profile", action="store_true", help="cProfile top functions of petnet's step")
    ap.add_argument("--memory-child", choices=["petnet", "torch"], help=argparse.SUPPRESS)
    add_json_flag(ap)
    args = ap.parse_args(argv)

    if args.threads:
        if "numpy" in sys.modules:
            raise SystemExit("--threads must be set before NumPy is imported")
        for var in THREAD_VARS:
            os.environ[var] = str(args.threads)
    import numpy as np

    threads, blas = blas_threads()
    threads = args.threads or threads
    if args.memory_child:
        return memory_child(np, args, threads)

    import torch

    torch.set_num_threads(threads)
    env = {k: os.environ.get(k, "-") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"threads: numpy BLAS {threads} ({blas}), torch {torch.get_num_threads()}; "
          f"env {' '.join(f'{k}={v}' for k, v in env.items())}; cpu_count {os.cpu_count()}")
    print(f"numpy {np.__version__}, torch {torch.__version__}, batch {args.batch}, float32, "
          f"{args.steps} timed steps after {args.warmup} warm-up\n")

    x, y = make_batch(np, args.batch)
    model, step_petnet, loss0_petnet = setup_petnet(x, y)
    step_torch, loss0_torch = setup_torch(torch, model.get_weights(), x, y)
    for _ in range(args.warmup):
        step_petnet()
        step_torch()

    # interleaved rounds: a busy neighbour slows both frameworks alike; report each one's median round
    rounds = {"petnet": [], "torch": []}
    for _ in range(args.rounds):
        for name, step in (("petnet", step_petnet), ("torch", step_torch)):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                step()
            rounds[name].append(((time.perf_counter() - t0) / args.steps, (time.process_time() - c0) / args.steps))
    med = {k: tuple(float(np.median([r[i] for r in v])) for i in (0, 1)) for k, v in rounds.items()}

    # peak memory: a fresh child process per framework (VmHWM growth over setup), plus tracemalloc
    # (NumPy's own arrays) for petnet
    mem = {fw: child_memory(fw, args) for fw in ("petnet", "torch")}
    tracemalloc.start()
    step_petnet()
    peak_np = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    (t_np, c_np), (t_t, c_t) = med["petnet"], med["torch"]
    print(f"first-step loss (same weights, no dropout): petnet {loss0_petnet:.6f}  torch {loss0_torch:.6f}")
    print(f"median of {args.rounds} interleaved rounds of {args.steps} steps each\n")
    print("| framework | ms/step (wall) | ms/step (CPU) | ratio wall | ratio CPU | peak memory of training |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| PyTorch {torch.__version__} CPU | {1e3 * t_t:.1f} | {1e3 * c_t:.1f} | 1.00x | 1.00x | "
          f"+{mem['torch']:.0f} MiB RSS |")
    print(f"| petnet (NumPy) | {1e3 * t_np:.1f} | {1e3 * c_np:.1f} | {t_np / t_t:.2f}x | {c_np / c_t:.2f}x | "
          f"+{mem['petnet']:.0f} MiB RSS (NumPy arrays: tracemalloc peak {peak_np / 2**20:.0f} MiB) |")

    write_json(args.json, {"threads": threads, "batch": args.batch, "petnet_ms": 1e3 * t_np, "torch_ms": 1e3 * t_t,
                           "ratio_wall": t_np / t_t, "ratio_cpu": c_np / c_t})
    if args.profile:
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(args.steps):
            step_petnet()
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(15)
        print("\npetnet step profile (cProfile, sorted by own time):")
        lines = s.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start:start + 16]))
        print("\nper layer (forward / backward ms per step):")
        for name, (f, b) in layer_times(model, x, y, repeats=max(3, args.steps // 4)).items():
            print(f"  {name:<16} {1e3 * f:7.2f} / {1e3 * b:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
