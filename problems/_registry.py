"""Name -> factory registry, so that the CLI and sweeps can build problems from text."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._base import Problem
from ._validate import ParameterError

_FACTORIES: dict[str, Callable[..., Problem]] = {}


def register(name: str) -> Callable[[Callable[..., Problem]], Callable[..., Problem]]:
    """Register a factory under ``name``; its keyword parameters and defaults become the CLI's."""

    def deco(factory: Callable[..., Problem]) -> Callable[..., Problem]:
        if name in _FACTORIES:
            raise RuntimeError(f"problem {name!r} registered twice")
        _FACTORIES[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """The registered problem names, sorted."""
    return sorted(_FACTORIES)


def make(name: str, **params: Any) -> Problem:
    """Build the problem ``name`` with keyword ``params`` (the factory's defaults for the rest).

    Raises:
        ParameterError: for an unknown name or an unknown parameter.
    """
    if name not in _FACTORIES:
        raise ParameterError(f"problem must be one of {', '.join(names())}; got {name!r}")
    factory = _FACTORIES[name]
    known = parameters(name)
    for key in params:
        if key not in known:
            raise ParameterError(
                f"problem {name!r} has no parameter {key!r}; its parameters are {', '.join(known) or '(none)'}"
            )
    return factory(**params)


def parameters(name: str) -> dict[str, Any]:
    """The keyword parameters of problem ``name`` with their defaults."""
    sig = inspect.signature(_FACTORIES[name])
    return {p.name: p.default for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}


def describe(name: str) -> str:
    """The first line of the factory's docstring."""
    doc = inspect.getdoc(_FACTORIES[name]) or ""
    return doc.splitlines()[0] if doc else ""
