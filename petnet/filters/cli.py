"""``petnet filter``: filter an image file with one of the talk's kernels (chapter 3.1)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from petnet.cli import number

from petnet.errors import PetnetError

KERNELS = ("mean", "gaussian", "sobel", "sobel-x", "sobel-y", "laplacian", "sharpen", "bilateral")
EDGE_KERNELS = ("sobel", "sobel-x", "sobel-y", "laplacian")

DESCRIPTION = """\
Filter an image with a classic kernel (talk, section 3.1.1) and write the result.

  mean       box blur, size x size window average          (noise removal)
  gaussian   Gaussian blur, --size and/or --sigma          (noise removal)
  sobel      gradient magnitude sqrt(Gx^2 + Gy^2)           (edge extraction)
  sobel-x    horizontal derivative Gx; sobel-y: Gy
  laplacian  d2/dx2 + d2/dy2
  sharpen    identity - Laplacian, [[0,-1,0],[-1,5,-1],[0,-1,0]]
  bilateral  edge-preserving smoothing, --sigma-color (0-255 grey levels) and --sigma-space (pixels)

Pixels are read as floats in [0, 1] (8- and 16-bit, grayscale or colour; alpha is kept unchanged).
Edge results are signed: their absolute value is written, scaled so the strongest edge is white.
"""

EPILOG = """\
examples:
  petnet filter cat.jpg --kernel gaussian --size 9 --sigma 2 --out blurred.png --compare
  petnet filter cat.jpg --kernel sobel --out edges.png
  petnet filter cat.jpg --kernel bilateral --size 9 --sigma-color 40 --sigma-space 5 --out smooth.png
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("filter", help="filter an image (mean, Gaussian, Sobel, Laplacian, sharpen, bilateral)",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", metavar="IMAGE", help="input image (JPEG, PNG with alpha, grayscale, 16-bit PNG, ...)")
    p.add_argument("--kernel", "-k", required=True, choices=KERNELS, help="which filter")
    p.add_argument("--size", type=int, default=None,
                   help="kernel size: window of mean (default 5) and gaussian (default from --sigma, else 5); "
                        "Sobel/Laplacian aperture (default 3 / 1); bilateral diameter d (default from --sigma-space)")
    p.add_argument("--sigma", type=number, default=0.0,
                   help="Gaussian standard deviation in pixels (default: from the size, as OpenCV)")
    p.add_argument("--sigma-color", type=number, default=30.0,
                   help="bilateral range sigma, in 0-255 grey levels (default 30)")
    p.add_argument("--sigma-space", type=number, default=5.0,
                   help="bilateral spatial sigma in pixels (default 5)")
    p.add_argument("--amount", type=number, default=1.0, help="sharpen strength (default 1)")
    p.add_argument("--border", default="reflect", choices=("reflect", "zero", "replicate", "symmetric"),
                   help="border mode: reflect = OpenCV's default BORDER_REFLECT_101 (default)")
    p.add_argument("--out", "-o", required=True, metavar="OUT.png", help="where to write the filtered image")
    p.add_argument("--compare", nargs="?", const="auto", default=None, metavar="FIG.png",
                   help="also write a side-by-side figure original | result (default name: OUT_compare.png)")
    p.set_defaults(func=run)


def apply(pixels, args):
    """Run the chosen filter on float pixels in [0, 1]; returns the (displayable) result."""
    import numpy as np

    from petnet import filters as F

    k, b = args.kernel, args.border
    if k == "mean":
        return F.mean_blur(pixels, args.size or 5, b)
    if k == "gaussian":
        size = args.size if args.size else (None if args.sigma > 0 else 5)
        return F.gaussian_blur(pixels, size, args.sigma, b)
    if k == "sharpen":
        return F.sharpen(pixels, args.amount, b)
    if k == "bilateral":
        return F.bilateral(pixels, args.size or 0, args.sigma_color / 255.0, args.sigma_space, b)
    if k == "sobel":
        out = F.gradient_magnitude(pixels, args.size or 3, b)
    elif k == "sobel-x":
        out = F.sobel(pixels, 1, 0, args.size or 3, b)
    elif k == "sobel-y":
        out = F.sobel(pixels, 0, 1, args.size or 3, b)
    else:
        out = F.laplacian(pixels, args.size or 1, b)
    out = np.abs(out)
    top = float(out.max())
    return out / top if top > 0 else out


def compare_figure(path, before, after, title: str) -> None:
    """Save ``original | result`` side by side."""
    from petnet.plotting import finish, pyplot
    plt = pyplot()

    h, w = before.shape[:2]
    fig, axes = plt.subplots(1, 2, figsize=(2 * 5, 5 * h / w + 0.6))
    for ax, img, name in zip(axes, (before, after), ("original", title)):
        ax.imshow(img.clip(0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(name)
        ax.axis("off")
    finish(fig, path, dpi=100)


def run(args) -> int:
    from petnet.filters.image_io import read_image, write_image

    src, out = Path(args.image), Path(args.out)
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise PetnetError("--out is the input image; choose another file so the original is kept")
    if args.size is not None and args.size < 1:
        raise PetnetError(f"--size must be positive, got {args.size}")
    pic = read_image(src)
    t0 = time.perf_counter()
    result = apply(pic.pixels, args)
    seconds = time.perf_counter() - t0
    write_image(out, result, pic.alpha, pic.bits)
    h, w = pic.pixels.shape[:2]
    print(f"wrote {out} ({w}x{h}, {args.kernel}, border {args.border}, {seconds:.2f} s)")
    if args.compare:
        fig = Path(args.compare) if args.compare != "auto" else out.with_name(out.stem + "_compare.png")
        if fig.exists() and fig.resolve() == src.resolve():
            raise PetnetError("--compare would overwrite the input image; choose another file")
        compare_figure(fig, pic.pixels, result, args.kernel)
        print(f"wrote {fig} (original | {args.kernel})")
    return 0
