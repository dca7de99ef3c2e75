"""Property-based tests of optimizer claims: hypothesis strategies and statistically sound assertions.

Strategies: :func:`problems`, :func:`methods` (:mod:`xtrap.testing.strategies`), :func:`admissible`,
:func:`inadmissible` (:mod:`xtrap.testing.admissible`). Assertions (:mod:`xtrap.testing.assertions`): :func:`assert_obeys`, :func:`assert_equals_exact`,
:func:`assert_rate`, :func:`assert_stable`, :func:`assert_diverges`, :func:`assert_monotone`; each stochastic
one spends a share of a per-test error budget (:class:`analysis.checks.Budget`, Bonferroni over hypothesis's
examples, default :math:`\\alpha=10^{-6}`) so a true claim fails a whole test with probability at most
:math:`\\alpha`. The pytest plugin (:mod:`xtrap.testing.plugin`, installed with xtrap) registers the
hypothesis profiles ``xtrap-ci`` and ``xtrap-thorough`` and the option ``--xtrap-alpha``.

>>> import proofs
>>> from hypothesis import given
>>> from xtrap.testing import admissible
>>> @given(admissible("D1"))
... def test_d1_conditions_hold(v):
...     proofs.catalog()["D1"].bound.check(**v)
>>> test_d1_conditions_hold()
"""

from .assertions import (ClaimFailed, assert_diverges, assert_equals_exact, assert_monotone, assert_obeys,
                         assert_rate, assert_stable, budget)
from .admissible import admissible, inadmissible
from .strategies import FAMILY_DEFAULTS, methods, problems

__all__ = ["FAMILY_DEFAULTS", "ClaimFailed", "admissible", "assert_diverges", "assert_equals_exact", "assert_monotone",
           "assert_obeys", "assert_rate", "assert_stable", "budget", "inadmissible", "methods", "problems"]
