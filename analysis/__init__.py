"""Runs held against bounds: statistics over seeds, bound checks, rate fits.

* :func:`summarize`: per-grid-point means and standard errors.
* :func:`check`, :func:`check_samples`, :func:`check_median`, :func:`lyapunov_exponent`: the statistical
  rules of THEORY.md §4 (one-sided mean ± 4 SE, exact values to round-off, medians and Lyapunov
  exponents for heavy tails), returning :class:`CheckResult`.
* :func:`fit_exponent`, :func:`fit_rate_in_steps`: power-law exponents with confidence intervals
  (:class:`RateFit`).
* :data:`CHECKS` (:class:`CatalogCheck`): every catalog bound declared against runs where its assumptions
  hold; :func:`evaluate_check` runs one; :func:`verify` runs the proofs, every check and the rate fits
  (``xtrap verify``); :func:`write_report` writes ``report.md`` and the figures.
* Sharp vs flat minima: :mod:`analysis.sharpness` (Lanczos top eigenvalues on Hessian-vector products,
  Hutchinson trace, stochastic Lanczos quadrature), :mod:`analysis.epsilon_sharpness` (Keskar's ε-sharpness); :func:`basin_sweep` and
  :func:`basin_rows` (flat fractions with Clopper–Pearson intervals, the G2 filters, B_crit, Lyapunov
  exponents); :func:`sharp_flat` runs the whole study (``xtrap sharp-flat``).

Imports xtrap, problems and proofs; only ``xtrap/cli.py`` imports analysis.
"""

from .check import CheckResult, check, check_median, check_samples, lyapunov_exponent, median_interval
from .rates import RateFit, fit_exponent, fit_rate_in_steps
from .summary import json_safe, summarize
from ._evaluate import Runner, declared_params, evaluate as evaluate_check
from ._spec import Build, CatalogCheck, Ctx, RunSpec, build, standard_params
from .catalog_checks import CHECKS
from .report import write_report
from .verify import verify
from .basins import METHODS as SHARP_FLAT_METHODS, BasinSweep, basin_rows, basin_sweep, clopper_pearson
from .landscapes import Landscape, landscapes
from .sharp_flat import sharp_flat
from .epsilon_sharpness import epsilon_sharpness
from .sharpness import (hessian_spectral_density, hessian_trace, hutchinson_trace, hvp, spectral_density,
                        top_eigenvalues)

__all__ = [
    "CHECKS", "Build", "CatalogCheck", "CheckResult", "Ctx", "RateFit", "RunSpec", "Runner", "build", "check",
    "check_median", "check_samples", "declared_params", "evaluate_check", "fit_exponent", "fit_rate_in_steps",
    "lyapunov_exponent", "median_interval", "standard_params", "summarize", "verify", "write_report",
    "SHARP_FLAT_METHODS", "BasinSweep", "Landscape", "basin_rows", "basin_sweep", "clopper_pearson", "landscapes",
    "sharp_flat", "json_safe", "epsilon_sharpness", "hessian_spectral_density", "hessian_trace", "hutchinson_trace",
    "hvp", "spectral_density", "top_eigenvalues",
]
