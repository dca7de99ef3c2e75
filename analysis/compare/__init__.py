"""The headline comparison: several methods on one problem, on shared axes (``xtrap compare``).

:func:`compare` runs each method (EXTRAP-SGD against SGD, the paper's comparison, or a user's method beside them)
at one setting from the same start and seeds, and returns the curves of :math:`f-f^\\star` and
:math:`\\|\\nabla f\\|^2` (mean and standard error over the runs that did not diverge), the final values, and each
method's difference from the first with a stated test; :func:`fig_compare` draws them on shared axes. May import:
``xtrap``, ``problems``, the lower rooms :mod:`analysis.checks` and :mod:`analysis.sharpness`, and the shared
:mod:`analysis.output`; never another study.
"""

from .figure import fig_compare
from .study import QUANTITIES, compare

__all__ = ["QUANTITIES", "compare", "fig_compare"]
