"""The ``xtrap verify`` study: every catalog bound held against runs where its assumptions hold.

The declarations (:mod:`.spec`: :class:`CatalogCheck`, :class:`RunSpec`, :class:`Build`, :class:`Ctx`,
:func:`standard_params`; :mod:`.catalog`: :data:`CHECKS`, built from the private problem and method builders
and parameter maps), their evaluation on cached runs (:mod:`.evaluate`: :class:`Runner`, :func:`evaluate`), the
study with its rate fits (:mod:`.study`: :func:`verify`), its figures (:mod:`.figures`) and its report
(:mod:`.report`: :func:`write_report`). May import: ``xtrap``, ``problems``, ``proofs``, the lower rooms
:mod:`analysis.checks` and :mod:`analysis.sharpness`, and the shared :mod:`analysis.output`; and, for
``verify(sharp_flat=True)`` only, the sibling study :func:`analysis.sharp_flat.sharp_flat`, whose report it
links (one way: nothing in ``sharp_flat`` imports ``verify``). A new catalog check is declared in :mod:`.catalog`.

Note: ``analysis.verify`` (the attribute) is the function :func:`verify`; this room is importable as a
module with ``importlib.import_module("analysis.verify")`` or through its modules (``analysis.verify.study``).
"""

from .catalog import CHECKS
from .evaluate import Runner, declared_params, evaluate
from .report import write_report
from .spec import LEVELS, Build, CatalogCheck, Ctx, RunSpec, build, standard_params
from .study import check_row, proof_counts, rate_fits, verify

__all__ = ["CHECKS", "LEVELS", "Build", "CatalogCheck", "Ctx", "RunSpec", "Runner", "build", "check_row",
           "declared_params", "evaluate", "proof_counts", "rate_fits", "standard_params", "verify", "write_report"]
