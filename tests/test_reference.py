"""xtrap.apply / xtrap.step / xtrap.run against the independent NumPy reference (tests/reference_numpy.py).

Both sides consume the same randomness: the per-step :class:`xtrap.Draws` from ``xtrap.draw``,
converted to NumPy. The reference computes every per-sample gradient itself (quadratic:
``H(x-x*) + eps_i``; nonconvex cosine: ``a x - b sin x + eps_i``) and the update from THEORY.md
§1.2–§1.5. Agreement is required to float64 round-off: ``max|x_xtrap - x_ref| <= 1e-12 * scale``
with ``scale = max(1, max|x_ref|)``, at every one of >= 10 steps.

Shapes are kept few (d = 5, max_batch = 4, max_workers = 3) so compiled functions are reused;
masking is always exercised (K = 2 of 3 workers, b = 3 of 4 samples) unless stated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import problems
import reference_numpy as R
import xtrap

D, MAX_B, MAX_K = 5, 4, 3
STEPS = 12
TOL = 1e-12

_rng = np.random.default_rng(20240607)
LAM = np.array([0.3, 0.7, 1.0, 1.6, 2.5])
Q = np.linalg.qr(_rng.standard_normal((D, D)))[0]
X_STAR = _rng.standard_normal(D) * 0.5
X0 = X_STAR + _rng.standard_normal(D)
_A = _rng.standard_normal((D, D))
NOISE_COV = 0.2 * _A @ _A.T / D  # anisotropic per-sample noise covariance

QUAD = problems.make_quadratic(LAM, eigvecs=Q, x_star=X_STAR, noise_cov=NOISE_COV, x0=X0)
NP_QUAD = R.NpQuadratic(LAM, Q, X_STAR)
COS = R.make_cosine(dim=D, a=1.0, b=3.0, noise_std=0.5)
NP_COS = R.NpCosine(1.0, 3.0)

# One hyper-parameter set per base, so that every direction meets every schedule kind and the
# tied extrapolation step gamma_t = eta_t (extrap_lr="lr").
HYPERS = {
    "sgd": dict(lr=xtrap.step_decay(0.3, 0.5, 5), extrap_lr=xtrap.warmup(0.25, 4), rho=0.3, momentum=0.0),
    "heavy_ball": dict(lr=xtrap.warmup(0.25, 3), extrap_lr="lr", rho=0.2, momentum=0.6),
    "nesterov": dict(lr=xtrap.inverse_time(0.3, 6.0), extrap_lr=xtrap.step_decay(0.3, 0.7, 3), rho=0.25,
                     momentum=0.5),
}


def hyper_for(base: str, batch: int = 3, workers: int = 2, **over) -> xtrap.Hyper:
    kw = dict(HYPERS[base], batch=batch, workers=workers)
    kw.update(over)
    return xtrap.make_hyper(**kw)


def step_keys(seed: int, n: int = STEPS) -> jax.Array:
    return jax.random.split(jax.random.key(seed), n)


def compare_trajectory(config: xtrap.Config, jprob, nprob, hyper: xtrap.Hyper, keys, x0=None,
                       tol: float = TOL) -> R.RefState:
    """Iterate xtrap.apply (jitted) and the reference on the same draws; assert agreement each step."""
    x0 = np.asarray(jprob.x0 if x0 is None else x0)
    draws = R.draws_many(config, jprob, keys, MAX_B, MAX_K)
    s, rs = xtrap.init(jnp.asarray(x0), MAX_K), R.ref_init(x0, MAX_K)
    hn, cfg = R.hyper_np(hyper), R.cfg_dict(config)
    K = hn["workers"]
    for t, dr in enumerate(draws):
        s = R.japply(config, s, jprob, R.to_draws(dr), hyper)
        rs = R.ref_apply(cfg, rs, nprob, dr, hn)
        scale = max(1.0, float(np.max(np.abs(rs.x))))
        err = np.max(np.abs(np.asarray(s.x) - rs.x))
        assert err <= tol * scale, f"step {t + 1}: |x - x_ref| = {err:.3g} (scale {scale:.3g})"
        assert int(s.t) == rs.t
        if config.base != "sgd":
            assert np.max(np.abs(np.asarray(s.buf) - rs.buf)) <= tol * max(1.0, np.max(np.abs(rs.buf)))
        if config.direction == "past":
            past = np.asarray(s.past)[:K]
            if config.past_source == "local":  # each worker's own h^k_t
                np.testing.assert_allclose(past, rs.past[:K], rtol=0, atol=tol * max(1.0, np.abs(rs.past).max()))
            else:  # what the next step uses: the average h_t over the active workers
                np.testing.assert_allclose(past.mean(0), rs.past[:K].mean(0), rtol=0,
                                           atol=tol * max(1.0, np.abs(rs.past).max()))
    return rs


def sgd_reference_path(config: xtrap.Config, jprob, nprob, hyper, keys) -> np.ndarray:
    """The plain mini-batch SGD (same base) reference path on the same update batches."""
    base_cfg = xtrap.Config(direction="none", base=config.base, exact=config.exact)
    draws = R.draws_many(base_cfg, jprob, keys, MAX_B, MAX_K)
    rs = R.ref_init(np.asarray(jprob.x0), MAX_K)
    for dr in draws:
        rs = R.ref_apply(R.cfg_dict(base_cfg), rs, nprob, dr, R.hyper_np(hyper))
    return rs.x


# ---------------------------------------------------------------------------------------------
# The randomness contract
# ---------------------------------------------------------------------------------------------


def test_draw_contract_batches():
    """Module docstring: key -> (k_extrap, k_update, k_noise); worker k's batch from split(k_*, K_max)[k].

    Checked bit for bit on the cosine problem, whose samples are ``noise_std * normal(key)``
    (elementwise); on the quadratic the samples pass through a matrix product whose last bit may
    depend on batching (vmap), so there the check is to 1e-15 of the sample scale.
    """
    key = jax.random.key(11)
    k_ext, k_upd, _ = jax.random.split(key, 3)
    for prob, rtol in ((COS, 0.0), (QUAD, 1e-15)):
        scale = 5.0 * float(np.sqrt(prob.sigma2 / D))  # a few standard deviations of a sample
        for config in (xtrap.Config("local"), xtrap.Config("sam"), xtrap.Config("none")):
            dr = xtrap.draw(config, prob, key, MAX_B, MAX_K)
            assert dr.xi_update.shape == (MAX_K, MAX_B, D)
            for k in range(MAX_K):
                want = prob.sample(jax.random.split(k_upd, MAX_K)[k], MAX_B)
                np.testing.assert_allclose(np.asarray(dr.xi_update[k]), np.asarray(want), rtol=0, atol=rtol * scale)
                if config.direction != "none":
                    want = prob.sample(jax.random.split(k_ext, MAX_K)[k], MAX_B)
                    np.testing.assert_allclose(np.asarray(dr.xi_extrap[k]), np.asarray(want), rtol=0, atol=rtol * scale)
                else:
                    assert dr.xi_extrap is None
    # fresh extrapolation batches really are different from the update batches
    dr = xtrap.draw(xtrap.Config("local"), QUAD, key, MAX_B, MAX_K)
    assert np.min(np.abs(np.asarray(dr.xi_extrap) - np.asarray(dr.xi_update))) > 0
    # same batch: the extrapolation batch *is* the update batch
    for direction in ("local", "global", "sam", "usam"):
        dr = xtrap.draw(xtrap.Config(direction, same_batch=True), QUAD, key, MAX_B, MAX_K)
        np.testing.assert_array_equal(np.asarray(dr.xi_extrap), np.asarray(dr.xi_update))
    # exact mode draws no batches
    dr = xtrap.draw(xtrap.Config("local", exact=True), QUAD, key, MAX_B, MAX_K)
    assert dr.xi_update is None and dr.xi_extrap is None


@pytest.mark.slow
def test_draw_noise_laws_and_vmapped_draws():
    key = jax.random.key(12)
    for law in xtrap.NOISE_LAWS:
        dr = xtrap.draw(xtrap.Config(law), QUAD, key, MAX_B, MAX_K)
        z = np.asarray(dr.noise)
        assert z.shape == (MAX_K, D)
        norms = np.linalg.norm(z, axis=1)
        if law == "sphere":
            np.testing.assert_allclose(norms, 1.0, rtol=0, atol=1e-14)
        elif law == "ball":
            assert np.all(norms < 1.0)
        assert len(np.unique(z[:, 0])) == MAX_K  # independent per worker
    # the helper used everywhere (vmapped draw) gives the same samples as one draw per key
    # (bit for bit on the elementwise cosine oracle; to 1e-15 through the quadratic's matmul)
    keys = step_keys(3, 4)
    for prob, rtol in ((COS, 0.0), (QUAD, 1e-15)):
        for config in (xtrap.Config("local"), xtrap.Config("ball")):
            many = R.draws_many(config, prob, keys, MAX_B, MAX_K)
            for i in range(4):
                one = xtrap.draw(config, prob, keys[i], MAX_B, MAX_K)
                for a, b in zip(many[i], one):
                    assert (a is None) == (b is None)
                    if a is not None:
                        np.testing.assert_allclose(a, np.asarray(b), rtol=0, atol=rtol * np.abs(a).max())


def test_schedules_match_formula():
    """Schedule(t) against the NumPy formula, plus values computed by hand from the definitions."""
    scheds = [xtrap.constant(0.3), xtrap.step_decay(0.3, 0.5, 7), xtrap.warmup(0.3, 5),
              xtrap.inverse_time(0.3, 4.0),
              xtrap.Schedule(base=0.3, warmup=3.0, decay_factor=0.8, decay_every=4.0, inverse_t0=10.0)]
    for s in scheds:
        h = R.hyper_np(xtrap.make_hyper(lr=s))["lr"]
        for t in range(30):
            assert abs(float(s(t)) - R.schedule_value(h, t)) <= 1e-15
    assert xtrap.step_decay(0.3, 0.5, 7).at(14) == pytest.approx(0.075, abs=1e-16)
    assert xtrap.step_decay(0.3, 0.5, 7).at(13) == pytest.approx(0.15, abs=1e-16)
    assert xtrap.warmup(0.3, 5).at(0) == pytest.approx(0.06, abs=1e-16)
    assert xtrap.warmup(0.3, 5).at(4) == pytest.approx(0.3, abs=1e-16)
    assert xtrap.warmup(0.3, 5).at(40) == pytest.approx(0.3, abs=1e-16)
    assert xtrap.inverse_time(2.0, 1.0).at(3) == pytest.approx(0.5, abs=1e-16)  # 1/(mu(t+1)), mu = 1/2


# ---------------------------------------------------------------------------------------------
# apply == reference, all directions x bases, fresh / same batch, past sources, exact mode
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("base", xtrap.BASES)
@pytest.mark.parametrize("direction", xtrap.DIRECTIONS)
def test_apply_matches_reference_fresh(direction, base):
    config = xtrap.Config(direction=direction, base=base)
    hyper = hyper_for(base)
    keys = step_keys(100 + xtrap.DIRECTIONS.index(direction))
    rs = compare_trajectory(config, QUAD, NP_QUAD, hyper, keys)
    if direction != "none":  # the direction is not silently ignored (by both sides)
        assert np.max(np.abs(rs.x - sgd_reference_path(config, QUAD, NP_QUAD, hyper, keys))) > 1e-3


@pytest.mark.parametrize("base", xtrap.BASES)
@pytest.mark.parametrize("direction", ["local", "global", "sam", "usam"])
def test_apply_matches_reference_same_batch(direction, base):
    config = xtrap.Config(direction=direction, base=base, same_batch=True)
    compare_trajectory(config, QUAD, NP_QUAD, hyper_for(base), step_keys(200 + len(direction)))


@pytest.mark.parametrize("base", xtrap.BASES)
def test_apply_matches_reference_past_local(base):
    config = xtrap.Config(direction="past", base=base, past_source="local")
    averaged = xtrap.Config(direction="past", base=base)
    rs = compare_trajectory(config, QUAD, NP_QUAD, hyper_for(base), step_keys(300))
    avg = compare_trajectory(averaged, QUAD, NP_QUAD, hyper_for(base), step_keys(300))
    # on an additive-noise quadratic the gradient is affine, so averaging before or after the
    # linear map is the same (the argument of THEORY.md §1.6): own and averaged past coincide in x ...
    assert np.max(np.abs(rs.x - avg.x)) <= 1e-13 * max(1.0, np.abs(avg.x).max())
    assert np.max(np.abs(rs.past[:2] - avg.past[:2])) > 1e-3  # ... though the per-worker h^k differ
    # on the nonconvex problem the two sources give different paths
    rs = compare_trajectory(config, COS, NP_COS, hyper_for(base), step_keys(301))
    avg = compare_trajectory(averaged, COS, NP_COS, hyper_for(base), step_keys(301))
    assert np.max(np.abs(rs.x - avg.x)) > 1e-4


@pytest.mark.parametrize("direction", xtrap.DIRECTIONS)
def test_apply_matches_reference_exact(direction):
    base = xtrap.BASES[xtrap.DIRECTIONS.index(direction) % 3]
    config = xtrap.Config(direction=direction, base=base, exact=True)
    compare_trajectory(config, QUAD, NP_QUAD, hyper_for(base), step_keys(400))


@pytest.mark.parametrize("direction", xtrap.DIRECTIONS)
def test_apply_matches_reference_nonconvex(direction):
    """The nonconvex separable cosine problem (gradients nonlinear: local != global here)."""
    base = xtrap.BASES[(xtrap.DIRECTIONS.index(direction) + 1) % 3]
    same = direction in ("local", "usam")
    config = xtrap.Config(direction=direction, base=base, same_batch=same)
    compare_trajectory(config, COS, NP_COS, hyper_for(base), step_keys(500))


def test_apply_full_batch_all_workers():
    """No masking at all (K = K_max, b = b_max), and the SAM zero-gradient rule u = x at x = x*."""
    for direction in ("local", "global", "sam"):
        config = xtrap.Config(direction=direction, base="nesterov")
        compare_trajectory(config, QUAD, NP_QUAD, hyper_for("nesterov", batch=MAX_B, workers=MAX_K),
                           step_keys(600))
    # exact SAM started at the minimiser: g = 0, so u = x and the iterate stays put (no NaN)
    config = xtrap.Config(direction="sam", base="nesterov", exact=True)
    rs = compare_trajectory(config, QUAD, NP_QUAD, hyper_for("nesterov"), step_keys(601), x0=X_STAR)
    np.testing.assert_array_equal(rs.x, X_STAR)


def test_step_is_draw_then_apply():
    """xtrap.step(key) == reference fed with xtrap.draw(key) (max_workers from the state)."""
    config = xtrap.Config(direction="local", base="heavy_ball")
    hyper = hyper_for("heavy_ball")
    keys = step_keys(700)
    jstep = jax.jit(xtrap.step, static_argnums=(0, 5))
    s, rs = xtrap.init(jnp.asarray(X0), MAX_K), R.ref_init(X0, MAX_K)
    draws = R.draws_many(config, QUAD, keys, MAX_B, MAX_K)
    for t in range(STEPS):
        s = jstep(config, s, QUAD, keys[t], hyper, MAX_B)
        rs = R.ref_apply(R.cfg_dict(config), rs, NP_QUAD, draws[t], R.hyper_np(hyper))
        assert np.max(np.abs(np.asarray(s.x) - rs.x)) <= TOL * max(1.0, np.abs(rs.x).max())


# ---------------------------------------------------------------------------------------------
# run == reference: the per-step key contract fold_in(split(key, seeds)[s], t), sweeps by masking
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("batch_draw", ["batch-mean", "per-sample"])
def test_run_matches_reference_with_key_contract(batch_draw):
    """Both draw contracts (xtrap/framework.py): per-sample batches, and the batch-mean draws xtrap.run makes by
    default on this additive Gaussian oracle."""
    steps, seeds = 10, 2
    key = jax.random.key(808)
    method = xtrap.extrap_sgd(lr=xtrap.step_decay(0.3, 0.5, 4), extrap_lr=xtrap.warmup(0.2, 3), momentum=0.5,
                              nesterov=True, batch=[2, 4], workers=[1, 3])
    res = xtrap.run(QUAD, method, steps=steps, seeds=seeds, key=key, record_every=1, iterates=True,
                    batch_draw=batch_draw)
    assert res.attrs["batch_draw"] == batch_draw
    assert res.dims["iterates"] == ("batch", "workers", "seed", "record", "coord")
    np.testing.assert_array_equal(res.coords["batch"], [2, 4])
    np.testing.assert_array_equal(res.coords["workers"], [1, 3])
    seed_keys = jax.random.split(key, seeds)
    for s in range(seeds):
        keys = jax.vmap(lambda t: jax.random.fold_in(seed_keys[s], t))(jnp.arange(steps))
        for i, b in enumerate([2, 4]):
            draws = R.draws_many(method.config, QUAD, keys, 4, 3, b if batch_draw == "batch-mean" else None)
            for j, k in enumerate([1, 3]):
                hn = R.hyper_np(xtrap.make_hyper(lr=xtrap.step_decay(0.3, 0.5, 4), extrap_lr=xtrap.warmup(0.2, 3),
                                                 momentum=0.5, batch=b, workers=k))
                rs = R.ref_init(X0, 3)
                xs = [rs.x]
                for dr in draws:
                    rs = R.ref_apply(R.cfg_dict(method.config), rs, NP_QUAD, dr, hn)
                    xs.append(rs.x)
                xs = np.array(xs)
                scale = max(1.0, np.abs(xs).max())
                assert np.max(np.abs(res["iterates"][i, j, s] - xs)) <= TOL * scale
                losses = np.array([NP_QUAD.value(x) for x in xs])
                g2 = np.array([np.sum(NP_QUAD.grad(x) ** 2) for x in xs])
                dist = np.linalg.norm(xs - X_STAR, axis=1)
                np.testing.assert_allclose(res["loss"][i, j, s], losses, rtol=1e-12, atol=1e-14)
                np.testing.assert_allclose(res["grad_norm2"][i, j, s], g2, rtol=1e-12, atol=1e-14)
                np.testing.assert_allclose(res["dist"][i, j, s], dist, rtol=1e-12, atol=1e-14)
                np.testing.assert_allclose(res["avg_loss"][i, j, s], losses[:-1].mean(), rtol=1e-12)
                np.testing.assert_allclose(res["avg_grad_norm2"][i, j, s], g2[:-1].mean(), rtol=1e-12)
    assert not res["diverged"].any() and (res["diverged_step"] == -1).all()


# ---------------------------------------------------------------------------------------------
# hypothesis: over random (eta, gamma, beta, K, b) the reference equals xtrap.apply
# ---------------------------------------------------------------------------------------------

_HYP_CONFIGS = [xtrap.Config("local", "nesterov"), xtrap.Config("global", "heavy_ball"),
                xtrap.Config("past", "sgd", past_source="local"), xtrap.Config("usam", "nesterov", same_batch=True)]


@pytest.mark.slow
@given(eta=st.floats(0.01, 0.5), gamma=st.floats(0.0, 0.5), beta=st.floats(0.0, 0.9),
       tied=st.booleans(), K=st.integers(1, MAX_K), b=st.integers(1, MAX_B),
       which=st.integers(0, len(_HYP_CONFIGS) - 1), seed=st.integers(0, 2**31 - 1))
def test_reference_equals_apply_property(eta, gamma, beta, tied, K, b, which, seed):
    config = _HYP_CONFIGS[which]
    base = config.base
    hyper = xtrap.make_hyper(lr=eta, extrap_lr="lr" if tied else gamma, rho=gamma,
                             momentum=beta if base != "sgd" else 0.0, batch=b, workers=K)
    compare_trajectory(config, QUAD, NP_QUAD, hyper, jax.random.split(jax.random.key(seed), 10))
