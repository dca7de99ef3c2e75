"""Several methods on one problem at one setting: curves, final values, and differences with a stated test.

Each method runs ``seeds`` times from the same start with the same seed keys (``xtrap.run``); a run that diverges is
counted and left out of every mean, never averaged into NaN. A final difference from the first method is called
``lower`` / ``higher`` when it is more than 4 standard errors from 0 (Welch's standard error of two independent
means), else ``indistinguishable``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

import xtrap
from problems import ParameterError, Problem, check_int

from ..output import write_json, write_text

QUANTITIES = {"loss_gap": "f(x_t) - f*", "grad_norm2": "||grad f(x_t)||^2"}
Z = 4.0  # standard errors for a difference to count


def _methods(methods: Mapping[str, xtrap.Method] | Sequence[xtrap.Method]) -> dict[str, xtrap.Method]:
    named = dict(methods) if isinstance(methods, Mapping) else {m.name: m for m in methods}
    if len(named) < 1 or (not isinstance(methods, Mapping) and len(named) < len(methods)):
        raise ParameterError("methods must be one or more xtrap.Method objects with distinct names (or a dict "
                             f"label -> method); got {[getattr(m, 'name', m) for m in methods]}")
    for label, m in named.items():
        if not isinstance(m, xtrap.Method):
            raise ParameterError(f"methods[{label!r}] must be an xtrap.Method; got {type(m).__name__}")
        axes = tuple(xtrap.hyper.sweep_axes(m.hyper))
        if axes:
            raise ParameterError(f"methods[{label!r}] sweeps {', '.join(axes)}: a comparison runs each method at one "
                                 "setting (give one value; sweep with xtrap.run)")
    return named


def _mean_se(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over axis 0 (NaN where fewer than 2 runs)."""
    n = a.shape[0]
    if n == 0:
        return np.full(a.shape[1:], np.nan), np.full(a.shape[1:], np.nan)
    se = a.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(a.shape[1:], np.nan)
    return a.mean(axis=0), se


def _verdict(diff: float, se: float) -> str:
    if not (math.isfinite(diff) and math.isfinite(se)):
        return "undecided"
    if abs(diff) <= Z * se:
        return "indistinguishable"
    return "lower" if diff < 0 else "higher"


def compare(problem: Problem, methods: Mapping[str, xtrap.Method] | Sequence[xtrap.Method], *, steps: int = 1000,
            seeds: int = 16, seed: int = 0, x0: Any = None, record_every: int | None = None,
            out_dir: str | Path | None = None, svg: bool = False) -> dict[str, Any]:
    """Run every method on ``problem`` and compare them on shared axes.

    .. math:: \\bar q_t=\\frac1R\\sum_{r}q_t^{(r)},\\qquad \\mathrm{SE}_t=\\frac{s_t}{\\sqrt R},\\qquad
              q\\in\\{f(x_t)-f^\\star,\\ \\|\\nabla f(x_t)\\|^2\\}

    over the :math:`R` runs that did not diverge. :math:`f^\\star` is the problem's (its source, exact, given or
    estimated, is reported); with none known the loss itself is compared.

    Args:
        problem: any problem (built-in or a user's).
        methods: a list of :class:`xtrap.Method` (labelled by name) or a dict label -> method; the first is the
            reference of the differences. Each at one setting (no sweep axes).
        steps, seeds, seed, x0, record_every: as in :func:`xtrap.run`, the same for every method.
        out_dir: if given, ``compare.json`` and the figure ``compare.png`` are written there.

    Returns:
        ``{"problem", "f_star", "f_star_source", "steps", "seeds", "quantities", "record_steps", "methods": [{"label", "method",
        "hyper", "runs", "diverged", "curves": {quantity: {"mean", "se"}}, "final": {quantity: {"mean", "se"}},
        "versus_first": {quantity: {"difference", "se", "verdict"}}}], "figure", "seconds"}``.

    Raises:
        ParameterError: no method, a method that sweeps, or bad run settings.

    >>> import problems, xtrap
    >>> out = compare(problems.make("quadratic", dim=4), [xtrap.sgd(lr=0.1, batch=1), xtrap.extrap_sgd(lr=0.1)],
    ...               steps=50, seeds=8)
    >>> [m["label"] for m in out["methods"]], out["methods"][1]["versus_first"]["loss_gap"]["verdict"] in (
    ...     "lower", "higher", "indistinguishable")
    (['sgd', 'extrap_sgd'], True)
    """
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem must be a problems.Problem; got {type(problem).__name__}")
    named = _methods(methods)
    steps, seeds = check_int("steps", steps, lo=1), check_int("seeds", seeds, lo=2)
    t0 = time.perf_counter()
    f_star = float(problem.f_star)
    source = problem.sources.get("f_star", "exact") if math.isfinite(f_star) else "unknown"
    out: dict[str, Any] = {"problem": problem.name, "f_star": f_star if math.isfinite(f_star) else None,
                           "f_star_source": source, "steps": steps, "seeds": seeds, "quantities": dict(QUANTITIES),
                           "methods": []}
    for label, m in named.items():
        r = xtrap.run(problem, m, steps=steps, seeds=seeds, seed=seed, x0=x0, record_every=record_every)
        out["record_steps"] = [int(v) for v in np.asarray(r.coords["record"])]
        ok = ~np.asarray(r["diverged"], dtype=bool).reshape(seeds)
        traces = {"loss_gap": np.asarray(r["loss"]).reshape(seeds, -1) - (f_star if math.isfinite(f_star) else 0.0),
                  "grad_norm2": np.asarray(r["grad_norm2"]).reshape(seeds, -1)}
        row: dict[str, Any] = {"label": label, "method": m.name, "hyper": r.attrs["hyper"], "runs": int(ok.sum()),
                               "diverged": int((~ok).sum()), "curves": {}, "final": {}, "versus_first": {}}
        for q, a in traces.items():
            mean, se = _mean_se(a[ok])
            row["curves"][q] = {"mean": mean.tolist(), "se": se.tolist()}
            row["final"][q] = {"mean": float(mean[-1]), "se": float(se[-1])}
        out["methods"].append(row)
    first = out["methods"][0]["final"]
    for row in out["methods"][1:]:
        for q in QUANTITIES:
            diff = row["final"][q]["mean"] - first[q]["mean"]
            se = math.hypot(row["final"][q]["se"], first[q]["se"])
            row["versus_first"][q] = {"difference": diff, "se": se, "verdict": _verdict(diff, se)}
    out["figure"] = None
    if out_dir is not None:
        from .figure import fig_compare

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        names, caption = fig_compare(out, Path(out_dir), svg=svg)
        out["figure"] = names[0]
        write_text(Path(out_dir, "report.md"), "\n".join(report_lines(out) + ["", f"![{names[0]}]({names[0]})", "",
                                                                            caption, ""]))
    out["seconds"] = time.perf_counter() - t0
    if out_dir is not None:
        write_json(Path(out_dir, "compare.json"), out)
    return out


def _pm(v: dict[str, float]) -> str:
    return f"{v['mean']:.4g} ± {v['se']:.2g}"


def report_lines(out: dict[str, Any]) -> list[str]:
    """``report.md`` of a comparison: the setting, and one row per method (final values ± SE, the verdicts)."""
    star = "f* unknown: the loss itself" if out["f_star"] is None else f"f* = {out['f_star']:.6g} ({out['f_star_source']})"
    lines = [f"# xtrap compare: {out['problem']}", "",
             f"{out['seeds']} seeds × {out['steps']} steps per method, the same start and seed keys; {star}. A "
             f"difference from the first method counts when it exceeds {Z:g} standard errors (Welch); diverged runs "
             "are counted and left out of the means.", "",
             "| method | setting | runs | diverged | final f − f* | final ‖∇f‖² | vs first: f − f* | vs first: ‖∇f‖² |",
             "|---|---|---|---|---|---|---|---|"]
    for row in out["methods"]:
        setting = ", ".join(f"{k}={v:g}" for k, v in row["hyper"].items() if isinstance(v, (int, float)))
        vs = [f"{c['difference']:+.3g} ± {c['se']:.2g}: {c['verdict']}" for c in row["versus_first"].values()] or \
             ["(reference)", "(reference)"]
        lines.append(f"| {row['label']} | {setting} | {row['runs']} | {row['diverged']} | "
                     f"{_pm(row['final']['loss_gap'])} | {_pm(row['final']['grad_norm2'])} | {' | '.join(vs)} |")
    return lines
