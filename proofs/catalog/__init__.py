"""The bound catalog: every theorem of THEORY.md encoded with its checked chain.

Each module of this package defines ``theorems() -> list[Theorem]`` and ``mutations() ->
dict[str, Theorem]`` (deliberately wrong variants that verification must reject). The
catalog is assembled lazily, in THEORY.md order.
"""

from __future__ import annotations

import dataclasses
import importlib
from functools import lru_cache

from ..engine import Theorem

MODULES = ("a_quadratics", "a_thresholds", "a_stationary", "a_finite_sum", "b_deterministic", "c_sgd", "d_extrapolation", "e_smoothing",
           "g_h_stability", "cited")


def _load(module: str):  # noqa: ANN202
    return importlib.import_module(f"{__name__}.{module}")


def _available() -> list[str]:
    out = []
    for m in MODULES:
        try:
            _load(m)
        except ModuleNotFoundError as err:  # a module not written yet is simply absent
            if err.name != f"{__name__}.{m}":
                raise
            continue
        out.append(m)
    return out


@lru_cache(maxsize=1)
def catalog() -> dict[str, Theorem]:
    """All theorems by name, in THEORY.md order."""
    from .runs import SCOPES

    out: dict[str, Theorem] = {}
    for m in _available():
        for th in _load(m).theorems():
            if th.name in out:
                raise RuntimeError(f"theorem {th.name!r} defined twice")
            if th.bound is not None and th.name in SCOPES:  # which runs the bound speaks about (runs.py)
                th = dataclasses.replace(th, bound=dataclasses.replace(th.bound, scope=SCOPES[th.name]))
            out[th.name] = th
    return out


def mutations() -> dict[str, Theorem]:
    """Wrong variants, by a descriptive name, that verification must reject."""
    out: dict[str, Theorem] = {}
    for m in _available():
        mod = _load(m)
        if hasattr(mod, "mutations"):
            out.update(mod.mutations())
    return out


def select(names: list[str] | None = None) -> list[Theorem]:
    """The named theorems (all if ``names`` is empty); a name may also be a section (``"A2"``).

    Raises:
        KeyError: naming the unknown entry and the known names.
    """
    cat = catalog()
    if not names:
        return list(cat.values())
    out: list[Theorem] = []
    for n in names:
        hits = [th for th in cat.values() if th.name == n or th.section == n]
        if not hits:
            raise KeyError(f"no theorem or section {n!r}; known: {', '.join(cat)}")
        out.extend(th for th in hits if th not in out)
    return out
