"""What ``xtrap run`` and ``xtrap check`` share: the options that say what to run, building the problem and method
they name (built in, or a user's ``MODULE:NAME``), the bound they hold runs against, and per-point rate fits."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from . import _args, _load
from ._args import MAX_INT, MAX_SEED, CliError, Once


def add_run_options(r: Any) -> None:
    """The options that say what to run (shared by ``xtrap run`` and ``xtrap check``)."""
    r.add_argument("--problem", default="quadratic", action=Once,
                   help="problem name (see `xtrap problems`), or a user's MODULE:NAME / FILE.py:NAME (a "
                        "problems.Problem, or a factory called with the --param values)")
    r.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a problem parameter (repeatable; see `xtrap problems` for names, defaults and ranges)")
    r.add_argument("--method", default="extrap_sgd", action=Once,
                   help="method name (see `xtrap methods`), or a user's MODULE:NAME (an xtrap.Method, or a function "
                        "returning one, called with the method options given)")
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
    r.add_argument("--batch-draw", default="batch-mean", choices=("batch-mean", "per-sample"), action=Once,
                   help="additive Gaussian oracles: draw each batch gradient's noise as one N(0, Sigma/b) vector "
                        "(batch-mean, the same law, b times fewer normals) or as b samples averaged (per-sample); "
                        "finite sums always draw their samples")
    r.add_argument("--out", default=None, action=Once, metavar="FILE",
                   help="save the full result (.npz) here, after every chunk (an interrupted run keeps what finished)")
    r.add_argument("--resume", action="store_true", help="continue the interrupted run saved in --out")
    r.add_argument("--force", action="store_true",
                   help="replace an existing --out file, and run past the memory and time pre-flight limits")


def method_kwargs(args: argparse.Namespace) -> dict[str, Any]:
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

        base = np.asarray(kw.get("lr", default_lr(args.method)), dtype=np.float64)
        kw["lr"] = Schedule(base=base, **{k: v for k, v in sched.items() if v is not None})
    return kw


def default_lr(method: str) -> Any:
    import inspect

    import xtrap

    if _load.is_reference(method):
        raise CliError("a schedule (--warmup, --decay-*, --inverse-t0) of a user's --method needs --lr, its base step")
    ctor = xtrap.METHODS.get(method)
    if ctor is None:
        raise CliError(f"--method must be one of {', '.join(xtrap.METHODS)}; got {method!r}")
    return inspect.signature(ctor).parameters["lr"].default


def progress(args: argparse.Namespace) -> Any:
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


def setup(args: argparse.Namespace) -> tuple[Any, Any]:
    """The problem and method that the options name (built-in names, or a user's MODULE:NAME)."""
    import problems
    import xtrap

    params = _args.params(args.param)
    problem = (_load.problem(args.problem, params) if _load.is_reference(args.problem)
               else problems.make(args.problem, **params))
    kwargs = method_kwargs(args)
    method = _load.method(args.method, kwargs) if _load.is_reference(args.method) else xtrap.make_method(args.method,
                                                                                                          **kwargs)
    if args.x0 is not None and len(args.x0) != problem.dim:
        raise CliError(f"--x0 must have {problem.dim} numbers (the problem's dimension); got {len(args.x0)}")
    if args.record_every is not None and args.record_every > args.steps:
        raise CliError(f"--record-every must be in [1, --steps={args.steps}]; got {args.record_every}")
    return problem, method


def bound_of(text: str, option: str = "--bound") -> Any:
    """The bound that ``--bound``/``--check`` names: a catalog theorem, or a user's MODULE:NAME."""
    import proofs

    if _load.is_reference(text):
        return _load.bound(text, option)
    known = [n for n, t in proofs.catalog().items() if t.bound is not None]
    if text not in known:
        raise CliError(f"{option} must name a catalog theorem with a bound ({', '.join(known)}) or a user's "
                       f"MODULE:NAME; got {text!r}")
    return proofs.catalog()[text].bound


def first_point(method: Any) -> Any:
    """The method at the first value of every swept hyper-parameter (its structure is the sweep's)."""
    import numpy as np

    from xtrap.hyper import sweep_axes

    axes = sweep_axes(method.hyper)
    if not axes:
        return method
    updates = {}
    for name in axes:
        if name in ("lr", "extrap_lr"):
            sched = getattr(method.hyper, name)
            import dataclasses

            updates[name] = dataclasses.replace(sched, **{f: np.asarray(getattr(sched, f)).reshape(-1)[0]
                                                          for f in ("base", "warmup", "decay_factor", "decay_every",
                                                                    "inverse_t0")})
        else:
            updates[name] = np.asarray(getattr(method.hyper, name)).reshape(-1)[0].item()
    return method.replace(**updates)


def precheck(bound: Any, problem: Any, method: Any, steps: int, x0: Any, params: dict[str, Any]) -> list[str]:
    """Before running: the bound must cover the runs' structure, and name no symbol the run cannot supply."""
    from analysis.checks import RunInfo, bound_parameters, resolve_scope

    info = RunInfo.of_setup(problem, first_point(method), steps=steps, x0=x0)
    used, notes = resolve_scope(bound, info)
    values, more = bound_parameters(used, info, params)  # a missing symbol: one line naming it
    if not method_is_swept(method):
        used.check(**values)  # the conditions, at the one point there is
    return notes + more


def method_is_swept(method: Any) -> bool:
    from xtrap.hyper import sweep_axes

    return bool(sweep_axes(method.hyper))


def index_of(result: Any, point: dict[str, Any]) -> dict[str, int]:
    import numpy as np

    return {d: int(np.flatnonzero(np.asarray(result.coords[d]) == point[d])[0]) for d in result.sweep_dims}


def fit_rates(result: Any, points: list[dict[str, Any]], quantity: str) -> None:
    """``rate``: the fitted power-law exponent of ``quantity`` in the steps, per grid point."""
    from analysis.checks import fit_rate_in_steps

    for pt in points:
        sub = result.sel(**index_of(result, pt)) if result.sweep_dims else result
        try:
            fit = fit_rate_in_steps(sub, quantity)
            pt["rate"] = {"quantity": quantity, "exponent": fit.exponent, "ci_low": fit.ci_low, "ci_high": fit.ci_high}
        except ValueError as err:
            pt["rate"] = {"quantity": quantity, "error": str(err)}
