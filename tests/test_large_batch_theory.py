"""``analysis.large_batch``'s theory (issue 14): the stability thresholds against the spectral radius of the linear
recursion built in NumPy and against ``xtrap.run`` itself, each seed's starting curvature and the per-sample curvatures
along the top Ritz vector against dense Hessians, the noise scale against per-sample gradients, and A4's critical batch
against its formula written out and the mean-square factor it zeroes (split from tests/test_large_batch.py).
"""

from __future__ import annotations

import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import problems
import xtrap
from analysis.large_batch import (NO_SCALING, claims, critical_batch, critical_batch_claim, curvature_spread, last_step,
                                  level_config, lr_rule, mean_ci, nag_constant, noise_scale, schedule, stable,
                                  start_claim, steps_per_epoch, threshold, top_direction, welch)
from analysis.large_batch.claims import multiplicity, noise_claim
from analysis.large_batch.protocol import protocol_rows
from analysis.large_batch.report import accuracy_cell, excluded, multiplicity_text, pilot_text
from xtrap.cli import main


# ---- theory -----------------------------------------------------------------------------------------------------
def _radius(lam: float, lr: float, beta: float, gamma: float = 0.0) -> float:
    """Spectral radius of Nesterov (PyTorch form) fed the extrapolated gradient lam (1 - gamma lam) c, state (c, m)."""
    h = lam * (1 - gamma * lam)  # d h / d c
    # m' = beta m + h c;  c' = c - lr (h c + beta m') = (1 - lr h (1 + beta)) c - lr beta^2 m
    a = np.array([[1 - lr * h * (1 + beta), -lr * beta * beta], [h, beta]])
    return float(np.max(np.abs(np.linalg.eigvals(a))))


@pytest.mark.parametrize("lr, beta", [(0.5, 0.9), (0.00625, 0.9), (1.0, 0.0), (0.2, 0.5)])
def test_nag_threshold_is_where_the_spectral_radius_crosses_one(lr, beta) -> None:
    t = threshold("nag", lr=lr, momentum=beta)
    assert t["theorem"] == "A2.NAG" and t["status"] == "exact"
    assert t["threshold"] == pytest.approx(2 * (1 + beta) / ((1 + 2 * beta) * lr), rel=1e-14)
    assert _radius(t["threshold"] * (1 - 1e-6), lr, beta) < 1 < _radius(t["threshold"] * (1 + 1e-6), lr, beta)
    assert nag_constant(beta) == pytest.approx(2 * (1 + beta) / (1 + 2 * beta), rel=1e-15)
    assert threshold("noise", lr=lr, momentum=beta)["threshold"] == t["threshold"]


@pytest.mark.parametrize("lr, gamma, beta", [(0.5, 0.5, 0.9), (2.0, 0.05, 0.9), (3.0, 0.1, 0.0), (0.1, 0.4, 0.5)])
def test_extrap_stability_is_the_spectral_radius_of_the_recursion(lr, gamma, beta) -> None:
    lams = np.linspace(0.01, 1.5 / gamma, 997)
    pred = np.array([stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=beta) for lam in lams])
    rad = np.array([_radius(lam, lr, beta, gamma) for lam in lams])
    near = np.abs(rad - 1) < 1e-9  # marginal points are neither
    np.testing.assert_array_equal(pred[~near], (rad < 1)[~near])
    t = threshold("extrap", lr=lr, extrap_lr=gamma, momentum=beta)["threshold"]
    assert _radius(t * (1 - 1e-7), lr, beta, gamma) < 1 <= _radius(t * (1 + 1e-7), lr, beta, gamma) + 1e-12
    assert all(stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=beta) for lam in lams[lams < t * (1 - 1e-9)])
    if lr > 4 * gamma * nag_constant(beta):  # the band: stable again between lambda_+ and 1/gamma
        assert t < 1 / gamma and stable("extrap", 0.999 / gamma, lr=lr, extrap_lr=gamma, momentum=beta)


@pytest.mark.parametrize("lam, diverges", [(1.9, False), (2.1, True)])
def test_the_extrap_threshold_is_xtraps_own_deterministic_extragradient_with_nesterov(lam, diverges) -> None:
    """gamma = eta = 0.5: the threshold is 1/gamma = 2; xtrap's exact-gradient EG with Nesterov agrees."""
    lr = gamma = 0.5
    assert threshold("extrap", lr=lr, extrap_lr=gamma, momentum=0.9)["threshold"] == pytest.approx(2.0)
    assert stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=0.9) is (not diverges)
    p = problems.make("quadratic", dim=1, L=lam, mu=lam, sigma2=0.0)
    r = xtrap.run(p, xtrap.extragradient(lr=lr, extrap_lr=gamma, momentum=0.9, nesterov=True), steps=3000,
                  diverge_radius=1e6)
    assert bool(np.asarray(r["diverged"]).item()) is diverges
    if not diverges:
        assert float(np.asarray(r["loss"])[..., -1].item()) < 1e-20


def test_sam_has_no_threshold_and_bad_kinds_are_refused() -> None:
    t = threshold("sam", lr=0.5, momentum=0.9)
    assert t["status"] == "reference" and stable("sam", 1.0, lr=0.5, momentum=0.9) is None
    with pytest.raises(problems.ParameterError, match="kind"):
        threshold("usam", lr=0.5, momentum=0.9)
    with pytest.raises(problems.ParameterError, match="lr"):
        threshold("nag", lr=0.0, momentum=0.9)


@pytest.mark.slow  # ~3 s: two compilations (the batched HVP, the dense Hessian)
def test_each_seed_gets_its_own_starting_curvature_equal_to_the_dense_hessians() -> None:
    """Review, item 1: lambda_max(x0) of every seed, not seed 0's for all; against NumPy's eigvalsh of the dense
    Hessian (forward-mode Jacobian of the gradient) at each of three starts, on a small network (d = 235; 60 Lanczos
    iterations converge there to about 1e-15)."""
    from analysis.large_batch.study import _start_curvatures

    p = problems.make("digits", hidden=3, estimate_points=1)
    starts = [np.asarray(p.x0) * a for a in (1.0, 1.3, 0.7)]  # three starts (the study passes each seed's x0)
    got = _start_curvatures(p, starts, iterations=60)
    dense = jax.jit(jax.jacfwd(p.grad))
    want = [float(np.linalg.eigvalsh(np.asarray(dense(jnp.asarray(x))))[-1]) for x in starts]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert len(set(np.round(want, 6))) == 3  # the seeds' curvatures differ: one value for all would fail


def test_noise_scale_is_the_per_sample_variance_over_the_squared_gradient() -> None:
    from analysis.large_batch.study import _b_noise

    p = problems.make("digits", hidden=3, estimate_points=1)
    x = np.asarray(p.x0) + 0.1
    g = np.asarray(jax.vmap(lambda i: p.sample_grad(jnp.asarray(x), i))(jnp.arange(p.n)))  # each sample's own
    mean = g.mean(axis=0)
    want_s2, want_g2 = float(((g - mean) ** 2).sum(axis=1).mean()), float(mean @ mean)
    got = _b_noise(p, x)
    assert got["sigma2"] == pytest.approx(want_s2, rel=1e-10) and got["grad_norm2"] == pytest.approx(want_g2, rel=1e-10)
    assert got["b_noise"] == pytest.approx(want_s2 / want_g2, rel=1e-10)
    assert noise_scale(1.0, 0.0) == math.inf


@pytest.mark.parametrize("a, s, lr, n", [(1.0, 10.0, 0.5, 1437), (2.3, 0.7, 0.56, 1437), (0.02, 3.0, 0.1, 5),
                                         (1.9, 40.0, 1.0, 2)])
def test_the_critical_batch_is_a4s_formula_and_the_edge_of_mean_square_stability(a, s, lr, n) -> None:
    """B_crit = n eta s^2 / (eta s^2 + a (2 - eta a)(n - 1)) (THEORY.md A4, written out here), and what it means: the
    1-D mean-square factor (1 - eta a)^2 + eta^2 p s^2, p = (n - B)/(B(n - 1)), is <= 1 exactly from B_crit up."""
    want = n * lr * s**2 / (lr * s**2 + a * (2 - lr * a) * (n - 1))
    got = critical_batch(a, s, n, lr)
    assert got == pytest.approx(want, rel=1e-14) and 0 < got <= n
    factor = lambda b: (1 - lr * a) ** 2 + lr**2 * (n - b) / (b * (n - 1)) * s**2  # noqa: E731
    for b in range(1, n + 1):
        assert (factor(b) <= 1 + 1e-15) is (b >= got), b


def test_the_critical_batch_is_infinite_past_the_edge_zero_without_spread_and_refuses_bad_input() -> None:
    assert critical_batch(4.0, 1.0, 1437, 0.5) == math.inf  # eta a = 2: unstable at every batch, the full one too
    assert critical_batch(-0.1, 1.0, 1437, 0.5) == math.inf  # a <= 0: (1 - eta a)^2 >= 1
    assert critical_batch(3.99, 1.0, 1437, 0.5) < math.inf and critical_batch(1.0, 0.0, 1437, 0.5) == 0.0
    for call, name in ((lambda: critical_batch(1.0, -1.0, 10, 0.5), "s"),
                       (lambda: critical_batch(1.0, 1.0, 1, 0.5), "n"),
                       (lambda: critical_batch(1.0, 1.0, 10, 0.0), "lr"),
                       (lambda: critical_batch(float("nan"), 1.0, 10, 0.5), "a")):
        with pytest.raises(problems.ParameterError, match=name):
            call()


def _dense_per_sample_curvatures(p, x, v):
    """v^T Hess f_i(x) v from each sample's dense Hessian (jax.hessian of its own loss), in chunks of 100 samples."""
    def f_i(z, i):
        return p.per_sample_loss(p.unravel(z), p.images[i][None, :], p.labels[i][None])[0]

    hess = jax.jit(jax.vmap(jax.hessian(f_i), in_axes=(None, 0)))
    blocks = [np.asarray(hess(x, jnp.arange(i, min(i + 100, p.n)))) for i in range(0, p.n, 100)]
    return np.einsum("nij,i,j->n", np.concatenate(blocks), v, v), sum(b.sum(0) for b in blocks) / p.n


@pytest.mark.slow  # ~8 s: dense per-sample Hessians of a 160-parameter net, 1,437 samples
def test_the_ritz_vector_and_the_per_sample_curvatures_match_dense_hessians_on_a_small_net() -> None:
    """d = 160 (hidden = 2), at a point off the initialization: the top Ritz vector after d Lanczos steps is eigh's top
    eigenvector up to sign; the residual the study reports after 12 steps is ||Hv - theta v|| with the dense H; the
    per-sample curvatures along v are those of each sample's own dense Hessian (whose mean is H: the reference
    checked) to 1e-10, and a, s their mean and standard deviation."""
    p = problems.make("digits", hidden=2, weight_decay=1e-3, estimate_points=1)
    x = jnp.asarray(p.x0) + 0.3 * jax.random.normal(jax.random.key(7), (p.dim,))
    H = np.asarray(jax.hessian(p.value)(x))
    w, U = np.linalg.eigh(H)
    u = U[:, -1]
    assert p.dim == 160 and w[-1] - w[-2] > 1e-2 * w[-1]  # a separated top eigenvalue: its vector is well defined
    t = top_direction(p, x, key=jax.random.key(0), iterations=p.dim)
    assert min(np.linalg.norm(t["v"] - u), np.linalg.norm(t["v"] + u)) < 1e-10
    assert t["ritz_value"] == pytest.approx(w[-1], rel=1e-12) and t["residual"] < 1e-10
    few = top_direction(p, x, key=jax.random.key(0), iterations=12)
    assert np.linalg.norm(few["v"]) == pytest.approx(1.0, rel=1e-14) and few["ritz_value"] <= w[-1] + 1e-12
    assert few["residual"] == pytest.approx(np.linalg.norm(H @ few["v"] - few["ritz_value"] * few["v"]), rel=1e-9)
    h_ref, H_mean = _dense_per_sample_curvatures(p, x, u)
    np.testing.assert_allclose(H_mean, H, rtol=0, atol=1e-12)  # the reference's per-sample Hessians average to H
    c = curvature_spread(p, x, u)
    np.testing.assert_allclose(c["h"], h_ref, rtol=0, atol=1e-10)
    assert c["a"] == pytest.approx(h_ref.mean(), rel=1e-12) and c["s"] == pytest.approx(h_ref.std(), rel=1e-10)
    assert c["a"] == pytest.approx(w[-1], rel=1e-10) and c["s"] > 0  # mean of v^T H_i v = v^T H v
    with pytest.raises(problems.ParameterError, match="v must have shape"):
        curvature_spread(p, x, u[:3])
