"""THEORY.md §A3 (additive-noise quadratics: stationary loss, transient); §A4 is in :mod:`a_finite_sum`.

**Expectations.** An update is a polynomial in the state (``c``, or a 2-vector) and in *fresh* random variables
(update noise :math:`\\epsilon`, extrapolation noise :math:`\\epsilon'`, injected noise :math:`Z`, batch means
:math:`h_B`), independent of each other and of the state. So :math:`\\mathbb E[\\text{state monomial}\\times\\prod
\\text{noise}^k]=\\mathbb E[\\text{state monomial}]\\prod m_k`, with the moments :math:`m_k` stated per variable
(:math:`m_1=0`, :math:`m_2=v` for zero-mean noise of variance :math:`v`). :func:`expect` applies exactly this
rule; what it returns is then compared by an :class:`~proofs.engine.Identity` with the claimed recursion.

**One-step rows.** :math:`\\mathbb Ec_{t+1}^2=r^2\\,\\mathbb Ec_t^2+\\omega` (derived), so the fixed point is
:math:`P=\\omega/(1-r^2)` and :math:`\\mathbb Ec_t^2-P=r^{2t}(c_0^2-P)\\to0` when :math:`r^2<1` (A3.transient).
:math:`1-r^2` is written by an identity as positive factors times the stability margins of A2 (the conditions).

**Two-step rows (HB, PEG).** :math:`s_{t+1}=As_t+B\\epsilon_t` (derived), so :math:`P_{t+1}=AP_tA^\\top+BB^\\top v`.
The Lyapunov map :math:`\\mathcal L:P\\mapsto APA^\\top` on symmetric 2x2 matrices has eigenvalues
:math:`z_1^2,z_2^2,z_1z_2` (identity on its characteristic polynomial), so it is a contraction iff ``A`` is
stable (A2.4, A2.6) and :math:`\\det(I-\\mathcal L)` is a product of positive factors and stability margins: the
fixed point is unique, solved exactly, and :math:`\\tfrac\\lambda2P_{11}` is compared with the table.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, Theorem
from .a_thresholds import mat_identity, sign_conditions

lam, eta, gamma, rho, v, w, s, K, b = sp.symbols("lambda eta gamma rho v w s K b", positive=True)
beta = sp.Symbol("beta", real=True)
c, c0, X, Y = sp.symbols("c c_0 x y", real=True)
C2 = sp.Symbol("C2", nonnegative=True)  # E c_t^2
eps, eps_x, Z = sp.symbols("epsilon epsilon' Z", real=True)
t = sp.Symbol("t", integer=True, nonnegative=True)


def expect(expr: sp.Expr, noises: dict, state: dict) -> sp.Expr:
    """:math:`\\mathbb E` of a polynomial in state variables and fresh independent noises.

    ``noises``: ``{symbol: (1, m1, m2, ...)}`` moments; ``state``: ``{exponent tuple: symbol}`` for the state
    moments, keyed by exponents in the order of ``state["vars"]``.
    """
    svars = list(state["vars"])
    nvars = list(noises)
    poly = sp.Poly(sp.expand(expr), *(svars + nvars))
    total = sp.Integer(0)
    for monom, coeff in poly.terms():
        term = coeff
        for k, nv in zip(monom[len(svars):], nvars):
            if k >= len(noises[nv]):
                raise ValueError(f"moment {k} of {nv} not given")
            term *= noises[nv][k]
        smon = tuple(monom[:len(svars)])
        if term != 0 and any(smon):
            term *= state[smon]
        total += term
    return sp.expand(total)


SCALAR = {"vars": (c,), (2,): C2}


def zero_mean(var: sp.Expr) -> tuple:
    return (1, 0, var)


# ---------------------------------------------------------------------------------------------- A3 one-step rows
def _eg_margin(g: sp.Expr = gamma) -> sp.Expr:
    return 2 - eta * lam + eta * g * lam**2


SGD_CONDITIONS = (Condition("GD stability eta*lambda < 2 (A2.1)", eta * lam, "<", 2),)
EG_CONDITIONS = (Condition("EG stability gamma*lambda < 1 (A2.2)", gamma * lam, "<", 1),
                 Condition("EG stability eta*lambda*(1 - gamma*lambda) < 2 (A2.2)", eta * lam * (1 - gamma * lam), "<", 2))
USAM_CONDITIONS = (Condition("USAM stability eta*lambda*(1 + rho*lambda) < 2 (A2.3)", eta * lam * (1 + rho * lam), "<", 2),)

# name: (update, noises, r, omega, 1 - r^2 as (positive factor, margins), floor, conditions)
ROWS = {
    "SGD": (c - eta * (lam * c + eps), {eps: zero_mean(v)}, 1 - eta * lam, eta**2 * v,
            (eta * lam, 2 - eta * lam), eta * v / (2 * (2 - eta * lam)), SGD_CONDITIONS),
    "EG-indep": (c - eta * (lam * (c - gamma * (lam * c + eps_x)) + eps), {eps: zero_mean(v), eps_x: zero_mean(v)},
                 1 - eta * lam + eta * gamma * lam**2, eta**2 * v * (1 + gamma**2 * lam**2),
                 (eta * lam, (1 - gamma * lam) * _eg_margin()),
                 eta * v * (1 + gamma**2 * lam**2) / (2 * (1 - gamma * lam) * _eg_margin()), EG_CONDITIONS),
    "EG-same": (c - eta * (lam * (c - gamma * (lam * c + eps)) + eps), {eps: zero_mean(v)},
                1 - eta * lam + eta * gamma * lam**2, eta**2 * v * (1 - gamma * lam) ** 2,
                (eta * lam, (1 - gamma * lam) * _eg_margin()),
                eta * v * (1 - gamma * lam) / (2 * _eg_margin()), EG_CONDITIONS),
    "USAM-same": (c - eta * (lam * (c + rho * (lam * c + eps)) + eps), {eps: zero_mean(v)},
                  1 - eta * lam * (1 + rho * lam), eta**2 * v * (1 + rho * lam) ** 2,
                  (eta * lam * (1 + rho * lam), 2 - eta * lam - eta * rho * lam**2),
                  eta * v * (1 + rho * lam) / (2 * (2 - eta * lam - eta * rho * lam**2)), USAM_CONDITIONS),
    "USAM-indep": (c - eta * (lam * (c + rho * (lam * c + eps_x)) + eps), {eps: zero_mean(v), eps_x: zero_mean(v)},
                   1 - eta * lam * (1 + rho * lam), eta**2 * v * (1 + rho**2 * lam**2),
                   (eta * lam * (1 + rho * lam), 2 - eta * lam - eta * rho * lam**2),
                   eta * v * (1 + rho**2 * lam**2) / (2 * (1 + rho * lam) * (2 - eta * lam - eta * rho * lam**2)),
                   USAM_CONDITIONS),
    "NI": (c - eta * (lam * (c + gamma * Z) + eps), {eps: zero_mean(v), Z: zero_mean(w)},
           1 - eta * lam, eta**2 * (v + gamma**2 * lam**2 * w), (eta * lam, 2 - eta * lam),
           eta * (v + gamma**2 * lam**2 * w) / (2 * (2 - eta * lam)), SGD_CONDITIONS),
}
NOISE_TEXT = {"SGD": "E eps = 0, E eps^2 = v", "EG-indep": "eps, eps' independent, zero mean, variance v",
              "EG-same": "eps' = eps (same batch)", "USAM-same": "eps' = eps (same batch)",
              "USAM-indep": "eps, eps' independent, zero mean, variance v",
              "NI": "eps, Z independent, zero mean, E eps^2 = v, Var Z_i = w"}


def _transient_steps(r2: sp.Expr, omega: sp.Expr, label: str) -> tuple:
    P = omega / (1 - r2)
    closed = (r2**t) * c0**2 + omega * (1 - r2**t) / (1 - r2)
    return (
        Identity(f"{label}: the fixed point P = omega/(1 - r^2) solves P = r^2 P + omega", P, r2 * P + omega),
        Identity(f"{label}: transient E c_t^2 = r^(2t) c_0^2 + omega (1 - r^(2t))/(1 - r^2) solves the recursion",
                 closed.subs(t, t + 1), r2 * closed + omega),
        Identity(f"{label}: the transient starts at c_0^2", closed.subs(t, 0), c0**2),
        Identity(f"{label}: E c_t^2 - P = r^(2t) (c_0^2 - P) -> 0 when r^2 < 1", closed - P, r2**t * (c0**2 - P)),
    )


def _a3_row(name: str, floor_claim: sp.Expr | None = None) -> Theorem:
    update, noises, r, omega, (pos, margins), floor, conds = ROWS[name]
    floor_claim = floor if floor_claim is None else floor_claim
    return Theorem(
        name=f"A3.{name}", section="A3", status="exact",
        title=f"{name} on an additive-noise quadratic: lim E[f - f*] per direction = {sp.sstr(sp.factor(floor))}",
        statement=(rf"\mathbb Ec_{{t+1}}^2=\left({sp.latex(r)}\right)^2\mathbb Ec_t^2+{sp.latex(omega)},\ "
                   rf"\lim_t\mathbb E[f-f^\star]={sp.latex(floor)}"),
        steps=(
            Identity(f"E c_(t+1)^2 = r^2 E c_t^2 + omega from the update ({NOISE_TEXT[name]}, fresh noise)",
                     expect(update**2, noises, SCALAR), r**2 * C2 + omega),
            Identity("1 - r^2 = (positive factor) x (the stability margins of A2)", 1 - r**2, pos * margins),
            Nonnegative("the factor in front of the margins is positive", pos, strict=True),
            *_transient_steps(r**2, omega, name),
            Identity("lambda/2 * P equals the A3 table row", lam / 2 * omega / (1 - r**2), floor_claim),
        ),
        bound=Bound(f"A3.{name}", "lim_t E[f(x_t) - f*] along one eigen-direction (eigenvalue lambda, noise variance v)",
                    floor, relation="==", status="exact", conditions=sign_conditions(floor) + conds),
        references=("THEORY.md §A3",),
    )


def _a3_transient() -> Theorem:
    r, omega = sp.Symbol("r", real=True), sp.Symbol("omega", nonnegative=True)
    closed = (r**2) ** t * c0**2 + omega * (1 - (r**2) ** t) / (1 - r**2)
    return Theorem(
        name="A3.transient", section="A3", status="exact",
        title="E c_t^2 = r^(2t) c_0^2 + omega (1 - r^(2t))/(1 - r^2) for E c_(t+1)^2 = r^2 E c_t^2 + omega",
        statement=r"\mathbb Ec_t^2=r^{2t}c_0^2+\omega\frac{1-r^{2t}}{1-r^2}\to\frac{\omega}{1-r^2}\ (r^2<1)",
        steps=_transient_steps(r**2, omega, "generic"),
        bound=Bound("A3.transient", "E c_t^2 after t steps of E c_(t+1)^2 = r^2 E c_t^2 + omega, E c_0^2 = c_0^2",
                    closed, relation="==", status="exact",
                    conditions=sign_conditions(closed) + (Condition("stable factor r^2 < 1", r**2, "<", 1),)),
        references=("THEORY.md §A3 (Transient), §4.5.4",),
    )


# ---------------------------------------------------------------------------------------------- A3 two-step rows
def _lyapunov_map(A: sp.Matrix) -> sp.Matrix:
    p11, p12, p22 = ps = sp.symbols("p11 p12 p22")
    M = A * sp.Matrix([[p11, p12], [p12, p22]]) * A.T
    return sp.Matrix([M[0, 0], M[0, 1], M[1, 1]]).jacobian(sp.Matrix(ps))


def _a3_two_step(name: str, update, noise_dir, A_claim, det_factors, floor, conds) -> Theorem:  # noqa: ANN001
    """``det_factors``: (the positive factor, then the stability margins) of det(I - L)."""
    state = sp.Matrix([X, Y])
    A = sp.Matrix(update).jacobian(state).subs(eps, 0)
    Bv = sp.Matrix(update).diff(eps)
    P11, P12, P22 = sp.symbols("P11 P12 P22", real=True)
    P = sp.Matrix([[P11, P12], [P12, P22]])
    mom = {"vars": (X, Y), (2, 0): P11, (1, 1): P12, (0, 2): P22}
    nxt = sp.Matrix(update)
    second = sp.Matrix(2, 2, lambda i, j: expect(nxt[i] * nxt[j], {eps: zero_mean(v)}, mom))
    L = _lyapunov_map(A)
    wv, tr, dt = sp.Symbol("w_L"), A.trace(), A.det()
    rhs_vec = sp.Matrix([(Bv * Bv.T)[0, 0], (Bv * Bv.T)[0, 1], (Bv * Bv.T)[1, 1]]) * v
    sol = (sp.eye(3) - L).LUsolve(rhs_vec).applyfunc(sp.factor)
    Pstar = sp.Matrix([[sol[0], sol[1]], [sol[1], sol[2]]])
    return Theorem(
        name=f"A3.{name}", section="A3", status="exact",
        title=f"{name} on an additive-noise quadratic: lim E[f - f*] per direction = {sp.sstr(sp.factor(floor))}",
        statement=(r"P=APA^\top+BB^\top v,\ \lim_t\mathbb E[f-f^\star]=\tfrac\lambda2P_{11}=" + sp.latex(floor)),
        steps=(
            mat_identity(f"{name}: s_(t+1) = A s_t + B eps_t with THEORY's A and B = {sp.sstr(list(noise_dir))}",
                         sp.Matrix(update), sp.Matrix(A_claim) * state + sp.Matrix(noise_dir) * eps),
            mat_identity("E s_(t+1) s_(t+1)^T = A P_t A^T + B B^T v (eps fresh, zero mean, variance v)", second,
                         A * P * A.T + Bv * Bv.T * v),
            Identity("the Lyapunov map P -> A P A^T has eigenvalues z1^2, z2^2, z1 z2 (z1, z2 the roots of A)",
                     sp.expand((wv * sp.eye(3) - L).det()), sp.expand((wv**2 - (tr**2 - 2 * dt) * wv + dt**2) * (wv - dt))),
            Identity("det(I - L) = (positive factors) x (the stability margins): the fixed point is unique",
                     (sp.eye(3) - L).det(), sp.Mul(*det_factors)),
            Nonnegative("the factor in front of the margins is positive", det_factors[0], strict=True),
            mat_identity("the solved P* satisfies P* = A P* A^T + B B^T v", A * Pstar * A.T + Bv * Bv.T * v, Pstar),
            Identity("lambda/2 * P*_11 equals the A3 table row", lam / 2 * Pstar[0, 0], floor),
        ),
        bound=Bound(f"A3.{name}", "lim_t E[f(x_t) - f*] along one eigen-direction (eigenvalue lambda, noise variance v)",
                    floor, relation="==", status="exact", conditions=sign_conditions(floor) + conds),
        references=("THEORY.md §A3, §A2.4, §A2.6",),
    )


HB_FLOOR = eta * v * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta) - eta * lam))
PEG_FLOOR = eta * v * (1 - gamma * lam) / (2 * (1 + gamma * lam) * (2 - eta * lam - 2 * gamma * lam))


def _a3_hb(floor: sp.Expr = HB_FLOOR) -> Theorem:
    # state (x_t, x_(t-1)) = (X, Y); x_(t+1) = x_t - eta (lambda x_t + eps) + beta (x_t - x_(t-1))
    update = [X - eta * (lam * X + eps) + beta * (X - Y), X]
    return _a3_two_step(
        "HB", update, (-eta, 0), [[1 + beta - eta * lam, -beta], [1, 0]],
        (eta * lam, (1 - beta) * (2 * (1 + beta) - eta * lam)), floor,
        (Condition("momentum |beta| < 1", beta, "<", 1), Condition("momentum |beta| < 1", beta, ">", -1),
         Condition("HB stability eta*lambda < 2(1 + beta) (A2.4)", eta * lam, "<", 2 * (1 + beta))))


def _a3_peg(floor: sp.Expr = PEG_FLOOR) -> Theorem:
    # state (x_t, g_(t-1)) = (X, Y); g_t = lambda (x_t - gamma g_(t-1)) + eps, x_(t+1) = x_t - eta g_t
    g_t = lam * (X - gamma * Y) + eps
    return _a3_two_step(
        "PEG", [X - eta * g_t, g_t], (-eta, 1), [[1 - eta * lam, eta * gamma * lam], [lam, -gamma * lam]],
        (eta * lam * (1 + gamma * lam), 2 - eta * lam - 2 * gamma * lam), floor,
        (Condition("PEG stability gamma*lambda < 1 (A2.6)", gamma * lam, "<", 1),
         Condition("PEG stability (eta + 2 gamma)*lambda < 2 (A2.6)", (eta + 2 * gamma) * lam, "<", 2)))


# ---------------------------------------------------------------------------------------------- A3 K workers
def _a3_extrap_k() -> Theorem:
    k = sp.Symbol("k", integer=True, positive=True)
    e_x, e_u = sp.IndexedBase("epsilon'"), sp.IndexedBase("epsilon")
    S_x, S_u = sp.symbols("S' S", real=True)  # sum_k eps'_k, sum_k eps_k
    sigma2 = s**2 / b  # variance of one worker's batch-b noise along the direction
    per_worker = sp.expand(lam * (c - gamma * (lam * c + e_x[k])) + e_u[k])
    h_sum = sp.Sum(per_worker, (k, 1, K)).expand().doit() / K
    h = lam * c * (1 - gamma * lam) - gamma * lam * S_x / K + S_u / K
    r = 1 - eta * lam + eta * gamma * lam**2
    omega = eta**2 * s**2 * (1 + gamma**2 * lam**2) / (K * b)
    Snew, e_new, VK = sp.symbols("S_K e_new V_K", real=True)
    floor = ROWS["EG-indep"][5].subs(v, s**2 / (K * b))
    return Theorem(
        name="A3.EXTRAP-K", section="A3", status="exact",
        title="EXTRAP-SGD with K workers (fresh batches of size b): the EG-indep floor with v = s^2/(K b)",
        statement=(r"\mathrm{Var}_\lambda=\frac{\eta^2s^2(1+\gamma^2\lambda^2)/(Kb)}{1-r^2},\ "
                   r"\lim\mathbb E[f-f^\star]=\tfrac\lambda2\mathrm{Var}_\lambda"),
        steps=(
            Identity("h = (1/K) sum_k grad(u_k) + eps_k = lambda c (1 - gamma lambda) - gamma lambda S'/K + S/K",
                     h_sum, h.subs({S_x: sp.Sum(e_x[k], (k, 1, K)), S_u: sp.Sum(e_u[k], (k, 1, K))})),
            Identity("induction: E (S_K + e)^2 = V_K + sigma^2 for a fresh zero-mean e; V_K = K sigma^2 solves it",
                     expect((Snew + e_new) ** 2, {Snew: zero_mean(K * sigma2), e_new: zero_mean(sigma2)}, {"vars": ()}),
                     (K + 1) * sigma2),
            Identity("E c_(t+1)^2 = r^2 E c_t^2 + eta^2 s^2 (1 + gamma^2 lambda^2)/(K b) (S, S' independent)",
                     expect((c - eta * h) ** 2, {S_x: zero_mean(K * sigma2), S_u: zero_mean(K * sigma2)}, SCALAR),
                     r**2 * C2 + omega),
            *_transient_steps(r**2, omega, "EXTRAP-K"),
            Identity("lambda/2 * P = the EG-indep row with v = s^2/(K b)", lam / 2 * omega / (1 - r**2), floor),
        ),
        bound=Bound("A3.EXTRAP-K", "lim_t E[f(x_t) - f*] along one eigen-direction, K workers, local batch b, "
                    "single-sample noise variance s^2", floor, relation="==", status="exact",
                    conditions=sign_conditions(floor) + EG_CONDITIONS),
        references=("THEORY.md §A3 (EXTRAP-SGD, K workers), §1.4",),
    )


# ---------------------------------------------------------------------------------------------- A3 observations
def _obs_domain(eta_hi: sp.Expr = 2 / lam) -> Domain:
    return Domain((Interval(lam, 0, 1 / gamma, hi_open=True), Interval(eta, 0, eta_hi, hi_open=True)))


OBS_CONDITIONS = SGD_CONDITIONS + (Condition("EG gamma*lambda < 1 (A2.2)", gamma * lam, "<", 1),)


def _a3_obs_same(eta_hi: sp.Expr = 2 / lam) -> Theorem:
    ratio = (1 - gamma * lam) * (2 - eta * lam) / _eg_margin()
    return Theorem(
        name="A3.obs-same", section="A3", status="exact",
        title=("same-batch EG has a lower noise floor than SGD: "
               "ratio (1-gamma lambda)(2-eta lambda)/(2-eta lambda+eta gamma lambda^2) < 1"),
        statement=(r"\frac{\text{EG-same}}{\text{SGD}}="
                   r"\frac{(1-\gamma\lambda)(2-\eta\lambda)}{2-\eta\lambda+\eta\gamma\lambda^2}<1"),
        steps=(
            Identity("EG-same floor / SGD floor", ROWS["EG-same"][5] / ROWS["SGD"][5], ratio),
            Identity("1 - ratio = 2 gamma lambda/(2 - eta lambda + eta gamma lambda^2)", 1 - ratio,
                     2 * gamma * lam / _eg_margin()),
            Nonnegative("2 - eta lambda + eta gamma lambda^2 > 0 when eta lambda < 2 and gamma lambda < 1, so ratio < 1",
                        _eg_margin(), _obs_domain(eta_hi), strict=True),
        ),
        bound=Bound("A3.obs-same", "EG same-batch floor / SGD floor (same eta, lambda, v)", ratio, relation="==",
                    status="exact", conditions=sign_conditions(ratio) + OBS_CONDITIONS),
        references=("THEORY.md §A3 (Observations), §1.3",),
    )


def _a3_obs_indep(numerator: sp.Expr = 2 * gamma * lam * (1 + gamma * lam - eta * lam)) -> Theorem:
    diff = eta * v * gamma * lam * (1 + gamma * lam - eta * lam) / ((1 - gamma * lam) * (2 - eta * lam) * _eg_margin())
    return Theorem(
        name="A3.obs-indep", section="A3", status="exact",
        title="indep-batch EG floor minus SGD floor has the sign of 1 + gamma lambda - eta lambda",
        statement=(r"(1+\gamma^2\lambda^2)(2-\eta\lambda)-(1-\gamma\lambda)(2-\eta\lambda+\eta\gamma\lambda^2)"
                   r"=2\gamma\lambda(1+\gamma\lambda-\eta\lambda)"),
        steps=(
            Identity("the numerators (over the common denominator) differ by 2 gamma lambda (1 + gamma lambda - eta lambda)",
                     (1 + gamma**2 * lam**2) * (2 - eta * lam) - (1 - gamma * lam) * _eg_margin(), numerator),
            Identity("EG-indep floor - SGD floor = eta v gamma lambda (1 + gamma lambda - eta lambda)/(...)",
                     ROWS["EG-indep"][5] - ROWS["SGD"][5], diff),
            Nonnegative("the denominator factor 2 - eta lambda + eta gamma lambda^2 > 0 (the others are the margins)",
                        _eg_margin(), _obs_domain(), strict=True),
        ),
        bound=Bound("A3.obs-indep", "EG indep-batch floor - SGD floor (same eta, lambda, v)", diff, relation="==",
                    status="exact", conditions=sign_conditions(diff) + OBS_CONDITIONS),
        references=("THEORY.md §A3 (Observations), §1.3",),
    )


def theorems() -> list[Theorem]:
    return ([_a3_row(name) for name in ROWS] + [_a3_transient(), _a3_hb(), _a3_peg(), _a3_extrap_k(),
                                                _a3_obs_same(), _a3_obs_indep()]
            )


def mutations() -> dict[str, Theorem]:
    return {
        "A3.SGD with the floor doubled": _a3_row("SGD", floor_claim=2 * ROWS["SGD"][5]),
        "A3.EG-same with the sign of gamma flipped in the numerator": _a3_row(
            "EG-same", floor_claim=eta * v * (1 + gamma * lam) / (2 * _eg_margin())),
        "A3.HB with (1 - beta) replaced by (1 + beta)": _a3_hb(floor=HB_FLOOR * (1 - beta) / (1 + beta)),
        "A3.PEG with the 2 gamma lambda in the denominator halved": _a3_peg(
            floor=PEG_FLOOR * (2 - eta * lam - 2 * gamma * lam) / (2 - eta * lam - gamma * lam)),
        "A3.obs-same with the SGD condition widened to eta lambda < 4": _a3_obs_same(eta_hi=4 / lam),
        "A3.obs-indep with the numerator sign flipped": _a3_obs_indep(
            numerator=2 * gamma * lam * (1 - gamma * lam + eta * lam)),
    }
