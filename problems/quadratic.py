"""Quadratics with a prescribed spectrum and an additive-noise oracle; the noisy quadratic model.

:math:`f(x)=\\tfrac12(x-x^\\star)^\\top H(x-x^\\star)+f^\\star`, :math:`H=Q\\,\\mathrm{diag}(\\lambda)\\,Q^\\top`.
Oracle (THEORY.md §A): :math:`g(x;\\xi)=H(x-x^\\star)+\\frac1b\\sum_{i\\le b}\\epsilon_i`,
:math:`\\epsilon_i\\sim N(0,\\Sigma_\\epsilon)` i.i.d., so :math:`\\mathrm{Cov}\\,g=\\Sigma_\\epsilon/b` and
:math:`\\sigma^2=\\operatorname{tr}\\Sigma_\\epsilon` exactly, at every :math:`x` (a global bound, attained).

Exact constants: :math:`L=\\lambda_{\\max}`, :math:`\\mu=\\lambda_{\\min}` (``nan`` if it is 0),
one minimum :math:`x^\\star` with Hessian :math:`H`. The sharpness dial is the spectrum.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Array, Minimum, Problem, pytree_dataclass
from ._diagonal import DiagonalMatrix, dense
from ._registry import register
from ._validate import ParameterError, check_array, check_bool, check_choice, check_int, check_real

MAX_DENSE_DIM = 4096  # a dense d x d float64 array is 128 MiB here; the rotated quadratic stores two
MAX_DIM = 10**7       # a diagonal quadratic stores a few d-vectors: 80 MB each here


@pytree_dataclass
class Quadratic(Problem):
    """:math:`\\tfrac12(x-x^\\star)^\\top H(x-x^\\star)+f^\\star` with additive Gaussian gradient noise.

    Stored by its structure: in the standard basis (no rotation) ``H``, ``eigvecs`` and a diagonal noise factor are
    :class:`~problems.DiagonalMatrix` objects, so memory and every matrix-vector product cost :math:`d`, not
    :math:`d^2`; a rotated quadratic keeps the dense ``H`` (one matrix-vector product per gradient) and ``Q``.
    ``np.asarray`` of any of them is the dense matrix.

    Attributes (beyond :class:`Problem`):
        H: the Hessian, ``(dim, dim)``.
        eigvals: its eigenvalues, paired with the columns of ``eigvecs``: ascending for a rotated quadratic,
            the diagonal in coordinate order in the standard basis.
        eigvecs: orthonormal eigenvectors (columns), :math:`H=Q\\,\\mathrm{diag}(\\lambda)Q^\\top` (the identity,
            stored as its diagonal, in the standard basis).
        x_star: the minimizer.
        noise_factor: :math:`S` with :math:`\\Sigma_\\epsilon=SS^\\top` (per-sample noise covariance).
    """

    H: Array | DiagonalMatrix
    eigvals: Array
    eigvecs: Array | DiagonalMatrix
    x_star: Array
    noise_factor: Array | DiagonalMatrix

    def value(self, x: Array) -> Array:
        r = x - self.x_star
        return 0.5 * r @ (self.H @ r) + self.f_star

    def grad(self, x: Array) -> Array:
        return self.H @ (x - self.x_star)

    def hessian(self, x: Array) -> Array:
        return dense(self.H)

    def sample(self, key: Array, size: int) -> Array:
        z = jax.random.normal(key, (size, self.dim), dtype=jnp.asarray(self.x_star).dtype)
        return z @ self.noise_factor.T  # d flops per sample for a diagonal factor, d^2 for a dense one

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        return self.grad(x) + xi_i

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        from ._base import masked_mean

        return self.grad(x) + masked_mean(xi, mask)

    batch_mean_law: ClassVar[bool] = True
    additive_oracle: ClassVar[bool] = True

    def sample_batch_mean(self, key: Array) -> Array:
        """:math:`S z`, :math:`z\\sim N(0,I_d)`: the first sample :meth:`sample` draws under ``key``."""
        return self.sample(key, 1)[0]

    def batch_mean_grad(self, x: Array, xi: Array, b: Array) -> Array:
        """:math:`H(x-x^\\star)+Sz/\\sqrt b`, exactly the law of the mean of ``b`` per-sample gradients
        (:math:`N(0,\\Sigma_\\epsilon/b)` noise), with one normal vector instead of ``b``."""
        return self.grad(x) + xi / jnp.sqrt(jnp.asarray(b, xi.dtype))

    @property
    def noise_cov(self) -> np.ndarray:
        """:math:`\\Sigma_\\epsilon=SS^\\top` (dense)."""
        s = np.asarray(self.noise_factor)
        return s @ s.T

    def to_eigenbasis(self, r: Any) -> np.ndarray:
        """:math:`Q^\\top r`: the coordinates of ``r`` (or of each row of a stack) along the eigenvectors, the
        :math:`i`-th paired with ``eigvals[i]`` (:math:`O(d)` in the standard basis)."""
        q, r = self.eigvecs, np.asarray(r, dtype=np.float64)
        return r * np.asarray(q.diagonal) if isinstance(q, DiagonalMatrix) else r @ np.asarray(q)

    def eigen_noise_variances(self) -> np.ndarray:
        """:math:`q_i^\\top\\Sigma_\\epsilon q_i` for every eigenvector :math:`q_i`: the per-sample noise variance
        along each eigen-direction (:math:`O(d)` when the basis and the noise factor are both diagonal)."""
        q, s = self.eigvecs, self.noise_factor
        if isinstance(q, DiagonalMatrix) and isinstance(s, DiagonalMatrix):
            return (np.asarray(q.diagonal) * np.asarray(s.diagonal)) ** 2
        return np.sum((np.asarray(q).T @ np.asarray(s)) ** 2, axis=1)

    def basin(self, x: Array) -> Array:
        return jnp.zeros((), jnp.int32)


def make_quadratic(eigvals: Any, *, eigvecs: Any | None = None, x_star: Any | None = None,
                   noise_cov: Any | None = None, x0: Any | None = None, f_star: float = 0.0,
                   name: str = "quadratic", label: str = "global") -> Quadratic:
    """Build a :class:`Quadratic` from its spectrum, eigenvectors and noise covariance.

    Args:
        eigvals: eigenvalues :math:`\\lambda_i\\ge0` (at least one positive).
        eigvecs: orthogonal matrix :math:`Q`; omitted, the standard basis, and the problem is stored diagonal
            (:math:`d` numbers per matrix instead of :math:`d^2`).
        x_star: minimizer (zeros if omitted).
        noise_cov: per-sample noise covariance :math:`\\Sigma_\\epsilon`: a PSD ``(d, d)`` matrix, or its diagonal
            as a ``(d,)`` vector (zeros if omitted). A diagonal one is stored and applied as its diagonal.
        x0: starting point (``x_star + 1`` if omitted).
        f_star: the optimal value.

    Returns:
        The problem, with :math:`L=\\max\\lambda`, :math:`\\mu=\\min\\lambda` (``nan`` if 0) and
        :math:`\\sigma^2=\\operatorname{tr}\\Sigma_\\epsilon`.

    >>> p = make_quadratic([2.0, 1.0], noise_cov=[0.5, 0.5])
    >>> float(p.L), float(p.mu), float(p.sigma2), p.grad(p.x0).tolist()
    (2.0, 1.0, 1.0, [2.0, 1.0])
    """
    lam = check_array("eigvals", eigvals, (np.size(eigvals),)) if np.ndim(eigvals) <= 1 else np.asarray(eigvals)
    if lam.ndim != 1:
        raise ParameterError(f"eigvals must be a 1-D array; got shape {lam.shape}")
    d = lam.size
    if d == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0) or lam.max() <= 0:
        raise ParameterError(f"eigvals must be finite, nonnegative and not all zero; got {lam.tolist()[:8]}")
    if eigvecs is None:  # the standard basis: stored diagonal, the eigenvalues in coordinate order
        h: Any = DiagonalMatrix(diagonal=lam)
        q: Any = DiagonalMatrix(diagonal=np.ones(d))
    else:
        order = np.argsort(lam)
        lam = lam[order]
        q = check_array("eigvecs", eigvecs, (d, d))[:, order]
        if q.shape != (d, d) or not np.allclose(q.T @ q, np.eye(d), atol=1e-10):
            raise ParameterError(f"eigvecs must be an orthogonal ({d}, {d}) matrix")
        h = (q * lam) @ q.T
        h = 0.5 * (h + h.T)
    xs = np.zeros(d) if x_star is None else check_array("x_star", x_star, (d,))
    factor, sigma2 = _noise_factor(noise_cov, d)
    start = xs + 1.0 if x0 is None else check_array("x0", x0, (d,))
    mu = lam.min() if lam.min() > 0 else np.nan
    fs = np.float64(check_real("f_star", f_star))
    return Quadratic(
        x0=start, L=np.float64(lam.max()), mu=np.float64(mu), f_star=fs, sigma2=np.float64(sigma2),
        minima=(Minimum(x=xs, hessian=h, value=fs, label=label),), name=name, dim=d, n=None,
        H=h, eigvals=lam, eigvecs=q, x_star=xs, noise_factor=factor,
    )


def _noise_factor(noise_cov: Any | None, d: int) -> tuple[Any, float]:
    """:math:`S` with :math:`SS^\\top=\\Sigma_\\epsilon` (diagonal, the ``sqrt`` of the variances, when the covariance
    is; else from its eigendecomposition) and :math:`\\operatorname{tr}\\Sigma_\\epsilon`."""
    if noise_cov is None:
        return DiagonalMatrix(diagonal=np.zeros(d)), 0.0
    if np.ndim(noise_cov) == 1:
        var = check_array("noise_cov", noise_cov, (d,))
        cov = None
    else:
        cov = check_array("noise_cov", noise_cov, (d, d))
        if cov.shape != (d, d) or not np.allclose(cov, cov.T):
            raise ParameterError(f"noise_cov must be a symmetric ({d}, {d}) matrix or a ({d},) vector of variances")
        var = np.diag(cov).copy() if np.all(cov == np.diag(np.diag(cov))) else None
    if var is not None:
        if var.min() < 0:
            raise ParameterError(f"noise_cov must be positive semidefinite; smallest variance {var.min():g}")
        return DiagonalMatrix(diagonal=np.sqrt(var)), float(np.sum(var))
    w, v = np.linalg.eigh(cov)
    if w.min() < -1e-12 * max(1.0, w.max()):
        raise ParameterError(f"noise_cov must be positive semidefinite; smallest eigenvalue {w.min():g}")
    return v * np.sqrt(np.clip(w, 0.0, None)), float(np.trace(cov))


def spectrum(dim: int, mu: float, L: float, spacing: str) -> np.ndarray:
    """Eigenvalues from ``mu`` to ``L``: ``"geometric"``, ``"linear"``, or ``"two"`` (half ``mu``, half ``L``).

    A single eigenvalue (``dim == 1``) is ``L``, whatever the spacing, so that ``L`` is always the largest.
    Geometric spacing with ``mu = 0`` puts one eigenvalue at 0 and the others from ``L/dim`` to ``L``.
    """
    if dim == 1:
        return np.array([L], dtype=np.float64)
    if spacing == "geometric":
        lam = np.geomspace(mu, L, dim) if mu > 0 else np.concatenate([[0.0], np.geomspace(L, L / dim, dim - 1)[::-1]])
    elif spacing == "linear":
        lam = np.linspace(mu, L, dim)
    else:
        lam = np.where(np.arange(dim) < dim // 2, mu, L).astype(np.float64)
    return np.clip(lam, mu, L)  # geomspace's round-off can step one ulp past L (geomspace(5, 5, 3))


def random_rotation(dim: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian matrix with sign correction)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


@register("quadratic")
def quadratic(dim: int = 10, mu: float = 0.1, L: float = 1.0, spacing: str = "geometric",
              sigma2: float = 1.0, rotate: bool = True, seed: int = 0) -> Quadratic:
    """Quadratic with spectrum in [mu, L] and isotropic additive noise of trace sigma2.

    :math:`H=Q\\,\\mathrm{diag}(\\lambda)Q^\\top` with :math:`\\lambda` spaced between ``mu`` and ``L``
    (``spacing`` geometric, linear or two), :math:`Q` Haar-random if ``rotate``;
    :math:`\\Sigma_\\epsilon=\\frac{\\sigma^2}{d}I`. Sharpness dial: ``L``.

    Args:
        dim: dimension d, in [1, 4096] with ``rotate`` (a dense rotation), in [1, 10^7] without (stored diagonal).
        mu: smallest eigenvalue, in [0, L] (0: not strongly convex).
        L: largest eigenvalue (the smoothness constant), > 0.
        spacing: eigenvalue spacing: geometric, linear or two.
        sigma2: trace of the per-sample noise covariance, in [0, 1e300].
        rotate: Haar-random eigenbasis (True) or the standard basis.
        seed: seed of the eigenbasis, in [0, 2^63 - 1].
    """
    rotate = check_bool("rotate", rotate)
    dim = check_int("dim", dim, lo=1, hi=MAX_DIM)
    if rotate and dim > MAX_DENSE_DIM:
        raise ParameterError(f"dim must be in [1, {MAX_DENSE_DIM}] with rotate=True (a dense d x d rotation); got "
                             f"{dim} (rotate=False stores the quadratic as its diagonal, up to dim 10^7)")
    L = check_real("L", L, lo=0.0, lo_open=True)
    mu = check_real("mu", mu, lo=0.0, hi=L)
    spacing = check_choice("spacing", spacing, ("geometric", "linear", "two"))
    sigma2 = check_real("sigma2", sigma2, lo=0.0, hi=1e300)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    q = random_rotation(dim, seed) if rotate else None
    return make_quadratic(spectrum(dim, mu, L, spacing), eigvecs=q, noise_cov=np.full(dim, sigma2 / dim),
                          name="quadratic")


@register("noisy-quadratic")
def noisy_quadratic(dim: int = 100, scale: float = 1.0) -> Quadratic:
    """Noisy quadratic model: eigenvalues 1/i, noise covariance scale * H.

    :math:`H=\\mathrm{diag}(1,\\tfrac12,\\dots,\\tfrac1d)`, :math:`\\Sigma_\\epsilon=c\\,H`, so
    :math:`L=1`, :math:`\\mu=1/d`, :math:`\\sigma^2=c\\sum_{i\\le d}1/i`. Start :math:`x_0=\\mathbf 1`.

    Args:
        dim: dimension d, in [1, 10^7] (stored diagonal).
        scale: noise covariance scale c (covariance c H), in [0, 1e300].
    """
    dim = check_int("dim", dim, lo=1, hi=MAX_DIM)
    scale = check_real("scale", scale, lo=0.0, hi=1e300)
    lam = 1.0 / np.arange(1, dim + 1)
    return make_quadratic(lam, noise_cov=scale * lam, x0=np.ones(dim), name="noisy-quadratic")
