"""The :math:`\\epsilon`-sharpness of Keskar et al. (2017): the largest rise of :math:`f` in a box or ball.

Split from :mod:`analysis.sharpness` (which sees the Hessian through Hessian-vector products); this one
needs only :math:`f` and its gradient, and searches the worst perturbation.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from problems import ParameterError, check_choice, check_int, check_real

from .hessian import _point

Array = jax.Array
Fn = Callable[[Array], Array]


def _ascent(f: Fn, x: Array, r: Array, starts: Array, steps: int, linf: bool) -> tuple[Array, Array]:
    """Best ``(f(x + delta), delta)`` over the iterates of :func:`epsilon_sharpness`'s search from each start."""
    fg = jax.value_and_grad(lambda d: f(x + d))

    def lmo(g: Array) -> Array:  # argmax_{s in C} <g, s>: the steepest-ascent step to the boundary of C
        return r * jnp.sign(g) if linf else r * g / jnp.maximum(jnp.linalg.norm(g), 1e-300)

    def proj(d: Array) -> Array:
        return jnp.clip(d, -r, r) if linf else d * jnp.minimum(1.0, r / jnp.maximum(jnp.linalg.norm(d), 1e-300))

    n_fw = steps // 2  # conditional-gradient steps, then projected ascent with steps etas[t]
    etas = jnp.concatenate([jnp.zeros(n_fw), jnp.geomspace(0.5, 1e-3, steps - n_fw)])

    def one(d0: Array) -> tuple[Array, Array]:
        def body(carry: tuple[Array, Array, Array], t: Array) -> tuple[tuple[Array, Array, Array], None]:
            d, best_v, best_d = carry
            v, g = fg(d)
            better = v > best_v
            best_v, best_d = jnp.where(better, v, best_v), jnp.where(better, d, best_d)
            return (jnp.where(t < n_fw, lmo(g), proj(d + etas[t] * lmo(g))), best_v, best_d), None

        (_, best_v, best_d), _ = jax.lax.scan(body, (d0, -jnp.inf, d0), jnp.arange(steps + 1))  # +1: score the last
        return best_v, best_d

    vals, deltas = jax.vmap(one)(starts)
    i = jnp.argmax(vals)  # NaN values never become a best (v > best is False)
    return vals[i], deltas[i]


def epsilon_sharpness(f: Fn, x: Any, epsilon: float, *, norm: str = "linf", steps: int = 100, restarts: int = 64,
                      key: Array | None = None, return_delta: bool = False, relative: bool = True) -> float | tuple[float, np.ndarray]:
    """The :math:`\\epsilon`-sharpness of Keskar et al. (2017), in percent, in the full space:

    .. math:: \\phi_{x,f}(\\epsilon)=100\\cdot\\frac{\\max_{\\delta\\in C_\\epsilon}f(x+\\delta)-f(x)}{1+f(x)},

    ``norm="linf"``: Keskar's box :math:`C_\\epsilon=\\{\\delta:|\\delta_i|\\le\\epsilon(|x_i|+1)\\,\\forall i\\}`
    (their :math:`A=I_d`, no random subspace); ``norm="l2"``: the ball :math:`\\|\\delta\\|_2\\le\\epsilon` (not
    scaled by :math:`x`). The factor 100 and the denominator :math:`1+f(x)` are Keskar's and assume :math:`f\\ge0`
    (:math:`1+f(x)\\le0` raises); adding a constant to :math:`f` changes :math:`\\phi`. ``relative=False`` gives
    the raw increase :math:`\\max_{\\delta\\in C_\\epsilon}f(x+\\delta)-f(x)` instead (no factor, no denominator),
    which is invariant to such constants (use it when :math:`f` can be negative, e.g. on ``two-basin``).

    Keskar maximised with L-BFGS-B; here, from :math:`\\delta=0`, from :math:`s_0=\\arg\\max_{s\\in C_\\epsilon}
    \\langle\\nabla f(x),s\\rangle` (the vertex :math:`\\epsilon(|x|+1)\\odot\\mathrm{sign}\\nabla f(x)`, or
    :math:`\\epsilon\\nabla f/\\|\\nabla f\\|`) and from ``restarts`` uniform random points of :math:`C_\\epsilon`:
    ``steps // 2`` conditional-gradient steps :math:`\\delta\\leftarrow\\arg\\max_{s\\in C_\\epsilon}\\langle\\nabla
    f(x+\\delta),s\\rangle` (non-decreasing for convex :math:`f`; the power method for a quadratic on the ball),
    then projected steepest ascent :math:`\\delta\\leftarrow P_C(\\delta+\\eta_ts_t)`, :math:`\\eta_t` from 0.5 down
    to :math:`10^{-3}` geometrically (box-scaled sign steps for linf). The best :math:`f(x+\\delta)` seen is
    used: a **lower bound** on the max (exact when a global maximiser is found), so :math:`\\phi\\ge0`.

    Args:
        f: JAX-traceable :math:`f`; x: the point, 1-D, finite.
        epsilon: :math:`\\epsilon>0` (Keskar: :math:`10^{-3}` and :math:`5\\cdot10^{-4}`); norm: ``"linf"`` or ``"l2"``.
        steps: search steps per start (>= 1); restarts: number of random starts (>= 0).
        key: ``jax.random`` key of the random starts; ``None`` means ``jax.random.key(0)``.
        return_delta: return ``(phi, delta)``, with the maximiser ``delta`` found (shape ``(d,)``), not ``phi``.
        relative: Keskar's normalised percentage (default) or, if false, the raw increase.

    >>> import jax.numpy as jnp
    >>> f = lambda x: 0.5 * (4.0 * x[0] ** 2 + x[1] ** 2)
    >>> round(epsilon_sharpness(f, jnp.zeros(2), 0.1, norm="l2"), 10)   # 100 * 0.5 * 0.1**2 * 4
    2.0

    Reference: Keskar, Mudigere, Nocedal, Smelyanskiy & Tang, "On large-batch training for deep
    learning: generalization gap and sharp minima", ICLR 2017, §2.2.2, Metric 2.1 (eqs. 3-4).
    """
    xa = _point(x)
    epsilon = check_real("epsilon", epsilon, lo=0.0, lo_open=True)
    linf = check_choice("norm", norm, ("linf", "l2")) == "linf"
    steps = check_int("steps", steps, lo=1)
    restarts = check_int("restarts", restarts, lo=0)
    key = jax.random.key(0) if key is None else key
    f0, g0 = jax.value_and_grad(f)(xa)  # eager: random draws and small ops are cached per shape, a jit is not
    f0, d = float(f0), xa.size
    if not math.isfinite(f0) or (relative and 1.0 + f0 <= 0):
        raise ParameterError(f"epsilon-sharpness divides by 1 + f(x), which must be finite and > 0 "
                             f"(relative=False gives the raw increase); got f(x) = {f0:g}")
    if linf:
        r = epsilon * (jnp.abs(xa) + 1.0)
        rand = r[None, :] * jax.random.uniform(key, (restarts, d), minval=-1.0, maxval=1.0)
        first = r * jnp.sign(g0)
    else:
        u = jax.random.normal(key, (restarts, d + 2))  # uniform on S^{d+1}, first d coordinates: uniform in B^d
        r, rand = jnp.asarray(epsilon), epsilon * u[:, :d] / jnp.linalg.norm(u, axis=1, keepdims=True)
        first = epsilon * g0 / max(float(jnp.linalg.norm(g0)), 1e-300)
    starts = jnp.concatenate([jnp.zeros((1, d)), first[None], rand])
    best, delta = jax.jit(lambda x_, r_, s_: _ascent(f, x_, r_, s_, steps, linf))(xa, r, starts)
    rise = max(float(best) - f0, 0.0)
    value = 100.0 * rise / (1.0 + f0) if relative else rise
    return (value, np.asarray(delta)) if return_delta else value
