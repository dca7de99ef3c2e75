"""The verification report: ``DIR/report.md`` with a summary table, rate fits and figures.

:func:`write_report` takes the dictionary returned by :func:`analysis.verify` (and the runner that
holds its runs), draws the figures of :mod:`analysis.figures` into the folder and writes the
Markdown: a verdict line, the proof counts, one row per check (theorem, problem, method, quantity,
measured ± SE, bound, ratio, verdict, witness), the rate fits against the proved exponents, the
figures with captions that state seeds and parameters, and the details of anything that failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ._evaluate import Runner


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else ""
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def check_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown rows of the summary table (one per check)."""
    out = ["| # | theorem | problem | method (setting) | T × seeds | quantity | measured ± SE | relation | bound | "
           "ratio | verdict | witness (tol) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        measured = _num(r.get("measured"), 6) + (f" ± {_num(r['se'], 2)}" if r.get("se") else "")
        verdict = r["verdict"] + (" (expected)" if r["verdict"] == r.get("expected") != "pass" else "")
        if not r.get("ok", True):
            verdict = f"**{r['verdict']}** (expected {r.get('expected')})"
        witness = f"yes ({_num(r.get('witness_tol'), 2)})" if r.get("witness") else ""
        problem = r["problem"] + (" from x*" if r.get("start") == "star" else "")
        method = f"{r['method']} ({r['setting']})" if r.get("setting") else r["method"]
        runs = f"{r['steps']} × {r['seeds']}" if r.get("steps") else ""
        out.append("| " + " | ".join(_cell(c) for c in (
            i, r["theorem"], problem, method, runs, r["quantity"], measured, r["relation"],
            _num(r.get("bound"), 6), _num(r.get("ratio"), 4), verdict, witness)) + " |")
    return out


def rate_table(rates: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown rows of the rate-fit table."""
    out = ["| fit | what | exponent | CI | proved | consistent |", "|---|---|---|---|---|---|"]
    for r in rates:
        ci = f"[{_num(r['ci_low'], 5)}, {_num(r['ci_high'], 5)}] ({r['confidence']:.0%})"
        out.append("| " + " | ".join(_cell(c) for c in (
            r["name"], r["what"], _num(r["exponent"], 6), ci, _num(r["proved"]), "yes" if r["consistent"] else
            "**no**")) + " |")
    return out


def figures_for(summary: dict[str, Any], runner: Runner, out_dir: Path, level: str, progress: bool = False,
                svg: bool = False) -> list[tuple[str, list[str], str]]:
    """Draw every figure; returns ``(title, file names, caption)`` per figure."""
    from . import figures
    from .catalog_checks import C, COS, D

    horizon = [next(c for c in D if c.theorem == "D1" and c.problem == COS),
               next(c for c in C if c.theorem == "C2" and c.problem == COS)]
    n_grid = 40 if level == "quick" else 80
    jobs = [
        ("(a) Measured vs bound over the horizon", lambda: figures.fig_horizon(horizon, runner, out_dir, svg)),
        ("(b) Tightness ratios", lambda: figures.fig_tightness(summary["checks"], out_dir, svg)),
        ("(c) Stability maps", lambda: figures.fig_stability(out_dir, n=n_grid, svg=svg)),
        ("(d) Batch-size scaling", lambda: figures.fig_speedup(level, out_dir, svg)),
    ]
    out = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="figures", leave=False)
    for title, job in jobs:
        names, caption = job()
        out.append((title, names, caption))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return out


def write_report(summary: dict[str, Any], out_dir: str | Path, *, runner: Runner, level: str,
                 progress: bool = False, svg: bool = False) -> Path:
    """Write ``out_dir/report.md`` and its figures; returns the path of ``report.md``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = figures_for(summary, runner, out, level, progress, svg)
    rows = summary["checks"]
    bad = [r for r in rows if not r.get("ok", True)]
    counts = summary["proofs"]
    lines = [
        f"# xtrap verify ({level})", "",
        f"**{'PASSED' if summary['passed'] else 'FAILED'}** — {len(rows)} checks, {len(bad)} not as expected; "
        f"proofs: {counts.get('verified', 0)} verified, {counts.get('failed', 0)} failed, "
        f"{counts.get('cited', 0)} cited; {summary.get('runs', 0)} simulation runs.", "",
        "Rules (THEORY.md §4; `analysis.check_samples`): an upper bound passes when the seed mean plus 4 standard "
        "errors is below it, fails when the mean minus 4 SE is above it, and is inconclusive in between (not a "
        "pass); exact values ('==') must agree within 4 SE (stochastic) or to 1e-9 relative (exact gradients). At a "
        "tightness witness the run must equal the witness's exact value (the bound, or the bound less a stated "
        "O(1/T) transient) within 4 SE, and measured/bound must be 1 within the stated tolerance. A threshold "
        "check classifies the problem at 0.999× and 1.001× the catalog threshold by running the exact method "
        "(converged below 1e-6 of the start vs diverged). 'refused': the bound's assumptions exclude the "
        "parameters; the declared refusal must come out refused. T × seeds: steps and independent runs "
        "(seeds 0..n-1 of key 0); 'from x*': chains started at the minimizer.", "",
        "## Checks", "", *check_table(rows), "",
    ]
    notes = [(i, r) for i, r in enumerate(rows, 1) if r.get("note")]
    if notes:
        lines += ["Notes: " + "; ".join(f"#{i} {r['note']}" for i, r in notes) + ".", ""]
    if summary.get("rates"):
        lines += ["## Rates", "", *rate_table(summary["rates"]), ""]
    lines += ["## Figures", ""]
    for title, names, caption in figs:
        lines += [f"### {title}", "", f"![{title}]({names[0]})", "", caption, ""]
    if bad or summary["proofs"].get("failed"):
        lines += ["## Failures", ""]
        lines += [f"- #{rows.index(r) + 1} {r['theorem']} on {r['problem']} ({r['method']}): {r['detail']}"
                  for r in bad]
        lines += [f"- proof {name} failed verification" for name in summary.get("failed_proofs", [])]
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
