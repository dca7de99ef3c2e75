"""The ``xtrap`` command line: ``run``, ``problems``, ``methods``, ``proofs``, ``verify``, ``sharp-flat``.

Every command has ``--help`` and ``--json``. A bad argument prints one line on stderr and
exits with status 2; nothing prints a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from typing import Any, Sequence



class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one readable line instead of usage + message
        raise CliError(f"{self.prog.removeprefix('xtrap').strip() + ': ' if self.prog != 'xtrap' else ''}{message}")


def _value(text: str) -> Any:
    """Parse a command-line value: int, float, true/false, comma list of numbers, else the string."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if "," in text:
        parts = [_value(p) for p in text.split(",") if p.strip()]
        if all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts):
            return parts
    return text


def _numbers(option: str) -> Any:
    def parse(text: str) -> Any:
        v = _value(text)
        if isinstance(v, bool) or not isinstance(v, (int, float, list)):
            if option == "--extrap-lr" and v == "lr":
                return v
            raise argparse.ArgumentTypeError(f"{option} expects a number or a comma list of numbers, got {text!r}")
        return v
    return parse


def _params(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise CliError(f"--param expects KEY=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip().replace("-", "_")] = _value(v)
    return out


def _build_parser() -> _Parser:
    p = _Parser(prog="xtrap", description="Checkable theory of extrapolated SGD.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run a method on a problem (sweeps: comma lists of values)",
                       description="Run a method on a problem. A comma list (e.g. --lr 0.1,0.2) makes a sweep "
                                   "axis. With --json, 'final' is one object, or a list of objects (one per grid "
                                   "point, with its hyper-parameters) when anything is swept.")
    r.add_argument("--problem", default="quadratic", help="problem name (see `xtrap problems`)")
    r.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="problem parameter")
    r.add_argument("--method", default="extrap_sgd", help="method name (see `xtrap methods`)")
    for opt in ("--lr", "--extrap-lr", "--rho", "--momentum"):
        r.add_argument(opt, type=_numbers(opt), default=None)
    r.add_argument("--nesterov", action="store_true", help="Nesterov momentum (PyTorch form)")
    r.add_argument("--law", default=None, help="noise law for noise_extrap: gaussian, ball, sphere")
    r.add_argument("--same-batch", dest="same_batch", action="store_true", default=None,
                   help="evaluate at the extrapolated point on the extrapolation batch")
    r.add_argument("--fresh-batch", dest="same_batch", action="store_false", help="draw a fresh update batch")
    r.add_argument("--workers", type=_numbers("--workers"), default=None)
    r.add_argument("--batch", type=_numbers("--batch"), default=None)
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--seeds", type=int, default=16)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    r.add_argument("--out", default=None, help="save the full result (.npz) here")
    r.add_argument("--check", metavar="THEOREM", default=None,
                   help="hold the run against this catalog bound (e.g. D1); parameters outside its assumptions "
                        "are refused before anything runs")
    r.add_argument("--quantity", default="avg_grad_norm2",
                   help="what --check compares (avg_grad_norm2, loss_gap, grad_norm2, dist, ...)")
    r.add_argument("--json", action="store_true", help="print one JSON object")

    pr = sub.add_parser("problems", help="list problems with their parameters and defaults")
    pr.add_argument("--json", action="store_true")
    me = sub.add_parser("methods", help="list methods with their options and defaults")
    me.add_argument("--json", action="store_true")

    pf = sub.add_parser("proofs", help="verify the bound catalog (all, or the named theorems/sections)",
                        description="Verify the machine-checked derivations. Exit status 1 if any fails.")
    pf.add_argument("names", nargs="*", help="theorem names or THEORY.md sections (e.g. D1, A2)")
    pf.add_argument("--json", action="store_true", help="print a JSON list")

    v = sub.add_parser("verify", help="verify the proofs and hold runs against every catalog bound; write a report",
                       description="Verify the bound catalog, run every declared check (runs held against bounds, "
                                   "tightness witnesses, thresholds, exact stationary values), fit rate exponents and "
                                   "write DIR/report.md with figures. Exit status 1 if a proof or a check fails.")
    _report_options(v, "fewer seeds and steps (the default; about two minutes on two cores with the sharp-flat study)",
                    "more seeds, steps and problem instances", "xtrap-report", "print one JSON object")
    v.add_argument("--no-sharp-flat", dest="sharp_flat", action="store_false",
                   help="skip the sharp-vs-flat study (by default its quick form is written to DIR/sharp-flat)")

    sf = sub.add_parser("sharp-flat", help="which minimum each method picks vs batch and step size, beside the theory",
                        description="Basin statistics on the two-basin and cosine landscapes (flat fraction with 95% "
                                    "Clopper-Pearson intervals, final sharpness) for SGD, SGD+momentum, EXTRAP-SGD, "
                                    "past_extrap, noise_extrap and SAM, with the stability filters (G2), the critical "
                                    "batch size (A4) and Lyapunov exponents (G4); writes DIR/report.md, basins.json "
                                    "and the figures.")
    _report_options(sf, "100 seeds x 300 steps, 3 step sizes x 4 batch sizes (the default; under 2 minutes on two "
                        "cores)", "300 seeds x 600 steps, 4 step sizes x 7 batch sizes (about 7 minutes on two cores)",
                    "xtrap-sharp-flat", "print one JSON object (with the list 'basins')")
    return p


def _report_options(cmd: argparse.ArgumentParser, quick: str, full: str, out: str, json_help: str) -> None:
    """``--quick | --full``, ``--out DIR``, ``--svg``, ``--json``: the options of the commands that write a report."""
    level = cmd.add_mutually_exclusive_group()
    level.add_argument("--quick", dest="level", action="store_const", const="quick", help=quick)
    level.add_argument("--full", dest="level", action="store_const", const="full", help=full)
    cmd.set_defaults(level="quick")
    cmd.add_argument("--out", default=out, metavar="DIR", help=f"report folder (default: {out})")
    cmd.add_argument("--svg", action="store_true", help="also write the figures as SVG")
    cmd.add_argument("--json", action="store_true", help=json_help)


def _method_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    names = {"lr": args.lr, "extrap_lr": args.extrap_lr, "rho": args.rho, "momentum": args.momentum,
             "workers": args.workers, "batch": args.batch, "law": args.law, "same_batch": args.same_batch}
    kw = {k: v for k, v in names.items() if v is not None}
    if args.nesterov:
        kw["nesterov"] = True
    return kw


def _cmd_run(args: argparse.Namespace) -> int:
    import problems
    import xtrap

    t0 = time.perf_counter()
    problem = problems.make(args.problem, **_params(args.param))
    method = xtrap.make_method(args.method, **_method_kwargs(args))
    bound, bound_params = _bound_for_check(args, problem, method) if args.check else (None, None)
    progress = not args.json and sys.stderr.isatty()
    result = xtrap.run(problem, method, steps=args.steps, seeds=args.seeds, seed=args.seed, dtype=args.dtype,
                       out=args.out, progress=progress)
    from analysis import summarize

    points = summarize(result)
    verdict = None
    if bound is not None:
        from analysis import check

        verdict = check(result, bound, bound_params, quantity=args.quantity, theorem=args.check,
                        problem=problem.name, method=method.name).as_dict()
    payload = {
        "problem": problem.name, "params": _params(args.param), "method": method.name,
        "hyper": result.attrs["hyper"], "config": result.attrs["config"], "constants": problem.constants,
        "steps": args.steps, "seeds": args.seeds, "final": points if result.sweep_dims else points[0],
        "out": args.out, "seconds": time.perf_counter() - t0,
    }
    if verdict is not None:
        payload["check"] = verdict
    if args.json:
        print(json.dumps(payload))
        return 0
    c = problem.constants
    print(f"{problem.name}: L={c['L']:.6g} mu={c['mu']} f*={c['f_star']:.6g} sigma2={c['sigma2']:.6g} "
          f"dim={c['dim']} n={c['n']}")
    print(f"{method.name}: {result.attrs['config']}  steps={args.steps} seeds={args.seeds}")
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
    if verdict is not None:
        print(f"check {args.check} ({args.quantity} {verdict['relation']} bound): {verdict['verdict']}: "
              f"{verdict['detail']}")
    print(f"({payload['seconds']:.1f} s{', saved to ' + args.out if args.out else ''})")
    return 0 if verdict is None or verdict["verdict"] in ("pass", "inconclusive") else 1


def _bound_for_check(args: argparse.Namespace, problem: Any, method: Any) -> tuple[Any, dict[str, float]]:
    """The catalog bound named by ``--check`` and its parameters from the run, assumptions checked first."""
    import numpy as np

    import proofs
    from analysis import Ctx, standard_params

    theorem = proofs.catalog().get(args.check)
    if theorem is None or theorem.bound is None:
        known = [n for n, t in proofs.catalog().items() if t.bound is not None]
        raise CliError(f"--check must name a catalog theorem with a bound ({', '.join(known)}); got {args.check!r}")
    if method.hyper.lr.base.ndim or any(np.ndim(getattr(method.hyper, f)) for f in ("batch", "workers", "rho")):
        raise CliError("--check needs a single grid point: give one value per hyper-parameter")
    ctx = Ctx(problem, method, args.steps, args.seeds, np.asarray(problem.x0, dtype=np.float64))
    known = standard_params(ctx)
    missing = [p for p in theorem.bound.parameters if p not in known]
    if missing:
        raise CliError(f"bound {args.check} needs {', '.join(missing)}, which a run does not determine; "
                       f"use `xtrap verify` or analysis.check")
    params = {p: known[p] for p in theorem.bound.parameters}
    theorem.bound.check(**params)  # raises proofs.AssumptionError naming the violated condition
    return theorem.bound, params


def _print_listing(items: list[dict[str, Any]], field: str, *, as_json: bool) -> int:
    """Print name, description and ``field`` (name -> default) of each item, or the JSON list."""
    if as_json:
        print(json.dumps(items))
        return 0
    width = max(len(it["name"]) for it in items) + 2
    for it in items:
        defaults = " ".join(f"{k}={v}" for k, v in it[field].items())
        print(f"{it['name']:<{width}} {it['description']}\n{'':<{width}} {defaults}")
    return 0


def _cmd_problems(args: argparse.Namespace) -> int:
    import problems

    items = [{"name": n, "description": problems.describe(n), "parameters": problems.parameters(n)}
             for n in problems.names()]
    return _print_listing(items, "parameters", as_json=args.json)


def _cmd_methods(args: argparse.Namespace) -> int:
    import xtrap

    items = []
    for name, ctor in xtrap.METHODS.items():
        sig = inspect.signature(ctor)
        doc = (inspect.getdoc(ctor) or "").splitlines()[0]
        items.append({"name": name, "description": doc,
                      "options": {k: p.default for k, p in sig.parameters.items()}})
    return _print_listing(items, "options", as_json=args.json)


def _cmd_proofs(args: argparse.Namespace) -> int:
    import proofs

    try:
        chosen = proofs.select(args.names)
    except KeyError as err:
        raise CliError(err.args[0]) from None
    bar = None if args.json or not sys.stderr.isatty() else __import__("tqdm").tqdm(total=len(chosen), leave=False)
    rows = []
    for th in chosen:
        rep = proofs.verify(th)
        rows.append({"name": th.name, "section": th.section, "status": rep.status, "seconds": rep.seconds,
                     "title": th.title, "statement": th.statement,
                     "bound": th.bound.statement() if th.bound is not None else None,
                     "failures": [{"step": o.step, "detail": o.detail} for o in rep.failures]})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    failed = [r for r in rows if r["status"] == "failed"]
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['name']:<14} {r['section']:<5} {r['status']:<9} {r['seconds']:6.2f}s  {r['title']}")
            for f in r["failures"]:
                print(f"{'':<14} FAILED step: {f['step']}: {f['detail']}")
        counts = {s: sum(r["status"] == s for r in rows) for s in ("verified", "failed", "cited")}
        print(f"{counts['verified']} verified, {counts['failed']} failed, {counts['cited']} cited "
              f"({sum(r['seconds'] for r in rows):.1f} s)")
    return 1 if failed else 0


def _out_dir(path: str) -> Any:
    """``--out`` as a created folder: fail now, not after minutes of runs."""
    from pathlib import Path

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out must be a folder; {path!r} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"--out: cannot create the folder {path!r} ({err.strerror})") from None
    return out


def _cmd_sharp_flat(args: argparse.Namespace) -> int:
    from analysis import json_safe, sharp_flat

    out = _out_dir(args.out)
    summary = sharp_flat(args.level, out_dir=out, progress=not args.json and sys.stderr.isatty(), svg=args.svg)
    if args.json:
        print(json.dumps(json_safe(summary)))
        return 0
    print(f"{'problem':<10} {'method':<13} {'lr':>6} {'batch':>5} {'flat':>5}  {'95% CI':<13} {'runs':>4}  sharp min (G2)")
    for r in summary["basins"]:
        print(f"{r['problem']:<10} {r['method']:<13} {r['lr']:>6g} {r['batch']:>5} {r['flat_fraction']:>5.2f}  "
              f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  {r['runs']:>4}  {'stable' if r['sharp_stable'] else 'unstable'}")
    held = sum(c["holds"] is True for c in summary["claims"])
    print(f"claims: {held} of {len(summary['claims'])} held; report: {summary['report']} ({summary['seconds']:.0f} s)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    out = _out_dir(args.out)
    from analysis import verify

    progress = not args.json and sys.stderr.isatty()
    summary = verify(args.level, out_dir=str(out), progress=progress, svg=args.svg, sharp_flat=args.sharp_flat)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{'theorem':<13} {'problem':<22} {'method':<13} {'measured':>11} {'bound':>11} {'ratio':>9}  verdict")
        for r in summary["checks"]:
            cells = [f"{'-' if r[k] is None else format(r[k], '.5g'):>{w}}"
                     for k, w in (("measured", 11), ("bound", 11), ("ratio", 9))]
            mark = "" if r["ok"] else f"  <-- expected {r['expected']}"
            wit = " (witness)" if r["witness"] else ""
            print(f"{r['theorem']:<13} {r['problem'][:22]:<22} {r['method'][:13]:<13} {' '.join(cells)}  "
                  f"{r['verdict']}{wit}{mark}")
        for r in summary["rates"]:
            print(f"rate {r['name']}: {r['exponent']:.4f} in [{r['ci_low']:.4f}, {r['ci_high']:.4f}] "
                  f"(proved {r['proved']:g}){'' if r['consistent'] else '  <-- inconsistent'}")
        c = summary["proofs"]
        bad = sum(not r["ok"] for r in summary["checks"])
        print(f"proofs: {c.get('verified', 0)} verified, {c.get('failed', 0)} failed, {c.get('cited', 0)} cited; "
              f"checks: {len(summary['checks'])}, {bad} not as expected; report: {summary.get('report')} "
              f"({summary['seconds']:.0f} s) -> {'PASSED' if summary['passed'] else 'FAILED'}")
    return 0 if summary["passed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xtrap`` console script; returns the exit status."""
    from problems import ParameterError
    from proofs import AssumptionError

    try:
        args = _build_parser().parse_args(argv)
        handler = {"run": _cmd_run, "problems": _cmd_problems, "methods": _cmd_methods,
                   "proofs": _cmd_proofs, "verify": _cmd_verify,
                   "sharp-flat": _cmd_sharp_flat}[args.command]
        return handler(args)
    except (CliError, ParameterError, AssumptionError) as err:
        print(f"xtrap: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("xtrap: interrupted (anything saved with --out is complete up to the last finished chunk)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
