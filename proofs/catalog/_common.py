"""Shared pieces of the THEORY.md §B/§C chains: parameter symbols, Gram-vector helpers and chain builders.

Used by :mod:`proofs.catalog.b_gd`, :mod:`proofs.catalog.b_eg` and :mod:`proofs.catalog.c_sgd`:
:func:`vectors`, :func:`dot` and :func:`gram_subs` check inner-product identities on generic
coordinates; :func:`unroll` unrolls a linear recursion by a checked closed form;
:func:`average_from_descent` telescopes a descent inequality into an average-gradient bound.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from ..engine import Domain, Identity, Nonnegative, SlackCertificate, Step

L, mu, eta, gamma, T, Delta, D0, R = sp.symbols("L mu eta gamma T Delta D0 R", positive=True)
fx, fstar = sp.symbols("f_x f_star", real=True)  # f(x_t) and f* (any reals)
A2, C2 = sp.symbols("A2 C2", nonnegative=True)  # ||grad f(x)||^2, ||grad f(y)||^2
AC = sp.Symbol("AC", real=True)  # <grad f(x), grad f(y)>
s1, s2, s3, s4, s5 = sp.symbols("s1:6", nonnegative=True)
_k = sp.Symbol("k", integer=True, nonnegative=True)


# ---------------------------------------------------------------------------------------------
# shared helpers (b_gd, b_eg, c_sgd)
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
