"""Step-size schedules as data: one formula whose every parameter may be a sweep axis.

.. math::
    s(t) = s_0 \\cdot w(t) \\cdot q^{\\lfloor t/\\tau\\rfloor} \\cdot \\frac{1}{1+t/t_0},\\qquad
    w(t) = \\min\\Big(1, \\frac{t+1}{t_w}\\Big)\\ (t_w>0),\\ w\\equiv1\\ (t_w=0).

Constant: :math:`t_w=0, q=1, \\tau=t_0=\\infty`. Step decay: factor :math:`q` every :math:`\\tau`
steps. Linear warm-up over :math:`t_w` steps. :math:`1/t` decay: :math:`t_0` (e.g. :math:`s_0=1/\\mu`,
:math:`t_0=1` gives :math:`\\eta_t=\\frac{1}{\\mu(t+1)}`, THEORY.md §H4). The pieces multiply, so a
warm-up followed by step decay is one schedule.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from problems import check_real, pytree_dataclass

Array = Any


@pytree_dataclass
class Schedule:
    """A step-size schedule :math:`s(t)` (see the module docstring); every field is data."""

    base: Array
    warmup: Array = 0.0
    decay_factor: Array = 1.0
    decay_every: Array = np.inf
    inverse_t0: Array = np.inf

    def __call__(self, t: Array) -> Array:
        """The value :math:`s(t)` at step ``t`` (0-based)."""
        t = jnp.asarray(t, dtype=jnp.result_type(self.base, float))  # float32 schedules stay float32
        warm = jnp.where(self.warmup > 0, jnp.minimum(1.0, (t + 1.0) / jnp.maximum(self.warmup, 1e-300)), 1.0)
        decay = jnp.power(self.decay_factor, jnp.floor(t / self.decay_every))
        return self.base * warm * decay / (1.0 + t / self.inverse_t0)

    def at(self, t: int) -> float:
        """:math:`s(t)` as a Python float (for scalar schedules)."""
        return float(self(t))


def constant(value: Any) -> Schedule:
    """:math:`s(t)=s_0`."""
    return Schedule(base=value)


def step_decay(value: Any, factor: Any, every: Any) -> Schedule:
    """:math:`s(t)=s_0\\,q^{\\lfloor t/\\tau\\rfloor}` (factor ``q`` in (0, 1], every ``tau`` > 0 steps)."""
    check_real("decay factor", factor, lo=0.0, hi=1.0, lo_open=True) if np.ndim(factor) == 0 else None
    check_real("decay every", every, lo=0.0, lo_open=True) if np.ndim(every) == 0 else None
    return Schedule(base=value, decay_factor=factor, decay_every=every)


def warmup(value: Any, steps: Any) -> Schedule:
    """:math:`s(t)=s_0\\min(1,(t+1)/t_w)`: linear warm-up over ``steps`` steps."""
    check_real("warmup steps", steps, lo=0.0) if np.ndim(steps) == 0 else None
    return Schedule(base=value, warmup=steps)


def inverse_time(value: Any, t0: Any = 1.0) -> Schedule:
    """:math:`s(t)=s_0/(1+t/t_0)`: the :math:`1/t` decay."""
    check_real("t0", t0, lo=0.0, lo_open=True) if np.ndim(t0) == 0 else None
    return Schedule(base=value, inverse_t0=t0)


def as_schedule(value: Any) -> Schedule:
    """A :class:`Schedule` unchanged; a number or array becomes :func:`constant`."""
    return value if isinstance(value, Schedule) else constant(value)
