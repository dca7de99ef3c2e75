"""This machine's roofs, measured in the benchmark's own run: matmul FLOP/s, memory bandwidth, normals per second.

Each roof is the best of a few repetitions of one kernel, in float64, on the default JAX device (and, for the
CPU, NumPy as well, the better of the two kept):

* ``flops``: a square matrix product, :math:`2n^3` floating-point operations;
* ``bandwidth``: the triad :math:`a=b+s\\,c` on arrays far larger than the caches, :math:`3\\times8` bytes per
  element (two reads, one write);
* ``normals``: ``jax.random.normal`` (threefry, the generator xtrap uses) in float64, the best of one long array and
  per-seed batches of the sweep's shapes; NumPy's SFC64 rate is the roof of the NumPy contestant.

:func:`model_seconds` turns a workload's counts into the time each roof allows; the largest is the *binding*
roof, and the benchmark reports the fraction of it a contestant reaches (binding time / measured time).
References: Williams, Waterman & Patterson, "Roofline", CACM 2009; McCalpin's STREAM triad.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np


def _best(fn: Callable[[], object], reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(reps: int = 5, n_matmul: int = 1500, n_stream: int = 2**24, n_normals: int = 2**23) -> dict[str, float]:
    """The roofs (per second) and where each came from."""
    import jax
    import jax.numpy as jnp

    a = np.random.default_rng(0).standard_normal((n_matmul, n_matmul))
    aj = jnp.asarray(a)
    mm = jax.jit(lambda x: x @ x)
    flops = 2.0 * n_matmul**3 / min(_best(lambda: a @ a, reps), _best(lambda: mm(aj).block_until_ready(), reps))

    b, c = np.ones(n_stream), np.full(n_stream, 2.0)
    out = np.empty(n_stream)
    bj, cj = jnp.asarray(b), jnp.asarray(c)
    triad = jax.jit(lambda x, y: x + 3.0 * y)
    t_np = _best(lambda: np.add(b, np.multiply(c, 3.0, out=out), out=out), reps)
    t_jax = _best(lambda: triad(bj, cj).block_until_ready(), reps)
    bandwidth = 24.0 * n_stream / min(t_np, t_jax)

    key = jax.random.key(0)
    normals = 0.0
    for shape in ((n_normals,), (n_normals // 800, 8, 100), (n_normals // 8000, 8, 1000)):  # one array; per-seed
        keys = jax.random.split(key, shape[0])                                         # batches as in a sweep,
        normal = jax.jit(jax.vmap(lambda k, s=shape[1:]: jax.random.normal(k, s, jnp.float64).sum(0)))  # summed
        if len(shape) == 1:                                                            # as a consumer does (no
            normal = jax.jit(lambda k: jax.random.normal(k[0], shape, jnp.float64))    # round trip to memory)
        normals = max(normals, n_normals / _best(lambda: normal(keys).block_until_ready(), reps))
    rng = np.random.Generator(np.random.SFC64(0))
    buf = np.empty(n_normals)
    numpy_normals = n_normals / _best(lambda: rng.standard_normal(out=buf), reps)
    return {"flops": flops, "bandwidth": bandwidth, "normals": normals, "numpy_normals": numpy_normals}


def model_seconds(roofs: dict[str, float], flops: float, bytes_moved: float, normals: float,
                  numpy_rng: bool = False) -> dict[str, float]:
    """The time each roof allows for a workload with these counts (the binding one is the largest); ``numpy_rng``
    holds the normals to NumPy's generator's rate instead of JAX's."""
    return {"flops": flops / roofs["flops"], "bandwidth": bytes_moved / roofs["bandwidth"],
            "normals": normals / roofs["numpy_normals" if numpy_rng else "normals"]}
