"""THEORY.md §E (smoothing): the [exact] formulas of ``proofs.catalog.e_smoothing`` against direct numerics.

E2/E5/E6 by exact Gauss-Hermite quadrature (Gaussian laws; exact for polynomials of degree <= 5) or
Monte Carlo with a fixed seed and a 4-standard-error tolerance (ball, sphere). The chains and
mutations of §E are checked in ``test_proofs_de.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _random_matrices import random_psd, random_sym

from proofs.catalog import d_extrapolation as D
from proofs.catalog import e_smoothing as E

THEOREMS = {th.name: th for th in D.theorems() + E.theorems()}
MUTATIONS = {**D.mutations(), **E.mutations()}
BOUNDS = {name: th.bound for name, th in THEOREMS.items()}
D_NAMES = {"eta", "gamma", "rho", "L", "Delta", "T", "sigma2", "b", "K", "d", "sigma_Z2", "delta2", "Delta_gamma"}


# ---------------------------------------------------------------------------------------------
# numeric helpers
# ---------------------------------------------------------------------------------------------

def hermite_grid(dim: int, n: int = 4):
    """Tensor Gauss-Hermite (probabilists') nodes and weights for N(0, I_dim); exact to degree 2n-1."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    nodes = np.array(list(itertools.product(x, repeat=dim)))
    weights = np.array([np.prod(c) for c in itertools.product(w, repeat=dim)])
    return nodes, weights


def sample(law: str, dim: int, n: int, rng: np.random.Generator) -> np.ndarray:
    g = rng.standard_normal((n, dim))
    if law == "gauss":
        return g
    u = g / np.linalg.norm(g, axis=1, keepdims=True)
    if law == "sphere":
        return u
    return u * rng.random((n, 1)) ** (1.0 / dim)


def mc_check(values: np.ndarray, target: float, se_mult: float = 4.0) -> None:
    m, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))
    assert abs(m - target) <= se_mult * se + 1e-12 * max(1.0, abs(target)), (m, target, se)


# ---------------------------------------------------------------------------------------------
# (iii) exact formulas against direct numerics: §E
# ---------------------------------------------------------------------------------------------

@given(gamma=st.floats(0.05, 2.0), L=st.floats(0.1, 5.0), dim=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_e2_gauss_witness_quadrature(gamma, L, dim, seed):
    x = np.random.default_rng(seed).standard_normal(dim)
    nodes, w = hermite_grid(dim)
    f = lambda y: L / 2 * np.sum(y**2, axis=-1)  # noqa: E731
    gap = float(w @ f(x + gamma * nodes) - f(x))
    assert gap == pytest.approx(BOUNDS["E2.gauss"].evaluate(gamma=gamma, L=L, d=dim), rel=1e-10)


@pytest.mark.parametrize("law", ["ball", "sphere"])
@given(gamma=st.floats(0.05, 2.0), L=st.floats(0.1, 5.0), dim=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_e2_ball_sphere_witness_monte_carlo(law, gamma, L, dim, seed):
    rng = np.random.default_rng(1234)
    x = np.random.default_rng(seed).standard_normal(dim)
    z = sample(law, dim, 100_000, rng)
    zs = np.concatenate([z, -z])  # antithetic: the law is symmetric
    vals = L / 2 * np.sum((x + gamma * zs) ** 2, axis=1) - L / 2 * x @ x
    vals = 0.5 * (vals[: len(z)] + vals[len(z):])
    mc_check(vals, BOUNDS[f"E2.{law}"].evaluate(gamma=gamma, L=L, d=dim))
    if law == "sphere":  # ||Z|| = 1: the gap is deterministic after symmetrisation
        assert np.allclose(vals, L * gamma**2 / 2)


@given(gamma=st.floats(0.05, 2.0), seed=st.integers(0, 2**16))
def test_e5_gauss_quadratic_and_cubic_quadrature(gamma, seed):
    rng = np.random.default_rng(seed)
    H, q, x = random_sym(rng, 3), rng.standard_normal(3), rng.standard_normal(3)
    f = lambda y: 0.5 * np.einsum("...i,ij,...j->...", y, H, y) + y @ q  # noqa: E731
    nodes, w = hermite_grid(3)
    gap = float(w @ f(x + gamma * nodes) - f(x))
    assert gap == pytest.approx(BOUNDS["E5.gauss"].evaluate(gamma=gamma, trH=np.trace(H)), rel=1e-9, abs=1e-12)
    # generic 2-D cubic: E f(x + gamma Z) - f(x) = gamma^2/2 tr Hess f(x)
    a = rng.standard_normal(10)
    mons = [(i, j) for i in range(4) for j in range(4 - i)]
    cubic = lambda y: sum(c * y[..., 0] ** i * y[..., 1] ** j for c, (i, j) in zip(a, mons))  # noqa: E731
    x2 = rng.standard_normal(2)
    tr = sum(c * (i * (i - 1) * x2[0] ** max(i - 2, 0) * x2[1] ** j + j * (j - 1) * x2[0] ** i * x2[1] ** max(j - 2, 0))
             for c, (i, j) in zip(a, mons))
    nodes2, w2 = hermite_grid(2)
    gap2 = float(w2 @ cubic(x2 + gamma * nodes2) - cubic(x2))
    assert gap2 == pytest.approx(BOUNDS["E5.gauss"].evaluate(gamma=gamma, trH=tr), rel=1e-9, abs=1e-10)


@pytest.mark.parametrize("law", ["ball", "sphere"])
@given(gamma=st.floats(0.05, 2.0), dim=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_e5_ball_sphere_monte_carlo(law, gamma, dim, seed):
    rng = np.random.default_rng(seed)
    H = random_sym(rng, dim)  # x drops out of the antithetic pair below
    z = sample(law, dim, 100_000, np.random.default_rng(4321))
    # antithetic pair: (f(x + g z) + f(x - g z))/2 - f(x) = g^2/2 z^T H z
    vals = gamma**2 / 2 * np.einsum("ni,ij,nj->n", z, H, z)
    mc_check(vals, BOUNDS[f"E5.{law}"].evaluate(gamma=gamma, trH=np.trace(H), d=dim))


@given(rho=st.floats(0.05, 2.0), l1=st.floats(0.1, 5.0), ratio=st.floats(-1.0, 1.0), theta=st.floats(0, 3.14))
def test_e5_sam_max_over_ball(rho, l1, ratio, theta):
    Q = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    H = Q @ np.diag([l1, ratio * l1]) @ Q.T
    phis = np.linspace(0, 2 * np.pi, 20001)
    w = rho * np.stack([np.cos(phis), np.sin(phis)], axis=1)  # the max of an indefinite/PSD form sits on the sphere
    best = float(np.max(0.5 * np.einsum("ni,ij,nj->n", w, H, w)))
    assert best == pytest.approx(BOUNDS["E5.sam"].evaluate(rho=rho, lambda_max=l1), rel=1e-6)


@given(gamma=st.floats(0.01, 1.0), b=st.integers(1, 64), seed=st.integers(0, 2**16))
def test_e6_stochastic_quadrature(gamma, b, seed):
    rng = np.random.default_rng(seed)
    H, S = random_sym(rng, 2), random_psd(rng, 2)
    q, x = rng.standard_normal(2), rng.standard_normal(2)
    f = lambda y: 0.5 * np.einsum("...i,ij,...j->...", y, H, y) + y @ q  # noqa: E731
    g = H @ x + q
    nodes, w = hermite_grid(2)
    eps = nodes @ np.linalg.cholesky(S / b).T
    gap = float(w @ f(x - gamma * (g + eps)) - f(x))
    want = BOUNDS["E6.stochastic"].evaluate(gamma=gamma, grad2=g @ g, gHg=g @ H @ g, trHSigma=np.trace(H @ S), b=b)
    assert gap == pytest.approx(want, rel=1e-9, abs=1e-12)


@given(seed=st.integers(0, 2**16))
def test_e6_descent_taylor_coefficients(seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(10)
    mons = [(i, j) for i in range(4) for j in range(4 - i)]

    def f(y):
        return sum(c * y[0] ** i * y[1] ** j for c, (i, j) in zip(a, mons))

    def grad(y):
        return np.array([sum(c * i * y[0] ** max(i - 1, 0) * y[1] ** j for c, (i, j) in zip(a, mons)),
                         sum(c * j * y[0] ** i * y[1] ** max(j - 1, 0) for c, (i, j) in zip(a, mons))])

    def hess(y):
        h = np.zeros((2, 2))
        for c, (i, j) in zip(a, mons):
            h[0, 0] += c * i * (i - 1) * y[0] ** max(i - 2, 0) * y[1] ** j
            h[1, 1] += c * j * (j - 1) * y[0] ** i * y[1] ** max(j - 2, 0)
            h[0, 1] += c * i * j * y[0] ** max(i - 1, 0) * y[1] ** max(j - 1, 0)
        h[1, 0] = h[0, 1]
        return h

    x = rng.standard_normal(2)
    g, H = grad(x), hess(x)
    # gamma -> f(x - gamma g) is a cubic polynomial: fit it exactly from 4 points
    gs = np.array([-1.0, -0.5, 0.5, 1.0])
    coef = np.polyfit(gs, [f(x - t * g) for t in gs], 3)[::-1]
    bound = BOUNDS["E6.descent"]
    for k, gam in enumerate([0.3, 0.7]):
        taylor = bound.evaluate(gamma=gam, f_x=f(x), grad2=g @ g, gHg=g @ H @ g)
        assert taylor == pytest.approx(coef[0] + coef[1] * gam + coef[2] * gam**2, rel=1e-8, abs=1e-8)
    assert coef[1] == pytest.approx(-(g @ g), rel=1e-8, abs=1e-8)


@given(lam=st.floats(0.05, 5.0), step=st.floats(0.0, 1.0), y=st.floats(-3, 3))
def test_e6_effective_curvature(lam, step, y):
    eg = lam * (y - step * lam * y)  # grad f(y - gamma grad f(y)) on (lam/2) y^2
    usam = lam * (y + step * lam * y)
    assert eg == pytest.approx(BOUNDS["E6.eg_gradient"].evaluate(gamma=step, **{"lambda": lam}) * y, abs=1e-12)
    assert usam == pytest.approx(BOUNDS["E6.usam_gradient"].evaluate(rho=step, **{"lambda": lam}) * y, abs=1e-12)
