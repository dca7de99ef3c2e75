"""The profile of the two-basin family and its construction: the wells and walls :math:`\\phi` and their
derivatives (numpy or JAX), the shifted samples, the search grid and critical points of :math:`\\psi`, and the
solve for a well curvature that gives a named minimum curvature (:mod:`problems.two_basin` has the mathematics)."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Callable

import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import scipy.special as ssp

from ._base import Array
from ._roots import grid_roots
from ._validate import ParameterError

def _wall(xp: ModuleType, u: Array, w: Array, order: int) -> Array:
    """The ``order``-th derivative (0..4) in :math:`u` of :math:`q(u;w)=\\tfrac12u^2\\Phi(u/w)`."""
    cdf = (jsp.ndtr if xp is jnp else ssp.ndtr)(u / w)
    z = u / w
    pdf = xp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # a Python float keeps float32 inputs float32
    if order == 0:
        return 0.5 * u * u * cdf
    if order == 1:
        return u * cdf + 0.5 * w * z * z * pdf
    if order == 2:
        return cdf + pdf * (2.0 * z - 0.5 * z**3)
    if order == 3:
        return pdf / w * (3.0 - 3.5 * z**2 + 0.5 * z**4)
    return pdf / w**2 * (-10.0 * z + 5.5 * z**3 - 0.5 * z**5)


def _phi(xp: ModuleType, t: Array, order: int, centers: Array, curv: Array, depth: Array, eps: Array) -> Array:
    """The ``order``-th derivative (0..4) of the profile :math:`\\phi` at ``t`` (elementwise)."""
    out = 0.0 * t
    for j in range(2):
        k, w2 = curv[j], depth[j] / curv[j]
        u = t - centers[j]
        v = u * u / w2
        e = xp.exp(-0.5 * v)
        if order == 0:
            out = out - depth[j] * e
        elif order == 1:
            out = out + k * u * e
        elif order == 2:
            out = out + k * e * (1.0 - v)
        elif order == 3:
            out = out - (k / w2) * u * e * (3.0 - v)
        else:
            out = out - (k / w2) * e * (3.0 - 6.0 * v + v * v)
        sign = -1.0 if j == 0 else 1.0  # the sharp well's wall faces left: q(c_s - t)
        out = out + eps * sign**order * _wall(xp, sign * u, 0.5 * xp.sqrt(w2), order)
    return out


def _standardized(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Gaussian draws centred per column and scaled to rms 1 (zeros when there is one row)."""
    z = rng.standard_normal(shape)
    if shape[0] < 2:
        return np.zeros(shape)
    z -= z.mean(axis=0, keepdims=True)
    return z / np.sqrt(np.mean(z * z, axis=0, keepdims=True))


def _avg(shifts: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``s -> mean_i fn(s - a_i)``, evaluated in chunks of ``s``."""
    def f(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        flat = s.reshape(-1)
        step = max(1, 2**20 // shifts.size)
        out = np.concatenate([np.mean(fn(flat[i:i + step, None] - shifts[None, :]), axis=1)
                              for i in range(0, flat.size, step)]) if flat.size else flat
        return out.reshape(s.shape)
    return f


def _grid(centers: np.ndarray, widths: np.ndarray, a: np.ndarray, what: str) -> np.ndarray:
    """Search grid: spacing w_j/50 around each shifted well, max(w)/50 over the whole range."""
    span = (centers.min() + a.min() - 12 * widths.max(), centers.max() + a.max() + 12 * widths.max())
    parts = [np.linspace(*span, int(np.ceil((span[1] - span[0]) / (widths.max() / 50))) + 1)]
    for cj, wj in zip(centers, widths):
        lo, hi = cj + a.min() - 12 * wj, cj + a.max() + 12 * wj
        parts.append(np.linspace(lo, hi, int(np.ceil((hi - lo) / (wj / 50))) + 1))
    if sum(p.size for p in parts) > 4 * 10**6:
        raise ParameterError(f"{what} too large relative to the well widths sqrt(depth/curvature) = "
                             f"({widths[0]:.3g}, {widths[1]:.3g}) for the grid search")
    return np.unique(np.concatenate(parts))


def _critical(a: np.ndarray, centers: np.ndarray, curv: np.ndarray, depth: np.ndarray, eps: float,
              grid: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """psi and its derivatives (as functions), and the sorted local minima and maxima of psi."""
    dpsi = [_avg(a, lambda t, k=k: _phi(np, t, k, centers, curv, depth, eps)) for k in range(5)]
    crit = grid_roots(dpsi[1], dpsi[2], grid)
    curv_at = dpsi[2](crit)
    return dpsi, crit[curv_at > 0], crit[curv_at < 0]


def _why_not_two(mins: np.ndarray, maxs: np.ndarray, centers: np.ndarray, curv: np.ndarray, depth: np.ndarray,
                 eps: float, sep: float, spread: float) -> str:
    """Explain, naming the parameters to change, why the profile has not exactly two minima."""
    widths = np.sqrt(depth / curv)
    w = f"the well widths sqrt(depth/curvature) = ({widths[0]:.3g}, {widths[1]:.3g})"
    found = f"the averaged profile has {mins.size} local minima and {maxs.size} maxima, not 2 and 1"
    if mins.size < 2:
        return f"{found}: the wells merge; increase separation (={sep:g}) relative to {w}"
    if mins.size == 2:
        return (f"{found}: the profile is flat between the wells in float64 (their tails underflow); decrease "
                f"separation (={sep:g}) relative to {w}")
    zero = np.zeros(1)
    if spread > 0 and _critical(zero, centers, curv, depth, eps, _grid(centers, widths, zero, "separation is"))[
            1].size == 2:
        return f"{found}: the shifts split a well; decrease spread (={spread:g}) below {w}"
    return (f"{found}: increase separation (={sep:g}) relative to {w}, or keep confinement (={eps:g}) "
            f"well below the curvatures ({curv[0]:g}, {curv[1]:g})")


def _minimum_curvatures(a: np.ndarray, centers: np.ndarray, curv: np.ndarray, depth: np.ndarray, eps: float,
                        what: str) -> np.ndarray:
    """:math:`\\psi''` at the minimum of each well (left, right), or ParameterError when there are not two."""
    grid = _grid(centers, np.sqrt(depth / curv), a, what)
    dpsi, mins, maxs = _critical(a, centers, curv, depth, eps, grid)
    if mins.size != 2 or maxs.size != 1 or not mins[0] < maxs[0] < mins[1]:
        raise ParameterError("no two minima")
    return np.asarray(dpsi[2](mins), dtype=float)


def _well_curvature_for(target: float, j: int, name: str, a: np.ndarray, centers: np.ndarray, curv: np.ndarray,
                        depth: np.ndarray, eps: float) -> float:
    """The curvature :math:`k_j` of well ``j`` at which its minimum has :math:`\\psi''=` ``target`` (the others
    fixed). Averaging over the shifts lowers the minimum's curvature below :math:`k_j`, and the lowering grows with
    :math:`k_j` (a narrower well is smoothed more): :math:`\\psi''` rises with :math:`k_j` up to a largest value,
    then falls. The rising branch is scanned in steps of :math:`2^{1/4}` from :math:`k_j=` ``target``/2, the root
    found by Brent's method; a target above the largest value (located by a bounded scalar search) or one no well
    reaches before the wells stop making two minima is refused, naming what can be had."""
    from scipy.optimize import brentq, minimize_scalar

    def lam(k: float) -> float:  # NaN where the wells do not make two minima
        trial = curv.copy()
        trial[j] = k
        try:
            v = float(_minimum_curvatures(a, centers, trial, depth, eps, "")[j])
        except (ParameterError, ValueError, FloatingPointError):
            return math.nan
        return v if math.isfinite(v) else math.nan

    ks = [0.5 * target * 2.0 ** (i / 4) for i in range(160)]
    vals: list[float] = []
    for k in ks:
        vals.append(lam(k))
        v = vals[-1]
        if math.isfinite(v) and v >= target:
            break
        if len(vals) >= 3 and all(math.isfinite(u) for u in vals[-3:]) and vals[-1] < vals[-2] < vals[-3]:
            break  # past the largest value
    if not (math.isfinite(vals[-1]) and vals[-1] >= target):
        finite = [(v, k) for v, k in zip(vals, ks) if math.isfinite(v)]
        if not finite:
            raise ParameterError(f"{name}={target:g} cannot be had: no well curvature near it makes two minima here "
                                 "(the wells merge or split); change it, separation or spread")
        v_best, k_best = max(finite)
        if v_best >= target * 0.999 or vals[-1] < v_best:  # locate the largest value itself
            res = minimize_scalar(lambda k: -np.nan_to_num(lam(k), nan=-1e300), bounds=(k_best / 2 ** 0.5,
                                  k_best * 2 ** 0.5), method="bounded", options={"xatol": 1e-6 * k_best})
            v_best, k_best = max((v_best, k_best), (-float(res.fun), float(res.x)))
        raise ParameterError(f"{name} must be at most {v_best:.4g} here (the largest curvature of that minimum, at "
                             f"well curvature {k_best:.3g}: averaging the samples shifted by spread smooths a narrow "
                             f"well); got {target:g} (lower spread, raise that well's depth, or give its well "
                             "curvature instead)")
    hi = ks[len(vals) - 1]
    below = [k for v, k in zip(vals[:-1], ks) if math.isfinite(v) and v < target]
    lo = below[-1] if below else None
    k = hi
    while lo is None and k > 1e-12 * target:  # the scan started above the root: go down for the lower end
        k *= 0.5
        v = lam(k)
        if not math.isfinite(v):
            break
        if v < target:
            lo = k
    if lo is None:
        raise ParameterError(f"{name}={target:g} cannot be had: even the flattest well that still makes two minima "
                             f"gives a curvature above it here; raise it")
    return float(brentq(lambda k_: lam(k_) - target, lo, hi, xtol=1e-13 * hi, rtol=1e-14))


def _impose(imposed: list[tuple[int, str]], targets: dict[str, float], a: np.ndarray, centers: np.ndarray,
            curv: np.ndarray, depth: np.ndarray, eps: float) -> None:
    """Solve ``curv`` in place for the imposed minimum curvatures; the sharp one must stay the sharper."""
    got = None
    for _ in range(12):  # both imposed: each solve moves the other minimum a little, so alternate until both hold
        for j, name in imposed:
            curv[j] = _well_curvature_for(targets[name], j, name, a, centers, curv, depth, eps)
        got = _minimum_curvatures(a, centers, curv, depth, eps, "")
        if all(abs(got[j] - targets[name]) <= 1e-11 * targets[name] for j, name in imposed):
            break
    else:
        raise ParameterError(f"sharp_curvature={targets['sharp_curvature']:g} and flat_curvature="
                             f"{targets['flat_curvature']:g} could not both be met (each well moves the other's "
                             "minimum); give one, or the well curvatures")
    if not got[0] > got[1]:
        which = "sharp_curvature" if imposed[0][1] == "sharp_curvature" else "flat_curvature"
        raise ParameterError(f"{which} must keep the sharp minimum sharper than the flat one: it gives "
                             f"{got[0]:.4g} (sharp) against {got[1]:.4g} (flat); got {targets[which]:g}")
