"""``report.md`` of ``xtrap sharp-flat``: the landscapes, the basin tables, the claims, the figures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..output import write_text
from .basins import MOMENTUM, NOISE_SCALE, SAM_RADIUS, BasinSweep


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "inf" if x == math.inf else "–"
    return f"{x:.{digits}g}"


def basin_table(rows: Sequence[dict[str, Any]], problem: str) -> list[str]:
    """Method × lr rows, one column per batch: flat fraction [95% CI] · median final λmax."""
    mine = [r for r in rows if r["problem"] == problem]
    batches = sorted({r["batch"] for r in mine})
    cells: dict[tuple, dict[int, dict[str, Any]]] = {}
    for r in mine:
        cells.setdefault((r["method"], r["lr"]), {})[r["batch"]] = r
    lines = ["| method | η | sharp min. (G2) | " + " | ".join(f"B={b}" for b in batches) + " |",
             "|---|---|---|" + "---|" * len(batches)]
    for (method, lr), by_b in cells.items():
        first = next(iter(by_b.values()))
        g2 = ("–" if "sharp_stable" not in first else  # the theory is left out (first["theory"] says why)
              ("2-cycle" if first["filter_theorem"] == "A2.SAM" else "stable") if first["sharp_stable"] else "**unstable**")
        vals = []
        for b in batches:
            r = by_b.get(b)
            if r is None:
                vals.append("")
                continue
            div = f", {r['diverged']} div." if r["diverged"] else ""
            vals.append(f"{r['flat_fraction']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] · "
                        f"λ {_f(r['final_sharpness_median'])}{div}")
        lines.append(f"| {method} | {lr:g} | {g2} | " + " | ".join(vals) + " |")
    return lines


def sgd_theory_table(rows: Sequence[dict[str, Any]], problem: str) -> list[str]:
    """SGD at the sharp minimum: B_crit (A4), mean-square factor (A4.WME), Lyapunov exponent (G4)."""
    mine = [r for r in rows if r["problem"] == problem and r["method"] == "SGD" and "b_crit" in r]
    if not mine:
        return []
    lines = ["| η | B | B_crit (A4.Bcrit) | mean-square factor (A4.WME) | Λ = E log\\|1−η h_B\\| (G4) | flat fraction |",
             "|---|---|---|---|---|---|"]
    for r in mine:
        lines.append(f"| {r['lr']:g} | {r['batch']} | {_f(r['b_crit'])} | {_f(r['mean_square_factor'])} | "
                     f"{r['lyapunov']:.3f} ± {r['lyapunov_se']:.3f} | {r['flat_fraction']:.2f} |")
    return lines


def _lyap(r: dict[str, Any]) -> str:
    return f"{r['lyapunov']:.2f} ± {r['lyapunov_se']:.2f} at B={r['batch']}"


def sgd_explanation(rows: Sequence[dict[str, Any]], problem: str) -> list[str]:
    """SGD's outcomes on ``problem`` explained step by step with G2, B_crit (A4) and Λ (G4), from the rows."""
    mine = [r for r in rows if r["problem"] == problem and r["method"] == "SGD" and "b_crit" in r]
    out = []
    for lr in sorted({r["lr"] for r in mine}):
        g = sorted((r for r in mine if r["lr"] == lr), key=lambda r: r["batch"])
        lo, hi = g[0], g[-1]
        fr = f"flat fraction {min(r['flat_fraction'] for r in g):.2f}–{max(r['flat_fraction'] for r in g):.2f}"
        near = f"near the minimum {min(r['near_fraction'] for r in g):.2f}–{max(r['near_fraction'] for r in g):.2f}"
        signs = {r["lyapunov"] > 0 for r in g}
        lyap = (f"Λ {'> 0' if signs == {True} else '< 0' if signs == {False} else 'changes sign'} "
                f"({_lyap(lo)} to {_lyap(hi)})")
        if not lo["sharp_stable"]:
            med = ", ".join(_f(r["final_sharpness_median"]) for r in g)
            text = (f"ηλ = {lr * lo['sharp_curvature']:.3g} ≥ 2: the sharp minimum is linearly unstable at every batch "
                    f"(G2); {lyap}. Measured: {fr}, {near}, median final λmax {med} for B = "
                    f"{', '.join(str(r['batch']) for r in g)} (2/η = {2 / lr:.3g}).")
        elif lo["b_crit"] == 0:
            text = (f"every sample has the same Hessian (s = 0), so B_crit = 0: batch size cannot change linear "
                    f"stability (A4), only the size of the additive noise; {lyap}. Measured: {fr}, {near}.")
        else:
            ms = [str(r["batch"]) for r in g if r["mean_square_factor"] > 1]
            bc = (f"mean-square unstable for B ∈ {{{', '.join(ms)}}} (B < B_crit = {lo['b_crit']:.3g})" if ms else
                  f"mean-square stable at every batch here (B_crit = {lo['b_crit']:.3g})")
            text = f"{bc}; {lyap}. Measured: {fr}, {near}."
        out.append(f"- η={lr:g}: {text}")
    return out


def minima_table(minima: Sequence[dict[str, Any]]) -> list[str]:
    """The sharpness metrics of :func:`analysis.sharp_flat.minima_sharpness` beside the exact Hessian."""
    lines = ["| landscape | minimum | f | λmax (dense H) | λmax Lanczos | tr H (dense) | tr H Hutchinson [99% CI] | SLQ tr H/d | "
             "ε-sharpness raw | Keskar (%) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for m in minima:
        lo, hi = m["hutchinson_ci"]
        where = "" if m.get("source", "exact") == "exact" else f" ({m['source']})"
        lines.append(f"| {m['problem']} | {m['minimum']}{where} | {m['value']:.4g} | {m['lambda_max']:.6g} | {m['lanczos']:.6g} "
                     f"| {m['trace']:.6g} | {m['hutchinson']:.4g} [{lo:.4g}, {hi:.4g}] | {m['slq_mean']:.4g} | "
                     f"{m['eps_raw']:.3g} | {_f(m['eps_keskar'])} |")
    return lines


def escape_table(rows: Sequence[dict[str, Any]], problem: str) -> list[str]:
    """Noise-to-barrier ratio z = barrier / A3 stationary std at the sharp minimum, beside the flat fraction."""
    mine = [r for r in rows if r["problem"] == problem and not math.isnan(r.get("stationary_std", math.nan))]
    batches = sorted({r["batch"] for r in mine})
    cells: dict[tuple, dict[int, dict[str, Any]]] = {}
    for r in mine:
        cells.setdefault((r["method"], r["lr"]), {})[r["batch"]] = r
    lines = ["| method | η | " + " | ".join(f"B={b}: z · flat" for b in batches) + " |", "|---|---|" + "---|" * len(batches)]
    for (method, lr), by_b in cells.items():
        lines.append(f"| {method} | {lr:g} | " + " | ".join(
            f"{_f(by_b[b]['escape_z'])} · {by_b[b]['flat_fraction']:.2f}" if b in by_b else "" for b in batches) + " |")
    return lines


def escape_summary(rows: Sequence[dict[str, Any]]) -> str:
    """How well z orders the escapes seen where the sharp minimum is linearly stable."""
    cells = [r for r in rows if r.get("sharp_stable") and math.isfinite(r.get("escape_z", math.nan))]
    left = [r for r in cells if r["ci_low"] > 0]
    stayed = [r for r in cells if r["ci_low"] == 0]
    if not cells:
        return "No cell has both a stable sharp minimum and an exact linear model."
    text = (f"Of {len(cells)} cells where the sharp minimum is linearly stable and the method has an exact linear model, "
            f"{len(left)} show escape (lower 95% bound of the flat fraction above 0)")
    if left:
        text += f", all with z ≤ {max(r['escape_z'] for r in left):.3g}"
    if stayed:
        low = min(stayed, key=lambda r: r["escape_z"])
        text += (f"; the smallest z without escape is {low['escape_z']:.3g} ({low['problem']}, {low['method']}, "
                 f"η={low['lr']:g}, B={low['batch']})")
    return text + "."


def claims_table(claims: Sequence[dict[str, Any]]) -> list[str]:
    """Counts per claim and every claim that did not hold."""
    lines = ["| claim | held | did not hold | undecided |", "|---|---|---|---|"]
    for name in ("G2", "G3", "G4", "G5"):
        mine = [c for c in claims if c["claim"] == name]
        lines.append(f"| {name} | {sum(c['holds'] is True for c in mine)} | {sum(c['holds'] is False for c in mine)} | "
                     f"{sum(c['holds'] is None for c in mine)} |")
    return lines


def _claim_lines(claims: Sequence[dict[str, Any]], name: str, holds: bool | None) -> list[str]:
    return [f"- {c['problem']}, {c['method']}, η={c['lr']:g}, B={c['batch']}: {c['detail']}"
            for c in claims if c["claim"] == name and c["holds"] is holds]


INTRO = (
    "Every run starts at the sharp minimum (+1e-3 along its sharpest direction) and runs T steps; 'flat fraction' "
    "is the fraction of non-diverged runs whose last iterate lies in a flat minimum's basin (the exact gradient-flow "
    "basin for the built-in families; the nearest listed minimum for a user's problem), with a 95% Clopper–Pearson "
    "interval. 'λ' is the median top Hessian eigenvalue at the last iterate (dense Hessian). The study's methods: "
    f"SGD; SGD+momentum (heavy ball, β={MOMENTUM}); EXTRAP-SGD (local extragradient, γ=η); past_extrap "
    f"(γ=η); noise_extrap (Gaussian, γ={NOISE_SCALE}); SAM (normalized, ρ={SAM_RADIUS}, same batch); a user's "
    "method as given. "
    "Theory: the G2 column says whether the sharp minimum is linearly stable for the deterministic method at that "
    "step (THEORY.md §G2, catalog A2.*); for SGD, B_crit is the A4 critical batch of the sharp minimum's per-sample "
    "curvatures (mean-square stable iff B ≥ B_crit) and Λ the Lyapunov exponent of its linearisation (typical paths "
    "leave the minimum's neighbourhood iff Λ > 0, §G4 — not necessarily its basin). 'near the minimum': runs ending "
    "within 1/8 of the barrier (the distance to the nearest flat basin) of the sharp minimum. These are "
    "statements about *linear* stability at the minimum: they predict when a method cannot stay, not where it goes, "
    "and say nothing of noise-driven barrier crossing.")

READING = [
    "How to read the claims (each is tested, none assumed). 'held' / 'did not hold': the measurement confirms / "
    "contradicts the prediction, fractions compared by their 95% Clopper–Pearson intervals; 'undecided': the theory "
    "makes no prediction there, or the intervals overlap.",
    "- **G2**: with exact gradients (SGD → GD, EXTRAP-SGD → extragradient, past_extrap and heavy ball exact) from "
    "the sharp minimum + 1e-3, a run converges to it (final distance < 1/100 of the initial one) iff the G2 filter "
    "says it is linearly stable. Normalized SAM (never converges, A2.7: the tables say '2-cycle') and noise injection "
    "(random by construction) are predictions only. Linear instability says a method cannot *stay*, not that it leaves "
    "the basin: where the curvature falls off away from the minimum, the noisy runs of a method for which the minimum "
    "is unstable can settle into a bounded orbit inside the same basin, where the curvature they see (the tables' "
    "'λ') is lower.",
    "- **G3** (SGD): where B_crit lies between the smallest and largest batch, the flat fraction is larger at the "
    "smallest batch; elsewhere A4 predicts no batch effect on linear stability ('undecided').",
    "- **G4** (SGD): where the sign of Λ is resolved (|Λ| > 4 SE), whatever the mean-square factor says: Λ < 0: most "
    "runs stay in the sharp basin (additive noise spreads them around the minimum, so staying is judged by basin); "
    "Λ > 0: most runs end farther than 1/8 of the barrier from the sharp minimum (they leave the minimum, not "
    "necessarily its basin).",
    "- **G5**: on a landscape whose minima have (nearly) equal depth (two-basin), each extrapolated method (EXTRAP-SGD, "
    "past_extrap, noise_extrap, SAM) ends in the flat basin more often than large-batch SGD (its largest batch) at the "
    "same step; each line says whether the method's own G2 filter rejects the sharp minimum (the deterministic "
    "mechanism) or not (noise or smoothing).",
]


def _depth_note(minima: Sequence[dict[str, Any]]) -> str:
    small = [f"{m['problem']} {m['minimum']} {1 + m['value']:.2g}" for m in minima if abs(1 + m["value"]) < 0.2]
    return f" (1 + f is near 0 at: {', '.join(small)})" if small else ""


def _hb_ratio(rows: Sequence[dict[str, Any]]) -> str:
    pairs = {(r["problem"], r["lr"], r["batch"]): r for r in rows if r["method"] == "SGD"}
    for r in rows:
        base = pairs.get((r["problem"], r["lr"], r["batch"]))
        if r["method"] == "SGD+momentum" and base and "b_crit" in base and "stationary_std" in r and \
                0 < base["stationary_std"] < math.inf and 0 < r["stationary_std"] < math.inf and base["b_crit"] == 0:
            return (f" (on {r['problem']} at η = {r['lr']:g}: spread × {r['stationary_std'] / base['stationary_std']:.2f}, "
                    f"variance × {(r['stationary_std'] / base['stationary_std']) ** 2:.2f})")
    return ""


def write_sharp_flat_report(summary: dict[str, Any], sweeps: Sequence[BasinSweep], out_dir: str | Path, *,
                            svg: bool = False) -> Path:
    """Write ``out_dir/report.md`` and the figures; returns the path of ``report.md``."""
    from .figures import write_figures

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, claims = summary["basins"], summary["claims"]
    lines = [f"# xtrap sharp-flat ({summary['level']})", "",
             f"{summary['seeds']} seeds × {summary['steps']} steps per cell; {len(rows)} cells over "
             f"{len({r['method'] for r in rows})} methods.", "", INTRO, "", "## Landscapes", ""]
    for ls in summary["landscapes"]:
        grid = summary.get("grid", {}).get(ls["name"])
        lines.append(f"- **{ls['name']}**: {ls['why']}. Sharp minimum λmax = {ls['sharp_curvature']:.4g}, flat "
                     f"λmax = {ls['flat_curvature']:.4g} (minima {ls.get('minima', 'exact')}); x0 = "
                     f"{[round(v, 4) for v in ls['x0'][:6]]}{' …' if len(ls['x0']) > 6 else ''}." + (
                         f" Grid: η ∈ {grid['lrs']}, B ∈ {grid['batches']} ({grid['source']})." if grid else ""))
    if summary.get("omitted"):
        lines += ["", "Theory overlays left out (the measurements above them stand; only the predictions are "
                  "missing):", "", *[f"- {why}" for why in summary["omitted"]]]
    lc = summary["lanczos"]
    lines += ["", f"Sharpness metric cross-check: Lanczos on Hessian-vector products (`analysis.sharpness`) against "
                  f"the exact Hessian at {lc['points']} final iterates: largest relative gap {lc['max_relative_gap']:.1e}.",
              "", "Every sharpness metric at the two kinds of minima (`analysis.sharpness`, "
              "`analysis.epsilon_sharpness`; ε-sharpness: the largest rise of f on the l2 ball of radius "
              f"{summary['minima'][0]['epsilon'] if summary.get('minima') else '–'}, and Keskar's percentage "
              "100·rise/(1+f) on his box, defined where 1 + f > 0. His denominator depends on the constant in f"
              f"{_depth_note(summary.get('minima', []))}, so compare minima by the raw rise. Where a Hessian is "
              "diagonal, Hutchinson's Rademacher estimate is exact and its interval has width 0):",
              "", *minima_table(summary.get("minima", [])),
              "", "## Claims", "", *claims_table(claims), "", *READING, ""]
    for name in ("G2", "G3", "G4"):
        parts = [(title, _claim_lines(claims, name, h)) for title, h in (("Held:", True), ("Did not hold:", False),
                                                                        ("Undecided:", None))]
        if any(found for _, found in parts):
            lines += [f"### {name}", ""] + [x for title, found in parts if found for x in ("", title, *found)] + [""]
    g5 = [c for c in claims if c["claim"] == "G5"]
    if g5:
        lines += ["### G5", "", f"{sum(c['holds'] is True for c in g5)} of {len(g5)} cells have a flat fraction "
                  "significantly above large-batch SGD's:", *_claim_lines(claims, "G5", True), ""]
        if any(c["holds"] is False for c in g5):
            lines += ["Significantly below:", *_claim_lines(claims, "G5", False), ""]
    for ls in summary["landscapes"]:
        lines += [f"## {ls['name']}: flat fraction [95% CI] · median final λmax", "",
                  *basin_table(rows, ls["name"]), ""]
        if explained := sgd_explanation(rows, ls["name"]):
            lines += ["SGD at the sharp minimum, step by step:", "", *explained, "",
                      *sgd_theory_table(rows, ls["name"]), ""]
    lines += ["## Noise-driven escape (a linear proxy, not a theorem)", "",
              "Where the sharp minimum is linearly stable, leaving it takes noise. σ is the stationary spread of the "
              "linearised method along the sharp direction, exact for that linear model: for SGD and heavy ball the "
              "second-moment recursion with the batch curvature's variance p_B s² and the batch gradient's variance "
              "v_B = p_B Var_i (A4; A3's SGD / HB rows when s = 0, tested), p_B = (n−B)/(B(n−1)); for EXTRAP-SGD, "
              "past_extrap and noise_extrap their A3 rows, which hold only when every sample has the same curvature "
              "(additive noise: v_B = ν²/B), so they are left out where the curvature varies across samples; none for normalized SAM. z = (distance to the "
              "nearest flat basin)/σ compares it with the way out: z = 0 when the mean square diverges (then G4's Λ "
              "decides), inf at full batch. z ignores the curvature's fall-off and the barrier's height, so it "
              "orders escapes at best, and it is not comparable across methods near an edge of stability: as ηλ → 2 "
              "SGD's spread grows through the period-2 mode r = 1 − ηλ ≈ −1, which flips the iterate across the "
              "minimum instead of carrying it away. Heavy ball's A3 row is (1+β)/(1−β)·(2−ηλ)/(2(1+β)−ηλ) times "
              "SGD's at equal step and batch" + _hb_ratio(rows) + ".", "",
              escape_summary(rows), ""]
    for ls in summary["landscapes"]:
        lines += [f"### {ls['name']} (barrier {ls['barrier']:.3g})", "", *escape_table(rows, ls["name"]), ""]
    lines += ["## Figures", ""]
    for names, caption in write_figures(sweeps, rows, out, svg=svg):
        lines += [f"![{names[0]}]({names[0]})", "", caption, ""]
    return write_text(out / "report.md", "\n".join(lines))
