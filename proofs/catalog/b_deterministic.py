"""THEORY.md §B: deterministic GD and extragradient (EG), encoded as checked chains.

The entries live in two modules, split by method; this module assembles them in THEORY.md order
for the catalog (:data:`proofs.catalog.MODULES`):

* :mod:`proofs.catalog.b_gd`: B1 (GD, nonconvex), B2 witness (Huber, exact), B3 (GD, (SC)+(L),
  exact), B4 (GD, PL);
* :mod:`proofs.catalog.b_eg`: B5 (deterministic EG, nonconvex), B6 (EG, PL), B7 (EG, convex).

The shared symbols and helpers (also used by :mod:`proofs.catalog.c_sgd`) are in
:mod:`proofs.catalog._common`.
"""

from __future__ import annotations

from ..engine import Theorem
from . import b_eg, b_gd

PARTS = (b_gd, b_eg)


def theorems() -> list[Theorem]:
    return [th for part in PARTS for th in part.theorems()]


def mutations() -> dict[str, Theorem]:
    return {name: th for part in PARTS for name, th in part.mutations().items()}
