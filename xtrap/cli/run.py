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

from . import _args
from ._args import MAX_INT, MAX_SEED, CliError, Once, Terminated
from ._paths import output_file

RATE = 1.3e8  # sample-dimension-steps per second on one core (benchmarks/bench_sweep.py, d = 100): an estimate
LONG = 6 * 3600.0  # refuse estimated runs longer than this without --force


def add_parser(sub: Any) -> None:
    r = sub.add_parser("run", help="run a method on a problem (sweeps: comma lists of values)",
                       description="Run a method on a problem. A comma list (e.g. --lr 0.1,0.2) makes a sweep axis. "
                                   "With --json, 'final' is one object, or a list of objects (one per grid point, "
                                   "with its hyper-parameters) when anything is swept.")
    r.add_argument("--problem", default="quadratic", action=Once, help="problem name (see `xtrap problems`)")
    r.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a problem parameter (repeatable; see `xtrap problems` for names, defaults and ranges)")
    r.add_argument("--method", default="extrap_sgd", action=Once, help="method name (see `xtrap methods`)")
    r.add_argument("--lr", type=_args.real("--lr", lo=0.0, lo_open=True, sweep=True), action=Once,
                   help="update step eta > 0 (the method's default if omitted; comma list: a sweep axis)")
    r.add_argument("--extrap-lr", type=_args.real("--extrap-lr", lo=0.0, sweep=True, tie="lr"), action=Once,
                   help="extrapolation step gamma >= 0 (noise scale for noise_extrap), or 'lr' to tie it to --lr")
    r.add_argument("--rho", type=_args.real("--rho", lo=0.0, sweep=True), action=Once,
                   help="SAM / USAM radius rho >= 0")
    r.add_argument("--momentum", type=_args.real("--momentum", lo=0.0, hi=1.0, hi_open=True, sweep=True), action=Once,
                   help="momentum beta in [0, 1) (heavy ball unless --nesterov)")
    r.add_argument("--nesterov", action="store_true", help="Nesterov momentum (PyTorch form)")
    r.add_argument("--law", choices=("gaussian", "ball", "sphere"), action=Once,
                   help="noise law of noise_extrap")
    batch = r.add_mutually_exclusive_group()
    batch.add_argument("--same-batch", dest="same_batch", action="store_true", default=None,
                       help="evaluate at the extrapolated point on the extrapolation batch")
    batch.add_argument("--fresh-batch", dest="same_batch", action="store_false",
                       help="draw a fresh update batch at the extrapolated point")
    r.add_argument("--exact", action="store_true", help="exact gradients everywhere (deterministic GD, EG, SAM, ...)")
    r.add_argument("--workers", type=_args.integer("--workers", sweep=True), action=Once,
                   help=f"workers K in [1, {MAX_INT}] (comma list: a sweep axis)")
    r.add_argument("--batch", type=_args.integer("--batch", sweep=True), action=Once,
                   help=f"local batch size b in [1, {MAX_INT}] (at most n for a finite sum)")
    r.add_argument("--warmup", type=_args.real("--warmup", lo=0.0), action=Once,
                   help="linear warm-up of the update step over this many steps (0: none)")
    r.add_argument("--decay-factor", type=_args.real("--decay-factor", lo=0.0, hi=1.0, lo_open=True), action=Once,
                   help="step decay: multiply the update step by this factor every --decay-every steps")
    r.add_argument("--decay-every", type=_args.real("--decay-every", lo=0.0, lo_open=True), action=Once,
                   help="steps between decays (with --decay-factor)")
    r.add_argument("--inverse-t0", type=_args.real("--inverse-t0", lo=0.0, lo_open=True), action=Once,
                   help="1/t decay eta_t = lr / (1 + t / t0) (with lr = 1/mu, t0 = 1: eta_t = 1/(mu (t+1)))")
    r.add_argument("--steps", type=_args.integer("--steps"), default=1000, action=Once,
                   help=f"horizon T in [1, {MAX_INT}]")
    r.add_argument("--seeds", type=_args.integer("--seeds"), default=16, action=Once,
                   help=f"independent runs per grid point in [1, {MAX_INT}] (a --check decides from 30 on)")
    r.add_argument("--seed", type=_args.integer("--seed", lo=0, hi=MAX_SEED), default=0, action=Once,
                   help=f"random seed in [0, {MAX_SEED}]")
    r.add_argument("--record-every", type=_args.integer("--record-every"), action=Once,
                   help="record f, ||grad f||^2 and the distance every so many steps (default: about 200 records)")
    r.add_argument("--x0", type=_args.vector("--x0"), action=Once, metavar="X1,X2,...",
                   help="starting point, one number per dimension (default: the problem's x0)")
    r.add_argument("--dtype", default="float64", choices=("float64", "float32"), action=Once,
                   help="floating-point precision of the run")
    r.add_argument("--out", default=None, action=Once, metavar="FILE",
                   help="save the full result (.npz) here, after every chunk (an interrupted run keeps what finished)")
    r.add_argument("--resume", action="store_true", help="continue the interrupted run saved in --out")
    r.add_argument("--force", action="store_true",
                   help="replace an existing --out file, and run past the memory and time pre-flight limits")
    r.add_argument("--check", metavar="THEOREM", default=None, action=Once,
                   help="hold the run against this catalog bound (e.g. D1), at the run's own parameters; runs the "
                        "bound does not cover, and parameters outside its assumptions, are refused before running")
    r.add_argument("--quantity", default=None, action=Once,
                   help="what --check compares; only the bound's own quantity is accepted (default: it)")
    r.add_argument("--json", action="store_true", help="print one strict JSON object")
    r.set_defaults(handler=command)


def _method_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from xtrap.schedules import Schedule

    names = {"lr": args.lr, "extrap_lr": args.extrap_lr, "rho": args.rho, "momentum": args.momentum,
             "workers": args.workers, "batch": args.batch, "law": args.law, "same_batch": args.same_batch}
    kw = {k: v for k, v in names.items() if v is not None}
    if args.nesterov:
        kw["nesterov"] = True
    if args.exact:
        kw["exact"] = True
    sched = {"warmup": args.warmup, "decay_factor": args.decay_factor, "decay_every": args.decay_every,
             "inverse_t0": args.inverse_t0}
    if (args.decay_factor is None) != (args.decay_every is None):
        raise CliError("--decay-factor and --decay-every go together; give both")
    if any(v is not None for v in sched.values()):
        import numpy as np

        base = np.asarray(kw.get("lr", _default_lr(args.method)), dtype=np.float64)
        kw["lr"] = Schedule(base=base, **{k: v for k, v in sched.items() if v is not None})
    return kw


def _default_lr(method: str) -> Any:
    import inspect

    import xtrap

    ctor = xtrap.METHODS.get(method)
    if ctor is None:
        raise CliError(f"--method must be one of {', '.join(xtrap.METHODS)}; got {method!r}")
    return inspect.signature(ctor).parameters["lr"].default


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


def _progress(args: argparse.Namespace) -> Any:
    if args.json and not sys.stderr.isatty():
        return False
    if sys.stderr.isatty():
        return True
    last = [0.0]

    def line(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 5.0 or done == total:
            last[0] = now
            print(f"xtrap run: {done} of {total} runs done", file=sys.stderr, flush=True)
    return line


def command(args: argparse.Namespace) -> int:
    import problems
    import xtrap
    from analysis import check, json_safe, summarize

    t0 = time.perf_counter()
    problem = problems.make(args.problem, **_args.params(args.param))
    method = xtrap.make_method(args.method, **_method_kwargs(args))
    if args.x0 is not None and len(args.x0) != problem.dim:
        raise CliError(f"--x0 must have {problem.dim} numbers (the problem's dimension); got {len(args.x0)}")
    if args.record_every is not None and args.record_every > args.steps:
        raise CliError(f"--record-every must be in [1, --steps={args.steps}]; got {args.record_every}")
    if args.resume and args.out is None:
        raise CliError("--resume needs --out FILE, the interrupted run to continue")
    bound, notes = _bound_for_check(args, problem, method) if args.check else (None, [])
    estimate = _preflight(problem, method, args)
    out = None if args.out is None else str(output_file("--out", args.out, force=args.force, resume=args.resume))
    if estimate and not args.json:
        print(f"xtrap run: {estimate}", file=sys.stderr)
    try:
        result = xtrap.run(problem, method, steps=args.steps, seeds=args.seeds, seed=args.seed, dtype=args.dtype,
                           out=out, progress=_progress(args), resume=args.resume, x0=args.x0,
                           record_every=args.record_every)
    except (KeyboardInterrupt, Terminated) as err:
        raise Interrupted(out, "SIGTERM" if isinstance(err, Terminated) else "SIGINT") from None
    points = summarize(result)
    verdict = None
    if bound is not None:
        verdict = check(result, bound, quantity=args.quantity).as_dict()
    payload = {
        "problem": problem.name, "params": _args.params(args.param), "method": method.name,
        "hyper": result.attrs["hyper"], "config": result.attrs["config"], "constants": problem.constants,
        "steps": args.steps, "seeds": args.seeds, "final": points if result.sweep_dims else points[0],
        "out": out, "seconds": time.perf_counter() - t0,
    }
    if verdict is not None:
        payload["check"] = verdict
    failed = verdict is not None and verdict["verdict"] not in ("pass", "inconclusive", "holds-estimated")
    if args.json:
        print(json.dumps(json_safe(payload), allow_nan=False))
        return 1 if failed else 0
    _print_table(problem, result, points, args)
    for note in notes if verdict is None else []:  # a verdict's detail starts with the same notes
        print(f"note: {note}")
    if verdict is not None:
        print(f"check {verdict['theorem']} ({verdict['quantity']} {verdict['relation']} bound): {verdict['verdict']}: "
              f"{verdict['detail']}")
    print(f"({payload['seconds']:.1f} s{', saved to ' + out if out else ''})")
    return 1 if failed else 0


def _print_table(problem: Any, result: Any, points: list[dict[str, Any]], args: argparse.Namespace) -> None:
    c = problem.constants

    def num(v: Any) -> str:
        return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"
    print(f"{problem.name}: L={num(c['L'])} mu={num(c['mu'])} f*={num(c['f_star'])} sigma2={num(c['sigma2'])} "
          f"dim={c['dim']} n={c['n']}")
    print(f"{result.attrs['method']}: {result.attrs['config']}  steps={args.steps} seeds={args.seeds}")
    header = list(result.sweep_dims) + ["loss f(x_T)", "||grad f(x_T)||^2", "avg ||grad||^2", "diverged"]
    print("  ".join(f"{h:>18}" for h in header))
    for pt in points:
        cells = [f"{pt[d]:>18g}" for d in result.sweep_dims]
        for key in ("loss", "grad_norm2", "avg_grad_norm2"):
            m, se = pt[f"{key}_mean"], pt[f"{key}_se"]
            cells.append(f"{'-':>18}" if m is None else f"{m:>9.4g} ± {se:<6.2g}")
        first = f" (from step {pt['first_diverged_step']})" if pt["diverged"] else ""
        cells.append(f"{pt['diverged']:>13d}/{pt['runs']:<4d}{first}")
        print("  ".join(cells))
        for note in pt.get("notes", []):
            print(f"{'':>18}  note: {note}")


def _bound_for_check(args: argparse.Namespace, problem: Any, method: Any) -> tuple[Any, list[str]]:
    """The bound named by ``--check`` that covers this run, its parameters checked, before anything runs."""
    import proofs
    from analysis.checks import RunInfo, bound_parameters, resolve_scope

    known = [n for n, t in proofs.catalog().items() if t.bound is not None]
    if args.check not in known:
        raise CliError(f"--check must name a catalog theorem with a bound ({', '.join(known)}); got {args.check!r}")
    info = RunInfo.of_setup(problem, method, steps=args.steps, x0=args.x0)
    bound, notes = resolve_scope(args.check, info)
    if args.quantity is not None and args.quantity != bound.scope.measures:
        raise CliError(f"--quantity must be the one bound {bound.name} bounds, {bound.scope.measures!r} "
                       f"({bound.quantity}); got {args.quantity!r}")
    values, more = bound_parameters(bound, info)
    bound.check(**values)  # raises proofs.AssumptionError naming the violated condition and the values
    return proofs.catalog()[args.check].bound, notes + more


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
