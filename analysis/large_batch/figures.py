"""Figures of ``xtrap large-batch``: accuracy against batch size, sharpness against batch size (with the stability
thresholds of the step used), and the training curves. Each ``fig_*`` takes the study's output dict and returns
``(file names, caption)``; measurements are markers and solid lines with their intervals, theory dotted lines;
diverged runs are left out of every mean (their count is written beside the point).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..output import Figure, save_figure  # noqa: E402
from .protocol import NO_SCALING  # noqa: E402

COLORS = {"SGD": "#1f77b4", "EXTRAP-SGD": "#d62728", "SAM": "#8c564b", "noise injection": "#2ca02c",
          NO_SCALING: "0.45"}
MARKERS = {"SGD": "o", "EXTRAP-SGD": "^", "SAM": "P", "noise injection": "D", NO_SCALING: "x"}
_STYLE = plt.rc_context({"font.size": 10, "axes.titlesize": 10.5, "legend.fontsize": 8, "axes.grid": True,
                         "grid.alpha": 0.3})


def _look(label: str) -> dict[str, Any]:
    return {"color": COLORS.get(label, "#9467bd"), "marker": MARKERS.get(label, "s"),
            "ls": "--" if label == NO_SCALING else "-"}


def _batch_axis(ax: Any, batches: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set(xticks=batches, xticklabels=[str(b) for b in batches], xlabel="global batch size B (log scale)")
    ax.minorticks_off()


def _series(out: dict[str, Any], label: str, value: Any) -> tuple[list[int], np.ndarray, np.ndarray, list[int]]:
    """Batches, means, half-widths and diverged counts of ``value(cell) -> mean_ci summary`` for one label."""
    cells = sorted((c for c in out["cells"] if c["label"] == label), key=lambda c: c["batch"])
    s = [value(c) for c in cells]
    return ([c["batch"] for c in cells], np.array([v["mean"] for v in s], float),
            np.array([v["half"] for v in s], float), [sum(c["diverged"]) for c in cells])


@_STYLE
def fig_accuracy(out: dict[str, Any], out_dir: Path, svg: bool = False) -> Figure:
    """Test accuracy, train − test accuracy and final training loss against B, one line per method."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    for label in out["methods"]:
        look = _look(label)
        b, m, h, div = _series(out, label, lambda c: c["summary"]["test_accuracy"])
        if not b:
            continue
        axes[0].errorbar(b, m, yerr=np.nan_to_num(h), capsize=3, label=label, **look)
        for x, y, d in zip(b, m, div):
            if d:
                axes[0].annotate(f"{d} div.", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7,
                                 color=look["color"])
        gaps = [np.asarray(c["train_accuracy"], float) - np.asarray(c["test_accuracy"], float)
                for c in sorted((c for c in out["cells"] if c["label"] == label), key=lambda c: c["batch"])]
        axes[1].plot(b, [np.nanmean(g) if np.isfinite(g).any() else np.nan for g in gaps], **look)
        _, lm, lh, _ = _series(out, label, lambda c: c["summary"]["loss"])
        axes[2].errorbar(b, lm, yerr=np.nan_to_num(lh), capsize=3, **look)
    axes[0].set(ylabel="test accuracy (mean ± 95% t CI)", title="test accuracy at the end of the budget")
    axes[1].set(ylabel="train − test accuracy (mean)", title="generalization gap of each run")
    axes[2].set(ylabel="final training loss (mean ± 95% t CI)", yscale="log", title="optimization at a fixed budget")
    for ax in axes:
        _batch_axis(ax, out["batches"])
    axes[0].legend(loc="lower left")
    names = save_figure(fig, out_dir, "accuracy_vs_batch", svg)
    caption = (f"Test accuracy (left), train − test accuracy (middle) and final training loss (right) after "
               f"{out['epochs']} epochs at every batch size, {out['seeds']} seeds per point; bars: 95% Student-t "
               f"intervals over the runs that did not diverge. Learning rate 0.1·B/256 with 5 warm-up epochs; dashed "
               f"grey: {NO_SCALING} (the smallest batch's rate everywhere).")
    return names, caption


@_STYLE
def fig_sharpness(out: dict[str, Any], out_dir: Path, svg: bool = False) -> Figure:
    """Final lambda_max (with the threshold of the last step, dotted) and the Hessian trace against B."""
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.3), layout="constrained")
    for label in out["methods"]:
        look = _look(label)
        cells = sorted((c for c in out["cells"] if c["label"] == label and "lambda_max" in c), key=lambda c: c["batch"])
        if not cells:
            continue
        b = [c["batch"] for c in cells]
        for ax, key in ((axes[0], "lambda_max"), (axes[1], "trace")):
            for c in cells:
                ax.scatter([c["batch"]] * len(c[key]), c[key], s=14, color=look["color"], alpha=0.45,
                           marker=look["marker"])
            ax.plot(b, [c["sharpness_summary"][key]["mean"] for c in cells], color=look["color"], ls=look["ls"],
                    label=label)
        if label != NO_SCALING and cells[0]["status"] != "reference":
            axes[0].plot(b, [c["threshold"] for c in cells], color=look["color"], ls=":", lw=1.8)
    axes[0].set(yscale="log", ylabel=r"final $\lambda_{\max}$ (Lanczos)",
                title=r"top Hessian eigenvalue; dotted: stability threshold $\lambda^*$ of the last step")
    axes[1].set(ylabel="final Hessian trace (Hutchinson)", title="Hessian trace")
    for ax in axes:
        _batch_axis(ax, out["batches"])
    axes[0].legend(loc="best")
    sh = out["sharpness"]
    names = save_figure(fig, out_dir, "sharpness_vs_batch", svg)
    which = "every seed" if sh["sharpness_seeds"] == out["seeds"] else f"the first {sh['sharpness_seeds']} seed(s)"
    caption = (f"Sharpness of the training loss at the final iterate of {which} "
               f"of each cell (points; lines: their mean): λmax by Lanczos ({sh['lanczos']} iterations, a lower "
               f"bound), trace by Hutchinson ({sh['probes']} probes). Dotted: the largest curvature the last step "
               "keeps stable (A2.NAG for SGD and the mean path of noise injection, the same line; A1 + A2.NAG for "
               "EXTRAP-SGD; none in the catalog for SAM).")
    return names, caption


@_STYLE
def fig_curves(out: dict[str, Any], out_dir: Path, svg: bool = False) -> Figure:
    """Test accuracy and training loss against epochs, one column per batch size."""
    batches = out["batches"]
    fig, axes = plt.subplots(2, len(batches), figsize=(3.6 * len(batches), 6.2), layout="constrained", squeeze=False,
                             sharey="row")
    for j, b in enumerate(batches):
        for label in out["methods"]:
            c = next((c for c in out["cells"] if c["label"] == label and c["batch"] == b), None)
            if c is None:
                continue
            look = _look(label)
            for i, key in enumerate(("test_accuracy", "loss")):
                s = c["curve_summary"][key]
                mean = np.array([v["mean"] for v in s], float)
                half = np.nan_to_num(np.array([v["half"] for v in s], float))
                axes[i, j].plot(c["epochs"], mean, color=look["color"], ls=look["ls"], label=label)
                axes[i, j].fill_between(c["epochs"], mean - half, mean + half, color=look["color"], alpha=0.15, lw=0)
        axes[0, j].set(title=f"B = {b}", ylim=(0.0, 1.0))
        axes[1, j].set(yscale="log", xlabel="epoch")
    axes[0, 0].set_ylabel("test accuracy")
    axes[1, 0].set_ylabel("training loss")
    axes[0, -1].legend(loc="lower right")
    names = save_figure(fig, out_dir, "training_curves", svg)
    caption = (f"Training curves: test accuracy (top) and training loss (bottom, full training set) every epoch, "
               f"mean over {out['seeds']} seeds with the 95% t band, one column per batch size.")
    return names, caption


__all__ = ["COLORS", "fig_accuracy", "fig_curves", "fig_sharpness"]
