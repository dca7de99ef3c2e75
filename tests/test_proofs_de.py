"""THEORY.md §D (extrapolated SGD bounds) and §E (smoothing): machine-checked chains and numeric checks.

* every theorem of ``proofs.catalog.d_extrapolation`` and ``proofs.catalog.e_smoothing`` verifies;
  every mutation (a deliberately wrong constant, factor or condition) fails;
* hypothesis properties compare the [exact] formulas with direct numeric computation at random
  admissible parameters (the §E ones in ``test_proofs_e_numeric.py``): the D1/D4 witness floors from the exact second-moment recursion of the
  additive-noise quadratic, iterated with numpy; D5(a)'s witness by deterministic SAM steps;
* the [derived] D-bounds hold against the exact mean/covariance recursion of EG (independent and
  same batch, K workers), PEG and noise injection on random additive-noise quadratics;
* ``Bound.evaluate`` outside its conditions raises ``proofs.AssumptionError``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import proofs
from _random_matrices import random_psd
from proofs.catalog import d_extrapolation as D
from xtrap.testing import admissible, inadmissible
from proofs.catalog import e_smoothing as E

THEOREMS = {th.name: th for th in D.theorems() + E.theorems()}
MUTATIONS = {**D.mutations(), **E.mutations()}
BOUNDS = {name: th.bound for name, th in THEOREMS.items()}
D_NAMES = {"eta", "gamma", "rho", "L", "Delta", "T", "sigma2", "b", "K", "d", "sigma_Z2", "delta2", "Delta_gamma"}


# ---------------------------------------------------------------------------------------------
# (i) every theorem verifies; (ii) every mutation fails
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_theorem_verifies(name):
    report = proofs.verify(THEOREMS[name])
    assert report.status == "verified", [(o.step, o.detail) for o in report.failures]
    assert THEOREMS[name].bound is not None and THEOREMS[name].bound.status == THEOREMS[name].status


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_fails(name):
    report = proofs.verify(MUTATIONS[name])
    assert report.status == "failed"
    assert report.failures


def test_catalog_structure():
    assert len(MUTATIONS) >= 8
    for name, th in THEOREMS.items():
        assert th.status in ("derived", "exact"), name
        if name.startswith("D"):
            assert set(th.bound.parameters) <= D_NAMES | {"lambda"}, (name, th.bound.parameters)
            assert any("derived for xtrap" in r for r in th.bound.references), name
    # both modules are registered in the catalog
    from proofs.catalog import MODULES

    assert {"d_extrapolation", "e_smoothing"} <= set(MODULES)


def test_d2_corollary_constant_origin():
    """41/16 = 1 + (1 + 1/4)^2: c >= 1/2 and (1 + L eta)^2 <= 25/16 at gamma = eta <= 1/(4L)."""
    import sympy as sp

    x = sp.Symbol("x", positive=True)
    c = 1 - x - x / 2 * (1 + x) ** 2
    assert c.subs(x, sp.Rational(1, 4)) == sp.Rational(71, 128)
    grid = np.linspace(1e-6, 0.25, 2001)
    assert np.all(1 - grid - grid / 2 * (1 + grid) ** 2 >= 71 / 128 - 1e-15)


def linearize(step, n_state: int, noise_dims: list[int]):
    """A, [B_j] of a step that is linear in (state, noise_1, ..., noise_m): apply it to unit vectors."""
    zeros = [np.zeros(k) for k in noise_dims]
    A = np.column_stack([step(e, *zeros) for e in np.eye(n_state)])
    Bs = []
    for j, k in enumerate(noise_dims):
        cols = []
        for e in np.eye(k):
            args = list(zeros)
            args[j] = e
            cols.append(step(np.zeros(n_state), *args))
        Bs.append(np.column_stack(cols))
    return A, Bs


def moment_path(A, Q, m0, P0, T):
    """Means and covariances of z_{t+1} = A z_t + noise (Cov Q), t = 0..T-1."""
    m, P, out = m0.copy(), P0.copy(), []
    for _ in range(T):
        out.append((m.copy(), P.copy()))
        m, P = A @ m, A @ P @ A.T + Q
    return out


def avg_grad_norm(path, H, proj):
    """(1/T) sum_t E||H x_t||^2 with x_t = proj z_t."""
    G = proj.T @ H @ H @ proj
    return float(np.mean([m @ G @ m + np.trace(G @ P) for m, P in path]))


def stationary(A, Q):
    """The fixed point P = A P A^T + Q (discrete Lyapunov), solved directly: a fixed-point iteration stalls when the
    contraction is close to 1 (gamma L -> 1 in D1.floor, which admissible() draws), the direct solve does not."""
    from scipy.linalg import solve_discrete_lyapunov

    return solve_discrete_lyapunov(A, Q)


# ---------------------------------------------------------------------------------------------
# (iii) exact formulas against direct numerics: D witnesses
# ---------------------------------------------------------------------------------------------

def _noise_cov(rng, dim, sigma2, b):
    S = random_psd(rng, dim)
    return S * (sigma2 / np.trace(S)) / b  # Cov of the mini-batch noise, trace sigma2/b


@given(v=admissible("D1.floor"), dim=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_d1_floor_second_moment_recursion(v, dim, seed):
    eta, gamma, L, sigma2, b = v["eta"], v["gamma"], v["L"], v["sigma2"], v["b"]  # eta = 1/L, gamma < 1/L
    H = L * np.eye(dim)
    C = _noise_cov(np.random.default_rng(seed), dim, sigma2, b)

    def step(x, e_extra, e_update):  # EG with fresh batches: extrapolate with g(x; xi'), update with g(u; xi)
        u = x - gamma * (H @ x + e_extra)
        return x - eta * (H @ u + e_update)

    A, (B1, B2) = linearize(step, dim, [dim, dim])
    P = stationary(A, B1 @ C @ B1.T + B2 @ C @ B2.T)
    floor = float(np.trace(H @ H @ P))
    # the Lyapunov solve amplifies round-off by its condition number 1/(1 - r^2), r = gamma L (the iteration's
    # contraction at eta = 1/L); admissible() draws gamma up to (1 - 1e-9)/L
    rel = max(1e-9, 1e-13 / (1 - (gamma * L) ** 2))
    assert floor == pytest.approx(BOUNDS["D1.floor"].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b), rel=rel)
    # and it is the T -> oo limit of the D1 bound at eta = 1/L
    d1 = BOUNDS["D1"].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, Delta=1.0, T=1e15)
    assert d1 == pytest.approx(floor, rel=rel)


@given(data=st.data(), dim=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_d4_floor_second_moment_recursion(data, dim, seed):
    v = data.draw(admissible("D4.floor", d=dim))
    eta, gamma, L, sigma2, b = v["eta"], v["gamma"], v["L"], v["sigma2"], v["b"]  # eta = 1/L
    H = L * np.eye(dim)
    C = _noise_cov(np.random.default_rng(seed), dim, sigma2, b)

    def step(x, z, e):  # Gaussian noise injection: gradient at x + gamma Z
        return x - eta * (H @ (x + gamma * z) + e)

    A, (Bz, Be) = linearize(step, dim, [dim, dim])
    P = stationary(A, Bz @ np.eye(dim) @ Bz.T + Be @ C @ Be.T)
    floor = float(np.trace(H @ H @ P))
    assert floor == pytest.approx(BOUNDS["D4.floor"].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, d=dim),
                                  rel=1e-9)
    assert BOUNDS["D4"].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, d=dim, Delta=1.0,
                                 T=1e15) == pytest.approx(floor, rel=1e-9)


@given(v=admissible("D5a.witness"), dim=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_d5a_witness_sam_steps(v, dim, seed):
    x = np.random.default_rng(seed).standard_normal(dim) * 3
    eta, L, rho = v["eta"], v["L"], v["rho"]  # eta = 1/L
    want = BOUNDS["D5a.witness"].evaluate(eta=eta, L=L, rho=rho)
    for _ in range(4):
        g = L * x
        x = x - eta * L * (x + rho * g / np.linalg.norm(g))  # normalized SAM, deterministic, eta = 1/L
        gx = L * x
        assert float(gx @ gx) == pytest.approx(want, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# [derived] D-bounds against exact moment recursions on additive-noise quadratics
# ---------------------------------------------------------------------------------------------

def _quadratic(seed, dim, L):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    lam = rng.uniform(0.05, 1.0, dim) * L
    lam[0] = L
    H = Q @ np.diag(lam) @ Q.T
    x0 = rng.standard_normal(dim) * 2
    return rng, H, x0, 0.5 * x0 @ H @ x0


COMMON = dict(L=st.floats(0.3, 4.0), sigma2=st.floats(0.05, 5.0), b=st.integers(1, 16), T=st.integers(1, 60),
              dim=st.integers(1, 4), seed=st.integers(0, 2**16))


def _assert_below(measured, bound):
    assert measured <= bound * (1 + 1e-9), (measured, bound)


@given(K=st.integers(1, 4), efrac=st.floats(0.05, 1.0), gfrac=st.floats(0.0, 0.98), **COMMON)
def test_d1k_bounds_exact_recursion(K, efrac, gfrac, L, sigma2, b, T, dim, seed):
    rng, H, x0, Delta = _quadratic(seed, dim, L)
    eta, gamma = efrac / L, gfrac / L
    C = _noise_cov(rng, dim, sigma2, b)

    def step(x, *noises):  # K workers: own extrapolation batch, own update batch, average
        hs = [H @ (x - gamma * (H @ x + noises[2 * k])) + noises[2 * k + 1] for k in range(K)]
        return x - eta * np.mean(hs, axis=0)

    A, Bs = linearize(step, dim, [dim] * (2 * K))
    path = moment_path(A, sum(B @ C @ B.T for B in Bs), x0, np.zeros((dim, dim)), T)
    measured = avg_grad_norm(path, H, np.eye(dim))
    vals = dict(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, T=T, Delta=Delta, K=K)
    _assert_below(measured, BOUNDS["D1-K"].evaluate(**vals))
    if K == 1:
        _assert_below(measured, BOUNDS["D1"].evaluate(**{k: v for k, v in vals.items() if k != "K"}))
    if gamma <= 1 / (math.sqrt(2) * L):
        _assert_below(measured, BOUNDS["D1-K.cor"].evaluate(**vals))


@given(efrac=st.floats(0.05, 1.0), gfrac=st.floats(0.0, 1.0), **COMMON)
def test_d2_bounds_exact_recursion(efrac, gfrac, L, sigma2, b, T, dim, seed):
    rng, H, x0, Delta = _quadratic(seed, dim, L)
    C = _noise_cov(rng, dim, sigma2, b)
    for eta, gamma, name in [(0.4 * efrac / L, 0.4 * gfrac / L, "D2"), (0.25 * efrac / L, 0.25 * efrac / L, "D2.cor")]:
        def step(x, e):  # same batch: the extrapolation and the update use the same noise
            return x - eta * (H @ (x - gamma * (H @ x + e)) + e)

        A, (B,) = linearize(step, dim, [dim])
        measured = avg_grad_norm(moment_path(A, B @ C @ B.T, x0, np.zeros((dim, dim)), T), H, np.eye(dim))
        _assert_below(measured, BOUNDS[name].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, T=T, Delta=Delta))


@given(efrac=st.floats(0.05, 1.0), gfrac=st.floats(0.0, 1.0), **COMMON)
def test_d3_bound_exact_recursion(efrac, gfrac, L, sigma2, b, T, dim, seed):
    rng, H, x0, Delta = _quadratic(seed, dim, L)
    C = _noise_cov(rng, dim, sigma2, b)
    eta = efrac / L
    gamma = gfrac * math.sqrt(max(1 - L * eta, 0.0)) / L

    def step(z, e):  # state (x_t, g_{t-1}); u_t = x_t - gamma g_{t-1}; g_t = g(u_t); x_{t+1} = x_t - eta g_t
        x, gp = z[:dim], z[dim:]
        g = H @ (x - gamma * gp) + e
        return np.concatenate([x - eta * g, g])

    A, (B,) = linearize(step, 2 * dim, [dim])
    z0 = np.concatenate([x0, np.zeros(dim)])  # delta_0 = 0
    path = moment_path(A, B @ C @ B.T, z0, np.zeros((2 * dim, 2 * dim)), T)
    measured = avg_grad_norm(path, H, np.hstack([np.eye(dim), np.zeros((dim, dim))]))
    _assert_below(measured, BOUNDS["D3"].evaluate(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, T=T, Delta=Delta))


@given(K=st.integers(1, 3), efrac=st.floats(0.05, 1.0), gamma=st.floats(0.0, 2.0), **COMMON)
def test_d4_bounds_exact_recursion(K, efrac, gamma, L, sigma2, b, T, dim, seed):
    rng, H, x0, Delta = _quadratic(seed, dim, L)
    C = _noise_cov(rng, dim, sigma2, b)
    eta = efrac / L

    def step(x, *noises):  # K workers, independent Gaussian Z^k, own update batch
        hs = [H @ (x - gamma * noises[2 * k]) + noises[2 * k + 1] for k in range(K)]
        return x - eta * np.mean(hs, axis=0)

    A, Bs = linearize(step, dim, [dim] * (2 * K))
    Q = sum(Bs[2 * k] @ Bs[2 * k].T + Bs[2 * k + 1] @ C @ Bs[2 * k + 1].T for k in range(K))
    measured = avg_grad_norm(moment_path(A, Q, x0, np.zeros((dim, dim)), T), H, np.eye(dim))
    vals = dict(eta=eta, gamma=gamma, L=L, sigma2=sigma2, b=b, T=T, Delta=Delta)
    _assert_below(measured, BOUNDS["D4-K"].evaluate(K=K, sigma_Z2=dim, **vals))
    if K == 1:
        _assert_below(measured, BOUNDS["D4"].evaluate(d=dim, **vals))
        _assert_below(measured, BOUNDS["D0"].evaluate(delta2=gamma**2 * dim, **vals))


# ---------------------------------------------------------------------------------------------
# Bound.evaluate refuses parameters outside its conditions
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BOUNDS))
@given(data=st.data())
def test_evaluate_outside_conditions_raises(name, data):
    """Admissible values (``xtrap.testing.admissible``, read from the bound's own conditions) evaluate to a finite
    value; values violating one condition (``inadmissible``) are refused, naming that condition."""
    bound = BOUNDS[name]
    v = data.draw(admissible(name))
    value = bound.evaluate(**v)
    assert math.isfinite(value)
    if bound.relation == "<=" and name.startswith("D"):
        assert value > 0
    if bound.conditions:  # any one condition (D3's step condition follows from its PEG condition: never alone)
        broken, w = data.draw(inadmissible(name))
        with pytest.raises(proofs.AssumptionError, match=re.escape(broken)):
            bound.evaluate(**w)


def test_conditions_present():
    """Every step-size or extrapolation assumption of THEORY §D is a checked condition of the bound."""
    want = {"D0": 1, "D0-K": 1, "D1": 2, "D1.floor": 2, "D1-K": 2, "D1-K.cor": 2, "D2": 1, "D2.cor": 2, "D3": 2,
            "D4": 1, "D4.ball": 1, "D4-K": 1, "D4.floor": 1, "D4.smoothed": 1, "D5a": 1, "D5a.witness": 1, "D5b": 1,
            "E5.sam": 1}
    for name, n in want.items():
        assert len(BOUNDS[name].conditions) == n, name
