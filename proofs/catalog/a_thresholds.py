"""THEORY.md §A2.3–A2.7: USAM, heavy-ball, Nesterov and PEG thresholds; the normalized-SAM 2-cycle.

Conventions as in :mod:`.a_quadratics`: along an eigenvector of :math:`H` with eigenvalue :math:`\\lambda>0` the
gradient is :math:`\\lambda y`. A two-step method is a linear map :math:`s_{t+1}=As_t` of a two-dimensional state;
``A`` is *derived* as the Jacobian of the update, an identity checks that the update equals ``A s`` (so ``A`` is
the recursion), and the characteristic polynomial is computed as :math:`\\det(zI-A)`.

Jury criterion (taken as known, as in :mod:`.a_quadratics`): a monic :math:`z^2+a_1z+a_0` has both roots in the
open unit disk iff :math:`1-a_0>0`, :math:`1+a_0>0`, :math:`p(1)=1+a_1+a_0>0`, :math:`p(-1)=1-a_1+a_0>0`. Each
Jury quantity is either written by an identity as (a positive factor) times (the claimed margin), so that it is
positive iff the claimed condition holds, or proved positive on the stated domain.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, Theorem

lam, eta, gamma, rho, c = sp.symbols("lambda eta gamma rho c", positive=True)
beta = sp.Symbol("beta", real=True)
z = sp.Symbol("z")
x, xp, m, y = sp.symbols("x x_prev m y", real=True)  # state coordinates


def mat_identity(description: str, lhs, rhs) -> Identity:  # noqa: ANN001
    """``lhs == rhs`` entrywise, as one identity: :math:`\\sum_{ij}w_{ij}(L_{ij}-R_{ij})=0` with fresh symbols
    :math:`w_{ij}` holds identically iff every entry does."""
    lhs, rhs = sp.Matrix(lhs), sp.Matrix(rhs)
    if lhs.shape != rhs.shape:
        raise ValueError(f"shapes differ: {lhs.shape} vs {rhs.shape}")
    w = [sp.Symbol(f"entry_{i}_{j}") for i in range(lhs.rows) for j in range(lhs.cols)]
    return Identity(description, sum(wk * e for wk, e in zip(w, lhs)), sum(wk * e for wk, e in zip(w, rhs)))


def linear_recursion(description: str, update, state) -> tuple[sp.Matrix, tuple[Identity, ...]]:  # noqa: ANN001
    """``A`` = Jacobian of ``update`` in ``state``, its charpoly, and the identity ``update == A state``."""
    A = sp.Matrix(update).jacobian(sp.Matrix(state))
    return A, (mat_identity(f"{description}: the update is linear, s_(t+1) = A s_t", update, A * sp.Matrix(state)),)


def sign_conditions(*exprs: sp.Expr) -> tuple[Condition, ...]:
    """The sign assumptions of the symbols in ``exprs`` (the proof's domain) as conditions checked at evaluation."""
    syms = sorted(set().union(*(sp.sympify(e).free_symbols for e in exprs)), key=lambda q: q.name)
    return (tuple(Condition(f"sign assumption {q} > 0", q, ">", 0) for q in syms if q.is_positive)
            + tuple(Condition(f"sign assumption {q} >= 0", q, ">=", 0) for q in syms
                    if q.is_nonnegative and not q.is_positive))


def charpoly(A: sp.Matrix) -> sp.Expr:
    return sp.expand((z * sp.eye(A.rows) - A).det())


def jury(poly: sp.Expr) -> dict[str, sp.Expr]:
    one, a1, a0 = sp.Poly(poly, z).all_coeffs()
    assert one == 1
    return {"1-a0": 1 - a0, "1+a0": 1 + a0, "p(1)": 1 + a1 + a0, "p(-1)": 1 - a1 + a0}


# ---------------------------------------------------------------------------------------------- A2.3 USAM
def _a2_usam(k: int = 8) -> Theorem:
    r = 1 - eta * lam * (1 + rho * lam)
    S = sp.sqrt(1 + k * rho / eta)
    lam_u, lam_m = (S - 1) / (2 * rho), (S + 1) / (2 * rho)  # roots of 2 - eta*lam*(1+rho*lam): lam_u, -lam_m
    G = sp.Symbol("G", positive=True)  # ||grad f||, normalized SAM's effective radius rho/G
    gap = 8 * rho / (eta**2 * (1 + 4 * rho / eta + S))
    return Theorem(
        name="A2.USAM", section="A2", status="exact",
        title="USAM is stable iff eta*lambda*(1 + rho*lambda) < 2 iff lambda < (sqrt(1 + 8 rho/eta) - 1)/(2 rho)",
        statement=(r"|1-\eta\lambda(1+\rho\lambda)|<1\iff\eta\lambda(1+\rho\lambda)<2\iff"
                   r"\lambda<\lambda_{\rm USAM}=\frac{\sqrt{1+8\rho/\eta}-1}{2\rho}<\frac2\eta,\ "
                   r"\lambda_{\rm USAM}\to\frac2\eta\ (\rho\to0)"),
        steps=(
            Identity("one USAM step multiplies c by r = 1 - eta*lambda*(1 + rho*lambda)",
                     c - eta * lam * (c + rho * lam * c), r * c),
            Identity("Jury: 1 - r = eta*lambda*(1 + rho*lambda), positive for every lambda > 0",
                     1 - r, eta * lam * (1 + rho * lam)),
            Identity("Jury: 1 + r = eta*rho*(lambda_U - lambda)*(lambda + lambda_m): positive iff lambda < lambda_U",
                     1 + r, eta * rho * (lam_u - lam) * (lam + lam_m)),
            Nonnegative("lambda + lambda_m > 0, lambda_m = (sqrt(1 + 8 rho/eta) + 1)/(2 rho)", lam + lam_m, strict=True),
            Identity("2/eta - lambda_U = 8 rho/(eta^2 (1 + 4 rho/eta + sqrt(1 + 8 rho/eta)))", 2 / eta - lam_u, gap),
            Nonnegative("hence lambda_U < 2/eta", gap, strict=True),
            Identity("lambda_U -> 2/eta as rho -> 0", sp.limit(lam_u, rho, 0), 2 / eta),
            Identity("normalized SAM (radius rho/||grad f||): lambda = G/(2 rho) (sqrt(1 + 8 rho/(eta G)) - 1)",
                     lam_u.subs(rho, rho / G), G / (2 * rho) * (sp.sqrt(1 + 8 * rho / (eta * G)) - 1)),
        ),
        bound=Bound("A2.USAM", "largest stable eigenvalue lambda_max (stable iff lambda < lambda_max)",
                    (sp.sqrt(1 + 8 * rho / eta) - 1) / (2 * rho), relation="==", status="exact",
                    conditions=sign_conditions(eta, rho)),
        references=("THEORY.md §A2.3, §G2",),
    )


# ---------------------------------------------------------------------------------------------- A2.4 heavy ball
HB_POLY = z**2 - (1 + beta - eta * lam) * z + beta


def _hb_forms() -> tuple[tuple, tuple]:
    classical = [x - eta * lam * x + beta * (x - xp), x]  # state (x_t, x_{t-1})
    m_new = beta * m + lam * x
    pytorch = [x - eta * m_new, m_new]  # state (x_t, m_t)
    return (classical, [x, xp]), (pytorch, [x, m])


def _a2_hb(threshold: sp.Expr = 2 * (1 + beta) / eta) -> Theorem:
    (cl, s_cl), (pt, s_pt) = _hb_forms()
    A_cl, lin_cl = linear_recursion("HB classical x_(t+1) = x_t - eta grad + beta (x_t - x_(t-1))", cl, s_cl)
    A_pt, lin_pt = linear_recursion("HB PyTorch m_(t+1) = beta m_t + grad, x_(t+1) = x_t - eta m_(t+1)", pt, s_pt)
    j = jury(HB_POLY)
    return Theorem(
        name="A2.HB", section="A2", status="exact",
        title="heavy ball (classical and PyTorch forms) is stable iff |beta| < 1 and 0 < eta*lambda < 2(1 + beta)",
        statement=(r"\det(zI-A)=z^2-(1+\beta-\eta\lambda)z+\beta\ \text{(both forms)};\ "
                   r"\text{stable}\iff|\beta|<1,\ 0<\eta\lambda<2(1+\beta)"),
        steps=(
            *lin_cl,
            Identity("classical: det(zI - A) = z^2 - (1 + beta - eta lambda) z + beta", charpoly(A_cl), HB_POLY),
            *lin_pt,
            Identity("PyTorch: det(zI - A) = z^2 - (1 + beta - eta lambda) z + beta", charpoly(A_pt), HB_POLY),
            Identity("Jury: 1 - a0 = 1 - beta: positive iff beta < 1", j["1-a0"], 1 - beta),
            Identity("Jury: 1 + a0 = 1 + beta: positive iff beta > -1", j["1+a0"], 1 + beta),
            Identity("Jury: p(1) = eta*lambda", j["p(1)"], eta * lam),
            Nonnegative("p(1) = eta*lambda > 0 for every lambda > 0", eta * lam, strict=True),
            Identity("Jury: p(-1) = eta*(2(1 + beta)/eta - lambda): positive iff lambda < 2(1 + beta)/eta",
                     j["p(-1)"], eta * (threshold - lam)),
        ),
        bound=Bound("A2.HB", "largest stable eigenvalue lambda_max (stable iff lambda < lambda_max)",
                    2 * (1 + beta) / eta, relation="==", status="exact",
                    conditions=sign_conditions(eta) + (Condition("momentum |beta| < 1", beta, "<", 1),
                                                       Condition("momentum |beta| < 1", beta, ">", -1))),
        references=("THEORY.md §A2.4, §1.5, §G2",),
    )


# ---------------------------------------------------------------------------------------------- A2.5 Nesterov
NAG_POLY = z**2 - (1 + beta) * (1 - eta * lam) * z + beta * (1 - eta * lam)
NAG_THRESHOLD = 2 * (1 + beta) / ((1 + 2 * beta) * eta)


def _nag_forms() -> tuple[tuple, tuple]:
    x_new = y - eta * lam * y
    classical = [x_new, x_new + beta * (x_new - x)]  # state (x_t, y_t)
    m_new = beta * m + lam * x
    pytorch = [x - eta * (lam * x + beta * m_new), m_new]  # state (x_t, m_t), nesterov=True
    return (classical, [x, y]), (pytorch, [x, m])


def _a2_nag(lam_hi: sp.Expr = NAG_THRESHOLD) -> Theorem:
    (cl, s_cl), (pt, s_pt) = _nag_forms()
    A_cl, lin_cl = linear_recursion("NAG classical x_(t+1) = y_t - eta grad(y_t), y_(t+1) = x_(t+1) + beta (x_(t+1) - x_t)",
                                    cl, s_cl)
    A_pt, lin_pt = linear_recursion("NAG PyTorch m_(t+1) = beta m_t + grad, x_(t+1) = x_t - eta (grad + beta m_(t+1))",
                                    pt, s_pt)
    j = jury(NAG_POLY)
    b01 = Interval(beta, 0, 1, hi_open=True)
    return Theorem(
        name="A2.NAG", section="A2", status="exact",
        title="Nesterov (classical and PyTorch forms), 0 <= beta < 1: stable iff 0 < eta*lambda < 2(1+beta)/(1+2 beta)",
        statement=(r"\det(zI-A)=z^2-(1+\beta)(1-\eta\lambda)z+\beta(1-\eta\lambda)\ \text{(both forms)};\ "
                   r"0\le\beta<1:\ \text{stable}\iff0<\eta\lambda<\frac{2(1+\beta)}{1+2\beta}"),
        steps=(
            *lin_cl,
            Identity("classical: det(zI - A) = z^2 - (1+beta)(1-eta lambda) z + beta (1-eta lambda)", charpoly(A_cl),
                     NAG_POLY),
            *lin_pt,
            Identity("PyTorch: det(zI - A) = z^2 - (1+beta)(1-eta lambda) z + beta (1-eta lambda)", charpoly(A_pt),
                     NAG_POLY),
            Identity("Jury: p(1) = eta*lambda", j["p(1)"], eta * lam),
            Nonnegative("p(1) = eta*lambda > 0 for every lambda > 0", eta * lam, strict=True),
            Identity("Jury: p(-1) = (1 + 2 beta) eta (2(1+beta)/((1+2beta) eta) - lambda)", j["p(-1)"],
                     (1 + 2 * beta) * eta * (NAG_THRESHOLD - lam)),
            Nonnegative("1 + 2 beta > 0 for 0 <= beta < 1, so p(-1) > 0 iff lambda < the threshold", 1 + 2 * beta,
                        Domain((b01,)), strict=True),
            Nonnegative("Jury: 1 - a0 = 1 - beta (1 - eta lambda) > 0 for 0 <= beta < 1, every lambda > 0",
                        j["1-a0"], Domain((b01,)), strict=True),
            Nonnegative("Jury: 1 + a0 = 1 + beta (1 - eta lambda) > 0 for 0 <= beta < 1 below the threshold",
                        j["1+a0"], Domain((b01, Interval(lam, 0, lam_hi, hi_open=True))), strict=True),
        ),
        bound=Bound("A2.NAG", "largest stable eigenvalue lambda_max (stable iff lambda < lambda_max)",
                    NAG_THRESHOLD, relation="==", status="exact",
                    conditions=sign_conditions(eta) + (Condition("momentum 0 <= beta", beta, ">=", 0),
                                Condition("momentum beta < 1", beta, "<", 1))),
        references=("THEORY.md §A2.5, §1.5, §G1, §G2",),
    )


# ---------------------------------------------------------------------------------------------- A2.6 PEG
PEG_POLY = z**2 - (1 - (eta + gamma) * lam) * z - gamma * lam


def _a2_peg(second: sp.Expr = eta + 2 * gamma) -> Theorem:
    y_t = x - gamma * lam * xp  # here xp plays y_{t-1}
    A_xy, lin_xy = linear_recursion("PEG y_t = x_t - gamma grad(y_(t-1)), x_(t+1) = x_t - eta grad(y_t), "
                                    "state (x_t, y_(t-1))",
                                    [x - eta * lam * y_t, y_t], [x, xp])
    g_t = lam * (x - gamma * m)  # here m plays g_{t-1}
    A_xg, lin_xg = linear_recursion("PEG in the state (x_t, g_(t-1)) of A3", [x - eta * g_t, g_t], [x, m])
    j = jury(PEG_POLY)
    X, G1, G0 = sp.symbols("x_t g_t g_tm1", real=True)  # any gradients: g_t at y_t, g_(t-1) at y_(t-1)
    return Theorem(
        name="A2.PEG", section="A2", status="exact",
        title="PEG is stable iff gamma*lambda < 1 and (eta + 2 gamma)*lambda < 2; with gamma = eta, y_t is OGD",
        statement=(r"\det(zI-A)=z^2-(1-(\eta+\gamma)\lambda)z-\gamma\lambda;\ \text{stable}\iff\gamma\lambda<1\ \&\ "
                   r"(\eta+2\gamma)\lambda<2;\ \gamma=\eta:\ \eta\lambda<\tfrac23,\ "
                   r"y_{t+1}=y_t-2\eta\nabla f(y_t)+\eta\nabla f(y_{t-1})"),
        steps=(
            *lin_xy,
            Identity("state (x_t, y_(t-1)): det(zI - A) = z^2 - (1 - (eta+gamma) lambda) z - gamma lambda",
                     charpoly(A_xy), PEG_POLY),
            *lin_xg,
            Identity("state (x_t, g_(t-1)): the same polynomial", charpoly(A_xg), PEG_POLY),
            Identity("Jury: 1 - a0 = 1 + gamma lambda", j["1-a0"], 1 + gamma * lam),
            Nonnegative("1 + gamma lambda > 0", 1 + gamma * lam, strict=True),
            Identity("Jury: 1 + a0 = gamma (1/gamma - lambda): positive iff gamma lambda < 1", j["1+a0"],
                     gamma * (1 / gamma - lam)),
            Identity("Jury: p(1) = eta lambda", j["p(1)"], eta * lam),
            Nonnegative("p(1) = eta lambda > 0", eta * lam, strict=True),
            Identity("Jury: p(-1) = (eta + 2 gamma)(2/(eta + 2 gamma) - lambda): positive iff (eta + 2 gamma) lambda < 2",
                     j["p(-1)"], (eta + 2 * gamma) * (2 / second - lam)),
            Nonnegative("gamma = eta: 1/eta - 2/(3 eta) >= 0, so the threshold is 2/(3 eta)",
                        1 / eta - 2 / (eta + 2 * eta), strict=True),
            Identity("gamma = eta: y_(t+1) = x_(t+1) - eta g_t = y_t - 2 eta g_t + eta g_(t-1) (OGD), any gradients",
                     (X - eta * G1) - eta * G1, (X - eta * G0) - 2 * eta * G1 + eta * G0),
        ),
        bound=Bound("A2.PEG", "largest stable eigenvalue lambda_max (stable iff lambda < lambda_max)",
                    sp.Min(1 / gamma, 2 / (eta + 2 * gamma)), relation="==", status="exact",
                    conditions=sign_conditions(eta, gamma)),
        references=("THEORY.md §A2.6, §1.2, §G2",),
    )


# ---------------------------------------------------------------------------------------------- A2.7 normalized SAM
lam1, lamj = sp.symbols("lambda_1 lambda_j", positive=True)
C_STAR = eta * lam1 * rho / (2 - eta * lam1)
SAM_LOSS = lam1**3 * eta**2 * rho**2 / (2 * (2 - eta * lam1) ** 2)
SAM_FACTOR = 1 - eta * lamj - (lamj / lam1) ** 2 * (2 - eta * lam1)
SAM_CONDITIONS = sign_conditions(eta, lam1, rho) + (
    Condition("top step below GD's edge eta*lambda_1 < 2", eta * lam1, "<", 2),)


def _sam_map() -> tuple[sp.Matrix, tuple[sp.Symbol, sp.Symbol]]:
    """Deterministic normalized SAM on f = (lambda_1 x_1^2 + lambda_j x_j^2)/2 (coordinates along q_1, q_j)."""
    x1, xj = sp.symbols("x_1 x_j", real=True)
    H = sp.diag(lam1, lamj)
    X = sp.Matrix([x1, xj])
    g = H * X
    return X - eta * H * (X + rho * g / sp.sqrt(g.dot(g))), (x1, xj)


def _sam_cycle_steps(c_claim: sp.Expr = C_STAR) -> tuple:
    F, (x1, xj) = _sam_map()
    Fp, Fm = F.subs({x1: c, xj: 0}), F.subs({x1: -c, xj: 0})
    return (
        mat_identity("on the q_1 axis: +c q_1 maps to ((1 - eta lambda_1) c - eta lambda_1 rho) q_1 (c > 0)",
                     Fp, [(1 - eta * lam1) * c - eta * lam1 * rho, 0]),
        mat_identity("the map is odd: -c q_1 maps to the negative", Fm, -Fp),
        Identity("2-cycle +-c q_1: F(c)_1 + c = (2 - eta lambda_1)(c - c*), zero iff c = c* (eta lambda_1 != 2)",
                 Fp[0] + c, (2 - eta * lam1) * (c - c_claim)),
        Identity("c* (2 - eta lambda_1) = eta lambda_1 rho: c* > 0 iff eta lambda_1 < 2", C_STAR * (2 - eta * lam1),
                 eta * lam1 * rho),
    )


def _a2_sam(c_claim: sp.Expr = C_STAR, eta_hi: sp.Expr = 2 / lam1) -> Theorem:
    F, (x1, xj) = _sam_map()
    J = F.jacobian([x1, xj])
    Jp, Jm = J.subs({x1: c, xj: 0}), J.subs({x1: -c, xj: 0})
    dom = Domain((Interval(eta, 0, eta_hi, hi_open=True),))
    return Theorem(
        name="A2.SAM", section="A2", status="exact",
        title=("normalized SAM (eta lambda_1 < 2) has the linearly stable 2-cycle +-c q_1, "
               "c = eta lambda_1 rho/(2 - eta lambda_1)"),
        statement=(r"c=\frac{\eta\lambda_1\rho}{2-\eta\lambda_1};\ \text{linearised factors }1-\eta\lambda_1\ (q_1),\ "
                   r"1-\eta\lambda_j-(\lambda_j/\lambda_1)^2(2-\eta\lambda_1)\in(-1,1)\ (0<\lambda_j<\lambda_1)"),
        steps=(
            *_sam_cycle_steps(c_claim),
            mat_identity("linearisation at +c q_1: "
                         "diag(1 - eta lambda_1, 1 - eta lambda_j - eta rho lambda_j^2/(lambda_1 c))",
                         Jp, sp.diag(1 - eta * lam1, 1 - eta * lamj - eta * rho * lamj**2 / (lam1 * c))),
            mat_identity("linearisation at -c q_1: the same matrix", Jm, Jp),
            Identity("along q_1 over the two steps: 1 - (1 - eta lambda_1)^2 = eta lambda_1 (2 - eta lambda_1) > 0",
                     1 - (1 - eta * lam1) ** 2, eta * lam1 * (2 - eta * lam1)),
            Identity("at c = c*: factor_j = 1 - eta lambda_j - (lambda_j/lambda_1)^2 (2 - eta lambda_1)",
                     Jp[1, 1].subs(c, C_STAR), SAM_FACTOR),
            Identity("1 - factor_j = lambda_j (eta + lambda_j (2 - eta lambda_1)/lambda_1^2)", 1 - SAM_FACTOR,
                     lamj * (eta + lamj * (2 - eta * lam1) / lam1**2)),
            Nonnegative("eta + lambda_j (2 - eta lambda_1)/lambda_1^2 > 0 for eta lambda_1 < 2, so factor_j < 1",
                        eta + lamj * (2 - eta * lam1) / lam1**2, dom, strict=True),
            Identity("1 + factor_j = (lambda_1 - lambda_j)(2 lambda_1 + lambda_j (2 - eta lambda_1))/lambda_1^2",
                     1 + SAM_FACTOR, (lam1 - lamj) * (2 * lam1 + lamj * (2 - eta * lam1)) / lam1**2),
            Nonnegative("2 lambda_1 + lambda_j (2 - eta lambda_1) > 0 for eta lambda_1 < 2, so factor_j > -1 "
                        "when lambda_j < lambda_1", 2 * lam1 + lamj * (2 - eta * lam1), dom, strict=True),
        ),
        bound=Bound("A2.SAM", "amplitude c of the 2-cycle +-c q_1 (|q_1^T(x_t - x*)| in the limit)", C_STAR,
                    relation="==", status="exact", conditions=SAM_CONDITIONS),
        references=("THEORY.md §A2.7, §G2",),
    )


def _a2_sam_loss(loss_claim: sp.Expr = SAM_LOSS) -> Theorem:
    return Theorem(
        name="A2.SAM.loss", section="A2", status="exact",
        title=("on the normalized-SAM 2-cycle f - f* = lambda_1^3 eta^2 rho^2/(2 (2 - eta lambda_1)^2), "
               "||grad f||^2 = lambda_1^2 c^2"),
        statement=r"f-f^\star=\frac{\lambda_1^3\eta^2\rho^2}{2(2-\eta\lambda_1)^2},\quad\|\nabla f\|^2=\lambda_1^2c^2",
        steps=(
            *_sam_cycle_steps(),
            Identity("f - f* at +-c* q_1 = lambda_1 c*^2/2", lam1 * C_STAR**2 / 2, loss_claim),
            Identity("||grad f||^2 at +-c* q_1 = (lambda_1 c*)^2 = 2 lambda_1 (f - f*)", (lam1 * C_STAR) ** 2,
                     2 * lam1 * loss_claim),
        ),
        bound=Bound("A2.SAM.loss", "f(x_t) - f* on the 2-cycle (the limit of normalized SAM)", SAM_LOSS,
                    relation="==", status="exact", conditions=SAM_CONDITIONS),
        references=("THEORY.md §A2.7",),
    )


def theorems() -> list[Theorem]:
    return [_a2_usam(), _a2_hb(), _a2_nag(), _a2_peg(), _a2_sam(), _a2_sam_loss()]


def mutations() -> dict[str, Theorem]:
    return {
        "A2.USAM with 8 rho/eta replaced by 4 rho/eta": _a2_usam(k=4),
        "A2.HB with threshold (2 + beta)/eta": _a2_hb(threshold=(2 + beta) / eta),
        "A2.NAG with the condition widened to the heavy-ball threshold 2(1+beta)/eta": _a2_nag(lam_hi=2 * (1 + beta) / eta),
        "A2.PEG with (eta + gamma) lambda < 2 in place of (eta + 2 gamma) lambda < 2": _a2_peg(second=eta + gamma),
        "A2.SAM with the cycle amplitude halved": _a2_sam(c_claim=C_STAR / 2),
        "A2.SAM with eta lambda_1 < 2 widened to eta lambda_1 < 4": _a2_sam(eta_hi=4 / lam1),
        "A2.SAM.loss with the factor 1/2 dropped": _a2_sam_loss(loss_claim=2 * SAM_LOSS),
    }
