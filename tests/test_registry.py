"""The one registry mechanism behind every list of names (optimizers, losses, backbones, ...)."""

import pytest

from petnet import optim
from petnet.errors import PetnetError
from petnet.registry import Registry


def test_register_get_names_and_aliases():
    r = Registry("widget")

    @r.register("b")
    class B:
        pass

    r.register("a", 1, aliases=("alpha",))
    assert r.get("B") is B and r.get("alpha") == 1
    assert r.names() == ["a", "b"] and "alpha" in r and "c" not in r and len(r) == 2
    with pytest.raises(PetnetError, match=r"unknown widget 'c'; choose one of: a, b"):
        r.get("c")
    with pytest.raises(PetnetError, match=r"unknown kind='c'"):
        r.get("c", param="kind")
    with pytest.raises(ValueError, match="twice"):
        r.register("alpha", 2)


def test_optimizers_come_from_one_registry():
    assert optim.OPTIMIZERS.names() == ["adagrad", "adam", "gd", "momentum", "nesterov", "rmsprop"]
    assert isinstance(optim.get("sgd", lr=0.1), optim.GD)           # alias of gd, not listed
    with pytest.raises(PetnetError, match=r"unknown solver='lbfgs'"):
        optim.get("lbfgs", param="solver")
