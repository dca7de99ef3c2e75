"""Speed of a property-based test of a stochastic claim with xtrap.testing (issue: "seconds, not minutes").

Workload: the test a user writes for "EXTRAP-SGD obeys D1": hypothesis draws a d = 10 quadratic
(``problems("quadratic", dim=10, ...)``) and D1-admissible steps (``admissible("D1", problem=p, T=50, b=1)``),
then ``assert_obeys`` runs 128 seeds x 50 steps and holds them against D1 with the Bonferroni budget.
Reported side by side, in one run: the wall time of N examples, the time per example, and how many times the
run was compiled (``xtrap.compiled_count()``: examples of one structure must reuse one compilation), against
the same N examples written as a plain loop over ``xtrap.run`` + ``analysis.check`` with hand-made draws (what
a user would otherwise write).

Usage: python benchmarks/bench_testing.py [--examples 100]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import problems as P  # noqa: E402
import proofs  # noqa: E402
import xtrap  # noqa: E402
from analysis.checks import check  # noqa: E402
from xtrap.testing import admissible, assert_obeys, problems  # noqa: E402


def with_xtrap_testing(n: int) -> tuple[float, int]:
    before = xtrap.compiled_count()

    @settings(max_examples=n, deadline=None, database=None, derandomize=True)
    @given(data=st.data(), p=problems("quadratic", dim=10, sigma2=(0.1, 2.0), rotate=True, spacing="geometric"))
    def test(data, p):
        v = data.draw(admissible("D1", problem=p, T=50, b=1))
        assert_obeys((xtrap.extrap_sgd(lr=v["eta"], extrap_lr=v["gamma"]), p), "D1", steps=50, seeds=128)

    t0 = time.perf_counter()
    test()
    return time.perf_counter() - t0, xtrap.compiled_count() - before


def by_hand(n: int) -> float:
    rng = np.random.default_rng(0)
    bound = proofs.catalog()["D1"].bound
    t0 = time.perf_counter()
    for i in range(n):
        p = P.make("quadratic", dim=10, sigma2=float(rng.uniform(0.1, 2.0)), L=float(rng.uniform(0.5, 4.0)), seed=i)
        eta, gamma = rng.uniform(0.001, 1.0) / p.L, rng.uniform(0.001, 0.999) / p.L
        r = xtrap.run(p, xtrap.extrap_sgd(lr=eta, extrap_lr=gamma), steps=50, seeds=128, seed=i)
        assert check(r, bound).verdict != "fail"
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100)
    n = ap.parse_args().examples
    with_xtrap_testing(2)  # compile once outside the timing
    t, compiles = with_xtrap_testing(n)
    h = by_hand(n)
    print(f"{n} examples of 'EXTRAP-SGD obeys D1' (d=10, 128 seeds x 50 steps), {jax.default_backend()}:")
    print(f"  xtrap.testing      {t:7.2f} s  ({1e3 * t / n:6.1f} ms/example, {compiles} new compilations)")
    print(f"  hand-written loop  {h:7.2f} s  ({1e3 * h / n:6.1f} ms/example)   ratio {t / h:.2f}")


if __name__ == "__main__":
    main()
