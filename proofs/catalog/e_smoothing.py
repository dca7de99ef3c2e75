"""THEORY.md §E: randomized smoothing -- approximation error (E2), second order (E5), extrapolation as
(anti-)smoothing (E6).

* **E2.gauss / E2.ball / E2.sphere** [exact]: :math:`|f_\\gamma-f|\\le\\frac{L\\gamma^2}2\\mathbb E\\|Z\\|^2` for
  :math:`L`-smooth :math:`f`, with :math:`\\mathbb E\\|Z\\|^2=d,\\ \\frac d{d+2},\\ 1` computed symbolically
  (Gaussian: :math:`\\int z^2\\varphi`; ball: :math:`\\int_0^1r^2\\,d\\,r^{d-1}dr`); equality for
  :math:`\\frac L2\\|x\\|^2`. The Gaussian bound is N&S eq. (19) [cited]; the chain and witness are xtrap's.
* **E5.gauss / E5.ball / E5.sphere** [exact]: :math:`\\mathbb Ef(x+\\gamma Z)=f(x)+\\frac{\\gamma^2w}2\\operatorname{tr}\\nabla^2f(x)`
  with :math:`w=1,\\frac1{d+2},\\frac1d`, exactly for a generic quadratic in 3 variables and a generic
  cubic in 2 variables (symbolic coefficients; :math:`\\mathbb EZ_iZ_j=w\\delta_{ij}`, odd moments 0).
  **E5.sam** [exact for quadratics]: :math:`\\max_{\\|w\\|\\le\\rho}f(x+w)-f(x)=\\frac{\\rho^2}2\\lambda_{\\max}` at a
  critical point (2-D, diagonalised by a rotation).
* **E6.descent / E6.eg_gradient / E6.usam_gradient** [exact to the stated order]: Taylor coefficients in
  :math:`\\gamma` on a generic 2-D cubic; **E6.stochastic** [exact]: :math:`\\mathbb Ef(x-\\gamma g)=f-\\gamma\\|\\nabla f\\|^2
  +\\frac{\\gamma^2}2(\\nabla f^\\top H\\nabla f+\\operatorname{tr}(H\\Sigma)/b)` for a quadratic with symbolic
  :math:`2\\times2` :math:`H` and :math:`\\Sigma`.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Identity, SlackCertificate, Step, Theorem

gamma, rho, L, d, b = sp.symbols("gamma rho L d b", positive=True)
trH, lambda_max = sp.Symbol("trH", real=True), sp.Symbol("lambda_max", positive=True)
grad2, gHg, trHSigma, f_x = sp.Symbol("grad2", nonnegative=True), *sp.symbols("gHg trHSigma f_x", real=True)

_z = sp.Symbol("z", real=True)
_r = sp.Symbol("r", positive=True)
_phi = sp.exp(-_z**2 / 2) / sp.sqrt(2 * sp.pi)

LAWS = ("gauss", "ball", "sphere")
SECOND_MOMENT = {"gauss": d, "ball": d / (d + 2), "sphere": sp.Integer(1)}  # E||Z||^2
COORD_VAR = {law: m / d for law, m in SECOND_MOMENT.items()}                 # w = E Z_j^2
LAW_NAME = {"gauss": "Gaussian N(0, I_d)", "ball": "uniform ball B_d", "sphere": "uniform sphere S^(d-1)"}


def _ref(section: str, extra: str = "") -> tuple[str, ...]:
    return (f"THEORY.md §{section}" + (f" ({extra})" if extra else ""),)


def _vec(name: str, n: int) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}1:{n + 1}", real=True))


def _sq(v: sp.Matrix) -> sp.Expr:
    return (v.T * v)[0]


# ---------------------------------------------------------------------------------------------
# moments
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _normal_moment(k: int) -> sp.Expr:
    """:math:`\\mathbb EZ^k` for :math:`Z\\sim N(0,1)`, by symbolic integration."""
    return sp.integrate(_z**k * _phi, (_z, -sp.oo, sp.oo))


@lru_cache(maxsize=None)
def _ball_radial_moment(k: int) -> sp.Expr:
    """:math:`\\mathbb E\\|Z\\|^k` for :math:`Z` uniform in the unit ball of :math:`\\mathbb R^d` (radial density :math:`dr^{d-1}`)."""
    return sp.integrate(_r**k * d * _r**(d - 1), (_r, 0, 1))


def gaussian_second_moment_steps() -> tuple[Step, ...]:
    return (
        Identity("standard normal: E Z_1 = 0", _normal_moment(1), 0),
        Identity("standard normal: E Z_1^2 = 1", _normal_moment(2), 1),
        Identity("Gaussian N(0, I_d): E||Z||^2 = d E Z_1^2 = d", d * _normal_moment(2), d),
    )


def ball_second_moment_steps() -> tuple[Step, ...]:
    return (
        Identity("uniform ball: ||Z|| has density d r^(d-1) on [0, 1] (normalized)", _ball_radial_moment(0), 1),
        Identity("uniform ball: E||Z||^2 = int_0^1 r^2 d r^(d-1) dr = d/(d+2)", _ball_radial_moment(2), d / (d + 2)),
    )


def sphere_second_moment_steps() -> tuple[Step, ...]:
    z = _vec("z", 3)
    return (Identity("uniform sphere: Z = G/||G|| has ||Z||^2 = 1 surely", _sq(z / sp.sqrt(_sq(z))), 1),)


def moment_steps(law: str) -> tuple[Step, ...]:
    steps = {"gauss": gaussian_second_moment_steps, "ball": ball_second_moment_steps,
             "sphere": sphere_second_moment_steps}[law]()
    if law == "gauss":
        steps += (Identity("standard normal: E Z_1^3 = 0", _normal_moment(3), 0),)
    steps += (Identity(f"{LAW_NAME[law]}: E Z Z^T = w I (exchangeable, sign-symmetric coordinates), trace: d w = E||Z||^2",
                       d * COORD_VAR[law], SECOND_MOMENT[law]),)
    return steps


def expect(expr: sp.Expr, zs: list[sp.Symbol], cov: sp.Matrix) -> sp.Expr:
    """E of a polynomial of degree <= 3 in a zero-mean, sign-symmetric vector ``zs`` with covariance ``cov``.

    Odd moments vanish (the law of ``Z`` equals that of ``-Z``); second moments are ``cov``.
    """
    p = sp.Poly(sp.expand(expr), *zs)
    out = sp.Integer(0)
    for monom, coeff in p.terms():
        deg = sum(monom)
        if deg == 0:
            out += coeff
        elif deg == 2:
            idx = [i for i, k in enumerate(monom) for _ in range(k)]
            out += coeff * cov[idx[0], idx[1]]
        elif deg in (1, 3):
            continue
        else:
            raise ValueError("expect() handles polynomials of degree <= 3 in Z")
    return out


def _generic_quadratic(n: int) -> tuple[sp.Expr, sp.Matrix, sp.Matrix]:
    x = _vec("x", n)
    H = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"h{min(i, j) + 1}{max(i, j) + 1}", real=True))
    q = _vec("q", n)
    f = (x.T * H * x)[0] / 2 + (q.T * x)[0] + sp.Symbol("c0", real=True)
    return f, x, H


def _generic_cubic() -> tuple[sp.Expr, sp.Matrix]:
    x = _vec("x", 2)
    coeffs = sp.symbols("a0:10", real=True)
    mons = [x[0]**i * x[1]**j for i in range(4) for j in range(4 - i)]
    return sum((a * m for a, m in zip(coeffs, mons)), sp.Integer(0)), x


def _grad(f: sp.Expr, x: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([sp.diff(f, xi) for xi in x])


def _hess(f: sp.Expr, x: sp.Matrix) -> sp.Matrix:
    return sp.hessian(f, list(x))


def _at(f: sp.Expr, x: sp.Matrix, y: sp.Matrix) -> sp.Expr:
    return f.subs(dict(zip(x, y)), simultaneous=True)


# ---------------------------------------------------------------------------------------------
# E2: approximation error under (L)
# ---------------------------------------------------------------------------------------------

def e2(law: str, m2: sp.Expr | None = None) -> Theorem:
    M2 = SECOND_MOMENT[law]
    claim = L * gamma**2 / 2 * (M2 if m2 is None else m2)
    fx, GZ, Z2 = sp.symbols("fx GZ Z2", real=True)
    s_up, s_lo = sp.symbols("s_up s_lo", nonnegative=True)
    x, z = _vec("x", 3), _vec("z", 3)
    witness = L / 2 * _sq(x + gamma * z)
    # E of the witness: <x, E Z> = 0, E||Z||^2 = M2 (linear in the monomials of z)
    witness_E = (L / 2 * _sq(x) + L * gamma * sp.Symbol("xEZ") + L * gamma**2 / 2 * Z2).subs(
        {sp.Symbol("xEZ"): 0, Z2: M2})
    name = f"E2.{law}"
    return Theorem(
        name=name, section="E2", status="exact",
        title=f"|f_gamma - f| <= (L gamma^2/2) E||Z||^2 = L gamma^2 {sp.sstr(M2)}/2 ({LAW_NAME[law]}); "
              "equality for (L/2)||x||^2",
        statement=rf"|f_\gamma(x)-f(x)|\le\frac{{L\gamma^2}}2\,{sp.latex(M2)},\ \text{{equality for }}\tfrac L2\|x\|^2",
        steps=(
            *moment_steps(law),
            SlackCertificate("upper: f(x + gamma Z) = f + gamma <grad f, Z> + (L/2) gamma^2 ||Z||^2 - s_up (L); "
                             "E<grad f, Z> = 0", claim, (fx + gamma * GZ + L / 2 * gamma**2 * Z2 - s_up - fx).subs(
                                 {GZ: 0, Z2: M2}), (s_up,)),
            SlackCertificate("lower: f(x + gamma Z) = f + gamma <grad f, Z> - (L/2) gamma^2 ||Z||^2 + s_lo (L)",
                             claim, (fx - (fx + gamma * GZ - L / 2 * gamma**2 * Z2 + s_lo)).subs({GZ: 0, Z2: M2}),
                             (s_lo,)),
            Identity("witness (L/2)||x + gamma z||^2 = (L/2)||x||^2 + L gamma <x, z> + (L/2) gamma^2 ||z||^2 (3-D)",
                     witness, L / 2 * _sq(x) + L * gamma * (x.T * z)[0] + L * gamma**2 / 2 * _sq(z)),
            Identity("witness attains the bound: E f(x + gamma Z) - f(x) = L gamma^2 E||Z||^2/2",
                     witness_E - L / 2 * _sq(x), claim),
        ),
        bound=Bound(name, f"sup over L-smooth f of |f_gamma(x) - f(x)|, f_gamma = E f(x + gamma Z), Z ~ {LAW_NAME[law]}",
                    claim, status="exact",
                    references=_ref("E2", "Gaussian: Nesterov & Spokoiny 2017 eq. (19) [cited]; witness [exact]")),
        references=_ref("E2"),
    )


# ---------------------------------------------------------------------------------------------
# E5: second order, trace of the Hessian; SAM: lambda_max
# ---------------------------------------------------------------------------------------------

def e5(law: str, half: sp.Expr = sp.Rational(1, 2), w_claim: sp.Expr | None = None) -> Theorem:
    w = COORD_VAR[law]
    fq, xq, Hq = _generic_quadratic(3)
    zq = _vec("z", 3)
    Eq = expect(_at(fq, xq, xq + gamma * zq), list(zq), w * sp.eye(3))
    fc, xc = _generic_cubic()
    zc = _vec("z", 2)
    Ec = expect(_at(fc, xc, xc + gamma * zc), list(zc), w * sp.eye(2))
    claim = half * gamma**2 * (w if w_claim is None else w_claim) * trH
    name = f"E5.{law}"
    return Theorem(
        name=name, section="E5", status="exact",
        title=f"E f(x + gamma Z) = f(x) + gamma^2 w/2 tr H, w = {sp.sstr(w)} ({LAW_NAME[law]}), exact for degree <= 3",
        statement=rf"\mathbb Ef(x+\gamma Z)=f(x)+\frac{{\gamma^2}}2\,{sp.latex(w)}\operatorname{{tr}}\nabla^2f(x)",
        steps=(
            *moment_steps(law),
            Identity("generic 3-D quadratic (symbolic H, q, c): E f(x + gamma Z) - f(x) = (gamma^2 w/2) tr H",
                     Eq - fq, claim, subs=((trH, Hq.trace()),)),
            Identity("generic 2-D cubic (10 symbolic coefficients): E f(x + gamma Z) - f(x) = "
                     "(gamma^2 w/2) tr Hess f(x) (third-order term has odd moments)",
                     Ec - fc, claim, subs=((trH, _hess(fc, xc).trace()),)),
        ),
        bound=Bound(name, f"E f(x + gamma Z) - f(x) for quadratic f with trH = tr Hess f, Z ~ {LAW_NAME[law]}",
                    claim, relation="==", status="exact", references=_ref("E5")),
        references=_ref("E5"),
    )


def e5_sam(half: sp.Expr = sp.Rational(1, 2)) -> Theorem:
    f, x, H = _generic_quadratic(2)
    q = _vec("q", 2)
    w = _vec("w", 2)
    th = sp.Symbol("theta", real=True)
    Q = sp.Matrix([[sp.cos(th), -sp.sin(th)], [sp.sin(th), sp.cos(th)]])
    lam2 = sp.Symbol("lambda_2", real=True)
    s_n, t_l = sp.symbols("s_n t_l", nonnegative=True)
    quad = (lambda_max * w[0]**2 + lam2 * w[1]**2) / 2
    claim = half * rho**2 * lambda_max
    return Theorem(
        name="E5.sam", section="E5", status="exact",
        title="SAM sharpness at a critical point of a quadratic: max_{||w|| <= rho} f(x + w) - f(x) = rho^2 lambda_max/2",
        statement=r"\nabla f(x)=0:\ \max_{\|w\|\le\rho}f(x+w)-f(x)=\frac{\rho^2}2\lambda_{\max}(H)",
        steps=(
            Identity("at a critical point (q = -H x): f(x + w) - f(x) = w^T H w/2 (2-D, symbolic H)",
                     _at(f, x, x + w) - f, (w.T * H * w)[0] / 2, subs=tuple(zip(q, -H * x))),
            Identity("a rotation keeps ||w||: ||Q w||^2 = ||w||^2, so H may be taken diagonal, diag(lambda_max, lambda_2)",
                     _sq(Q * w), _sq(w)),
            SlackCertificate("w1^2 + w2^2 = rho^2 - s_n, lambda_2 = lambda_max - t_l: "
                             "(lambda_max w1^2 + lambda_2 w2^2)/2 <= rho^2 lambda_max/2",
                             claim, quad.subs(lam2, lambda_max - t_l).subs(w[0]**2, rho**2 - s_n - w[1]**2),
                             (s_n, t_l)),
            Identity("attained at w = (rho, 0)", quad.subs({w[0]: rho, w[1]: 0}), claim),
        ),
        bound=Bound("E5.sam", "max_{||w|| <= rho} f(x + w) - f(x) at a critical point x of a quadratic f "
                    "(second order for general f)", claim, relation="==",
                    conditions=(Condition("nonnegative top curvature", lambda_max, ">=", 0),), status="exact",
                    references=_ref("E5")),
        references=_ref("E5"),
    )


# ---------------------------------------------------------------------------------------------
# E6: extrapolation as (anti-)smoothing
# ---------------------------------------------------------------------------------------------

def _taylor(expr: sp.Expr, var: sp.Symbol, order: int) -> list[sp.Expr]:
    ser = sp.series(expr, var, 0, order + 1).removeO()
    return [ser.coeff(var, k) for k in range(order + 1)]


@lru_cache(maxsize=1)
def _descent_series() -> tuple[sp.Expr, sp.Matrix, list[sp.Expr]]:
    f, x = _generic_cubic()
    return f, x, _taylor(_at(f, x, x - gamma * _grad(f, x)), gamma, 2)


def e6_descent(first: sp.Expr = sp.Integer(-1), second: sp.Expr = sp.Rational(1, 2)) -> Theorem:
    f, x, coeffs = _descent_series()
    g, H = _grad(f, x), _hess(f, x)
    expected = [f, first * _sq(g), second * (g.T * H * g)[0]]
    names = ["f(x)", "-||grad f||^2", "grad f^T H grad f/2"]
    claim = f_x + first * gamma * grad2 + second * gamma**2 * gHg
    return Theorem(
        name="E6.descent", section="E6", status="exact",
        title="f(x - gamma grad f) = f - gamma ||grad f||^2 + gamma^2/2 grad f^T H grad f + O(gamma^3)",
        statement=r"f(x-\gamma\nabla f)=f-\gamma\|\nabla f\|^2+\frac{\gamma^2}2\nabla f^\top H\nabla f+O(\gamma^3)",
        steps=tuple(Identity(f"generic 2-D cubic: coefficient of gamma^{k} is {names[k]}", coeffs[k], expected[k])
                    for k in range(3)),
        bound=Bound("E6.descent", "Taylor polynomial of order 2 in gamma of f(x - gamma grad f(x)); "
                    "f_x = f(x), grad2 = ||grad f||^2, gHg = grad f^T H grad f", claim, relation="==",
                    status="exact", references=_ref("E6")),
        references=_ref("E6"),
    )


def _gradient_expansion(sign: int, step: sp.Symbol, name: str, word: str) -> Theorem:
    f, x = _generic_cubic()
    g = _grad(f, x)
    penalised = f + sign * step / 2 * _sq(g)
    target = _grad(penalised, x)
    lam = sp.Symbol("lambda", positive=True)
    y = sp.Symbol("y", real=True)
    quad = lam / 2 * y**2
    steps: list[Step] = []
    for i in range(2):
        got = _taylor(sp.diff(f, x[i]).subs({x[0]: x[0] + sign * step * g[0], x[1]: x[1] + sign * step * g[1]},
                                            simultaneous=True), step, 1)
        want = [target[i].coeff(step, 0), target[i].coeff(step, 1)]
        for k in range(2):
            steps.append(Identity(f"component {i + 1}, order {k} in {step}: grad f(x {'+' if sign > 0 else '-'} {step} "
                                  f"grad f) = grad(f {'+' if sign > 0 else '-'} {step}/2 ||grad f||^2) + O({step}^2)",
                                  got[k], sp.expand(want[k])))
    curv = lam * (1 + sign * step * lam)
    steps.append(Identity(f"on (lambda/2) y^2 the {word} objective has curvature lambda (1 {'+' if sign > 0 else '-'} "
                          f"{step} lambda), and {word} is exactly GD on it",
                          sp.diff(quad + sign * step / 2 * sp.diff(quad, y)**2, y, 2), curv))
    steps.append(Identity(f"exact on the quadratic: grad f(y {'+' if sign > 0 else '-'} {step} grad f(y)) = curvature * y",
                          sp.diff(quad, y).subs(y, y + sign * step * sp.diff(quad, y)), curv * y))
    return Theorem(
        name=name, section="E6", status="exact",
        title=f"{word}: grad f(x {'+' if sign > 0 else '-'} {step} grad f) = grad(f {'+' if sign > 0 else '-'} "
              f"{step}/2 ||grad f||^2) + O({step}^2)",
        statement=(rf"\nabla f(x{'+' if sign > 0 else '-'}{sp.latex(step)}\nabla f)=\nabla\big(f"
                   rf"{'+' if sign > 0 else '-'}\tfrac{{{sp.latex(step)}}}2\|\nabla f\|^2\big)+O({sp.latex(step)}^2)"),
        steps=tuple(steps),
        bound=Bound(name, f"curvature of f {'+' if sign > 0 else '-'} ({step}/2)||grad f||^2 along an eigenvector of "
                    f"eigenvalue lambda (the effective curvature of {word} on a quadratic)", curv, relation="==",
                    status="exact", references=_ref("E6") + ("THEORY.md §A1",)),
        references=_ref("E6"),
    )


def e6_stochastic(noise: sp.Expr = 1 / b) -> Theorem:
    f, x, H = _generic_quadratic(2)
    S = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"S{min(i, j) + 1}{max(i, j) + 1}", real=True))
    eps = _vec("epsilon", 2)
    g = _grad(f, x)
    Ef = expect(_at(f, x, x - gamma * (g + eps)), list(eps), S / b)
    claim = -gamma * grad2 + gamma**2 / 2 * (gHg + trHSigma * noise)
    return Theorem(
        name="E6.stochastic", section="E6", status="exact",
        title="stochastic extrapolation smooths: E f(x - gamma g) = f - gamma ||grad f||^2 + "
              "gamma^2/2 (grad f^T H grad f + tr(H Sigma)/b) for quadratic f",
        statement=(r"\mathbb Ef(x-\gamma g)=f-\gamma\|\nabla f\|^2+\frac{\gamma^2}2\big(\nabla f^\top H\nabla f"
                   r"+\operatorname{tr}(H\Sigma)/b\big)"),
        steps=(
            Identity("the Hessian of the generic 2-D quadratic is H (sum of squared entry differences = 0)",
                     _sq(sp.Matrix(list(_hess(f, x) - H))), 0),
            Identity("g = grad f + eps, E eps = 0, E eps eps^T = Sigma/b (symbolic 2x2 H and Sigma): "
                     "E f(x - gamma g) - f(x) = -gamma ||grad f||^2 + gamma^2/2 (grad f^T H grad f + tr(H Sigma)/b)",
                     Ef - f, claim,
                     subs=((grad2, _sq(g)), (gHg, (g.T * H * g)[0]), (trHSigma, (H * S).trace()))),
        ),
        bound=Bound("E6.stochastic", "E f(x - gamma g) - f(x) for quadratic f, E g = grad f, Cov g = Sigma/b; "
                    "grad2 = ||grad f||^2, gHg = grad f^T H grad f, trHSigma = tr(H Sigma)", claim, relation="==",
                    status="exact", references=_ref("E6", "an interpretation of the paper's smoothing, not its statement")),
        references=_ref("E6") + ("THEORY.md §1.6",),
    )


# ---------------------------------------------------------------------------------------------

def theorems() -> list[Theorem]:
    return ([e2(law) for law in LAWS] + [e5(law) for law in LAWS] + [e5_sam(), e6_descent(),
            _gradient_expansion(-1, gamma, "E6.eg_gradient", "EG"),
            _gradient_expansion(+1, rho, "E6.usam_gradient", "USAM"), e6_stochastic()])


def mutations() -> dict[str, Theorem]:
    return {
        "E2.gauss with d replaced by d/2": e2("gauss", m2=d / 2),
        "E2.ball with the Gaussian moment d": e2("ball", m2=d),
        "E5.gauss with gamma^2 tr H instead of gamma^2/2 tr H": e5("gauss", half=sp.Integer(1)),
        "E5.ball with the sphere factor 1/d": e5("ball", w_claim=1 / d),
        "E5.sam with rho^2 lambda_max (no 1/2)": e5_sam(half=sp.Integer(1)),
        "E6.descent with -gamma/2 ||grad f||^2 as the first-order term": e6_descent(first=sp.Rational(-1, 2)),
        "E6.stochastic with tr(H Sigma) not divided by b": e6_stochastic(noise=sp.Integer(1)),
    }
