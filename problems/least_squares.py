"""Finite-sum least squares with a prescribed spectrum: sampling noise that depends on the state.

.. math:: f(x)=\\frac1n\\sum_{i=1}^n f_i(x),\\qquad f_i(x)=\\tfrac12(a_i^\\top x-y_i)^2,\\qquad
          \\nabla f_i(x)=a_i(a_i^\\top x-y_i).

Construction (all in float64 numpy): :math:`U\\in\\mathbb R^{n\\times(d+1)}` with orthonormal columns
(QR of a Gaussian matrix), :math:`A=\\sqrt n\\,U_{:,1:d}\\,\\mathrm{diag}(\\sqrt\\lambda)\\,Q^\\top`, so
:math:`H=\\frac1nA^\\top A=Q\\,\\mathrm{diag}(\\lambda)\\,Q^\\top` has exactly the prescribed spectrum
(spaced in :math:`[\\mu,L]` as in :func:`problems.quadratic.spectrum`, :math:`Q` Haar-random if
``rotate``). The targets are :math:`y=Ax^\\star+r` with the residual :math:`r=\\sqrt n\\,s\\,U_{:,d+1}`
orthogonal to :math:`\\mathrm{range}(A)` (:math:`A^\\top r=0`) and rms :math:`\\|r\\|/\\sqrt n=s`
(parameter ``noise``). Hence

.. math:: f(x)=\\tfrac12(x-x^\\star)^\\top H(x-x^\\star)+f^\\star,\\qquad f^\\star=\\frac{\\|r\\|^2}{2n}=\\frac{s^2}2,

with the unique minimizer :math:`x^\\star` (Gaussian, seeded, scaled to norm 1; start :math:`x_0=0`).

Exact constants: :math:`L=\\lambda_{\\max}`, :math:`\\mu=\\lambda_{\\min}>0`, :math:`f^\\star=s^2/2`.

Oracle: indices drawn without replacement (:class:`problems.FiniteSum`; ``sample(key, size)`` needs
``size <= n``). The per-sample variance is **state dependent** and unbounded in :math:`x`:
:meth:`~problems.FiniteSum.sigma2_at` gives it exactly,
:math:`\\sigma^2(x)=\\frac1n\\sum_i\\|\\nabla f_i(x)-\\nabla f(x)\\|^2`, and a batch of :math:`b` has
:math:`\\mathbb E\\|g_b-\\nabla f\\|^2=p_b\\,\\sigma^2(x)`, :math:`p_b=\\frac{n-b}{b(n-1)}`. The field
``sigma2`` is its value **at the minimizer**, :math:`\\sigma^2(x^\\star)=\\frac1n\\sum_i\\|a_i\\|^2r_i^2`
(since :math:`\\sum_ia_ir_i=A^\\top r=0`): the noise floor, not a global bound (THEORY.md §A4).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._base import Array, Minimum, masked_mean, pytree_dataclass
from ._finite_sum import FiniteSum
from ._registry import register
from ._validate import ParameterError, check_choice, check_int, check_real
from .quadratic import random_rotation, spectrum


@pytree_dataclass
class LeastSquares(FiniteSum):
    """:math:`\\frac1{2n}\\|Ax-y\\|^2` with :math:`\\frac1nA^\\top A=Q\\,\\mathrm{diag}(\\lambda)Q^\\top`.

    Attributes (beyond :class:`Problem`):
        A: the design matrix, ``(n, dim)``.
        y: the targets, ``(n,)``.
        H: :math:`\\frac1nA^\\top A`, ``(dim, dim)``.
        eigvals: the prescribed eigenvalues of ``H``, ascending.
        eigvecs: their orthonormal eigenvectors (columns).
        x_star: the minimizer.
        residual: :math:`r=y-Ax^\\star`, orthogonal to the columns of ``A``.
    """

    A: Array
    y: Array
    H: Array
    eigvals: Array
    eigvecs: Array
    x_star: Array
    residual: Array

    def value(self, x: Array) -> Array:
        r = self.A @ x - self.y
        return 0.5 * jnp.mean(r * r)

    def grad(self, x: Array) -> Array:
        return self.A.T @ (self.A @ x - self.y) / self.n

    def hessian(self, x: Array) -> Array:
        return jnp.asarray(self.H)

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        a = jnp.asarray(self.A)[xi_i]
        return a * (a @ x - jnp.asarray(self.y)[xi_i])

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        a = jnp.asarray(self.A)[xi]
        r = a @ x - jnp.asarray(self.y)[xi]
        return masked_mean(a * r[:, None], mask)

    def basin(self, x: Array) -> Array:
        return jnp.zeros((), jnp.int32)


@register("least-squares")
def least_squares(dim: int = 10, n: int = 100, mu: float = 0.1, L: float = 1.0, spacing: str = "geometric",
                  noise: float = 0.1, rotate: bool = True, seed: int = 0) -> LeastSquares:
    """Finite-sum least squares with spectrum in [mu, L] and rms residual noise (sampling noise).

    :math:`f_i(x)=\\frac12(a_i^\\top x-y_i)^2`, :math:`\\frac1nA^\\top A` with eigenvalues spaced between
    ``mu`` and ``L`` (``spacing`` geometric, linear or two), residual :math:`y-Ax^\\star\\perp
    \\mathrm{range}(A)` of rms ``noise``. Needs ``n >= dim`` (``n >= dim + 1`` when ``noise > 0``).

    Args:
        dim: dimension d, in [1, 4096].
        n: number of samples, in [1, 1e6] (at least dim; dim + 1 when noise > 0).
        mu: smallest eigenvalue of A^T A / n, in (0, L].
        L: largest eigenvalue of A^T A / n, > 0.
        spacing: eigenvalue spacing: geometric, linear or two.
        noise: rms residual at the minimizer, in [0, 1e150].
        rotate: Haar-random right singular vectors (True) or the standard basis.
        seed: data seed, in [0, 2^63 - 1].

    Example:
        >>> import problems
        >>> p = problems.make("least-squares", dim=3, n=20, noise=0.5)
        >>> round(float(p.f_star), 12), p.n
        (0.125, 20)
    """
    dim = check_int("dim", dim, lo=1, hi=4096)
    n = check_int("n", n, lo=1, hi=10**6)
    L = check_real("L", L, lo=0.0, lo_open=True)
    mu = check_real("mu", mu, lo=0.0, hi=L, lo_open=True)
    spacing = check_choice("spacing", spacing, ("geometric", "linear", "two"))
    noise = check_real("noise", noise, lo=0.0, hi=1e150)
    if not isinstance(rotate, (bool, np.bool_)):
        raise ParameterError(f"rotate must be a bool, got {rotate!r}")
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    need = dim + 1 if noise > 0 else dim
    if n < need:
        why = "dim + 1: a residual needs noise > 0" if noise > 0 else "dim"
        raise ParameterError(f"n must be >= {need} ({why}), got {n}")

    lam = spectrum(dim, mu, L, spacing)
    rng = np.random.default_rng(seed)
    q = random_rotation(dim, seed) if rotate else np.eye(dim)
    u, _ = np.linalg.qr(rng.standard_normal((n, min(dim + 1, n))))
    a = np.sqrt(n) * (u[:, :dim] * np.sqrt(lam)) @ q.T
    x_star = rng.standard_normal(dim)
    x_star /= np.linalg.norm(x_star)
    r = np.sqrt(n) * noise * u[:, dim] if noise > 0 else np.zeros(n)
    y = a @ x_star + r
    h = (q * lam) @ q.T
    h = 0.5 * (h + h.T)
    f_star = np.float64(0.5 * np.dot(r, r) / n)
    sigma2 = np.float64(np.mean(np.sum(a * a, axis=1) * r * r))
    return LeastSquares(
        x0=np.zeros(dim), L=np.float64(lam[-1]), mu=np.float64(lam[0]), f_star=f_star, sigma2=sigma2,
        minima=(Minimum(x=x_star, hessian=h, value=f_star, label="global"),),
        name="least-squares", dim=dim, n=n,
        A=a, y=y, H=h, eigvals=lam, eigvecs=q, x_star=x_star, residual=r,
    )
