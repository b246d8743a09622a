"""The ``--ray`` and ``--device`` flags of ``petnet predict`` and ``petnet retrain`` (issue: beyond
one machine). ``petnet/pets/cli.py`` adds them with :func:`add_predict_flags` /
:func:`add_retrain_flags` and hands ``--ray`` runs to :func:`cmd_predict_ray`; Ray itself is only
imported when ``--ray`` is given, so the single-machine path works without the extra."""

from __future__ import annotations

import sys

from petnet.cliutil import positive_int

DEVICE_HELP = "cpu (default), cuda, or auto (CUDA when ONNX Runtime or PyTorch sees a GPU)"
RAY_HELP = ("run on Ray: 'local' (a private cluster on this machine), 'auto' (the cluster this "
            "machine joined with 'ray start'), or ray://HOST:10001")


def add_predict_flags(parser) -> None:
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"), help=DEVICE_HELP)
    g = parser.add_argument_group("bulk recognition on Ray (pip install 'petnet[ray]')")
    g.add_argument("--ray", metavar="ADDRESS", default=None, help=RAY_HELP)
    g.add_argument("--out", metavar="FILE", default=None,
                   help="with --ray: results.parquet (a folder of parts) or results.jsonl; rerunning "
                        "with the same --out skips the photos already there")
    g.add_argument("--workers", type=positive_int, default=None,
                   help="with --ray: actors, each holding one model (default: one per CPU)")


def add_retrain_flags(parser) -> None:
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"), help=DEVICE_HELP)
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="compute the missing bottleneck features on Ray (" + RAY_HELP + ")")


def retrain_backbone_factory(args, architecture: str):
    """What ``retrain(backbone_factory=...)`` gets for ``--ray`` / ``--device`` (None: the default)."""
    import functools
    if args.ray:
        from petnet.scale.features import RayBackbone
        return functools.partial(RayBackbone, architecture, args.ray, device=args.device)
    if args.device != "cpu":
        from petnet.pets.backbone import Backbone
        return functools.partial(Backbone, architecture, device=args.device)
    return None


def cmd_predict_ray(args) -> int:
    """``petnet predict SRC... --ray ADDRESS --out results.parquet``."""
    from petnet.errors import PetnetError
    from petnet.progress import progress
    from petnet.scale.bulk import bulk_predict

    if not args.out:
        raise PetnetError("--ray writes its rows to a file: add --out results.parquet (or .jsonl)")
    if args.json or args.csv or args.sheet or args.show:
        raise PetnetError("--ray writes --out; --json, --csv, --sheet and --show are for local runs")
    bar = None

    def report(done, total):
        nonlocal bar
        if bar is None:
            bar = progress(total=total, desc="photos", unit="img", quiet=args.quiet)
        bar.n = done
        bar.refresh()

    try:
        res = bulk_predict(args.paths, args.out, ray_address=args.ray, workers=args.workers,
                           model=args.model, top=args.top, labels=args.labels, names=args.names,
                           architecture=args.architecture, engine=args.engine, device=args.device,
                           progress=report)
    finally:
        if bar is not None:
            bar.close()
    print(f"{res.total} photos: {res.already_done} already in {res.out}, {res.written} written "
          f"({res.errors} unreadable, as error rows) by {res.workers} worker(s) in {res.seconds:.1f} s",
          file=sys.stderr)
    return 0
