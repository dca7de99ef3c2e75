"""The outcome of a check (:class:`CheckResult`) and the input validation shared by the checking rules."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

RELATIONS = ("<=", ">=", "==")
_LABELS = ("theorem", "problem", "method", "quantity")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of holding a measurement against a bound.

    Attributes:
        theorem, problem, method, quantity: labels (what was checked, on what, by which method).
        measured: the sample mean (the median for :func:`check_median`, the exponent for Lyapunov checks);
            ``None`` when nothing was measured (refused, or every run diverged).
        se: standard error of ``measured``; ``None`` when deterministic or not defined (medians).
        n: number of samples used (non-diverged runs).
        bound: the bound's value at the parameters.
        ratio: ``measured / bound`` (``None`` if either is missing or the bound is 0).
        relation: ``"<="``, ``">="``, ``"=="``, or ``"median<="`` etc. for medians.
        verdict: ``"pass"`` (demonstrated), ``"fail"`` (contradicted), ``"inconclusive"`` (a one-sided
            claim whose confidence interval straddles the bound) or ``"refused"`` (the bound's
            assumptions are violated); ``"holds-estimated"`` / ``"fails-estimated"`` when the bound was
            evaluated at estimated constants (``estimated`` names them): it holds or fails *for those
            values*, which verifies nothing about the true constants.
        witness: whether this was a tightness witness (the ratio must also be close to 1).
        detail: why, in words: the numbers behind the verdict, the refusal message.
        diverged: number of diverged runs (excluded from ``measured``).
        parameters: the values of the bound's symbols it was evaluated at (by :func:`check`: the run's own).
        estimated: the symbols among them that rest on estimated constants (``"L (estimated)"``).
    """

    theorem: str
    problem: str
    method: str
    quantity: str
    measured: float | None
    se: float | None
    n: int
    bound: float | None
    ratio: float | None
    relation: str
    verdict: str
    witness: bool = False
    detail: str = ""
    diverged: int = 0
    parameters: dict[str, float] = dataclasses.field(default_factory=dict)
    estimated: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """``verdict == "pass"``."""
        return self.verdict == "pass"

    def as_dict(self) -> dict[str, Any]:
        """All fields as plain JSON types (non-finite floats become ``None``)."""
        out = dataclasses.asdict(self)
        for k, v in out.items():
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
            elif isinstance(v, tuple):
                out[k] = list(v)
        return out


def labels_of(labels: dict[str, Any]) -> dict[str, str]:
    unknown = set(labels) - set(_LABELS)
    if unknown:
        raise TypeError(f"unknown label {sorted(unknown)[0]!r}; labels are {', '.join(_LABELS)}")
    return {k: "" if labels.get(k) is None else str(labels.get(k)) for k in _LABELS}


def as_samples(samples: Any) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ValueError("no samples: need at least one finite sample (every run diverged?)")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"samples must be finite; got {int(bad.sum())} non-finite of {x.size} (first: {x[bad][0]!r}); "
                         "diverged runs must be removed before checking")
    return x


def finite(name: str, value: Any) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def ratio_of(measured: float, bound: float) -> float | None:
    return measured / bound if bound != 0 else None

