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
import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._base import CONSTANT_NAMES, Array, IsotropicNoise, Minimum, pytree_dataclass, static_field
from ._finite_sum import FiniteSum
from ._search import DENSE_MAX, largest_curvature, local_minima, sharpness_labels
from ._validate import ParameterError, check_int, check_real


@pytree_dataclass
class UserProblem(IsotropicNoise):
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

    @property
    def sources(self) -> dict[str, str]:
        return dict(self.provenance)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.estimates


@pytree_dataclass
class UserFiniteSum(FiniteSum):
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

    @property
    def sources(self) -> dict[str, str]:
        return dict(self.provenance)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.estimates


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
    _check_given(L=L, mu=mu, f_star=f_star)
    flat0, unravel = _flatten("x0", x0)
    fn = _checked_objective(f, unravel, flat0)
    noise = check_real("noise", noise, lo=0.0, hi=1e150)
    value_and_grad = jax.jit(jax.value_and_grad(fn))
    hess = jax.jit(jax.hessian(fn))
    hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(fn), (x,), (v,))[1])
    est = _Estimator(flat0, unravel, value_and_grad, hess, hvp, starts, spread, region_points, seed, sharp_ratio)
    found = est.minima(minima)
    consts, sources, notes = est.constants(found, L=L, mu=mu, f_star=f_star, minima_given=minima is not None)
    sources["sigma2"] = "exact"
    return UserProblem(x0=jnp.asarray(flat0), L=consts["L"], mu=consts["mu"], f_star=consts["f_star"],
                       sigma2=np.float64(noise**2 * flat0.size), minima=found, name=_name(name), dim=int(flat0.size),
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
    _check_given(L=L, mu=mu, f_star=f_star, sigma2=sigma2)
    flat0, unravel = _flatten("x0", x0)
    data = _checked_data(data)
    n = int(jax.tree_util.tree_leaves(data)[0].shape[0])

    first = jax.tree_util.tree_map(lambda a: a[0], data)
    loss_flat = _checked_objective(loss_i, unravel, flat0, first, what="loss_i(x0, data[0])")
    draft = UserFiniteSum(x0=jnp.asarray(flat0), L=np.float64(1.0), mu=np.float64(np.nan), f_star=np.float64(0.0),
                          sigma2=np.float64(0.0), minima=(), name=_name(name), dim=int(flat0.size), n=n, data=data,
                          loss_i=loss_flat, unravel=unravel, provenance=())
    value_and_grad = jax.jit(jax.value_and_grad(draft.value))
    hess = jax.jit(jax.hessian(draft.value))
    hvp = jax.jit(lambda x, v: jax.jvp(draft.grad, (x,), (v,))[1])
    est = _Estimator(flat0, unravel, value_and_grad, hess, hvp, starts, spread, region_points, seed, sharp_ratio)
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


# ---- helpers --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Unravel:
    """Flat vector -> the user's pytree (the inverse of ``ravel_pytree``), compared by structure and shapes, so
    two problems with parameters of one structure share compiled runs (``ravel_pytree``'s closure would not)."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]

    def __call__(self, x: Array) -> Any:
        sizes = [math.prod(s) for s in self.shapes]
        parts = jnp.split(x, np.cumsum(sizes)[:-1]) if len(sizes) > 1 else [x]
        return jax.tree_util.tree_unflatten(self.treedef, [p.reshape(s) for p, s in zip(parts, self.shapes)])


def function_identity(fn: Any, _depth: int = 0) -> str:
    """A text that is the same for the same function in another process and differs when its code or the values
    it reads differ: qualified name, bytecode, constants, defaults, closure values and the plain values (numbers,
    strings, arrays; functions recursively) of the globals it names (for resume fingerprints)."""
    import hashlib
    import types

    def value(v: Any) -> str:
        if isinstance(v, types.ModuleType):
            return f"module {v.__name__}"
        if callable(v):
            return function_identity(v, _depth + 1) if _depth < 4 else getattr(v, "__qualname__", repr(type(v)))
        if hasattr(v, "shape") and hasattr(v, "dtype"):
            return f"{v.dtype}{tuple(v.shape)}:{hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}"
        return repr(v)

    parts = [getattr(fn, "__module__", "") or "", getattr(fn, "__qualname__", type(fn).__qualname__)]
    code = getattr(fn, "__code__", None)
    if code is not None:
        parts += [code.co_code.hex(), repr(code.co_consts), repr(getattr(fn, "__defaults__", None))]
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                parts.append(value(cell.cell_contents))
            except ValueError:  # an empty cell
                continue
        scope = getattr(fn, "__globals__", {})
        parts += [f"{n}={value(scope[n])}" for n in code.co_names if n in scope]
    else:
        parts.append(repr(fn))
    return f"{parts[1]}:{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:16]}"


@dataclasses.dataclass(frozen=True)
class _OnFlat:
    """The user's function of a pytree as a function of the flat vector (first argument), compared by value."""

    fn: Callable[..., Any]
    unravel: Unravel

    def __repr__(self) -> str:  # stable across processes (resume fingerprints), unlike <function at 0x...>
        return f"_OnFlat({function_identity(self.fn)}, {self.unravel!r})"

    def __call__(self, x: Array, *rest: Any) -> Array:
        return jnp.asarray(self.fn(self.unravel(x), *rest))


def _check_given(**given: Any) -> None:
    """The constants a user gives, checked before any search: L > 0, mu in [0, L], sigma2 >= 0, f_star real."""
    L = given.get("L")
    if L is not None:
        L = check_real("L", L, lo=0.0, hi=1e300, lo_open=True)
    if given.get("mu") is not None:
        check_real("mu", given["mu"], lo=0.0, hi=1e300 if L is None else L)
    if given.get("sigma2") is not None:
        check_real("sigma2", given["sigma2"], lo=0.0, hi=1e300)
    if given.get("f_star") is not None:
        check_real("f_star", given["f_star"])


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ParameterError(f"name must be a non-empty string without spaces; got {name!r}")
    return name


def _flatten(what: str, tree: Any) -> tuple[np.ndarray, Unravel]:
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ParameterError(f"{what} must be an array or a pytree of float arrays; got {tree!r} (no leaves)")
    for leaf in leaves:
        a = np.asarray(leaf)
        if a.dtype.kind not in "fiu" or a.dtype == bool:
            raise ParameterError(f"{what} leaves must be real float arrays; got dtype {a.dtype}")
    tree = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float64), tree)
    flat = np.asarray(ravel_pytree(tree)[0], dtype=np.float64)
    unravel = Unravel(jax.tree_util.tree_structure(tree), tuple(tuple(np.shape(a)) for a in
                                                                 jax.tree_util.tree_leaves(tree)))
    if not np.all(np.isfinite(flat)):
        raise ParameterError(f"{what} must be finite; got {int(np.sum(~np.isfinite(flat)))} non-finite entries")
    return flat, unravel


def _checked_objective(f: Any, unravel: Unravel, flat0: np.ndarray, *rest: Any, what: str = "f(x0)") -> _OnFlat:
    if not callable(f):
        name = "loss_i" if rest else "f"
        raise ParameterError(f"{name} must be a callable; got {type(f).__name__}")
    on_flat = _OnFlat(f, unravel)

    def fn(x: Array) -> Array:
        return on_flat(x, *rest)

    try:
        v = jax.eval_shape(fn, jax.ShapeDtypeStruct(flat0.shape, jnp.float64))
    except Exception as err:  # the user's code failed to trace: say where, in one line
        raise ParameterError(f"{what} failed to evaluate under JAX: {type(err).__name__}: {err}") from None
    if v.shape != ():
        raise ParameterError(f"{what} must return a scalar; got shape {v.shape}")
    value = float(fn(jnp.asarray(flat0)))
    if not math.isfinite(value):
        raise ParameterError(f"{what} must be finite; got {value!r}")
    return on_flat


def _checked_data(data: Any) -> Any:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ParameterError(f"data must be a pytree of arrays with a leading sample axis; got {data!r}")
    arrays = [np.asarray(a) for a in leaves]
    lens = {a.shape[0] if a.ndim else None for a in arrays}
    if None in lens or len(lens) != 1 or 0 in lens:
        raise ParameterError(f"data leaves must share one leading (sample) axis of length n >= 1; got shapes "
                             f"{[a.shape for a in arrays]}")
    return jax.tree_util.tree_map(jnp.asarray, data)


@dataclasses.dataclass
class _Estimator:
    """Minima search and region estimates for one objective on the flat vector."""

    x0: np.ndarray
    unravel: Callable[[Array], Any]
    value_and_grad: Callable
    hess: Callable
    hvp: Callable
    starts: int
    spread: float
    region_points: int
    seed: int
    sharp_ratio: float

    def __post_init__(self) -> None:
        self.starts = check_int("starts", self.starts, lo=1, hi=1000)
        self.spread = check_real("spread", self.spread, lo=0.0, hi=1e150, lo_open=True)
        self.region_points = check_int("region_points", self.region_points, lo=0, hi=10_000)
        self.seed = check_int("seed", self.seed, lo=0, hi=2**63 - 1)
        self.sharp_ratio = check_real("sharp_ratio", self.sharp_ratio, lo=1.0, hi=1e300)
        self.found_from = ""

    def fg(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = self.value_and_grad(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=np.float64)

    def dense_hess(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(self.hess(jnp.asarray(x)), dtype=np.float64)
        return 0.5 * (h + h.T)

    def minima(self, given: Sequence[Any] | None) -> tuple[Minimum, ...]:
        d = self.x0.size
        if given is not None and len(given) == 0:
            return ()
        if d > DENSE_MAX:
            raise ParameterError(f"minima need dense Hessians, limited to dim <= {DENSE_MAX}; the parameters have "
                                 f"dim={d}: pass minima=() (none known)")
        if given is not None:
            points = [_flatten(f"minima[{j}]", m)[0] for j, m in enumerate(given)]
            for j, x in enumerate(points):
                if x.shape != self.x0.shape:
                    raise ParameterError(f"minima[{j}] must have the structure of x0 ({d} coordinates); got {x.size}")
            self.found_from = f"{len(points)} given"
        else:
            rng = np.random.default_rng(self.seed)
            starts = [self.x0] + [self.x0 + self.spread * rng.standard_normal(d) for _ in range(self.starts - 1)]
            points, rejected = local_minima(self.fg, self.dense_hess, starts)
            if not points:
                raise ParameterError(f"no strict local minimum found from {len(starts)} starts (spread={self.spread:g};"
                                     f" {rejected} ended at a saddle, a flat direction or did not converge): give "
                                     "minima=[...], minima=() for none known, or more starts")
            self.found_from = (f"{len(points)} found by L-BFGS + Newton from {len(starts)} starts (x0 and "
                               f"{len(starts) - 1} perturbations of scale {self.spread:g}; {rejected} rejected)")
        hessians = [self.dense_hess(z) for z in points]
        if given is not None:
            self._check_given(points, hessians)  # in the user's order, so minima[j] names the one given
        lam = [float(np.linalg.eigvalsh(h)[-1]) for h in hessians]
        order = np.argsort(lam, kind="stable")  # flattest first
        points, hessians, lam = [points[i] for i in order], [hessians[i] for i in order], [lam[i] for i in order]
        labels = sharpness_labels(len(points), lam, self.sharp_ratio) if len(points) > 1 else ["min1"]
        return tuple(Minimum(x=jnp.asarray(z), hessian=jnp.asarray(h), value=np.float64(self.fg(z)[0]), label=lab)
                     for z, h, lab in zip(points, hessians, labels))

    def _check_given(self, points: list[np.ndarray], hessians: list[np.ndarray]) -> None:
        """A given minimum must be one: its gradient vanishes (to 1e-6 (1 + |f|)) and its Hessian is PSD."""
        for j, (z, h) in enumerate(zip(points, hessians)):
            f, g = self.fg(z)
            ev = np.linalg.eigvalsh(h)
            if not np.linalg.norm(g) <= 1e-6 * (1 + abs(f)):
                raise ParameterError(f"minima[{j}] is not a stationary point: ||grad f|| = {np.linalg.norm(g):.3g} > "
                                     f"1e-6 (1 + |f|) there; give the minimizers (or minima=None to search)")
            if not ev[0] >= -1e-8 * max(1.0, abs(ev[-1])):
                raise ParameterError(f"minima[{j}] is a saddle, not a minimum: the Hessian has eigenvalue {ev[0]:.3g}")

    def region(self, found: tuple[Minimum, ...]) -> list[np.ndarray]:
        """x0, the minima, and ``region_points`` points on the segments from x0 to them (perturbed)."""
        rng = np.random.default_rng(self.seed + 1)
        ends = [np.asarray(m.x) for m in found]
        pts = [self.x0] + ends
        for _ in range(self.region_points):
            end = ends[rng.integers(len(ends))] if ends else self.x0
            pts.append(self.x0 + rng.random() * (end - self.x0) + 0.1 * self.spread * rng.standard_normal(self.x0.size))
        return pts

    def constants(self, found: tuple[Minimum, ...], *, L: Any, mu: Any, f_star: Any, minima_given: bool
                  ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        sources = dict.fromkeys(CONSTANT_NAMES, "estimated")
        notes: list[str] = []
        sources["minima"] = "unknown" if not found and minima_given else ("given" if minima_given else "estimated")
        if found:
            notes.append(f"minima: {self.found_from}; labelled by lambda_max: flattest 'flat', sharpest 'sharp' if at "
                         f"least sharp_ratio={self.sharp_ratio:g} times sharper, else 'min1', 'min2', ...")
        if L is not None:
            L_val, sources["L"] = check_real("L", L, lo=0.0, hi=1e300, lo_open=True), "given"
        else:
            pts = self.region(found)
            dense = self.dense_hess if self.x0.size <= DENSE_MAX else None
            L_val = max(largest_curvature(dense, lambda x, v: self.hvp(jnp.asarray(x), jnp.asarray(v)), x)
                        for x in pts)
            if not L_val > 0:
                raise ParameterError("the estimated L is 0 (f is linear on the region?): give L")
            how = "dense eigvalsh" if dense is not None else "Lanczos (ARPACK) on Hessian-vector products"
            notes.append(f"L: largest |Hessian eigenvalue| ({how}) at {len(pts)} points of the region (x0, the minima,"
                         " points between): a lower bound on the true L")
        if mu is not None:
            if L is None and not float(mu) <= L_val:
                raise ParameterError(f"mu={float(mu):g} is above the estimated L={L_val:.6g} (a lower bound on the true "
                                     "L): give L as well")
            mu_val, sources["mu"] = check_real("mu", mu, lo=0.0, hi=L_val), "given"
        else:
            mu_val, sources["mu"] = math.nan, "unknown"
        if f_star is not None:
            fs, sources["f_star"] = check_real("f_star", f_star), "given"
            worst = min((float(m.value) for m in found), default=math.inf)
            if fs > worst + 1e-12 * max(1.0, abs(worst)):
                raise ParameterError(f"f_star={fs:g} is above the value {worst:g} of a known minimum")
        elif found:
            fs = min(float(m.value) for m in found)
            notes.append("f_star: the smallest value at the minima found, an upper bound on inf f")
        else:
            fs, sources["f_star"] = math.nan, "unknown"
        return {"L": np.float64(L_val), "mu": np.float64(mu_val), "f_star": np.float64(fs)}, sources, notes
