"""``analysis.check`` compares only what a bound bounds, for the runs it covers, at the run's own parameters.

Each catalog bound declares a :class:`proofs.RunScope`; these tests hold runs of the wrong kind against bounds
and expect a refusal that names the assumption, or the switch to the sibling theorem that covers the run.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import analysis
import problems
import proofs
import xtrap
from analysis.checks import RunInfo, resolve_scope, run_parameters

CAT = proofs.catalog()
P = problems.make_quadratic([1.0, 2.0], noise_cov=np.eye(2) * 0.5, x0=[1.0, 1.0])


def _run(method: xtrap.Method, problem: problems.Problem = P, steps: int = 50, seeds: int = 40) -> xtrap.Result:
    return xtrap.run(problem, method, steps=steps, seeds=seeds, seed=3)


def test_every_catalog_bound_declares_its_runs() -> None:
    for name, th in CAT.items():
        if th.bound is not None:
            assert isinstance(th.bound.scope, proofs.RunScope), name
            scope = th.bound.scope
            for _, sibling in scope.siblings:
                assert CAT[sibling].bound.scope.kind == "run", (name, sibling)
            if scope.kind == "run" and scope.measures is None:
                assert scope.note, f"{name}: say what it bounds that runs do not record"


def test_every_declared_verify_check_is_admitted_by_its_bound() -> None:
    """The catalog checks of ``xtrap verify`` hold bounds against the runs they cover (the two declarations agree)."""
    runner = analysis.Runner("quick")
    for c in analysis.CHECKS:
        scope = CAT[c.theorem].bound.scope
        if c.kind != "bound" or scope.kind != "run":
            continue
        ctx = runner.context(c)
        bound, notes = resolve_scope(c.theorem, RunInfo.of_setup(ctx.problem, ctx.method, steps=ctx.steps, x0=ctx.x0))
        assert bound.name == c.theorem and not notes, (c.theorem, c.method.label, notes)
        assert c.quantity == scope.measures, (c.theorem, c.quantity, scope.measures)


@pytest.mark.slow
@pytest.mark.parametrize("method, theorem, message", [
    (xtrap.sam(lr=0.25, rho=0.05), "D1", "the run uses sam (normalized SAM)"),
    (xtrap.sgd(lr=0.25, momentum=0.5), "C2", "the run uses heavy_ball"),
    (xtrap.extrap_sgd(lr=0.25, extrap_lr=0.25), "B3", "the run uses local"),
    (xtrap.sgd(lr=0.25), "A2.GD", "is a stability threshold"),
    (xtrap.sgd(lr=0.25), "A3.SGD", "is a value along one eigen-direction"),
    (xtrap.sgd(lr=0.25), "E5.gauss", "is a symbolic identity"),
    (xtrap.sgd(lr=0.25), "C3", "average iterate, which runs do not record"),
    (xtrap.past_extrap(lr=0.2, workers=2), "D3", "it is proved for one worker; the run has K=2 workers"),
    (xtrap.sgd(lr=xtrap.step_decay(0.25, 0.5, 10)), "C2", "it assumes constant steps"),
])
def test_a_bound_refuses_runs_it_is_not_about(method: xtrap.Method, theorem: str, message: str) -> None:
    r = _run(method)
    with pytest.raises(proofs.AssumptionError, match=re.escape(message)):
        analysis.check(r, CAT[theorem].bound)


@pytest.mark.slow
@pytest.mark.parametrize("method, theorem, used, why", [
    (xtrap.extrap_sgd(lr=0.25, extrap_lr=0.25, workers=4), "D1", "D1-K", "K=4 workers"),
    (xtrap.sgd(lr=0.25), "D1", "C2", "the run uses none"),
    (xtrap.sgd(lr=0.25), "B1", "C2", "stochastic gradients"),
    (xtrap.sgd(lr=0.25, exact=True), "C2", "C2", None),
    (xtrap.sam(lr=0.1, rho=0.05, same_batch=True), "D5a", "D5b", "same batch"),
    (xtrap.noise_extrap(lr=0.2, extrap_lr=0.1, law="sphere"), "D4", "D4-K", "sphere"),
])
def test_a_sibling_theorem_takes_over_and_the_check_says_why(method: xtrap.Method, theorem: str, used: str,
                                                             why: str | None) -> None:
    res = analysis.check(_run(method), CAT[theorem].bound)
    assert res.theorem == used and res.verdict == "pass", res.detail
    if why is None:
        assert "switched" not in res.detail
    else:
        assert res.detail.startswith(f"switched from {theorem} to {used}") and why in res.detail


def test_parameters_come_from_the_run_and_contradictions_are_refused() -> None:
    r = _run(xtrap.extrap_sgd(lr=0.25, extrap_lr=0.125, batch=2))
    info = RunInfo.of_result(r)
    p = run_parameters(info)
    assert (p["T"], p["b"], p["K"], p["eta"], p["gamma"], p["L"], p["mu"], p["sigma2"]) == (50, 2, 1, 0.25, 0.125,
                                                                                             2.0, 1.0, 1.0)
    assert p["Delta"] == pytest.approx(float(P.value(P.x0))) and p["D0"] == pytest.approx(np.sqrt(2.0))
    for bad, text in (({"b": 8}, "b=8 but the run has b=2"), ({"gamma": 0.25}, "gamma=0.25 but the run has gamma=0.125"),
                      ({"sigma2": -1.0}, "sigma2=-1.0 but the run has sigma2=1")):
        with pytest.raises(problems.ParameterError, match=re.escape(text)):
            analysis.check(r, CAT["D1"].bound, bad)
    for bad in ({"T": True}, {"T": "100"}, {"T": float("nan")}):
        with pytest.raises(problems.ParameterError, match="must be a finite real number"):
            analysis.check(r, CAT["D1"].bound, bad)
    assert analysis.check(r, CAT["D1"].bound, {"unused": 1.0, "mu": float("nan")}).verdict == "pass"  # ignored
    with pytest.raises(problems.ParameterError, match="quantity must be the one bound D1 bounds, 'avg_grad_norm2'"):
        analysis.check(r, CAT["D1"].bound, quantity="dist")


@pytest.mark.slow
def test_a_nonconvex_problem_is_not_refused_for_a_constant_the_bound_does_not_use() -> None:
    cos = problems.make("cosine", dim=1)
    r = _run(xtrap.extrap_sgd(lr=0.05, extrap_lr=0.05), problem=cos)
    assert analysis.check(r, CAT["D1"].bound).verdict == "pass"  # mu is nan for the cosine family: not used by D1
    assert analysis.check(r, CAT["D1"].bound, analysis.standard_params(
        analysis.Ctx(cos, xtrap.extrap_sgd(lr=0.05, extrap_lr=0.05), 50, 40, np.asarray(cos.x0)))).verdict == "pass"
    with pytest.raises(proofs.AssumptionError, match=r"needs mu \(the problem has no finite mu\)"):
        analysis.check(_run(xtrap.sgd(lr=0.05, exact=True), problem=cos), CAT["B3"].bound)


@pytest.mark.slow
def test_too_few_seeds_are_undecided_not_exact() -> None:
    """With one seed the standard error is not 0 but unknown: the verdict is 'inconclusive', never 'pass'."""
    r1 = _run(xtrap.sgd(lr=0.25), seeds=1)
    res = analysis.check(r1, CAT["C2"].bound)
    assert res.verdict == "inconclusive" and res.se is None and "at least 30" in res.detail
    r29 = _run(xtrap.sgd(lr=0.25), seeds=29)
    assert analysis.check(r29, CAT["C2"].bound).verdict == "inconclusive"
    assert analysis.check(_run(xtrap.sgd(lr=0.25), seeds=30), CAT["C2"].bound).verdict == "pass"
    exact = analysis.check(_run(xtrap.sgd(lr=0.25, exact=True), seeds=1), CAT["B1"].bound)
    assert exact.verdict == "pass" and exact.se is None  # exact gradients: one run is the exact value


@pytest.mark.slow
def test_a_selected_grid_point_knows_its_parameters() -> None:
    r = _run(xtrap.sgd(lr=[0.1, 0.25], batch=[1, 4]))
    point = r.sel(lr=1, batch=0)
    assert point.attrs["hyper"]["lr"] == 0.25 and point.attrs["hyper"]["batch"] == 1
    assert analysis.check(point, CAT["C2"].bound).bound == pytest.approx(
        CAT["C2"].bound.evaluate(Delta=float(P.value(P.x0)), L=2.0, T=50, b=1, eta=0.25, sigma2=1.0))
