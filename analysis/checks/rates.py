"""Rate exponents: fit :math:`y\\approx Cx^{p}` by least squares in log-log space, with confidence intervals.

Answers "at what rate does M really converge?" (DESIGN.md job 1): fit the exponent of
:math:`\\mathbb E[f(x_t)-f^\\star]` or :math:`\\mathbb E\\|\\nabla f(x_t)\\|^2` against the step :math:`t`
(or of a final error against :math:`T`, the batch size, ...), and test whether the predicted exponent
(e.g. :math:`-1` for SGD with :math:`1/t` steps, THEORY.md §H4) lies in the interval.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

_BOOTSTRAP = 2000
_BOOTSTRAP_SEED = 20200712  # fixed: the same data always give the same interval
_ROUNDOFF = 1e-12  # half-width floor, relative to max(1, |p|): exact power laws still contain their exponent


@dataclass(frozen=True)
class RateFit:
    """A fitted power law :math:`y\\approx e^{c}x^{p}`.

    Attributes:
        exponent: :math:`p`, the least-squares slope of :math:`\\log y` on :math:`\\log x`.
        ci_low, ci_high: the confidence interval for :math:`p` (see :func:`fit_exponent`).
        intercept: :math:`c`, the fitted natural-log intercept (:math:`e^c` is the prefactor).
        n_points: number of :math:`x` values fitted.
        confidence: the interval's nominal level.
    """

    exponent: float
    ci_low: float
    ci_high: float
    intercept: float
    n_points: int
    confidence: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the closed interval ``[ci_low, ci_high]``."""
        return bool(self.ci_low <= value <= self.ci_high)

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain JSON types."""
        return dataclasses.asdict(self)


def _slopes(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """OLS slopes of each column of ``ly`` (shape (n,) or (n, B)) on ``lx``."""
    dx = lx - lx.mean()
    ly2 = ly if ly.ndim == 2 else ly[:, None]
    out = dx @ (ly2 - ly2.mean(axis=0)) / (dx @ dx)
    return out if ly.ndim == 2 else out[0]


def fit_exponent(x: Any, y: Any, *, confidence: float = 0.95) -> RateFit:
    """Fit :math:`\\log\\bar y_i=c+p\\log x_i` by ordinary least squares and give a confidence interval for :math:`p`.

    ``y`` is 1-D (one value per point) or 2-D, shape ``(points, seeds)``: independent runs, each
    observed at every point (a path, so values along a row are correlated). The fit uses the per-point
    means :math:`\\bar y_i` over seeds, i.e. the power law of the *expected* value.

    Two intervals, and the reported one is the wider (precisely: their union, so neither is cut off):

    1. **Residual t interval**: :math:`\\hat p\\pm t_{n-2,(1+c)/2}\\,\\widehat{\\mathrm{SE}}(\\hat p)` with
       :math:`\\widehat{\\mathrm{SE}}^2=\\frac{\\sum_ir_i^2/(n-2)}{\\sum_i(\\log x_i-\\overline{\\log x})^2}`
       (``scipy.stats.t``). It treats the residuals as independent, so it captures scatter and misfit
       of the power law (e.g. curvature from a transient) but not the correlation along paths.
    2. **Seed bootstrap** (2-D ``y`` with at least 2 seeds): resample the seeds with replacement
       (2000 replicates, fixed seed), refit, and take the central ``confidence`` percentile interval.
       It captures the run-to-run noise with its correlation across points, but not misfit.

    Neither alone is right for both failure modes; the union is conservative for each. The half-width
    is at least :math:`10^{-12}\\max(1,|\\hat p|)` (round-off), so exact power laws contain their exponent.

    Args:
        x: positive, distinct abscissae (steps, horizons, batch sizes), at least 3.
        y: finite values with positive per-point means; 1-D ``(points,)`` or 2-D ``(points, seeds)``.
        confidence: nominal level in (0, 1).

    Returns:
        A :class:`RateFit`.

    Raises:
        ValueError: bad shapes, fewer than 3 points, non-positive or repeated ``x``, non-finite ``y``,
            a non-positive per-point mean.

    >>> import numpy as np
    >>> x = np.geomspace(1, 1000, 20)
    >>> noise = np.random.default_rng(0).lognormal(-0.02, 0.2, (20, 50))   # mean 1
    >>> fit = fit_exponent(x, 3 * x[:, None] ** -0.5 * noise)
    >>> fit.contains(-0.5), fit.contains(-0.6)
    (True, False)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1:
        raise ValueError(f"x must be 1-D; got shape {xa.shape}")
    n = xa.size
    if ya.ndim not in (1, 2) or ya.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, seeds) to match x; got {ya.shape}")
    if n < 3:
        raise ValueError(f"need at least 3 points for an exponent with a confidence interval; got {n}")
    if not np.all(np.isfinite(xa)) or np.any(xa <= 0):
        raise ValueError("x must be finite and positive")
    if np.unique(xa).size != n:
        raise ValueError("x must not repeat a value")
    if ya.size == 0 or not np.all(np.isfinite(ya)):
        raise ValueError("y must be finite (remove diverged runs first) and non-empty")
    ybar = ya.mean(axis=1) if ya.ndim == 2 else ya
    if np.any(ybar <= 0):
        i = int(np.nonzero(ybar <= 0)[0][0])
        raise ValueError(f"per-point means of y must be positive for a log-log fit; got {ybar[i]!r} at x={xa[i]!r}")
    lx, ly = np.log(xa), np.log(ybar)
    p = float(_slopes(lx, ly))
    c = float(ly.mean() - p * lx.mean())
    resid = ly - (c + p * lx)
    sxx = float(np.sum((lx - lx.mean()) ** 2))
    se = math.sqrt(float(resid @ resid) / (n - 2) / sxx)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 2)) * se
    lo, hi = p - half, p + half
    if ya.ndim == 2 and ya.shape[1] >= 2:
        s = ya.shape[1]
        rng = np.random.default_rng(_BOOTSTRAP_SEED)
        counts = rng.multinomial(s, np.full(s, 1.0 / s), size=_BOOTSTRAP)  # (B, seeds)
        means = ya @ counts.T / s                                          # (points, B)
        good = np.all(means > 0, axis=0)
        boot = _slopes(lx, np.log(means[:, good]))
        qlo, qhi = np.quantile(boot, [0.5 - confidence / 2, 0.5 + confidence / 2])
        lo, hi = min(lo, float(qlo)), max(hi, float(qhi))
    floor = _ROUNDOFF * max(1.0, abs(p))
    lo, hi = min(lo, p - floor), max(hi, p + floor)
    return RateFit(exponent=p, ci_low=lo, ci_high=hi, intercept=c, n_points=n, confidence=confidence)


def fit_rate_in_steps(result: Any, quantity: str = "loss", *, start: int | None = None,
                      confidence: float = 0.95) -> RateFit:
    """Fit the exponent :math:`p` of a trace: :math:`\\mathbb E[q(x_t)]\\approx Ct^{p}` over the recorded steps.

    Uses ``coords["record"]`` (record 0 is skipped: :math:`\\log 0`), the per-seed traces of the runs
    that did not diverge (2-D ``y`` for :func:`fit_exponent`: residual and seed-bootstrap intervals),
    and for ``quantity="loss"`` the optimality gap :math:`f(x_t)-f^\\star` (:math:`f^\\star` from
    ``result.attrs["constants"]``), since a power law in :math:`f` itself is meaningless when
    :math:`f^\\star\\ne0`. ``grad_norm2`` and ``dist`` are fitted as recorded.

    Args:
        result: an :class:`xtrap.Result` without sweep axes.
        quantity: ``"loss"``, ``"grad_norm2"`` or ``"dist"``.
        start: fit only steps :math:`t\\ge` ``start`` (skip a transient).
        confidence: nominal level of the interval.

    Returns:
        A :class:`RateFit` (exponent per step).

    Raises:
        ValueError: sweep axes left, not a trace, every run diverged, fewer than 3 steps to fit.

    >>> import numpy as np, problems, xtrap
    >>> p = problems.make_quadratic([1.0, 1.0], noise_cov=np.eye(2), x0=[0.0, 0.0])
    >>> r = xtrap.run(p, xtrap.sgd(lr=xtrap.inverse_time(1.0, 1.0)), steps=100, seeds=400, record_every=10)
    >>> fit_rate_in_steps(r).contains(-1.0)      # THEORY.md H4: E f(x_t) - f* = sigma2/(2 mu t)
    True
    """
    if result.sweep_dims:
        dims = ", ".join(result.sweep_dims)
        raise ValueError(f"the result has sweep axes ({dims}); select one grid point first, e.g. "
                         f"result.sel({result.sweep_dims[0]}=0)")
    if quantity not in result.data or "record" not in result.dims[quantity]:
        traces = [k for k, d in result.dims.items() if "record" in d and k != "iterates"]
        raise ValueError(f"quantity must be a recorded trace ({', '.join(traces)}); got {quantity!r}")
    steps = np.asarray(result.coords["record"], dtype=np.float64)
    keep = steps > 0
    if start is not None:
        keep &= steps >= start
    div = np.asarray(result["diverged"], dtype=bool).reshape(-1)
    if div.all():
        raise ValueError(f"all {div.size} runs diverged: no rate to fit")
    y = np.asarray(result[quantity], dtype=np.float64).reshape(div.size, -1)[~div][:, keep]
    if quantity == "loss":
        f_star = result.attrs.get("constants", {}).get("f_star")
        if f_star is None:
            raise ValueError("fitting the loss needs the problem's f_star in result.attrs['constants']")
        y = y - float(f_star)
    return fit_exponent(steps[keep], y.T, confidence=confidence)
