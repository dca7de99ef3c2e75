"""Without-replacement sampling (partial Fisher-Yates): every ordered prefix is uniform."""

import itertools

import jax
import numpy as np
import pytest

from problems._finite_sum import partial_shuffle


@pytest.mark.parametrize("n, size", [(5, 3), (6, 6), (4, 1)])
def test_every_ordered_prefix_is_equally_likely(n: int, size: int) -> None:
    draws = 60_000
    keys = jax.random.split(jax.random.key(7), draws)
    out = np.asarray(jax.jit(jax.vmap(lambda k: partial_shuffle(k, n, size)))(keys))
    assert all(len(set(row)) == size for row in out[:2000])  # distinct indices
    cells = list(itertools.permutations(range(n), size))
    index = {c: i for i, c in enumerate(cells)}
    counts = np.bincount([index[tuple(r)] for r in out], minlength=len(cells))
    p = 1.0 / len(cells)
    se = np.sqrt(draws * p * (1 - p))
    # each cell within 4.5 binomial SE (Bonferroni over up to 720 cells keeps the false-alarm rate < 1%)
    assert np.all(np.abs(counts - draws * p) <= 4.5 * se), (counts.min(), counts.max(), draws * p)


def test_same_key_same_sample() -> None:
    k = jax.random.key(3)
    a = np.asarray(partial_shuffle(k, 50, 10))
    assert np.array_equal(a, np.asarray(partial_shuffle(k, 50, 10)))
    assert not np.array_equal(a, np.asarray(partial_shuffle(jax.random.key(4), 50, 10)))
