"""The comparison figure: every method on shared axes, :math:`f-f^\\star` and :math:`\\|\\nabla f\\|^2` against the
step (mean over the runs that did not diverge, band of ±2 standard errors), log scale where the values allow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..output import Figure, save_figure  # noqa: E402


def fig_compare(out: dict[str, Any], out_dir: Path, svg: bool = False) -> Figure:
    """Draw :func:`analysis.compare.compare`'s curves; returns ``(file names, caption)``."""
    t = np.asarray(out["record_steps"], dtype=float)
    quantities = out["quantities"]
    fig, axes = plt.subplots(1, len(quantities), figsize=(5.4 * len(quantities), 4.2), layout="constrained",
                             sharex=True)
    for ax, (q, name) in zip(axes, quantities.items()):
        positive = True
        for k, row in enumerate(out["methods"]):
            mean, se = (np.asarray(row["curves"][q][v], dtype=float) for v in ("mean", "se"))
            color = f"C{k}"
            lab = f"{row['label']} ({row['runs']} runs" + (f", {row['diverged']} diverged)" if row["diverged"] else ")")
            ax.plot(t, mean, color=color, lw=1.6, label=lab)
            ax.fill_between(t, mean - 2 * np.nan_to_num(se), mean + 2 * np.nan_to_num(se), color=color, alpha=0.2, lw=0)
            positive &= bool(np.all(mean[np.isfinite(mean)] > 0))
        if q == "loss_gap" and out["f_star"] is None:
            name = "f(x_t) (no f* known)"
        ax.set(xlabel="step t", ylabel=name, yscale="log" if positive else "linear", title=name)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    star = ("" if out["f_star"] is None else f"f* = {out['f_star']:.6g} ({out['f_star_source']})")
    fig.suptitle(f"{out['problem']}: {', '.join(r['label'] for r in out['methods'])} "
                 f"({out['seeds']} seeds, same start and keys){'; ' + star if star else ''}", fontsize=10)
    return save_figure(fig, out_dir, "compare", svg), (
        "Mean over the runs that did not diverge, with a band of ±2 standard errors, of f(x_t) − f* and ||∇f(x_t)||² "
        "against the step, for every method on the same axes (same problem, start and seed keys).")
