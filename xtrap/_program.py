"""The compiled program of a chunk of runs: ``lax.scan`` over steps inside ``vmap`` over runs (for :mod:`xtrap.run`).

One program serves every run of a (method structure, horizon, records, draw) tuple: the problem and the
hyper-parameters are traced arguments. Per run it records :math:`f(x_t)`, :math:`\\|\\nabla f(x_t)\\|^2`, the distance
to the nearest known minimum and the problem's :meth:`~problems.Problem.extra_metrics` at the record steps
(optionally the iterates), the exact running averages :math:`\\frac1T\\sum_{t<T}f(x_t)` and
:math:`\\frac1T\\sum_{t<T}\\|\\nabla f(x_t)\\|^2` (when ``averages``), the final basin, and divergence (a run whose
iterate becomes non-finite or leaves the ball of radius ``radius`` around :math:`x_0` is frozen at its last good
state, flagged with its step, and its records from that step on are NaN).

When the averages are recorded, the exact :math:`\\nabla f(x_t)` they need is handed to the step
(:func:`xtrap.framework.apply`'s ``grad_x``), so a method whose direction reads gradients at :math:`x_t` does not
evaluate :math:`\\nabla f(x_t)` a second time.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from problems import Problem

from . import framework
from .framework import Config
from .hyper import Hyper

Array = jax.Array
TRACES = ("loss", "grad_norm2", "dist")


def _metrics(problem: Problem, x: Array) -> dict[str, Array]:
    g = problem.grad(x)
    return dict(loss=problem.value(x), grad_norm2=jnp.sum(g * g), dist=problem.distance_to_minimum(x),
                **problem.extra_metrics(x))


def _single_run(config: Config, steps: int, record_every: int, max_batch: int, max_workers: int,
                iterates: bool, batch_mean: bool, averages: bool, problem: Problem, hyper: Hyper, key: Array,
                x0: Array, radius: Array) -> dict[str, Array]:
    nan = jnp.asarray(jnp.nan, x0.dtype)

    def one_step(carry: tuple, _: Any) -> tuple:
        state, div, sum_f, sum_g2 = carry
        live = div < 0
        grad_x = None
        if averages:  # the exact f and ||grad f||^2 at every step, only when the running averages are asked for
            grad_x = problem.grad(state.x)
            sum_f = sum_f + jnp.where(live, problem.value(state.x), 0.0)
            sum_g2 = sum_g2 + jnp.where(live, jnp.sum(grad_x * grad_x), 0.0)
        new = framework.step(config, state, problem, jax.random.fold_in(key, state.t), hyper, max_batch,
                             batch_mean, grad_x)
        bad = ~jnp.all(jnp.isfinite(new.x)) | (jnp.linalg.norm(new.x - x0) > radius)
        div = jnp.where(live & bad, state.t + 1, div)
        keep_old = div >= 0
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(keep_old, a, b), state, new)
        return (state, div, sum_f, sum_g2), None

    def record(carry: tuple) -> dict[str, Array]:
        state, div = carry[0], carry[1]
        out = {k: jnp.where(div >= 0, nan, jnp.asarray(v, x0.dtype)) for k, v in _metrics(problem, state.x).items()}
        if iterates:
            out["iterates"] = jnp.where(div >= 0, nan, state.x)
        return out

    def block(carry: tuple, _: Any) -> tuple:
        rec = record(carry)
        carry, _ = jax.lax.scan(one_step, carry, None, length=record_every)
        return carry, rec

    zero = jnp.zeros((), x0.dtype)
    carry = (framework.init(x0, max_workers), jnp.asarray(-1, jnp.int32), zero, zero)
    n_blocks, tail = divmod(steps, record_every)
    carry, recs = jax.lax.scan(block, carry, None, length=n_blocks)
    pieces = [recs]
    if tail:  # the regular record at n_blocks * record_every, then the leftover steps
        pieces.append({k: v[None] for k, v in record(carry).items()})
        carry, _ = jax.lax.scan(one_step, carry, None, length=tail)
    pieces.append({k: v[None] for k, v in record(carry).items()})
    recs = {k: jnp.concatenate([p[k] for p in pieces], axis=0) for k in recs}
    state, div, sum_f, sum_g2 = carry
    live = div < 0
    out = dict(recs)
    if averages:
        out.update(avg_loss=jnp.where(live, sum_f / steps, nan), avg_grad_norm2=jnp.where(live, sum_g2 / steps, nan))
    out.update(
        basin=jnp.where(live, problem.basin(state.x), -1),
        diverged=~live,
        diverged_step=div,
    )
    return out


@functools.lru_cache(maxsize=64)
def _compiled(config: Config, steps: int, record_every: int, max_batch: int, max_workers: int,
              iterates: bool, batch_mean: bool, averages: bool) -> Any:
    single = functools.partial(_single_run, config, steps, record_every, max_batch, max_workers, iterates,
                               batch_mean, averages)
    batched = jax.vmap(single, in_axes=(None, 0, 0, None, None))
    return jax.jit(batched)


_REGISTRY: list[Any] = []


def compiled_count() -> int:
    """How many chunk functions have been traced and compiled in this process (for tests)."""
    return sum(f._cache_size() for f in _REGISTRY)


def _get_compiled(*args: Any) -> Any:
    fn = _compiled(*args)
    if fn not in _REGISTRY:
        _REGISTRY.append(fn)
    return fn
