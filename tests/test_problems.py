"""Every problem family against its documented constants, minima, basins and oracle.

Each check recomputes what it asserts by an independent route (autodiff of the value, dense grids,
gradient descent, Monte Carlo with mean +- 4 standard errors, the component functions rewritten from
the documented formulas); nothing expected is copied from the code under test. Fixed seeds throughout.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import ndtr
from scipy.optimize import minimize_scalar

import problems

# name -> (family, parameters). 1-D and 2-D instances also get a dense-grid check of f*.
INSTANCES = {
    "quadratic-2d": ("quadratic", dict(dim=2, mu=0.2, L=3.0, sigma2=0.5, seed=1)),
    "quadratic-6d": ("quadratic", dict(dim=6, mu=0.0, L=2.0, spacing="linear", sigma2=2.0, seed=2)),
    "noisy-quadratic": ("noisy-quadratic", dict(dim=5, scale=0.3)),
    "least-squares-2d": ("least-squares", dict(dim=2, n=12, mu=0.3, L=2.0, noise=0.3, seed=1)),
    "least-squares-6d": ("least-squares", dict(dim=6, n=30, spacing="linear", noise=0.5, seed=2)),
    "two-basin-1d": ("two-basin", dict(dim=1, n=16, seed=1)),
    "two-basin-2d": ("two-basin", dict(dim=2, n=16, sharp_depth=1.5, seed=2)),
    "two-basin-3d": ("two-basin", dict(dim=3, n=8, spread=0.05, separation=4.0, c=3.0, seed=3)),
    "cosine-1d": ("cosine", dict(dim=1, b=-1.0, omega=4.0, noise=0.3)),
    "cosine-2d": ("cosine", dict(dim=2)),
    "logistic-2d": ("logistic", dict(dim=2, n=40, reg=0.5, label_noise=0.05, seed=1)),
    "logistic-5d": ("logistic", dict(dim=5, n=60, reg=0.1, seed=2)),
    "huber": ("huber", dict(L=2.0, D0=1.5, T=5, noise=0.2)),
}
_CACHE: dict[str, problems.Problem] = {}


def get(name: str) -> problems.Problem:
    if name not in _CACHE:
        family, kw = INSTANCES[name]
        _CACHE[name] = problems.make(family, **kw)
    return _CACHE[name]


ALL = list(INSTANCES)
FINITE = [k for k in ALL if INSTANCES[k][0] in ("least-squares", "two-basin", "logistic")]
ADDITIVE = [k for k in ALL if k not in FINITE]


def points(p: problems.Problem, count: int, seed: int, far: float = 0.0) -> np.ndarray:
    """Random points around the minima and the start (plus a few far away when ``far`` > 0)."""
    rng = np.random.default_rng(seed)
    xs = np.stack([np.asarray(m.x) for m in p.minima] + [np.asarray(p.x0)])
    center = xs.mean(axis=0)
    radius = float(np.max(np.linalg.norm(xs - center, axis=1))) + 1.0
    out = center + radius * rng.standard_normal((count, p.dim))
    if far > 0:
        out[: count // 4] *= far
    return out


# ---- jitted evaluators: the problem is an argument, so each family/shape compiles once ---------------------
_value = jax.jit(jax.vmap(lambda p, x: p.value(x), in_axes=(None, 0)))
_grad = jax.jit(jax.vmap(lambda p, x: p.grad(x), in_axes=(None, 0)))
_autograd = jax.jit(jax.vmap(lambda p, x: jax.grad(p.value)(x), in_axes=(None, 0)))
_hess = jax.jit(jax.vmap(lambda p, x: p.hessian(x), in_axes=(None, 0)))
_autohess = jax.jit(jax.vmap(lambda p, x: jax.hessian(p.value)(x), in_axes=(None, 0)))
_basin = jax.jit(jax.vmap(lambda p, x: p.basin(x), in_axes=(None, 0)))
_sample_grads = jax.jit(jax.vmap(lambda p, x, i: p.sample_grad(x, i), in_axes=(None, None, 0)))


def grad_scale(p: problems.Problem, x: np.ndarray) -> np.ndarray:
    """A natural size for round-off in the gradient at x: L * (1 + |x|) per point."""
    return float(p.L) * (1.0 + np.linalg.norm(x, axis=-1))


@pytest.mark.parametrize("name", ALL)
def test_grad_is_the_gradient_of_value(name: str) -> None:
    p = get(name)
    x = points(p, 64, seed=1, far=3.0)
    g, ga = np.asarray(_grad(p, x)), np.asarray(_autograd(p, x))
    err = np.linalg.norm(g - ga, axis=1)
    assert np.all(err <= 1e-12 * (np.linalg.norm(ga, axis=1) + grad_scale(p, x))), err.max()


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_hessian_is_bounded_by_L(name: str) -> None:
    p = get(name)
    x = points(p, 64, seed=2, far=3.0)
    if INSTANCES[name][0] == "huber":
        x = x[np.abs(np.abs(x[:, 0]) - float(p.kink)) > 1e-9]  # f'' jumps at the kink
    h, ha = np.asarray(_hess(p, x)), np.asarray(_autohess(p, x))
    np.testing.assert_allclose(h, ha, rtol=0, atol=1e-10 * float(p.L))
    eig = np.linalg.eigvalsh(ha)
    assert np.max(np.abs(eig)) <= float(p.L) + 1e-9, (np.max(np.abs(eig)), float(p.L))


def _witness(p: problems.Problem) -> np.ndarray:
    """A point where the documented theory says |eig(Hessian)| reaches L."""
    if p.name in ("quadratic", "noisy-quadratic", "least-squares"):
        return np.asarray(p.x0) + 0.7  # constant Hessian
    if p.name in ("logistic", "huber"):
        return np.zeros(p.dim)
    if p.name == "cosine":
        # phi'' = a - b w^2 cos(w s) is largest where b cos(w s) = -|b|
        return np.full(p.dim, math.pi / float(p.omega)) if float(p.b) > 0 else np.zeros(p.dim)
    assert p.name == "two-basin"  # maximise |psi''| along s: dense grid, then a bounded scalar search
    h11 = jax.jit(jax.vmap(lambda s: jax.hessian(p.value)(jnp.zeros(p.dim).at[0].set(s))[0, 0]))
    s = np.linspace(-8, 8, 16001)
    k = int(np.argmax(np.abs(np.asarray(h11(s)))))
    res = minimize_scalar(lambda t: -abs(float(h11(np.array([t]))[0])), bounds=(s[k - 1], s[k + 1]),
                          method="bounded", options=dict(xatol=1e-12))
    x = np.zeros(p.dim)
    x[0] = res.x
    return x


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_L_is_attained(name: str) -> None:
    p = get(name)
    x = _witness(p)
    top = np.max(np.abs(np.linalg.eigvalsh(np.asarray(_autohess(p, x[None]))[0])))
    assert abs(top - float(p.L)) <= 1e-8 * float(p.L), (top, float(p.L))


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_minima_are_minima(name: str) -> None:
    p = get(name)
    xs = np.stack([np.asarray(m.x) for m in p.minima])
    g = np.asarray(_grad(p, xs))
    assert np.all(np.linalg.norm(g, axis=1) <= 1e-10), np.abs(g).max()
    ha = np.asarray(_autohess(p, xs))
    vals = np.asarray(_value(p, xs))
    np.testing.assert_allclose([float(m.value) for m in p.minima], vals, rtol=1e-12, atol=1e-14)
    rng = np.random.default_rng(3)
    for m, h, v in zip(p.minima, ha, vals):
        np.testing.assert_allclose(np.asarray(m.hessian), h, rtol=0, atol=1e-10 * float(p.L))
        low = np.linalg.eigvalsh(h)[0]
        assert low >= -1e-12 * float(p.L), "a listed minimum must have a positive semidefinite Hessian"
        # no lower value on a small sphere around it (strictly higher where the Hessian is definite)
        u = rng.standard_normal((64, p.dim))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        around = np.asarray(_value(p, np.asarray(m.x) + 1e-4 * u))
        assert np.all(around > v) if low > 1e-6 * float(p.L) else np.all(around >= v - 1e-15 * (1 + abs(v)))
    assert float(p.f_star) == pytest.approx(vals.min(), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", ALL)
def test_f_star_is_a_lower_bound(name: str) -> None:
    p = get(name)
    v = np.asarray(_value(p, points(p, 4096, seed=4, far=5.0)))
    assert np.all(v >= float(p.f_star) - 1e-12 * (1 + abs(float(p.f_star))))


GRID = {  # box per 1-D/2-D instance, wide enough that the grid minimiser must be interior
    "quadratic-2d": (-2.0, 2.0), "least-squares-2d": (-2.0, 2.0), "two-basin-1d": (-6.0, 6.0),
    "two-basin-2d": (-6.0, 6.0), "cosine-1d": (-5.0, 5.0), "cosine-2d": (-4.0, 4.0),
    "logistic-2d": (-4.0, 12.0), "huber": (-2.0, 2.0),
}


@pytest.mark.parametrize("name", list(GRID))
def test_f_star_by_dense_grid(name: str) -> None:
    p = get(name)
    lo, hi = GRID[name]
    num = 200001 if p.dim == 1 else 1201
    axis = np.linspace(lo, hi, num)
    h = axis[1] - axis[0]
    mesh = axis[:, None] if p.dim == 1 else np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    vals = np.concatenate([np.asarray(_value(p, c)) for c in np.array_split(mesh, max(1, mesh.shape[0] // 200000))])
    k = int(np.argmin(vals))
    assert np.all(mesh[k] > lo + h / 2) and np.all(mesh[k] < hi - h / 2), "the grid minimiser must be interior"
    fs = float(p.f_star)
    assert vals[k] >= fs - 1e-12 * (1 + abs(fs))
    # L-smoothness: the grid point nearest x* is within h/2 per coordinate of it
    assert vals[k] <= fs + float(p.L) / 2 * p.dim * (h / 2) ** 2 + 1e-12


@pytest.mark.parametrize("name", ALL)
def test_basin_of_each_minimum_is_its_index(name: str) -> None:
    p = get(name)
    xs = np.stack([np.asarray(m.x) for m in p.minima])
    np.testing.assert_array_equal(np.asarray(_basin(p, xs)), np.arange(len(p.minima)))
    d = jax.jit(jax.vmap(lambda p, x: p.distance_to_minimum(x), in_axes=(None, 0)))
    x = points(p, 32, seed=5)
    brute = np.min(np.linalg.norm(x[:, None, :] - xs[None, :, :], axis=-1), axis=1)
    np.testing.assert_allclose(np.asarray(d(p, x)), brute, rtol=1e-12, atol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("name", [k for k in ALL if INSTANCES[k][0] in ("two-basin", "cosine")])
def test_basin_agrees_with_gradient_descent(name: str) -> None:
    p = get(name)
    xs = np.stack([np.asarray(m.x) for m in p.minima])
    lo, hi = xs.min(axis=0) - 1.0, xs.max(axis=0) + 1.0
    x0 = lo + (hi - lo) * np.random.default_rng(6).random((128, p.dim))
    eta = 0.9 / float(p.L)  # below 1/L, s -> s - eta psi'(s) is increasing: GD cannot jump over a ridge

    @jax.jit
    def descend(p, x):
        return jax.lax.fori_loop(0, 10000, lambda _, z: z - eta * jax.vmap(p.grad)(z), x)

    xt = np.asarray(descend(p, x0))
    assert np.all(np.linalg.norm(np.asarray(_grad(p, xt)), axis=1) <= 1e-9)
    ended = np.argmin(np.linalg.norm(xt[:, None, :] - xs[None, :, :], axis=-1), axis=1)
    assert np.all(np.min(np.linalg.norm(xt[:, None, :] - xs[None, :, :], axis=-1), axis=1) <= 1e-8)
    np.testing.assert_array_equal(np.asarray(_basin(p, x0)), ended)
    assert len(set(ended.tolist())) > 1, "the test points should reach several minima"


# ---- the stochastic oracle ---------------------------------------------------------------------------------
def _draws(p: problems.Problem, x: np.ndarray, size: int, b: int, reps: int, seed: int) -> np.ndarray:
    mask = None if b == size else problems.prefix_mask(size, b)
    f = jax.jit(jax.vmap(lambda p, k: p.stochastic_grad(jnp.asarray(x), p.sample(k, size), mask), in_axes=(None, 0)))
    return np.asarray(f(p, jax.random.split(jax.random.key(seed), reps)))


def _per_sample_variance(p: problems.Problem, x: np.ndarray) -> float:
    """(1/n) sum_i |grad f_i(x) - grad f(x)|^2 from the per-sample gradients."""
    g = np.asarray(_sample_grads(p, jnp.asarray(x), jnp.arange(p.n)))
    return float(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)))


def _expected_variance(p: problems.Problem, x: np.ndarray, b: int) -> float:
    """THEORY.md §1.1 (V): sigma^2/b (additive noise), p_b sigma^2(x) (without replacement)."""
    if p.n is None:
        return float(p.sigma2) / b
    return (p.n - b) / (b * (p.n - 1)) * _per_sample_variance(p, x) if p.n > 1 else 0.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("size,b", [(1, 1), (8, 3), (8, 8)])
def test_oracle_is_unbiased_with_the_stated_variance(name: str, size: int, b: int) -> None:
    p = get(name)
    x = points(p, 1, seed=7)[0]
    reps = 6000
    g = _draws(p, x, size, b, reps, seed=8)
    true = np.asarray(p.grad(jnp.asarray(x)))
    se = g.std(axis=0, ddof=1) / math.sqrt(reps)
    assert np.all(np.abs(g.mean(axis=0) - true) <= 4 * se + 1e-12 * grad_scale(p, x)), (g.mean(axis=0) - true, se)
    u = np.random.default_rng(9).standard_normal(p.dim)
    proj = g @ u
    assert abs(proj.mean() - true @ u) <= 4 * proj.std(ddof=1) / math.sqrt(reps) + 1e-12 * grad_scale(p, x)
    dev = np.sum((g - true) ** 2, axis=1)
    expect = _expected_variance(p, x, b)
    se = dev.std(ddof=1) / math.sqrt(reps)
    assert abs(dev.mean() - expect) <= 4 * se + 1e-12 * (1 + expect), (dev.mean(), expect, se)


@pytest.mark.slow
@pytest.mark.parametrize("name", FINITE)
def test_component_functions_match_the_documented_formulas(name: str) -> None:
    """f = mean_i f_i with f_i rewritten here from each module's docstring; sample_grad = grad f_i."""
    p = get(name)

    def f_i(x, i):
        if p.name == "least-squares":
            return 0.5 * (jnp.asarray(p.A)[i] @ x - jnp.asarray(p.y)[i]) ** 2
        if p.name == "logistic":
            margin = jnp.asarray(p.y)[i] * (jnp.asarray(p.A)[i] @ x)
            return jnp.logaddexp(0.0, -margin) + p.reg * jnp.sum(x**2 / (1 + x**2))
        t = x[0] - jnp.asarray(p.shifts)[i]
        wells = sum(-h * jnp.exp(-k * (t - c) ** 2 / (2 * h)) for c, k, h in zip(p.centers, p.curvatures, p.depths))
        (cs, cf), (ws, wf) = p.centers, np.sqrt(np.asarray(p.depths) / np.asarray(p.curvatures))
        walls = 0.5 * (cs - t) ** 2 * ndtr((cs - t) / (ws / 2)) + 0.5 * (t - cf) ** 2 * ndtr((t - cf) / (wf / 2))
        return wells + p.confinement * walls + p.c / 2 * jnp.sum((x[1:] - jnp.asarray(p.offsets)[i]) ** 2)

    idx = jnp.arange(p.n)
    for x in points(p, 8, seed=10, far=2.0):
        vals = jax.vmap(f_i, in_axes=(None, 0))(x, idx)
        assert float(p.value(x)) == pytest.approx(float(jnp.mean(vals)), rel=1e-12, abs=1e-13)
        gi = np.asarray(jax.vmap(jax.grad(f_i), in_axes=(None, 0))(x, idx))
        mine = np.asarray(jax.vmap(p.sample_grad, in_axes=(None, 0))(x, idx))
        np.testing.assert_allclose(mine, gi, rtol=1e-12, atol=1e-12 * grad_scale(p, x))
        assert float(p.sigma2_at(x)) == pytest.approx(_per_sample_variance(p, x), rel=1e-10, abs=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("name", [k for k in FINITE if INSTANCES[k][0] != "least-squares"])
def test_sigma2_is_a_global_bound(name: str) -> None:
    p = get(name)
    s2 = jax.jit(jax.vmap(lambda p, x: p.sigma2_at(x), in_axes=(None, 0)))
    v = np.asarray(s2(p, points(p, 2048, seed=11, far=10.0)))
    assert np.all(v <= float(p.sigma2) * (1 + 1e-12))
    if p.name == "two-basin":  # the bound is the supremum: grid + bounded search along s attains it
        s = np.linspace(-8, 8, 32001)
        line = lambda t: np.asarray(s2(p, np.pad(np.atleast_1d(t)[:, None], ((0, 0), (0, p.dim - 1)))))  # noqa: E731
        vs = line(s)
        assert vs.max() <= float(p.sigma2) * (1 + 1e-12)
        k = int(np.argmax(vs))
        res = minimize_scalar(lambda t: -float(line(t)[0]), bounds=(s[k - 1], s[k + 1]), method="bounded",
                              options=dict(xatol=1e-12))
        assert -res.fun == pytest.approx(float(p.sigma2), rel=1e-9)
