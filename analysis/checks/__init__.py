"""Checks: samples in, verdicts out (THEORY.md §4). The lowest room of ``analysis``.

Everything that turns measured numbers into a verdict or an estimate: the one-sided mean ± 4 SE rule, exact
values to round-off or 4 SE, tightness witnesses (:func:`check_samples`, :func:`check` for a run against a
:class:`proofs.Bound`), distribution-free medians and Lyapunov exponents for heavy tails (:func:`check_median`,
:func:`lyapunov_exponent`), an error budget for tests that repeat a check over many examples (:class:`Budget`, Bonferroni),
power-law rate fits with confidence intervals (:func:`fit_exponent`,
:func:`fit_rate_in_steps`), and per-grid-point summaries of a run (:func:`summarize`, :func:`prefix_average`), and what a run is for a bound
(:class:`RunInfo`, :func:`run_parameters`, :func:`resolve_scope`: which bound covers it, at which parameters),
a bound against every grid point of a sweep and every horizon (:func:`check_each`, :func:`horizon_series`).
No runs are started and no files are written here. May import: ``proofs`` (for :class:`~proofs.Bound`), NumPy
and SciPy; never another room of ``analysis``. A new check rule goes here. Also A4's critical batch size from measured
curvatures (:func:`critical_batch`), which two studies put beside their runs.
"""

from .budget import DEFAULT_ALPHA, Budget
from .critical_batch import critical_batch
from .bounds import MIN_SEEDS, RELATIONS, CheckResult, bound_parameters, check, check_samples
from .runs import RunInfo, estimated_symbols, noise_moment, resolve_scope, run_parameters
from .rates import RateFit, fit_exponent, fit_rate_in_steps
from .summary import prefix_average, summarize
from .sweeps import HorizonSeries, check_each, horizon_series
from .tails import check_median, lyapunov_exponent, median_interval

__all__ = ["DEFAULT_ALPHA", "Budget", "HorizonSeries", "check_each", "horizon_series", "MIN_SEEDS", "RELATIONS", "CheckResult", "RateFit", "RunInfo", "bound_parameters", "check", "check_median", "check_samples", "critical_batch", "estimated_symbols", "fit_exponent",
           "fit_rate_in_steps", "lyapunov_exponent", "median_interval", "noise_moment", "prefix_average", "resolve_scope", "run_parameters",
           "summarize"]
