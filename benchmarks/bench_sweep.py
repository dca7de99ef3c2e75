"""xtrap's EXTRAP-SGD sweep against what a researcher would otherwise write, side by side, with this machine's roofs.

Workload (:mod:`peers`): EXTRAP-SGD, :math:`\\gamma=\\eta`, K = 1, batch ``b``, additive isotropic Gaussian noise on a
rotated quadratic of dimension ``d`` (``problems.make("quadratic", dim=d, mu=0.01, L=1)``, float64; above
``d = 4096``, where a dense rotation does not fit, the same spectrum in the standard basis, ``rotate=False``, which
xtrap stores as its diagonal and every peer is handed as the vector ``h``), ``seeds`` runs
of ``steps`` steps; every contestant returns :math:`f(x_T)` per seed and is first checked against the exact
:math:`\\mathbb Ef(x_T)` (within 4 standard errors). xtrap runs with ``averages=False`` and one record at the end,
so it does the same arithmetic as the peers (no per-step metrics).

Two draws of the batch noise, both exact in law (:mod:`peers`): ``per-sample`` (``b`` normal vectors averaged) and
``batch-mean`` (one normal vector scaled by :math:`1/\\sqrt b`, xtrap's default on these oracles). Every contestant
is timed with both, so a ratio never mixes a cheaper draw with a dearer one unless it says so.

Timing: compile first (xtrap's compile time reported separately), then ``--reps`` rounds, each round running every
contestant once in turn (interleaved, so drift on a shared machine hits all of them alike); the median is reported.
``optax per seed`` is timed on ``--per-seed-seeds`` seeds and scaled (it is linear in the seeds: one call each).

Roofs (:mod:`roofs`), measured in the same run: the model time each allows the workload (flops: 2 matrix products
of 2 d^2 per seed-step, the step's two gradients, or 2 d for a diagonal H; normals; bytes: the (seeds, d) state read
and written 6 times a step), the binding one, and the fraction of it each contestant reaches. Then xtrap's cost
against seeds, steps and d (microseconds per run-step; linear cost keeps it flat).

Usage: python benchmarks/bench_sweep.py [--quick] [--dims 100,1000,10000] [--reps 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # BLAS threads spin-wait on a busy small machine; a careful
os.environ.setdefault("MKL_NUM_THREADS", "1")       # NumPy user pins them (--blas-threads to change)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import roofs  # noqa: E402

# (seeds, steps) per dimension: the same order of work per seed-step budget, sized to take seconds per contestant
SIZES = {100: (1000, 1000), 1000: (200, 200), 10_000: (20, 100)}
QUICK = {100: (200, 200), 1000: (50, 50), 10_000: (4, 20)}
MAX_ROTATED = 4096  # problems' cap on a dense rotation


def quadratic(d: int):
    """The workload's problem: rotated up to :data:`MAX_ROTATED`, in the standard basis (stored diagonal) above."""
    import problems

    return problems.make("quadratic", dim=d, mu=0.01, L=1.0, rotate=d <= MAX_ROTATED)


def workload(d: int):
    p = quadratic(d)
    h = np.asarray(p.H) if d <= MAX_ROTATED else np.asarray(p.H.diagonal)  # what a careful peer would store
    xs, x0 = np.asarray(p.x_star), np.asarray(p.x0)
    s = float(p.sigma2) / d  # per-coordinate variance of one sample's noise
    return p, h, x0 - xs, s, np.asarray(p.eigvals), p.to_eigenbasis(x0 - xs)


def contestants(p, h, r0, s, eta, b, seeds, steps, draw, per_seed_seeds) -> dict[str, Callable[[int], np.ndarray]]:
    import xtrap

    method = xtrap.extrap_sgd(lr=eta, batch=b)

    def xt(seed: int) -> np.ndarray:
        r = xtrap.run(p, method, steps=steps, seeds=seeds, seed=seed, record_every=steps, averages=False,
                      batch_draw=draw, max_memory_mb=4096)
        assert not r["diverged"].any()
        return np.asarray(r["loss"][..., -1]) - float(p.f_star)

    per_seed = peers.optax_per_seed(h, r0, s, eta, eta, b, per_seed_seeds, steps, draw)
    return {"xtrap": xt,
            "numpy (vectorized)": lambda seed: peers.numpy_vectorized(h, r0, s, eta, eta, b, seeds, steps, draw, seed),
            "optax (vmapped)": peers.optax_vmapped(h, r0, s, eta, eta, b, seeds, steps, draw),
            f"optax (per seed, x{seeds / per_seed_seeds:g})": per_seed}


def bench_dim(d: int, seeds: int, steps: int, b: int, reps: int, roof: dict[str, float], eta: float,
              per_seed_seeds: int) -> list[dict]:
    p, h, r0, s, lam, r0_eig = workload(d)
    exact = peers.exact_expected_loss(lam, r0_eig, s, eta, eta, b, steps)
    rows = []
    for draw in peers.DRAWS:
        entrants = contestants(p, h, r0, s, eta, b, seeds, steps, draw, min(per_seed_seeds, seeds))
        for name, fn in entrants.items():  # compile (and check) each once before timing
            t = time.perf_counter()
            vals = fn(0)
            first = time.perf_counter() - t
            mean, se = float(np.mean(vals)), float(np.std(vals, ddof=1) / np.sqrt(vals.size))
            z = (mean - exact) / se
            assert abs(z) < 4, f"{name} ({draw}) estimates E f(x_T) = {mean:.6g} +- {se:.2g}, exact {exact:.6g}"
            rows.append(dict(d=d, draw=draw, name=name, first=first, times=[], z=z, mean=mean))
        mine = rows[-len(entrants):]
        for rep in range(reps):
            for row, fn in zip(mine, entrants.values()):
                t = time.perf_counter()
                fn(rep + 1)
                row["times"].append(time.perf_counter() - t)
        for row in mine:
            sec = float(np.median(row["times"]))
            if "per seed" in row["name"]:
                sec *= seeds / min(per_seed_seeds, seeds)
            row["seconds"] = sec
    run_steps = seeds * steps
    for row in rows:
        normals = 2 * d * (b if row["draw"] == "per-sample" else 1) * run_steps
        flops = 2 * (2 * d * d if d <= MAX_ROTATED else d) * run_steps
        model = roofs.model_seconds(roof, flops=flops, bytes_moved=6 * 8 * d * run_steps,
                                    normals=normals, numpy_rng=row["name"].startswith("numpy"))
        row["binding"] = max(model, key=model.get)
        row["roof_fraction"] = model[row["binding"]] / row["seconds"]
    return rows


def scaling(d: int, b: int, eta: float, base: tuple[int, int]) -> list[tuple[str, int, int, float]]:
    """xtrap's microseconds per run-step at seeds x {1/4, 1, 4} and steps x {1/4, 1, 4} (batch-mean draw)."""
    import xtrap

    p = quadratic(d)
    m = xtrap.extrap_sgd(lr=eta, batch=b)
    seeds0, steps0 = base
    out = []
    for label, seeds, steps in [("seeds", seeds0 // 4, steps0), ("seeds", seeds0, steps0), ("seeds", 4 * seeds0, steps0),
                                ("steps", seeds0, steps0 // 4), ("steps", seeds0, 4 * steps0)]:
        kw = dict(steps=steps, seeds=seeds, record_every=steps, averages=False, max_memory_mb=4096)
        xtrap.run(p, m, seed=0, **kw)  # compile
        t = time.perf_counter()
        xtrap.run(p, m, seed=1, **kw)
        out.append((label, seeds, steps, 1e6 * (time.perf_counter() - t) / (seeds * steps)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a minute): checks the harness, not the speed")
    ap.add_argument("--dims", default="100,1000,10000")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--per-seed-seeds", type=int, default=50)
    ap.add_argument("--json", help="also write the rows to this file")
    a = ap.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    dims = [int(v) for v in a.dims.split(",")]
    sizes = QUICK if a.quick else SIZES
    dev = jax.devices()[0]
    print(f"JAX {jax.__version__} on {dev.platform} ({dev.device_kind}); {os.cpu_count()} CPUs; "
          f"{platform.processor() or platform.machine()}; NumPy {np.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; float64")
    roof = roofs.measure()
    print(f"roofs: matmul {roof['flops'] / 1e9:.1f} GFLOP/s, triad bandwidth {roof['bandwidth'] / 1e9:.1f} GB/s, "
          f"normals {roof['normals'] / 1e6:.0f} M/s (jax threefry; NumPy SFC64 {roof['numpy_normals'] / 1e6:.0f} M/s)")
    all_rows = []
    for d in dims:
        seeds, steps = sizes.get(d, (max(1, 10**5 // d), 100))
        rows = bench_dim(d, seeds, steps, a.batch, a.reps, roof, 0.5, a.per_seed_seeds)
        all_rows += rows
        print(f"\nd = {d} ({'rotated, dense H' if d <= MAX_ROTATED else 'standard basis, H stored diagonal'}): "
              f"EXTRAP-SGD, {seeds} seeds x {steps} steps, batch {a.batch}, median of {a.reps} interleaved rounds")
        print(f"{'draw':<12}{'contestant':<28}{'seconds':>9}{'us/run-step':>13}{'xtrap is':>10}"
              f"{'binding roof':>14}{'of roof':>9}{'z vs exact':>11}")
        for draw in peers.DRAWS:
            mine = [r for r in rows if r["draw"] == draw]
            ours = next(r for r in mine if r["name"] == "xtrap")["seconds"]
            for r in mine:
                print(f"{draw:<12}{r['name']:<28}{r['seconds']:>9.2f}{1e6 * r['seconds'] / (seeds * steps):>13.2f}"
                      f"{r['seconds'] / ours:>9.2f}x{r['binding']:>14}{100 * r['roof_fraction']:>8.0f}%"
                      f"{r['z']:>11.2f}")
        best_peer = min(r["seconds"] for r in rows if r["name"] != "xtrap")
        xt_default = next(r for r in rows if r["name"] == "xtrap" and r["draw"] == "batch-mean")["seconds"]
        best_per_sample = min(r["seconds"] for r in rows if r["name"] != "xtrap" and r["draw"] == "per-sample")
        print(f"xtrap (default draw) vs the best peer with the same draw: "
              f"{min(r['seconds'] for r in rows if r['name'] != 'xtrap' and r['draw'] == 'batch-mean') / xt_default:.2f}x"
              f"; vs the best peer overall: {best_peer / xt_default:.2f}x; vs the best per-sample peer (the model "
              f"as written): {best_per_sample / xt_default:.2f}x")
    print("\nxtrap's cost vs seeds and steps (batch-mean draw; flat = linear cost):")
    for d in dims:
        for label, seeds, steps, us in scaling(d, a.batch, 0.5, sizes.get(d, (100, 100))):
            print(f"  d = {d:<6} {label:<6} {seeds:>6} seeds x {steps:>5} steps: {us:8.2f} us/run-step")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(dict(roofs=roof, rows=all_rows), fh, indent=1)


if __name__ == "__main__":
    main()
