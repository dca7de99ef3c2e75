"""Theory overlays for sharp vs flat minima (THEORY.md §G2–§G4, §A2, §A4).

The thresholds and stationary values come from verified catalog bounds (:mod:`proofs.catalog`), evaluated
at the curvature of a known minimum; the two small derivations done here (EG's band edge
:math:`\\lambda_-`, the heavy-ball second-moment recursion on a finite sum) say so and are tested against
the catalog and against simulation.

* :func:`stability_filter`: is a minimum of curvature :math:`\\lambda` linearly stable for a method
  at its step sizes (the G2 table: GD/NI :math:`2/\\eta`, HB :math:`2(1+\\beta)/\\eta`, EG
  :math:`\\gamma\\lambda<1` and :math:`\\eta\\lambda(1-\\gamma\\lambda)<2`, PEG
  :math:`\\min\\{1/\\gamma,2/(\\eta+2\\gamma)\\}`, normalized SAM: never converges, bounded 2-cycle iff
  :math:`\\eta\\lambda<2`).
* :func:`curvature_spread`: the per-sample curvatures :math:`h_i=v^\\top\\nabla^2f_i(x^\\star)v` along the
  top eigenvector of a finite sum, their mean :math:`a` and spread :math:`s` (A4's 1-D form).
* :func:`critical_batch`: :math:`B_{\\rm crit}` of A4/G3 for SGD (mean-square stable iff :math:`B\\ge B_{\\rm crit}`).
* :func:`stationary_std` with :func:`noise_along`: the stationary spread of the linearised method along the
  sharp direction (A3 rows; for SGD and heavy ball on finite sums, the exact second-moment recursion of
  :func:`heavy_ball_second_moment`), a proxy for noise-driven escape (not a theorem about escape).
* :func:`sgd_lyapunov`: the Lyapunov exponent :math:`\\Lambda(B)=\\mathbb E\\log|1-\\eta h_B|` of G4 and the
  mean-square factor :math:`(1-\\eta a)^2+\\eta^2ps^2` of A4.WME; escape of typical paths needs :math:`\\Lambda>0`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems import Problem, check_choice, check_int, check_real, without_replacement_factor
from proofs.catalog import catalog

from ..checks.critical_batch import critical_batch  # noqa: F401  (A4; re-exported here for the study)
from ..checks.tails import lyapunov_exponent


@dataclass(frozen=True)
class Filter:
    """Linear stability of one minimum for one method (THEORY.md §G2).

    Attributes:
        stable: the minimum is linearly stable (the deterministic method can converge to it).
        threshold: the largest stable curvature :math:`\\lambda^\\star` (``nan`` when the rule is not one number).
        rule: the rule, in words.
        theorem: the catalog entry it comes from.
    """

    stable: bool
    threshold: float
    rule: str
    theorem: str


KINDS = ("sgd", "heavy_ball", "extrap", "past", "noise", "sam")


def _bound(name: str, **values: float) -> float:
    return float(catalog()[name].bound.evaluate(**values))


def stability_filter(method: str, lam: float, *, lr: float, extrap_lr: float = 0.0, rho: float = 0.0,
                     momentum: float = 0.0) -> Filter:
    """The G2 filter: can ``method`` (a key of :data:`analysis.sharp_flat.basins.METHODS`' kinds) stay at a minimum of curvature ``lam``.

    Args:
        method: ``"sgd"`` (GD), ``"heavy_ball"``, ``"extrap"`` (EG, :math:`\\gamma` = ``extrap_lr``),
            ``"past"`` (PEG), ``"noise"`` (noise injection: GD's mean path, A1) or ``"sam"`` (normalized SAM).
        lam: the top Hessian eigenvalue :math:`\\lambda_{\\max}` of the minimum.
        lr, extrap_lr, rho, momentum: :math:`\\eta,\\gamma,\\rho,\\beta`.

    Returns:
        A :class:`Filter`. For SAM ``stable`` means "bounded 2-cycle around the minimum" (A2.7), since
        normalized SAM never converges to it.

    >>> stability_filter("extrap", 15.0, lr=0.1, extrap_lr=0.1).stable  # gamma * lambda = 1.5 >= 1
    False

    Raises:
        ParameterError: an unknown method, a non-finite ``lam``, a step outside its range.
    """
    check_choice("method", method, KINDS)
    check_real("lam", lam)
    check_real("lr", lr, lo=0.0, lo_open=True)
    if method in ("extrap", "past"):
        check_real("extrap_lr", extrap_lr, lo=0.0, lo_open=True)
    if method == "heavy_ball":
        check_real("momentum", momentum, lo=0.0, hi=1.0, hi_open=True)
    if method in ("sgd", "noise"):
        t = _bound("A2.GD", eta=lr)
        return Filter(lam < t, t, f"lambda < 2/eta = {t:.4g}", "A2.GD")
    if method == "heavy_ball":
        t = _bound("A2.HB", eta=lr, beta=momentum)
        return Filter(lam < t, t, f"lambda < 2(1+beta)/eta = {t:.4g}", "A2.HB")
    if method == "past":
        t = _bound("A2.PEG", eta=lr, gamma=extrap_lr)
        return Filter(lam < t, t, f"lambda < min(1/gamma, 2/(eta+2 gamma)) = {t:.4g}", "A2.PEG")
    if method == "extrap":
        inside = extrap_lr * lam < 1 and lr * lam * (1 - extrap_lr * lam) < 2  # A2.EG, both Jury conditions
        if lr > 8 * extrap_lr:
            lam_p = _bound("A2.EG", eta=lr, gamma=extrap_lr)
            lam_m = (1 - math.sqrt(1 - 8 * extrap_lr / lr)) / (2 * extrap_lr)
            rule = f"lambda < 1/gamma = {1 / extrap_lr:.4g}, outside the band ({lam_m:.4g}, {lam_p:.4g})"
            return Filter(inside, lam_m if lam < lam_p else 1 / extrap_lr, rule, "A2.EG")
        return Filter(inside, 1 / extrap_lr, f"lambda < 1/gamma = {1 / extrap_lr:.4g} (no band: eta <= 8 gamma)",
                      "A2.EG")
    if method == "sam":
        t = _bound("A2.GD", eta=lr)
    t = _bound("A2.GD", eta=lr)  # sam
    return Filter(lam < t, t, f"never converges; bounded 2-cycle iff lambda < 2/eta = {t:.4g}", "A2.SAM")


def curvature_spread(problem: Problem, x: Any) -> tuple[np.ndarray, float, float]:
    """Per-sample curvatures along the top Hessian eigenvector at ``x`` (A4's 1-D reduction).

    .. math:: h_i=v^\\top\\nabla^2f_i(x)v,\\qquad a=\\tfrac1n\\textstyle\\sum_ih_i,\\qquad
              s^2=\\tfrac1n\\textstyle\\sum_ih_i^2-a^2 .

    For a finite sum, :math:`h_i=v^\\top\\partial_v\\nabla f_i(x)`, one JVP of the per-sample gradients (any
    finite sum, a user's too); for an additive-noise oracle every sample has the Hessian of :math:`f`, so
    :math:`s=0` (returns ``h`` of length 1).
    """
    x = jnp.asarray(x, dtype=jnp.float64)
    w, vecs = np.linalg.eigh(np.asarray(problem.hessian(x)))
    v = jnp.asarray(vecs[:, -1])
    if problem.n is None:
        return np.array([w[-1]]), float(w[-1]), 0.0
    h = np.asarray(jax.jvp(problem.per_sample_grads, (x,), (v,))[1] @ v)
    a = float(h.mean())
    return h, a, float(math.sqrt(max(float(np.mean(h * h)) - a * a, 0.0)))


def sgd_lyapunov(h: np.ndarray, lr: float, batch: int, *, key: Any, samples: int = 20000) -> dict[str, float]:
    """Lyapunov exponent and mean-square factor of SGD linearised at a minimum (THEORY.md §G4, §A4).

    Batches of ``batch`` of the ``n = len(h)`` curvatures are drawn uniformly without replacement;
    :math:`\\Lambda=\\mathbb E\\log|1-\\eta h_B|` is estimated over ``samples`` batches (with its standard
    error), the mean-square factor is exact (A4.WME). Typical paths leave the minimum iff
    :math:`\\Lambda>0`; a mean-square factor above 1 alone does not imply it (G4).
    """
    h = np.asarray(h, dtype=np.float64)
    n = h.size
    check_int("batch", batch, lo=1, hi=n if n > 1 else None)  # one curvature (additive noise): any batch
    a, s = float(h.mean()), float(np.sqrt(max(np.mean(h * h) - h.mean() ** 2, 0.0)))
    if n < 2 or batch >= n:
        hb = np.full(2, a)
        ms = (1 - lr * a) ** 2
    else:
        keys = jax.random.split(key, samples)
        idx = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, n)[:batch])(keys))
        hb = h[idx].mean(axis=1)
        ms = _bound("A4.WME", B=batch, a=a, eta=lr, n=n, s=max(s, 1e-300))
    lam, se = lyapunov_exponent(np.log(np.maximum(np.abs(1 - lr * hb), 1e-300)))
    return {"lyapunov": lam, "lyapunov_se": se, "mean_square_factor": ms}


_A3 = {"extrap": "A3.EG-indep", "past": "A3.PEG", "noise": "A3.NI"}


def noise_along(problem: Problem, x: Any, v: Any, batch: int) -> float:
    """Variance :math:`v_B` of the mini-batch gradient along the unit vector ``v`` at ``x`` (A3's :math:`v`).

    Finite sums (uniform batches without replacement): :math:`p_B\\,\\mathrm{Var}_i(v^\\top\\nabla f_i(x))`,
    :math:`p_B=\\frac{n-B}{B(n-1)}` (A4.p); additive isotropic noise: :math:`\\sigma^2/(dB)` (``sigma2`` is the trace).
    """
    if problem.n is not None:
        g = np.asarray(problem.per_sample_grads(jnp.asarray(x, dtype=jnp.float64))) @ np.asarray(v)
        return float(np.var(g)) * without_replacement_factor(problem.n, batch)
    return float(problem.constants["sigma2"]) / problem.dim / check_int("batch", batch, lo=1)


def heavy_ball_second_moment(a: float, curvature_var: float, v: float, *, lr: float, momentum: float = 0.0) -> float:
    """Stationary :math:`\\mathbb Ec^2` of SGD / heavy ball linearised at a minimum of a finite sum, 1-D.

    Along the sharp direction, :math:`c_{t+1}=(1+\\beta-\\eta h_B)c_t-\\beta c_{t-1}-\\eta g_B` with batch
    curvature :math:`h_B` (mean :math:`a`, variance ``curvature_var`` :math:`=p_Bs^2`) and batch gradient
    :math:`g_B` at the minimum (mean 0, variance :math:`v`). The batch is independent of the state and the
    state's mean tends to 0, so the cross terms vanish and :math:`\\Sigma=\\mathrm{Cov}(c_t,c_{t-1})` obeys
    :math:`\\Sigma'=\\mathbb E[A_B\\Sigma A_B^\\top]+\\eta^2v\\,e_1e_1^\\top`, a linear map :math:`T` on
    :math:`(\\Sigma_{11},\\Sigma_{12},\\Sigma_{22})` built from :math:`\\mathbb Eu=1+\\beta-\\eta a` and
    :math:`\\mathbb Eu^2=(\\mathbb Eu)^2+\\eta^2p_Bs^2`. Returns :math:`\\Sigma_{11}`, or ``inf`` when
    :math:`\\rho(T)\\ge1` (mean-square divergent; for :math:`\\beta=0` exactly A4.WME's factor :math:`\\ge1`).
    With :math:`s=0` it is A3's SGD / HB row (tested), with :math:`\\beta=0` the regular-minimum limit of A4.
    """
    eu = 1 + momentum - lr * a
    eu2 = eu * eu + lr * lr * curvature_var
    t = np.array([[eu2, -2 * momentum * eu, momentum**2], [eu, -momentum, 0.0], [1.0, 0.0, 0.0]])
    if np.max(np.abs(np.linalg.eigvals(t))) >= 1:
        return math.inf
    return float(np.linalg.solve(np.eye(3) - t, np.array([lr * lr * v, 0.0, 0.0]))[0])


def stationary_std(kind: str, lam: float, v: float, *, lr: float, extrap_lr: float = 0.0, rho: float = 0.0,
                   momentum: float = 0.0, curvature_var: float = 0.0) -> float:
    """:math:`\\sqrt{\\lim_t\\mathbb Ec_t^2}` of the linearised method along an eigen-direction of curvature ``lam``
    with batch-gradient noise variance ``v`` and batch-curvature variance ``curvature_var``.

    SGD and heavy ball: :func:`heavy_ball_second_moment` (any ``curvature_var``; ``inf`` when mean-square
    divergent). EXTRAP-SGD (A3.EG-indep), past_extrap (A3.PEG), noise injection (A3.NI, Gaussian :math:`w=1`,
    which adds :math:`\\gamma^2\\lambda^2` even at :math:`v=0`): their A3 rows, exact only when every sample has
    the same curvature, so ``nan`` when ``curvature_var > 0``. ``nan`` also for normalized SAM (no A3 row) and
    where G2 says the direction is unstable.
    """
    if not stability_filter(kind, lam, lr=lr, extrap_lr=extrap_lr, rho=rho, momentum=momentum).stable:
        return math.nan
    if kind in ("sgd", "heavy_ball"):
        return math.sqrt(heavy_ball_second_moment(lam, curvature_var, v, lr=lr,
                                                  momentum=momentum if kind == "heavy_ball" else 0.0))
    if kind not in _A3 or curvature_var > 0:
        return math.nan
    if v == 0 and kind != "noise":
        return 0.0
    par = {"eta": lr, "lambda": lam, "v": max(v, 1e-300), "gamma": extrap_lr}
    if kind == "noise":
        par["w"] = 1.0
    return math.sqrt(2 * _bound(_A3[kind], **par) / lam)
