"""Problems from a user's own objective: a function with an additive-noise oracle, or a finite sum of losses.

* :func:`from_function` — :math:`f(x)` with the oracle :math:`g(x;\\xi)=\\nabla f(x)+\\frac1b\\sum_{i\\le b}
  \\epsilon_i`, :math:`\\epsilon_i\\sim N(0,\\nu^2I_d)` (so :math:`\\sigma^2=\\nu^2d` exactly);
* :func:`from_samples` — :math:`f(x)=\\frac1n\\sum_i\\ell(x, z_i)` over a data pytree, batches drawn without
  replacement like the built-in finite sums.

Parameters may be any pytree of float arrays (a network's weights as nested dicts): they are flattened with
``jax.flatten_util.ravel_pytree`` at the boundary, so runs, sweeps and sharpness tools see one vector of
:math:`d` coordinates; :meth:`UserProblem.unravel` turns a vector (an iterate, a minimum) back into the tree.

Constants the user gives are used as given; the others are **estimated**, and :attr:`~problems.Problem.sources`
and :attr:`~problems.Problem.notes` say so (reports and JSON carry both):

* **minima**: L-BFGS + Newton from ``x0`` and ``starts - 1`` Gaussian perturbations of it (scale ``spread``),
  distinct strict local minima kept (:func:`problems._search.local_minima`), each with its dense Hessian and
  a label by sharpness: flattest ``"flat"``, sharpest ``"sharp"`` (``"mid1"``... between) when the sharpest
  :math:`\\lambda_{\\max}` is at least ``sharp_ratio`` times the flattest's, else ``"min1"``, ``"min2"``...; one
  alone is ``"min1"`` (the only one found, not known to be global). Only strict local minima are kept: the
  non-isolated minima of an over-parameterized network (flat directions) are not, so give ``minima=()`` there;
* **f_star**: the smallest value found (an *upper* bound on :math:`\\inf f`);
* **L**: :math:`\\max|\\lambda(\\nabla^2 f)|` over the region a run crosses: ``x0``, the minima and
  ``region_points`` points on the segments between them, perturbed by ``0.1 * spread`` — a *lower* bound on
  the true smoothness constant, which is a supremum over all points;
* **sigma2** (finite sums): :math:`\\max\\frac1n\\sum_i\\|\\nabla f_i-\\nabla f\\|^2` over the same points,
  again a lower bound on a global variance bound;
* **mu**: never estimated (a global PL constant cannot be read off a few points): given, or unknown.

A bound that depends on an estimated constant is reported by ``analysis.check`` as holding (or failing) *for
the estimated constants*, never as verified.

>>> import jax.numpy as jnp
>>> p = from_function(lambda w: 0.5 * jnp.sum(w["a"] ** 2) + jnp.cos(w["b"]), {"a": jnp.ones(2), "b": 1.0},
...                   noise=0.1)
>>> p.dim, p.sources["L"], p.sources["sigma2"], round(float(p.sigma2), 12)
(3, 'estimated', 'exact', 0.03)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Array, IsotropicNoise, pytree_dataclass, static_field
from ._estimate import Estimator
from ._finite_sum import FiniteSum
from ._flat import Unravel, check_given, checked_data, checked_name, checked_objective, flatten, function_identity
from ._validate import check_real


class _Labelled:
    """``sources`` and ``notes`` from the static fields ``provenance`` and ``estimates`` of a user's problem."""

    provenance: tuple[tuple[str, str], ...]
    estimates: tuple[str, ...]

    @property
    def sources(self) -> dict[str, str]:
        return dict(self.provenance)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.estimates


@pytree_dataclass
class UserProblem(_Labelled, IsotropicNoise):
    """A user's deterministic objective with an additive isotropic Gaussian oracle (:func:`from_function`).

    Attributes (beyond :class:`~problems.Problem`):
        fn: the objective on the flat vector, :math:`x\\mapsto f(\\mathrm{unravel}(x))` (static).
        unravel: flat vector -> the user's pytree (static, an :class:`Unravel`).
        provenance: ``(constant, source)`` pairs (static; read :attr:`sources`).
        estimates: how each estimated constant was obtained (static; read :attr:`notes`).
    """

    fn: Callable[[Array], Array] = static_field()
    unravel: Unravel = static_field()
    provenance: tuple[tuple[str, str], ...] = static_field()
    estimates: tuple[str, ...] = static_field(default=())

    def value(self, x: Array) -> Array:
        return self.fn(x)

    def grad(self, x: Array) -> Array:
        return jax.grad(self.fn)(x)


@pytree_dataclass
class UserFiniteSum(_Labelled, FiniteSum):
    """A user's finite sum :math:`\\frac1n\\sum_i\\ell(x, z_i)` over a data pytree (:func:`from_samples`).

    Attributes (beyond :class:`~problems.Problem`):
        data: the samples, a pytree whose leaves share the leading axis ``n`` (pytree data: another data set of
            the same shapes reuses the compiled run; build it with :func:`from_samples`, since
            ``dataclasses.replace(p, data=...)`` would keep constants estimated on the old data).
        loss_i: ``(x_flat, sample) -> scalar`` (static).
        unravel, provenance, estimates: as for :class:`UserProblem`.
    """

    data: Any
    loss_i: Callable[[Array, Any], Array] = static_field()
    unravel: Unravel = static_field()
    provenance: tuple[tuple[str, str], ...] = static_field()
    estimates: tuple[str, ...] = static_field(default=())

    def _sample(self, i: Array) -> Any:
        return jax.tree_util.tree_map(lambda a: a[i], self.data)

    def value(self, x: Array) -> Array:
        return jnp.mean(jax.vmap(lambda i: self.loss_i(x, self._sample(i)))(jnp.arange(self.n)))

    def grad(self, x: Array) -> Array:
        return jax.grad(self.value)(x)

    def sample_grad(self, x: Array, i: Array) -> Array:
        return jax.grad(self.loss_i)(x, self._sample(i))


def from_function(f: Callable[[Any], Any], x0: Any, *, noise: float = 0.0, L: float | None = None,
                  mu: float | None = None, f_star: float | None = None, minima: Sequence[Any] | None = None,
                  starts: int = 4, spread: float = 1.0, region_points: int = 8, seed: int = 0,
                  sharp_ratio: float = 2.0, name: str = "user") -> UserProblem:
    """A problem from a deterministic objective ``f`` and a start ``x0`` (any pytree of floats).

    The oracle adds isotropic Gaussian noise of standard deviation ``noise`` per coordinate to the exact
    gradient, so :math:`\\sigma^2=\\nu^2 d` exactly (``noise=0``: exact gradients). Constants not given are
    estimated as the module docstring says, and labelled ``"estimated"`` in :attr:`~problems.Problem.sources`.

    Args:
        f: the objective, a JAX-traceable function of a pytree shaped like ``x0`` returning a scalar.
        x0: the default start (a vector, or a pytree of float arrays).
        noise: :math:`\\nu\\ge0`, the oracle's per-coordinate noise standard deviation.
        L: the smoothness constant, if known (> 0); else estimated (a lower bound, said to be one).
        mu: the strong-convexity/PL constant, if known (in [0, L]); else unknown (never estimated).
        f_star: :math:`\\inf f`, if known; else the best minimum found.
        minima: known minimizers (pytrees like ``x0``; Hessians and labels computed), ``()`` for none known
            (then ``dist`` is NaN and ``basin`` -1 in runs), or ``None`` to search.
        starts: local searches (``x0`` and ``starts - 1`` perturbations), in [1, 1000].
        spread: scale of the start perturbations, > 0.
        region_points: points on the run's region where L is estimated, in [0, 10000].
        seed: seed of the perturbations.
        sharp_ratio: labels ``"flat"``/``"sharp"`` need the sharpest minimum's :math:`\\lambda_{\\max}` at least this
            many times the flattest's (>= 1); otherwise the minima are ``"min1"``, ``"min2"``, ...
        name: a short name for reports.

    Returns:
        A :class:`UserProblem` (a pytree: it runs and sweeps like any built-in problem).

    Raises:
        ParameterError: ``f`` does not return a finite scalar at ``x0``, a leaf of ``x0`` is not a float array,
            a constant is out of range, or the search finds no minimum where one was asked for.

    >>> import jax.numpy as jnp
    >>> p = from_function(lambda x: jnp.sum(x ** 2) + 0.1 * jnp.sum(x ** 4), jnp.ones(3), noise=0.0)
    >>> [m.label for m in p.minima], round(float(p.f_star), 12), p.sources["f_star"]
    (['min1'], 0.0, 'estimated')
    """
    check_given(L=L, mu=mu, f_star=f_star)
    flat0, unravel = flatten("x0", x0)
    fn = checked_objective(f, unravel, flat0)
    noise = check_real("noise", noise, lo=0.0, hi=1e150)
    value_and_grad = jax.jit(jax.value_and_grad(fn))
    hess = jax.jit(jax.hessian(fn))
    hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(fn), (x,), (v,))[1])
    est = Estimator(flat0, unravel, value_and_grad, hess, hvp, starts, spread, region_points, seed, sharp_ratio)
    found = est.minima(minima)
    consts, sources, notes = est.constants(found, L=L, mu=mu, f_star=f_star, minima_given=minima is not None)
    sources["sigma2"] = "exact"
    return UserProblem(x0=jnp.asarray(flat0), L=consts["L"], mu=consts["mu"], f_star=consts["f_star"],
                       sigma2=np.float64(noise**2 * flat0.size), minima=found, name=checked_name(name), dim=int(flat0.size),
                       n=None, noise=np.float64(noise), fn=fn, unravel=unravel,
                       provenance=tuple(sorted(sources.items())), estimates=tuple(notes))


def from_samples(loss_i: Callable[[Any, Any], Any], data: Any, x0: Any, *, L: float | None = None,
                 mu: float | None = None, f_star: float | None = None, sigma2: float | None = None,
                 minima: Sequence[Any] | None = None, starts: int = 4, spread: float = 1.0, region_points: int = 8,
                 seed: int = 0, sharp_ratio: float = 2.0, name: str = "user-finite-sum") -> UserFiniteSum:
    """A finite sum :math:`f(x)=\\frac1n\\sum_{i<n}\\ell(x,z_i)` from a per-sample loss and a data pytree.

    Batches are drawn without replacement (the built-in finite sums' law), so a batch of ``b`` has gradient
    variance :math:`\\frac{n-b}{b(n-1)}\\sigma^2(x)` with :math:`\\sigma^2(x)=\\frac1n\\sum_i\\|\\nabla f_i(x)-
    \\nabla f(x)\\|^2` (:meth:`~problems.FiniteSum.sigma2_at`, exact at any point).

    Args:
        loss_i: ``(params, sample) -> scalar``, JAX-traceable; ``params`` shaped like ``x0``, ``sample`` one
            slice ``data[i]`` of every leaf.
        data: a pytree of arrays with a common leading axis ``n >= 1``.
        x0: the default start (a vector, or a pytree of float arrays such as a network's weights).
        sigma2: a global bound on :math:`\\sigma^2(x)`, if known; else its maximum over the region's points.
        L, mu, f_star, minima, starts, spread, region_points, seed, sharp_ratio, name: as for :func:`from_function`.

    Returns:
        A :class:`UserFiniteSum`.

    Raises:
        ParameterError: as for :func:`from_function`, or leaves of ``data`` with different leading axes.

    >>> import jax.numpy as jnp, numpy as np
    >>> a = np.random.default_rng(0).standard_normal((20, 2))
    >>> y = a @ np.array([1.0, -1.0])
    >>> p = from_samples(lambda w, s: 0.5 * (s["a"] @ w - s["y"]) ** 2, {"a": a, "y": y}, jnp.zeros(2))
    >>> p.n, np.allclose(p.minima[0].x, [1.0, -1.0]), p.sources["sigma2"]
    (20, True, 'estimated')
    """
    check_given(L=L, mu=mu, f_star=f_star, sigma2=sigma2)
    flat0, unravel = flatten("x0", x0)
    data = checked_data(data)
    n = int(jax.tree_util.tree_leaves(data)[0].shape[0])

    first = jax.tree_util.tree_map(lambda a: a[0], data)
    loss_flat = checked_objective(loss_i, unravel, flat0, first, what="loss_i(x0, data[0])")
    draft = UserFiniteSum(x0=jnp.asarray(flat0), L=np.float64(1.0), mu=np.float64(np.nan), f_star=np.float64(0.0),
                          sigma2=np.float64(0.0), minima=(), name=checked_name(name), dim=int(flat0.size), n=n, data=data,
                          loss_i=loss_flat, unravel=unravel, provenance=())
    value_and_grad = jax.jit(jax.value_and_grad(draft.value))
    hess = jax.jit(jax.hessian(draft.value))
    hvp = jax.jit(lambda x, v: jax.jvp(draft.grad, (x,), (v,))[1])
    est = Estimator(flat0, unravel, value_and_grad, hess, hvp, starts, spread, region_points, seed, sharp_ratio)
    found = est.minima(minima)
    consts, sources, notes = est.constants(found, L=L, mu=mu, f_star=f_star, minima_given=minima is not None)
    if sigma2 is not None:
        consts["sigma2"], sources["sigma2"] = np.float64(check_real("sigma2", sigma2, lo=0.0, hi=1e300)), "given"
    else:
        at = jax.jit(draft.sigma2_at)
        pts = est.region(found)
        consts["sigma2"] = np.float64(max(float(at(jnp.asarray(x))) for x in pts))
        sources["sigma2"] = "estimated"
        notes.append(f"sigma2: max of the exact per-sample variance over {len(pts)} points of the region (x0, the "
                     "minima, points between): a lower bound on a global variance bound")
    return dataclasses.replace(draft, L=consts["L"], mu=consts["mu"], f_star=consts["f_star"], sigma2=consts["sigma2"],
                               minima=found, provenance=tuple(sorted(sources.items())), estimates=tuple(notes))


__all__ = ["UserFiniteSum", "UserProblem", "Unravel", "from_function", "from_samples", "function_identity"]
