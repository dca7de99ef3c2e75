"""Direction rules of one's own: registered by name, they compose with batch, workers, same/fresh batch,
momentum, schedules and sweeps exactly like the built-in rules (which go through the same mechanism)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from reference_numpy import NpCosine, draws_many


def _momentum_lookahead(x, state, grads, noise, hyper):
    """delta = -gamma * beta * m_t: extrapolate along the momentum buffer (the docs' example rule)."""
    return -hyper.gamma * hyper.momentum * state.buf


def _my_local(x, state, grads, noise, hyper):
    """The built-in 'local' rule, re-typed by a user: -gamma g(x; xi'^k)."""
    return -hyper.gamma * grads


def _my_gaussian(x, state, grads, noise, hyper):
    return -hyper.gamma * noise


xtrap.register_direction("test-momentum-lookahead", _momentum_lookahead, doc="-gamma beta m_t")
xtrap.register_direction("test-my-local", _my_local, extrap_batch=True, doc="-gamma g(x; xi')")
xtrap.register_direction("test-my-gaussian", _my_gaussian, noise="gaussian", doc="-gamma Z")


def test_the_built_in_rules_are_registered_through_the_public_mechanism() -> None:
    assert xtrap.DIRECTIONS == ("none", "local", "global", "past", "gaussian", "ball", "sphere", "sam", "usam")
    assert xtrap.directions()[:9] == xtrap.DIRECTIONS and "test-my-local" in xtrap.directions()
    for name in xtrap.DIRECTIONS:
        assert xtrap.Config(direction=name).rule.builtin
    with pytest.raises(problems.ParameterError, match="'local' is built in and cannot be replaced"):
        xtrap.register_direction("local", _my_local, extrap_batch=True)


@pytest.mark.slow
@pytest.mark.parametrize("same_batch", [False, True])
def test_a_user_rule_equal_to_local_runs_bitwise_like_extrap_sgd_across_a_sweep(same_batch) -> None:
    """Batch, workers, momentum and a schedule swept in one compiled run: the same numbers to the last bit."""
    p = problems.make("least-squares", dim=3, n=20, seed=1)
    common = dict(lr=xtrap.step_decay(0.2, factor=0.5, every=15), extrap_lr=[0.05, 0.1], momentum=0.5,
                  batch=[2, 5], workers=[1, 3], same_batch=same_batch)
    mine = xtrap.method("test-my-local", name="mine", **common)
    builtin = xtrap.extrap_sgd(**common)
    a = xtrap.run(p, builtin, steps=40, seeds=3, record_every=1, iterates=True)
    before = xtrap.compiled_count()
    b = xtrap.run(p, mine, steps=40, seeds=3, record_every=1, iterates=True)
    assert xtrap.compiled_count() == before + 1  # one compilation for the whole grid
    assert a.sweep_dims == b.sweep_dims and np.array_equal(a["iterates"], b["iterates"])
    assert b.attrs["method"] == "mine" and b.attrs["config"]["direction"] == "test-my-local"


@pytest.mark.slow
def test_a_user_noise_rule_draws_the_built_in_noise() -> None:
    p = problems.make("quadratic", dim=4, sigma2=0.5)
    a = xtrap.run(p, xtrap.noise_extrap(lr=0.1, extrap_lr=0.3, batch=2, workers=2), steps=30, seeds=4)
    b = xtrap.run(p, xtrap.method("test-my-gaussian", lr=0.1, extrap_lr=0.3, batch=2, workers=2), steps=30, seeds=4)
    assert np.array_equal(a["loss"], b["loss"])


@pytest.mark.slow
def test_momentum_direction_extrapolation_equals_a_hand_written_numpy_loop() -> None:
    """u^k = x - gamma beta m_t, h = (1/K) sum_k (1/b) sum_i g_i(u^k), m <- beta m + h, x <- x - eta m, with the
    same draws, on the separable cosine problem with additive noise: to 1e-12."""
    a_, b_, noise, K, B, T = 1.0, 0.8, 0.4, 3, 4, 60
    p = problems.make("cosine", dim=2, a=a_, b=b_, omega=1.0, noise=noise, start=2.0)
    eta, gamma, beta, b_used, k_used = 0.15, 0.6, 0.8, 3, 2
    m = xtrap.method("test-momentum-lookahead", lr=eta, extrap_lr=gamma, momentum=beta, batch=b_used,
                     workers=k_used)
    keys = jax.random.split(jax.random.key(7), T)
    draws = draws_many(m.config, p, keys, B, K)
    state = m.init(p.x0, K)
    step = jax.jit(lambda s, d: xtrap.apply(m.config, s, p, xtrap.Draws(*d), m.hyper))
    np_p = NpCosine(a_, b_)
    x, buf = np.asarray(p.x0, dtype=np.float64), np.zeros(2)
    for t in range(T):
        state = step(state, tuple(None if d is None else jnp.asarray(d) for d in draws[t]))
        eps = draws[t][1]  # the update batches, shape (K, B, d): worker k uses its first b samples
        u = x - gamma * beta * buf  # the same point for every worker (the rule does not depend on k)
        h = np.mean([np.mean(np_p.sample_grads(u, eps[k, :b_used]), axis=0) for k in range(k_used)], axis=0)
        buf = beta * buf + h
        x = x - eta * buf
        np.testing.assert_allclose(np.asarray(state.x), x, rtol=0, atol=1e-12 * (1 + np.abs(x).max()))
    assert np.abs(x - np.asarray(p.x0)).max() > 0.1  # the loop moved


@pytest.mark.slow
def test_momentum_direction_sweeps_over_batch_sizes_in_one_compiled_run() -> None:
    p = problems.make("quadratic", dim=5, sigma2=1.0)
    m = xtrap.method("test-momentum-lookahead", lr=0.1, extrap_lr=0.5, momentum=0.9, batch=[1, 4, 16, 64])
    before = xtrap.compiled_count()
    r = xtrap.run(p, m, steps=200, seeds=8)
    assert xtrap.compiled_count() == before + 1 and r.sweep_dims == ("batch",)
    final = np.mean(np.asarray(r["loss"])[..., -1], axis=1)
    assert final[-1] < final[0]  # larger batches, less noise at the end (sigma2 / b)


@pytest.mark.parametrize("fn, kw, match", [
    (lambda x, state: x, {}, r"must accept \(x, state, grads, noise, hyper\)"),
    (lambda x, state, grads, noise, hyper: jnp.zeros(7), {}, r"must return delta of shape \(d,\) or \(K, d\)"),
    (lambda x, state, grads, noise, hyper: grads.sum(), {}, r"failed on a trial input"),
    ("nope", {}, r"must be a function"),
    (_my_local, dict(noise="cauchy"), r"noise must be one of gaussian, ball, sphere"),
])
def test_a_bad_rule_is_refused_at_registration_with_one_line(fn, kw, match) -> None:
    with pytest.raises(problems.ParameterError, match=match):
        xtrap.register_direction("test-bad", fn, **kw)
    assert "test-bad" not in xtrap.directions()


@pytest.mark.slow
def test_names_are_unique_unless_replaced_and_a_replaced_rule_compiles_anew() -> None:
    xtrap.register_direction("test-replace", lambda x, s, g, z, h: jnp.zeros_like(x))
    with pytest.raises(problems.ParameterError, match="already registered"):
        xtrap.register_direction("test-replace", lambda x, s, g, z, h: -h.gamma * s.buf)
    p = problems.make("quadratic", dim=2, sigma2=0.0)
    first = xtrap.run(p, xtrap.method("test-replace", lr=0.1, momentum=0.5), steps=20)
    xtrap.register_direction("test-replace", lambda x, s, g, z, h: -h.gamma * s.buf, replace=True)
    second = xtrap.run(p, xtrap.method("test-replace", lr=0.1, momentum=0.5), steps=20)
    assert not np.array_equal(first["loss"], second["loss"])  # the new rule ran, not a stale compiled one
    with pytest.raises(problems.ParameterError, match="direction must be one of"):
        xtrap.method("no-such-rule")
    with pytest.raises(problems.ParameterError, match="same_batch needs a direction that draws an extrapolation"):
        xtrap.method("test-momentum-lookahead", same_batch=True)


@pytest.mark.slow
def test_analysis_refuses_catalog_bounds_for_a_user_rule_and_names_it() -> None:
    from analysis.checks import check
    import proofs

    p = problems.make("quadratic", dim=3, sigma2=1.0)
    r = xtrap.run(p, xtrap.method("test-momentum-lookahead", lr=0.1, momentum=0.5), steps=20, seeds=40)
    with pytest.raises(proofs.AssumptionError, match="test-momentum-lookahead \\(a user-defined direction rule\\)"):
        check(r, proofs.catalog()["C2"].bound)


def test_registering_the_same_rule_again_is_harmless_and_flags_are_part_of_a_rule() -> None:
    def again(x, state, grads, noise, hyper):
        return -hyper.gamma * state.buf
    xtrap.register_direction("test-again", again)
    xtrap.register_direction("test-again", again)  # a notebook cell run twice
    with pytest.raises(problems.ParameterError, match="already registered"):
        xtrap.register_direction("test-again", again, noise="ball")  # same code, other flags: another rule
    with pytest.raises(problems.ParameterError, match="uses grads, which is None unless registered with "
                                                      "extrap_batch=True"):
        xtrap.register_direction("test-no-flag", lambda x, s, grads, z, h: -h.gamma * grads)
