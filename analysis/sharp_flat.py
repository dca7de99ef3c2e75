"""``xtrap sharp-flat``: which minimum each method picks, beside what the theory predicts.

For each landscape of :func:`analysis.basins.landscapes` and each method of
:data:`analysis.basins.METHODS`, one compiled sweep over step size × batch size × seeds, all started
at the sharp minimum. :func:`sharp_flat` returns the rows (flat fraction with Clopper–Pearson
intervals, final sharpness, the G2 filter, B_crit and the Lyapunov exponent for SGD), the tested
claims (:func:`claims`), a Lanczos cross-check of the sharpness metric, and writes ``report.md``,
``basins.json`` and the figures.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import numpy as np
from tqdm import tqdm

import xtrap
from problems._validate import check_choice

from .basins import METHODS, MOMENTUM, BasinSweep, Landscape, basin_rows, basin_sweep, landscapes
from .sharp_flat_theory import stability_filter
from .summary import json_safe

LEVELS: dict[str, dict[str, Any]] = {
    "quick": {"seeds": 100, "steps": 300,
              "grid": {"two-basin": ([0.05, 0.125, 0.2], [1, 4, 16, 64]), "cosine": ([0.05, 0.15, 0.25], [1, 4, 16, 64])}},
    "full": {"seeds": 300, "steps": 600,
             "grid": {"two-basin": ([0.05, 0.1, 0.125, 0.2], [1, 2, 4, 8, 16, 32, 64]),
                      "cosine": ([0.05, 0.1, 0.15, 0.25], [1, 2, 4, 8, 16, 32, 64])}},
}


def _differs(a: dict[str, Any], b: dict[str, Any]) -> int:
    """+1 / -1 when a's flat fraction is above / below b's with disjoint intervals, else 0."""
    if a["ci_low"] > b["ci_high"]:
        return 1
    if a["ci_high"] < b["ci_low"]:
        return -1
    return 0


def claims(rows: Sequence[dict[str, Any]], g2_rows: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The claims of THEORY.md §G2–§G5 held against the rows, each with what was measured.

    * **G2** (exact, deterministic linear stability): ``g2_rows`` from :func:`g2_deterministic`, passed through.
    * **G3** (SGD, small vs large batch): the flat fraction at the smallest batch against the largest.
    * **G4** (SGD): where the mean-square factor exceeds 1 but :math:`\\Lambda<0`, typical paths stay.
    * **G5** (qualitative): each extrapolated method against SGD at the same step and batch.
    Two fractions "differ" only when their 95% Clopper–Pearson intervals are disjoint.
    """
    out: list[dict[str, Any]] = list(g2_rows)
    by = {(r["problem"], r["method"], r["lr"], r["batch"]): r for r in rows}
    for (prob, meth, lr), group in _groups(rows).items():
        small, large = group[0], group[-1]
        if meth == "SGD" and len(group) > 1:
            d = _differs(small, large)
            out.append(dict(claim="G3", problem=prob, method=meth, lr=lr, batch=f"{small['batch']} vs {large['batch']}",
                            holds=d > 0, detail=f"flat fraction {_ci(small)} at B={small['batch']} vs {_ci(large)} at "
                                                f"B={large['batch']}; B_crit={small['b_crit']:.3g}"))
            for g in group:
                if g["mean_square_factor"] > 1 and g["lyapunov"] + 4 * g["lyapunov_se"] < 0:
                    out.append(dict(claim="G4", problem=prob, method=meth, lr=lr, batch=g["batch"],
                                    holds=g["flat_fraction"] < 0.5,
                                    detail=f"mean-square factor {g['mean_square_factor']:.3g} > 1 but Λ = "
                                           f"{g['lyapunov']:.3g} ± {g['lyapunov_se']:.2g} < 0; flat fraction {_ci(g)}"))
        if meth != "SGD":
            for g in group:
                base = by.get((prob, "SGD", lr, g["batch"]))
                if base is not None:
                    out.append(dict(claim="G5", problem=prob, method=meth, lr=lr, batch=g["batch"],
                                    holds=_differs(g, base) > 0,
                                    detail=f"{_ci(g)} vs SGD {_ci(base)}"))
    return out


def _ci(r: dict[str, Any]) -> str:
    return f"{r['flat_fraction']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"


def _groups(rows: Sequence[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["problem"], r["method"], r["lr"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["batch"]) for k, v in out.items()}


# exact-gradient versions of the methods whose G2 prediction is a convergence statement (normalized SAM never
# converges and noise injection is random by construction: their rows are predictions only)
_EXACT = {
    "SGD": lambda lr: xtrap.sgd(lr=lr, exact=True),
    "SGD+momentum": lambda lr: xtrap.sgd(lr=lr, momentum=MOMENTUM, exact=True),
    "EXTRAP-SGD": lambda lr: xtrap.extragradient(lr=lr),
    "past_extrap": lambda lr: xtrap.past_extrap(lr=lr, exact=True),
}


def g2_deterministic(landscape: Landscape, lrs: Sequence[float], steps: int = 300) -> list[dict[str, Any]]:
    """THEORY.md §G2 as a classification: with exact gradients from the sharp minimum + 1e-3, a run
    converges to it (final distance below 1/100 of the initial one) iff the G2 filter says it is stable."""
    p = landscape.problem
    sharp = np.asarray(p.minima[int(landscape.index("sharp")[0])].x)
    lam = landscape.curvature("sharp")
    d0 = float(np.linalg.norm(landscape.x0 - sharp))
    out = []
    for name, make in _EXACT.items():
        spec = METHODS[name]
        res = xtrap.run(p, make(np.asarray(lrs, float)), steps=steps, seeds=1, x0=landscape.x0, iterates=True,
                        record_every=steps)
        final = np.asarray(res["iterates"])[:, 0, -1, :]
        for lr, x in zip(lrs, final):
            hyper = {k: float(v) for k, v in spec.hyper(float(lr)).items() if k != "batch"}
            f = stability_filter(spec.kind, lam, **hyper)
            dist = float(np.linalg.norm(x - sharp)) if np.all(np.isfinite(x)) else math.inf
            converged = dist < d0 / 100
            out.append(dict(claim="G2", problem=landscape.name, method=name, lr=float(lr), batch="exact",
                            holds=converged == f.stable,
                            detail=f"{f.rule} ({f.theorem}): predicted {'stable' if f.stable else 'unstable'}; "
                                   f"exact-gradient run {'converged' if converged else 'did not converge'} "
                                   f"(|x_T − x_sharp| = {dist:.2g} from {d0:.2g})"))
    return out


def lanczos_crosscheck(sweeps: Sequence[BasinSweep], points: int = 8) -> dict[str, Any]:
    """Top Hessian eigenvalue by Lanczos on HVPs (:mod:`analysis.sharpness`) against the exact Hessian
    at the final iterates of the first ``points`` runs of every sweep; returns the largest relative gap."""
    from .sharpness import top_eigenvalues

    worst, n = 0.0, 0
    for sw in sweeps:
        p = sw.landscape.problem
        xs = sw.trajectory[..., -1, :].reshape(-1, p.dim)
        exact = sw.final_sharpness.reshape(-1)
        for x, lam in list(zip(xs, exact))[:points]:
            if not np.all(np.isfinite(x)):
                continue
            est = float(top_eigenvalues(p.value, x, 1, key=jax.random.key(n))[0])
            worst = max(worst, abs(est - lam) / max(abs(lam), 1.0))
            n += 1
    return {"points": n, "max_relative_gap": worst}


def minima_sharpness(landscape: Landscape, epsilon: float = 0.05, seed: int = 0) -> list[dict[str, Any]]:
    """Every sharpness metric at one sharp and one flat minimum, beside the exact Hessian: λmax (Lanczos on
    HVPs), tr H (Hutchinson, 99% CI), the SLQ estimate of tr H/d, and the ε-sharpness (raw rise on the l2 ball of
    radius ``epsilon``; Keskar's normalised percentage where 1 + f > 0)."""
    from .epsilon_sharpness import epsilon_sharpness
    from .sharpness import hessian_spectral_density, hessian_trace, top_eigenvalues

    p, key = landscape.problem, jax.random.key(seed)
    out = []
    for label in ("sharp", "flat"):
        m = p.minima[int(landscape.index(label)[0])]
        x, w = np.asarray(m.x), np.linalg.eigvalsh(np.asarray(m.hessian))
        tr = hessian_trace(p.value, x, key=key, probes=64)
        f0 = float(p.value(x))
        out.append(dict(problem=landscape.name, minimum=label, value=f0, lambda_max=float(w[-1]),
                        lanczos=float(top_eigenvalues(p.value, x, 1, key=key)[0]), trace=float(w.sum()),
                        hutchinson=tr.estimate, hutchinson_ci=(tr.ci_low, tr.ci_high),
                        slq_mean=hessian_spectral_density(p.value, x, key=key, probes=8).moment(1), epsilon=epsilon,
                        eps_raw=epsilon_sharpness(p.value, x, epsilon, norm="l2", relative=False, key=key),
                        eps_keskar=epsilon_sharpness(p.value, x, epsilon, key=key) if 1 + f0 > 0 else None))
    return out


def _landscape_view(ls: Landscape) -> dict[str, Any]:
    return {"name": ls.name, "why": ls.why, "x0": [float(v) for v in ls.x0], "sharp_curvature": ls.curvature("sharp"),
            "flat_curvature": ls.curvature("flat"), "shift": ls.shift, "barrier": ls.barrier}


def _save_json(out: dict[str, Any], out_dir: str | Path | None) -> None:
    """``basins.json``, written atomically (a partial file after every sweep, ``"complete": false``)."""
    if out_dir is None:
        return
    path = Path(out_dir, "basins.json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(json_safe(out), indent=1))
    os.replace(tmp, path)


def sharp_flat(level: str = "quick", out_dir: str | Path | None = None, *, progress: bool = False,
               svg: bool = False, seed: int = 0, methods: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every basin sweep of ``level``; write the report, figures and ``basins.json`` to ``out_dir`` if given.

    ``basins.json`` is rewritten after every sweep (``"complete": false`` until the end), so an interrupted
    run keeps the rows of the sweeps that finished.

    Returns:
        ``{"level", "basins": rows, "claims", "lanczos", "minima", "landscapes", "seeds", "steps", "complete",
        "seconds", "report"}``; a row has at least ``problem, method, batch, lr, flat_fraction, ci_low, ci_high,
        runs``.

    Raises:
        ParameterError: an unknown level or method.

    >>> out = sharp_flat("quick", methods=["SGD"])  # doctest: +SKIP
    """
    level = check_choice("level", level, tuple(LEVELS))
    names = list(METHODS) if methods is None else list(methods)
    for m in names:
        check_choice("methods", m, tuple(METHODS))
    t0 = time.perf_counter()
    cfg, lands = LEVELS[level], landscapes()
    out: dict[str, Any] = {"level": level, "seeds": cfg["seeds"], "steps": cfg["steps"], "complete": False,
                           "landscapes": [_landscape_view(ls) for ls in lands], "basins": []}
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    jobs = [(ls, name) for ls in lands for name in names]
    sweeps: list[BasinSweep] = []
    for ls, name in tqdm(jobs, desc="sharp-flat sweeps", disable=not progress, leave=False):
        lrs, batches = cfg["grid"][ls.name]
        sweeps.append(basin_sweep(ls, METHODS[name], lrs, batches, seeds=cfg["seeds"], steps=cfg["steps"], seed=seed))
        out["basins"] += basin_rows(sweeps[-1])
        _save_json(out, out_dir)
    g2 = [c for ls in lands for c in g2_deterministic(ls, cfg["grid"][ls.name][0])]
    out.update(claims=claims(out["basins"], g2), lanczos=lanczos_crosscheck(sweeps),
               minima=[r for ls in lands for r in minima_sharpness(ls)])
    if out_dir is not None:
        from .sharp_flat_report import write_sharp_flat_report

        out["report"] = str(write_sharp_flat_report(out, sweeps, out_dir, svg=svg))
    out.update(complete=True, seconds=time.perf_counter() - t0)
    _save_json(out, out_dir)
    return out


__all__ = ["LEVELS", "claims", "g2_deterministic", "lanczos_crosscheck", "minima_sharpness", "sharp_flat"]
