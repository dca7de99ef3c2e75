"""THEORY.md §B: deterministic GD and extragradient (EG), encoded as checked chains.

Conventions (THEORY.md §4.5): exact rationals only; inner products are scalar symbols (``A2`` =
:math:`\\|\\nabla f(x)\\|^2`, ``C2`` = :math:`\\|\\nabla f(y)\\|^2`, ``AC`` = :math:`\\langle\\nabla f(x),\\nabla f(y)\\rangle`, ...),
and every vector identity used to expand them is checked on generic coordinates (a statement about
at most three vectors holds in every dimension once it holds in :math:`\\mathbb R^3`, since the vectors
span at most three dimensions); each assumed inequality is an equality with a nonnegative slack
``s_k``; parameter conditions are proved on their constraint set (:class:`~proofs.engine.Nonnegative`
with a :class:`~proofs.engine.Domain`); recursions are unrolled by checked closed forms and telescoped
with ``sympy.summation``.

The helpers :func:`unroll`, :func:`average_from_descent`, :func:`vectors`, :func:`dot` and
:func:`gram_subs` are shared with :mod:`proofs.catalog.c_sgd`.

Entries: B1 (GD, nonconvex), B2 witness (Huber, exact), B3 (GD, (SC)+(L), exact), B4 (GD, PL), B5
(deterministic EG, nonconvex), B6 (EG, PL), B7 (EG, convex).
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem

L, mu, eta, gamma, T, Delta, D0, R = sp.symbols("L mu eta gamma T Delta D0 R", positive=True)
fx, fstar = sp.symbols("f_x f_star", real=True)  # f(x_t) and f* (any reals)
A2, C2 = sp.symbols("A2 C2", nonnegative=True)  # ||grad f(x)||^2, ||grad f(y)||^2
AC = sp.Symbol("AC", real=True)  # <grad f(x), grad f(y)>
s1, s2, s3, s4, s5 = sp.symbols("s1:6", nonnegative=True)
_k = sp.Symbol("k", integer=True, nonnegative=True)

REF_B = "THEORY.md §B"


# ---------------------------------------------------------------------------------------------
# shared helpers (also used by c_sgd)
# ---------------------------------------------------------------------------------------------

def vectors(*names: str, dim: int = 3) -> dict[str, sp.Matrix]:
    """Generic real coordinate vectors in :math:`\\mathbb R^{dim}` (for checking inner-product identities)."""
    return {n: sp.Matrix(sp.symbols(f"{n}_1:{dim + 1}", real=True)) for n in names}


def dot(u: sp.Matrix, v: sp.Matrix) -> sp.Expr:
    return (u.T * v)[0]


def gram_subs(pairs: dict[sp.Symbol, tuple[sp.Matrix, sp.Matrix]]) -> tuple[tuple[sp.Symbol, sp.Expr], ...]:
    """``Identity.subs`` replacing each Gram symbol by the coordinate inner product it names."""
    return tuple((g, dot(u, v)) for g, (u, v) in pairs.items())


def unroll(a: sp.Expr, c: sp.Expr, e0: sp.Expr, n: sp.Symbol, domain: Domain, label: str,
           a_nonneg_domain: Domain | None = None) -> tuple[Step, ...]:
    """Steps unrolling :math:`e_{t+1}\\le a e_t+c` to :math:`e_n\\le a^ne_0+\\frac{c}{1-a}` (``c = 0``: :math:`e_n\\le a^ne_0`).

    Chain: :math:`a\\ge0` on the domain (so the inequality survives multiplication, and by induction
    :math:`e_n\\le E_n`); the geometric partial sums :math:`G_n=\\frac{1-a^n}{1-a}` satisfy :math:`G_{n+1}=G_n+a^n`,
    :math:`G_0=0` (checked by induction, which, unlike ``sympy.summation`` on a symbolic ratio, needs no
    ``a != 1`` case split); the closed form :math:`E_n=a^ne_0+cG_n` solves :math:`E_{n+1}=aE_n+c`,
    :math:`E_0=e_0`; and :math:`a^ne_0+\\frac c{1-a}-E_n=\\frac{ca^n}{1-a}\\ge0` on ``domain``.
    """
    steps: list[Step] = [Nonnegative(f"{label}: recursion factor a >= 0 (the induction multiplies by a)", a,
                                     a_nonneg_domain if a_nonneg_domain is not None else domain)]
    if c == 0:
        closed = a**n * e0
        return tuple(steps) + (
            Identity(f"{label}: closed form a^n e_0 solves E_(n+1) = a E_n", closed.subs(n, n + 1), a * closed),
            Identity(f"{label}: closed form starts at e_0", closed.subs(n, 0), e0),
        )
    geo = (1 - a**n) / (1 - a)
    closed = a**n * e0 + c * geo
    return tuple(steps) + (
        Nonnegative(f"{label}: 1 - a > 0 (the fixed point c/(1-a) exists)", 1 - a, strict=True),
        Identity(f"{label}: geometric partial sums G_n = (1-a^n)/(1-a): G_(n+1) = G_n + a^n", geo.subs(n, n + 1),
                 geo + a**n),
        Identity(f"{label}: G_0 = 0", geo.subs(n, 0), 0),
        Identity(f"{label}: closed form a^n e_0 + c G_n solves E_(n+1) = a E_n + c", closed.subs(n, n + 1),
                 a * closed + c),
        Identity(f"{label}: closed form starts at e_0", closed.subs(n, 0), e0),
        Nonnegative(f"{label}: a^n e_0 + c/(1-a) dominates the closed form", a**n * e0 + c / (1 - a) - closed, domain),
    )


def average_from_descent(label: str, c: sp.Expr, m: sp.Expr, start: sp.Expr, bound: sp.Expr, c_positive: Sequence[Step],
                         domain: Domain, n: sp.Symbol = T) -> tuple[Step, ...]:
    """From :math:`F_{k+1}\\le F_k-c\\,G_k+m` (:math:`k<n`), :math:`F_0-f^\\star\\le` ``start``, :math:`F_n\\ge f^\\star`:
    :math:`\\frac1n\\sum_{k<n}G_k\\le` ``bound``.

    Chain: telescoping :math:`\\sum_{k<n}(F_k-F_{k+1})=F_0-F_n` and :math:`\\sum_{k<n}m=nm` (``sympy.summation``);
    ``c_positive`` proves :math:`c>0`, so the summed inequality :math:`c\\sum G_k=F_0-F_n+nm-\\sum s_k` can be
    divided by :math:`c`; the final certificate has slacks :math:`F_n-f^\\star`, :math:`\\sum_k s_k` and
    :math:`\\text{start}-(F_0-f^\\star)`.
    """
    F = sp.Function("F")
    s_low, s_sum, s_start = sp.symbols("s_low s_sum s_start", nonnegative=True)
    sum_g = (start - s_start - s_low + n * m - s_sum) / c
    return (
        Identity(f"{label}: telescoping sum_(k<T) (F_k - F_(k+1)) = F_0 - F_T",
                 sp.summation(F(_k) - F(_k + 1), (_k, 0, n - 1)), F(0) - F(n)),
        Identity(f"{label}: sum_(k<T) m = T m", sp.summation(m, (_k, 0, n - 1)), n * m),
        *c_positive,
        SlackCertificate(f"{label}: (1/T) sum_(k<T) G_k <= bound (slacks: F_T - f*, summed step slacks, start gap)",
                         bound, sum_g / n, (s_low, s_sum, s_start), domain),
    )


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


# ---------------------------------------------------------------------------------------------
# B5-B7: deterministic extragradient
# ---------------------------------------------------------------------------------------------

def _eg_one_step() -> tuple[sp.Expr, tuple[Step, ...]]:
    """Derived f(x+) for y = x - gamma a, x+ = x - eta c (a = grad f(x), c = grad f(y)), with slacks s1, s2."""
    v = vectors("a", "c")
    a, cv = v["a"], v["c"]
    dmn = sp.Symbol("DAC", nonnegative=True)  # ||a - c||^2
    derived_raw = fx - eta * AC + L * eta**2 / 2 * C2 - s1                    # descent lemma at x, step -eta c
    ac_val = sp.solve(sp.Eq(A2 - 2 * AC + C2, dmn), AC)[0]                    # polarization
    derived = sp.expand(derived_raw.subs(AC, ac_val).subs(dmn, L**2 * gamma**2 * A2 - s2))
    steps = (
        Identity("EG: descent lemma terms: <a, x+ - x> = -eta <a, c>, ||x+ - x||^2 = eta^2 ||c||^2",
                 dot(a, -eta * cv) + L / 2 * dot(-eta * cv, -eta * cv), -eta * AC + L * eta**2 / 2 * C2,
                 gram_subs({AC: (a, cv), C2: (cv, cv)})),
        Identity("EG: polarization ||a - c||^2 = A2 - 2 AC + C2", dot(a - cv, a - cv), A2 - 2 * AC + C2,
                 gram_subs({A2: (a, a), AC: (a, cv), C2: (cv, cv)})),
        Identity("EG: ||x - y||^2 = gamma^2 A2 (smoothness then gives ||a - c||^2 <= L^2 gamma^2 A2, slack s2)",
                 dot(gamma * a, gamma * a), gamma**2 * A2, gram_subs({A2: (a, a)})),
    )
    return derived, steps


def _b5_step_claim(coef_x: sp.Expr, coef_y: sp.Expr) -> sp.Expr:
    return fx - eta / 2 * coef_x * A2 - eta / 2 * coef_y * C2


def _b5(coef_x: sp.Expr | None = None, eta_hi: sp.Expr | None = None) -> Theorem:
    coef_x = 1 - L**2 * gamma**2 if coef_x is None else coef_x
    eta_hi = 1 / L if eta_hi is None else eta_hi
    dom = Domain((Interval(eta, 0, eta_hi), Interval(gamma, 0, 1 / L, hi_open=True)))
    derived, prep = _eg_one_step()
    one_step = _b5_step_claim(coef_x, 1 - L * eta)
    c = eta / 2 * (1 - L**2 * gamma**2)
    bound_expr = 2 * Delta / (eta * (1 - L**2 * gamma**2) * T)
    return Theorem(
        name="B5", section="B5", status="derived",
        title=("deterministic EG, (L), nonconvex, eta <= 1/L, gamma < 1/L: "
               "(1/T) sum ||grad f(x_t)||^2 <= 2 Delta/(eta (1 - L^2 gamma^2) T)"),
        statement=(r"f(x_{t+1})\le f(x_t)-\tfrac\eta2(1-L^2\gamma^2)\|\nabla f(x_t)\|^2-\tfrac\eta2(1-L\eta)"
                   r"\|\nabla f(y_t)\|^2,\quad\frac1T\sum\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta(1-L^2\gamma^2)T}"),
        steps=(
            *prep,
            SlackCertificate("B5 one step: descent lemma (s1), polarization and smoothness (s2)", one_step, derived,
                             (s1, s2)),
            SlackCertificate("B5: drop the ||grad f(y_t)||^2 term for eta <= 1/L (C2 >= 0 as a slack)",
                             _b5_step_claim(1 - L**2 * gamma**2, 0), one_step, (C2,), dom),
            *average_from_descent(
                "B5", c, 0, Delta, bound_expr,
                (Identity("B5: c = eta (1 - L gamma)(1 + L gamma)/2", c, eta * (1 - L * gamma) * (1 + L * gamma) / 2),
                 Nonnegative("B5: 1 - L gamma > 0 for gamma < 1/L (so c > 0)", 1 - L * gamma,
                             Domain((Interval(gamma, 0, 1 / L, hi_open=True),)), strict=True)), dom),
        ),
        bound=Bound("B5", "(1/T) sum_{t<T} ||grad f(x_t)||^2", bound_expr, relation="<=", status="derived",
                    conditions=(Condition("step condition", eta, "<=", 1 / L),
                                Condition("extrapolation condition", gamma, "<", 1 / L)),
                    references=("THEORY.md §B5",)),
        references=("THEORY.md §B5", "Korpelevich 1976 (method)"),
    )


def _b6(rate: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(mu, 0, L), Interval(eta, 0, 1 / L), Interval(gamma, 0, 1 / L)))
    a = 1 - eta * mu * (1 - L**2 * gamma**2) if rate is None else rate
    phi = sp.Symbol("phi", nonnegative=True)
    derived, prep = _eg_one_step()
    derived = derived.subs(C2, 0 + s3)  # the C2 term is kept; C2 = s3 >= 0
    derived = sp.expand(derived.subs(A2, 2 * mu * phi + s4).subs(fx, fstar + phi) - fstar)
    return Theorem(
        name="B6", section="B6", status="derived",
        title="deterministic EG, (PL)/(SC)+(L), eta <= 1/L, gamma < 1/L: f(x_T) - f* <= (1 - eta mu (1 - L^2 gamma^2))^T Delta",
        statement=r"f(x_T)-f^\star\le\big(1-\eta\mu(1-L^2\gamma^2)\big)^T\Delta",
        steps=(
            *prep,
            SlackCertificate("B6: B5's one step (s1, s2; ||grad f(y)||^2 = s3 dropped for eta <= 1/L) and PL "
                             "||grad f(x)||^2 = 2 mu (f - f*) + s4", a * phi, derived, (s1, s2, s3, s4), dom),
            *unroll(a, 0, Delta, T, dom, "B6"),
        ),
        bound=Bound("B6", "f(x_T) - f*", a**T * Delta, relation="<=", status="derived",
                    conditions=(Condition("step condition", eta, "<=", 1 / L),
                                Condition("extrapolation condition", gamma, "<", 1 / L),
                                Condition("PL constant at most L", mu, "<=", L)),
                    references=("THEORY.md §B6",)),
        references=("THEORY.md §B6",),
    )


def _b7(bound_expr: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(gamma, 0, 1 / L),))
    c = eta / 2 * (1 - L**2 * gamma**2)
    cs = sp.Symbol("c", positive=True)  # c = eta (1 - L^2 gamma^2)/2 > 0 (proved in B5)
    phi, phin, A, U = sp.symbols("phi phi_next A U", positive=True)  # phi_t, phi_(t+1), ||grad f||, ||x - x*||
    AU = sp.Symbol("AU", real=True)
    bound_expr = R**2 / (c * T) if bound_expr is None else bound_expr
    # phi_t = <a, u> - s1 (convexity), <a, u> = A U - s2 (Cauchy-Schwarz), U = R - s3 (sublevel set)
    phi_val = (AU - s1).subs(AU, A * U - s2).subs(U, R - s3)
    # B5 (dropped form): phi_(t+1) = phi_t - c A^2 - s4; with A = (phi_t + s5)/R (i.e. A R = phi_t + s5 >= phi_t)
    rec_gap = (phi - cs * phi**2 / R**2) - (phi - cs * ((phi + s5) / R)**2 - s4)
    W = sp.Function("W")  # W_t = 1/phi_t
    w0, S = sp.symbols("phi_0 S", positive=True)
    phiT = 1 / (1 / w0 + cs * T / R**2 + S)
    return Theorem(
        name="B7", section="B7", status="derived",
        title=("deterministic EG, convex (L), eta <= 1/L, gamma < 1/L: f(x_T) - f* <= R^2/(c T), "
               "c = eta (1 - L^2 gamma^2)/2, R = sup{||x - x*|| : f(x) <= f(x_0)}"),
        statement=(r"f(x_T)-f^\star\le\frac{R^2}{cT},\ c=\tfrac\eta2(1-L^2\gamma^2),\ "
                   r"R=\sup\{\|x-x^\star\|:f(x)\le f(x_0)\}"),
        steps=(
            SlackCertificate("B7: f decreases along the iterates (B5), so ||x_t - x*|| <= R; convexity "
                             "(s1), Cauchy-Schwarz (s2), U = R - s3: phi_t <= ||grad f(x_t)|| R",
                             A * R, phi_val, (s1, s2, s3)),
            Nonnegative("B7: with B5 (slack s4) and ||grad f|| R = phi_t + s5: phi_(t+1) <= phi_t - (c/R^2) phi_t^2",
                        rec_gap),
            Identity("B7: c = eta (1 - L gamma)(1 + L gamma)/2", c, eta * (1 - L * gamma) * (1 + L * gamma) / 2),
            Nonnegative("B7: 1 - L gamma >= 0 (c >= 0; c > 0 for gamma < 1/L)", 1 - L * gamma, dom),
            Identity("B7: phi phi+ R^2 (1/phi+ - 1/phi - c/R^2) = R^2 (phi - phi+) - c phi phi+",
                     phi * phin * R**2 * (1 / phin - 1 / phi - cs / R**2), R**2 * (phi - phin) - cs * phi * phin),
            Nonnegative("B7: R^2 (phi - phi+) - c phi phi+ >= 0 at phi+ = phi - c phi^2/R^2 - s4, so "
                        "1/phi_(t+1) >= 1/phi_t + c/R^2 while phi_(t+1) > 0 (if some phi_t = 0 the bound is trivial)",
                        (R**2 * (phi - phin) - cs * phi * phin).subs(phin, phi - cs * phi**2 / R**2 - s4)),
            Identity("B7: telescoping sum_(k<T) (W_(k+1) - W_k) = W_T - W_0, W = 1/phi",
                     sp.summation(W(_k + 1) - W(_k), (_k, 0, T - 1)), W(T) - W(0)),
            Nonnegative("B7: 1/phi_T = 1/phi_0 + cT/R^2 + S (S >= 0) gives phi_T <= R^2/(cT)",
                        R**2 / (cs * T) - phiT),
            Identity("B7: the bound is R^2/(c T) with c = eta (1 - L^2 gamma^2)/2", bound_expr, (R**2 / (cs * T)).subs(cs, c)),
        ),
        bound=Bound("B7", "f(x_T) - f*", bound_expr, relation="<=", status="derived",
                    conditions=(Condition("step condition", eta, "<=", 1 / L),
                                Condition("extrapolation condition", gamma, "<", 1 / L)),
                    references=("THEORY.md §B7",)),
        references=("THEORY.md §B7",),
    )


def theorems() -> list[Theorem]:
    return [_b1(), _b2_witness(), _b3(), _b4(), _b5(), _b6(), _b7()]


def mutations() -> dict[str, Theorem]:
    return {
        "B1 with the constant halved (Delta/(eta (2 - L eta) T))": _b1(Delta / (eta * (2 - L * eta) * T)),
        "B2 witness value L D0^2/(4T)": _b2_witness(value=L * D0**2 / (4 * T)),
        "B2 witness kink moved to D0/(2T)": _b2_witness(kink=D0 / (2 * T)),
        "B3 case eta <= 2/(mu+L) widened to eta <= 2/L": _b3(case_a_hi=2 / L),
        "B3 case eta <= 2/(mu+L) claiming the case-b factor (1 - eta L)^2":
            _b3(claim_a=(1 - eta * L)**2 * sp.Symbol("X", nonnegative=True)),
        "B4 rate 1 - 2 mu eta (2 - L eta)": _b4(1 - 2 * mu * eta * (2 - L * eta)),
        "B5 with (1 - L^2 gamma^2/2) in place of (1 - L^2 gamma^2)": _b5(coef_x=1 - L**2 * gamma**2 / 2),
        "B5 step condition widened to eta <= 2/L": _b5(eta_hi=2 / L),
        "B6 rate 1 - eta mu": _b6(1 - eta * mu),
        "B7 with c doubled": _b7(R**2 / (2 * eta / 2 * (1 - L**2 * gamma**2) * T)),
    }
