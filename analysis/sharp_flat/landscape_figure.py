"""The landscape figure of ``xtrap sharp-flat``: each landscape with its minima, basin boundaries and one path per
method (two-basin: level sets; cosine, d = 1: the profile; any other problem: the section through its sharp and
flat minima)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from ..output import Figure, save_figure
from ._style import _STYLE, _by_landscape, _color, _finite_range, _handles, _look, _path
from .basins import BasinSweep
from .landscapes import Landscape


def _draw_2d(ax: Any, ls: Landscape, group: Sequence[BasinSweep]) -> None:
    """two-basin: log-scaled contours over a box around both minima (and the paths), ridge, minima, paths."""
    p, paths = ls.problem, [_path(sw)[0] for sw in group]
    xs = [float(m.x[0]) for m in p.minima] + [float(p.ridge)]
    x0, x1, ry = min(xs) - 1.2, max(xs) + 1.2, _finite_range(*[q[:, 1] for q in paths])  # paths may leave the box
    y1 = 0.7 if ry is None else min(max(0.7, abs(ry[0]) + 0.15, abs(ry[1]) + 0.15), 3.0)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 240), np.linspace(-y1, y1, 160))
    pts = np.column_stack([gx.ravel(), gy.ravel(), np.zeros((gx.size, p.dim - 2))])
    z = np.asarray(jax.jit(jax.vmap(p.value))(jnp.asarray(pts))).reshape(gx.shape) - float(p.f_star)
    z = np.clip(z, 0.0, None) + 1e-2
    cs = ax.contourf(gx, gy, z, levels=np.geomspace(1e-2, max(float(z.max()), 0.1), 22), norm=LogNorm(),
                     cmap="Blues_r")
    ax.grid(False)
    plt.colorbar(cs, ax=ax, label=r"$f(x)-f^\star+0.01$ (log scale)", format="%.2g", shrink=0.85)
    ax.axvline(float(p.ridge), color="k", ls="--", lw=1.2)
    ax.text(float(p.ridge), -y1, " ridge = basin boundary", rotation=90, va="bottom", ha="right", fontsize=8.5)
    for m in p.minima:
        ax.plot(m.x[0], m.x[1], "*", ms=15, mfc="w", mec="k", zorder=5)
        ax.annotate(f"{m.label}\n" + rf"$\lambda_{{\max}}$={float(np.linalg.eigvalsh(m.hessian)[-1]):.3g}",
                    (m.x[0], m.x[1]), xytext=(10, -34), textcoords="offset points", fontsize=9, fontweight="bold",
                    bbox=dict(boxstyle="round", fc="w", alpha=0.85, lw=0), zorder=7)
    for sw, q in zip(group, paths):
        ax.plot(q[:, 0], q[:, 1], "-", color=_color(sw.method.label), lw=1.0, alpha=0.85, marker=".", ms=3)
        ax.plot(q[-1, 0], q[-1, 1], **_look(sw.method.label), mec="k", ms=8, zorder=6)
    ax.set(xlim=(x0, x1), ylim=(-y1, y1), xlabel=r"$x_1$ (well coordinate $s$)", ylabel=r"$x_2$",
           title=f"{ls.name} (d={p.dim}): level sets of f, one path per method (end: marker)")


def _draw_1d(ax: Any, ax_t: Any, ls: Landscape, group: Sequence[BasinSweep]) -> None:
    """cosine (d=1): f(s) with minima, basin boundaries, flat basins shaded, final points; s_t below."""
    p, paths = ls.problem, [_path(sw)[0][:, 0] for sw in group]
    mins, maxs = np.asarray(p.mins_1d, dtype=float), np.asarray(p.maxs_1d, dtype=float)
    r = _finite_range(*paths) or (mins.min(), mins.max())
    lo, hi = max(min(mins.min() - 1, r[0] - 0.3), mins.min() - 4), min(max(mins.max() + 1, r[1] + 0.3), mins.max() + 4)
    f = np.asarray(jax.vmap(p.value)(jnp.asarray(s := np.linspace(lo, hi, 600))[:, None]))
    edges = np.concatenate([[lo], maxs, [hi]])
    for span, line in ((ax.axvspan, ax.axvline), (ax_t.axhspan, ax_t.axhline)):
        for k in np.flatnonzero(np.isclose(p.curv_1d, np.min(p.curv_1d))):
            span(edges[k], edges[k + 1], color="#2ca02c", alpha=0.08, lw=0)
        for b in maxs:
            line(b, color="k", ls="--", lw=1.0)
    ax.plot(s, f, "k-", lw=1.6)
    for m in p.minima:
        ax.plot(float(m.x[0]), float(m.value), "*", ms=14, mfc="w", mec="k", zorder=5)
        ax.annotate(f"{m.label}\n" + rf"$\lambda$={float(m.hessian[0, 0]):.3g}", (float(m.x[0]), float(m.value)),
                    xytext=(0, -12), textcoords="offset points", ha="center", va="top", fontsize=8.5, weight="bold")
    for sw, q in zip(group, paths):
        lab, t = sw.method.label, sw.record_steps
        ax_t.plot(t, q, "-", **_look(lab), lw=1.1, ms=3.5, markevery=max(1, len(t) // 10))
        if np.isfinite(q[-1]):
            ax.plot(q[-1], float(p.value(jnp.asarray([q[-1]]))), **_look(lab), mec="k", ms=8, zorder=6)
    ax.set(xlim=(lo, hi), ylim=(f.min() - 1.2, f.max() + 0.3), xlabel=r"$s$",
           ylabel=r"$f(s)=\frac{a}{2}s^2+b\cos(\omega s)$",
           title=f"{ls.name} (d=1): dashed = basin boundaries, green = flat basins; markers: final $s$")
    _, lr, b = _path(group[0])
    ax_t.set(ylim=(lo, hi), xlabel="step $t$", ylabel=r"$s_t$",
             title=f"{ls.name}: one path per method (seed 0, η={lr:g}, B={b})")


def _draw_line(ax: Any, ax_t: Any, ls: Landscape, group: Sequence[BasinSweep]) -> None:
    """Any landscape: f on the line through the sharp and the nearest flat minimum (t = 0 and 1), the
    nearest-minimum boundary t = 1/2 between them; below, the paths' coordinate t along that line."""
    p, xs = ls.problem, np.asarray(ls.minimum("sharp").x, dtype=float)
    flats = [np.asarray(p.minima[k].x, dtype=float) for k in ls.index("flat")]
    xf = min(flats, key=lambda z: float(np.linalg.norm(z - xs)))
    d = xf - xs
    along = lambda q: (np.asarray(q, dtype=float) - xs) @ d / float(d @ d)  # noqa: E731
    paths = [along(_path(sw)[0]) for sw in group]
    r = _finite_range(*paths) or (0.0, 1.0)
    lo, hi = max(min(-0.6, r[0] - 0.1), -3.0), min(max(1.6, r[1] + 0.1), 4.0)
    t = np.linspace(lo, hi, 400)
    f = np.asarray(jax.jit(jax.vmap(p.value))(jnp.asarray(xs[None, :] + t[:, None] * d[None, :])))
    ax.plot(t, f, "k-", lw=1.6)
    for a in (ax, ax_t):
        (a.axvline if a is ax else a.axhline)(0.5, color="k", ls="--", lw=1.0)
    for k, m in enumerate(p.minima):
        tk = float(along(m.x))
        if lo <= tk <= hi:
            ax.plot(tk, float(m.value), "*", ms=14, mfc="w", mec="k", zorder=5)
            ax.annotate(f"{m.label}\n" + rf"$\lambda_{{\max}}$={float(np.linalg.eigvalsh(m.hessian)[-1]):.3g}",
                        (tk, float(m.value)), xytext=(0, -12), textcoords="offset points", ha="center", va="top",
                        fontsize=8.5, weight="bold")
    for sw, q in zip(group, paths):
        lab = sw.method.label
        ax_t.plot(sw.record_steps, q, "-", **_look(lab), lw=1.1, ms=3.5, markevery=max(1, len(q) // 10))
    span = float(f.max() - f.min()) or 1.0
    ax.set(xlim=(lo, hi), ylim=(f.min() - 0.3 * span, f.max() + 0.05 * span),
           xlabel=r"$t$: $x=x_{\rm sharp}+t\,(x_{\rm flat}-x_{\rm sharp})$",
           ylabel=r"$f$ on that line", title=f"{ls.name} (d={p.dim}): the section through the sharp and flat "
           "minima; dashed: nearest-minimum boundary")
    _, lr, b = _path(group[0])
    ax_t.set(ylim=(lo, hi), xlabel="step $t$", ylabel="coordinate along the line",
             title=f"{ls.name}: one path per method, projected (seed 0, η={lr:g}, B={b})")


@_STYLE
def fig_landscape(sweeps: Sequence[BasinSweep], out_dir: Path, svg: bool = False) -> Figure:
    """The landscapes with their minima, basin boundaries and one path (seed 0) per method."""
    groups = _by_landscape(sweeps)
    fig = plt.figure(figsize=(6.8 * len(groups), 7.0), layout="constrained")
    gs = fig.add_gridspec(2, len(groups), height_ratios=[1.4, 1])
    chosen = []
    for c, (name, group) in enumerate(groups.items()):
        p = group[0].landscape.problem
        if hasattr(p, "maxs_1d") and p.dim == 1:
            _draw_1d(fig.add_subplot(gs[0, c]), fig.add_subplot(gs[1, c]), group[0].landscape, group)
        elif hasattr(p, "ridge") and p.dim >= 2:
            _draw_2d(fig.add_subplot(gs[:, c]), group[0].landscape, group)
        else:
            _draw_line(fig.add_subplot(gs[0, c]), fig.add_subplot(gs[1, c]), group[0].landscape, group)
        chosen.append(f"{name}: " + ", ".join(f"η={lr:g}, B={b}" for lr, b in sorted({_path(s)[1:] for s in group})))
    fig.legend(handles=_handles(sw.method.label for sw in sweeps), loc="outside lower center", ncol=6)
    return save_figure(fig, out_dir, "sharp_flat_landscape", svg), (
        "The landscapes, the minima as stars labelled with the λmax of their Hessian (the curvatures the G2 filters "
        "of THEORY.md §G2 are evaluated at, where they apply). two-basin (d≥2): filled contours of f − f* (log colour "
        "scale), the ridge x₁ = ridge (the exact gradient-flow basin boundary) dashed. cosine (d=1): f(s), its "
        "minima, the basin boundaries (1-D maxima, dashed; flat basins shaded); below, s_t against the step. Any "
        "other problem: f on the line through the sharp and the nearest flat minimum (t = 0 and t = 1), with t = 1/2 "
        "(dashed) the boundary of the nearest-minimum basins on that line; below, each path's coordinate t (its "
        "projection on the line; the rest of the path is not shown). One path per method, seed "
        f"0, at the largest step size and the smallest batch of its sweep ({'; '.join(chosen)}), every k-th step (k="
        f"{int(sweeps[0].record_steps[1] - sweeps[0].record_steps[0])}) of {sweeps[0].steps}; every run starts at the sharp minimum (+1e-3).")
