"""Entries of THEORY.md tagged [cited] or [cited, unverified]: listed with that status, never verified.

Their constants are the sources' (or, for "unverified", not confirmed in the source); xtrap does
not present them as checked. Where xtrap re-derives a consequence, that re-derivation is a
separate catalogued theorem with its own chain.
"""

from __future__ import annotations

from ..engine import Theorem

_CITED = (
    ("B2.DT", "B2", "cited, unverified", "GD on convex (L) with eta = h/L, h in (0,1]: f(x_T) - f* <= L D0^2/(4Th+2)",
     r"f(x_T)-f^\star\le\frac{LD_0^2}{4Th+2}", "Drori & Teboulle, Math. Prog. 2014"),
    ("A4.Q", "A4", "cited", "SGD second-moment operator Q = (1-p)(I-eta H)^(x2) + p (1/n) sum_i (I-eta H_i)^(x2)",
     r"\operatorname{vec}\Sigma_{t+1}=Q\operatorname{vec}\Sigma_t", "Ma & Ying 2021; Mulayoff & Michaeli, arXiv 2306.07850, eq. (10)"),
    ("A4.threshold", "A4", "cited", "mean-square stable iff eta <= 2/lambda_max(C^+ D)",
     r"\eta^\star_{\rm var}=2/\lambda_{\max}(C^\dagger D)", "Mulayoff & Michaeli, arXiv 2306.07850, Thm 3"),
    ("C1", "C1", "cited", "Ghadimi & Lan randomized-iterate bound for nonconvex SGD",
     r"\tfrac1L\mathbb E\|\nabla f(x_R)\|^2\le\frac{D_f^2+\sigma^2\sum_k\eta_k^2}{\sum_k(2\eta_k-L\eta_k^2)}",
     "Ghadimi & Lan, SIAM J. Optim. 2013, Thm 2.1(a)"),
    ("C6", "C6", "cited", "SGD with diminishing steps beta/(k0+k) under (SC): E f(w_k) - f* <= nu/(k0+k)",
     r"\mathbb E[f(w_k)-f^\star]\le\frac{\nu}{k_0+k}", "Bottou, Curtis & Nocedal, SIAM Review 2018, Thm 4.7"),
    ("C9", "C9", "cited, unverified", "SGD with variance at the optimum (expected smoothness)",
     r"\mathbb E\|x_T-x^\star\|^2\le(1-\eta\mu)^TD_0^2+\frac{2\eta\sigma_\star^2}{\mu}", "Gower et al., ICML 2019, Thm 3.1"),
    ("E1", "E1", "cited", "Gaussian smoothing preserves smoothness: L1(f_gamma) <= L1(f)",
     r"L_1(f_\gamma)\le L_1(f)", "Nesterov & Spokoiny, Found. Comput. Math. 2017, eq. (12)"),
    ("E3.GL", "E3", "cited", "gradient bias of Gaussian smoothing <= (gamma/2) L (d+3)^(3/2)",
     r"\|\nabla f_\gamma-\nabla f\|\le\frac\gamma2L(d+3)^{3/2}", "Ghadimi & Lan 2013, Thm 3.1(b)"),
    ("E4.NS", "E4", "cited, unverified", "(L0)-only f: L1(f_gamma) <= sqrt(d) L0 / gamma (Gaussian)",
     r"L_1(f_\gamma)\le\frac{\sqrt d}{\gamma}L_0", "Nesterov & Spokoiny 2017, Lemma 2"),
    ("F.AF", "F", "cited, unverified", "mini-batch USAM converges at O(1/sqrt T) on smooth nonconvex objectives",
     r"O(1/\sqrt T)", "Andriushchenko & Flammarion, ICML 2022"),
    ("F.SY", "F", "cited", "stochastic SAM with constant rho has an unavoidable additive O(rho^2) term",
     r"\Omega(\rho^2)", "Si & Yun, NeurIPS 2023 (abstract)"),
    ("G1", "G1", "cited, unverified", "full-batch GD raises sharpness to about 2/eta (edge of stability)",
     r"\lambda_{\max}\to2/\eta", "Cohen et al., ICLR 2021"),
    ("G3", "G3", "cited", "the mean-square stable region grows with the batch size",
     r"\eta^\star_{\rm var}(B)\uparrow B", "Mulayoff & Michaeli 2023, Prop. 1; Wu, Ma & E, NeurIPS 2018"),
    ("H1", "H1", "cited, unverified", "convex first-order lower bound 3 L D0^2 / (32 (k+1)^2)",
     r"f(x_k)-f^\star\ge\frac{3LD_0^2}{32(k+1)^2}", "Nesterov 2004, Thm 2.1.7"),
    ("H2", "H2", "cited, unverified", "strongly convex lower bound q^(2k) D0^2, q = (sqrt kappa - 1)/(sqrt kappa + 1)",
     r"\|x_k-x^\star\|^2\ge q^{2k}D_0^2", "Nesterov 2004, Thm 2.1.13"),
    ("H3", "H3", "cited, unverified", "nonconvex oracle complexity Omega(Delta L sigma^2 eps^-4 + Delta L eps^-2)",
     r"\Omega(\Delta L\sigma^2\varepsilon^{-4}+\Delta L\varepsilon^{-2})", "Carmon et al. 2020; Arjevani et al. 2023"),
    ("H5", "H5", "cited, unverified", "convex stochastic lower bound Omega(sigma D0 / sqrt N)",
     r"\Omega(\sigma D_0/\sqrt N)", "Nemirovski & Yudin 1983; Agarwal et al. 2012"),
)


def theorems() -> list[Theorem]:
    return [Theorem(name=n, section=s, title=f"[{tag}] {title}", status="cited", statement=st, references=(ref,))
            for n, s, tag, title, st, ref in _CITED]
