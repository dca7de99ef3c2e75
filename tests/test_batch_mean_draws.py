"""Batch-mean draws (xtrap.run's default on additive Gaussian oracles): the same law as b per-sample draws.

The batch gradient is drawn as :math:`\\nabla f(u)+\\epsilon/\\sqrt b`, :math:`\\epsilon\\sim N(0,\\Sigma)`, instead of the
mean of ``b`` i.i.d. :math:`N(0,\\Sigma)` noises. Checked here, independently of the code under test:

* the draw contract (which key gives which draw) and one step against NumPy arithmetic written from the formula;
* ``b = 1``: bit for bit the per-sample run;
* the law through ``xtrap.run``'s batch-size sweep (masking): for every b, the one-step noise read back from the
  iterates has mean 0 and second moment :math:`\\operatorname{tr}\\Sigma/b` (within 4 standard errors) and its
  projections on fixed directions pass a KS test against :math:`N(0, v^\\top\\Sigma v/b)` at level 1e-6 each;
  (family-wise false-failure probability under a correct law: 4 batch sizes x (5 checks at 4 SE, 6.3e-5 each, and 5
  KS tests at 1e-6) < 1.3e-3; the seed is fixed, so the verdict is the same on every run);
* whole runs: :math:`\\mathbb Ef(x_T)` of EXTRAP-SGD under both draws within 4 SE of the exact value from the
  second-moment recursion, for several b;
* which problems use it: additive Gaussian oracles, never finite sums nor a subclass that changes the oracle.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import problems
import xtrap

D = 4
_rng = np.random.default_rng(7)
_A = _rng.standard_normal((D, D))
COV = 0.5 * _A @ _A.T / D
LAM = np.array([0.2, 0.5, 1.0, 1.5])
X_STAR = _rng.standard_normal(D)
QUAD = problems.make_quadratic(LAM, x_star=X_STAR, noise_cov=COV, x0=X_STAR + 1.0)
BATCHES = (1, 3, 8, 32)


@pytest.mark.slow
def test_draw_contract_and_one_step_against_the_formula():
    key = jax.random.key(5)
    k_ext, k_upd, _ = jax.random.split(key, 3)
    config = xtrap.Config("local")
    dr = xtrap.draw(config, QUAD, key, 32, 3, batch_mean=True)
    assert dr.xi_update.shape == (3, D) and dr.xi_extrap.shape == (3, D)
    for k in range(3):  # worker k: one draw from the k-th key, the first per-sample draw of that key
        want = np.asarray(QUAD.sample(jax.random.split(k_upd, 3)[k], 1))[0]
        np.testing.assert_allclose(np.asarray(dr.xi_update[k]), want, rtol=0, atol=1e-15)
        want = np.asarray(QUAD.sample(jax.random.split(k_ext, 3)[k], 1))[0]
        np.testing.assert_allclose(np.asarray(dr.xi_extrap[k]), want, rtol=0, atol=1e-15)
    eta, gamma, b, workers = 0.3, 0.2, 5, 2
    hyper = xtrap.make_hyper(lr=eta, extrap_lr=gamma, batch=b, workers=workers)
    x = X_STAR + np.array([1.0, -0.5, 0.25, 2.0])
    state = xtrap.apply(config, xtrap.init(jnp.asarray(x), 3), QUAD, dr, hyper, batch_mean=True)
    h = np.diag(LAM)
    e, u_noise = np.asarray(dr.xi_extrap) / np.sqrt(b), np.asarray(dr.xi_update) / np.sqrt(b)
    grads = [h @ (x - gamma * (h @ (x - X_STAR) + e[k]) - X_STAR) + u_noise[k] for k in range(workers)]
    want = x - eta * np.mean(grads, axis=0)
    np.testing.assert_allclose(np.asarray(state.x), want, rtol=0, atol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("problem", [QUAD, problems.make("cosine", dim=3), problems.make("huber")],
                         ids=["quadratic", "cosine", "huber"])
def test_batch_one_is_the_per_sample_run_bit_for_bit(problem):
    method = xtrap.extrap_sgd(lr=0.1, batch=1, workers=2)
    a = xtrap.run(problem, method, steps=30, seeds=3, batch_draw="batch-mean")
    b = xtrap.run(problem, method, steps=30, seeds=3, batch_draw="per-sample")
    assert a.attrs["batch_draw"] == "batch-mean" and b.attrs["batch_draw"] == "per-sample"
    for name in ("loss", "avg_loss", "dist"):
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.slow
def test_the_law_of_every_masked_batch_size():
    """One SGD step with lr = 1 from x*: x_1 - x* = -eps/sqrt(b), read back for each b of one masked sweep."""
    seeds = 20_000
    r = xtrap.run(QUAD, xtrap.sgd(lr=1.0, batch=list(BATCHES)), steps=1, seeds=seeds, x0=X_STAR, iterates=True,
                  seed=11)
    assert r.attrs["batch_draw"] == "batch-mean"
    noise = -(np.asarray(r["iterates"])[:, :, -1, :] - X_STAR)  # (batch, seed, d)
    directions = np.vstack([np.eye(D), np.ones(D) / np.sqrt(D)])
    for i, b in enumerate(BATCHES):
        eps = noise[i]
        se = eps.std(axis=0, ddof=1) / np.sqrt(seeds)
        assert np.all(np.abs(eps.mean(axis=0)) < 4 * se), (b, eps.mean(axis=0), se)
        sq = np.sum(eps**2, axis=1)
        assert abs(sq.mean() - np.trace(COV) / b) < 4 * sq.std(ddof=1) / np.sqrt(seeds), (b, sq.mean())
        for v in directions:
            sd = np.sqrt(v @ COV @ v / b)
            assert stats.kstest(eps @ v / sd, "norm").pvalue > 1e-6, (b, v)
    # the batch sizes are not the same draw rescaled by accident of the mask: b scales the variance as 1/b
    ratio = np.sum(noise[0] ** 2) / np.sum(noise[-1] ** 2)
    assert 0.8 * 32 < ratio < 1.25 * 32


def exact_expected_loss(eta: float, gamma: float, b: int, steps: int) -> float:
    """E f(x_T) of EXTRAP-SGD (fresh batches, K = 1) on QUAD: r+ = A r + eta gamma H e1 - eta e2, A = I - eta H +
    eta gamma H^2, e_j ~ N(0, COV/b); the second moment M = E r r^T obeys M+ = A M A + eta^2 (gamma^2 H C H + C)/b."""
    h = np.diag(LAM)
    a = np.eye(D) - eta * h + eta * gamma * h @ h
    m = np.outer(QUAD.x0 - X_STAR, QUAD.x0 - X_STAR)
    add = eta**2 * (gamma**2 * h @ COV @ h + COV) / b
    for _ in range(steps):
        m = a @ m @ a.T + add
    return 0.5 * float(np.trace(h @ m))


@pytest.mark.slow
@pytest.mark.parametrize("draw", ["batch-mean", "per-sample"])
def test_whole_runs_have_the_exact_expected_loss(draw):
    eta, steps, seeds = 0.4, 25, 8000
    r = xtrap.run(QUAD, xtrap.extrap_sgd(lr=eta, batch=[1, 4, 16]), steps=steps, seeds=seeds, seed=3,
                  batch_draw=draw, record_every=steps)
    assert r.attrs["batch_draw"] == draw
    final = np.asarray(r["loss"])[..., -1]
    for i, b in enumerate((1, 4, 16)):
        want = exact_expected_loss(eta, eta, b, steps)
        se = final[i].std(ddof=1) / np.sqrt(seeds)
        assert abs(final[i].mean() - want) < 4 * se, (draw, b, final[i].mean(), want, se)


@pytest.mark.slow
def test_which_problems_use_the_batch_mean_law():
    assert problems.uses_batch_mean_law(QUAD)
    for name in ("quadratic", "noisy-quadratic", "cosine", "huber"):
        assert problems.uses_batch_mean_law(problems.make(name)), name
    for name in ("two-basin", "least-squares", "logistic"):
        assert not problems.uses_batch_mean_law(problems.make(name)), name
    user = problems.from_function(lambda x: 0.5 * jnp.sum(x**2), jnp.ones(3), noise=0.3, L=1.0, mu=1.0, f_star=0.0,
                                  minima=[jnp.zeros(3)])
    assert problems.uses_batch_mean_law(user)

    @problems.pytree_dataclass
    class Skewed(problems.Cosine):  # a user's subclass with non-Gaussian noise keeps the per-sample path
        def sample(self, key, size):
            return jax.random.exponential(key, (size, self.dim)) - 1.0

    base = problems.make("cosine", dim=2)
    skewed = Skewed(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
    assert not problems.uses_batch_mean_law(skewed)
    r = xtrap.run(skewed, xtrap.sgd(lr=0.1, batch=4), steps=3, seeds=2)
    assert r.attrs["batch_draw"] == "per-sample"
    # exact methods draw nothing, and say so
    assert xtrap.run(QUAD, xtrap.sgd(lr=0.1, exact=True), steps=3).attrs["batch_draw"] == "none"


def test_batch_draw_is_validated():
    with pytest.raises(problems.ParameterError, match="batch_draw"):
        xtrap.run(QUAD, xtrap.sgd(lr=0.1), steps=3, batch_draw="mean")
