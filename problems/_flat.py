"""A user's functions on xtrap's flat parameter vector: pytree flattening, validated objectives and data, and a
stable identity of a function for resume fingerprints (used by :mod:`problems.user`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._validate import ParameterError, check_real

Array = jax.Array


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
class OnFlat:
    """The user's function of a pytree as a function of the flat vector (first argument), compared by value."""

    fn: Callable[..., Any]
    unravel: Unravel

    def __repr__(self) -> str:  # stable across processes (resume fingerprints), unlike <function at 0x...>
        return f"OnFlat({function_identity(self.fn)}, {self.unravel!r})"

    def __call__(self, x: Array, *rest: Any) -> Array:
        return jnp.asarray(self.fn(self.unravel(x), *rest))


def check_given(**given: Any) -> None:
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


def checked_name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ParameterError(f"name must be a non-empty string without spaces; got {name!r}")
    return name


def flatten(what: str, tree: Any) -> tuple[np.ndarray, Unravel]:
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


def checked_objective(f: Any, unravel: Unravel, flat0: np.ndarray, *rest: Any, what: str = "f(x0)") -> OnFlat:
    if not callable(f):
        name = "loss_i" if rest else "f"
        raise ParameterError(f"{name} must be a callable; got {type(f).__name__}")
    on_flat = OnFlat(f, unravel)

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


def checked_data(data: Any) -> Any:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ParameterError(f"data must be a pytree of arrays with a leading sample axis; got {data!r}")
    arrays = [np.asarray(a) for a in leaves]
    lens = {a.shape[0] if a.ndim else None for a in arrays}
    if None in lens or len(lens) != 1 or 0 in lens:
        raise ParameterError(f"data leaves must share one leading (sample) axis of length n >= 1; got shapes "
                             f"{[a.shape for a in arrays]}")
    return jax.tree_util.tree_map(jnp.asarray, data)
