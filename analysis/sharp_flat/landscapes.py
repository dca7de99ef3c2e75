"""The landscapes of the sharp/flat study: a problem with sharp and flat minima, a start, a barrier.

:func:`landscape` makes one from any problem whose minima include one labelled ``"sharp"`` and one labelled
``"flat"`` (a built-in family, or a user's problem from :mod:`problems.user`, whose minima are searched and
labelled by their curvature); :func:`landscapes` gives the two of ``xtrap sharp-flat`` by default (two-basin,
d = 2, and cosine, d = 1). Every run starts at the sharp minimum (+1e-3 along its sharpest direction); ``barrier``
is the distance from there to the nearest flat basin, the way out that
:func:`analysis.sharp_flat.overlays.stationary_std` is compared with.

>>> import problems
>>> ls = landscape(problems.make("two-basin", confinement=1.0))
>>> ls.theory is None and round(ls.curvature("sharp"), 2)
15.44
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

import problems
from problems import Minimum, ParameterError, Problem

DEPTH_TOLERANCE = 0.1  # equal depth: |f(sharp) - f(flat)| <= 0.1 max(1, |f(sharp)|, |f(flat)|) (G5's setting)


@dataclass(frozen=True)
class Landscape:
    """A problem with labelled minima, a start, and the shift scale of its generalization proxy.

    Attributes:
        name: the label in tables and figures.
        problem: the objective; ``problem.basin`` says which minimum a point belongs to.
        x0: the start of every run.
        why: the landscape in words (parameters, and why they were chosen).
        barrier: distance from the sharp minimum to the nearest flat basin (along the sharp direction for the
            built-in families, whose basins are exact; half the distance to the nearest flat minimum otherwise,
            where the basin of a point is its nearest listed minimum).
        shift: the scale of the shifts of the generalization proxy.
        theory: ``None`` when the theory overlays (G2 filters, B_crit, Lyapunov exponents, stationary spread)
            apply; otherwise why they are left out (estimated minima).
        equal_depth: the sharp and flat minima have (nearly) equal values (:data:`DEPTH_TOLERANCE`), the setting
            of claim G5.
    """

    name: str
    problem: Problem
    x0: np.ndarray
    why: str
    barrier: float
    shift: float = 0.1
    theory: str | None = None
    equal_depth: bool = False

    def index(self, label: str) -> np.ndarray:
        """Indices of the minima labelled ``label``."""
        return _indices(self.problem, label)

    def minimum(self, label: str) -> Minimum:
        """The first minimum labelled ``label``."""
        return self.problem.minima[int(self.index(label)[0])]

    def curvature(self, label: str) -> float:
        """:math:`\\lambda_{\\max}` of the (first) minimum labelled ``label``."""
        return float(np.linalg.eigvalsh(self.minimum(label).hessian)[-1])

    def sharp_direction(self) -> np.ndarray:
        """The unit top eigenvector of the Hessian at the sharp minimum (:math:`e_1` for the built-in families)."""
        return np.linalg.eigh(np.asarray(self.minimum("sharp").hessian))[1][:, -1]


def _indices(p: Problem, label: str) -> np.ndarray:
    return np.array([i for i, m in enumerate(p.minima) if m.label == label], dtype=int)


def _barrier(p: Problem, sharp: np.ndarray) -> tuple[float, str]:
    """Distance from the sharp minimum to the nearest flat basin, and how it was found."""
    flat = _indices(p, "flat")
    if hasattr(p, "ridge"):  # two-basin: the exact basin boundary is the ridge x_1 = ridge
        return abs(float(p.ridge) - float(sharp[0])), "to the ridge (the exact basin boundary)"
    if hasattr(p, "maxs_1d"):  # cosine: 1-D minimum k has the basin (r_(k-1), r_k), coordinate by coordinate
        curv, mins, maxs = (np.asarray(v, dtype=float) for v in (p.curv_1d, p.mins_1d, p.maxs_1d))
        flat_1d = np.flatnonzero(curv <= curv.min() * (1 + 1e-9))
        edges = np.asarray([maxs[k - 1] for k in flat_1d if k > 0] + [maxs[k] for k in flat_1d if k < len(mins) - 1])
        own = np.searchsorted(maxs, sharp, side="left")  # each coordinate's 1-D minimum
        gaps = [0.0 if k in flat_1d else float(np.min(np.abs(edges - s))) for k, s in zip(own, sharp)]
        return float(np.sqrt(np.sum(np.square(gaps)))), ("to the nearest flat basin (exact: every coordinate not "
                                                          "at a flattest 1-D minimum crosses its nearest edge)")
    gaps = [np.linalg.norm(np.asarray(p.minima[k].x) - sharp) for k in flat]
    return 0.5 * float(min(gaps)), "half the distance to the nearest flat minimum (the nearest-minimum boundary)"


def _equal_depth(sharp: Minimum, flat: Minimum) -> bool:
    """The minima's values (not the wells' built depths: smoothing moves them) within :data:`DEPTH_TOLERANCE`."""
    a, b = float(sharp.value), float(flat.value)
    return abs(a - b) <= DEPTH_TOLERANCE * max(1.0, abs(a), abs(b))


def landscape(problem: Problem, name: str | None = None, *, x0: Any = None, why: str = "", shift: float = 0.1
              ) -> Landscape:
    """The sharp/flat landscape of ``problem``: it needs minima labelled ``"sharp"`` and ``"flat"``.

    Args:
        problem: any problem with labelled minima (``problems.make("two-basin", sharp_curvature=30)``, or
            ``problems.from_function(f, x0)``, whose minima are searched and labelled by curvature).
        name: its label in tables and figures (default: the problem's name).
        x0: the start of every run (default: the sharp minimum + 1e-3 along its sharpest direction).
        why: a sentence on the landscape for the report.
        shift: the scale of the generalization proxy's shifts (> 0).

    Raises:
        ParameterError: no minimum labelled sharp or flat (the message lists the labels found).
    """
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem must be a problems.Problem; got {type(problem).__name__}")
    labels = [m.label for m in problem.minima]
    if "sharp" not in labels or "flat" not in labels:
        raise ParameterError(
            f"a sharp-flat landscape needs minima labelled 'sharp' and 'flat'; {problem.name} has "
            f"{', '.join(repr(v) for v in labels) if labels else 'no known minima'} (a user's problem labels its "
            "searched minima by lambda_max: give more starts, or a smaller sharp_ratio)")
    if not getattr(problem, "all_listed", True):  # cosine beyond 4096 product minima: only the diagonal ones
        raise ParameterError(f"a sharp-flat landscape needs every minimum listed; {problem.name} lists only "
                             f"{len(problem.minima)} of its product minima, so a run ending at a mixed flat one "
                             "would not count as flat (use a smaller dim)")
    shift = problems.check_real("shift", shift, lo=0.0, lo_open=True)
    sharp_min, flat_min = problem.minima[labels.index("sharp")], problem.minima[labels.index("flat")]
    sharp = np.asarray(sharp_min.x, dtype=float)
    lam_s, lam_f = (float(np.linalg.eigvalsh(np.asarray(m.hessian))[-1]) for m in (sharp_min, flat_min))
    if not lam_s > lam_f or np.allclose(np.asarray(flat_min.x, dtype=float), sharp):
        raise ParameterError(f"a sharp-flat landscape needs its sharp minimum sharper than its flat one and apart "
                             f"from it; {problem.name} has lambda_max {lam_s:.4g} (sharp) and {lam_f:.4g} (flat)")
    barrier, how = _barrier(problem, sharp)
    theory = None
    if problem.sources.get("minima") == "estimated":
        how_found = [n.removeprefix("minima: ").split("; labelled")[0] for n in problem.notes if n.startswith("minima")]
        theory = ("the minima are estimated (" + ("; ".join(how_found) or "by a numerical search") + "): the "
                  "G2 filters, B_crit, Lyapunov exponents and stationary spreads would rest on estimated curvatures, "
                  "so they are left out")
    out = Landscape(name or problem.name, problem, np.zeros_like(sharp), "", barrier, shift, theory,
                    _equal_depth(sharp_min, flat_min))
    start = sharp + 1e-3 * out.sharp_direction() if x0 is None else np.asarray(x0, dtype=float)
    if start.shape != sharp.shape or not np.all(np.isfinite(start)):
        raise ParameterError(f"x0 must be a finite vector of shape {sharp.shape}; got shape {start.shape}")
    text = why or (f"{problem.name}: sharp minimum lambda_max = {out.curvature('sharp'):.4g} (f = "
                   f"{float(sharp_min.value):.4g}), flat lambda_max = {out.curvature('flat'):.4g} (f = "
                   f"{float(flat_min.value):.4g}); minima {problem.sources.get('minima', 'exact')}")
    return replace(out, x0=start, why=f"{text}; barrier {barrier:.3g}: {how}")


def landscapes() -> list[Landscape]:
    """The two landscapes of ``xtrap sharp-flat``; every run starts at the sharp minimum (+1e-3 along :math:`x_1`)."""
    return [
        landscape(problems.make("two-basin", confinement=1.0), why=(
            "two-basin defaults (d=2, n=64, wells of curvature 20 and 1 and depth 1 before averaging over the n "
            "shifted samples, spread 0.1) with walls of curvature 1 (default 0.01) so that runs thrown out of "
            "the sharp well come back instead of drifting on the nearly flat plateau behind it (the walls add "
            "no minimum)")),
        landscape(problems.make("cosine", dim=1, noise=1.0), why=(
            "cosine with d=1, a=1, b=1, omega=3 (defaults) and gradient noise std 1 (default 0.1, too small "
            "to matter): minima ±0.94 (sharp) and ±2.75 (flat, but 3.9 higher: the ½a s² term)")),
    ]
