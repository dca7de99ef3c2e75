"""One call per step: :func:`make_step` evaluates both gradients of a step, for :math:`K` simulated workers.

The step of an ``xtrap.optax`` transformation ``tx`` (alone or inside an :func:`optax.chain`) on a loss
``loss_fn(params, batch)``, with the leading axis of ``batch`` split into :math:`K` local batches
:math:`\\xi'^k` and (``update_batch``, else the same) :math:`\\xi^k`, and
:math:`g(x;\\xi)=\\nabla_x\\,\\mathrm{loss\\_fn}(x,\\xi)`:

.. math:: u_t^k=x_t+\\delta_t^k\\big(g(x_t;\\xi_t'^k)\\big),\\qquad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\qquad
          x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta).

The workers are a ``vmap`` with a named axis passed to ``tx.update`` as ``axis_name``, so local extrapolation
uses each worker's own gradient, global extrapolation their mean, and the update their mean gradient at each
worker's point. Transformations chained before the xtrap one see each worker's own gradient (a clipping clips
each worker's gradient); their state is kept from worker 0.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from problems import ParameterError, check_bool, check_int

from ._transform import GRADIENT_AT_X, ExtrapState

AXIS = "xtrap_workers"
"""The name of the workers' axis inside the step (what ``tx.update`` receives as ``axis_name``)."""


class StepInfo(NamedTuple):
    """What a step reports beside the new parameters and state.

    Attributes:
        loss: :math:`\\frac1K\\sum_k \\mathrm{loss\\_fn}(x_t,\\xi_t'^k)`, the loss of the parameters the step
            started from, on ``batch``.
        update_loss: :math:`\\frac1K\\sum_k \\mathrm{loss\\_fn}(u_t^k,\\xi_t^k)`, at the points whose gradients
            make the update (the perturbed loss of SAM).
        grad_norm: :math:`\\|h_t\\|`, the norm of the mean over the workers of their gradients at
            :math:`u_t^k`, over the whole parameter pytree (before any chained transformation).
    """

    loss: jax.Array
    update_loss: jax.Array
    grad_norm: jax.Array


def make_step(loss_fn: Callable[[Any, Any], Any], tx: optax.GradientTransformation, *, workers: int = 1,
              jit: bool = True) -> Callable[..., tuple[Any, Any, StepInfo]]:
    """A step ``step(params, opt_state, batch, key=None, update_batch=None) -> (params, opt_state, info)``.

    .. math:: u_t^k=x_t+\\delta_t^k,\\qquad h_t=\\frac1K\\sum_{k=1}^K \\nabla\\mathrm{loss}(u_t^k;\\xi_t^k),
              \\qquad x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),

    :math:`\\delta_t^k` the transformation's rule (on :math:`\\nabla\\mathrm{loss}(x_t;\\xi_t'^k)` where it reads a
    gradient at :math:`x_t`: EXTRAP-SGD, global, SAM, USAM; SGD, past and noise evaluate one gradient per worker
    and step). ``opt_state`` is ``tx.init(params)``.

    Batches: the leading axis of every leaf of ``batch`` (and of ``update_batch``) is split into ``workers``
    equal local batches. ``batch`` gives the gradients at :math:`x_t`, and the gradients at :math:`u_t^k` too
    unless ``update_batch`` is given (same batch: standard SAM); with ``update_batch`` the gradients at
    :math:`u_t^k` use it (a fresh batch: the framework's default). Methods without a gradient at :math:`x_t`
    use ``update_batch`` if given, else ``batch``, for their one gradient; ``batch`` then only gives ``info.loss``.

    ``key``: the step's key, forwarded to ``tx.update`` (noise injection draws from it as :func:`xtrap.draw`
    does); ``None`` lets the transformation use the key of its state folded with the step count.

    Args:
        loss_fn: ``loss_fn(params, local_batch) -> scalar``, differentiable in ``params`` (any pytree).
        tx: an ``xtrap.optax`` transformation, or an :func:`optax.chain` holding exactly one.
        workers: :math:`K\\ge1`, simulated workers (a ``vmap``).
        jit: compile the step with :func:`jax.jit` (one compilation per input structure).

    Returns:
        The step function; ``info`` is a :class:`StepInfo`.

    Raises:
        ParameterError: ``workers < 1``, a ``loss_fn`` that is not callable, a ``tx`` that is not a
            transformation; when stepping, a batch whose leading axis is not divisible by ``workers``, or an
            ``opt_state`` without exactly one xtrap transformation's state.

    >>> import jax, jax.numpy as jnp, xtrap.optax
    >>> loss = lambda p, b: jnp.mean((b["x"] @ p["w"] - b["y"]) ** 2)
    >>> tx = xtrap.optax.extrap_sgd(learning_rate=0.1, momentum=0.9)
    >>> step = xtrap.optax.make_step(loss, tx, workers=2)
    >>> params = {"w": jnp.zeros(3)}; state = tx.init(params)
    >>> x = jax.random.normal(jax.random.key(0), (8, 3)); batch = {"x": x, "y": x @ jnp.arange(3.0)}
    >>> params, state, info = step(params, state, batch)
    >>> bool(info.loss > 0), int(state.count)
    (True, 1)

    References: Lin, Kong, Stich & Jaggi, *Extrapolation for Large-batch Training in Deep Learning*, ICML 2020.
    """
    if not callable(loss_fn):
        raise ParameterError(f"loss_fn must be a function (params, batch) -> scalar; got {loss_fn!r}")
    if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
        raise ParameterError(f"tx must be an optax GradientTransformation (e.g. xtrap.optax.extrap_sgd(0.1)); "
                             f"got {tx!r}")
    workers = check_int("workers", workers, lo=1)
    jit = check_bool("jit", jit)
    txe = optax.with_extra_args_support(tx)
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(params: Any, opt_state: Any, batch: Any, key: Any = None,
             update_batch: Any = None) -> tuple[Any, Any, StepInfo]:
        direction = _direction_of(opt_state)
        xb = _split(batch, workers, "batch")
        ub = xb if update_batch is None else _split(update_batch, workers, "update_batch")

        def call(point: Any, state: Any, local: Any, needs_grad: bool = True) -> tuple[Any, Any, Any, Any]:
            if needs_grad:
                loss, g = value_and_grad(point, local)
            else:  # the rule ignores this gradient: only the loss, for info.loss
                loss, g = loss_fn(point, local), jax.tree.map(jnp.zeros_like, point)
            updates, state = txe.update(g, state, point, key=key, axis_name=AXIS)
            return loss, g, optax.apply_updates(point, updates), state

        if direction == "none":
            loss1, g1, new, state = jax.vmap(call, in_axes=(None, None, 0), axis_name=AXIS)(params, opt_state, ub)
            loss0 = loss1 if update_batch is None else jax.vmap(loss_fn, in_axes=(None, 0))(params, xb)
        else:
            extrap = jax.vmap(lambda p, s, b: call(p, s, b, direction in GRADIENT_AT_X), in_axes=(None, None, 0),
                              axis_name=AXIS)
            loss0, _, points, state = extrap(params, opt_state, xb)
            state = _first(state)  # the same on every worker (what differs between workers is their point)
            loss1, g1, new, state = jax.vmap(call, in_axes=(0, None, 0), axis_name=AXIS)(points, state, ub)
        grad = jax.tree.map(lambda v: jnp.mean(v, axis=0), g1)
        info = StepInfo(loss=jnp.mean(loss0), update_loss=jnp.mean(loss1), grad_norm=optax.tree.norm(grad))
        return _first(new), _first(state), info

    return jax.jit(step) if jit else step


def _first(tree: Any) -> Any:
    """Worker 0's copy of a tree stacked over the workers."""
    return jax.tree.map(lambda v: v[0], tree)


def _direction_of(opt_state: Any) -> str:
    """The direction of the one :class:`ExtrapState` inside ``opt_state`` (static: read while tracing)."""
    found = [s for s in jax.tree_util.tree_leaves(opt_state, is_leaf=lambda s: isinstance(s, ExtrapState))
             if isinstance(s, ExtrapState)]
    if len(found) != 1:
        raise ParameterError(f"opt_state must hold exactly one xtrap.optax transformation's state (tx must be an "
                             f"xtrap.optax method, alone or in an optax.chain); found {len(found)}")
    return found[0].direction


def _split(batch: Any, workers: int, name: str) -> Any:
    """Every leaf of ``batch`` reshaped from ``(n, ...)`` to ``(workers, n / workers, ...)``."""
    leaves = jax.tree_util.tree_leaves(batch)
    if not leaves:
        raise ParameterError(f"{name} must hold at least one array with a leading batch axis; got {batch!r}")
    sizes = {jnp.shape(v)[0] if jnp.ndim(v) else None for v in leaves}
    if None in sizes or len(sizes) != 1:
        shapes = [jnp.shape(v) for v in leaves]
        raise ParameterError(f"every array of {name} must have the same leading (batch) axis; got shapes {shapes}")
    n = sizes.pop()
    if n % workers:
        raise ParameterError(f"{name}'s leading axis ({n}) must be divisible by workers ({workers}); got {n} "
                             f"samples for {workers} workers")
    return jax.tree.map(lambda v: jnp.reshape(v, (workers, n // workers) + jnp.shape(v)[1:]), batch)
