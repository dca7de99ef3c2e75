"""xtrap.optax reproduces xtrap.run's trajectories to 1e-12 when fed the framework's own draws.

The reference is ``xtrap.run(..., iterates=True, record_every=1, batch_draw="per-sample")`` (every iterate of one
seed, from the compiled scan), independent of the optax path: the optax side receives, at step ``t``, the batches
that ``xtrap.draw`` makes under ``fold_in(seed_key, t)`` (the key of step ``t`` in ``xtrap.run``) and evaluates its
gradients with ``jax.grad`` of a loss written here from the problem's data (not the problem's oracle code):

* additive noise (``quadratic``): :math:`f(x)+\\frac1b\\sum_i\\langle\\epsilon_i,x\\rangle`, whose gradient is
  :math:`\\nabla f(x)+\\bar\\epsilon`, the batch being the noise draws;
* finite sums (``least-squares``, ``logistic``): the mean of the per-sample losses over the drawn indices;
* exact methods: :math:`f` itself (the batch is a placeholder).

The two paths compute the same mathematics with different floating-point operations (autodiff of the loss
against the oracle's closed form, a mean over the workers against a masked ``tensordot``), so they agree to
round-off, not bitwise: 1e-12 on iterates of size O(1) over 8 steps (measured differences are ~1e-16).
Each case compiles an xtrap run, a make_step and (one worker) an alternating loop: slow tier.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
import xtrap.optax as xo

STEPS = 8
SEED = 0
ATOL = 1e-12
SEED_KEY = jax.random.split(jax.random.key(SEED), 1)[0]  # the key of seed 0 in xtrap.run(seed=SEED, seeds=1)


@pytest.fixture(scope="module")
def probs():
    return {"quadratic": problems.make("quadratic", dim=5),
            "least-squares": problems.make("least-squares", dim=5, n=40),
            "logistic": problems.make("logistic", dim=4, n=50, starts=2)}


def _loss(p, exact):
    if exact:
        return lambda x, _: p.value(x)
    if p.name == "quadratic":
        return lambda x, eps: p.value(x) + jnp.mean(eps @ x)
    a, y = jnp.asarray(p.A), jnp.asarray(p.y)
    if p.name == "least-squares":
        return lambda x, idx: 0.5 * jnp.mean((a[idx] @ x - y[idx]) ** 2)
    assert p.name == "logistic"
    return lambda x, idx: (jnp.mean(jnp.logaddexp(0.0, -y[idx] * (a[idx] @ x)))
                           + p.reg * jnp.sum(x * x / (1.0 + x * x)))


# (problem, xtrap method, the optax transformation, workers): the hyper-parameters written twice on purpose
CASES = {
    "sgd-nesterov": ("quadratic", xtrap.sgd(lr=0.3, momentum=0.9, nesterov=True, batch=4),
                     xo.sgd(0.3, momentum=0.9, nesterov=True), 1),
    "sgd-heavy-ball-workers": ("least-squares", xtrap.sgd(lr=0.4, momentum=0.7, batch=2, workers=3),
                               xo.sgd(0.4, momentum=0.7), 3),
    "extrap_sgd-heavy-ball": ("least-squares", xtrap.extrap_sgd(lr=0.3, momentum=0.8, batch=3),
                              xo.extrap_sgd(0.3, momentum=0.8), 1),
    "extrap_sgd-local-4": ("least-squares", xtrap.extrap_sgd(lr=0.4, extrap_lr=0.2, batch=2, workers=4),
                           xo.extrap_sgd(0.4, extrap_lr=0.2), 4),
    "global-4": ("logistic", xtrap.global_extrap_sgd(lr=0.5, extrap_lr=0.3, batch=2, workers=4),
                 xo.global_extrap_sgd(0.5, extrap_lr=0.3), 4),
    "extragradient-momentum": ("logistic", xtrap.extragradient(lr=0.5, extrap_lr=0.3, momentum=0.5),
                               xo.extragradient(0.5, extrap_lr=0.3, momentum=0.5), 1),
    "past-2": ("quadratic", xtrap.past_extrap(lr=0.3, extrap_lr=0.2, batch=2, workers=2),
               xo.past_extrap(0.3, extrap_lr=0.2), 2),
    "past-nesterov": ("least-squares", xtrap.past_extrap(lr=0.3, momentum=0.6, nesterov=True, batch=3),
                      xo.past_extrap(0.3, momentum=0.6, nesterov=True), 1),
    "noise-gaussian-3": ("quadratic", xtrap.noise_extrap(lr=0.3, extrap_lr=0.2, batch=2, workers=3),
                         xo.noise_extrap(0.3, extrap_lr=0.2, key=SEED_KEY), 3),
    "noise-sphere": ("least-squares", xtrap.noise_extrap(lr=0.3, extrap_lr=0.5, law="sphere", batch=2),
                     xo.noise_extrap(0.3, extrap_lr=0.5, law="sphere", key=SEED_KEY), 1),
    "noise-ball-2": ("logistic", xtrap.noise_extrap(lr=0.5, extrap_lr=0.5, law="ball", batch=2, workers=2),
                     xo.noise_extrap(0.5, extrap_lr=0.5, law="ball", key=SEED_KEY), 2),
    "sam-2": ("logistic", xtrap.sam(lr=0.5, rho=0.1, batch=4, workers=2), xo.sam(0.5, rho=0.1), 2),
    "sam-fresh-heavy-ball": ("quadratic", xtrap.sam(lr=0.3, rho=0.2, momentum=0.5, batch=2, same_batch=False),
                             xo.sam(0.3, rho=0.2, momentum=0.5), 1),
    "usam-nesterov": ("least-squares", xtrap.usam(lr=0.3, rho=0.1, momentum=0.9, nesterov=True, batch=3),
                      xo.usam(0.3, rho=0.1, momentum=0.9, nesterov=True), 1),
    "schedules": ("least-squares",
                  xtrap.extrap_sgd(lr=xtrap.step_decay(0.5, 0.5, 3), extrap_lr=xtrap.warmup(0.3, 4), batch=2),
                  xo.extrap_sgd(xtrap.step_decay(0.5, 0.5, 3), extrap_lr=xtrap.warmup(0.3, 4)), 1),
}


_REFERENCES: dict = {}


def _reference(case, p, m):
    """xtrap.run's iterates, (steps + 1, d), computed once per case (both tests compare with them)."""
    if case not in _REFERENCES:
        r = xtrap.run(p, m, steps=STEPS, seeds=1, seed=SEED, iterates=True, record_every=1,
                      batch_draw="per-sample", averages=False)
        _REFERENCES[case] = np.asarray(r["iterates"])[0]
    return _REFERENCES[case]


_draw = jax.jit(xtrap.draw, static_argnums=(0, 3, 4, 5))  # compiled once per method (eager draws take seconds)


def _batches(m, p, t, workers):
    """(batch, update_batch) of step t: the draws xtrap.run makes, workers' batches concatenated."""
    key = jax.random.fold_in(SEED_KEY, t)
    d = _draw(m.config, p, key, int(m.hyper.batch), workers, False)
    if m.config.exact:
        return jnp.zeros(workers), None, key
    flat = lambda xi: jnp.reshape(xi, (-1,) + xi.shape[2:])  # noqa: E731
    if d.xi_extrap is None or m.config.same_batch:  # no gradient at x_t, or the same batch for both
        return flat(d.xi_update), None, key
    return flat(d.xi_extrap), flat(d.xi_update), key


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_make_step_reproduces_run(case, probs):
    name, m, tx, workers = CASES[case]
    p = probs[name]
    ref = _reference(case, p, m)
    step = xo.make_step(_loss(p, m.config.exact), tx, workers=workers)
    params, state = p.x0, tx.init(p.x0)
    path = [params]
    for t in range(STEPS):
        batch, update_batch, key = _batches(m, p, t, workers)
        # the step key given on odd steps; on even ones the transformation folds its own key (SEED_KEY) with t
        params, state, info = step(params, state, batch, key if t % 2 else None, update_batch)
        path.append(params)
        assert np.isfinite(info.loss) and np.isfinite(info.update_loss)
    np.testing.assert_allclose(np.stack(path), ref, rtol=0, atol=ATOL)
    assert np.abs(ref[-1] - ref[0]).max() > 1e-3  # the runs move: the comparison is not of two constants


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][3] == 1))
def test_alternating_loop_reproduces_run(case, probs):
    # the ordinary optax loop: one gradient per call, the calls alternating (SGD: update calls only); noise
    # injection draws from the key of its state (SEED_KEY) folded with t, which is the key xtrap.run gives step t
    name, m, tx, _ = CASES[case]
    p = probs[name]
    ref = _reference(case, p, m)
    loss = _loss(p, m.config.exact)
    grad, update = jax.jit(jax.grad(loss)), jax.jit(tx.update)
    params, state = p.x0, tx.init(p.x0)
    path = [params]
    for t in range(STEPS):
        batch, update_batch, _ = _batches(m, p, t, 1)
        calls = [batch] if m.config.direction == "none" else [batch, batch if update_batch is None else update_batch]
        for b in calls:
            updates, state = update(grad(params, b), state, params)
            params = params + updates
        path.append(params)
    np.testing.assert_allclose(np.stack(path), ref, rtol=0, atol=ATOL)
