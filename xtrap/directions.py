"""Direction rules: where each worker evaluates its gradient, as pure functions registered by name.

A direction rule says how far, and which way, worker :math:`k` moves before evaluating the gradient that the
update averages:

.. math:: u_t^k = x_t + \\delta_t^k,\\qquad \\delta_t^k = \\mathrm{rule}(x_t,\\ \\mathrm{state}_t,\\ G_t,\\ Z_t,\\
          \\mathrm{hyper}_t),

with :math:`G_t` the per-worker gradients at :math:`x_t` on the extrapolation batches (when the rule asks for
them) and :math:`Z_t` the per-worker noise draws (when it names a noise law). Everything else — batch size,
workers, same or fresh update batch, the momentum base update, schedules, sweeps, compilation — is the
framework's, so a registered rule composes with all of it exactly as the built-in ones do. The built-in rules
are defined here through the same mechanism (:func:`register_direction`), so it cannot rot.

The signature of a rule (every argument a JAX value; ``K`` the number of workers compiled for, ``d`` the
dimension):

* ``x`` — the iterate :math:`x_t`, shape ``(d,)``;
* ``state`` — :class:`xtrap.State`: ``buf`` (the momentum buffer :math:`m_t`), ``past`` (last step's per-worker
  update gradients :math:`h^k_{t-1}`, shape ``(K, d)``), ``t``;
* ``grads`` — :math:`g(x_t;\\xi_t'^k)`, shape ``(K, d)``, if registered with ``extrap_batch=True``, else ``None``;
* ``noise`` — :math:`Z_t^k`, shape ``(K, d)``, if registered with a ``noise`` law, else ``None``;
* ``hyper`` — :class:`StepHyper`: the step's :math:`\\eta_t`, :math:`\\gamma_t`, :math:`\\rho`, :math:`\\beta`,
  and ``worker_mask`` (which of the ``K`` workers are active; average with :func:`worker_mean`);

and it returns :math:`\\delta_t`, shape ``(K, d)`` (one per worker) or ``(d,)`` (shared).

>>> import jax.numpy as jnp, problems, xtrap
>>> @xtrap.register_direction("lookahead", doc="-gamma * beta * m_t: along the momentum buffer")
... def lookahead(x, state, grads, noise, hyper):
...     return -hyper.gamma * hyper.momentum * state.buf
>>> m = xtrap.method("lookahead", lr=0.1, extrap_lr=0.5, momentum=0.9)
>>> r = xtrap.run(problems.make("quadratic", dim=3), m, steps=50, seeds=2)
>>> r["loss"].shape
(2, 51)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from problems import ParameterError, masked_mean

Array = jax.Array
NOISE_LAWS = ("gaussian", "ball", "sphere")
Rule = Callable[[Array, Any, Any, Any, "StepHyper"], Array]


class StepHyper(NamedTuple):
    """The hyper-parameters of one step, as a rule sees them (schedules evaluated at :math:`t`).

    Attributes:
        eta: :math:`\\eta_t`; gamma: :math:`\\gamma_t` (:math:`\\eta_t` when tied); rho: :math:`\\rho`;
        momentum: :math:`\\beta`; worker_mask: boolean ``(K,)``, the active workers; t: the step.
    """

    eta: Array
    gamma: Array
    rho: Array
    momentum: Array
    worker_mask: Array
    t: Array


def worker_mean(values: Array, hyper: StepHyper) -> Array:
    """:math:`\\frac1K\\sum_{k\\le K}v^k` over the active workers (``values`` of shape ``(K_max, d)``)."""
    return masked_mean(values, hyper.worker_mask)


@dataclasses.dataclass(frozen=True)
class DirectionRule:
    """A registered direction rule.

    Attributes:
        name: its registry name (``Config.direction``).
        fn: the rule, ``(x, state, grads, noise, hyper) -> delta``.
        extrap_batch: the rule reads ``grads`` (an extrapolation batch is drawn; ``same_batch`` applies).
        noise: the law of ``noise`` (``"gaussian"``, ``"ball"``, ``"sphere"``) or ``None``.
        doc: the rule in one line, for listings and reports.
        builtin: one of the framework's own rules.
    """

    name: str
    fn: Rule
    extrap_batch: bool = False
    noise: str | None = None
    doc: str = ""
    builtin: bool = False


_RULES: dict[str, DirectionRule] = {}


def register_direction(name: str, fn: Rule | None = None, *, extrap_batch: bool = False, noise: str | None = None,
                       doc: str = "", replace: bool = False, _builtin: bool = False) -> Any:
    """Register a direction rule under ``name`` (usable as a decorator).

    Args:
        name: the rule's name (letters, digits, ``_``, ``-``), then ``xtrap.method(name, ...)`` builds methods.
        fn: ``(x, state, grads, noise, hyper) -> delta`` (module docstring); pure and JAX-traceable.
        extrap_batch: draw an extrapolation batch per worker and pass its gradients at :math:`x_t` as ``grads``.
        noise: draw per-worker noise from this law and pass it as ``noise``.
        doc: a one-line description.
        replace: allow replacing an earlier user rule of the same name (methods built afterwards use the new
            one and compile anew); the built-in rules cannot be replaced.

    Returns:
        The rule function (so it can decorate), after a trial trace on a small input checks its signature and
        output shape.

    Raises:
        ParameterError: a bad name, a name already taken, an unknown noise law, or a function that does not
            accept the five arguments or returns the wrong shape.
    """
    if fn is None:
        return lambda f: register_direction(name, f, extrap_batch=extrap_batch, noise=noise, doc=doc,
                                            replace=replace, _builtin=_builtin)
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ParameterError(f"direction name must be a non-empty word (letters, digits, _ or -); got {name!r}")
    if noise is not None and noise not in NOISE_LAWS:
        raise ParameterError(f"noise must be one of {', '.join(NOISE_LAWS)} or None; got {noise!r}")
    if not callable(fn):
        raise ParameterError(f"direction rule {name!r} must be a function (x, state, grads, noise, hyper) -> delta; "
                             f"got {type(fn).__name__}")
    old = _RULES.get(name)
    rule = DirectionRule(name, fn, bool(extrap_batch), noise, str(doc), _builtin)
    if old is not None and old.builtin and not _builtin:
        raise ParameterError(f"direction {name!r} is built in and cannot be replaced; pick another name")
    if old is not None and not replace and not _same_rule(old, rule):
        raise ParameterError(f"direction {name!r} is already registered (to {old.fn!r}, extrap_batch="
                             f"{old.extrap_batch}, noise={old.noise!r}); pick another name or pass replace=True")
    if not _builtin:
        _trial(rule)
    if old is not None and _same_rule(old, rule) and not replace:
        return fn  # the same rule again (a notebook cell run twice): nothing changes
    _RULES[name] = rule  # a Config holds its rule, so a replaced rule compiles anew (no stale compiled run)
    return fn


def _same_rule(a: DirectionRule, b: DirectionRule) -> bool:
    """The same flags and the same code (identical function, or one of the same name, bytecode and captures)."""
    if (a.extrap_batch, a.noise) != (b.extrap_batch, b.noise):
        return False
    if a.fn is b.fn:
        return True
    from problems.user import function_identity

    return function_identity(a.fn) == function_identity(b.fn)


class _TrialState(NamedTuple):  # the fields of xtrap.State (framework imports this module, not the reverse)
    x: Any
    buf: Any
    past: Any
    t: Any


def _trial(rule: DirectionRule) -> None:
    """Trace the rule once on a 3-dimensional, 2-worker input: a wrong signature or shape fails here, by name."""
    k, d = 2, 3
    x = jax.ShapeDtypeStruct((d,), jnp.float64)
    state = _TrialState(x=x, buf=x, past=jax.ShapeDtypeStruct((k, d), jnp.float64),
                        t=jax.ShapeDtypeStruct((), jnp.int32))
    per = jax.ShapeDtypeStruct((k, d), jnp.float64)
    scalar = jax.ShapeDtypeStruct((), jnp.float64)
    hyper = StepHyper(scalar, scalar, scalar, scalar, jax.ShapeDtypeStruct((k,), jnp.bool_), state.t)
    try:
        out = jax.eval_shape(rule.fn, x, state, per if rule.extrap_batch else None, per if rule.noise else None,
                             hyper)
    except TypeError as err:
        if "NoneType" in str(err):
            which = "grads" if not rule.extrap_batch else "noise"
            flag = "extrap_batch=True" if which == "grads" else "a noise law (noise='gaussian', ...)"
            raise ParameterError(f"direction rule {rule.name!r} uses {which}, which is None unless registered with "
                                 f"{flag} ({err})") from None
        raise ParameterError(f"direction rule {rule.name!r} must accept (x, state, grads, noise, hyper): {err}") from None
    except Exception as err:  # the rule's own code failed to trace: one line, with the cause
        raise ParameterError(f"direction rule {rule.name!r} failed on a trial input (x of shape ({d},), {k} workers): "
                             f"{type(err).__name__}: {err}") from None
    if not hasattr(out, "shape") or tuple(out.shape) not in ((d,), (k, d)):
        raise ParameterError(f"direction rule {rule.name!r} must return delta of shape (d,) or (K, d); got "
                             f"{getattr(out, 'shape', type(out).__name__)} for d={d}, K={k}")


def rule(name: str) -> DirectionRule:
    """The registered rule ``name``.

    Raises:
        ParameterError: no rule of that name (the message lists them).
    """
    if not isinstance(name, str) or name not in _RULES:
        raise ParameterError(f"direction must be one of {', '.join(_RULES)}; got {name!r}")
    return _RULES[name]


def directions() -> tuple[str, ...]:
    """The registered direction names: the built-in ones first, then the user's, in registration order."""
    return tuple(_RULES)


# ---- the built-in rules ---------------------------------------------------------------------------------------

def _none(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return jnp.zeros_like(x)


def _local(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return -hyper.gamma * grads


def _global(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return -hyper.gamma * worker_mean(grads, hyper)


def _past(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return -hyper.gamma * state.past


def _noise(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return -hyper.gamma * noise


def _usam(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    return hyper.rho * grads


def _sam(x, state, grads, noise, hyper):  # noqa: ANN001, ANN202
    norm = jnp.linalg.norm(grads, axis=-1, keepdims=True)
    return hyper.rho * jnp.where(norm > 0, grads / jnp.where(norm > 0, norm, 1.0), 0.0)


for _name, _fn, _kw, _doc in (
        ("none", _none, {}, "0 (mini-batch SGD with global batch Kb)"),
        ("local", _local, dict(extrap_batch=True), "-gamma g(x; xi'^k): each worker its own batch (EXTRAP-SGD)"),
        ("global", _global, dict(extrap_batch=True), "-gamma (1/K) sum_j g(x; xi'^j): a second all-reduce"),
        ("past", _past, {}, "-gamma h_(t-1) (averaged) or -gamma h^k_(t-1) (own); 0 at t = 0"),
        ("gaussian", _noise, dict(noise="gaussian"), "-gamma Z, Z ~ N(0, I_d)"),
        ("ball", _noise, dict(noise="ball"), "-gamma Z, Z ~ Unif(B_d)"),
        ("sphere", _noise, dict(noise="sphere"), "-gamma Z, Z ~ Unif(S^(d-1))"),
        ("sam", _sam, dict(extrap_batch=True), "+rho g/||g||, g = g(x; xi'^k) (0 when g = 0)"),
        ("usam", _usam, dict(extrap_batch=True), "+rho g(x; xi'^k)")):
    register_direction(_name, _fn, doc=_doc, _builtin=True, **_kw)

BUILTIN = directions()
"""The framework's own rules, in the order of THEORY.md §1.2."""
