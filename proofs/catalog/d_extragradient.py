"""THEORY.md §D, extrapolation along a stochastic gradient: EG, EXTRAP-SGD, same-batch EG/USAM and PEG.

These are xtrap's own bounds ("derived for xtrap"), **not** the theorems of Lin, Kong, Stich & Jaggi
(ICML 2020), which are not available. Every chain is written with exact rationals, inner products
and squared norms as scalar symbols, and each assumed inequality as an equality with a nonnegative
slack (THEORY.md §4.5):

* **D1** EG with independent batches [derived], **D1.floor** its witness floor at
  :math:`f=\\frac L2\\|x\\|^2`, :math:`\\eta=1/L` [exact]; **D1-K** EXTRAP-SGD with :math:`K` workers
  [derived] and **D1-K.cor** its form for :math:`\\gamma\\le\\frac1{\\sqrt2L}` [derived].
* **D2** EG/USAM with the same batch, :math:`c>0` [derived]; **D2.cor** :math:`\\gamma=\\eta\\le\\frac1{4L}`
  (:math:`c\\ge\\frac{71}{128}`; constant :math:`\\frac{41}{16}`) [derived].
* **D3** PEG under :math:`L^2\\gamma^2\\le1-L\\eta`, with the check that this implies A2.6 stability [derived].

Every chain instantiates the master lemma of :mod:`proofs.catalog.d_master` (D0, D0-K) with
:math:`\\delta_t` the extrapolation step; the bounded quantity and parameter names are those of §D.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem
from .d_master import (A2, AVG, D_ETA, D_GAMMA, Dbar, Delta, E2, G2, K, L, N, R, SA, STEP, T, XTRAP, _averaging,
                       _d0_steps, _d0k_steps, _expect2, _ref, _telescoping, aG, c, d, d0_average_claim,
                       d0k_one_step_claim, eta, f0, gamma, nA, nG, s, s_low, sb, sigma2)


# ---------------------------------------------------------------------------------------------
# D1: EG, independent batches, single stream (+ exact floor)
# ---------------------------------------------------------------------------------------------

def d1_claim() -> sp.Expr:
    return (2 * Delta / (eta * T) + sb * (L * eta + L**2 * gamma**2)) / (1 - L**2 * gamma**2)


def d1(claim: sp.Expr | None = None) -> Theorem:
    Abar = sp.Symbol("Abar", nonnegative=True)
    # D0's averaged bound as an equality with slack s1; delta2 = gamma^2 (Abar + sigma^2/b - s2)
    eq = sp.Eq(Abar, d0_average_claim(gamma**2 * (Abar + sb - s[1])) - s[0])
    Abar_val = sp.solve(eq, Abar)[0]
    claim = d1_claim() if claim is None else claim
    return Theorem(
        name="D1", section="D1", status="derived",
        title="EG with independent batches: 1/(1-L^2 gamma^2) [2 Delta/(eta T) + sigma^2/b (L eta + L^2 gamma^2)]",
        statement=(r"\frac1T\sum\mathbb E\|\nabla f(x_t)\|^2\le\frac{1}{1-L^2\gamma^2}\Big[\frac{2\Delta}{\eta T}"
                   r"+\frac{\sigma^2}{b}\big(L\eta+L^2\gamma^2\big)\Big]"),
        steps=(
            *_d0_steps(),
            Identity("E||delta_t||^2 = gamma^2 E||g(x_t; xi')||^2 = gamma^2 (||grad f(x_t)||^2 + E||e'||^2) (V)",
                     gamma**2 * (A2 + 2 * sp.Symbol("X", real=True) + E2), gamma**2 * (A2 + E2),
                     subs=((sp.Symbol("X", real=True), 0),)),
            Nonnegative("1 - L^2 gamma^2 > 0 for gamma < 1/L", 1 - L**2 * gamma**2, Domain((D_GAMMA,)), strict=True),
            SlackCertificate("D1: D0 with delta2 = gamma^2 (Abar + sigma^2/b - s2); move the gamma^2 L^2 Abar part "
                             "left and divide by 1 - L^2 gamma^2 > 0", claim, Abar_val, (s[0], s[1]),
                             Domain((D_GAMMA,))),
        ),
        bound=Bound("D1", AVG, claim, conditions=(STEP, XTRAP), status="derived", references=_ref("D1")),
        references=_ref("D1"),
    )


def _a3_eg_indep(lam: sp.Symbol, v: sp.Symbol) -> sp.Expr:
    return eta * v * (1 + gamma**2 * lam**2) / (2 * (1 - gamma * lam) * (2 - eta * lam + eta * gamma * lam**2))


def d1_floor_value() -> sp.Expr:
    return sb * (1 + L**2 * gamma**2) / (1 - L**2 * gamma**2)


def d1_floor(value: sp.Expr | None = None) -> Theorem:
    lam, v, V = sp.symbols("lambda v V", positive=True)
    y, e1, e2 = sp.symbols("y epsilon epsilon_p", real=True)
    r = 1 - eta * lam + eta * gamma * lam**2
    y_next = y - eta * (lam * (y - gamma * (lam * y + e2)) + e1)  # EG, fresh batches: eps' at x, eps at u
    omega = _expect2(y_next**2, {y: V}, {e1: v, e2: v}) - r**2 * V
    Vstar = eta**2 * v * (1 + gamma**2 * lam**2) / (1 - r**2)
    per_dir = (2 * lam * _a3_eg_indep(lam, v)).subs({lam: L, eta: 1 / L})
    value = d1_floor_value() if value is None else value
    return Theorem(
        name="D1.floor", section="D1", status="exact",
        title="D1 witness: f = (L/2)||x||^2, eta = 1/L: stationary E||grad f||^2 = sigma^2/b (1+L^2 g^2)/(1-L^2 g^2)",
        statement=r"\lim_t\mathbb E\|\nabla f(x_t)\|^2=\frac{\sigma^2}{b}\frac{1+L^2\gamma^2}{1-L^2\gamma^2}",
        steps=(
            Identity("one EG step (independent batches) on (lambda/2) y^2 with additive noise: "
                     "y' = r y + eta gamma lambda eps' - eta eps",
                     y_next, r * y + eta * gamma * lam * e2 - eta * e1),
            Identity("second moment: E y'^2 = r^2 E y^2 + eta^2 v (1 + gamma^2 lambda^2)",
                     omega, eta**2 * v * (1 + gamma**2 * lam**2)),
            Identity("stationary variance solves V = r^2 V + eta^2 v (1 + gamma^2 lambda^2)",
                     Vstar, r**2 * Vstar + eta**2 * v * (1 + gamma**2 * lam**2)),
            Identity("lambda^2 V* = 2 lambda x (A3 row 'EG, indep. batches')", lam**2 * Vstar,
                     2 * lam * _a3_eg_indep(lam, v)),
            Nonnegative("stable at lambda = L, eta = 1/L: 1 - r^2 = 1 - L^2 gamma^2 > 0",
                        (1 - r**2).subs({lam: L, eta: 1 / L}), Domain((D_GAMMA,)), strict=True),
            Identity("per direction at lambda = L, eta = 1/L: v (1 + L^2 gamma^2)/(1 - L^2 gamma^2)",
                     per_dir, v * (1 + L**2 * gamma**2) / (1 - L**2 * gamma**2)),
            Identity("summed over the d directions of isotropic noise (v = sigma^2/(b d))",
                     d * per_dir.subs(v, sb / d), value),
            Identity("the floor equals D1's bound at eta = 1/L as T -> oo",
                     sp.limit(d1_claim().subs(eta, 1 / L), T, sp.oo), value),
        ),
        bound=Bound("D1.floor", "lim_t E||grad f(x_t)||^2 for EG-indep on f = (L/2)||x||^2 with additive noise, "
                    "tr Cov = sigma2/b", value, relation="==",
                    conditions=(Condition("step condition", eta, "==", 1 / L), XTRAP), status="exact",
                    references=_ref("D1")),
        references=_ref("D1") + ("THEORY.md §A3 (EG, indep. batches)",),
    )


# ---------------------------------------------------------------------------------------------
# D1-K: EXTRAP-SGD with K workers, and the gamma <= 1/(sqrt 2 L) corollary
# ---------------------------------------------------------------------------------------------

def d1k_claim(last: sp.Expr = L**2 * gamma**2 * sb) -> sp.Expr:
    return (2 * Delta / (eta * T) + L * eta * sb / K + last) / (1 - L**2 * gamma**2)


def d1k(last: sp.Expr = L**2 * gamma**2 * sb) -> Theorem:
    one = f0 - eta / 2 * (1 - L**2 * gamma**2) * A2 + eta * L**2 * gamma**2 * sb / 2 + L * eta**2 * sb / (2 * K)
    claim = d1k_claim(last)
    return Theorem(
        name="D1-K", section="D1-K", status="derived",
        title="EXTRAP-SGD, K workers: 1/(1-L^2 g^2)[2 Delta/(eta T) + L eta sigma^2/(Kb) + L^2 g^2 sigma^2/b]",
        statement=(r"\frac1T\sum_{t<T}\mathbb E\|\nabla f(x_t)\|^2\le\frac{1}{1-L^2\gamma^2}\Big[\frac{2\Delta}{\eta T}"
                   r"+\frac{L\eta\sigma^2}{Kb}+\frac{L^2\gamma^2\sigma^2}{b}\Big]"),
        steps=(
            *_d0k_steps()[:-3],
            SlackCertificate("D1-K one step: D0-K with Dbar = gamma^2 (1/K) sum_k E||d_k||^2 and "
                             "E||d_k||^2 = ||grad f(x_t)||^2 + sigma^2/b - s (independent extrapolation batches)",
                             one, d0k_one_step_claim().subs(Dbar, gamma**2 * (A2 + sb - s[4])), (s[4],)),
            *_telescoping(),
            _averaging("D1-K", eta / 2 * (1 - L**2 * gamma**2), eta * L**2 * gamma**2 * sb / 2 + L * eta**2 * sb / (2 * K),
                       claim, Domain((D_GAMMA,))),
        ),
        bound=Bound("D1-K", AVG, claim, conditions=(STEP, XTRAP), status="derived", references=_ref("D1-K")),
        references=_ref("D1-K"),
    )


def d1k_cor(factor_domain_hi: sp.Expr = 1 / (sp.sqrt(2) * L)) -> Theorem:
    dom = Domain((Interval(gamma, 0, factor_domain_hi, lo_open=True),))
    claim = 4 * Delta / (eta * T) + 2 * L * eta * sb / K + 2 * L**2 * gamma**2 * sb
    return Theorem(
        name="D1-K.cor", section="D1-K", status="derived",
        title="D1-K for gamma <= 1/(sqrt(2) L): 4 Delta/(eta T) + 2 L eta sigma^2/(Kb) + 2 L^2 gamma^2 sigma^2/b",
        statement=(r"\gamma\le\frac1{\sqrt2L}:\ \frac1T\sum\mathbb E\|\nabla f\|^2\le\frac{4\Delta}{\eta T}"
                   r"+\frac{2L\eta\sigma^2}{Kb}+\frac{2L^2\gamma^2\sigma^2}{b}"),
        steps=(
            Nonnegative("1/(1 - L^2 gamma^2) <= 2 for 0 < gamma <= 1/(sqrt(2) L)", 2 - 1 / (1 - L**2 * gamma**2), dom),
            Identity("2 x [D1-K bracket] = 4 Delta/(eta T) + 2 L eta sigma^2/(Kb) + 2 L^2 gamma^2 sigma^2/b",
                     2 * d1k_claim() * (1 - L**2 * gamma**2), claim),
            SlackCertificate("D1-K bound <= twice its bracket (Delta, sigma^2 >= 0 act as slacks)", claim, d1k_claim(),
                             (Delta, sigma2), dom),
        ),
        bound=Bound("D1-K.cor", AVG, claim,
                    conditions=(STEP, Condition("extrapolation condition", gamma, "<=", 1 / (sp.sqrt(2) * L))),
                    status="derived", references=_ref("D1-K")),
        references=_ref("D1-K"),
    )


# ---------------------------------------------------------------------------------------------
# D2: EG and USAM with the same batch
# ---------------------------------------------------------------------------------------------

C_D2 = 1 - L * gamma - L * eta / 2 * (1 + L * gamma)**2  # gamma stands for |gamma| (USAM: gamma = rho)


def d2_one_step_claim() -> sp.Expr:
    return f0 - eta * C_D2 * A2 + eta * L / 2 * (gamma + eta * (1 + L * gamma)**2) * sb


def _d2_one_step_steps() -> tuple[Step, ...]:
    u = sp.Symbol("u", nonnegative=True)
    P = sp.Symbol("P", nonnegative=True)  # ||a|| ||G||
    GE2 = (1 + L * gamma)**2 * G2 - s[4]  # ||G + e||^2 <= (1 + L|gamma|)^2 ||G||^2
    ae_val = s[1] - (L * gamma * P - nA * s[2])  # -<a,e> = ||a|| ||e|| - s2, ||e|| = L|gamma| ||G|| - s3
    P_val = (A2 + G2) / 2 - s[3]  # Young: ||a|| ||G|| = (||a||^2 + ||G||^2)/2 - (||a|| - ||G||)^2/2
    pointwise = f0 - eta * aG - eta * ae_val.subs(P, P_val) + L * eta**2 / 2 * GE2 - s[0]
    expected = pointwise.subs(aG, A2).subs(G2, A2 + sb - s[5])  # E<a,G> = ||a||^2, E||G||^2 = ||a||^2 + var
    return (
        Identity("Young: ||a|| ||G|| = (||a||^2 + ||G||^2)/2 - (||a|| - ||G||)^2/2", nA * nG,
                 (nA**2 + nG**2) / 2 - (nA - nG)**2 / 2),
        Identity("ordered squares: with N = (1 + L|gamma|)||G|| - u, ((1 + L|gamma|)||G||)^2 - N^2 = u ((1 + L|gamma|)||G|| + N)",
                 ((1 + L * gamma) * nG)**2 - N**2, u * ((1 + L * gamma) * nG + N),
                 subs=((N, (1 + L * gamma) * nG - u),)),
        SlackCertificate("||G + e||^2 <= (1 + L|gamma|)^2 ||G||^2: ||G + e|| <= ||G|| + ||e|| <= (1 + L|gamma|)||G|| "
                         "(triangle, (Ls)), both sides nonnegative", ((1 + L * gamma) * nG)**2,
                         ((1 + L * gamma) * nG)**2 - u * ((1 + L * gamma) * nG + N), (u,)),
        SlackCertificate("D2 one step: descent lemma; Cauchy-Schwarz on -<a,e>; ||e|| <= L|gamma| ||G|| (Ls); Young; "
                         "||G + e||^2 bound; E<a,G> = ||a||^2, E||G||^2 <= ||a||^2 + sigma^2/b",
                         d2_one_step_claim(), expected, tuple(s[:6])),
    )


def d2() -> Theorem:
    noise = eta * L / 2 * (gamma + eta * (1 + L * gamma)**2) * sb
    claim_c = Delta / (eta * c * T) + noise / (eta * c)
    return Theorem(
        name="D2", section="D2", status="derived",
        title="EG/USAM with the same batch: E f(x+) <= f - eta c ||grad f||^2 + (eta L/2)[|g| + eta (1+L|g|)^2] sigma^2/b",
        statement=(r"c=1-L|\gamma|-\tfrac{L\eta}2(1+L|\gamma|)^2>0:\ \mathbb Ef(x_{t+1})\le f(x_t)-\eta c\|\nabla f(x_t)\|^2"
                   r"+\tfrac{\eta L}2\big[|\gamma|+\eta(1+L|\gamma|)^2\big]\tfrac{\sigma^2}b"),
        steps=(
            *_d2_one_step_steps(),
            Identity("the A2 coefficient is eta c", -sp.diff(d2_one_step_claim(), A2), eta * C_D2),
            *_telescoping(),
            _averaging("D2", eta * c, noise, claim_c),
        ),
        bound=Bound("D2", AVG + "; gamma = |gamma| (USAM same batch: gamma = rho)", claim_c.subs(c, C_D2),
                    conditions=(Condition("same-batch condition c > 0", C_D2, ">", 0),), status="derived",
                    references=_ref("D2")),
        references=_ref("D2"),
    )


def d2_cor(c_lower: sp.Expr = sp.Rational(71, 128)) -> Theorem:
    x = sp.Symbol("x", positive=True)  # x = L eta
    cx = 1 - x - x / 2 * (1 + x)**2
    dom_x = Domain((Interval(x, 0, sp.Rational(1, 4), lo_open=True),))
    dom_eta = Domain((Interval(eta, 0, 1 / (4 * L), lo_open=True),))
    sc, sq = s[6], s[7]
    one_tied = d2_one_step_claim().subs(gamma, eta)
    one = f0 - eta / 2 * A2 + sp.Rational(41, 32) * L * eta**2 * sb
    claim = 2 * Delta / (eta * T) + sp.Rational(41, 16) * L * eta * sb
    return Theorem(
        name="D2.cor", section="D2", status="derived",
        title="D2 with gamma = eta <= 1/(4L): c >= 71/128 > 1/2; 2 Delta/(eta T) + (41/16) L eta sigma^2/b",
        statement=(r"\gamma=\eta\le\frac1{4L}:\ c\ge\frac{71}{128}>\frac12,\ \frac1T\sum\mathbb E\|\nabla f(x_t)\|^2"
                   r"\le\frac{2\Delta}{\eta T}+\frac{41}{16}\frac{L\eta\sigma^2}b"),
        steps=(
            Identity("with gamma = eta and x = L eta: c = 1 - x - (x/2)(1 + x)^2", C_D2.subs(gamma, eta),
                     cx.subs(x, L * eta)),
            Identity("c'(x) = -(3x^2 + 4x + 3)/2", sp.diff(cx, x), -(3 * x**2 + 4 * x + 3) / 2),
            Nonnegative("3x^2 + 4x + 3 > 0: c is decreasing", 3 * x**2 + 4 * x + 3, strict=True),
            Identity("c(1/4) = 71/128", cx.subs(x, sp.Rational(1, 4)), sp.Rational(71, 128)),
            Nonnegative(f"c(x) >= {c_lower} on 0 < x <= 1/4", cx - c_lower, dom_x),
            Nonnegative(f"{c_lower} >= 1/2", c_lower - sp.Rational(1, 2)),
            Nonnegative("(1 + L eta)^2 <= 25/16 for L eta <= 1/4", sp.Rational(25, 16) - (1 + L * eta)**2, dom_eta),
            Identity("D2's one step at gamma = eta, with c and q = (1 + L eta)^2 named",
                     one_tied, f0 - eta * c * A2 + eta * L / 2 * (eta + eta * sp.Symbol("q")) * sb,
                     subs=((c, C_D2.subs(gamma, eta)), (sp.Symbol("q"), (1 + L * eta)**2))),
            SlackCertificate("c = 1/2 + s_c, (1 + L eta)^2 = 25/16 - s_q: noise constant (eta L/2) eta (1 + 25/16) = "
                             "(41/32) L eta^2", one,
                             f0 - eta * (sp.Rational(1, 2) + sc) * A2
                             + eta * L / 2 * (eta + eta * (sp.Rational(25, 16) - sq)) * sb, (sc, sq)),
            *_telescoping(),
            _averaging("D2.cor", eta / 2, sp.Rational(41, 32) * L * eta**2 * sb, claim),
        ),
        bound=Bound("D2.cor", AVG, claim,
                    conditions=(Condition("step condition", eta, "<=", 1 / (4 * L)),
                                Condition("tied extrapolation step", gamma, "==", eta)),
                    status="derived", references=_ref("D2")),
        references=_ref("D2"),
    )


# ---------------------------------------------------------------------------------------------
# D3: PEG
# ---------------------------------------------------------------------------------------------

def d3(condition: bool = True) -> Theorem:
    lam, xg = sp.symbols("lambda x", positive=True)
    SC, Clast, Sv = sp.symbols("SC C_last S_v", nonnegative=True)
    gamma_hi = sp.sqrt(1 - L * eta) / L if condition else None
    dom = Domain((D_ETA, Interval(gamma, 0, gamma_hi, lo_open=True)))
    # summed D0 one-steps (third term kept): f_T = f_0 - eta/2 SA - eta/2 (1 - L eta)(SC + C_last)
    #   + eta L^2/2 SD + T L eta^2 sigma^2/(2b) - R, with SD = gamma^2 (SC + (T - 1) sigma^2/b) - S_v
    SD = gamma**2 * (SC + (T - 1) * sb) - Sv
    fT_minus_f0 = (-eta / 2 * SA - eta / 2 * (1 - L * eta) * (SC + Clast) + eta * L**2 / 2 * SD
                   + T * L * eta**2 / 2 * sb - R)
    SA_val = sp.solve(sp.Eq(-(Delta - s_low), fT_minus_f0), SA)[0]
    claim = 2 * Delta / (eta * T) + (L * eta + L**2 * gamma**2) * sb
    cond = (1 - L * eta) - L**2 * gamma**2
    conditions = (STEP, Condition("PEG condition", L**2 * gamma**2, "<=", 1 - L * eta)) if condition else (STEP,)
    return Theorem(
        name="D3", section="D3", status="derived",
        title="PEG: eta <= 1/L and L^2 gamma^2 <= 1 - L eta give 2 Delta/(eta T) + (L eta + L^2 gamma^2) sigma^2/b",
        statement=(r"\eta\le\frac1L,\ L^2\gamma^2\le1-L\eta:\ \frac1T\sum\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}"
                   r"+\big(L\eta+L^2\gamma^2\big)\frac{\sigma^2}b"),
        steps=(
            *_d0_steps()[:3],
            Identity("E||delta_t||^2 = gamma^2 E||g_(t-1)||^2 = gamma^2 (E||grad f(u_(t-1))||^2 + E||e_(t-1)||^2), "
                     "delta_0 = 0: sum_(t<T) D_t = gamma^2 (sum_(t<T-1) C_t + (T - 1) sigma^2/b) - S_v "
                     "(index shift, T = 4 instance: D_1 + D_2 + D_3 with D_t = gamma^2 (C_(t-1) + sigma^2/b))",
                     sum(gamma**2 * (sp.Symbol(f"C{k}") + sb) for k in range(3)),
                     gamma**2 * (sum(sp.Symbol(f"C{k}") for k in range(3)) + 3 * sb)),
            *_telescoping(),
            SlackCertificate("D3: sum D0 one-steps keeping the third term; the gradient parts cancel: coefficient of "
                             "sum_(t<T-1) C_t is (1 - L eta - L^2 gamma^2)/T >= 0; (T-1)/T <= 1 (sigma^2 as slack)",
                             claim, SA_val / T, (s_low, R, Sv, SC, Clast, sigma2), dom),
            # check (THEORY §D3): D3's condition implies the A2.6 stability for every lambda <= L
            Nonnegative("D3's condition: 1 - L eta - L^2 gamma^2 >= 0 on its domain", cond, dom),
            Identity("check: (2 - 2 L gamma) - (1 - L^2 gamma^2) = (1 - L gamma)^2 >= 0",
                     (2 - 2 * L * gamma) - (1 - L**2 * gamma**2), (1 - L * gamma)**2),
            Identity("2 - (eta + 2 gamma) L = (1 - L gamma)^2 + (1 - L eta - L^2 gamma^2)",
                     2 - (eta + 2 * gamma) * L, (1 - L * gamma)**2 + cond),
            Nonnegative("L eta > 0", L * eta, strict=True),
            Identity("1 - L gamma = (1 - L^2 gamma^2)/(1 + L gamma), and 1 - L^2 gamma^2 >= L eta > 0: "
                     "gamma lambda <= gamma L < 1 and (1 - L gamma)^2 > 0, so (eta + 2 gamma) L < 2",
                     1 - L * gamma, (1 - L**2 * gamma**2) / (1 + L * gamma)),
            Nonnegative("for lambda <= L: 2 - (eta + 2 gamma) lambda = [2 - (eta + 2 gamma) L] + (eta + 2 gamma)(L - lambda)",
                        (eta + 2 * gamma) * (L - lam), Domain((Interval(lam, 0, L, lo_open=True),))),
            Nonnegative("gamma = eta <= (sqrt 5 - 1)/(2L) satisfies the condition: 1 - x - x^2 >= 0 for x = L eta",
                        1 - xg - xg**2, Domain((Interval(xg, 0, (sp.sqrt(5) - 1) / 2),))),
        ),
        bound=Bound("D3", AVG, claim, conditions=conditions, status="derived", references=_ref("D3")),
        references=_ref("D3") + ("THEORY.md §A2.6",),
    )


def theorems() -> list[Theorem]:
    return [d1(), d1_floor(), d1k(), d1k_cor(), d2(), d2_cor(), d3()]


def mutations() -> dict[str, Theorem]:
    return {
        "D1 with the factor 1/(1 - L^2 gamma^2) dropped": d1(claim=2 * Delta / (eta * T) + sb * (L * eta + L**2 * gamma**2)),
        "D1-K with the extrapolation term over K b instead of b": d1k(last=L**2 * gamma**2 * sb / K),
        "D1-K.cor on gamma <= 1/L instead of 1/(sqrt(2) L)": d1k_cor(factor_domain_hi=1 / L),
        "D2.cor with c >= 72/128": d2_cor(c_lower=sp.Rational(72, 128)),
        "D3 with the condition L^2 gamma^2 <= 1 - L eta dropped": d3(condition=False),
        "D1.floor without the (1 + L^2 gamma^2) numerator": d1_floor(value=sb / (1 - L**2 * gamma**2)),
    }
