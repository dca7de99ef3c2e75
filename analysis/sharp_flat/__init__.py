"""The ``xtrap sharp-flat`` study: which minimum each method picks, beside what the theory predicts.

The landscapes (:mod:`.landscapes`: :class:`Landscape`, :func:`landscape` of any problem with sharp and flat
minima, :func:`landscapes`), the basin sweeps and their rows (:mod:`.basins`: :data:`METHODS`, :func:`method_spec`,
:func:`basin_sweep`, :func:`basin_rows`, :func:`theory_omitted`, :func:`clopper_pearson`), the theory
drawn over them from the verified catalog (:mod:`.overlays`: G2 stability filters, B_crit, Lyapunov exponents,
linearised stationary spreads), the study and its claims (:mod:`.study`: :func:`sharp_flat`, :func:`claims`),
its figures (:mod:`.figures`, :mod:`.landscape_figure`) and its report (:mod:`.report`). May import: ``xtrap``, ``problems``, ``proofs``,
the lower rooms :mod:`analysis.checks` and :mod:`analysis.sharpness`, and the shared :mod:`analysis.output`;
never :mod:`analysis.verify`. A new study gets a room of its own beside this one, with the same imports.

Note: ``analysis.sharp_flat`` (the attribute) is the function :func:`sharp_flat`; this room is importable as a
module with ``importlib.import_module("analysis.sharp_flat")`` or through its modules (``analysis.sharp_flat.study``).
"""

from .basins import (EXTRAPOLATED, METHODS, BasinSweep, MethodSpec, basin_rows, basin_sweep, clopper_pearson,
                     method_spec, shift_gap, theory_omitted)
from .landscapes import Landscape, landscape, landscapes
from .overlays import Filter, critical_batch, stability_filter, stationary_std
from .report import write_sharp_flat_report
from .study import LEVELS, claims, g2_deterministic, lanczos_crosscheck, minima_sharpness, sharp_flat

__all__ = ["EXTRAPOLATED", "LEVELS", "METHODS", "BasinSweep", "Filter", "Landscape", "MethodSpec", "basin_rows",
           "basin_sweep", "claims", "clopper_pearson", "critical_batch", "g2_deterministic", "lanczos_crosscheck",
           "landscape", "landscapes", "method_spec", "minima_sharpness", "sharp_flat", "shift_gap", "stability_filter",
           "stationary_std", "theory_omitted", "write_sharp_flat_report"]
