"""A small verification engine for derivations written as chains of checked steps (sympy only).

Each step is checked on its own, with exact arithmetic (rationals, never floats):

* :class:`Identity` -- ``lhs == rhs``, by simplification of ``lhs - rhs`` to 0.
* :class:`SlackCertificate` -- ``claim >= derived`` where ``derived`` was obtained from assumed
  inequalities written as equalities with nonnegative slacks :math:`s_k`: the gap
  ``claim - derived`` must be :math:`\\sum_k c_k s_k` with no slack-free remainder and every
  :math:`c_k \\ge 0` proved (THEORY.md §4.5.2).
* :class:`Nonnegative` -- ``expr >= 0`` (or ``> 0``) for every parameter in a :class:`Domain`,
  proved by :func:`prove_nonnegative`: sympy's sign assumptions, then *normalised variables*
  (each interval-constrained symbol is written as a rational image of a nonnegative symbol, after
  which a numerator and denominator with only nonnegative coefficients are nonnegative), then
  exact real-root isolation for one remaining variable. A failed proof is a failed step: a
  dense grid may supplement a proof in tests, never replace it.

A wrong claim must fail; the tests mutate claims to show that it does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

Expr = sp.Expr


@dataclass(frozen=True)
class Outcome:
    """The verdict on one step."""

    ok: bool
    step: str
    detail: str = ""


@dataclass(frozen=True)
class Interval:
    """``lo <(=) symbol <(=) hi``; ``lo``/``hi`` may be expressions in other positive symbols or ``None``."""

    symbol: sp.Symbol
    lo: Any = 0
    hi: Any = None
    lo_open: bool = False
    hi_open: bool = False

    def relational(self) -> list[sp.Basic]:
        out = []
        if self.lo is not None:
            out.append(sp.StrictGreaterThan(self.symbol, self.lo) if self.lo_open else sp.GreaterThan(self.symbol, self.lo))
        if self.hi is not None:
            out.append(sp.StrictLessThan(self.symbol, self.hi) if self.hi_open else sp.LessThan(self.symbol, self.hi))
        return out


@dataclass(frozen=True)
class Domain:
    """The parameter set: symbols constrained to intervals, the others by their sympy assumptions.

    Intervals are applied in order, so a bound of a later interval may use an earlier symbol.
    """

    intervals: tuple[Interval, ...] = ()

    def describe(self) -> str:
        rels = [r for iv in self.intervals for r in iv.relational() if r is not sp.true]
        return ", ".join(sp.sstr(r) for r in rels) or "all symbols by their sign assumptions"


def _sign_known_nonneg(e: Expr) -> bool:
    return bool(e.is_nonnegative) or bool(sp.simplify(e).is_nonnegative)


def _nonneg_coefficients(poly_expr: Expr) -> bool:
    """True if ``poly_expr`` expands to a polynomial in its (nonnegative) symbols with coefficients >= 0."""
    e = sp.expand(poly_expr)
    syms = sorted(e.free_symbols, key=str)
    if not syms:
        return bool(e.is_nonnegative)
    try:
        p = sp.Poly(e, *syms)
    except sp.PolynomialError:
        return False
    return all(c >= 0 for c in p.coeffs())


def _normalise(expr: Expr, domain: Domain) -> tuple[Expr, list[sp.Symbol]]:
    """Substitute each constrained symbol by a rational image of a fresh nonnegative symbol.

    ``[lo, hi]``: ``x = lo + (hi - lo) * u / (1 + u)``; ``[lo, inf)``: ``x = lo + u``;
    ``(-inf, hi]``: ``x = hi - u``; ``u >= 0``. Endpoints excluded by an open bound are limits of
    the image, so nonnegativity on the closure is what is proved (enough for ``>= 0``).
    """
    fresh = []
    for iv in reversed(domain.intervals):
        u = sp.Symbol(f"u_{iv.symbol}", nonnegative=True)
        fresh.append(u)
        if iv.lo is not None and iv.hi is not None:
            image = iv.lo + (iv.hi - iv.lo) * u / (1 + u)
        elif iv.lo is not None:
            image = iv.lo + u
        elif iv.hi is not None:
            image = iv.hi - u
        else:
            continue
        expr = expr.subs(iv.symbol, image)
    return expr, fresh


def prove_nonnegative(expr: Expr, domain: Domain = Domain(), strict: bool = False) -> tuple[bool, str]:
    """Try to prove ``expr >= 0`` (``> 0`` if ``strict``) on ``domain``; returns ``(proved, how)``."""
    expr = sp.sympify(expr)
    if strict:  # the normalised image of [lo, hi] misses hi: a strict claim must hold there too
        for k, iv in enumerate(domain.intervals):
            if iv.hi is not None and not iv.hi_open:
                rest = Domain(domain.intervals[:k] + domain.intervals[k + 1:])
                ok, how = prove_nonnegative(expr.subs(iv.symbol, iv.hi), rest, strict=True)
                if not ok:
                    return False, f"at the endpoint {iv.symbol} = {sp.sstr(iv.hi)}: {how}"
    if not domain.intervals:
        verdict = expr.is_positive if strict else expr.is_nonnegative
        if verdict:
            return True, "sign assumptions"
    e, fresh = _normalise(expr, domain)
    e = sp.factor(sp.together(e))
    num, den = sp.fraction(e)
    for how in ("factor signs", "coefficients"):
        parts = sp.Mul.make_args(num) + sp.Mul.make_args(den)
        ok = True
        for factor in parts:
            base, exp = factor.as_base_exp()
            if exp.is_Integer and exp % 2 == 0 and not strict:
                continue
            if exp.is_Integer and exp % 2 == 0 and strict and base.is_nonzero:
                continue
            f = factor if how == "factor signs" else sp.expand(factor)
            if strict:
                good = bool(f.is_positive) or (_nonneg_coefficients(f) and bool(sp.expand(f).subs(
                    {s: 0 for s in f.free_symbols}).is_positive))
            else:
                good = bool(f.is_nonnegative) or _nonneg_coefficients(f)
            if not good:
                ok = False
                break
        if ok:
            return True, f"normalised variables ({how})"
    if _quadratic_certificate(num, strict) and _quadratic_certificate(den, False):
        return True, "normalised variables (quadratic discriminant)"
    free = sorted(e.free_symbols, key=str)
    if len(free) == 1:
        return _univariate(e, free[0], strict)
    return False, f"no certificate found for {sp.sstr(sp.factor(expr))} on {domain.describe()}"


def _quadratic_certificate(p: Expr, strict: bool, depth: int = 0) -> bool:
    """``p >= 0`` for nonnegative symbols by completing the square in one of them.

    If ``p = a v^2 + b v + c`` with ``a >= 0``, ``c >= 0`` and either ``b >= 0`` or ``4ac - b^2 >= 0``
    (with ``c > 0`` and ``4ac - b^2 > 0`` when strict), then ``p >= 0`` for ``v >= 0`` (``> 0`` if strict): coefficients are proved
    recursively the same way.
    """
    p = sp.expand(p)
    if (p.is_positive if strict else p.is_nonnegative) or (not strict and _nonneg_coefficients(p)):
        return True
    if strict and _nonneg_coefficients(p) and p.subs({v: 0 for v in p.free_symbols}).is_positive:
        return True
    if depth > 3:
        return False
    if strict:  # p = k + q with k a sum of positive monomials (k > 0) and q >= 0 proved
        k = sum((t for t in sp.Add.make_args(p) if t.is_positive), sp.Integer(0))
        if k != 0 and _quadratic_certificate(p - k, False, depth + 1):
            return True
    for v in sorted(p.free_symbols, key=str):
        try:
            poly = sp.Poly(p, v)
        except sp.PolynomialError:
            continue
        if poly.degree() != 2:
            continue
        a, b, c = (poly.coeff_monomial(v**k) for k in (2, 1, 0))
        if not (_quadratic_certificate(a, False, depth + 1) and _quadratic_certificate(c, strict, depth + 1)):
            continue
        # b >= 0: p >= c on v >= 0; else the minimum over v is (4ac - b^2)/(4a), strict if strict
        if _quadratic_certificate(b, False, depth + 1) or _quadratic_certificate(4 * a * c - b * b, strict, depth + 1):
            return True
    return False


def _univariate(e: Expr, u: sp.Symbol, strict: bool) -> tuple[bool, str]:
    """Exact sign of a rational function of one symbol ``u >= 0`` by real-root isolation."""
    num, den = sp.fraction(sp.together(e))
    checks = []
    for part in (num, den):
        p = sp.Poly(sp.expand(part), u)
        roots = [r for r in p.real_roots() if r.is_positive]
        cuts = sorted(set([sp.Integer(0)] + roots), key=lambda r: float(r))
        samples = [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + [cuts[-1] + 1]
        values = [p.eval(s) for s in samples] + [p.eval(0)]
        if all(v >= 0 for v in values):
            checks.append((1, bool(roots) or p.eval(0) == 0))
        elif all(v <= 0 for v in values):
            checks.append((-1, bool(roots) or p.eval(0) == 0))
        else:
            return False, f"changes sign for u >= 0 (roots {roots})"
    sign = checks[0][0] * checks[1][0]
    if sign < 0:
        return False, "negative for u >= 0"
    if strict and checks[0][1]:
        return False, "vanishes somewhere (strict inequality claimed)"
    return True, "real-root isolation"


class Step:
    """A checkable step of a derivation."""

    description: str

    def check(self) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Identity(Step):
    """``lhs == rhs`` identically (optionally after substituting ``subs``)."""

    description: str
    lhs: Any
    rhs: Any
    subs: tuple[tuple[Any, Any], ...] = ()

    def check(self) -> Outcome:
        diff = sp.sympify(self.lhs) - sp.sympify(self.rhs)
        if self.subs:
            diff = diff.subs(dict(self.subs))
        for simp in (sp.expand, sp.cancel, sp.simplify):
            d = simp(diff)
            if d == 0:
                return Outcome(True, self.description)
        return Outcome(False, self.description, f"lhs - rhs = {sp.sstr(sp.factor(sp.simplify(diff)))} != 0")


@dataclass(frozen=True)
class SlackCertificate(Step):
    """``claim >= derived`` where ``derived`` came from inequalities turned into equalities with slacks.

    Passes iff ``claim - derived`` expands to :math:`\\sum_k c_k s_k` with no slack-free remainder and
    every :math:`c_k\\ge0` proved on ``domain``.
    """

    description: str
    claim: Any
    derived: Any
    slacks: tuple[sp.Symbol, ...]
    domain: Domain = Domain()

    def check(self) -> Outcome:
        gap = sp.expand(sp.sympify(self.claim) - sp.sympify(self.derived))
        rest = sp.simplify(gap.subs({s: 0 for s in self.slacks}))
        if rest != 0:
            return Outcome(False, self.description, f"slack-free remainder {sp.sstr(sp.factor(rest))}")
        coeffs = [sp.diff(gap, s) for s in self.slacks]
        linear = sp.expand(gap - sum(c * s for c, s in zip(coeffs, self.slacks)))
        if sp.simplify(linear) != 0:
            return Outcome(False, self.description, "gap is not linear in the slacks")
        for s, c in zip(self.slacks, coeffs):
            if c == 0:
                continue
            ok, how = prove_nonnegative(c, self.domain)
            if not ok:
                return Outcome(False, self.description, f"coefficient of {s} not proved >= 0: {how}")
        return Outcome(True, self.description)


@dataclass(frozen=True)
class Nonnegative(Step):
    """``expr >= 0`` (``> 0`` if ``strict``) for every parameter in ``domain``."""

    description: str
    expr: Any
    domain: Domain = Domain()
    strict: bool = False

    def check(self) -> Outcome:
        ok, how = prove_nonnegative(self.expr, self.domain, self.strict)
        return Outcome(ok, self.description, how)


@dataclass(frozen=True)
class Theorem:
    """A catalogued statement with its chain of steps.

    Attributes:
        name: short identifier (e.g. ``"D1"`` or ``"A2.EG"``).
        section: the THEORY.md label (e.g. ``"D1"``).
        title: one line.
        status: ``"exact"``, ``"derived"`` or ``"cited"`` (cited entries have no chain and are never
            reported as verified).
        statement: LaTeX of the statement.
        steps: the chain.
        bound: the exported :class:`~proofs.bound.Bound`, if any.
        references: sources.
    """

    name: str
    section: str
    title: str
    status: str
    statement: str
    steps: tuple[Step, ...] = ()
    bound: Any = None
    references: tuple[str, ...] = ()

    def replace_step(self, index: int, **changes: Any) -> "Theorem":
        """A copy with step ``index`` changed (how the mutation tests build wrong claims)."""
        steps = list(self.steps)
        steps[index] = dataclasses.replace(steps[index], **changes)
        return dataclasses.replace(self, steps=tuple(steps))


@dataclass
class Report:
    """The verification of one theorem."""

    name: str
    section: str
    status: str  # verified | failed | cited
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def verify(theorem: Theorem) -> Report:
    """Check every step of ``theorem``; a theorem without steps must be ``cited``."""
    import time

    t0 = time.perf_counter()
    if theorem.status == "cited":
        return Report(theorem.name, theorem.section, "cited", time.perf_counter() - t0)
    outcomes = [s.check() for s in theorem.steps]
    ok = bool(outcomes) and all(o.ok for o in outcomes)
    return Report(theorem.name, theorem.section, "verified" if ok else "failed", time.perf_counter() - t0,
                  outcomes if outcomes else [Outcome(False, "chain", "a derived theorem needs steps")])


def symbols(names: str, **assumptions: Any) -> Sequence[sp.Symbol]:
    """``sympy.symbols`` defaulting to positive symbols."""
    assumptions = assumptions or {"positive": True}
    return sp.symbols(names, **assumptions)


def unroll_linear(a: Any, c: Any, e0: Any, T: sp.Symbol, domain: Domain = Domain(),
                  label: str = "e") -> tuple[Step, ...]:
    """Steps unrolling :math:`e_{t+1}\\le a\\,e_t+c` (:math:`0\\le a<1`, :math:`c\\ge0`) to
    :math:`e_T\\le a^Te_0+\\frac{c}{1-a}` (THEORY.md §4.5.4).

    The chain: the geometric sum :math:`\\sum_{k<T}a^k=\\frac{1-a^T}{1-a}` (by induction, valid for any
    :math:`a\\ne1`; ``sympy.summation`` would return a ``Piecewise`` on ``a == 1``); the closed
    form :math:`E_T=a^Te_0+c\\frac{1-a^T}{1-a}` solves :math:`E_{T+1}=aE_T+c`, :math:`E_0=e_0` (so by induction
    and :math:`a\\ge0`, :math:`e_T\\le E_T`); and :math:`a^Te_0+\\frac c{1-a}-E_T=\\frac{c\\,a^T}{1-a}\\ge0` on ``domain``.
    """
    geo = (1 - a**T) / (1 - a)
    closed = a**T * e0 + c * geo
    return (
        Identity(f"{label}: geometric sum, base case S_0 = 0", geo.subs(T, 0), 0),
        Identity(f"{label}: geometric sum, induction S_(T+1) = S_T + a^T", geo.subs(T, T + 1), geo + a**T),
        Identity(f"{label}: closed form solves E_(T+1) = a E_T + c", closed.subs(T, T + 1), a * closed + c),
        Identity(f"{label}: closed form starts at e_0", closed.subs(T, 0), e0),
        Nonnegative(f"{label}: a^T e_0 + c/(1-a) dominates the closed form",
                    a**T * e0 + c / (1 - a) - closed, domain),
    )
