"""The ``petnet`` command: a thin shell over the library, one sub-command group per chapter.

Each chapter owns its sub-commands in ``petnet/<chapter>/cli.py``, which defines
``register(subparsers)`` with the helpers of :mod:`petnet.cliutil` (the conventions are written
there). This module, the top floor of ``docs/architecture.md``, only wires them: it calls every
chapter's ``register`` and runs the command. A ``PetnetError`` -- a mistake the user can fix -- is
printed as one ``error:`` line with exit status 2, never a traceback; a ``ParamError`` is reworded
with the flag that fed it (:func:`petnet.cliutil.flag_for`). Before a command runs, its declared
inputs and outputs go through the output guard (:func:`petnet.cliutil.guard_command`).

Only the ``cli.py`` modules (and :mod:`petnet.cliutil`) import argparse. Heavy libraries (torch,
matplotlib, onnxruntime) are imported inside the handlers, and chapter APIs lazily, so
``petnet --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from petnet import __version__
from petnet.cliutil import RAW, flag_for, guard_command
from petnet.errors import ParamError, PetnetError

# chapter modules, in the order of the talk
CHAPTERS = (
    "petnet.gd.cli",        # petnet gd ...             (chapter 2)
    "petnet.filters.cli",   # petnet filter ...         (chapter 3.1)
    "petnet.haar.cli",      # petnet haar ...           (chapter 3.1.2)
    "petnet.nn.cli",        # petnet nn ..., backprop   (chapters 3-4)
    "petnet.vgg.cli",       # petnet vgg ...            (chapter 5)
    "petnet.pets.cli",      # petnet retrain / predict / export (chapter 6)
    "petnet.pets.transfer_cli",  # petnet transfer: a CNN from scratch vs the retrained last layer
    "petnet.scale.cli",     # --ray for predict and retrain (after pets.cli, which adds the commands)
    "petnet.serve.cli",     # petnet serve: the web app over chapter 6
)

EPILOG = """\
main job:  petnet predict examples/          recognise pets (top 3, Chinese and English names)
           petnet retrain --image_dir PHOTOS  retrain the last layer on your own pets
chapters:  petnet gd fit | petnet filter | petnet nn gradcheck | petnet backprop | petnet vgg summary
Run 'petnet COMMAND --help' for the options of each command.
"""


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petnet",
        description="From gradient descent to pet recognition: the talk's five chapters as working software.",
        epilog=EPILOG,
        formatter_class=RAW,
    )
    parser.add_argument("--version", action="version", version=f"petnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in CHAPTERS:
        importlib.import_module(name).register(subparsers)
    # what a lower chapter's command borrows from a higher one, handed down (never imported up)
    parser.set_defaults(pet_recognizer=pet_recognizer)
    return parser


def pet_recognizer(**kwargs):
    """Chapter 6's recognizer (``petnet.pets.Recognizer(**kwargs)``), for the commands of lower
    chapters that show it at work (``petnet nn pooling``: ``args.pet_recognizer(top=1)``)."""
    from petnet.pets import Recognizer
    return Recognizer(**kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        guard_command(args)          # every declared output against every input, before any work
        status = args.func(args)
    except ParamError as exc:
        flag = flag_for(args, exc.param)
        print(f"error: {exc.renamed(flag) if flag else exc}", file=sys.stderr)
        return 2
    except PetnetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not raise again
        return 141  # 128 + SIGPIPE, as a shell reports it
    except OSError as exc:  # a path the user gave that cannot be made, read or written
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}; check the path and its permissions",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (anything already cached is kept; run the same command again to resume)",
              file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    raise SystemExit(main())
