"""Name -> factory registry, so that the CLI and sweeps can build problems from text."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._base import Problem
from ._validate import ParameterError, check_bool, check_int, check_real

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
    if not isinstance(name, str) or name not in _FACTORIES:
        raise ParameterError(f"problem must be one of {', '.join(names())}; got {name!r}")
    factory = _FACTORIES[name]
    known = parameters(name)
    for key, value in params.items():
        if key not in known:
            raise ParameterError(
                f"problem {name!r} has no parameter {key!r}; its parameters are {', '.join(known) or '(none)'}"
            )
        _check_type(key, value, known[key])
    return factory(**params)


def _check_type(key: str, value: Any, default: Any) -> None:
    """The value has the kind of the default: a bool for a bool, a number (never a bool) for a number."""
    if isinstance(default, bool):
        check_bool(key, value)
    elif isinstance(default, int):
        check_int(key, value)
    elif isinstance(default, float):
        check_real(key, value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise ParameterError(f"{key} must be a string (default {default!r}); got {value!r}")


def parameters(name: str) -> dict[str, Any]:
    """The keyword parameters of problem ``name`` with their defaults."""
    sig = inspect.signature(_FACTORIES[name])
    return {p.name: p.default for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}


def parameter_help(name: str) -> dict[str, str]:
    """What each parameter of problem ``name`` means and its range: the ``Args:`` entries of its factory."""
    import re

    doc = inspect.getdoc(_FACTORIES[name]) or ""
    out: dict[str, str] = {}
    if "Args:" in doc:
        current = None
        for line in doc.split("Args:", 1)[1].split("\n\n")[0].splitlines():
            m = re.match(r"\s{4}(\w+): (.*)", line)
            if m:
                current = m.group(1)
                out[current] = m.group(2)
            elif current and line.strip():
                out[current] += " " + line.strip()
    return out


def describe(name: str) -> str:
    """The first line of the factory's docstring."""
    doc = inspect.getdoc(_FACTORIES[name]) or ""
    return doc.splitlines()[0] if doc else ""
