"""Sharpness: matrix-free curvature metrics of any smooth scalar function at any point (DESIGN.md job 3).

Pure functions of ``f`` and a point (a flat vector or any pytree): Hessian-vector products (:func:`hvp`),
Lanczos top eigenvalues (:func:`top_eigenvalues`), Hutchinson's trace (:func:`hessian_trace`), stochastic
Lanczos quadrature (:func:`hessian_spectral_density`), each also on any symmetric linear map (the
``*_matvec`` forms and :func:`hutchinson_trace`, :func:`spectral_density`), and Keskar's ε-sharpness
(:func:`epsilon_sharpness`). No runs, no problems, no files. May import: JAX, NumPy, SciPy and
``problems``' argument validation; never another room of ``analysis``. A new sharpness metric goes here.
"""

from .epsilon import epsilon_sharpness
from .hessian import (SpectralDensity, TraceEstimate, hessian_spectral_density, hessian_trace, hutchinson_trace, hvp,
                      lanczos, spectral_density, top_eigenvalues, top_eigenvalues_matvec)

__all__ = ["SpectralDensity", "TraceEstimate", "epsilon_sharpness", "hessian_spectral_density", "hessian_trace",
           "hutchinson_trace", "hvp", "lanczos", "spectral_density", "top_eigenvalues", "top_eigenvalues_matvec"]
