"""THEORY.md §B, extragradient: deterministic EG, encoded as checked chains.

Conventions as in :mod:`proofs.catalog.b_gd` (THEORY.md §4.5: exact rationals, inner products as
scalar symbols checked on generic coordinates, assumed inequalities as equalities with nonnegative
slacks); the shared symbols and helpers live in :mod:`proofs.catalog._common`.

Entries: B5 (deterministic EG, nonconvex), B6 (EG, PL), B7 (EG, convex).
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem
from ._common import (A2, AC, C2, Delta, L, R, T, _k, average_from_descent, dot, eta, fstar, fx, gamma, gram_subs, mu,
                      s1, s2, s3, s4, s5, unroll, vectors)


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
    return [_b5(), _b6(), _b7()]


def mutations() -> dict[str, Theorem]:
    return {
        "B5 with (1 - L^2 gamma^2/2) in place of (1 - L^2 gamma^2)": _b5(coef_x=1 - L**2 * gamma**2 / 2),
        "B5 step condition widened to eta <= 2/L": _b5(eta_hi=2 / L),
        "B6 rate 1 - eta mu": _b6(1 - eta * mu),
        "B7 with c doubled": _b7(R**2 / (2 * eta / 2 * (1 - L**2 * gamma**2) * T)),
    }
