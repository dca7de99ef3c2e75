"""A problem is converted, placed and fingerprinted once, not on every xtrap.run call (issue 13, item 2).

Checked: the kept copy is reused (the same object on the second call) and released with the problem; a run through
the kept copy is bitwise a run of a fresh, equal problem; the content fingerprint is that of the data, not of the
object; and an in-place edit of a problem's NumPy array, which the kept copy would not see, raises.
"""

from __future__ import annotations

import gc

import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from xtrap import _shipped


def _cast(a):
    return jnp.asarray(a)


def _digest(tree):
    from xtrap.results_cache import fingerprint

    return fingerprint(tree)


def test_prepared_once_and_released_with_the_problem():
    p = problems.make("quadratic", dim=6)
    before = _shipped.entries()
    first = _shipped.prepared(p, "float64", _cast, _digest)
    second = _shipped.prepared(p, "float64", _cast, _digest)
    assert first[0] is second[0] and first[1] == second[1]
    assert _shipped.entries() == before + 1
    other = _shipped.prepared(p, "float32", _cast, _digest)  # another dtype is another entry
    assert other[0] is not first[0] and _shipped.entries() == before + 2
    del p, first, second, other
    gc.collect()
    assert _shipped.entries() == before


def test_equal_problems_share_a_fingerprint_and_give_the_same_bits():
    m = xtrap.extrap_sgd(lr=0.2, batch=2, workers=2)
    a, b = problems.make("quadratic", dim=6, seed=3), problems.make("quadratic", dim=6, seed=3)
    ra1 = xtrap.run(a, m, steps=20, seeds=4, seed=1)
    ra2 = xtrap.run(a, m, steps=20, seeds=4, seed=1)  # through the kept copy
    rb = xtrap.run(b, m, steps=20, seeds=4, seed=1)   # a fresh, equal problem
    assert ra1.attrs["fingerprint"] == ra2.attrs["fingerprint"] == rb.attrs["fingerprint"]
    for k in ra1.data:
        np.testing.assert_array_equal(ra2[k], ra1[k])
        np.testing.assert_array_equal(rb[k], ra1[k])
    c = problems.make("quadratic", dim=6, seed=4)
    assert xtrap.run(c, m, steps=20, seeds=4, seed=1).attrs["fingerprint"] != rb.attrs["fingerprint"]


def test_in_place_edit_after_a_run_raises():
    p = problems.make_quadratic(np.array([1.0, 2.0, 3.0]), x_star=np.zeros(3))
    xtrap.run(p, xtrap.sgd(lr=0.1), steps=3)
    numpy_leaves = [leaf for leaf in __import__("jax").tree_util.tree_leaves(p) if isinstance(leaf, np.ndarray)]
    assert numpy_leaves
    with pytest.raises(ValueError, match="read-only"):
        numpy_leaves[0][0] = 5.0
