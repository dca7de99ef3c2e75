"""The benchmark's contestants compute what they claim (benchmarks/peers.py), so its ratios compare like with like.

The exact E f(x_T) of EXTRAP-SGD on the quadratic (the second-moment recursion in the eigenbasis) is checked
against a dense-matrix recursion written here; the careful NumPy contestant, under both draws, is within 4 standard
errors of it; the optax contestants too when optax is installed (the ``bench`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import peers  # noqa: E402

import problems  # noqa: E402

D, B, ETA, STEPS, SEEDS = 6, 4, 0.5, 30, 4000


def setup(structure: str = "dense"):
    """The rotated quadratic with its dense H, or the standard-basis one with H passed as its diagonal."""
    p = problems.make("quadratic", dim=D, mu=0.05, L=1.0, rotate=structure == "dense")
    h = np.asarray(p.H) if structure == "dense" else np.asarray(p.H.diagonal)
    s = float(p.sigma2) / D
    return p, h, np.asarray(p.x0) - np.asarray(p.x_star), s


def test_exact_expected_loss_against_a_dense_recursion():
    p, h, r0, s = setup()
    a = np.eye(D) - ETA * h + ETA * ETA * h @ h
    m = np.outer(r0, r0)
    for _ in range(STEPS):
        m = a @ m @ a.T + ETA**2 * (ETA**2 * h @ h + np.eye(D)) * s / B
    want = 0.5 * np.trace(h @ m)
    got = peers.exact_expected_loss(np.asarray(p.eigvals), np.asarray(p.eigvecs).T @ r0, s, ETA, ETA, B, STEPS)
    assert abs(got - want) <= 1e-12 * want


def _within_4se(vals: np.ndarray, want: float) -> None:
    se = vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(vals.mean() - want) < 4 * se, (vals.mean(), want, se)


@pytest.mark.parametrize("structure", ["dense", "diagonal"])
@pytest.mark.parametrize("draw", peers.DRAWS)
def test_numpy_contestant_estimates_the_exact_value(draw, structure):
    p, h, r0, s = setup(structure)
    want = peers.exact_expected_loss(np.asarray(p.eigvals), p.to_eigenbasis(r0), s, ETA, ETA, B, STEPS)
    _within_4se(peers.numpy_vectorized(h, r0, s, ETA, ETA, B, SEEDS, STEPS, draw, seed=1), want)


@pytest.mark.slow
@pytest.mark.parametrize("structure", ["dense", "diagonal"])
@pytest.mark.parametrize("draw", peers.DRAWS)
def test_optax_contestants_estimate_the_exact_value(draw, structure):
    pytest.importorskip("optax")
    p, h, r0, s = setup(structure)
    want = peers.exact_expected_loss(np.asarray(p.eigvals), p.to_eigenbasis(r0), s, ETA, ETA, B, STEPS)
    _within_4se(peers.optax_vmapped(h, r0, s, ETA, ETA, B, SEEDS, STEPS, draw)(1), want)
    _within_4se(peers.optax_per_seed(h, r0, s, ETA, ETA, B, 200, STEPS, draw)(2), want)
