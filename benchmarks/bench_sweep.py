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

    diagonal = np.all(s == np.diag(np.diag(s)))

    def batch_grad(x, rng, b):
        z = rng.standard_normal(x.shape[:-1] + (b, x.shape[-1]))
        eps = z * np.diag(s) if diagonal else z @ s.T  # isotropic noise: what anyone would write
        return grad(x) + eps.mean(axis=-2)

    return value, grad, batch_grad


def two_basin_numpy(p):
    """NumPy oracle for the two-basin finite sum, from its documented formula (problems/two_basin.py):
    f_i(x) = phi(x_1 - a_i) + c/2 ||x_2: - e_i||^2 with
    phi(t) = sum_j -h_j exp(-k_j (t-c_j)^2 / (2 h_j)) + eps [q(c_s - t; w_s/2) + q(t - c_f; w_f/2)],
    q(u; w) = u^2 Phi(u/w) / 2, batches drawn without replacement."""
    from scipy.special import ndtr

    cen, k, h = (np.asarray(v) for v in (p.centers, p.curvatures, p.depths))
    eps, c, a, e, n = float(p.confinement), float(p.c), np.asarray(p.shifts), np.asarray(p.offsets), p.n
    w = 0.5 * np.sqrt(h / k)

    def wall(u, wj, order):  # q(u; w) and q'(u; w)
        if order == 0:
            return 0.5 * u * u * ndtr(u / wj)
        return u * ndtr(u / wj) + 0.5 * u * u * np.exp(-0.5 * (u / wj) ** 2) / (np.sqrt(2 * np.pi) * wj)

    def phi(t, order):
        out = 0.0 * t
        for j, sign in ((0, -1.0), (1, 1.0)):
            u = t - cen[j]
            g = np.exp(-k[j] * u * u / (2 * h[j]))
            out = out - h[j] * g if order == 0 else out + k[j] * u * g
            out = out + eps * sign**order * wall(sign * u, w[j], order)
        return out

    def value(x):  # (..., d)
        r = x[..., None, 1:] - e
        return np.mean(phi(x[..., :1] - a, 0) + 0.5 * c * np.sum(r * r, axis=-1), axis=-1)

    def grad(x):
        g1 = np.mean(phi(x[..., :1] - a, 1), axis=-1, keepdims=True)
        return np.concatenate([g1, c * x[..., 1:]], axis=-1)

    def batch_grad(x, rng, b):
        lead = x.shape[:-1]
        idx = rng.permuted(np.broadcast_to(np.arange(n), lead + (n,)), axis=-1)[..., :b]
        g1 = np.mean(phi(x[..., :1] - a[idx], 1), axis=-1, keepdims=True)
        return np.concatenate([g1, c * (x[..., 1:] - e[idx].mean(axis=-2))], axis=-1)

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


def check_oracle(problem, oracle) -> None:
    """The NumPy oracle must compute the same function as the problem (else the race is unfair)."""
    value, grad, _ = oracle
    x = np.random.default_rng(3).standard_normal((5, problem.dim))
    for xi in x:
        assert np.isclose(value(xi), float(problem.value(xi)), rtol=1e-12, atol=1e-12)
        assert np.allclose(grad(xi), np.asarray(problem.grad(xi)), rtol=1e-12, atol=1e-12)


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
    check_oracle(q, quadratic_numpy(q))
    bench("quadratic d=100", q, quadratic_numpy(q), 0.5, a.seeds, a.steps, a.batch, a.loop_seeds)
    tb = problems.make("two-basin", offset=0.1)
    check_oracle(tb, two_basin_numpy(tb))
    bench(f"two-basin d={tb.dim}, n={tb.n}", tb, two_basin_numpy(tb), 0.5 / float(tb.L), a.seeds, a.steps,
          a.batch, a.loop_seeds)

if __name__ == "__main__":
    main()
