"""``xtrap run``: a method on a problem, a sweep from comma lists, optionally held against a catalog bound.

Everything is validated before the first step: the options' ranges, the problem and method, the bound's scope
and conditions (``--check``), the output path, and a pre-flight estimate of memory and time that refuses what
would exceed this machine unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any

from . import _args, _runs
from ._args import CliError, Once, Terminated
from ._paths import output_file

RATE = 1.3e8  # sample-dimension-steps per second on one core (benchmarks/bench_sweep.py, d = 100): an estimate
LONG = 6 * 3600.0  # refuse estimated runs longer than this without --force


def add_parser(sub: Any) -> None:
    r = sub.add_parser("run", help="run a method on a problem (sweeps: comma lists of values)",
                       description="Run a method on a problem. A comma list (e.g. --lr 0.1,0.2) makes a sweep axis. "
                                   "With --json, 'final' is one object, or a list of objects (one per grid point, "
                                   "with its hyper-parameters) when anything is swept.")
    _runs.add_run_options(r)
    r.add_argument("--check", metavar="THEOREM", default=None, action=Once,
                   help="hold the run against this bound: a catalog theorem (e.g. D1) or a user's MODULE:NAME "
                        "(a proofs.Bound), at the run's own parameters; runs the bound does not cover, and "
                        "parameters outside its assumptions, are refused before running")
    r.add_argument("--quantity", default=None, action=Once,
                   help="what --check compares; only the bound's own quantity is accepted (default: it)")
    r.add_argument("--bound-param", action="append", default=[], metavar="KEY=VALUE",
                   help="a value for a bound symbol the run does not determine (repeatable)")
    r.add_argument("--fit-rate", choices=("loss", "grad_norm2", "dist"), default=None, action=Once,
                   help="fit the power-law exponent of this trace in the steps (one per grid point)")
    r.add_argument("--json", action="store_true", help="print one strict JSON object")
    r.set_defaults(handler=command)


def _preflight(problem: Any, method: Any, args: argparse.Namespace) -> str | None:
    """Refuse (unless --force) a run whose records exceed half the memory or whose estimate exceeds LONG."""
    import numpy as np

    from xtrap.hyper import sweep_axes

    h = method.hyper
    grid = int(np.prod([len(v) for v in sweep_axes(h).values()])) if sweep_axes(h) else 1
    runs = grid * args.seeds
    records = min(args.steps, (args.steps // (args.record_every or max(1, args.steps // 200))) + 2)
    nbytes = runs * records * 3 * 8 + runs * 64
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 2**34
    work = float(runs) * args.steps * int(np.max(h.workers)) * (int(np.max(h.batch)) + 2) * problem.dim
    seconds = work / RATE
    if args.force:
        return None
    if nbytes > memory / 2:
        raise CliError(f"the result would take about {nbytes / 2**30:.3g} GiB ({runs} runs x {records} records), more "
                       f"than half of this machine's {memory / 2**30:.3g} GiB; use fewer --seeds, a larger "
                       "--record-every, or --force")
    if seconds > LONG:
        raise CliError(f"estimated time {seconds / 3600:.3g} h ({runs} runs x {args.steps} steps, at about "
                       f"{RATE:.2g} sample-dimension-steps per second); more than {LONG / 3600:g} h: use fewer steps "
                       "or seeds, or --force")
    return f"estimated {seconds:.0f} s for {runs} runs x {args.steps} steps" if seconds > 60 else None


def command(args: argparse.Namespace) -> int:
    import xtrap
    from analysis import json_safe, summarize
    from analysis.checks import check_each

    t0 = time.perf_counter()
    problem, method = _runs.setup(args)
    if args.x0 is not None and len(args.x0) != problem.dim:
        raise CliError(f"--x0 must have {problem.dim} numbers (the problem's dimension); got {len(args.x0)}")
    if args.record_every is not None and args.record_every > args.steps:
        raise CliError(f"--record-every must be in [1, --steps={args.steps}]; got {args.record_every}")
    if args.resume and args.out is None:
        raise CliError("--resume needs --out FILE, the interrupted run to continue")
    bound, notes = _bound_for_check(args, problem, method) if args.check else (None, [])
    bound_params = _args.params(args.bound_param)
    estimate = _preflight(problem, method, args)
    out = None if args.out is None else str(output_file("--out", args.out, force=args.force, resume=args.resume))
    if estimate and not args.json:
        print(f"xtrap run: {estimate}", file=sys.stderr)
    try:
        result = xtrap.run(problem, method, steps=args.steps, seeds=args.seeds, seed=args.seed, dtype=args.dtype,
                           out=out, progress=_runs.progress(args), resume=args.resume, x0=args.x0,
                           record_every=args.record_every, batch_draw=args.batch_draw)
    except (KeyboardInterrupt, Terminated) as err:
        raise Interrupted(out, "SIGTERM" if isinstance(err, Terminated) else "SIGINT") from None
    points = summarize(result)
    checks = [] if bound is None else [res.as_dict() for _, res in check_each(result, bound, bound_params,
                                                                             quantity=args.quantity)]
    for pt, c in zip(points, checks):
        pt["check"] = c
    if args.fit_rate:
        _runs.fit_rates(result, points, args.fit_rate)
    payload = {
        "problem": problem.name, "params": _args.params(args.param), "method": method.name,
        "hyper": result.attrs["hyper"], "config": result.attrs["config"], "constants": problem.constants,
        "sources": problem.sources, "notes": result.attrs.get("notes", []),
        "steps": args.steps, "seeds": args.seeds, "final": points if result.sweep_dims else points[0],
        "batch_draw": result.attrs["batch_draw"], "ran_on": result.attrs["ran_on"],
        "cached": bool(result.attrs.get("cached")), "out": out, "seconds": time.perf_counter() - t0,
    }
    verdict = checks[0] if len(checks) == 1 and not result.sweep_dims else None
    if verdict is not None:
        payload["check"] = verdict
    failed = any(c["verdict"] in ("fail", "fails-estimated") for c in checks)
    if args.json:
        print(json.dumps(json_safe(payload), allow_nan=False))
        return 1 if failed else 0
    _print_table(problem, result, points, args)
    for note in notes if verdict is None else []:  # a verdict's detail starts with the same notes
        print(f"note: {note}")
    for pt, c in zip(points, checks):
        where = ", ".join(f"{d}={pt[d]:g}" for d in result.sweep_dims)
        print(f"check {c['theorem']}{' at ' + where if where else ''} ({c['quantity']} {c['relation']} bound): "
              f"{c['verdict']}: {c['detail']}")
    where = "read from the cache folder, computed earlier" if payload["cached"] else f"on {payload['ran_on']}"
    print(f"({payload['seconds']:.1f} s {where}{', saved to ' + out if out else ''})")
    return 1 if failed else 0


def _print_table(problem: Any, result: Any, points: list[dict[str, Any]], args: argparse.Namespace) -> None:
    c = problem.constants

    def num(v: Any) -> str:
        return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"

    def const(name: str, key: str) -> str:  # every constant says where it comes from unless it is exact
        source = problem.sources.get(key, "exact")
        return f"{name}={num(c[key])}" + ("" if source == "exact" else f" ({source})")
    print(f"{problem.name}: {const('L', 'L')} {const('mu', 'mu')} {const('f*', 'f_star')} {const('sigma2', 'sigma2')} "
          f"dim={c['dim']} n={c['n']}")
    print(f"{result.attrs['method']}: {result.attrs['config']}  steps={args.steps} seeds={args.seeds}")
    extra = list(result.attrs.get("extra_metrics", []))  # the problem's own measures (e.g. test accuracy)
    header = (list(result.sweep_dims) + ["loss f(x_T)", "||grad f(x_T)||^2", "avg ||grad||^2"]
              + [f"{k} (x_T)" for k in extra] + ["diverged"])
    print("  ".join(f"{h:>18}" for h in header))
    for pt in points:
        cells = [f"{pt[d]:>18g}" for d in result.sweep_dims]
        for key in ("loss", "grad_norm2", "avg_grad_norm2", *extra):
            m, se = pt[f"{key}_mean"], pt[f"{key}_se"]
            cells.append(f"{'-':>18}" if m is None else f"{m:>9.4g} ± {se:<6.2g}")
        first = f" (from step {pt['first_diverged_step']})" if pt["diverged"] else ""
        cells.append(f"{pt['diverged']:>13d}/{pt['runs']:<4d}{first}")
        print("  ".join(cells))
        for note in pt.get("notes", []):
            print(f"{'':>18}  note: {note}")
        if pt.get("basins"):
            shares = ", ".join(f"{k} {'-' if v is None else format(v, '.2f')}" for k, v in pt["basins"].items())
            print(f"{'':>18}  basins (fraction of runs): {shares}")
        rate = pt.get("rate")
        if rate:
            print(f"{'':>18}  rate of {rate['quantity']}: " + (rate["error"] if "error" in rate else
                  f"t^{rate['exponent']:.3f}, 95% CI [{rate['ci_low']:.3f}, {rate['ci_high']:.3f}]"))


def _bound_for_check(args: argparse.Namespace, problem: Any, method: Any) -> tuple[Any, list[str]]:
    """The bound named by ``--check`` (catalog or MODULE:NAME), its scope (and, unswept, its conditions) checked
    before anything runs."""
    from analysis.checks import RunInfo, resolve_scope

    from ._runs import bound_of, first_point, precheck

    bound = bound_of(args.check, "--check")
    used, _ = resolve_scope(bound, RunInfo.of_setup(problem, first_point(method), steps=args.steps, x0=args.x0))
    if args.quantity is not None and args.quantity != used.scope.measures:
        raise CliError(f"--quantity must be the one bound {used.name} bounds, {used.scope.measures!r} "
                       f"({used.quantity}); got {args.quantity!r}")
    return bound, precheck(bound, problem, method, args.steps, args.x0, _args.params(args.bound_param))


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during a run: what was saved, and how to continue."""

    def __init__(self, out: str | None, signal: str = "SIGINT") -> None:
        self.signal = signal
        if out is None:
            msg = "interrupted; nothing was saved (give --out FILE to keep finished chunks)"
        else:
            msg = (f"interrupted; the finished chunks are saved in {out} (it loads, with attrs['complete'] = False); "
                   f"continue with the same command and --resume")
        super().__init__(msg)
