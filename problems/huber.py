"""The 1-D Huber function on which gradient descent attains its tight convex bound (THEORY.md §B2).

With :math:`\\delta=D_0/(2T+1)`:

.. math:: f(x)=\\begin{cases}L\\delta|x|-\\tfrac L2\\delta^2,&|x|\\ge\\delta,\\\\
          \\tfrac L2x^2,&|x|<\\delta,\\end{cases}\\qquad f'(x)=L\\,\\mathrm{clip}(x,-\\delta,\\delta),

convex and :math:`L`-smooth (:math:`f''\\in\\{0,L\\}`; :math:`L` exact, attained on :math:`|x|<\\delta`),
not strongly convex (``mu = nan``), :math:`f^\\star=0` at :math:`x^\\star=0` (Hessian :math:`L`).
From :math:`x_0=D_0`, gradient descent with :math:`\\eta=1/L` moves by :math:`\\delta` per step and stays
on the linear piece for :math:`T` steps, ending at :math:`x_T=D_0\\frac{T+1}{2T+1}` with

.. math:: f(x_T)-f^\\star=\\frac{LD_0^2}{4T+2}

exactly: the Drori–Teboulle bound for :math:`h=1` [cited, unverified] is attained [exact] (field
``gd_bound``). Oracle: :math:`g=f'(x)+\\epsilon`, :math:`\\epsilon\\sim N(0,\\nu^2)` (``noise`` :math:`=\\nu`,
default 0: deterministic), ``sigma2`` :math:`=\\nu^2` exactly at every point.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._base import Array, IsotropicNoise, Minimum, pytree_dataclass
from ._registry import register
from ._validate import check_int, check_real


@pytree_dataclass
class Huber(IsotropicNoise):
    """The GD-tightness witness :math:`f(x)=L\\,\\mathrm{huber}_\\delta(x)`, :math:`\\delta=D_0/(2T+1)`.

    Attributes (beyond :class:`Problem`):
        kink: :math:`\\delta`.
        D0: the initial distance :math:`D_0=|x_0-x^\\star|`.
        gd_bound: :math:`LD_0^2/(4T+2)`, the value GD with step :math:`1/L` reaches after :math:`T` steps.
        noise: the noise std :math:`\\nu`.
    """

    kink: Array
    D0: Array
    gd_bound: Array
    noise: Array

    def value(self, x: Array) -> Array:
        ax = jnp.abs(x)
        inner = 0.5 * self.L * x * x
        outer = self.L * self.kink * ax - 0.5 * self.L * self.kink**2
        return jnp.sum(jnp.where(ax < self.kink, inner, outer))

    def grad(self, x: Array) -> Array:
        return self.L * jnp.clip(x, -self.kink, self.kink)

    def hessian(self, x: Array) -> Array:
        return jnp.diag(jnp.where(jnp.abs(x) < self.kink, self.L, 0.0 * self.L))

    def basin(self, x: Array) -> Array:
        return jnp.zeros((), jnp.int32)


@register("huber")
def huber(L: float = 1.0, D0: float = 1.0, T: int = 10, noise: float = 0.0) -> Huber:
    """1-D Huber function attaining the tight GD bound L*D0^2/(4T+2) after T steps of size 1/L.

    Args:
        L: smoothness constant, in (0, 1e12].
        D0: distance of x0 from the minimizer, in (0, 1e12].
        T: the horizon the witness is built for, in [1, 1e9].
        noise: std of additive gradient noise, in [0, 1e150].

    Example:
        >>> import problems
        >>> p = problems.make("huber", T=2)
        >>> float(p.gd_bound), float(p.kink)
        (0.1, 0.2)
    """
    L = check_real("L", L, lo=0.0, hi=1e12, lo_open=True)
    D0 = check_real("D0", D0, lo=0.0, hi=1e12, lo_open=True)
    T = check_int("T", T, lo=1, hi=10**9)
    noise = check_real("noise", noise, lo=0.0, hi=1e150)
    kink = D0 / (2 * T + 1)
    return Huber(
        x0=np.array([D0]), L=np.float64(L), mu=np.float64(np.nan), f_star=np.float64(0.0), sigma2=np.float64(noise**2),
        minima=(Minimum(x=np.zeros(1), hessian=np.array([[L]]), value=np.float64(0.0), label="global"),),
        name="huber", dim=1, n=None, kink=np.float64(kink), D0=np.float64(D0),
        gd_bound=np.float64(L * D0**2 / (4 * T + 2)), noise=np.float64(noise),
    )
