"""Cold- and warm-cache ``petnet retrain`` on the shared pet photos (362 photos, 37 breeds).

``retrain_timings() -> dict`` is imported by ``bench/pets_bench.py``; run alone it prints a table::

    python bench/pets_retrain_timing.py [--architecture lite2] [--image_dir ...]

cold: empty bottleneck folder (every photo through the backbone, then training);
warm: the same command again (features read from the cache, only the head is trained).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from petnet.paths import shared_data

PETS = shared_data("pets", "train")


def retrain_timings(image_dir=PETS, architecture: str = "lite2", steps: int | None = None) -> dict:
    """Seconds of a cold-cache and a warm-cache retrain + save (defaults of ``retrain``)."""
    from petnet.pets.retrain import retrain
    with tempfile.TemporaryDirectory(prefix="petnet-timing-") as tmp:
        kw = dict(architecture=architecture, bottleneck_dir=f"{tmp}/bn")
        if steps:
            kw["max_iter"] = steps
        out = {}
        for name in ("cold", "warm"):
            t0 = time.perf_counter()
            r = retrain(image_dir, **kw)
            r.save(f"{tmp}/m.npz", f"{tmp}/labels.txt")
            out[f"{name}_s"] = round(time.perf_counter() - t0, 2)
            m = r.metrics
            out[f"{name}_test_line"] = (f"Final test accuracy = {100 * m['test_accuracy']:.1f}% (N={m['test_n']})"
                                        if "test_accuracy" in m else "no test photos")
        out.update(architecture=architecture, images=362 if Path(image_dir) == PETS else None,
                   speedup_warm=round(out["cold_s"] / out["warm_s"], 1))
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image_dir", default=str(PETS))
    ap.add_argument("--architecture", default="lite2")
    args = ap.parse_args(argv)
    t = retrain_timings(args.image_dir, args.architecture)
    print(f"| retrain ({t['architecture']}) | seconds |\n|---|---:|")
    print(f"| cold cache (features + training) | {t['cold_s']:.1f} |")
    print(f"| warm cache (training only) | {t['warm_s']:.1f} |")
    print(f"| ratio cold / warm | {t['speedup_warm']:.1f}x |")
    print(t["cold_test_line"])


if __name__ == "__main__":
    main()
