"""THEORY.md §C: mini-batch SGD, encoded as checked chains.

Oracle: :math:`g=\\nabla f(x)+e`, :math:`\\mathbb E[e\\mid x]=0`, :math:`\\mathbb E\\|e\\|^2=V\\le\\sigma^2/b` (assumption (V)).
Inner products are scalar symbols (``A2`` = :math:`\\|\\nabla f(x)\\|^2`, ``E2`` = :math:`\\|e\\|^2`, ``U2`` =
:math:`\\|x-x^\\star\\|^2`, ``AE``, ``AU``, ``EU``), every expansion is checked on generic coordinates in
:math:`\\mathbb R^3`, and taking the conditional expectation sets ``AE`` and ``EU`` to 0 (``a`` and ``u`` are
:math:`x_t`-measurable, :math:`\\mathbb E[e\\mid x_t]=0`) and ``E2`` to ``V``. Every symbol then stands for its
(total) expectation. Assumed inequalities carry slacks ``s_k >= 0``.

Entries: C2 (Bottou, Curtis & Nocedal 2018, Thm 4.8, re-derived), C3 (convex, average iterate), C4 ((SC),
last-iterate distance), C5 (BCN Thm 4.6, re-derived under PL), C7 (distance version of C6, induction),
C8 ((PL), last iterate). Floors at the witness :math:`f=\\frac L2\\|x\\|^2`, :math:`\\eta L=1` are checked against the
A3 stationary values (scalar Lyapunov equation).
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem
from ._common import D0, Delta, L, T, average_from_descent, dot, eta, gram_subs, mu, unroll, vectors

sigma2, b, lam, v = sp.symbols("sigma2 b lambda v", positive=True)
beta, k0 = sp.symbols("beta k0", positive=True)
t, k = sp.symbols("t k", nonnegative=True)
fx, fstar = sp.symbols("f_x f_star", real=True)
A2, E2, U2, V, phi = sp.symbols("A2 E2 U2 V phi", nonnegative=True)
AE, AU, EU = sp.symbols("AE AU EU", real=True)
s1, s2, s3 = sp.symbols("s1:4", nonnegative=True)

_vec = vectors("a", "e", "u")
_a, _e, _u = _vec["a"], _vec["e"], _vec["u"]
_g = _a + _e
_GRAM = gram_subs({A2: (_a, _a), E2: (_e, _e), U2: (_u, _u), AE: (_a, _e), AU: (_a, _u), EU: (_e, _u)})
_EXPECT = {AE: 0, EU: 0, E2: V}  # E[e | x_t] = 0; a, u are x_t-measurable

STEP_LE_1_OVER_L = Condition("step condition", eta, "<=", 1 / L)
MU_LE_L = Condition("strong convexity/PL constant at most L", mu, "<=", L)


def _gram_steps(label: str) -> tuple[Step, ...]:
    return (
        Identity(f"{label}: <grad f(x), g> = A2 + AE and ||g||^2 = A2 + 2 AE + E2 (g = a + e)",
                 dot(_a, _g) + dot(_g, _g), A2 + AE + A2 + 2 * AE + E2, _GRAM),
        Identity(f"{label}: ||x+ - x*||^2 = U2 - 2 eta (AU + EU) + eta^2 (A2 + 2 AE + E2) (x+ - x* = u - eta g)",
                 dot(_u - eta * _g, _u - eta * _g), U2 - 2 * eta * (AU + EU) + eta**2 * (A2 + 2 * AE + E2), _GRAM),
    )


def _sgd_descent() -> sp.Expr:
    """E f(x+) from the descent lemma (slack s1), unbiasedness and E||e||^2 = V."""
    return (fx - eta * (A2 + AE) + L * eta**2 / 2 * (A2 + 2 * AE + E2) - s1).subs(_EXPECT)


def _stationary_steps(label: str) -> tuple[Step, ...]:
    """A3 (SGD row): E c^2 = P solves P = (1 - eta lam)^2 P + eta^2 v at P = eta v/(lam (2 - eta lam))."""
    P = eta * v / (lam * (2 - eta * lam))
    return (
        Identity(f"{label} witness: the stationary E c^2 = eta v/(lam (2 - eta lam)) solves the A3 Lyapunov equation "
                 "P = (1 - eta lam)^2 P + eta^2 v", P, (1 - eta * lam)**2 * P + eta**2 * v),
        Identity(f"{label} witness: E[f - f*] per direction = (lam/2) P = eta v/(2 (2 - eta lam)) (A3, SGD row)",
                 lam / 2 * P, eta * v / (2 * (2 - eta * lam))),
    )


# ---------------------------------------------------------------------------------------------
# C2: BCN Thm 4.8
# ---------------------------------------------------------------------------------------------

def _sgd_one_step(label: str, eta_hi: sp.Expr) -> tuple[sp.Expr, Step]:
    claim = fx - eta / 2 * A2 + L * eta**2 * sigma2 / (2 * b)
    derived = _sgd_descent().subs(V, sigma2 / b - s2)
    return claim, SlackCertificate(
        f"{label} one step: descent lemma (s1), E[AE] = 0, V = sigma2/b - s2; drop eta/2 (1 - L eta) A2 for eta <= 1/L",
        claim, derived, (s1, s2, A2), Domain((Interval(eta, 0, eta_hi),)))


def _c2(floor: sp.Expr | None = None, eta_hi: sp.Expr | None = None) -> Theorem:
    floor = L * eta * sigma2 / b if floor is None else floor
    eta_hi = 1 / L if eta_hi is None else eta_hi
    bound_expr = floor + 2 * Delta / (T * eta)
    _, one = _sgd_one_step("C2", eta_hi)
    return Theorem(
        name="C2", section="C2", status="derived",
        title=("mini-batch SGD, (L), (V), 0 < eta <= 1/L: E[(1/T) sum ||grad f(w_k)||^2] <= L eta sigma2/b + "
               "2 Delta/(T eta) (statement cited: Bottou, Curtis & Nocedal 2018, Thm 4.8; chain re-derived; floor "
               "exact at the witness f = (L/2)||x||^2, eta L = 1)"),
        statement=(r"\mathbb E\Big[\frac1T\sum_{k=1}^T\|\nabla f(w_k)\|^2\Big]\le\frac{L\eta\sigma^2}{b}+"
                   r"\frac{2(f(w_1)-f_{\inf})}{T\eta},\quad0<\eta\le1/L"),
        steps=(
            *_gram_steps("C2")[:1],
            one,
            *average_from_descent("C2", eta / 2, L * eta**2 * sigma2 / (2 * b), Delta, bound_expr,
                                  (Nonnegative("C2: c = eta/2 > 0", eta / 2, strict=True),), Domain()),
            *_stationary_steps("C2"),
            Identity("C2 witness: at lam = L, eta = 1/L the stationary E||grad f||^2 per direction lam^2 P equals v; "
                     "summed over directions (sum v = sigma2/b) it is sigma2/b",
                     (lam**2 * eta * v / (lam * (2 - eta * lam))).subs({lam: L, eta: 1 / L}), v),
            Identity("C2 witness: the bound's floor L eta sigma2/b at eta L = 1 is sigma2/b (the floor is attained)",
                     floor.subs(eta, 1 / L), sigma2 / b),
        ),
        bound=Bound("C2", "E[(1/T) sum_{k=1}^T ||grad f(w_k)||^2]", bound_expr, relation="<=", status="derived",
                    conditions=(STEP_LE_1_OVER_L,),
                    references=("Bottou, Curtis & Nocedal 2018, Thm 4.8 (cited)", "THEORY.md §C2")),
        references=("Bottou, Curtis & Nocedal 2018, Thm 4.8 (cited; M = sigma2/b, mu_BCN = M_G = 1)", "THEORY.md §C2"),
    )


# ---------------------------------------------------------------------------------------------
# C3: convex, average iterate
# ---------------------------------------------------------------------------------------------

def _c3(noise: sp.Expr | None = None) -> Theorem:
    m = eta * (1 + L * eta) / 2 * sigma2 / b if noise is None else noise
    bound_expr = D0**2 / (2 * eta * T) + m
    dom = Domain((Interval(eta, 0, 1 / L),))
    xp_xs = _u - eta * _g                                      # x+ - x*
    r_next = (U2 - 2 * eta * (AU + EU) + eta**2 * (A2 + 2 * AE + E2)).subs(_EXPECT)  # E||x+ - x*||^2
    claim = (U2 - r_next) / (2 * eta) + m                      # E f(x+) - f* <= (r_t - r_(t+1))/(2 eta) + m
    # (1) descent lemma (s1) + (2) convexity f(x) = f* + <a, u> - s2: f(x+) - f* = <a, x+ - x*> + L/2 ||x+ - x||^2 - s1 - s2
    derived = ((AU - eta * (A2 + AE)) + L / 2 * eta**2 * (A2 + 2 * AE + E2) - s1 - s2).subs(_EXPECT)
    sJ, s_avg = sp.symbols("s_J s_avg", nonnegative=True)
    return Theorem(
        name="C3", section="C3", status="derived",
        title=("mini-batch SGD, convex (L), (V), eta <= 1/L: E f(xbar_T) - f* <= D0^2/(2 eta T) + "
               "eta (1 + L eta) sigma2/(2b), xbar_T = (1/T) sum_{t=1}^T x_t"),
        statement=(r"\mathbb Ef(\bar x_T)-f^\star\le\frac{D_0^2}{2\eta T}+\frac{\eta(1+L\eta)}2\frac{\sigma^2}b,"
                   r"\quad\bar x_T=\frac1T\sum_{t=1}^Tx_t,\ \eta\le1/L"),
        steps=(
            *_gram_steps("C3"),
            Identity("C3 (3) three-point: <g, x+ - x*> = (||x - x*||^2 - ||x+ - x*||^2 - ||x+ - x||^2)/(2 eta)",
                     dot(_g, xp_xs), (dot(_u, _u) - dot(xp_xs, xp_xs) - eta**2 * dot(_g, _g)) / (2 * eta)),
            Identity("C3 (1)+(2): <a, x+ - x> + <a, x - x*> = <a, x+ - x*> = AU - eta (A2 + AE)",
                     dot(_a, -eta * _g) + dot(_a, _u), AU - eta * (A2 + AE), _GRAM),
            Identity("C3 (4): -<e, x+ - x*> = -EU + eta (AE + E2), whose expectation is eta E||e||^2",
                     -dot(_e, xp_xs), -EU + eta * (AE + E2), _GRAM),
            SlackCertificate("C3 one step (5): E f(x+) - f* <= (E||x-x*||^2 - E||x+-x*||^2)/(2 eta) + eta (1 + L eta) "
                             "sigma2/(2b): descent (s1), convexity (s2), V = sigma2/b - s3, A2 >= 0 kept with "
                             "coefficient eta (1 - L eta)/2", claim.subs(V, sigma2 / b - s3),
                             derived.subs(V, sigma2 / b - s3), (s1, s2, s3, A2), dom),
            *average_from_descent("C3 (6) with F_t = E||x_t - x*||^2/(2 eta), G_t = E f(x_(t+1)) - f*", 1, m,
                                  D0**2 / (2 * eta), bound_expr,
                                  (Nonnegative("C3: c = 1 > 0", sp.Integer(1), strict=True),), dom),
            SlackCertificate("C3 (6) Jensen: f(xbar_T) <= (1/T) sum_{t=1}^T f(x_t) (convexity, slack s_J)",
                             bound_expr, (bound_expr - s_avg) - sJ, (s_avg, sJ)),
        ),
        bound=Bound("C3", "E f(xbar_T) - f*", bound_expr, relation="<=", status="derived",
                    conditions=(STEP_LE_1_OVER_L,), references=("THEORY.md §C3",)),
        references=("THEORY.md §C3",),
    )


# ---------------------------------------------------------------------------------------------
# C4: (SC), last iterate, distance
# ---------------------------------------------------------------------------------------------

def _c4_certificate(label: str, step: sp.Expr, dom: Domain, a: sp.Expr | None = None) -> Step:
    a = 1 - step * mu if a is None else a
    r_next = (U2 - 2 * eta * (AU + EU) + eta**2 * (A2 + 2 * AE + E2)).subs(_EXPECT)
    derived = r_next.subs({AU: phi + mu / 2 * U2 + s1, A2: 2 * L * phi - s2, V: sigma2 / b - s3}).subs(eta, step)
    return SlackCertificate(
        f"{label} one step: <grad f, x - x*> >= f - f* + (mu/2)||x - x*||^2 (s1), ||grad f||^2 <= 2L (f - f*) (s2), "
        "V = sigma2/b - s3; the f - f* term has coefficient 2 eta (1 - eta L) >= 0",
        a * U2 + step**2 * sigma2 / b, derived, (s1, s2, s3, phi), dom)


def _c4(eta_hi: sp.Expr | None = None, a: sp.Expr | None = None) -> Theorem:
    eta_hi = 1 / L if eta_hi is None else eta_hi
    dom = Domain((Interval(mu, 0, L), Interval(eta, 0, eta_hi)))
    floor = eta * sigma2 / (mu * b)
    bound_expr = (1 - eta * mu)**T * D0**2 + floor
    return Theorem(
        name="C4", section="C4", status="derived",
        title=("mini-batch SGD, (SC)+(L), (V), eta <= 1/L: E||x_T - x*||^2 <= (1 - eta mu)^T D0^2 + eta sigma2/(mu b) "
               "(floor exact at mu = L, eta L = 1)"),
        statement=r"\mathbb E\|x_T-x^\star\|^2\le(1-\eta\mu)^TD_0^2+\frac{\eta\sigma^2}{\mu b},\quad\eta\le1/L",
        steps=(
            *_gram_steps("C4")[1:],
            _c4_certificate("C4", eta, dom, a),
            *unroll(1 - eta * mu, eta**2 * sigma2 / b, D0**2, T, dom, "C4"),
            Identity("C4: c/(1 - a) = eta sigma2/(mu b)", (eta**2 * sigma2 / b) / (eta * mu), floor),
            *_stationary_steps("C4"),
            Identity("C4 witness: at lam = mu = L, eta = 1/L the stationary E||x - x*||^2 (sum over directions of "
                     "eta v/(lam (2 - eta lam)), sum v = sigma2/b) equals the floor eta sigma2/(mu b)",
                     (eta * (sigma2 / b) / (lam * (2 - eta * lam))).subs({lam: L, eta: 1 / L}),
                     floor.subs({mu: L, eta: 1 / L})),
        ),
        bound=Bound("C4", "E||x_T - x*||^2", bound_expr, relation="<=", status="derived",
                    conditions=(STEP_LE_1_OVER_L, MU_LE_L), references=("THEORY.md §C4",)),
        references=("THEORY.md §C4",),
    )


# ---------------------------------------------------------------------------------------------
# C5 (BCN Thm 4.6 under PL) and C8 ((PL), last iterate)
# ---------------------------------------------------------------------------------------------

def _pl_certificate(label: str, dom: Domain, a: sp.Expr) -> Step:
    m = L * eta**2 * sigma2 / (2 * b)
    derived = (_sgd_descent().subs(V, sigma2 / b - s2).subs(A2, 2 * mu * phi + s3).subs(fx, fstar + phi)) - fstar
    return SlackCertificate(
        f"{label} one step: descent lemma (s1), V = sigma2/b - s2, PL ||grad f||^2 = 2 mu (f - f*) + s3: "
        "E f(x+) - f* <= (1 - eta mu)(f(x) - f*) + L eta^2 sigma2/(2b)", a * phi + m, derived, (s1, s2, s3, phi), dom)


def _c8(a: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(mu, 0, L), Interval(eta, 0, 1 / L)))
    a = 1 - eta * mu if a is None else a
    m = L * eta**2 * sigma2 / (2 * b)
    floor = L * eta * sigma2 / (2 * mu * b)
    bound_expr = (1 - eta * mu)**T * Delta + floor
    return Theorem(
        name="C8", section="C8", status="derived",
        title="mini-batch SGD, (PL)+(L), (V), eta <= 1/L: E f(x_T) - f* <= (1 - eta mu)^T Delta + L eta sigma2/(2 mu b)",
        statement=r"\mathbb Ef(x_T)-f^\star\le(1-\eta\mu)^T\Delta+\frac{L\eta\sigma^2}{2\mu b},\quad\eta\le1/L",
        steps=(
            *_gram_steps("C8")[:1],
            _pl_certificate("C8", dom, a),
            *unroll(1 - eta * mu, m, Delta, T, dom, "C8"),
            Identity("C8: c/(1 - a) = L eta sigma2/(2 mu b)", m / (eta * mu), floor),
        ),
        bound=Bound("C8", "E f(x_T) - f*", bound_expr, relation="<=", status="derived",
                    conditions=(STEP_LE_1_OVER_L, MU_LE_L), references=("THEORY.md §C8",)),
        references=("THEORY.md §C8",),
    )


def _c5(floor: sp.Expr | None = None) -> Theorem:
    dom = Domain((Interval(mu, 0, L), Interval(eta, 0, 1 / L)))
    a = 1 - eta * mu
    m = L * eta**2 * sigma2 / (2 * b)
    F = eta * L * sigma2 / (2 * mu * b) if floor is None else floor
    e_prev = sp.Symbol("e_k", real=True)
    e1 = Delta
    j = sp.Symbol("j", nonnegative=True)  # j = k - 1
    closed = F + a**j * (e1 - F)
    bound_expr = F + (1 - eta * mu)**(k - 1) * (Delta - F)
    return Theorem(
        name="C5", section="C5", status="derived",
        title=("mini-batch SGD, (PL)+(L) (so also (SC)), (V), 0 < eta <= 1/L: E[f(w_k) - f*] <= eta L sigma2/(2 mu b) + "
               "(1 - eta mu)^(k-1) (f(w_1) - f* - eta L sigma2/(2 mu b)) (statement cited: Bottou, Curtis & Nocedal "
               "2018, Thm 4.6, (SC); chain re-derived under PL; floor exact at mu = L, eta L = 1)"),
        statement=(r"\mathbb E[f(w_k)-f^\star]\le\frac{\eta L\sigma^2}{2\mu b}+(1-\eta\mu)^{k-1}\Big(f(w_1)-f^\star-"
                   r"\frac{\eta L\sigma^2}{2\mu b}\Big),\quad0<\eta\le1/L"),
        steps=(
            *_gram_steps("C5")[:1],
            _pl_certificate("C5", dom, a),
            Identity("C5: with F = L eta sigma2/(2 mu b), (1 - eta mu) e + L eta^2 sigma2/(2b) - F = (1 - eta mu)(e - F)",
                     a * e_prev + m - F, a * (e_prev - F)),
            Nonnegative("C5: 1 - eta mu >= 0 (the induction multiplies by it)", a, dom),
            Identity("C5: E_(j+1) = F + (1 - eta mu)^j (e_1 - F) (j = k - 1) solves E_(k+1) = (1 - eta mu) E_k + "
                     "L eta^2 sigma2/(2b)", closed.subs(j, j + 1), a * closed + m),
            Identity("C5: E_1 = e_1 = f(w_1) - f*", closed.subs(j, 0), e1),
            Identity("C5: the bound is E_k", bound_expr, closed.subs(j, k - 1)),
            *_stationary_steps("C5"),
            Identity("C5 witness: at lam = mu = L, eta = 1/L the stationary E[f - f*] (sum over directions of "
                     "eta v/(2 (2 - eta lam)), sum v = sigma2/b) equals the floor eta L sigma2/(2 mu b)",
                     (eta * (sigma2 / b) / (2 * (2 - eta * lam))).subs({lam: L, eta: 1 / L}),
                     F.subs({mu: L, eta: 1 / L})),
        ),
        bound=Bound("C5", "E[f(w_k) - f*]", bound_expr, relation="<=", status="derived",
                    conditions=(STEP_LE_1_OVER_L, MU_LE_L, Condition("iterates are counted from w_1", k, ">=", 1)),
                    references=("Bottou, Curtis & Nocedal 2018, Thm 4.6 (cited)", "THEORY.md §C5")),
        references=("Bottou, Curtis & Nocedal 2018, Thm 4.6 (cited)", "THEORY.md §C5, §C8"),
    )


# ---------------------------------------------------------------------------------------------
# C7: distance version of C6, diminishing steps (induction)
# ---------------------------------------------------------------------------------------------

def _c7(noise_branch: sp.Expr | None = None) -> Theorem:
    khat = sp.Symbol("khat", positive=True)  # t + k0
    nu, s_nu1, s_nu2, s_ind, s_rec = sp.symbols("nu s_nu1 s_nu2 s_ind s_rec", nonnegative=True)
    N = beta**2 * sigma2 / (b * (beta * mu - 1)) if noise_branch is None else noise_branch
    eta_t = beta / (t + k0)
    # nu = N + s_nu1 (nu >= first branch), solved for sigma2 (beta mu > 1): eliminates sigma2 in favour of nu
    sig_val = sp.solve(sp.Eq(nu, N + s_nu1), sigma2)[0]
    e_next = (1 - mu * beta / khat) * (nu / khat - s_ind) + beta**2 * sigma2 / (b * khat**2) - s_rec
    dom_step = Domain((Interval(mu, 0, L), Interval(k0, beta * L, None)))
    dom_ind = Domain((Interval(beta, 1 / mu, None), Interval(khat, beta * mu, None)))
    nu_expr = sp.Max(beta**2 * sigma2 / (b * (beta * mu - 1)), k0 * D0**2)
    eta_sym = sp.Symbol("eta_t", positive=True)
    return Theorem(
        name="C7", section="C7", status="derived",
        title=("mini-batch SGD, (SC)+(L), (V), eta_t = beta/(t + k0), beta > 1/mu, k0 >= beta L: E||x_t - x*||^2 <= "
               "nu/(t + k0), nu = max{beta^2 sigma2/(b (beta mu - 1)), k0 D0^2}"),
        statement=(r"\mathbb E\|x_t-x^\star\|^2\le\frac{\nu}{t+k_0},\ \nu=\max\Big\{\frac{\beta^2\sigma^2}{b(\beta\mu-1)},"
                   r"k_0D_0^2\Big\},\ \eta_t=\frac\beta{t+k_0},\ \beta>1/\mu,\ k_0\ge\beta L"),
        steps=(
            Nonnegative("C7: eta_t = beta/(t + k0) <= 1/L for k0 >= beta L", 1 / L - eta_t, dom_step),
            Nonnegative("C7: 1 - mu eta_t >= 0 (mu <= L, k0 >= beta L)", 1 - mu * eta_t, dom_step),
            Nonnegative("C7: khat = t + k0 >= beta mu", t + k0 - beta * mu, dom_step),
            _c4_certificate("C7 (C4's step with eta = eta_t <= 1/L)", eta_sym,
                            Domain((Interval(mu, 0, L), Interval(eta_sym, 0, 1 / L))), a=1 - eta_sym * mu),
            SlackCertificate("C7 base: nu >= k0 D0^2 (slack s_nu2), so E||x_0 - x*||^2 = D0^2 <= nu/k0",
                             ((k0 * D0**2 + s_nu2) / k0), D0**2, (s_nu2,)),
            SlackCertificate("C7 induction: e_t = nu/khat - s_ind, e_(t+1) = (1 - mu beta/khat) e_t + beta^2 sigma2/"
                             "(b khat^2) - s_rec, nu = beta^2 sigma2/(b (beta mu - 1)) + s_nu1; the remainder "
                             "nu/(khat^2 (khat + 1)) >= 0 is khat^2 >= (khat + 1)(khat - 1)",
                             nu / (khat + 1), e_next.subs(sigma2, sig_val), (nu, s_nu1, s_ind, s_rec), dom_ind),
        ),
        bound=Bound("C7", "E||x_t - x*||^2", nu_expr / (t + k0), relation="<=", status="derived",
                    conditions=(Condition("beta mu > 1", beta * mu, ">", 1),
                                Condition("step condition k0 >= beta L (eta_t <= 1/L)", k0, ">=", beta * L),
                                MU_LE_L),
                    references=("THEORY.md §C7", "Bottou, Curtis & Nocedal 2018, Thm 4.7 (the C6 induction, cited)")),
        references=("THEORY.md §C7", "Bottou, Curtis & Nocedal 2018, Thm 4.7 (cited)"),
    )


def theorems() -> list[Theorem]:
    return [_c2(), _c3(), _c4(), _c5(), _c7(), _c8()]


def mutations() -> dict[str, Theorem]:
    return {
        "C2 floor halved (L eta sigma2/(2b))": _c2(floor=L * eta * sigma2 / (2 * b)),
        "C2 step condition widened to eta <= 2/L": _c2(eta_hi=2 / L),
        "C3 with (1 - L eta) in place of (1 + L eta)": _c3(noise=eta * (1 - L * eta) / 2 * sigma2 / b),
        "C4 step condition widened to eta <= 2/L": _c4(eta_hi=2 / L),
        "C4 contraction 1 - 2 eta mu": _c4(a=1 - 2 * eta * mu),
        "C5 floor halved": _c5(floor=eta * L * sigma2 / (4 * mu * b)),
        "C7 noise branch of nu halved": _c7(noise_branch=beta**2 * sigma2 / (2 * b * (beta * mu - 1))),
        "C8 contraction 1 - 2 eta mu": _c8(a=1 - 2 * eta * mu),
    }
