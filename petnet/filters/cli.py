"""``petnet filter``: filter an image file with one of the talk's kernels (chapter 3.1);
``petnet denoise``: noise added to a photo and cleaned by mean, Gaussian, median and bilateral filters.

Flags -> keyword arguments of :func:`petnet.filters.filter_file` -> the line it printed.
The ``--kernel`` choices and their help come from the registry ``petnet.filters.api.FILTERS``.
"""

from __future__ import annotations

from petnet.cliutil import add_command, number, positive_number
from petnet.output_guard import Output


def _compare_path(args):
    """The figure ``--compare`` writes: its value, or ``OUT_compare.png`` when given alone."""
    from pathlib import Path
    if args.compare != "auto" or not args.out:
        return args.compare
    out = Path(args.out)
    return out.with_name(out.stem + "_compare.png")

EPILOG = """\
examples:
  petnet filter cat.jpg --kernel gaussian --size 9 --sigma 2 --out blurred.png --compare
  petnet filter cat.jpg --kernel sobel --out edges.png
  petnet filter cat.jpg --kernel bilateral --size 9 --sigma-color 40 --sigma-space 5 --out smooth.png
"""


def register(subparsers) -> None:
    # the registry gives the choices, defaults and help (NumPy and Pillow, which `petnet --help`
    # loads anyway for the other chapters; matplotlib waits for --compare)
    from petnet.filters.api import FILTERS, PARAMS
    from petnet.filters.convolve import BORDERS

    kernels = "\n".join(f"  {name:<10} {FILTERS.get(name).help}" for name in FILTERS)
    description = f"""\
Filter an image with a classic kernel (talk, section 3.1.1) and write the result.

{kernels}

Pixels are read as floats in [0, 1] (8- and 16-bit, grayscale or colour; alpha is kept unchanged).
Edge results are signed: their absolute value is written, scaled so the strongest edge is white.
"""
    color = FILTERS.get("bilateral").defaults["sigma_color"]
    space = FILTERS.get("bilateral").defaults["sigma_space"]
    p = add_command(subparsers, "filter", cmd_filter, inputs=("image",),
                    outputs=(Output("out", "image", example="filtered.png"),
                             Output("compare", "picture", value=_compare_path)),
                    help="filter an image (mean, Gaussian, Sobel, Laplacian, sharpen, bilateral)",
                    description=description, epilog=EPILOG)
    p.add_argument("image", metavar="IMAGE",
                   help="input image (JPEG, PNG with alpha, grayscale, 16-bit PNG, ...)")
    p.add_argument("--kernel", "-k", required=True, choices=FILTERS.names(), help="which filter")
    size_help = PARAMS["size"].replace("sigma_space", "--sigma-space").replace("from sigma", "from --sigma")
    p.add_argument("--size", type=int, default=None, help=size_help)
    p.add_argument("--sigma", type=number, default=None, help=PARAMS["sigma"])
    p.add_argument("--sigma-color", type=positive_number, default=None,
                   help=f"bilateral range sigma, in 0-255 grey levels (default {color:g})")
    p.add_argument("--sigma-space", type=number, default=None,
                   help=f"{PARAMS['sigma_space']} (default {space:g})")
    amount = FILTERS.get("sharpen").defaults["amount"]
    p.add_argument("--amount", type=number, default=None, help=f"{PARAMS['amount']} (default {amount:g})")
    p.add_argument("--border", default=None, choices=list(BORDERS), help=f"{PARAMS['border']} (default)")
    p.add_argument("--out", "-o", required=True, metavar="OUT.png", help="where to write the filtered image")
    p.add_argument("--compare", nargs="?", const="auto", default=None, metavar="FIG.png",
                   help="also write a side-by-side figure original | result (default name: OUT_compare.png)")


    d = add_command(
        subparsers, "denoise", cmd_denoise, inputs=("photo",), outputs=(Output("plot", "picture"),),
        help="add Gaussian and salt-and-pepper noise to a photo, clean it, measure PSNR/SSIM",
        description="Talk 3.1.1, 'mean and Gaussian filters remove noise', measured: the photo gets Gaussian "
                    "noise and salt-and-pepper noise, each is cleaned by the mean, Gaussian, median and "
                    "bilateral filters, and PSNR (dB) and SSIM against the clean photo are printed.",
        epilog="examples:\n  petnet denoise examples/Persian_143.jpg --plot denoise.png\n"
               "  petnet denoise cat.jpg --noise-sigma 0.05 --salt-pepper 0.1",
        params={"random_state": "seed"})
    d.add_argument("photo", metavar="PHOTO", help="the clean photo (JPEG, PNG, ...)")
    d.add_argument("--noise-sigma", dest="noise_sigma", type=number, default=0.1,
                   help="standard deviation of the Gaussian noise, pixels in [0, 1] (default: 0.1)")
    d.add_argument("--salt-pepper", dest="salt_pepper", type=number, default=0.05,
                   help="fraction of pixels set to black or white (default: 0.05)")
    d.add_argument("--sigma-color", dest="sigma_color", type=positive_number, default=None,
                   help="the bilateral filter's colour sigma in 0-255 grey levels, as for petnet filter "
                        "(default: 76.5)")
    d.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    d.add_argument("--max-side", dest="max_side", type=int, default=512,
                   help="cut the photo's centre to at most this many pixels a side (default: 512)")
    d.add_argument("--plot", metavar="OUT.png", help="save the figure: clean, noisy and cleaned photos")
    d.add_argument("--show", action="store_true", help="open the figure in a window")


def cmd_filter(args) -> int:
    from petnet.filters.api import FILTERS, filter_file
    from petnet.safe_io import printable

    spec = FILTERS.get(args.kernel)
    params = {name: getattr(args, name) for name in spec.defaults if getattr(args, name) is not None}
    compare = True if args.compare == "auto" else args.compare
    done = filter_file(args.image, args.out, args.kernel, compare=compare, **params)
    print(f"wrote {printable(done.out)} ({done.width}x{done.height}, {done.kernel}, border {done.border}, "
          f"{done.seconds:.2f} s)")
    if done.compare:
        print(f"wrote {printable(done.compare)} (original | {done.kernel})")
    return 0


def cmd_denoise(args) -> int:
    from petnet.filters.api import check_sigma_color
    from petnet.filters.denoise import denoise, load_photo, plot_denoise
    from petnet.safe_io import printable
    from petnet.filters.image_io import check_output
    if args.plot:                        # a figure that cannot be written is refused before any work
        check_output(args.plot, "plot")
    if args.sigma_color is not None:     # refused before the photo is read
        check_sigma_color(args.sigma_color)
    photo = load_photo(args.photo, args.max_side)
    r = denoise(photo, noise_sigma=args.noise_sigma, salt_pepper=args.salt_pepper, random_state=args.seed,
                sigma_color=args.sigma_color)
    h, w = photo.shape[:2]
    print(f"photo: {printable(args.photo)} ({w}x{h}); Gaussian noise sigma {r.noise_sigma:g}, salt & pepper "
          f"{r.salt_pepper:g} of the pixels, seed {args.seed}")
    shown = {m: ", ".join(f"{k}={v:g}" for k, v in params.items()) for m, params in r.settings.items()}
    width = max(38, *map(len, shown.values()))
    print(f"{'noise':<14} {'filter':<10} {'settings':<{width}} {'PSNR dB':>8} {'SSIM':>7}")
    for row in r.rows:
        settings = shown.get(row.method, "")
        print(f"{row.noise:<14} {row.method:<10} {settings:<{width}} {row.psnr:>8.2f} {row.ssim:>7.4f}")
    for noise in ("gaussian", "salt & pepper"):
        best = r.best(noise)
        print(f"best against {noise} noise: {best.method} ({best.psnr:.2f} dB, SSIM {best.ssim:.4f})")
    if args.plot or args.show:
        plot_denoise(r, out=args.plot, show=args.show)
        if args.plot:
            print(f"figure: {args.plot}")
    return 0
