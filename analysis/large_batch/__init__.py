"""The ``xtrap large-batch`` study: test accuracy against the global batch size on a real network (the digits MLP),
the paper's headline experiment in miniature, beside what the synthetic theory predicts.

The protocol, fixed before any run (:mod:`.protocol`: batch sizes, linear scaling with warm-up, fixed epochs, the
methods and the source of every value), the statistics (:mod:`.stats`: Student-t and Welch intervals), the theory
(:mod:`.theory`: stability thresholds of the step used from the verified catalog, the noise-scale critical batch
size [cited] and the catalog's A4 critical batch along the top Hessian direction [derived]), the claims held
against the measurements (:mod:`.claims`), the study itself (:mod:`.study`: :func:`large_batch`), its figures (:mod:`.figures`) and its report (:mod:`.report`). May import: ``xtrap``,
``problems``, ``proofs``, the lower rooms :mod:`analysis.checks` and :mod:`analysis.sharpness`, and the shared
:mod:`analysis.output`; never another study.
"""

from .claims import claims, critical_batch_claim, multiplicity, noise_claim, stability_claim, start_claim
from .protocol import (LEVELS, METHODS, NO_SCALING, MethodSpec, last_step, level_config, lr_rule, schedule,
                       steps_per_epoch)
from .report import write_large_batch_report
from .stats import mean_ci, welch
from .study import large_batch
from .theory import critical_batch, curvature_spread, nag_constant, noise_scale, stable, threshold, top_direction

__all__ = ["LEVELS", "METHODS", "NO_SCALING", "MethodSpec", "claims", "critical_batch", "critical_batch_claim",
           "curvature_spread", "large_batch", "last_step", "level_config", "lr_rule", "mean_ci", "multiplicity",
           "nag_constant", "noise_claim", "noise_scale", "schedule",
           "stability_claim", "stable", "start_claim", "steps_per_epoch", "threshold", "top_direction", "welch",
           "write_large_batch_report"]
