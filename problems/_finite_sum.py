"""Shared machinery of finite sums :math:`f=\\frac1n\\sum_{i=1}^n f_i` sampled without replacement.

The randomness of ``size`` samples is a uniformly random ordering's first ``size`` indices, so every
prefix of length :math:`b` is a uniform batch without replacement (what masking relies on). For such a
batch the mini-batch gradient is unbiased and its variance is exactly (THEORY.md §1.1, (V))

.. math:: \\mathbb E\\|g_b(x)-\\nabla f(x)\\|^2 = p_b\\,\\sigma^2(x),\\qquad
          p_b=\\frac{n-b}{b(n-1)},\\qquad
          \\sigma^2(x)=\\frac1n\\sum_{i=1}^n\\|\\nabla f_i(x)-\\nabla f(x)\\|^2,

the finite-population correction of a sample mean (:math:`p_n=0`; :math:`p_1=1`).
"""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp

from ._base import Array, Problem
from ._validate import ParameterError


def without_replacement_factor(n: int, b: int) -> float:
    """:math:`p_b=\\frac{n-b}{b(n-1)}`, the variance factor of a size-``b`` batch drawn without
    replacement from ``n`` samples (``0`` when ``n == 1``).

    Raises:
        ParameterError: unless ``1 <= b <= n``.
    """
    if not 1 <= b <= n:
        raise ParameterError(f"batch b must be in [1, n={n}], got {b}")
    return 0.0 if n == 1 else (n - b) / (b * (n - 1))


def partial_shuffle(key: Array, n: int, size: int) -> Array:
    """The first ``size`` entries of a uniformly random permutation of ``range(n)``.

    Partial Fisher-Yates: for :math:`i<size` swap position :math:`i` with a uniform :math:`j\\in[i,n)`.
    Every prefix is a uniform sample without replacement, in uniformly random order. Cost
    :math:`O(n+size)` instead of the :math:`O(n\\log n)` sort of ``jax.random.permutation`` (about ten
    times faster for a batch of 8 out of 64).
    """
    js = jax.random.randint(key, (size,), jnp.arange(size), n)

    def swap(i: Array, perm: Array) -> Array:
        j = js[i]
        return perm.at[i].set(perm[j]).at[j].set(perm[i])

    return jax.lax.fori_loop(0, size, swap, jnp.arange(n))[:size]


class FiniteSum(Problem):
    """A finite sum whose samples are indices ``i`` in ``[0, n)`` drawn without replacement.

    Subclasses implement ``sample_grad(x, i)``; this class supplies :meth:`sample`,
    :meth:`per_sample_grads` and the exact state-dependent variance :meth:`sigma2_at`.
    """

    def sample(self, key: Array, size: int) -> Array:
        """``size`` distinct indices, the first ``size`` entries of a uniform random permutation.

        ``size`` is a Python int and must satisfy ``1 <= size <= n`` (checked when traced).
        """
        try:
            count = operator.index(size)
        except TypeError:
            count = -1
        if not 1 <= count <= self.n:
            raise ParameterError(f"size must be an integer in [1, n={self.n}] for {self.name!r}, got {size!r}")
        return partial_shuffle(key, self.n, count)

    def per_sample_grads(self, x: Array) -> Array:
        """All :math:`\\nabla f_i(x)`, shape ``(n, dim)``."""
        return jax.vmap(self.sample_grad, in_axes=(None, 0))(x, jnp.arange(self.n))

    def sigma2_at(self, x: Array) -> Array:
        """The exact per-sample variance trace :math:`\\frac1n\\sum_i\\|\\nabla f_i(x)-\\nabla f(x)\\|^2`."""
        g = self.per_sample_grads(x)
        dev = g - jnp.mean(g, axis=0, keepdims=True)
        return jnp.mean(jnp.sum(dev * dev, axis=-1))

    def batch_variance(self, x: Array, b: int) -> Array:
        """:math:`\\mathbb E\\|g_b(x)-\\nabla f(x)\\|^2=p_b\\,\\sigma^2(x)` for a batch of ``b`` without replacement."""
        return without_replacement_factor(self.n, b) * self.sigma2_at(x)
