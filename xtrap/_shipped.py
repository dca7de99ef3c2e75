"""A problem converted to a run's dtype, placed on the device and fingerprinted once, not on every run call.

:func:`xtrap.run` casts every floating leaf of the problem to the run's dtype (which copies it to the default
device) and hashes its bytes for the run's fingerprint. For a rotated quadratic at ``d = 4096`` that is two dense
``d x d`` matrices, hundreds of megabytes per call; a study that runs one problem many times paid it every time.
:func:`prepared` keeps the converted problem and its digest for as long as the problem lives (a weak reference: the
entry goes with the problem). A problem is immutable: its NumPy leaves are made read-only when it is first
prepared, so an in-place edit raises instead of being silently ignored by the kept copy.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import jax
import numpy as np

from problems import Problem

_ENTRIES: dict[tuple[int, str], tuple[weakref.ref, Any, str]] = {}


def prepared(problem: Problem, dtype: str, cast: Callable[[Any], Any],
             digest: Callable[[Any], str]) -> tuple[Problem, str]:
    """``(problem`` with ``cast`` applied to every leaf, ``digest`` of that``)``, computed once per problem and
    dtype."""
    key = (id(problem), dtype)
    entry = _ENTRIES.get(key)
    if entry is not None and entry[0]() is problem:
        return entry[1], entry[2]
    for leaf in jax.tree_util.tree_leaves(problem):
        if isinstance(leaf, np.ndarray) and leaf.flags.writeable:
            leaf.flags.writeable = False
    converted = jax.tree_util.tree_map(cast, problem)
    value = (converted, digest(converted))
    try:
        ref = weakref.ref(problem, lambda _, k=key: _ENTRIES.pop(k, None))
    except TypeError:  # a problem type that cannot be weakly referenced: converted every time, as before
        return value
    _ENTRIES[key] = (ref, *value)
    return value


def entries() -> int:
    """How many prepared problems are kept (for tests)."""
    return len(_ENTRIES)
