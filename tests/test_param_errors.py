"""A bad value of a named parameter is a ``ParamError(param, "must ...")``, never a plain
``PetnetError("<param> must ...")``: only a ``ParamError`` carries the parameter's name, which the
command line rewords into the flag that fed it (``--min_pet_score must be between 0 and 1``).

Every ``PetnetError(...)`` call under ``petnet/`` is read with ``ast``; its message must not start
with an identifier (or ``{identifier}``, or ``a and b``) followed by ``must``. The checker is run
on made-up code first, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

NAMED = re.compile(r"^(\{(?P<var>[A-Za-z_]\w*)\}|(?P<name>[A-Za-z_]\w*))(?P<more> and [A-Za-z_]\w*)? must\b")


def message_start(node: ast.expr) -> str | None:
    """The literal text a message argument starts with (``{name}`` for a formatted variable)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                out.append("{" + part.value.id + "}")
            else:
                out.append("{...}")
        return "".join(out)
    return None


def named_petnet_errors(source: str, filename: str = "<code>") -> list[str]:
    """``file:line`` and the fix of every ``PetnetError("<param> must ...")`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        text = message_start(node.args[0]) if func == "PetnetError" else None
        m = NAMED.match(text) if text else None
        if m:
            param = m.group("var") or repr(m.group("name"))
            rest = text[m.end("name") if m.group("name") else m.end(1):].lstrip()
            found.append(f"{filename}:{node.lineno}: PetnetError({text[:60]!r}...) names the parameter {param}: "
                         f"raise ParamError({param}, {rest[:40]!r}...) instead, so that the command line can "
                         "say it with the flag that fed it (petnet/errors.py)")
    return found


def test_the_checker_finds_a_named_parameter_in_a_plain_error():
    code = '''
from petnet.errors import ParamError, PetnetError
from petnet import errors
def f(name, x):
    raise PetnetError(f"max_iter must be at least 1, got {x}")
    raise PetnetError(f"{name} must be between 0 and 1, got {x}")
    raise errors.PetnetError("X and y must contain numbers only")
    raise PetnetError(
        f"species_logodds must have one value per photo "
        f"and view, got {x}")
    raise PetnetError("no photos to recognise")                  # no parameter: fine
    raise PetnetError(f"{name} is not a regular file")           # a path, not "must": fine
    raise PetnetError("every photo must be a file")              # not "<parameter> must": fine
    raise ParamError("max_iter", "must be at least 1")           # the right way
'''
    found = named_petnet_errors(code, "made_up.py")
    assert [f.split(": PetnetError")[0] for f in found] == ["made_up.py:5", "made_up.py:6", "made_up.py:7",
                                                             "made_up.py:8"]
    assert "raise ParamError('max_iter', 'must be at least 1, got {x}'...)" in found[0]
    assert "names the parameter name: raise ParamError(name, 'must be between" in found[1]
    assert "raise ParamError('X', 'and y must contain" in found[2]


def test_no_plain_error_names_a_parameter():
    files = sorted((ROOT / "petnet").rglob("*.py"))
    assert len(files) > 100
    found = [f for path in files
             for f in named_petnet_errors(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not found, f"{len(found)} plain PetnetError(s) name a parameter:\n" + "\n".join(found)


def test_a_param_error_keeps_the_parameter():
    """What the command line needs to say the flag: the parameter, kept apart from the problem."""
    from petnet.cliutil import add_command, flag_for
    from petnet.errors import ParamError
    from petnet.pets.calibration import fit_temperature
    from petnet.pets.openworld import check_score
    from petnet.serve.store import check_class_name
    for call, param in ((lambda: fit_temperature([[1.0, 2.0]], [0], t_min=2, t_max=1), "t_min"),
                        (lambda: check_score(2, "min_pet_score"), "min_pet_score"),
                        (lambda: check_class_name(""), "name"), (lambda: check_class_name(3), "name")):
        try:
            call()
        except ParamError as exc:
            assert exc.param == param and str(exc).startswith(param + " ")
            if param == "min_pet_score":            # as petnet predict reports it
                import argparse
                sub = argparse.ArgumentParser().add_subparsers()
                p = add_command(sub, "predict", None, help="x", inputs=(), outputs=())
                p.add_argument("--min_pet_score", "--min-pet-score", dest="min_pet_score")
                args = p.parse_args([])
                assert exc.renamed(flag_for(args, exc.param)) == "--min_pet_score must be between 0 and 1, got 2"
        else:
            raise AssertionError(f"no ParamError for {param}")
