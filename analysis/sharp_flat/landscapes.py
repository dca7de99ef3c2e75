"""The landscapes of the sharp/flat study: a problem with sharp and flat minima, a start, a barrier.

:func:`landscapes` gives the two of ``xtrap sharp-flat`` (two-basin, d = 2, and cosine, d = 1), each
started at its sharp minimum; ``barrier`` is the distance along :math:`x_1` from there to the nearest flat
basin, the way out that :func:`analysis.sharp_flat.overlays.stationary_std` is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import problems
from problems import Minimum, Problem


@dataclass(frozen=True)
class Landscape:
    """A problem with labelled minima, a start, and the shift scale of its generalization proxy."""

    name: str
    problem: Problem
    x0: np.ndarray
    why: str
    barrier: float  # distance along x_1 (the sharp direction) from the sharp minimum to the nearest flat basin
    shift: float = 0.1

    def index(self, label: str) -> np.ndarray:
        """Indices of the minima labelled ``label``."""
        return _indices(self.problem, label)

    def minimum(self, label: str) -> Minimum:
        """The first minimum labelled ``label``."""
        return self.problem.minima[int(self.index(label)[0])]

    def curvature(self, label: str) -> float:
        """:math:`\\lambda_{\\max}` of the (first) minimum labelled ``label``."""
        return float(np.linalg.eigvalsh(self.minimum(label).hessian)[-1])


def _indices(p: Problem, label: str) -> np.ndarray:
    return np.array([i for i, m in enumerate(p.minima) if m.label == label], dtype=int)


def _sharp(p: Problem) -> np.ndarray:
    return np.asarray(p.minima[int(_indices(p, "sharp")[0])].x)


def landscapes() -> list[Landscape]:
    """The two landscapes of ``xtrap sharp-flat``; every run starts at the sharp minimum (+1e-3 along :math:`x_1`)."""
    tb = problems.make("two-basin", confinement=1.0)
    cs = problems.make("cosine", dim=1, noise=1.0)
    flat = _indices(cs, "flat")  # d = 1: minimum k is the 1-D minimum s_k, its basin (r_(k-1), r_k)
    edges = [cs.maxs_1d[k - 1] for k in flat if k > 0] + [cs.maxs_1d[k] for k in flat if k < len(cs.mins_1d) - 1]
    start = lambda p: _sharp(p) + 1e-3 * np.eye(p.dim)[0]
    return [
        Landscape("two-basin", tb, start(tb),
                  "two-basin defaults (d=2, n=64, wells of curvature 20 and 1 and depth 1 before averaging over the n "
                  "shifted samples, spread 0.1) with walls of curvature 1 (default 0.01) so that runs thrown out of "
                  "the sharp well come back instead of drifting on the nearly flat plateau behind it (the walls add "
                  "no minimum)", abs(float(tb.ridge) - float(_sharp(tb)[0]))),
        Landscape("cosine", cs, start(cs),
                  "cosine with d=1, a=1, b=1, omega=3 (defaults) and gradient noise std 1 (default 0.1, too small "
                  "to matter): minima ±0.94 (sharp) and ±2.75 (flat, but 3.9 higher: the ½a s² term)",
                  float(np.min(np.abs(np.asarray(edges) - _sharp(cs)[0])))),
    ]
