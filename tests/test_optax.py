"""xtrap.optax: the methods as optax transformations, checked against NumPy loops written here.

Every reference below is an independent NumPy implementation of the framework's rule (THEORY.md §1.2, the module
docstring of xtrap.framework) on the raveled parameter vector, with the gradient of a linear model in closed form;
the optax side runs on a dict pytree. Agreement is to float64 round-off (1e-12 on O(1) values). The comparison
with ``xtrap.run`` itself on the built-in problems is in test_optax_equality.py (slow tier).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import xtrap
import xtrap.optax as xo
from problems import ParameterError

ATOL = 1e-12
RNG = np.random.default_rng(0)
N, D = 24, 3
A = RNG.normal(size=(N, D))
Y = A @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * RNG.normal(size=N)
X0 = {"b": jnp.asarray(0.2, jnp.float64), "w": jnp.asarray([0.5, 0.5, -0.5], jnp.float64)}  # strong types


def loss(p, idx):
    r = jnp.asarray(A)[idx] @ p["w"] + p["b"] - jnp.asarray(Y)[idx]
    return 0.5 * jnp.mean(r * r)


def np_grad(v, idx):
    """The gradient of ``loss`` on the raveled vector ``v = [b, w]`` (jax ravels a dict in sorted key order)."""
    a, y = A[idx], Y[idx]
    r = a @ v[1:] + v[0] - y
    return np.concatenate([[r.mean()], a.T @ r / len(idx)])


def flat(p):
    return np.concatenate([np.atleast_1d(np.asarray(p["b"])), np.asarray(p["w"])])


def batches(count, size=6, seed=1):
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(N, size, replace=False)) for _ in range(count)]


def np_base(state, h, eta, momentum, nesterov):
    """The PyTorch-form base update (m_0 = 0), returning the step to subtract."""
    if momentum is None:
        return h
    state["m"] = momentum * state["m"] + h
    return h + momentum * state["m"] if nesterov else state["m"]


def np_run(rule, steps, calls, *, lr, gamma=None, rho=0.0, momentum=None, nesterov=False, noise=None,
           transform=lambda g, v: g):
    """The framework on one worker: ``calls[2t]`` at x_t, ``calls[2t+1]`` at u_t (SGD: ``calls[t]``)."""
    x = flat(X0)
    state, past, out = {"m": np.zeros_like(x)}, np.zeros_like(x), [x]
    for t in range(steps):
        eta = lr(t) if callable(lr) else lr
        g_ = eta if gamma is None else (gamma(t) if callable(gamma) else gamma)
        if rule == "none":
            u, h = x, transform(np_grad(x, calls[t]), x)
        else:
            g0 = transform(np_grad(x, calls[2 * t]), x)
            delta = {"local": -g_ * g0, "past": -g_ * past, "usam": rho * g0,
                     "sam": rho * g0 / np.linalg.norm(g0) if np.linalg.norm(g0) > 0 else 0 * g0,
                     "noise": -g_ * (noise(t) if noise else 0)}[rule]
            u = x + delta
            h = transform(np_grad(u, calls[2 * t + 1]), u)
        past = h
        x = x - eta * np_base(state, h, eta, momentum, nesterov)
        out.append(x)
    return np.stack(out)


GRAD = jax.jit(jax.grad(loss))


def optax_loop(tx, steps, calls, extrapolates=True):
    """The ordinary optax loop: one gradient per call (the calls alternate), jitted once."""
    grad, update = GRAD, jax.jit(tx.update)
    params, state, out = X0, tx.init(X0), [flat(X0)]
    for t in range(steps):
        for c in ([2 * t, 2 * t + 1] if extrapolates else [t]):
            updates, state = update(grad(params, calls[c]), state, params)
            params = optax.apply_updates(params, updates)
        out.append(flat(params))
    return np.stack(out)


def _ball_noise(key):
    # the contract: step t draws row 0 of xtrap.sample_noise(third split of fold_in(key, t), law, (1, d))
    draw = jax.jit(lambda t: xtrap.sample_noise(jax.random.split(jax.random.fold_in(key, t), 3)[2], "ball",
                                                (1, D + 1), jnp.float64)[0])
    return lambda t: np.asarray(draw(t))


METHODS = [  # (transformation, the reference's keyword arguments)
    pytest.param(xo.sgd(0.3, momentum=0.9), dict(rule="none", lr=0.3, momentum=0.9), id="sgd-heavy-ball"),
    pytest.param(xo.extrap_sgd(0.3, extrap_lr=0.2, momentum=0.9, nesterov=True),
                 dict(rule="local", lr=0.3, gamma=0.2, momentum=0.9, nesterov=True), id="extrap_sgd-nesterov"),
    pytest.param(xo.extrap_sgd(lambda t: 0.4 / (1.0 + t), extrap_lr=lambda t: 0.1 * (t + 1.0)),
                 dict(rule="local", lr=lambda t: 0.4 / (1.0 + t), gamma=lambda t: 0.1 * (t + 1.0)),
                 id="extrap_sgd-schedules"),
    pytest.param(xo.global_extrap_sgd(0.3), dict(rule="local", lr=0.3), id="global-one-worker"),
    pytest.param(xo.past_extrap(0.3, extrap_lr=0.5, momentum=0.5), dict(rule="past", lr=0.3, gamma=0.5, momentum=0.5),
                 id="past-heavy-ball"),
    pytest.param(xo.noise_extrap(0.3, extrap_lr=0.4, law="ball", key=jax.random.key(7)),
                 dict(rule="noise", lr=0.3, gamma=0.4, noise=_ball_noise(jax.random.key(7))), id="noise-ball",
                 marks=pytest.mark.slow),  # compiling the noise draw twice takes seconds
    pytest.param(xo.sam(0.3, rho=0.1, momentum=0.5), dict(rule="sam", lr=0.3, rho=0.1, momentum=0.5),
                 id="sam-heavy-ball"),
    pytest.param(xo.usam(0.3, rho=0.2), dict(rule="usam", lr=0.3, rho=0.2), id="usam"),
]


@pytest.mark.parametrize("tx, kw", METHODS)
def test_alternating_loop_matches_numpy(tx, kw):
    steps = 4
    calls = batches(2 * steps)
    ref = np_run(steps=steps, calls=calls, **kw)
    got = optax_loop(tx, steps, calls, extrapolates=kw["rule"] != "none")
    np.testing.assert_allclose(got, ref, rtol=0, atol=ATOL)
    assert np.abs(ref[-1] - ref[0]).max() > 1e-2


def test_sgd_is_optax_sgd_bit_for_bit():
    # the base update is optax.sgd itself (PyTorch-form trace): one worker, the same numbers exactly
    calls = batches(5)
    for kw in (dict(momentum=None), dict(momentum=0.9), dict(momentum=0.9, nesterov=True)):
        ours, theirs = xo.sgd(0.2, **kw), optax.sgd(0.2, **kw)
        p1, s1, p2, s2 = X0, ours.init(X0), X0, theirs.init(X0)
        for c in calls:
            u1, s1 = ours.update(GRAD(p1, c), s1, p1)
            u2, s2 = theirs.update(GRAD(p2, c), s2, p2)
            p1, p2 = optax.apply_updates(p1, u1), optax.apply_updates(p2, u2)
        assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(p2)))
        assert not np.array_equal(flat(p1), flat(X0))


def test_sam_matches_optax_contrib_sam():
    # optax's own SAM (transparent mode, sync period 2) is the same alternation: the same iterates
    calls = batches(8)
    ours = xo.sam(0.3, rho=0.1)
    theirs = optax.contrib.sam(optax.sgd(0.3), optax.chain(optax.contrib.normalize(), optax.sgd(0.1)),
                               sync_period=2)
    got, want = optax_loop(ours, 4, calls), optax_loop(theirs, 4, calls)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def _clip(c):
    return lambda g, v: g * min(1.0, c / np.linalg.norm(g))


def test_chain_with_clipping_and_weight_decay_alternating():
    steps, calls = 4, batches(8)
    clip_tx = optax.chain(optax.clip_by_global_norm(0.5), xo.extrap_sgd(0.3, momentum=0.9))
    ref = np_run("local", steps, calls, lr=0.3, momentum=0.9, transform=_clip(0.5))
    np.testing.assert_allclose(optax_loop(clip_tx, steps, calls), ref, rtol=0, atol=ATOL)
    norms = [np.linalg.norm(np_grad(v, calls[2 * t])) for t, v in enumerate(ref[:-1])]
    assert max(norms) > 0.5  # the clipping acts (else the test would not see it)
    wd_tx = optax.chain(optax.add_decayed_weights(0.1), xo.sam(0.3, rho=0.1))
    ref = np_run("sam", steps, calls, lr=0.3, rho=0.1, transform=lambda g, v: g + 0.1 * v)
    np.testing.assert_allclose(optax_loop(wd_tx, steps, calls), ref, rtol=0, atol=ATOL)
    assert np.abs(ref - np_run("sam", steps, calls, lr=0.3, rho=0.1)).max() > 1e-3  # the decay matters


def np_workers(rule, x, b0, b1, *, lr, gamma, transform, m):
    """One step of K workers: worker k extrapolates on b0[k] and evaluates at its point on b1[k]."""
    g0 = [transform(np_grad(x, i), x) for i in b0]
    mean0 = np.mean(g0, axis=0)
    us = [x - gamma * (mean0 if rule == "global" else g) for g in g0]
    h = np.mean([transform(np_grad(u, i), u) for u, i in zip(us, b1)], axis=0)
    m[:] = 0.9 * m + h
    return x - lr * m


@pytest.mark.parametrize("rule", ["local", "global"])
def test_make_step_workers_and_clipping(rule):
    # two workers, heavy ball, a clipping chained before: each worker clips its own gradients, the update is the
    # mean of the gradients at each worker's point, and global extrapolation averages first
    make = xo.extrap_sgd if rule == "local" else xo.global_extrap_sgd
    tx = optax.chain(optax.clip_by_global_norm(0.5), make(0.3, extrap_lr=0.2, momentum=0.9))
    step = xo.make_step(loss, tx, workers=2)
    params, state = X0, tx.init(X0)
    x, m = flat(X0), np.zeros(D + 1)
    calls = batches(6, size=8)
    for t in range(3):
        b0, b1 = calls[2 * t], calls[2 * t + 1]
        before = params
        params, state, info = step(params, state, b0, None, b1)
        x = np_workers(rule, x, b0.reshape(2, 4), b1.reshape(2, 4), lr=0.3, gamma=0.2, transform=_clip(0.5), m=m)
        np.testing.assert_allclose(flat(params), x, rtol=0, atol=ATOL)
        np.testing.assert_allclose(info.loss, float(loss(before, b0)), rtol=1e-14)  # equal halves: the mean
    assert step._cache_size() == 1  # one compilation for every step
    local, global_ = (np_workers(r, flat(X0), calls[0].reshape(2, 4), calls[1].reshape(2, 4), lr=0.3, gamma=0.2,
                                 transform=_clip(0.5), m=np.zeros(D + 1)) for r in ("local", "global"))
    assert np.abs(local - global_).max() > 1e-6  # the two rules differ on these batches: the test tells them apart


def test_make_step_same_batch_weight_decay_and_info():
    # without update_batch both gradients use batch (standard SAM); a weight decay chained before adds w * point to
    # each gradient; info reports the losses and ||h|| of the loss's own gradients (before the chain)
    tx = optax.chain(optax.add_decayed_weights(0.05), xo.sam(0.3, rho=0.1))
    step = xo.make_step(loss, tx)
    b = batches(1)[0]
    params, _, info = step(X0, tx.init(X0), b)
    x = flat(X0)
    g0 = np_grad(x, b) + 0.05 * x
    u = x + 0.1 * g0 / np.linalg.norm(g0)
    h = np_grad(u, b)
    np.testing.assert_allclose(flat(params), x - 0.3 * (h + 0.05 * u), rtol=0, atol=ATOL)
    assert np.abs(0.3 * 0.05 * u).max() > 1e-3  # the decay moves the result by far more than the tolerance
    np.testing.assert_allclose(info.grad_norm, np.linalg.norm(h), rtol=1e-13)
    r = A[b] @ u[1:] + u[0] - Y[b]
    np.testing.assert_allclose(info.update_loss, 0.5 * np.mean(r * r), rtol=1e-13)
    assert info.update_loss > info.loss  # SAM's ascent step raises the loss


def mlp_loss(p, batch):
    h = jnp.tanh(batch["x"] @ p["w1"] + p["b1"][None, :])
    return jnp.mean((h @ p["w2"] + p["b2"][None, :] - batch["y"]) ** 2)


@pytest.mark.slow  # three compilations of an MLP step: about 7 s
def test_mlp_pytree_trains_and_equals_raveled_step():
    rng = np.random.default_rng(0)  # NumPy draws: compiling jax.random.normal eagerly costs seconds
    x = rng.normal(size=(64, 4))
    data = {"x": jnp.asarray(x), "y": jnp.asarray(np.sin(x @ np.array([[1.0], [-1.0], [0.5], [2.0]])))}
    params = {"w1": jnp.asarray(0.5 * rng.normal(size=(4, 8))), "b1": jnp.zeros(8),
              "w2": jnp.asarray(0.5 * rng.normal(size=(8, 1))), "b2": jnp.zeros(1)}
    tx = xo.extrap_sgd(learning_rate=0.05, momentum=0.9)
    # the ordinary optax loop, each call on its own mini-batch of 16 (100 steps of two calls)
    state, p = tx.init(params), params

    @jax.jit
    def train_call(p, state, batch):
        grads = jax.grad(mlp_loss)(p, batch)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state

    quarters = [jax.tree.map(lambda a: a[k * 16:(k + 1) * 16], data) for k in range(4)]
    for i in range(200):
        p, state = train_call(p, state, quarters[i % 4])
    first, last = float(mlp_loss(params, data)), float(mlp_loss(p, data))
    assert last < 0.5 * first, (first, last)
    # two steps of make_step on the pytree against the same two steps by hand on the raveled vector
    v, unravel = jax.flatten_util.ravel_pytree(params)
    vloss = jax.jit(jax.grad(lambda v, b: mlp_loss(unravel(v), b)))
    step = xo.make_step(mlp_loss, tx)
    state, p, m = tx.init(params), params, jnp.zeros_like(v)
    for t in range(2):
        b0, b1 = quarters[2 * t], quarters[2 * t + 1]
        p, state, _ = step(p, state, b0, None, b1)
        u = v - 0.05 * vloss(v, b0)
        m = 0.9 * m + vloss(u, b1)
        v = v - 0.05 * m
        np.testing.assert_allclose(jax.flatten_util.ravel_pytree(p)[0], v, rtol=0, atol=ATOL)


def test_noise_is_drawn_over_the_whole_pytree():
    # sphere noise on a two-leaf pytree: the raveled draw has norm 1 over all leaves, and equals xtrap.sample_noise
    # on the third split of the given step key
    params = {"a": jnp.zeros((2, 2)), "b": jnp.zeros(3)}
    tx = xo.noise_extrap(0.1, extrap_lr=2.0, law="sphere")

    @jax.jit  # one program for both (compiling a normal draw takes most of a second)
    def both(key):
        delta, state = tx.update(params, tx.init(params), params, key=key)
        return delta, state, xtrap.sample_noise(jax.random.split(key, 3)[2], "sphere", (1, 7), jnp.float64)[0]

    delta, state, z = both(jax.random.key(11))
    np.testing.assert_allclose(jax.flatten_util.ravel_pytree(delta)[0], -2.0 * z, rtol=0, atol=ATOL)
    assert np.all(np.asarray(delta["a"]) != 0) and np.all(np.asarray(delta["b"]) != 0)
    assert int(state.phase) == 1


def test_the_real_optax_is_imported():
    # xtrap/optax is a subpackage named like optax: inside it and here, `import optax` is optax itself
    import sys

    from xtrap.optax import _methods, _step, _transform

    assert xo.__name__ == "xtrap.optax" and sys.modules["optax"] is optax and hasattr(optax, "contrib")
    assert "xtrap" not in Path(optax.__file__).parts
    assert _methods.optax is optax and _step.optax is optax and _transform.optax is optax


@pytest.mark.parametrize("make, name, value", [
    (lambda: xo.extrap_sgd(-0.1), "learning_rate", "-0.1"),
    (lambda: xo.sgd(0.0), "learning_rate", "0"),
    (lambda: xo.sam(0.1, rho=-1.0), "rho", "-1"),
    (lambda: xo.usam(0.1, rho=float("nan")), "rho", "nan"),
    (lambda: xo.noise_extrap(0.1, law="cauchy"), "law", "cauchy"),
    (lambda: xo.extrap_sgd(0.1, momentum=1.0), "momentum", "1"),
    (lambda: xo.past_extrap(0.1, extrap_lr=-0.5), "extrap_lr", "-0.5"),
    (lambda: xo.sgd(0.1, nesterov="yes"), "nesterov", "yes"),
    (lambda: xo.noise_extrap(0.1, key=-1), "key", "-1"),
    (lambda: xo.make_step(loss, xo.sgd(0.1), workers=0), "workers", "0"),
    (lambda: xo.make_step(loss, "sgd"), "tx", "sgd"),
])
def test_bad_arguments_raise_parameter_error(make, name, value):
    with pytest.raises(ParameterError) as err:
        make()
    assert name in str(err.value) and value in str(err.value)


def test_bad_batches_and_states_raise_parameter_error():
    tx = xo.extrap_sgd(0.1)
    step = xo.make_step(loss, tx, workers=4, jit=False)
    with pytest.raises(ParameterError, match=r"batch's leading axis \(10\) must be divisible by workers \(4\)"):
        step(X0, tx.init(X0), np.arange(10))
    with pytest.raises(ParameterError, match=r"update_batch's leading axis \(6\)"):
        step(X0, tx.init(X0), np.arange(8), None, np.arange(6))
    plain = optax.sgd(0.1)
    with pytest.raises(ParameterError, match="exactly one xtrap.optax transformation's state.*found 0"):
        xo.make_step(loss, plain, jit=False)(X0, plain.init(X0), np.arange(8))


@pytest.mark.slow
@pytest.mark.parametrize("module", ["xtrap.optax", "xtrap.optax._methods", "xtrap.optax._step",
                                    "xtrap.optax._transform"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and (module == "xtrap.optax._transform" or result.attempted > 0)


def test_inject_hyperparams():
    # optax.inject_hyperparams rebuilds the transformation at every call with traced hyper-parameters
    tx = optax.inject_hyperparams(xo.extrap_sgd)(learning_rate=0.3, extrap_lr=0.2)
    calls = batches(6)
    ref = np_run("local", 3, calls, lr=0.3, gamma=0.2)
    np.testing.assert_allclose(optax_loop(tx, 3, calls), ref, rtol=0, atol=ATOL)


@pytest.mark.slow
def test_documented_loop_trains():
    # the first Python block of docs/optax.md runs as written, and trains
    text = (Path(__file__).resolve().parents[1] / "docs" / "optax.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) < 20
    start: dict = {}
    ns: dict = {}
    with jax.numpy_rank_promotion("allow"):  # the user's default; the suite raises on implicit broadcasting
        exec(code.replace("range(2000)", "range(0)"), start)
        exec(code, ns)
        first, last = (float(d["loss"](d["params"], d["data"])) for d in (start, ns))
    assert last < 0.2 * first, (first, last)
