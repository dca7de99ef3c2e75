"""``xtrap large-batch``: test accuracy against the global batch size on a real network, beside the theory.

For each method of :data:`~.protocol.METHODS` and each batch size of the level, every seed is one
:func:`xtrap.run` (the seed's own initialization as ``x0``, its own batch draws; the compiled program is shared by the
seeds of a cell): the protocol of :mod:`.protocol` (linear scaling, warm-up, fixed epochs), the test and train
accuracy and the training loss recorded every epoch. At the final iterate of every seed of each cell (or the first
seeds, as the level says), the sharpness of the training loss (:func:`analysis.sharpness.top_eigenvalues`,
:func:`analysis.sharpness.hessian_trace`), held against the stability threshold of the last step
(:func:`.protocol.last_step`, :mod:`.theory`); each seed's own starting curvature :math:`\\lambda_{\\max}(x_0)`
against the same threshold; at every measured end point of SGD and at every seed's start, the catalog's critical batch
:math:`B_{\\rm crit}` (A4, :func:`.theory.critical_batch`: the top Ritz vector, the per-sample curvatures along it,
the last step); :math:`B_{\\rm noise}` at every epoch along SGD's runs at the smallest and the largest
batch (seed 0); the claims of :mod:`.claims`. Separate runs per batch size, not one masked sweep: with a fixed epoch
budget the horizons differ, and a masked sweep draws the largest batch at every step of every run.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import problems
import xtrap
from problems import check_int

from ..output import progress as progress_items
from ..output import write_json
from ..sharpness import hessian_trace, top_eigenvalues
from .claims import claims
from .protocol import METHODS, MOMENTUM, NO_SCALING, PROBLEM, last_step, level_config, lr_rule, protocol_rows
from .protocol import schedule, steps_per_epoch
from .report import summary_lines
from .stats import mean_ci
from .theory import critical_batch, curvature_spread, nag_constant, noise_scale, threshold, top_direction

RECORDED = ("test_accuracy", "train_accuracy", "loss", "test_loss")


@jax.jit
def _noise_terms(p: problems.Problem, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    g = p.grad(x)
    return p.sigma2_at(x), jnp.sum(g * g)


def _b_noise(p: problems.Problem, x: Any) -> dict[str, float]:
    s2, g2 = (float(v) for v in _noise_terms(p, jnp.asarray(x)))
    return {"sigma2": s2, "grad_norm2": g2, "b_noise": noise_scale(s2, g2)}


def _run_cell(p: problems.Problem, starts: list[np.ndarray], label: str, batch: int, cfg: dict[str, Any],
              b_min: int) -> list[dict[str, Any]]:
    """Every seed of one (method, batch) cell; SGD also runs the unscaled control (a second lr on the same program)."""
    spec = METHODS[label]
    spe = steps_per_epoch(batch, p.n)
    steps = cfg["epochs"] * spe
    peaks = [lr_rule(batch)] + ([lr_rule(b_min)] if label == "SGD" else [])
    method = spec.make(schedule(np.asarray(peaks) if len(peaks) > 1 else peaks[0], batch, p.n), batch)
    labels = [label] + ([NO_SCALING] if label == "SGD" else [])
    cells = [{"label": lab, "method": label, "kind": spec.kind, "batch": batch, "lr": lr, "steps": steps,
              "lr_last": last_step(lr, batch, p.n, cfg["epochs"]), "steps_per_epoch": spe,
              "grads_per_step": spec.grads, "epochs": list(range(cfg["epochs"] + 1)), "diverged": [],
              "diverged_step": [], "curves": {k: [] for k in RECORDED}, "final_iterates": []}
             for lab, lr in zip(labels, peaks)]
    for s, x0 in enumerate(starts):
        r = xtrap.run(p, method, steps=steps, seeds=1, seed=s, x0=x0, record_every=spe, averages=False,
                      iterates=True)
        for i, c in enumerate(cells):
            c["ran_on"] = r.attrs["ran_on"]
            sel = (lambda a: np.asarray(a)[i, 0]) if len(cells) > 1 else (lambda a: np.asarray(a)[0])
            c["diverged"].append(bool(sel(r["diverged"])))
            c["diverged_step"].append(int(sel(r["diverged_step"])))
            for k in RECORDED:
                c["curves"][k].append(sel(r[k]).tolist())
            c["final_iterates"].append(sel(r["iterates"])[-1])
            if s == 0 and c["label"] == "SGD":
                c["path"] = sel(r["iterates"])  # seed 0's iterate at every epoch: B_noise along the run
    for c in cells:
        for k in RECORDED:
            c[k] = [curve[-1] for curve in c["curves"][k]]  # NaN for a run that diverged
        loss = np.asarray(c["curves"]["loss"], float)
        bad = np.asarray(c["diverged"]) | ~(loss[:, -1] < loss[:, 0])  # diverged, or no lower than at the start
        c["failed_run"] = bad.tolist()
        c["failed_runs"], c["failed"] = int(bad.sum()), bool(bad.sum() > bad.size / 2)
        c["curve_summary"] = {k: [mean_ci(col) for col in np.asarray(c["curves"][k], float).T] for k in RECORDED}
        c["summary"] = {k: mean_ci(c[k]) for k in RECORDED}
    return cells


def _start_curvatures(p: problems.Problem, starts: list[np.ndarray], iterations: int) -> list[float]:
    """:math:`\\lambda_{\\max}(x_0)` of every seed's own start (Lanczos, ``iterations`` steps, key = the seed; a lower
    bound), on the training loss ``p.value`` (the same for every seed: only the initialization differs)."""
    return [float(top_eigenvalues(p.value, x0, 1, key=jax.random.key(s), iterations=iterations)[0])
            for s, x0 in enumerate(starts)]


def _sharpness(p: problems.Problem, cell: dict[str, Any], cfg: dict[str, Any], lam0: list[float]) -> None:
    """lambda_max and the trace at the final iterates of the measured seeds; the stability threshold of the last step
    (the largest the run takes) and each run's own starting curvature ``lam0[seed]`` over it."""
    cell["lambda_max"], cell["trace"], cell["trace_se"], cell["trace_ci"] = [], [], [], []
    for s in range(cfg["sharpness_seeds"]):
        x = cell["final_iterates"][s]
        if cell["diverged"][s] or not np.all(np.isfinite(x)):
            cell["lambda_max"].append(float("nan"))
            cell["trace"].append(float("nan"))
            cell["trace_se"].append(float("nan"))
            cell["trace_ci"].append([float("nan")] * 2)
            continue
        key = jax.random.key(s)
        cell["lambda_max"].append(float(top_eigenvalues(p.value, x, 1, key=key, iterations=cfg["lanczos"])[0]))
        tr = hessian_trace(p.value, x, key=jax.random.fold_in(key, 1), probes=cfg["probes"])
        cell["trace"].append(tr.estimate)
        cell["trace_se"].append(tr.stderr)
        cell["trace_ci"].append([tr.ci_low, tr.ci_high])
    kind = METHODS[cell["method"]].kind
    th = threshold(kind, lr=cell["lr_last"], momentum=MOMENTUM, extrap_lr=cell["lr_last"])  # gamma_t = eta_t
    ratio = None if th["status"] == "reference" else [lam / th["threshold"] for lam in lam0[:len(cell["diverged"])]]
    cell.update(threshold=th["threshold"], threshold_rule=th["rule"], threshold_theorem=th["theorem"],
                status=th["status"], start_ratio=ratio,
                sharpness_summary={"lambda_max": mean_ci(cell["lambda_max"]), "trace": mean_ci(cell["trace"])})


_NO_SPREAD = {"a": math.nan, "s": math.nan, "ritz_value": math.nan, "ritz_residual": math.nan}


def _spread(p: problems.Problem, x: Any, seed: int, iterations: int) -> dict[str, float]:
    """A4's inputs at ``x``: the top Ritz pair (Lanczos, key = the seed, as for lambda_max) and the per-sample
    curvatures along its vector, summarised by their mean ``a`` and standard deviation ``s``."""
    t = top_direction(p, x, key=jax.random.key(seed), iterations=iterations)
    c = curvature_spread(p, x, t["v"])
    return {"a": c["a"], "s": c["s"], "ritz_value": t["ritz_value"], "ritz_residual": t["residual"]}


def _critical_batches(p: problems.Problem, cells: list[dict[str, Any]], cfg: dict[str, Any],
                      starts: list[np.ndarray]) -> dict[str, list[float]]:
    """A4's critical batch (:func:`.theory.critical_batch`) at every measured end point of SGD (NaN for a diverged
    run) and at every seed's start, both at the last step of the cell (``cell["critical"]``); returns the starts'
    ``a``, ``s``, Ritz values and residuals, in seed order."""
    start = [_spread(p, x0, s, cfg["lanczos"]) for s, x0 in enumerate(starts)]
    for c in cells:
        if c["label"] != "SGD":
            continue
        ends = [_spread(p, x, s, cfg["lanczos"]) if not c["diverged"][s] and np.all(np.isfinite(x)) else _NO_SPREAD
                for s, x in enumerate(c["final_iterates"][:cfg["sharpness_seeds"]])]

        def bc(v: dict[str, float], lr: float = c["lr_last"]) -> float:
            return critical_batch(v["a"], v["s"], p.n, lr) if math.isfinite(v["a"]) else math.nan

        c["critical"] = {**{k: [v[k] for v in ends] for k in _NO_SPREAD}, "b_crit": [bc(v) for v in ends],
                         "b_crit_x0": [bc(v) for v in start[:len(c["diverged"])]]}
    return {k: [v[k] for v in start] for k in _NO_SPREAD}


def _lanczos_check(p: problems.Problem, cells: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The Lanczos value of the largest-batch SGD end point again with 3x the iterations: the error of the level's."""
    c = next((c for c in cells if c["label"] == "SGD" and c["batch"] == cfg["batches"][-1]), None)
    if c is None or not np.isfinite(c["lambda_max"][0]):
        return None
    more = float(top_eigenvalues(p.value, c["final_iterates"][0], 1, key=jax.random.key(0),
                                 iterations=3 * cfg["lanczos"])[0])
    return {"cell": f"SGD B={c['batch']} seed 0", "iterations": cfg["lanczos"], "value": c["lambda_max"][0],
            "more_iterations": 3 * cfg["lanczos"], "more_value": more,
            "relative_difference": abs(more - c["lambda_max"][0]) / abs(more)}


def _noise_path(p: problems.Problem, cells: list[dict[str, Any]], batches: list[int]) -> dict[str, Any]:
    """:math:`B_{\\rm noise}` at every epoch of SGD's seed-0 runs at the smallest and the largest batch (NaN past a
    divergence), and its range over all of them."""
    path: dict[str, Any] = {}
    for b in dict.fromkeys((batches[0], batches[-1])):
        c = next(c for c in cells if c["label"] == "SGD" and c["batch"] == b)
        path[f"SGD B={b}"] = [_b_noise(p, x)["b_noise"] if np.all(np.isfinite(x)) else float("nan")
                              for x in c["path"]]
    values = np.asarray([v for vs in path.values() for v in vs], float)
    values = values[~np.isnan(values)]
    return {"where": "every epoch of SGD's runs of seed 0 at the smallest and the largest batch, x0 included",
            "source": "estimated", "values": path,
            "low": float(values.min()) if values.size else float("nan"),
            "high": float(values.max()) if values.size else float("nan")}


def _view(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell for the JSON: everything but the iterates."""
    return {k: v for k, v in cell.items() if k not in ("final_iterates", "path")}


def large_batch(level: str = "quick", out_dir: str | Path | None = None, *, progress: Any = False,
                svg: bool = False, seeds: int | None = None) -> dict[str, Any]:
    """Run the large-batch study of ``level``; write ``report.md``, the figures and ``large_batch.json`` to
    ``out_dir`` if given.

    .. math:: \\eta(B)=0.1\\,B/256\\ \\text{(5 warm-up epochs)},\\qquad T(B)=E\\lceil n/B\\rceil,\\qquad
              \\text{accuracy}=\\bar a\\pm t_{0.975,R-1}s/\\sqrt R

    over the :math:`R` runs of a cell that did not diverge (:mod:`.protocol`, :mod:`.stats`).

    Args:
        level: ``"quick"`` (4 batch sizes, 30 epochs, 5 seeds, sharpness at every seed; under 5 minutes on 2 CPU
            cores), ``"full"`` (8 batch sizes, 100 epochs, 10 seeds; sized for a GPU) or ``"tiny"`` (the tests').
        out_dir: the report folder (created if needed).
        progress: ``True`` a bar, a callable ``progress(line)`` one line per item, ``False`` nothing.
        svg: also write the figures as SVG.
        seeds: runs per cell (>= 2), overriding the level's.

    Returns:
        ``{"level", "protocol", "batches", "methods", "seeds", "cells", "noise_scale", "noise_path", "start",
        "lanczos_check", "claims", "summary", "seconds", "timing", "report"}`` (``start["lambda_max_x0"]``: one value
        per seed); a cell holds per-run ``test_accuracy``, ``train_accuracy``, ``loss``, ``test_loss``, ``diverged``,
        ``failed_run``, ``start_ratio``, ``lambda_max``, ``trace`` and their summaries, ``lr`` (peak) and
        ``lr_last`` (the last step, whose ``threshold`` it holds); an SGD cell also ``critical``: per measured seed
        ``a``, ``s``, ``ritz_value``, ``ritz_residual``, ``b_crit`` (at the end point) and ``b_crit_x0`` (at the
        seed's start), all at ``lr_last``; ``start["critical"]``: ``a``, ``s``, ... at each seed's start.

    Raises:
        ParameterError: an unknown level, or seeds < 2.

    >>> out = large_batch("tiny")  # doctest: +SKIP
    >>> [(c["label"], c["batch"], c["summary"]["test_accuracy"]["mean"]) for c in out["cells"]]  # doctest: +SKIP
    """
    cfg = level_config(level, seeds)
    t0 = time.perf_counter()
    p = problems.make("digits", seed=0, **PROBLEM)
    starts = [np.asarray(p.x0)] + [np.asarray(problems.make("digits", seed=s, estimate_points=1, **PROBLEM).x0)
                                   for s in range(1, cfg["seeds"])]
    batches = [check_int("batch", b, lo=1, hi=p.n) for b in cfg["batches"]]
    kappa = nag_constant(MOMENTUM)
    out: dict[str, Any] = {
        "level": level, "complete": False, "batches": batches, "methods": list(cfg["methods"]) + [NO_SCALING],
        "seeds": cfg["seeds"], "epochs": cfg["epochs"], "n_train": p.n, "n_test": int(p.test_labels.shape[0]),
        "dim": p.dim, "protocol": [list(r) for r in protocol_rows(cfg, p)], "sharpness": {
            k: cfg[k] for k in ("sharpness_seeds", "lanczos", "probes")},
        "start": {"L": float(p.L), "L_source": p.sources.get("L", "exact"), "sigma2": float(p.sigma2),
                  "nag_constant": kappa, "lr_cap": kappa / float(p.L),
                  "lr_cap_rule": "A2.NAG at the estimated initial curvature L: eta < 2(1+beta)/((1+2beta) L)"},
        "cells": []}
    out["noise_scale"] = {"start": {**_b_noise(p, p.x0), "where": "x0 (seed 0)", "source": "estimated"}}
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    cells: list[dict[str, Any]] = []
    t_runs = time.perf_counter()
    jobs = [(m, b) for m in cfg["methods"] for b in batches]
    for m, b in progress_items(jobs, progress, "large-batch cells"):
        cells += _run_cell(p, starts, m, b, cfg, batches[0])
        out["cells"] = [_view(c) for c in cells]
        if out_dir is not None:
            write_json(Path(out_dir, "large_batch.json"), out)
    t_sharp = time.perf_counter()
    lam0 = _start_curvatures(p, starts, cfg["lanczos"])
    out["start"].update(lambda_max_x0=lam0, lambda_max_x0_source=f"Lanczos ({cfg['lanczos']} iterations) at x0 of "
                                                                  "each seed, in seed order (lower bounds)")
    for c in progress_items(cells, progress, "sharpness at the end points"):
        _sharpness(p, c, cfg, lam0)
    out["lanczos_check"] = _lanczos_check(p, cells, cfg)
    t_crit = time.perf_counter()
    out["start"]["critical"] = {**_critical_batches(p, cells, cfg, starts), "note": (
        "A4.Bcrit at each SGD cell's last step (cells' 'critical'); null in the JSON: NaN (a diverged run) or inf "
        "(eta a >= 2 or a <= 0: unstable at every batch), which a and s tell apart")}
    t_crit = time.perf_counter() - t_crit
    for where, b in (("end of SGD at the smallest batch (seed 0)", batches[0]),
                     ("end of SGD at the largest batch (seed 0)", batches[-1])):
        c = next(c for c in cells if c["label"] == "SGD" and c["batch"] == b)
        if not c["diverged"][0]:
            out["noise_scale"][f"SGD B={b}"] = {**_b_noise(p, c["final_iterates"][0]), "where": where,
                                                "source": "estimated"}
    out["noise_path"] = _noise_path(p, cells, batches)
    out["cells"] = [_view(c) for c in cells]
    b_noise = [v for vs in out["noise_path"]["values"].values() for v in vs]
    out["claims"] = claims(out["cells"], batches, b_noise, list(cfg["methods"]))
    out["summary"] = summary_lines(out)
    out["timing"] = {"setup": t_runs - t0, "runs": t_sharp - t_runs, "sharpness": time.perf_counter() - t_sharp,
                     "critical_batch": t_crit}  # the sharpness time includes the critical batch's
    out["ran_on"] = f"{cells[0]['ran_on']}, {os.cpu_count()} CPU cores"
    if out_dir is not None:
        from .report import write_large_batch_report

        out["report"] = str(write_large_batch_report(out, Path(out_dir), svg=svg))
    out.update(complete=True, seconds=time.perf_counter() - t0)
    if out_dir is not None:
        write_json(Path(out_dir, "large_batch.json"), out)
    return out


__all__ = ["RECORDED", "large_batch"]
