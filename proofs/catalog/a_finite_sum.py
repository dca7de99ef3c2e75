"""THEORY.md §A4: finite-sum sampling noise in 1-D (without-replacement factor, recursion, critical batch).

Expectations use :func:`proofs.catalog.a_stationary.expect` (independent fresh batches; see its module).
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, Theorem
from .a_stationary import X, eta, expect, gamma, s
from .a_thresholds import sign_conditions

# ---------------------------------------------------------------------------------------------- A4 (1-D)
n, Bb, a = sp.symbols("n B a", positive=True)
H1, H2 = sp.symbols("Sum_h Sum_h2", real=True)  # sum_i h_i = n a, sum_i h_i^2 = n (a^2 + s^2)
P_FACTOR = (n - Bb) / (Bb * (n - 1))
BATCH_CONDITIONS = (Condition("batch size B >= 1", Bb, ">=", 1), Condition("batch size B <= n", Bb, "<=", n),
                    Condition("at least two samples n >= 2", n, ">=", 2))
hB, hB2, X2 = sp.symbols("h_B h_Bp X2", real=True)
a_r = sp.Symbol("a", real=True)  # the mean curvature: any sign in the recursions, positive for B_crit
SGD_FACTOR = (1 - eta * a_r) ** 2 + eta**2 * P_FACTOR * s**2


def _a4_p(p_claim: sp.Expr = P_FACTOR) -> Theorem:
    ni, Bi = sp.symbols("n B", integer=True, positive=True)
    pi1, pi2 = Bb / n, Bb * (Bb - 1) / (n * (n - 1))
    sums = {H1: n * a, H2: n * (a**2 + s**2)}
    second = (pi1 * H2 + pi2 * (H1**2 - H2)) / Bb**2  # (1/B^2) E (sum_i 1{i in B} h_i)^2
    return Theorem(
        name="A4.p", section="A4", status="exact",
        title="without replacement, Var(h_B) = s^2 (n - B)/(B (n - 1)) (pair-inclusion probabilities)",
        statement=r"\mathrm{Var}(h_B)=p\,s^2,\ p=\frac{n-B}{B(n-1)}",
        steps=(
            Identity("P(i in B) = C(n-1, B-1)/C(n, B) = B/n", sp.binomial(ni - 1, Bi - 1) / sp.binomial(ni, Bi), Bi / ni),
            Identity("P(i, j in B) = C(n-2, B-2)/C(n, B) = B(B-1)/(n(n-1))",
                     sp.binomial(ni - 2, Bi - 2) / sp.binomial(ni, Bi), Bi * (Bi - 1) / (ni * (ni - 1))),
            Identity("E h_B = (1/B) sum_i P(i in B) h_i = a", (pi1 * H1 / Bb).subs(sums), a),
            Identity("E h_B^2 = (1/B^2)[P(i in B) sum h_i^2 + P(i,j in B) sum_(i != j) h_i h_j] = a^2 + p s^2",
                     second.subs(sums), a**2 + p_claim * s**2),
        ),
        bound=Bound("A4.p", "Var(h_B)/s^2 for a batch of size B drawn without replacement from n samples", P_FACTOR,
                    relation="==", status="exact", conditions=BATCH_CONDITIONS),
        references=("THEORY.md §A4, §1.1 (V)",),
    )


def _a4_wme() -> Theorem:
    return Theorem(
        name="A4.WME", section="A4", status="exact",
        title="1-D finite-sum SGD: E x_(t+1)^2 = [(1 - eta a)^2 + eta^2 p s^2] E x_t^2",
        statement=r"\mathbb Ex_{t+1}^2=\big[(1-\eta a)^2+\eta^2p\,s^2\big]\mathbb Ex_t^2",
        steps=(
            Identity("x_(t+1) = (1 - eta h_B) x_t, h_B fresh with E h_B = a, E h_B^2 = a^2 + p s^2 (A4.p)",
                     expect(((1 - eta * hB) * X) ** 2, {hB: (1, a_r, a_r**2 + P_FACTOR * s**2)}, {"vars": (X,), (2,): X2}),
                     SGD_FACTOR * X2),
        ),
        bound=Bound("A4.WME", "E x_(t+1)^2 / E x_t^2 (1-D, interpolating, batch B without replacement)", SGD_FACTOR,
                    relation="==", status="exact", conditions=sign_conditions(SGD_FACTOR) + BATCH_CONDITIONS),
        references=("THEORY.md §A4 (1-D form), §G3",),
    )


B_CRIT = n * eta * s**2 / (eta * s**2 + a * (2 - eta * a) * (n - 1))


def _a4_bcrit(b_claim: sp.Expr = B_CRIT, a_hi: sp.Expr = 2 / eta) -> Theorem:
    lead = eta * s**2 + a * (2 - eta * a) * (n - 1)
    dom = Domain((Interval(a, 0, a_hi, hi_open=True), Interval(n, 1, None)))
    return Theorem(
        name="A4.Bcrit", section="A4", status="exact",
        title="critical batch size: for eta a < 2, mean-square stable iff B >= n eta s^2/(eta s^2 + a(2 - eta a)(n - 1))",
        statement=(r"1-\big[(1-\eta a)^2+\eta^2ps^2\big]=\frac{\eta(\eta s^2+a(2-\eta a)(n-1))}{B(n-1)}(B-B_{\rm crit}),\ "
                   r"B_{\rm crit}=\frac{n\eta s^2}{\eta s^2+a(2-\eta a)(n-1)}\to\frac{\eta s^2}{a(2-\eta a)}"),
        steps=(
            Identity("stability margin 1 - factor = eta (eta s^2 + a(2 - eta a)(n-1)) (B - B_crit)/(B (n-1))",
                     1 - SGD_FACTOR.subs(a_r, a), eta * lead * (Bb - b_claim) / (Bb * (n - 1))),
            Nonnegative("eta s^2 + a (2 - eta a)(n - 1) > 0 for 0 < eta a < 2, n >= 1: margin >= 0 iff B >= B_crit",
                        lead, dom, strict=True),
            Nonnegative("B_crit <= n (full batch is always stable)", n - B_CRIT, dom),
            Identity("B_crit -> eta s^2/(a (2 - eta a)) as n -> oo", sp.limit(B_CRIT, n, sp.oo),
                     eta * s**2 / (a * (2 - eta * a))),
        ),
        bound=Bound("A4.Bcrit", "critical batch size B_crit (mean-square stable iff B >= B_crit)", B_CRIT,
                    relation="==", status="exact",
                    conditions=sign_conditions(B_CRIT) + (Condition("sharpness below GD's edge eta*a < 2", eta * a, "<", 2),
                                Condition("at least two samples n >= 2", n, ">=", 2))),
        references=("THEORY.md §A4 (critical batch size), §G3",),
    )


EG_M2 = 1 - 2 * eta * a_r * (1 - gamma * a_r) + eta**2 * (a_r**2 + P_FACTOR * s**2) * ((1 - gamma * a_r) ** 2
                                                                                      + gamma**2 * P_FACTOR * s**2)


def _a4_eg() -> Theorem:
    m1, vB = sp.Symbol("m_1", real=True), sp.Symbol("v_B", nonnegative=True)
    m2 = m1**2 + vB
    claim = 1 - 2 * eta * m1 * (1 - gamma * m1) + eta**2 * m2 * ((1 - gamma * m1) ** 2 + gamma**2 * vB)
    return Theorem(
        name="A4.EG-indep", section="A4", status="exact",
        title=("1-D EG with independent batches: "
               "E M^2 = 1 - 2 eta m1 (1 - gamma m1) + eta^2 m2 ((1 - gamma m1)^2 + gamma^2 v_B)"),
        statement=(r"\mathbb EM^2=1-2\eta m_1(1-\gamma m_1)+\eta^2m_2\big((1-\gamma m_1)^2+\gamma^2v_B\big),\ "
                   r"m_1=a,\ v_B=ps^2,\ m_2=a^2+v_B"),
        steps=(
            Identity("M = 1 - eta h_B (1 - gamma h_B'), h_B, h_B' independent with moments (m1, m2): E M^2",
                     expect((1 - eta * hB * (1 - gamma * hB2)) ** 2, {hB: (1, m1, m2), hB2: (1, m1, m2)}, {"vars": ()}),
                     claim),
            Identity("with m1 = a, v_B = p s^2 (A4.p)", claim.subs({m1: a_r, vB: P_FACTOR * s**2}), EG_M2),
        ),
        bound=Bound("A4.EG-indep", "E x_(t+1)^2 / E x_t^2 for 1-D EG with independent batches (without replacement)",
                    EG_M2, relation="==", status="exact", conditions=sign_conditions(EG_M2) + BATCH_CONDITIONS),
        references=("THEORY.md §A4 (extragradient versions)",),
    )


def theorems() -> list[Theorem]:
    return [_a4_p(), _a4_wme(), _a4_bcrit(), _a4_eg()]


def mutations() -> dict[str, Theorem]:
    return {
        "A4.p with (n - 1) replaced by n": _a4_p(p_claim=(n - Bb) / (Bb * n)),
        "A4.Bcrit with (n - 1) replaced by n": _a4_bcrit(b_claim=n * eta * s**2 / (eta * s**2 + a * (2 - eta * a) * n)),
        "A4.Bcrit with eta a < 2 widened to eta a < 3": _a4_bcrit(a_hi=3 / eta),
    }
