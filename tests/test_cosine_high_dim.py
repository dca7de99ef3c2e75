"""The cosine family in high dimension (issue 11, item 6): a nonconvex problem with exact constants at any d.

Its constants are separable, so they are exact at every d; its m^d product minima are listed only while there are
at most 4096, and beyond that the m diagonal ones (s_k, ..., s_k). Expected values come from the 1-D profile
phi(s) = a s^2/2 + b cos(omega s) directly (a dense grid), not from the family's code.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from analysis.sharp_flat import landscape


def _phi_grid(a: float, b: float, omega: float) -> tuple[np.ndarray, np.ndarray]:
    s = np.linspace(-4.0, 4.0, 2_000_001)
    return s, 0.5 * a * s ** 2 + b * np.cos(omega * s)


def test_constants_are_exact_in_a_thousand_dimensions_and_the_diagonal_minima_are_listed() -> None:
    d = 1000
    p = problems.make("cosine", dim=d)  # a = b = 1, omega = 3: four 1-D minima, 4^1000 product minima
    s, phi = _phi_grid(1.0, 1.0, 3.0)
    assert float(p.L) == 1.0 + 9.0 and math.isnan(float(p.mu))  # sup |phi''| = a + |b| omega^2
    assert float(p.f_star) == pytest.approx(d * phi.min(), rel=1e-9)
    assert float(p.sigma2) == pytest.approx(0.1 ** 2 * d, rel=1e-15)
    assert len(p.minima) == 4 and not p.all_listed and "diagonal" in p.notes[0]
    for k, m in enumerate(p.minima):
        x = np.asarray(m.x)
        assert np.all(x == x[0]) and abs(float(p.value(jnp.asarray(x))) - float(m.value)) < 1e-9 * d
    assert [m.label for m in p.minima] == ["flat", "sharp", "sharp", "flat"]  # |s| = 2.75 flatter than 0.94


def test_a_mixed_end_point_has_basin_minus_one_and_a_diagonal_one_its_index() -> None:
    p = problems.make("cosine", dim=20)
    flat, sharp = np.asarray(p.minima[0].x), np.asarray(p.minima[1].x)
    assert int(p.basin(jnp.asarray(sharp + 0.01))) == 1 and int(p.basin(jnp.asarray(flat))) == 0
    mixed = sharp.copy()
    mixed[3] = flat[3]
    assert int(p.basin(jnp.asarray(mixed))) == -1
    small = problems.make("cosine", dim=2)  # all 16 listed: the product index
    assert small.all_listed and int(small.basin(jnp.asarray([float(small.mins_1d[1]), float(small.mins_1d[2])]))) == 6


def test_runs_work_in_high_dimension_and_the_landscape_barrier_is_exact_in_several() -> None:
    p = problems.make("cosine", dim=64, noise=0.0)
    r = xtrap.run(p, xtrap.sgd(lr=0.05, exact=True), steps=400, seeds=1)
    # from x0 = 1.5 (1, ..., 1) every coordinate follows the same 1-D gradient descent on phi, so the run ends at a
    # diagonal minimum: the one the 1-D loop below reaches (its index among the 1-D minima)
    s = 1.5
    for _ in range(400):
        s -= 0.05 * (s - 3.0 * np.sin(3.0 * s))  # phi'(s) = a s - b omega sin(omega s), a = b = 1, omega = 3
    k = int(np.argmin(np.abs(np.asarray(p.mins_1d) - s)))
    assert int(np.asarray(r["basin"]).ravel()[0]) == k
    p = problems.make("cosine", dim=5)  # 4^5 = 1024 product minima, all listed: a sharp-flat landscape
    # its first sharp minimum is (s_1, ..., s_1, s_2) with s_1 ~ -2.75 (flat) and s_2 ~ -0.94: only the last
    # coordinate must cross into a flat 1-D basin, over r_1, the 1-D maximum between s_1 and s_2
    s, phi = _phi_grid(1.0, 1.0, 3.0)
    inner = phi[1:-1]
    mins = s[1:-1][(inner < phi[:-2]) & (inner <= phi[2:])]
    maxs = s[1:-1][(inner > phi[:-2]) & (inner >= phi[2:])]
    r1 = maxs[(maxs > mins[0]) & (maxs < mins[1])][0]
    ls = landscape(p)
    np.testing.assert_allclose(np.asarray(ls.minimum("sharp").x), [mins[0]] * 4 + [mins[1]], rtol=1e-5)
    assert ls.barrier == pytest.approx(abs(r1 - mins[1]), rel=1e-5)  # grid spacing 4e-6
