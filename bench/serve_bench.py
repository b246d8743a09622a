"""Load test of ``petnet serve``: a real server on 127.0.0.1, real photos, against offline predict.

Starts ``petnet serve`` (a subprocess, fresh data folder, free loopback port), then in one run:

* the server at concurrency 1, 8 and 32: each of C clients keeps one HTTP connection and sends
  one photo per request (``POST /api/predict``), as fast as answers come back; throughput,
  p50 / p99 latency, errors (any non-200 answer or an answer without a top 3), and the server's
  CPU time per photo;
* against offline throughput: the same photos through ``petnet predict``'s recognizer in this
  process (one batched pass, decoding overlapped; the model's load not counted), interleaved with
  the server's requests in ``--rounds`` rounds, so that a shared machine's drifting speed hits both
  alike;
* a memory soak: ``--requests`` more at concurrency 32, the server's memory (VmRSS of its
  process) every 500 requests;
* the micro-batcher's batch sizes at each concurrency (from ``/healthz``), and the machine's load
  average before and after (other jobs on the machine take the cores from both sides alike).

Every loop is bounded by a request count, and the script stops the server itself. The client is
a minimal asyncio HTTP/1.1 client (pre-encoded requests) so it takes little of the CPU the server
needs; it still shares the machine with the server, which the offline pass does not.

    .venv/bin/python bench/serve_bench.py                     # a 1000-request memory soak
    .venv/bin/python bench/serve_bench.py --requests 5000     # the 5,000-request soak
    .venv/bin/python bench/serve_bench.py --compare /tmp/before  # and a server from another tree
    .venv/bin/python bench/serve_bench.py --photos ../shared/data/imagenet_nonpet   # no pets: the cascade
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petnet.paths import shared_dir  # noqa: E402
from _report import add_json_flag, write_json  # noqa: E402  (bench/ is on sys.path when run)


def pet_photos(n: int, folder=None) -> list[Path]:
    """``n`` JPEGs spread evenly over ``folder`` (searched recursively; default: the shared Oxford
    pets, ``data/pets/train``)."""
    folder = Path(folder) if folder else shared_dir() / "data" / "pets" / "train"
    paths = sorted(glob.glob(str(folder / "**" / "*.jpg"), recursive=True))
    if not paths:
        sys.exit(f"no photos under {folder} (set PETNET_SHARED)")
    step = max(1, len(paths) // n)
    return [Path(p) for p in paths[::step][:n]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def request_bytes(path: Path, port: int) -> bytes:
    boundary = "petnetbench"
    body = io.BytesIO()
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
               "Content-Type: image/jpeg\r\n\r\n".encode())
    body.write(path.read_bytes())
    body.write(f"\r\n--{boundary}--\r\n".encode())
    body = body.getvalue()
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def client(port, requests, counter, total, latencies, errors, on_count):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while counter[0] < total:
            i = counter[0]
            counter[0] += 1
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200 or len(json.loads(body)[0].get("top", [])) != 3:
                errors.append((status, body[:200]))
            on_count()
    finally:
        writer.close()


async def load(port, requests, concurrency, total, on_count=lambda n: None):
    latencies, errors, counter = [], [], [0]
    done = [0]

    def count():
        done[0] += 1
        on_count(done[0])

    t0 = time.perf_counter()
    await asyncio.gather(*(client(port, requests, counter, total, latencies, errors, count)
                           for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {"requests": len(latencies), "seconds": wall, "per_s": len(latencies) / wall,
            "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)), "errors": len(errors),
            "error_examples": errors[:3], "latencies": lat}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def size_counts(health) -> dict[int, int]:
    return {int(k): v for k, v in health.get("batch_sizes", {}).items()}


def sizes_text(before: dict, after: dict) -> str:
    """The batch sizes of the calls made between two ``/healthz`` readings: ``mean (min-max), p50``."""
    seen = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    sizes = np.repeat(list(seen), list(seen.values())) if seen else np.array([])
    if not len(sizes):
        return "(sizes not reported)"
    return (f"{len(sizes)} calls, {sizes.mean():.1f} photos per call (median {np.median(sizes):.0f}, "
            f"{sizes.min()}-{sizes.max()})")


def stage(rec, paths, servers, conc, n, rounds):
    """``rounds`` x (one offline pass over ``paths``, then ``n`` requests at concurrency ``conc`` to
    each server), interleaved so that a shared machine's drifting speed hits all alike (with two
    servers, they take turns going first). ``servers``: ``[(port, pid, requests)]``; one row each."""
    off_n = off_t = off_cpu = 0.0
    acc = [{"n": 0.0, "t": 0.0, "cpu": 0.0, "cli": 0.0, "lat": [], "errors": 0} for _ in servers]
    for k in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        preds = rec.predict(paths)
        off_t += time.perf_counter() - t0
        off_cpu += time.process_time() - c0
        off_n += len(preds)
        assert not any(p.error for p in preds)
        for i in [(k + j) % len(servers) for j in range(len(servers))]:
            port, pid, requests = servers[i]
            a = acc[i]
            s0, c0 = cpu_seconds(pid), time.process_time()
            r = asyncio.run(load(port, requests, conc, n))
            a["cpu"] += cpu_seconds(pid) - s0
            a["cli"] += time.process_time() - c0
            a["n"] += r["requests"]
            a["t"] += r["seconds"]
            a["lat"].append(r["latencies"])
            a["errors"] += r["errors"]
            if r["errors"]:
                print(f"errors at concurrency {conc}: {r['error_examples']}")
    rows = []
    for a in acc:
        lat = np.concatenate(a["lat"])
        rows.append({"conc": conc, "requests": int(a["n"]), "per_s": a["n"] / a["t"], "offline": off_n / off_t,
                     "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
                     "errors": a["errors"], "cpu_ms": 1000 * a["cpu"] / a["n"], "client_ms": 1000 * a["cli"] / a["n"],
                     "offline_cpu_ms": 1000 * off_cpu / off_n})
    return rows


def start_server(cwd, port, data_dir):
    """``petnet serve`` from the source tree ``cwd`` (its own ``petnet`` package) on ``port``."""
    env = dict(os.environ, PYTHONPATH=str(cwd))
    server = subprocess.Popen([sys.executable, "-m", "petnet", "serve", "--port", str(port),
                               "--data-dir", data_dir], cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            health(port)
            return server
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            sys.exit(f"the server from {cwd} did not start")
        time.sleep(0.2)


def health(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as res:
        return json.loads(res.read())


def print_table(rows) -> None:
    print("| concurrency | requests | served photos/s | offline photos/s | served / offline | "
          "p50 ms | p99 ms | errors | server CPU ms/photo (+ client) | offline CPU ms/photo |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['conc']} | {r['requests']} | {r['per_s']:.1f} | {r['offline']:.1f} | "
              f"{r['per_s'] / r['offline']:.2f}x | {r['p50']:.0f} | {r['p99']:.0f} | {r['errors']} | "
              f"{r['cpu_ms']:.0f} (+{r['client_ms']:.0f}) | {r['offline_cpu_ms']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=1000,
                    help="requests of the memory soak at concurrency 32 (default %(default)s)")
    ap.add_argument("--small", type=int, default=32,
                    help="requests per round at concurrency 1 and 8 (default %(default)s)")
    ap.add_argument("--stage", type=int, default=128,
                    help="requests per round at concurrency 32 (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of (offline pass, server requests) per concurrency (default %(default)s)")
    ap.add_argument("--images", type=int, default=64, help="distinct photos sent (default %(default)s)")
    ap.add_argument("--photos", metavar="DIR", default=None,
                    help="the photos sent: JPEGs under DIR (default: the shared Oxford pets; e.g. "
                         "../shared/data/imagenet_nonpet, where every photo takes the open-world cascade)")
    ap.add_argument("--compare", metavar="TREE", default=None,
                    help="also run a second petnet serve from another source tree (e.g. a checkout of an "
                         "older commit: git worktree add /tmp/before HEAD~3) in the same rounds, and print "
                         "its table too: a before/after on the same machine at the same moments")
    add_json_flag(ap)
    args = ap.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.small <= 10_000 and 1 <= args.stage <= 10_000
            and 1 <= args.rounds <= 100):
        sys.exit("--requests must be 1..100000, --small and --stage 1..10000, --rounds 1..100")

    paths = pet_photos(args.images, args.photos)
    port = free_port()
    data_dirs = [tempfile.mkdtemp(prefix="petnet-serve-bench-")]
    server, other = None, None
    try:
        server = start_server(ROOT, port, data_dirs[0])
        servers = [(port, server.pid, [request_bytes(p, port) for p in paths])]
        if args.compare:
            other_port = free_port()
            data_dirs.append(tempfile.mkdtemp(prefix="petnet-serve-bench-"))
            other = start_server(Path(args.compare).resolve(), other_port, data_dirs[1])
            servers.append((other_port, other.pid, [request_bytes(p, other_port) for p in paths]))
        requests = servers[0][2]
        what = f"(from {args.photos}" if args.photos else "(Oxford pets"
        print(f"petnet serve on 127.0.0.1:{port}, {len(paths)} distinct photos {what}, "
              f"JPEG ~{np.mean([p.stat().st_size for p in paths]) / 1024:.0f} KB), {os.cpu_count()} CPUs")
        from petnet.pets.predict import Recognizer
        rec = Recognizer()
        rec.predict(paths[:8])                                 # load the network, warm up
        for p, _, reqs in servers:
            asyncio.run(load(p, reqs, 32, 256))                # warm-up (the runtime's buffers)
        load0 = os.getloadavg()
        rows, sizes = [], []
        for conc, n in ((1, args.small), (8, args.small), (32, args.stage)):
            before = size_counts(health(port))
            rows.append(stage(rec, paths, servers, conc, n, args.rounds))
            sizes.append((conc, sizes_text(before, size_counts(health(port)))))
        load1 = os.getloadavg()
        print()
        print_table([r[0] for r in rows])
        rss = [(0, rss_mib(server.pid))]

        def sample(n):
            if n % 500 == 0:
                rss.append((n, rss_mib(server.pid)))
        soak = asyncio.run(load(port, requests, 32, args.requests, sample))
        print(f"| 32 (memory soak) | {soak['requests']} | {soak['per_s']:.1f} | | | {soak['p50']:.0f} | "
              f"{soak['p99']:.0f} | {soak['errors']} | | |")
        if soak["errors"]:
            print(f"errors in the soak: {soak['error_examples']}")
        print()
        print("server memory (VmRSS) during the soak: "
              + ", ".join(f"{mib:.0f} MiB after {n}" for n, mib in rss))
        if len(rss) >= 3:
            print(f"growth from request {rss[1][0]} to {rss[-1][0]}: {rss[-1][1] - rss[1][1]:+.0f} MiB")
        h = health(port)
        print(f"micro-batching: {h['photos']} photos in {h['batches']} backbone calls "
              f"({h['photos'] / max(1, h['batches']):.1f} photos per call)")
        for conc, text in sizes:
            print(f"batch sizes at concurrency {conc}: {text}")
        print(f"load average (1 min): {load0[0]:.1f} before the three stages, {load1[0]:.1f} after; "
              f"the server's inference threads: {h.get('inference_threads', 1)}")
        write_json(args.json, {"stages": [{k: r[0][k] for k in ("conc", "requests", "per_s", "offline", "p50", "p99",
                                                                 "errors")} for r in rows],
                                "photos_per_call": h["photos"] / max(1, h["batches"]), "load_average": [load0[0], load1[0]]})
        if args.compare:
            print()
            print(f"the same stages, interleaved in the same rounds, with petnet serve from {args.compare}:")
            print()
            print_table([r[1] for r in rows])
    finally:
        import shutil
        for srv in (server, other):
            if srv is not None:
                srv.terminate()
                try:
                    srv.wait(30)
                except subprocess.TimeoutExpired:
                    srv.kill()
        for d in data_dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
