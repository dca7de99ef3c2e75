"""Heavy tails (THEORY.md §4.3, §G4): Lyapunov exponents and distribution-free medians.

When a mean-square quantity diverges while typical paths converge, Monte-Carlo means and standard
errors are dominated by paths of vanishing probability; the growth rate of typical paths and the
median are the quantities to test. Re-exported by :mod:`analysis.checks.bounds` and :mod:`analysis`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from .verdicts import RELATIONS, CheckResult, as_samples, finite, labels_of, ratio_of


def lyapunov_exponent(log_growth_samples: Any, t: float | None = None) -> tuple[float, float]:
    """Estimate the Lyapunov exponent :math:`\\Lambda` from per-path growth rates (THEORY.md §4.3, §G4).

    For a random linear recursion :math:`x_t=\\prod_{k<t}M_kx_0` typical paths grow like
    :math:`e^{\\Lambda t}`; in 1-D :math:`\\Lambda=\\mathbb E\\log|M|` and :math:`\\frac1t\\log|x_t/x_0|` is a
    mean of i.i.d. terms, so its sample mean and standard error are trustworthy even when
    :math:`\\mathbb Ex_t^2` is dominated by paths of vanishing probability. (In :math:`d` dimensions
    :math:`\\frac1t\\log\\|x_t\\|/\\|x_0\\|` estimates the top exponent, with a bias of order :math:`1/t`.)

    Args:
        log_growth_samples: one value per independent path: :math:`\\frac1t\\log|x_t/x_0|`, or
            :math:`\\log|x_t/x_0|` when ``t`` is given (it is then divided by ``t``).
        t: the horizon, if the samples are not yet divided by it.

    Returns:
        ``(estimate, se)``: the mean over paths and its standard error.

    Raises:
        ValueError: fewer than 2 samples or a non-finite one (:math:`x_t=0` exactly gives :math:`-\\infty`).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> f = np.where(rng.integers(0, 10, (4000, 60)) == 9, -4.0, 0.5)   # 1 - eta h, THEORY.md §G4
    >>> est, se = lyapunov_exponent(np.log(np.abs(f)).sum(axis=1), t=60)
    >>> bool(abs(est - (0.9 * np.log(0.5) + 0.1 * np.log(4.0))) < 4 * se)
    True
    """
    x = as_samples(log_growth_samples)
    if x.size < 2:
        raise ValueError(f"need at least 2 paths for a standard error; got {x.size}")
    if t is not None:
        t = finite("t", t)
        if t <= 0:
            raise ValueError(f"t must be > 0; got {t!r}")
        x = x / t
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))


def median_interval(samples: Any, alpha: float = 1e-4) -> tuple[float, float, int, int]:
    """Distribution-free two-sided :math:`1-\\alpha` confidence interval for the median.

    The order statistics :math:`[X_{(j)},X_{(n+1-j)}]` with the largest :math:`j` such that
    :math:`P(\\mathrm{Bin}(n,\\frac12)\\le j-1)\\le\\alpha/2`: the number of samples at or below the median
    is binomial, so the coverage is at least :math:`1-\\alpha` for every distribution (continuous or not).

    Returns:
        ``(low, high, j, k)`` with 1-based order-statistic indices ``j``, ``k = n + 1 - j``.

    Raises:
        ValueError: too few samples for the confidence (``2^{-n} > alpha/2``; 15 for ``alpha = 1e-4``).
    """
    x = np.sort(as_samples(samples))
    n = x.size
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}")
    cdf = stats.binom.cdf(np.arange(n), n, 0.5)  # cdf[i] = P(Bin <= i)
    ok = np.nonzero(cdf <= alpha / 2)[0]
    if ok.size == 0:
        need = math.ceil(math.log2(2 / alpha))
        raise ValueError(f"too few samples for a distribution-free {1 - alpha:g} interval of the median: "
                         f"need at least {need}, got {n}")
    j = int(ok[-1]) + 1
    return float(x[j - 1]), float(x[n - j]), j, n + 1 - j


def check_median(samples: Any, bound_value: float, relation: str = "<=", *, alpha: float = 1e-4,
                 **labels: Any) -> CheckResult:
    """Compare the median of ``samples`` with ``bound_value``: the heavy-tail check of THEORY.md §4.3.

    Uses the distribution-free interval :math:`[\\ell,u]` of :func:`median_interval` at confidence
    :math:`1-\\alpha` (default :math:`1-10^{-4}`, about the two-sided level of 4 normal SE). As in
    :func:`check_samples`, a one-sided claim passes only when the whole interval satisfies it:

    * ``"<="``: pass iff :math:`u\\le B`;
    * ``">="``: pass iff :math:`\\ell\\ge B`;
    * ``"=="``: pass iff :math:`\\ell\\le B\\le u`.

    A one-sided claim whose interval straddles the bound is ``"inconclusive"`` (not violated, not
    demonstrated); ``"fail"`` means the interval lies on the wrong side. Needs at least 15 samples at the default ``alpha``.

    Returns:
        A :class:`CheckResult` with ``measured`` the sample median, ``se=None``, relation ``"median<="`` etc.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).lognormal(0.0, 3.0, 2000)     # median 1, mean e^4.5
    >>> check_median(x, 2.0).verdict, check_median(x, 0.5).verdict
    ('pass', 'fail')
    """
    lab = labels_of(labels)
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {', '.join(RELATIONS)}; got {relation!r}")
    bound = finite("bound_value", bound_value)
    lo, hi, j, k = median_interval(samples, alpha)
    med = float(np.median(np.asarray(samples, dtype=np.float64)))
    consistent = {"<=": lo <= bound, ">=": hi >= bound, "==": lo <= bound <= hi}[relation]
    shown = {"<=": hi <= bound, ">=": lo >= bound, "==": consistent}[relation]
    ok = shown
    n = int(np.asarray(samples).size)
    detail = (f"median {med:.6g}, distribution-free {1 - alpha:g} interval [{lo:.6g}, {hi:.6g}] "
              f"(order statistics {j} and {k} of {n}) vs bound {bound:.6g}")
    if not consistent:
        detail += f"; the interval lies on the wrong side: median {relation} bound is violated"
    elif relation != "==" and shown:
        detail += f"; holds with confidence (the whole interval satisfies {relation})"
    elif relation != "==":
        detail += "; not demonstrated: the interval straddles the bound (not violated either)"
    verdict = "pass" if ok else ("inconclusive" if consistent else "fail")
    return CheckResult(**lab, measured=med, se=None, n=n, bound=bound, ratio=ratio_of(med, bound),
                       relation=f"median{relation}", verdict=verdict, detail=detail)
