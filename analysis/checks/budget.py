"""An error budget for a test that repeats a statistical check over many examples (THEORY.md §4).

A hypothesis test of a stochastic claim runs the same check on :math:`N` examples. With the fixed 4-SE rule,
a *true* claim fails each example with probability about :math:`3\\times10^{-5}`, so the whole test fails by
chance with probability about :math:`N\\cdot3\\times10^{-5}`, and far more when each example has few seeds
(the standard error is itself estimated). :class:`Budget` instead fixes the chance :math:`\\alpha` that a true
claim fails *the whole test*, and splits it over the examples by **Bonferroni's inequality**:

.. math::

    P(\\text{some example fails}\\mid\\text{claim true}) \\le \\sum_{i=1}^{N} P(\\text{example } i \\text{ fails})
    \\le N\\cdot\\frac{\\alpha}{N} = \\alpha .

Each example's one-sided test on :math:`R` seeds rejects when the studentised distance
:math:`(\\hat m - B)/\\widehat{\\mathrm{SE}}` exceeds :math:`z = t_{R-1}^{-1}(1-\\alpha/N)`, the Student-t
quantile with :math:`R-1` degrees of freedom (two-sided, for an exact value: :math:`1-\\alpha/(2N)`). Under
normal sample means this is exact per example (the t quantile accounts for the estimated SE); for other
laws it rests on the central limit theorem, so keep :math:`R\\ge 30`. Bonferroni needs no independence
between examples and is conservative: the test's real false-failure rate is at most :math:`\\alpha`.

>>> b = Budget(alpha=1e-6, examples=100)
>>> round(b.per_example, 12)
1e-08
>>> round(b.z(seeds=200), 2)
5.85
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from scipy import stats

from problems import ParameterError, check_int, check_real

DEFAULT_ALPHA = 1e-6


@dataclasses.dataclass(frozen=True)
class Budget:
    """The chance ``alpha`` that a true claim fails a test of ``examples`` checks, split evenly (Bonferroni).

    Attributes:
        alpha: the whole test's false-failure budget, in (0, 0.5].
        examples: the number :math:`N` of checks the test makes (hypothesis's ``max_examples``), >= 1.
    """

    alpha: float = DEFAULT_ALPHA
    examples: int = 1

    def __post_init__(self) -> None:
        check_real("alpha", self.alpha, lo=0.0, hi=0.5, lo_open=True)
        check_int("examples", self.examples, lo=1)

    @property
    def per_example(self) -> float:
        """:math:`\\alpha/N`, each example's share."""
        return self.alpha / self.examples

    def z(self, seeds: int, two_sided: bool = False) -> float:
        """The number of standard errors an example's mean may lie beyond the bound: :math:`t_{R-1}^{-1}(1-\\alpha/N)`.

        ``seeds`` is :math:`R` (at least 2: one run has no standard error). ``two_sided`` halves the tail
        (an ``==`` check fails on either side).
        """
        check_int("seeds", seeds, lo=2)
        tail = self.per_example / (2.0 if two_sided else 1.0)
        return float(stats.t.isf(tail, seeds - 1))

    @staticmethod
    def statistic(samples: Any, value: float) -> float:
        """Hall's skewness-removing transform of the t statistic of ``samples`` against ``value`` (Hall 1992).

        With :math:`u=(\\hat m-v)/s` and the sample skewness :math:`\\hat\\gamma=\\hat\\mu_3/s^3`,

        .. math::

            T = \\sqrt R\\,\\Bigl(u + \\frac{\\hat\\gamma u^2}{3} + \\frac{\\hat\\gamma^2 u^3}{27}
                + \\frac{\\hat\\gamma}{6R}\\Bigr),

        which removes the first-order skewness of :math:`\\sqrt R\\,u` and, unlike Johnson's (1978) quadratic
        correction, is increasing in :math:`u` (its derivative is :math:`(1+\\hat\\gamma u/3)^2`), so a mean far
        beyond the bound can never look close to it. Losses and squared norms are right-skewed; there the plain
        statistic's lower tail is far heavier than Student's. Measured in ``tests/test_testing.py`` (20 examples
        at :math:`\\alpha/N=0.005` each): a tight two-sided claim with :math:`R=50` seeds failed 0.30 of tests with
        the plain statistic and 0.095 with :math:`T`; with :math:`R=200` every rule stays within its budget.

        Reference: P. Hall, "On the removal of skewness by transformation", JRSS B 54 (1992) 221-228.
        """
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        r = x.size
        m, s2 = float(np.mean(x)), float(np.var(x, ddof=1)) if x.size > 1 else 0.0
        if r < 2 or s2 == 0.0:
            raise ParameterError(f"samples: the statistic needs at least 2 distinct values; got {r} values")
        s = math.sqrt(s2)
        g = float(np.mean((x - m) ** 3)) / s**3
        u = (m - float(value)) / s
        return math.sqrt(r) * (u + g * u * u / 3.0 + g * g * u**3 / 27.0 + g / (6.0 * r))

    def seeds_for(self, relative_sd: float, detect: float, power: float = 0.9) -> int:
        """Seeds :math:`R` so that a claim violated by the relative margin ``detect`` fails with ``power``.

        With per-seed standard deviation :math:`s=` ``relative_sd`` :math:`\\cdot|B|`, a true mean
        :math:`B(1+\\delta)` is rejected when :math:`\\delta\\sqrt R/(s/|B|) \\ge z + z_{\\text{power}}`
        (normal approximation), so :math:`R=\\lceil((z+z_{\\text{power}})\\,s/(\\delta|B|))^2\\rceil`, iterated
        because :math:`z` depends on :math:`R`; at least 30.
        """
        check_real("relative_sd", relative_sd, lo=0.0)
        check_real("detect", detect, lo=0.0, lo_open=True)
        check_real("power", power, lo=0.5, hi=1.0, hi_open=True)
        zp = float(stats.norm.isf(1.0 - power))
        r = 30
        for _ in range(20):
            need = max(30, math.ceil(((self.z(r) + zp) * relative_sd / detect) ** 2))
            if need == r:
                break
            r = need
        return r


__all__ = ["Budget", "DEFAULT_ALPHA"]
