"""Assertions about optimizer runs, with the project's statistical rules and a per-test error budget.

Every stochastic assertion spends a share of the current test's budget (:func:`budget`): inside a hypothesis
test of :math:`N` examples, each example may fail a *true* claim with probability :math:`\\alpha/N`
(Bonferroni, :class:`analysis.checks.Budget`), so the whole test does with probability at most :math:`\\alpha`
(default :math:`10^{-6}`, or ``pytest --xtrap-alpha``). Deterministic runs (exact gradients, no injected
noise) are compared to round-off instead. A failure raises :class:`ClaimFailed` whose message gives the
theorem, the parameters it was evaluated at, measured ± SE, the bound, and the call that reproduces the run.
The assertions (one claim kind each) are listed in :mod:`xtrap.testing` and docs/testing.md."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

import proofs
from analysis.checks import Budget, CheckResult, check, check_samples, fit_exponent, fit_rate_in_steps
from problems import ParameterError, Problem, check_bool, check_int, check_real

from ..methods import Method
from ..result import Result
from .plugin import STATE as _STATE  # the plugin's --xtrap-alpha sets the session's alpha

PILOT_SEEDS, MAX_SEEDS = 32, 4096  # pilot runs for seeds=None; the most seeds it picks
_NOISE_LAWS = ("gaussian", "ball", "sphere")


class ClaimFailed(AssertionError):
    """A claim about runs was contradicted; ``check`` holds the :class:`~analysis.checks.CheckResult` (if any)."""
    def __init__(self, message: str, check: CheckResult | None = None) -> None:
        super().__init__(message)
        self.check = check


def budget(alpha: float | None = None, examples: int | None = None) -> Budget:
    """The error budget of the current test.

    ``alpha``: the whole test's false-failure probability (default: ``--xtrap-alpha``, else :math:`10^{-6}`).
    ``examples``: the number of checks it is split over; default: inside a hypothesis test, that test's
    ``max_examples`` (hypothesis generates at most that many examples before a failure; replays and shrinking
    come only after one), else 1.
    """
    if examples is None:
        from hypothesis import settings
        from hypothesis.control import currently_in_test_context

        examples = int(settings.default.max_examples) if currently_in_test_context() else 1
    return Budget(alpha=_STATE["alpha"] if alpha is None else alpha, examples=examples)


def _bound(bound: Any) -> proofs.Bound:
    if isinstance(bound, proofs.Bound):
        return bound
    cat = proofs.catalog()
    if isinstance(bound, str) and bound in cat and cat[bound].bound is not None:
        return cat[bound].bound
    raise ParameterError(f"bound must be a proofs.Bound or the name of a catalog theorem with one; got {bound!r}")


def _alpha(alpha: float | None, confidence: float | None) -> float | None:
    if confidence is None:
        return alpha
    if alpha is not None:
        raise ParameterError("give alpha or confidence (= 1 - alpha), not both")
    return 1.0 - check_real("confidence", confidence, lo=0.5, hi=1.0, lo_open=True, hi_open=True)


def _split(result_or_method_and_problem: Any) -> tuple[Result | None, Method | None, Problem | None]:
    x = result_or_method_and_problem
    if isinstance(x, Result):
        return x, None, None
    if isinstance(x, tuple) and len(x) == 2:
        a, b = x
        if isinstance(a, Problem) and isinstance(b, Method):
            a, b = b, a
        if isinstance(a, Method) and isinstance(b, Problem):
            return None, a, b
    raise ParameterError("the first argument must be an xtrap.Result or a (method, problem) pair; "
                         f"got {type(x).__name__}")


def _run(method: Method, problem: Problem, steps: int, seeds: int, seed: int, x0: Any) -> Result:
    from ..run import run

    return run(problem, method, steps=steps, seeds=seeds, seed=seed, x0=x0)


def _reproduce(result: Result) -> str:
    a = result.attrs
    seed = a.get("seed")
    return (f"xtrap.run(problem, xtrap.make_method({a.get('method')!r}, ...), steps={a.get('steps')}, "
            f"seeds={a.get('seeds')}, seed={seed if seed is not None else '<a key was given>'})"
            f"  # problem {a.get('problem')!r}, hyper-parameters {a.get('hyper')}")


def _message(what: str, res: CheckResult, b: Budget, z: float | None, result: Result | None) -> str:
    spread = "" if res.se is None else f" ± {res.se:.4g} (SE, {res.n} runs)"
    measured = "nothing (every run diverged)" if res.measured is None else f"{res.measured:.8g}{spread}"
    params = ", ".join(f"{k}={v:.6g}" for k, v in sorted(res.parameters.items()))
    lines = [f"{what}: {res.theorem} on {res.problem or 'the problem'} by {res.method or 'the method'}",
             f"  parameters: {params or '(as given)'}",
             f"  measured {res.quantity}: {measured}  {res.relation}  bound {res.bound:.8g}"
             if res.bound is not None else f"  measured {res.quantity}: {measured}",
             f"  why: {res.detail}"]
    if z is not None:
        lines.append(f"  budget: alpha={b.alpha:g} over {b.examples} example(s) (Bonferroni): this example fails only "
                     f"beyond {z:.3g} SE")
    if result is not None:
        lines.append(f"  reproduce: {_reproduce(result)}")
    return "\n".join(lines)


def _stochastic(result: Result) -> bool:
    cfg = result.attrs.get("config", {})  # random: stochastic gradients, or a rule that injects noise
    return not cfg.get("exact", False) or cfg.get("noise") is not None or cfg.get("direction") in _NOISE_LAWS


def assert_obeys(result_or_method_and_problem: Any, bound: Any, *, quantity: str | None = None,
                 confidence: float | None = None, alpha: float | None = None, examples: int | None = None,
                 steps: int = 100, seeds: int | None = None, seed: int = 0, x0: Any = None, record: int = -1,
                 params: Mapping[str, float] | None = None, detect: float = 0.5, power: float = 0.9,
                 allow_estimated: bool = False) -> CheckResult:
    """Assert that runs obey the bound ``bound`` (one-sided), at the run's own parameters.

    The bound is held against the run by :func:`analysis.checks.check`: it must cover the run's structure
    (else :class:`proofs.AssumptionError` names the assumption, or the check moves to the sibling theorem that
    covers it, e.g. D1 -> D1-K), its symbols come from the run (``T, b, K, eta, gamma, ...``, the problem's
    constants), and its conditions must hold there. With :math:`R` non-diverged random runs the claim fails iff
    Hall's skew-corrected statistic :math:`T\\approx(\\hat m-B)/\\widehat{\\mathrm{SE}}` exceeds
    :math:`z=t^{-1}_{R-1}(1-\\alpha/N)` (the budget of :func:`budget`; :meth:`analysis.checks.Budget.statistic`);
    deterministic runs are compared to round-off. A mean within :math:`z` SE of the bound is
    not a contradiction and passes (the returned result says ``"inconclusive"``).

    Given a ``(method, problem)`` pair, the runs are made here: ``steps`` steps from ``x0``, ``seeds`` runs
    under ``seed``. ``seeds=None`` picks the count for the requested power: a pilot of 32 runs (under
    ``seed + 1``, discarded) estimates the per-run spread :math:`s`; then
    :math:`R=\\lceil((z+z_{\\text{power}})s/(\\text{detect}\\cdot B))^2\\rceil` runs (rounded up to a power of two,
    at most 4096) detect a mean above :math:`(1+\\text{detect})B` with probability ``power``. Give ``seeds``
    explicitly under hypothesis to keep one compiled run for all examples.

    Args:
        result_or_method_and_problem: an :class:`xtrap.Result` without sweep axes, or ``(method, problem)``.
        bound: a :class:`proofs.Bound` or a catalog theorem name (``"D1"``).
        quantity: the bounded quantity; must be the bound's own (default).
        confidence: ``1 - alpha`` (give one of the two).
        alpha, examples: the error budget (:func:`budget`).
        steps, seeds, seed, x0: the runs to make for a ``(method, problem)`` pair.
        record: which recorded step a trace bound is checked at (its horizon :math:`T`).
        params: values of bound symbols the run does not determine (never ones it does).
        detect, power: the violation to detect and the probability of detecting it (``seeds=None``).
        allow_estimated: accept a bound at estimated constants (result ``"holds-estimated"``).

    Returns: the :class:`~analysis.checks.CheckResult`.

    Raises:
        ClaimFailed: the runs contradict the bound (the message has the theorem, parameters, measured ± SE,
            the bound and the reproducing call), at exact or at estimated constants.
        ParameterError: bad arguments, fewer than 30 non-diverged random runs (too few to decide), or a bound
            that rests on estimated constants without ``allow_estimated=True`` (a pass would verify nothing).
        proofs.AssumptionError: the bound does not cover the run, or its conditions fail at the run's parameters.

    >>> import problems, xtrap
    >>> p = problems.make("quadratic", dim=4, sigma2=1.0)
    >>> assert_obeys((xtrap.extrap_sgd(lr=0.5, extrap_lr=0.5), p), "D1", steps=50, seeds=128).verdict
    'pass'
    """
    b_obj = _bound(bound)
    result, method, problem = _split(result_or_method_and_problem)
    b = budget(_alpha(alpha, confidence), examples)
    if result is None:
        steps = check_int("steps", steps, lo=1)
        seed = check_int("seed", seed, lo=0, hi=2**62)
        if seeds is None:
            seeds = 1 if method.config.exact and method.config.rule.noise is None else \
                _seeds_for_power(method, problem, b_obj, b, steps, seed, x0, record, params, quantity, detect, power)
        result = _run(method, problem, steps, check_int("seeds", seeds, lo=1), seed, x0)
    z = 4.0
    n_ok = int(np.sum(~np.asarray(result["diverged"], dtype=bool))) if "diverged" in result.data else 0
    if _stochastic(result) and n_ok >= 2:
        z = b.z(n_ok)
    res = check(result, b_obj, params, quantity=quantity, record=record, z=z, skew=_stochastic(result))
    if res.verdict == "inconclusive" and res.n < 30 and _stochastic(result):
        raise ParameterError(f"seeds: {res.n} non-diverged random runs cannot decide {res.theorem} (at least 30 "
                             "are needed before the SE rule means anything); give more seeds")
    if res.verdict in ("fail", "fails-estimated"):
        head = "claim failed" + (" for the estimated constants" if res.estimated else "")
        raise ClaimFailed(_message(head, res, b, z if _stochastic(result) else None, result), res)
    if res.estimated and not check_bool("allow_estimated", allow_estimated):
        raise ParameterError(f"bound {res.theorem} rests on estimated constants ({', '.join(res.estimated)}): a pass "
                             "would verify nothing; give those constants, or allow_estimated=True")
    return res


def _seeds_for_power(method: Method, problem: Problem, bound: proofs.Bound, b: Budget, steps: int, seed: int,
                     x0: Any, record: int, params: Any, quantity: Any, detect: float, power: float) -> int:
    pilot = _run(method, problem, steps, PILOT_SEEDS, seed + 1, x0)
    res = check(pilot, bound, params, quantity=quantity, record=record, min_seeds=2)
    if res.se is None or res.bound in (None, 0.0):
        return PILOT_SEEDS * 4
    rel_sd = res.se * math.sqrt(res.n) / abs(res.bound)
    need = min(MAX_SEEDS, b.seeds_for(rel_sd, detect, power))
    return int(2 ** math.ceil(math.log2(need)))


def _expected(expected: Any, values: Mapping[str, float] | None) -> tuple[float, str]:
    if isinstance(expected, (str, proofs.Bound)):
        bd = _bound(expected)
        if values is None:
            raise ParameterError(f"values: the exact value of {bd.name} needs the bound's parameters "
                                 f"({', '.join(bd.parameters)}); got none")
        return bd.evaluate(**values), bd.name
    return check_real("expected", expected), "exact value"


def assert_equals_exact(measured: Any, expected: Any, *, values: Mapping[str, float] | None = None,
                        deterministic: bool | None = None, rtol: float = 1e-9, alpha: float | None = None,
                        examples: int | None = None, label: str = "") -> CheckResult:
    """Assert that measured values equal an exact one: to round-off if deterministic, else within the budget.

    ``measured`` is one value or one per independent run. ``expected`` is a number, or an [exact] catalog bound
    (a :class:`proofs.Bound` or name) evaluated at ``values``. Deterministic (``deterministic=True``, one value,
    or all values identical): :math:`|\\hat m-v|\\le\\mathrm{rtol}\\max(1,|v|)`. Random: two-sided,
    :math:`|T|\\le z` with :math:`z=t^{-1}_{R-1}(1-\\alpha/(2N))` and :math:`T` Hall's skewness-corrected
    t statistic (:meth:`analysis.checks.Budget.statistic`: the plain one rejects right-skewed samples, such as
    losses, in its left tail far more often than Student's law says).

    Raises:
        ClaimFailed: the values differ (message: what, measured ± SE, expected, the budget).
        ParameterError: a non-finite value, or an expected bound without ``values``.

    >>> assert_equals_exact(0.1 + 0.2, 0.3).verdict
    'pass'
    """
    value, name = _expected(expected, values)
    x = np.atleast_1d(np.asarray(measured, dtype=np.float64)).reshape(-1)
    b = budget(alpha, examples)
    exact = bool(deterministic) if deterministic is not None else (x.size == 1 or float(np.ptp(x)) == 0.0)
    z = 4.0 if exact or x.size < 2 else b.z(x.size, two_sided=True)
    res = check_samples(x, value, "==", deterministic=exact, rtol=rtol, z=z, skew=not exact and x.size >= 2,
                        theorem=name, quantity=label or "value")
    if values is not None:
        res = dataclasses.replace(res, parameters={k: float(v) for k, v in values.items()})
    if res.verdict != "pass":
        raise ClaimFailed(_message("exact value differs", res, b, None if exact else z, None), res)
    return res


def assert_rate(result_or_points: Any, proved: float, *, quantity: str = "loss", start: int | None = None,
                alpha: float | None = None, examples: int | None = None) -> Any:
    """Assert that the fitted power-law exponent's interval contains the ``proved`` one.

    ``result_or_points`` is an :class:`xtrap.Result` (the recorded trace ``quantity`` against the step,
    :func:`analysis.checks.fit_rate_in_steps`, from step ``start``) or ``(x, y)`` arrays
    (:func:`analysis.checks.fit_exponent`, ``y`` per point or points x seeds). The interval's level is
    :math:`1-\\alpha/N` (the budget of :func:`budget`), so a true rate fails the whole test with probability
    at most :math:`\\alpha` as far as the fit's interval is honest (it treats residuals as independent).

    Returns:
        The :class:`~analysis.checks.RateFit`.

    Raises:
        ClaimFailed: the interval excludes ``proved``.

    >>> import numpy as np
    >>> t = np.arange(1.0, 50.0)
    >>> assert_rate((t, 3.0 / t), -1.0).contains(-1.0)
    True
    """
    proved = check_real("proved", proved)
    b = budget(alpha, examples)
    level = 1.0 - b.per_example
    if isinstance(result_or_points, Result):
        fit = fit_rate_in_steps(result_or_points, quantity, start=start, confidence=level)
        where = f"{quantity} of {result_or_points.attrs.get('method')} on {result_or_points.attrs.get('problem')}"
        repro = f"\n  reproduce: {_reproduce(result_or_points)}"
    else:
        x, y = result_or_points
        fit = fit_exponent(x, y, confidence=level)
        where, repro = "the given points", ""
    if not fit.contains(proved):
        raise ClaimFailed(f"rate differs: fitted exponent of {where} is {fit.exponent:.5g} with "
                          f"{100 * level:.10g}% interval [{fit.ci_low:.5g}, {fit.ci_high:.5g}] over {fit.n_points} "
                          f"points, which excludes the proved {proved:g}\n  budget: alpha={b.alpha:g} over "
                          f"{b.examples} example(s) (Bonferroni){repro}")
    return fit


def _growth(result: Result) -> np.ndarray:
    """Per run: (f(x_T) - f*) / (f(x_0) - f*), inf for a diverged run."""
    loss = np.asarray(result["loss"], dtype=np.float64)
    f_star = float(result.attrs.get("constants", {}).get("f_star", 0.0) or 0.0)
    gap = loss - f_star
    first, last = gap[..., 0], gap[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(first > 0, last / first, np.where(last > 0, np.inf, 1.0))
    g = np.where(np.asarray(result["diverged"], dtype=bool), np.inf, g)
    return g.reshape(-1)


def _growths(x: Any, growth: float, steps: int, seeds: int, seed: int) -> tuple[Result, np.ndarray]:
    check_real("growth", growth, lo=1.0)
    result = _runs(x, steps, seeds, seed)
    return result, _growth(result)


def _runs(x: Any, steps: int, seeds: int, seed: int) -> Result:
    result, method, problem = _split(x)
    if result is None:
        result = _run(method, problem, check_int("steps", steps, lo=1), check_int("seeds", seeds, lo=1),
                      check_int("seed", seed, lo=0, hi=2**62), None)
    if result.sweep_dims:
        raise ParameterError(f"the result has sweep axes ({', '.join(result.sweep_dims)}); select one point")
    return result


def assert_stable(result_or_method_and_problem: Any, *, growth: float = 1e3, steps: int = 1000, seeds: int = 1,
                  seed: int = 0) -> Result:
    """Assert that no run diverged and none grew: :math:`f(x_T)-f^\\star\\le\\text{growth}\\cdot(f(x_0)-f^\\star)`.

    For a step just below a stability threshold (e.g. A2.GD's :math:`\\eta<2/\\lambda`). Given
    ``(method, problem)``, runs ``steps`` steps, ``seeds`` runs. Returns the result.

    Raises:
        ClaimFailed: a run diverged or grew by more than ``growth`` (the message names the worst one).
    """
    result, g = _growths(result_or_method_and_problem, growth, steps, seeds, seed)
    bad = np.flatnonzero(~(g <= growth))
    if bad.size:
        i = int(bad[np.argmax(g[bad])])
        raise ClaimFailed(f"not stable: {bad.size} of {g.size} runs of {result.attrs.get('method')} on "
                          f"{result.attrs.get('problem')} diverged or grew (run {i}: (f(x_T) - f*)/(f(x_0) - f*) = "
                          f"{g[i]:.4g} > {growth:g})\n  reproduce: {_reproduce(result)}")
    return result


def assert_diverges(result_or_method_and_problem: Any, *, growth: float = 1e3, steps: int = 1000, seeds: int = 1,
                    seed: int = 0) -> Result:
    """Assert that every run diverged or grew: :math:`f(x_T)-f^\\star>\\text{growth}\\cdot(f(x_0)-f^\\star)`.

    For a step just above a stability threshold. Growth counts as divergence because a run slightly past the
    threshold grows too slowly to reach the divergence radius in ``steps`` steps.

    Raises:
        ClaimFailed: some run stayed bounded (the message names the tamest one).
    """
    result, g = _growths(result_or_method_and_problem, growth, steps, seeds, seed)
    tame = np.flatnonzero(g <= growth)
    if tame.size:
        i = int(tame[np.argmin(g[tame])])
        raise ClaimFailed(f"did not diverge: {tame.size} of {g.size} runs of {result.attrs.get('method')} on "
                          f"{result.attrs.get('problem')} stayed within growth {growth:g} (run {i}: "
                          f"(f(x_T) - f*)/(f(x_0) - f*) = {g[i]:.4g})\n  reproduce: {_reproduce(result)}")
    return result


def assert_monotone(result: Result, trace: str, *, increasing: bool = False, rtol: float = 1e-12) -> None:
    """Assert that the recorded ``trace`` (``"loss"``, ``"grad_norm2"``, ``"dist"``) never increases, per run.

    Between consecutive records :math:`v_{t+1}\\le v_t+\\mathrm{rtol}\\max(1,|v_t|)` (round-off allowed), or
    :math:`\\ge` with ``increasing=True``. A diverged run is not monotone.

    Raises:
        ClaimFailed: the first run and step where the trace moves the wrong way, with both values.
        ParameterError: not a Result, sweep axes left, or ``trace`` is not a recorded trace.

    >>> import problems, xtrap
    >>> p = problems.make("quadratic", dim=3, sigma2=0.0)
    >>> assert_monotone(xtrap.run(p, xtrap.extragradient(lr=0.5), steps=20), "loss")
    """
    if not isinstance(result, Result):
        raise ParameterError(f"result must be an xtrap.Result; got {type(result).__name__}")
    if result.sweep_dims:
        raise ParameterError(f"the result has sweep axes ({', '.join(result.sweep_dims)}); select one point")
    traces = sorted(k for k, d in result.dims.items() if "record" in d and k != "iterates")
    if trace not in traces:
        raise ParameterError(f"trace must be one of {', '.join(traces)}; got {trace!r}")
    check_real("rtol", rtol, lo=0.0)
    v = np.asarray(result[trace], dtype=np.float64).reshape(-1, np.asarray(result.coords["record"]).size)
    steps = np.asarray(result.coords["record"])
    div = np.asarray(result["diverged"], dtype=bool).reshape(-1)
    if div.any():
        i = int(np.flatnonzero(div)[0])
        raise ClaimFailed(f"not monotone: run {i} diverged (at step {int(np.asarray(result['diverged_step']).reshape(-1)[i])})"
                          f"\n  reproduce: {_reproduce(result)}")
    d = np.diff(v, axis=1) * (-1.0 if increasing else 1.0)
    tol = rtol * np.maximum(1.0, np.abs(v[:, :-1]))
    bad = np.argwhere(~(d <= tol))
    if bad.size:
        i, t = map(int, bad[0])
        word = "decreased" if increasing else "increased"
        raise ClaimFailed(f"not monotone: {trace} of run {i} {word} from {v[i, t]:.10g} at step {int(steps[t])} to "
                          f"{v[i, t + 1]:.10g} at step {int(steps[t + 1])} ({bad.shape[0]} such steps in "
                          f"{v.shape[0]} runs)\n  reproduce: {_reproduce(result)}")


__all__ = ["ClaimFailed", "assert_diverges", "assert_equals_exact", "assert_monotone", "assert_obeys", "assert_rate",
           "assert_stable", "budget"]
