"""xtrap.run: seeds and sweeps, compile-once, divergence, float32, records, averages, chunking, files.

Per-step key contract (run.py): seed s of a run with ``key`` uses ``k_s = split(key, seeds)[s]``
(shared across grid points) and step t uses ``fold_in(k_s, t)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import reference_numpy as R
import xtrap
from xtrap.result import Result

D = 5
LAM = R.LAM
QUAD, NP_QUAD, Q, X_STAR, X0 = R.rotated_quadratic(4242)

EXTRAP = dict(extrap_lr=0.15, momentum=0.5, nesterov=True, batch=3, workers=2)
_jstep = jax.jit(xtrap.step, static_argnums=(0, 5, 6))


def loop_iterates(method, key, steps, max_batch, x0=X0, prob=QUAD, batch_mean=None):
    """A Python loop of single-seed steps with keys fold_in(key, t): iterates x_0..x_T. ``batch_mean`` defaults to
    what the docs promise xtrap.run draws: batch-mean draws on the quadratic (an additive Gaussian oracle) with
    stochastic gradients, per-sample draws otherwise; stated here, not read from the code under test."""
    if batch_mean is None:
        batch_mean = prob.name in ("quadratic", "noisy-quadratic", "cosine", "huber") and not method.config.exact
    s = xtrap.init(jnp.asarray(x0), int(np.max(method.hyper.workers)))
    xs = [np.asarray(s.x)]
    hyper = R.normalize_hyper(method.hyper)
    for t in range(steps):
        s = _jstep(method.config, s, prob, jax.random.fold_in(key, t), hyper, max_batch, batch_mean)
        xs.append(np.asarray(s.x))
    return np.array(xs)


def close(a, b, rel=1e-12):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    scale = max(1.0, float(np.nanmax(np.abs(b))))
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) <= rel * scale, np.nanmax(np.abs(a - b))


def same_arrays(r1: Result, r2: Result, ignore: tuple[str, ...] = ()) -> None:
    """Bit-for-bit equality of every array and coordinate; attributes equal but for the wall time (and ``ignore``)."""
    assert r1.data.keys() == r2.data.keys() and r1.dims == r2.dims
    for k in r1.data:
        assert r1[k].dtype == r2[k].dtype
        assert np.array_equal(r1[k], r2[k], equal_nan=r1[k].dtype.kind == "f"), k
    for k in r1.coords:
        np.testing.assert_array_equal(r1.coords[k], r2.coords[k])
    a1 = {k: v for k, v in r1.attrs.items() if k != "seconds" and k not in ignore}
    a2 = {k: v for k, v in r2.attrs.items() if k != "seconds" and k not in ignore}
    assert a1 == a2


# ---------------------------------------------------------------------------------------------
# seeds, keys, sweeps
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_vmap_over_seeds_equals_python_loop():
    method = xtrap.extrap_sgd(lr=0.2, **EXTRAP)
    key = jax.random.key(1)
    res = xtrap.run(QUAD, method, steps=10, seeds=3, key=key, record_every=1, iterates=True)
    assert res["iterates"].shape == (3, 11, D) and res.dims["iterates"] == ("seed", "record", "coord")
    for s, k_s in enumerate(jax.random.split(key, 3)):
        close(res["iterates"][s], loop_iterates(method, k_s, 10, 3))
    # the seeds really are different runs
    assert np.max(np.abs(res["iterates"][0, -1] - res["iterates"][1, -1])) > 1e-3
    # seed=n is key=jax.random.key(n)
    a = xtrap.run(QUAD, method, steps=10, seeds=3, seed=5, record_every=1)
    b = xtrap.run(QUAD, method, steps=10, seeds=3, key=jax.random.key(5), record_every=1)
    same_arrays(a, b, ignore=("seed",))  # attrs["seed"] says how the run was seeded: 5, or None for a key
    assert a.attrs["seed"] == 5 and b.attrs["seed"] is None


@pytest.mark.slow
def test_same_key_same_result_bitwise():
    method = xtrap.extrap_sgd(lr=[0.1, 0.2], **EXTRAP)
    key = jax.random.key(2)
    r1 = xtrap.run(QUAD, method, steps=15, seeds=3, key=key, record_every=5, iterates=True)
    r2 = xtrap.run(QUAD, method, steps=15, seeds=3, key=key, record_every=5, iterates=True)
    same_arrays(r1, r2)
    r3 = xtrap.run(QUAD, method, steps=15, seeds=3, key=jax.random.key(3), record_every=5, iterates=True)
    assert not np.array_equal(r1["loss"], r3["loss"])


@pytest.mark.slow
def test_lr_and_momentum_sweep_equals_separate_runs():
    """A 2-axis sweep (lr x momentum) equals the four separate runs (common random numbers), in C order."""
    key = jax.random.key(4)
    lrs, moms = [0.1, 0.25], [0.3, 0.6]
    kw = dict(extrap_lr=0.15, nesterov=True, batch=3, workers=2)
    res = xtrap.run(QUAD, xtrap.extrap_sgd(lr=lrs, momentum=moms, **kw), steps=12, seeds=2, key=key,
                    record_every=4, iterates=True)
    assert res.sweep_dims == ("lr", "momentum")
    assert res.dims["loss"] == ("lr", "momentum", "seed", "record")
    np.testing.assert_array_equal(res.coords["lr"], lrs)
    np.testing.assert_array_equal(res.coords["momentum"], moms)
    np.testing.assert_array_equal(res.coords["record"], [0, 4, 8, 12])
    for i, lr in enumerate(lrs):
        for j, m in enumerate(moms):
            one = xtrap.run(QUAD, xtrap.extrap_sgd(lr=lr, momentum=m, **kw), steps=12, seeds=2, key=key,
                            record_every=4, iterates=True)
            for k in ("iterates", "loss", "grad_norm2", "dist", "avg_loss", "avg_grad_norm2"):
                close(res[k][i, j], one[k])
    assert np.max(np.abs(res["iterates"][0, 0, 0, -1] - res["iterates"][1, 1, 0, -1])) > 1e-3


@pytest.mark.slow
def test_compile_once():
    """After a first run, new lr/momentum/extrap values, batch and worker values within the same
    maxima, a new x0 and another quadratic of the same dimension reuse the compiled function; a
    new horizon does not (negative control, so the counter can fail)."""
    steps = 17  # a horizon no other test uses
    m1 = xtrap.extrap_sgd(lr=[0.1, 0.2], extrap_lr=0.1, momentum=0.5, batch=[2, 4], workers=[1, 3],
                          nesterov=True)
    xtrap.run(QUAD, m1, steps=steps, seeds=2)
    count = xtrap.compiled_count()
    assert count >= 1
    m2 = xtrap.extrap_sgd(lr=[0.3, 0.05], extrap_lr=0.25, momentum=0.9, batch=[4, 1], workers=[3, 2],
                          nesterov=True)
    other = problems.make("quadratic", dim=D, L=3.0, mu=0.2, seed=9)
    xtrap.run(QUAD, m2, steps=steps, seeds=2)
    xtrap.run(other, m1, steps=steps, seeds=2, seed=7)
    xtrap.run(other, m2, steps=steps, seeds=2, x0=np.ones(D))
    assert xtrap.compiled_count() == count
    xtrap.run(QUAD, m1, steps=steps + 1, seeds=2)
    assert xtrap.compiled_count() == count + 1


# ---------------------------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------------------------


def exact_gd_path(eta: float, steps: int) -> np.ndarray:
    """x_t = x* + Q diag((1 - eta lam)^t) Q^T (x_0 - x*) (THEORY.md §A1), rows t = 0..steps."""
    c0 = Q.T @ (X0 - X_STAR)
    r = 1 - eta * LAM
    return X_STAR + (r[None, :] ** np.arange(steps + 1)[:, None] * c0[None, :]) @ Q.T


def test_divergence_flagged_with_its_step():
    """GD with eta = 1 > 2/L = 0.8 diverges along lambda = 2.5 (factor -1.5); eta = 0.5 converges."""
    steps, radius = 20, 50.0
    res = xtrap.run(QUAD, xtrap.sgd(lr=[0.5, 1.0], exact=True), steps=steps, seeds=2, record_every=1,
                    iterates=True, diverge_radius=radius)
    path = exact_gd_path(1.0, steps)
    dist = np.linalg.norm(path - X0, axis=1)
    assert np.min(np.abs(dist - radius)) > 1e-6 * radius  # no borderline step
    first = int(np.argmax(dist > radius))
    assert first > 0
    assert (res["diverged"][1] == True).all() and (res["diverged_step"][1] == first).all()  # noqa: E712
    for k in ("loss", "grad_norm2", "dist"):
        assert np.isnan(res[k][1, :, first:]).all()
        assert np.isfinite(res[k][1, :, :first]).all()
    assert np.isnan(res["iterates"][1, :, first:]).all()
    close(res["iterates"][1, 0, :first], path[:first])
    losses = np.array([NP_QUAD.value(x) for x in path[:first]])
    close(res["loss"][1, 0, :first], losses)
    assert np.isnan(res["avg_loss"][1]).all() and np.isnan(res["avg_grad_norm2"][1]).all()
    assert (res["basin"][1] == -1).all()
    # the converging grid point is unaffected: finite, exact, and equal to a run of its own
    good = exact_gd_path(0.5, steps)
    assert not res["diverged"][0].any() and (res["diverged_step"][0] == -1).all()
    close(res["iterates"][0, 0], good)
    close(res["avg_loss"][0], np.full(2, np.mean([NP_QUAD.value(x) for x in good[:-1]])))
    alone = xtrap.run(QUAD, xtrap.sgd(lr=0.5, exact=True), steps=steps, seeds=2, record_every=1,
                      diverge_radius=radius)
    for k in ("loss", "grad_norm2", "dist", "avg_loss", "avg_grad_norm2"):
        close(res[k][0], alone[k])
    assert (res["basin"][0] == 0).all()


def test_divergence_default_radius():
    """Default radius 1e8 (1 + ||x_0||) (run's docstring): GD with eta = 1 grows like 1.5^t along
    lambda = 2.5; the flagged step is the first t with ||x_t - x_0|| beyond it, from the exact path."""
    steps = 80
    res = xtrap.run(QUAD, xtrap.sgd(lr=1.0, exact=True), steps=steps, seeds=1, record_every=1)
    radius = 1e8 * (1 + np.linalg.norm(X0))
    dist = np.linalg.norm(exact_gd_path(1.0, steps) - X0, axis=1)
    assert np.min(np.abs(dist - radius)) > 1e-6 * radius
    first = int(np.argmax(dist > radius))
    assert 0 < first < steps
    assert res["diverged"][0] and res["diverged_step"][0] == first
    assert np.isfinite(res["loss"][0, :first]).all() and np.isnan(res["loss"][0, first:]).all()


# ---------------------------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------------------------


def test_float32_deterministic_close_to_float64():
    """Exact-gradient EG in float32 vs float64. Tolerance 1e-5 relative: float32 unit round-off is
    6e-8; 30 steps of a contraction (|r| < 1) accumulate at most ~30 d u ~ 1e-5 in the worst case."""
    method = xtrap.extragradient(lr=0.5, extrap_lr=0.2)
    r64 = xtrap.run(QUAD, method, steps=30, record_every=1, iterates=True)
    r32 = xtrap.run(QUAD, method, steps=30, record_every=1, iterates=True, dtype="float32")
    assert r32["loss"].dtype == np.float32 and r32["iterates"].dtype == np.float32
    assert r32.attrs["dtype"] == "float32"
    close(r32["iterates"], r64["iterates"], rel=1e-5)
    close(r32["loss"], r64["loss"], rel=1e-5)
    assert not np.array_equal(r32["iterates"].astype(np.float64), r64["iterates"])  # really float32


@pytest.mark.slow
def test_float32_stochastic_matches_reference():
    """A stochastic float32 run against the float64 NumPy reference fed with the float32 draws
    (float32 samples differ from float64 ones, so the float64 *run* is not a pathwise comparison).
    Tolerance 1e-5 relative, for the same reason as above (10 steps)."""
    method = xtrap.extrap_sgd(lr=0.2, **EXTRAP)
    key = jax.random.key(6)
    res = xtrap.run(QUAD, method, steps=10, seeds=1, key=key, record_every=1, iterates=True, dtype="float32",
                    batch_draw="per-sample")  # the batch-mean contract: tests/test_reference.py
    assert res["iterates"].dtype == np.float32
    q32 = jax.tree_util.tree_map(
        lambda a: jnp.asarray(a).astype(jnp.float32) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating)
        else a, QUAD)
    k_s = jax.random.split(key, 1)[0]
    keys = jax.vmap(lambda t: jax.random.fold_in(k_s, t))(jnp.arange(10))
    draws = R.draws_many(method.config, q32, keys, 3, 2)
    rs = R.ref_init(np.asarray(X0, np.float32).astype(np.float64), 2)
    xs = [rs.x]
    for dr in draws:
        dr = tuple(None if a is None else a.astype(np.float64) for a in dr)
        rs = R.ref_apply(R.cfg_dict(method.config), rs, NP_QUAD, dr, R.hyper_np(method.hyper))
        xs.append(rs.x)
    close(res["iterates"][0], np.array(xs), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# records, averages, chunking, files
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_iterates_recorded_at_record_steps():
    method = xtrap.extrap_sgd(lr=0.2, **EXTRAP)
    key = jax.random.key(7)
    res = xtrap.run(QUAD, method, steps=12, seeds=2, key=key, record_every=3, iterates=True)
    rec = [0, 3, 6, 9, 12]
    np.testing.assert_array_equal(res.coords["record"], rec)
    assert res["iterates"].shape == (2, 5, D)
    for s, k_s in enumerate(jax.random.split(key, 2)):
        path = loop_iterates(method, k_s, 12, 3)
        close(res["iterates"][s], path[rec])
        close(res["loss"][s], [NP_QUAD.value(x) for x in path[rec]])
    no_it = xtrap.run(QUAD, method, steps=12, seeds=2, key=key, record_every=3)
    assert "iterates" not in no_it.data
    close(no_it["loss"], res["loss"])


@pytest.mark.slow
def test_record_steps_when_record_every_does_not_divide_steps():
    """run's docstring: "record traces every so many steps ...; the final step T is always recorded".
    With T = 10 and record_every = 3 the records are x_0, x_3, x_6, x_9 and x_10."""
    method = xtrap.extrap_sgd(lr=0.2, **EXTRAP)
    key = jax.random.key(7)
    res = xtrap.run(QUAD, method, steps=10, seeds=1, key=key, record_every=3, iterates=True)
    path = loop_iterates(method, jax.random.split(key, 1)[0], 10, 3)
    np.testing.assert_array_equal(res.coords["record"], [0, 3, 6, 9, 10])
    close(res["iterates"][0], path[[0, 3, 6, 9, 10]])


@pytest.mark.slow
def test_averages_over_every_step():
    """avg_grad_norm2 (avg_loss) = mean over ALL t < T of ||grad f(x_t)||^2 (f(x_t)), also when thinned."""
    method = xtrap.extrap_sgd(lr=[0.1, 0.3], **EXTRAP)
    key = jax.random.key(8)
    steps = 23
    full = xtrap.run(QUAD, method, steps=steps, seeds=3, key=key, record_every=1)
    np.testing.assert_array_equal(full.coords["record"], np.arange(steps + 1))
    close(full["avg_grad_norm2"], full["grad_norm2"][..., :steps].mean(-1))
    close(full["avg_loss"], full["loss"][..., :steps].mean(-1))
    # not the mean including x_T
    assert np.max(np.abs(full["avg_grad_norm2"] - full["grad_norm2"].mean(-1))) > 1e-6
    thin = xtrap.run(QUAD, method, steps=steps, seeds=3, key=key, record_every=5)  # 5 does not divide 23
    close(thin["avg_grad_norm2"], full["avg_grad_norm2"])
    close(thin["avg_loss"], full["avg_loss"])
    close(thin["grad_norm2"], full["grad_norm2"][..., thin.coords["record"]])
    assert thin.coords["record"][-1] == steps


def _mb_for_chunk(chunk: int, n_rec: int, iterates: bool, max_batch: int, max_workers: int) -> float:
    """max_memory_mb that fits exactly ``chunk`` runs, by the documented per-run estimate in run.py."""
    per_run = 8 * (n_rec * (3 + (D if iterates else 0)) + 4 * max_workers * (max_batch + 4) * D)
    return (chunk + 0.5) * per_run / 2**20


@pytest.mark.slow
def test_chunking(tmp_path):
    """Several chunks (the last one padded) give the same result as one chunk.

    Bit for bit where the compiled chunk has the same shape (chunks of one run each vs the same
    grid point run alone in chunks of one). Across chunk *sizes* XLA compiles the vmapped step for
    a different batch dimension and may round a reduction differently: there the check is equality
    to 1e-15 relative (a few ulp), integers and flags exactly.
    """
    method = xtrap.extrap_sgd(lr=[0.1, 0.25], **EXTRAP)
    key = jax.random.key(9)
    kw = dict(steps=12, seeds=3, key=key, record_every=2, iterates=True)
    one = xtrap.run(QUAD, method, **kw)
    tiny = xtrap.run(QUAD, method, max_memory_mb=1e-6, **kw)  # one run per chunk: 6 chunks
    padded = xtrap.run(QUAD, method, max_memory_mb=_mb_for_chunk(4, 7, True, 3, 2), **kw)  # 4 + 4 (padded)
    for r in (tiny, padded):
        assert r.attrs["complete"] and r["done"].all()
        for k in one.data:
            if one[k].dtype.kind == "f":
                close(r[k], one[k], rel=1e-15)
            else:
                np.testing.assert_array_equal(r[k], one[k])
    alone = xtrap.run(QUAD, xtrap.extrap_sgd(lr=0.25, **EXTRAP), max_memory_mb=1e-6, **kw)
    for k in alone.data:
        assert np.array_equal(tiny[k][1], alone[k], equal_nan=alone[k].dtype.kind == "f"), k
    # out= after every chunk: the file holds the final result
    path = tmp_path / "chunked.npz"
    again = xtrap.run(QUAD, method, max_memory_mb=1e-6, out=path, **kw)
    assert Result.load(path).equals(again)
    same_arrays(again, tiny)


def test_save_load_roundtrip(tmp_path):
    res = xtrap.run(QUAD, xtrap.sgd(lr=[0.5, 1.0], exact=True), steps=20, seeds=2, record_every=3,
                    iterates=True, diverge_radius=50.0)
    assert np.isnan(res["loss"]).any()  # NaNs and integer arrays must survive too
    path = res.save(tmp_path / "sub" / "r.npz")
    back = Result.load(path)
    assert back.equals(res)
    for k in res.data:
        assert back[k].dtype == res[k].dtype
    assert back.sweep_dims == ("lr",)
    changed = Result.load(path)
    changed.data["loss"] = changed.data["loss"].copy()
    changed.data["loss"][0, 0, 0] += 1e-12
    assert not changed.equals(res)  # equals can fail


def test_out_writes_loadable_file(tmp_path):
    path = tmp_path / "run.npz"
    res = xtrap.run(QUAD, xtrap.extrap_sgd(lr=0.2, **EXTRAP), steps=8, seeds=2, seed=3, out=path)
    assert path.exists()
    assert Result.load(path).equals(res)
    assert not list(tmp_path.glob("*.tmp.npz"))


@pytest.mark.parametrize("bad", [dict(steps=0), dict(seeds=0), dict(record_every=0), dict(max_memory_mb=0.0),
                                 dict(diverge_radius=-1.0)])
def test_run_rejects_bad_arguments(bad):
    kw = dict(steps=5, seeds=1)
    kw.update(bad)
    name = next(iter(bad))
    with pytest.raises(problems.ParameterError, match=name):
        xtrap.run(QUAD, xtrap.sgd(lr=0.1), **kw)
