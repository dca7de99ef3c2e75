"""``xtrap verify``: the proofs, every declared check, and rate fits, in one call.

:func:`verify` verifies every theorem of :func:`proofs.catalog` (counts by status), evaluates every
:data:`~analysis.verify.catalog.CHECKS` entry on its runs (shared between checks that declare the
same run), fits rate exponents against the proved ones, and optionally writes the report
(``report.md`` and figures) to a folder.

Rates (confidence intervals from :func:`analysis.fit_exponent`):

* the horizon exponent of the deterministic average gradient norm, :math:`\\frac1T\\sum_{t<T}\\|\\nabla f(x_t)\\|^2`,
  for GD (B1) and extragradient (B5) on the nonconvex cosine family — the bounds' :math:`2\\Delta/(\\eta T)` term
  proves :math:`T^{-1}`;
* the batch exponent of the SGD noise floor at fixed :math:`\\eta` (C2/A3: :math:`\\propto\\sigma^2/b`, so
  :math:`b^{-1}`), from chains started at :math:`x^\\star` on the anisotropic quadratic.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

import proofs
from xtrap.results_cache import as_cache, code_identity

from ._builders import m_sgd
from .evaluate import Runner, evaluate, samples
from .spec import LEVELS, CatalogCheck, RunSpec, build
from .catalog import ANISO, B, CHECKS
from ..checks.summary import prefix_average
from ..output import json_safe
from ..output import progress as progress_items

RATE_BATCHES = (1, 2, 4, 8, 16)


def check_row(check: CatalogCheck, result: Any, level: str = "quick") -> dict[str, Any]:
    """One check's JSON row: ``CheckResult.as_dict()`` plus the declaration.

    Added keys: ``witness``, ``witness_tol``, ``expected`` (``pass`` or ``refused``), ``ok`` (verdict equals
    the expectation), ``kind``, ``setting`` (the method builder and its arguments), ``start``, ``steps`` and
    ``seeds`` (at ``level``), ``note``.
    """
    row = dict(result.as_dict())
    steps, seeds = check.run.at(level)
    row.update(witness=check.witness, witness_tol=check.witness_tol, expected=check.expect,
               ok=row["verdict"] == check.expect, kind=check.kind, setting=check.method.label,
               start=check.run.start, steps=steps, seeds=seeds, note=check.note)
    return json_safe(row)


def proof_counts(progress: bool | Callable[[str], None] = False) -> tuple[dict[str, int], list[str], bool]:
    """Verify every catalog theorem: counts by status, the names that failed, and whether the statuses were read
    from the results cache (:func:`proof_statuses`)."""
    counts = {"verified": 0, "failed": 0, "cited": 0}
    failed = []
    statuses, cached = proof_statuses(progress)
    for name, status in statuses.items():
        counts[status] = counts.get(status, 0) + 1
        if status == "failed":
            failed.append(name)
    return counts, failed, cached


def proof_statuses(progress: bool | Callable[[str], None] = False) -> tuple[dict[str, str], bool]:
    """Every catalog theorem's :func:`proofs.verify` status, and whether they were read from the results cache.

    With a process results cache (:func:`xtrap.use_results_cache`, as the command line's cache folder sets), the
    statuses are stored under a key of the ``proofs`` package's sources and the sympy version, so they are read back
    only while neither has changed (the verification is deterministic given both)."""
    store = as_cache(None)
    key = None
    if store is not None:
        ident = code_identity((Path(proofs.__file__).parent,), ("sympy",))
        key = hashlib.sha256("\0".join(("proof statuses", *ident)).encode()).hexdigest()
        stored = store.read_json(key)
        if isinstance(stored, dict) and stored.keys() == proofs.catalog().keys():
            return stored, True
    statuses = {th.name: proofs.verify(th).status
                for th in progress_items(list(proofs.catalog().values()), progress, "proofs")}
    if store is not None and key is not None:
        store.write_json(key, statuses)
    return statuses, False


# ---- rates ---------------------------------------------------------------------------------------------


def _rate_row(name: str, theorem: str, what: str, x: np.ndarray, y: np.ndarray, proved: float) -> dict[str, Any]:
    """Fit :math:`y\\propto x^p` (``y`` per point, or points x seeds for a bootstrap over seeds) at 99%."""
    from ..checks.rates import fit_exponent

    fit = fit_exponent(x, y, confidence=0.99)
    mean = y if y.ndim == 1 else np.mean(y, axis=1)
    return json_safe({"name": name, "theorem": theorem, "what": what, "exponent": fit.exponent, "ci_low": fit.ci_low,
                   "ci_high": fit.ci_high, "confidence": fit.confidence, "n_points": fit.n_points,
                   "proved": proved, "consistent": bool(fit.contains(proved)), "x": list(map(float, x)),
                   "y": list(map(float, mean))})


def rate_fits(runner: Runner) -> list[dict[str, Any]]:
    """The rate fits of the module docstring, on the runner's (cached) runs."""
    rows = []
    for check in [c for c in B if c.theorem in ("B1", "B5")]:
        result, ctx = runner.get(check)
        g2 = np.asarray(result["grad_norm2"], dtype=np.float64).reshape(-1)  # every step recorded
        horizons = np.unique(np.geomspace(ctx.steps / 16, ctx.steps, 9).astype(int))
        y = prefix_average(g2, horizons)
        rows.append(_rate_row(f"{check.theorem} horizon exponent", check.theorem,
                              f"(1/T) sum_t ||grad f(x_t)||^2 vs T, {ctx.method.name} on {check.problem.label}",
                              horizons.astype(float), y, -1.0))
    spec = RunSpec(quick=(600, 400), full=(2_000, 2_000), start="star")
    floor = CatalogCheck("A3.SGD", ANISO, build(m_sgd, lr_L=1.0, batch=RATE_BATCHES), spec,
                         params=lambda ctx: {}, kind="stationary", window=0.5)
    result, ctx = runner.get(floor)
    per_seed = samples(result, ctx.problem, "loss_gap", None, 0.5)  # (batch, seed), time-averaged over [T/2, T]
    rows.append(_rate_row("SGD floor batch exponent", "C2", "stationary E f - f* vs batch b at eta L = 1 (from x*)",
                          np.asarray(RATE_BATCHES, float), per_seed, -1.0))
    return rows


# ---- the whole verification ----------------------------------------------------------------------------


def verify(level: str = "quick", out_dir: str | None = None, progress: bool | Callable[[str], None] = False,
           checks: Sequence[CatalogCheck] | None = None, rates: bool = True, svg: bool = False,
           sharp_flat: bool = False) -> dict[str, Any]:
    """Run the proofs, every check and the rate fits; write the report to ``out_dir`` if given.

    Args:
        level: ``"quick"`` (fewer seeds and steps; a few minutes on two cores) or ``"full"``.
        out_dir: folder for ``report.md`` and the figures (``None``: no report).
        progress: progress bars on stderr (``True``), or a callable given one line per phase step.
        checks: the checks to run (default :data:`~analysis.verify.catalog.CHECKS`).
        rates: also fit the rate exponents.
        svg: also write the figures as SVG.
        sharp_flat: also run the quick sharp-vs-flat study (:func:`analysis.sharp_flat`) into
            ``out_dir/sharp-flat``; the report links to it (needs ``out_dir``).

    Returns:
        ``{"level", "checks": [rows], "proofs": {"verified", "failed", "cited"}, "failed_proofs",
        "rates": [rows], "runs", "runs_cached", "proofs_cached", "seconds", "passed", "report"}`` (``runs_cached``:
        the runs read from the results cache of :func:`xtrap.use_results_cache`, not computed; ``proofs_cached``:
        whether the proofs' statuses were, see :func:`proof_statuses`). A check row is ``CheckResult.as_dict()`` plus
        ``witness``, ``expected`` and ``ok`` (verdict equals the expectation: a declared refusal is
        ok when refused). ``passed`` is true iff no proof failed and every check is ok.

    >>> import analysis
    >>> out = analysis.verify("quick", checks=analysis.CHECKS[:1], rates=False)  # doctest: +SKIP
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    t0 = time.perf_counter()
    counts, failed, proofs_cached = proof_counts(progress)
    runner = Runner(level)
    chosen = [c for c in (CHECKS if checks is None else checks) if level in c.levels]
    rows = [check_row(c, evaluate(c, runner), level) for c in progress_items(chosen, progress, "checks")]
    if rates and callable(progress):
        progress("rate fits")
    rate_rows = rate_fits(runner) if rates else []
    out: dict[str, Any] = {
        "level": level, "checks": rows, "proofs": counts, "failed_proofs": failed, "rates": rate_rows,
        "passed": counts.get("failed", 0) == 0 and all(r["ok"] for r in rows), "runs": runner.runs,
        "runs_cached": runner.cached, "proofs_cached": proofs_cached,
    }
    if out_dir is not None and sharp_flat:
        from ..sharp_flat.study import sharp_flat as run_sharp_flat

        sf = run_sharp_flat("quick", out_dir=f"{out_dir}/sharp-flat", progress=progress, svg=svg)
        out["sharp_flat"] = {"report": "sharp-flat/report.md", "cells": len(sf["basins"]),
                             "claims": {c: [sum(x["holds"] is h for x in sf["claims"] if x["claim"] == c)
                                            for h in (True, False, None)] for c in ("G2", "G3", "G4", "G5")}}
    if out_dir is not None:
        from .report import write_report

        out["report"] = str(write_report(out, out_dir, runner=runner, level=level, progress=progress, svg=svg))
    out["seconds"] = time.perf_counter() - t0
    return out


__all__ = ["check_row", "proof_counts", "proof_statuses", "rate_fits", "verify"]
