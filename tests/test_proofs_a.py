"""THEORY.md §A2.3–A2.7, §A3, §A4: the encoded chains verify, their mutations fail, and every [exact] formula
(through ``Bound.evaluate``) agrees with a direct numeric computation built from the update rules themselves:
spectral radii of numeric companion matrices on both sides of each threshold, discrete Lyapunov solutions of
the numeric noise recursions, a normalized-SAM simulation, and brute-force enumeration of batches.
"""

from __future__ import annotations

import dataclasses

import itertools
import math
import time

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import proofs
from proofs import AssumptionError, verify
from proofs.catalog import a_finite_sum, a_stationary, a_thresholds
from xtrap.testing import admissible

MODULES = (a_thresholds, a_stationary, a_finite_sum)
THEOREMS = {th.name: th for mod in MODULES for th in mod.theorems()}
MUTATIONS = {name: th for mod in MODULES for name, th in mod.mutations().items()}
BOUNDS = {name: th.bound for name, th in THEOREMS.items()}


def unit(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------------------------- chains
@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_theorem_verifies(name: str) -> None:
    report = verify(THEOREMS[name])
    assert report.status == "verified", [(o.step, o.detail) for o in report.failures]
    assert THEOREMS[name].status == "exact" and THEOREMS[name].bound.status == "exact"
    assert THEOREMS[name].bound.relation == "=="


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_fails(name: str) -> None:
    assert verify(MUTATIONS[name]).status == "failed"


def test_registered_in_catalog() -> None:
    cat = proofs.catalog()
    assert set(THEOREMS) <= set(cat)
    # the catalog's entry is the module's theorem with its RunScope attached (proofs/catalog/runs.py)
    assert all(cat[name] == dataclasses.replace(th, bound=dataclasses.replace(th.bound, scope=cat[name].bound.scope))
               if th.bound is not None else cat[name] == th for name, th in THEOREMS.items())
    assert all(cat[name].bound.scope is not None for name, th in THEOREMS.items() if th.bound is not None)
    assert set(MUTATIONS) <= set(proofs.mutations())
    assert len(MUTATIONS) >= 6


def test_verification_is_fast() -> None:
    t0 = time.perf_counter()
    for mod in MODULES:
        for th in mod.theorems():
            assert verify(th).status == "verified"
    assert time.perf_counter() - t0 < 30  # about 2 s in practice; the target is < 10 s


# ---------------------------------------------------------------------------------------------- numeric helpers
def linear_map(step, n_state: int, n_noise: int = 0) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(A, B) of a linear update ``step(state, noise) -> state`` by evaluating it on unit vectors."""
    eye_s, eye_n = np.eye(n_state), np.eye(n_noise)
    zs, zn = np.zeros(n_state), np.zeros(n_noise)
    A = np.column_stack([step(eye_s[i], zn) for i in range(n_state)]) if n_state else np.zeros((0, 0))
    B = np.column_stack([step(zs, eye_n[k]) for k in range(n_noise)]) if n_noise else np.zeros((n_state, 0))
    return A, B


def spectral_radius(A: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(np.atleast_2d(A)))))


EPS = float(np.finfo(float).eps)


def stationary_floor(step, n_state: int, variances, lam: float) -> tuple[float, float]:  # noqa: ANN001
    """lambda/2 * E x^2 at the stationary point of s_(t+1) = A s_t + B noise, and its round-off allowance.

    The Lyapunov equation P = A P A^T + Q is solved as (I - A (x) A) vec P = vec Q at 40 digits (mpmath), so the
    float A and Q are the only round-off; scipy's float solvers lost 4e-7 of a PEG floor at 1 - rho(A)^2 = 2e-6.
    Both that solve and the bound's closed form divide by 1 - rho(A)^2 (rho -> 1 at the stability margins that
    ``admissible`` draws), so float inputs carry a relative error of a few eps / (1 - rho^2): the allowance is
    16 eps / (1 - rho^2), plus 1e-12."""
    A, B = linear_map(step, n_state, len(variances))
    rho = spectral_radius(A)
    assert rho < 1
    Q = B @ np.diag(variances) @ B.T
    with mpmath.workdps(40):
        n = n_state
        K = mpmath.matrix([[(i == a) * (j == b) - mpmath.mpf(A[i, a]) * mpmath.mpf(A[j, b])
                            for a in range(n) for b in range(n)] for i in range(n) for j in range(n)])
        P00 = mpmath.lu_solve(K, mpmath.matrix([mpmath.mpf(Q[i, j]) for i in range(n) for j in range(n)]))[0]
        value = float(lam * P00 / 2)
    return value, 1e-12 + 16 * EPS / (1 - rho**2)


def close(x: float, y: float, rtol: float = 1e-7) -> bool:
    return math.isclose(x, y, rel_tol=rtol, abs_tol=1e-14)


# ---------------------------------------------------------------------------------------------- A2 thresholds
def usam_step(lam: float, eta: float, rho: float):  # noqa: ANN201
    return lambda s, e: s - eta * lam * (s + rho * lam * s)


def hb_classical(lam: float, eta: float, beta: float):  # noqa: ANN201
    return lambda s, e: np.array([s[0] - eta * lam * s[0] + beta * (s[0] - s[1]), s[0]])


def hb_pytorch(lam: float, eta: float, beta: float):  # noqa: ANN201
    def step(s, e):  # noqa: ANN001, ANN202
        m_new = beta * s[1] + lam * s[0]
        return np.array([s[0] - eta * m_new, m_new])
    return step


def nag_classical(lam: float, eta: float, beta: float):  # noqa: ANN201
    def step(s, e):  # noqa: ANN001, ANN202  state (x_t, y_t)
        x_new = s[1] - eta * lam * s[1]
        return np.array([x_new, x_new + beta * (x_new - s[0])])
    return step


def nag_pytorch(lam: float, eta: float, beta: float):  # noqa: ANN201
    def step(s, e):  # noqa: ANN001, ANN202  state (x_t, m_t)
        m_new = beta * s[1] + lam * s[0]
        return np.array([s[0] - eta * (lam * s[0] + beta * m_new), m_new])
    return step


def peg_step(lam: float, eta: float, gamma: float):  # noqa: ANN201
    def step(s, e):  # noqa: ANN001, ANN202  state (x_t, y_(t-1))
        y = s[0] - gamma * lam * s[1]
        return np.array([s[0] - eta * lam * y, y])
    return step


def check_threshold(thr: float, maps, n_state: int) -> None:  # noqa: ANN001
    """Stable at fractions of thr below 1 (0.999 included), unstable at 1.001 thr, for every form in maps."""
    for make in maps:
        for f in (0.05, 0.3, 0.7, 0.95, 0.999):
            assert spectral_radius(linear_map(make(f * thr), n_state)[0]) < 1, (make, f)
        assert spectral_radius(linear_map(make(1.001 * thr), n_state)[0]) > 1, make


@given(eta=unit(0.01, 3.0), rho=unit(0.001, 3.0))
def test_usam_threshold(eta: float, rho: float) -> None:
    thr = BOUNDS["A2.USAM"].evaluate(eta=eta, rho=rho)
    assert thr < 2 / eta
    check_threshold(thr, [lambda lam: usam_step(lam, eta, rho)], 1)


@given(eta=unit(0.01, 3.0), beta=unit(-0.95, 0.95))
def test_heavy_ball_threshold(eta: float, beta: float) -> None:
    thr = BOUNDS["A2.HB"].evaluate(eta=eta, beta=beta)
    check_threshold(thr, [lambda lam: hb_classical(lam, eta, beta), lambda lam: hb_pytorch(lam, eta, beta)], 2)


@given(eta=unit(0.01, 3.0), beta=unit(0.0, 0.95))
def test_nesterov_threshold(eta: float, beta: float) -> None:
    thr = BOUNDS["A2.NAG"].evaluate(eta=eta, beta=beta)
    check_threshold(thr, [lambda lam: nag_classical(lam, eta, beta), lambda lam: nag_pytorch(lam, eta, beta)], 2)


@given(eta=unit(0.01, 3.0), gamma=unit(0.01, 3.0))
def test_peg_threshold(eta: float, gamma: float) -> None:
    thr = BOUNDS["A2.PEG"].evaluate(eta=eta, gamma=gamma)
    check_threshold(thr, [lambda lam: peg_step(lam, eta, gamma)], 2)


@given(eta=unit(0.01, 3.0), lam=unit(0.01, 3.0), g0=unit(-2, 2), g1=unit(-2, 2), x0=unit(-2, 2))
def test_peg_with_gamma_eta_is_ogd(eta: float, lam: float, g0: float, g1: float, x0: float) -> None:
    """gamma = eta: y_(t+1) = y_t - 2 eta g(y_t) + eta g(y_(t-1)) along a trajectory (nonlinear gradient too)."""
    grad = lambda u: lam * u + 0.3 * np.sin(u)  # noqa: E731
    x, y_prev = x0, g0
    ys = []
    for _ in range(6):
        y = x - eta * grad(y_prev)
        x = x - eta * grad(y)
        ys.append(y)
        y_prev = y
    for k in range(1, len(ys) - 1):
        assert math.isclose(ys[k + 1], ys[k] - 2 * eta * grad(ys[k]) + eta * grad(ys[k - 1]), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(BOUNDS["A2.PEG"].evaluate(eta=eta, gamma=eta), 2 / (3 * eta), rel_tol=1e-12)


def test_threshold_assumptions() -> None:
    with pytest.raises(AssumptionError):
        BOUNDS["A2.HB"].evaluate(eta=0.1, beta=1.2)
    with pytest.raises(AssumptionError):
        BOUNDS["A2.NAG"].evaluate(eta=0.1, beta=-0.2)
    with pytest.raises(AssumptionError):
        BOUNDS["A2.USAM"].evaluate(eta=-0.1, rho=0.5)
    with pytest.raises(AssumptionError):
        BOUNDS["A2.SAM"].evaluate(eta=1.0, lambda_1=2.5, rho=0.1)


# ---------------------------------------------------------------------------------------------- A2.7 normalized SAM
@given(lam1=unit(0.5, 5.0), x_eta=unit(0.3, 1.7), rho=unit(0.01, 1.0), seed=st.integers(0, 2**31 - 1))
def test_normalized_sam_cycle(lam1: float, x_eta: float, rho: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    eta = x_eta / lam1
    lams = np.concatenate([[lam1], rng.uniform(0.2, 0.8, 4) * lam1])
    x = rng.normal(size=5) * rng.uniform(0.05, 5.0)
    step = lambda u: u - eta * lams * (u + rho * lams * u / np.linalg.norm(lams * u))  # noqa: E731
    for _ in range(3000):
        x = step(x)
    c = BOUNDS["A2.SAM"].evaluate(eta=eta, lambda_1=lam1, rho=rho)
    assert close(abs(x[0]), c, 1e-8)
    assert np.all(np.abs(x[1:]) <= 1e-8 * c)
    x_next = step(x)
    assert close(x_next[0], -x[0], 1e-8)  # a 2-cycle across the ravine
    loss = 0.5 * float(np.sum(lams * x**2))
    assert close(loss, BOUNDS["A2.SAM.loss"].evaluate(eta=eta, lambda_1=lam1, rho=rho), 1e-7)
    assert close(float(np.sum((lams * x) ** 2)), lam1**2 * c**2, 1e-7)
    # linearised factor of direction j at the cycle, by a finite difference of the map
    for j in range(1, 5):
        delta = 1e-7 * c
        u = np.zeros(5)
        u[0] = c
        u[j] = delta
        factor = step(u)[j] / delta
        predicted = 1 - eta * lams[j] - (lams[j] / lam1) ** 2 * (2 - eta * lam1)
        assert abs(factor - predicted) < 1e-5 and abs(predicted) < 1


# ---------------------------------------------------------------------------------------------- A3 stationary
def one_step_rows(lam: float, eta: float, gamma: float, rho: float, v: float, w: float):  # noqa: ANN201
    """Each row's update c_(t+1)(c, noises) as the method defines it, with its noise variances."""
    g = lambda y, e: lam * y + e  # noqa: E731  stochastic gradient with additive noise
    return {
        "SGD": (lambda s, e: s - eta * g(s, e[0]), [v]),
        "EG-indep": (lambda s, e: s - eta * g(s - gamma * g(s, e[1]), e[0]), [v, v]),
        "EG-same": (lambda s, e: s - eta * g(s - gamma * g(s, e[0]), e[0]), [v]),
        "USAM-same": (lambda s, e: s - eta * g(s + rho * g(s, e[0]), e[0]), [v]),
        "USAM-indep": (lambda s, e: s - eta * g(s + rho * g(s, e[1]), e[0]), [v, v]),
        "NI": (lambda s, e: s - eta * g(s + gamma * e[1], e[0]), [v, w]),
    }


@pytest.mark.parametrize("name", sorted(a_stationary.ROWS))
@given(data=st.data(), c0=unit(-3, 3), t=st.integers(0, 40))
def test_one_step_rows(name: str, data: st.DataObject, c0: float, t: int) -> None:
    bound = BOUNDS[f"A3.{name}"]
    params = {"gamma": 0.0, "rho": 0.0, "w": 0.0} | data.draw(admissible(f"A3.{name}"), label=bound.name)
    lam = params["lambda"]
    step, variances = one_step_rows(lam, params["eta"], params["gamma"], params["rho"], params["v"], params["w"])[name]
    direct, tol = stationary_floor(lambda s, e: np.atleast_1d(step(s[0], e)), 1, variances, lam)
    value = bound.evaluate(**{k: params[k] for k in bound.parameters})
    assert close(value, direct, tol)
    # transient: iterate the exact second-moment recursion t steps
    A, B = linear_map(lambda s, e: np.atleast_1d(step(s[0], e)), 1, len(variances))
    r, omega = float(A[0, 0]), float((B @ np.diag(variances) @ B.T)[0, 0])
    m = c0**2
    for _ in range(t):
        m = r**2 * m + omega
    tol = 1e-12 + 16 * EPS * (t + 1 / (1 - r**2))  # t roundings, and the closed form's 1 / (1 - r^2)
    assert close(BOUNDS["A3.transient"].evaluate(r=r, omega=omega, c_0=c0, t=t), m, tol)
    # outside the stability domain the bound refuses to evaluate
    if name.startswith("EG"):
        bad = dict(params, gamma=1.05 / lam)
    elif name.startswith("USAM"):
        bad = dict(params, eta=2.1 / (lam * (1 + params["rho"] * lam)))
    else:
        bad = dict(params, eta=2.1 / lam)
    with pytest.raises(AssumptionError):
        bound.evaluate(**{k: bad[k] for k in bound.parameters})


@given(p=admissible("A3.HB"))
def test_heavy_ball_floor(p: dict[str, float]) -> None:
    lam, eta, beta, v = p["lambda"], p["eta"], p["beta"], p["v"]
    step = lambda s, e: np.array([s[0] - eta * (lam * s[0] + e[0]) + beta * (s[0] - s[1]), s[0]])  # noqa: E731
    direct, tol = stationary_floor(step, 2, [v], lam)
    assert close(BOUNDS["A3.HB"].evaluate(eta=eta, v=v, beta=beta, **{"lambda": lam}), direct, tol)
    with pytest.raises(AssumptionError):
        BOUNDS["A3.HB"].evaluate(eta=2 * (1 + beta) / lam * 1.01, v=v, beta=beta, **{"lambda": lam})


@given(p=admissible("A3.PEG"))  # gamma lambda < 1 and (eta + 2 gamma) lambda < 2
def test_peg_floor(p: dict[str, float]) -> None:
    lam, eta, gamma, v = p["lambda"], p["eta"], p["gamma"], p["v"]

    def step(s, e):  # noqa: ANN001, ANN202  state (x_t, g_(t-1)), g_t at y_t = x_t - gamma g_(t-1)
        g_t = lam * (s[0] - gamma * s[1]) + e[0]
        return np.array([s[0] - eta * g_t, g_t])

    direct, tol = stationary_floor(step, 2, [v], lam)
    assert close(BOUNDS["A3.PEG"].evaluate(eta=eta, gamma=gamma, v=v, **{"lambda": lam}), direct, tol)
    with pytest.raises(AssumptionError):
        BOUNDS["A3.PEG"].evaluate(eta=eta, gamma=1.01 / lam, v=v, **{"lambda": lam})


@given(p=admissible("A3.EXTRAP-K", K=(1, 6), b=(1, 16)))
def test_extrap_sgd_k_workers(p: dict[str, float]) -> None:
    lam, eta, gamma, s, K, b = (p[k] for k in ("lambda", "eta", "gamma", "s", "K", "b"))

    def step(c, e):  # noqa: ANN001, ANN202  noises: K extrapolation batches, then K update batches
        h = np.mean([lam * (c[0] - gamma * (lam * c[0] + e[k])) + e[K + k] for k in range(K)])
        return np.atleast_1d(c[0] - eta * h)

    direct, tol = stationary_floor(step, 1, [s**2 / b] * (2 * K), lam)
    assert close(BOUNDS["A3.EXTRAP-K"].evaluate(eta=eta, gamma=gamma, s=s, K=K, b=b, **{"lambda": lam}), direct, tol)


@given(p=admissible("A3.obs-indep"))  # eta lambda < 2 and gamma lambda < 1, as A3.obs-same
def test_observations(p: dict[str, float]) -> None:
    lam, eta, gamma, v = p["lambda"], p["eta"], p["gamma"], p["v"]
    rows = one_step_rows(lam, eta, gamma, 0.0, v, 0.0)
    floors = {k: stationary_floor(lambda s, e, f=f: np.atleast_1d(f(s[0], e)), 1, var, lam)
              for k, (f, var) in rows.items() if k in ("SGD", "EG-same", "EG-indep")}
    params = {"eta": eta, "gamma": gamma, "lambda": lam}
    ratio = BOUNDS["A3.obs-same"].evaluate(**params)
    tol = floors["EG-same"][1] + floors["SGD"][1]
    assert close(ratio, floors["EG-same"][0] / floors["SGD"][0], tol) and ratio < 1
    diff = BOUNDS["A3.obs-indep"].evaluate(v=v, **params)
    (indep, tol_indep), (sgd, tol_sgd) = floors["EG-indep"], floors["SGD"]
    assert abs(diff - (indep - sgd)) <= tol_indep * indep + tol_sgd * sgd + 1e-14  # a difference: absolute round-off
    if abs(eta * lam - 1 - gamma * lam) > 1e-6:
        assert (diff > 0) == (eta * lam < 1 + gamma * lam)
    with pytest.raises(AssumptionError):
        BOUNDS["A3.obs-same"].evaluate(eta=2.1 / lam, gamma=gamma, **{"lambda": lam})


# ---------------------------------------------------------------------------------------------- A4 enumeration
@given(h=st.lists(unit(0.05, 3.0), min_size=3, max_size=7), data=st.data(), x_eta=unit(0.05, 1.9),
       gamma=unit(0.01, 1.0))
def test_finite_sum_enumeration(h: list[float], data: st.DataObject, x_eta: float, gamma: float) -> None:
    hs = np.array(h)
    n = len(hs)
    a, s2 = float(hs.mean()), float(np.mean(hs**2) - hs.mean() ** 2)
    assume(s2 > 1e-6)
    s = math.sqrt(s2)
    eta = x_eta / a
    B = data.draw(st.integers(1, n))
    means = np.array([hs[list(idx)].mean() for idx in itertools.combinations(range(n), B)])
    # p: the variance of the batch mean
    assert close(BOUNDS["A4.p"].evaluate(n=n, B=B), float(means.var()) / s2, 1e-9)
    # SGD second-moment factor
    direct = float(np.mean((1 - eta * means) ** 2))
    assert close(BOUNDS["A4.WME"].evaluate(eta=eta, a=a, s=s, n=n, B=B), direct, 1e-9)
    # EG with independent extrapolation and update batches
    direct_eg = float(np.mean((1 - eta * means[:, None] * (1 - gamma * means[None, :])) ** 2))
    assert close(BOUNDS["A4.EG-indep"].evaluate(eta=eta, gamma=gamma, a=a, s=s, n=n, B=B), direct_eg, 1e-9)
    # critical batch size: mean-square factor <= 1 exactly for B >= B_crit
    b_crit = BOUNDS["A4.Bcrit"].evaluate(eta=eta, a=a, s=s, n=n)
    assert 0 < b_crit <= n
    for Bk in range(1, n + 1):
        if abs(Bk - b_crit) < 1e-6 * n:
            continue
        ms = [hs[list(idx)].mean() for idx in itertools.combinations(range(n), Bk)]
        factor = float(np.mean((1 - eta * np.array(ms)) ** 2))
        assert (factor <= 1) == (Bk > b_crit), (Bk, b_crit, factor)
    with pytest.raises(AssumptionError):
        BOUNDS["A4.Bcrit"].evaluate(eta=2.1 / a, a=a, s=s, n=n)
    with pytest.raises(AssumptionError):
        BOUNDS["A4.p"].evaluate(n=n, B=n + 1)
