"""The quadratic families' spectra end exactly at the constants their parameters name (L on top, mu below)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import problems


@given(L=st.floats(0.1, 10.0))
def test_quadratic_spectra_end_at_the_requested_constants(L) -> None:
    """The parameters named L and mu are the extreme eigenvalues exactly, for every dim, spacing and ratio
    (mu = 0 included: geometric spacing used to put the top eigenvalue at L/2 when dim = 2)."""
    for dim, ratio, spacing in itertools.product(range(1, 9), (0.0, 0.01, 0.3, 1.0), ("geometric", "linear", "two")):
        families = [("quadratic", {})] + ([("least-squares", dict(n=dim + 3))] if ratio > 0 else [])  # LS: mu > 0
        for family, kw in families:
            lam = np.asarray(problems.make(family, dim=dim, mu=ratio * L, L=L, spacing=spacing, **kw).eigvals)
            where = (family, dim, ratio, spacing, lam.tolist())
            assert lam.max() == L and lam.min() == (L if dim == 1 else ratio * L), where
            assert np.all(np.diff(lam) >= 0), where
