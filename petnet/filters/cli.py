"""``petnet filter``: filter an image file with one of the talk's kernels (chapter 3.1).

Flags -> keyword arguments of :func:`petnet.filters.filter_file` -> the line it printed.
The ``--kernel`` choices and their help come from the registry ``petnet.filters.api.FILTERS``.
"""

from __future__ import annotations

from petnet.cli import add_command, number, positive_number

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
    color = FILTERS.get("bilateral").defaults["sigma_color"] * 255
    space = FILTERS.get("bilateral").defaults["sigma_space"]
    p = add_command(subparsers, "filter", cmd_filter,
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


def cmd_filter(args) -> int:
    from petnet.filters.api import FILTERS, filter_file
    from petnet.safe_io import check_distinct, printable

    spec = FILTERS.get(args.kernel)
    params = {name: getattr(args, name) for name in spec.defaults if getattr(args, name) is not None}
    if "sigma_color" in params:          # grey levels on the command line, [0, 1] pixels in the library
        params["sigma_color"] /= 255.0
    compare = True if args.compare == "auto" else args.compare
    check_distinct({"IMAGE": args.image}, {"--out": args.out, "--compare": compare if compare is not True else None})
    done = filter_file(args.image, args.out, args.kernel, compare=compare, **params)
    print(f"wrote {printable(done.out)} ({done.width}x{done.height}, {done.kernel}, border {done.border}, "
          f"{done.seconds:.2f} s)")
    if done.compare:
        print(f"wrote {printable(done.compare)} (original | {done.kernel})")
    return 0
