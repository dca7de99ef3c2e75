"""Problem and method builders used by the catalog checks (wrapped in :class:`~analysis.verify.spec.Build`).

Problems (every constant exact, see ``problems``):

* :func:`p_aniso` — :math:`\\tfrac12x^\\top Hx`, spectrum :math:`\\{0.25,0.5,1,1.5,2\\}` in a fixed random basis,
  additive Gaussian noise with a diagonal (not isotropic, not aligned with :math:`H`) covariance of trace 1.5;
  so the per-direction variances :math:`v_i=q_i^\\top\\Sigma_\\epsilon q_i/b` all differ.
* :func:`p_iso` — :math:`\\tfrac L2\\|x\\|^2` with isotropic noise: the witness of the C/D floors at
  :math:`\\eta L=1`.
* :func:`p_equal` — :math:`\\tfrac\\lambda2\\|x\\|^2`, noise-free: every direction has the same eigenvalue, so a
  threshold in :math:`\\lambda` is exactly a threshold of the problem.
* :func:`p_location` — Gaussian location (H4): :math:`\\tfrac\\mu2\\|x\\|^2`, isotropic noise.
* :func:`p_cosine` — :math:`\\sum_j(\\tfrac12x_j^2+3\\cos x_j)`, :math:`L=4`, nonconvex, additive noise (the
  D6 family).
* :func:`p_huber` — the B2 witness.

Method builders take the problem and scale their steps by its :math:`L` (``lr_L`` means :math:`\\eta L`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import problems
import xtrap

DIM = 5
ANISO_EIGS = (0.25, 0.5, 1.0, 1.5, 2.0)
ANISO_NOISE = (0.1, 0.2, 0.3, 0.4, 0.5)


def _rotation(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def p_aniso(start: str = "ones") -> problems.Problem:
    """The anisotropic additive-noise quadratic (module docstring); ``start``: ``ones``, or ``slow`` (the unit
    eigenvector of the smallest eigenvalue, where GD contracts by exactly :math:`|1-\\eta\\mu|` per step)."""
    q = _rotation(DIM, 7)
    x0 = q[:, 0] if start == "slow" else np.ones(DIM)
    return problems.make_quadratic(ANISO_EIGS, eigvecs=q, noise_cov=np.diag(ANISO_NOISE), x0=x0)


def p_iso(L: float = 2.0, sigma2: float = 1.0, dim: int = DIM, start: float = 1.0) -> problems.Problem:
    """:math:`\\tfrac L2\\|x\\|^2`, noise covariance :math:`\\frac{\\sigma^2}{d}I`,
    :math:`x_0=` ``start`` :math:`\\cdot\\mathbf 1`."""
    return problems.make_quadratic(np.full(dim, L), noise_cov=np.eye(dim) * sigma2 / dim, x0=np.full(dim, start))


def p_equal(lam: float) -> problems.Problem:
    """Noise-free :math:`\\tfrac\\lambda2\\|x\\|^2` from :math:`\\mathbf 1` (threshold classification)."""
    return problems.make_quadratic(np.full(DIM, lam), x0=np.ones(DIM))


def p_location(mu: float = 0.5, s2: float = 0.04, dim: int = 50) -> problems.Problem:
    """H4: :math:`\\tfrac\\mu2\\|x\\|^2`, :math:`g=\\mu(x-\\xi)`, :math:`\\xi\\sim N(0,s^2I)`, so
    :math:`\\sigma^2=\\mu^2s^2d`."""
    return problems.make_quadratic(np.full(dim, mu), noise_cov=np.eye(dim) * mu**2 * s2, x0=np.ones(dim))


def p_cosine(noise: float = 0.5, b: float = 3.0, omega: float = 1.0) -> problems.Problem:
    """:math:`\\sum_j(\\tfrac12x_j^2+b\\cos\\omega x_j)` in 5-D from :math:`0.5\\cdot\\mathbf 1`; the default
    :math:`b=3,\\omega=1` has :math:`L=4` (THEORY.md D6); :math:`b=0.75,\\omega=2` has the same :math:`L` with
    twice as many oscillations per unit."""
    return problems.make("cosine", dim=DIM, a=1.0, b=b, omega=omega, noise=noise, start=0.5)


def p_nqm(dim: int = 20) -> problems.Problem:
    """The noisy quadratic model: :math:`\\lambda_i=1/i`, noise covariance :math:`\\propto H` (``problems``)."""
    return problems.make("noisy-quadratic", dim=dim)


def p_huber(T: int = 50) -> problems.Problem:
    """The Huber witness for :math:`T` steps, :math:`L=1`, :math:`D_0=1`."""
    return problems.make("huber", L=1.0, D0=1.0, T=T)


# ---- methods: (problem) -> Method, steps as multiples of 1/L ------------------------------------


def _L(p: problems.Problem) -> float:
    return float(p.L)


def m_sgd(p: problems.Problem, lr_L: float, batch: int = 1, workers: int = 1, momentum: float = 0.0,
          nesterov: bool = False, exact: bool = False, schedule: tuple[float, float] | None = None) -> xtrap.Method:
    """SGD (``exact``: GD); ``schedule=(s0, t0)``: :math:`\\eta_t=s_0/(1+t/t_0)` (then ``lr_L`` is ignored)."""
    lr: Any = lr_L / _L(p) if schedule is None else xtrap.inverse_time(schedule[0], schedule[1])
    return xtrap.sgd(lr=lr, batch=batch, workers=workers, momentum=momentum, nesterov=nesterov, exact=exact)


def m_extrap(p: problems.Problem, lr_L: float, gamma_L: float, batch: int = 1, workers: int = 1,
             same_batch: bool = False) -> xtrap.Method:
    """EXTRAP-SGD (local stochastic extragradient), :math:`\\eta L=` ``lr_L``, :math:`\\gamma L=` ``gamma_L``."""
    return xtrap.extrap_sgd(lr=lr_L / _L(p), extrap_lr=gamma_L / _L(p), batch=batch, workers=workers,
                            same_batch=same_batch)


def m_eg(p: problems.Problem, lr_L: float, gamma_L: float) -> xtrap.Method:
    """Deterministic extragradient."""
    return xtrap.extragradient(lr=lr_L / _L(p), extrap_lr=gamma_L / _L(p))


def m_usam(p: problems.Problem, lr_L: float, rho: float, batch: int = 1, same_batch: bool = True,
           exact: bool = False) -> xtrap.Method:
    """USAM, :math:`u=x+\\rho g`."""
    return xtrap.usam(lr=lr_L / _L(p), rho=rho, batch=batch, same_batch=same_batch, exact=exact)


def m_sam(p: problems.Problem, lr_L: float, rho: float, batch: int = 1, same_batch: bool = True,
          exact: bool = False) -> xtrap.Method:
    """Normalized SAM, :math:`u=x+\\rho g/\\|g\\|`."""
    return xtrap.sam(lr=lr_L / _L(p), rho=rho, batch=batch, same_batch=same_batch, exact=exact)


def m_noise(p: problems.Problem, lr_L: float, gamma: float, law: str = "gaussian", batch: int = 1,
            workers: int = 1, exact: bool = False) -> xtrap.Method:
    """Noise injection :math:`u=x-\\gamma Z` (``gamma`` absolute: it is a noise scale)."""
    return xtrap.noise_extrap(lr=lr_L / _L(p), extrap_lr=gamma, law=law, batch=batch, workers=workers, exact=exact)


def m_peg(p: problems.Problem, lr_L: float, gamma_L: float, batch: int = 1, exact: bool = False) -> xtrap.Method:
    """Extrapolation from the past, :math:`u_t=x_t-\\gamma h_{t-1}`."""
    return xtrap.past_extrap(lr=lr_L / _L(p), extrap_lr=gamma_L / _L(p), batch=batch, exact=exact)


# ---- absolute steps (thresholds are stated in eta, gamma, rho, beta; the problem is built to them) ------


def m_abs(p: problems.Problem, name: str, **hyper: Any) -> xtrap.Method:
    """``xtrap.make_method(name, **hyper)`` with absolute hyper-parameters and exact gradients."""
    if name in ("sgd", "usam", "sam", "past_extrap", "noise_extrap"):
        hyper = dict(hyper, exact=True)
    return xtrap.make_method(name, **hyper)
