"""Sharpness metrics of a smooth :math:`f:\\mathbb R^d\\to\\mathbb R` at a point (DESIGN.md job 3), matrix-free.

:func:`top_eigenvalues` (Lanczos), :func:`hessian_trace` (Hutchinson), :func:`hessian_spectral_density`
(stochastic Lanczos quadrature) see the Hessian only through :func:`hvp` (and
:func:`analysis.sharpness.epsilon.epsilon_sharpness`, Keskar et al. 2017, only through :math:`f`); the ``*_matvec`` forms take any symmetric linear map (JAX-traceable: it is ``jit``-ed
and ``vmap``-ed). Random functions take a ``jax.random`` key: the same key gives the same result.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy import linalg, stats

from problems import ParameterError, check_int, check_real

Array = jax.Array
Fn = Callable[[Array], Array]
MatVec = Callable[[Array], Array]


def _point(x: Any) -> Array:
    a = jnp.asarray(x, dtype=jnp.float64)
    if a.ndim != 1 or a.size == 0:
        raise ParameterError(f"x must be a non-empty 1-D array, got shape {a.shape}")
    if not bool(jnp.all(jnp.isfinite(a))):
        raise ParameterError(f"x must be finite, got {np.asarray(a)!r}")
    return a


def hvp(f: Fn, x: Array, v: Array) -> Array:
    """Hessian-vector product :math:`\\nabla^2f(x)\\,v=\\frac{d}{dt}\\nabla f(x+tv)|_{t=0}`, forward-over-reverse.

    ``jax.jvp(jax.grad(f), (x,), (v,))[1]``: a few gradients' cost, exact to round-off, no Hessian formed.

    >>> import jax.numpy as jnp
    >>> hvp(lambda x: x[0] ** 2 * x[1], jnp.array([1.0, 2.0]), jnp.array([1.0, 0.0]))
    Array([4., 2.], dtype=float64)

    Reference: Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation 6 (1994).
    """
    return jax.jvp(jax.grad(f), (x,), (v,))[1]


def _hessian_matvec(f: Fn, x: Any) -> tuple[MatVec, int]:
    xa = _point(x)
    owner, func = getattr(f, "__self__", None), getattr(f, "__func__", None)
    if func is not None and not jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(owner)):
        return _MethodHVP(func, owner, xa), int(xa.size)
    return (lambda v: hvp(f, xa, v)), int(xa.size)


class _MethodHVP:
    """:math:`v\\mapsto\\nabla^2f(x)v` for ``f`` a method of a pytree (a problem's ``value``): its batched form is one
    compiled program per method and pytree structure, reused at every point and by every call (the owner and the
    point are traced arguments), instead of a program traced anew for each point."""

    def __init__(self, func: Callable[..., Array], owner: Any, x: Array) -> None:
        self.func, self.owner, self.x = func, owner, x

    def __call__(self, v: Array) -> Array:
        return hvp(lambda y: self.func(self.owner, y), self.x, v)

    def batched(self, V: Array) -> Array:
        """:math:`\\nabla^2f(x)v` for every row :math:`v` of ``V``."""
        return _batched_method_hvp(self.func, self.owner, self.x, V)


@functools.partial(jax.jit, static_argnums=0)
def _batched_method_hvp(func: Callable[..., Array], owner: Any, x: Array, V: Array) -> Array:
    return jax.vmap(lambda v: hvp(lambda y: func(owner, y), x, v))(V)


def _orthogonalize(Q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w[p] -= Q[p]^T Q[p] w[p]`` twice: "twice is enough" (Giraud, Langou & Rozloznik 2005) for orthonormality."""
    for _ in range(2):
        w = w - np.einsum("pjd,pj->pd", Q, np.einsum("pjd,pd->pj", Q, w))
    return w


def _lanczos_rows(matvec: MatVec, V: np.ndarray, iterations: int,
                  restart_key: Array | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Lanczos from each row of ``V`` (batched matvecs); a row stops at breakdown, or restarts given ``restart_key``."""
    p, d = V.shape
    m = min(iterations, d)
    mv = getattr(matvec, "batched", None) or jax.jit(jax.vmap(matvec))
    tol = 2.0**12 * float(np.finfo(V.dtype).eps)  # 9.1e-13 in float64
    Q, alphas, betas = np.zeros((p, m, d), V.dtype), np.zeros((p, m), V.dtype), np.zeros((p, m), V.dtype)
    length, active, scale = np.full(p, m), np.ones(p, bool), np.zeros(p, V.dtype)
    q = V / np.linalg.norm(V, axis=1, keepdims=True)
    for j in range(m):
        Q[:, j] = q
        w = np.asarray(mv(jnp.asarray(q)), dtype=V.dtype)
        if w.shape != (p, d):
            raise ParameterError(f"matvec must map shape ({d},) to ({d},), got {w.shape[1:]}")
        alphas[:, j] = np.einsum("pd,pd->p", q, w)
        scale = np.maximum(scale, np.linalg.norm(w, axis=1))  # max_i ||A q_i||, a lower bound on ||A||
        if j == m - 1:
            break
        w = _orthogonalize(Q[:, :j + 1], w)
        b = np.linalg.norm(w, axis=1)
        broke = active & (b <= tol * scale)
        if restart_key is not None and broke.any():
            r = np.asarray(jax.random.normal(jax.random.fold_in(restart_key, j), (p, d)), V.dtype)
            w = np.where(broke[:, None], _orthogonalize(Q[:, :j + 1], r), w)
            betas[:, j] = np.where(broke, 0.0, b)
            q = w / np.linalg.norm(w, axis=1, keepdims=True)
            continue
        length[broke] = j + 1
        active &= ~broke
        if not active.any():
            break
        betas[:, j] = np.where(active, b, 0.0)
        q = np.where(active[:, None], w / np.where(active, b, 1.0)[:, None], q)
    return [(alphas[i, :n].copy(), betas[i, :n - 1].copy(), Q[i, :n].copy()) for i, n in enumerate(length)]


def lanczos(matvec: MatVec, dim: int, iterations: int, key: Array, *, dtype: Any = np.float64,
            restart: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lanczos tridiagonalisation :math:`QAQ^\\top=T` with full reorthogonalisation.

    From :math:`q_1=z/\\|z\\|`, :math:`z\\sim N(0,I_d)` drawn from ``key``, for :math:`m=\\min(\\text{iterations},d)`
    steps: :math:`w=Aq_j`, :math:`\\alpha_j=q_j^\\top w`, :math:`w\\leftarrow w-Q_j^\\top Q_jw` (twice: "twice is
    enough"), :math:`\\beta_j=\\|w\\|`, :math:`q_{j+1}=w/\\beta_j`. Breakdown, :math:`\\beta_j\\le2^{12}
    \\varepsilon_{\\rm mach}\\max_{i\\le j}\\|Aq_i\\|\\approx10^{-12}\\|A\\|`, means the Krylov space is invariant:
    with ``restart`` the run goes on from a fresh Gaussian vector orthogonal to :math:`Q` (``betas[j] = 0``),
    so ``iterations >= dim`` gives the whole spectrum with multiplicities; without, it stops.

    Args:
        matvec: JAX-traceable :math:`v\\mapsto Av`, :math:`A` symmetric ``(dim, dim)``.
        dim: :math:`d\\ge1`. iterations: at least 1 (capped at ``dim``). key: ``jax.random`` key.
        dtype: floating dtype of the basis and the arithmetic. restart: continue past a breakdown.

    Returns:
        ``(alphas, betas, Q)``, shapes ``(m,)``, ``(m-1,)``, ``(m, dim)`` (orthonormal rows), ``m <= iterations``.

    >>> import jax, jax.numpy as jnp, numpy as np
    >>> A = jnp.diag(jnp.arange(1.0, 6.0))
    >>> a, b, Q = lanczos(lambda v: A @ v, 5, 5, jax.random.key(0))
    >>> np.round(np.linalg.eigvalsh(np.diag(a) + np.diag(b, 1) + np.diag(b, -1)), 10)
    array([1., 2., 3., 4., 5.])

    Reference: Golub & Van Loan, *Matrix Computations* (4th ed., 2013), §10.1-10.3.
    """
    dim = check_int("dim", dim, lo=1)
    iterations = check_int("iterations", iterations, lo=1)
    z = np.asarray(jax.random.normal(key, (1, dim)), dtype=dtype)
    return _lanczos_rows(matvec, z, iterations, jax.random.fold_in(key, 1) if restart else None)[0]


def top_eigenvalues_matvec(matvec: MatVec, dim: int, k: int = 1, *, key: Array,
                           iterations: int | None = None) -> np.ndarray:
    """The ``k`` largest (algebraic) eigenvalues of a symmetric :math:`A` as Lanczos Ritz values.

    :func:`lanczos` (with restarts) for ``iterations`` steps, default :math:`\\min(d,\\max(2k+20,30))`; returns
    the top ``k`` eigenvalues of :math:`T`, descending, shape ``(k,)``. They never exceed the true ones
    (interlacing), ``iterations >= dim`` is exact, and (Kaniel-Paige) :math:`\\lambda_1-\\theta_1\\le
    (\\lambda_1-\\lambda_d)\\tan^2\\angle(q_1,u_1)/T_{m-1}(1+2\\gamma)^2`, with :math:`T_{m-1}` the Chebyshev
    polynomial and :math:`\\gamma=(\\lambda_1-\\lambda_2)/(\\lambda_2-\\lambda_d)`.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.diag(jnp.arange(1.0, 101.0))
    >>> top_eigenvalues_matvec(lambda v: A @ v, 100, 2, key=jax.random.key(0), iterations=100).round(8)
    array([100.,  99.])
    """
    dim = check_int("dim", dim, lo=1)
    k = check_int("k", k, lo=1, hi=dim)
    iterations = check_int("iterations", min(dim, max(2 * k + 20, 30)) if iterations is None else iterations, lo=k)
    a, b, _ = lanczos(matvec, dim, iterations, key)
    return np.sort(linalg.eigvalsh_tridiagonal(a, b) if a.size > 1 else a)[::-1][:k].copy()


def top_eigenvalues(f: Fn, x: Any, k: int = 1, *, key: Array, iterations: int | None = None) -> np.ndarray:
    """The ``k`` largest eigenvalues of :math:`\\nabla^2f(x)`, descending (:func:`top_eigenvalues_matvec`, :func:`hvp`).

    >>> import jax, jax.numpy as jnp
    >>> f = lambda x: 0.5 * (3.0 * x[0] ** 2 + x[1] ** 2) + jnp.cos(x[2])
    >>> top_eigenvalues(f, jnp.zeros(3), 3, key=jax.random.key(0)).round(10)
    array([ 3.,  1., -1.])
    """
    mv, d = _hessian_matvec(f, x)
    return top_eigenvalues_matvec(mv, d, k, key=key, iterations=iterations)


@dataclass(frozen=True)
class TraceEstimate:
    """A Hutchinson estimate of :math:`\\operatorname{tr}A` from :math:`n` probes.

    Attributes:
        estimate: :math:`\\hat t=\\frac1n\\sum_iv_i^\\top Av_i`; probes: :math:`n`; confidence: :math:`c`.
        stderr: :math:`s/\\sqrt n`, :math:`s` the sample standard deviation of the :math:`v_i^\\top Av_i`.
        ci_low, ci_high: :math:`\\hat t\\mp t_{(1+c)/2,\\,n-1}\\,\\text{stderr}` (Student's t, ``scipy.stats.t``).
    """

    estimate: float
    stderr: float
    ci_low: float
    ci_high: float
    probes: int
    confidence: float


def hutchinson_trace(matvec: MatVec, dim: int, *, key: Array, probes: int = 100,
                     confidence: float = 0.99) -> TraceEstimate:
    """Hutchinson's estimator :math:`\\operatorname{tr}A\\approx\\frac1n\\sum_{i=1}^nv_i^\\top Av_i`, Rademacher probes.

    Probes :math:`v_i\\in\\{\\pm1\\}^d`: the rows of ``jax.random.rademacher(key, (probes, dim))``, one ``vmap``-ed
    batch. Unbiased, :math:`\\mathrm{Var}(v^\\top Av)=2\\sum_{i\\ne j}A_{ij}^2` for symmetric :math:`A` (the least
    of any i.i.d. probe law; diagonal matrices are exact). The t interval is asymptotically exact.

    Args:
        matvec: JAX-traceable :math:`v\\mapsto Av`, :math:`A` symmetric; dim: :math:`d`; key: of the probes.
        probes: :math:`n\\ge2`; confidence: level of the interval, in (0, 1).

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.diag(jnp.arange(1.0, 11.0))
    >>> est = hutchinson_trace(lambda v: A @ v, 10, key=jax.random.key(0), probes=10)
    >>> round(est.estimate, 10), est.stderr
    (55.0, 0.0)

    References: Hutchinson, Commun. Stat. Simul. Comput. 19 (1990); Avron & Toledo, J. ACM 58 (2011).
    """
    dim = check_int("dim", dim, lo=1)
    probes = check_int("probes", probes, lo=2)
    confidence = check_real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    V = jax.random.rademacher(key, (probes, dim), dtype=jnp.float64)
    batched = getattr(matvec, "batched", None) or jax.vmap(matvec)
    samples = np.einsum("pd,pd->p", np.asarray(V), np.asarray(batched(V)))
    est, se = float(samples.mean()), float(samples.std(ddof=1) / math.sqrt(probes))
    half = float(stats.t.ppf(0.5 + confidence / 2, probes - 1)) * se
    return TraceEstimate(est, se, est - half, est + half, probes, confidence)


def hessian_trace(f: Fn, x: Any, *, key: Array, probes: int = 100, confidence: float = 0.99) -> TraceEstimate:
    """Hutchinson estimate of :math:`\\operatorname{tr}\\nabla^2f(x)` on :func:`hvp` (see :func:`hutchinson_trace`).

    >>> import jax, jax.numpy as jnp
    >>> hessian_trace(lambda x: jnp.sum(x ** 2), jnp.ones(4), key=jax.random.key(0), probes=5).estimate
    8.0
    """
    mv, d = _hessian_matvec(f, x)
    return hutchinson_trace(mv, d, key=key, probes=probes, confidence=confidence)


@dataclass(frozen=True)
class SpectralDensity:
    """A stochastic-Lanczos-quadrature estimate of the spectral density of a symmetric :math:`A`.

    Attributes:
        grid, density: points :math:`t` and
            :math:`\\hat\\phi(t)=\\frac1n\\sum_{i,j}\\tau_{ij}\\mathcal N(t;\\theta_{ij},\\sigma^2)`, shape ``(G,)``.
        nodes: :math:`\\theta_{ij}`, ``(probes, m)``; a probe whose run broke down after :math:`m_i<m`
            steps is padded with copies of its largest node of weight 0.
        weights: :math:`\\tau_{ij}\\ge0`, ``(probes, m)``, each row sums to 1. width: :math:`\\sigma`, the smoothing.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    width: float

    def probe_moments(self, k: int) -> np.ndarray:
        """Per probe :math:`\\sum_j\\tau_{ij}\\theta_{ij}^k\\approx v_i^\\top A^kv_i/d` (exact for :math:`k<2m_i`)."""
        k = check_int("k", k, lo=0)
        return np.sum(self.weights * self.nodes**k, axis=1)

    def moment(self, k: int) -> float:
        """The SLQ estimate of :math:`\\operatorname{tr}(A^k)/d`: the mean of :meth:`probe_moments`."""
        return float(self.probe_moments(k).mean())


def spectral_density(matvec: MatVec, dim: int, *, key: Array, probes: int = 10, iterations: int | None = None,
                     grid: Any = None, width: float | None = None) -> SpectralDensity:
    """Spectral density :math:`\\phi(t)=\\frac1d\\sum_i\\delta(t-\\lambda_i)` by stochastic Lanczos quadrature.

    For each probe :math:`v` (the rows of ``jax.random.rademacher(key, (probes, dim))``, as in
    :func:`hutchinson_trace`), Lanczos from :math:`v/\\|v\\|` (no restart) gives :math:`T=U\\mathrm{diag}(\\theta)
    U^\\top`; :math:`\\sum_j\\tau_jg(\\theta_j)`, :math:`\\tau_j=U_{1j}^2`, is the Gauss rule for :math:`v^\\top g(A)v
    /v^\\top v` (exact for polynomials of degree :math:`<2m`), unbiased for :math:`\\operatorname{tr}g(A)/d`. Each
    node becomes a Gaussian of width :math:`\\sigma`; as :math:`\\sum_j\\tau_j=1` the density integrates to 1
    (PyHessian's does not).

    Args:
        matvec: JAX-traceable :math:`v\\mapsto Av`, :math:`A` symmetric; dim: :math:`d`; key: of the probes.
        probes: at least 2. iterations: Lanczos steps per probe, default :math:`\\min(d,90)` (as Ghorbani et al.).
        grid: evaluation points; default 1000 on :math:`[\\min\\theta-5\\sigma,\\max\\theta+5\\sigma]`.
        width: :math:`\\sigma>0`; default 1% of :math:`\\max\\theta-\\min\\theta`, or :math:`10^{-3}\\max(1,|\\theta|)`
            if all nodes coincide.

    >>> import jax, jax.numpy as jnp, numpy as np
    >>> A = jnp.diag(jnp.arange(1.0, 21.0))
    >>> sd = spectral_density(lambda v: A @ v, 20, key=jax.random.key(0), probes=4)
    >>> round(float(np.trapezoid(sd.density, sd.grid)), 6), round(sd.moment(1), 10)
    (1.0, 10.5)

    References: Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl. 38 (2017); Ghorbani, Krishnan & Xiao, ICML 2019.
    """
    dim = check_int("dim", dim, lo=1)
    probes = check_int("probes", probes, lo=2)
    iterations = check_int("iterations", min(dim, 90) if iterations is None else iterations, lo=1)
    V = np.asarray(jax.random.rademacher(key, (probes, dim), dtype=jnp.float64))
    runs = _lanczos_rows(matvec, V, iterations, None)
    m = max(a.size for a, _, _ in runs)
    nodes, weights = np.zeros((probes, m)), np.zeros((probes, m))
    for i, (a, b, _) in enumerate(runs):
        theta, U = linalg.eigh_tridiagonal(a, b) if a.size > 1 else (a, np.ones((1, 1)))  # theta ascending
        nodes[i], weights[i, :a.size] = np.pad(theta, (0, m - a.size), mode="edge"), U[0] ** 2
    lo, hi = float(nodes.min()), float(nodes.max())
    if width is None:
        width = 0.01 * (hi - lo) if hi > lo else 1e-3 * max(1.0, abs(hi))
    width = check_real("width", width, lo=0.0, lo_open=True)
    t = np.linspace(lo - 5 * width, hi + 5 * width, 1000) if grid is None else np.asarray(grid, dtype=np.float64)
    if t.ndim != 1:
        raise ParameterError(f"grid must be a 1-D array, got shape {t.shape}")
    z = (t[:, None, None] - nodes[None]) / width
    density = np.einsum("gpm,pm->g", np.exp(-0.5 * z**2), weights) / (probes * width * math.sqrt(2 * math.pi))
    return SpectralDensity(grid=t, density=density, nodes=nodes, weights=weights, width=float(width))


def hessian_spectral_density(f: Fn, x: Any, *, key: Array, probes: int = 10, iterations: int | None = None,
                             grid: Any = None, width: float | None = None) -> SpectralDensity:
    """Spectral density of :math:`\\nabla^2f(x)` by SLQ on :func:`hvp` (see :func:`spectral_density`).

    >>> import jax, jax.numpy as jnp
    >>> sd = hessian_spectral_density(lambda x: jnp.sum(x ** 4), jnp.ones(3), key=jax.random.key(0))
    >>> round(sd.moment(1), 10)
    12.0
    """
    mv, d = _hessian_matvec(f, x)
    return spectral_density(mv, d, key=key, probes=probes, iterations=iterations, grid=grid, width=width)
