"""Estimates of a user's problem's constants: minima by multi-start search, L and sigma2 over the run's region
(see :mod:`problems.user` for what each estimate is, and how it is labelled)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Sequence

import jax.numpy as jnp
import numpy as np

from ._base import CONSTANT_NAMES, Minimum
from ._flat import Unravel, flatten
from ._search import DENSE_MAX, largest_curvature, local_minima, sharpness_labels
from ._validate import ParameterError, check_int, check_real


@dataclasses.dataclass
class Estimator:
    """Minima search and region estimates for one objective on the flat vector."""

    x0: np.ndarray
    unravel: Unravel
    value_and_grad: Callable
    hess: Callable
    hvp: Callable
    starts: int
    spread: float
    region_points: int
    seed: int
    sharp_ratio: float

    def __post_init__(self) -> None:
        self.starts = check_int("starts", self.starts, lo=1, hi=1000)
        self.spread = check_real("spread", self.spread, lo=0.0, hi=1e150, lo_open=True)
        self.region_points = check_int("region_points", self.region_points, lo=0, hi=10_000)
        self.seed = check_int("seed", self.seed, lo=0, hi=2**63 - 1)
        self.sharp_ratio = check_real("sharp_ratio", self.sharp_ratio, lo=1.0, hi=1e300)
        self.found_from = ""

    def fg(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = self.value_and_grad(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=np.float64)

    def dense_hess(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(self.hess(jnp.asarray(x)), dtype=np.float64)
        return 0.5 * (h + h.T)

    def minima(self, given: Sequence[Any] | None) -> tuple[Minimum, ...]:
        d = self.x0.size
        if given is not None and len(given) == 0:
            return ()
        if d > DENSE_MAX:
            raise ParameterError(f"minima need dense Hessians, limited to dim <= {DENSE_MAX}; the parameters have "
                                 f"dim={d}: pass minima=() (none known)")
        if given is not None:
            points = [flatten(f"minima[{j}]", m)[0] for j, m in enumerate(given)]
            for j, x in enumerate(points):
                if x.shape != self.x0.shape:
                    raise ParameterError(f"minima[{j}] must have the structure of x0 ({d} coordinates); got {x.size}")
            self.found_from = f"{len(points)} given"
        else:
            rng = np.random.default_rng(self.seed)
            starts = [self.x0] + [self.x0 + self.spread * rng.standard_normal(d) for _ in range(self.starts - 1)]
            points, rejected = local_minima(self.fg, self.dense_hess, starts)
            if not points:
                raise ParameterError(f"no strict local minimum found from {len(starts)} starts (spread={self.spread:g};"
                                     f" {rejected} ended at a saddle, a flat direction or did not converge): give "
                                     "minima=[...], minima=() for none known, or more starts")
            self.found_from = (f"{len(points)} found by L-BFGS + Newton from {len(starts)} starts (x0 and "
                               f"{len(starts) - 1} perturbations of scale {self.spread:g}; {rejected} rejected)")
        hessians = [self.dense_hess(z) for z in points]
        if given is not None:
            self._check_given(points, hessians)  # in the user's order, so minima[j] names the one given
        lam = [float(np.linalg.eigvalsh(h)[-1]) for h in hessians]
        order = np.argsort(lam, kind="stable")  # flattest first
        points, hessians, lam = [points[i] for i in order], [hessians[i] for i in order], [lam[i] for i in order]
        labels = sharpness_labels(len(points), lam, self.sharp_ratio) if len(points) > 1 else ["min1"]
        return tuple(Minimum(x=jnp.asarray(z), hessian=jnp.asarray(h), value=np.float64(self.fg(z)[0]), label=lab)
                     for z, h, lab in zip(points, hessians, labels))

    def _check_given(self, points: list[np.ndarray], hessians: list[np.ndarray]) -> None:
        """A given minimum must be one: its gradient vanishes (to 1e-6 (1 + |f|)) and its Hessian is PSD."""
        for j, (z, h) in enumerate(zip(points, hessians)):
            f, g = self.fg(z)
            ev = np.linalg.eigvalsh(h)
            if not np.linalg.norm(g) <= 1e-6 * (1 + abs(f)):
                raise ParameterError(f"minima[{j}] is not a stationary point: ||grad f|| = {np.linalg.norm(g):.3g} > "
                                     f"1e-6 (1 + |f|) there; give the minimizers (or minima=None to search)")
            if not ev[0] >= -1e-8 * max(1.0, abs(ev[-1])):
                raise ParameterError(f"minima[{j}] is a saddle, not a minimum: the Hessian has eigenvalue {ev[0]:.3g}")

    def region(self, found: tuple[Minimum, ...]) -> list[np.ndarray]:
        """x0, the minima, and ``region_points`` points on the segments from x0 to them (perturbed)."""
        rng = np.random.default_rng(self.seed + 1)
        ends = [np.asarray(m.x) for m in found]
        pts = [self.x0] + ends
        for _ in range(self.region_points):
            end = ends[rng.integers(len(ends))] if ends else self.x0
            pts.append(self.x0 + rng.random() * (end - self.x0) + 0.1 * self.spread * rng.standard_normal(self.x0.size))
        return pts

    def constants(self, found: tuple[Minimum, ...], *, L: Any, mu: Any, f_star: Any, minima_given: bool
                  ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        sources = dict.fromkeys(CONSTANT_NAMES, "estimated")
        notes: list[str] = []
        sources["minima"] = "unknown" if not found and minima_given else ("given" if minima_given else "estimated")
        if found:
            notes.append(f"minima: {self.found_from}; labelled by lambda_max: flattest 'flat', sharpest 'sharp' (with "
                         f"their copies, equal to 1e-6), others 'mid1', ..., if at least sharp_ratio="
                         f"{self.sharp_ratio:g} times sharper, else 'min1', 'min2', ...")
        if L is not None:
            L_val, sources["L"] = check_real("L", L, lo=0.0, hi=1e300, lo_open=True), "given"
        else:
            pts = self.region(found)
            dense = self.dense_hess if self.x0.size <= DENSE_MAX else None
            L_val = max(largest_curvature(dense, lambda x, v: self.hvp(jnp.asarray(x), jnp.asarray(v)), x)
                        for x in pts)
            if not L_val > 0:
                raise ParameterError("the estimated L is 0 (f is linear on the region?): give L")
            how = "dense eigvalsh" if dense is not None else "Lanczos (ARPACK) on Hessian-vector products"
            notes.append(f"L: largest |Hessian eigenvalue| ({how}) at {len(pts)} points of the region (x0, the minima,"
                         " points between): a lower bound on the true L")
        if mu is not None:
            if L is None and not float(mu) <= L_val:
                raise ParameterError(f"mu={float(mu):g} is above the estimated L={L_val:.6g} (a lower bound on the true "
                                     "L): give L as well")
            mu_val, sources["mu"] = check_real("mu", mu, lo=0.0, hi=L_val), "given"
        else:
            mu_val, sources["mu"] = math.nan, "unknown"
        if f_star is not None:
            fs, sources["f_star"] = check_real("f_star", f_star), "given"
            worst = min((float(m.value) for m in found), default=math.inf)
            if fs > worst + 1e-12 * max(1.0, abs(worst)):
                raise ParameterError(f"f_star={fs:g} is above the value {worst:g} of a known minimum")
        elif found:
            fs = min(float(m.value) for m in found)
            notes.append("f_star: the smallest value at the minima found, an upper bound on inf f")
        else:
            fs, sources["f_star"] = math.nan, "unknown"
        return {"L": np.float64(L_val), "mu": np.float64(mu_val), "f_star": np.float64(fs)}, sources, notes
