"""The declared checks of ``xtrap verify``: every catalog bound held against runs where its assumptions hold.

Each entry of :data:`CHECKS` is a :class:`~analysis.verify.spec.CatalogCheck`: a theorem of
:func:`proofs.catalog`, a problem builder, a method builder, run settings (quick/full), the map
from run to bound parameters, the compared quantity, and for tightness witnesses (THEORY.md §5)
a tolerance justified beside it. Statistical comparisons use mean ± 4 standard errors over seeds
(THEORY.md §4.2); deterministic ones (exact gradients) compare to round-off.

Problems (see :mod:`analysis.verify._builders`): ``aniso`` — the additive-noise quadratic with spectrum
0.25..2 in a rotated basis; ``iso`` — :math:`\\tfrac L2\\|x\\|^2` (:math:`L=2`) with isotropic noise, where the
C2/C4/C5/C8/D1/D4 floors are attained at :math:`\\eta L=1`; ``cosine`` — the nonconvex
:math:`\\sum_j(\\tfrac12x_j^2+3\\cos x_j)`, :math:`L=4`, the D-bounds' home ((L)-smooth, nonconvex, (V)).
"""

from __future__ import annotations

import dataclasses
from typing import Callable


from ._builders import (m_abs, m_eg, m_extrap, m_noise, m_peg, m_sam, m_sgd, m_usam, p_aniso, p_cosine, p_equal,
                        p_huber, p_iso, p_location, p_nqm)
from ._params import (c7_params, eg_witness_avg, gamma_is_rho, level_set_radius, ni_witness_avg, sam_witness_avg,
                      sgd_witness_avg, top_curvature)
from .spec import Build, CatalogCheck, Ctx, RunSpec, build, standard_params

# ---- run settings ---------------------------------------------------------------------------------
# Exact-gradient runs: one "seed"; records every 10 steps; 20,000 steps decide every threshold
# classification below (the slowest rate at 1.001x a threshold is |r| - 1 >= 1e-3, so the distance
# grows past diverge_radius = 1e4 within ~9,200 steps, and at 0.999x it shrinks below 1e-6).
EXACT = RunSpec(quick=(20_000, 1), full=(20_000, 1), record_every=10, diverge_radius=1e4)
EXACT_COSINE = RunSpec(quick=(4_000, 1), full=(16_000, 1), record_every=1)
HUBER_T = 50
HUBER = RunSpec(quick=(HUBER_T, 1), full=(HUBER_T, 1), record_every=1)
# Stochastic runs on the 5-D quadratics (aniso, iso): one compiled function per method serves all of them.
STOCH = RunSpec(quick=(600, 400), full=(2_000, 2_000))
STOCH_STAR = RunSpec(quick=(600, 400), full=(2_000, 2_000), start="star")
# Stochastic runs on the cosine family, every step recorded (the T-sweep figure reads prefix averages).
COSINE = RunSpec(quick=(600, 400), full=(2_000, 1_000), record_every=1)
# A1 noise-injection mean path: the seed mean of c_t / c_0 at t = 20.
NI_MEAN = RunSpec(quick=(20, 2_000), full=(20, 8_000), record_every=1, iterates=True)
# H4 on the 50-D Gaussian-location problem.
LOCATION = RunSpec(quick=(100, 2_000), full=(100, 8_000))

ANISO, ANISO_SLOW = build(p_aniso), build(p_aniso, start="slow")
ISO, COS, LOC, HUB = build(p_iso), build(p_cosine), build(p_location), build(p_huber, T=HUBER_T)
COS_SHARP, NQM = build(p_cosine, b=0.75, omega=2.0), build(p_nqm)  # more instances at the full level
EQUAL = build(p_equal)
std = standard_params


def _c(theorem: str, problem: Build, method: Build, run: RunSpec,
       params: Callable[[Ctx], dict[str, float]] = std, **kw: object) -> CatalogCheck:
    return CatalogCheck(theorem=theorem, problem=problem, method=method, run=run, params=params,
                        **kw)  # type: ignore[arg-type]


def _exact(theorem: str, problem: Build, method: Build, **kw: object) -> CatalogCheck:
    return _c(theorem, problem, method, EXACT, deterministic=True, **kw)


# ---- A1: contraction factors (exact, deterministic; f(x_t) - f* = 1/2 sum_i lambda_i r_i^{2t} c_{0,i}^2 at t = 20) --
A1 = [
    _exact("A1.GD", ANISO, build(m_sgd, lr_L=1.0, exact=True), kind="formula", at=20, quantity="loss_gap"),
    _exact("A1.EG", ANISO, build(m_eg, lr_L=1.0, gamma_L=0.6), kind="formula", at=20, quantity="loss_gap"),
    _exact("A1.USAM", ANISO, build(m_usam, lr_L=1.0, rho=0.2, exact=True), kind="formula", at=20,
           quantity="loss_gap"),
    _c("A1.NI", ANISO, build(m_noise, lr_L=1.0, gamma=0.3, exact=True), NI_MEAN, kind="formula", at=20,
       quantity="c_t/c_0", extra=(("mean_path", True),), note="seed mean of c_t/c_0 on the slowest direction"),
]

# ---- A2 / G2: thresholds, classified at 0.999x (stable side) and 1.001x (unstable side) -------------
A2 = [
    _exact("A2.GD", EQUAL, build(m_abs, name="sgd", lr=0.5), kind="threshold"),
    _exact("A2.EG", EQUAL, build(m_abs, name="extragradient", lr=1.6, extrap_lr=0.1), kind="threshold",
           extra=(("stable", "above"),), note="eta = 16 gamma: the upper end of the excluded band"),
    _exact("G2.EG", EQUAL, build(m_abs, name="extragradient", lr=0.5, extrap_lr=0.5), kind="threshold",
           note="eta < 8 gamma: the edge lambda = 1/gamma"),
    _exact("A2.USAM", EQUAL, build(m_abs, name="usam", lr=0.5, rho=0.5), kind="threshold"),
    _exact("A2.HB", EQUAL, build(m_abs, name="sgd", lr=0.5, momentum=0.5), kind="threshold"),
    _exact("A2.NAG", EQUAL, build(m_abs, name="sgd", lr=0.5, momentum=0.5, nesterov=True), kind="threshold"),
    _exact("A2.PEG", EQUAL, build(m_abs, name="past_extrap", lr=0.5, extrap_lr=0.5), kind="threshold"),
    # A2.7: normalized SAM's 2-cycle; after 20,000 steps every other direction has decayed to round-off
    _exact("A2.SAM", ANISO, build(m_sam, lr_L=1.0, rho=0.1, exact=True), params=top_curvature, quantity="dist"),
    _exact("A2.SAM.loss", ANISO, build(m_sam, lr_L=1.0, rho=0.1, exact=True), params=top_curvature,
           quantity="loss_gap"),
]

# ---- A3: stationary E f - f* (chains from x*, averaged over t in [T/2, T], == within 4 SE) ----------
_A3 = dict(kind="stationary", window=0.5, quantity="loss_gap")
A3 = [
    _c("A3.SGD", ANISO, build(m_sgd, lr_L=1.0, batch=2), STOCH_STAR, **_A3),
    _c("A3.EG-indep", ANISO, build(m_extrap, lr_L=1.0, gamma_L=0.6, batch=2), STOCH_STAR, **_A3),
    _c("A3.EG-same", ANISO, build(m_extrap, lr_L=1.0, gamma_L=0.6, batch=2, same_batch=True), STOCH_STAR,
       **_A3),
    _c("A3.USAM-same", ANISO, build(m_usam, lr_L=1.0, rho=0.2, batch=2), STOCH_STAR, **_A3),
    _c("A3.USAM-indep", ANISO, build(m_usam, lr_L=1.0, rho=0.2, batch=2, same_batch=False), STOCH_STAR,
       **_A3),
    _c("A3.NI", ANISO, build(m_noise, lr_L=1.0, gamma=0.3, batch=2), STOCH_STAR, **_A3),
    _c("A3.HB", ANISO, build(m_sgd, lr_L=0.6, momentum=0.5, batch=2), STOCH_STAR, **_A3),
    _c("A3.PEG", ANISO, build(m_peg, lr_L=0.6, gamma_L=0.6, batch=2), STOCH_STAR, **_A3),
    _c("A3.EXTRAP-K", ANISO, build(m_extrap, lr_L=1.0, gamma_L=0.6, batch=2, workers=4), STOCH_STAR, **_A3),
]

# ---- B: deterministic GD / EG ------------------------------------------------------------------------
B = [
    _c("B1", COS, build(m_sgd, lr_L=1.0, exact=True), EXACT_COSINE, deterministic=True),
    _c("B5", COS, build(m_eg, lr_L=1.0, gamma_L=0.5), EXACT_COSINE, deterministic=True),
    # B2: GD with eta = 1/L on the Huber witness reaches L D0^2/(4T+2) exactly; round-off only
    _c("B2.witness", HUB, build(m_sgd, lr_L=1.0, exact=True), HUBER, quantity="loss_gap", deterministic=True,
       witness=True, witness_tol=1e-9, note="ratio 1 to round-off"),
    # B3: from x0 on the slowest eigenvector, ||x_t|| = |1 - eta mu|^t D0 exactly (q = |1 - eta mu| here)
    _exact("B3", ANISO_SLOW, build(m_sgd, lr_L=1.0, exact=True), at=20, quantity="dist", witness=True,
           witness_tol=1e-9, note="x0 on the eigenvector of mu: equality to round-off"),
    _exact("B4", ANISO, build(m_sgd, lr_L=1.0, exact=True), at=20, quantity="loss_gap"),
    _exact("B6", ANISO, build(m_eg, lr_L=1.0, gamma_L=0.6), at=20, quantity="loss_gap"),
    _exact("B7", ANISO, build(m_eg, lr_L=1.0, gamma_L=0.6), at=20, quantity="loss_gap", params=level_set_radius),
]

# ---- C: mini-batch SGD ---------------------------------------------------------------------------------
# Witness runs: iso quadratic (L = 2, d = 5, sigma2 = 1), eta L = 1, b = 2. There x_t = -eta * noise for every
# t >= 1, so the C4/C5/C8 quantities have the same law at every t >= 1 and their bounds are constant in T:
# averaging each seed over t in [T/2, T] estimates the same expectation (per-seed relative sd ~ sqrt(2/(d*T/2))
# = 0.026 at T = 600, so 4 SE at 400 seeds ~ 0.5%). The C2 average over t < T misses exactly sigma2/(b T)
# (step 0 has no noise): 0.17% at T = 600. Tolerance 2% covers both with margin.
SGD_W = build(m_sgd, lr_L=1.0, batch=2)
C = [
    _c("C2", ANISO, build(m_sgd, lr_L=0.5, batch=2), STOCH),
    _c("C2", COS, build(m_sgd, lr_L=0.5, batch=2), COSINE),
    _c("C4", ANISO, build(m_sgd, lr_L=0.5, batch=2), STOCH, quantity="dist2"),
    _c("C5", ANISO, build(m_sgd, lr_L=0.5, batch=2), STOCH, quantity="loss_gap"),
    _c("C7", ANISO, build(m_sgd, lr_L=1.0, batch=2, schedule=(0.5, 16.0)), STOCH, params=c7_params, quantity="dist2"),
    _c("C8", ANISO, build(m_sgd, lr_L=0.5, batch=2), STOCH, quantity="loss_gap"),
    _c("C2", ISO, SGD_W, STOCH, witness=True, witness_tol=0.02, exact=sgd_witness_avg,
       note="floor sigma2/b attained at eta L = 1"),
    _c("C4", ISO, SGD_W, STOCH, quantity="dist2", window=0.5, witness=True, witness_tol=0.02,
       note="floor eta sigma2/(mu b) attained; time-averaged over [T/2, T]"),
    _c("C5", ISO, SGD_W, STOCH, quantity="loss_gap", window=0.5, witness=True, witness_tol=0.02,
       note="floor eta L sigma2/(2 mu b) attained; time-averaged over [T/2, T]"),
    _c("C8", ISO, SGD_W, STOCH, quantity="loss_gap", window=0.5, witness=True, witness_tol=0.02,
       note="floor attained; time-averaged over [T/2, T]"),
    # the declared refusal: eta L = 1.5 is stable (eta L < 2) but violates C2's step condition eta <= 1/L
    _c("C2", ANISO, build(m_sgd, lr_L=1.5, batch=2), STOCH, expect="refused",
       note="step eta = 1.5/L violates eta <= 1/L: the bound must refuse, not pass or fail"),
]


# ---- D: extrapolated SGD, nonconvex (L)-smooth with (V): on the quadratic and on the cosine family --------
def _d_checks(problem: Build, run: RunSpec, levels: tuple[str, ...] = ("quick", "full")) -> list[CatalogCheck]:
    ni = build(m_noise, lr_L=0.5, gamma=0.1, batch=2)
    ni_k = build(m_noise, lr_L=0.5, gamma=0.1, batch=2, workers=4)
    eg_k = build(m_extrap, lr_L=0.5, gamma_L=0.5, batch=2, workers=4)
    eg_same = build(m_extrap, lr_L=0.25, gamma_L=0.25, batch=2, same_batch=True)
    sam_indep = build(m_sam, lr_L=0.5, rho=0.1, batch=2, same_batch=False)
    checks = [
        _c("D0", problem, ni, run, note="delta = gamma Z, E||delta||^2 = gamma^2 d"),
        _c("D0", problem, sam_indep, run, note="||delta|| = rho"),
        _c("D0-K", problem, ni_k, run),
        _c("D1", problem, build(m_extrap, lr_L=0.5, gamma_L=0.5, batch=2), run),
        _c("D1-K", problem, eg_k, run),
        _c("D1-K.cor", problem, eg_k, run),
        _c("D2", problem, eg_same, run),
        _c("D2.cor", problem, eg_same, run),
        _c("D2", problem, build(m_usam, lr_L=0.25, rho=0.0625, batch=2), run, params=gamma_is_rho,
           note="USAM same batch, gamma = rho"),
        _c("D3", problem, build(m_peg, lr_L=0.5, gamma_L=0.5, batch=2), run),
        _c("D4", problem, ni, run),
        _c("D4.ball", problem, build(m_noise, lr_L=0.5, gamma=0.1, law="ball", batch=2), run),
        _c("D4-K", problem, ni_k, run),
        _c("D5a", problem, sam_indep, run),
        _c("D5b", problem, build(m_sam, lr_L=0.25, rho=0.1, batch=2), run),
    ]
    return [dataclasses.replace(c, levels=levels) for c in checks]


# D witnesses on the iso quadratic at eta L = 1 (b = 2, x0 = 1):
# D1: r = gamma L = 0.5, so E||grad f(x_t)||^2 = floor (1 - r^{2t}) + r^{2t} ||grad f(x_0)||^2; the average over
#     t < T falls short of the bound by floor / (T (1 - r^2)) ~ 0.2% at T = 600; 4 SE at 400 seeds ~ 0.6%.
# D4: x_{t+1} = gamma Z - eta noise: the average misses floor / T ~ 0.17%; 4 SE ~ 0.6%. Tolerance 2% for both.
# The floors themselves (D1.floor, D4.floor: "==" relations) are time-averaged over [T/2, T] (stationary there:
# r^T ~ 1e-90) with the same 2%.
EG_W = build(m_extrap, lr_L=1.0, gamma_L=0.5, batch=2)
NI_W = build(m_noise, lr_L=1.0, gamma=0.3, batch=2)
SAM_W = build(m_sam, lr_L=1.0, rho=0.1, exact=True)
D = _d_checks(ANISO, STOCH) + _d_checks(COS, COSINE) + _d_checks(COS_SHARP, COSINE, ("full",)) + _d_checks(
    NQM, STOCH, ("full",)) + [
    _c("D1", ISO, EG_W, STOCH, witness=True, witness_tol=0.02, exact=eg_witness_avg,
       note="floor attained at eta L = 1"),
    _c("D1.floor", ISO, EG_W, STOCH, quantity="grad_norm2", window=0.5, witness=True, witness_tol=0.02),
    _c("D4", ISO, NI_W, STOCH, witness=True, witness_tol=0.02, exact=ni_witness_avg,
       note="floor attained at eta L = 1"),
    _c("D4.floor", ISO, NI_W, STOCH, quantity="grad_norm2", window=0.5, witness=True, witness_tol=0.02),
    # D5(a), deterministic SAM at eta L = 1: ||grad f(x_t)||^2 = L^2 rho^2 for t >= 1 (round-off), and the
    # average over t < T misses the bound by exactly L^2 rho^2 / T / bound <= 1/T = 5e-5 at T = 20,000.
    _exact("D5a.witness", ISO, SAM_W, quantity="grad_norm2", witness=True, witness_tol=1e-9),
    _exact("D5a", ISO, SAM_W, witness=True, witness_tol=1e-4, exact=sam_witness_avg,
           note="deterministic: sigma2 = 0"),
]

# ---- H4: SGD with eta_t = 1/(mu (t+1)) computes the running mean: E f(x_T) - f* = sigma2/(2 mu b T) exactly.
# 50-D location problem: per-seed relative sd sqrt(2/50) = 0.2, so 4 SE at 2,000 seeds ~ 1.8%; tolerance 3%.
H = [
    _c("H4", LOC, build(m_sgd, lr_L=1.0, schedule=(2.0, 1.0)), LOCATION, quantity="loss_gap", witness=True,
       witness_tol=0.03, note="eta_t = 1/(mu (t+1)), mu = 0.5"),
]

CHECKS: list[CatalogCheck] = A1 + A2 + A3 + B + C + D + H
"""Every declared check, in catalog order (A, B, C, D, H)."""
