"""The look shared by the figures of ``xtrap sharp-flat``: one colour and marker per method, the rc style, small
helpers over the sweeps (:mod:`.figures` for the basin statistics, :mod:`.landscape_figure` for the landscapes)."""

from __future__ import annotations

from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .basins import METHODS, BasinSweep  # noqa: E402

METHOD_COLORS = {"SGD": "#1f77b4", "SGD+momentum": "#9467bd", "EXTRAP-SGD": "#d62728", "past_extrap": "#ff7f0e",
                 "noise_extrap": "#2ca02c", "SAM": "#8c564b"}
METHOD_MARKERS = {"SGD": "o", "SGD+momentum": "s", "EXTRAP-SGD": "^", "past_extrap": "v", "noise_extrap": "D",
                  "SAM": "P"}
_STYLE = plt.rc_context({"font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10, "legend.fontsize": 8.5,  # a
                         "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.grid": True, "grid.alpha": 0.3})  # decorator
_G2 = "THEORY.md §G2; catalog A2.GD for SGD, noise_extrap and SAM's 2-cycle (A2.SAM), A2.HB, A2.EG, A2.PEG"
_REFS = [Line2D([], [], color="k", ls="--", label=r"$\lambda_{\max}$ of the sharp minimum"),
         Line2D([], [], color="k", ls="-.", label=r"$\lambda_{\max}$ of the flat minimum"),
         Line2D([], [], color="0.3", ls=":", lw=1.8, label=r"G2 threshold $\lambda^*$ (method colour)")]


def _color(label: str) -> str:
    return METHOD_COLORS.get(label, ["#e377c2", "#7f7f7f", "#bcbd22", "#17becf"][sum(map(ord, label)) % 4])


def _look(label: str) -> dict[str, str]:
    return {"color": _color(label), "marker": METHOD_MARKERS.get(label, "X")}


def _ordered(labels: Any) -> list[str]:
    """Unique method labels in the order of :data:`METHODS` (unknown ones after, as they come)."""
    seen = list(dict.fromkeys(labels))
    return [m for m in METHODS if m in seen] + [m for m in seen if m not in METHODS]


def _by_landscape(sweeps: Sequence[BasinSweep]) -> dict[str, list[BasinSweep]]:
    return {s.landscape.name: [t for t in sweeps if t.landscape.name == s.landscape.name] for s in sweeps}


def _quartiles(a: np.ndarray) -> np.ndarray:
    """(3, T): 25/50/75% quantiles over axis 0 of the finite entries; NaN where a column has none."""
    cols = [c[np.isfinite(c)] for c in np.asarray(a, dtype=float).T]
    return np.array([np.quantile(c, [0.25, 0.5, 0.75]) if c.size else np.full(3, np.nan) for c in cols]).T


def _finite_range(*arrays: Any) -> tuple[float, float] | None:
    vals = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays] or [np.zeros(0)])
    vals = vals[np.isfinite(vals)]
    return (float(vals.min()), float(vals.max())) if vals.size else None


def _path(sw: BasinSweep) -> tuple[np.ndarray, float, int]:  # seed 0 at the largest lr, smallest batch
    i, j = int(np.argmax(sw.lrs)), int(np.argmin(sw.batches))
    return sw.trajectory[i, j, 0], float(sw.lrs[i]), int(sw.batches[j])


def _handles(labels: Any, line: bool = True) -> list[Line2D]:
    return [Line2D([], [], **_look(m), ls="-" if line else "none", label=m) for m in _ordered(labels)]
