"""The pieces a catalog check is declared with: hashable builders, run settings, bound parameters.

A :class:`CatalogCheck` says *which theorem* is held against *which run* (a problem builder, a
method builder and :class:`RunSpec` settings), *how the run maps to the bound's parameters*, and
*what is compared* (the quantity, the relation, a witness flag with its tolerance). Builders are
:class:`Build` values (a function and its keyword arguments), hashable by value, so checks that
declare the same run share one simulation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

import problems
import xtrap

KINDS = ("bound", "formula", "threshold", "stationary")
LEVELS = ("quick", "full")


@dataclasses.dataclass(frozen=True)
class Build:
    """``fn(*args, **kwargs)`` as a hashable value (the run cache is keyed by it)."""

    fn: Callable[..., Any]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args, **dict(self.kwargs))

    @property
    def label(self) -> str:
        """``name(k=v, ...)``: the builder's name and arguments, for reports."""
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs)
        return f"{self.fn.__name__.removeprefix('m_').removeprefix('p_')}({args})"


def build(fn: Callable[..., Any], **kwargs: Any) -> Build:
    """A :class:`Build` of ``fn`` with ``kwargs`` (values must be hashable: numbers, strings, tuples)."""
    return Build(fn, tuple(sorted(kwargs.items())))


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Run settings at the two verification levels.

    Attributes:
        quick: ``(steps, seeds)`` for ``xtrap verify --quick``.
        full: ``(steps, seeds)`` for ``--full``.
        record_every: record interval (``1`` gives every step, so any prefix average is exact).
        start: ``"default"`` (the problem's ``x0``) or ``"star"`` (its first minimizer).
        diverge_radius: passed to :func:`xtrap.run` (``None``: its default).
        iterates: record the iterates too.
    """

    quick: tuple[int, int]
    full: tuple[int, int]
    record_every: int | None = None
    start: str = "default"
    diverge_radius: float | None = None
    iterates: bool = False

    def at(self, level: str) -> tuple[int, int]:
        """``(steps, seeds)`` at ``level``."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
        return self.quick if level == "quick" else self.full


@dataclasses.dataclass(frozen=True)
class Ctx:
    """What a parameter map sees: the built problem and method, and the run's horizon and start."""

    problem: problems.Problem
    method: xtrap.Method
    steps: int
    seeds: int
    x0: np.ndarray


@dataclasses.dataclass(frozen=True)
class CatalogCheck:
    """One declared check of a theorem against runs (see the module docstring).

    Attributes:
        theorem: a name in :func:`proofs.catalog` whose theorem exports a bound.
        problem: builds the problem (no arguments).
        method: builds the method from the problem.
        run: the run settings.
        params: ``Ctx -> dict`` of bound parameters (extra keys are dropped; the test checks that
            every name in ``bound.parameters`` is covered).
        quantity: ``avg_grad_norm2`` (:math:`\\frac1T\\sum_{t<T}\\|\\nabla f(x_t)\\|^2`), ``grad_norm2``,
            ``loss_gap`` (:math:`f(x_t)-f^\\star`), ``dist`` (:math:`\\|x_t-x^\\star\\|`), ``dist2``, or
            what the kind defines (``formula``/``stationary``: ``loss_gap``; ``threshold``: the
            fraction of correctly classified points).
        kind: ``bound`` (one run against ``bound.evaluate(params)``), ``formula`` (A1: the sum over
            eigen-directions of the per-direction factor), ``threshold`` (A2: stable at one side,
            divergent at the other), ``stationary`` (A3: the sum over directions of the
            per-direction stationary value).
        at: the step :math:`t` whose record is compared (``None``: the last, :math:`T`).
        window: average each seed's records over :math:`t\\in[\\text{window}\\cdot T, T]` (used where
            the law of :math:`x_t` is the same for every such :math:`t`, so the time average is an
            unbiased estimate of the same expectation with far less variance).
        witness: the bound is attained here. The run must match the witness's exact value (``exact``, default
            the bound itself) as an identity (``==`` within 4 SE, or to round-off), and measured/bound must be 1
            within ``witness_tol``.
        witness_tol: relative tolerance of a witness's ratio (justified where it is declared).
        exact: ``Ctx -> float``, the exact expected value of the quantity at a witness where it differs from
            the bound by a known amount (e.g. a :math:`1/T` transient of an average); ``None``: the bound.
        deterministic: exact-gradient run: compare to round-off, no standard error.
        expect: ``"pass"``, or ``"refused"`` for a declared refusal (the step violates a condition).
        extra: kind-specific settings (e.g. the threshold factors).
        note: one line for the report (why this instance, what the tolerance covers).
        levels: the verification levels that run this check (``full`` adds instances).
    """

    theorem: str
    problem: Build
    method: Build
    run: RunSpec
    params: Callable[[Ctx], dict[str, float]]
    quantity: str = "avg_grad_norm2"
    kind: str = "bound"
    at: int | None = None
    window: float | None = None
    witness: bool = False
    witness_tol: float | None = None
    exact: Callable[[Ctx], float] | None = None
    deterministic: bool = False
    expect: str = "pass"
    extra: tuple[tuple[str, Any], ...] = ()
    note: str = ""
    levels: tuple[str, ...] = LEVELS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.expect not in ("pass", "refused"):
            raise ValueError(f"expect must be 'pass' or 'refused'; got {self.expect!r}")
        if self.witness and self.witness_tol is None:
            raise ValueError(f"witness check of {self.theorem} needs a justified witness_tol")

    @property
    def options(self) -> dict[str, Any]:
        """``extra`` as a dict."""
        return dict(self.extra)


# ---- bound parameters from a run ----------------------------------------------------------------


def _scalar(a: Any) -> float:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim:
        raise ValueError("bound parameters need scalar hyper-parameters (no sweep axis)")
    return float(arr)


def noise_moment(law: str, d: int) -> float:
    """:math:`\\mathbb E\\|Z\\|^2`: Gaussian :math:`d`, ball :math:`d/(d+2)`, sphere :math:`1` (THEORY.md §1.2)."""
    return {"gaussian": float(d), "ball": d / (d + 2.0), "sphere": 1.0}[law]


def standard_params(ctx: Ctx) -> dict[str, float]:
    """Every bound symbol that a run determines, by its catalog name.

    ``Delta`` :math:`=f(x_0)-f^\\star`, ``D0`` :math:`=\\|x_0-x^\\star\\|`, ``L``, ``mu``, ``T`` (steps),
    ``k`` :math:`=T+1` (C5 counts iterates from :math:`w_1=x_0`), ``b``, ``K``, ``eta``, ``gamma``
    (:math:`\\eta` when tied), ``rho``, ``beta`` (momentum), ``d``, ``sigma2`` (0 for exact
    gradients), ``sigma_Z2`` :math:`=\\mathbb E\\|Z\\|^2` and ``delta2`` :math:`=\\mathbb E\\|\\delta_t\\|^2`
    where the method fixes it (noise injection :math:`\\gamma^2\\mathbb E\\|Z\\|^2`, SAM :math:`\\rho^2`,
    SGD 0).
    """
    p, m = ctx.problem, ctx.method
    h, cfg = m.hyper, m.config
    x0 = np.asarray(ctx.x0, dtype=np.float64)
    x_star = np.asarray(p.minima[0].x, dtype=np.float64)
    if len(p.minima) > 1:  # nearest known minimum
        xs = np.stack([np.asarray(mm.x) for mm in p.minima])
        x_star = xs[np.argmin(np.linalg.norm(xs - x0, axis=1))]
    eta = _scalar(h.lr.base)
    gamma = eta if h.extrap_lr is None else _scalar(h.extrap_lr.base)
    d = int(p.dim)
    out = {
        "Delta": float(p.value(x0)) - float(p.f_star), "D0": float(np.linalg.norm(x0 - x_star)),
        "L": float(p.L), "mu": float(p.mu), "T": float(ctx.steps), "k": float(ctx.steps + 1),
        "b": _scalar(h.batch), "K": _scalar(h.workers), "eta": eta, "gamma": gamma, "rho": _scalar(h.rho),
        "beta": _scalar(h.momentum), "d": float(d), "sigma2": 0.0 if cfg.exact else float(p.sigma2),
    }
    law = cfg.direction
    if law in xtrap.NOISE_LAWS:
        out["sigma_Z2"] = noise_moment(law, d)
        out["delta2"] = gamma**2 * out["sigma_Z2"]
    elif law == "sam":
        out["delta2"] = out["rho"] ** 2
    elif law == "none":
        out["delta2"] = 0.0
    return out
