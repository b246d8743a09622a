"""Time per megapixel of each petnet filter against OpenCV, measured in the same process.

    .venv/bin/python bench/filters_bench.py [--size 1024] [--repeat 5]

Runs on a real photo (skimage's astronaut, resized to SIZE x SIZE RGB float32) and prints, per
filter, the best-of-REPEAT time per megapixel of petnet and of OpenCV and their ratio.
OpenCV runs single-threaded (cv2.setNumThreads(1)) and NumPy's BLAS too (the environment
variables below), so the ratio compares one core against one core. The time is the CPU time of
this process (``time.process_time``): on a machine shared with other jobs, wall time mostly
measures the wait for a core, while CPU time stays close to what an idle machine shows.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from petnet import filters as F  # noqa: E402
from _report import add_json_flag, write_json  # noqa: E402  (bench/ is on sys.path when run)


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1024, help="image side in pixels (default 1024)")
    ap.add_argument("--repeat", type=int, default=5, help="best of N runs (default 5)")
    add_json_flag(ap)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    from skimage import data
    img = cv2.resize(data.astronaut(), (args.size, args.size), interpolation=cv2.INTER_AREA)
    img = img.astype(np.float32) / 255
    mp = img.shape[0] * img.shape[1] / 1e6
    r = cv2.BORDER_REFLECT_101
    cases = [
        ("mean 5x5", lambda: F.mean_blur(img, 5), lambda: cv2.blur(img, (5, 5), borderType=r)),
        ("gaussian 9x9 s=2", lambda: F.gaussian_blur(img, 9, 2.0), lambda: cv2.GaussianBlur(img, (9, 9), 2.0)),
        ("gaussian 31x31 s=5", lambda: F.gaussian_blur(img, 31, 5.0), lambda: cv2.GaussianBlur(img, (31, 31), 5.0)),
        ("sobel x 3x3", lambda: F.sobel(img, 1, 0), lambda: cv2.Sobel(img, cv2.CV_32F, 1, 0)),
        ("gradient magnitude", lambda: F.gradient_magnitude(img),
         lambda: cv2.magnitude(cv2.Sobel(img, cv2.CV_32F, 1, 0), cv2.Sobel(img, cv2.CV_32F, 0, 1))),
        ("laplacian 3x3", lambda: F.laplacian(img), lambda: cv2.Laplacian(img, cv2.CV_32F)),
        ("sharpen 3x3", lambda: F.sharpen(img),
         lambda: cv2.filter2D(img, -1, F.sharpen_kernel().astype(np.float32))),
        ("bilateral d=9", lambda: F.bilateral(img, 9, 0.1, 3.0), lambda: cv2.bilateralFilter(img, 9, 0.1, 3.0)),
    ]
    print(f"image {img.shape[1]}x{img.shape[0]}x{img.shape[2]} float32 ({mp:.2f} MP), best of {args.repeat}, "
          f"OpenCV {cv2.__version__} single-threaded")
    rows = []
    print(f"{'filter':<22}{'petnet ms/MP':>14}{'OpenCV ms/MP':>14}{'ratio':>9}{'max|diff|':>11}")
    for name, ours, ref in cases:
        diff = float(np.abs(ours() - ref()).max())
        t_ours = best_time(ours, args.repeat) / mp * 1e3
        t_ref = best_time(ref, args.repeat) / mp * 1e3
        print(f"{name:<22}{t_ours:>14.1f}{t_ref:>14.2f}{t_ours / t_ref:>8.1f}x{diff:>11.1e}")
        rows.append({"filter": name, "petnet_ms_per_mp": t_ours, "opencv_ms_per_mp": t_ref,
                     "ratio": t_ours / t_ref, "max_abs_diff": diff})
    write_json(args.json, {"size": args.size, "filters": rows})


if __name__ == "__main__":
    main()
