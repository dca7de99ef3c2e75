"""Summaries of a run: per-grid-point means and standard errors over the seeds that did not diverge, and prefix
averages of per-step traces (the :math:`\\frac1T\\sum_{t<T}` of the bounds, for every horizon at once)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _stats(values: np.ndarray, diverged: np.ndarray) -> tuple[float | None, float | None]:
    ok = values[~diverged]
    if ok.size == 0:
        return None, None
    se = float(np.std(ok, ddof=1) / math.sqrt(ok.size)) if ok.size > 1 else 0.0
    return float(np.mean(ok)), se


GROWTH = 1e6  # a run whose f - f* grew by this factor without leaving the divergence radius is flagged


def _growth(sub: Any, diverged: np.ndarray, f_star: Any) -> tuple[int, list[str]]:
    """Runs that did not diverge but whose :math:`f-f^\\star` grew by :data:`GROWTH` or more from the start."""
    if f_star is None or not math.isfinite(float(f_star)):
        return 0, []
    loss = np.asarray(sub["loss"], dtype=np.float64)
    first, last = loss[..., 0] - float(f_star), loss[..., -1] - float(f_star)
    with np.errstate(invalid="ignore", over="ignore"):
        grew = (~diverged) & (first > 0) & ~(last <= GROWTH * first)
    k = int(grew.sum())
    if not k:
        return 0, []
    return k, [f"{k} run(s) did not reach the divergence radius but f - f* grew by more than {GROWTH:.0e}: "
               "likely unstable (a larger horizon or a smaller diverge_radius would flag them diverged)"]


def _basin_fractions(basin: np.ndarray, labels: list[str]) -> dict[str, float | None]:
    """The fraction of non-diverged runs ending in each labelled minimum's basin (``None`` if none is left)."""
    n = basin.size
    return {lab: (float(np.mean(basin == j)) if n else None) for j, lab in enumerate(labels)}


def summarize(result: Any) -> list[dict[str, Any]]:
    """Per grid point of ``result`` (an :class:`xtrap.Result`): final-record statistics.

    For each of ``loss``, ``grad_norm2``, ``dist`` (at the last record; ``None`` when the problem knows no minimum),
    ``avg_grad_norm2`` and the problem's extra metrics (:meth:`problems.Problem.extra_metrics`, at the last record): the mean
    :math:`\\bar m` and standard error :math:`s/\\sqrt R` over the :math:`R` seeds that did not diverge
    (``None`` when every seed diverged), plus ``diverged`` (count), ``runs`` and ``first_diverged_step``, and
    for a problem with known minima ``basins``: the fraction of non-diverged runs ending in each minimum's
    basin, by label (``problems.Problem.basin``). Diverged runs are never averaged in.
    """
    sweep = result.sweep_dims
    shape = tuple(len(result.coords[d]) for d in sweep)
    points = []
    for idx in np.ndindex(*shape) if shape else [()]:
        sub = result.sel(**dict(zip(sweep, idx)))
        div = sub["diverged"].astype(bool)
        entry: dict[str, Any] = {d: result.coords[d][i].item() for d, i in zip(sweep, idx)}
        for name, key in (("loss", "loss"), ("grad_norm2", "grad_norm2"), ("dist", "dist")):
            m, se = _stats(sub[key][..., -1], div)
            entry[f"{name}_mean"], entry[f"{name}_se"] = m, se
        m, se = _stats(sub["avg_grad_norm2"], div) if "avg_grad_norm2" in sub.data else (None, None)  # averages=False
        entry["avg_grad_norm2_mean"], entry["avg_grad_norm2_se"] = m, se
        extra = [k for k in result.attrs.get("extra_metrics", []) if k in sub.data]  # the problem's own measures
        for name in extra:  # (problems.Problem.extra_metrics, e.g. test accuracy), at the last record
            entry[f"{name}_mean"], entry[f"{name}_se"] = _stats(sub[name][..., -1], div)
        entry["diverged"] = int(div.sum())
        entry["runs"] = int(div.size)
        steps = sub["diverged_step"][div]
        entry["first_diverged_step"] = int(steps.min()) if steps.size else None
        entry["grew"], notes = _growth(sub, div, result.attrs.get("constants", {}).get("f_star"))
        labels = result.attrs.get("minima") or []
        if labels and "basin" in sub.data:
            entry["basins"] = _basin_fractions(np.asarray(sub["basin"]).reshape(-1)[~div.reshape(-1)], labels)
        for name in ("loss", "grad_norm2", "dist", "avg_grad_norm2", *extra):
            if name == "dist" and not labels:
                if entry["dist_mean"] is not None:
                    notes.append("dist_mean is null: no minimum of this problem is known")
                    entry["dist_mean"] = entry["dist_se"] = None
            elif entry[f"{name}_mean"] is None:
                notes.append(f"{name}_mean is null: every run diverged")
            elif not math.isfinite(entry[f"{name}_mean"]):
                notes.append(f"{name}_mean is null: the non-diverged runs overflowed float range")
        entry["notes"] = notes
        points.append(entry)
    return points


def prefix_average(trace: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """:math:`\\frac1T\\sum_{t<T}a_t` for each horizon :math:`T` from a per-step trace (last axis = step).

    >>> prefix_average(np.array([1.0, 3.0, 5.0]), np.array([1, 3]))
    array([1., 3.])
    """
    c = np.cumsum(trace, axis=-1)
    return np.stack([c[..., int(t) - 1] / t for t in horizons], axis=-1)
