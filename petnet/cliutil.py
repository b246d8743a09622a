"""The building blocks of the ``petnet`` command, shared by every chapter's ``cli.py``.

Each chapter owns its sub-commands in ``petnet/<chapter>/cli.py``, which defines
``register(subparsers)`` with the helpers below; :mod:`petnet.cli` (the top floor) calls every
``register`` and runs the command. The conventions, the same everywhere:

* a command is added with :func:`add_command` and handled by ``cmd_<name>(args)`` in that
  chapter's ``cli.py``, which turns flags into keyword arguments of the chapter's Python API,
  calls it, and prints what it returns;
* a group (``petnet gd``, ``petnet nn``, ...) is added with :func:`add_group`; bare, it prints its
  help and exits 2;
* numeric flags use the ``type=`` checkers below (a bad value is argparse's one-line usage error);
* a ``ParamError`` names the library's parameter (``max_iter``); :func:`flag_for` finds the flag
  that fed it (``--how_many_training_steps``), from the command's
  ``params={"max_iter": "how_many_training_steps"}`` map or, by default, the flag whose ``dest`` is
  the parameter's name;
* every command declares the files it reads and writes (``inputs=`` / ``outputs=``, required:
  :class:`~petnet.output_guard.Input`, :class:`~petnet.output_guard.Output` or a flag's ``dest``),
  and :func:`guard_command` -- called by the top-level command before the handler -- hands them all
  to :func:`petnet.output_guard.guard`: an output that would destroy an input, another output or a
  photo is refused before anything is written (``tests/test_output_guard.py`` walks every command).

This module is a base module (``docs/architecture.md``): it imports no chapter, so every chapter's
``cli.py`` can import it without running back up to :mod:`petnet.cli`.
"""

from __future__ import annotations

import argparse
import math

from petnet.errors import PetnetError
from petnet.output_guard import Input, Output, guard

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
    group.set_defaults(func=lambda args: (group.print_help(), 2)[1], _parser=group, _params={},
                       _inputs=(), _outputs=())
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def add_command(subparsers, name: str, handler, *, help: str, inputs, outputs, description: str | None = None,
                epilog: str | None = None, params: dict[str, str] | None = None):
    """A command handled by ``handler(args) -> exit status``; returns its parser.

    ``inputs`` / ``outputs`` (required, ``()`` for none): every file the command reads and writes,
    as :class:`~petnet.output_guard.Input` / :class:`~petnet.output_guard.Output` or a flag's
    ``dest`` (an input file / an output file); :func:`guard_command` checks them before the handler
    runs. ``params`` maps library parameter names to the ``dest`` of the flag that feeds them where
    the two differ, so a ``ParamError`` is reported with the flag the user typed."""
    p = subparsers.add_parser(name, help=help, description=description or help, epilog=epilog,
                              formatter_class=RAW)
    p.set_defaults(func=handler, _parser=p, _params=dict(params or {}), _inputs=(), _outputs=())
    declare(p, inputs=inputs, outputs=outputs)
    return p


def declare(parser, *, inputs=(), outputs=()) -> None:
    """Add inputs and outputs to a command's declaration (a floor above adds its flags' files:
    ``petnet.scale.cli`` declares ``petnet predict --out``)."""
    def specs(items, cls):
        if isinstance(items, (str, Input, Output)):
            raise TypeError(f"give a tuple of {cls.__name__}s or dests, got {items!r}")
        return tuple(item if isinstance(item, cls) else cls(item) for item in items)
    parser.set_defaults(_inputs=parser.get_default("_inputs") + specs(inputs, Input),
                        _outputs=parser.get_default("_outputs") + specs(outputs, Output))


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
        if action.dest == dest:        # the long spelling (--output rather than -o)
            long = [o for o in action.option_strings if o.startswith("--")]
            return (long or action.option_strings)[0] if action.option_strings else action.metavar or dest
    return None


def guard_command(args) -> None:
    """:func:`petnet.output_guard.guard` of every declared input and output of the parsed command,
    named by their flags (``--out``, ``IMAGE``): a ``PetnetError`` before anything is written."""
    outputs, inputs, kinds, examples = {}, {}, {}, {}
    for spec in getattr(args, "_inputs", ()):
        name = flag_for(args, spec.dest) or spec.dest
        inputs[name] = spec.value(args) if spec.value else getattr(args, spec.dest, None)
        kinds[name] = spec.kind
    for spec in getattr(args, "_outputs", ()):
        name = flag_for(args, spec.dest) or spec.dest
        outputs[name] = spec.value(args) if spec.value else getattr(args, spec.dest, None)
        kinds[name] = spec.kind
        if spec.example:
            examples[name] = spec.example
    guard(outputs, inputs, kinds=kinds, examples=examples)
