"""The unified extrapolation framework (THEORY.md §1.2): one update with orthogonal parts.

.. math::
    u_t^k = x_t + \\delta_t^k,\\qquad h_t=\\frac1K\\sum_{k=1}^K g(u_t^k;\\xi_t^k),\\qquad
    x_{t+1} = \\mathrm{base}(x_t, h_t; \\eta_t, \\beta)

with the perturbation :math:`\\delta_t^k` set by the *direction rule*:

=========  ====================================================================
none       :math:`0` (mini-batch SGD with global batch :math:`Kb`)
local      :math:`-\\gamma_t\\,g(x_t;\\xi_t'^k)` (EXTRAP-SGD: each worker its own batch)
global     :math:`-\\gamma_t\\frac1K\\sum_j g(x_t;\\xi_t'^j)` (a second all-reduce)
past       :math:`-\\gamma_t\\,h_{t-1}` (averaged) or :math:`-\\gamma_t h_{t-1}^k` (own); :math:`\\delta_0=0`
gaussian   :math:`-\\gamma_t Z_t^k`, :math:`Z\\sim N(0,I_d)`; ``ball``: :math:`\\mathrm{Unif}(B_d)`; ``sphere``: :math:`\\mathrm{Unif}(S^{d-1})`
sam        :math:`+\\rho\\,g/\\|g\\|`, :math:`g=g(x_t;\\xi_t'^k)` (0 when :math:`g=0`)
usam       :math:`+\\rho\\,g(x_t;\\xi_t'^k)`
=========  ====================================================================

Each rule is a pure function registered by name (:mod:`xtrap.directions`); a user's rule registered with
:func:`xtrap.register_direction` composes with everything below exactly as these do.

Base updates (PyTorch forms, THEORY.md §1.5), :math:`m_0=0`:
sgd :math:`x_{t+1}=x_t-\\eta_t h_t`; heavy ball :math:`m_{t+1}=\\beta m_t+h_t,\\ x_{t+1}=x_t-\\eta_t m_{t+1}`;
Nesterov :math:`m_{t+1}=\\beta m_t+h_t,\\ x_{t+1}=x_t-\\eta_t(h_t+\\beta m_{t+1})`.

Randomness (the contract the reference tests rely on): ``key`` splits into
``(k_extrap, k_update, k_noise)``; worker ``k`` uses the ``k``-th of ``split(k_update, K_max)`` to
draw its update batch, likewise ``split(k_extrap, K_max)`` for its extrapolation batch; the noise of
all workers is one draw of shape ``(K_max, d)`` from ``k_noise`` (:func:`sample_noise`). With
``same_batch`` the extrapolation batch *is* the update batch. Hence :math:`\\gamma=0` gives
exactly the trajectory of SGD under the same key.

Batch-mean draws (``batch_mean=True``, what :func:`xtrap.run` uses on additive Gaussian oracles): worker ``k``'s
batch is instead the single draw ``problem.sample_batch_mean(split(k_update, K_max)[k])`` and its gradient
``problem.batch_mean_grad(u, xi, b)``: one normal vector per worker and batch, not ``b``, with the same law for
every ``b`` (the mean of ``b`` i.i.d. :math:`N(0,\\Sigma)` noises is :math:`N(0,\\Sigma/b)`), and for ``b = 1``
bit for bit the per-sample draw.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from problems import ParameterError, Problem, masked_mean, uses_additive_oracle

from .directions import BUILTIN, NOISE_LAWS, DirectionRule, StepHyper
from .directions import directions as _directions
from .directions import rule as _rule
from .hyper import Hyper

Array = jax.Array
DIRECTIONS = BUILTIN  # the built-in rules; xtrap.directions() lists the user's too
BASES = ("sgd", "heavy_ball", "nesterov")


@dataclasses.dataclass(frozen=True)
class Config:
    """The static structure of a method (changing it recompiles; hyper-parameters do not).

    Attributes:
        direction: a registered direction rule (:data:`DIRECTIONS` or one of the user's).
        base: ``"sgd"``, ``"heavy_ball"`` or ``"nesterov"``.
        same_batch: evaluate :math:`g(u_t^k;\\cdot)` on the extrapolation batch (else a fresh one).
        past_source: ``"averaged"`` (:math:`h_{t-1}`) or ``"local"`` (:math:`h^k_{t-1}`) for ``past``.
        exact: use the exact gradient :math:`\\nabla f` everywhere (deterministic GD, EG, SAM...).
    """

    direction: str = "none"
    base: str = "sgd"
    same_batch: bool = False
    past_source: str = "averaged"
    exact: bool = False
    rule: DirectionRule = dataclasses.field(init=False, repr=False)  # resolved from the registry (part of the
    # compilation key, so replacing a user rule recompiles)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", _rule(self.direction))
        for name, value, allowed in (("base", self.base, BASES),
                                     ("past_source", self.past_source, ("averaged", "local"))):
            if value not in allowed:
                raise ParameterError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if self.same_batch and not self.rule.extrap_batch:
            takes = [n for n in _directions() if _rule(n).extrap_batch]
            raise ParameterError(
                f"same_batch needs a direction that draws an extrapolation batch "
                f"({', '.join(takes)}); got direction {self.direction!r}")


class State(NamedTuple):
    """Optimizer state: iterate, momentum buffer, last per-worker update gradients, step."""

    x: Array
    buf: Array
    past: Array
    t: Array


class Draws(NamedTuple):
    """The randomness of one step: per-worker extrapolation batch, update batch and noise."""

    xi_extrap: Any
    xi_update: Any
    noise: Any


def init(x0: Array, max_workers: int = 1) -> State:
    """The initial state: :math:`x_0`, :math:`m_0=0`, :math:`h_{-1}=0`, :math:`t=0`."""
    x0 = jnp.asarray(x0)
    return State(x=x0, buf=jnp.zeros_like(x0), past=jnp.zeros((max_workers,) + x0.shape, x0.dtype),
                 t=jnp.zeros((), jnp.int32))


def draw(config: Config, problem: Problem, key: Array, max_batch: int, max_workers: int,
         batch_mean: bool = False) -> Draws:
    """Draw one step's randomness for ``max_workers`` workers of ``max_batch`` samples each (or, with
    ``batch_mean``, one batch-mean draw each; see the module docstring)."""
    k_ext, k_upd, k_noise = jax.random.split(key, 3)

    def batches(k: Array) -> Any:
        keys = jax.random.split(k, max_workers)
        if batch_mean:
            return jax.vmap(problem.sample_batch_mean)(keys)
        return jax.vmap(lambda kk: problem.sample(kk, max_batch))(keys)

    xi_update = xi_extrap = None
    if not config.exact:
        xi_update = batches(k_upd)
    if config.rule.extrap_batch and not config.exact:
        xi_extrap = xi_update if config.same_batch else batches(k_ext)
    noise = None
    if config.rule.noise is not None:
        noise = sample_noise(k_noise, config.rule.noise, (max_workers, problem.dim), problem.x0.dtype)
    return Draws(xi_extrap, xi_update, noise)


def sample_noise(key: Array, law: str, shape: tuple[int, int], dtype: Any) -> Array:
    """i.i.d. rows from :math:`N(0,I_d)`, :math:`\\mathrm{Unif}(B_d)` or :math:`\\mathrm{Unif}(S^{d-1})`.

    Ball and sphere use the normalised Gaussian direction; the ball radius is :math:`U^{1/d}`.
    """
    k_dir, k_rad = jax.random.split(key)
    z = jax.random.normal(k_dir, shape, dtype)
    if law == "gaussian":
        return z
    unit = z / jnp.linalg.norm(z, axis=-1, keepdims=True)
    if law == "sphere":
        return unit
    u = jax.random.uniform(k_rad, shape[:-1] + (1,), dtype)
    return unit * u ** (1.0 / shape[-1])


def apply(config: Config, state: State, problem: Problem, draws: Draws, hyper: Hyper,
          batch_mean: bool = False, grad_x: Array | None = None) -> State:
    """One framework step from given randomness (see the module docstring for the rule; ``batch_mean`` says the
    batches are batch-mean draws).

    ``grad_x``: :math:`\\nabla f(x_t)` when the caller already has it (:func:`xtrap.run` does, for its running
    averages). The rule's gradients at :math:`x_t` are then formed from it without evaluating :math:`\\nabla f(x_t)`
    again: exact methods take it as it is, and an additive oracle (:func:`problems.uses_additive_oracle`) adds its
    draws, :math:`g(x_t;\\xi)=\\nabla f(x_t)+\\frac1b\\sum_{i\\le b}\\xi_i` (or :math:`+\\xi/\\sqrt b` for a batch-mean
    draw).
    Other oracles evaluate :math:`g(x_t;\\xi)` as without it. The step is the same either way, up to round-off."""
    x, t = state.x, state.t
    max_workers = state.past.shape[0]
    leaves = jax.tree_util.tree_leaves(draws.xi_update)
    max_batch = leaves[0].shape[1] if leaves and not batch_mean else 1
    bmask = jnp.arange(max_batch) < hyper.batch
    kmask = jnp.arange(max_workers) < hyper.workers
    eta = hyper.lr(t)
    gamma = eta if hyper.extrap_lr is None else hyper.extrap_lr(t)

    def grad_at(point: Array, xi: Any) -> Array:
        if config.exact:
            return problem.grad(point)
        if batch_mean:
            return problem.batch_mean_grad(point, xi, hyper.batch)
        return problem.stochastic_grad(point, xi, bmask)

    def grad_at_x(xi: Any) -> Array:  # g(x_t; xi), from grad_x where that gives the same law and numbers
        if grad_x is not None and config.exact:
            return grad_x
        if grad_x is not None and uses_additive_oracle(problem):
            noise = xi / jnp.sqrt(jnp.asarray(hyper.batch, xi.dtype)) if batch_mean else masked_mean(xi, bmask)
            return grad_x + noise
        return grad_at(x, xi)

    rule = config.rule
    g_x = _per_worker(grad_at_x, draws.xi_extrap, max_workers, x) if rule.extrap_batch else None
    step_hyper = StepHyper(eta=eta, gamma=gamma, rho=hyper.rho, momentum=hyper.momentum, worker_mask=kmask, t=t)
    delta = rule.fn(x, state, g_x, draws.noise, step_hyper)
    points = x[None, :] + jnp.broadcast_to(delta, (max_workers,) + x.shape)
    h_k = jax.vmap(grad_at)(points, draws.xi_update) if not config.exact else jax.vmap(problem.grad)(points)
    h = masked_mean(h_k, kmask)

    past = jnp.broadcast_to(h, h_k.shape) if config.past_source == "averaged" else h_k
    if config.base == "sgd":
        buf, x_new = state.buf, x - eta * h
    else:
        buf = hyper.momentum * state.buf + h
        x_new = x - eta * (buf if config.base == "heavy_ball" else h + hyper.momentum * buf)
    return State(x=x_new, buf=buf, past=past, t=t + 1)


def _per_worker(grad_at_x: Any, xi: Any, max_workers: int, x: Array) -> Array:
    """:math:`g(x;\\xi^k)` for every worker ``k`` (the exact gradient, broadcast, if ``xi`` is None)."""
    if xi is None:
        return jnp.broadcast_to(grad_at_x(None), (max_workers,) + x.shape)
    return jax.vmap(grad_at_x)(xi)


def step(config: Config, state: State, problem: Problem, key: Array, hyper: Hyper,
         max_batch: int, batch_mean: bool = False, grad_x: Array | None = None) -> State:
    """:func:`draw` then :func:`apply`: one step of the method under ``key`` (``grad_x``: see :func:`apply`)."""
    draws = draw(config, problem, key, max_batch, state.past.shape[0], batch_mean)
    return apply(config, state, problem, draws, hyper, batch_mean, grad_x)
