"""Registries of names: one place for each list of choices (timm's ``register`` / ``get``).

A registry maps a name to an object (a class, a factory, a function). Everything that offers a
choice by name -- optimizers, losses, activations, backbones -- has exactly one registry, and the
command line takes its ``choices=`` and help text from it, so a new entry touches one module::

    OPTIMIZERS = Registry("optimizer")

    @OPTIMIZERS.register("adam")
    class Adam: ...

    OPTIMIZERS.get("adam")      # the class
    OPTIMIZERS.names()          # ['adagrad', 'adam', ...] for choices=
    OPTIMIZERS.get("adm")       # PetnetError: unknown optimizer 'adm'; choose one of: ...
"""

from __future__ import annotations

from typing import Iterator

from petnet.errors import PetnetError


class Registry:
    """Names -> objects, with aliases that ``get`` accepts but ``names()`` does not list."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, object] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, obj=None, *, aliases: tuple[str, ...] = ()):
        """``register(name, obj)`` or, as a decorator, ``@register(name)``."""
        def add(o):
            key = name.lower()
            if key in self._items or key in self._aliases:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[key] = o
            for a in aliases:
                self._aliases[a.lower()] = key
            return o
        return add if obj is None else add(obj)

    def get(self, name: str, param: str | None = None):
        """The object registered as ``name`` (case-insensitive); a ``PetnetError`` listing the
        choices otherwise. ``param`` names the caller's parameter in that message."""
        key = str(name).lower()
        key = self._aliases.get(key, key)
        if key not in self._items:
            who = f"{param}=" if param else f"{self.kind} "
            raise PetnetError(f"unknown {who}{name!r}; choose one of: {', '.join(self.names())}")
        return self._items[key]

    def names(self) -> list[str]:
        """The registered names (sorted, aliases left out): ``choices=`` of the command line."""
        return sorted(self._items)

    def __contains__(self, name) -> bool:
        key = str(name).lower()
        return key in self._items or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self):
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
