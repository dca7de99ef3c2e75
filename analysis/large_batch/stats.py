"""Statistics of the study: means with Student-t intervals over the runs that did not diverge, Welch intervals of
differences, and the verdicts drawn from them.

.. math:: \\bar a\\pm t_{(1+c)/2,\\,n-1}\\frac{s}{\\sqrt n},\\qquad
          \\bar a-\\bar b\\pm t_{(1+c)/2,\\,\\nu}\\sqrt{\\frac{s_a^2}{n_a}+\\frac{s_b^2}{n_b}},\\quad
          \\nu=\\frac{(s_a^2/n_a+s_b^2/n_b)^2}{\\frac{(s_a^2/n_a)^2}{n_a-1}+\\frac{(s_b^2/n_b)^2}{n_b-1}}

(Welch–Satterthwaite; when both variances are 0 the interval is the point). Non-finite values (diverged runs) are
dropped and counted; with fewer than 2 finite values an interval is undefined (NaN) and a verdict ``"undecided"``.

Reference: B. L. Welch, "The generalization of Student's problem when several different population variances are
involved", Biometrika 34 (1947).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from problems import check_real

CONFIDENCE = 0.95


def _finite(values: Any) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    return a[np.isfinite(a)]


def mean_ci(values: Any, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Mean and Student-t interval of the finite values; non-finite ones (diverged runs) counted, not averaged.

    Args:
        values: a 1-D sequence of numbers (NaN or inf for a run that diverged).
        confidence: the interval's level :math:`c\\in(0,1)`.

    Returns:
        ``{"mean", "half", "low", "high", "sd", "n", "dropped"}``: :math:`\\bar a`, the half-width
        :math:`t_{(1+c)/2,n-1}s/\\sqrt n`, the ends, :math:`s` (``ddof=1``), the finite count and the others' count
        (``mean`` NaN when ``n = 0``; ``half``, ``sd`` NaN when ``n < 2``).

    >>> r = mean_ci([0.9, 0.95, 1.0, float("nan")])
    >>> round(r["mean"], 6), round(r["half"], 6), r["n"], r["dropped"]
    (0.95, 0.124207, 3, 1)
    """
    confidence = check_real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    a = _finite(values)
    dropped = int(np.asarray(values, dtype=np.float64).size - a.size)
    mean = float(a.mean()) if a.size else math.nan
    if a.size < 2:
        sd = half = math.nan
    else:
        sd = float(a.std(ddof=1))
        half = float(stats.t.ppf(0.5 + confidence / 2, a.size - 1)) * sd / math.sqrt(a.size)
    return {"mean": mean, "half": half, "low": mean - half, "high": mean + half, "sd": sd, "n": int(a.size),
            "dropped": dropped}


def welch(a: Any, b: Any, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Welch's interval of :math:`\\bar a-\\bar b` over the finite values of each (module docstring).

    Returns:
        ``{"difference", "low", "high", "df", "verdict"}`` with ``verdict`` ``"higher"`` (the interval lies above 0),
        ``"lower"`` (below), ``"indistinguishable"`` (it holds 0) or ``"undecided"`` (fewer than 2 finite values on a
        side).

    >>> welch([0.90, 0.91, 0.92], [0.95, 0.96, 0.97])["verdict"]
    'lower'
    """
    confidence = check_real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    x, y = _finite(a), _finite(b)
    if x.size < 2 or y.size < 2:
        d = float(x.mean() - y.mean()) if x.size and y.size else math.nan
        return {"difference": d, "low": math.nan, "high": math.nan, "df": math.nan, "verdict": "undecided"}
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    d = float(x.mean() - y.mean())
    if va + vb == 0:
        low = high = d
        df = math.inf
    else:
        df = float((va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)))
        half = float(stats.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(va + vb)
        low, high = d - half, d + half
    verdict = "higher" if low > 0 else "lower" if high < 0 else "indistinguishable"
    return {"difference": d, "low": low, "high": high, "df": df, "verdict": verdict}


def pm(summary: dict[str, Any], digits: int = 3) -> str:
    """``"mean ± half"`` of a :func:`mean_ci` summary, as the report prints it (``"–"`` for no finite run).

    >>> pm({"mean": 0.96389, "half": 0.0042, "n": 5})
    '0.964 ± 0.004'
    """
    mean, half = summary["mean"], summary["half"]
    if not math.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f}" + (f" ± {half:.{digits}f}" if math.isfinite(half) else " (1 run)")


__all__ = ["CONFIDENCE", "mean_ci", "pm", "welch"]
