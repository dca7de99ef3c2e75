"""Hypothesis strategies for the parameters of a catalog theorem: admissible ones, and ones that break one condition.

* :func:`admissible` draws values for every symbol of a catalog bound that satisfy all its
  :class:`proofs.Condition` objects, read from the bound (never re-typed);
* :func:`inadmissible` violates exactly one named condition, for testing refusals.

>>> import proofs
>>> from hypothesis import given
>>> @given(admissible("D1"))
... def test_d1_is_finite(v):
...     assert proofs.catalog()["D1"].bound.evaluate(**v) > 0
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import sympy as sp
from hypothesis import strategies as st

import proofs
from problems import ParameterError

# ---- admissible parameters of a theorem -------------------------------------------------------------------

INTEGER_SYMBOLS = frozenset({"T", "b", "K", "n", "B", "k", "t", "d"})  # counts in the catalog's notation
STEP_ORDER = ("beta", "rho", "gamma", "eta", "k0")  # drawn last (in the best order), after the constants
SYMBOL_DEFAULTS: dict[str, tuple[float, float]] = {
    "T": (1, 200), "b": (1, 64), "K": (1, 8), "n": (2, 200), "B": (1, 200), "k": (1, 200), "t": (0, 200),
    "d": (1, 50), "beta": (0.0, 0.95), "eta": (0.0, 1.0), "gamma": (0.0, 1.0), "rho": (0.0, 0.5), "k0": (1.0, 100.0),
}
POSITIVE_DEFAULT = (0.01, 10.0)  # any other positive constant (L, mu, sigma2, Delta, lambda, ...)


def _bound(theorem_name: str) -> proofs.Bound:
    cat = proofs.catalog()
    if not isinstance(theorem_name, str) or theorem_name not in cat:
        raise ParameterError(f"theorem_name must be a catalog theorem (proofs.catalog()); got {theorem_name!r}")
    b = cat[theorem_name].bound
    if b is None:
        raise ParameterError(f"theorem {theorem_name!r} exports no Bound (status {cat[theorem_name].status}); "
                             "admissible() needs one with conditions to read")
    return b


def _solved(conditions: tuple[proofs.Condition, ...], syms: dict[str, Any], order: tuple[str, ...]
            ) -> dict[str, list[tuple[Any, Any, int, int]]]:
    """For each symbol, the conditions solved for it in this draw order: each condition goes to the latest-drawn
    symbol it involves, if it is linear in that one (``A s + C``) or a pure square (``A s^2 + C``, as in
    ``r**2 < 1``: solved on the symbol's positive window); otherwise it is only filtered. Entries are
    ``(A, C, power, index)`` as sympy expressions."""
    out: dict[str, list[tuple[Any, Any, int, int]]] = {n: [] for n in order}
    for i, c in enumerate(conditions):
        f = sp.expand(sp.sympify(c.lhs) - sp.sympify(c.rhs))
        for n in reversed(order):
            if f.has(syms[n]):
                poly = sp.Poly(f, syms[n]) if f.is_polynomial(syms[n]) else None
                if poly is not None and poly.degree() == 1:
                    out[n].append((poly.coeff_monomial(syms[n]), poly.coeff_monomial(1), 1, i))
                elif poly is not None and poly.degree() == 2 and poly.coeff_monomial(syms[n]) == 0:
                    out[n].append((poly.coeff_monomial(syms[n] ** 2), poly.coeff_monomial(1), 2, i))
                break
    return out


def _score(conditions: tuple[proofs.Condition, ...], solved: dict[str, list[tuple[Any, Any, int, int]]]) -> int:
    """Conditions drawn directly: an equality fixes its symbol, so the symbol's other conditions are filtered."""
    total = 0
    for rules in solved.values():
        eq = [i for *_, i in rules if conditions[i].relation == "=="]
        total += 1 if eq else len(rules)
    return total


@lru_cache(maxsize=None)
def _plan(theorem_name: str) -> tuple[tuple[str, ...], dict[str, list[tuple[Any, Any, str, int, int]]], dict[str, Any]]:
    """Draw order, and for each symbol the conditions it is solved from: ``(A, C, relation, index)`` with the
    condition :math:`A\\,s + C \\;\\mathrm{rel}\\; 0` linear in ``s`` and ``A``, ``C`` free of later symbols.
    Counts, then constants, then the step sizes in the order (of all orders of them) that solves the most
    conditions directly (``gamma == eta`` with ``eta <= 1/(4L)``: ``eta`` first)."""
    import itertools

    b = _bound(theorem_name)
    syms = {s.name: s for s in sp.sympify(b.expr).free_symbols}
    for c in b.conditions:
        syms.update({s.name: s for s in (sp.sympify(c.lhs) - sp.sympify(c.rhs)).free_symbols})
    names = sorted(syms)
    head = ([n for n in names if n not in STEP_ORDER and n in INTEGER_SYMBOLS]
            + [n for n in names if n not in STEP_ORDER and n not in INTEGER_SYMBOLS])
    steps = [n for n in STEP_ORDER if n in syms]
    best: tuple[int, tuple[str, ...], dict[str, list[tuple[Any, Any, int, int]]]] | None = None
    for perm in itertools.permutations(steps):
        order = tuple(head) + perm
        solved = _solved(b.conditions, syms, order)
        score = _score(b.conditions, solved)
        if best is None or score > best[0]:
            best = (score, order, solved)
    assert best is not None
    _, order, solved = best
    args = [syms[n] for n in order]  # the argument order of every compiled coefficient
    solve = {n: [(sp.lambdify(args, a, "math"), sp.lambdify(args, c0, "math"), b.conditions[i].relation, i, power)
                 for a, c0, power, i in rules] for n, rules in solved.items()}
    return order, solve, {n: syms[n] for n in order}


_NEGATE = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}


def _interval(name: str, sym: Any, values: dict[str, float], rules: list[Any], skip: int | None,
              args: list[Any], window: tuple[float, float] | None = None
              ) -> tuple[float, float, bool, bool, float | None]:
    """The interval the conditions leave for ``name`` given the symbols drawn so far: (lo, hi, lo_open,
    hi_open, forced value of an equality). The condition numbered ``skip`` is replaced by its negation.
    ``window`` is the user's range for the symbol (never widened); otherwise the default window."""
    lo, hi = window if window is not None else SYMBOL_DEFAULTS.get(name, POSITIVE_DEFAULT)
    lo_open = hi_open = False
    if sym.is_positive and lo <= 0 < hi:  # the derivation's declared sign: (0, hi], whatever the window
        lo, lo_open = 0.0, True
    elif window is None and not sym.is_nonnegative and name == "beta":
        lo = -0.95
    default_hi = hi
    cond_hi, cond_lo = math.inf, -math.inf  # the tightest ends the conditions themselves set
    forced = None
    point = [values.get(s, 1.0) for s in args]
    for a_fn, c_fn, rel, idx, power in rules:
        if idx == skip:  # the condition to violate: draw from its complement
            if rel == "==":
                continue
            rel = _NEGATE[rel]
        a, c0 = float(a_fn(*point)), float(c_fn(*point))
        if a == 0 or not (math.isfinite(a) and math.isfinite(c0)):
            continue
        root = -c0 / a
        if power == 2:  # s^2 rel root: on a positive window, s rel sqrt(root)
            if root < 0 or lo < 0:
                continue
            root = math.sqrt(root)
        rel = rel if a > 0 else {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}[rel]
        if rel == "==":
            forced = root
        elif rel in ("<=", "<"):
            # a strict end moves inwards by 1e-9 (relative), so round-off in the condition's own evaluation
            # cannot put a drawn end value on the wrong side (hypothesis draws interval ends often)
            if rel == "<" and root != 0.0:
                root -= 1e-9 * abs(root)
            cond_hi = min(cond_hi, root)
            if root <= hi:
                hi, hi_open = root, rel == "<" and root == 0.0
        else:
            if rel == ">" and root != 0.0:
                root += 1e-9 * abs(root)
            cond_lo = max(cond_lo, root)
            if root >= lo:
                lo, lo_open = root, rel == ">" and root == 0.0
    if window is not None:
        if lo > hi or (lo == hi and (lo_open or hi_open)):
            raise _Infeasible(name)
        return lo, hi, lo_open, hi_open, forced
    if lo >= hi and cond_hi > lo:  # a lower bound above the default window: widen the window upwards (as far
        # as the conditions allow)
        hi, hi_open = min(cond_hi, max(4.0 * lo, lo + default_hi)), False
    elif lo >= hi and cond_lo < hi:  # an upper bound below the window: widen downwards, to the conditions' own
        # lower end (``B >= 1`` broken under ``B > 0``: B in (0, 1)), else keeping the symbol's declared sign
        # (positive=True in the derivation) unless violating a condition asks for it
        if cond_lo > -math.inf:
            lo, lo_open = cond_lo, True
        else:
            if (sym.is_positive or sym.is_nonnegative) and hi <= 0 and skip not in [r[3] for r in rules]:
                raise _Infeasible(name)
            lo, lo_open = (1e-3 * hi if sym.is_positive and hi > 0 else hi - max(1.0, abs(hi))), False
    return lo, hi, lo_open, hi_open, forced


class _Draws:
    """Where values come from: hypothesis (the strategies) or a seeded NumPy generator (the feasibility probe,
    which like hypothesis often takes an end of the interval: a quarter of draws each end, when closed)."""

    def __init__(self, draw: st.DrawFn | None = None, rng: np.random.Generator | None = None) -> None:
        self.draw, self.rng = draw, rng

    def _end(self, lo: float, hi: float, lo_open: bool, hi_open: bool) -> float | None:
        u = self.rng.uniform()
        return lo if u < 0.25 and not lo_open else hi if u > 0.75 and not hi_open else None

    def integer(self, a: int, z: int) -> int:
        if self.draw is not None:
            return self.draw(st.integers(a, z))
        end = self._end(a, z, False, False)
        return int(end) if end is not None else int(self.rng.integers(a, z + 1))

    def real(self, lo: float, hi: float, lo_open: bool, hi_open: bool) -> float:
        if self.draw is None:
            end = self._end(lo, hi, lo_open, hi_open)
            return end if end is not None else float(self.rng.uniform(lo, hi))
        return self.draw(st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False,
                                   allow_infinity=False, allow_subnormal=False))


def _draw_value(draws: _Draws, name: str, lo: float, hi: float, lo_open: bool, hi_open: bool,
                violating: bool = False) -> float:
    """A value in the interval; an integer for a count, unless only a fraction can violate the condition
    (``B >= 1`` with ``B > 0`` is violated by ``B = 0.5`` only)."""
    if name in INTEGER_SYMBOLS:
        a, z = math.ceil(lo + (1e-12 if lo_open else 0.0)), math.floor(hi - (1e-12 if hi_open else 0.0))
        if a <= z:
            return float(draws.integer(a, z))
        if not violating:
            raise _Infeasible(name)
    if lo == 0.0 and lo_open and hi > 0:  # (0, hi]: from 1e-3 hi, so no step is a subnormal or useless
        lo, lo_open = 1e-3 * hi, False
    if lo == hi and not (lo_open or hi_open):
        return lo
    if not lo < hi:
        raise _Infeasible(name)
    return draws.real(lo, hi, lo_open, hi_open)


class _Infeasible(Exception):
    pass


def _problem_values(problem: Any) -> dict[str, float]:
    """The bound symbols a problem fixes: L, mu, sigma2, d, n and, from its default start, Delta and D0."""
    from analysis.checks import RunInfo, run_parameters

    from ..methods import sgd

    run = run_parameters(RunInfo.of_setup(problem, sgd(), steps=1))
    out = {k: run[k] for k in ("L", "mu", "sigma2", "d", "Delta", "D0") if k in run}
    if getattr(problem, "n", None) is not None:
        out["n"] = float(problem.n)
    return out


def _real(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v)


def _fixed_values(theorem_name: str, bound: proofs.Bound, problem: Any, fixed: Mapping[str, Any]
                  ) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The user's fixed values (a problem's constants, overridden by ``fixed``) and ranges, validated."""
    known = set(bound.parameters)
    windows: dict[str, tuple[float, float]] = {}
    for k, v in fixed.items():
        if k not in known:
            raise ParameterError(f"admissible({theorem_name!r}): {k!r} is not a parameter of the bound; its "
                                 f"parameters are {', '.join(bound.parameters)}")
        if isinstance(v, tuple):
            if len(v) != 2 or not all(_real(e) for e in v) or v[0] > v[1]:
                raise ParameterError(f"{k} range must be a (low, high) tuple of finite reals with low <= high; "
                                     f"got {v!r}")
            windows[k] = (float(v[0]), float(v[1]))
        elif not _real(v):
            raise ParameterError(f"{k} must be a finite real number or a (low, high) tuple; got {v!r}")
    out = {k: v for k, v in (_problem_values(problem) if problem is not None else {}).items()
           if k in known and k not in windows}
    out.update({k: float(v) for k, v in fixed.items() if k not in windows})
    return out, windows


def _ok(bound: proofs.Bound, values: dict[str, float], skip: int | None = None) -> bool:
    return all(c.holds(values)[0] for i, c in enumerate(bound.conditions) if i != skip)


def _fill(draws: _Draws, theorem_name: str, fixed: dict[str, float], violate: int | None,
          windows: Mapping[str, tuple[float, float]]) -> dict[str, float] | None:
    """One draw of every symbol in plan order, or None when the conditions leave a symbol nothing (or the
    filtered conditions, or the violation asked for, do not come out as wanted)."""
    bound = _bound(theorem_name)
    order, solve, syms = _plan(theorem_name)
    args = list(order)
    values = dict(fixed)
    try:
        for name in order:
            if name in values:
                continue
            lo, hi, lo_open, hi_open, forced = _interval(name, syms[name], values, solve[name], violate, args,
                                                         windows.get(name))
            violating = any(rule[3] == violate for rule in solve[name])
            values[name] = forced if forced is not None else _draw_value(draws, name, lo, hi, lo_open, hi_open,
                                                                         violating)
    except _Infeasible:
        return None
    if not _ok(bound, values, violate):
        return None
    if violate is not None and bound.conditions[violate].holds(values)[0]:
        return None
    return values


PROBE_TRIES = 256  # seeded draws that decide whether a condition can be violated alone


@lru_cache(maxsize=None)
def _violable_alone(theorem_name: str, index: int) -> bool:
    """Whether some values break condition ``index`` while every other condition holds, found by
    :data:`PROBE_TRIES` seeded NumPy draws of the same plan (D3's ``eta <= 1/L`` cannot be: its PEG condition
    :math:`L^2\\gamma^2\\le 1-L\\eta` implies it)."""
    draws = _Draws(rng=np.random.default_rng(index))
    return any(_fill(draws, theorem_name, {}, index, {}) is not None for _ in range(PROBE_TRIES))


@st.composite
def _admissible(draw: st.DrawFn, theorem_name: str, fixed: dict[str, float], violate: int | None,
                windows: Mapping[str, tuple[float, float]] | None = None) -> dict[str, float]:
    from hypothesis import assume

    bound = _bound(theorem_name)
    values = _fill(_Draws(draw=draw), theorem_name, fixed, violate, windows or {})
    assume(values is not None)
    assert values is not None
    return {k: (int(values[k]) if k in INTEGER_SYMBOLS and float(values[k]).is_integer() else float(values[k]))
            for k in bound.parameters}


def admissible(theorem_name: str, problem: Any = None, **fixed: float | tuple[float, float]
               ) -> st.SearchStrategy[dict[str, float]]:
    """Values of every parameter of the catalog bound ``theorem_name`` that satisfy all its conditions.

    The draw is keyed by ``Bound.parameters``, so ``bound.evaluate(**draw)`` and ``bound.check(**draw)`` apply
    directly. Symbols are drawn in order (counts, then constants, then the step sizes ``beta, rho, gamma, eta,
    k0`` in whichever order solves the most conditions); each condition that is linear in the latest-drawn symbol it involves, :math:`A s + C\\;\\mathrm{rel}\\;0`,
    is solved for that symbol (``eta <= 1/L`` gives :math:`\\eta\\in(0, 1/L]`; ``gamma == eta`` sets
    :math:`\\gamma=\\eta`), so admissible values are drawn directly rather than by rejection; anything left
    is filtered. Counts (``T, b, K, n, B, k, t, d``) are integers; a positive symbol bounded only above,
    :math:`(0, h]`, is drawn from :math:`[10^{-3}h, h]` (no subnormal or vanishing steps). Defaults: counts in small ranges, steps in
    :math:`(0, 1]`, other positive constants in :math:`[0.01, 10]`.

    Args:
        theorem_name: a catalog theorem with a bound (``proofs.catalog()``).
        problem: a problem whose constants fix ``L, mu, sigma2, d, n, Delta, D0`` (from its default ``x0``).
        **fixed: for any parameter of the bound, a value (it overrides the problem's) or a ``(low, high)`` range
            that replaces the default window; the conditions then cut it further (``K=(1, 6)`` with a count
            draws integers in [1, 6]). A range the conditions leave empty rejects every example.

    Raises:
        ParameterError: an unknown theorem, one without a bound, a fixed name that is not a parameter, or a
            value that is neither a finite real nor a ``(low, high)`` tuple.

    >>> from hypothesis import given
    >>> @given(admissible("C2", L=2.0))
    ... def test_step(v):
    ...     assert 0 < v["eta"] <= 1 / 2.0
    """
    bound = _bound(theorem_name)
    values, windows = _fixed_values(theorem_name, bound, problem, fixed)
    return _admissible(theorem_name, values, None, windows)


def inadmissible(theorem_name: str, condition: str | None = None) -> st.SearchStrategy[tuple[str, dict[str, float]]]:
    """``(condition name, values)`` where ``values`` violates exactly that one condition of the bound.

    All other conditions hold, so ``bound.check(**values)`` must raise :class:`proofs.AssumptionError` naming
    the condition (the test of a refusal). ``condition`` picks one by name; default: any of them. A condition
    implied by the others cannot be violated alone (D3's ``eta <= 1/L`` follows from its PEG condition
    :math:`L^2\\gamma^2\\le 1-L\\eta`): such conditions are found when the strategy is built
    (:data:`PROBE_TRIES` seeded draws find no violation) and left out of the default; naming one is an error.

    Raises:
        ParameterError: an unknown theorem, a bound without conditions, an unknown condition name, or a
            condition that cannot be violated while the others hold.

    >>> import pytest
    >>> from hypothesis import given
    >>> @given(inadmissible("C2"))
    ... def test_refused(case):
    ...     name, v = case
    ...     with pytest.raises(proofs.AssumptionError, match=name):
    ...         proofs.catalog()["C2"].bound.check(**v)
    """
    bound = _bound(theorem_name)
    if not bound.conditions:
        raise ParameterError(f"bound {theorem_name} has no conditions to violate")
    names = [c.name for c in bound.conditions]
    if condition is not None and condition not in names:
        raise ParameterError(f"condition must be one of {', '.join(repr(n) for n in names)}; got {condition!r}")
    picks = [i for i, c in enumerate(bound.conditions)
             if (condition is None or c.name == condition) and _violable_alone(theorem_name, i)]
    if not picks:
        which = f"condition {condition!r}" if condition is not None else "no condition"
        raise ParameterError(f"inadmissible({theorem_name!r}): {which} can be violated while the others hold "
                             f"(none of {PROBE_TRIES} seeded draws did): it follows from the other conditions")
    return st.sampled_from(picks).flatmap(
        lambda i: _admissible(theorem_name, {}, i).map(lambda v, i=i: (bound.conditions[i].name, v)))


__all__ = ["admissible", "inadmissible"]
