"""THEORY.md §D, random and normalized perturbations: noise injection (D4) and SAM (D5).

These are xtrap's own bounds ("derived for xtrap"), **not** the theorems of Lin, Kong, Stich & Jaggi
(ICML 2020), which are not available. Every chain is written with exact rationals, inner products
and squared norms as scalar symbols, and each assumed inequality as an equality with a nonnegative
slack (THEORY.md §4.5):

* **D4** noise injection (Gaussian, ball), **D4-K** (:math:`K` workers, :math:`\\mathbb E\\|Z\\|^2\\le\\sigma_Z^2`),
  **D4.floor** [exact], **D4.smoothed** (SGD on :math:`f_\\gamma`) [derived].
* **D5a** normalized SAM, independent ascent batch [derived], **D5a.witness** [exact];
  **D5b** standard (same-batch) SAM, :math:`\\eta\\le\\frac1{4L}` [derived].

Every chain instantiates the master lemma of :mod:`proofs.catalog.d_master` (D0, D0-K) with
:math:`\\delta_t` the perturbation; the bounded quantity and parameter names are those of §D.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Theorem
from .d_master import (A2, AVG, D_ETA, Delta, Delta_gamma, E2, G2, K, L, STEP, T, _averaging, _d0_steps, _d0k_steps,
                       _expect2, _ref, _sq, _telescoping, d, d0_average_claim, d0k_average_claim, delta2, eta, f0,
                       gamma, nG, r2, rho, s, sb, sigma2, sigma_Z2)
from .e_smoothing import ball_second_moment_steps, gaussian_second_moment_steps


# ---------------------------------------------------------------------------------------------
# D4: noise injection / randomized smoothing
# ---------------------------------------------------------------------------------------------

def d4(law: str = "gauss", m2: sp.Expr | None = None) -> Theorem:
    M2 = {"gauss": d, "ball": d / (d + 2)}[law] if m2 is None else m2
    moment = gaussian_second_moment_steps() if law == "gauss" else ball_second_moment_steps()
    claim = d0_average_claim(gamma**2 * M2)
    name = "D4" if law == "gauss" else "D4.ball"
    return Theorem(
        name=name, section="D4", status="derived",
        title=f"noise injection, {'Gaussian' if law == 'gauss' else 'uniform ball'} delta = gamma Z: "
              f"2 Delta/(eta T) + L eta sigma^2/b + L^2 gamma^2 {sp.sstr(M2)}",
        statement=(r"\frac1T\sum\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}+\frac{L\eta\sigma^2}b+L^2\gamma^2"
                   + sp.latex(M2)),
        steps=(
            *moment,
            *_d0_steps(),
            SlackCertificate("D0 with delta2 = gamma^2 E||Z||^2 (Z independent of the update batch)", claim,
                             d0_average_claim(gamma**2 * (d if law == "gauss" else d / (d + 2))) - s[8], (s[8],)),
        ),
        bound=Bound(name, AVG, claim, conditions=(STEP,), status="derived", references=_ref("D4")),
        references=_ref("D4"),
    )


def d4k() -> Theorem:
    claim = d0k_average_claim(gamma**2 * sigma_Z2)
    return Theorem(
        name="D4-K", section="D4", status="derived",
        title="noise injection, K workers, independent Z^k, E||Z||^2 <= sigma_Z^2",
        statement=(r"\frac1T\sum_t\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}+\frac{L\eta\sigma^2}{Kb}"
                   r"+L^2\gamma^2\sigma_Z^2"),
        steps=(
            *_d0k_steps(),
            SlackCertificate("D0-K with delta2 = gamma^2 (sigma_Z^2 - s) (E||Z||^2 <= sigma_Z^2)", claim,
                             d0k_average_claim(gamma**2 * (sigma_Z2 - s[8])) - s[9], (s[8], s[9])),
        ),
        bound=Bound("D4-K", AVG + "; sigma_Z2 >= E||Z||^2 (Gaussian d, ball d/(d+2), sphere 1)", claim,
                    conditions=(STEP,), status="derived", references=_ref("D4")),
        references=_ref("D4"),
    )


def d4_floor_value() -> sp.Expr:
    return sb + L**2 * gamma**2 * d


def d4_floor(value: sp.Expr | None = None) -> Theorem:
    lam, v, V, w = sp.symbols("lambda v V w", positive=True)
    y, e, z = sp.symbols("y epsilon z", real=True)
    y_next = y - eta * (lam * (y + gamma * z) + e)
    omega = _expect2(y_next**2, {y: V}, {e: v, z: w}) - (1 - eta * lam)**2 * V
    Vstar = eta**2 * (v + lam**2 * gamma**2 * w) / (1 - (1 - eta * lam)**2)
    a3_ni = eta * (v + gamma**2 * lam**2 * w) / (2 * (2 - eta * lam))
    value = d4_floor_value() if value is None else value
    return Theorem(
        name="D4.floor", section="D4", status="exact",
        title="D4 witness: f = (L/2)||x||^2, eta = 1/L, Gaussian noise injection: E||grad f||^2 -> sigma^2/b + L^2 gamma^2 d",
        statement=r"\lim_t\mathbb E\|\nabla f(x_t)\|^2=\frac{\sigma^2}b+L^2\gamma^2d",
        steps=(
            Identity("one NI step on (lambda/2) y^2: y' = (1 - eta lambda) y - eta lambda gamma z - eta eps",
                     y_next, (1 - eta * lam) * y - eta * lam * gamma * z - eta * e),
            Identity("second moment: E y'^2 = (1 - eta lambda)^2 E y^2 + eta^2 (v + lambda^2 gamma^2 w)",
                     omega, eta**2 * (v + lam**2 * gamma**2 * w)),
            Identity("lambda^2 V* = 2 lambda x (A3 row 'NI')", lam**2 * Vstar, 2 * lam * a3_ni),
            Identity("at lambda = L, eta = 1/L: one step reaches the stationary value v + L^2 gamma^2 w",
                     (lam**2 * omega).subs({lam: L, eta: 1 / L}), v + L**2 * gamma**2 * w),
            *gaussian_second_moment_steps()[1:2],
            Identity("summed over d directions: v = sigma^2/(b d), w = Var Z_j = 1 (Gaussian)",
                     d * (v + L**2 * gamma**2 * w).subs({v: sb / d, w: 1}), value),
            Identity("the floor equals D4's bound at eta = 1/L as T -> oo",
                     sp.limit(d0_average_claim(gamma**2 * d).subs(eta, 1 / L), T, sp.oo), value),
        ),
        bound=Bound("D4.floor", "lim_t E||grad f(x_t)||^2 for Gaussian NI on f = (L/2)||x||^2 with additive noise, "
                    "tr Cov = sigma2/b", value, relation="==",
                    conditions=(Condition("step condition", eta, "==", 1 / L),), status="exact",
                    references=_ref("D4")),
        references=_ref("D4") + ("THEORY.md §A3 (NI)",),
    )


def d4_smoothed() -> Theorem:
    EX2, M2_, Mc, C2_ = sp.symbols("EX2 M2 Mc Cc2", nonnegative=True)
    Vk, Vh, Ag = sp.symbols("V_k V_h A_gamma", nonnegative=True)
    var_bound = sb + L**2 * gamma**2 * sigma_Z2
    claim = 2 * Delta_gamma / (eta * T) + L * eta * (sb / K + L**2 * gamma**2 * sigma_Z2 / K)
    return Theorem(
        name="D4.smoothed", section="D4", status="derived",
        title="NI is SGD on f_gamma with gradient variance <= sigma^2/(Kb) + L^2 gamma^2 sigma_Z^2/K",
        statement=(r"\frac1T\sum_t\mathbb E\|\nabla f_\gamma(x_t)\|^2\le\frac{2(f_\gamma(x_0)-\inf f_\gamma)}{\eta T}"
                   r"+L\eta\Big(\frac{\sigma^2}{Kb}+\frac{L^2\gamma^2\sigma_Z^2}{K}\Big)"),
        steps=(
            Identity("E||X - c||^2 = E||X - EX||^2 + ||EX - c||^2 (E<X, c> = <EX, c>, E<X, EX> = ||EX||^2)",
                     EX2 - 2 * Mc + C2_, (EX2 - M2_) + (M2_ - 2 * Mc + C2_)),
            SlackCertificate("one worker: E||g(u_k) - grad f_gamma(x)||^2 = E||g(u_k) - grad f(u_k)||^2 "
                             "+ E||grad f(x - gamma Z) - grad f_gamma(x)||^2 <= sigma^2/b + E||grad f(x - gamma Z) - "
                             "grad f(x)||^2 <= sigma^2/b + L^2 gamma^2 E||Z||^2 <= sigma^2/b + L^2 gamma^2 sigma_Z^2",
                             var_bound, (sb - s[0]) + (L**2 * gamma**2 * (sigma_Z2 - s[1]) - s[2] - s[3]),
                             (s[0], s[1], s[2], s[3])),
            SlackCertificate("K independent workers: Var h = (1/K^2) sum_k Var_k <= (sigma^2/b + L^2 gamma^2 sigma_Z^2)/K",
                             var_bound / K, (K * var_bound - s[4]) / K**2, (s[4],)),
            SlackCertificate("SGD step on the L-smooth f_gamma (E1): E f_gamma(x+) <= f_gamma - eta A + L eta^2/2 (A + Var h); "
                             "eta <= 1/L drops -eta/2 (1 - L eta) A",
                             f0 - eta / 2 * Ag + L * eta**2 / 2 * var_bound / K,
                             f0 - eta * Ag + L * eta**2 / 2 * (Ag + var_bound / K - s[5]) - s[6], (Ag, s[5], s[6]),
                             Domain((D_ETA,))),
            *_telescoping(),
            _averaging("D4.smoothed (f_gamma(x_T) >= inf f_gamma)", eta / 2, L * eta**2 / 2 * var_bound / K, claim,
                       top=Delta_gamma),
        ),
        bound=Bound("D4.smoothed", "(1/T) sum_{t<T} E||grad f_gamma(x_t)||^2 (smoothed gradient, base points); "
                    "Delta_gamma = f_gamma(x_0) - inf f_gamma", claim, conditions=(STEP,), status="derived",
                    references=_ref("D4")),
        references=_ref("D4") + ("THEORY.md §E1",),
    )


# ---------------------------------------------------------------------------------------------
# D5: SAM (normalized), independent ascent batch (a) and same batch (b)
# ---------------------------------------------------------------------------------------------

def d5a() -> Theorem:
    claim = d0_average_claim(rho**2)
    return Theorem(
        name="D5a", section="D5", status="derived",
        title="normalized SAM, independent ascent batch: 2 Delta/(eta T) + L eta sigma^2/b + L^2 rho^2",
        statement=r"\frac1T\sum\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}+\frac{L\eta\sigma^2}b+L^2\rho^2",
        steps=(
            Identity("||delta||^2 = ||rho g/||g||||^2 = rho^2 ||g||^2/||g||^2 = rho^2", rho**2 * nG**2 / nG**2, rho**2),
            *_d0_steps(),
            Identity("D0 with delta2 = rho^2", d0_average_claim(delta2).subs(delta2, rho**2), claim),
        ),
        bound=Bound("D5a", AVG, claim, conditions=(STEP,), status="derived", references=_ref("D5")),
        references=_ref("D5"),
    )


def d5a_witness_value() -> sp.Expr:
    return L**2 * rho**2


def d5a_witness(value: sp.Expr | None = None) -> Theorem:
    x = sp.Matrix(sp.symbols("x1:4", real=True))
    nx = sp.sqrt(_sq(x))
    g = L * x
    x1 = x - (1 / L) * L * (x + rho * g / sp.sqrt(_sq(g)))  # SAM step, eta = 1/L
    x1_expected = -rho * x / nx
    g1 = L * x1_expected
    x2 = x1_expected - (1 / L) * L * (x1_expected + rho * g1 / sp.sqrt(_sq(g1)))
    lam = sp.Symbol("lambda", positive=True)
    value = d5a_witness_value() if value is None else value
    return Theorem(
        name="D5a.witness", section="D5", status="exact",
        title="deterministic normalized SAM on (L/2)||x||^2, eta = 1/L: ||grad f(x_t)||^2 = L^2 rho^2 for t >= 1",
        statement=r"x_1=-\rho\,x_0/\|x_0\|,\ \|\nabla f(x_t)\|^2=L^2\rho^2\ (t\ge1)",
        steps=(
            Identity("one SAM step at eta = 1/L (3-D, x_0 != 0): x_1 = -rho x_0/||x_0|| (||x_1 - (-rho x_0/||x_0||)||^2 = 0)",
                     _sq(x1 - x1_expected), 0),
            Identity("||grad f(x_1)||^2 = L^2 ||x_1||^2 = L^2 rho^2", _sq(g1), value),
            Identity("the next step lands on rho x_0/||x_0||: the 2-cycle +-rho x_0/||x_0||", _sq(x2 - rho * x / nx), 0),
            Identity("A2.7 cycle amplitude c = eta lambda rho/(2 - eta lambda) is rho at eta lambda = 1",
                     (eta * lam * rho / (2 - eta * lam)).subs(eta, 1 / lam), rho),
            Identity("D5a's bound at eta = 1/L, sigma = 0, T -> oo equals the witness",
                     sp.limit(d0_average_claim(rho**2).subs({eta: 1 / L, sigma2: 0}), T, sp.oo), value),
        ),
        bound=Bound("D5a.witness", "||grad f(x_t)||^2, t >= 1, deterministic normalized SAM on (L/2)||x||^2 "
                    "from x_0 != 0", value, relation="==",
                    conditions=(Condition("step condition", eta, "==", 1 / L),), status="exact",
                    references=_ref("D5") + ("THEORY.md §A2.7",)),
        references=_ref("D5") + ("THEORY.md §A2.7",),
    )


def d5b(rho_const: sp.Expr = 3) -> Theorem:
    dom = Domain((Interval(eta, 0, 1 / (4 * L), lo_open=True),))
    ae_ = sp.Symbol("ae", real=True)
    GpE2, GmE2, ApE2 = sp.symbols("GpE2 GmE2 ApE2", nonnegative=True)
    # descent; Young -<a,e> <= (||a||^2 + ||e||^2)/2; ||G+e||^2 <= 2||G||^2 + 2||e||^2;
    # ||e||^2 <= L^2 ||delta||^2 <= L^2 rho^2 (Ls); E||G||^2 <= ||a||^2 + sigma^2/b
    E2_val = L**2 * r2 - s[3]
    derived = (f0 - eta * A2 - eta * (-(A2 + E2_val) / 2 + s[1])
               + L * eta**2 / 2 * (2 * (A2 + sb - s[4]) + 2 * E2_val - s[2]) - s[0])
    one = f0 - eta * (sp.Rational(1, 2) - L * eta) * A2 + eta * L**2 * r2 * (sp.Rational(1, 2) + L * eta) + L * eta**2 * sb
    drop = f0 - eta / 4 * A2 + sp.Rational(3, 4) * eta * L**2 * r2 + L * eta**2 * sb
    claim_r2 = 4 * Delta / (eta * T) + rho_const * L**2 * r2 + 4 * L * eta * sb
    claim = claim_r2.subs(r2, rho**2)
    return Theorem(
        name="D5b", section="D5", status="derived",
        title="standard SAM (same batch), eta <= 1/(4L): 4 Delta/(eta T) + 3 L^2 rho^2 + 4 L eta sigma^2/b",
        statement=(r"\eta\le\frac1{4L}:\ \frac1T\sum\mathbb E\|\nabla f(x_t)\|^2\le\frac{4\Delta}{\eta T}+3L^2\rho^2"
                   r"+\frac{4L\eta\sigma^2}b"),
        steps=(
            Identity("Young: -<a, e> = (||a||^2 + ||e||^2)/2 - ||a + e||^2/2", -ae_, (A2 + E2) / 2 - ApE2 / 2,
                     subs=((ApE2, A2 + 2 * ae_ + E2),)),
            Identity("parallelogram: ||G + e||^2 = 2||G||^2 + 2||e||^2 - ||G - e||^2", GpE2, 2 * G2 + 2 * E2 - GmE2,
                     subs=((GpE2, G2 + 2 * sp.Symbol("Ge") + E2), (GmE2, G2 - 2 * sp.Symbol("Ge") + E2))),
            SlackCertificate("D5b one step: descent lemma, E<a,G> = ||a||^2, Young, parallelogram, ||e|| <= L rho (Ls), "
                             "E||G||^2 <= ||a||^2 + sigma^2/b (r2 = rho^2)", one, derived, tuple(s[:5])),
            Nonnegative("1/4 - L eta >= 0 for eta <= 1/(4L)", sp.Rational(1, 4) - L * eta, dom),
            SlackCertificate("eta <= 1/(4L): 1/2 - L eta >= 1/4 and 1/2 + L eta <= 3/4 (A2, r2 >= 0 act as slacks)",
                             drop, one, (A2, r2), dom),
            *_telescoping(),
            _averaging("D5b", eta / 4, sp.Rational(3, 4) * eta * L**2 * r2 + L * eta**2 * sb, claim_r2),
        ),
        bound=Bound("D5b", AVG + "; any ||delta|| <= rho, same batch", claim,
                    conditions=(Condition("step condition", eta, "<=", 1 / (4 * L)),), status="derived",
                    references=_ref("D5")),
        references=_ref("D5"),
    )


def theorems() -> list[Theorem]:
    return [d4("gauss"), d4("ball"), d4k(), d4_floor(), d4_smoothed(), d5a(), d5a_witness(), d5b()]


def mutations() -> dict[str, Theorem]:
    return {
        "D4 Gaussian with the ball moment d/(d+2)": d4("gauss", m2=d / (d + 2)),
        "D4.floor with L^2 gamma^2 d/2": d4_floor(value=sb + L**2 * gamma**2 * d / 2),
        "D5a.witness with 2 L^2 rho^2": d5a_witness(value=2 * L**2 * rho**2),
        "D5b with 3 L^2 rho^2 halved": d5b(rho_const=sp.Rational(3, 2)),
    }
