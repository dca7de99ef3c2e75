"""Parameter maps and witness values of the catalog checks that need more than :func:`standard_params`.

Parameter maps (``Ctx -> dict``) name what a theorem calls differently (D2's :math:`|\\gamma|` is USAM's
:math:`\\rho`; A2.7's ``lambda_1``; B7's level-set radius; C7's schedule constants). Witness values give
the *exact* expectation of an average-gradient quantity at a witness, :math:`f=\\tfrac L2\\|x\\|^2`,
:math:`\\eta L=1`, from :math:`x_0`: step 0 contributes :math:`\\|\\nabla f(x_0)\\|^2=2L\\Delta=2\\Delta/\\eta`
exactly, so each average misses its bound by a known :math:`O(1/T)` amount; the run must match these
values as identities (4 SE) and the bound within the declared tolerance.
"""

from __future__ import annotations

import numpy as np

from .spec import Ctx, standard_params


def gamma_is_rho(ctx: Ctx) -> dict[str, float]:
    """D2 for USAM (same batch): its :math:`\\gamma` is :math:`|\\gamma|=\\rho`."""
    return {**standard_params(ctx), "gamma": standard_params(ctx)["rho"]}


def top_curvature(ctx: Ctx) -> dict[str, float]:
    """A2.7: ``lambda_1`` is the top eigenvalue :math:`L`."""
    return {**standard_params(ctx), "lambda_1": float(ctx.problem.L)}


def level_set_radius(ctx: Ctx) -> dict[str, float]:
    """B7 on a quadratic: :math:`R=\\sup\\{\\|x-x^\\star\\|:f(x)\\le f(x_0)\\}=\\sqrt{2\\Delta/\\mu}`."""
    out = standard_params(ctx)
    return {**out, "R": (2.0 * out["Delta"] / out["mu"]) ** 0.5}


def c7_params(ctx: Ctx) -> dict[str, float]:
    """C7: :math:`\\eta_t=\\beta/(t+k_0)` with :math:`\\beta=8`, :math:`k_0=16`, read at :math:`t=T`."""
    return {**standard_params(ctx), "beta": 8.0, "k0": 16.0, "t": float(ctx.steps)}


# ---- exact values at the witnesses of average-gradient bounds ------------------------------------------------


def _g0(ctx: Ctx) -> float:
    return float(np.sum(np.asarray(ctx.problem.grad(ctx.x0)) ** 2))


def sgd_witness_avg(ctx: Ctx) -> float:
    """SGD: :math:`x_t=-\\eta\\bar\\epsilon_{t-1}` for :math:`t\\ge1`, so
    :math:`\\mathbb E\\,\\text{avg}_T=(\\|\\nabla f(x_0)\\|^2+(T-1)\\sigma^2/b)/T`."""
    p = standard_params(ctx)
    return (_g0(ctx) + (p["T"] - 1) * p["sigma2"] / p["b"]) / p["T"]


def ni_witness_avg(ctx: Ctx) -> float:
    """Gaussian NI: :math:`x_t=\\gamma Z-\\eta\\bar\\epsilon`, so from :math:`t=1` on
    :math:`\\mathbb E\\|\\nabla f(x_t)\\|^2=\\sigma^2/b+L^2\\gamma^2d` (D4.floor); averaged over :math:`t<T`."""
    p = standard_params(ctx)
    floor = p["sigma2"] / p["b"] + p["L"] ** 2 * p["gamma"] ** 2 * p["d"]
    return (_g0(ctx) + (p["T"] - 1) * floor) / p["T"]


def eg_witness_avg(ctx: Ctx) -> float:
    """EG-indep: factor :math:`r=\\gamma L` (A1), so (A3 transient)
    :math:`\\mathbb E\\|\\nabla f(x_t)\\|^2=F+r^{2t}(\\|\\nabla f(x_0)\\|^2-F)`,
    :math:`F=\\frac{\\sigma^2}{b}\\frac{1+r^2}{1-r^2}` (D1.floor); averaged over :math:`t<T`."""
    p = standard_params(ctx)
    r2 = (p["gamma"] * p["L"]) ** 2
    floor = p["sigma2"] / p["b"] * (1 + r2) / (1 - r2)
    return floor + (_g0(ctx) - floor) * (1 - r2 ** p["T"]) / (p["T"] * (1 - r2))


def sam_witness_avg(ctx: Ctx) -> float:
    """Deterministic SAM: :math:`\\|x_t\\|=\\rho` for :math:`t\\ge1` (A2.7 with :math:`c=\\rho`), so the
    average is :math:`(\\|\\nabla f(x_0)\\|^2+(T-1)L^2\\rho^2)/T`."""
    p = standard_params(ctx)
    return (_g0(ctx) + (p["T"] - 1) * p["L"] ** 2 * p["rho"] ** 2) / p["T"]
