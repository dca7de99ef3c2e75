"""Random test matrices shared by the proof tests."""

import numpy as np


def random_sym(rng: np.random.Generator, dim: int, scale: float = 1.0) -> np.ndarray:
    """A symmetric matrix with Gaussian entries."""
    a = rng.standard_normal((dim, dim))
    return scale * (a + a.T) / 2


def random_psd(rng: np.random.Generator, dim: int) -> np.ndarray:
    """A positive definite matrix, smallest eigenvalue at least 0.1."""
    a = rng.standard_normal((dim, dim))
    return a @ a.T + 0.1 * np.eye(dim)
