"""THEORY.md §A1 (contraction factors) and §A2 (spectral stability thresholds) on quadratics.

Along an eigenvector of :math:`H` with eigenvalue :math:`\\lambda` the gradient is :math:`\\lambda y`, so each
deterministic method maps the coordinate :math:`c\\mapsto r(\\lambda)c` (one-step methods) or obeys a
two-step recursion with a characteristic polynomial. Thresholds follow from the Jury criterion:
:math:`|r|<1\\iff 1-r>0\\ \\&\\ 1+r>0`; a monic :math:`z^2+a_1z+a_0` has both roots in the open unit disk iff
:math:`1-a_0>0`, :math:`1+a_0>0`, :math:`1+a_1+a_0>0`, :math:`1-a_1+a_0>0`. Each "iff" is proved by an identity
that writes the Jury quantity as a positive factor times the claimed margin.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, Theorem

lam, eta, gamma, rho, c, T = sp.symbols("lambda eta gamma rho c T", positive=True)


def _grad(y: sp.Expr) -> sp.Expr:
    """The gradient of :math:`\\frac\\lambda2y^2` along one eigen-direction."""
    return lam * y


FACTORS = {
    "GD": (c - eta * _grad(c), 1 - eta * lam),
    "EG": (c - eta * _grad(c - gamma * _grad(c)), 1 - eta * lam + eta * gamma * lam**2),
    "USAM": (c - eta * _grad(c + rho * _grad(c)), 1 - eta * lam * (1 + rho * lam)),
}


def _a1(method: str, update: sp.Expr, r: sp.Expr) -> Theorem:
    return Theorem(
        name=f"A1.{method}", section="A1", status="exact",
        title=f"{method} contracts each eigen-coordinate by r(lambda) = {sp.sstr(sp.factor(r))}",
        statement=rf"c_{{t+1,i}} = \left({sp.latex(r)}\right) c_{{t,i}},\quad c_{{T,i}}=r(\lambda_i)^T c_{{0,i}}",
        steps=(Identity(f"one {method} step on (lambda/2) y^2 multiplies y by r", update, r * c),),
        bound=Bound(f"A1.{method}", "c_T / c_0 along an eigenvector", r**T, relation="==", status="exact"),
        references=("THEORY.md §A1",),
    )


def _a1_noise() -> Theorem:
    z = sp.Symbol("z", real=True)
    mean_grad = sp.Symbol("E_Z", real=True)  # E[Z] = 0 enters through the linear gradient
    update = c - eta * (_grad(c) + lam * gamma * z)
    return Theorem(
        name="A1.NI", section="A1", status="exact",
        title="noise injection has the GD mean path on a quadratic (E grad f(x + gamma Z) = grad f(x))",
        statement=r"\mathbb E\,c_{t+1} = (1-\eta\lambda)\,\mathbb E\,c_t",
        steps=(Identity("grad f(x + gamma z) = grad f(x) + lambda gamma z (linear gradient)",
                        _grad(c + gamma * z), _grad(c) + lam * gamma * z),
               Identity("taking E over Z with E Z = 0 leaves the GD factor",
                        update.subs(z, mean_grad).subs(mean_grad, 0), (1 - eta * lam) * c)),
        bound=Bound("A1.NI", "E c_T / c_0 along an eigenvector", (1 - eta * lam)**T, relation="==",
                    status="exact"),
        references=("THEORY.md §A1",),
    )


def _a2_gd() -> Theorem:
    r = FACTORS["GD"][1]
    return Theorem(
        name="A2.GD", section="A2", status="exact",
        title="GD is stable on a quadratic iff lambda < 2/eta",
        statement=r"|1-\eta\lambda|<1 \iff 0<\eta\lambda<2",
        steps=(Nonnegative("Jury: 1 - r = eta*lambda > 0 always", 1 - r, strict=True),
               Identity("Jury: 1 + r = eta (2/eta - lambda): positive iff lambda < 2/eta",
                        1 + r, eta * (2 / eta - lam))),
        bound=Bound("A2.GD", "largest stable eigenvalue lambda_max", 2 / eta, relation="==", status="exact"),
        references=("THEORY.md §A2.1, §G1",),
    )


def _a2_eg(margin: sp.Expr = 8 * gamma) -> Theorem:
    r = FACTORS["EG"][1]
    disc = sp.sqrt(1 - 8 * gamma / eta)
    lam_p, lam_m = (1 + disc) / (2 * gamma), (1 - disc) / (2 * gamma)
    return Theorem(
        name="A2.EG", section="A2", status="exact",
        title="EG is stable iff gamma*lambda < 1 and eta*lambda*(1 - gamma*lambda) < 2; no band if eta < 8 gamma",
        statement=(r"|r|<1\iff\gamma\lambda<1\ \&\ \eta\gamma\lambda^2-\eta\lambda+2>0;\quad"
                   r"\eta<8\gamma\Rightarrow\text{second always};\ \text{else band }(\lambda_-,\lambda_+)"),
        steps=(
            Identity("Jury: 1 - r = eta*lambda*(1 - gamma*lambda): positive iff gamma*lambda < 1",
                     1 - r, eta * lam * (1 - gamma * lam)),
            Identity("Jury: 1 + r = eta*gamma*lambda^2 - eta*lambda + 2", 1 + r, eta * gamma * lam**2 - eta * lam + 2),
            Nonnegative("eta < 8 gamma: 1 + r > 0 for every lambda > 0", 1 + r,
                        Domain((Interval(eta, 0, margin, hi_open=True),)), strict=True),
            Identity("eta > 8 gamma: 1 + r = eta*gamma*(lambda - lambda_+)(lambda - lambda_-)",
                     1 + r, eta * gamma * (lam - lam_p) * (lam - lam_m)),
        ),
        bound=Bound("A2.EG", "upper end of the excluded band lambda_+", lam_p, relation="==", status="exact",
                    conditions=(Condition("band exists", eta, ">", 8 * gamma),)),
        references=("THEORY.md §A2.2, §G2",),
    )


def theorems() -> list[Theorem]:
    return [_a1(m, u, r) for m, (u, r) in FACTORS.items()] + [_a1_noise(), _a2_gd(), _a2_eg()]


def mutations() -> dict[str, Theorem]:
    eg = FACTORS["EG"]
    return {
        "A1.EG with the sign of the gamma term flipped": _a1("EG", eg[0], 1 - eta * lam - eta * gamma * lam**2),
        "A1.USAM with rho halved": _a1("USAM", FACTORS["USAM"][0], 1 - eta * lam * (1 + rho * lam / 2)),
        "A2.EG band-free condition widened to eta < 9 gamma": _a2_eg(margin=9 * gamma),
        "A2.GD with threshold 4/eta": _a2_gd().replace_step(
            1, rhs=eta * (4 / eta - lam)),
    }
