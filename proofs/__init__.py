"""Machine-checked derivations (sympy only) and the bound catalog.

``make_bound`` builds a user's own bound from text or sympy (status ``"user"``: stated, not verified).
``catalog()`` maps theorem names to :class:`Theorem` objects; ``verify(theorem)`` checks its chain;
each verified theorem exports a :class:`Bound` whose ``evaluate`` refuses parameters outside its
assumptions. Nothing here imports the rest of xtrap.
"""

from .bound import AssumptionError, Bound, Condition, RunScope
from .catalog import catalog, mutations, select
from .engine import Domain, Identity, Interval, Nonnegative, Outcome, Report, SlackCertificate, Theorem, verify
from .user import make_bound

__all__ = [
    "AssumptionError", "Bound", "Condition", "RunScope", "Domain", "Identity", "Interval", "Nonnegative", "Outcome", "Report",
    "SlackCertificate", "Theorem", "catalog", "make_bound", "mutations", "select", "verify",
]
