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

from ._base import Array, Minimum, Problem, pytree_dataclass, static_field
from ._registry import register
from ._validate import ParameterError, check_array, check_bool, check_choice, check_int, check_real


@pytree_dataclass
class Quadratic(Problem):
    """:math:`\\tfrac12(x-x^\\star)^\\top H(x-x^\\star)+f^\\star` with additive Gaussian gradient noise.

    Attributes (beyond :class:`Problem`):
        H: the Hessian, ``(dim, dim)``.
        eigvals: its eigenvalues :math:`\\lambda_1\\le\\dots\\le\\lambda_d`.
        eigvecs: orthonormal eigenvectors (columns), :math:`H=Q\\,\\mathrm{diag}(\\lambda)Q^\\top`.
        x_star: the minimizer.
        noise_factor: :math:`S` with :math:`\\Sigma_\\epsilon=SS^\\top` (per-sample noise covariance).
    """

    H: Array
    eigvals: Array
    eigvecs: Array
    x_star: Array
    noise_factor: Array
    noise_diagonal: bool = static_field(default=False)

    def value(self, x: Array) -> Array:
        r = x - self.x_star
        return 0.5 * r @ (self.H @ r) + self.f_star

    def grad(self, x: Array) -> Array:
        return self.H @ (x - self.x_star)

    def hessian(self, x: Array) -> Array:
        return self.H

    def sample(self, key: Array, size: int) -> Array:
        z = jax.random.normal(key, (size, self.dim), dtype=self.H.dtype)
        if self.noise_diagonal:  # same law, d instead of d^2 flops per sample
            return z * jnp.diagonal(self.noise_factor)[None, :]
        return z @ self.noise_factor.T

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        return self.grad(x) + xi_i

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        from ._base import masked_mean

        return self.grad(x) + masked_mean(xi, mask)

    batch_mean_law: ClassVar[bool] = True

    def sample_batch_mean(self, key: Array) -> Array:
        """:math:`S z`, :math:`z\\sim N(0,I_d)`: the first sample :meth:`sample` draws under ``key``."""
        return self.sample(key, 1)[0]

    def batch_mean_grad(self, x: Array, xi: Array, b: Array) -> Array:
        """:math:`H(x-x^\\star)+Sz/\\sqrt b`, exactly the law of the mean of ``b`` per-sample gradients
        (:math:`N(0,\\Sigma_\\epsilon/b)` noise), with one normal vector instead of ``b``."""
        return self.grad(x) + xi / jnp.sqrt(jnp.asarray(b, xi.dtype))

    @property
    def noise_cov(self) -> np.ndarray:
        """:math:`\\Sigma_\\epsilon=SS^\\top`."""
        s = np.asarray(self.noise_factor)
        return s @ s.T

    def basin(self, x: Array) -> Array:
        return jnp.zeros((), jnp.int32)


def make_quadratic(eigvals: Any, *, eigvecs: Any | None = None, x_star: Any | None = None,
                   noise_cov: Any | None = None, x0: Any | None = None, f_star: float = 0.0,
                   name: str = "quadratic", label: str = "global") -> Quadratic:
    """Build a :class:`Quadratic` from its spectrum, eigenvectors and noise covariance.

    Args:
        eigvals: eigenvalues :math:`\\lambda_i\\ge0` (at least one positive).
        eigvecs: orthogonal matrix :math:`Q` (identity if omitted).
        x_star: minimizer (zeros if omitted).
        noise_cov: per-sample noise covariance :math:`\\Sigma_\\epsilon` (PSD; zeros if omitted).
        x0: starting point (``x_star + 1`` if omitted).
        f_star: the optimal value.

    Returns:
        The problem, with :math:`L=\\max\\lambda`, :math:`\\mu=\\min\\lambda` (``nan`` if 0) and
        :math:`\\sigma^2=\\operatorname{tr}\\Sigma_\\epsilon`.
    """
    lam = check_array("eigvals", eigvals, (np.size(eigvals),)) if np.ndim(eigvals) <= 1 else np.asarray(eigvals)
    if lam.ndim != 1:
        raise ParameterError(f"eigvals must be a 1-D array; got shape {lam.shape}")
    d = lam.size
    if d == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0) or lam.max() <= 0:
        raise ParameterError(f"eigvals must be finite, nonnegative and not all zero; got {lam.tolist()}")
    order = np.argsort(lam)
    lam = lam[order]
    q = np.eye(d) if eigvecs is None else check_array("eigvecs", eigvecs, (d, d))[:, order]
    if q.shape != (d, d) or not np.allclose(q.T @ q, np.eye(d), atol=1e-10):
        raise ParameterError(f"eigvecs must be an orthogonal ({d}, {d}) matrix")
    h = (q * lam) @ q.T
    h = 0.5 * (h + h.T)
    xs = np.zeros(d) if x_star is None else check_array("x_star", x_star, (d,))
    cov = np.zeros((d, d)) if noise_cov is None else check_array("noise_cov", noise_cov, (d, d))
    if cov.shape != (d, d) or not np.allclose(cov, cov.T):
        raise ParameterError(f"noise_cov must be a symmetric ({d}, {d}) matrix")
    diagonal = bool(np.all(cov == np.diag(np.diag(cov))))
    if diagonal:
        if np.diag(cov).min() < 0:
            raise ParameterError(f"noise_cov must be positive semidefinite; smallest eigenvalue {np.diag(cov).min():g}")
        factor = np.diag(np.sqrt(np.diag(cov)))
    else:
        w, v = np.linalg.eigh(cov)
        if w.min() < -1e-12 * max(1.0, w.max()):
            raise ParameterError(f"noise_cov must be positive semidefinite; smallest eigenvalue {w.min():g}")
        factor = v * np.sqrt(np.clip(w, 0.0, None))
    start = xs + 1.0 if x0 is None else check_array("x0", x0, (d,))
    mu = lam[0] if lam[0] > 0 else np.nan
    fs = np.float64(check_real("f_star", f_star))
    return Quadratic(
        x0=start, L=np.float64(lam[-1]), mu=np.float64(mu), f_star=fs, sigma2=np.float64(np.trace(cov)),
        minima=(Minimum(x=xs, hessian=h, value=fs, label=label),), name=name, dim=d, n=None,
        H=h, eigvals=lam, eigvecs=q, x_star=xs, noise_factor=factor, noise_diagonal=diagonal,
    )


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
        dim: dimension d, in [1, 4096].
        mu: smallest eigenvalue, in [0, L] (0: not strongly convex).
        L: largest eigenvalue (the smoothness constant), > 0.
        spacing: eigenvalue spacing: geometric, linear or two.
        sigma2: trace of the per-sample noise covariance, in [0, 1e300].
        rotate: Haar-random eigenbasis (True) or the standard basis.
        seed: seed of the eigenbasis, in [0, 2^63 - 1].
    """
    dim = check_int("dim", dim, lo=1, hi=4096)
    L = check_real("L", L, lo=0.0, lo_open=True)
    mu = check_real("mu", mu, lo=0.0, hi=L)
    spacing = check_choice("spacing", spacing, ("geometric", "linear", "two"))
    sigma2 = check_real("sigma2", sigma2, lo=0.0, hi=1e300)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    q = random_rotation(dim, seed) if check_bool("rotate", rotate) else None
    return make_quadratic(spectrum(dim, mu, L, spacing), eigvecs=q, noise_cov=np.eye(dim) * sigma2 / dim,
                          name="quadratic")


@register("noisy-quadratic")
def noisy_quadratic(dim: int = 100, scale: float = 1.0) -> Quadratic:
    """Noisy quadratic model: eigenvalues 1/i, noise covariance scale * H.

    :math:`H=\\mathrm{diag}(1,\\tfrac12,\\dots,\\tfrac1d)`, :math:`\\Sigma_\\epsilon=c\\,H`, so
    :math:`L=1`, :math:`\\mu=1/d`, :math:`\\sigma^2=c\\sum_{i\\le d}1/i`. Start :math:`x_0=\\mathbf 1`.

    Args:
        dim: dimension d, in [1, 4096].
        scale: noise covariance scale c (covariance c H), in [0, 1e300].
    """
    dim = check_int("dim", dim, lo=1, hi=4096)
    scale = check_real("scale", scale, lo=0.0, hi=1e300)
    lam = 1.0 / np.arange(1, dim + 1)
    return make_quadratic(lam, noise_cov=scale * np.diag(lam), x0=np.ones(dim), name="noisy-quadratic")
