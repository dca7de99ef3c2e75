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

from ..checks.runs import RunInfo, noise_moment, run_parameters

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


def standard_params(ctx: Ctx) -> dict[str, float]:
    """Every bound symbol that the run of ``ctx`` determines, by its catalog name, before it runs.

    :func:`analysis.checks.runs.run_parameters` of the problem, method, horizon and start of ``ctx``: the same
    function reads the parameters back from a finished run, so a declared check and ``analysis.check`` agree.
    """
    return run_parameters(RunInfo.of_setup(ctx.problem, ctx.method, steps=ctx.steps, x0=ctx.x0))
