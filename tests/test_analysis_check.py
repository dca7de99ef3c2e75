"""analysis.checks (check, check_samples, tails, rates, summaries): the statistical rules of THEORY.md §4 on synthetic samples and real runs.

Every verdict asserted here is one the rule can get wrong: deliberately wrong bounds (a constant too
small, a wrong witness value) must fail, correct ones must pass, and the rules' error rates are
measured on replicated synthetic data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import problems
import proofs
import xtrap
from xtrap.testing import admissible
import analysis.checks
from analysis import (CheckResult, RateFit, check, check_median, check_samples, fit_exponent, fit_rate_in_steps,
                      lyapunov_exponent)

CAT = proofs.catalog()


# ---------------------------------------------------------------------------------------------
# check_samples on synthetic samples
# ---------------------------------------------------------------------------------------------

def _normal(mean: float, sd: float, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, sd, n)


def test_upper_bound_passes_and_a_deliberately_wrong_bound_is_caught() -> None:
    x = _normal(2.0, 0.5, 20_000)
    ok = check_samples(x, 1.01 * x.mean(), "<=", theorem="T", quantity="q")
    assert ok.verdict == "pass" and ok.n == 20_000 and ok.relation == "<="
    assert ok.ratio == pytest.approx(1 / 1.01) and ok.se == pytest.approx(0.5 / math.sqrt(20_000), rel=0.03)
    assert "holds with confidence" in ok.detail
    wrong = check_samples(x, 0.8 * x.mean(), "<=")  # a deliberately wrong bound (a constant too small) is caught
    assert wrong.verdict == "fail" and "violated" in wrong.detail
    assert check_samples(x, 1.25 * x.mean(), ">=").verdict == "fail"
    assert check_samples(x, 0.99 * x.mean(), ">=").verdict == "pass"


def test_exact_value_passes_at_the_true_mean_and_fails_10_se_off() -> None:
    n, sd = 5_000, 1.5
    x = _normal(3.0, sd, n, seed=1)
    assert check_samples(x, 3.0, "==").verdict == "pass"
    se = sd / math.sqrt(n)
    for off in (10 * se, -10 * se):
        assert check_samples(x, 3.0 + off, "==").verdict == "fail"


def test_one_sided_rule_error_rates() -> None:
    """A true bound attained (ratio 1) almost never fails (it is inconclusive: not demonstrated); a bound
    6 SE too small is almost always caught; a bound 6 SE above the mean is almost always demonstrated."""
    rng = np.random.default_rng(2)
    n, reps = 50, 2000
    data = rng.normal(1.0, 1.0, (reps, n))
    tight = [check_samples(row, 1.0, "<=").verdict for row in data]
    assert tight.count("fail") <= 3            # P(t_49 > 4) ~ 1e-4: expected 0.2 of 2000
    assert tight.count("pass") <= 3            # demonstrating a tight bound is as unlikely
    caught = sum(check_samples(row, 1.0 - 6 / math.sqrt(n), "<=").verdict == "fail" for row in data)
    assert caught >= 0.95 * reps               # fails iff mean - 4 SE > bound, about P(Z > -2) = 0.977
    shown = sum(check_samples(row, 1.0 + 6 / math.sqrt(n), "<=").verdict == "pass" for row in data)
    assert shown >= 0.95 * reps                # passes iff mean + 4 SE <= bound, about P(Z < 2) = 0.977


def test_deterministic_equality_to_rtol() -> None:
    third = np.full(7, 1.0 / 3.0)
    res = check_samples(third, (1 - 2 / 3) + 1e-16, "==", deterministic=True)
    assert res.verdict == "pass" and res.se is None
    assert check_samples(third, 1 / 3 * (1 + 1e-6), "==", deterministic=True).verdict == "fail"
    assert check_samples(third, 1 / 3 * (1 + 1e-6), "==", deterministic=True, rtol=1e-5).verdict == "pass"
    assert check_samples(third, 1 / 3 - 1e-3, "<=", deterministic=True).verdict == "fail"
    spread = third + np.linspace(0, 1e-6, 7)  # claims determinism, but the runs differ
    res = check_samples(spread, 1 / 3, "==", deterministic=True)
    assert res.verdict == "fail" and "not exact" in res.detail
    assert check_samples([5.0], 5.0, "==").se is None  # one sample: SE 0 is compared like a deterministic value


def test_witness_tolerance() -> None:
    x = _normal(1.0, 0.2, 10_000, seed=3)
    assert check_samples(x, 1.0, "==", witness=True).verdict == "pass"      # tight: ratio 1 within 4 SE
    assert check_samples(x, 1.0, "<=", witness=True).verdict == "inconclusive"  # "<=" cannot be shown at ratio 1
    loose = check_samples(x, 2.0, "<=", witness=True)
    assert loose.verdict == "fail" and "not tight" in loose.detail         # holds, but is no witness
    const = np.full(4, 0.98)
    assert check_samples(const, 1.0, "<=", witness=True, witness_tol=0.05).verdict == "pass"
    assert check_samples(const, 1.0, "<=", witness=True, witness_tol=0.01).verdict == "fail"
    assert check_samples(const, 1.0, "<=", witness=True).verdict == "fail"  # deterministic default: rtol
    assert check_samples(const, 0.98, "==", witness=True).verdict == "pass"


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="finite"):
        check_samples([1.0, np.nan, 2.0], 1.0, "<=")
    with pytest.raises(ValueError, match="finite"):
        check_samples([1.0, np.inf], 1.0, "<=")
    with pytest.raises(ValueError, match="no samples"):
        check_samples([], 1.0, "<=")
    with pytest.raises(ValueError, match="relation"):
        check_samples([1.0, 2.0], 1.0, "<")
    with pytest.raises(ValueError, match="bound_value"):
        check_samples([1.0, 2.0], np.nan, "<=")
    with pytest.raises(TypeError, match="label"):
        check_samples([1.0, 2.0], 1.0, "<=", colour="red")


def test_as_dict_is_json() -> None:
    res = check_samples([1.0, 1.1, 0.9], 2.0, "<=", theorem="C2", problem="p", method="m", quantity="q")
    d = res.as_dict()
    assert set(d) == {f.name for f in CheckResult.__dataclass_fields__.values()}
    assert json.loads(json.dumps(d)) == d and d["theorem"] == "C2" and d["verdict"] == "pass"


# ---------------------------------------------------------------------------------------------
# check on real runs
# ---------------------------------------------------------------------------------------------

L_W, SIGMA2, B, DIM = 2.0, 1.5, 4, 3


def _isotropic(L: float = L_W, dim: int = DIM, sigma2: float = SIGMA2) -> problems.Quadratic:
    return problems.make_quadratic(np.full(dim, L), noise_cov=np.eye(dim) * sigma2 / dim, x0=np.zeros(dim))


@pytest.mark.slow
def test_c2_witness_sgd_floor_is_exact() -> None:
    """C2 witness (A3): SGD on (L/2)||x||^2, isotropic noise, eta = 1/L, from x*: E||grad f(x_t)||^2 = sigma2/b, t >= 1.

    The exact value is the catalogue's D1.floor at gamma = 0 (EG-indep with gamma = 0 is SGD). A witness value
    is a statement about one instance, so ``check`` refuses it (``xtrap verify`` holds it there); its samples
    are compared here with ``check_samples``.
    """
    r = xtrap.run(_isotropic(), xtrap.sgd(lr=1 / L_W, batch=B), steps=4, seeds=4000, seed=11)
    floor = CAT["D1.floor"].bound
    params = dict(L=L_W, eta=1 / L_W, gamma=0.0, sigma2=SIGMA2, b=B)
    assert floor.evaluate(**params) == pytest.approx(SIGMA2 / B, rel=1e-15)
    samples = r["grad_norm2"][:, -1]  # t = T = 4
    res = check_samples(samples, floor.evaluate(**params), "==", witness=True)
    assert res.verdict == "pass", res.detail
    assert abs(res.ratio - 1) < 0.05
    # the exact check has power: the EG floor (gamma L = 1/2, a 5/3 larger value) is not SGD's
    assert check_samples(samples, floor.evaluate(**dict(params, gamma=0.25)), "==").verdict == "fail"
    # and a deliberately wrong constant in the upper bound C2 is caught at the witness
    assert check_samples(samples, 0.8 * SIGMA2 / B, "<=").verdict == "fail"
    c2 = check(r, CAT["C2"].bound)  # T = 4, Delta = 0 (x0 = x*), eta, b, L, sigma2: all read from the run
    assert c2.verdict == "pass" and c2.theorem == "C2" and c2.problem == "quadratic" and c2.method == "sgd"
    assert c2.bound == pytest.approx(L_W * (1 / L_W) * SIGMA2 / B)  # (T-1)/T of the floor is what the run averages
    with pytest.raises(proofs.AssumptionError, match="D1.floor is an exact value at a witness instance"):
        check(r, floor)


@pytest.mark.slow
def test_d1_floor_extrapolated_sgd_is_exact() -> None:
    """D1.floor: EG with independent batches at eta = 1/L, gamma = 1/(2L): sigma2/b (1 + 1/4)/(1 - 1/4)."""
    gamma = 0.5 / L_W
    r = xtrap.run(_isotropic(), xtrap.extrap_sgd(lr=1 / L_W, extrap_lr=gamma, batch=B), steps=30, seeds=4000, seed=12)
    params = dict(L=L_W, eta=1 / L_W, gamma=gamma, sigma2=SIGMA2, b=B)
    floor = CAT["D1.floor"].bound.evaluate(**params)
    assert floor == pytest.approx(SIGMA2 / B * 5 / 3)
    samples = r["grad_norm2"][:, -1]
    assert check_samples(samples, floor, "==", witness=True).verdict == "pass"
    assert check_samples(samples, CAT["D1.floor"].bound.evaluate(**dict(params, gamma=0.0)), "==").verdict == "fail"
    # the tight corner of the upper bound D1 (x0 = x*, so Delta = 0): averaged over t < T the transient
    # leaves (1 - sum_t r^(2t)/T) = 0.956 of the floor, r = gamma L = 1/2; a 10% smaller constant is caught
    d1 = check(r, CAT["D1"].bound)
    assert d1.verdict == "pass" and d1.ratio == pytest.approx(1 - 1 / (30 * 0.75), abs=0.01), d1.detail
    assert check_samples(r["avg_grad_norm2"], 0.9 * d1.bound, "<=").verdict == "fail"


@pytest.mark.slow
@given(data=st.data(), dim=st.sampled_from([1, 3]), b=st.sampled_from([1, 4]), L=st.floats(0.5, 4.0),
       spread=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3), equal=st.booleans(),
       noise=st.lists(st.floats(0.1, 2.0), min_size=3, max_size=3), start=st.one_of(st.just(0.0), st.floats(0.0, 3.0)),
       seed=st.integers(0, 2**16))
def test_d1_upper_bound_on_random_admissible_quadratics(data: st.DataObject, dim: int, b: int, L: float,
                                                        spread: list[float], equal: bool, noise: list[float],
                                                        start: float, seed: int) -> None:
    """D1 (EG, independent batches): (1/T) sum_t E||grad f(x_t)||^2 never exceeds the bound by more than 4 SE.

    The steps are D1's admissible ones for the problem (``xtrap.testing.admissible``: eta in (0, 1/L], gamma in
    (0, 1/L)). ``equal`` with eta = 1/L and x0 = x* is the tight corner (ratio about (T-1)/T), where the bound
    cannot be *demonstrated* with 200 seeds: there the verdict is "inconclusive", never "fail".
    """
    lam = np.full(dim, L) if equal else np.append(L * np.asarray(spread[:dim - 1]), L)
    cov = np.diag(noise[:dim])
    x_star = np.linspace(-1.0, 1.0, dim)
    x0 = x_star + start * np.ones(dim) / math.sqrt(dim)
    p = problems.make_quadratic(lam, noise_cov=cov, x_star=x_star, x0=x0)
    v = data.draw(admissible("D1", problem=p, T=100, b=b))
    eta, gamma, T = v["eta"], v["gamma"], v["T"]
    r = xtrap.run(p, xtrap.extrap_sgd(lr=eta, extrap_lr=gamma, batch=b), steps=T, seeds=200, seed=seed)
    res = check(r, CAT["D1"].bound, v)  # explicit values that agree with the run are accepted ...
    assert res.verdict in ("pass", "inconclusive"), res.detail
    assert 0 < res.ratio < 1 + 4 * res.se / res.bound
    assert check(r, CAT["D1"].bound).bound == res.bound  # ... and are the ones the run supplies


@pytest.mark.slow
def test_refusal_sweep_axes_and_divergence() -> None:
    p = problems.make_quadratic([1.0, 4.0], noise_cov=np.eye(2))
    r = xtrap.run(p, xtrap.sgd(lr=[0.2, 0.3]), steps=20, seeds=30)
    c2 = CAT["C2"].bound
    params = dict(L=4.0, eta=0.3, sigma2=2.0, b=1, T=20, Delta=float(p.value(p.x0)))
    with pytest.raises(ValueError, match=r"sweep axes \(lr\).*sel\(lr=0\)"):
        check(r, c2, params)
    point = r.sel(lr=1)
    with pytest.raises(proofs.AssumptionError, match=r"eta=0\.3 > 1/L=0\.25"):
        check(point, c2, params)  # strict by default: the API refuses loudly
    res = check(point, c2, params, strict=False)
    assert res.verdict == "refused" and res.measured is None and "eta=0.3 > 1/L=0.25" in res.detail
    assert json.loads(json.dumps(res.as_dict()))["verdict"] == "refused"
    with pytest.raises(problems.ParameterError, match=r"contradict the run.*T=10 but the run has T=20"):
        check(point, c2, dict(params, T=10))  # a run of 20 steps is never held against a 10-step bound
    with pytest.raises(problems.ParameterError, match=r"eta=0.2 but the run has eta=0.3"):
        check(point, c2, dict(params, eta=0.2))
    ok = r.sel(lr=0)
    good = dict(params, eta=0.2)
    base = check(ok, c2, good)
    assert base.verdict == "pass" and base.n == 30
    # diverged runs are excluded and counted, never averaged in (their values are NaN)
    data = dict(ok.data)
    data["diverged"] = ok["diverged"].copy()
    data["diverged"][:4] = True
    data["avg_grad_norm2"] = ok["avg_grad_norm2"].copy()
    data["avg_grad_norm2"][:4] = np.nan
    part = xtrap.Result(data, ok.dims, ok.coords, ok.attrs)
    res = check(part, c2, good)
    assert (res.n, res.diverged) == (26, 4) and res.measured == pytest.approx(np.mean(ok["avg_grad_norm2"][4:]))
    data["diverged"] = np.ones_like(data["diverged"])
    res = check(xtrap.Result(data, ok.dims, ok.coords, ok.attrs), c2, good)
    assert res.verdict == "fail" and res.measured is None and "all 30 runs diverged" in res.detail


# ---------------------------------------------------------------------------------------------
# rate fits
# ---------------------------------------------------------------------------------------------

X = np.geomspace(1.0, 1000.0, 20)


def _noisy(exponent: float, seeds: int, seed: int, sd: float = 0.2) -> np.ndarray:
    noise = np.random.default_rng(seed).lognormal(-sd**2 / 2, sd, (X.size, seeds))  # mean 1
    return 3.0 * X[:, None] ** exponent * noise


def test_fit_exponent_recovers_a_known_exponent() -> None:
    fit = fit_exponent(X, _noisy(-0.5, 50, 0))
    assert isinstance(fit, RateFit) and fit.contains(-0.5) and fit.n_points == 20 and fit.confidence == 0.95
    assert fit.ci_low < fit.exponent < fit.ci_high and fit.ci_high - fit.ci_low < 0.05
    assert fit.intercept == pytest.approx(math.log(3.0), abs=0.1)
    steep = fit_exponent(X, _noisy(-1.0, 50, 1))
    assert steep.contains(-1.0) and not steep.contains(-0.5)
    one_d = fit_exponent(X, _noisy(-0.5, 1, 2)[:, 0])
    assert one_d.contains(-0.5) and not one_d.contains(-1.0)
    exact = fit_exponent(X, 7.0 * X**-1.5)
    assert exact.contains(-1.5) and exact.ci_high - exact.ci_low < 1e-9


def test_fit_exponent_coverage() -> None:
    """The nominal 95% intervals cover the true exponent at least about 95% of the time (1-D and with seeds)."""
    reps = 200
    cover_1d = sum(fit_exponent(X, _noisy(-0.7, 1, s)[:, 0]).contains(-0.7) for s in range(reps))
    cover_2d = sum(fit_exponent(X, _noisy(-0.7, 20, 1000 + s, sd=0.5)).contains(-0.7) for s in range(reps))
    assert cover_1d >= 0.88 * reps and cover_2d >= 0.88 * reps


def test_fit_exponent_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_exponent([1.0, 2.0], [1.0, 0.5])
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="per-point means"):
        fit_exponent([1.0, 2.0, 3.0], [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        fit_exponent([1.0, 2.0, 3.0], np.ones((2, 3)))


@pytest.mark.slow
def test_h4_sgd_with_inverse_time_steps_converges_at_rate_one_over_t() -> None:
    """H4: SGD with eta_t = 1/(mu (t+1)) on (mu/2)||x - x*||^2 is the running mean: E f - f* = sigma2/(2 mu b t)."""
    mu, s2, b, d, T = 0.5, 0.8, 2, 2, 200
    cov = np.eye(d) * mu**2 * s2  # g = mu (x - xi), xi ~ N(x*, s2 I): sigma2 = mu^2 s2 d
    sigma2 = mu**2 * s2 * d
    p = problems.make_quadratic(np.full(d, mu), noise_cov=cov, x_star=np.ones(d), f_star=1.5)
    r = xtrap.run(p, xtrap.sgd(lr=xtrap.inverse_time(1 / mu, 1.0), batch=b), steps=T, seeds=400, record_every=10,
                  seed=5)
    # 99% intervals: a 95% one misses the truth in 1 of 20 seeds by design (measured coverage here: 0.935
    # over all steps, 0.915 from step 100, 200 replicates each)
    fit = fit_rate_in_steps(r, confidence=0.99)  # the gap f - f*, f* = 1.5 here
    assert fit.contains(-1.0) and not fit.contains(-0.8) and not fit.contains(-1.2), fit
    assert fit.intercept == pytest.approx(math.log(sigma2 / (2 * mu * b)), abs=0.3)
    late = fit_rate_in_steps(r, start=100, confidence=0.99)
    assert late.n_points == 11 and late.contains(-1.0) and late.confidence == 0.99
    h4 = CAT["H4"].bound.evaluate(T=T, b=b, mu=mu, sigma2=sigma2)  # the witness value sigma2 / (2 mu b T)
    res = check_samples(r["loss"][:, -1] - 1.5, h4, "==", witness=True)
    assert res.verdict == "pass", res.detail
    with pytest.raises(ValueError, match="trace"):
        fit_rate_in_steps(r, "avg_loss")


# ---------------------------------------------------------------------------------------------
# heavy tails: THEORY.md §G4
# ---------------------------------------------------------------------------------------------

def test_g4_lyapunov_exponent_and_median_against_the_mean_square_prediction() -> None:
    """1-D SGD x_{t+1} = (1 - eta h_B) x_t, h = (1,...,1,10), n = 10, B = 1, eta = 0.5 (THEORY.md §G4)."""
    h, eta, t, paths = np.array([1.0] * 9 + [10.0]), 0.5, 60, 20_000
    factors = 1 - eta * h
    lam_exact = float(np.mean(np.log(np.abs(factors))))
    ms = float(np.mean(factors**2))
    assert lam_exact == pytest.approx(-0.485, abs=5e-4) and ms == pytest.approx(1.825)
    assert 2 * lam_exact < math.log(ms)  # Jensen: mean-square growth while typical paths contract
    rng = np.random.default_rng(60)
    draws = factors[rng.integers(0, h.size, (paths, t))]
    log_growth = np.log(np.abs(draws)).sum(axis=1)
    est, se = lyapunov_exponent(log_growth / t)
    assert abs(est - lam_exact) <= 4 * se and se < 0.01
    assert (est, se) == lyapunov_exponent(log_growth, t=t)
    assert abs(est - 0.5 * math.log(ms)) > 100 * se  # the mean-square rate is not the typical one
    x_t = np.abs(np.prod(draws, axis=1))  # x_0 = 1
    predicted_ms = ms**t
    assert predicted_ms > 1e15
    small = check_median(x_t, 1e-9, "<=", theorem="G4", quantity="|x_60|")
    assert small.verdict == "pass" and small.relation == "median<=" and small.measured < 1e-12
    assert "holds with confidence" in small.detail
    assert check_median(x_t, 1e-16, "<=").verdict == "fail"          # the median is not that small
    assert check_median(x_t, math.sqrt(predicted_ms), ">=").verdict == "fail"
    # why means are useless here (§4.3): the exact E x_60^2 is carried by paths of probability ~1e-40,
    # so the sample mean with its SE confidently "refutes" a true identity
    assert check_samples(x_t**2, predicted_ms, "==").verdict == "fail"
    with pytest.raises(ValueError, match="at least 15"):
        check_median(x_t[:14], 1.0)


def test_prefix_average() -> None:
    a = np.array([[4.0, 2.0, 0.0, 2.0]])
    assert np.allclose(analysis.checks.prefix_average(a, np.array([1, 2, 4])), [[4.0, 3.0, 2.0]])
