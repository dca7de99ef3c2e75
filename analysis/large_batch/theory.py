"""What the synthetic theory predicts for the real network: stability filters of the step actually used, the
critical batch size from the gradient noise [cited], and the catalog's critical batch of SGD's mean-square stability
[derived].

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

**Noise-scale critical batch size** [cited] (McCandlish et al. 2018, cited in THEORY.md §6): the simple noise scale
:math:`B_{\\rm noise}=\\operatorname{tr}\\Sigma(x)/\\|\\nabla f(x)\\|^2`, :math:`\\operatorname{tr}\\Sigma(x)=\\frac1n\\sum_i
\\|\\nabla f_i(x)-\\nabla f(x)\\|^2` (:meth:`problems.FiniteSum.sigma2_at`, exact at the point). Their model: below
:math:`B_{\\rm noise}` a larger batch (with the step scaled up) cuts the steps needed almost linearly; above it, hardly
at all, so at a fixed epoch budget batches beyond :math:`B_{\\rm noise}` should end at a higher training loss. The
value depends on the point (it grows as :math:`\\|\\nabla f\\|` shrinks): estimated.

**Critical batch size of the catalog** (THEORY.md §A4, §G3, entry ``A4.Bcrit`` [derived]): SGD linearised along one
direction :math:`v` of a finite sum, with per-sample curvatures :math:`h_i=v^\\top\\nabla^2f_i(x)v`, their mean
:math:`a` and variance :math:`s^2`, has :math:`\\mathbb E x_{t+1}^2=[(1-\\eta a)^2+\\eta^2ps^2]\\,\\mathbb E x_t^2`,
:math:`p=\\frac{n-B}{B(n-1)}`: mean-square stable iff :math:`\\eta a<2` and

.. math:: B\\ge B_{\\rm crit}=\\frac{n\\eta s^2}{\\eta s^2+a(2-\\eta a)(n-1)} .

Here :math:`v` is the Ritz vector of the top Ritz value of the training-loss Hessian (:func:`top_direction`, Lanczos;
no dense Hessian), :math:`h_i` one JVP of the per-sample gradients (:func:`curvature_spread`, the formula of
``analysis.sharp_flat.overlays.curvature_spread``, which uses a dense eigenvector) and :math:`B_{\\rm crit}` the
catalog's evaluator (:func:`critical_batch`). Caveats: A4 is a statement about plain SGD on a quadratic finite sum; the
study's SGD has Nesterov momentum (whose deterministic edge :math:`\\kappa(\\beta)/\\eta` is below A4's
:math:`2/\\eta`), its end points are not minima, and :math:`a,s` are measured at the point: estimated.

References: S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", arXiv:1812.06162
(2018); J. Cohen et al., "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability", ICLR 2021.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import linalg

from problems import ParameterError, Problem, check_choice, check_int, check_real
from proofs.catalog import catalog

from ..checks.critical_batch import critical_batch  # A4, shared with the sharp-flat study
from ..sharpness import hvp, lanczos

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


@jax.jit
def _hvp_rows(p: Problem, x: jax.Array, V: jax.Array) -> jax.Array:
    """:math:`\\nabla^2f(x)v` for every row of ``V``: one program for every point (``p`` and ``x`` traced)."""
    return jax.vmap(lambda v: hvp(p.value, x, v))(V)


@jax.jit
def _curvatures(p: Problem, x: jax.Array, v: jax.Array) -> jax.Array:
    return jax.jvp(p.per_sample_grads, (x,), (v,))[1] @ v


def top_direction(problem: Problem, x: Any, *, key: jax.Array, iterations: int) -> dict[str, Any]:
    """The Ritz pair of the top Ritz value of :math:`\\nabla^2f(x)` (:math:`f` = ``problem.value``) after ``iterations``
    Lanczos steps (:func:`analysis.sharpness.lanczos`, Hessian-vector products only):

    .. math:: T=QHQ^\\top,\\quad Ty=\\theta y\\ (\\theta\\ \\text{largest}),\\quad v=Q^\\top y,\\quad
              r=\\|Hv-\\theta v\\|\\ \\text{(the residual: how far } v \\text{ is from an eigenvector)}.

    Args:
        problem: any problem (its ``value`` and ``dim``); x: the point, shape ``(dim,)``, finite.
        key: the Lanczos start (``jax.random`` key); iterations: Lanczos steps, >= 1 (capped at ``dim``).

    Returns:
        ``{"v", "ritz_value", "residual"}``: the unit vector :math:`v`, :math:`\\theta` (a lower bound on
        :math:`\\lambda_{\\max}`) and :math:`r`.

    >>> import jax, problems
    >>> p = problems.make("quadratic", dim=3, mu=1.0, L=3.0, spacing="linear", rotate=False)
    >>> t = top_direction(p, p.x0, key=jax.random.key(0), iterations=3)  # 3 steps in d = 3: exact
    >>> round(t["ritz_value"], 10), round(abs(float(t["v"][-1])), 10), t["residual"] < 1e-12
    (3.0, 1.0, True)

    Reference: Golub & Van Loan, *Matrix Computations* (4th ed., 2013), §10.1.
    """
    iterations = check_int("iterations", iterations, lo=1)
    xa = jnp.asarray(x, dtype=jnp.float64)
    if xa.shape != (problem.dim,) or not bool(jnp.all(jnp.isfinite(xa))):
        raise ParameterError(f"x must be a finite vector of shape ({problem.dim},), got shape {xa.shape}")
    alphas, betas, Q = lanczos(lambda v: _hvp_rows(problem, xa, v[None])[0], problem.dim, iterations, key)
    w, Y = linalg.eigh_tridiagonal(alphas, betas) if alphas.size > 1 else (alphas, np.ones((1, 1)))
    v = Q.T @ Y[:, -1]
    v /= np.linalg.norm(v)
    hv = np.asarray(_hvp_rows(problem, xa, jnp.asarray(v)[None])[0])
    return {"v": v, "ritz_value": float(w[-1]), "residual": float(np.linalg.norm(hv - w[-1] * v))}


def curvature_spread(problem: Problem, x: Any, v: Any) -> dict[str, Any]:
    """Per-sample curvatures of a finite sum along the unit direction ``v`` at ``x`` (A4's 1-D reduction; the formula
    of ``analysis.sharp_flat.overlays.curvature_spread``):

    .. math:: h_i=v^\\top\\nabla^2f_i(x)v=v^\\top\\partial_v\\nabla f_i(x),\\qquad a=\\tfrac1n\\textstyle\\sum_ih_i,
              \\qquad s^2=\\tfrac1n\\textstyle\\sum_ih_i^2-a^2,

    one JVP of ``problem.per_sample_grads`` (shape ``(n, dim)``).

    Args:
        problem: a finite sum (``n`` and ``per_sample_grads``); x, v: shape ``(dim,)``, ``v`` of unit norm.

    Returns:
        ``{"h", "a", "s"}``: the ``n`` curvatures, their mean and standard deviation.

    >>> import numpy as np, problems
    >>> p = problems.make("least-squares", dim=2, n=5)
    >>> c = curvature_spread(p, np.zeros(2), np.array([1.0, 0.0]))  # h_i = (a_i)_1^2, a = H_11
    >>> bool(np.isclose(c["a"], p.hessian(np.zeros(2))[0, 0], rtol=1e-12)), len(c["h"])
    (True, 5)
    """
    if getattr(problem, "n", None) is None or not hasattr(problem, "per_sample_grads"):
        raise ParameterError(f"problem must be a finite sum (n and per_sample_grads), got {type(problem).__name__}")
    xa, va = (jnp.asarray(u, dtype=jnp.float64) for u in (x, v))
    for name, u in (("x", xa), ("v", va)):
        if u.shape != (problem.dim,):
            raise ParameterError(f"{name} must have shape ({problem.dim},), got {u.shape}")
    h = np.asarray(_curvatures(problem, xa, va))
    a = float(h.mean())
    return {"h": h, "a": a, "s": math.sqrt(max(float(np.mean(h * h)) - a * a, 0.0))}


__all__ = ["KINDS", "critical_batch", "curvature_spread", "nag_constant", "noise_scale", "stable", "threshold",
           "top_direction"]
