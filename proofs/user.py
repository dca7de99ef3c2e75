"""Bounds of one's own: a :class:`~proofs.Bound` from an expression, the quantity it bounds and named conditions.

:func:`make_bound` takes text or sympy and returns an ordinary :class:`~proofs.Bound` with a
:class:`~proofs.RunScope`, so ``analysis.check``, ``xtrap.testing.assert_obeys`` and ``xtrap check`` hold runs
against it exactly as against a catalog entry: its symbols are read from the run by their catalog names
(``T``, ``b``, ``K``, ``eta``, ``gamma``, ``rho``, ``beta``, ``L``, ``mu``, ``sigma2``, ``d``, ``Delta``, ``D0``;
``analysis.checks.run_parameters``), any other symbol must be given when checking, and its conditions are
checked before any data is compared. Its status is ``"user"``: stated by the user and not verified here (build
a :class:`~proofs.Theorem` with a chain and call :func:`proofs.verify` for that).

>>> b = make_bound("my-sgd", "2*Delta/(eta*T) + L*eta*sigma2/b", measures="avg_grad_norm2",
...                conditions={"step condition": "eta <= 1/L"})
>>> b.parameters, b.status
(('Delta', 'L', 'T', 'b', 'eta', 'sigma2'), 'user')
>>> round(b.evaluate(Delta=1.0, eta=0.1, T=100, L=2.0, sigma2=1.0, b=4), 6)
0.25
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import sympy as sp

from .bound import _QUANTITIES, Bound, Condition, RunScope

_RELATION = re.compile(r"(<=|>=|==|<|>)")


_FUNCTIONS = {"sqrt", "log", "exp", "Min", "Max", "Abs", "sin", "cos", "tan", "atan", "pi", "floor", "ceiling"}


def _expr(text: Any, what: str) -> sp.Expr:
    """Text or sympy as a sympy expression. In text every name but a few functions (``sqrt``, ``log``, ``exp``,
    ``Min``, ``Max``, ``Abs``, ...) is a positive symbol (steps, constants, counts), so sympy's own one-letter
    names (``E``, ``N``, ``S``, ``I``) mean the user's symbols, not Euler's number or the imaginary unit."""
    if isinstance(text, str):
        names = {n: sp.Symbol(n, positive=True) for n in re.findall(r"[A-Za-z_]\w*", text) if n not in _FUNCTIONS}
        try:
            e = sp.sympify(text, locals=names)
        except (sp.SympifyError, SyntaxError, TypeError, AttributeError) as err:
            why = " ".join(str(err).split())[:120]
            raise ValueError(f"{what} must be an expression in the bound's symbols; could not parse {text!r} "
                             f"({type(err).__name__}: {why})") from None
    else:
        try:
            e = sp.sympify(text)
        except (sp.SympifyError, TypeError) as err:
            raise ValueError(f"{what} must be a sympy expression or text; got {text!r} ({err})") from None
    if not isinstance(e, sp.Expr):
        raise ValueError(f"{what} must be an expression; got {text!r}")
    return e


def _condition(name: str, spec: Any) -> Condition:
    if isinstance(spec, Condition):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"condition {name!r} must be text such as 'eta <= 1/L' or a proofs.Condition; got {spec!r}")
    parts = _RELATION.split(spec)
    if len(parts) != 3:
        raise ValueError(f"condition {name!r} must be 'lhs REL rhs' with one of <=, <, >=, >, ==; got {spec!r}")
    lhs, rel, rhs = parts
    return Condition(name, _expr(lhs.strip(), f"condition {name!r}"), rel, _expr(rhs.strip(), f"condition {name!r}"))


def make_bound(name: str, expr: Any, *, measures: str, relation: str = "<=",
               conditions: Mapping[str, Any] | Sequence[Condition] = (), quantity: str | None = None,
               directions: Sequence[str] = ("none",), bases: Sequence[str] = ("sgd",), batch: str = "any",
               workers: str = "one", gradients: str = "any", steps: str = "constant",
               references: Sequence[str] = ()) -> Bound:
    """A user's bound ``quantity relation expr`` under named conditions, for runs of the given structure.

    Text is parsed with sympy, every symbol taken positive (so a negative step is refused at evaluation, as
    for catalog bounds); pass sympy expressions to choose assumptions yourself.

    Args:
        name: a short name for reports (``"my-D1"``).
        expr: the right-hand side, in the catalog's symbol names (``"2*Delta/(eta*T)"``).
        measures: the recorded quantity it bounds: ``avg_grad_norm2`` (:math:`\\frac1T\\sum_{t<T}\\|\\nabla
            f(x_t)\\|^2`), ``grad_norm2``, ``loss_gap`` (:math:`f(x_T)-f^\\star`), ``avg_loss_gap``, ``dist``,
            ``dist2`` (of the final iterate).
        relation: ``"<="`` (upper bound, default), ``">="`` or ``"=="``.
        conditions: ``{name: "eta <= 1/L"}`` (or :class:`~proofs.Condition` objects); checked before comparing.
        quantity: the bounded quantity in words (default: from ``measures``).
        directions, bases, batch, workers, gradients, steps: the runs it speaks about (:class:`~proofs.RunScope`;
            a run outside them is refused, naming the assumption).
        references: where it comes from.

    Raises:
        ValueError: text that does not parse, an unknown relation or quantity, or a scope value out of range
            (the message names which).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    if measures not in _QUANTITIES:
        raise ValueError(f"measures must be one of {', '.join(_QUANTITIES)}; got {measures!r}")
    for arg, value in (("directions", directions), ("bases", bases), ("references", references)):
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{arg} must be a tuple of names, e.g. ('local',); got {value!r}")
    if not isinstance(conditions, Mapping) and not all(isinstance(c, Condition) for c in conditions):
        raise ValueError("conditions must be a mapping {name: 'lhs REL rhs'} or a sequence of proofs.Condition; got "
                         f"{conditions!r}")
    items = conditions.items() if isinstance(conditions, Mapping) else ((c.name, c) for c in conditions)
    conds = tuple(_condition(str(k), v) for k, v in items)
    scope = RunScope(kind="run", measures=measures, directions=tuple(directions), bases=tuple(bases), batch=batch,
                     workers=workers, gradients=gradients, steps=steps)
    return Bound(name=name, quantity=quantity or measures, expr=_expr(expr, "expr"), relation=relation,
                 conditions=conds, status="user", references=tuple(references), scope=scope)
