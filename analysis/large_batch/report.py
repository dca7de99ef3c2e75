"""``report.md`` of ``xtrap large-batch``: a plain-English summary first (what held, what did not), then the
protocol, the accuracy-vs-batch table, the sharpness table, the theory beside the measurements, the claims, the
figures and the cost.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..output import md_cell, write_text
from .claims import _num, multiplicity
from .protocol import LEVELS, NO_SCALING, PILOT
from .stats import mean_ci, pm

MARKER = "# xtrap large-batch"


def _g(x: Any, digits: int = 3) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}g}"


def _cell(out: dict[str, Any], label: str, batch: int) -> dict[str, Any] | None:
    return next((c for c in out["cells"] if c["label"] == label and c["batch"] == batch), None)


def _claim(out: dict[str, Any], start: str) -> dict[str, Any] | None:
    return next((c for c in out.get("claims", []) if c["claim"].startswith(start)), None)


def excluded(claim: dict[str, Any], scale: float = 100.0, unit: str = " points", down: str = "drop",
             up: str = "gain", both: bool = True) -> str:
    """What the 95% interval :math:`[\\ell, h]` of a difference excludes, in words: a ``down`` of more than
    :math:`-\\ell` (when :math:`\\ell\\le0`) and, with ``both``, an ``up`` of more than :math:`h` (when :math:`h\\ge0`),
    both times ``scale`` (accuracy differences in percentage points).

    >>> excluded({"low": -0.0171, "high": 0.0032}, both=False)
    'a drop of more than 1.7 points is excluded at 95%'
    """
    lo, hi = claim["low"] * scale, claim["high"] * scale
    fmt = (lambda v: f"{v:.1f}") if unit == " points" else (lambda v: f"{v:.3g}")  # noqa: E731
    parts = ([f"a {down} of more than {fmt(-lo)}{unit}"] if lo <= 0 else []) + (
        [f"{'an' if up[0] in 'aeiou' else 'a'} {up} of more than {fmt(hi)}{unit}"] if both and hi >= 0 else [])
    return " and ".join(parts) + " is excluded at 95%"


def _verdict(c: dict[str, Any], subject: str, rose: str, fell: str, none: str, **kw: Any) -> str:
    """``subject rose`` / ``fell`` / ``none`` (then what the interval excludes) by the claim's Welch verdict."""
    v = c.get("verdict")
    return (f"{subject} {rose}" if v == "higher" else f"{subject} {fell}" if v == "lower" else
            f"{subject} {none}; {excluded(c, **kw)}" if v == "indistinguishable" else
            f"{subject}: could not be compared")


def accuracy_cell(cell: dict[str, Any]) -> str:
    """One entry of the accuracy table: mean ± 95% half-width, the runs used and the diverged count."""
    s = cell["summary"]["test_accuracy"]
    div = sum(cell["diverged"])
    return f"{pm(s)} ({s['n']} runs{f', **{div} diverged**' if div else ''})"


def accuracy_table(out: dict[str, Any]) -> list[str]:
    """Method × batch: test accuracy, mean ± 95% Student-t half-width over the runs that did not diverge."""
    b = out["batches"]
    lines = ["| method | " + " | ".join(f"B = {x}" for x in b) + " |", "|---|" + "---|" * len(b)]
    for label in out["methods"]:
        row = [accuracy_cell(c) if (c := _cell(out, label, x)) else "" for x in b]
        lines.append(f"| {md_cell(label)} | " + " | ".join(row) + " |")
    return lines


def detail_table(out: dict[str, Any]) -> list[str]:
    """Per cell: the peak step and the last step, steps, final training loss, train accuracy, train − test accuracy."""
    lines = ["| method | B | η (peak) | η of the last step | steps | gradients / step | final training loss | "
             "train accuracy | train − test accuracy |", "|---|---|---|---|---|---|---|---|---|"]
    for c in out["cells"]:
        gap = [a - t for a, t in zip(c["train_accuracy"], c["test_accuracy"])]
        lines.append(f"| {md_cell(c['label'])} | {c['batch']} | {c['lr']:.4g} | {c['lr_last']:.4g} | {c['steps']} | "
                     f"{c['grads_per_step']} | "
                     f"{pm(c['summary']['loss'], 4)} | {pm(c['summary']['train_accuracy'])} | {pm(mean_ci(gap))} |")
    return lines


def sharpness_table(out: dict[str, Any]) -> list[str]:
    """Per cell: final lambda_max (each measured seed), the threshold of the last step, the verdict, each run's
    lambda_max(x0) / lambda* (its own seed's start), the runs that did not train, the trace."""
    lines = ["| method | B | final λmax (Lanczos, per seed) | λ* of the last step | rule | below λ*? | "
             "λmax(x0) / λ* (per seed) | runs that did not train | trace (Hutchinson ± SE, per seed) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in out["cells"]:
        if "lambda_max" not in c:
            continue
        lam = [x for x in c["lambda_max"] if math.isfinite(x)]
        ref = c["status"] == "reference"
        below = "–" if not lam else ("(no rule)" if ref else
                                     "yes" if all(x < c["threshold"] for x in lam) else "**no**")
        tr = ", ".join(f"{t:.3g} ± {s:.2g}" for t, s in zip(c["trace"], c["trace_se"]) if math.isfinite(t)) or "–"
        lines.append(f"| {md_cell(c['label'])} | {c['batch']} | {', '.join(f'{x:.4g}' for x in lam) or '–'} | "
                     f"{_g(c['threshold'], 4)}{' (ref.)' if ref else ''} | {md_cell(c['threshold_theorem'])} | "
                     f"{below} | {_ratios(c['start_ratio'])} | {c['failed_runs']} of {len(c['diverged'])} | {tr} |")
    return lines


def _ratios(ratios: Sequence[float] | None) -> str:
    """Per-seed start ratios, those at or above 1 in bold (``–`` for none)."""
    return "–" if ratios is None else ", ".join(f"**{r:.2f}**" if r >= 1 else f"{r:.2f}" for r in ratios)


def noise_table(out: dict[str, Any]) -> list[str]:
    lines = ["| where | tr Σ (σ²) | ‖∇f‖² | B_noise = tr Σ / ‖∇f‖² | status |", "|---|---|---|---|---|"]
    for v in out["noise_scale"].values():
        lines.append(f"| {v['where']} | {_g(v['sigma2'], 4)} | {_g(v['grad_norm2'], 4)} | {_g(v['b_noise'], 4)} | "
                     f"{v['source']} |")
    return lines


def _b(v: float) -> str:
    """A critical batch: ``∞`` (unstable at every batch), ``–`` (not measured), else 3 significant digits."""
    return "–" if math.isnan(v) else "∞" if math.isinf(v) else _num(v)


def critical_table(out: dict[str, Any]) -> list[str]:
    """Per SGD cell: A4's inputs and critical batch at each measured end point (per seed), at each seed's start, at the
    last step; whether the batch is at or above it; the largest Ritz residual :math:`\\|Hv-\\theta v\\|`."""
    lines = ["| B | η of the last step | a (per seed) | s (per seed) | B_crit at the end point (per seed) | "
             "B ≥ B_crit? | B_crit at x0 (per seed) | largest ‖Hv − θv‖ |", "|---|---|---|---|---|---|---|---|"]
    for c in out["cells"]:
        if "critical" not in c:
            continue
        k = c["critical"]
        got = [v for v in k["b_crit"] if not math.isnan(v)]
        ok = "–" if not got else "yes" if all(c["batch"] >= v for v in got) else "**no**"
        res = [r for r in k["ritz_residual"] if math.isfinite(r)]
        lines.append(f"| {c['batch']} | {c['lr_last']:.4g} | {', '.join(_g(v) for v in k['a'])} | "
                     f"{', '.join(_g(v) for v in k['s'])} | {', '.join(_b(v) for v in k['b_crit'])} | {ok} | "
                     f"{', '.join(_b(v) for v in k['b_crit_x0'])} | {_g(max(res), 2) if res else '–'} |")
    return lines


def summary_lines(out: dict[str, Any]) -> list[str]:
    """The plain-English summary: the generalization gap (or not), what does appear, the methods, the theory."""
    b_lo, b_hi = out["batches"][0], out["batches"][-1]
    lo, hi = _cell(out, "SGD", b_lo), _cell(out, "SGD", b_hi)
    acc = lambda c: pm(c["summary"]["test_accuracy"])  # noqa: E731
    gap = _claim(out, "gap:")
    lines = []
    if gap["holds"] is True:
        lines.append(f"- **The generalization gap appeared.** SGD with Nesterov momentum reached {acc(lo)} test "
                     f"accuracy at B = {b_lo} and {acc(hi)} at B = {b_hi} ({gap['detail']}).")
    elif gap["holds"] is False:
        head = ("No generalization gap detected at this scale" if gap["verdict"] == "indistinguishable" else
                "No generalization gap: the largest batch did better")
        lines.append(f"- **{head}**: {excluded(gap, both=False)}. With the linear scaling rule and "
                     f"warm-up, SGD with Nesterov momentum reached {acc(lo)} test accuracy at B = {b_lo} and {acc(hi)} "
                     f"at B = {b_hi} ({gap['detail']}).")
    else:
        lines.append(f"- **Undecided:** too few runs to compare SGD at B = {b_lo} and B = {b_hi}.")
    tt = _claim(out, "train-test gap")
    if tt and tt["holds"] is not None:
        lines.append("- " + _verdict(tt, "The train − test accuracy gap", "grew with the batch", "shrank with the "
                                     "batch", "showed no growth with the batch", up="growth", down="shrinkage")
                     + f" ({tt['detail']}).")
    ns = _claim(out, "scaling matters")
    nc = _cell(out, NO_SCALING, b_hi)
    if ns and nc:
        what = ("**What does appear is an optimization gap:**" if ns["holds"] else
                f"Without the scaling rule no loss was detected ({excluded(ns)}):" if ns.get("verdict") ==
                "indistinguishable" else "Without the scaling rule SGD did better:" if ns["holds"] is False else
                "Undecided:")
        why = (f": with {hi['steps']} steps instead of {lo['steps']}, the large batch needs the larger step to "
               "train as far" if ns["holds"] else "")
        lines.append(f"- {what} SGD kept at the small-batch step η = {nc['lr']:.4g} reached {acc(nc)} at "
                     f"B = {b_hi} (final training loss {pm(nc['summary']['loss'], 3)} against "
                     f"{pm(hi['summary']['loss'], 3)} with the scaled step){why} ({ns['detail']}).")
    for m in out["methods"]:
        if m in ("SGD", NO_SCALING) or (c := _claim(out, f"{m} helps")) is None:
            continue
        word = {"higher": "improved on", "lower": "was worse than", "indistinguishable": "showed no difference from"
                }.get(c.get("verdict"), "could not be compared with")
        what = f"; {excluded(c, down='loss')} against SGD" if c.get("verdict") == "indistinguishable" else ""
        lines.append(f"- {m[0].upper() + m[1:]} {word} SGD at B = {b_hi}: {acc(_cell(out, m, b_hi))}{what} "
                     f"({c['detail']}).")
    stab = [c for c in out["claims"] if c["claim"].startswith("stability filter") and c["holds"] is not None]
    if stab:
        lines.append("- Stability filters of the last step against the final λmax: " + "; ".join(
            f"{c['claim'].split(': ', 1)[1]}: {'held' if c['holds'] else '**did not hold**'} ({c['detail']})"
            for c in stab) + ".")
    sc = _claim(out, "start filter")
    if sc and sc["holds"] is not None:
        lam0 = out["start"]["lambda_max_x0"]
        k, n, j, m = sc["flagged_failed"], sc["flagged"], sc["unflagged_failed"], sc["unflagged"]
        text = (f"- The stability filters at the start, run by run: {k} of the {n} runs whose own λmax(x0) (here "
                f"{min(lam0):.3g} to {max(lam0):.3g} over the seeds) was above the threshold of their last step "
                f"failed to train, and {j} of the {m} below it. ")
        text += ("They predicted exactly which runs failed." if sc["holds"] else
                 "As a necessary condition they held (no run that started below failed); as a sufficient one they did "
                 "not" if j == 0 else "As a sufficient condition they held (every run that started above failed); as "
                 "a necessary one they did not" if k == n else "They held neither as a necessary nor as a sufficient "
                 "condition")
        text += "".join(f"; {what}: {', '.join(sc[key])}" for what, key in (
            ("started above but trained", "above_trained"), ("started below but failed", "below_failed")) if sc[key])
        text += "."
        if any(c["failed"] and c["label"] == "EXTRAP-SGD" for c in out["cells"]):
            text += (" EXTRAP-SGD needs γλ < 1 (A1, A2.EG: beyond it the extrapolated step goes uphill); with γ tied to "
                     "the linearly scaled step (γ = η, xtrap's default) that fails where η·λmax(x0) ≥ 1.")
        lines.append(text)
    sh = _claim(out, "sharper")
    if sh and sh["holds"] is not None:
        lines.append("- " + _verdict(sh, "Final sharpness of SGD (λmax)", "rose with the batch", "fell with the batch",
                                     "showed no rise with the batch", scale=1.0, unit="", up="rise", down="fall")
                     + f" ({sh['detail']}).")
    elif sh:
        lines.append(f"- Final sharpness of SGD against the batch: undecided ({sh['detail']}).")
    nz = _claim(out, "noise scale")
    start = out["noise_scale"]["start"]["b_noise"]
    lines.append(f"- Noise-scale critical batch size [cited; the values estimated]: B_noise = {_num(start)} at the "
                 "start; "
                 + ("; ".join(f"{_num(v['b_noise'])} at the {v['where']}" for k, v in out["noise_scale"].items()
                              if k != "start")) + ". It changes along training, so the "
                 "prediction is judged on its values at every epoch of those runs. " + ("The noise-scale prediction " + (
                     "held" if nz["holds"] else "did not hold") + f" ({nz['detail']})." if nz["holds"] is not None
                     else nz["detail"][0].upper() + nz["detail"][1:] + "."))
    bc = _claim(out, "critical batch")
    if bc and bc["holds"] is not None:
        lines.append(f"- Critical batch of the catalog (A4.Bcrit, derived; the mean-square filter of SGD linearised "
                     "along the top Hessian direction, B ≥ B_crit = nηs²/(ηs² + a(2 − ηa)(n − 1))): "
                     + ("held" if bc["holds"] else "**did not hold**") + f" at SGD's end points: {bc['detail']}.")
    div = sum(sum(c["diverged"]) for c in out["cells"])
    lines.append(f"- Diverged runs: {div} of {sum(len(c['diverged']) for c in out['cells'])} (counted, never averaged).")
    lines.append(f"- {multiplicity_text(out['claims'])}")
    return lines


def multiplicity_text(claims: Sequence[dict[str, Any]]) -> str:
    """The multiplicity of the report's verdicts in one plain sentence (:func:`.claims.multiplicity`)."""
    m = multiplicity(claims)
    return (f"Multiplicity: this report states {m['claims']} claims and decides {m['judged']}; {m['intervals']} of "
            f"them by a 95% interval, with no correction for multiplicity, so about {m['expected_false']:.2g} false "
            f"verdict(s) per report are to be expected by chance alone ({m['expected_false_all']:.2g} if all "
            f"{m['claims']} were 95% statements): read any single verdict with that in mind.")


def claims_table(claims: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["| claim | holds | detail |", "|---|---|---|"]
    for c in claims:
        h = {True: "yes", False: "**no**", None: "–"}[c["holds"]]
        tag = f" [{c['label']}]" if c.get("label") else ""
        lines.append(f"| {md_cell(c['claim'])}{tag} | {h} | {md_cell(c['detail'])} |")
    return lines


def report_lines(out: dict[str, Any], figures: Sequence[tuple[list[str], str]] = ()) -> list[str]:
    """The whole ``report.md`` (figures given as ``(names, caption)``)."""
    st = out["start"]
    lc = out.get("lanczos_check")
    lines = [f"{MARKER}: test accuracy against batch size ({out['level']})", "",
             f"The paper's headline experiment in miniature: a {out['dim']}-parameter tanh MLP on the digits images "
             f"({out['n_train']} train, {out['n_test']} test), {out['seeds']} seeds per cell, ran on {out['ran_on']}.",
             "", "## Summary", ""] + out["summary"] + [
        "", "Nothing was tuned after looking at the results: every value below was fixed before the first run of the "
            "study, from the sources named. The review of issue 14 changed the analysis, not the runs: sharpness at "
            "every seed (2 a cell before at the quick level, 4 at the full), thresholds of the last step (the peak before; "
            "the same unless the budget ends inside the warm-up), each run against its own seed's starting curvature "
            f"(seed 0's before), B_noise along the runs (at x0 before). {pilot_text(out['level'])}", "",
        "## Protocol", "", "| what | value | source |", "|---|---|---|"]
    lines += [f"| {md_cell(a)} | {md_cell(b)} | {md_cell(c)} |" for a, b, c in out["protocol"]]
    lines += ["", f"No learning-rate cap: A2.NAG at the estimated initial curvature L = {st['L']:.4g} ({st['L_source']}) "
                  f"would cap η at {st['lr_cap']:.4g}; the largest step taken is "
                  f"{max(c['lr_last'] for c in out['cells']):.4g} (warm-up starts it far "
                  "below; each run's own start is held against its threshold in the sharpness table).", "",
              "## Test accuracy against batch size", "",
              "Mean ± the 95% Student-t half-width over the runs that did not diverge (runs used; diverged runs are "
              f"counted, never averaged). At B = {out['batches'][0]} the control {NO_SCALING} is SGD itself.", ""
              ] + accuracy_table(out)
    lines += ["", "Per cell: the step, the horizon, the final training loss, train accuracy and the train − test "
                  "gap (mean ± 95% t half-width).", ""] + detail_table(out)
    lines += ["", "## Sharpness at the end points", "",
              "Training-loss Hessian at the final iterate of "
              + ("every seed" if out['sharpness']['sharpness_seeds'] == out['seeds'] else
                 f"the first {out['sharpness']['sharpness_seeds']} seed(s)")
              + f" of each cell. λmax: Lanczos with {out['sharpness']['lanczos']} iterations (a Ritz value never exceeds "
              "λmax, so it is a lower bound" + (
                  f"; {lc['more_iterations']} iterations at {lc['cell']} gave {lc['more_value']:.5g} against "
                  f"{lc['value']:.5g}, a relative difference of {lc['relative_difference']:.1e}" if lc else "") +
              f"). Trace: Hutchinson with {out['sharpness']['probes']} Rademacher probes, ± its standard error "
              "(the 99% t interval is in the JSON). λ*: the largest curvature the last step (the largest the run "
              "takes) keeps linearly stable. λmax(x0) per seed (Lanczos at each seed's start): "
              + ", ".join(f"{v:.4g}" for v in out["start"]["lambda_max_x0"]) + "; each run's ratio uses its own "
              "seed's (bold: at or above 1). A run did not train when it diverged or ended at a training loss no "
              "lower than its start's.",
              ""] + sharpness_table(out)
    lines += ["", "## Theory beside the measurements", "",
              f"- **Stability filters** [exact on quadratics; the network's Hessian at the end point stands in for one: "
              f"estimated]. Nesterov momentum β is stable on a direction of curvature λ iff 0 < ηλ < 2(1+β)/(1+2β) = "
              f"{st['nag_constant']:.4g} (A2.NAG). EXTRAP-SGD feeds the extrapolated gradient λ(1−γλ)c to the same "
              "rule (A1's effective curvature), so it needs γλ < 1 and ηλ(1−γλ) < 2(1+β)/(1+2β); with γ = η that is "
              "λ < 1/η. Noise injection's mean path is NAG's (A1.NI). Normalized SAM has no threshold in the catalog.",
              "- **Noise scale** [cited: McCandlish et al. 2018; the values estimated]: B_noise = tr Σ/‖∇f‖², the "
              "per-sample gradient variance (exact at the point) over the squared gradient norm. Below it, a larger "
              "batch with a scaled step saves steps almost linearly; above it, hardly: at a fixed epoch budget, batches "
              "beyond B_noise should end at a higher training loss.", ""] + noise_table(out)
    path = out.get("noise_path")
    if path:
        lines += ["", f"Along the runs ({path['where']}): B_noise from {_g(path['low'], 4)} to {_g(path['high'], 4)}."]
    if any("critical" in c for c in out["cells"]):
        k = out["start"]["critical"]
        lines += ["", "- **Critical batch size of the catalog** [derived: A4.Bcrit, docs/theory/A.md, evaluated from the "
                  "verified catalog; the inputs estimated]. Along the top Hessian eigenvector v (the Ritz vector of "
                  "the top Ritz value θ, Lanczos with the iterations and key of λmax), the per-sample curvatures "
                  "h_i = vᵀ∇²f_i(x)v (one JVP of the per-sample gradients), a = mean h, s² = var h: SGD at step η "
                  "linearised there is mean-square stable iff ηa < 2 and B ≥ B_crit = nηs²/(ηs² + a(2 − ηa)(n − 1)) "
                  "(∞ when ηa ≥ 2). Caveats: A4 is exact for plain SGD on a quadratic finite sum; the study's SGD "
                  "has Nesterov momentum (its deterministic edge 1.357/η lies below A4's 2/η), the end points are "
                  "not minima, and a, s are measured at the point. At each seed's start: a = "
                  + ", ".join(_g(v) for v in k["a"]) + ", s = " + ", ".join(_g(v) for v in k["s"]) + ".", ""]
        lines += critical_table(out)
    lines += ["", "## Claims", "", "Differences by Welch's 95% interval; `–`: no prediction or undecided. "
              + multiplicity_text(out["claims"]), ""]
    lines += claims_table(out["claims"])
    for names, caption in figures:
        lines += ["", f"![{names[0]}]({names[0]})", "", caption]
    t = out["timing"]
    lines += ["", "## Cost", "",
              f"Setup {t['setup']:.0f} s, runs {t['runs']:.0f} s (every program compiled once per method and batch "
              f"size, shared by the seeds), sharpness {t['sharpness']:.0f} s (of which the critical batch, A4, "
              f"{t.get('critical_batch', math.nan):.0f} s). Separate runs per batch size, not one "
              "masked sweep: the horizons differ under a fixed epoch budget, and a masked sweep draws the largest "
              "batch at every step of every run.", ""]
    return lines


def pilot_text(level: str) -> str:
    """The pilot run while the study was written (:data:`.protocol.PILOT`), its batch sizes and epochs those of the
    level it ran at, said to be another level's when the report's ``level`` differs.

    >>> "(not this full level's)" in pilot_text("full"), "not this" in pilot_text("quick")
    (True, False)
    """
    cfg, at = LEVELS[PILOT["level"]], PILOT["level"]
    other = "" if level == at else f" (not this {level} level's)"
    return (f"A pilot of {PILOT['method']} alone, {PILOT['seeds']} seeds at the {at} level's batch sizes "
            f"B = {', '.join(map(str, cfg['batches']))} and {cfg['epochs']} epochs{other}, was run while the study was "
            "written, to check that the budget trains at all; nothing was changed after it.")


def write_large_batch_report(out: dict[str, Any], out_dir: Path, svg: bool = False) -> Path:
    """Draw the three figures, fill ``out["summary"]`` and write ``report.md`` in ``out_dir``; returns its path."""
    from .figures import fig_accuracy, fig_curves, fig_sharpness

    figures = [fig_accuracy(out, out_dir, svg), fig_sharpness(out, out_dir, svg), fig_curves(out, out_dir, svg)]
    out["figures"] = [n for names, _ in figures for n in names]
    out.setdefault("summary", summary_lines(out))
    return write_text(Path(out_dir) / "report.md", "\n".join(report_lines(out, figures)))


__all__ = ["MARKER", "accuracy_cell", "accuracy_table", "critical_table", "excluded", "multiplicity_text",
           "pilot_text", "report_lines", "summary_lines", "write_large_batch_report"]
