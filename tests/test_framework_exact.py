"""Exact-mode quadratics (THEORY.md §A1, §A2.2, §A2.7): every iterate of a deterministic method is known in closed form.

* the per-eigenvalue factors of §A1 to round-off (GD, EG, USAM), the characteristic recursions of heavy ball,
  Nesterov and EG + heavy ball (with lambda_eff), the normalized-SAM 2-cycle of §A2.7;
* hypothesis: the EG factor identity over random spectra, eigenbases and admissible steps.

Split from tests/test_framework.py, which keeps the framework's structural facts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import problems
import xtrap

# ---------------------------------------------------------------------------------------------
# Exact-mode quadratics: §A1 factors, momentum recursions, §A2.7 SAM 2-cycle
# ---------------------------------------------------------------------------------------------

LAM6 = np.array([0.05, 0.2, 0.5, 0.9, 1.3, 1.9])
Q6 = np.linalg.qr(np.random.default_rng(6).standard_normal((6, 6)))[0]
XS6 = np.random.default_rng(7).standard_normal(6)
X06 = XS6 + np.random.default_rng(8).standard_normal(6)
QUAD6 = problems.make_quadratic(LAM6, eigvecs=Q6, x_star=XS6, x0=X06)


def eigen_coords(iterates: np.ndarray) -> np.ndarray:
    """c_t = Q^T (x_t - x*) for every recorded iterate (rows)."""
    return (iterates - XS6) @ Q6


def exact_run(method, steps: int = 30) -> np.ndarray:
    res = xtrap.run(QUAD6, method, steps=steps, seeds=1, record_every=1, iterates=True)
    assert not res["diverged"].any()
    return res["iterates"][0]


@pytest.mark.parametrize("name", ["gd", "eg", "usam"])
def test_a1_factors(name):
    """§A1: c_t = r(lambda)^t c_0 with r = 1-eta lam (GD), 1-eta lam+eta gamma lam^2 (EG),
    1-eta lam(1+rho lam) (USAM)."""
    eta, gamma, rho = 0.9, 0.4, 0.3
    if name == "gd":
        method, r = xtrap.sgd(lr=eta, exact=True), 1 - eta * LAM6
    elif name == "eg":
        method, r = xtrap.extragradient(lr=eta, extrap_lr=gamma), 1 - eta * LAM6 + eta * gamma * LAM6**2
    else:
        eta = 0.5
        method, r = xtrap.usam(lr=eta, rho=rho, exact=True), 1 - eta * LAM6 * (1 + rho * LAM6)
    c = eigen_coords(exact_run(method))
    t = np.arange(c.shape[0])[:, None]
    want = r[None, :] ** t * c[0][None, :]
    np.testing.assert_allclose(c[0], Q6.T @ (X06 - XS6), rtol=0, atol=1e-15 * np.abs(X06).max())
    assert np.max(np.abs(c - want)) <= 1e-12 * np.abs(c[0]).max()
    assert np.max(np.abs(want[-1])) < 0.5 * np.abs(c[0]).max()  # a nontrivial contraction happened


@pytest.mark.parametrize("name", ["heavy_ball", "nesterov", "eg_heavy_ball"])
def test_momentum_characteristic_recursions(name):
    """§A2.4/5 on exact quadratics: HB c_{t+1}=(1+b-eta lam)c_t-b c_{t-1}, c_1=(1-eta lam)c_0;
    PyTorch Nesterov c_{t+1}=(1+b)(1-eta lam)c_t-b(1-eta lam)c_{t-1}, c_1=(1-eta lam(1+b))c_0;
    EG + HB: HB with lam_eff = lam(1-gamma lam) (§1.5)."""
    eta, beta, gamma = 0.6, 0.7, 0.3
    lam = LAM6
    if name == "heavy_ball":
        method = xtrap.sgd(lr=eta, momentum=beta, exact=True)
    elif name == "nesterov":
        method = xtrap.sgd(lr=eta, momentum=beta, nesterov=True, exact=True)
    else:
        method = xtrap.extragradient(lr=eta, extrap_lr=gamma, momentum=beta)
        lam = LAM6 * (1 - gamma * LAM6)
    c = eigen_coords(exact_run(method))
    want = np.empty_like(c)
    want[0] = c[0]
    if name == "nesterov":
        want[1] = (1 - eta * lam * (1 + beta)) * c[0]
        for t in range(1, len(c) - 1):
            want[t + 1] = (1 + beta) * (1 - eta * lam) * want[t] - beta * (1 - eta * lam) * want[t - 1]
    else:
        want[1] = (1 - eta * lam) * c[0]
        for t in range(1, len(c) - 1):
            want[t + 1] = (1 + beta - eta * lam) * want[t] - beta * want[t - 1]
    assert np.max(np.abs(c - want)) <= 1e-12 * np.abs(c[0]).max()


def test_sam_two_cycle():
    """§A2.7: deterministic normalized SAM -> the 2-cycle +-c q_1, c = eta lam1 rho/(2-eta lam1),
    f - f* -> lam1^3 eta^2 rho^2 / (2(2-eta lam1)^2), ||grad f||^2 -> lam1^2 c^2; the other components
    decay with the linearised factors 1 - eta lam_j - (lam_j/lam1)^2 (2 - eta lam1)."""
    eta, rho = 0.6, 0.1
    lam1 = LAM6[-1]
    c_pred = eta * lam1 * rho / (2 - eta * lam1)
    res = xtrap.run(QUAD6, xtrap.sam(lr=eta, rho=rho, exact=True), steps=1200, seeds=1, record_every=1,
                    iterates=True)
    c = eigen_coords(res["iterates"][0])
    factors = 1 - eta * LAM6[:-1] - (LAM6[:-1] / lam1) ** 2 * (2 - eta * lam1)
    # the two slowest directions decay at their linearised rates (0.9694, 0.8705) once near the cycle
    for j in (0, 1):
        assert abs(c[101, j] / c[100, j] - factors[j]) <= 1e-6
    # after 1200 steps (0.9694^1200 ~ 1e-16) the iterate is on the cycle to round-off
    assert abs(abs(c[-1, -1]) - c_pred) <= 1e-12
    assert abs(abs(c[-2, -1]) - c_pred) <= 1e-12
    assert c[-1, -1] * c[-2, -1] < 0  # it bounces across the ravine
    assert np.max(np.abs(c[-1, :-1])) <= 1e-12
    f_pred = lam1**3 * eta**2 * rho**2 / (2 * (2 - eta * lam1) ** 2)
    assert abs(res["loss"][0, -1] - f_pred) <= 1e-9 * f_pred
    assert abs(res["grad_norm2"][0, -1] - lam1**2 * c_pred**2) <= 1e-9 * lam1**2 * c_pred**2
    assert c_pred > 0.1  # not converging to x*: the cycle is far from round-off


# ---------------------------------------------------------------------------------------------
# hypothesis: the exact EG factor identity over random spectra and admissible steps
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@given(dim=st.sampled_from([2, 3, 5]), seed=st.integers(0, 2**31 - 1), L=st.floats(0.5, 10.0),
       eta_frac=st.floats(0.05, 0.99), gamma_frac=st.floats(0.0, 0.99))
def test_eg_factor_identity_property(dim, seed, L, eta_frac, gamma_frac):
    """For 0 < eta < 2/L, 0 <= gamma < 1/L (|r| < 1, §A2.2): c_t = (1 - eta lam + eta gamma lam^2)^t c_0."""
    rng = np.random.default_rng(seed)
    lam = np.sort(np.concatenate([[L], rng.uniform(0.0, L, dim - 1)]))
    q = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    xs, x0 = rng.standard_normal(dim), rng.standard_normal(dim) * 3
    eta, gamma = eta_frac * 2 / L, gamma_frac / L
    prob = problems.make_quadratic(lam, eigvecs=q, x_star=xs, x0=x0)
    res = xtrap.run(prob, xtrap.extragradient(lr=eta, extrap_lr=gamma), steps=8, record_every=1, iterates=True)
    c = (res["iterates"][0] - xs) @ q
    r = 1 - eta * lam + eta * gamma * lam**2
    want = r[None, :] ** np.arange(9)[:, None] * ((x0 - xs) @ q)[None, :]
    assert np.max(np.abs(c - want)) <= 1e-12 * np.abs(x0 - xs).max()
