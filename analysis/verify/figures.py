"""Figures of the verification report (matplotlib, Agg backend; PNG, SVG on request).

Each ``fig_*`` function runs what it needs (or reads cached runs of the checks), draws one figure
into ``out_dir`` and returns ``(file names, caption)``; the caption states seeds, steps and
parameters. The data helpers (``*_data``) are separate so tests can check the numbers without
drawing.

* :func:`fig_horizon` — measured :math:`\\frac1T\\sum_{t<T}\\mathbb E\\|\\nabla f(x_t)\\|^2` against its bound over
  the horizon :math:`T`, log-log, with the band over seeds (D1 for EXTRAP-SGD, C2 for SGD, cosine family).
* :func:`fig_tightness` — measured / bound per check, witnesses highlighted, a line at 1.
* :func:`fig_stability` — empirical divergence maps of exact-gradient sweeps in the (η, γ) plane for EG,
  (η, ρ) for USAM and SAM and (η, β) for heavy ball, under the theoretical boundaries of A2.
* :func:`fig_speedup` — steps to reach ε against the global batch :math:`Kb` for Nesterov-SGD and EXTRAP-SGD,
  against the D1-K curve (THEORY.md §4.4, "diminishing linear speedup").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import problems  # noqa: E402
import xtrap  # noqa: E402

from ..checks.summary import prefix_average  # noqa: E402
from ..output import Figure, save_figure  # noqa: E402
from .evaluate import Runner, theorem_bound  # noqa: E402
from .spec import CatalogCheck, Ctx  # noqa: E402

# ---- (a) measured vs bound over the horizon -------------------------------------------------------------


def horizon_data(check: CatalogCheck, runner: Runner, points: int = 40) -> dict[str, np.ndarray]:
    """Per-horizon mean, 10/90% seed quantiles and the bound of a check whose run records every step."""
    result, ctx = runner.get(check)
    g2 = np.asarray(result["grad_norm2"], dtype=np.float64)
    g2 = g2[~np.asarray(result["diverged"], dtype=bool)]
    horizons = np.unique(np.geomspace(1, ctx.steps, points).astype(int))
    per_seed = prefix_average(g2, horizons)  # (seed, horizon)
    bound = theorem_bound(check.theorem)
    values = []
    for t in horizons:
        p = check.params(Ctx(ctx.problem, ctx.method, int(t), ctx.seeds, ctx.x0))
        values.append(bound.evaluate(**{k: p[k] for k in bound.parameters}))
    return {"T": horizons.astype(float), "mean": per_seed.mean(axis=0), "lo": np.quantile(per_seed, 0.1, axis=0),
            "hi": np.quantile(per_seed, 0.9, axis=0), "bound": np.asarray(values), "seeds": per_seed.shape[0]}


def fig_horizon(checks: Sequence[CatalogCheck], runner: Runner, out_dir: Path, svg: bool = False) -> Figure:
    """Figure (a): one panel per check (D1 / EXTRAP-SGD and C2 / SGD on the cosine family)."""
    fig, axes = plt.subplots(1, len(checks), figsize=(5.2 * len(checks), 4), squeeze=False)
    parts = []
    for ax, check in zip(axes[0], checks):
        d = horizon_data(check, runner)
        _, ctx = runner.get(check)
        ax.fill_between(d["T"], d["lo"], d["hi"], color="tab:orange", alpha=0.5, lw=0, label="10–90% of seeds")
        ax.loglog(d["T"], d["mean"], color="tab:blue", lw=1.2, label="mean over seeds")
        ax.loglog(d["T"], d["bound"], "k--", label=f"bound {check.theorem}")
        ax.set_xlabel("horizon T (steps)")
        ax.set_ylabel(r"$\frac{1}{T}\sum_{t<T}\|\nabla f(x_t)\|^2$")
        ax.set_title(f"{check.theorem}: {ctx.method.name} on {check.problem.label}")
        ax.legend(fontsize=8)
        parts.append(f"{check.theorem} ({ctx.method.name}, {check.method.label})")
    names = save_figure(fig, out_dir, "horizon", svg)
    _, ctx = runner.get(checks[0])
    caption = (f"Average squared gradient norm over the first T steps (mean over {ctx.seeds} seeds, band: 10–90% "
               f"quantiles of the per-seed averages, narrow since each averages T steps) against the bound, for "
               f"{'; '.join(parts)}; cosine family f(x)=sum_j(x_j^2/2+3 cos x_j), L=4, d=5, additive noise "
               "sigma2=1.25, x0=0.5·1. The bound holds for the mean (not each seed); its 2Δ/(ηT) term dominates at "
               "small T, the noise floor at large T.")
    return names, caption


# ---- (b) tightness ratios ------------------------------------------------------------------------------


def fig_tightness(rows: Sequence[dict[str, Any]], out_dir: Path, svg: bool = False) -> Figure:
    """Figure (b): measured / bound per check with a ratio (thresholds, refusals and exact values of 0 omitted)."""
    shown = [r for r in rows if r.get("ratio") is not None and r.get("kind") != "threshold"]
    ratios = np.array([r["ratio"] for r in shown], dtype=float)
    labels = [f"{r['theorem']} · {r['problem']} · {r['method']}" for r in shown]
    colors = ["tab:red" if not r.get("ok", True) else "tab:orange" if r["witness"] else
              "tab:green" if r["relation"] == "==" else "tab:blue" for r in shown]
    floor = 1e-4
    fig, ax = plt.subplots(figsize=(8, 0.18 * len(shown) + 1.2))
    y = np.arange(len(shown))
    ax.barh(y, np.clip(ratios, floor, None), color=colors)
    for yi, ratio in zip(y, ratios):
        if ratio < floor:
            ax.text(floor * 1.3, yi, f"{ratio:.1g}", va="center", fontsize=6)
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xscale("log")
    ax.set_xlim(floor, 2.0)
    ax.set_yticks(y, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel(f"measured / bound (log scale, cut at {floor:g}; 1 = tight)")
    ax.set_title("orange: witness · green: exact value (==) · blue: upper bound · red: not as expected", fontsize=9)
    names = save_figure(fig, out_dir, "tightness", svg)
    caption = (f"Measured/bound for the {len(shown)} checks with a ratio (thresholds and refusals omitted; ratios "
               f"below {floor:g} are printed). Witnesses (orange) must reach 1 within their stated tolerance; exact "
               "values (green, '==') sit at 1 within 4 SE or round-off; upper bounds (blue) must stay below 1 by "
               "4 SE. The distance of a blue bar from 1 is the bound's slack on that instance.")
    return names, caption


# ---- (c) stability maps -----------------------------------------------------------------------------------

_MAPS = {  # name: (method, swept parameter, its range, theory boundary text)
    "EG": ("extragradient", "extrap_lr", (0.0, 1.5), r"$\gamma\lambda<1$ and $\eta\lambda(1-\gamma\lambda)<2$"),
    "USAM": ("usam", "rho", (0.0, 2.0), r"$\eta\lambda(1+\rho\lambda)<2$"),
    "SAM": ("sam", "rho", (0.0, 2.0), r"$\eta\lambda<2$ (bounded 2-cycle)"),
    "HB": ("sgd", "momentum", (0.0, 0.95), r"$\eta\lambda<2(1+\beta)$"),
}


def stability_data(name: str, n: int, steps: int = 300) -> dict[str, np.ndarray]:
    """One exact-gradient run on :math:`\\tfrac12x^2` (:math:`\\lambda=1`) over an ``n`` x ``n`` grid of (η, other)."""
    method_name, other, (lo, hi) = _MAPS[name][:3]
    eta = np.linspace(0.02, 4.5 if name == "HB" else 3.0, n)
    par = np.linspace(lo + (hi - lo) / (2 * n), hi, n)
    kw: dict[str, Any] = {"lr": eta, other: par}
    if method_name in ("sgd", "usam", "sam"):
        kw["exact"] = True
    prob = problems.make_quadratic([1.0], x0=[1.0])
    res = xtrap.run(prob, xtrap.make_method(method_name, **kw), steps=steps, seeds=1, diverge_radius=1e6)
    dist = np.asarray(res["dist"], dtype=float)[..., 0, -1]  # (eta, other)
    div = np.asarray(res["diverged"], dtype=bool)[..., 0]
    return {"eta": eta, "other": par, "log10_dist": np.log10(np.maximum(dist, 1e-300)), "diverged": div}


def _boundary(ax: Any, name: str, other: np.ndarray) -> None:
    if name == "EG":  # lambda = 1: gamma < 1 and eta (1 - gamma) < 2
        g = other[other < 1]
        ax.plot(g, 2 / (1 - g), "k-", lw=2)
        ax.axvline(1.0, color="k", lw=2)
    elif name == "USAM":
        ax.plot(other, 2 / (1 + other), "k-", lw=2)
    elif name == "SAM":
        ax.axhline(2.0, color="k", lw=2)
    else:
        ax.plot(other, 2 * (1 + other), "k-", lw=2)


def fig_stability(out_dir: Path, n: int = 40, steps: int = 300, svg: bool = False) -> Figure:
    """Figure (c): four maps (EG, USAM, SAM, HB) of :math:`\\log_{10}|x_T|/|x_0|`, divergence in red."""
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    for ax, name in zip(axes, _MAPS):
        d = stability_data(name, n, steps)
        img = np.where(d["diverged"], np.nan, np.clip(d["log10_dist"], -8, 2))
        extent = (d["other"][0], d["other"][-1], d["eta"][0], d["eta"][-1])
        im = ax.imshow(img, origin="lower", aspect="auto", extent=extent, cmap="viridis", vmin=-8, vmax=2)
        ax.imshow(np.where(d["diverged"], 1.0, np.nan), origin="lower", aspect="auto", extent=extent,
                  cmap="Reds", vmin=0, vmax=1.2)
        _boundary(ax, name, d["other"])
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        label = {"extrap_lr": r"$\gamma\lambda$", "rho": r"$\rho\lambda$", "momentum": r"$\beta$"}[_MAPS[name][1]]
        ax.set_xlabel(label)
        ax.set_ylabel(r"$\eta\lambda$")
        ax.set_title(f"{name}: stable iff {_MAPS[name][3]}", fontsize=9)
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|x_T|/|x_0|$ (red: diverged)")
    names = save_figure(fig, out_dir, "stability", svg)
    caption = (f"Exact-gradient runs on f(x)=x²/2 (λ=1, x0=1) over a {n}×{n} grid, T={steps} steps, one 2-D sweep "
               "per method (lr × the second parameter in one compiled run). Colour: log10 |x_T|/|x_0| (clipped to "
               "[-8, 2]); red: diverged (|x_t - x_0| > 1e6). Black: the boundary of THEORY.md A2 (A2.2 EG, A2.3 USAM, "
               "A2.7 normalized SAM, A2.4 heavy ball). Near a boundary |r|^T ≈ 1, so the colour fades to 0 there.")
    return names, caption


# ---- (d) batch-size scaling ---------------------------------------------------------------------------------


def speedup_data(level: str) -> dict[str, Any]:
    """Steps to reach ε for Nesterov-SGD and EXTRAP-SGD against :math:`K` (local batch 1), η tuned on a grid."""
    quick = level == "quick"
    workers = np.array([1, 2, 4, 8, 16] if quick else [1, 2, 4, 8, 16, 32, 64])
    steps, seeds, eps = (400, 16, 0.3) if quick else (1500, 64, 0.3)
    from ._builders import p_aniso

    prob = p_aniso()
    L = float(prob.L)
    lr = np.array([0.5, 0.25, 0.125, 0.0625]) / L
    methods = {"Nesterov-SGD (β=0.9)": xtrap.sgd(lr=lr, momentum=0.9, nesterov=True, workers=workers),
               "EXTRAP-SGD (γ=η)": xtrap.extrap_sgd(lr=lr, workers=workers)}
    horizons = np.arange(1, steps + 1)
    out: dict[str, Any] = {"K": workers, "eps": eps, "steps": steps, "seeds": seeds, "lrL": lr * L, "measured": {}}
    for label, method in methods.items():
        res = xtrap.run(prob, method, steps=steps, seeds=seeds, record_every=1)
        g2 = np.asarray(res["grad_norm2"], dtype=float)  # (lr, workers, seed, record)
        mean = np.nanmean(g2, axis=2)[..., :steps]  # (lr, workers, t < T)
        avg = np.cumsum(mean, axis=-1) / horizons  # (lr, workers, T): (1/T) sum_{t<T}
        hit = np.where((avg <= eps).any(axis=-1), (avg <= eps).argmax(axis=-1) + 1.0, np.nan)
        out["measured"][label] = np.nanmin(np.where(np.isnan(hit), np.inf, hit), axis=0)
    bound = theorem_bound("D1-K")
    delta = float(prob.value(prob.x0)) - float(prob.f_star)
    theory = []
    for k in workers:
        best = np.inf
        for eta in lr:
            p = dict(Delta=delta, K=float(k), L=L, b=1.0, eta=float(eta), gamma=float(eta), sigma2=float(prob.sigma2))
            floor = bound.evaluate(**p, T=1e300)
            if floor < eps:  # D1-K is decreasing in T: solve bound(T) = eps for T
                best = min(best, 2 * delta / (float(eta) * ((eps - floor) * (1 - (L * eta) ** 2))))
        theory.append(best)
    out["theory"] = np.asarray(theory)
    return out


def fig_speedup(level: str, out_dir: Path, svg: bool = False) -> Figure:
    """Figure (d): steps to ε against :math:`Kb` (b = 1), measured and the D1-K curve."""
    d = speedup_data(level)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label, t in d["measured"].items():
        ax.loglog(d["K"], np.where(np.isfinite(t), t, np.nan), "o-", label=f"{label}, measured")
    ax.loglog(d["K"], np.where(np.isfinite(d["theory"]), d["theory"], np.nan), "k--",
              label="D1-K bound (EXTRAP-SGD), η tuned")
    ks = d["K"].astype(float)
    first = d["measured"]["EXTRAP-SGD (γ=η)"][0]
    if np.isfinite(first):
        ax.loglog(ks, first / ks, ":", color="gray", label="linear speedup ∝ 1/(Kb)")
    ax.set_xlabel("global batch K·b (b = 1)")
    ax.set_ylabel(f"steps until (1/T)Σ E||∇f||² ≤ {d['eps']}")
    ax.legend(fontsize=8)
    names = save_figure(fig, out_dir, "speedup", svg)
    caption = (f"Steps T until the seed-mean average squared gradient norm (1/T)Σ_(t<T) E||∇f(x_t)||² reaches "
               f"ε={d['eps']}, against K·b with b=1, on the anisotropic quadratic (L=2, σ²=1.5); η tuned over "
               f"ηL ∈ {{{', '.join(f'{x:g}' for x in d['lrL'])}}} (the best per K), {d['seeds']} seeds, "
               f"horizon {d['steps']} steps (a missing point: ε not reached). Dashed: the D1-K bound's T_ε minimised "
               "over the same grid (γ=η). No catalog bound covers Nesterov momentum; its curve is measured only.")
    return names, caption
