"""A bound held against every grid point of a sweep, and against every recorded horizon of one run.

* :func:`check_each` — :func:`~analysis.checks.check` at each grid point of a swept result (each at its own
  parameters), with the point's coordinates;
* :func:`horizon_series` — the measured mean ± SE and the bound at every recorded step :math:`T`, for the
  figure "measured vs bound against the horizon" (traces at their record; averages over steps by prefix
  averages of the per-step trace, which needs ``record_every=1``).

>>> import problems, proofs, xtrap
>>> p = problems.make("quadratic", dim=2, sigma2=1.0)
>>> r = xtrap.run(p, xtrap.sgd(lr=[0.1, 0.2]), steps=50, seeds=64)
>>> [(pt["lr"], res.verdict) for pt, res in check_each(r, proofs.catalog()["C2"].bound)]
[(0.1, 'pass'), (0.2, 'pass')]
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

import proofs

from .bounds import bound_parameters, check
from .runs import RunInfo, resolve_scope
from .summary import prefix_average
from .verdicts import CheckResult

_TRACE = {"grad_norm2": "grad_norm2", "loss_gap": "loss", "dist": "dist", "dist2": "dist"}
_AVERAGE = {"avg_grad_norm2": "grad_norm2", "avg_loss_gap": "loss"}


def check_each(result: Any, bound: proofs.Bound, params: Mapping[str, Any] | None = None,
               **kwargs: Any) -> list[tuple[dict[str, Any], CheckResult]]:
    """:func:`~analysis.checks.check` at every grid point of ``result``, with ``strict=False`` (a point outside the
    bound's conditions is a ``"refused"`` row, the others still checked); keyword arguments go to ``check``.

    Returns:
        ``(coordinates, CheckResult)`` per grid point, in the grid's order (one pair without sweep axes).
    """
    kwargs.setdefault("strict", False)
    dims = result.sweep_dims
    shape = tuple(len(result.coords[d]) for d in dims)
    out = []
    for idx in np.ndindex(*shape) if shape else [()]:
        point = {d: result.coords[d][i].item() for d, i in zip(dims, idx)}
        sub = result.sel(**dict(zip(dims, idx))) if dims else result
        out.append((point, check(sub, bound, params, **kwargs)))
    return out


@dataclasses.dataclass(frozen=True)
class HorizonSeries:
    """Measured and bound at each horizon of one grid point.

    Attributes:
        steps: the horizons :math:`T` (recorded steps > 0).
        mean, se: the measured quantity (mean over non-diverged seeds, its standard error).
        bound: the bound at each horizon (NaN where it refuses, e.g. a condition that depends on :math:`T`).
        quantity: what is compared.
    """

    steps: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    bound: np.ndarray
    quantity: str


def horizon_series(result: Any, bound: proofs.Bound, params: Mapping[str, Any] | None = None) -> HorizonSeries:
    """The bound and the measured quantity against the horizon :math:`T`, for one grid point.

    Raises:
        ParameterError: sweep axes left, or an average over steps recorded too sparsely for prefix averages.
        proofs.AssumptionError: the bound does not cover the run (as :func:`~analysis.checks.check`).
    """
    from problems import ParameterError

    info = RunInfo.of_result(result)
    used, _ = resolve_scope(bound, info)
    q = used.scope.measures
    steps = np.asarray(result.coords["record"])
    div = np.asarray(result["diverged"], dtype=bool).reshape(-1)
    f_star = result.attrs.get("constants", {}).get("f_star")
    if q in ("loss_gap", "avg_loss_gap") and (f_star is None or not math.isfinite(float(f_star))):
        raise ParameterError(f"quantity {q!r} needs a finite f_star in result.attrs['constants']; got {f_star!r}")
    shift = float(f_star) if q in ("loss_gap", "avg_loss_gap") else 0.0
    if q in _AVERAGE:
        if not np.array_equal(steps, np.arange(steps.size)):
            raise ParameterError(f"{q} against the horizon needs every step recorded (record_every=1); this run "
                                 f"records {steps.size} of {int(steps[-1]) + 1} steps")
        trace = np.asarray(result[_AVERAGE[q]], dtype=np.float64).reshape(div.size, -1)[~div] - shift
        horizons = steps[1:]
        per_seed = prefix_average(trace, horizons)
    else:
        trace = np.asarray(result[_TRACE[q]], dtype=np.float64).reshape(div.size, -1)[~div]
        trace = trace**2 if q == "dist2" else trace - shift
        horizons, per_seed = steps[1:], trace[:, 1:]
    n = per_seed.shape[0]
    mean = per_seed.mean(axis=0) if n else np.full(horizons.size, math.nan)
    se = per_seed.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(horizons.size)
    values = []
    for t in horizons:
        try:
            vals, _ = bound_parameters(used, dataclasses.replace(info, steps=int(t)), params)
            values.append(used.evaluate(**vals))
        except proofs.AssumptionError:
            values.append(math.nan)
    return HorizonSeries(horizons, mean, se, np.asarray(values, dtype=np.float64), q)
