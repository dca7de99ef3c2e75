"""Runs held against bounds: the statistical comparisons of THEORY.md §4.

Three rules, one per kind of claim (each returns a :class:`CheckResult`):

* :func:`check_samples` — means over independent runs (THEORY.md §4.1, §4.2). With sample mean
  :math:`\\hat m`, standard error :math:`\\widehat{\\mathrm{SE}}=s/\\sqrt R` over :math:`R` runs and
  :math:`z=4` by default:

  ========  ==============================================  ==========================================
  relation  pass iff (stochastic)                           pass iff (deterministic, SE = 0)
  ========  ==============================================  ==========================================
  ``<=``    :math:`\\hat m+z\\,\\mathrm{SE}\\le B`              :math:`\\hat m\\le B+\\epsilon`
  ``>=``    :math:`\\hat m-z\\,\\mathrm{SE}\\ge B`              :math:`\\hat m\\ge B-\\epsilon`
  ``==``    :math:`|\\hat m-B|\\le z\\,\\mathrm{SE}`            :math:`|\\hat m-B|\\le\\epsilon`
  ========  ==============================================  ==========================================

  with :math:`\\epsilon=\\mathrm{rtol}\\cdot\\max(1,|B|)`. A one-sided bound *passes* only when the runs
  demonstrate it: the whole :math:`\\pm z` SE interval satisfies the relation ("mean + 4 SE <= bound").
  It *fails* when the runs contradict it: the mean is beyond the bound by more than :math:`z` SE
  (THEORY.md §4.2's rejection rule; a true bound fails with probability about :math:`3\\times10^{-5}`).
  In between, the interval straddles the bound and the verdict is ``"inconclusive"``: not violated, not
  demonstrated (more runs are needed, or the bound is tight there). Tight bounds are checked at their
  witnesses as exact values (``==``), which pass at ratio 1.
* :func:`check_median` — medians with a distribution-free interval, for heavy tails (§4.3), where
  means and standard errors are dominated by rare paths.
* :func:`lyapunov_exponent` — the growth rate of typical paths (§G4), a light-tailed mean.

:func:`check` runs :func:`check_samples` on an :class:`xtrap.Result` against a :class:`proofs.Bound`,
refusing parameters outside the bound's assumptions. Diverged runs are never averaged in: they are
excluded and counted.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

import proofs

from .tails import check_median, lyapunov_exponent, median_interval
from .verdicts import RELATIONS, CheckResult, as_samples, finite, labels_of, ratio_of

__all__ = ["CheckResult", "RELATIONS", "check", "check_median", "check_samples", "lyapunov_exponent",
           "median_interval"]

_GAPS = {"loss_gap": "loss", "avg_loss_gap": "avg_loss"}  # f - f*, derived from the recorded f


def check_samples(samples: Any, bound_value: float, relation: str, *, deterministic: bool = False,
                  rtol: float = 1e-9, z: float = 4.0, witness: bool = False, witness_tol: float | None = None,
                  **labels: Any) -> CheckResult:
    """Compare the mean of ``samples`` with ``bound_value`` under ``relation`` (rules in the module docstring).

    Args:
        samples: one value per independent run (any shape; flattened). All must be finite.
        bound_value: the bound :math:`B` (finite).
        relation: ``"<="`` (upper bound), ``">="`` (lower bound) or ``"=="`` (exact value).
        deterministic: the samples are exact values (all runs identical up to round-off): compare to
            ``rtol`` instead of standard errors, and fail if they are not identical within it. Samples
            whose SE is 0 (e.g. one run) are compared the same way.
        rtol: relative tolerance :math:`\\epsilon=\\mathrm{rtol}\\max(1,|B|)` of deterministic comparisons.
        z: the number of standard errors (4: THEORY.md §4).
        witness: a tightness witness: additionally require :math:`|\\hat m/B-1|\\le` ``witness_tol``.
        witness_tol: the caller's (justified) tolerance on the ratio; ``None`` means
            :math:`z\\,\\mathrm{SE}/|B|` (ratio consistent with 1 at the stated confidence), or
            :math:`\\epsilon/|B|` when deterministic.
        **labels: ``theorem``, ``problem``, ``method``, ``quantity`` (strings for the result).

    Returns:
        A :class:`CheckResult` with verdict ``"pass"`` or ``"fail"``.

    Raises:
        ValueError: no samples, a non-finite sample or bound, an unknown relation, a bad tolerance.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(1.0, 0.1, 10_000)
    >>> check_samples(x, 1.01, "<=").verdict, check_samples(x, 0.8, "<=").verdict
    ('pass', 'fail')
    >>> check_samples(x, 1.0, "==", witness=True).verdict
    'pass'
    """
    lab = labels_of(labels)
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {', '.join(RELATIONS)}; got {relation!r}")
    x = as_samples(samples)
    bound = finite("bound_value", bound_value)
    if not (z > 0 and math.isfinite(z)):
        raise ValueError(f"z must be a positive number of standard errors; got {z!r}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise ValueError(f"rtol must be >= 0; got {rtol!r}")
    if witness_tol is not None and not (witness_tol >= 0 and math.isfinite(witness_tol)):
        raise ValueError(f"witness_tol must be >= 0; got {witness_tol!r}")
    n = x.size
    mean = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    eps = rtol * max(1.0, abs(bound))
    exact = deterministic or se == 0.0
    diff = mean - bound
    undecided = False
    if exact:
        spread = float(np.max(x) - np.min(x))
        ok = {"<=": diff <= eps, ">=": diff >= -eps, "==": abs(diff) <= eps}[relation]
        detail = (f"deterministic: value {mean:.10g} {relation} {bound:.10g} within rtol {rtol:g} "
                  f"(difference {diff:.3g})")
        if spread > eps:
            ok = False
            detail = (f"deterministic=True but the {n} samples differ by {spread:.3g} > {eps:.3g} "
                      f"(rtol {rtol:g}): not exact values")
        tol_w = eps / abs(bound) if bound != 0 else None
    else:
        margin = z * se
        text = f"mean {mean:.6g} ± {se:.3g} (SE, n={n}) vs bound {bound:.6g}; ({diff / se:+.2f} SE)"
        if relation == "==":
            ok = abs(diff) <= margin
            detail = text + (f"; |mean - exact| <= {z:g} SE" if ok
                             else f"; |mean - exact| > {z:g} SE: the value differs")
        else:
            sign = 1.0 if relation == "<=" else -1.0
            ok = sign * diff <= -margin
            side = "above" if relation == "<=" else "below"
            if ok:
                detail = text + f"; holds with confidence (the whole ±{z:g} SE interval satisfies {relation})"
            elif sign * diff > margin:
                detail = text + f"; the mean is {side} the bound by more than {z:g} SE: the bound is violated"
            else:
                undecided = True
                detail = text + (f"; inconclusive: the ±{z:g} SE interval straddles the bound "
                                 "(not violated, not demonstrated: more runs, or a witness check with ==)")
        tol_w = margin / abs(bound) if bound != 0 else None
    ratio = ratio_of(mean, bound)
    verdict = "pass" if ok else ("inconclusive" if undecided else "fail")
    if witness:
        tol = witness_tol if witness_tol is not None else tol_w
        if ratio is None or tol is None:
            verdict, detail = "fail", detail + "; witness: the ratio is undefined at bound 0"
        elif abs(ratio - 1.0) > tol:
            verdict = "fail"
            detail += f"; witness: ratio {ratio:.6g} not within {tol:.3g} of 1 (not tight)"
        else:
            detail += f"; witness: ratio {ratio:.6g} within {tol:.3g} of 1"
    return CheckResult(**lab, measured=mean, se=None if exact else se, n=n, bound=bound, ratio=ratio,
                       relation=relation, verdict=verdict, witness=witness, detail=detail)


def _select(result: Any, quantity: str, record: int) -> tuple[np.ndarray, str]:
    """Per-seed values of ``quantity`` (at ``record`` for traces) and a note on where they were taken."""
    if result.sweep_dims:
        dims = ", ".join(result.sweep_dims)
        raise ValueError(f"the result has sweep axes ({dims}); select one grid point first, e.g. "
                         f"result.sel({result.sweep_dims[0]}=0)")
    base = _GAPS.get(quantity, quantity)
    if base not in result.data:
        known = sorted({k for k, d in result.dims.items() if "seed" in d and k not in ("diverged", "diverged_step",
                                                                                        "done", "basin")}
                       | {g for g, b in _GAPS.items() if b in result.data})
        raise ValueError(f"unknown quantity {quantity!r}; known: {', '.join(known)}")
    arr = np.asarray(result[base], dtype=np.float64)
    dims = result.dims[base]
    note = ""
    if "record" in dims:
        steps = np.asarray(result.coords["record"])
        if not -steps.size <= record < steps.size:
            raise ValueError(f"record must index one of the {steps.size} recorded steps; got {record}")
        arr = arr[..., record]
        note = f" at step {int(steps[record])}"
    if base != quantity:
        f_star = result.attrs.get("constants", {}).get("f_star")
        if f_star is None:
            raise ValueError(f"{quantity!r} needs the problem's f_star in result.attrs['constants']")
        arr = arr - float(f_star)
    return arr.reshape(-1), note


def check(result: Any, bound: proofs.Bound, params: dict[str, float], *, quantity: str = "avg_grad_norm2",
          record: int = -1, theorem: str | None = None, problem: str | None = None, method: str | None = None,
          deterministic: bool = False, witness: bool = False, witness_tol: float | None = None, z: float = 4.0,
          strict: bool = True) -> CheckResult:
    """Hold one grid point of a run against a catalogued bound.

    Steps (after the request itself is validated: no sweep axes, a known quantity, every parameter
    given): (1) ``bound.evaluate(**params)`` — the bound's assumptions and step-size conditions are
    checked before any data is compared (THEORY.md §4.2); a violation raises
    :class:`proofs.AssumptionError` (``strict=True``, the default) or gives verdict ``"refused"`` with
    the message as ``detail`` (``strict=False``, for report runners). (2) The per-seed samples of
    ``quantity``, diverged runs excluded and counted. (3) :func:`check_samples` with ``bound.relation``.

    Args:
        result: an :class:`xtrap.Result` without sweep axes (``result.sel(axis=i)`` first).
        bound: a :class:`proofs.Bound` (``proofs.catalog()[name].bound``).
        params: values of every name in ``bound.parameters`` (extra names are ignored).
        quantity: a per-seed scalar (``"avg_grad_norm2"``, ``"avg_loss"``) or a trace (``"loss"``,
            ``"grad_norm2"``, ``"dist"``) taken at index ``record`` of ``coords["record"]``;
            ``"loss_gap"`` / ``"avg_loss_gap"`` subtract the problem's :math:`f^\\star`.
        record: index along the recorded steps (traces only; default the last, step :math:`T`).
        theorem, problem, method: labels (default: ``bound.name`` and the result's attributes).
        deterministic, witness, witness_tol, z: as in :func:`check_samples`.
        strict: raise on violated assumptions instead of returning a refusal.

    Returns:
        A :class:`CheckResult`; if every run diverged, verdict ``"fail"`` with ``measured=None``.

    Raises:
        proofs.AssumptionError: ``strict`` and an assumption is violated (the message names it and the values).
        ValueError: sweep axes left, an unknown quantity, a missing parameter, a non-finite sample of a
            non-diverged run.

    >>> import numpy as np, problems, proofs, xtrap
    >>> p = problems.make_quadratic([2.0], noise_cov=[[1.0]], x0=[0.0])
    >>> r = xtrap.run(p, xtrap.sgd(lr=0.5), steps=3, seeds=2000)
    >>> floor = proofs.catalog()["D1.floor"].bound       # gamma = 0: the SGD floor sigma2/b (C2 witness)
    >>> check(r, floor, dict(L=2.0, eta=0.5, gamma=0.0, sigma2=1.0, b=1), quantity="grad_norm2").verdict
    'pass'
    """
    lab = dict(theorem=bound.name if theorem is None else theorem,
               problem=result.attrs.get("problem", "") if problem is None else problem,
               method=result.attrs.get("method", "") if method is None else method, quantity=quantity)
    missing = [p for p in bound.parameters if p not in params]
    if missing:
        given = ", ".join(sorted(params)) or "none"
        raise ValueError(f"bound {bound.name} needs {', '.join(missing)}; params has {given}")
    samples, note = _select(result, quantity, record)  # a malformed request is an error before anything else
    try:
        value = bound.evaluate(**{k: float(v) for k, v in params.items()})
    except proofs.AssumptionError as err:
        if strict:
            raise
        return CheckResult(**lab, measured=None, se=None, n=0, bound=None, ratio=None, relation=bound.relation,
                           verdict="refused", witness=witness, detail=str(err))
    div = np.asarray(result["diverged"], dtype=bool).reshape(-1)
    if "done" in result.data and not np.all(result["done"]):
        raise ValueError(f"the result is incomplete ({int(np.sum(~np.asarray(result['done'])))} runs not done); "
                         "rerun or resume it before checking")
    n_div = int(div.sum())
    if n_div == div.size:
        return CheckResult(**lab, measured=None, se=None, n=0, bound=value, ratio=None, relation=bound.relation,
                           verdict="fail", witness=witness, diverged=n_div,
                           detail=f"all {n_div} runs diverged (first at step {int(np.min(result['diverged_step']))})")
    res = check_samples(samples[~div], value, bound.relation, deterministic=deterministic, z=z, witness=witness,
                        witness_tol=witness_tol, **lab)
    extra = f"{quantity}{note}" + (f"; {n_div} diverged runs excluded" if n_div else "")
    return dataclasses.replace(res, diverged=n_div, detail=f"{extra}: {res.detail}")

