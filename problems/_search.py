"""Numerical minima and curvature: multi-start local minimization, sharpness labels, the largest curvature.

Shared by the families whose minima are not known in closed form (``logistic``) and by problems built from a
user's function (:mod:`problems.user`). Nothing here is certified: the results are *estimates*, and the callers
label them so.

* :func:`local_minima` runs L-BFGS (scipy) from each start, polishes by Newton steps, and keeps the distinct
  points whose gradient vanishes to round-off and whose Hessian is positive definite;
* :func:`sharpness_labels` names them by the stated rule (flattest ``"flat"``, sharpest ``"sharp"``);
* :func:`largest_curvature` is :math:`\\max_j|\\lambda_j(\\nabla^2f(x))|`: dense ``eigvalsh`` up to
  :data:`DENSE_MAX` coordinates, ARPACK's Lanczos (``scipy.sparse.linalg.eigsh``) on Hessian-vector
  products beyond.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

DENSE_MAX = 2048  # coordinates up to which Hessians are formed densely (2048^2 float64 = 32 MiB)


def newton_polish(x: np.ndarray, fg: Callable, hess: Callable, iters: int = 30) -> np.ndarray:
    """Newton steps from ``x`` while they shrink the gradient (to round-off at a nondegenerate minimum)."""
    for _ in range(iters):
        _, g = fg(x)
        if not np.all(np.isfinite(g)):
            break
        try:
            step = np.linalg.solve(hess(x), g)
        except np.linalg.LinAlgError:
            break
        x_new = x - step
        if not np.linalg.norm(fg(x_new)[1]) < np.linalg.norm(g):
            break
        x = x_new
    return x


def local_minima(fg: Callable, hess: Callable, starts: Sequence[np.ndarray], *, gtol: float = 1e-10,
                 same: float = 1e-6) -> tuple[list[np.ndarray], int]:
    """The distinct local minimizers reached from ``starts``, sorted by :math:`\\lambda_{\\max}` (flattest first).

    Each start runs L-BFGS-B (``ftol=1e-15``, ``gtol=1e-12``), then :func:`newton_polish`. A point is kept if it
    is finite, :math:`\\|\\nabla f\\|\\le` ``gtol`` :math:`(1+|f|)` and :math:`\\lambda_{\\min}(\\nabla^2 f)>10^{-10}
    \\max(1,\\lambda_{\\max})` (a strict local minimum, not a saddle); two points within ``same``
    :math:`(1+\\|x\\|)` of each other are one.

    Args:
        fg: ``x -> (f(x), grad f(x))`` on float64 vectors.
        hess: ``x -> Hessian`` (dense, symmetric up to round-off).
        starts: the starting points.

    Returns:
        ``(minima, rejected)``: the minimizers, and how many starts ended elsewhere (a saddle, a flat
        direction, no convergence).
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():  # a start that runs off to infinity is rejected
        warnings.simplefilter("ignore", RuntimeWarning)          # below (counted), not a warning mid-search
        return _local_minima(fg, hess, starts, gtol, same)


def _local_minima(fg: Callable, hess: Callable, starts: Sequence[np.ndarray], gtol: float, same: float
                  ) -> tuple[list[np.ndarray], int]:
    found: list[np.ndarray] = []
    rejected = 0
    for x in starts:
        res = minimize(fg, np.asarray(x, dtype=np.float64), jac=True, method="L-BFGS-B",
                       options=dict(maxiter=10_000, ftol=1e-15, gtol=1e-12))
        x = newton_polish(res.x, fg, hess)
        f, g = fg(x)
        h = hess(x) if np.all(np.isfinite(x)) else None
        ev = np.linalg.eigvalsh(0.5 * (h + h.T)) if h is not None else np.array([np.nan])
        if not (np.all(np.isfinite(x)) and ev[0] > 1e-10 * max(1.0, ev[-1])
                and np.linalg.norm(g) <= gtol * (1 + abs(f))):
            rejected += 1
            continue
        if all(np.linalg.norm(x - z) > same * (1 + np.linalg.norm(z)) for z in found):
            found.append(x)
    found.sort(key=lambda z: _top(hess(z)))
    return found, rejected


def _top(h: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(0.5 * (h + h.T))[-1])


def sharpness_labels(k: int, sharpness: Sequence[float] | None = None, ratio: float | None = None) -> list[str]:
    """Labels of ``k`` minima sorted by :math:`\\lambda_{\\max}` (flattest first): ``"flat"``, ``"mid1"``, ...,
    ``"sharp"``; a single minimum is ``"global"`` (the only one known, not certified global).

    With ``sharpness`` and ``ratio``: ``"flat"``/``"sharp"`` only if the sharpest is at least ``ratio`` times
    sharper than the flattest; otherwise ``"min1"``, ..., ``"mink"`` (no minimum is called sharper than another
    when they differ less, e.g. copies of one minimum under a symmetry of a network). With ``sharpness``, every
    minimum as flat as the flattest (relative :data:`COPY_TOLERANCE`) is ``"flat"`` and every one as sharp as the
    sharpest is ``"sharp"``: the copies of a network's minimum under a permutation of its hidden units are one
    kind, and a flat fraction counts them all."""
    if k == 1:
        return ["global"]
    if sharpness is not None and ratio is not None and not sharpness[-1] >= ratio * sharpness[0]:
        return [f"min{j}" for j in range(1, k + 1)]
    if sharpness is None:
        return ["flat"] + [f"mid{j}" for j in range(1, k - 1)] + ["sharp"]
    lo, hi = float(sharpness[0]), float(sharpness[-1])
    out, mid = [], 0
    for lam in sharpness:
        if abs(float(lam) - lo) <= COPY_TOLERANCE * abs(lo):
            out.append("flat")
        elif abs(float(lam) - hi) <= COPY_TOLERANCE * abs(hi):
            out.append("sharp")
        else:
            mid += 1
            out.append(f"mid{mid}")
    return out


COPY_TOLERANCE = 1e-6  # relative: minima found by Newton agree to round-off, copies under a symmetry far closer


def largest_curvature(hess: Callable | None, hvp: Callable, x: np.ndarray) -> float:
    """:math:`\\max_j|\\lambda_j(\\nabla^2 f(x))|`, the local smoothness at ``x``.

    Dense ``eigvalsh`` of ``hess(x)`` when ``hess`` is given (at most :data:`DENSE_MAX` coordinates); otherwise
    ARPACK's implicitly restarted Lanczos on ``v -> hvp(x, v)`` (largest magnitude, ``tol=1e-10``).
    """
    if hess is not None:
        h = hess(x)
        ev = np.linalg.eigvalsh(0.5 * (h + h.T))
        return float(max(abs(ev[0]), abs(ev[-1])))
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = x.size
    op = LinearOperator((n, n), matvec=lambda v: np.asarray(hvp(x, np.ravel(v)), dtype=np.float64), dtype=np.float64)
    val = eigsh(op, k=1, which="LM", tol=1e-10, return_eigenvectors=False,
                v0=np.random.default_rng(0).standard_normal(n))
    return float(abs(val[0]))
