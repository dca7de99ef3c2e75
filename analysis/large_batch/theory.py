"""What the synthetic theory predicts for the real network: stability filters of the step actually used, and the
critical batch size from the gradient noise.

**Stability filters** (THEORY.md §A1, §A2, §G2; thresholds from the verified catalog, :mod:`proofs.catalog`).
Nesterov momentum :math:`\\beta` (PyTorch form) on a quadratic direction of curvature :math:`\\lambda` is stable iff
:math:`0<\\eta\\lambda<\\kappa(\\beta)=\\frac{2(1+\\beta)}{1+2\\beta}` (A2.NAG, exact). Per method (``kind``):

* ``"nag"`` (SGD): :math:`\\lambda<\\kappa/\\eta` (A2.NAG).
* ``"noise"`` (noise injection): the same on the mean path (A1.NI: :math:`\\mathbb E\\nabla f(x+\\gamma Z)=\\nabla f(x)`
  on a quadratic, so the mean follows NAG; A2.NAG applied to it).
* ``"extrap"`` (EXTRAP-SGD, :math:`\\gamma`): the extrapolated gradient on the direction is
  :math:`\\lambda(1-\\gamma\\lambda)c` (A1's effective curvature, exact), fed to NAG: stable iff :math:`\\gamma\\lambda<1`
  and :math:`\\eta\\lambda(1-\\gamma\\lambda)<\\kappa`. The smallest unstable curvature is
  :math:`\\lambda_-=\\frac{1-\\sqrt{1-4\\gamma\\kappa/\\eta}}{2\\gamma}` when :math:`\\eta\\ge4\\gamma\\kappa`, else
  :math:`1/\\gamma` (for :math:`\\beta=0`, :math:`\\kappa=2`, this is A2.EG's band edge). Composed here from the two
  exact catalog facts; tested against the recursion.
* ``"sam"``: none in the catalog (normalized SAM never converges, A2.SAM, and no row combines it with momentum);
  A2.NAG's :math:`\\kappa/\\eta` of the update step is shown for reference only.

Deterministic linear stability; the Hessian of the network's loss at the final iterate stands in for the quadratic
(an approximation, estimated).

**Critical batch size** (McCandlish et al. 2018, cited in THEORY.md §6): the simple noise scale
:math:`B_{\\rm noise}=\\operatorname{tr}\\Sigma(x)/\\|\\nabla f(x)\\|^2`, :math:`\\operatorname{tr}\\Sigma(x)=\\frac1n\\sum_i
\\|\\nabla f_i(x)-\\nabla f(x)\\|^2` (:meth:`problems.FiniteSum.sigma2_at`, exact at the point). Their model: below
:math:`B_{\\rm noise}` a larger batch (with the step scaled up) cuts the steps needed almost linearly; above it, hardly
at all, so at a fixed epoch budget batches beyond :math:`B_{\\rm noise}` should end at a higher training loss. The
value depends on the point (it grows as :math:`\\|\\nabla f\\|` shrinks): estimated.

References: S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", arXiv:1812.06162
(2018); J. Cohen et al., "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability", ICLR 2021.
"""

from __future__ import annotations

import math
from typing import Any

from problems import check_choice, check_real
from proofs.catalog import catalog

KINDS = ("nag", "extrap", "noise", "sam")


def nag_constant(momentum: float) -> float:
    """:math:`\\kappa(\\beta)=\\frac{2(1+\\beta)}{1+2\\beta}`: A2.NAG's bound on :math:`\\eta\\lambda` (the catalog's
    threshold at :math:`\\eta=1`).

    >>> round(nag_constant(0.9), 6), nag_constant(0.0)
    (1.357143, 2.0)
    """
    momentum = check_real("momentum", momentum, lo=0.0, hi=1.0, hi_open=True)
    return float(catalog()["A2.NAG"].bound.evaluate(eta=1.0, beta=momentum))


def threshold(kind: str, *, lr: float, momentum: float, extrap_lr: float = 0.0) -> dict[str, Any]:
    """The largest curvature the step keeps stable (module docstring); the study passes the last step of a run.

    Args:
        kind: ``"nag"``, ``"extrap"``, ``"noise"`` or ``"sam"``.
        lr: the update step :math:`\\eta>0` at the end of training; extrap_lr: :math:`\\gamma>0` (``"extrap"``).
        momentum: Nesterov :math:`\\beta\\in[0,1)`.

    Returns:
        ``{"threshold", "rule", "theorem", "status"}``: :math:`\\lambda^\\star` (curvatures in :math:`(0,\\lambda^\\star)`
        are stable), the rule in words, its source and ``"exact"``, ``"exact (composed)"`` or ``"reference"``.

    Raises:
        ParameterError: an unknown kind or a step out of range.

    >>> round(threshold("nag", lr=0.5, momentum=0.9)["threshold"], 4)
    2.7143
    >>> threshold("extrap", lr=0.5, extrap_lr=0.5, momentum=0.9)["threshold"]  # gamma = eta: 1/gamma binds
    2.0
    """
    kind = check_choice("kind", kind, KINDS)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    kappa = nag_constant(momentum)
    nag = kappa / lr
    if kind == "nag":
        return {"threshold": nag, "rule": f"lambda < 2(1+beta)/((1+2beta) eta) = {nag:.4g}", "theorem": "A2.NAG",
                "status": "exact"}
    if kind == "noise":
        return {"threshold": nag, "rule": f"mean path: lambda < 2(1+beta)/((1+2beta) eta) = {nag:.4g}",
                "theorem": "A1.NI + A2.NAG", "status": "exact (composed)"}
    if kind == "sam":
        return {"threshold": nag, "rule": f"none in the catalog; NAG's {nag:.4g} of the update step for reference",
                "theorem": "A2.NAG (reference)", "status": "reference"}
    gamma = check_real("extrap_lr", extrap_lr, lo=0.0, lo_open=True)
    if lr >= 4 * gamma * kappa:
        t = (1 - math.sqrt(1 - 4 * gamma * kappa / lr)) / (2 * gamma)
        rule = f"gamma lambda < 1 and eta lambda (1 - gamma lambda) < {kappa:.4g}: first unstable at {t:.4g}"
    else:
        t = 1 / gamma
        rule = f"lambda < 1/gamma = {t:.4g} (eta lambda (1 - gamma lambda) <= eta/(4 gamma) < {kappa:.4g})"
    return {"threshold": t, "rule": rule, "theorem": "A1 (effective curvature) + A2.NAG", "status": "exact (composed)"}


def stable(kind: str, lam: float, *, lr: float, momentum: float, extrap_lr: float = 0.0) -> bool | None:
    """Is curvature ``lam`` > 0 linearly stable for the method's step (module docstring); ``None`` for ``"sam"``.

    For ``"extrap"`` the exact set :math:`\\{\\gamma\\lambda<1,\\ \\eta\\lambda(1-\\gamma\\lambda)<\\kappa\\}`
    (with its band of stable curvatures above :math:`\\lambda_-` when :math:`\\eta>4\\gamma\\kappa`), not only
    :math:`\\lambda<\\lambda^\\star`.

    >>> stable("extrap", 1.5, lr=1.0, extrap_lr=0.5, momentum=0.9), stable("extrap", 2.5, lr=1.0, extrap_lr=0.5,
    ...                                                                    momentum=0.9)
    (True, False)
    """
    kind = check_choice("kind", kind, KINDS)
    lam = check_real("lam", lam, lo=0.0, lo_open=True)
    if kind == "sam":
        return None
    kappa = nag_constant(momentum)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    if kind in ("nag", "noise"):
        return lr * lam < kappa
    gamma = check_real("extrap_lr", extrap_lr, lo=0.0, lo_open=True)
    return gamma * lam < 1 and lr * lam * (1 - gamma * lam) < kappa


def noise_scale(sigma2: float, grad_norm2: float) -> float:
    """:math:`B_{\\rm noise}=\\operatorname{tr}\\Sigma/\\|\\nabla f\\|^2` (McCandlish et al. 2018); ``inf`` at a stationary
    point.

    >>> noise_scale(16.0, 0.25)
    64.0
    """
    sigma2 = check_real("sigma2", sigma2, lo=0.0)
    grad_norm2 = check_real("grad_norm2", grad_norm2, lo=0.0)
    return math.inf if grad_norm2 == 0 else sigma2 / grad_norm2


__all__ = ["KINDS", "nag_constant", "noise_scale", "stable", "threshold"]
