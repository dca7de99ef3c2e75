"""THEORY.md §B, gradient descent: deterministic GD, encoded as checked chains.

Conventions (THEORY.md §4.5): exact rationals only; inner products are scalar symbols (``A2`` =
:math:`\\|\\nabla f(x)\\|^2`, ``C2`` = :math:`\\|\\nabla f(y)\\|^2`, ``AC`` = :math:`\\langle\\nabla f(x),\\nabla f(y)\\rangle`, ...),
and every vector identity used to expand them is checked on generic coordinates (a statement about
at most three vectors holds in every dimension once it holds in :math:`\\mathbb R^3`, since the vectors
span at most three dimensions); each assumed inequality is an equality with a nonnegative slack
``s_k``; parameter conditions are proved on their constraint set (:class:`~proofs.engine.Nonnegative`
with a :class:`~proofs.engine.Domain`); recursions are unrolled by checked closed forms and telescoped
with ``sympy.summation``.

The shared symbols and helpers (:func:`~proofs.catalog._common.unroll`,
:func:`~proofs.catalog._common.average_from_descent`, ...) live in :mod:`proofs.catalog._common`.

Entries: B1 (GD, nonconvex), B2 witness (Huber, exact), B3 (GD, (SC)+(L), exact), B4 (GD, PL).
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem
from ._common import (A2, D0, Delta, L, T, average_from_descent, dot, eta, fstar, fx, gram_subs, mu, s1, s2, unroll,
                      vectors)

REF_B = "THEORY.md §B"


# ---------------------------------------------------------------------------------------------
# B1: GD, (L), nonconvex
# ---------------------------------------------------------------------------------------------

def _gd_descent_step(label: str, claim_coeff: sp.Expr, domain: Domain) -> Step:
    """Descent lemma at x with x+ - x = -eta grad f(x): f(x+) = f(x) - eta A2 + L eta^2/2 A2 - s1."""
    derived = fx - eta * A2 + L * eta**2 / 2 * A2 - s1
    return SlackCertificate(f"{label}: descent lemma f(x+) <= f(x) + <grad f, x+ - x> + L/2 ||x+ - x||^2 with "
                            f"x+ - x = -eta grad f(x)", fx - claim_coeff * A2, derived, (s1,), domain)


def _b1(bound_expr: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(eta, 0, 2 / L, hi_open=True),))
    c = eta * (2 - L * eta) / 2
    bound_expr = 2 * Delta / (eta * (2 - L * eta) * T) if bound_expr is None else bound_expr
    u = vectors("a")["a"]
    return Theorem(
        name="B1", section="B1", status="derived",
        title="GD, (L), nonconvex, 0 < eta < 2/L: (1/T) sum ||grad f(x_t)||^2 <= 2 Delta/(eta (2 - L eta) T)",
        statement=(r"\min_{t<T}\|\nabla f(x_t)\|^2\le\frac1T\sum_{t<T}\|\nabla f(x_t)\|^2\le"
                   r"\frac{2\Delta}{\eta(2-L\eta)T},\quad 0<\eta<2/L"),
        steps=(
            Identity("||x+ - x||^2 = eta^2 A2 and <grad f, x+ - x> = -eta A2 (x+ - x = -eta a)",
                     dot(u, -eta * u) + L / 2 * dot(-eta * u, -eta * u), -eta * A2 + L * eta**2 / 2 * A2,
                     gram_subs({A2: (u, u)})),
            _gd_descent_step("B1", c, dom),
            *average_from_descent(
                "B1", c, 0, Delta, bound_expr,
                (Identity("B1: c = eta (2 - L eta)/2", c, eta / 2 * (2 - L * eta)),
                 Nonnegative("B1: 2 - L eta > 0 on 0 < eta < 2/L (with eta > 0: c > 0)", 2 - L * eta, dom,
                             strict=True)), dom),
        ),
        bound=Bound("B1", "(1/T) sum_{t<T} ||grad f(x_t)||^2", bound_expr, relation="<=", status="derived",
                    conditions=(Condition("step condition", eta, "<", 2 / L),),
                    references=("Nesterov 2004 §1.2.3 (eta = 1/L)", REF_B)),
        references=("THEORY.md §B1", "Nesterov 2004 §1.2.3 (eta = 1/L)"),
    )


# ---------------------------------------------------------------------------------------------
# B2: the Huber witness for GD with h = 1 (exact)
# ---------------------------------------------------------------------------------------------

def _b2_witness(value: sp.Expr | None = None, kink: sp.Expr | None = None) -> Theorem:
    t = sp.Symbol("t", nonnegative=True)
    kink = D0 / (2 * T + 1) if kink is None else kink               # |x| where the pieces meet
    slope = L * D0 / (2 * T + 1)                                    # |f'| on the linear piece
    const = L * D0**2 / (2 * (2 * T + 1)**2)
    value = L * D0**2 / (4 * T + 2) if value is None else value
    h = 1
    step = h / L
    x_t = D0 * (2 * T + 1 - t) / (2 * T + 1)                        # claimed closed form of the iterates
    xs = sp.Symbol("x", positive=True)
    return Theorem(
        name="B2.witness", section="B2", status="exact",
        title=("GD, convex (L), h = 1, x_0 = D0: on the Huber function with kink D0/(2T+1), f(x_T) - f* = "
               "L D0^2/(4T+2) (the tight bound L D0^2/(4Th+2) itself is cited, unverified: Drori & Teboulle 2014)"),
        statement=(r"f(x)=\begin{cases}\frac{LD_0}{2T+1}|x|-\frac{LD_0^2}{2(2T+1)^2},&|x|\ge\frac{D_0}{2T+1}\\"
                   r"\frac L2x^2,&\text{else}\end{cases},\ x_0=D_0,\ \eta=\frac1L:\ x_t=D_0\frac{2T+1-t}{2T+1}"
                   r"\ (t\le T),\ f(x_T)-f^\star=\frac{LD_0^2}{4T+2}"),
        steps=(
            Identity("the pieces agree at the kink: slope*k - const = (L/2) k^2 (f continuous)",
                     slope * kink - const, L / 2 * kink**2),
            Identity("the derivatives agree at the kink: slope = L*k, so f' = clip(L x, -slope, slope) is "
                     "continuous, nondecreasing and L-Lipschitz (f convex and L-smooth)", slope, L * kink),
            Identity("f(0) = 0 = f*, x* = 0 (f >= 0: quadratic piece >= 0, linear piece >= its kink value)",
                     (L / 2 * xs**2).subs(xs, 0), 0),
            Identity("x_0 = D0 (so D0 = |x_0 - x*|)", x_t.subs(t, 0), D0),
            Identity("on the linear piece one GD step with eta = h/L subtracts eta*slope: x_(t+1) = x_t - eta*slope",
                     x_t.subs(t, t + 1), x_t - step * slope),
            Nonnegative("x_t - D0/(2T+1) >= 0 for 0 <= t <= T: every iterate x_0..x_T lies on the linear piece "
                        "(the gradient there is slope, also at the kink)", x_t - kink,
                        Domain((Interval(t, 0, T),))),
            Identity("f(x_T) - f* = slope*x_T - const = L D0^2/(4T + 2)", slope * x_t.subs(t, T) - const, value),
        ),
        bound=Bound("B2.witness", "f(x_T) - f* for GD on the Huber witness (h = 1, x_0 = D0)",
                    L * D0**2 / (4 * T + 2), relation="==", status="exact",
                    conditions=(Condition("step size h = 1", eta, "==", 1 / L),
                                Condition("at least one step", T, ">=", 1)),
                    references=("THEORY.md §B2", "Drori & Teboulle 2014 (tight bound, cited, unverified)")),
        references=("THEORY.md §B2", "Drori & Teboulle 2014 (cited, unverified)"),
    )


# ---------------------------------------------------------------------------------------------
# B3: GD, (SC)+(L), contraction q = max(|1 - eta mu|, |1 - eta L|) (exact)
# ---------------------------------------------------------------------------------------------

def _b3(case_a_hi: sp.Expr | None = None, claim_a: sp.Expr | None = None) -> Theorem:
    X, G = sp.symbols("X G", nonnegative=True)      # ||x - y||^2, ||grad f(x) - grad f(y)||^2
    P = sp.Symbol("P", real=True)                    # <grad f(x) - grad f(y), x - y>
    q = sp.Symbol("q", nonnegative=True)             # q = max(|1 - eta mu|, |1 - eta L|)
    v = vectors("w", "d", dim=2)                     # w = x - y, d = grad f(x) - grad f(y)
    w, d = v["w"], v["d"]
    Xp = X - 2 * eta * P + eta**2 * G                # ||x+ - y+||^2
    nest = {P: mu * L / (mu + L) * X + G / (mu + L) + s1}  # Nesterov Thm 2.1.12, slack s1
    hi_a = 2 / (mu + L) if case_a_hi is None else case_a_hi
    dom_a = Domain((Interval(mu, 0, L), Interval(eta, 0, hi_a)))
    dom_b = Domain((Interval(mu, 0, L), Interval(eta, 2 / (mu + L), None)))
    der_a = Xp.subs(nest).subs(G, mu**2 * X + s2)    # case a: G >= mu^2 X (strong convexity)
    der_b = Xp.subs(nest).subs(G, L**2 * X - s2)     # case b: G <= L^2 X (smoothness)
    claim_a = (1 - eta * mu)**2 * X if claim_a is None else claim_a
    # tightness on f = (mu y1^2 + L y2^2)/2, x - y = (a1, a2)
    a1, a2 = sp.symbols("a1 a2", real=True)
    Xq, Pq, Gq = a1**2 + a2**2, mu * a1**2 + L * a2**2, mu**2 * a1**2 + L**2 * a2**2
    xT = sp.Symbol("x_T", real=True)
    Tn = sp.Symbol("n", integer=True, positive=True)
    e_closed = (1 - eta * mu)**T * D0
    q_expr = sp.Max(sp.Abs(1 - eta * mu), sp.Abs(1 - eta * L))
    return Theorem(
        name="B3", section="B3", status="exact",
        title=("GD, (SC)+(L), 0 < eta < 2/L: ||x_T - x*|| <= q^T D0, q = max(|1-eta mu|, |1-eta L|), and "
               "f(x_T) - f* <= (L/2) q^(2T) D0^2; equality on quadratics with eigenvalues {mu, L}"),
        statement=(r"\|x_T-x^\star\|\le q^TD_0,\ f(x_T)-f^\star\le\tfrac L2q^{2T}D_0^2,\ "
                   r"q=\max\{|1-\eta\mu|,|1-\eta L|\},\ 0<\eta<2/L"),
        steps=(
            Identity("(1) ||x+ - y+||^2 = ||x-y||^2 - 2 eta <grad f(x) - grad f(y), x-y> + eta^2 ||grad f(x) - grad f(y)||^2",
                     dot(w - eta * d, w - eta * d), Xp, gram_subs({X: (w, w), P: (w, d), G: (d, d)})),
            SlackCertificate("(2)+(3a) eta <= 2/(mu+L): Nesterov 2.1.12 (slack s1) and G >= mu^2 X (slack s2) give "
                             "||x+ - y+||^2 <= (1 - eta mu)^2 ||x - y||^2 exactly", claim_a, der_a, (s1, s2), dom_a),
            SlackCertificate("(2)+(3b) eta >= 2/(mu+L): Nesterov 2.1.12 (slack s1) and G <= L^2 X (slack s2) give "
                             "||x+ - y+||^2 <= (1 - eta L)^2 ||x - y||^2 exactly", (1 - eta * L)**2 * X, der_b,
                             (s1, s2), dom_b),
            Nonnegative("case a: (1 - eta mu)^2 >= (1 - eta L)^2, so the factor is q^2",
                        (1 - eta * mu)**2 - (1 - eta * L)**2, dom_a),
            Nonnegative("case b: (1 - eta L)^2 >= (1 - eta mu)^2, so the factor is q^2",
                        (1 - eta * L)**2 - (1 - eta * mu)**2, dom_b),
            Identity("q < 1, case a: 1 - (1 - eta mu)^2 = eta mu (2 - eta mu)", 1 - (1 - eta * mu)**2,
                     eta * mu * (2 - eta * mu)),
            Nonnegative("q < 1, case a: 2 - eta mu > 0", 2 - eta * mu, dom_a, strict=True),
            Identity("q < 1, case b: 1 - (1 - eta L)^2 = eta L (2 - eta L)", 1 - (1 - eta * L)**2, eta * L * (2 - eta * L)),
            Nonnegative("q < 1, case b: 2 - eta L > 0 for eta < 2/L", 2 - eta * L,
                        Domain((Interval(eta, 2 / (mu + L), 2 / L, hi_open=True),)), strict=True),
            *unroll(q**2, 0, D0**2, T, Domain(), "B3 (y = x*, grad f(x*) = 0: ||x_(t+1) - x*||^2 <= q^2 ||x_t - x*||^2)"),
            SlackCertificate("f(x_T) - f* <= <grad f(x*), x_T - x*> + L/2 ||x_T - x*||^2 with grad f(x*) = 0 "
                             "(slack s1) and ||x_T - x*||^2 <= q^(2T) D0^2 (slack s2)", L / 2 * q**(2 * T) * D0**2,
                             L / 2 * (q**(2 * T) * D0**2 - s2) - s1, (s1, s2)),
            Identity("equality on quadratics: Nesterov 2.1.12 holds with equality (s1 = 0) on (mu y1^2 + L y2^2)/2",
                     Pq, mu * L / (mu + L) * Xq + Gq / (mu + L)),
            Identity("equality on quadratics: G - mu^2 X = (L^2 - mu^2) a2^2 = 0 along the mu-eigenvector (s2 = 0)",
                     Gq - mu**2 * Xq, (L**2 - mu**2) * a2**2),
            Identity("equality on quadratics: G - L^2 X = -(L^2 - mu^2) a1^2 = 0 along the L-eigenvector (s2 = 0)",
                     Gq - L**2 * Xq, -(L**2 - mu**2) * a1**2),
            Identity("equality on quadratics: along the mu-eigenvector x_t - x* = (1 - eta mu)^t D0 solves the GD "
                     "recursion, so ||x_T - x*|| = |1 - eta mu|^T D0 = q^T D0 in case a (L-eigenvector in case b)",
                     e_closed.subs(T, T + 1), e_closed - eta * mu * e_closed),
            Identity("equality on quadratics (case b, q = |1 - eta L|): along the L-eigenvector f(x_T) - f* = "
                     "(L/2)((1 - eta L)^T D0)^2 = (L/2) q^(2T) D0^2 (T an integer; in case a the f bound is not "
                     "attained unless mu = L, since there f(x_T) - f* = (mu/2) q^(2T) D0^2)",
                     (L / 2 * xT**2).subs(xT, (1 - eta * L)**Tn * D0), L / 2 * ((1 - eta * L)**2)**Tn * D0**2),
        ),
        bound=Bound("B3", "||x_T - x*||", q_expr**T * D0, relation="<=", status="exact",
                    conditions=(Condition("step condition", eta, "<", 2 / L),
                                Condition("strong convexity below smoothness", mu, "<=", L)),
                    references=("THEORY.md §B3", "Nesterov 2004 Thm 2.1.12, 2.1.15 (eta = 2/(mu+L), cited, unverified)")),
        references=("THEORY.md §B3", "Nesterov 2004 Thm 2.1.12 (co-coercivity), Thm 2.1.15 (cited, unverified)"),
    )


# ---------------------------------------------------------------------------------------------
# B4: GD under PL
# ---------------------------------------------------------------------------------------------

def _b4(rate: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(mu, 0, L), Interval(eta, 0, 2 / L, hi_open=True)))
    a = 1 - mu * eta * (2 - L * eta) if rate is None else rate
    phi = sp.Symbol("phi", nonnegative=True)  # f(x_t) - f*
    c = eta * (1 - L * eta / 2)
    derived = (fx - eta * A2 + L * eta**2 / 2 * A2 - s1).subs(A2, 2 * mu * phi + s2).subs(fx, fstar + phi) - fstar
    return Theorem(
        name="B4", section="B4", status="derived",
        title="GD, (PL)+(L), 0 < eta < 2/L: f(x_T) - f* <= (1 - mu eta (2 - L eta))^T Delta",
        statement=r"f(x_T)-f^\star\le\big(1-\mu\eta(2-L\eta)\big)^T\Delta,\quad0<\eta<2/L",
        steps=(
            _gd_descent_step("B4", c, dom),
            SlackCertificate("B4: descent lemma (slack s1) and PL ||grad f||^2 = 2 mu (f - f*) + s2 give "
                             "f(x+) - f* <= (1 - mu eta (2 - L eta)) (f(x) - f*)", a * phi, derived, (s1, s2), dom),
            *unroll(a, 0, Delta, T, dom, "B4"),
        ),
        bound=Bound("B4", "f(x_T) - f*", a**T * Delta, relation="<=", status="derived",
                    conditions=(Condition("step condition", eta, "<", 2 / L),
                                Condition("PL constant at most L", mu, "<=", L)),
                    references=("THEORY.md §B4", "Karimi, Nutini & Schmidt 2016 Thm 1 (eta = 1/L, cited, unverified)")),
        references=("THEORY.md §B4", "Karimi, Nutini & Schmidt 2016 Thm 1 (cited, unverified)"),
    )


def theorems() -> list[Theorem]:
    return [_b1(), _b2_witness(), _b3(), _b4()]


def mutations() -> dict[str, Theorem]:
    return {
        "B1 with the constant halved (Delta/(eta (2 - L eta) T))": _b1(Delta / (eta * (2 - L * eta) * T)),
        "B2 witness value L D0^2/(4T)": _b2_witness(value=L * D0**2 / (4 * T)),
        "B2 witness kink moved to D0/(2T)": _b2_witness(kink=D0 / (2 * T)),
        "B3 case eta <= 2/(mu+L) widened to eta <= 2/L": _b3(case_a_hi=2 / L),
        "B3 case eta <= 2/(mu+L) claiming the case-b factor (1 - eta L)^2":
            _b3(claim_a=(1 - eta * L)**2 * sp.Symbol("X", nonnegative=True)),
        "B4 rate 1 - 2 mu eta (2 - L eta)": _b4(1 - 2 * mu * eta * (2 - L * eta)),
    }
