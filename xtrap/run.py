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

from problems import (ParameterError, Problem, check_array, check_bool, check_choice, check_int, check_real,
                      uses_batch_mean_law)

from .framework import Config
from .hyper import grid, scalar_view, validate
from .methods import Method
from ._devices import Placement, describe, resolve
from ._program import TRACES, _compiled, _get_compiled, compiled_count  # noqa: F401  (_compiled: tests clear it)
from ._progress import progress as _progress
from ._shipped import prepared
from .result import Result
from .results_cache import ResultsCache, as_cache, fingerprint, partial_arrays
from .results_cache import key as cache_key

Array = jax.Array


MAX_INT = 2**31 - 1  # steps, seeds, record_every: the scan's step counter and divergence step are int32
CHUNK_WORK = 2.5e8  # sample-dimension-steps per chunk: about a second or two on one CPU core (measured
                    # 1.3e8/s at d = 100), so Ctrl-C and --out saves come every few seconds


def run(problem: Problem, method: Method, *, steps: int = 1000, seeds: int = 1, seed: int = 0,
        key: Array | None = None, record_every: int | None = None, x0: Any = None,
        dtype: str = "float64", iterates: bool = False, diverge_radius: float | None = None,
        max_memory_mb: float = 512.0, out: str | Path | None = None, progress: bool = False,
        resume: bool = False, batch_draw: str = "batch-mean", averages: bool = True,
        devices: int | None = None, chunk: int | None = None,
        cache: str | Path | ResultsCache | bool | None = None) -> Result:
    """Run ``method`` on ``problem`` for every seed and every point of its hyper-parameter grid.

    Args:
        problem: any :class:`~problems.Problem`. It is converted to ``dtype`` and placed on the device once and kept
            while it lives (:mod:`xtrap._shipped`); its NumPy arrays are made read-only then, so an in-place edit
            raises instead of being ignored by the kept copy.
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
        out: if given, the (partial) result is saved there after every chunk, atomically; an interrupted
            run leaves a result that loads, says ``attrs["complete"] = False`` and marks the runs not done.
        progress: show a progress bar over chunks (or a callable ``progress(done, total)`` called after each).
        resume: continue the partial result in ``out`` (written by the same problem, method and settings:
            checked by a fingerprint): only the chunks not done are run, and the numbers are bitwise the
            ones an uninterrupted run gives (same chunks, same keys, same compiled function).
        batch_draw: ``"batch-mean"`` (default): on an additive Gaussian oracle (:func:`problems.uses_batch_mean_law`)
            each batch gradient is one draw of the exact law of a mean of ``b`` samples,
            :math:`\\nabla f(u)+\\epsilon/\\sqrt b`, :math:`\\epsilon\\sim N(0,\\Sigma)`: one normal vector, not ``b``; other
            oracles (finite sums) draw their samples as always. ``"per-sample"``: ``b`` samples averaged, on every
            oracle (the draws of :func:`xtrap.draw`). Same law either way; the result's ``attrs["batch_draw"]`` says
            which was used.
        averages: record ``avg_loss`` and ``avg_grad_norm2`` (the exact :math:`f` and :math:`\\|\\nabla f\\|^2` at every
            step); ``False`` skips those per-step evaluations and leaves the two out of the result.
        devices: spread each chunk of runs over the first ``devices`` of ``jax.devices()`` (default: the process
            default of :func:`xtrap.use_devices`, else all of them) with ``jax.sharding``; the numbers are those of
            one device running the same chunks (``chunk=attrs["chunk"]``), bit for bit, and ``attrs["ran_on"]`` says
            where it ran (:mod:`xtrap._devices`).
        chunk: runs per compiled call and device (default: bounded by ``max_memory_mb``, by a few seconds of work,
            and by the runs over the devices). XLA's code for a row depends on the chunk's shape, so the last bits of
            a run's numbers do too: give the same ``chunk`` to reproduce a result bit for bit elsewhere.
        cache: a folder or :class:`~xtrap.ResultsCache` of finished runs (:mod:`xtrap.results_cache`): a run already
            there is read, not computed (``attrs["cached"]`` says which), and one computed now is stored there, its
            partial result after every chunk, so an interrupted run continues where it stopped. Default: the process
            default of :func:`xtrap.use_results_cache` (none unless set); ``False``: no cache.

    Returns:
        A :class:`~xtrap.result.Result` with traces ``loss``, ``grad_norm2``, ``dist``
        (dims: sweep axes, ``seed``, ``record``), ``avg_loss``, ``avg_grad_norm2`` (if ``averages``), ``basin``,
        ``diverged``, ``diverged_step`` (dims: sweep axes, ``seed``) and ``done``.

    >>> import problems, xtrap
    >>> r = xtrap.run(problems.make("quadratic", dim=3), xtrap.sgd(lr=[0.1, 0.5]), steps=20, seeds=4)
    >>> r["loss"].shape
    (2, 4, 21)
    """
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem must be a problems.Problem (e.g. problems.make('quadratic')); got {problem!r}")
    if not isinstance(method, Method):
        raise ParameterError(f"method must be an xtrap.Method (e.g. xtrap.sgd(lr=0.1)); got {method!r}")
    steps = check_int("steps", steps, lo=1, hi=MAX_INT)
    seeds = check_int("seeds", seeds, lo=1, hi=MAX_INT)
    dtype = check_choice("dtype", dtype, ("float64", "float32"))
    record_every = max(1, steps // 200) if record_every is None else check_int("record_every", record_every, lo=1,
                                                                             hi=steps)
    check_real("max_memory_mb", max_memory_mb, lo=0.0, lo_open=True)
    iterates, resume = check_bool("iterates", iterates), check_bool("resume", resume)
    averages = check_bool("averages", averages)
    batch_draw = check_choice("batch_draw", batch_draw, ("batch-mean", "per-sample"))
    if not callable(progress):
        progress = check_bool("progress", progress)
    if resume and out is None:
        raise ParameterError("resume=True needs out=, the partial result to continue")
    hyper = method.hyper
    validate(hyper)
    max_batch = int(np.max(hyper.batch))
    max_workers = int(np.max(hyper.workers))
    if problem.n is not None and max_batch > problem.n and not method.config.exact:
        raise ParameterError(f"batch must be <= n={problem.n} for the finite sum {problem.name!r}; got {max_batch}")
    start = check_array("x0", problem.x0 if x0 is None else x0, (problem.dim,))
    # ||x - x0|| is computed unscaled, so radii beyond ~1e150 could overflow to inf: capped
    radius = min(1e8 * (1.0 + np.linalg.norm(start)), 1e150) if diverge_radius is None else check_real(
        "diverge_radius", diverge_radius, lo=0.0, hi=1e150, lo_open=True)

    batch_mean = batch_draw == "batch-mean" and uses_batch_mean_law(problem) and not method.config.exact
    draw_batch = 1 if batch_mean else max_batch  # samples drawn per worker and batch (one with batch-mean draws)
    on = resolve(devices)
    placement = Placement(on)
    jdt = jnp.float64 if dtype == "float64" else jnp.float32
    cast = functools.partial(_cast, jdt)
    prob, problem_digest = prepared(problem, dtype, cast, fingerprint)
    axes, flat = grid(hyper)
    if dtype == "float32":  # a step the run would silently turn into 0 (or into inf) is refused, not run
        tiny, huge = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
        for path, leaf in jax.tree_util.tree_leaves_with_path(flat):
            a = np.abs(np.asarray(leaf, dtype=np.float64))
            name = ".".join(str(getattr(q, "name", q)) for q in path).removesuffix(".base")
            bad = a[((a > 0) & (a < tiny)) | (np.isfinite(a) & (a > huge))]
            if bad.size:
                raise ParameterError(f"{name}={bad[0]:g} is outside float32's range [{tiny:.3g}, {huge:.3g}] and "
                                     "would round to 0 or inf; use dtype='float64'")
    flat = jax.tree_util.tree_map(cast, flat)
    n_grid = int(np.prod([len(v) for v in axes.values()])) if axes else 1
    base_key = jax.random.key(check_int("seed", seed, lo=0, hi=2**63 - 1)) if key is None else key
    seed_keys = jax.random.split(base_key, seeds)
    total = n_grid * seeds
    n_rec = len(record_steps(steps, record_every))
    extra_metrics = _extra_metric_names(problem, start)
    if chunk is None:
        chunk = _chunk_size(total, n_rec, problem.dim, iterates, draw_batch, max_workers,
                            max_memory_mb, steps, placement.n)
    else:
        chunk = check_int("chunk", chunk, lo=1, hi=MAX_INT)
    meta = dict(problem=problem.name, method=method.name, steps=steps, seeds=seeds, seed=seed if key is None else None,
                record_every=record_every,
                dtype=dtype, constants=problem.constants, sources=problem.sources, notes=_notes(problem),
                minima=[m.label for m in problem.minima],
                hyper=scalar_view(hyper),
                config=_config_view(method.config), sweep_dims=list(axes), chunk=chunk,
                batch_draw="none" if method.config.exact else "batch-mean" if batch_mean else "per-sample",
                averages=averages, ran_on=describe(on), extra_metrics=extra_metrics,
                fingerprint=fingerprint(problem_digest, flat, method.config, _rule_identity(method.config), seed_keys,
                                        start, radius, steps, record_every, iterates, chunk, batch_mean, averages))
    meta["cached"] = False
    out_arrays: dict[str, np.ndarray] = {}
    done = np.zeros(total, dtype=bool)
    store = as_cache(cache)
    entry = None if store is None else store.path(cache_key(meta["fingerprint"], meta["ran_on"]))
    stored = None if store is None else store.lookup(entry.stem)
    if stored is not None and stored.attrs.get("fingerprint") == meta["fingerprint"]:
        if stored.attrs.get("complete"):
            stored.attrs["cached"] = True
            if out is not None and jax.process_index() == 0:
                stored.save(out)
            return stored
        if not resume:  # the partial result an interrupted run left: continued chunk by chunk
            out_arrays, done = partial_arrays(stored, meta["fingerprint"], total, repr(str(entry)))
    if resume:
        out_arrays, done = _resumed(out, meta, total)
    saves = [p for p in (out, entry) if p is not None] if jax.process_index() == 0 else []  # one process of several
    # hosts saves: they all hold the whole result
    fn = _get_compiled(method.config, steps, record_every, draw_batch, max_workers, iterates, batch_mean,
                       averages)  # batch-mean draws do not depend on max(batch): one program for all
    placement.share((prob, cast(start), cast(radius)))
    t0 = time.perf_counter()
    bar = _progress(total, progress)
    if done.any():
        bar.update(int(done.sum()))
    try:
        # n devices take n chunks at once, one each: every device runs the one-device program on the same rows,
        # so each run's numbers are bitwise those of one device (XLA's code for a row depends on the batch shape)
        span = chunk * placement.n
        for lo in range(0, total, span):
            n_valid = min(span, total - lo)
            if done[lo:lo + n_valid].all():
                continue
            idx = np.arange(lo, lo + span) % total  # pad the last chunk by wrapping around
            hyp = jax.tree_util.tree_map(lambda a: a[idx // seeds], flat)
            res = placement(fn, (hyp, seed_keys[idx % seeds]))
            for k, v in res.items():
                v = v[:n_valid]
                if k not in out_arrays:
                    out_arrays[k] = np.full((total,) + v.shape[1:], np.nan if v.dtype.kind == "f" else 0,
                                            dtype=v.dtype)
                out_arrays[k][lo:lo + n_valid] = v
            new = int((~done[lo:lo + n_valid]).sum())
            done[lo:lo + n_valid] = True
            if saves:  # the (partial) result, saved before anything else can interrupt
                partial = _assemble(out_arrays, done, axes, seeds, steps, record_every, meta, t0)
                for path in saves:
                    partial.save(path)
            bar.update(new)
    finally:
        bar.close()
    result = _assemble(out_arrays, done, axes, seeds, steps, record_every, meta, t0)
    for path in saves:
        result.save(path)
    return result


RESERVED = (*TRACES, "iterates", "avg_loss", "avg_grad_norm2", "basin", "diverged", "diverged_step", "done")


def _extra_metric_names(problem: Problem, x: np.ndarray) -> list[str]:
    """The names of ``problem.extra_metrics`` (:meth:`problems.Problem.extra_metrics`), checked to be scalars with
    names of their own."""
    try:
        shapes = jax.eval_shape(problem.extra_metrics, jnp.asarray(x))
    except Exception as err:  # a user's method that does not trace: said in one line, naming it
        raise ParameterError(f"{type(problem).__name__}.extra_metrics(x) must be JAX-traceable; it raised "
                             f"{type(err).__name__}: {err}") from None
    if not isinstance(shapes, dict) or not all(isinstance(k, str) for k in shapes):
        raise ParameterError(f"{type(problem).__name__}.extra_metrics(x) must return a dict of names to scalars; "
                             f"got {type(shapes).__name__}")
    for name, s in shapes.items():
        if name in RESERVED:
            raise ParameterError(f"extra_metrics: {name!r} is a name xtrap.run records itself; pick another")
        if getattr(s, "shape", None) != () or not jnp.issubdtype(s.dtype, jnp.number):
            raise ParameterError(f"extra_metrics: {name!r} must be a numeric scalar; got "
                                 f"{getattr(s, 'shape', s)!r} {getattr(s, 'dtype', '')}")
    return list(shapes)


def _rule_identity(config: Config) -> str:
    """The direction rule as the fingerprint sees it: its name, flags and code (a rule replaced under the same
    name, or edited between sessions, is another run)."""
    from problems.user import function_identity

    r = config.rule
    return f"{r.name}|{r.extrap_batch}|{r.noise}|{function_identity(r.fn)}"


def _notes(problem: Problem) -> list[str]:
    """How the problem's estimated constants were obtained, and what is missing (for the result's attrs)."""
    out = list(problem.notes)
    if not problem.minima:
        out.append("no minimum is known: dist is NaN and basin is -1 in every run")
    return out


def record_steps(steps: int, record_every: int) -> np.ndarray:
    """The recorded steps: :math:`0, r, 2r, \\dots` up to :math:`T`, and :math:`T` itself."""
    return np.unique(np.append(np.arange(0, steps + 1, record_every), steps))


def _cast(dtype: Any, a: Any) -> Any:
    a = jnp.asarray(a)
    return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a


def _chunk_size(total: int, n_rec: int, dim: int, iterates: bool, max_batch: int, max_workers: int,
                max_memory_mb: float, steps: int, devices: int = 1) -> int:
    """Runs per compiled call (per device): bounded by memory and by :data:`CHUNK_WORK` (so a chunk takes seconds),
    and by ``total / devices``, so that every device gets runs of its own."""
    per_run = 8 * (n_rec * (len(TRACES) + (dim if iterates else 0)) + 4 * max_workers * (max_batch + 4) * dim)
    by_memory = math.floor(max_memory_mb * 2**20 / per_run)
    by_time = math.floor(CHUNK_WORK / (steps * max_workers * (max_batch + 2) * dim))
    largest = max(1, min(-(-total // devices), by_memory, by_time))
    return -(-total // -(-total // largest))  # as many chunks as needed, equal: the padded last one wastes < 1 run
    # per chunk (1,000 runs with a largest chunk of 833 are 2 chunks of 500, not 833 + 833, 2/3 of it padding)


def _resumed(out: str | Path, meta: dict[str, Any], total: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The arrays and ``done`` flags of the partial result in ``out``, refused if another run wrote it."""
    path = Path(out)
    if not path.is_file():
        raise ParameterError(f"resume: there is no partial result at {str(path)!r} to continue")
    try:
        old = Result.load(path)
    except (OSError, ValueError, KeyError) as err:
        raise ParameterError(f"resume: {str(path)!r} is not an xtrap result ({err})") from None
    return partial_arrays(old, meta["fingerprint"], total, repr(str(path)))


def _assemble(arrays: dict[str, np.ndarray], done: np.ndarray, axes: dict[str, np.ndarray], seeds: int,
              steps: int, record_every: int, meta: dict[str, Any], t0: float) -> Result:
    shape = tuple(len(v) for v in axes.values()) + (seeds,)
    lead = tuple(axes) + ("seed",)
    data, dims = {}, {}
    for k, v in arrays.items():
        data[k] = v.reshape(shape + v.shape[1:])
        extra = (("record",) if k in TRACES or k in meta["extra_metrics"] else ("record", "coord") if k == "iterates"
                 else ())
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
            "past_source": config.past_source, "exact": config.exact, "noise": config.rule.noise,
            "extrap_batch": config.rule.extrap_batch, "rule": config.rule.doc}
