"""``xtrap sharp-flat``: which minimum each method picks, beside what the theory predicts.

For each landscape of :func:`analysis.landscapes` and each method of
:data:`analysis.sharp_flat.basins.METHODS`, one compiled sweep over step size × batch size × seeds, all started
at the sharp minimum. :func:`sharp_flat` returns the rows (flat fraction with Clopper–Pearson
intervals, final sharpness, the G2 filter, B_crit and the Lyapunov exponent for SGD), the tested
claims (:func:`claims`), a Lanczos cross-check of the sharpness metric, and writes ``report.md``,
``basins.json`` and the figures.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import numpy as np

import problems
import xtrap
from problems import check_choice, check_int, check_real

from .basins import EXTRAPOLATED, METHODS, BasinSweep, MethodSpec, basin_rows, basin_sweep, method_spec, theory_omitted
from .landscapes import Landscape, landscape, landscapes
from .overlays import stability_filter
from ..output import progress as progress_items
from ..output import write_json

LEVELS: dict[str, dict[str, Any]] = {
    "quick": {"seeds": 100, "steps": 300,
              "grid": {"two-basin": ([0.05, 0.125, 0.2], [1, 4, 16, 64]), "cosine": ([0.05, 0.15, 0.25], [1, 4, 16, 64])}},
    "full": {"seeds": 300, "steps": 600,
             "grid": {"two-basin": ([0.05, 0.1, 0.125, 0.2], [1, 2, 4, 8, 16, 32, 64]),
                      "cosine": ([0.05, 0.1, 0.15, 0.25], [1, 2, 4, 8, 16, 32, 64])}},
}


EQUAL_DEPTH = ("two-basin",)  # landscapes whose sharp and flat minima have (nearly) equal depth: G5's setting


def _above(lo: float, hi: float, other_lo: float, other_hi: float) -> bool | None:
    """True / False when the first interval lies above / below the second, None when they overlap (or are nan)."""
    if lo > other_hi:
        return True
    if hi < other_lo:
        return False
    return None


def _ci(r: dict[str, Any], key: str = "flat") -> str:
    frac = r["flat_fraction"] if key == "flat" else r["near_fraction"]
    lo, hi = (r["ci_low"], r["ci_high"]) if key == "flat" else (r["near_ci_low"], r["near_ci_high"])
    return f"{frac:.2f} [{lo:.2f}, {hi:.2f}]"


def _groups(rows: Sequence[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["problem"], r["method"], r["lr"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["batch"]) for k, v in out.items()}


def _g3(group: list[dict[str, Any]]) -> dict[str, Any] | None:
    small, large = group[0], group[-1]
    if "b_crit" not in small:  # the theory overlays were left out (row["theory"] says why)
        return None
    b_crit = small["b_crit"]
    applies = len(group) > 1 and small["batch"] < b_crit <= large["batch"]
    found = f"flat fraction {_ci(small)} at B={small['batch']} vs {_ci(large)} at B={large['batch']}"
    why = (f"B_crit = {b_crit:.3g} lies in ({small['batch']}, {large['batch']}]: mean-square unstable at the small "
           "batch, stable at the large one" if applies else
           f"no prediction: B_crit = {b_crit:.3g} is outside ({small['batch']}, {large['batch']}]")
    return dict(claim="G3", problem=small["problem"], method="SGD", lr=small["lr"],
                batch=f"{small['batch']} vs {large['batch']}",
                holds=_above(small["ci_low"], small["ci_high"], large["ci_low"], large["ci_high"]) if applies else None,
                detail=f"{why}; {found}")


def _g4(g: dict[str, Any]) -> dict[str, Any] | None:
    if "lyapunov" not in g:
        return None
    lam, se, ms = g["lyapunov"], g["lyapunov_se"], g["mean_square_factor"]
    if abs(lam) <= 4 * se:  # the sign of the exponent is not resolved: no prediction
        return None
    stay = lam < 0
    if stay:  # staying is tested as staying in the sharp basin: the additive noise spreads runs around the minimum
        measured = _above(0.5, 0.5, g["ci_low"], g["ci_high"])  # True: most runs did not reach a flat basin
        found = f"flat fraction {_ci(g)}"
    else:  # leaving is tested as leaving the minimum's neighbourhood (the basin need not change)
        measured = _above(0.5, 0.5, g["near_ci_low"], g["near_ci_high"])  # True: most runs ended away from it
        found = f"fraction ending within 1/8 of the barrier of the sharp minimum {_ci(g, 'near')}"
    agree = (ms < 1) == stay
    return dict(claim="G4", problem=g["problem"], method="SGD", lr=g["lr"], batch=g["batch"], holds=measured,
                detail=f"Λ = {lam:.3g} ± {se:.2g} predicts typical paths {'stay' if stay else 'leave the minimum'}; "
                       f"mean-square factor {ms:.3g} {'agrees' if agree else 'says the opposite'}; {found}")


def _g5(g: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    how = ("no G2 filter here (the theory is left out: " + g["theory"] + ")" if "sharp_stable" not in g else
           "its G2 filter rejects the sharp minimum" if not g["sharp_stable"] else
           "the sharp minimum is G2-stable for it: noise or smoothing")
    return dict(claim="G5", problem=g["problem"], method=g["method"], lr=g["lr"], batch=g["batch"],
                holds=_above(g["ci_low"], g["ci_high"], base["ci_low"], base["ci_high"]),
                detail=f"{_ci(g)} vs large-batch SGD (B={base['batch']}) {_ci(base)}; {how}")


def claims(rows: Sequence[dict[str, Any]], g2_rows: Sequence[dict[str, Any]] = (),
           equal_depth: Sequence[str] = EQUAL_DEPTH) -> list[dict[str, Any]]:
    """The claims of THEORY.md §G2–§G5 held against the rows; ``holds`` is True, False or None (no prediction,
    or the intervals overlap). Fractions are compared by their 95% Clopper–Pearson intervals.

    * **G2**: ``g2_rows`` from :func:`g2_deterministic` (exact-gradient convergence iff the filter says stable).
    * **G3** (SGD): where :math:`B_{\\rm crit}` lies between the smallest and the largest batch, the flat
      fraction is larger at the smallest batch.
    * **G4** (SGD): where the Lyapunov exponent's sign is resolved (:math:`|\\Lambda|>4` SE), whatever the
      mean-square factor says: :math:`\\Lambda<0`: most runs stay in the sharp basin; :math:`\\Lambda>0`: most runs
      end farther than 1/8 of the barrier from the sharp minimum (they leave it, not necessarily its basin).
    * **G5**: on equal-depth landscapes (named in ``equal_depth``), each extrapolated method
      (:data:`analysis.sharp_flat.basins.EXTRAPOLATED`) ends in the flat basin more often than large-batch SGD
      (largest batch) at the same step.

    G3 and G4 need the theory overlays: rows without them (``row["theory"]`` says why) make no such claim.
    """
    out: list[dict[str, Any]] = list(g2_rows)
    groups = _groups(rows)
    for (prob, meth, lr), group in groups.items():
        if meth == "SGD":
            out += [c for c in [_g3(group), *map(_g4, group)] if c is not None]
        elif meth in EXTRAPOLATED and prob in equal_depth and (prob, "SGD", lr) in groups:
            out += [_g5(g, groups[(prob, "SGD", lr)][-1]) for g in group]
    return out


def g2_deterministic(landscape: Landscape, lrs: Sequence[float], steps: int = 2000,
                     methods: Sequence[MethodSpec] | None = None) -> list[dict[str, Any]]:
    """THEORY.md §G2 as a classification: with exact gradients from the sharp minimum + 1e-3, a run
    converges to it (final distance below 1/100 of the initial one) iff the G2 filter says it is stable.

    ``methods`` (default: :data:`analysis.sharp_flat.basins.METHODS`) that have an ``exact`` form only. A stable
    contraction factor
    :math:`\\rho` reaches 1/100 within ``steps`` when :math:`\\rho^{\\rm steps}<10^{-2}`, i.e. outside about
    0.2% of the threshold for 2000 steps; closer cells may read "did not converge".
    """
    p = landscape.problem
    sharp = np.asarray(landscape.minimum("sharp").x)
    lam = landscape.curvature("sharp")
    d0 = float(np.linalg.norm(landscape.x0 - sharp))
    out = []
    for spec in (METHODS.values() if methods is None else methods):
        if spec.exact is None:
            continue
        res = xtrap.run(p, spec.exact(np.asarray(lrs, float)), steps=steps, seeds=1, x0=landscape.x0, iterates=True,
                        record_every=steps)
        final = np.asarray(res["iterates"])[:, 0, -1, :]
        for lr, x in zip(lrs, final):
            hyper = {k: float(v) for k, v in spec.hyper(float(lr)).items()}
            f = stability_filter(spec.kind, lam, **hyper)
            dist = float(np.linalg.norm(x - sharp)) if np.all(np.isfinite(x)) else math.inf
            converged = dist < d0 / 100
            out.append(dict(claim="G2", problem=landscape.name, method=spec.label, lr=float(lr), batch="exact",
                            holds=converged == f.stable,
                            detail=f"{f.rule} ({f.theorem}): predicted {'stable' if f.stable else 'unstable'}; "
                                   f"exact-gradient run {'converged' if converged else 'did not converge'} "
                                   f"(|x_T − x_sharp| = {dist:.2g} from {d0:.2g}, T = {steps})"))
    return out


def lanczos_crosscheck(sweeps: Sequence[BasinSweep], points: int = 8) -> dict[str, Any]:
    """Top Hessian eigenvalue by Lanczos on HVPs (:mod:`analysis.sharpness`) against the exact Hessian
    at the final iterates of the first ``points`` runs of every sweep; returns the largest relative gap."""
    from ..sharpness.hessian import top_eigenvalues

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
    from ..sharpness.epsilon import epsilon_sharpness
    from ..sharpness.hessian import hessian_spectral_density, hessian_trace, top_eigenvalues

    p, key = landscape.problem, jax.random.key(seed)
    out = []
    for label in ("sharp", "flat"):
        m = landscape.minimum(label)
        x, w = np.asarray(m.x), np.linalg.eigvalsh(np.asarray(m.hessian))
        tr = hessian_trace(p.value, x, key=key, probes=64)
        f0 = float(p.value(x))
        out.append(dict(problem=landscape.name, minimum=label, source=p.sources.get("minima", "exact"), value=f0,
                        lambda_max=float(w[-1]),
                        lanczos=float(top_eigenvalues(p.value, x, 1, key=key)[0]), trace=float(w.sum()),
                        hutchinson=tr.estimate, hutchinson_ci=(tr.ci_low, tr.ci_high),
                        slq_mean=hessian_spectral_density(p.value, x, key=key, probes=8).moment(1), epsilon=epsilon,
                        eps_raw=epsilon_sharpness(p.value, x, epsilon, norm="l2", relative=False, key=key),
                        eps_keskar=epsilon_sharpness(p.value, x, epsilon, key=key) if 1 + f0 > 0 else None))
    return out


def _landscape_view(ls: Landscape) -> dict[str, Any]:
    return {"name": ls.name, "why": ls.why, "x0": [float(v) for v in ls.x0], "sharp_curvature": ls.curvature("sharp"),
            "flat_curvature": ls.curvature("flat"), "shift": ls.shift, "barrier": ls.barrier,
            "minima": ls.problem.sources.get("minima", "exact"), "theory": ls.theory, "equal_depth": ls.equal_depth}


def _landscapes(problem: Any) -> list[Landscape]:
    """The study's landscapes: the two built-in ones, or the one of ``problem``."""
    if problem is None:
        return landscapes()
    if isinstance(problem, Landscape):
        return [problem]
    if isinstance(problem, str):
        return [landscape(problems.make(problem))]
    return [landscape(problem)]


STEP_FRACTIONS = {"quick": (0.6, 0.9, 1.4), "full": (0.5, 0.8, 1.25, 1.6)}  # of 2/λ_sharp, away from 1 (marginal)


def _default_lrs(ls: Landscape, level: str) -> list[float]:
    """Step sizes on both sides of the sharp minimum's G2 threshold for SGD, 2/λ_sharp (:data:`STEP_FRACTIONS` of
    it, none at the marginal 1), each capped at 0.9 × 2/λ_flat (the flat minimum stays stable), 3 digits."""
    t_sharp, t_flat = 2 / ls.curvature("sharp"), 2 / ls.curvature("flat")
    return sorted({float(f"{min(c * t_sharp, 0.9 * t_flat):.3g}") for c in STEP_FRACTIONS[level]})


def _grid(ls: Landscape, level: str, lrs: Any, batches: Any, built_in: bool) -> tuple[list[float], list[int], str]:
    """The step sizes and batch sizes of one landscape's sweeps, and where they came from."""
    cfg = LEVELS[level]["grid"]
    how = []
    if lrs is None:
        lrs = cfg[ls.name][0] if built_in else _default_lrs(ls, level)
        how.append("step sizes: the level's" if built_in else "step sizes: " + ", ".join(
            f"{c:g}" for c in STEP_FRACTIONS[level]) + " x 2/lambda_sharp (each below 0.9 x 2/lambda_flat)")
    else:
        lrs = [check_real("lrs", v, lo=0.0, lo_open=True) for v in np.atleast_1d(np.asarray(lrs, float)).tolist()]
        how.append("step sizes: given")
    n = ls.problem.n
    if batches is None:
        batches = [b for b in (cfg[ls.name][1] if built_in else cfg["two-basin"][1]) if n is None or b <= n]
        how.append("batch sizes: the level's" + ("" if built_in or n is None else f" up to n={n}"))
    else:
        batches = [check_int("batches", v, lo=1, hi=n) for v in np.atleast_1d(np.asarray(batches)).tolist()]
        how.append("batch sizes: given")
    return lrs, batches, ", ".join(how)


def _save_json(out: dict[str, Any], out_dir: str | Path | None) -> None:
    """``basins.json``, written atomically (a partial file after every sweep, ``"complete": false``)."""
    if out_dir is not None:
        write_json(Path(out_dir, "basins.json"), out)


def sharp_flat(level: str = "quick", out_dir: str | Path | None = None, *, progress: Any = False,
               svg: bool = False, seed: int = 0, methods: Sequence[Any] | None = None, problem: Any = None,
               lrs: Sequence[float] | None = None, batches: Sequence[int] | None = None, seeds: int | None = None,
               steps: int | None = None) -> dict[str, Any]:
    """Run every basin sweep of ``level``; write the report, figures and ``basins.json`` to ``out_dir`` if given.

    ``basins.json`` is rewritten after every sweep (``"complete": false`` until the end), so an interrupted
    run keeps the rows of the sweeps that finished.

    Args:
        level: ``"quick"`` or ``"full"``: the seeds, steps and (for the built-in landscapes) grid.
        methods: names of :data:`~analysis.sharp_flat.basins.METHODS` (default: all), or a user's
            :class:`xtrap.Method` objects (swept over the same grid, without theory overlays).
        problem: ``None`` (the two built-in landscapes), a family name, a :class:`problems.Problem` with minima
            labelled sharp and flat (``problems.make("two-basin", sharp_curvature=30)``, a user's problem) or a
            :class:`~analysis.sharp_flat.landscapes.Landscape`.
        lrs, batches: the grid (default: the level's for the built-in landscapes; otherwise the
            :data:`STEP_FRACTIONS` of 2/λ_sharp and the level's batch sizes up to ``n``).
        seeds, steps: override the level's.

    Returns:
        ``{"level", "basins": rows, "claims", "lanczos", "minima", "landscapes", "seeds", "steps", "grid",
        "omitted", "complete", "seconds", "report"}``; a row has at least ``problem, method, batch, lr,
        flat_fraction, ci_low, ci_high, runs, theory``; ``omitted`` lists the theory left out and why.

    Raises:
        ParameterError: an unknown level or method, a problem without sharp and flat minima, a bad grid.

    >>> import problems
    >>> out = sharp_flat(problem=problems.make("two-basin", sharp_curvature=30), methods=["SGD", "EXTRAP-SGD"],
    ...                  lrs=[0.05, 0.1], batches=[1, 64], seeds=50, steps=200)  # doctest: +SKIP
    """
    level = check_choice("level", level, tuple(LEVELS))
    specs = [method_spec(m) for m in (list(METHODS) if methods is None else
                                      [methods] if isinstance(methods, (str, xtrap.Method)) else list(methods))]
    if not specs or len({m.label for m in specs}) < len(specs):
        raise problems.ParameterError(f"methods must be one or more distinct methods; got labels "
                                      f"{[m.label for m in specs]}")
    t0 = time.perf_counter()
    cfg, lands = LEVELS[level], _landscapes(problem)
    seeds = cfg["seeds"] if seeds is None else check_int("seeds", seeds, lo=1)
    steps = cfg["steps"] if steps is None else check_int("steps", steps, lo=1)
    grids = {ls.name: _grid(ls, level, lrs, batches, problem is None) for ls in lands}
    omitted = list(dict.fromkeys([f"{ls.name}: {ls.theory}" for ls in lands if ls.theory is not None]
                                 + [theory_omitted(ls, m) for ls in lands if ls.theory is None for m in specs
                                    if m.kind is None]))
    out: dict[str, Any] = {"level": level, "seeds": seeds, "steps": steps, "complete": False,
                           "landscapes": [_landscape_view(ls) for ls in lands], "basins": [], "omitted": omitted,
                           "grid": {k: {"lrs": g[0], "batches": g[1], "source": g[2]} for k, g in grids.items()}}
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    for ls in lands:  # every method must sweep exactly lr x batch: checked before any sweep runs
        for spec in specs:
            axes = tuple(xtrap.hyper.sweep_axes(spec.make(np.asarray(grids[ls.name][0], float),
                                                          np.asarray(grids[ls.name][1], int)).hyper))
            if axes != ("lr", "batch"):
                raise problems.ParameterError(
                    f"method {spec.label!r}: a basin sweep runs over exactly lr x batch, but it sweeps "
                    f"{', '.join(axes) or 'nothing'}; give its other hyper-parameters one value each")
    jobs = [(ls, spec) for ls in lands for spec in specs]
    sweeps: list[BasinSweep] = []
    for ls, spec in progress_items(jobs, progress, "sharp-flat sweeps"):
        grid_lrs, grid_batches, _ = grids[ls.name]
        sweeps.append(basin_sweep(ls, spec, grid_lrs, grid_batches, seeds=seeds, steps=steps, seed=seed))
        out["basins"] += basin_rows(sweeps[-1])
        _save_json(out, out_dir)
    g2 = [c for ls in lands if ls.theory is None for c in g2_deterministic(ls, grids[ls.name][0], methods=specs)]
    out.update(claims=claims(out["basins"], g2, [ls.name for ls in lands if ls.equal_depth]),
               lanczos=lanczos_crosscheck(sweeps), minima=[r for ls in lands for r in minima_sharpness(ls)])
    if out_dir is not None:
        from .report import write_sharp_flat_report

        out["report"] = str(write_sharp_flat_report(out, sweeps, out_dir, svg=svg))
    out.update(complete=True, seconds=time.perf_counter() - t0)
    _save_json(out, out_dir)
    return out


__all__ = ["LEVELS", "claims", "g2_deterministic", "lanczos_crosscheck", "minima_sharpness", "sharp_flat"]
