"""Roots of smooth 1-D functions to float64 round-off: dense grid, then safeguarded Newton.

Used at construction time (numpy, never traced) to locate critical points and suprema of the
1-D profiles of the nonconvex families. A root is bracketed by a sign change of ``F`` between two
consecutive grid points (or sits exactly on one); each bracket is then refined by Newton's method
with the analytic derivative ``dF``, falling back to bisection whenever a Newton step leaves the
bracket, so every refinement converges and stays inside its bracket.

The grid must be fine enough that no two roots share a cell; callers choose the spacing from the
length scales of their functions and document it. A pair of roots closer than the spacing (or a
double root, where ``F`` touches zero without changing sign) is not reported.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Fn = Callable[[np.ndarray], np.ndarray]


def refine_roots(F: Fn, dF: Fn, lo: np.ndarray, hi: np.ndarray, iters: int = 200) -> np.ndarray:
    """Refine roots bracketed by ``[lo, hi]`` (``F(lo)``, ``F(hi)`` of opposite signs), vectorized.

    Args:
        F, dF: the function and its derivative, applied elementwise to float64 arrays.
        lo, hi: bracket end points, equal shapes.
        iters: maximum number of iterations (each halves the bracket at worst).

    Returns:
        The roots, to float64 round-off.
    """
    lo = np.array(lo, dtype=np.float64)
    hi = np.array(hi, dtype=np.float64)
    if lo.size == 0:
        return lo
    flo = F(lo)
    x = 0.5 * (lo + hi)
    for _ in range(iters):
        fx = F(x)
        done = fx == 0.0
        same = np.sign(fx) == np.sign(flo)
        lo = np.where(same & ~done, x, lo)
        flo = np.where(same & ~done, fx, flo)
        hi = np.where(~same & ~done, x, hi)
        d = dF(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - fx / d
        ok = np.isfinite(newton) & (newton > lo) & (newton < hi)
        nxt = np.where(done, x, np.where(ok, newton, 0.5 * (lo + hi)))
        if np.all((nxt == x) | done | (hi - lo <= 4 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(x)))):
            x = nxt
            break
        x = nxt
    return x


def grid_roots(F: Fn, dF: Fn, grid: np.ndarray) -> np.ndarray:
    """All sign-change roots of ``F`` on the sorted ``grid``, refined to round-off, sorted and distinct.

    Args:
        F, dF: the function and its derivative (elementwise on float64 arrays).
        grid: sorted sample points; the roots reported lie in ``[grid[0], grid[-1]]``.

    Returns:
        The roots found, ascending.
    """
    grid = np.asarray(grid, dtype=np.float64)
    fg = F(grid)
    sg = np.sign(fg)
    exact = grid[sg == 0.0]
    change = (sg[:-1] * sg[1:]) < 0
    refined = refine_roots(F, dF, grid[:-1][change], grid[1:][change])
    return np.unique(np.concatenate([exact, refined]))


def grid_maximum(V: Fn, dV: Fn, ddV: Fn, grid: np.ndarray) -> tuple[float, float]:
    """``max V`` over the interval spanned by ``grid``: the best of its end points and of the
    refined critical points of ``V`` (roots of ``dV``).

    Returns:
        ``(argmax, max)``.
    """
    grid = np.asarray(grid, dtype=np.float64)
    crit = grid_roots(dV, ddV, grid)
    pts = np.concatenate([grid[[0, -1]], crit])
    vals = V(pts)
    k = int(np.argmax(vals))
    return float(pts[k]), float(vals[k])
