"""The problem protocol shared by every family.

A problem is an immutable JAX pytree (a frozen dataclass registered with
``jax.tree_util.register_dataclass``). Its array-valued fields are pytree *data*, so
one compiled run serves every instance of a family with the same shapes; its ``name``,
``dim`` and ``n`` are *static* metadata.

The stochastic oracle is split in two so that a method can reuse or redraw a batch:

* ``sample(key, size)`` draws the randomness :math:`\\xi = (\\xi_1, \\dots, \\xi_{size})`
  of ``size`` samples (indices drawn without replacement for a finite sum, noise
  vectors for an additive-noise oracle), with a leading axis of length ``size``;
* ``stochastic_grad(x, xi, mask)`` evaluates the mini-batch gradient
  :math:`g(x;\\xi) = \\frac1b \\sum_{i:\\,mask_i} \\nabla f_{\\xi_i}(x)`, :math:`b=\\sum_i mask_i`.

Masking is what keeps the batch size a *data* hyper-parameter: a run draws
``size = b_max`` samples and averages the first ``b`` of them. For a finite sum the first
``b`` of a uniformly random ordering are a uniform batch without replacement, so every
masked batch has exactly the law of a batch of size ``b``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from ._diagonal import DiagonalMatrix, eigvalsh

Array = jax.Array
T = TypeVar("T")
CONSTANT_NAMES = ("L", "mu", "f_star", "sigma2", "minima")  # the constants whose source a problem states


def static_field(**kwargs: Any) -> Any:
    """A dataclass field treated as static metadata when the problem passes through ``jit``."""
    return dataclasses.field(metadata={"static": True}, **kwargs)


def pytree_dataclass(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, keyword-only dataclass registered as a JAX pytree.

    Fields declared with :func:`static_field` become static metadata (part of the
    compilation cache key); every other field is a pytree leaf or subtree.
    """
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    return jax.tree_util.register_dataclass(cls)


@pytree_dataclass
class Minimum:
    """A known local minimizer :math:`x^\\star` with its Hessian, value and label.

    Attributes:
        x: the minimizer, shape ``(dim,)``.
        hessian: :math:`\\nabla^2 f(x^\\star)`, shape ``(dim, dim)``: a dense array, or a
            :class:`~problems.DiagonalMatrix` where the family knows it is diagonal (then it costs ``dim`` numbers,
            and ``np.asarray`` gives the dense matrix).
        value: :math:`f(x^\\star)`.
        label: ``"sharp"``, ``"flat"``, ``"global"`` or another short name.
    """

    x: Array
    hessian: Array | DiagonalMatrix
    value: Array
    label: str = static_field(default="global")

    @property
    def sharpness(self) -> float:
        """:math:`\\lambda_{\\max}(\\nabla^2 f(x^\\star))`: a dense ``eigvalsh``, or the largest entry of a diagonal
        Hessian."""
        return float(eigvalsh(self.hessian)[-1])


@pytree_dataclass
class Problem:
    """Base class of all problems: exact constants, known minima and a split oracle.

    Attributes:
        x0: default starting point, shape ``(dim,)``.
        L: smoothness constant, :math:`\\|\\nabla f(x)-\\nabla f(y)\\| \\le L\\|x-y\\|`.
        mu: strong-convexity (or PL) constant, ``nan`` when the problem has none.
        f_star: :math:`\\inf f`.
        sigma2: per-sample gradient variance as a trace,
            :math:`\\mathbb E\\|\\nabla f_\\xi(x)-\\nabla f(x)\\|^2 \\le \\sigma^2`; each family documents
            whether it is a global bound or the value at the minimizer.
        minima: the known minimizers.
        name: the family's registry name (static).
        dim: the dimension :math:`d` (static).
        n: number of components of a finite sum, ``None`` for a streaming oracle (static).
    """

    x0: Array
    L: Array
    mu: Array
    f_star: Array
    sigma2: Array
    minima: tuple[Minimum, ...]
    name: str = static_field()
    dim: int = static_field()
    n: int | None = static_field(default=None)

    # ---- the oracle: families override these -------------------------------------------
    def value(self, x: Array) -> Array:
        """:math:`f(x)`."""
        raise NotImplementedError

    def grad(self, x: Array) -> Array:
        """The exact gradient :math:`\\nabla f(x)`."""
        raise NotImplementedError

    def sample(self, key: Array, size: int) -> Any:
        """Draw the randomness of ``size`` samples (a pytree with leading axis ``size``)."""
        raise NotImplementedError

    def sample_grad(self, x: Array, xi_i: Any) -> Array:
        """The gradient :math:`\\nabla f_{\\xi_i}(x)` of one sample."""
        raise NotImplementedError

    # ---- the law of a batch mean, for oracles that have one in closed form ---------------
    batch_mean_law: ClassVar[bool] = False
    """Whether :meth:`sample_batch_mean` / :meth:`batch_mean_grad` draw a batch gradient from the exact law of the
    mean of ``b`` per-sample gradients with one draw, whatever ``b`` (additive Gaussian oracles)."""

    def sample_batch_mean(self, key: Array) -> Any:
        """One draw :math:`\\xi` from which :meth:`batch_mean_grad` forms a batch gradient of any size."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form law of a batch mean")

    def batch_mean_grad(self, x: Array, xi: Any, b: Array) -> Array:
        """A batch gradient of size ``b`` with the law of :meth:`stochastic_grad` on ``b`` fresh samples."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form law of a batch mean")

    # ---- an additive oracle, whose draws are the noise itself -----------------------------
    additive_oracle: ClassVar[bool] = False
    """Whether the oracle is :math:`\\nabla f(x)` plus its draws: :meth:`stochastic_grad` is
    :math:`\\nabla f(x)+\\frac1b\\sum_{i:\\,mask_i}\\xi_i` and :meth:`batch_mean_grad` is
    :math:`\\nabla f(x)+\\xi/\\sqrt b`.
    A run that already holds :math:`\\nabla f(x_t)` (for its running averages) then forms the gradients at
    :math:`x_t` from it instead of evaluating :math:`\\nabla f(x_t)` again (:func:`uses_additive_oracle`)."""

    # ---- what a run records beside f, ||grad f||^2 and the distance to a minimum -----------
    def extra_metrics(self, x: Array) -> dict[str, Array]:
        """Scalar measures of the point ``x`` that :func:`xtrap.run` records at every record step beside
        ``loss``, ``grad_norm2`` and ``dist`` (e.g. a held-out loss and accuracy); none by default.

        Returns:
            A dict of names to scalars (JAX-traceable in ``x``; the same names for every ``x``).
        """
        return {}

    # ---- shared machinery -----------------------------------------------------------------
    def stochastic_grad(self, x: Array, xi: Any, mask: Array | None = None) -> Array:
        """Mini-batch gradient :math:`g(x;\\xi)=\\frac1b\\sum_{i:\\,mask_i}\\nabla f_{\\xi_i}(x)`.

        Args:
            x: the point, shape ``(dim,)``.
            xi: randomness from :meth:`sample`, leading axis ``size``.
            mask: boolean or 0/1 weights of shape ``(size,)``; ``None`` uses every sample.

        Returns:
            The average of the selected per-sample gradients, shape ``(dim,)``.
        """
        grads = jax.vmap(self.sample_grad, in_axes=(None, 0))(x, xi)
        return masked_mean(grads, mask)

    def hessian(self, x: Array) -> Array:
        """:math:`\\nabla^2 f(x)` by forward-over-reverse differentiation of :meth:`grad`."""
        return jax.jacfwd(self.grad)(x)

    def distance_to_minimum(self, x: Array) -> Array:
        """:math:`\\min_j \\|x - x^\\star_j\\|` over the known minima; NaN when none is known."""
        if not self.minima:
            return jnp.full((), jnp.nan, jnp.asarray(x).dtype)
        return jnp.min(self._distances(x))

    def basin(self, x: Array) -> Array:
        """Index into :attr:`minima` of the basin ``x`` lies in; -1 when no minimum is known.

        The default is the nearest known minimizer; families whose basins of
        attraction are known exactly override it.
        """
        if not self.minima:
            return jnp.asarray(-1, jnp.int32)
        return jnp.argmin(self._distances(x)).astype(jnp.int32)

    def _distances(self, x: Array) -> Array:
        xs = jnp.stack([m.x for m in self.minima])
        return jnp.linalg.norm(xs - x[None, :], axis=-1)

    @property
    def sources(self) -> dict[str, str]:
        """Where each constant comes from: ``"exact"`` (derived in closed form and tested), ``"given"`` (by the
        user), ``"estimated"`` (numerically, see :attr:`notes`) or ``"unknown"``. Keys: ``L``, ``mu``,
        ``f_star``, ``sigma2``, ``minima``. The built-in families are exact, except the numerically found minima
        and ``f_star`` of ``logistic``."""
        return {k: "exact" for k in CONSTANT_NAMES}

    @property
    def notes(self) -> tuple[str, ...]:
        """How the estimated constants were obtained, one sentence each (empty for exact ones)."""
        return ()

    @property
    def constants(self) -> dict[str, float | int | None]:
        """The exact constants as plain Python numbers (for reports and JSON)."""
        return {
            "L": float(self.L),
            "mu": None if np.isnan(float(self.mu)) else float(self.mu),
            "f_star": float(self.f_star),
            "sigma2": float(self.sigma2),
            "dim": int(self.dim),
            "n": self.n,
        }


@pytree_dataclass
class IsotropicNoise(Problem):
    """Additive Gaussian oracle :math:`g(x;\\xi)=\\nabla f(x)+\\frac1b\\sum_{i\\le b}\\epsilon_i`,
    :math:`\\epsilon_i\\sim N(0,\\nu^2I_d)`, so :math:`\\sigma^2=\\nu^2d` exactly at every point.

    Subclasses set the field ``noise`` (:math:`\\nu`) and implement ``value``/``grad``.
    """

    noise: Array

    def sample(self, key: Array, size: int) -> Array:
        return self.noise * jax.random.normal(key, (size, self.dim), dtype=jnp.asarray(self.x0).dtype)

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        return self.grad(x) + xi_i

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        return self.grad(x) + masked_mean(xi, mask)

    batch_mean_law: ClassVar[bool] = True
    additive_oracle: ClassVar[bool] = True

    def sample_batch_mean(self, key: Array) -> Array:
        """:math:`\\epsilon\\sim N(0,\\nu^2 I_d)`: the first sample :meth:`sample` draws under ``key``."""
        return self.sample(key, 1)[0]

    def batch_mean_grad(self, x: Array, xi: Array, b: Array) -> Array:
        """:math:`\\nabla f(x)+\\epsilon/\\sqrt b`: the mean of ``b`` i.i.d. :math:`N(0,\\Sigma)` noises is
        :math:`N(0,\\Sigma/b)`, so one draw gives the exact law of every batch size (and ``b = 1`` the per-sample
        gradient of the same key bit for bit)."""
        return self.grad(x) + xi / jnp.sqrt(jnp.asarray(b, xi.dtype))


def uses_batch_mean_law(problem: Problem) -> bool:
    """Whether ``problem`` draws its batch gradients from :meth:`Problem.batch_mean_grad`'s law: it declares
    :attr:`Problem.batch_mean_law`, and no subclass below the declaring class redefines its oracle (``sample``,
    ``sample_grad`` or ``stochastic_grad``) without declaring the law again (a changed oracle keeps the exact
    per-sample path)."""
    return _declares(problem, "batch_mean_law")


def uses_additive_oracle(problem: Problem) -> bool:
    """Whether ``problem``'s oracle is additive (:attr:`Problem.additive_oracle`), declared by the class that
    defines its oracle: a subclass that redefines ``sample``, ``sample_grad``, ``stochastic_grad`` or
    ``batch_mean_grad`` without declaring it again is not taken to be additive."""
    return _declares(problem, "additive_oracle", ("batch_mean_grad",))


def _declares(problem: Problem, flag: str, more: tuple[str, ...] = ()) -> bool:
    """The value of the class flag ``flag`` on the class nearest ``type(problem)`` that declares it, provided no
    class below that one redefines the oracle."""
    for cls in type(problem).__mro__:
        if flag in vars(cls):
            return bool(vars(cls)[flag])
        if any(name in vars(cls) for name in ("sample", "sample_grad", "stochastic_grad", *more)):
            return False
    return False


def masked_mean(values: Array, mask: Array | None) -> Array:
    """Mean of ``values`` over its leading axis, restricted to entries where ``mask`` is set.

    :math:`\\frac{\\sum_i m_i v_i}{\\sum_i m_i}`; with ``mask=None`` the plain mean.
    """
    if mask is None:
        return jnp.mean(values, axis=0)
    w = jnp.asarray(mask, dtype=values.dtype)
    return jnp.tensordot(w, values, axes=1) / jnp.sum(w)


def prefix_mask(size: int, count: Array) -> Array:
    """Boolean mask of length ``size`` selecting the first ``count`` entries."""
    return jnp.arange(size) < count


def as_float(value: Any, name: str) -> np.float64:
    """Convert a constant to ``float64``, refusing NaN and infinities with a named error."""
    v = np.float64(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v
