"""Bounds exported by verified theorems, with assumptions checked at evaluation.

A :class:`Bound` holds a sympy statement ``quantity <relation> expr``, the named assumptions under
which it was proved, its status and references, and a compiled numeric evaluator. Evaluating
it at parameters that violate an assumption raises :class:`AssumptionError` naming the condition
and the values, e.g. ``step condition eta <= 1/L violated: eta=0.3 > 1/L=0.25``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp

_FLIP = {"<=": ">", "<": ">=", ">=": "<", ">": "<=", "==": "!="}


class AssumptionError(ValueError):
    """A bound was evaluated outside its assumptions (the message names the condition and the values)."""


@dataclass(frozen=True)
class Condition:
    """A named assumption ``lhs <relation> rhs`` on the bound's symbols."""

    name: str
    lhs: Any
    relation: str
    rhs: Any

    def holds(self, values: dict[str, float], rtol: float = 1e-12) -> tuple[bool, float, float]:
        """Evaluate both sides numerically; equality-type relations allow ``rtol`` of round-off."""
        lv, rv = _number(self.lhs, values), _number(self.rhs, values)
        tol = rtol * max(1.0, abs(lv), abs(rv))
        ok = {"<=": lv <= rv + tol, "<": lv < rv, ">=": lv >= rv - tol, ">": lv > rv,
              "==": abs(lv - rv) <= tol}[self.relation]
        return ok, lv, rv

    def text(self) -> str:
        """``lhs relation rhs`` with terms in the order they were written (``1 - L*gamma``, not ``-L*gamma + 1``)."""
        return f"{_show(self.lhs)} {self.relation} {_show(self.rhs)}"

    def violation(self, values: dict[str, float]) -> str:
        """One readable line saying how the condition fails at ``values``.

        ``step condition eta <= 1/L violated: eta=0.3 > 1/L=0.25 (at L=4)``. A side that is a number is
        shown as the number; a compound side is followed by the inputs it was evaluated at. A name that
        already states its relation (``same-batch condition c > 0``) is not followed by the formula again.
        """
        _, lv, rv = self.holds(values)
        lhs, rhs = sp.sympify(self.lhs), sp.sympify(self.rhs)
        head = self.name if any(op in self.name.split() for op in _FLIP) else f"{self.name} {self.text()}"

        def side(expr: sp.Basic, value: float) -> str:
            return f"{value:.6g}" if expr.is_number else f"{_show(expr)}={value:.6g}"

        line = f"{head} violated: {side(lhs, lv)} {_FLIP[self.relation]} {side(rhs, rv)}"
        inputs = sorted({q.name for e in (lhs, rhs) if not (e.is_number or e.is_Symbol) for q in e.free_symbols})
        return line + (f" (at {', '.join(f'{q}={values[q]:.6g}' for q in inputs)})" if inputs else "")


def _show(expr: Any) -> str:
    return sp.sstr(sp.sympify(expr), order="none")


def _number(expr: Any, values: dict[str, float]) -> float:
    e = sp.sympify(expr)
    return float(e.subs({s: values[s.name] for s in e.free_symbols if s.name in values}).evalf())


_KINDS = {
    "run": "a bound on a quantity of one run",
    "witness": "an exact value at a witness instance",
    "stationary": "a stationary limit",
    "per_direction": "a value along one eigen-direction",
    "threshold": "a stability threshold",
    "symbolic": "a symbolic identity",
}
_STATUSES = ("exact", "derived", "cited", "user")
_QUANTITIES = ("avg_grad_norm2", "grad_norm2", "loss_gap", "avg_loss_gap", "dist", "dist2")


@dataclass(frozen=True)
class RunScope:
    """Which runs a bound is a statement about (what ``analysis.check`` holds it against, and refuses).

    Attributes:
        kind: ``"run"`` (bounds a recorded quantity of every run in the scope, at that run's parameters);
            ``"witness"`` (an exact value at one instance), ``"stationary"`` (a limit as t -> infinity),
            ``"per_direction"`` (along one eigen-direction of a quadratic), ``"threshold"`` (a stability
            threshold) and ``"symbolic"`` (no run at all) are checked by ``xtrap verify`` and ``xtrap proofs``.
        measures: for ``"run"``: the recorded quantity bounded (``avg_grad_norm2`` =
            :math:`\\frac1T\\sum_{t<T}\\|\\nabla f(x_t)\\|^2`, ``grad_norm2``, ``loss_gap`` = :math:`f(x_T)-f^\\star`,
            ``avg_loss_gap``, ``dist`` = :math:`\\|x_T-x^\\star\\|`, ``dist2``), or ``None`` when runs do not
            record it (``note`` says what it is).
        directions: the direction rules the proof covers (the framework's names: ``none``, ``local``, ...).
        bases: the base updates it covers (``sgd``, ``heavy_ball``, ``nesterov``).
        batch: ``"fresh"`` (update batch independent of the extrapolation batch), ``"same"`` or ``"any"``.
        workers: ``"one"`` (a run of K workers without per-worker perturbation, SGD or global extrapolation,
            is one stream with batch Kb and is held against it as such) or ``"any"`` (the bound has K).
        gradients: ``"exact"``, ``"stochastic"`` or ``"any"``.
        steps: ``"constant"`` or ``"inverse_time"`` (:math:`\\eta_t=\\beta/(t+k_0)`).
        siblings: ``(key, theorem)`` pairs: the theorem that covers a run breaking the assumption ``key``
            (``"workers"``, ``"same_batch"``, ``"fresh_batch"``, ``"stochastic"``, ``"direction=NAME"``).
        note: why a non-run kind, or an unrecorded quantity, cannot be held against one run.
    """

    kind: str
    measures: str | None = None
    directions: tuple[str, ...] = ()
    bases: tuple[str, ...] = ("sgd",)
    batch: str = "any"
    workers: str = "one"
    gradients: str = "any"
    steps: str = "constant"
    siblings: tuple[tuple[str, str], ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        for name, value, allowed in (("kind", self.kind, tuple(_KINDS)), ("batch", self.batch, ("fresh", "same", "any")),
                                     ("workers", self.workers, ("one", "any")),
                                     ("gradients", self.gradients, ("exact", "stochastic", "any")),
                                     ("steps", self.steps, ("constant", "inverse_time"))):
            if value not in allowed:
                raise ValueError(f"RunScope {name} must be one of {', '.join(allowed)}; got {value!r}")
        if self.measures is not None and self.measures not in _QUANTITIES:
            raise ValueError(f"RunScope measures must be one of {', '.join(_QUANTITIES)}; got {self.measures!r}")
        if self.kind == "run" and not self.directions:
            raise ValueError("a RunScope of kind 'run' must name the direction rules it covers")

    @property
    def description(self) -> str:
        """The kind in words (e.g. ``"a stability threshold"``)."""
        return _KINDS[self.kind]


@dataclass(frozen=True)
class Bound:
    """``quantity relation expr`` under ``conditions``.

    Attributes:
        name: the theorem's name (e.g. ``"D1"``).
        quantity: what is bounded, in words (e.g. ``"(1/T) sum_t E||grad f(x_t)||^2"``).
        expr: the sympy right-hand side.
        relation: ``"<="`` (upper bound), ``">="`` (lower bound) or ``"=="`` (exact value).
        conditions: the assumptions, checked by :meth:`evaluate`.
        status: ``"exact"``, ``"derived"``, ``"cited"`` or ``"user"`` (a user's own, not verified here).
        references: sources.
        scope: the runs it is a statement about (:class:`RunScope`); ``None``: not declared, so no run is
            held against it.
    """

    name: str
    quantity: str
    expr: Any
    relation: str = "<="
    conditions: tuple[Condition, ...] = ()
    status: str = "derived"
    references: tuple[str, ...] = ()
    scope: RunScope | None = None
    _fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.relation not in ("<=", ">=", "=="):
            raise ValueError(f"Bound {self.name}: relation must be '<=', '>=' or '=='; got {self.relation!r}")
        if self.status not in _STATUSES:
            raise ValueError(f"Bound {self.name}: status must be one of {', '.join(_STATUSES)}; got {self.status!r}")
        for c in self.conditions:
            if not isinstance(c, Condition) or c.relation not in ("<=", "<", ">=", ">", "=="):
                raise ValueError(f"Bound {self.name}: conditions must be proofs.Condition objects with a relation "
                                 f"<=, <, >=, > or ==; got {c!r}")
        if self.scope is not None and not isinstance(self.scope, RunScope):
            raise ValueError(f"Bound {self.name}: scope must be a proofs.RunScope or None; got {self.scope!r}")

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the symbols the bound and its conditions need."""
        syms = set(sp.sympify(self.expr).free_symbols)
        for c in self.conditions:
            syms |= set(sp.sympify(c.lhs).free_symbols) | set(sp.sympify(c.rhs).free_symbols)
        return tuple(sorted(s.name for s in syms))

    @property
    def signed_symbols(self) -> tuple[str, ...]:
        """The parameters whose sympy symbols are declared positive or nonnegative (checked to be >= 0; a
        value 0, such as sigma2 of exact gradients, is the limit the derivation covers by continuity)."""
        syms = set(sp.sympify(self.expr).free_symbols)
        for c in self.conditions:
            syms |= set(sp.sympify(c.lhs).free_symbols) | set(sp.sympify(c.rhs).free_symbols)
        return tuple(sorted(s.name for s in syms if s.is_positive or s.is_nonnegative))

    def check(self, **values: float) -> None:
        """Raise :class:`AssumptionError` unless every condition holds at ``values``."""
        missing = [p for p in self.parameters if p not in values]
        if missing:
            raise AssumptionError(f"bound {self.name} needs {', '.join(missing)}; got {', '.join(sorted(values))}")
        for name, v in values.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
                raise AssumptionError(f"bound {self.name}: {name} must be a real number, got {v!r}")
            if not math.isfinite(float(v)):
                raise AssumptionError(f"bound {self.name}: {name} must be finite, got {v!r}")
        for c in self.conditions:
            ok, lv, rv = c.holds(values)
            if not ok:
                raise AssumptionError(f"bound {self.name}: {c.violation(values)}")
        for sym in self.signed_symbols:  # declared positive/nonnegative in the derivation: never negative
            if float(values[sym]) < 0:
                raise AssumptionError(f"bound {self.name}: {sym} must be >= 0 (the derivation's sign assumption), "
                                      f"got {values[sym]!r}")

    def evaluate(self, **values: float) -> float:
        """The bound's value at ``values`` (all parameters by name), after checking the conditions."""
        self.check(**values)
        fn = self._fn
        if fn is None:
            syms = sorted(sp.sympify(self.expr).free_symbols, key=lambda s: s.name)
            lam = sp.lambdify(syms, self.expr, "math")
            names = [s.name for s in syms]

            def fn(**kw: float) -> float:
                return lam(*[kw[n] for n in names])

            object.__setattr__(self, "_fn", fn)
        try:
            value = float(fn(**values))
        except (ZeroDivisionError, OverflowError, ValueError) as err:  # e.g. T = 0 in a 1/T term
            given = ", ".join(f"{k}={values[k]!r}" for k in self.parameters)
            raise AssumptionError(f"bound {self.name} is undefined at {given} ({err})") from None
        if math.isnan(value):
            given = ", ".join(f"{k}={values[k]!r}" for k in self.parameters)
            raise AssumptionError(f"bound {self.name} is undefined (NaN) at {given}")
        return value

    def statement(self) -> str:
        """``quantity relation expr`` as text."""
        return f"{self.quantity} {self.relation} {sp.sstr(self.expr)}"
