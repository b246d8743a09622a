"""int8 against fp32 recognition, end to end, for lite0 and lite2: speed and every accuracy rate.

For each backbone and each precision (fp32, then int8; ``petnet.pets.quantize``):

* **speed**: ``Recognizer.predict`` on a folder of pet photos (decoding, preprocessing, the network
  and the open-world cascade included) at 1 and 2 compute threads, photos/s; the fp32 and int8
  runs alternate (``--repeats`` rounds, best of each) so that a busy machine slows both alike, and
  the ratio int8/fp32 is the figure. Where the time goes: decoding + preprocessing alone (one
  thread) and the network alone (1 thread, batches of 32) per photo.
* **breed top-1** (``../shared/data/pets/train``, 362 photos, 37 breeds): 5-fold cross-validation
  of retrain's head, trained and tested on features of the *same* precision (a model retrained and
  used at int8), plus the fp32-trained heads tested on int8 features (a model retrained at fp32
  used at int8).
* **open world**: the recogniser's answers (lite2: the embedded 37-breed model with its learned
  petness head, fitted on fp32 features; lite0: ``--model imagenet``): on ``catdog`` (600 cats and
  dogs) the accept rate (answered as a pet) and the species-right rate (the species named is the
  folder's); on ``nonpet`` + ``imagenet_nonpet`` (954 photos, no cat or dog) the reject rate.
* feature agreement: the cosine similarity of int8 to fp32 features of the pet photos.

Each rate with its count and Wilson 95% interval, and the difference int8 - fp32 in points.

    python bench/pets_int8.py [--quick] [--archs lite0,lite2] [--json out.json] [--speed_only --repeats 5]

``int8_figures(quick)`` returns the figures as a dict (``make bench`` prints them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petnet.paths import shared_data  # noqa: E402  (after the sys.path line)

PRECISIONS = ("fp32", "int8")


def _photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def photo_sets(quick: bool) -> dict:
    """The shared development sets (``quick``: a fixed, spread-out subset of each)."""
    pets = _photos(shared_data("pets", "train"))
    catdog = _photos(shared_data("catdog"))
    nonpet = _photos(shared_data("nonpet")) + _photos(shared_data("imagenet_nonpet"))
    for name, s in (("pets", pets), ("catdog", catdog), ("nonpet", nonpet)):
        if not s:
            raise SystemExit(f"no photos in the shared {name} set under {shared_data()}: "
                             "this benchmark needs ../shared/data")
    if quick:
        pets, catdog, nonpet = pets[::4], catdog[::20], nonpet[::32]
    return {"pets": pets, "catdog": catdog, "nonpet": nonpet,
            "speed": pets[::3][: (16 if quick else 96)]}


def rate(k: int, n: int) -> dict:
    from petnet.stats import wilson_interval
    lo, hi = wilson_interval(k, n)
    return {"k": int(k), "n": int(n), "rate": k / n if n else float("nan"), "low": lo, "high": hi}


def _recognizer(arch: str, precision: str, threads: int | None = None):
    from petnet.pets.predict import Recognizer
    if arch == "lite2":
        return Recognizer(precision=precision, threads=threads)
    return Recognizer("imagenet", architecture=arch, precision=precision, threads=threads)


def speed(arch: str, photos, repeats: int, threads_list=(1, 2)) -> dict:
    """photos/s of ``Recognizer.predict`` at 1 and 2 threads, fp32 and int8 alternating."""
    out = {}
    for threads in threads_list:
        recs = {p: _recognizer(arch, p, threads) for p in PRECISIONS}
        for r in recs.values():
            r.predict(photos[:4])                      # load the backbone, warm up
        best = {p: float("inf") for p in PRECISIONS}
        for _ in range(repeats):
            for p in PRECISIONS:
                t0 = time.perf_counter()
                r = recs[p].predict(photos)
                best[p] = min(best[p], time.perf_counter() - t0)
                assert all(x.error is None for x in r)
        for p in PRECISIONS:
            out[f"{p}_photos_s_{threads}t"] = len(photos) / best[p]
        out[f"ratio_{threads}t"] = best["fp32"] / best["int8"]
    return out


def where_time_goes(arch: str, photos) -> dict:
    """Seconds per photo: decoding + preprocessing (one thread), and the network (1 thread)."""
    from petnet.pets.backbone import Backbone
    rec = _recognizer(arch, "fp32", 1)
    t0 = time.perf_counter()
    X = np.concatenate([rec.prepare(p) for p in photos])
    out = {"decode_ms": 1000 * (time.perf_counter() - t0) / len(photos)}
    for p in PRECISIONS:
        bb = Backbone(arch, precision=p, threads=1)
        bb.features(X[:4])
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            for i in range(0, len(X), 32):
                bb.features(X[i:i + 32])
            best = min(best, time.perf_counter() - t0)
        out[f"{p}_network_ms"] = 1000 * best / len(X)
    return out


def breed_top1(arch: str, pets) -> dict:
    """5-fold CV top-1 of retrain's head at each precision, and fp32 heads on int8 features."""
    from petnet.pets.backbone import Backbone
    from petnet.pets.dataset import kfold_of
    from petnet.pets.head import default_head_kwargs, train_head
    from petnet.pets.quantize import cosine_similarity
    labels = sorted({p.parent.name for p in pets})
    F, ok = {}, None
    for p in PRECISIONS:
        feats, ok_p, fails = Backbone(arch, precision=p).extract(pets, quiet=True)
        assert not fails and (ok is None or ok_p == ok)
        ok, F[p] = ok_p, feats[:, 0]
    y = np.array([labels.index(Path(p).parent.name) for p in ok])
    folds = np.array([kfold_of(Path(p).name, 5) for p in ok])
    kw = default_head_kwargs()
    hits = {"fp32": 0, "int8": 0, "fp32_head_on_int8": 0}
    for f in range(5):
        tr, te = folds != f, folds == f
        heads = {p: train_head(F[p][tr][:, None], y[tr], len(labels), **kw) for p in PRECISIONS}
        for p in PRECISIONS:
            hits[p] += int((heads[p].predict_proba(F[p][te]).argmax(1) == y[te]).sum())
        hits["fp32_head_on_int8"] += int((heads["fp32"].predict_proba(F["int8"][te]).argmax(1) == y[te]).sum())
    cos = cosine_similarity(F["fp32"], F["int8"])
    return {"top1": {k: rate(v, len(y)) for k, v in hits.items()},
            "cosine_mean": float(cos.mean()), "cosine_min": float(cos.min())}


def open_world(arch: str, catdog, nonpet) -> dict:
    out = {}
    truth = [p.parent.name for p in catdog]
    for p in PRECISIONS:
        rec = _recognizer(arch, p)
        a = rec.predict(catdog)
        n = rec.predict(nonpet)
        assert all(x.error is None for x in a + n)
        out[p] = {"accept": rate(sum(bool(x.is_pet) for x in a), len(a)),
                  "species": rate(sum(x.species == t for x, t in zip(a, truth)), len(a)),
                  "reject": rate(sum(x.verdict == "not_pet" for x in n), len(n))}
    return out


def measure(arch: str, sets: dict, repeats: int, quick: bool = False) -> dict:
    """Every figure of ``arch`` (``quick``: speed at 1 thread only, no time breakdown)."""
    t0 = time.perf_counter()
    res = {"breed": breed_top1(arch, sets["pets"]), "open_world": open_world(arch, sets["catdog"], sets["nonpet"]),
           "speed": speed(arch, sets["speed"], repeats, (1,) if quick else (1, 2))}
    if not quick:
        res["time"] = where_time_goes(arch, sets["speed"])
    res["seconds"] = time.perf_counter() - t0
    return res


def summary(arch: str, res: dict) -> dict:
    """The flat figures ``make bench`` shows."""
    s, b, o = res["speed"], res["breed"]["top1"], res["open_world"]
    out = {"fp32_photos_s": s["fp32_photos_s_1t"], "int8_photos_s": s["int8_photos_s_1t"], "ratio": s["ratio_1t"],
           **{k: s[k] for k in ("fp32_photos_s_2t", "int8_photos_s_2t", "ratio_2t") if k in s},
           "fp32_top1": b["fp32"]["rate"], "int8_top1": b["int8"]["rate"], "n_top1": b["fp32"]["n"],
           "fp32_head_int8_top1": b["fp32_head_on_int8"]["rate"],
           "cosine_mean": res["breed"]["cosine_mean"]}
    for what in ("accept", "species", "reject"):
        for p in PRECISIONS:
            out[f"{p}_{what}"] = o[p][what]["rate"]
        out[f"n_{what}"] = o["fp32"][what]["n"]
    diffs = [abs(b["int8"]["rate"] - b["fp32"]["rate"]), abs(b["fp32_head_on_int8"]["rate"] - b["fp32"]["rate"])]
    diffs += [abs(o["int8"][w]["rate"] - o["fp32"][w]["rate"]) for w in ("accept", "species", "reject")]
    out["max_diff_points"] = 100 * max(diffs)
    out["int8_as_right"] = out["max_diff_points"] <= 0.5
    return out


def int8_figures(quick: bool = True, archs=("lite0", "lite2"), repeats: int | None = None) -> dict:
    """``{arch: {fp32_photos_s, int8_photos_s, ratio, fp32_top1, int8_top1, fp32_accept, ...}}``
    (``quick``: a small subset of every set, speed at 1 thread only -- about a minute for both
    backbones on the 2-core development machine, two when it is busy; its rates have intervals far wider than 0.5 point, so the accuracy rule
    (``int8_as_right``) is decided by the full run only)."""
    sets = photo_sets(quick)
    repeats = repeats or (1 if quick else 3)
    return {arch: summary(arch, measure(arch, sets, repeats, quick)) for arch in archs}


def _cell(r: dict) -> str:
    return f"{100 * r['rate']:.1f}% ({r['k']}/{r['n']}) [{100 * r['low']:.1f}-{100 * r['high']:.1f}]"


def _diff(a: dict, b: dict) -> str:
    return f"{100 * (b['rate'] - a['rate']):+.1f}"


def table(results: dict) -> str:
    lines = ["| backbone | figure | fp32 | int8 | int8 - fp32 |", "|---|---|---:|---:|---:|"]
    for arch, res in results.items():
        s, b, o, t = res["speed"], res["breed"]["top1"], res["open_world"], res.get("time")
        for th in (1, 2) if "ratio_2t" in s else (1,):
            lines.append(f"| {arch} | photos/s, {th} thread{'s' if th > 1 else ''} (end to end) | "
                         f"{s[f'fp32_photos_s_{th}t']:.1f} | {s[f'int8_photos_s_{th}t']:.1f} | "
                         f"x{s[f'ratio_{th}t']:.2f} |")
        if t:
            lines.append(f"| {arch} | ms per photo: decoding (1 thread) / network (1 thread) | "
                         f"{t['decode_ms']:.1f} / {t['fp32_network_ms']:.1f} | {t['decode_ms']:.1f} / "
                         f"{t['int8_network_ms']:.1f} | network x{t['fp32_network_ms'] / t['int8_network_ms']:.2f} |")
        lines.append(f"| {arch} | breed top-1 (5-fold CV, head retrained at each precision) | "
                     f"{_cell(b['fp32'])} | {_cell(b['int8'])} | {_diff(b['fp32'], b['int8'])} |")
        lines.append(f"| {arch} | breed top-1, fp32-trained heads on int8 features | {_cell(b['fp32'])} | "
                     f"{_cell(b['fp32_head_on_int8'])} | {_diff(b['fp32'], b['fp32_head_on_int8'])} |")
        for what, words in (("accept", "cats and dogs accepted (catdog)"),
                            ("species", "species right (catdog)"),
                            ("reject", "no-pet photos rejected (nonpet + imagenet_nonpet)")):
            lines.append(f"| {arch} | {words} | {_cell(o['fp32'][what])} | {_cell(o['int8'][what])} | "
                         f"{_diff(o['fp32'][what], o['int8'][what])} |")
        lines.append(f"| {arch} | feature cosine int8 vs fp32 (pet photos): mean / min | | "
                     f"{res['breed']['cosine_mean']:.4f} / {res['breed']['cosine_min']:.4f} | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small subset of every set")
    ap.add_argument("--archs", default="lite0,lite2")
    ap.add_argument("--repeats", type=int, default=None, help="alternating speed rounds (default 3, quick 1)")
    ap.add_argument("--json", default=None, help="also write every figure here")
    ap.add_argument("--speed_only", action="store_true", help="only the photos/s rows (another sample of the noise)")
    args = ap.parse_args(argv)
    import platform

    import onnxruntime

    from petnet.pets.quantize import has_vnni
    sets = photo_sets(args.quick)
    repeats = args.repeats or (1 if args.quick else 3)
    results = {}
    for arch in args.archs.split(","):
        if args.speed_only:
            s = speed(arch, sets["speed"], repeats)
            print(f"{arch}: " + ", ".join(f"{th} thread(s) fp32 {s[f'fp32_photos_s_{th}t']:.1f}, int8 "
                                          f"{s[f'int8_photos_s_{th}t']:.1f} photos/s, x{s[f'ratio_{th}t']:.2f}"
                                          for th in (1, 2)), flush=True)
            continue
        results[arch] = measure(arch, sets, repeats, args.quick)
        print(f"{arch}: measured in {results[arch]['seconds']:.0f} s", file=sys.stderr, flush=True)
    if args.speed_only:
        return 0
    print(f"machine: {platform.processor() or platform.machine()}, {len(__import__('os').sched_getaffinity(0))} "
          f"CPUs usable, VNNI {'yes' if has_vnni() else 'no'}; onnxruntime {onnxruntime.__version__}; "
          f"speed on {len(sets['speed'])} pet photos, best of {repeats} alternating rounds\n")
    print(table(results))
    print()
    for arch, res in results.items():
        s = summary(arch, res)
        print(f"{arch}: largest accuracy difference {s['max_diff_points']:.2f} points -> int8 "
              f"{'meets' if s['int8_as_right'] else 'does not meet'} the 0.5-point rule")
    if args.json:
        from petnet.atomic import write_text
        write_text(args.json, json.dumps({a: {**r, "summary": summary(a, r)} for a, r in results.items()},
                                         indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
