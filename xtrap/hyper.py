"""Hyper-parameters as data, and the sweep grid they span.

Every field of :class:`Hyper` may hold a scalar or a 1-D array; each 1-D array is a sweep
axis, and a run covers the outer product of all axes. Batch size and worker count are data
too: the run draws ``max(batch)`` samples for ``max(workers)`` workers and masks the rest
(THEORY.md §1.2), so sweeping them does not change any shape.
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import numpy as np

from problems import ParameterError, pytree_dataclass

from .schedules import Schedule, as_schedule


@pytree_dataclass
class Hyper:
    """The hyper-parameters of one method.

    Attributes:
        lr: update step :math:`\\eta_t` (a :class:`~xtrap.schedules.Schedule`).
        extrap_lr: extrapolation step :math:`\\gamma_t` (noise scale for noise injection);
            ``None`` ties it to the update step, :math:`\\gamma_t=\\eta_t`.
        rho: SAM / USAM radius :math:`\\rho`.
        momentum: :math:`\\beta` of the heavy-ball or Nesterov base update.
        batch: local batch size :math:`b` per worker.
        workers: number of workers :math:`K`.
    """

    lr: Schedule
    extrap_lr: Schedule | None
    rho: Any = 0.0
    momentum: Any = 0.0
    batch: Any = 1
    workers: Any = 1


def make_hyper(lr: Any = 0.1, extrap_lr: Any = 0.0, rho: Any = 0.0, momentum: Any = 0.0,
               batch: Any = 1, workers: Any = 1) -> Hyper:
    """Build and validate a :class:`Hyper`; ``extrap_lr="lr"`` ties :math:`\\gamma_t=\\eta_t`.

    Raises:
        ParameterError: naming the first parameter outside its range.
    """
    tied = isinstance(extrap_lr, str)
    if tied and extrap_lr != "lr":
        raise ParameterError(f"extrap_lr must be a number, an array, a Schedule or 'lr'; got {extrap_lr!r}")
    h = Hyper(
        lr=as_schedule(_arr("lr", lr, float)),
        extrap_lr=None if tied else as_schedule(_arr("extrap_lr", extrap_lr, float)),
        rho=_arr("rho", rho, float), momentum=_arr("momentum", momentum, float),
        batch=_arr("batch", batch, np.int64), workers=_arr("workers", workers, np.int64),
    )
    validate(h)
    return h


def _arr(name: str, value: Any, dtype: Any) -> Any:
    if isinstance(value, Schedule):
        return value
    try:
        a = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} must be a number or a 1-D list of numbers; got {value!r}") from None
    if a.ndim > 1:
        raise ParameterError(f"{name} must be a scalar or a 1-D sweep axis; got shape {a.shape}")
    if a.dtype.kind not in "iuf":  # booleans are not numbers, strings are not numbers
        raise ParameterError(f"{name} must be a number or a 1-D list of numbers; got {value!r}")
    if dtype is np.int64:
        if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)) and np.all(np.abs(a) < 2**62):
            a = a.astype(np.int64)
        if a.dtype.kind not in "iu":
            raise ParameterError(f"{name} must be an integer (or a list of integers); got {value!r}")
        if np.any(a > 2**31 - 1):
            raise ParameterError(f"{name} must be an integer in [1, 2147483647]; got {a[a > 2**31 - 1].reshape(-1)[0]}")
        return a.astype(np.int64)
    return a.astype(np.float64)


def _check(name: str, value: Any, ok: Any, expected: str) -> None:
    v = np.asarray(value)
    if v.size == 0:
        raise ParameterError(f"{name} is an empty sweep axis")
    bad = ~np.asarray(ok(v.astype(np.float64)))
    if np.any(bad) or np.any(~np.isfinite(v.astype(np.float64))):
        given = v[bad] if np.any(bad) else v[~np.isfinite(v.astype(np.float64))]
        raise ParameterError(f"{name} must be {expected}; got {given.reshape(-1)[0].item()!r}")


def validate(h: Hyper) -> None:
    """Raise :class:`~problems.ParameterError` if any hyper-parameter is outside its range."""
    _check("lr", h.lr.base, lambda v: v > 0, "> 0")
    rules = {"warmup": (lambda v: (v >= 0) & np.isfinite(v), "a finite number of steps >= 0"),
             "decay_every": (lambda v: v > 0, "> 0 steps (inf: no decay)"),
             "inverse_t0": (lambda v: v > 0, "> 0 steps (inf: no 1/t decay)")}
    for field, (ok, expected) in rules.items():
        for name, sched in (("lr", h.lr), ("extrap_lr", h.extrap_lr)):
            if sched is not None:
                try:
                    val = np.asarray(getattr(sched, field), dtype=np.float64)
                except (TypeError, ValueError):
                    raise ParameterError(f"{name} schedule {field} must be a number; got "
                                         f"{getattr(sched, field)!r}") from None
                bad = ~np.asarray(ok(val)) | np.isnan(val)
                if np.any(bad):
                    raise ParameterError(f"{name} schedule {field} must be {expected}; got {val[bad].reshape(-1)[0].item()!r}")
    for name, sched in (("lr", h.lr), ("extrap_lr", h.extrap_lr)):
        if sched is not None:
            _check(f"{name} decay factor", sched.decay_factor, lambda v: (v > 0) & (v <= 1), "in (0, 1]")
    if h.extrap_lr is not None:
        _check("extrap_lr", h.extrap_lr.base, lambda v: v >= 0, ">= 0")
    _check("rho", h.rho, lambda v: v >= 0, ">= 0")
    _check("momentum", h.momentum, lambda v: (v >= 0) & (v < 1), "in [0, 1)")
    _check("batch", h.batch, lambda v: v >= 1, ">= 1")
    _check("workers", h.workers, lambda v: v >= 1, ">= 1")


def sweep_axes(h: Hyper) -> dict[str, np.ndarray]:
    """The sweep axes of ``h``: name (the field path, ``.base`` dropped) -> 1-D values, in field order."""
    axes: dict[str, np.ndarray] = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(h):
        if np.ndim(leaf) == 1:
            name = ".".join(str(getattr(p, "name", p)) for p in path).removesuffix(".base")
            axes[name] = np.asarray(leaf)
    return axes


def grid(h: Hyper) -> tuple[dict[str, np.ndarray], Hyper]:
    """Expand the outer product of the sweep axes.

    Returns:
        ``(axes, flat)`` where ``flat`` has every leaf of shape ``(G,)``, ``G`` the product of
        the axis lengths, in C order over ``axes`` (the last axis varies fastest).
    """
    axes = sweep_axes(h)
    sizes = [len(v) for v in axes.values()]
    combos = list(itertools.product(*[range(s) for s in sizes])) or [()]
    g = len(combos)
    leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(h)
    names = list(axes)
    out = []
    for path, leaf in leaves_with_path:
        if np.ndim(leaf) == 1:
            name = ".".join(str(getattr(p, "name", p)) for p in path).removesuffix(".base")
            k = names.index(name)
            out.append(np.asarray(leaf)[[c[k] for c in combos]])
        else:
            out.append(np.full((g,), np.asarray(leaf)))
    return axes, jax.tree_util.tree_unflatten(treedef, out)


_SCHEDULE_DEFAULTS = {"warmup": 0.0, "decay_factor": 1.0, "decay_every": np.inf, "inverse_t0": np.inf}


def scalar_view(h: Hyper) -> dict[str, Any]:
    """A strict-JSON description of ``h``: lists for sweep axes, schedule fields only when not default."""
    out: dict[str, Any] = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(h):
        name = ".".join(str(getattr(p, "name", p)) for p in path).removesuffix(".base")
        a = np.asarray(leaf)
        field = name.rsplit(".", 1)[-1]
        if "." in name and field in _SCHEDULE_DEFAULTS and np.all(a == _SCHEDULE_DEFAULTS[field]):
            continue
        out[name] = a.tolist() if np.all(np.isfinite(a)) else np.where(np.isfinite(a), a, None).tolist()
    if h.extrap_lr is None:
        out["extrap_lr"] = "lr"
    return out
