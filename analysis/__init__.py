"""Runs held against bounds, and the studies built on that: ``xtrap verify``, ``xtrap sharp-flat``, ``xtrap compare``,
``xtrap large-batch``.

Six rooms and one shared module; imports flow downwards only (``tests/test_architecture.py`` walks them)::

    verify/      the ``xtrap verify`` study: catalog checks, evaluator, figures, report   ─┐ studies
    sharp_flat/  the ``xtrap sharp-flat`` study: landscapes, basins, overlays, report       │ (verify may run sharp_flat)
    compare/     the ``xtrap compare`` study: methods on shared axes, differences tested    │
    large_batch/ the ``xtrap large-batch`` study: test accuracy vs batch on a real network ─┘
    checks/      samples -> verdicts: mean ± 4 SE, exact values, medians, Lyapunov, rates ─┐ below every study
    sharpness/   HVP, Lanczos, Hutchinson, SLQ, ε-sharpness of any f at any point          ─┘ (import neither study)
    output.py    files a study writes: figures, Markdown, strict JSON, replaced atomically (imports no room)

Where new code goes: a check rule in ``checks/``, a sharpness metric in ``sharpness/``, a catalog check in
``verify/catalog.py``, a new study in a room of its own beside ``verify/`` and ``sharp_flat/``. Underscored
modules are private to their room. The names below are re-exported here for convenience (and stability):

* :func:`summarize`, :func:`check`, :func:`check_samples`, :func:`check_median`, :func:`lyapunov_exponent`,
  :func:`fit_exponent`, :func:`fit_rate_in_steps` (:mod:`analysis.checks`);
* :data:`CHECKS`, :func:`evaluate_check`, :func:`verify`, :func:`write_report` (:mod:`analysis.verify`);
* :func:`top_eigenvalues`, :func:`hessian_trace`, :func:`hessian_spectral_density`, :func:`epsilon_sharpness`, ...
  (:mod:`analysis.sharpness`);
* :func:`basin_sweep`, :func:`basin_rows`, :func:`landscape`, :func:`landscapes`, :func:`sharp_flat`
  (:mod:`analysis.sharp_flat`); :func:`compare` (:mod:`analysis.compare`); :func:`large_batch`
  (:mod:`analysis.large_batch`);
* :func:`json_safe` (:mod:`analysis.output`).

Imports xtrap, problems and proofs; only ``xtrap/cli.py`` (and ``xtrap.testing``) import analysis.
"""

from .compare import compare
from .large_batch import large_batch
from .checks import (CheckResult, RateFit, check, check_median, check_samples, fit_exponent, fit_rate_in_steps,
                     lyapunov_exponent, median_interval, summarize)
from .output import json_safe
from .sharpness import (epsilon_sharpness, hessian_spectral_density, hessian_trace, hutchinson_trace, hvp,
                        spectral_density, top_eigenvalues)
from .sharp_flat import METHODS as SHARP_FLAT_METHODS, BasinSweep, Landscape, basin_rows, basin_sweep, clopper_pearson
from .sharp_flat import landscape, landscapes, sharp_flat
from .verify import CHECKS, Build, CatalogCheck, Ctx, RunSpec, Runner, build, declared_params, standard_params
from .verify import evaluate as evaluate_check
from .verify import verify, write_report

__all__ = [
    "CHECKS", "Build", "CatalogCheck", "CheckResult", "Ctx", "RateFit", "RunSpec", "Runner", "build", "check",
    "check_median", "check_samples", "declared_params", "evaluate_check", "fit_exponent", "fit_rate_in_steps",
    "lyapunov_exponent", "median_interval", "standard_params", "summarize", "verify", "write_report",
    "SHARP_FLAT_METHODS", "BasinSweep", "Landscape", "basin_rows", "basin_sweep", "clopper_pearson", "landscapes",
    "sharp_flat", "landscape", "compare", "large_batch", "json_safe", "epsilon_sharpness", "hessian_spectral_density", "hessian_trace", "hutchinson_trace",
    "hvp", "spectral_density", "top_eigenvalues",
]
