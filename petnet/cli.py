"""The ``petnet`` command: a thin shell over the library, one sub-command group per chapter.

Each chapter owns its sub-commands in ``petnet/<chapter>/cli.py``, which defines
``register(subparsers)`` with the helpers below. The conventions, the same everywhere:

* a command is added with :func:`add_command` and handled by ``cmd_<name>(args)`` in that
  chapter's ``cli.py``, which turns flags into keyword arguments of the chapter's Python API,
  calls it, and prints what it returns;
* a group (``petnet gd``, ``petnet nn``, ...) is added with :func:`add_group`; bare, it prints its
  help and exits 2;
* numeric flags use the ``type=`` checkers below (a bad value is argparse's one-line usage error);
* a ``PetnetError`` -- a mistake the user can fix -- is printed as one ``error:`` line with exit
  status 2, never a traceback. A ``ParamError`` names the library's parameter (``max_iter``); it is
  reworded with the flag that fed it (``--how_many_training_steps``), from the command's
  ``params={"max_iter": "how_many_training_steps"}`` map or, by default, the flag whose ``dest`` is
  the parameter's name.

Only the chapters' ``cli.py`` modules import argparse. Heavy libraries (torch, matplotlib,
onnxruntime) are imported inside the handlers, and chapter APIs lazily, so ``petnet --help``
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys

from petnet import __version__
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
    "petnet.serve.cli",     # petnet serve: the web app over chapter 6
)

EPILOG = """\
main job:  petnet predict examples/          recognise pets (top 3, Chinese and English names)
           petnet retrain --image_dir PHOTOS  retrain the last layer on your own pets
chapters:  petnet gd fit | petnet filter | petnet nn gradcheck | petnet backprop | petnet vgg summary
Run 'petnet COMMAND --help' for the options of each command.
"""

RAW = argparse.RawDescriptionHelpFormatter


# --------------------------------------------------------------------------- type= checkers
def positive_int(text: str) -> int:
    """A whole number >= 1."""
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def nonneg_int(text: str) -> int:
    """A whole number >= 0."""
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def number(text: str) -> float:
    """A finite number."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def positive_number(text: str) -> float:
    """A finite number > 0."""
    v = number(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return v


def nonneg_number(text: str) -> float:
    """A finite number >= 0."""
    v = number(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return v


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


# --------------------------------------------------------------------------- building commands
def add_group(subparsers, name: str, *, help: str, description: str, epilog: str | None = None):
    """A command group (``petnet gd ...``); returns the sub-parsers to add its commands to.
    The bare group prints its help and exits 2."""
    group = subparsers.add_parser(name, help=help, description=description, epilog=epilog,
                                  formatter_class=RAW)
    group.set_defaults(func=lambda args: (group.print_help(), 2)[1], _parser=group, _params={})
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def add_command(subparsers, name: str, handler, *, help: str, description: str | None = None,
                epilog: str | None = None, params: dict[str, str] | None = None):
    """A command handled by ``handler(args) -> exit status``; returns its parser.

    ``params`` maps library parameter names to the ``dest`` of the flag that feeds them where the
    two differ, so a ``ParamError`` is reported with the flag the user typed."""
    p = subparsers.add_parser(name, help=help, description=description or help, epilog=epilog,
                              formatter_class=RAW)
    p.set_defaults(func=handler, _parser=p, _params=dict(params or {}))
    return p


def add_flag(parser, name: str, **kw) -> None:
    """``--name_with_underscores`` plus the dashed alias ``--name-with-underscores`` (retrain.py's
    spelling and the usual one)."""
    flags = [f"--{name}"]
    if "_" in name:
        flags.append(f"--{name.replace('_', '-')}")
    kw.setdefault("dest", name)
    parser.add_argument(*flags, **kw)


def flag_for(args, param: str) -> str | None:
    """The command-line spelling of the library parameter ``param`` for the parsed command."""
    parser = getattr(args, "_parser", None)
    if parser is None:
        return None
    dest = getattr(args, "_params", {}).get(param, param)
    for action in parser._actions:
        if action.dest == dest:
            return action.option_strings[0] if action.option_strings else action.metavar or dest
    return None


def check_outputs(args, *, pictures=(), inputs=()) -> None:
    """Refuse, before any work, picture paths that are almost certainly a mistake (a folder, a name
    ending in ``/``, a FIFO or device, no picture extension, an empty path) and outputs that would
    overwrite an input or each other, however spelled. ``pictures`` / ``inputs`` name flag dests of
    ``args``; unset ones are skipped. Messages name the flags."""
    from petnet.plotting import check_picture_path
    from petnet.safe_io import check_distinct

    def given(dests):
        named = {}
        for dest in dests:
            value, flag = getattr(args, dest, None), flag_for(args, dest) or dest
            if value == "":        # "$OUT" with OUT unset: not "no output", a mistake
                raise PetnetError(f"{flag} is empty: no path was given (an unset shell variable?); give a path")
            if value is not None:
                named[flag] = value
        return named
    outs = given(pictures)
    for flag, path in outs.items():
        check_picture_path(path, flag)
    check_distinct(given(inputs), outs)


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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
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
