"""``xtrap check``: hold runs (a sweep, or one run) against a bound — a catalog theorem or a user's own.

``xtrap check --bound mymodule:MY_BOUND --problem ... --method ... --lr 0.1,0.2`` runs the sweep (the options of
``xtrap run``), then prints one row per grid point (measured ± SE, bound, ratio, verdict), the line "bound
evaluated at ..." with every parameter and where it came from, an optional fitted rate per point
(``--fit-rate``), and with ``--figure FILE.png`` the measured quantity against the bound over the horizon
:math:`T`. The bound's structural scope is checked before anything runs; a point whose parameters break one of
its conditions is a ``refused`` row naming the condition. Exit status 1 if any point fails.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from . import _args, _runs
from ._args import CliError, Once, Terminated
from ._paths import output_file


def add_parser(sub: Any) -> None:
    c = sub.add_parser("check", help="hold a run or a sweep against a bound (a catalog theorem or MODULE:NAME)",
                       description="Run a method on a problem (the options of `xtrap run`) and hold every grid point "
                                   "against a bound: a catalog theorem (e.g. C2) or a user's proofs.Bound named "
                                   "MODULE:NAME or FILE.py:NAME (see proofs.make_bound).")
    c.add_argument("--bound", required=True, action=Once, metavar="THEOREM|MODULE:NAME",
                   help="the bound: a catalog theorem with a bound, or a user's proofs.Bound")
    _runs.add_run_options(c)
    c.add_argument("--bound-param", action="append", default=[], metavar="KEY=VALUE",
                   help="a value for a bound symbol the run does not determine (repeatable)")
    c.add_argument("--fit-rate", choices=("loss", "grad_norm2", "dist"), default=None, action=Once,
                   help="also fit the power-law exponent of this trace in the steps, per grid point")
    c.add_argument("--figure", default=None, action=Once, metavar="FILE.png",
                   help="write the measured quantity and the bound against the horizon T here")
    c.add_argument("--json", action="store_true", help="print one strict JSON object")
    c.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    import xtrap
    from analysis.checks import check_each

    t0 = time.perf_counter()
    problem, method = _runs.setup(args)
    bound = _runs.bound_of(args.bound)
    params = _args.params(args.bound_param)
    notes = _runs.precheck(bound, problem, method, args.steps, args.x0, params)
    figure = None if args.figure is None else output_file("--figure", args.figure, force=args.force)
    if figure is not None and figure.suffix.lower() not in (".png", ".svg"):
        raise CliError(f"--figure must end in .png or .svg; got {args.figure!r}")
    averaged = bound.scope.measures.startswith("avg_")
    record_every = args.record_every or (1 if figure is not None and averaged else None)
    if args.resume and args.out is None:
        raise CliError("--resume needs --out FILE, the interrupted run to continue")
    out = None if args.out is None else str(output_file("--out", args.out, force=args.force, resume=args.resume))
    try:
        result = xtrap.run(problem, method, steps=args.steps, seeds=args.seeds, seed=args.seed, dtype=args.dtype,
                           x0=args.x0, record_every=record_every, progress=_runs.progress(args), out=out,
                           resume=args.resume, batch_draw=args.batch_draw)
    except (KeyboardInterrupt, Terminated) as err:
        from .run import Interrupted

        raise Interrupted(out, "SIGTERM" if isinstance(err, Terminated) else "SIGINT") from None
    checked = check_each(result, bound, params)
    points = [dict(point) for point, _ in checked]
    if args.fit_rate:
        _runs.fit_rates(result, points, args.fit_rate)
    rows = []
    for (point, res), fitted in zip(checked, points):
        row: dict[str, Any] = {"point": point, "check": res.as_dict()}
        if "rate" in fitted:
            row["rate"] = fitted["rate"]
        rows.append(row)
    if figure is not None:
        _figure(result, bound, params, figure)
    failed = any(r["check"]["verdict"] in ("fail", "fails-estimated") for r in rows)
    payload = {"bound": {"name": bound.name, "status": bound.status, "statement": bound.statement()},
               "problem": problem.name, "method": method.name, "constants": problem.constants,
               "sources": problem.sources, "notes": list(problem.notes) + notes, "rows": rows,
               "figure": None if figure is None else str(figure), "seconds": time.perf_counter() - t0}
    if args.json:
        from analysis import json_safe

        print(json.dumps(json_safe(payload), allow_nan=False))
        return 1 if failed else 0
    _print(payload, result.sweep_dims)
    return 1 if failed else 0


def evaluated_at(rows: list[dict[str, Any]], sources: dict[str, str]) -> str:
    """``bound evaluated at Delta=1.2 (estimated f_star), sigma2=1, T=1000`` for the parameters all rows share."""
    checked = [r["check"]["parameters"] for r in rows if r["check"]["parameters"]]
    if not checked:
        return "bound not evaluated (every point refused)"
    common = {k: v for k, v in checked[0].items() if all(p.get(k) == v for p in checked)}
    varying = sorted({k for p in checked for k in p} - set(common))
    rests = {"L": "L", "mu": "mu", "sigma2": "sigma2", "Delta": "f_star", "D0": "minima"}

    def label(k: str, v: float) -> str:
        src = sources.get(rests.get(k, ""), "exact") if k in rests else ""
        tag = "" if src in ("", "exact") else (f" ({src})" if rests[k] == k else f" (from the {src} {rests[k]})")
        return f"{k}={v:.6g}{tag}"
    text = "bound evaluated at " + ", ".join(label(k, v) for k, v in sorted(common.items()))
    return text + (f"; per point: {', '.join(varying)}" if varying else "")


def _print(payload: dict[str, Any], dims: tuple[str, ...]) -> None:
    b = payload["bound"]
    print(f"bound {b['name']} ({b['status']}): {b['statement']}")
    for note in payload["notes"]:
        print(f"note: {note}")
    head = [*dims, "measured ± SE", "bound", "ratio", "verdict"]
    print("  ".join(f"{h:>14}" for h in head))
    for r in payload["rows"]:
        c = r["check"]
        cells = [f"{r['point'][d]:>14g}" for d in dims]
        meas = "-" if c["measured"] is None else (f"{c['measured']:.5g}" + ("" if c["se"] is None else
                                                                             f" ± {c['se']:.2g}"))
        cells += [f"{meas:>14}", f"{'-' if c['bound'] is None else format(c['bound'], '.5g'):>14}",
                  f"{'-' if c['ratio'] is None else format(c['ratio'], '.3g'):>14}", f"{c['verdict']:>14}"]
        print("  ".join(cells))
        if c["verdict"] in ("refused", "fail", "fails-estimated", "holds-estimated", "inconclusive"):
            print(f"{'':>14}  {c['detail']}")
        rate = r.get("rate")
        if rate:
            print(f"{'':>14}  rate of {rate['quantity']}: " + (rate["error"] if "error" in rate else
                  f"t^{rate['exponent']:.3f}, 95% CI [{rate['ci_low']:.3f}, {rate['ci_high']:.3f}]"))
    print(evaluated_at(payload["rows"], payload["sources"]))
    if payload["figure"]:
        print(f"figure: {payload['figure']}")
    print(f"({payload['seconds']:.1f} s)")


def _figure(result: Any, bound: Any, params: dict[str, Any], path: Any) -> None:
    """Measured mean ± 2 SE and the bound against the horizon T, one colour per grid point (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis.checks import horizon_series
    from analysis.output import save_figure
    from problems import ParameterError
    from proofs import AssumptionError

    dims = result.sweep_dims
    shape = tuple(len(result.coords[d]) for d in dims)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for j, idx in enumerate(np.ndindex(*shape) if shape else [()]):
        if j >= 10:
            break
        sub = result.sel(**dict(zip(dims, idx))) if dims else result
        label = ", ".join(f"{d}={result.coords[d][i]:g}" for d, i in zip(dims, idx)) or "run"
        try:
            s = horizon_series(sub, bound, params)
        except (ParameterError, AssumptionError) as err:  # a point the bound refuses: left out, said in the legend
            ax.plot([], [], " ", label=f"{label}: not shown ({' '.join(str(err).split())[:60]})")
            continue
        colour = f"C{j % 10}"
        ax.plot(s.steps, s.mean, color=colour, label=f"{label}: measured")
        ax.fill_between(s.steps, s.mean - 2 * s.se, s.mean + 2 * s.se, color=colour, alpha=0.2, lw=0)
        refused = not np.any(np.isfinite(s.bound))
        ax.plot(s.steps, s.bound, color=colour, ls="--",
                label=f"{label}: bound" + (" refused (a condition fails)" if refused else ""))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T (steps)")
    ax.set_ylabel(bound.scope.measures)
    ax.set_title(f"{bound.name}: measured (mean ± 2 SE) vs bound", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path.parent if str(path.parent) else ".", path.stem, svg=path.suffix.lower() == ".svg")
    plt.close(fig)
