"""Parameter checks: one wording everywhere, the parameter named, reworded into flags by the CLI."""

import argparse
import warnings

import pytest

from petnet.cliutil import add_command, flag_for
from petnet.errors import ParamError, PetnetError
from petnet.validate import check_choice, check_int, check_number, renamed


def test_check_int():
    assert check_int("n", 3, min=1) == 3 and check_int("n", 4.0) == 4
    for bad, msg in [(0, "n must be at least 1, got 0"), (2.5, "n must be a whole number, got 2.5"),
                     (True, "n must be a whole number"), ("3", "n must be a whole number"),
                     (11, "n must be at most 10, got 11")]:
        with pytest.raises(ParamError, match=msg) as e:
            check_int("n", bad, min=1, max=10)
        assert e.value.param == "n" and isinstance(e.value, PetnetError)


def test_check_number_and_choice():
    assert check_number("lr", 1e-3, min=0, min_exclusive=True) == 1e-3
    for bad, msg in [(0, "lr must be greater than 0, got 0"), (float("nan"), "finite"),
                     (float("inf"), "finite"), ("x", "must be a number")]:
        with pytest.raises(ParamError, match=msg):
            check_number("lr", bad, min=0, min_exclusive=True)
    with pytest.raises(ParamError, match="l2 must be 0 or more, got -1"):
        check_number("l2", -1, min=0)
    assert check_choice("kind", "a", ["a", "b"]) == "a"
    with pytest.raises(ParamError, match="kind must be one of a, b; got 'c'"):
        check_choice("kind", "c", ["a", "b"])


def test_renamed_keyword():
    assert renamed("steps", "max_iter", None, 5, 1) == 5
    assert renamed("steps", "max_iter", None, None, 1) == 1
    with pytest.warns(DeprecationWarning, match="steps= is deprecated, use max_iter="):
        assert renamed("steps", "max_iter", 7, None, 1) == 7
    with pytest.raises(ParamError, match="give only max_iter"), warnings.catch_warnings():
        renamed("steps", "max_iter", 7, 8, 1)


def test_cli_names_the_flag_that_fed_the_parameter():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    p = add_command(sub, "go", lambda a: 0, help="x", inputs=(), outputs=(), params={"max_iter": "how_many_training_steps"})
    p.add_argument("--how_many_training_steps", type=int)
    p.add_argument("--learning-rate", dest="learning_rate")
    args = parser.parse_args(["go"])
    assert flag_for(args, "max_iter") == "--how_many_training_steps"
    assert flag_for(args, "learning_rate") == "--learning-rate"      # same dest: no map needed
    assert flag_for(args, "nothing") is None
    err = ParamError("max_iter", "must be at least 1, got 0")
    assert err.renamed(flag_for(args, "max_iter")) == "--how_many_training_steps must be at least 1, got 0"
