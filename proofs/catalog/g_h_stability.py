"""THEORY.md §G2 (sharpness filters: linear stability of a minimum) and §H4 (exact stochastic lower bound).

G2: one theorem per row of the table whose entry is a formula (GD, HB, NAG, EG, USAM, PEG, NI). Each
derives the row's characteristic polynomial (or one-step factor) from the update and writes every
Jury quantity as a positive factor times the claimed margin, exactly as in
:mod:`proofs.catalog.a_quadratics` (the one-step factors are imported from there). Where A2 exports the
same threshold (``A2.<method>`` in ``a_quadratics`` or ``a_thresholds`` with a quantity starting
``"largest stable eigenvalue lambda_max"``), an extra identity checks that the G2 formula equals A2's. The rows "normalized SAM" (A2.7, a 2-cycle) and
"mini-batch SGD" (A4, :math:`\\eta^\\star_{\\rm var}`) are not closed-form thresholds and are not encoded here.

Jury criterion: :math:`|r|<1\\iff1-r>0\\ \\&\\ 1+r>0`; a monic :math:`z^2+a_1z+a_0` has both roots in the open
unit disk iff :math:`1-a_0>0`, :math:`1+a_0>0`, :math:`1+a_1+a_0>0`, :math:`1-a_1+a_0>0`.

H4: SGD with :math:`\\eta_t=1/(\\mu(t+1))` on :math:`\\frac\\mu2\\|x-x^\\star\\|^2` with oracle :math:`\\mu(x-\\xi)` computes
the running mean of the samples, so it attains the Gaussian-location minimax value :math:`\\sigma^2/(2\\mu N)`.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, Step, Theorem
from .a_quadratics import FACTORS

lam, eta, gamma, rho, beta = sp.symbols("lambda eta gamma rho beta", positive=True)
z = sp.Symbol("z")
QUANTITY = "largest stable eigenvalue lambda_max"
REFS = ("THEORY.md §G2", "THEORY.md §A2")


A2_MODULES = ("a_quadratics", "a_thresholds")  # where A2 thresholds are exported (the latter may be absent)


@lru_cache(maxsize=1)
def _a2_thresholds() -> dict[str, sp.Expr]:
    """A2's exported thresholds (method -> expr), with their symbols renamed onto ours by name."""
    mine = {s.name: s for s in (lam, eta, gamma, rho, beta)}
    out = {}
    for module in A2_MODULES:
        try:
            mod = importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{module}":
                raise
            continue
        for th in mod.theorems():
            bd = th.bound
            if th.name.startswith("A2.") and bd is not None and bd.relation == "==" and bd.quantity.startswith(QUANTITY):
                e = sp.sympify(bd.expr)
                out[th.name[3:]] = e.subs({s: mine[s.name] for s in e.free_symbols if s.name in mine})
    return out


def _cross_check(method: str, thr: sp.Expr) -> tuple[Step, ...]:
    a2 = _a2_thresholds().get(method)
    if a2 is None:
        return ()
    return (Identity(f"the G2 row formula equals A2.{method}'s exported threshold", thr, a2),)


def _jury2(poly: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """(1 - a0, 1 + a0, 1 + a1 + a0, 1 - a1 + a0) of a monic quadratic in z."""
    p = sp.Poly(sp.expand(poly), z)
    assert p.degree() == 2 and p.LC() == 1
    a1, a0 = p.coeff_monomial(z), p.coeff_monomial(1)
    return 1 - a0, 1 + a0, 1 + a1 + a0, 1 - a1 + a0


def _row(method: str, title: str, statement: str, thr: sp.Expr, steps: tuple[Step, ...],
         conditions: tuple[Condition, ...] = ()) -> Theorem:
    return Theorem(
        name=f"G2.{method}", section="G2", status="exact", title=title, statement=statement,
        steps=steps + _cross_check(method, thr),
        bound=Bound(f"G2.{method}", QUANTITY, thr, relation="==", status="exact", conditions=conditions,
                    references=REFS),
        references=REFS,
    )


def _g2_gd() -> Theorem:
    update, r = FACTORS["GD"]
    c = sp.Symbol("c", positive=True)
    thr = 2 / eta
    return _row("GD", "sharpness filter, GD: stable iff lambda_max < 2/eta", r"\lambda_{\max}<2/\eta", thr, (
        Identity("GD multiplies each eigen-coordinate by r = 1 - eta lambda", update, r * c),
        Nonnegative("Jury: 1 - r = eta lambda > 0", 1 - r, strict=True),
        Identity("Jury: 1 + r = eta (2/eta - lambda)", 1 + r, eta * (thr - lam)),
    ))


def _g2_hb(thr: sp.Expr | None = None) -> Theorem:
    thr = 2 * (1 + beta) / eta if thr is None else thr
    poly = z**2 - (1 + beta - eta * lam) * z + beta
    mode = z**2 - (z - eta * lam * z + beta * (z - 1))  # x_(t+1) - [x_t - eta lam x_t + beta (x_t - x_(t-1))] at x_s = z^s
    j = _jury2(poly)
    dom_beta = Domain((Interval(beta, 0, 1, hi_open=True),))
    return _row("HB", "sharpness filter, heavy ball (0 <= beta < 1): stable iff lambda_max < 2 (1 + beta)/eta",
                r"\lambda_{\max}<2(1+\beta)/\eta", thr, (
                    Identity("HB: x_(t+1) = x_t - eta lambda x_t + beta (x_t - x_(t-1)) has z^2 - (1 + beta - eta lambda) z "
                             "+ beta", mode, poly),
                    Nonnegative("Jury: 1 - a0 = 1 - beta > 0 for beta < 1", j[0], dom_beta, strict=True),
                    Nonnegative("Jury: 1 + a0 = 1 + beta > 0", j[1], strict=True),
                    Identity("Jury: 1 + a1 + a0 = eta lambda > 0", j[2], eta * lam),
                    Identity("Jury: 1 - a1 + a0 = eta (2 (1 + beta)/eta - lambda)", j[3], eta * (thr - lam)),
                ), (Condition("momentum below 1", beta, "<", 1), Condition("momentum nonnegative", beta, ">=", 0)))


def _g2_nag(thr: sp.Expr | None = None) -> Theorem:
    thr = 2 * (1 + beta) / ((1 + 2 * beta) * eta) if thr is None else thr
    poly = z**2 - (1 + beta) * (1 - eta * lam) * z + beta * (1 - eta * lam)
    y0, y1 = sp.symbols("y0 y1")
    x_next, x_cur = (1 - eta * lam) * y1, (1 - eta * lam) * y0  # x_(t+1) = y_t - eta lam y_t, x_t = y_(t-1) - ...
    j = _jury2(poly)
    dom_beta = Domain((Interval(beta, 0, 1, hi_open=True),))
    return _row("NAG", "sharpness filter, Nesterov (0 <= beta < 1): stable iff lambda_max < 2 (1 + beta)/((1 + 2 beta) eta)",
                r"\lambda_{\max}<\frac{2(1+\beta)}{(1+2\beta)\eta}", thr, (
                    Identity("NAG: y_(t+1) = x_(t+1) + beta (x_(t+1) - x_t) = (1 + beta)(1 - eta lambda) y_t - beta "
                             "(1 - eta lambda) y_(t-1)", x_next + beta * (x_next - x_cur),
                             (1 + beta) * (1 - eta * lam) * y1 - beta * (1 - eta * lam) * y0),
                    Identity("NAG: characteristic polynomial of that recursion",
                             z**2 - ((1 + beta) * (1 - eta * lam) * z - beta * (1 - eta * lam)), poly),
                    Nonnegative("Jury: 1 - a0 = 1 - beta (1 - eta lambda) > 0 for beta < 1", j[0], dom_beta, strict=True),
                    Identity("Jury: 1 + a1 + a0 = eta lambda > 0", j[2], eta * lam),
                    Identity("Jury: 1 - a1 + a0 = (1 + 2 beta) eta (threshold - lambda)", j[3],
                             (1 + 2 * beta) * eta * (thr - lam)),
                    Nonnegative("Jury: 1 + a0 = 1 + beta (1 - eta lambda) > 0 for every lambda <= threshold (so the "
                                "threshold is the only binding condition)", j[1],
                                Domain((Interval(beta, 0, 1, hi_open=True), Interval(lam, 0, thr))), strict=True),
                ), (Condition("momentum below 1", beta, "<", 1), Condition("momentum nonnegative", beta, ">=", 0)))


def _g2_eg() -> Theorem:
    update, r = FACTORS["EG"]
    c = sp.Symbol("c", positive=True)
    return _row("EG", ("sharpness filter, EG: stable iff lambda < 1/gamma and eta lambda (1 - gamma lambda) < 2; "
                       "for eta < 8 gamma the second always holds, so lambda_max < 1/gamma"),
                r"\lambda_{\max}<1/\gamma\ \&\ \eta\lambda(1-\gamma\lambda)<2", 1 / gamma, (
                    Identity("EG multiplies each eigen-coordinate by r = 1 - eta lambda (1 - gamma lambda)", update, r * c),
                    Identity("Jury: 1 - r = eta gamma lambda (1/gamma - lambda)", 1 - r, eta * gamma * lam * (1 / gamma - lam)),
                    Identity("Jury: 1 + r = 2 - eta lambda (1 - gamma lambda)", 1 + r, 2 - eta * lam * (1 - gamma * lam)),
                    Nonnegative("eta < 8 gamma: 2 - eta lambda (1 - gamma lambda) > 0 for every lambda", 1 + r,
                                Domain((Interval(eta, 0, 8 * gamma, hi_open=True),)), strict=True),
                ), (Condition("no unstable band", eta, "<", 8 * gamma),))


def _g2_usam(thr: sp.Expr | None = None) -> Theorem:
    update, r = FACTORS["USAM"]
    c = sp.Symbol("c", positive=True)
    thr = (sp.sqrt(1 + 8 * rho / eta) - 1) / (2 * rho) if thr is None else thr
    lam_minus = -(sp.sqrt(1 + 8 * rho / eta) + 1) / (2 * rho)
    return _row("USAM", "sharpness filter, USAM: stable iff lambda_max < (sqrt(1 + 8 rho/eta) - 1)/(2 rho)",
                r"\lambda_{\max}<\frac{\sqrt{1+8\rho/\eta}-1}{2\rho}", thr, (
                    Identity("USAM multiplies each eigen-coordinate by r = 1 - eta lambda (1 + rho lambda)", update, r * c),
                    Nonnegative("Jury: 1 - r = eta lambda (1 + rho lambda) > 0", 1 - r, strict=True),
                    Identity("Jury: 1 + r = eta rho (threshold - lambda)(lambda - lambda_-)", 1 + r,
                             eta * rho * (thr - lam) * (lam - lam_minus)),
                    Nonnegative("lambda - lambda_- > 0 (lambda_- < 0)", lam - lam_minus, strict=True),
                ))


def _g2_peg(thr2: sp.Expr | None = None) -> Theorem:
    thr2 = 2 / (eta + 2 * gamma) if thr2 is None else thr2
    M = sp.Matrix([[1 - eta * lam, eta * gamma * lam**2], [1, -gamma * lam]])  # state (x_t, y_(t-1))
    x0, y0 = sp.symbols("x0 y0")
    y_t = x0 - gamma * lam * y0
    poly = z**2 - (1 - (eta + gamma) * lam) * z - gamma * lam
    j = _jury2(poly)
    return _row("PEG", "sharpness filter, PEG: stable iff lambda_max < min{1/gamma, 2/(eta + 2 gamma)}",
                r"\lambda_{\max}<\min\{1/\gamma,2/(\eta+2\gamma)\}", sp.Min(1 / gamma, thr2), (
                    *(Identity(f"PEG: y_t = x_t - gamma lambda y_(t-1), x_(t+1) = x_t - eta lambda y_t is the map M on "
                               f"(x_t, y_(t-1)), component {i}", lhs, rhs)
                      for i, (lhs, rhs) in enumerate(zip([x0 - eta * lam * y_t, y_t], M * sp.Matrix([x0, y0])))),
                    Identity("PEG: det(z I - M) = z^2 - (1 - (eta + gamma) lambda) z - gamma lambda",
                             (z * sp.eye(2) - M).det(), poly),
                    Nonnegative("Jury: 1 - a0 = 1 + gamma lambda > 0", j[0], strict=True),
                    Identity("Jury: 1 + a0 = gamma (1/gamma - lambda)", j[1], gamma * (1 / gamma - lam)),
                    Identity("Jury: 1 + a1 + a0 = eta lambda > 0", j[2], eta * lam),
                    Identity("Jury: 1 - a1 + a0 = (eta + 2 gamma)(2/(eta + 2 gamma) - lambda)", j[3],
                             (eta + 2 * gamma) * (thr2 - lam)),
                    Nonnegative("1/gamma - 2/(eta + 2 gamma) = eta/(gamma (eta + 2 gamma)) > 0: for eta > 0 the "
                                "minimum is always 2/(eta + 2 gamma)", 1 / gamma - 2 / (eta + 2 * gamma), strict=True),
                ))


def _expect(expr: sp.Expr, moments: dict[sp.Expr, sp.Expr], variables: tuple[sp.Symbol, ...]) -> sp.Expr:
    """E of a polynomial in independent zero-mean ``variables`` with the given second moments."""
    p = sp.Poly(sp.expand(expr), *variables)
    out = sp.Integer(0)
    for monom, coeff in p.terms():
        term = coeff
        for var, power in zip(variables, monom):
            if power == 0:
                continue
            if power == 1:
                term = 0
                break
            if power == 2:
                term *= moments[var]
            else:
                raise ValueError("only moments up to order 2 are given")
        out += term
    return out


def _g2_ni() -> Theorem:
    c, w, v = sp.symbols("c w v", positive=True)
    zz, eps = sp.symbols("Z epsilon", real=True)
    nxt = c - eta * (lam * (c + gamma * zz) + eps)  # gradient at x + gamma Z plus additive noise
    second = _expect(nxt**2, {zz: w, eps: v}, (zz, eps))
    r = 1 - eta * lam
    return _row("NI", ("sharpness filter, noise injection with additive noise: mean-square stable iff lambda_max < 2/eta "
                       "(GD's threshold); the injected noise only adds eta^2 (v + gamma^2 lambda^2 w)"),
                r"\mathbb Ec_{t+1}^2=(1-\eta\lambda)^2\mathbb Ec_t^2+\eta^2(v+\gamma^2\lambda^2w)\Rightarrow\lambda_{\max}<2/\eta",
                2 / eta, (
                    Identity("NI: E c_(t+1)^2 = (1 - eta lambda)^2 c_t^2 + eta^2 (v + gamma^2 lambda^2 w) (Z, eps "
                             "independent, zero mean)", second, r**2 * c**2 + eta**2 * (v + gamma**2 * lam**2 * w)),
                    Nonnegative("Jury: 1 - (1 - eta lambda) = eta lambda > 0", 1 - r, strict=True),
                    Identity("Jury: 1 + (1 - eta lambda) = eta (2/eta - lambda)", 1 + r, eta * (2 / eta - lam)),
                ))


# ---------------------------------------------------------------------------------------------
# H4
# ---------------------------------------------------------------------------------------------

def _h4(step: sp.Expr | None = None, value: sp.Expr | None = None) -> Theorem:
    mu, sigma2, b, T, d, N = sp.symbols("mu sigma2 b T d N", positive=True)
    ssq = sp.Symbol("s^2", positive=True)
    t = sp.Symbol("t", positive=True)
    tt = sp.Symbol("t", nonnegative=True)
    x0, xt, xi, xs, S = sp.symbols("x_0 x_t xibar_t x_star S_t", real=True)  # one coordinate; S_t = sum of t batch means
    j = sp.Symbol("j", integer=True, positive=True)
    step = 1 / (mu * (tt + 1)) if step is None else step
    value = sigma2 / (2 * mu * b * T) if value is None else value
    sgd = lambda x, s, k: x - s.subs(tt, k) * mu * (x - xi)  # noqa: E731  x - eta_t g, g = mu (x - xibar_t)
    return Theorem(
        name="H4", section="H4", status="exact",
        title=("Gaussian location, f = (mu/2)||x - x*||^2, g = mu (x - xi), xi ~ N(x*, s^2 I_d): SGD with "
               "eta_t = 1/(mu (t+1)) computes the running mean and attains E f(x_T) - f* = sigma2/(2 mu N), "
               "sigma2 = mu^2 s^2 d, N = bT (the minimax lower bound for any algorithm is classical, not machine-checked)"),
        statement=(r"x_T=\frac1N\sum_{i\le N}\xi_i,\quad\mathbb Ef(x_T)-f^\star=\frac{\sigma^2}{2\mu N},\ "
                   r"\sigma^2=\mu^2s^2d,\ N=bT"),
        steps=(
            Identity("H4: g - grad f = mu (x - xi) - mu (x - x*) = -mu (xi - x*) (per coordinate)",
                     mu * (x0 - xi) - mu * (x0 - xs), -mu * (xi - xs)),
            Identity("H4: sigma2 = E||g - grad f||^2 = sum over d coordinates of mu^2 s^2 = mu^2 s^2 d",
                     sp.summation(mu**2 * ssq, (j, 1, d)), mu**2 * ssq * d),
            Identity("H4 base: eta_0 mu = 1, so x_1 = xibar_0 whatever x_0", sgd(x0, step, 0), xi),
            Identity("H4 induction: x_t = S_t/t gives x_(t+1) = x_t - eta_t mu (x_t - xibar_t) = (S_t + xibar_t)/(t+1)",
                     sgd(S / t, step, t), (S + xi) / (t + 1)),
            Identity("H4: x_T - x* is the mean of N = bT independent zero-mean samples with E||xi - x*||^2 = s^2 d: "
                     "E||x_T - x*||^2 = (N s^2 d + (N^2 - N) * 0)/N^2 = s^2 d/N",
                     (N * ssq * d + (N**2 - N) * 0) / N**2, ssq * d / N),
            Identity("H4: E f(x_T) - f* = (mu/2) s^2 d/N = sigma2/(2 mu N) with sigma2 = mu^2 s^2 d, N = bT",
                     (mu / 2 * ssq * d / N).subs(N, b * T), value.subs(sigma2, mu**2 * ssq * d)),
        ),
        bound=Bound("H4", "E f(x_T) - f* for SGD with eta_t = 1/(mu (t+1)), batch b, T steps "
                          "(= the Gaussian-location minimax value for N = bT samples)",
                    sigma2 / (2 * mu * b * T), relation="==", status="exact",
                    conditions=(Condition("at least one step", T, ">=", 1), Condition("batch size at least 1", b, ">=", 1)),
                    references=("THEORY.md §H4",)),
        references=("THEORY.md §H4",),
    )


def theorems() -> list[Theorem]:
    return [_g2_gd(), _g2_hb(), _g2_nag(), _g2_eg(), _g2_usam(), _g2_peg(), _g2_ni(), _h4()]


def mutations() -> dict[str, Theorem]:
    mu = sp.Symbol("mu", positive=True)
    tt = sp.Symbol("t", nonnegative=True)
    sigma2, b, T = sp.symbols("sigma2 b T", positive=True)
    return {
        "G2.HB threshold 2/eta (momentum ignored)": _g2_hb(thr=2 / eta),
        "G2.NAG with (1 + beta) in place of (1 + 2 beta)": _g2_nag(thr=2 * (1 + beta) / ((1 + beta) * eta)),
        "G2.USAM with 4 rho/eta under the root": _g2_usam(thr=(sp.sqrt(1 + 4 * rho / eta) - 1) / (2 * rho)),
        "G2.PEG with 2/(eta + gamma)": _g2_peg(thr2=2 / (eta + gamma)),
        "H4 with eta_t = 1/(mu (t+2))": _h4(step=1 / (mu * (tt + 2))),
        "H4 value sigma2/(mu N)": _h4(value=sigma2 / (mu * b * T)),
    }
