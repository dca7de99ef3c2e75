"""Every noise law of the framework in distribution (issue 13, item 2: the ball's radius U^(1/d) and the sphere's
uniformity were untested, and an outside mutation of the radius to U went unnoticed).

The draws are read back from one exact-gradient step of ``noise_extrap`` on f = ||x - x*||^2 / 2 (so the test goes
through a method as a user runs it): u = x0 - gamma Z and x1 = x0 - eta (u - x*) give
Z = (x1 - x0 + eta (x0 - x*)) / (eta gamma). Each law is held against its exact distribution by Kolmogorov-Smirnov
tests at level 1e-6 each (fixed seeds: the verdict is the same on every run); a test on the mutated law shows the
check has the power to fail.
"""

from __future__ import annotations

import pytest
import numpy as np
from scipy import stats

import problems
import xtrap

D, RUNS, ETA, GAMMA = 5, 4000, 0.5, 0.25
LEVEL = 1e-6


def _draws(law: str) -> np.ndarray:
    p = problems.make("quadratic", dim=D, L=1.0, mu=1.0, sigma2=0.0)  # H = I
    r = xtrap.run(p, xtrap.noise_extrap(lr=ETA, extrap_lr=GAMMA, law=law, exact=True), steps=1, seeds=RUNS,
                  iterates=True, record_every=1, seed=7)
    x = np.asarray(r["iterates"])  # (seed, record, d)
    x0, x1, xs = x[:, 0], x[:, 1], np.asarray(p.x_star)
    return (x1 - x0 + ETA * (x0 - xs)) / (ETA * GAMMA)


def _ks(sample: np.ndarray, cdf) -> float:
    return float(stats.kstest(sample, cdf).pvalue)


def test_gaussian_rows_are_standard_normal() -> None:
    z = _draws("gaussian")
    assert all(_ks(z[:, j], stats.norm.cdf) > LEVEL for j in range(D))
    assert _ks(np.sum(z * z, axis=1), stats.chi2(D).cdf) > LEVEL  # ||Z||^2 ~ chi^2_d


def test_sphere_rows_are_uniform_on_the_sphere() -> None:
    z = _draws("sphere")
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-12)
    # uniform on S^(d-1): each coordinate has (z_j + 1)/2 ~ Beta((d-1)/2, (d-1)/2)
    beta = stats.beta((D - 1) / 2, (D - 1) / 2)
    assert all(_ks((z[:, j] + 1) / 2, beta.cdf) > LEVEL for j in range(D))
    # and rotation invariance beyond the marginals: the angle between consecutive draws has the same law
    cos = np.sum(z[1:] * z[:-1], axis=1)
    assert _ks((cos + 1) / 2, beta.cdf) > LEVEL


def test_ball_rows_are_uniform_in_the_ball() -> None:
    z = _draws("ball")
    r = np.linalg.norm(z, axis=1)
    assert r.max() <= 1.0 + 1e-12
    assert _ks(r ** D, stats.uniform.cdf) > LEVEL  # P(||Z|| <= s) = s^d: ||Z||^d ~ U(0, 1)
    beta = stats.beta((D - 1) / 2, (D - 1) / 2)  # the direction is uniform on the sphere, independent of r
    assert all(_ks((z[:, j] / r + 1) / 2, beta.cdf) > LEVEL for j in range(D))
    inner = r < np.median(r)
    assert stats.ks_2samp(z[inner, 0] / r[inner], z[~inner, 0] / r[~inner]).pvalue > LEVEL


@pytest.mark.slow
def test_the_ball_check_fails_on_the_mutation_it_is_meant_to_catch(monkeypatch) -> None:
    """The outside mutation (radius U instead of U^(1/d)) put into the framework: the radius check now rejects."""
    import importlib

    import jax
    import jax.numpy as jnp

    framework = importlib.import_module("xtrap.framework")
    right = framework.sample_noise

    def mutated(key, law, shape, dtype):
        z = right(key, "sphere", shape, dtype) if law == "ball" else right(key, law, shape, dtype)
        if law != "ball":
            return z
        return z * jax.random.uniform(jax.random.fold_in(key, 1), shape[:-1] + (1,), dtype)  # radius U: wrong

    monkeypatch.setattr(framework, "sample_noise", mutated)
    run_cache = importlib.import_module("xtrap.run")._compiled
    run_cache.cache_clear()
    jax.clear_caches()  # the compiled step would otherwise keep the right law
    try:
        r = np.linalg.norm(_draws("ball"), axis=1)
        assert _ks(r ** D, stats.uniform.cdf) < LEVEL
        assert float(jnp.max(r)) <= 1.0
    finally:
        monkeypatch.undo()
        run_cache.cache_clear()
        jax.clear_caches()
