"""Structural facts of the framework (THEORY.md §1.6, §A1, §A2.7), masking, jit, and bad input.

* gamma = 0 (rho = 0) turns every extrapolating method into SGD under the same key (to 1e-15);
  K workers of local batch b without extrapolation equal one worker of batch K*b on the same samples.
* Exact-mode quadratics: in tests/test_framework_exact.py.
* Local = global extrapolation on an additive-noise quadratic (§1.6), not on a nonconvex problem.
* NI mean path = GD on a quadratic (§A1, mean over noise within 4 standard errors), and the
  smoothed (non-GD) mean on the cosine problem.
* Masking equals the direct computation on truncated draws; jit equals no-jit.
* Bad input raises problems.ParameterError naming the parameter.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import reference_numpy as R
import xtrap

D, MAX_B, MAX_K = 5, 4, 3
LAM = R.LAM
QUAD, NP_QUAD, Q, X_STAR, X0 = R.rotated_quadratic(777)
COS = R.make_cosine(dim=D, a=1.0, b=3.0, noise_std=0.5)


def run_apply(config, prob, hyper, keys, x0=None, max_b=MAX_B, max_k=MAX_K):
    """Iterate jitted xtrap.apply on xtrap.draw(config, prob, key) for each key; the list of states."""
    draws = R.draws_many(config, prob, keys, max_b, max_k)
    s = xtrap.init(jnp.asarray(prob.x0 if x0 is None else x0), max_k)
    out = []
    for dr in draws:
        s = R.japply(config, s, prob, R.to_draws(dr), hyper)
        out.append(s)
    return out


def maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# ---------------------------------------------------------------------------------------------
# gamma = 0 reductions
# ---------------------------------------------------------------------------------------------

MOMENTA = {"plain": dict(momentum=0.0), "heavy_ball": dict(momentum=0.7), "nesterov": dict(momentum=0.7,
                                                                                          nesterov=True)}
ZERO_EXTRAP = {
    "extrap_sgd": lambda **kw: xtrap.extrap_sgd(extrap_lr=0.0, **kw),
    "extrap_sgd_same": lambda **kw: xtrap.extrap_sgd(extrap_lr=0.0, same_batch=True, **kw),
    "global": lambda **kw: xtrap.global_extrap_sgd(extrap_lr=0.0, **kw),
    "past_averaged": lambda **kw: xtrap.past_extrap(extrap_lr=0.0, **kw),
    "past_local": lambda **kw: xtrap.past_extrap(extrap_lr=0.0, source="local", **kw),
    "noise_gaussian": lambda **kw: xtrap.noise_extrap(extrap_lr=0.0, law="gaussian", **kw),
    "noise_ball": lambda **kw: xtrap.noise_extrap(extrap_lr=0.0, law="ball", **kw),
    "noise_sphere": lambda **kw: xtrap.noise_extrap(extrap_lr=0.0, law="sphere", **kw),
    "sam_same": lambda **kw: xtrap.sam(rho=0.0, **kw),
    "sam_fresh": lambda **kw: xtrap.sam(rho=0.0, same_batch=False, **kw),
    "usam_same": lambda **kw: xtrap.usam(rho=0.0, **kw),
    "usam_fresh": lambda **kw: xtrap.usam(rho=0.0, same_batch=False, **kw),
}


@pytest.mark.slow
@pytest.mark.parametrize("mom", list(MOMENTA))
@pytest.mark.parametrize("name", list(ZERO_EXTRAP))
def test_zero_extrapolation_is_sgd(name, mom):
    """THEORY.md §1.6: gamma = 0 is mini-batch SGD with batch Kb, under the same key (the update
    batch comes from k_update whatever the direction)."""
    kw = dict(lr=xtrap.step_decay(0.3, 0.5, 4), batch=3, workers=2, **MOMENTA[mom])
    method = ZERO_EXTRAP[name](**kw)
    baseline = xtrap.sgd(**kw)
    assert method.config.base == baseline.config.base
    keys = jax.random.split(jax.random.key(31), 10)
    for prob in (QUAD, COS):
        got = run_apply(method.config, prob, method.hyper, keys)
        want = run_apply(baseline.config, prob, baseline.hyper, keys)
        for s, w in zip(got, want):
            assert maxdiff(s.x, w.x) <= 1e-15 * max(1.0, float(np.max(np.abs(np.asarray(w.x)))))
            assert maxdiff(s.buf, w.buf) <= 1e-15 * max(1.0, float(np.max(np.abs(np.asarray(w.buf)))))
        assert maxdiff(got[-1].x, prob.x0) > 1e-2  # the iterates did move
    # and the extrapolation step is not inert: a positive step changes the path
    if name.startswith(("sam", "usam")):
        other = method.replace(rho=0.3)
    else:
        other = method.replace(extrap_lr=0.3)
    got = run_apply(other.config, QUAD, other.hyper, keys)
    want = run_apply(baseline.config, QUAD, baseline.hyper, keys)
    assert maxdiff(got[-1].x, want[-1].x) > 1e-4


@pytest.mark.parametrize("mom", list(MOMENTA))
@pytest.mark.parametrize("prob_name", ["quadratic", "cosine"])
def test_k_workers_equal_one_worker_with_batch_kb(prob_name, mom):
    """No extrapolation: K workers of local batch b == one worker of batch K*b on the same samples
    (the K*b batch is the concatenation of the workers' first b samples)."""
    prob = QUAD if prob_name == "quadratic" else COS
    K, b = 2, 3
    m_k = xtrap.sgd(lr=0.2, batch=b, workers=K, **MOMENTA[mom])
    m_1 = xtrap.sgd(lr=0.2, batch=K * b, workers=1, **MOMENTA[mom])
    keys = jax.random.split(jax.random.key(32), 10)
    draws = R.draws_many(m_k.config, prob, keys, MAX_B, MAX_K)
    s_k, s_1 = xtrap.init(jnp.asarray(prob.x0), MAX_K), xtrap.init(jnp.asarray(prob.x0), 1)
    for dr in draws:
        xi = dr[1][:K, :b].reshape(1, K * b, D)
        s_k = R.japply(m_k.config, s_k, prob, R.to_draws(dr), m_k.hyper)
        s_1 = R.japply(m_1.config, s_1, prob, xtrap.Draws(None, jnp.asarray(xi), None), m_1.hyper)
        assert maxdiff(s_k.x, s_1.x) <= 1e-14 * max(1.0, float(np.max(np.abs(np.asarray(s_1.x)))))
    assert maxdiff(s_k.x, prob.x0) > 1e-2


# ---------------------------------------------------------------------------------------------
# Masking == direct computation on truncated draws
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["none", "local", "local_same", "global", "past", "past_local", "gaussian",
                                     "ball", "sphere", "sam", "usam_same"])
def test_masking_equals_truncated_draws(variant):
    """apply with K < K_max, b < b_max (masked) == apply on draws truncated to [:K, :b] with K_max = K."""
    direction = variant.split("_")[0]
    config = xtrap.Config(direction=direction, base="nesterov", same_batch=variant.endswith("same"),
                          past_source="local" if variant == "past_local" else "averaged")
    K, b = 2, 3
    hyper = xtrap.make_hyper(lr=0.2, extrap_lr=0.15, rho=0.2, momentum=0.5, batch=b, workers=K)
    keys = jax.random.split(jax.random.key(33), 10)
    draws = R.draws_many(config, COS, keys, MAX_B, MAX_K)
    s_m, s_t = xtrap.init(jnp.asarray(COS.x0), MAX_K), xtrap.init(jnp.asarray(COS.x0), K)
    for dr in draws:
        cut = (None if dr[0] is None else dr[0][:K, :b], dr[1][:K, :b], None if dr[2] is None else dr[2][:K])
        s_m = R.japply(config, s_m, COS, R.to_draws(dr), hyper)
        s_t = R.japply(config, s_t, COS, R.to_draws(cut), hyper)
        scale = max(1.0, float(np.max(np.abs(np.asarray(s_t.x)))))
        assert maxdiff(s_m.x, s_t.x) <= 1e-14 * scale
        assert maxdiff(s_m.buf, s_t.buf) <= 1e-14 * max(1.0, float(np.max(np.abs(np.asarray(s_t.buf)))))


# ---------------------------------------------------------------------------------------------
# jit == no jit
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("config", [xtrap.Config("local", "nesterov"),
                                    xtrap.Config("past", "heavy_ball", past_source="local"),
                                    xtrap.Config("sam", "sgd", same_batch=True), xtrap.Config("sphere", "nesterov")],
                         ids=["local", "past_local", "sam", "sphere"])
def test_jit_equals_no_jit_apply(config):
    hyper = xtrap.make_hyper(lr=0.2, extrap_lr=0.15, rho=0.2, momentum=0.5, batch=3, workers=2)
    keys = jax.random.split(jax.random.key(34), 10)
    jitted = run_apply(config, COS, hyper, keys)
    draws = R.draws_many(config, COS, keys, MAX_B, MAX_K)
    s = xtrap.init(jnp.asarray(COS.x0), MAX_K)
    with jax.disable_jit():
        for dr, j in zip(draws, jitted):
            s = xtrap.apply(config, s, COS, R.to_draws(dr), hyper)
            assert maxdiff(s.x, j.x) <= 1e-12 * max(1.0, float(np.max(np.abs(np.asarray(j.x)))))


@pytest.mark.slow
def test_jit_equals_no_jit_run():
    method = xtrap.extrap_sgd(lr=0.2, extrap_lr=0.1, momentum=0.5, nesterov=True, batch=[2, 3], workers=2)
    key = jax.random.key(35)  # a sweep of two batch sizes: the vmapped chunk runs un-jitted too
    with jax.disable_jit():
        slow = xtrap.run(QUAD, method, steps=2, seeds=1, key=key, record_every=1, iterates=True)
    fast = xtrap.run(QUAD, method, steps=2, seeds=1, key=key, record_every=1, iterates=True)
    for k in ("iterates", "loss", "grad_norm2", "dist", "avg_loss", "avg_grad_norm2"):
        assert maxdiff(slow[k], fast[k]) <= 1e-12 * max(1.0, float(np.max(np.abs(fast[k]))))
    assert maxdiff(fast["iterates"][:, :, -1], X0) > 1e-2


# ---------------------------------------------------------------------------------------------
# Local == global on quadratics (§1.6), not on a nonconvex problem
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("base", ["sgd", "heavy_ball"])
def test_local_equals_global_on_quadratic_only(base):
    hyper = xtrap.make_hyper(lr=0.25, extrap_lr=0.3, momentum=0.6 if base != "sgd" else 0.0, batch=2, workers=3)
    local, glob = xtrap.Config("local", base), xtrap.Config("global", base)
    keys = jax.random.split(jax.random.key(36), 12)
    # the two configurations draw the same samples
    for dl, dg in zip(R.draws_many(local, QUAD, keys[:2], MAX_B, MAX_K), R.draws_many(glob, QUAD, keys[:2], MAX_B,
                                                                                       MAX_K)):
        for a, b in zip(dl[:2], dg[:2]):
            np.testing.assert_array_equal(a, b)
    a, b = run_apply(local, QUAD, hyper, keys), run_apply(glob, QUAD, hyper, keys)
    for sa, sb in zip(a, b):
        assert maxdiff(sa.x, sb.x) <= 1e-13 * max(1.0, float(np.max(np.abs(np.asarray(sb.x)))))
    a, b = run_apply(local, COS, hyper, keys), run_apply(glob, COS, hyper, keys)
    assert maxdiff(a[-1].x, b[-1].x) > 1e-4  # 1e11 times the round-off level above
    # with one worker there is nothing to average: equal on the nonconvex problem too
    one = xtrap.make_hyper(lr=0.25, extrap_lr=0.3, momentum=0.6 if base != "sgd" else 0.0, batch=2, workers=1)
    a, b = run_apply(local, COS, one, keys), run_apply(glob, COS, one, keys)
    assert maxdiff(a[-1].x, b[-1].x) <= 1e-13 * max(1.0, float(np.max(np.abs(np.asarray(b[-1].x)))))


# ---------------------------------------------------------------------------------------------
# NI mean path (§A1): E over the noise of one step = the GD step on a quadratic
# ---------------------------------------------------------------------------------------------

N_MC = 4000


def one_step_samples(prob, method, seed: int) -> np.ndarray:
    res = xtrap.run(prob, method, steps=1, seeds=N_MC, seed=seed, record_every=1, iterates=True)
    return res["iterates"][:, 1, :]


@pytest.mark.slow
@pytest.mark.parametrize("law", xtrap.NOISE_LAWS)
def test_ni_mean_step_is_gd_on_quadratic(law):
    """Exact gradients (only the perturbation is random) for every law; with the stochastic oracle
    (additive zero-mean noise on top) for the Gaussian law."""
    eta, gamma = 0.3, 0.8
    gd = X0 - eta * NP_QUAD.grad(X0)
    for exact in ((True, False) if law == "gaussian" else (True,)):
        x1 = one_step_samples(QUAD, xtrap.noise_extrap(lr=eta, extrap_lr=gamma, law=law, exact=exact), seed=41)
        mean, se = x1.mean(0), x1.std(0, ddof=1) / math.sqrt(N_MC)
        assert np.all(se > 1e-4)  # the step really is random
        assert np.all(np.abs(mean - gd) <= 4 * se), (mean - gd) / se


def test_ni_mean_step_is_smoothed_on_cosine():
    """Negative control: on f = sum(a x^2/2 + b cos x), E sin(x - gamma Z) = sin(x) exp(-gamma^2/2) for
    Gaussian Z, so the mean NI step is x - eta(a x - b sin(x) e^{-gamma^2/2}), not the GD step."""
    eta, gamma, a, b = 0.3, 0.8, 1.0, 3.0
    x0 = np.asarray(COS.x0)
    x1 = one_step_samples(COS, xtrap.noise_extrap(lr=eta, extrap_lr=gamma, law="gaussian", exact=True), seed=42)
    mean, se = x1.mean(0), x1.std(0, ddof=1) / math.sqrt(N_MC)
    smoothed = x0 - eta * (a * x0 - b * np.sin(x0) * math.exp(-gamma**2 / 2))
    gd = x0 - eta * (a * x0 - b * np.sin(x0))
    assert np.all(np.abs(mean - smoothed) <= 4 * se), (mean - smoothed) / se
    assert np.max(np.abs(mean - gd) / se) > 20


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

BAD = {
    "lr": lambda: xtrap.make_hyper(lr=-0.1),
    "lr (sweep)": lambda: xtrap.sgd(lr=[0.1, -0.2]),
    "lr (schedule)": lambda: xtrap.extrap_sgd(lr=xtrap.step_decay(-0.1, 0.5, 3)),
    "momentum": lambda: xtrap.sgd(lr=0.1, momentum=1.0),
    "momentum ": lambda: xtrap.extrap_sgd(lr=0.1, momentum=[0.5, 1.2], nesterov=True),
    "batch": lambda: xtrap.sgd(lr=0.1, batch=0),
    "workers": lambda: xtrap.extrap_sgd(lr=0.1, workers=0),
    "extrap_lr": lambda: xtrap.extrap_sgd(lr=0.1, extrap_lr=-0.5),
    "rho": lambda: xtrap.sam(lr=0.1, rho=-0.05),
    "method": lambda: xtrap.make_method("adam", lr=0.1),
    "bogus": lambda: xtrap.make_method("extrap_sgd", lr=0.1, bogus=3),
    "same_batch": lambda: xtrap.Config(direction="none", same_batch=True),
    "direction": lambda: xtrap.Config(direction="sideways"),
    "law": lambda: xtrap.noise_extrap(law="cube"),
    "steps": lambda: xtrap.run(QUAD, xtrap.sgd(), steps=0),
    "dtype": lambda: xtrap.run(QUAD, xtrap.sgd(), steps=2, dtype="float16"),
    "x0": lambda: xtrap.run(QUAD, xtrap.sgd(), steps=2, x0=np.zeros(D + 1)),
}


@pytest.mark.parametrize("param", list(BAD))
def test_bad_input_names_the_parameter(param):
    with pytest.raises(problems.ParameterError, match=param.strip().split(" ")[0]):
        BAD[param]()


def test_batch_larger_than_finite_sum_rejected():
    """batch > n for a finite sum must raise; batch = n is admissible."""
    p = problems.make("least-squares", n=20)
    with pytest.raises(problems.ParameterError, match="batch"):
        xtrap.run(p, xtrap.sgd(lr=0.01, batch=p.n + 1), steps=1)
    xtrap.run(p, xtrap.sgd(lr=0.01, batch=p.n), steps=1)  # the boundary is admissible
