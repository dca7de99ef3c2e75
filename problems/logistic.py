"""Logistic regression with a nonconvex regulariser on synthetic, non-separable data.

.. math:: f_i(x)=\\log\\big(1+e^{-y_ia_i^\\top x}\\big)+\\lambda\\sum_{j=1}^d\\frac{x_j^2}{1+x_j^2},\\qquad
          f=\\frac1n\\sum_{i=1}^nf_i .

Data (seeded): :math:`a_i\\sim N(0,I_d)`, planted :math:`w\\sim N(0,I_d)`, :math:`y_i=\\mathrm{sign}(a_i^\\top w)`
flipped with probability ``label_noise``. The data must not be separable even weakly (no
:math:`x\\ne0` with :math:`y_ia_i^\\top x\\ge0` for all :math:`i`; checked by Gordan's alternative as a
linear program): then the logistic part is coercive and, the regulariser being bounded, :math:`f` has
a global minimizer. Otherwise :class:`ParameterError`.

**Smoothness** [exact]. With :math:`m_i=y_ia_i^\\top x`, :math:`\\sigma(t)=1/(1+e^{-t})`, :math:`r(t)=t^2/(1+t^2)`:

.. math:: \\nabla^2f(x)=\\frac1n\\sum_i\\sigma(m_i)\\sigma(-m_i)\\,a_ia_i^\\top+\\lambda\\,\\mathrm{diag}(r''(x_j)),
          \\qquad r''(t)=\\frac{2-6t^2}{(1+t^2)^3}\\in[-\\tfrac12,2].

:math:`\\sigma(m)\\sigma(-m)\\le\\frac14` with equality iff :math:`m=0`, so the first term lies between 0 and
:math:`\\frac1{4n}A^\\top A`; :math:`r''\\le2` with equality iff :math:`t=0` (and :math:`r''\\ge-\\frac12`, at
:math:`t^2=1`). Hence :math:`-\\frac\\lambda2I\\preceq\\nabla^2f(x)\\preceq\\frac1{4n}A^\\top A+2\\lambda I` for all
:math:`x`, with equality on the right at :math:`x=0`: :math:`L=\\lambda_{\\max}(A^\\top A)/(4n)+2\\lambda`,
attained at :math:`x=0`. ``mu = nan``.

**Variance** [global bound, not attained]. :math:`\\nabla f_i(x)-\\nabla f(x)=v_i-\\bar v` with
:math:`v_i=-y_i\\sigma(-m_i)a_i` (the regulariser is common to all samples), so
:math:`\\frac1n\\sum_i\\|v_i-\\bar v\\|^2\\le\\frac1n\\sum_i\\|v_i\\|^2<\\frac1n\\sum_i\\|a_i\\|^2=` ``sigma2``.
The exact state-dependent value is :meth:`~problems.FiniteSum.sigma2_at`.

**Minima** [numerical, not certified]. Multi-start L-BFGS (scipy, from 0, the planted :math:`w` and
``starts`` Gaussian points of growing scale), each result polished by Newton steps with the analytic
Hessian to round-off; the distinct points with positive definite Hessian are the listed minima,
sorted by sharpness :math:`\\lambda_{\\max}`: labels ``"flat"`` (flattest), ``"sharp"`` (sharpest) and
``"mid1"``, ``"mid2"``, ... between; a single one is ``"global"``. ``f_star`` is the best value found,
not a certified global minimum. Start :math:`x_0=0`; samples are indices without replacement.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linprog

from ._base import Array, Minimum, masked_mean, pytree_dataclass
from ._finite_sum import FiniteSum
from ._registry import register
from ._search import local_minima, sharpness_labels
from ._validate import ParameterError, check_int, check_real


@pytree_dataclass
class Logistic(FiniteSum):
    """Nonconvex-regularised logistic regression.

    Attributes (beyond :class:`Problem`):
        A: features, ``(n, dim)``; y: labels in :math:`\\{-1,+1\\}`, ``(n,)``.
        reg: :math:`\\lambda`.
        planted: the planted direction :math:`w` used to draw the labels.
    """

    A: Array
    y: Array
    reg: Array
    planted: Array

    @property
    def sources(self) -> dict[str, str]:
        """L and sigma2 are exact (a global bound); the minima and f_star are found numerically."""
        return dict(super().sources, minima="estimated", f_star="estimated")

    @property
    def notes(self) -> tuple[str, ...]:
        return (f"minima: {len(self.minima)} found by multi-start L-BFGS + Newton polish (not certified); f_star "
                "is the best value found, an upper bound on inf f",)

    def _reg_grad(self, x: Array) -> Array:
        return self.reg * 2.0 * x / (1.0 + x * x) ** 2

    def value(self, x: Array) -> Array:
        m = self.y * (self.A @ x)
        return jnp.mean(jnp.logaddexp(0.0, -m)) + self.reg * jnp.sum(x * x / (1.0 + x * x))

    def grad(self, x: Array) -> Array:
        m = self.y * (self.A @ x)
        return -(self.A.T @ (self.y * jax.nn.sigmoid(-m))) / self.n + self._reg_grad(x)

    def hessian(self, x: Array) -> Array:
        m = self.y * (self.A @ x)
        w = jax.nn.sigmoid(m) * jax.nn.sigmoid(-m)
        t2 = x * x
        return (self.A.T * w[None, :]) @ self.A / self.n + jnp.diag(self.reg * (2.0 - 6.0 * t2) / (1.0 + t2) ** 3)

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        a, y = jnp.asarray(self.A)[xi_i], jnp.asarray(self.y)[xi_i]
        return -y * jax.nn.sigmoid(-y * (a @ x)) * a + self._reg_grad(x)

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        a, y = jnp.asarray(self.A)[xi], jnp.asarray(self.y)[xi]
        coef = -y * jax.nn.sigmoid(-y * (a @ x))
        return masked_mean(a * coef[:, None], mask) + self._reg_grad(x)


def _np_parts(a: np.ndarray, y: np.ndarray, reg: float):
    n = a.shape[0]

    def sig(t: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * t))

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        m = y * (a @ x)
        f = np.mean(np.logaddexp(0.0, -m)) + reg * np.sum(x * x / (1 + x * x))
        g = -(a.T @ (y * sig(-m))) / n + reg * 2 * x / (1 + x * x) ** 2
        return float(f), g

    def hess(x: np.ndarray) -> np.ndarray:
        m = y * (a @ x)
        w = sig(m) * sig(-m)
        return (a.T * w) @ a / n + np.diag(reg * (2 - 6 * x * x) / (1 + x * x) ** 3)

    return fg, hess


def _weakly_separable(a: np.ndarray, y: np.ndarray) -> bool:
    """Whether some :math:`x\\ne0` has :math:`y_ia_i^\\top x\\ge0` for all :math:`i`.

    Gordan/Stiemke: for :math:`M=\\mathrm{diag}(y)A` of full column rank, no such :math:`x` exists iff
    :math:`M^\\top\\lambda=0` for some :math:`\\lambda>0` (scaled: :math:`\\lambda\\ge1`), a feasibility LP.
    """
    mat = y[:, None] * a
    if np.linalg.matrix_rank(mat) < a.shape[1]:
        return True
    res = linprog(np.zeros(a.shape[0]), A_eq=mat.T, b_eq=np.zeros(a.shape[1]), bounds=[(1.0, None)] * a.shape[0],
                  method="highs")
    return res.status != 0


@register("logistic")
def logistic(dim: int = 5, n: int = 200, reg: float = 0.1, label_noise: float = 0.1, starts: int = 16,
             seed: int = 0) -> Logistic:
    """Logistic regression with the nonconvex regulariser reg * sum x^2/(1+x^2) on synthetic data.

    Gaussian features, labels from a planted direction flipped with probability ``label_noise``;
    ``L = lambda_max(A^T A)/(4n) + 2 reg`` exactly, ``f_star`` the best of ``starts`` + 2 L-BFGS runs.

    Args:
        dim: dimension d, in [1, 1000].
        n: number of samples, in [1, 1e6].
        reg: weight of the nonconvex regulariser, in [0, 1e6].
        label_noise: probability of a flipped label, in [0, 0.5].
        starts: L-BFGS starts for f_star, in [0, 1000].
        seed: data seed, in [0, 2^63 - 1].

    Example:
        >>> import problems
        >>> p = problems.make("logistic", dim=3, n=50)
        >>> p.dim, p.n, len(p.minima) >= 1
        (3, 50, True)
    """
    dim = check_int("dim", dim, lo=1, hi=1000)
    n = check_int("n", n, lo=1, hi=10**6)
    reg = check_real("reg", reg, lo=0.0, hi=1e6)
    label_noise = check_real("label_noise", label_noise, lo=0.0, hi=0.5)
    starts = check_int("starts", starts, lo=0, hi=1000)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, dim))
    planted = rng.standard_normal(dim)
    y = np.where(a @ planted >= 0, 1.0, -1.0)
    y = np.where(rng.random(n) < label_noise, -y, y)
    if _weakly_separable(a, y):
        raise ParameterError(f"the data are linearly separable (n={n}, dim={dim}, label_noise={label_noise:g}, "
                             f"seed={seed}), so f has no minimizer; increase n or label_noise")

    fg, hess = _np_parts(a, y, reg)
    inits = [np.zeros(dim), planted] + [rng.standard_normal(dim) * (1 + 4 * k / max(starts, 1)) for k in range(starts)]
    found, _ = local_minima(fg, hess, inits)
    if not found:
        raise ParameterError(f"no local minimum found from {len(inits)} starts (reg={reg:g}); increase starts")
    labels = sharpness_labels(len(found))
    minima = tuple(Minimum(x=z, hessian=0.5 * (hess(z) + hess(z).T), value=np.float64(fg(z)[0]), label=lab)
                   for z, lab in zip(found, labels))
    L = np.linalg.eigvalsh(a.T @ a / n)[-1] / 4 + 2 * reg
    return Logistic(
        x0=np.zeros(dim), L=np.float64(L), mu=np.float64(np.nan), f_star=np.float64(min(m.value for m in minima)),
        sigma2=np.float64(np.mean(np.sum(a * a, axis=1))), minima=minima, name="logistic", dim=dim, n=n,
        A=a, y=y, reg=np.float64(reg), planted=planted,
    )
