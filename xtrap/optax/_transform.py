"""The framework's update as one optax transformation that alternates an extrapolation call and an update call.

A step of the framework (:mod:`xtrap.framework`) needs the gradient at two points, :math:`x_t` and
:math:`u_t=x_t+\\delta_t`; an optax transformation sees one gradient per call. So, as ``optax.contrib.sam`` does
in its transparent mode, the loop drives it: calls alternate between

* the **extrapolation call** (phase 0): ``updates`` is :math:`g(x_t)` at ``params`` :math:`=x_t`; the
  transformation caches :math:`x_t` and returns :math:`\\delta_t`, so that ``optax.apply_updates`` moves the
  parameters to :math:`u_t`;
* the **update call** (phase 1): ``updates`` is :math:`g(u_t)` at ``params`` :math:`=u_t`; with
  :math:`h_t` its mean over the workers (one worker unless ``axis_name`` is given), the transformation returns
  :math:`x_{t+1}-u_t` with :math:`x_{t+1}` the base update of ``optax.sgd(learning_rate, momentum, nesterov)``
  from the cached :math:`x_t` (PyTorch-form heavy ball / Nesterov: optax's ``trace``), so the parameters land on
  :math:`x_{t+1}`.

SGD (direction ``none``) has no extrapolation: every call is an update call. Extrapolation from the past and noise
injection do not read the gradient of their extrapolation call (pass any pytree of the right structure; the step
of :func:`xtrap.optax.make_step` skips that gradient).

Extra arguments of ``update`` (``optax.GradientTransformationExtraArgs``; :func:`optax.chain` forwards them):

* ``axis_name``: a named axis over which the transformation is one of :math:`K` workers (``vmap``, ``pmap`` or
  ``shard_map``): the gradients of the update call are averaged over it (``pmean``), and so are the extrapolation
  gradients of ``global``; worker :math:`k` is ``axis_index``. Under ``shard_map`` the gradients must be each
  device's own: ``jax.grad`` with respect to replicated parameters there already sums over the devices (cast the
  parameters with ``jax.lax.pcast(params, axis_name, to="varying")`` first, as :mod:`xtrap.data_parallel` does).
* ``key``: the step's key, used as :func:`xtrap.draw` uses it: its third split draws the noise of all workers,
  one row per worker, by :func:`xtrap.sample_noise` on the raveled parameter vector. Without it, noise injection
  uses the key held in its state folded with the step count, ``fold_in(key, t)``, as :func:`xtrap.run` does with
  the key of a seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from problems import ParameterError, pytree_dataclass, static_field

from ..framework import NOISE_LAWS, sample_noise

DIRECTIONS = ("none", "local", "global", "past") + NOISE_LAWS + ("sam", "usam")
GRADIENT_AT_X = ("local", "global", "sam", "usam")  # the rules that read g(x_t) (the others ignore it)


@pytree_dataclass
class ExtrapState:
    """The state of an ``xtrap.optax`` transformation (a pytree; ``direction`` is static).

    Attributes:
        count: the step :math:`t` (update calls made), int32.
        phase: 0 when the next call is an extrapolation call, 1 when it is an update call (always 0 for SGD).
        x: the iterate :math:`x_t` cached by the extrapolation call (``None`` for SGD).
        past: :math:`h_{t-1}`, the last aggregated update gradient (``past`` only, else ``None``;
            :math:`h_{-1}=0`).
        key: the key of noise injection (else ``None``).
        base: the state of ``optax.sgd(learning_rate, momentum, nesterov)``, the base update.
        direction: the direction rule, a name of :data:`DIRECTIONS` (static).
    """

    count: Any
    phase: Any
    x: Any
    past: Any
    key: Any
    base: Any
    direction: str = static_field()


def transformation(direction: str, learning_rate: Any, extrap_lr: Any, rho: Any, momentum: float | None,
                   nesterov: bool, key: Any = None) -> optax.GradientTransformationExtraArgs:
    """The transformation of one direction rule (arguments already validated by the public constructors).

    ``extrap_lr=None`` ties :math:`\\gamma_t=\\eta_t`; ``learning_rate``, ``extrap_lr`` and ``rho`` may be numbers
    or schedules (``t -> value``).
    """
    if direction not in DIRECTIONS:  # a programming error of this package, not a user's
        raise ParameterError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    base = optax.sgd(learning_rate, momentum=momentum, nesterov=nesterov)
    gamma_of = learning_rate if extrap_lr is None else extrap_lr

    def init_fn(params: Any) -> ExtrapState:
        extrapolates = direction != "none"
        return ExtrapState(
            count=jnp.zeros((), jnp.int32), phase=jnp.zeros((), jnp.int32),
            x=jax.tree.map(jnp.asarray, params) if extrapolates else None,
            past=optax.tree.zeros_like(params) if direction == "past" else None,
            key=key if direction in NOISE_LAWS else None,
            base=base.init(params), direction=direction)

    def base_update(grads: Any, state: ExtrapState, point: Any, axis_name: Any) -> tuple[Any, Any, Any]:
        h = grads if axis_name is None else jax.lax.pmean(grads, axis_name)
        step, base_state = base.update(h, state.base, point)
        return h, step, base_state

    def update_fn(updates: Any, state: ExtrapState, params: Any = None, *, key: Any = None,
                  axis_name: Any = None, **extra_args: Any) -> tuple[Any, ExtrapState]:
        del extra_args  # meant for other members of a chain
        if not isinstance(state, ExtrapState):
            raise ParameterError(f"state must be the ExtrapState made by this transformation's init; got "
                                 f"{type(state).__name__}")
        t = state.count
        if direction == "none":
            _, step, base_state = base_update(updates, state, params, axis_name)
            return step, _replace(state, count=t + 1, base=base_state)
        if params is None:
            raise ParameterError("params must be given to update (the extrapolated point u_t in the update call); "
                                 "got None")

        def extrapolate() -> tuple[Any, ExtrapState]:
            delta = _delta(direction, updates, state, params, _value(gamma_of, t), _value(rho, t),
                           key, axis_name)
            return delta, _replace(state, phase=jnp.ones((), jnp.int32), x=params)

        def update() -> tuple[Any, ExtrapState]:
            h, step, base_state = base_update(updates, state, state.x, axis_name)
            out = jax.tree.map(lambda x, u, s: (x - u) + s, state.x, params, step)
            past = h if direction == "past" else state.past
            return out, _replace(state, count=t + 1, phase=jnp.zeros((), jnp.int32), past=past, base=base_state)

        return jax.lax.cond(state.phase == 0, extrapolate, update)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _replace(state: ExtrapState, **changes: Any) -> ExtrapState:
    return dataclasses.replace(state, **changes)


def _value(v: Any, t: Any) -> Any:
    """A hyper-parameter at step ``t``: a schedule is called, a number is returned as it is."""
    return v(t) if callable(v) else v


def _scale(c: Any, tree: Any) -> Any:
    return jax.tree.map(lambda v: jnp.asarray(c, v.dtype) * v, tree)


def _delta(direction: str, g: Any, state: ExtrapState, params: Any, gamma: Any, rho: Any, key: Any,
           axis_name: Any) -> Any:
    """:math:`\\delta_t` of one worker, over the whole parameter pytree (the rules of :mod:`xtrap.directions`)."""
    if direction == "local":
        return _scale(-gamma, g)
    if direction == "global":
        return _scale(-gamma, g if axis_name is None else jax.lax.pmean(g, axis_name))
    if direction == "past":
        return _scale(-gamma, state.past)
    if direction == "usam":
        return _scale(rho, g)
    if direction == "sam":
        norm = optax.tree.norm(g)
        safe = jnp.where(norm > 0, norm, 1.0)
        return jax.tree.map(lambda v: jnp.asarray(rho, v.dtype) * jnp.where(norm > 0, v / safe.astype(v.dtype), 0.0),
                            g)
    return _scale(-gamma, _noise(direction, state, params, key, axis_name))  # a noise law


def _noise(law: str, state: ExtrapState, params: Any, key: Any, axis_name: Any) -> Any:
    """:math:`Z_t^k` as a pytree like ``params``: row ``k`` of :func:`xtrap.sample_noise` of shape ``(K, d)`` on
    the third split of the step's key, ``d`` the size of the raveled parameters."""
    flat, unravel = ravel_pytree(params)
    step_key = jax.random.fold_in(state.key, state.count) if key is None else key
    k_noise = jax.random.split(step_key, 3)[2]
    if axis_name is None:
        workers, index = 1, 0
    else:
        workers, index = jax.lax.axis_size(axis_name), jax.lax.axis_index(axis_name)
    z = sample_noise(k_noise, law, (workers, flat.size), flat.dtype)[index]
    return unravel(z)

