"""Family-specific claims: closed-form instances, exact enumeration of batches, hypothesis properties
over the admissible parameters, parameter errors and compile-once behaviour."""

from __future__ import annotations

import doctest
import itertools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize
from scipy.special import ndtr

import problems
from problems import ParameterError


def _psd_minima_ok(p: problems.Problem) -> None:
    """Cheap eager checks shared by the property tests: stationarity, PSD curvature, basins, bounds."""
    for j, m in enumerate(p.minima):
        x = jnp.asarray(m.x)
        assert float(jnp.linalg.norm(p.grad(x))) <= 1e-10 * (1 + float(p.L))
        assert np.linalg.eigvalsh(np.asarray(p.hessian(x)))[0] >= -1e-12 * float(p.L)
        assert int(p.basin(x)) == j
        assert float(m.value) >= float(p.f_star) - 1e-12 * (1 + abs(float(p.f_star)))


# ---- finite sums: exact enumeration of batches -------------------------------------------------------------
SMALL = {
    "least-squares": dict(dim=2, n=6, noise=0.7, seed=3),
    "two-basin": dict(dim=2, n=6, spread=0.05, seed=3),
    "logistic": dict(dim=2, n=6, reg=0.3, label_noise=0.3, seed=0),
}


@pytest.mark.slow
@pytest.mark.parametrize("family", list(SMALL))
def test_batch_moments_by_enumeration(family: str) -> None:
    p = problems.make(family, **SMALL[family])
    n, b = p.n, 2
    x = jnp.asarray(np.random.default_rng(0).standard_normal(p.dim))
    true = np.asarray(p.grad(x))
    per = np.asarray(jax.vmap(p.sample_grad, in_axes=(None, 0))(x, jnp.arange(n)))
    np.testing.assert_allclose(per.mean(axis=0), true, rtol=1e-13, atol=1e-14)
    s2 = float(np.mean(np.sum((per - per.mean(axis=0)) ** 2, axis=1)))
    p_b = (n - b) / (b * (n - 1))
    assert problems.without_replacement_factor(n, b) == pytest.approx(p_b, rel=1e-15)
    assert float(p.batch_variance(x, b)) == pytest.approx(p_b * s2, rel=1e-12)
    sg = jax.vmap(p.stochastic_grad, in_axes=(None, 0, None))
    subsets = jnp.asarray(list(itertools.combinations(range(n), b)))
    g = np.asarray(sg(x, subsets, None))
    np.testing.assert_allclose(g.mean(axis=0), true, rtol=1e-13, atol=1e-14)
    assert float(np.mean(np.sum((g - true) ** 2, axis=1))) == pytest.approx(p_b * s2, rel=1e-12)
    # masked: every ordered triple, averaging its first two entries, has the same law
    triples = jnp.asarray(list(itertools.permutations(range(n), 3)))
    gm = np.asarray(sg(x, triples, problems.prefix_mask(3, b)))
    np.testing.assert_allclose(gm.mean(axis=0), true, rtol=1e-13, atol=1e-14)
    assert float(np.mean(np.sum((gm - true) ** 2, axis=1))) == pytest.approx(p_b * s2, rel=1e-12)
    # the full batch is the exact gradient
    np.testing.assert_allclose(np.asarray(p.stochastic_grad(x, jnp.arange(n))), true, rtol=1e-13, atol=1e-14)


def test_sample_draws_uniform_batches_without_replacement() -> None:
    p = problems.make("least-squares", **SMALL["least-squares"])
    reps = 6000
    draws = np.asarray(jax.vmap(lambda k: p.sample(k, 4))(jax.random.split(jax.random.key(1), reps)))
    assert draws.shape == (reps, 4) and draws.min() >= 0 and draws.max() < p.n
    assert all(len(set(row)) == 4 for row in draws.tolist())
    pairs = list(itertools.combinations(range(p.n), 2))
    counts = np.array([np.sum((np.sort(draws[:, :2], axis=1) == np.array(c)).all(axis=1)) for c in pairs])
    q = 1 / len(pairs)
    assert np.all(np.abs(counts - reps * q) <= 4 * math.sqrt(reps * q * (1 - q)))
    with pytest.raises(ParameterError, match="size"):
        p.sample(jax.random.key(0), p.n + 1)


# ---- least squares -------------------------------------------------------------------------------------------
@pytest.mark.slow
@given(dim=st.integers(1, 6), extra=st.integers(1, 20), ratio=st.floats(0.01, 1.0), L=st.floats(0.1, 10.0),
       spacing=st.sampled_from(["geometric", "linear", "two"]), noise=st.floats(0.0, 2.0), rotate=st.booleans(),
       seed=st.integers(0, 2**16))
def test_least_squares_construction(dim, extra, ratio, L, spacing, noise, rotate, seed) -> None:
    p = problems.make("least-squares", dim=dim, n=dim + extra, mu=ratio * L, L=L, spacing=spacing, noise=noise,
                      rotate=rotate, seed=seed)
    a, r, n = np.asarray(p.A), np.asarray(p.residual), p.n
    mu = ratio * L
    if dim == 1:  # the documented spectrum: one eigenvalue is L; otherwise spaced from mu to L
        want = np.array([L])
    else:
        want = {"geometric": np.geomspace(mu, L, dim), "linear": np.linspace(mu, L, dim),
                "two": np.where(np.arange(dim) < dim // 2, mu, L)}[spacing]
    np.testing.assert_allclose(np.asarray(p.eigvals), want, rtol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(a.T @ a / n), want, rtol=1e-12, atol=1e-13 * L)
    assert (float(p.L), float(p.mu)) == (want[-1], want[0])
    assert np.linalg.norm(a.T @ r) <= 1e-12 * np.linalg.norm(a) * (1 + np.linalg.norm(r))
    np.testing.assert_allclose(np.asarray(p.y), a @ np.asarray(p.x_star) + r, rtol=1e-13, atol=1e-13)
    assert math.sqrt(np.mean(r * r)) == pytest.approx(noise, rel=1e-12, abs=1e-15)
    assert float(p.f_star) == pytest.approx(noise**2 / 2, rel=1e-12, abs=1e-15)
    xs = jnp.asarray(p.x_star)
    g = -a * r[:, None]  # grad f_i(x*) = a_i (a_i . x* - y_i) = -a_i r_i, and their mean A^T r / n = 0
    assert float(p.sigma2) == pytest.approx(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)), rel=1e-12, abs=1e-15)
    _psd_minima_ok(p)
    x = np.random.default_rng(seed).standard_normal(dim)
    quad = 0.5 * (x - xs) @ np.asarray(p.H) @ (x - xs) + noise**2 / 2
    assert float(p.value(jnp.asarray(x))) == pytest.approx(float(quad), rel=1e-11, abs=1e-13)


# ---- two-basin -----------------------------------------------------------------------------------------------
@given(ks=st.floats(2.0, 200.0), kf=st.floats(0.1, 1.9), hs=st.floats(0.3, 3.0), hf=st.floats(0.3, 3.0),
       eps=st.floats(0.0, 0.1), c=st.floats(0.1, 10.0))
def test_two_basin_closed_form_when_wells_are_far_apart(ks, kf, hs, hf, eps, c) -> None:
    """No shifts, wells 10 widths apart (each tail < e^-50 at the other centre, yet the ridge between them
    is still resolved in float64): minima at the centres, depths h, curvatures k + eps/2 (q''(0) = 1/2)."""
    sep = 10 * (math.sqrt(hs / ks) + math.sqrt(hf / kf))
    p = problems.make("two-basin", dim=2, sharp_well_curvature=ks, flat_well_curvature=kf, sharp_depth=hs, flat_depth=hf,
                      separation=sep, confinement=eps, c=c, n=3, spread=0.0)
    sharp, flat = p.minima[p.sharp_index], p.minima[p.flat_index]
    assert (sharp.label, flat.label) == ("sharp", "flat")
    np.testing.assert_allclose(np.asarray(sharp.x), [-sep / 2, 0], atol=1e-12 * sep)
    np.testing.assert_allclose(np.asarray(flat.x), [sep / 2, 0], atol=1e-12 * sep)
    np.testing.assert_allclose(np.diag(np.asarray(sharp.hessian)), [ks + eps / 2, c], rtol=1e-12)
    np.testing.assert_allclose(np.diag(np.asarray(flat.hessian)), [kf + eps / 2, c], rtol=1e-12)
    assert (float(sharp.value), float(flat.value)) == pytest.approx((-hs, -hf), rel=1e-12)
    assert float(p.f_star) == pytest.approx(-max(hs, hf), rel=1e-12)
    assert float(p.sigma2) == pytest.approx(0.0, abs=1e-20)
    assert abs(float(p.grad(jnp.asarray(p.x0))[0])) <= 1e-14 * ks * sep
    if eps == 0:  # then psi'' = k e (1 - v) near each well, largest at the centre
        assert float(p.L) == pytest.approx(max(ks, kf, c), rel=1e-12)


def _profile_minima(ks: float, kf: float, hs: float, hf: float, sep: float, eps: float) -> tuple[np.ndarray, float]:
    """Discrete local minima of phi (the documented profile, written here) on a grid of width/400."""
    ws, wf = math.sqrt(hs / ks), math.sqrt(hf / kf)
    s = np.arange(-sep / 2 - 12 * max(ws, wf), sep / 2 + 12 * max(ws, wf), min(ws, wf) / 400)
    wall = lambda u, w: 0.5 * u**2 * ndtr(u / w)  # noqa: E731
    v = (-hs * np.exp(-ks * (s + sep / 2) ** 2 / (2 * hs)) - hf * np.exp(-kf * (s - sep / 2) ** 2 / (2 * hf))
         + eps * (wall(-sep / 2 - s, ws / 2) + wall(s - sep / 2, wf / 2)))
    k = np.flatnonzero((v[1:-1] < v[:-2]) & (v[1:-1] <= v[2:])) + 1
    return s[k], float(s[1] - s[0])


@given(ks=st.floats(0.5, 200.0), kf=st.floats(0.1, 5.0), hs=st.floats(0.2, 3.0), hf=st.floats(0.2, 3.0),
       factor=st.floats(0.2, 12.0), eps=st.floats(0.0, 2.0))
def test_two_basin_is_refused_exactly_when_the_profile_has_not_two_minima(ks, kf, hs, hf, factor, eps) -> None:
    """Without shifts the averaged profile is phi itself: the factory must build the problem iff a dense grid
    finds two local minima of phi, and then at those points."""
    sep = factor * (math.sqrt(hs / ks) + math.sqrt(hf / kf))
    grid, h = _profile_minima(ks, kf, hs, hf, sep, eps)
    try:
        p = problems.make("two-basin", dim=1, sharp_well_curvature=ks, flat_well_curvature=kf, sharp_depth=hs, flat_depth=hf,
                          separation=sep, confinement=eps, n=1, spread=0.0)
    except ParameterError as err:
        assert grid.size != 2, str(err)
        assert re.search(r"\b(separation|confinement|spread)\b", str(err))
        return
    assert grid.size == 2
    np.testing.assert_allclose(sorted(float(m.x[0]) for m in p.minima), grid, rtol=0, atol=h)


_hessians = jax.jit(jax.vmap(lambda p, x: p.hessian(x), in_axes=(None, 0)))
_variances = jax.jit(jax.vmap(lambda p, x: p.sigma2_at(x), in_axes=(None, 0)))


@pytest.mark.slow
@given(dim=st.integers(1, 3), ks=st.floats(5.0, 100.0), kf=st.floats(0.2, 2.0), hs=st.floats(0.5, 2.0),
       hf=st.floats(0.5, 2.0), factor=st.floats(3.0, 8.0), eps=st.floats(0.0, 0.1), c=st.floats(0.2, 5.0),
       n=st.sampled_from([1, 7, 24]), spread_frac=st.floats(0.0, 0.3), seed=st.integers(0, 2**16))
def test_two_basin_properties(dim, ks, kf, hs, hf, factor, eps, c, n, spread_frac, seed) -> None:
    ws, wf = math.sqrt(hs / ks), math.sqrt(hf / kf)
    p = problems.make("two-basin", dim=dim, sharp_well_curvature=ks, flat_well_curvature=kf, sharp_depth=hs, flat_depth=hf,
                      separation=factor * (ws + wf), confinement=eps, c=c, n=n, spread=spread_frac * ws, seed=seed)
    _psd_minima_ok(p)
    h = [float(m.hessian[0, 0]) for m in p.minima]
    assert h[p.sharp_index] > h[p.flat_index] > 0
    ridge = np.zeros(dim)
    ridge[0] = float(p.ridge)
    assert abs(float(p.grad(jnp.asarray(ridge))[0])) <= 1e-10 * float(p.L)
    assert float(p.hessian(jnp.asarray(ridge))[0, 0]) < 0
    s = sorted(float(m.x[0]) for m in p.minima)
    assert s[0] < float(p.ridge) < s[1]
    np.testing.assert_allclose(np.asarray(p.x0), ridge)
    if n > 1:
        a = np.asarray(p.shifts)
        assert abs(a.sum()) <= 1e-12 * n and math.sqrt(np.mean(a * a)) == pytest.approx(spread_frac * ws, abs=1e-12)
    radius = factor * (ws + wf)
    xs = np.random.default_rng(seed).uniform(-radius, radius, (256, dim))
    assert np.max(np.abs(np.linalg.eigvalsh(np.asarray(_hessians(p, xs))))) <= float(p.L) + 1e-9
    # sigma2 may be 0 (no spread): allow the round-off of squared gradient deviations, (eps L radius)^2
    floor = (1e-14 * float(p.L) * (1 + radius)) ** 2
    assert np.all(np.asarray(_variances(p, xs)) <= float(p.sigma2) * (1 + 1e-12) + floor)


# ---- cosine --------------------------------------------------------------------------------------------------
def _grid_minima_1d(a: float, b: float, omega: float) -> tuple[np.ndarray, float]:
    """Discrete local minima of phi on a grid of 4000 points per period, over a window holding every one."""
    r = abs(b) * omega / a + 1.0
    s = np.linspace(-r, r, int(2 * r * omega / (2 * math.pi) * 4000) + 3)
    v = 0.5 * a * s**2 + b * np.cos(omega * s)
    k = np.flatnonzero((v[1:-1] < v[:-2]) & (v[1:-1] <= v[2:])) + 1
    return s[k], float(s[1] - s[0])


@given(a=st.floats(0.3, 3.0), b=st.floats(-2.0, 2.0), omega=st.floats(0.3, 4.0))
def test_cosine_one_dimensional_structure(a, b, omega) -> None:
    p = problems.make("cosine", dim=1, a=a, b=b, omega=omega)
    grid, h = _grid_minima_1d(a, b, omega)
    mins = np.asarray(p.mins_1d)
    assert mins.size == grid.size
    assert np.all(np.abs(mins - grid) <= h)
    assert float(p.L) == a + abs(b) * omega**2
    witness = math.pi / omega if b > 0 else 0.0
    assert abs(float(p.hessian(jnp.asarray([witness]))[0, 0])) == pytest.approx(float(p.L), rel=1e-12)
    if a > abs(b) * omega**2:
        assert float(p.mu) == pytest.approx(a - abs(b) * omega**2) and mins.size == 1
    _psd_minima_ok(p)
    curv = np.array([float(m.hessian[0, 0]) for m in p.minima])
    labels = np.array([m.label for m in p.minima])
    np.testing.assert_array_equal(labels == "flat", np.isclose(curv, curv.min(), rtol=1e-9, atol=0))


def test_cosine_labels_and_dimension_limit() -> None:
    p = problems.make("cosine", dim=2)
    curv = np.asarray(p.curv_1d)
    for m in p.minima:  # flat iff every coordinate is at a flattest 1-D minimum
        d = np.diag(np.asarray(m.hessian))
        assert (m.label == "flat") == bool(np.all(np.isclose(d, curv.min(), rtol=1e-9)))
    # a = b w^2: phi = b + b w^4 s^4/24 + ..., one degenerate minimum at 0 (convex, not strongly)
    p = problems.make("cosine", dim=2, a=1.0, b=1.0, omega=1.0)
    assert len(p.minima) == 1 and np.all(np.asarray(p.minima[0].x) == 0) and math.isnan(float(p.mu))
    np.testing.assert_array_equal(np.asarray(p.minima[0].hessian), np.zeros((2, 2)))
    # a slightly below b w^2: 0 turns into a maximum between minima at +-sqrt(6 (b w^2 - a) / (b w^4))
    b = 1.0 + 1e-10
    p = problems.make("cosine", dim=1, a=1.0, b=b, omega=1.0)
    s = math.sqrt(6 * (b - 1.0) / b)  # b - 1.0 is exact in floating point; the series error is O(s^2)
    np.testing.assert_allclose(np.asarray(p.mins_1d), [-s, s], rtol=1e-8)
    np.testing.assert_array_equal(np.asarray(p.maxs_1d), [0.0])


# ---- logistic ------------------------------------------------------------------------------------------------
def test_logistic_constants_independently() -> None:
    p = problems.make("logistic", dim=3, n=50, reg=0.4, seed=4)
    a, n = np.asarray(p.A), p.n
    assert float(p.L) == pytest.approx(np.linalg.eigvalsh(a.T @ a)[-1] / (4 * n) + 2 * 0.4, rel=1e-12)
    assert float(p.sigma2) == pytest.approx(np.mean(np.sum(a * a, axis=1)), rel=1e-12)
    vg = jax.jit(jax.value_and_grad(p.value))
    rng = np.random.default_rng(5)
    for _ in range(12):  # an independent optimiser from random starts never beats f_star
        res = minimize(lambda x: tuple(np.asarray(t) for t in vg(x)), 3 * rng.standard_normal(3), jac=True,
                       method="BFGS", options=dict(gtol=1e-10))
        assert res.fun >= float(p.f_star) - 1e-10
    sharp = [m.sharpness for m in p.minima]
    assert sharp == sorted(sharp)


def _primal_separable(mat: np.ndarray) -> bool:
    """Some x != 0 with M x >= 0: maximise sum(M x) over M x >= 0, |x|_inf <= 1 (positive optimum), or a kernel."""
    res = linprog(-mat.sum(axis=0), A_ub=-mat, b_ub=np.zeros(mat.shape[0]), bounds=[(-1, 1)] * mat.shape[1],
                  method="highs")
    assert res.status == 0
    return -res.fun > 1e-9 or np.linalg.matrix_rank(mat) < mat.shape[1]


@given(dim=st.integers(1, 3), n=st.integers(1, 12), noise=st.floats(0.0, 0.5), dup=st.booleans(),
       seed=st.integers(0, 2**16))
def test_separability_check_agrees_with_the_primal_lp(dim, n, noise, dup, seed) -> None:
    """The module's dual (Gordan) test against a primal LP written here, on random and degenerate data."""
    from problems.logistic import _weakly_separable

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, dim))
    y = np.where(a @ rng.standard_normal(dim) >= 0, 1.0, -1.0)
    y = np.where(rng.random(n) < noise, -y, y)
    if dup:  # a repeated point with the opposite label: separable only weakly, if at all
        a, y = np.vstack([a, a[:1]]), np.concatenate([y, -y[:1]])
    assert _weakly_separable(a, y) == _primal_separable(y[:, None] * a)


def test_logistic_refuses_separable_data() -> None:
    with pytest.raises(ParameterError, match="separable"):
        problems.make("logistic", dim=3, n=3)
    p = problems.make("logistic", dim=2, n=6, label_noise=0.3, seed=0)
    assert not _primal_separable(np.asarray(p.y)[:, None] * np.asarray(p.A))
    _psd_minima_ok(p)


# ---- huber ---------------------------------------------------------------------------------------------------
@given(L=st.floats(0.1, 10.0), D0=st.floats(0.1, 10.0), T=st.integers(1, 300))
def test_huber_attains_the_gd_bound(L, D0, T) -> None:
    p = problems.make("huber", L=L, D0=D0, T=T)
    x = jnp.asarray(p.x0)
    for _ in range(T):
        assert abs(float(x[0])) >= D0 / (2 * T + 1) * (1 - 1e-12)  # on the linear piece throughout
        x = x - p.grad(x) / L
    assert float(p.value(x)) - float(p.f_star) == pytest.approx(L * D0**2 / (4 * T + 2), rel=1e-11)
    assert float(p.gd_bound) == pytest.approx(L * D0**2 / (4 * T + 2), rel=1e-14)
    rng = np.random.default_rng(T)
    u, v = (jnp.asarray(rng.uniform(-2 * D0, 2 * D0, (32, 1))) for _ in range(2))
    fu, fv = jax.vmap(p.value)(u), jax.vmap(p.value)(v)
    lin = fu + jnp.sum(jax.vmap(p.grad)(u) * (v - u), axis=1)
    assert bool(jnp.all(fv >= lin - 1e-12 * L * D0**2))  # convex
    assert bool(jnp.all(fv <= lin + L / 2 * jnp.sum((v - u) ** 2, axis=1) + 1e-12 * L * D0**2))  # L-smooth
    k = D0 / (2 * T + 1)
    assert float(p.value(jnp.asarray([k]))) == pytest.approx(L * k * k / 2, rel=1e-14)


def test_huber_is_deterministic_by_default() -> None:
    p = problems.make("huber")
    x = jnp.asarray([0.3])
    np.testing.assert_array_equal(p.stochastic_grad(x, p.sample(jax.random.key(0), 4)), p.grad(x))
    assert float(p.sigma2) == 0.0


# ---- parameters, registry, compilation ----------------------------------------------------------------------
BAD = [
    ("quadratic", dict(dim=0), "dim"), ("quadratic", dict(mu=2.0, L=1.0), "mu"),
    ("noisy-quadratic", dict(scale=-1.0), "scale"),
    ("least-squares", dict(dim=4, n=4, noise=0.1), "n"), ("least-squares", dict(mu=0.0), "mu"),
    ("least-squares", dict(noise=-1.0), "noise"), ("least-squares", dict(spacing="cubic"), "spacing"),
    ("least-squares", dict(rotate="yes"), "rotate"), ("least-squares", dict(L=float("nan")), "L"),
    ("two-basin", dict(separation=0.2), "separation"), ("two-basin", dict(n=2, spread=1.0), "spread"),
    ("two-basin", dict(sharp_curvature=-1.0), "sharp_curvature"), ("two-basin", dict(flat_depth=0.0), "flat_depth"),
    ("two-basin", dict(c=0.0), "c"), ("two-basin", dict(n=0), "n"),
    ("two-basin", dict(confinement=-0.1), "confinement"), ("two-basin", dict(dim=0), "dim"),
    ("cosine", dict(a=0.0), "a"), ("cosine", dict(omega=-1.0), "omega"), ("cosine", dict(dim=5000), "dim"),
    ("cosine", dict(noise=-0.1), "noise"), ("cosine", dict(b=float("inf")), "b"),
    ("logistic", dict(n=3), "n"), ("logistic", dict(reg=-1.0), "reg"),
    ("logistic", dict(label_noise=0.7), "label_noise"),
    ("logistic", dict(starts=-1), "starts"), ("logistic", dict(dim=0), "dim"),
    ("huber", dict(L=0.0), "L"), ("huber", dict(D0=-1.0), "D0"), ("huber", dict(T=0), "T"),
    ("huber", dict(noise=-1.0), "noise"), ("huber", dict(T=2.5), "T"),
    ("cosine", dict(bogus=1.0), "bogus"),
]


@pytest.mark.parametrize("family,kw,param", BAD)
def test_bad_parameters_raise_a_named_error(family: str, kw: dict, param: str) -> None:
    with pytest.raises(ParameterError, match=rf"\b{param}\b"):
        problems.make(family, **kw)


def test_registry_and_docstring_examples() -> None:
    assert {"quadratic", "noisy-quadratic", "least-squares", "two-basin", "cosine", "logistic", "huber"} <= set(
        problems.names())
    for name in problems.names():
        assert problems.describe(name)
        assert problems.make(name).name == name
    for mod in (problems.least_squares, problems.two_basin, problems.cosine, problems.logistic, problems.huber):
        mod = __import__(mod.__module__, fromlist=["_"])
        assert doctest.testmod(mod).failed == 0


PAIRS = {  # two instances of a family with equal shapes and labels
    "quadratic": (dict(dim=3, seed=0), dict(dim=3, seed=1, L=2.0)),
    "least-squares": (dict(dim=3, n=10, seed=0), dict(dim=3, n=10, seed=1, noise=0.5)),
    "two-basin": (dict(n=8, seed=0), dict(n=8, seed=1, sharp_well_curvature=30.0)),
    "cosine": (dict(), dict(b=1.05, noise=0.2)),
    "logistic": (dict(dim=3, n=40, seed=0), dict(dim=3, n=40, seed=0, reg=0.2)),
    "huber": (dict(T=3), dict(T=7, L=2.0, noise=0.1)),
}


@pytest.mark.slow
@pytest.mark.parametrize("family", list(PAIRS))
def test_one_compilation_per_family_and_vmap_over_instances(family: str) -> None:
    p1, p2 = (problems.make(family, **kw) for kw in PAIRS[family])
    x = jnp.asarray(p1.x0) + 0.25
    f = jax.jit(lambda p, x: p.value(x))
    g = jax.jit(lambda p, x, k: p.stochastic_grad(x, p.sample(k, 2)))
    for p in (p1, p2):
        f(p, x)
        g(p, x, jax.random.key(0))
    assert f._cache_size() == 1 and g._cache_size() == 1
    both = jax.tree_util.tree_map(lambda u, v: jnp.stack([jnp.asarray(u), jnp.asarray(v)]), p1, p2)
    vals = jax.vmap(lambda p: p.value(x))(both)
    np.testing.assert_allclose(vals, [float(p1.value(x)), float(p2.value(x))], rtol=1e-13)
    grads = jax.vmap(lambda p: p.grad(x))(both)
    np.testing.assert_allclose(grads, np.stack([p1.grad(x), p2.grad(x)]), rtol=1e-13, atol=1e-15)
    assert jax.vmap(lambda p: p.basin(x))(both).shape == (2,)


@pytest.mark.slow
@pytest.mark.parametrize("family", list(PAIRS))
def test_float32_instances_compute_in_float32(family: str) -> None:
    """Casting the float leaves (as a float32 run does) must not let a float64 constant promote the results."""
    p = jax.tree_util.tree_map(
        lambda a: jnp.asarray(a).astype(jnp.float32) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) else a,
        problems.make(family, **PAIRS[family][1]))
    x = jnp.asarray(p.x0) + 0.25
    outs = [p.value(x), p.grad(x), p.hessian(x), p.stochastic_grad(x, p.sample(jax.random.key(0), 2))]
    assert [o.dtype for o in outs] == [jnp.float32] * 4
