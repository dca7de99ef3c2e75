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
from typing import Any, Mapping

import numpy as np

import proofs
from problems import ParameterError, check_int

from .budget import Budget
from .runs import RunInfo, estimated_inputs, pooled, resolve_scope, run_parameters
from .tails import check_median, lyapunov_exponent, median_interval
from .verdicts import RELATIONS, CheckResult, as_samples, finite, labels_of, ratio_of

__all__ = ["CheckResult", "MIN_SEEDS", "RELATIONS", "bound_parameters", "check", "check_median", "check_samples", "lyapunov_exponent",
           "median_interval"]

_DERIVED = {"loss_gap": "loss", "avg_loss_gap": "avg_loss", "dist2": "dist"}  # f - f*, ||x - x*||^2 from records
MIN_SEEDS = 30  # t with 29 degrees of freedom: P(T > 4) = 2e-4; with 2 seeds it is 0.08


def check_samples(samples: Any, bound_value: float, relation: str, *, deterministic: bool = False,
                  rtol: float = 1e-9, z: float = 4.0, witness: bool = False, witness_tol: float | None = None,
                  skew: bool = False, **labels: Any) -> CheckResult:
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
        skew: decide by Hall's skewness-corrected statistic :math:`T` (:meth:`Budget.statistic`) in place
            of :math:`(\\hat m-B)/\\widehat{\\mathrm{SE}}`: for the small tail probabilities of an error budget,
            where right-skewed samples (losses, squared norms) make the plain rule's lower tail too heavy.
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
        if skew:  # the rule below on the corrected statistic: diff / se := T
            tj = Budget.statistic(x, bound)
            text += f"; skew-corrected t = {tj:+.3g} (Hall)"
            diff, margin = tj * se, z * se
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
    base = _DERIVED.get(quantity, quantity)
    if base not in result.data:
        known = sorted({k for k, d in result.dims.items() if "seed" in d and k not in ("diverged", "diverged_step",
                                                                                        "done", "basin")}
                       | {g for g, b in _DERIVED.items() if b in result.data})
        missing = "" if "avg_loss" in result.data else " (avg_loss and avg_grad_norm2 need a run with averages=True)"
        raise ParameterError(f"quantity must be one of {', '.join(known)}{missing}; got {quantity!r}")
    arr = np.asarray(result[base], dtype=np.float64)
    note = ""
    if "record" in result.dims[base]:
        steps = np.asarray(result.coords["record"])
        arr = arr[..., record]
        note = f" at step {int(steps[record])}"
    if quantity in ("loss_gap", "avg_loss_gap"):
        f_star = result.attrs.get("constants", {}).get("f_star")
        if f_star is None or not math.isfinite(float(f_star)):
            raise ParameterError(f"quantity {quantity!r} needs a finite f_star in result.attrs['constants']; "
                                 f"got {f_star!r}")
        arr = arr - float(f_star)
    elif quantity == "dist2":
        arr = arr**2
    return arr.reshape(-1), note


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def bound_parameters(bound: proofs.Bound, info: RunInfo, params: Mapping[str, Any] | None = None
                     ) -> tuple[dict[str, float], list[str]]:
    """The values of ``bound.parameters`` for the run ``info``, and notes on how they were obtained.

    Symbols the run determines (:func:`~analysis.checks.runs.run_parameters`; with K workers pooled into one
    batch where the bound has no K) are taken from the run; an explicit value that contradicts the run is
    refused. Symbols the run does not determine (a level-set radius, :math:`\\mathbb E\\|\\delta\\|^2` of an
    extrapolation rule) must be given in ``params``. Names the bound does not use are ignored.

    Raises:
        ParameterError: ``params`` is not a mapping, a value is not a finite real number, or it contradicts the
            run (the message names both values).
        proofs.AssumptionError: a symbol is neither determined by the run nor given.
    """
    if params is not None and not isinstance(params, Mapping):
        raise ParameterError(f"params must be a mapping of bound symbols to numbers; got {type(params).__name__}")
    given = dict(params or {})
    run = run_parameters(info)
    notes = []
    if "K" not in bound.parameters and bound.scope is not None and bound.scope.workers != "any":
        run, note = pooled(info, run)
        if note:
            notes.append(note)
    values, clash, missing = {}, [], []
    for name in bound.parameters:
        if name in given:
            v = given[name]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
                raise ParameterError(f"params[{name!r}] must be a finite real number; got {v!r}")
        if name in run:
            if name in given and not _same(float(given[name]), run[name]):
                clash.append(f"{name}={given[name]!r} but the run has {name}={run[name]:.10g}")
            values[name] = run[name]
        elif name in given:
            values[name] = float(given[name])
        else:
            missing.append(name)
    if clash:
        raise ParameterError(f"params contradict the run held against {bound.name}: {'; '.join(clash)} "
                             "(the bound is evaluated at the run's own parameters; leave them out)")
    if missing:
        c = info.constants
        why = [f"{m} (the problem has no finite {m})" if m in c else m for m in missing]
        raise proofs.AssumptionError(f"bound {bound.name} needs {', '.join(why)}, which the run does not "
                                     "determine; pass it in params (on the command line: --bound-param NAME=VALUE)")
    return values, notes


def check(result: Any, bound: proofs.Bound, params: Mapping[str, Any] | None = None, *,
          quantity: str | None = None, record: int = -1, theorem: str | None = None, problem: str | None = None,
          method: str | None = None, deterministic: bool | None = None, witness: bool = False,
          witness_tol: float | None = None, z: float = 4.0, strict: bool = True,
          min_seeds: int = MIN_SEEDS, skew: bool = False) -> CheckResult:
    """Hold one grid point of a run against a catalogued bound, at the run's own parameters.

    Steps: (1) the bound must speak about this run (:func:`~analysis.checks.runs.resolve_scope`): a bound on a
    recorded quantity (not a threshold, a witness value, a limit or an identity), whose structural assumptions
    (direction rule, base update, same or fresh batch, workers, exact or stochastic gradients, schedule) the run
    meets; where a sibling theorem covers the run instead (D1 -> D1-K for K workers), the check moves to it and
    says why. (2) The bound's parameters come from the run (:func:`bound_parameters`); explicit ``params``
    only supply what the run does not determine, and any that contradicts the run is refused. (3)
    ``bound.evaluate`` checks the conditions (step sizes ...) before any data is compared; a violation raises
    :class:`proofs.AssumptionError` (``strict=True``) or gives verdict ``"refused"`` (``strict=False``). (4) The
    per-seed samples of the bounded quantity, diverged runs excluded and counted, go to :func:`check_samples`
    with ``bound.relation``; random runs need at least ``min_seeds`` non-diverged seeds for a verdict other
    than ``"inconclusive"`` (fewer and the standard error itself is too uncertain for the 4-SE rule).

    Args:
        result: an :class:`xtrap.Result` without sweep axes (``result.sel(axis=i)`` first).
        bound: a :class:`proofs.Bound` (``proofs.catalog()[name].bound``) with a :class:`proofs.RunScope`.
        params: values of bound symbols that the run does not determine (e.g. ``R`` of B7); optional.
        quantity: must be the bound's own (``bound.scope.measures``, the default); anything else is refused.
        record: index along the recorded steps for trace quantities; the horizon :math:`T` is that step.
        theorem, problem, method: labels (default: the bound used and the result's attributes).
        deterministic: compare to round-off; default: the run has exact gradients and no injected noise.
        witness, witness_tol, z, skew: as in :func:`check_samples`.
        strict: raise on violated conditions instead of returning a refusal.
        min_seeds: the fewest non-diverged random runs that decide (default 30).

    Returns:
        A :class:`CheckResult` (its ``detail`` starts with any note on a sibling switch or pooled workers);
        if every run diverged, verdict ``"fail"`` with ``measured=None``.

    Raises:
        ParameterError: not a Bound, sweep axes left, another quantity than the bound's, a bad or contradicting
            parameter, an incomplete result.
        proofs.AssumptionError: the bound does not cover this run (the message names the assumption), it needs
            a parameter the run does not determine, or (``strict``) a condition is violated.

    >>> import problems, proofs, xtrap
    >>> p = problems.make_quadratic([1.0, 2.0], noise_cov=[[0.5, 0.0], [0.0, 0.5]], x0=[1.0, 1.0])
    >>> r = xtrap.run(p, xtrap.sgd(lr=0.25, batch=2), steps=200, seeds=400)
    >>> check(r, proofs.catalog()["C2"].bound).verdict
    'pass'
    """
    if not isinstance(bound, proofs.Bound):
        raise ParameterError(f"bound must be a proofs.Bound (e.g. proofs.catalog()['D1'].bound); got {bound!r}")
    if not all(hasattr(result, a) for a in ("attrs", "data", "dims", "coords")) or "config" not in result.attrs:
        raise ParameterError(f"result must be an xtrap.Result of xtrap.run; got {type(result).__name__}")
    check_int("min_seeds", min_seeds, lo=2)
    info = RunInfo.of_result(result)
    used, notes = resolve_scope(bound, info)
    wanted = used.scope.measures
    if quantity is not None and quantity != wanted:
        raise ParameterError(f"quantity must be the one bound {used.name} bounds, {wanted!r} ({used.quantity}); "
                             f"got {quantity!r}")
    rec = np.asarray(result.coords["record"])
    if not -rec.size <= int(record) < rec.size:
        raise ParameterError(f"record must index one of the {rec.size} recorded steps; got {record}")
    if "record" in result.dims.get(_DERIVED.get(wanted, wanted), ()):
        info = dataclasses.replace(info, steps=int(rec[record]))
    if "done" in result.data and not np.all(result["done"]):
        raise ParameterError(f"the result is incomplete ({int(np.sum(~np.asarray(result['done'])))} runs not done); "
                             "resume it (xtrap run --out FILE --resume) before checking")
    values, more = bound_parameters(used, info, params)
    notes += more
    lab = dict(theorem=used.name if theorem is None else theorem,
               problem=result.attrs.get("problem", "") if problem is None else problem,
               method=result.attrs.get("method", "") if method is None else method, quantity=wanted)
    samples, where = _select(result, wanted, record)
    prefix = "".join(n + "; " for n in notes)
    try:
        value = used.evaluate(**values)
    except proofs.AssumptionError as err:
        if strict:
            raise proofs.AssumptionError(prefix + str(err)) from None
        return CheckResult(**lab, measured=None, se=None, n=0, bound=None, ratio=None, relation=used.relation,
                           verdict="refused", witness=witness, detail=prefix + str(err))
    div = np.asarray(result["diverged"], dtype=bool).reshape(-1)
    n_div = int(div.sum())
    if n_div == div.size:
        return _for_estimates(CheckResult(
            **lab, measured=None, se=None, n=0, bound=value, ratio=None, relation=used.relation, verdict="fail",
            witness=witness, diverged=n_div, parameters=values,
            detail=prefix + f"all {n_div} runs diverged (first at step {int(np.min(result['diverged_step']))})"),
            estimated_inputs(info, used.parameters, wanted))
    exact = (not info.noise) if deterministic is None else bool(deterministic)
    extra = prefix + f"{wanted}{where}" + (f"; {n_div} diverged runs excluded" if n_div else "")
    ok = samples[~div]
    if not exact and ok.size < min_seeds:
        mean = float(np.mean(ok))
        se = float(np.std(ok, ddof=1) / math.sqrt(ok.size)) if ok.size > 1 else None
        spread = "" if se is None else f" ± {se:.3g} (SE)"
        return _for_estimates(CheckResult(
            **lab, measured=mean, se=se, n=int(ok.size), bound=value, ratio=ratio_of(mean, value),
            relation=used.relation, verdict="inconclusive", witness=witness, diverged=n_div, parameters=values,
            detail=f"{extra}: mean {mean:.6g}{spread} of {ok.size} random runs vs bound {value:.6g}; undecided: at "
                   f"least {min_seeds} non-diverged runs are needed before the {z:g}-SE rule decides (the standard "
                   "error of fewer is itself too uncertain)"), estimated_inputs(info, used.parameters, wanted))
    res = check_samples(ok, value, used.relation, deterministic=exact, z=z, witness=witness,
                        witness_tol=witness_tol, skew=skew and not exact, **lab)
    res = dataclasses.replace(res, diverged=n_div, detail=f"{extra}: {res.detail}", parameters=values)
    return _for_estimates(res, estimated_inputs(info, used.parameters, wanted))


def _for_estimates(res: CheckResult, estimated: list[str]) -> CheckResult:
    """A verdict reached at estimated constants holds (or fails) for those values only: never ``"pass"``."""
    if not estimated:
        return res
    verdict = {"pass": "holds-estimated", "fail": "fails-estimated"}.get(res.verdict, res.verdict)
    word = {"holds-estimated": "holds", "fails-estimated": "fails"}.get(verdict)
    head = (f"{word} for the estimated constants ({', '.join(estimated)}), not verified: " if word else
            f"at estimated constants ({', '.join(estimated)}): ")
    return dataclasses.replace(res, verdict=verdict, estimated=tuple(estimated), detail=head + res.detail)
