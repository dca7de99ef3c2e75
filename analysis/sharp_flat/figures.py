"""Figures of ``xtrap sharp-flat``: the basin sweeps of :mod:`analysis.sharp_flat.basins` beside the theory of
:mod:`analysis.sharp_flat.overlays` (THEORY.md §G2–§G4, §A2, §A4). Each ``fig_*`` returns ``(file names, caption)``;
method colours and markers (:data:`METHOD_COLORS`, :data:`METHOD_MARKERS`, from :mod:`._style`) are shared by all
figures (the landscape figure is :mod:`.landscape_figure`); measurements
are solid lines, markers and bands, theory black or dotted lines and italic text; diverged runs (NaN) are masked out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ..output import Figure, save_figure
from ._style import (_G2, _REFS, _STYLE, METHOD_COLORS, METHOD_MARKERS, _by_landscape, _color, _finite_range,
                     _handles, _look, _ordered, _quartiles)
from .basins import METHODS, BasinSweep, theory_omitted
from .landscape_figure import fig_landscape
from .overlays import stability_filter


def _threshold(label: str, lr: float, lam: float) -> float:
    """G2 threshold λ* of method ``label`` at update step ``lr`` (stability_filter at curvature ``lam``)."""
    if (spec := METHODS.get(label)) is None:
        return math.nan
    args = {k: float(v) for k, v in spec.hyper(lr).items() if k in ("lr", "extrap_lr", "rho", "momentum")}
    t = float(stability_filter(spec.kind, lam, **args).threshold)
    return t if math.isfinite(t) else math.nan


def _batch_axis(ax: Any, batches: Any, label: bool) -> None:
    b = np.unique(np.asarray(batches, dtype=float))
    ax.set_xscale("log", base=2)
    ax.set(xlim=(b.min() / 1.6, b.max() * 1.6), xticks=b, xticklabels=[f"{int(v)}" for v in b],
           xlabel=r"batch size $B$ (log$_2$ scale)" if label else "")
    ax.minorticks_off()


def _references(ax: Any, sharp: float, flat: float, thresholds: dict[str, float], data: Any) -> list[str]:
    """Set the y-limits; draw the sharp/flat curvatures (black) and the G2 thresholds (dotted, method colours,
    alternating where methods share a value). Thresholds beyond 1.5× the data/sharp range are returned as text."""
    r = _finite_range(data) or (flat, sharp)
    lo, hi = min(r[0], flat, 0.0), max(r[1], sharp)
    groups: dict[float, list[str]] = {}
    for m, t in ((m, t) for m, t in thresholds.items() if math.isfinite(t)):
        groups.setdefault(float(f"{t:.6g}"), []).append(m)
    cut = lo + 1.5 * (hi - lo)
    off = [f"{'/'.join(ms)} {t:.3g}" for t, ms in groups.items() if t > cut]
    hi = max([hi] + [t for t in groups if t <= cut])
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + (0.16 if off else 0.08) * (hi - lo))
    box, tr = dict(boxstyle="round,pad=0.1", fc="w", ec="none", alpha=0.75), ax.get_yaxis_transform()
    for lam, name, ls in ((sharp, "sharp", "--"), (flat, "flat", "-.")):
        ax.axhline(lam, color="k", ls=ls, lw=1.1, zorder=1)
        ax.text(0.985, lam, f"{name} min. {lam:.3g}", transform=tr, ha="right", va="bottom", fontsize=7.5,
                style="italic", bbox=box)
    for t, ms in groups.items():
        if t <= cut:
            for k, m in enumerate(ms):
                ax.axhline(t, color=_color(m), lw=1.8, ls=(2.0 * k, (2.0, 2.0 * max(len(ms) - 1, 1))), zorder=1)
            ax.text(0.015, t, r"$\lambda^*$ " + ", ".join(ms), transform=tr, fontsize=7, va="bottom", style="italic",
                    color=_color(ms[0]) if len(ms) == 1 else "0.2", bbox=box)
    if off:
        ax.text(0.985, 0.985, r"$\lambda^*$ above axis: " + "; ".join(off), transform=ax.transAxes, ha="right",
                va="top", fontsize=7, style="italic")
    return off


def _panels(rows: Sequence[dict[str, Any]], draw: Callable[..., None], ylabel: str) -> Any:
    """Rows: landscapes; columns: step sizes; ``draw(ax, sel, methods, lr)`` fills one panel."""
    probs = list(dict.fromkeys(r["problem"] for r in rows))
    lrs = {p: sorted({float(r["lr"]) for r in rows if r["problem"] == p}) for p in probs}
    ncol = max(len(v) for v in lrs.values())
    fig, axes = plt.subplots(len(probs), ncol, figsize=(4.7 * ncol, 3.7 * len(probs) + 0.9), squeeze=False,
                             layout="constrained")
    for ri, p in enumerate(probs):
        for ci, ax in enumerate(axes[ri]):
            ax.set_visible(ci < len(lrs[p]))
            if ci < len(lrs[p]):
                sel = [r for r in rows if r["problem"] == p and float(r["lr"]) == lrs[p][ci]]
                _batch_axis(ax, [r["batch"] for r in sel], label=ri == len(probs) - 1)
                draw(ax, sel, _ordered(r["method"] for r in sel), lrs[p][ci])
                ax.set(title=f"{p}, η = {lrs[p][ci]:g}", ylabel=ylabel if ci == 0 else "")
    return fig


def _series(sel: Sequence[dict[str, Any]], methods: list[str], k: int, *keys: str) -> list[np.ndarray]:
    """Batch sizes (shifted sideways per method for legibility) and ``keys`` of method ``methods[k]``'s rows."""
    rs = sorted((r for r in sel if r["method"] == methods[k]), key=lambda r: r["batch"])
    b = np.array([float(r["batch"]) for r in rs]) * 2.0 ** (0.09 * (k - (len(methods) - 1) / 2))
    return [b] + [np.array([float(r.get(key, math.nan)) for r in rs]) for key in keys]


def _sgd_note(sel: Sequence[dict[str, Any]], xlim: tuple[float, float]) -> tuple[str | None, float]:
    """Theory text for SGD (B_crit of A4, Λ of G4 at the smallest batch) and B_crit where it is to be drawn."""
    sgd = sorted((r for r in sel if r["method"] == "SGD" and "b_crit" in r), key=lambda r: r["batch"])
    if not sgd:
        return None, math.nan
    bc = float(sgd[0]["b_crit"])
    where = "" if xlim[0] < bc < xlim[1] else (" < all $B$" if bc <= xlim[0] else " > all $B$")
    text = (r"SGD: $B_{\rm crit}=\infty$ ($\eta a\geq 2$: unstable at every $B$; A4)" if math.isinf(bc) else
            r"SGD: $B_{\rm crit}=0$ (no sampling spread: $B$ plays no part; A4)" if bc <= 0 else
            rf"SGD: $B_{{\rm crit}}$={bc:.3g}{where} (A4)")
    lyap = float(sgd[0].get("lyapunov", math.nan))
    if math.isfinite(lyap):  # leaving the minimum's neighbourhood, not necessarily its basin
        text += f"\n$\\Lambda(B={sgd[0]['batch']})$={lyap:.2g}: typical paths {'leave' if lyap > 0 else 'stay at'} the minimum (G4)"
    return text, bc if 0 < bc < math.inf else math.nan


@_STYLE
def fig_flat_fraction(rows: Sequence[dict[str, Any]], out_dir: Path, svg: bool = False) -> Figure:
    """Flat-basin fraction against batch size per method (Clopper–Pearson bars) beside the G2/A4/G4 theory."""
    all_diverged = []

    def draw(ax: Any, sel: list, methods: list[str], lr: float) -> None:
        for k, m in enumerate(methods):
            x, f, lo, hi, stable = _series(sel, methods, k, "flat_fraction", "ci_low", "ci_high", "sharp_stable")
            ok = np.isfinite(f)
            ax.errorbar(x[ok], f[ok], yerr=np.vstack([f[ok] - lo[ok], hi[ok] - f[ok]]), **_look(m),
                        mfc="w" if stable[0] == 0 else _color(m), mew=1.4, ms=6.5, lw=1.3, capsize=2.5, elinewidth=0.9)
            if (~ok).any():
                all_diverged.append(m)
                ax.plot(x[~ok], np.zeros(int((~ok).sum())), "x", color=_color(m), ms=9, mew=2)
        ax.set(ylim=(-0.05, 1.3), yticks=[0, 0.25, 0.5, 0.75, 1.0])
        ax.axhspan(1.06, 1.3, color="0.93", zorder=0)
        note, bc = _sgd_note(sel, ax.get_xlim())
        if math.isfinite(bc):
            ax.axvline(bc, color="k", ls=(0, (6, 2, 1, 2)), lw=1.3)
        ax.text(0.02, 0.985, note or "", transform=ax.transAxes, va="top", fontsize=7.5, style="italic")

    fig = _panels(rows, draw, "flat-basin fraction")
    g2 = [Line2D([], [], color="0.3", marker="o", ls="none", label="filled: sharp min. G2-stable"),
          Line2D([], [], color="0.3", marker="o", mfc="w", mew=1.4, ls="none", label="open: sharp min. G2-unstable")]
    bc = [Line2D([], [], color="k", ls=(0, (6, 2, 1, 2)), label=r"$B_{\rm crit}$ of SGD (A4.Bcrit)")]
    handles = (_handles(r["method"] for r in rows) + (g2 if any("sharp_stable" in r for r in rows) else [])
               + (bc if any("b_crit" in r for r in rows) else []) +
               ([Line2D([], [], color="0.3", marker="x", ls="none", mew=2, label="all runs diverged")]
                if all_diverged else []))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5))
    return save_figure(fig, out_dir, "sharp_flat_fraction", svg), (
        f"Fraction of runs ending in a flat basin (the problem's basin of the last iterate: exact gradient-flow basins "
        f"for the built-in families, the nearest listed minimum for a user's problem; T={rows[0]['steps']} "
        "steps, diverged runs excluded) against the batch size B, per method; rows: landscapes, columns: step sizes "
        "η. Error bars: Clopper–Pearson 95% intervals over the non-diverged seeds (up to "
        f"{max(r['runs'] + r['diverged'] for r in rows)} per point); points shifted sideways per method"
        + ("; ×: every run diverged" if all_diverged else "") +
        f". Theory (grey strip, italic, open markers): a filled marker means the G2 linear-stability filter ({_G2}) "
        "keeps the sharp minimum stable for that method at that η, an open one that it rejects it; for SGD the "
        "dash-dotted line is the critical batch B_crit of A4.Bcrit (mean-square stable at the sharp minimum iff B ≥ "
        "B_crit, THEORY.md §A4/§G3), Λ the Lyapunov exponent of G4 at the smallest batch (typical paths leave the "
        "minimum, not necessarily its basin, iff Λ > 0). Where the theory is left out (estimated minima, a user's "
        "method) markers are filled and no line is drawn: the report says why.")


@_STYLE
def fig_final_sharpness(rows: Sequence[dict[str, Any]], out_dir: Path, svg: bool = False) -> Figure:
    """Median λmax at the last iterate against batch size (quartile bars); sharp/flat curvatures, G2 thresholds."""
    off_all = []

    def draw(ax: Any, sel: list, methods: list[str], lr: float) -> None:
        data = []
        for k, m in enumerate(methods):
            x, med, q25, q75 = _series(sel, methods, k, *(f"final_sharpness_{q}" for q in ("median", "q25", "q75")))
            ok = np.isfinite(med) & np.isfinite(q25) & np.isfinite(q75)
            ax.errorbar(x[ok], med[ok], yerr=np.vstack([med[ok] - q25[ok], q75[ok] - med[ok]]), **_look(m), ms=6,
                        lw=1.4, capsize=2.5, elinewidth=1.0)
            data += [q25[ok], q75[ok]]
        sharp, flat = float(sel[0]["sharp_curvature"]), float(sel[0]["flat_curvature"])
        theory = {r["method"] for r in sel if "sharp_stable" in r}  # methods whose rows carry the G2 filter
        off = _references(ax, sharp, flat, {m: _threshold(m, lr, sharp) for m in methods if m in theory},
                          np.concatenate(data))
        off_all.extend([f"{sel[0]['problem']}, η={lr:g}: " + ", ".join(off)] if off else [])

    fig = _panels(rows, draw, r"final sharpness $\lambda_{\max}(\nabla^2 f(x_T))$")
    fig.legend(handles=_handles(r["method"] for r in rows) + _REFS, loc="outside lower center", ncol=5)
    return save_figure(fig, out_dir, "sharp_flat_final_sharpness", svg), (
        "Median over seeds of the top Hessian eigenvalue λmax at the last iterate (exact Hessian) against the batch "
        f"size B, per method (T={rows[0]['steps']} steps, diverged runs excluded); bars: 25–75% quartiles "
        "over seeds (bars, not bands: six overlapping bands are unreadable); points shifted sideways per method. "
        "Black: λmax of the sharp (dashed) and flat (dash-dotted) minima. Dotted, method colour (alternating where "
        f"methods share a value): the G2 threshold λ* ({_G2}) at the panel's η, from stability_filter at the sharp "
        "curvature; a minimum with λmax above λ* is linearly unstable for that method. Thresholds far above the data "
        "are listed in the panel, not drawn" + (f" ({'; '.join(off_all)})" if off_all else "") + ".")


@_STYLE
def fig_sharpness_during_training(sweeps: Sequence[BasinSweep], out_dir: Path, svg: bool = False) -> Figure:
    """λmax along training (median, quartile band over seeds), one panel per (landscape, method)."""
    groups = _by_landscape(sweeps)
    ncol = min(3, max(len(g) for g in groups.values()))
    nrow = [-(-len(g) // ncol) for g in groups.values()]
    fig, axes = plt.subplots(sum(nrow), ncol, figsize=(max(4.0 * ncol, 7.0), 2.8 * sum(nrow) + 0.9), squeeze=False,
                             layout="constrained")
    chosen, first = [], 0
    for (name, group), nr in zip(groups.items(), nrow):
        ls, block = group[0].landscape, list(axes[first:first + nr].ravel())
        first += nr
        sharp, flat, picks, lims = ls.curvature("sharp"), ls.curvature("flat"), set(), []
        for ax, sw in zip(block, group):
            lab, lr = sw.method.label, float(np.sort(sw.lrs)[len(sw.lrs) // 2])
            i, j = int(np.flatnonzero(sw.lrs == lr)[0]), int(np.argmin(sw.batches))
            picks.add((lr, int(sw.batches[j])))
            tr, t = sw.sharpness_trace[i, j][~sw.diverged[i, j]], np.asarray(sw.record_steps, dtype=float)
            q = _quartiles(tr)
            ax.fill_between(t, q[0], q[2], color=_color(lab), alpha=0.25, lw=0)
            ax.plot(t, q[1], color=_color(lab), lw=1.6)
            _references(ax, sharp, flat, {lab: _threshold(lab, lr, sharp)} if theory_omitted(ls, sw.method) is None
                        else {}, q)
            lims.append(ax.get_ylim())
            ax.set(xlabel="step $t$", ylabel=r"$\lambda_{\max}(\nabla^2 f(x_t))$", xlim=(t[0], t[-1] + 1e-9))
            ax.set_title(f"{name}, {lab}: η={lr:g}, B={sw.batches[j]}" + ("" if len(tr) else " (all diverged)"),
                         color=_color(lab))
        for k, ax in enumerate(block):  # one y-scale per landscape
            ax.set(ylim=(min(lo for lo, _ in lims), max(hi for _, hi in lims)), visible=k < len(group))
        chosen.append(f"{name}: " + ", ".join(f"η = {lr:g}, B = {b}" for lr, b in sorted(picks)))
    fig.suptitle(r"Sharpness $\lambda_{\max}$ along training: median and 25–75% band over seeds")
    fig.legend(handles=_REFS, loc="outside lower center", ncol=3)
    return save_figure(fig, out_dir, "sharp_flat_sharpness_trace", svg), (
        f"Top Hessian eigenvalue λmax(∇²f(x_t)) along training, every k-th step (k={int(sweeps[0].record_steps[1] - sweeps[0].record_steps[0])}) "
        f"of {sweeps[0].steps}: median (line) and 25–75% quartile band over the non-diverged seeds (up to "
        f"{sweeps[0].diverged.shape[2]}), one panel per method, at the middle step size and the smallest batch of each "
        f"sweep ({'; '.join(chosen)}); every run starts at the sharp minimum. Black: λmax of the sharp (dashed) and "
        f"flat (dash-dotted) minima; dotted, method colour: that method's G2 threshold λ* at that η ({_G2}; listed at "
        "the top when far above the data).")


@_STYLE
def fig_generalization(sweeps: Sequence[BasinSweep], out_dir: Path, svg: bool = False) -> Figure:
    """Shift gap against final sharpness, every run, with the second-order prediction ½τ²·tr H."""
    groups = _by_landscape(sweeps)
    fig, axes = plt.subplots(1, len(groups), figsize=(5.6 * len(groups), 4.5), squeeze=False, layout="constrained")
    notes = []
    for ax, (name, group) in zip(axes[0], groups.items()):
        p, tau, xs = group[0].landscape.problem, float(group[0].landscape.shift), []
        for sw in group:
            ok = np.isfinite(x := np.ravel(sw.final_sharpness)) & np.isfinite(y := np.ravel(sw.shift_gap))
            ax.scatter(x[ok], y[ok], s=12, alpha=0.3, **_look(sw.method.label), lw=0)
            xs.append(x[ok])
        # Hessian diag(ψ'', c, …) (two-basin) or (φ'') (cosine): ½ tr(H M) with M = mean δδᵀ of the very shifts used
        m = np.diag(group[0].shift_moment)
        rest, r = float(getattr(p, "c", 0.0)) * float(m[1:].sum()), _finite_range(*xs)
        if not (hasattr(p, "ridge") or (hasattr(p, "maxs_1d") and p.dim == 1)):  # no diagonal Hessian form
            notes.append(f"{name}: no prediction drawn (its Hessian is not of the form diag(λ, c, …))")
            r = None
        elif r is not None:
            lam = np.linspace(r[0], r[1] if r[1] > r[0] else r[0] + 1.0, 100)
            lab = r"$\frac{1}{2}\mathrm{tr}(HM)$"
            ax.plot(lam, 0.5 * (lam * m[0] + rest), "k-", lw=1.8, label=f"2nd-order prediction {lab}, τ={tau:g}")
            ax.legend(loc="upper left", fontsize=8)
        if r is not None:
            notes.append(f"{name}: M = diag({', '.join(f'{v:.3g}' for v in m)}), " + (
                "H = diag(ψ'', c), so ½tr(HM) = ½(λ M11 + c M22) while ψ'' ≥ c (where λmax = c > ψ'' the runs sit "
                "on the vertical column at λ = c)" if p.dim > 1 else "½tr(HM) = ½ λ M11 (d=1)"))
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set(title=f"{name}: generalization proxy vs sharpness (all runs)", xlabel=r"final sharpness "
               r"$\lambda_{\max}(\nabla^2 f(x_T))$", ylabel=r"shift gap $\langle f(x_T-\delta)\rangle_\delta-f(x_T)$")
    fig.legend(handles=_handles((sw.method.label for sw in sweeps), False), loc="outside lower center", ncol=6)
    return save_figure(fig, out_dir, "sharp_flat_generalization", svg), (
        "Generalization proxy against final sharpness, one point per run (every step size, batch and seed, "
        f"T={sweeps[0].steps} steps; diverged runs left out): the mean loss increase of the last iterate under "
        f"J={sweeps[0].shifts} fixed random shifts ±δ_j, δ_j ~ N(0, τ²I) (antithetic "
        "pairs; analysis.sharp_flat.basins.shift_gap), the same shifts for every run, against λmax of the exact Hessian there. "
        "Black: the second-order term ½ tr(H M), M = (1/J) Σ δ_j δ_jᵀ the second moment of those very shifts (≈ τ²I; "
        "the smoothing term of THEORY.md §E5), drawn against λmax: " + "; ".join(notes) + ". The antithetic pairs "
        "cancel every odd-order term exactly; what separates the points from the line is the fourth-order term (the "
        "wells are not quadratic over a shift of size τ).")


def write_figures(sweeps: Sequence[BasinSweep], rows: Sequence[dict[str, Any]], out_dir: Path | str,
                  svg: bool = False) -> list[Figure]:
    """Every figure of the sharp/flat study into ``out_dir``; returns ``[(file names, caption), ...]``."""
    (out := Path(out_dir)).mkdir(parents=True, exist_ok=True)
    return [fig_landscape(sweeps, out, svg), fig_flat_fraction(rows, out, svg), fig_final_sharpness(rows, out, svg),
            fig_sharpness_during_training(sweeps, out, svg), fig_generalization(sweeps, out, svg)]


__all__ = ["METHOD_COLORS", "METHOD_MARKERS", "fig_final_sharpness", "fig_flat_fraction", "fig_generalization",
           "fig_landscape", "fig_sharpness_during_training", "write_figures"]
