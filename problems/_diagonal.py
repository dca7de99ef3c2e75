"""A diagonal matrix stored as its diagonal, for problems whose structure makes memory and flops grow with d.

:math:`D=\\mathrm{diag}(v)` keeps only :math:`v`: :math:`Dx=v\\odot x` and :math:`x^\\top D=x\\odot v` cost
:math:`d` flops and the matrix :math:`d` numbers, where a dense array costs :math:`d^2` of each (800 MB in float64 at
:math:`d=10{,}000`). Wherever a NumPy array is expected it turns into the dense matrix (``np.asarray(D)``,
``D[i, j]``, ``np.linalg.eigvalsh(D)``), so code written for dense Hessians keeps working and pays :math:`d^2` only
when it asks for them. Inside a compiled program nothing densifies it silently (``jnp.asarray(D)`` and ``jnp.linalg``
refuse it): call :meth:`DiagonalMatrix.dense` (or :func:`dense`) where the dense matrix is meant.

>>> import numpy as np
>>> D = DiagonalMatrix(diagonal=np.array([1.0, 2.0]))
>>> D @ np.array([3.0, 4.0]), np.asarray(D).tolist(), D.shape
(array([3., 8.]), [[1.0, 0.0], [0.0, 2.0]], (2, 2))
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiagonalMatrix:
    """:math:`\\mathrm{diag}(v)`, a JAX pytree whose one leaf is ``diagonal`` (:math:`v`, shape ``(..., d)``; leading
    axes are a batch of matrices, as ``jax.vmap`` makes them)."""

    diagonal: Any
    __array_ufunc__ = None  # ``ndarray @ D`` defers to :meth:`__rmatmul__` (d flops) instead of densifying D

    @property
    def shape(self) -> tuple[int, ...]:
        s = tuple(np.shape(self.diagonal))
        return s + s[-1:]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> Any:
        return self.diagonal.dtype

    @property
    def T(self) -> DiagonalMatrix:  # noqa: N802 - the array attribute's name
        return self

    def __matmul__(self, x: Any) -> Any:
        """:math:`Dx`: ``v * x`` for a vector, row-scaled for a ``(d, k)`` matrix."""
        return self.diagonal * x if np.ndim(x) == 1 else self.diagonal[..., :, None] * x

    def __rmatmul__(self, x: Any) -> Any:
        """:math:`xD`: the columns of ``x`` (a vector or a ``(..., d)`` stack of rows) scaled by :math:`v`."""
        v = self.diagonal
        return x * v.reshape((1,) * (np.ndim(x) - v.ndim) + v.shape)  # explicit: no implicit rank promotion

    def dense(self) -> Any:
        """The dense ``(..., d, d)`` matrix (a JAX array; :math:`d^2` memory)."""
        v = jnp.asarray(self.diagonal)
        return v[..., :, None] * jnp.eye(v.shape[-1], dtype=v.dtype)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = np.asarray(self.diagonal)
        out = v[..., :, None] * np.eye(v.shape[-1], dtype=v.dtype)
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, index: Any) -> Any:
        return np.asarray(self)[index] if isinstance(self.diagonal, np.ndarray) else self.dense()[index]

    def eigvalsh(self) -> np.ndarray:
        """The eigenvalues in ascending order (the sorted diagonal), without forming the matrix."""
        return np.sort(np.asarray(self.diagonal), axis=-1)


jax.tree_util.register_dataclass(DiagonalMatrix, data_fields=["diagonal"], meta_fields=[])


def eigvalsh(matrix: Any) -> np.ndarray:
    """Ascending eigenvalues of a symmetric matrix, dense or :class:`DiagonalMatrix` (then in :math:`O(d\\log d)`)."""
    if isinstance(matrix, DiagonalMatrix):
        return matrix.eigvalsh()
    return np.linalg.eigvalsh(np.asarray(matrix))


def dense(matrix: Any) -> Any:
    """``matrix`` as a dense JAX array (a :class:`DiagonalMatrix` expanded, anything else through ``jnp.asarray``)."""
    return matrix.dense() if isinstance(matrix, DiagonalMatrix) else jnp.asarray(matrix)
