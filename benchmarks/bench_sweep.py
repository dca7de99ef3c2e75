"""Throughput of an EXTRAP-SGD sweep against the NumPy loops a researcher would write.

Workload: EXTRAP-SGD (fresh batches, gamma = eta), K = 1, batch b, ``seeds`` x ``steps``; every
step also evaluates f(x_t) and ||grad f(x_t)||^2 (what xtrap records for its averages), so
all contestants do the same arithmetic. Throughput is counted in per-sample gradient
evaluations: 2 b per step per run (extrapolation batch + update batch).

Contestants:
  xtrap         ``xtrap.run`` (compiled once: scan over steps, vmap over seeds)
  numpy-vec     a NumPy loop over steps, vectorized over seeds (the careful researcher)
  numpy-loop    a NumPy loop over seeds and steps (the straightforward script); timed on a
                subset of seeds and scaled, since it is linear in the number of seeds

Usage: python benchmarks/bench_sweep.py [--seeds 1000] [--steps 1000] [--batch 8] [--loop-seeds 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import problems
import xtrap


def quadratic_numpy(p: problems.Quadratic):
    """NumPy oracle for the additive-noise quadratic: value, grad and a batch-gradient sampler."""
    h, xs, s = np.asarray(p.H), np.asarray(p.x_star), np.asarray(p.noise_factor)

    def value(x):  # x: (..., d)
        r = x - xs
        return 0.5 * np.einsum("...i,ij,...j->...", r, h, r)

    def grad(x):
        return (x - xs) @ h

    def batch_grad(x, rng, b):
        eps = rng.standard_normal(x.shape[:-1] + (b, x.shape[-1])) @ s.T
        return grad(x) + eps.mean(axis=-2)

    return value, grad, batch_grad


def numpy_vectorized(oracle, x0, lr, seeds, steps, b, rng):
    value, grad, batch_grad = oracle
    x = np.repeat(x0[None], seeds, axis=0)
    sum_g2 = np.zeros(seeds)
    for _ in range(steps):
        value(x)
        g = grad(x)
        sum_g2 += np.sum(g * g, axis=-1)
        u = x - lr * batch_grad(x, rng, b)
        x = x - lr * batch_grad(u, rng, b)
    return x, sum_g2 / steps


def numpy_loop(oracle, x0, lr, seeds, steps, b, rng):
    value, grad, batch_grad = oracle
    finals = []
    for _ in range(seeds):
        x = x0.copy()
        for _ in range(steps):
            value(x)
            grad(x)
            u = x - lr * batch_grad(x, rng, b)
            x = x - lr * batch_grad(u, rng, b)
        finals.append(x)
    return np.array(finals)


def bench(name, problem, oracle, lr, seeds, steps, batch, loop_seeds, loop=True):
    method = xtrap.extrap_sgd(lr=lr, batch=batch)
    evals = 2 * batch * seeds * steps
    t = time.perf_counter()
    xtrap.run(problem, method, steps=steps, seeds=seeds, seed=1)
    first = time.perf_counter() - t
    t = time.perf_counter()
    r = xtrap.run(problem, method, steps=steps, seeds=seeds, seed=2)
    warm = time.perf_counter() - t
    assert not r["diverged"].any(), "the benchmark workload diverged; pick a smaller lr"
    rng = np.random.default_rng(0)
    x0 = np.asarray(problem.x0)
    t = time.perf_counter()
    numpy_vectorized(oracle, x0, lr, seeds, steps, batch, rng)
    vec = time.perf_counter() - t
    rows = [("xtrap (incl. compile)", first), ("xtrap (compiled)", warm), ("numpy-vec", vec)]
    if loop:
        t = time.perf_counter()
        numpy_loop(oracle, x0, lr, loop_seeds, steps, batch, rng)
        rows.append((f"numpy-loop (x{seeds // loop_seeds} from {loop_seeds} seeds)",
                     (time.perf_counter() - t) * seeds / loop_seeds))
    print(f"\n{name}: EXTRAP-SGD, {seeds} seeds x {steps} steps, batch {batch}, dim {problem.dim}")
    print(f"{'contestant':<40}{'seconds':>10}{'grad evals/s':>16}{'xtrap speed-up':>16}")
    for label, sec in rows:
        print(f"{label:<40}{sec:>10.2f}{evals / sec:>16.3g}{sec / warm:>15.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--loop-seeds", type=int, default=10)
    a = ap.parse_args()
    import jax

    print(f"JAX {jax.__version__} on {jax.devices()[0].platform}; float64")
    q = problems.make("quadratic", dim=100, mu=0.01, L=1.0)
    bench("quadratic d=100", q, quadratic_numpy(q), 0.5, a.seeds, a.steps, a.batch, a.loop_seeds)

if __name__ == "__main__":
    main()
