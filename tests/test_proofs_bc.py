"""The B (deterministic GD/EG), C (mini-batch SGD), G2 (sharpness filters) and H4 entries of ``proofs``.

(i) every theorem of ``b_deterministic``, ``c_sgd`` and ``g_h_stability`` verifies (fast); (ii) every
mutation fails; (iii) each exported formula against a direct NumPy computation at random admissible
parameters: [exact] ones to round-off (B2 Huber witness, B3 on quadratics with eigenvalues {mu, L},
G2 thresholds by spectral radius, H4 running mean), upper bounds one-sided on problems whose expected
dynamics are computed exactly (the second-moment recursion of additive-noise quadratics, no sampling),
with the floors matched at eta L = 1; (iv) evaluation outside a bound's conditions raises
``proofs.AssumptionError`` naming the condition.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs import AssumptionError, verify
from proofs.catalog import b_deterministic, c_sgd, g_h_stability
from xtrap.testing import admissible

MODULES = (b_deterministic, c_sgd, g_h_stability)
THEOREMS = {th.name: th for m in MODULES for th in m.theorems()}
MUTATIONS = {name: th for m in MODULES for name, th in m.mutations().items()}
EXACT = {"B2.witness", "B3", "H4"} | {n for n in THEOREMS if n.startswith("G2.")}
EXPECTED = {"B1", "B2.witness", "B3", "B4", "B5", "B6", "B7", "C2", "C3", "C4", "C5", "C7", "C8", "H4",
            "G2.GD", "G2.HB", "G2.NAG", "G2.EG", "G2.USAM", "G2.PEG", "G2.NI"}

REL = 1e-12  # one-sided checks: measured <= bound * (1 + REL)


def bound(name: str):
    return THEOREMS[name].bound


# ---------------------------------------------------------------------------------------------
# (i), (ii): verification
# ---------------------------------------------------------------------------------------------

def test_catalog_entries_present_with_status():
    assert set(THEOREMS) == EXPECTED
    for name, th in THEOREMS.items():
        assert th.status == ("exact" if name in EXACT else "derived"), name
        assert th.bound is not None and th.bound.name == name and th.bound.status == th.status
        assert th.references


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_theorem_verifies(name):
    rep = verify(THEOREMS[name])
    assert rep.status == "verified", [(o.step, o.detail) for o in rep.failures]


def test_verification_is_fast():
    t0 = time.perf_counter()
    for th in THEOREMS.values():
        verify(th)
    assert time.perf_counter() - t0 < 10.0


def test_enough_mutations():
    assert len(MUTATIONS) >= 8


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_rejected(name):
    rep = verify(MUTATIONS[name])
    assert rep.status == "failed"
    assert rep.failures


# ---------------------------------------------------------------------------------------------
# (iii) exact formulas against direct computation
# ---------------------------------------------------------------------------------------------

@given(v=admissible("B3"), seed=st.integers(0, 2**31 - 1))
def test_b3_gd_on_quadratic_attains_contraction(v, seed):
    L, mu, eta, T, D0 = v["L"], v["mu"], v["eta"], v["T"], v["D0"]  # eta < 2/L, mu <= L (B3's conditions)
    lam = np.array([mu, L])
    factors = 1 - eta * lam
    b3 = bound("B3").evaluate(L=L, mu=mu, eta=eta, T=T, D0=D0)
    q = np.max(np.abs(factors))

    def gd(x):
        for _ in range(T):
            x = x - eta * lam * x  # grad f = H (x - x*), x* = 0
        return x

    worst = np.zeros(2)
    worst[int(np.argmax(np.abs(factors)))] = D0
    assert np.linalg.norm(gd(worst)) == pytest.approx(b3, rel=1e-10)
    assert b3 == pytest.approx(q**T * D0, rel=1e-12)
    x0 = np.random.default_rng(seed).standard_normal(2)
    x0 *= D0 / np.linalg.norm(x0)
    xT = gd(x0)
    assert np.linalg.norm(xT) <= b3 * (1 + 1e-10)
    assert 0.5 * np.sum(lam * xT**2) <= L / 2 * q**(2 * T) * D0**2 * (1 + 1e-10)
    if abs(1 - eta * L) >= abs(1 - eta * mu):  # case b: the f bound is attained along the L-eigenvector
        xL = gd(np.array([0.0, D0]))
        assert 0.5 * L * xL[1]**2 == pytest.approx(L / 2 * q**(2 * T) * D0**2, rel=1e-10)


def _huber(L, D0, T):
    kink, slope, const = D0 / (2 * T + 1), L * D0 / (2 * T + 1), L * D0**2 / (2 * (2 * T + 1)**2)

    def f(x):
        return slope * abs(x) - const if abs(x) >= kink else 0.5 * L * x * x

    def grad(x):
        return slope * np.sign(x) if abs(x) >= kink else L * x

    return f, grad, kink


@given(L=st.floats(0.1, 10.0), D0=st.floats(0.1, 10.0), T=st.integers(1, 200))
def test_b2_huber_witness_value(L, D0, T):
    f, grad, kink = _huber(L, D0, T)
    eta, x = 1 / L, D0
    for _ in range(T):
        assert x >= kink  # on the linear piece
        x = x - eta * grad(x)
    assert x >= kink
    assert f(x) == pytest.approx(bound("B2.witness").evaluate(L=L, D0=D0, T=T, eta=1 / L), rel=1e-12, abs=0)
    assert f(x) == pytest.approx(L * D0**2 / (4 * T + 2), rel=1e-12, abs=0)


@given(mu=st.floats(0.1, 10.0), s=st.floats(0.1, 3.0), d=st.integers(1, 4), b=st.integers(1, 5),
       T=st.integers(1, 30), seed=st.integers(0, 2**31 - 1))
def test_h4_sgd_is_the_running_mean(mu, s, d, b, T, seed):
    rng = np.random.default_rng(seed)
    x_star = rng.standard_normal(d)
    xi = x_star + s * rng.standard_normal((T, b, d))
    x = rng.standard_normal(d) * 5  # any start
    for t in range(T):
        g = mu * (x - xi[t].mean(axis=0))
        x = x - 1 / (mu * (t + 1)) * g
    mean = xi.reshape(-1, d).mean(axis=0)
    assert np.max(np.abs(x - mean)) <= 1e-12 * max(1.0, np.max(np.abs(mean)))


def test_h4_monte_carlo_value():
    rng = np.random.default_rng(20240611)
    mu, s, d, b, T, R = 2.0, 0.7, 3, 4, 6, 40000
    x = np.full((R, d), 3.0)
    for t in range(T):
        xi = s * rng.standard_normal((R, b, d))  # x* = 0
        x = x - 1 / (mu * (t + 1)) * mu * (x - xi.mean(axis=1))
    loss = 0.5 * mu * np.sum(x**2, axis=1)
    sigma2 = mu**2 * s**2 * d
    exact = bound("H4").evaluate(sigma2=sigma2, mu=mu, b=b, T=T)
    assert exact == pytest.approx(sigma2 / (2 * mu * b * T))
    assert abs(loss.mean() - exact) <= 4 * loss.std(ddof=1) / np.sqrt(R)


def _spectral_radius(M):
    return float(np.max(np.abs(np.linalg.eigvals(np.atleast_2d(M)))))


def _g2_matrix(method, lam, eta, beta=0.0, gamma=0.0, rho=0.0):
    if method in ("GD", "NI"):
        return np.array([[1 - eta * lam]])
    if method == "EG":
        return np.array([[1 - eta * lam + eta * gamma * lam**2]])
    if method == "USAM":
        return np.array([[1 - eta * lam * (1 + rho * lam)]])
    if method == "HB":
        return np.array([[1 + beta - eta * lam, -beta], [1, 0]])
    if method == "NAG":  # y_(t+1) = (1+beta)(1-eta lam) y_t - beta (1-eta lam) y_(t-1)
        return np.array([[(1 + beta) * (1 - eta * lam), -beta * (1 - eta * lam)], [1, 0]])
    if method == "PEG":  # state (x_t, y_(t-1))
        return np.array([[1 - eta * lam, eta * gamma * lam**2], [1, -gamma * lam]])
    raise KeyError(method)


@pytest.mark.parametrize("method", ["GD", "HB", "NAG", "EG", "USAM", "PEG", "NI"])
@given(eta=st.floats(0.05, 2.0), beta=st.floats(0.0, 0.9), gamma_frac=st.floats(0.2, 3.0), rho=st.floats(0.01, 2.0))
def test_g2_threshold_separates_stable_from_unstable(method, eta, beta, gamma_frac, rho):
    gamma = gamma_frac * eta
    if method == "EG":
        gamma = max(gamma, eta / 7.9)  # the exported threshold needs eta < 8 gamma
    params = {"GD": dict(eta=eta), "NI": dict(eta=eta), "HB": dict(eta=eta, beta=beta),
              "NAG": dict(eta=eta, beta=beta), "EG": dict(eta=eta, gamma=gamma), "USAM": dict(eta=eta, rho=rho),
              "PEG": dict(eta=eta, gamma=gamma)}[method]
    thr = bound(f"G2.{method}").evaluate(**params)
    kw = dict(beta=beta, gamma=gamma, rho=rho)
    assert _spectral_radius(_g2_matrix(method, 0.999 * thr, eta, **kw)) < 1
    assert _spectral_radius(_g2_matrix(method, 1.001 * thr, eta, **kw)) > 1
    for frac in (0.1, 0.5, 0.9):  # the whole range below the threshold is stable
        assert _spectral_radius(_g2_matrix(method, frac * thr, eta, **kw)) < 1


# ---------------------------------------------------------------------------------------------
# (iii) upper bounds: deterministic checks (B1, B4-B7)
# ---------------------------------------------------------------------------------------------

COS_L = 4.0  # f(x) = x^2/2 + 3 cos x: f'' = 1 - 3 cos x in [-2, 4]; f >= -3


def _cos_f(x):
    return 0.5 * x * x + 3 * np.cos(x)


def _cos_g(x):
    return x - 3 * np.sin(x)


@given(x0=st.floats(-6.0, 6.0), v=admissible("B1", L=COS_L))
def test_b1_gd_nonconvex_cosine(x0, v):
    eta, T = v["eta"], v["T"]  # eta < 2/L; Delta comes from x0 below
    x, grads = x0, []
    for _ in range(T):
        grads.append(_cos_g(x)**2)
        x -= eta * _cos_g(x)
    delta = _cos_f(x0) + 3  # >= f(x0) - f*
    assert np.mean(grads) <= bound("B1").evaluate(L=COS_L, eta=eta, T=T, Delta=delta) * (1 + REL)


@given(x0=st.floats(-6.0, 6.0), v=admissible("B5", L=COS_L))
def test_b5_eg_nonconvex_cosine(x0, v):
    eta, gamma, T = v["eta"], v["gamma"], v["T"]  # eta <= 1/L, gamma < 1/L; Delta comes from x0 below
    x, grads = x0, []
    for _ in range(T):
        grads.append(_cos_g(x)**2)
        x -= eta * _cos_g(x - gamma * _cos_g(x))
    delta = _cos_f(x0) + 3
    assert np.mean(grads) <= bound("B5").evaluate(L=COS_L, eta=eta, gamma=gamma, T=T, Delta=delta) * (1 + REL)


@given(gd=admissible("B4"), data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_b4_b6_b7_on_quadratics(gd, data, seed):
    L, mu, T = gd["L"], gd["mu"], gd["T"]
    lam = np.array([mu, L])
    x0 = np.random.default_rng(seed).standard_normal(2) * 3
    f = lambda x: 0.5 * np.sum(lam * x * x)  # noqa: E731
    delta = f(x0)
    x = x0.copy()
    for _ in range(T):  # B4: GD
        x = x - gd["eta"] * lam * x
    assert f(x) <= bound("B4").evaluate(L=L, mu=mu, eta=gd["eta"], T=T, Delta=delta) * (1 + REL)
    eg = data.draw(admissible("B6", L=L, mu=mu, T=T, Delta=delta), label="B6")  # B6, B7: EG, same problem
    eta, gamma = eg["eta"], eg["gamma"]
    r = 1 - eta * lam + eta * gamma * lam**2
    xT = r**T * x0
    assert f(xT) <= bound("B6").evaluate(L=L, mu=mu, eta=eta, gamma=gamma, T=T, Delta=delta) * (1 + REL)
    R = np.sqrt(2 * delta / mu)  # sup ||x|| on {f <= f(x0)}
    assert f(xT) <= bound("B7").evaluate(L=L, eta=eta, gamma=gamma, T=T, R=R) * (1 + REL)


# ---------------------------------------------------------------------------------------------
# (iii) upper bounds: SGD on additive-noise quadratics, exact second moments
# ---------------------------------------------------------------------------------------------

def _moments(lam, v, c0, steps):
    """E c_t^2 per direction for x_(t+1) = x_t - eta_t (H (x_t - x*) + eps), Cov eps = diag(v); t = 0..len(steps)."""
    m = [c0**2]
    for eta in steps:
        m.append((1 - eta * lam)**2 * m[-1] + eta**2 * v)
    return np.array(m)


def _setup(v, split, seed):
    """The two-direction quadratic lam = (mu, L) with noise covariance (sigma2/b) diag(split, 1 - split)."""
    lam = np.array([v["mu"], v["L"]])
    noise = v["sigma2"] / v["b"] * np.array([split, 1 - split])
    c0 = np.random.default_rng(seed).standard_normal(2) * 2
    return lam, noise, c0


noise_split = dict(split=st.floats(0.0, 1.0), seed=st.integers(0, 2**31 - 1))


@pytest.mark.slow
@given(v=admissible("C4"), **noise_split)
def test_c2_c4_c5_c8_exact_moments_below_bounds(v, split, seed):
    lam, noise, c0 = _setup(v, split, seed)
    T = v["T"]
    m = _moments(lam, noise, c0, [v["eta"]] * T)  # m[t] = E c_t^2, t = 0..T
    delta = 0.5 * np.sum(lam * c0**2)
    D0 = float(np.linalg.norm(c0))
    common = dict(L=v["L"], eta=v["eta"], sigma2=v["sigma2"], b=v["b"])
    # C2: w_k = x_(k-1), k = 1..T
    avg_grad = np.mean([np.sum(lam**2 * m[t]) for t in range(T)])
    assert avg_grad <= bound("C2").evaluate(T=T, Delta=delta, **common) * (1 + REL)
    for t in range(T + 1):
        assert np.sum(m[t]) <= bound("C4").evaluate(mu=v["mu"], T=t, D0=D0, **common) * (1 + REL)
        loss = 0.5 * np.sum(lam * m[t])
        assert loss <= bound("C8").evaluate(mu=v["mu"], T=t, Delta=delta, **common) * (1 + REL)
        assert loss <= bound("C5").evaluate(mu=v["mu"], k=t + 1, Delta=delta, **common) * (1 + REL)


@given(v=admissible("C4"), **noise_split)  # C3 needs no mu; C4's draw adds the problem's mu <= L
def test_c3_average_iterate_exact_below_bound(v, split, seed):
    lam, noise, c0 = _setup(v, split, seed)
    eta, T = v["eta"], v["T"]
    r = 1 - eta * lam  # in [0, 1)
    t = np.arange(1, T + 1)
    mean_bar = np.mean(r[None, :]**t[:, None], axis=0) * c0
    s = np.arange(T)
    weights = (1 - r[None, :]**(T - s[:, None])) / (1 - r[None, :])  # coefficient of -eta eps_s in sum_t c_t
    var_bar = eta**2 * noise * np.sum(weights**2, axis=0) / T**2
    value = np.sum(0.5 * lam * (mean_bar**2 + var_bar))
    D0 = float(np.linalg.norm(c0))
    assert value <= bound("C3").evaluate(L=v["L"], eta=eta, sigma2=v["sigma2"], b=v["b"], T=T, D0=D0) * (1 + REL)


@given(v=admissible("C7"), **noise_split)
def test_c7_diminishing_steps_exact_below_bound(v, split, seed):
    lam, noise, c0 = _setup(v, split, seed)
    steps = [v["beta"] / (t + v["k0"]) for t in range(300)]
    m = _moments(lam, noise, c0, steps)
    D0 = float(np.linalg.norm(c0))
    consts = {k: v[k] for k in ("beta", "k0", "mu", "L", "sigma2", "b")}
    for t in range(0, 301, 7):
        assert np.sum(m[t]) <= bound("C7").evaluate(D0=D0, t=t, **consts) * (1 + REL)


@given(L=st.floats(0.5, 5.0), sigma2=st.floats(0.01, 5.0), b=st.integers(1, 64), d=st.integers(1, 5))
def test_c_floors_attained_at_eta_L_one(L, sigma2, b, d):
    """f = (L/2)||x||^2, isotropic noise, eta = 1/L: the stationary values equal the bounds' floors."""
    eta, lam, v = 1 / L, np.full(d, L), np.full(d, sigma2 / (b * d))
    m_inf = eta**2 * v / (1 - (1 - eta * lam)**2)  # stationary E c^2 (A3)
    grad2, dist2, loss = np.sum(lam**2 * m_inf), np.sum(m_inf), np.sum(0.5 * lam * m_inf)
    common = dict(L=L, eta=eta, sigma2=sigma2, b=b)
    huge = 1e300
    assert grad2 == pytest.approx(bound("C2").evaluate(T=huge, Delta=0.0, **common), rel=1e-12)
    assert dist2 == pytest.approx(bound("C4").evaluate(mu=L, T=1, D0=0.0, **common), rel=1e-12)
    assert loss == pytest.approx(bound("C5").evaluate(mu=L, k=2, Delta=0.0, **common), rel=1e-12)
    assert loss == pytest.approx(bound("C8").evaluate(mu=L, T=1, Delta=0.0, **common), rel=1e-12)
    # the exact recursion reaches the floor (here in one step: 1 - eta L = 0)
    m = _moments(lam, v, np.ones(d), [eta] * 3)
    assert np.sum(lam**2 * m[-1]) == pytest.approx(grad2, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# (iv) conditions
# ---------------------------------------------------------------------------------------------

VIOLATIONS = [
    ("B1", dict(L=1.0, eta=2.5, T=10, Delta=1.0), "step condition"),
    ("B2.witness", dict(L=2.0, eta=1.0, T=3, D0=1.0), "step size h = 1"),
    ("B3", dict(L=1.0, mu=0.1, eta=2.0, T=3, D0=1.0), "step condition"),
    ("B3", dict(L=1.0, mu=2.0, eta=0.5, T=3, D0=1.0), "strong convexity below smoothness"),
    ("B4", dict(L=1.0, mu=0.5, eta=3.0, T=3, Delta=1.0), "step condition"),
    ("B5", dict(L=1.0, eta=0.5, gamma=1.0, T=3, Delta=1.0), "extrapolation condition"),
    ("B6", dict(L=1.0, mu=0.5, eta=1.5, gamma=0.5, T=3, Delta=1.0), "step condition"),
    ("B7", dict(L=1.0, eta=0.5, gamma=1.5, T=3, R=1.0), "extrapolation condition"),
    ("C2", dict(L=2.0, eta=0.6, sigma2=1.0, b=4, T=10, Delta=1.0), "step condition"),
    ("C3", dict(L=2.0, eta=0.6, sigma2=1.0, b=4, T=10, D0=1.0), "step condition"),
    ("C4", dict(L=2.0, mu=3.0, eta=0.4, sigma2=1.0, b=4, T=10, D0=1.0), "strong convexity/PL constant at most L"),
    ("C5", dict(L=2.0, mu=1.0, eta=0.4, sigma2=1.0, b=4, k=0.5, Delta=1.0), "iterates are counted from w_1"),
    ("C7", dict(L=2.0, mu=1.0, beta=0.9, k0=5.0, sigma2=1.0, b=4, D0=1.0, t=3), "beta mu > 1"),
    ("C7", dict(L=2.0, mu=1.0, beta=2.0, k0=3.0, sigma2=1.0, b=4, D0=1.0, t=3), "step condition k0 >= beta L"),
    ("C8", dict(L=2.0, mu=1.0, eta=0.6, sigma2=1.0, b=4, T=10, Delta=1.0), "step condition"),
    ("G2.HB", dict(eta=0.5, beta=1.2), "momentum below 1"),
    ("G2.EG", dict(eta=1.0, gamma=0.1), "no unstable band"),
    ("G2.NAG", dict(eta=0.5, beta=1.5), "momentum below 1"),
    ("H4", dict(sigma2=1.0, mu=1.0, b=0.5, T=3), "batch size at least 1"),
]


@pytest.mark.parametrize("name,values,condition", VIOLATIONS, ids=[f"{v[0]}-{v[2]}" for v in VIOLATIONS])
def test_bound_refuses_violated_condition(name, values, condition):
    bd = bound(name)
    assert set(bd.parameters) == set(values)
    with pytest.raises(AssumptionError, match=re.escape(condition)) as err:
        bd.evaluate(**values)
    assert "violated" in str(err.value) and name in str(err.value)


def test_every_bound_with_conditions_is_exercised():
    covered = {v[0] for v in VIOLATIONS}
    assert {n for n, th in THEOREMS.items() if th.bound.conditions} <= covered


def test_g2_rows_cross_checked_against_a2():
    """Each G2 row whose threshold A2 exports carries (and passes) an identity with A2's formula."""
    a2 = g_h_stability._a2_thresholds()
    assert "GD" in a2  # a_quadratics always exports A2.GD
    for method in a2:
        if f"G2.{method}" in THEOREMS:
            steps = [s for s in THEOREMS[f"G2.{method}"].steps if f"A2.{method}" in s.description]
            assert len(steps) == 1 and steps[0].check().ok, method
