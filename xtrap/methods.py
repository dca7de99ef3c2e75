"""Named methods: the instances of the framework that users know.

A :class:`Method` is a static :class:`~xtrap.framework.Config` plus default
:class:`~xtrap.hyper.Hyper`; ``init`` and ``step`` are pure functions (optax style). Every
constructor accepts ``momentum`` (heavy ball, PyTorch form) and ``nesterov=True``; the
aggregated extrapolated gradient :math:`h_t` is what the momentum rule receives.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from problems import ParameterError, Problem, check_bool

from . import framework
from .framework import Config, State
from .hyper import Hyper, make_hyper

Array = Any


@dataclasses.dataclass(frozen=True)
class Method:
    """A method: a name, its static structure and default hyper-parameters."""

    name: str
    config: Config
    hyper: Hyper

    def init(self, x0: Array, max_workers: int = 1) -> State:
        """Initial state (see :func:`xtrap.framework.init`)."""
        return framework.init(x0, max_workers)

    def step(self, state: State, problem: Problem, key: Array, hyper: Hyper | None = None,
             max_batch: int | None = None, batch_mean: bool = False) -> State:
        """One step under ``key`` (``hyper`` defaults to the method's own; batch from ``hyper``; ``batch_mean``:
        batch-mean draws, as :func:`xtrap.run` makes on additive Gaussian oracles, see :mod:`xtrap.framework`)."""
        hyper = self.hyper if hyper is None else hyper
        if max_batch is None:
            max_batch = int(hyper.batch)
        return framework.step(self.config, state, problem, key, hyper, max_batch, batch_mean)

    def replace(self, **hyper_updates: Any) -> "Method":
        """A copy with some hyper-parameters changed (validated as by the constructor)."""
        current = {"lr": self.hyper.lr, "extrap_lr": "lr" if self.hyper.extrap_lr is None else self.hyper.extrap_lr,
                   "rho": self.hyper.rho, "momentum": self.hyper.momentum, "batch": self.hyper.batch,
                   "workers": self.hyper.workers}
        unknown = set(hyper_updates) - set(current)
        if unknown:
            raise ParameterError(f"unknown hyper-parameter {sorted(unknown)[0]!r}; known: {', '.join(current)}")
        current.update(hyper_updates)
        return Method(self.name, self.config, make_hyper(**current))


def _base(momentum: Any, nesterov: bool) -> str:
    if nesterov:
        return "nesterov"
    return "heavy_ball" if momentum is not None and (hasattr(momentum, "__len__") or momentum != 0) else "sgd"


def _method(name: str, direction: str, *, lr: Any, extrap_lr: Any = 0.0, rho: Any = 0.0,
            momentum: Any = 0.0, nesterov: bool = False, batch: Any = 1, workers: Any = 1,
            same_batch: bool = False, exact: bool = False, past_source: str = "averaged") -> Method:
    nesterov, same_batch, exact = (check_bool(k, v) for k, v in (("nesterov", nesterov), ("same_batch", same_batch),
                                                                  ("exact", exact)))
    config = Config(direction=direction, base=_base(momentum, nesterov), same_batch=same_batch,
                    past_source=past_source, exact=exact)
    hyper = make_hyper(lr=lr, extrap_lr=extrap_lr, rho=rho, momentum=momentum, batch=batch, workers=workers)
    return Method(name, config, hyper)


def sgd(lr: Any = 0.1, *, momentum: Any = 0.0, nesterov: bool = False, batch: Any = 1,
        workers: Any = 1, exact: bool = False) -> Method:
    """Mini-batch SGD, global batch :math:`Kb`:

    .. math:: h_t=\\frac1K\\sum_k g(x_t;\\xi_t^k),\\qquad x_{t+1}=x_t-\\eta_t h_t .

    ``exact=True`` uses :math:`\\nabla f` (gradient descent). Reference: Robbins & Monro (1951);
    Nesterov momentum as in PyTorch (THEORY.md §1.5).

    >>> import problems, xtrap
    >>> m = xtrap.sgd(lr=0.5, batch=4)
    >>> m.config.direction
    'none'
    """
    return _method("sgd", "none", lr=lr, momentum=momentum, nesterov=nesterov, batch=batch,
                   workers=workers, exact=exact)


def extrap_sgd(lr: Any = 0.1, extrap_lr: Any = "lr", *, momentum: Any = 0.0, nesterov: bool = False,
               batch: Any = 1, workers: Any = 1, same_batch: bool = False) -> Method:
    """EXTRAP-SGD, local stochastic extragradient (THEORY.md §1.4, a reconstruction):

    .. math:: u_t^k=x_t-\\gamma_t\\,g(x_t;\\xi_t'^k),\\quad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),
              \\quad x_{t+1}=x_t-\\eta_t h_t .

    Each worker extrapolates with its own batch, without communication; ``same_batch`` sets
    :math:`\\xi_t^k=\\xi_t'^k`. ``extrap_lr="lr"`` (the default) ties :math:`\\gamma_t=\\eta_t`.
    Reference: Lin, Kong, Stich & Jaggi, ICML 2020 (algorithm as reconstructed for xtrap).
    """
    return _method("extrap_sgd", "local", lr=lr, extrap_lr=extrap_lr, momentum=momentum, nesterov=nesterov,
                   batch=batch, workers=workers, same_batch=same_batch)


def global_extrap_sgd(lr: Any = 0.1, extrap_lr: Any = "lr", *, momentum: Any = 0.0, nesterov: bool = False,
                      batch: Any = 1, workers: Any = 1) -> Method:
    """Global stochastic extragradient: the extrapolation direction is all-reduced first,

    .. math:: u_t=x_t-\\gamma_t\\frac1K\\sum_j g(x_t;\\xi_t'^j),\\quad h_t=\\frac1K\\sum_k g(u_t;\\xi_t^k),
              \\quad x_{t+1}=x_t-\\eta_t h_t .

    Equal to :func:`extrap_sgd` on quadratics with one Hessian (THEORY.md §1.6).
    """
    return _method("global_extrap_sgd", "global", lr=lr, extrap_lr=extrap_lr, momentum=momentum,
                   nesterov=nesterov, batch=batch, workers=workers)


def extragradient(lr: Any = 0.1, extrap_lr: Any = "lr", *, momentum: Any = 0.0,
                  nesterov: bool = False) -> Method:
    """Deterministic extragradient (Korpelevich 1976), exact gradients, one worker:

    .. math:: x_{t+1/2}=x_t-\\gamma\\nabla f(x_t),\\qquad x_{t+1}=x_t-\\eta\\nabla f(x_{t+1/2}).
    """
    return _method("extragradient", "local", lr=lr, extrap_lr=extrap_lr, momentum=momentum,
                   nesterov=nesterov, exact=True)


def past_extrap(lr: Any = 0.1, extrap_lr: Any = "lr", *, momentum: Any = 0.0, nesterov: bool = False,
                batch: Any = 1, workers: Any = 1, source: str = "averaged", exact: bool = False) -> Method:
    """Extrapolation from the past (single-call / optimistic; Popov 1980, Gidel et al. 2019):

    .. math:: u_t^k=x_t-\\gamma_t h_{t-1},\\quad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),
              \\quad x_{t+1}=x_t-\\eta_t h_t,\\quad h_{-1}=0 .

    One new gradient per step. ``source="local"`` uses each worker's own :math:`h^k_{t-1}`.
    """
    return _method("past_extrap", "past", lr=lr, extrap_lr=extrap_lr, momentum=momentum, nesterov=nesterov,
                   batch=batch, workers=workers, past_source=source, exact=exact)


def noise_extrap(lr: Any = 0.1, extrap_lr: Any = 0.01, *, law: str = "gaussian", momentum: Any = 0.0,
                 nesterov: bool = False, batch: Any = 1, workers: Any = 1, exact: bool = False) -> Method:
    """Noise injection: gradients at independently perturbed copies, averaged (cf. SmoothOut):

    .. math:: u_t^k=x_t-\\gamma_t Z_t^k,\\quad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),
              \\quad x_{t+1}=x_t-\\eta_t h_t ,

    :math:`Z` from ``law``: ``gaussian`` :math:`N(0,I_d)`, ``ball`` :math:`\\mathrm{Unif}(B_d)`,
    ``sphere`` :math:`\\mathrm{Unif}(S^{d-1})`; ``extrap_lr`` is the noise scale :math:`\\gamma`.
    """
    if law not in framework.NOISE_LAWS:
        raise ParameterError(f"law must be one of {', '.join(framework.NOISE_LAWS)}; got {law!r}")
    return _method("noise_extrap", law, lr=lr, extrap_lr=extrap_lr, momentum=momentum, nesterov=nesterov,
                   batch=batch, workers=workers, exact=exact)


def sam(lr: Any = 0.1, rho: Any = 0.05, *, momentum: Any = 0.0, nesterov: bool = False, batch: Any = 1,
        workers: Any = 1, same_batch: bool = True, exact: bool = False) -> Method:
    """Sharpness-aware minimization (Foret et al., ICLR 2021), per worker:

    .. math:: u_t^k=x_t+\\rho\\frac{g(x_t;\\xi_t'^k)}{\\|g(x_t;\\xi_t'^k)\\|},\\quad
              h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\quad x_{t+1}=x_t-\\eta_t h_t .

    ``same_batch=True`` (default) is standard SAM; ``False`` draws an independent ascent
    batch (the case THEORY.md §D5(a) analyses). A zero ascent gradient gives :math:`u=x`.
    """
    return _method("sam", "sam", lr=lr, rho=rho, momentum=momentum, nesterov=nesterov, batch=batch,
                   workers=workers, same_batch=same_batch and not exact, exact=exact)


def usam(lr: Any = 0.1, rho: Any = 0.05, *, momentum: Any = 0.0, nesterov: bool = False, batch: Any = 1,
         workers: Any = 1, same_batch: bool = True, exact: bool = False) -> Method:
    """Unnormalized SAM (Andriushchenko & Flammarion, ICML 2022), i.e. EG with :math:`\\gamma=-\\rho`:

    .. math:: u_t^k=x_t+\\rho\\,g(x_t;\\xi_t'^k),\\quad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),
              \\quad x_{t+1}=x_t-\\eta_t h_t .
    """
    return _method("usam", "usam", lr=lr, rho=rho, momentum=momentum, nesterov=nesterov, batch=batch,
                   workers=workers, same_batch=same_batch and not exact, exact=exact)


def method(direction: str, *, name: str | None = None, lr: Any = 0.1, extrap_lr: Any = "lr", rho: Any = 0.0,
           momentum: Any = 0.0, nesterov: bool = False, batch: Any = 1, workers: Any = 1, same_batch: bool = False,
           exact: bool = False, past_source: str = "averaged") -> Method:
    """A method with any registered direction rule (a user's, from :func:`xtrap.register_direction`, or built in):

    .. math:: u_t^k=x_t+\\delta_t^k,\\quad h_t=\\frac1K\\sum_k g(u_t^k;\\xi_t^k),\\quad
              x_{t+1}=\\mathrm{base}(x_t,h_t;\\eta_t,\\beta),

    :math:`\\delta_t^k` given by the rule. The options are the framework's, as for the named constructors;
    ``extrap_lr="lr"`` ties :math:`\\gamma_t=\\eta_t`.

    Args:
        direction: the rule's registered name (``xtrap.directions()``).
        name: the method's name in results and reports (default: ``direction``).

    Raises:
        ParameterError: an unknown direction, or an option out of range.

    >>> m = method("local", lr=0.5, batch=4)  # EXTRAP-SGD, through the generic constructor
    >>> m.config == extrap_sgd(lr=0.5, batch=4).config
    True
    """
    from .directions import rule

    rule(direction)
    label = direction if name is None else name
    if not isinstance(label, str) or not label:
        raise ParameterError(f"name must be a non-empty string; got {name!r}")
    return _method(label, direction, lr=lr, extrap_lr=extrap_lr, rho=rho, momentum=momentum, nesterov=nesterov,
                   batch=batch, workers=workers, same_batch=same_batch, exact=exact, past_source=past_source)


OPTION_HELP = {
    "lr": "update step eta_t > 0: a number, a 1-D sweep axis, or a Schedule",
    "extrap_lr": "extrapolation step gamma_t >= 0 (noise scale for noise_extrap); 'lr' ties it to lr",
    "rho": "SAM / USAM radius rho >= 0",
    "momentum": "momentum beta in [0, 1): heavy ball, or Nesterov with nesterov=True",
    "nesterov": "Nesterov momentum (PyTorch form) instead of heavy ball",
    "batch": "local batch size b >= 1 per worker (at most n for a finite sum)",
    "workers": "number of workers K >= 1; the update averages their gradients",
    "same_batch": "evaluate at the extrapolated point on the extrapolation batch (else a fresh batch)",
    "exact": "exact gradients everywhere (deterministic GD, EG, SAM, ...)",
    "law": "noise law: gaussian N(0, I), ball Unif(B_d) or sphere Unif(S^(d-1))",
    "source": "past gradient used: averaged h_(t-1) or the worker's own (local)",
}
"""What each option of the method constructors means (``xtrap methods`` prints it)."""

METHODS: dict[str, Callable[..., Method]] = {
    "sgd": sgd, "extrap_sgd": extrap_sgd, "global_extrap_sgd": global_extrap_sgd,
    "extragradient": extragradient, "past_extrap": past_extrap, "noise_extrap": noise_extrap,
    "sam": sam, "usam": usam,
}


def make_method(name: str, **kwargs: Any) -> Method:
    """Build a named method; unknown names and keywords raise :class:`~problems.ParameterError`."""
    if not isinstance(name, str) or name not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}; got {name!r}")
    import inspect

    params = inspect.signature(METHODS[name]).parameters
    for k in kwargs:
        if k not in params:
            raise ParameterError(f"method {name!r} has no option {k!r}; its options are {', '.join(params)}")
    return METHODS[name](**kwargs)
