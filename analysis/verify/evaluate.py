"""Evaluating one declared check: run (cached), extract the compared samples, hold them against the bound.

Kinds (see :class:`~analysis.verify.spec.CatalogCheck`):

* ``bound`` — samples of the quantity over seeds vs ``bound.evaluate(params)`` (4.2 of THEORY.md).
* ``formula`` — A1: :math:`f(x_t)-f^\\star=\\tfrac12\\sum_i\\lambda_i r(\\lambda_i)^{2t}c_{0,i}^2` with the catalog's
  per-direction factor :math:`r(\\lambda)^t`; or (``mean_path``) the seed mean of
  :math:`c_{t,i}/c_{0,i}` along the slowest direction against :math:`r(\\lambda_i)^t`.
* ``threshold`` — A2/G2: the problem :math:`\\tfrac\\lambda2\\|x\\|^2` at :math:`\\lambda=0.999\\,\\lambda^\\star` and
  :math:`1.001\\,\\lambda^\\star` (:math:`\\lambda^\\star` the catalog threshold); the exact method must converge on
  the stable side and diverge on the other.
* ``stationary`` — A3: the stationary :math:`\\mathbb E f-f^\\star=\\sum_i` (per-direction value at
  :math:`\\lambda_i`, :math:`v_i=q_i^\\top\\Sigma_\\epsilon q_i/(Kb)`), estimated from chains started at
  :math:`x^\\star` and averaged over the stationary window.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

import proofs
import xtrap

from ..checks.bounds import CheckResult, check_samples
from ..checks.bounds import check as check_run
from .spec import Build, CatalogCheck, Ctx, build, noise_moment

RAW = ("avg_grad_norm2", "grad_norm2", "dist")


class Runner:
    """Runs at one level, kept by (problem, method, run settings), so checks share simulations.

    ``runs`` counts the distinct runs, ``cached`` those of them read from a results cache
    (:mod:`xtrap.results_cache`) instead of computed."""

    def __init__(self, level: str) -> None:
        self.level = level
        self._cache: dict[Any, tuple[xtrap.Result, Ctx]] = {}
        self.runs = 0
        self.cached = 0

    def get(self, check: CatalogCheck, problem_build: Build | None = None) -> tuple[xtrap.Result, Ctx]:
        """The run a check declares (``problem_build`` overrides its problem builder), from the cache if done."""
        pb = check.problem if problem_build is None else problem_build
        key = (pb, check.method, check.run, self.level)
        if key not in self._cache:
            ctx = self._ctx(check, pb)
            result = xtrap.run(ctx.problem, ctx.method, steps=ctx.steps, seeds=ctx.seeds, seed=0, x0=ctx.x0,
                               record_every=check.run.record_every, diverge_radius=check.run.diverge_radius,
                               iterates=check.run.iterates)
            self.runs += 1
            self.cached += bool(result.attrs.get("cached"))
            self._cache[key] = (result, ctx)
        return self._cache[key]

    def context(self, check: CatalogCheck) -> Ctx:
        """The :class:`Ctx` of a check without running it (a threshold check's problem at :math:`\\lambda=1`)."""
        return self._ctx(check, check.problem if check.kind != "threshold" else build(check.problem.fn, lam=1.0))

    def _ctx(self, check: CatalogCheck, pb: Build) -> Ctx:
        problem = pb()
        steps, seeds = check.run.at(self.level)
        x0 = np.asarray(problem.minima[0].x if check.run.start == "star" else problem.x0, dtype=np.float64)
        return Ctx(problem, check.method(problem), steps, seeds, x0)


def theorem_bound(name: str) -> proofs.Bound:
    """The exported bound of catalog theorem ``name`` (KeyError/ValueError with the name otherwise)."""
    th = proofs.catalog()[name]
    if th.bound is None:
        raise ValueError(f"theorem {name} exports no bound")
    return th.bound


def declared_params(check: CatalogCheck, ctx: Ctx) -> dict[str, float]:
    """The parameter dict the check passes to its bound (per-direction names filled for the first direction)."""
    params = dict(check.params(ctx))
    if check.kind in ("formula", "stationary"):
        params.update(_direction_params(check, ctx, 0))
    if check.kind == "formula":
        params["T"] = float(_step(check, ctx))
    return params


def _select(params: dict[str, float], bound: proofs.Bound) -> dict[str, float]:
    return {k: params[k] for k in bound.parameters if k in params}


def _labels(check: CatalogCheck, ctx: Ctx) -> dict[str, str]:
    return {"theorem": check.theorem, "problem": check.problem.label, "method": ctx.method.name,
            "quantity": check.quantity}


def _step(check: CatalogCheck, ctx: Ctx) -> int:
    return ctx.steps if check.at is None else int(check.at)


def _refused(check: CatalogCheck, ctx: Ctx, bound: proofs.Bound, err: Exception) -> CheckResult:
    return CheckResult(**_labels(check, ctx), measured=None, se=None, n=0, bound=None, ratio=None,
                       relation=bound.relation, verdict="refused", witness=check.witness, detail=str(err))


def samples(result: xtrap.Result, problem: Any, quantity: str, at: int | None, window: float | None) -> np.ndarray:
    """Per-seed values of ``quantity`` (NaN for diverged seeds), at step ``at`` or averaged over the window."""
    if quantity == "avg_grad_norm2":
        return np.asarray(result["avg_grad_norm2"], dtype=np.float64)
    base = {"loss_gap": "loss", "dist2": "dist"}.get(quantity, quantity)
    trace = np.asarray(result[base], dtype=np.float64)
    if quantity == "loss_gap":
        trace = trace - float(problem.f_star)
    elif quantity == "dist2":
        trace = trace**2
    rec = np.asarray(result.coords["record"])
    if window is not None:
        cols = rec >= window * rec[-1]
        return trace[..., cols].mean(axis=-1)
    idx = len(rec) - 1 if at is None else int(np.flatnonzero(rec == at)[0])
    return trace[..., idx]


def _finish(res: CheckResult, n_div: int, check: CatalogCheck, detail: str = "") -> CheckResult:
    """Attach the diverged count and a detail; a diverged run fails a check that expects to pass."""
    changes: dict[str, Any] = {}
    if detail:
        changes["detail"] = (res.detail + "; " if res.detail else "") + detail
    if n_div:
        changes["diverged"] = n_div
        if res.verdict == "pass":
            changes["verdict"] = "fail"
            changes["detail"] = changes.get("detail", res.detail) + f"; {n_div} run(s) diverged"
    return dataclasses.replace(res, **changes) if changes else res


def _compare(s: np.ndarray, value: float, relation: str, check: CatalogCheck, labels: dict[str, Any],
             detail: str = "", ctx: Ctx | None = None) -> CheckResult:
    """``check_samples`` on the finite samples (diverged runs counted, and failing).

    Deterministic comparisons are *relative* (1e-9 of the value), so that identities between tiny numbers
    (e.g. :math:`f(x_t)\\sim10^{-25}`) are not passed by an absolute tolerance. A witness is held to two
    claims: the identity ``mean == exact value at the witness`` (4 SE, or round-off) and the tightness
    ``|mean/bound - 1| <= witness_tol`` with the bound not violated; at a witness the ±4 SE interval is
    expected to straddle the bound, so the one-sided test alone cannot decide.
    """
    ok = np.isfinite(s)
    if not ok.any():
        return CheckResult(**labels, measured=None, se=None, n=0, bound=value, ratio=None, relation=relation,
                           verdict="fail", witness=check.witness, diverged=int(s.size), detail="every run diverged")
    x = s[ok]

    def rtol(v: float) -> float:
        return 1e-9 * min(1.0, abs(v)) if check.deterministic else 1e-9

    res = check_samples(x, value, relation, deterministic=check.deterministic, rtol=rtol(value),
                        witness=check.witness, witness_tol=check.witness_tol, **labels)
    if check.witness:
        target = value if check.exact is None or ctx is None else float(check.exact(ctx))
        ident = check_samples(x, target, "==", deterministic=check.deterministic, rtol=rtol(target), **labels)
        tight = res.verdict in ("pass", "inconclusive")  # ratio within witness_tol and the bound not violated
        verdict = "pass" if tight and ident.verdict == "pass" else "fail"
        res = dataclasses.replace(res, verdict=verdict, detail=(
            f"identity at the witness (exact value {target:.8g}): {ident.detail}; against the bound: {res.detail}"))
    return _finish(res, int((~ok).sum()), check, detail)


def evaluate(check: CatalogCheck, runner: Runner) -> CheckResult:
    """Run ``check`` and return its ``analysis.CheckResult`` (verdict pass, fail or refused)."""
    bound = theorem_bound(check.theorem)
    if check.kind == "threshold":
        return _threshold(check, runner, bound)
    ctx = runner.context(check)
    params = check.params(ctx if check.at is None else dataclasses.replace(ctx, steps=int(check.at)))
    if check.kind == "bound":  # refuse before spending a run
        try:
            value = bound.evaluate(**_select(params, bound))
        except proofs.AssumptionError as err:
            return _refused(check, ctx, bound, err)
    result, ctx = runner.get(check)
    labels = _labels(check, ctx)
    if check.kind == "bound":
        if check.quantity in RAW and check.window is None and not check.deterministic and not check.witness:
            res = check_run(result, bound, _select(params, bound), quantity=check.quantity,
                            record=_record_index(result, check.at), theorem=check.theorem, problem=labels["problem"],
                            method=labels["method"], witness=check.witness, witness_tol=check.witness_tol,
                            strict=False)
            return _finish(res, res.diverged, check)
        s = samples(result, ctx.problem, check.quantity, check.at, check.window)
        return _compare(s, value, bound.relation, check, labels, f"at t={_step(check, ctx)}" if check.at else "",
                        ctx=ctx)
    if check.kind == "formula":
        return _formula(check, result, ctx, bound, params, labels)
    return _stationary(check, result, ctx, bound, params, labels)


def _record_index(result: xtrap.Result, at: int | None) -> int:
    if at is None:
        return -1
    return int(np.flatnonzero(np.asarray(result.coords["record"]) == at)[0])


# ---- eigen-directions of a quadratic ------------------------------------------------------------


def _direction_params(check: CatalogCheck, ctx: Ctx, i: int) -> dict[str, float]:
    p, h = ctx.problem, ctx.method.hyper
    lam = float(np.asarray(p.eigvals)[i])
    s2 = float(p.eigen_noise_variances()[i])  # single-sample noise variance along q_i
    kb = float(np.asarray(h.batch)) * float(np.asarray(h.workers))
    out = {"lambda": lam, "v": s2 / kb, "s": float(np.sqrt(s2))}
    if ctx.method.config.direction in xtrap.NOISE_LAWS:
        out["w"] = noise_moment(ctx.method.config.direction, p.dim) / p.dim  # per-coordinate variance of Z
    return out


def _formula(check: CatalogCheck, result: xtrap.Result, ctx: Ctx, bound: proofs.Bound,
             params: dict[str, float], labels: dict[str, Any]) -> CheckResult:
    t = _step(check, ctx)
    p = ctx.problem
    lam = np.asarray(p.eigvals, dtype=np.float64)
    c0 = p.to_eigenbasis(ctx.x0 - np.asarray(p.minima[0].x))
    factors = np.array([bound.evaluate(**_select({**params, **_direction_params(check, ctx, i), "T": float(t)},
                                                 bound)) for i in range(p.dim)])
    if check.options.get("mean_path"):
        i = int(np.argmin(lam))  # the slowest direction: the largest signal after t steps
        xt = np.asarray(result["iterates"])[..., _record_index(result, t), :]
        proj = p.to_eigenbasis(xt - np.asarray(p.minima[0].x))[..., i] / c0[i]
        return _compare(proj, float(factors[i]), "==", check, labels, f"direction lambda={lam[i]:g}, t={t}")
    exact = 0.5 * float(np.sum(lam * factors**2 * c0**2))
    s = samples(result, p, "loss_gap", t, None)
    return _compare(s, exact, "==", check, labels, f"t={t}, sum over {p.dim} directions")


def _stationary(check: CatalogCheck, result: xtrap.Result, ctx: Ctx, bound: proofs.Bound,
                params: dict[str, float], labels: dict[str, Any]) -> CheckResult:
    exact = sum(bound.evaluate(**_select({**params, **_direction_params(check, ctx, i)}, bound))
                for i in range(ctx.problem.dim))
    s = samples(result, ctx.problem, "loss_gap", None, check.window)
    return _compare(s, float(exact), "==", check, labels, f"time average over t >= {check.window} T, from x*")


def _threshold(check: CatalogCheck, runner: Runner, bound: proofs.Bound) -> CheckResult:
    ctx = runner.context(check)
    params = _select(check.params(ctx), bound)
    try:
        thr = bound.evaluate(**params)
    except proofs.AssumptionError as err:
        return _refused(check, ctx, bound, err)
    opts = check.options
    stable_side = opts.get("stable", "below")
    parts, correct = [], 0
    for factor in (0.999, 1.001):
        result, _ = runner.get(check, build(check.problem.fn, lam=float(factor * thr)))
        diverged = bool(np.asarray(result["diverged"]).all())
        d = np.asarray(result["dist"])[..., [0, -1]].reshape(-1, 2)[0]
        converged = (not diverged) and d[1] <= 1e-6 * d[0]
        want_stable = (factor < 1) == (stable_side == "below")
        ok = converged if want_stable else diverged
        correct += int(ok)
        what = (f"diverged at step {int(np.asarray(result['diverged_step']).reshape(-1)[0])}" if diverged
                else f"|x_T-x*|/|x_0-x*|={d[1] / d[0]:.2g}")
        parts.append(f"lambda={factor:g}*{thr:.6g}: {what} (want {'stable' if want_stable else 'unstable'})")
    labels = _labels(check, ctx)
    labels["quantity"] = "fraction classified"
    return _compare(np.array([correct / 2.0]), 1.0, "==", check, labels, "; ".join(parts))
