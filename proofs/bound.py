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
        return f"{sp.sstr(self.lhs)} {self.relation} {sp.sstr(self.rhs)}"


def _number(expr: Any, values: dict[str, float]) -> float:
    e = sp.sympify(expr)
    return float(e.subs({s: values[s.name] for s in e.free_symbols if s.name in values}).evalf())


@dataclass(frozen=True)
class Bound:
    """``quantity relation expr`` under ``conditions``.

    Attributes:
        name: the theorem's name (e.g. ``"D1"``).
        quantity: what is bounded, in words (e.g. ``"(1/T) sum_t E||grad f(x_t)||^2"``).
        expr: the sympy right-hand side.
        relation: ``"<="`` (upper bound), ``">="`` (lower bound) or ``"=="`` (exact value).
        conditions: the assumptions, checked by :meth:`evaluate`.
        status: ``"exact"``, ``"derived"`` or ``"cited"``.
        references: sources.
    """

    name: str
    quantity: str
    expr: Any
    relation: str = "<="
    conditions: tuple[Condition, ...] = ()
    status: str = "derived"
    references: tuple[str, ...] = ()
    _fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the symbols the bound and its conditions need."""
        syms = set(sp.sympify(self.expr).free_symbols)
        for c in self.conditions:
            syms |= set(sp.sympify(c.lhs).free_symbols) | set(sp.sympify(c.rhs).free_symbols)
        return tuple(sorted(s.name for s in syms))

    def check(self, **values: float) -> None:
        """Raise :class:`AssumptionError` unless every condition holds at ``values``."""
        missing = [p for p in self.parameters if p not in values]
        if missing:
            raise AssumptionError(f"bound {self.name} needs {', '.join(missing)}; got {', '.join(sorted(values))}")
        for name, v in values.items():
            if not math.isfinite(float(v)):
                raise AssumptionError(f"bound {self.name}: {name} must be finite, got {v!r}")
        for c in self.conditions:
            ok, lv, rv = c.holds(values)
            if not ok:
                raise AssumptionError(
                    f"bound {self.name}: {c.name} {c.text()} violated: "
                    f"{sp.sstr(c.lhs)}={lv:.6g} {_FLIP[c.relation]} {sp.sstr(c.rhs)}={rv:.6g}")

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
        return float(fn(**values))

    def statement(self) -> str:
        """``quantity relation expr`` as text."""
        return f"{self.quantity} {self.relation} {sp.sstr(self.expr)}"
