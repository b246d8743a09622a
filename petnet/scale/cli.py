"""The ``--ray`` flags of ``petnet predict`` and ``petnet retrain`` (issue: beyond one machine).

``petnet.pets`` is a floor below ``petnet.scale`` (``docs/architecture.md``) and never imports it:
:func:`register`, called by the top-level command after ``petnet.pets.cli`` registered the two
commands, adds the flags to them (:func:`add_predict_flags` / :func:`add_retrain_flags`) and routes
their ``--ray`` runs: ``predict --ray`` to :func:`cmd_predict_ray`, ``retrain --ray`` to the
retrain command with a :class:`~petnet.scale.features.RayBackbone` as its backbone. Ray itself is
only imported when ``--ray`` is given, so the single-machine path works without the extra."""

from __future__ import annotations

import sys

from petnet.cliutil import declare, positive_int
from petnet.output_guard import Output

RAY_HELP = ("run on Ray: 'local' (a private cluster on this machine), 'auto' (the cluster this "
            "machine joined with 'ray start'), or ray://HOST:10001")


def register(subparsers) -> None:
    """Add the Ray flags to ``petnet predict`` and ``petnet retrain`` (already registered by
    ``petnet.pets.cli``) and route their ``--ray`` runs here; without ``--ray`` each runs as before."""
    predict, retrain = subparsers.choices["predict"], subparsers.choices["retrain"]
    add_predict_flags(predict)
    declare(predict, outputs=(Output("out", "results"),))     # checked against the photos, like --sheet
    add_retrain_flags(retrain)
    local_predict, local_retrain = predict.get_default("func"), retrain.get_default("func")

    def cmd_predict(args) -> int:
        return cmd_predict_ray(args) if args.ray else local_predict(args)

    def cmd_retrain(args) -> int:
        if args.ray:
            args.backbone_factory = retrain_backbone_factory(args, args.architecture)
        return local_retrain(args)

    predict.set_defaults(func=cmd_predict)
    retrain.set_defaults(func=cmd_retrain)


def add_predict_flags(parser) -> None:
    """``--ray``, ``--out``, ``--workers`` (the recognition flags, ``--device`` among them, are
    ``petnet predict``'s own: :func:`petnet.pets.cli.add_recognition_flags`)."""
    g = parser.add_argument_group("bulk recognition on Ray (pip install 'petnet[ray]')")
    g.add_argument("--ray", metavar="ADDRESS", default=None, help=RAY_HELP)
    g.add_argument("--out", metavar="FILE", default=None,
                   help="with --ray: results.parquet (a folder of parts) or results.jsonl; rerunning "
                        "with the same --out skips the photos already there")
    g.add_argument("--workers", type=positive_int, default=None,
                   help="with --ray: actors, each holding one model (default: one per CPU)")


def add_retrain_flags(parser) -> None:
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="compute the missing bottleneck features on Ray (" + RAY_HELP + ")")


def retrain_backbone_factory(args, architecture: str):
    """What ``retrain(backbone_factory=...)`` gets for ``--ray``: the cluster's backbone on ``--device``."""
    import functools

    from petnet.pets.quantize import resolve_precision
    from petnet.scale.features import RayBackbone
    # the workers' backbones compute at the precision retrain stores in the model (int8: CPU only)
    precision = resolve_precision(getattr(args, "precision", "fp32"), architecture, "onnx",
                                  "cpu" if args.device == "cpu" else "cuda")
    return functools.partial(RayBackbone, architecture, args.ray, device=args.device, precision=precision)


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

    def report(event):                 # a ProgressEvent: photos with a row, of all photos
        nonlocal bar
        if bar is None:
            bar = progress(total=event.total, desc="photos", unit="img", quiet=args.quiet)
        bar.n = event.step
        bar.refresh()

    from petnet.pets.cli import recognizer_config
    config = recognizer_config(args)          # checked here, before Ray starts
    try:
        res = bulk_predict(args.paths, args.out, ray_address=args.ray, workers=args.workers,
                           config=config, progress=report)
    finally:
        if bar is not None:
            bar.close()
    print(f"{res.total} photos: {res.already_done} already in {res.out}, {res.written} written "
          f"({res.errors} unreadable, as error rows) by {res.workers} worker(s) in {res.seconds:.1f} s",
          file=sys.stderr)
    return 0
