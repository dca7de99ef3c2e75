"""The exact gradient at x_t that a run computes for its running averages is handed to the step (issue 13, item 2).

``xtrap.apply(..., grad_x=)`` forms the rule's gradients at :math:`x_t` from it on additive oracles
(:math:`g(x_t;\\xi)=\\nabla f(x_t)+` the mean of the draws) and for exact methods, instead of evaluating
:math:`\\nabla f(x_t)` again. Checked here:

* the additive contract itself, on every built-in family that declares it, against the family's own oracle;
* the step with ``grad_x`` against the independent NumPy reference (tests/reference_numpy.py) to 1e-12 per step;
* that it really saves the evaluation: a problem that counts its ``grad`` calls sees one fewer;
* that a run with the averages (the handoff) has the iterates of a run without them.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import reference_numpy as R
import xtrap

QUAD, NP_QUAD, _Q, _X_STAR, X0 = R.rotated_quadratic(977)
COS = problems.make("cosine", dim=5, a=1.0, b=3.0, omega=1.0, noise=0.5)  # f = sum(x^2/2 + 3 cos x): NpCosine(1, 3)
NP_COS = R.NpCosine(1.0, 3.0)
MAX_B, MAX_K, STEPS = 4, 3, 10


ADDITIVE = ["quadratic", "noisy-quadratic", "cosine", "huber"]


@pytest.mark.parametrize("name", ADDITIVE)
def test_additive_families_satisfy_the_contract(name):
    """g(x; xi) = grad f(x) + mean of the first b draws, and the batch-mean gradient grad f(x) + xi / sqrt(b), read
    from the family's own oracle (stochastic_grad, batch_mean_grad) at random points."""
    p = problems.make(name) if name != "huber" else problems.make(name, noise=0.3)
    assert problems.uses_additive_oracle(p)
    key = jax.random.key(3)
    for i in range(3):
        x = np.asarray(p.x0) + jax.random.normal(jax.random.fold_in(key, i), (p.dim,))
        xi = p.sample(jax.random.fold_in(key, 10 + i), 5)
        mask = np.arange(5) < 3
        g = np.asarray(p.grad(x))
        np.testing.assert_allclose(p.stochastic_grad(x, xi, mask), g + np.asarray(xi)[:3].mean(0), rtol=1e-13,
                                   atol=1e-13)
        one = p.sample_batch_mean(jax.random.fold_in(key, 20 + i))
        np.testing.assert_allclose(p.batch_mean_grad(x, one, 4), g + np.asarray(one) / 2.0, rtol=1e-13, atol=1e-13)


def test_finite_sums_and_changed_oracles_are_not_additive():
    for name in ("least-squares", "two-basin", "logistic"):
        assert not problems.uses_additive_oracle(problems.make(name))

    @problems.pytree_dataclass
    class Scaled(problems.Quadratic):  # changes the oracle without declaring it additive again
        def stochastic_grad(self, x, xi, mask=None):
            return 2.0 * super().stochastic_grad(x, xi, mask)

    assert not problems.uses_additive_oracle(Scaled(**{f.name: getattr(QUAD, f.name) for f in
                                                       dataclasses.fields(QUAD)}))
    assert not problems.uses_additive_oracle(R.make_cosine(dim=3))  # defines its own sample: per-sample path


_japply = jax.jit(lambda config, state, problem, draws, hyper: xtrap.apply(config, state, problem, draws, hyper,
                                                                          grad_x=problem.grad(state.x)),
                  static_argnums=0)


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("direction", ["local", "global", "sam", "usam"])
@pytest.mark.parametrize("which", ["quadratic", "cosine"])
def test_step_with_grad_x_matches_the_reference(which, direction, exact):
    """K = 2 of 3 workers, b = 3 of 4 samples, Nesterov or heavy ball: every step to 1e-12 of the NumPy reference,
    which evaluates every gradient itself."""
    jprob, nprob = (QUAD, NP_QUAD) if which == "quadratic" else (COS, NP_COS)
    base = "nesterov" if direction in ("local", "sam") else "heavy_ball"
    config = xtrap.Config(direction=direction, base=base, exact=exact)
    hyper = xtrap.make_hyper(lr=xtrap.warmup(0.2, 3), extrap_lr=0.15, rho=0.2, momentum=0.5, batch=3, workers=2)
    keys = jax.random.split(jax.random.key(len(direction) + 7 * exact), STEPS)
    draws = R.draws_many(config, jprob, keys, MAX_B, MAX_K)
    x0 = np.asarray(jprob.x0)
    s, rs = xtrap.init(jnp.asarray(x0), MAX_K), R.ref_init(x0, MAX_K)
    for t, dr in enumerate(draws):
        s = _japply(config, s, jprob, R.to_draws(dr), R.normalize_hyper(hyper))
        rs = R.ref_apply(R.cfg_dict(config), rs, nprob, dr, R.hyper_np(hyper))
        scale = max(1.0, float(np.max(np.abs(rs.x))))
        assert np.max(np.abs(np.asarray(s.x) - rs.x)) <= 1e-12 * scale, f"step {t + 1}"


@problems.pytree_dataclass
class CountingQuadratic(problems.Quadratic):
    """The quadratic, counting the evaluations of its exact gradient (at trace time, so once per call site)."""

    calls = []  # noqa: RUF012  (a class-level log: instances are frozen)

    def grad(self, x):
        CountingQuadratic.calls.append(jnp.shape(x))
        return super().grad(x)


COUNTING = CountingQuadratic(**{f.name: getattr(QUAD, f.name) for f in dataclasses.fields(QUAD)})


@pytest.mark.parametrize("direction,saved", [("local", 1), ("sam", 1), ("none", 0), ("gaussian", 0)])
def test_grad_x_saves_the_evaluation_at_x(direction, saved):
    """A rule that reads gradients at x_t evaluates grad f once fewer with grad_x (only at the extrapolated points);
    the others never evaluated it at x_t."""
    assert problems.uses_additive_oracle(COUNTING)  # overriding grad keeps the additive oracle
    config = xtrap.Config(direction=direction)
    hyper = xtrap.make_hyper(lr=0.1, extrap_lr=0.1, rho=0.1, batch=2, workers=2)
    draws = xtrap.draw(config, COUNTING, jax.random.key(0), 2, 2)
    state = xtrap.init(jnp.asarray(X0), 2)
    g = QUAD.grad(jnp.asarray(X0))
    counts = []
    for grad_x in (None, g):
        CountingQuadratic.calls.clear()
        new = xtrap.apply(config, state, COUNTING, draws, hyper, grad_x=grad_x)
        counts.append(len(CountingQuadratic.calls))
        if grad_x is None:
            expected = new.x
    assert counts[0] - counts[1] == saved, counts
    np.testing.assert_allclose(new.x, expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("problem", ["quadratic", "cosine", "least-squares"])
def test_run_with_averages_has_the_iterates_of_a_run_without(problem):
    """averages=True hands grad f(x_t) to the step, averages=False does not: the same trajectories to round-off
    (least-squares, a finite sum, evaluates g(x_t; xi) itself either way)."""
    p = problems.make(problem, dim=5) if problem != "least-squares" else problems.make(problem)
    m = xtrap.extrap_sgd(lr=0.1, extrap_lr=0.2, momentum=0.5, nesterov=True, batch=2, workers=2)
    kw = dict(steps=30, seeds=3, seed=11, iterates=True, record_every=1)
    a, b = xtrap.run(p, m, averages=True, **kw), xtrap.run(p, m, averages=False, **kw)
    scale = max(1.0, float(np.abs(b["iterates"]).max()))
    assert np.max(np.abs(a["iterates"] - b["iterates"])) <= 1e-13 * scale
    assert "avg_loss" in a.data and "avg_loss" not in b.data
