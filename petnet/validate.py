"""Checks of parameter values, shared by every chapter: one wording, and the parameter named.

Each returns the value converted (``int``/``float``) or raises :class:`~petnet.errors.ParamError`
naming the parameter, e.g. ``check_int("max_iter", 0, min=1)`` -> ``max_iter must be at least 1,
got 0``. The command line rewords the name into its flag. Upper bounds keep work finite: a
parameter that sets how much is computed has a ``max`` so that a typo cannot ask for a year of work
or terabytes of memory.
"""

from __future__ import annotations

import math
import numbers

from petnet.errors import ParamError


def check_int(name: str, value, *, min: int | None = None, max: int | None = None) -> int:
    """A whole number (``bool`` refused) within ``[min, max]``."""
    if isinstance(value, bool):
        raise ParamError(name, f"must be a whole number, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ParamError(name, f"must be a whole number, got {value!r}")
    value = int(value)
    _check_range(name, value, min, max, lambda v: f"{v}")
    return value


def check_number(name: str, value, *, min: float | None = None, max: float | None = None,
                 min_exclusive: bool = False) -> float:
    """A finite real number within ``[min, max]`` (``(min, max]`` with ``min_exclusive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParamError(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParamError(name, f"must be a finite number, got {value}")
    if min is not None and min_exclusive and value <= min:
        raise ParamError(name, f"must be greater than {min:g}, got {value:g}")
    _check_range(name, value, None if min_exclusive else min, max, lambda v: f"{v:g}")
    return value


def check_choice(name: str, value, choices) -> str:
    """One of ``choices`` (a list or a :class:`~petnet.registry.Registry`)."""
    names = choices.names() if hasattr(choices, "names") else list(choices)
    if value not in choices:
        raise ParamError(name, f"must be one of {', '.join(map(str, names))}; got {value!r}")
    return value


def _check_range(name, value, lo, hi, fmt) -> None:
    if lo is not None and value < lo:
        word = {0: "0 or more", 1: "at least 1"}.get(lo, f"at least {fmt(lo)}")
        raise ParamError(name, f"must be {word}, got {fmt(value)}")
    if hi is not None and value > hi:
        raise ParamError(name, f"must be at most {fmt(hi)}, got {fmt(value)}")


def renamed(old: str, new: str, old_value, new_value, default):
    """Support a renamed keyword argument for one release: the value under the new name, or under
    the old one with a ``DeprecationWarning`` (both given: a ``ParamError``)."""
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise ParamError(old, f"is the old name of {new}; give only {new}")
    import warnings
    warnings.warn(f"{old}= is deprecated, use {new}=", DeprecationWarning, stacklevel=3)
    return old_value
