"""Compiled runs: ``lax.scan`` over steps, ``vmap`` over seeds and every swept hyper-parameter.

One jitted function serves every run of a (problem structure, method structure, horizon)
triple: the problem and the hyper-parameters are traced arguments, so changing a step size,
a batch size or a problem constant does not recompile. Runs are processed in chunks of a
fixed size (the last one padded), so memory stays bounded and the chunk function compiles
once.

Recorded per run: :math:`f(x_t)`, :math:`\\|\\nabla f(x_t)\\|^2` and the distance to the nearest known
minimum at the record steps (optionally the iterates), their exact running averages
:math:`\\frac1T\\sum_{t<T}` over *every* step, the final basin, and divergence: a run whose iterate
becomes non-finite or leaves the ball of radius ``diverge_radius`` around :math:`x_0` is frozen at its
last good state, flagged with the step where it diverged, and its records from that step on are
NaN, so it can never be averaged in by accident.
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems import ParameterError, Problem, check_choice, check_int, check_real

from . import framework
from .framework import Config
from .hyper import Hyper, grid, scalar_view, validate
from .methods import Method
from .result import Result

Array = jax.Array
TRACES = ("loss", "grad_norm2", "dist")


def _metrics(problem: Problem, x: Array) -> tuple[Array, Array, Array]:
    g = problem.grad(x)
    return problem.value(x), jnp.sum(g * g), problem.distance_to_minimum(x)


def _single_run(config: Config, steps: int, record_every: int, max_batch: int, max_workers: int,
                iterates: bool, problem: Problem, hyper: Hyper, key: Array, x0: Array,
                radius: Array) -> dict[str, Array]:
    nan = jnp.asarray(jnp.nan, x0.dtype)

    def one_step(carry: tuple, _: Any) -> tuple:
        state, div, sum_f, sum_g2 = carry
        f, g2, _dist = _metrics(problem, state.x)
        live = div < 0
        sum_f = sum_f + jnp.where(live, f, 0.0)
        sum_g2 = sum_g2 + jnp.where(live, g2, 0.0)
        new = framework.step(config, state, problem, jax.random.fold_in(key, state.t), hyper, max_batch)
        bad = ~jnp.all(jnp.isfinite(new.x)) | (jnp.linalg.norm(new.x - x0) > radius)
        div = jnp.where(live & bad, state.t + 1, div)
        keep_old = div >= 0
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(keep_old, a, b), state, new)
        return (state, div, sum_f, sum_g2), None

    def record(carry: tuple) -> dict[str, Array]:
        state, div = carry[0], carry[1]
        vals = _metrics(problem, state.x)
        out = {k: jnp.where(div >= 0, nan, v) for k, v in zip(TRACES, vals)}
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
    out.update(
        avg_loss=jnp.where(live, sum_f / steps, nan),
        avg_grad_norm2=jnp.where(live, sum_g2 / steps, nan),
        basin=jnp.where(live, problem.basin(state.x), -1),
        diverged=~live,
        diverged_step=div,
    )
    return out


@functools.lru_cache(maxsize=64)
def _compiled(config: Config, steps: int, record_every: int, max_batch: int, max_workers: int,
              iterates: bool) -> Any:
    single = functools.partial(_single_run, config, steps, record_every, max_batch, max_workers, iterates)
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


def run(problem: Problem, method: Method, *, steps: int = 1000, seeds: int = 1, seed: int = 0,
        key: Array | None = None, record_every: int | None = None, x0: Any = None,
        dtype: str = "float64", iterates: bool = False, diverge_radius: float | None = None,
        max_memory_mb: float = 512.0, out: str | Path | None = None, progress: bool = False) -> Result:
    """Run ``method`` on ``problem`` for every seed and every point of its hyper-parameter grid.

    Args:
        problem: any :class:`~problems.Problem`.
        method: a :class:`~xtrap.methods.Method`; its 1-D hyper-parameters are sweep axes.
        steps: horizon :math:`T`.
        seeds: number of independent runs per grid point (seed ``s`` uses the ``s``-th key of
            ``split(key, seeds)``, shared across grid points: common random numbers).
        seed: integer seed, used when ``key`` is not given.
        key: a ``jax.random`` key.
        record_every: record traces every so many steps (default: about 200 records); the final
            step :math:`T` is always recorded.
        x0: starting point (default ``problem.x0``).
        dtype: ``"float64"`` (default, for theory checks) or ``"float32"``.
        iterates: also record the iterates at the record steps.
        diverge_radius: a run diverges when :math:`\\|x_t-x_0\\|` exceeds it (default
            :math:`10^8(1+\\|x_0\\|)`) or :math:`x_t` is not finite.
        max_memory_mb: bound on the memory of one chunk of runs (records and working set).
        out: if given, the (partial) result is saved there after every chunk, atomically.
        progress: show a progress bar over chunks.

    Returns:
        A :class:`~xtrap.result.Result` with traces ``loss``, ``grad_norm2``, ``dist``
        (dims: sweep axes, ``seed``, ``record``), ``avg_loss``, ``avg_grad_norm2``, ``basin``,
        ``diverged``, ``diverged_step`` (dims: sweep axes, ``seed``) and ``done``.

    >>> import problems, xtrap
    >>> r = xtrap.run(problems.make("quadratic", dim=3), xtrap.sgd(lr=[0.1, 0.5]), steps=20, seeds=4)
    >>> r["loss"].shape
    (2, 4, 21)
    """
    steps = check_int("steps", steps, lo=1)
    seeds = check_int("seeds", seeds, lo=1)
    dtype = check_choice("dtype", dtype, ("float64", "float32"))
    record_every = max(1, steps // 200) if record_every is None else check_int("record_every", record_every, lo=1,
                                                                             hi=steps)
    check_real("max_memory_mb", max_memory_mb, lo=0.0, lo_open=True)
    hyper = method.hyper
    validate(hyper)
    max_batch = int(np.max(hyper.batch))
    max_workers = int(np.max(hyper.workers))
    if problem.n is not None and max_batch > problem.n and not method.config.exact:
        raise ParameterError(f"batch must be <= n={problem.n} for the finite sum {problem.name!r}; got {max_batch}")
    start = np.asarray(problem.x0 if x0 is None else x0, dtype=np.float64)
    if start.shape != (problem.dim,):
        raise ParameterError(f"x0 must have shape ({problem.dim},); got {start.shape}")
    # ||x - x0|| is computed unscaled, so radii beyond ~1e150 could overflow to inf: capped
    radius = min(1e8 * (1.0 + np.linalg.norm(start)), 1e150) if diverge_radius is None else check_real(
        "diverge_radius", diverge_radius, lo=0.0, hi=1e150, lo_open=True)

    jdt = jnp.float64 if dtype == "float64" else jnp.float32
    cast = functools.partial(_cast, jdt)
    prob = jax.tree_util.tree_map(cast, problem)
    axes, flat = grid(hyper)
    flat = jax.tree_util.tree_map(cast, flat)
    n_grid = int(np.prod([len(v) for v in axes.values()])) if axes else 1
    base_key = jax.random.key(check_int("seed", seed, lo=0)) if key is None else key
    seed_keys = jax.random.split(base_key, seeds)
    total = n_grid * seeds
    n_rec = len(record_steps(steps, record_every))
    chunk = _chunk_size(total, n_rec, problem.dim, iterates, max_batch, max_workers, max_memory_mb)
    fn = _get_compiled(method.config, steps, record_every, max_batch, max_workers, iterates)

    out_arrays: dict[str, np.ndarray] = {}
    done = np.zeros(total, dtype=bool)
    t0 = time.perf_counter()
    bar = _progress(total, progress)
    meta = dict(problem=problem.name, method=method.name, steps=steps, seeds=seeds, record_every=record_every,
                dtype=dtype, constants=problem.constants, hyper=scalar_view(hyper),
                config=_config_view(method.config), sweep_dims=list(axes))
    try:
        for lo in range(0, total, chunk):
            idx = np.arange(lo, lo + chunk) % total  # pad the last chunk by wrapping around
            hyp = jax.tree_util.tree_map(lambda a: a[idx // seeds], flat)
            res = fn(prob, hyp, seed_keys[idx % seeds], cast(start), cast(radius))
            n_valid = min(chunk, total - lo)
            for k, v in res.items():
                v = np.asarray(v)[:n_valid]
                if k not in out_arrays:
                    out_arrays[k] = np.full((total,) + v.shape[1:], np.nan if v.dtype.kind == "f" else 0,
                                            dtype=v.dtype)
                out_arrays[k][lo:lo + n_valid] = v
            done[lo:lo + n_valid] = True
            bar.update(n_valid)
            if out is not None:
                _assemble(out_arrays, done, axes, seeds, steps, record_every, meta, t0).save(out)
    finally:
        bar.close()
    result = _assemble(out_arrays, done, axes, seeds, steps, record_every, meta, t0)
    if out is not None:
        result.save(out)
    return result


def record_steps(steps: int, record_every: int) -> np.ndarray:
    """The recorded steps: :math:`0, r, 2r, \\dots` up to :math:`T`, and :math:`T` itself."""
    return np.unique(np.append(np.arange(0, steps + 1, record_every), steps))


def _cast(dtype: Any, a: Any) -> Any:
    a = jnp.asarray(a)
    return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a


def _chunk_size(total: int, n_rec: int, dim: int, iterates: bool, max_batch: int, max_workers: int,
                max_memory_mb: float) -> int:
    per_run = 8 * (n_rec * (len(TRACES) + (dim if iterates else 0)) + 4 * max_workers * (max_batch + 4) * dim)
    return int(max(1, min(total, math.floor(max_memory_mb * 2**20 / per_run))))


def _assemble(arrays: dict[str, np.ndarray], done: np.ndarray, axes: dict[str, np.ndarray], seeds: int,
              steps: int, record_every: int, meta: dict[str, Any], t0: float) -> Result:
    shape = tuple(len(v) for v in axes.values()) + (seeds,)
    lead = tuple(axes) + ("seed",)
    data, dims = {}, {}
    for k, v in arrays.items():
        data[k] = v.reshape(shape + v.shape[1:])
        extra = ("record",) if k in TRACES else ("record", "coord") if k == "iterates" else ()
        dims[k] = lead + extra
    data["done"] = done.reshape(shape)
    dims["done"] = lead
    coords = {name: np.asarray(v) for name, v in axes.items()}
    coords["seed"] = np.arange(seeds)
    coords["record"] = record_steps(steps, record_every)
    attrs = json.loads(json.dumps(dict(meta, seconds=time.perf_counter() - t0, complete=bool(done.all()))))
    return Result(data, dims, coords, attrs)


def _config_view(config: Config) -> dict[str, Any]:
    return {"direction": config.direction, "base": config.base, "same_batch": config.same_batch,
            "past_source": config.past_source, "exact": config.exact}


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="run", leave=False)
