"""The named methods of :mod:`xtrap.methods` as optax transformations, with optax's argument names.

Every constructor returns an ``optax.GradientTransformationExtraArgs`` whose calls alternate an extrapolation
call and an update call (:mod:`xtrap.optax._transform`; SGD makes update calls only), takes ``learning_rate`` (a
number or an optax schedule of the step :math:`t`), ``momentum`` (``None`` or :math:`\\beta\\in[0,1)`) and
``nesterov`` as :func:`optax.sgd` does, which gives the base update (PyTorch form, :mod:`xtrap.framework`):

.. math:: m_{t+1}=\\beta m_t+h_t,\\qquad x_{t+1}=x_t-\\eta_t m_{t+1}\\ \\text{(heavy ball)},\\quad
          x_{t+1}=x_t-\\eta_t(h_t+\\beta m_{t+1})\\ \\text{(Nesterov)},

and :math:`x_{t+1}=x_t-\\eta_t h_t` without momentum. ``extrap_lr`` (:math:`\\gamma_t`, a number or a schedule)
defaults to ``learning_rate``, as in :mod:`xtrap.methods`. Bad arguments raise :class:`problems.ParameterError`.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import optax

from problems import ParameterError, check_bool, check_choice, check_int, check_real

from ..framework import NOISE_LAWS
from ._transform import transformation

Tx = optax.GradientTransformationExtraArgs


def _traced(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)  # inside optax.inject_hyperparams: checked by the caller's values


def _rate(name: str, value: Any, *, positive: bool) -> Any:
    """A number in :math:`(0,\\infty)` (``positive``) or :math:`[0,\\infty)`, or a schedule ``t -> value``."""
    if callable(value) or _traced(value):
        return value
    check_real(name, value, lo=0.0, lo_open=positive)
    return value


def _momentum(momentum: Any, nesterov: Any) -> tuple[Any, bool]:
    nesterov = check_bool("nesterov", nesterov)
    if momentum is None or _traced(momentum):
        return momentum, nesterov
    check_real("momentum", momentum, lo=0.0, hi=1.0, hi_open=True)
    return momentum, nesterov


def _key(key: Any) -> Any:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.key(check_int("key", key, lo=0, hi=2**63 - 1))
    if isinstance(key, jax.Array) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
                                       or (key.dtype == np.uint32 and key.shape == (2,))):
        return key
    raise ParameterError(f"key must be an integer >= 0 or a jax.random key; got {key!r}")


def _extrapolating(direction: str, learning_rate: Any, extrap_lr: Any, momentum: Any, nesterov: Any) -> Tx:
    learning_rate = _rate("learning_rate", learning_rate, positive=True)
    extrap_lr = None if extrap_lr is None else _rate("extrap_lr", extrap_lr, positive=False)
    momentum, nesterov = _momentum(momentum, nesterov)
    return transformation(direction, learning_rate, extrap_lr, 0.0, momentum, nesterov)


def sgd(learning_rate: Any, momentum: float | None = None, nesterov: bool = False) -> Tx:
    """Mini-batch SGD (:func:`xtrap.sgd`): every call is an update call,

    .. math:: h_t=\\frac1K\\sum_k g(x_t;\\xi_t^k),\\qquad x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),

    i.e. ``optax.sgd(learning_rate, momentum, nesterov)`` that also averages over the workers of ``axis_name``.

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs``.

    >>> import jax.numpy as jnp, optax, xtrap.optax
    >>> tx = xtrap.optax.sgd(learning_rate=0.5, momentum=0.9)
    >>> params = jnp.array([1.0, -2.0]); state = tx.init(params)
    >>> updates, state = tx.update(2 * params, state, params)   # f = ||x||^2
    >>> optax.apply_updates(params, updates)                    # x - 0.5 * 2x
    Array([0., 0.], dtype=float64)

    References: Robbins & Monro (1951); Sutskever et al. (ICML 2013) for momentum.
    """
    learning_rate = _rate("learning_rate", learning_rate, positive=True)
    momentum, nesterov = _momentum(momentum, nesterov)
    return transformation("none", learning_rate, None, 0.0, momentum, nesterov)


def extrap_sgd(learning_rate: Any, *, extrap_lr: Any = None, momentum: float | None = None,
               nesterov: bool = False) -> Tx:
    """EXTRAP-SGD, local stochastic extragradient (:func:`xtrap.extrap_sgd`):

    .. math:: u_t^k=x_t-\\gamma_t\\,g(x_t;\\xi_t'^k),\\qquad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\qquad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta).

    Each worker extrapolates with its own gradient (no communication); the update call averages over
    ``axis_name``. In a loop that takes a fresh batch per call, :math:`\\xi_t'` and :math:`\\xi_t` are independent
    (the framework's default); feed the same batch twice for :math:`\\xi_t'=\\xi_t`.

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        extrap_lr: :math:`\\gamma_t\\ge0`, a number or a schedule; ``None`` (default) ties it to ``learning_rate``.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import jax.numpy as jnp, optax, xtrap.optax
    >>> tx = xtrap.optax.extrap_sgd(learning_rate=0.1)
    >>> params = jnp.array([1.0, -2.0]); state = tx.init(params)
    >>> for _ in range(2):            # one step: u = 0.8 x, then x - 0.1 * 2u = 0.84 x  (f = ||x||^2)
    ...     updates, state = tx.update(2 * params, state, params)
    ...     params = optax.apply_updates(params, updates)
    >>> params.round(12)
    Array([ 0.84, -1.68], dtype=float64)

    References: Lin, Kong, Stich & Jaggi, *Extrapolation for Large-batch Training in Deep Learning*, ICML 2020.
    """
    return _extrapolating("local", learning_rate, extrap_lr, momentum, nesterov)


def global_extrap_sgd(learning_rate: Any, *, extrap_lr: Any = None, momentum: float | None = None,
                      nesterov: bool = False) -> Tx:
    """Global stochastic extragradient (:func:`xtrap.global_extrap_sgd`): the extrapolation gradient is averaged
    over the workers of ``axis_name`` first,

    .. math:: u_t=x_t-\\gamma_t\\frac1K\\sum_j g(x_t;\\xi_t'^j),\\qquad h_t=\\frac1K\\sum_k g(u_t;\\xi_t^k),\\qquad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta).

    With one worker it is :func:`extrap_sgd`.

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        extrap_lr: :math:`\\gamma_t\\ge0`, a number or a schedule; ``None`` (default) ties it to ``learning_rate``.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import xtrap.optax
    >>> tx = xtrap.optax.global_extrap_sgd(learning_rate=0.1, momentum=0.9)
    >>> tx.init({"w": 1.0}).direction
    'global'

    References: Lin, Kong, Stich & Jaggi, ICML 2020.
    """
    return _extrapolating("global", learning_rate, extrap_lr, momentum, nesterov)


def extragradient(learning_rate: Any, *, extrap_lr: Any = None, momentum: float | None = None,
                  nesterov: bool = False) -> Tx:
    """Extragradient (Korpelevich 1976; :func:`xtrap.extragradient`): :func:`extrap_sgd` fed full-batch
    gradients,

    .. math:: x_{t+1/2}=x_t-\\gamma\\nabla f(x_t),\\qquad x_{t+1}=x_t-\\eta\\nabla f(x_{t+1/2}).

    Feed it full-batch gradients (the transformation cannot tell a full batch from a mini-batch).

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        extrap_lr: :math:`\\gamma_t\\ge0`, a number or a schedule; ``None`` (default) ties it to ``learning_rate``.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import xtrap.optax
    >>> xtrap.optax.extragradient(learning_rate=0.1).init({"w": 1.0}).direction
    'local'

    References: G. M. Korpelevich, *The extragradient method for finding saddle points and other problems*, 1976.
    """
    return _extrapolating("local", learning_rate, extrap_lr, momentum, nesterov)


def past_extrap(learning_rate: Any, *, extrap_lr: Any = None, momentum: float | None = None,
                nesterov: bool = False) -> Tx:
    """Extrapolation from the past (single-call / optimistic; :func:`xtrap.past_extrap`, averaged source):

    .. math:: u_t=x_t-\\gamma_t h_{t-1},\\qquad h_t=\\frac1K\\sum_k g(u_t;\\xi_t^k),\\qquad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),\\qquad h_{-1}=0 .

    One new gradient per step: the extrapolation call ignores its gradient (``make_step`` does not compute it).

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        extrap_lr: :math:`\\gamma_t\\ge0`, a number or a schedule; ``None`` (default) ties it to ``learning_rate``.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import jax.numpy as jnp, xtrap.optax
    >>> tx = xtrap.optax.past_extrap(learning_rate=0.1)
    >>> state = tx.init(jnp.ones(2))
    >>> delta, state = tx.update(jnp.zeros(2), state, jnp.ones(2))   # delta_0 = -gamma h_(-1) = 0
    >>> delta
    Array([-0., -0.], dtype=float64)

    References: L. D. Popov, 1980; Gidel et al., *A Variational Inequality Perspective on GANs*, ICLR 2019.
    """
    return _extrapolating("past", learning_rate, extrap_lr, momentum, nesterov)


def noise_extrap(learning_rate: Any, *, extrap_lr: Any = 0.01, law: str = "gaussian",
                 momentum: float | None = None, nesterov: bool = False, key: Any = 0) -> Tx:
    """Noise injection (:func:`xtrap.noise_extrap`): the gradient at a randomly perturbed point,

    .. math:: u_t^k=x_t-\\gamma_t Z_t^k,\\qquad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\qquad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),

    :math:`Z` over the whole raveled parameter vector (dimension :math:`d`) from ``law``: ``gaussian``
    :math:`N(0,I_d)`, ``ball`` :math:`\\mathrm{Unif}(B_d)`, ``sphere`` :math:`\\mathrm{Unif}(S^{d-1})`
    (:func:`xtrap.sample_noise`). The extrapolation call ignores its gradient.

    Randomness: the state holds ``key``; step :math:`t` uses ``fold_in(key, t)`` unless ``update`` is given the
    step's key as the extra argument ``key=`` (then it draws as :func:`xtrap.draw` does from that key).

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        extrap_lr: the noise scale :math:`\\gamma_t\\ge0` (default 0.01, as :func:`xtrap.noise_extrap`).
        law: ``"gaussian"``, ``"ball"`` or ``"sphere"``.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.
        key: an integer seed or a ``jax.random`` key.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import jax.numpy as jnp, optax, xtrap.optax
    >>> tx = xtrap.optax.noise_extrap(learning_rate=0.1, extrap_lr=0.5, law="sphere", key=3)
    >>> params = {"a": jnp.zeros(2), "b": jnp.zeros(3)}
    >>> delta, _ = tx.update(params, tx.init(params), params)
    >>> float(optax.tree.norm(delta))                         # gamma * ||Z||, Z on the unit sphere of R^5
    0.5

    References: Lin, Kong, Stich & Jaggi, ICML 2020; Zhou et al., *Towards Theoretically Understanding Why SGD
    Generalizes Better Than ADAM in Deep Learning* (SmoothOut-style noise), NeurIPS 2020.
    """
    law = check_choice("law", law, NOISE_LAWS)
    learning_rate = _rate("learning_rate", learning_rate, positive=True)
    extrap_lr = _rate("extrap_lr", extrap_lr, positive=False)
    momentum, nesterov = _momentum(momentum, nesterov)
    return transformation(law, learning_rate, extrap_lr, 0.0, momentum, nesterov, key=_key(key))


def _sharpness_aware(direction: str, learning_rate: Any, rho: Any, momentum: Any, nesterov: Any) -> Tx:
    learning_rate = _rate("learning_rate", learning_rate, positive=True)
    rho = _rate("rho", rho, positive=False)
    momentum, nesterov = _momentum(momentum, nesterov)
    return transformation(direction, learning_rate, None, rho, momentum, nesterov)


def sam(learning_rate: Any, *, rho: Any = 0.05, momentum: float | None = None, nesterov: bool = False) -> Tx:
    """Sharpness-aware minimization (:func:`xtrap.sam`), per worker:

    .. math:: u_t^k=x_t+\\rho\\frac{g(x_t;\\xi_t'^k)}{\\|g(x_t;\\xi_t'^k)\\|},\\qquad
              h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\qquad x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),

    the norm over the whole parameter pytree, and :math:`u=x` when the gradient is 0. Standard SAM feeds the same
    batch to both calls.

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        rho: the radius :math:`\\rho\\ge0`, a number or a schedule.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import jax.numpy as jnp, optax, xtrap.optax
    >>> tx = xtrap.optax.sam(learning_rate=0.1, rho=0.5)
    >>> params = {"a": jnp.array([3.0]), "b": jnp.array([4.0])}
    >>> delta, _ = tx.update(params, tx.init(params), params)     # rho * g / ||g||, ||g|| = 5
    >>> delta
    {'a': Array([0.3], dtype=float64), 'b': Array([0.4], dtype=float64)}

    References: Foret, Kleiner, Mobahi & Neyshabur, *Sharpness-Aware Minimization for Efficiently Improving
    Generalization*, ICLR 2021.
    """
    return _sharpness_aware("sam", learning_rate, rho, momentum, nesterov)


def usam(learning_rate: Any, *, rho: Any = 0.05, momentum: float | None = None, nesterov: bool = False) -> Tx:
    """Unnormalized SAM (:func:`xtrap.usam`), extragradient with :math:`\\gamma=-\\rho`:

    .. math:: u_t^k=x_t+\\rho\\,g(x_t;\\xi_t'^k),\\qquad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\qquad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta).

    Args:
        learning_rate: :math:`\\eta_t>0`, a number or a schedule.
        rho: :math:`\\rho\\ge0`, a number or a schedule.
        momentum: ``None`` (none) or :math:`\\beta\\in[0,1)`.
        nesterov: Nesterov momentum (PyTorch form) instead of heavy ball.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (extrapolation and update calls alternate).

    >>> import xtrap.optax
    >>> xtrap.optax.usam(learning_rate=0.1, rho=0.01).init({"w": 1.0}).direction
    'usam'

    References: Andriushchenko & Flammarion, *Towards Understanding Sharpness-Aware Minimization*, ICML 2022.
    """
    return _sharpness_aware("usam", learning_rate, rho, momentum, nesterov)
