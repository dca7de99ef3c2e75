"""THEORY.md §D, master lemma: extrapolated SGD on smooth nonconvex objectives, and the shared §D pieces.

These are xtrap's own bounds ("derived for xtrap"), **not** the theorems of Lin, Kong, Stich & Jaggi
(ICML 2020), which are not available. Every chain is written with exact rationals, inner products
and squared norms as scalar symbols, and each assumed inequality as an equality with a nonnegative
slack (THEORY.md §4.5):

* **D0** master lemma (the §4.5 certificate), averaged for :math:`\\eta\\le1/L` [derived];
  **D0-K** the :math:`K`-worker version (polarization, Jensen as a slack, variance
  :math:`\\sigma^2/(Kb)`) [derived].

Bounded quantity (THEORY.md §3): the *average gradient norm* :math:`\\frac1T\\sum_{t<T}\\mathbb E\\|\\nabla f(x_t)\\|^2`
at the base points :math:`x_t`, not at the extrapolated points. Parameter names, shared by all
D-bounds: ``eta, gamma, rho, L, Delta, T, sigma2, b, K, d, sigma_Z2`` (plus ``delta2``, the average
:math:`\\mathbb E\\|\\delta_t\\|^2`, in D0/D0-K, and ``Delta_gamma`` in D4.smoothed).

The parameters, the summing helpers (``_telescoping``, ``_averaging``), ``_expect2`` and the D0/D0-K
step builders are shared with :mod:`proofs.catalog.d_extragradient` (D1-D3) and
:mod:`proofs.catalog.d_noise_sam` (D4, D5); :mod:`proofs.catalog.d_extrapolation` assembles §D.
"""

from __future__ import annotations

import sympy as sp

from ..bound import Bound, Condition
from ..engine import Domain, Identity, Interval, Nonnegative, SlackCertificate, Step, Theorem

# ---------------------------------------------------------------------------------------------
# parameters (shared names across the D-bounds) and per-step scalars
# ---------------------------------------------------------------------------------------------

eta, gamma, rho, L, Delta, T, sigma2, b, K, d, sigma_Z2 = sp.symbols(
    "eta gamma rho L Delta T sigma2 b K d sigma_Z2", positive=True)
delta2 = sp.Symbol("delta2", nonnegative=True)          # (1/T) sum_t E||delta_t||^2 (and over workers)
Delta_gamma = sp.Symbol("Delta_gamma", positive=True)   # f_gamma(x_0) - inf f_gamma
sb = sigma2 / b                                          # the variance bound of (V) for batch b

f0, f1 = sp.symbols("f0 f1", real=True)                 # E f(x_t), E f(x_{t+1})
AC, ACb, ae, aG = sp.symbols("AC ACb ae aG", real=True)  # inner products
# squared norms: A2 = ||grad f(x_t)||^2, C2 = E||grad f(u_t)||^2, D2 = E||delta_t||^2, ...
A2, C2, D2, G2, E2, Cb2, AmCb, Dbar = sp.symbols("A2 C2 D2 G2 E2 Cb2 AmCb Dbar", nonnegative=True)
nA, nG, nE, N = sp.symbols("nA nG nE N", nonnegative=True)  # norms ||a||, ||g||, ||e||, ||g + e||
r2 = sp.Symbol("r2", nonnegative=True)                   # rho^2 (a symbol, so that it can act as a slack)
c = sp.Symbol("c", positive=True)                        # the D2 constant, assumed > 0
s = sp.symbols("s1:12", nonnegative=True)                # slacks
SA, R, s_low = sp.symbols("SA R s_low", nonnegative=True)  # sum_t A_t, summed slacks, f(x_T) - f^*

AVG = "(1/T) sum_{t<T} E||grad f(x_t)||^2 (base points x_t)"
STEP = Condition("step condition", eta, "<=", 1 / L)
XTRAP = Condition("extrapolation condition", gamma, "<", 1 / L)
D_ETA = Interval(eta, 0, 1 / L, lo_open=True)
D_GAMMA = Interval(gamma, 0, 1 / L, lo_open=True, hi_open=True)


def _ref(section: str) -> tuple[str, ...]:
    return (f"THEORY.md §{section} (derived for xtrap; not the paper's theorem)",)


def _telescoping() -> tuple[Step, ...]:
    """:math:`\\sum_{t<T}(F_t-F_{t+1})=F_0-F_T` by induction on :math:`T` (closed form and recursion)."""
    F = sp.Function("F")  # F(t) = E f(x_t)
    closed = lambda n: F(0) - F(n)  # noqa: E731
    return (
        Identity("telescoping: S_T = F(0) - F(T) obeys S_(T+1) = S_T + (F(T) - F(T+1))",
                 closed(T + 1), closed(T) + F(T) - F(T + 1)),
        Identity("telescoping: S_0 = 0", closed(0), 0),
    )


def _averaging(label: str, a: sp.Expr, n: sp.Expr, claim: sp.Expr, domain: Domain = Domain(),
               extra: tuple[sp.Symbol, ...] = (), top: sp.Expr = Delta) -> SlackCertificate:
    """From :math:`\\mathbb Ef(x_{t+1})\\le\\mathbb Ef(x_t)-a\\,A_t+n` (``n`` written with time averages):

    summing, :math:`f_T=f_0-a\\,SA+Tn-R` (``R`` >= 0, the summed slacks); :math:`f_0-f_T=\\Delta-s_{low}`
    (:math:`f_T\\ge f^\\star`); so :math:`SA/T=(\\Delta-s_{low}+Tn-R)/(aT)` and ``claim`` >= that.
    ``top`` replaces :math:`\\Delta` (e.g. by :math:`f_\\gamma(x_0)-\\inf f_\\gamma`).
    """
    derived = (top - s_low + T * n - R) / (a * T)
    return SlackCertificate(f"{label}: sum over t < T, telescope, f(x_T) >= f*, divide by {sp.sstr(a)} T",
                            claim, derived, (s_low, R) + extra, domain)

def _expect2(expr: sp.Expr, state: dict, noise: dict) -> sp.Expr:
    """E of a quadratic form in the state ``y`` and independent zero-mean noises (moments given)."""
    gens = list(state) + list(noise)
    p = sp.Poly(sp.expand(expr), *gens)
    moments = {**state, **noise}
    out = sp.Integer(0)
    for monom, coeff in p.terms():
        deg = dict(zip(gens, monom))
        nz = [g for g, k in deg.items() if k]
        if not nz:
            out += coeff
        elif len(nz) == 1 and deg[nz[0]] == 2:
            out += coeff * moments[nz[0]]
        elif sum(monom) == 1 or len(nz) == 2 and sum(monom) == 2:
            continue  # zero mean, independent: odd and cross terms vanish
        else:
            raise ValueError(f"unsupported monomial {monom}")
    return out


# ---------------------------------------------------------------------------------------------
# D0: master lemma, single stream
# ---------------------------------------------------------------------------------------------

def d0_one_step_claim(a_coef: sp.Expr = eta / 2) -> sp.Expr:
    """The D0 one-step claim (THEORY.md §4.5); ``a_coef`` is the coefficient of A2 (eta/2)."""
    return f0 - a_coef * A2 - eta / 2 * (1 - L * eta) * C2 + eta * L**2 / 2 * D2 + L * eta**2 / 2 * sb


def d0_average_claim(extrap: sp.Expr = delta2) -> sp.Expr:
    return 2 * Delta / (eta * T) + L * eta * sb + L**2 * extrap


def _d0_steps(a_coef: sp.Expr = eta / 2, avg_claim: sp.Expr | None = None) -> tuple[Step, ...]:
    X = sp.Symbol("X", real=True)
    # descent lemma (slack s1) with E<a, g> = E<a, grad f(u)> (independence) and
    # E||g||^2 = E||grad f(u)||^2 + E||g - grad f(u)||^2, variance bound (slack s2)
    Ef_next = f0 - eta * AC + L * eta**2 / 2 * (C2 + sb - s[1]) - s[0]
    AC_val = (A2 + C2 - (L**2 * D2 - s[2])) / 2  # ||a - c||^2 = L^2 E||delta||^2 - s3
    one = d0_one_step_claim(a_coef)
    drop = f0 - eta / 2 * A2 + eta * L**2 / 2 * D2 + L * eta**2 / 2 * sb
    return (
        Identity("E||g||^2 = E||grad f(u)||^2 + E||g - grad f(u)||^2: the cross term X = E<grad f(u), e> "
                 "vanishes by (V)", C2 + 2 * X + E2, C2 + E2, subs=((X, 0),)),
        Identity("polarization: -<a, c> = (||a - c||^2 - ||a||^2 - ||c||^2)/2 with ||a - c||^2 = L^2 E||delta||^2 - s3",
                 A2 - 2 * AC_val + C2, L**2 * D2 - s[2]),
        SlackCertificate("D0 one step: descent lemma, (V), polarization, (L) on ||a - c|| (THEORY §4.5)",
                         one, Ef_next.subs(AC, AC_val), (s[0], s[1], s[2])),
        Nonnegative("1 - L eta >= 0 for 0 < eta <= 1/L", 1 - L * eta, Domain((D_ETA,))),
        SlackCertificate("drop the third term -eta/2 (1 - L eta) E||grad f(u)||^2 (C2 >= 0, eta <= 1/L)",
                         drop, d0_one_step_claim(), (C2,), Domain((D_ETA,))),
        *_telescoping(),
        _averaging("D0", eta / 2, eta * L**2 / 2 * delta2 + L * eta**2 / 2 * sb,
                   d0_average_claim() if avg_claim is None else avg_claim),
    )


def d0(a_coef: sp.Expr = eta / 2) -> Theorem:
    return Theorem(
        name="D0", section="D0", status="derived",
        title="master lemma: one step with slack certificate; average gradient norm for eta <= 1/L",
        statement=(r"\mathbb Ef(x_{t+1})\le f(x_t)-\tfrac\eta2\|\nabla f(x_t)\|^2-\tfrac\eta2(1-L\eta)\mathbb E\|\nabla f(u_t)\|^2"
                   r"+\tfrac{\eta L^2}2\mathbb E\|\delta_t\|^2+\tfrac{L\eta^2\sigma^2}{2b};\ "
                   r"\frac1T\sum_{t<T}\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}+\frac{L\eta\sigma^2}b"
                   r"+\frac{L^2}T\sum_{t<T}\mathbb E\|\delta_t\|^2"),
        steps=_d0_steps(a_coef),
        bound=Bound("D0", AVG + "; delta2 = (1/T) sum_t E||delta_t||^2", d0_average_claim(),
                    conditions=(STEP,), status="derived", references=_ref("D0")),
        references=_ref("D0"),
    )


# ---------------------------------------------------------------------------------------------
# D0-K: master lemma, K workers
# ---------------------------------------------------------------------------------------------

def _vec(name: str, n: int = 2) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}1:{n + 1}", real=True))


def _sq(v: sp.Matrix) -> sp.Expr:
    return (v.T * v)[0]


def d0k_one_step_claim() -> sp.Expr:
    return f0 - eta / 2 * A2 + eta * L**2 / 2 * Dbar + L * eta**2 * sb / (2 * K)


def d0k_average_claim(extrap: sp.Expr = delta2) -> sp.Expr:
    return 2 * Delta / (eta * T) + L * eta * sb / K + L**2 * extrap


def _d0k_steps() -> tuple[Step, ...]:
    # concrete K = 3, 2-D instances of the two vector identities used for general K
    e = [_vec(f"e{k}_") for k in range(3)]
    v = [_vec(f"v{k}_") for k in range(3)]
    vbar = (v[0] + v[1] + v[2]) / 3
    cross = sum(((e[j].T * e[k])[0] for j in range(3) for k in range(j + 1, 3)), sp.Integer(0))
    Se = sp.Symbol("S_e", nonnegative=True)
    first = f0 - eta / 2 * A2 + eta / 2 * AmCb + L * eta**2 * sb / (2 * K)
    Ef_next = f0 - eta * ACb + L * eta**2 / 2 * (Cb2 + sb / K - s[1]) - s[0]
    return (
        Identity("||sum_k e_k||^2 = sum_k ||e_k||^2 + 2 sum_{j<k} <e_j, e_k> (K = 3, 2-D instance); "
                 "the cross terms vanish for independent zero-mean worker noises",
                 _sq(e[0] + e[1] + e[2]), sum((_sq(x) for x in e), sp.Integer(0)) + 2 * cross),
        SlackCertificate("E||h - mean_k grad f(u^k)||^2 = (1/K^2) sum_k E||e_k||^2 <= sigma^2/(K b) "
                         "(sum_k E||e_k||^2 = K sigma^2/b - S_e)", sb / K, (K * sb - Se) / K**2, (Se,)),
        Identity("polarization: -<a, cbar> = (||a - cbar||^2 - ||a||^2 - ||cbar||^2)/2",
                 -ACb, (AmCb - A2 - Cb2) / 2, subs=((AmCb, A2 - 2 * ACb + Cb2),)),
        SlackCertificate("D0-K steps (2)-(3): descent lemma with E h = cbar, variance sigma^2/(Kb), "
                         "polarization, drop -eta/2 (1 - L eta) E||cbar||^2 (eta <= 1/L)",
                         first, Ef_next.subs(ACb, (A2 + Cb2 - AmCb) / 2), (s[0], s[1], Cb2), Domain((D_ETA,))),
        Identity("Jensen's gap is a variance: (1/K) sum ||v_k||^2 - ||vbar||^2 = (1/K) sum ||v_k - vbar||^2 >= 0 "
                 "(K = 3, 2-D instance)",
                 sum((_sq(x) for x in v), sp.Integer(0)) / 3 - _sq(vbar),
                 sum((_sq(x - vbar) for x in v), sp.Integer(0)) / 3),
        SlackCertificate("D0-K step (4): ||a - cbar||^2 = (1/K) sum_k ||a - c_k||^2 - s_J (Jensen) and "
                         "||a - c_k||^2 = L^2 ||delta_k||^2 - s_k ((L)); Dbar = (1/K) sum_k E||delta_k||^2",
                         d0k_one_step_claim(), first.subs(AmCb, L**2 * Dbar - s[2] - s[3]), (s[2], s[3])),
        *_telescoping(),
        _averaging("D0-K", eta / 2, eta * L**2 / 2 * delta2 + L * eta**2 * sb / (2 * K), d0k_average_claim()),
    )


def d0k() -> Theorem:
    return Theorem(
        name="D0-K", section="D0-K", status="derived",
        title="master lemma with K workers: noise sigma^2/(Kb), perturbation through Jensen",
        statement=(r"\mathbb Ef(x_{t+1})\le f(x_t)-\frac\eta2\|\nabla f(x_t)\|^2+\frac{\eta L^2}{2K}\sum_k\mathbb E\|\delta^k_t\|^2"
                   r"+\frac{L\eta^2\sigma^2}{2Kb};\ \frac1T\sum_t\mathbb E\|\nabla f(x_t)\|^2\le\frac{2\Delta}{\eta T}"
                   r"+\frac{L\eta\sigma^2}{Kb}+\frac{L^2}{TK}\sum_{t,k}\mathbb E\|\delta_t^k\|^2"),
        steps=_d0k_steps(),
        bound=Bound("D0-K", AVG + "; delta2 = (1/(T K)) sum_{t,k} E||delta_t^k||^2", d0k_average_claim(),
                    conditions=(STEP,), status="derived", references=_ref("D0-K")),
        references=_ref("D0-K"),
    )


def theorems() -> list[Theorem]:
    return [d0(), d0k()]


def mutations() -> dict[str, Theorem]:
    return {
        "D0 with eta*A2 in place of eta/2*A2 (THEORY §4.5)": d0(a_coef=eta),
    }
