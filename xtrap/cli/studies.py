"""``xtrap verify`` and ``xtrap sharp-flat``: the two studies, each writing a report folder."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._paths import output_folder

VERIFY_FILES = ("report.md", "sharp-flat") + tuple(f"{s}.{e}" for s in ("horizon", "tightness", "stability",
                                                                          "speedup") for e in ("png", "svg"))
SHARP_FLAT_FILES = ("report.md", "basins.json") + tuple(
    f"sharp_flat_{s}.{e}" for s in ("landscape", "fraction", "final_sharpness", "sharpness_trace", "generalization")
    for e in ("png", "svg"))


def add_parsers(sub: Any) -> None:
    v = sub.add_parser("verify", help="verify the proofs and hold runs against every catalog bound; write a report",
                       description="Verify the bound catalog, run every declared check (runs held against bounds, "
                                   "tightness witnesses, thresholds, exact stationary values), fit rate exponents and "
                                   "write DIR/report.md with figures. Exit status 1 if a proof or a check fails.")
    _report_options(v, ("fewer seeds and steps (measured 155 s on 2 cores, cold, 29 s with a warm cache, with "
                     "the sharp-flat study)"),
                    "more seeds, steps and problem instances", "xtrap-report", "print one strict JSON object")
    v.add_argument("--no-sharp-flat", dest="sharp_flat", action="store_false",
                   help="skip the sharp-vs-flat study (by default its quick form is written to DIR/sharp-flat)")
    v.set_defaults(handler=verify_command)
    sf = sub.add_parser("sharp-flat", help="which minimum each method picks vs batch and step size, beside the theory",
                        description="Basin statistics (flat fraction with 95% Clopper-Pearson intervals, final "
                                    "sharpness) on the two-basin and cosine landscapes, or on any problem with minima "
                                    "labelled sharp and flat (--problem, a user's too), for SGD, SGD+momentum, "
                                    "EXTRAP-SGD, past_extrap, noise_extrap and SAM (or --methods, a user's too), with "
                                    "the stability filters (G2), the critical batch size (A4) and Lyapunov exponents "
                                    "(G4) where the theory applies (not on estimated minima: the report says why); "
                                    "writes DIR/report.md, basins.json and the figures.")
    _report_options(sf, "100 seeds x 300 steps, 3 step sizes x 4 batch sizes (measured 220 s on 2 idle cores, cold)",
                    "300 seeds x 600 steps, 4 step sizes x 7 batch sizes (6.5 minutes on 2 cores, an earlier version)",
                    "xtrap-sharp-flat", "print one strict JSON object (with the list 'basins')")
    _sharp_flat_options(sf)
    sf.set_defaults(handler=sharp_flat_command)


def _sharp_flat_options(sf: argparse.ArgumentParser) -> None:
    """What to run in ``xtrap sharp-flat``: the landscape, the methods and the grid."""
    from ._args import MAX_INT, MAX_SEED, Once, integer, real

    sf.add_argument("--problem", action=Once, help="one landscape instead of the two built-in ones: a problem name "
                    "(see `xtrap problems`) or a user's MODULE:NAME / FILE.py:NAME, with minima labelled sharp and flat")
    sf.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a parameter of --problem (repeatable)")
    sf.add_argument("--methods", action=Once, metavar="M1,M2,...",
                    help="comma list of study methods (SGD, SGD+momentum, EXTRAP-SGD, past_extrap, noise_extrap, SAM) "
                         "and user methods MODULE:NAME (an xtrap.Method, or a function of lr and batch returning one)")
    sf.add_argument("--lr", type=real("--lr", lo=0.0, lo_open=True, sweep=True), action=Once,
                    help="step sizes (comma list; default: the level's, or 0.6, 0.9, 1.4 x 2/lambda_sharp)")
    sf.add_argument("--batch", type=integer("--batch", sweep=True), action=Once,
                    help=f"batch sizes in [1, {MAX_INT}] (comma list; at most n for a finite sum)")
    sf.add_argument("--seeds", type=integer("--seeds"), action=Once, help="runs per cell (default: the level's)")
    sf.add_argument("--steps", type=integer("--steps"), action=Once, help="steps per run (default: the level's)")
    sf.add_argument("--seed", type=integer("--seed", lo=0, hi=MAX_SEED), default=0, action=Once,
                    help=f"random seed in [0, {MAX_SEED}]")


def _study_method(text: str) -> Any:
    """One entry of ``--methods``: a study method's name, or a user's method swept as ``(lr, batch)``."""
    from analysis.sharp_flat import METHODS, MethodSpec

    from . import _load
    from ._args import CliError

    if not _load.is_reference(text):
        if text not in METHODS:
            raise CliError(f"--methods must name study methods ({', '.join(METHODS)}) or MODULE:NAME; got {text!r}")
        return text
    import numpy as np

    import xtrap

    spec = MethodSpec(text.rpartition(":")[2], None,
                      lambda lr, b: _load.method(text, {"lr": lr, "batch": b}, "--methods"))
    trial = spec.make(np.array([0.01]), np.array([1]))  # built now (lr and batch are the grid's arrays): a missing
    axes = tuple(xtrap.hyper.sweep_axes(trial.hyper))  # file, a failing factory or a wrong object is one line
    if axes != ("lr", "batch"):
        raise CliError(f"--methods {text} must sweep exactly lr x batch when given arrays of them; it sweeps "
                       f"{', '.join(axes) or 'nothing'} (give its other hyper-parameters one value each)")
    return spec


def _sharp_flat_setup(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`analysis.sharp_flat` that the options give."""
    import problems

    from . import _args, _load
    from ._args import CliError

    out: dict[str, Any] = {"seed": args.seed}
    params = _args.params(args.param)
    if args.problem is None:
        if params:
            raise CliError("--param needs --problem (the built-in landscapes take no parameters)")
    else:
        from analysis.sharp_flat import landscape

        out["problem"] = landscape(_load.problem(args.problem, params) if _load.is_reference(args.problem)
                                   else problems.make(args.problem, **params))  # sharp and flat minima, or one line
    if args.methods is not None:
        names = [t.strip() for t in args.methods.split(",") if t.strip()]
        labels = [t.rpartition(":")[2] for t in names]
        if not names or len(set(labels)) < len(labels):
            raise CliError(f"--methods must list distinct methods (a user's is labelled by its NAME); got "
                           f"{args.methods!r}")
        out["methods"] = [_study_method(t) for t in names]
    if args.batch is not None:
        from analysis.sharp_flat import landscapes

        sizes = [ls.problem.n for ls in ([out["problem"]] if "problem" in out else landscapes()) if ls.problem.n]
        n = min(sizes) if sizes else None  # the smallest finite sum among the landscapes the study will run
        if n is not None and max(args.batch if isinstance(args.batch, list) else [args.batch]) > n:
            raise CliError(f"--batch must be in [1, n={n}] for this finite sum; got {args.batch}")
    for key, value in (("lrs", args.lr), ("batches", args.batch), ("seeds", args.seeds), ("steps", args.steps)):
        if value is not None:
            out[key] = value
    return out


def _report_options(cmd: argparse.ArgumentParser, quick: str, full: str, out: str, json_help: str) -> None:
    """``--quick | --full``, ``--out DIR``, ``--svg``, ``--json``, ``--force``: the options of report commands."""
    from ._args import Once

    level = cmd.add_mutually_exclusive_group()
    level.add_argument("--quick", dest="level", action="store_const", const="quick", help=quick + " (the default)")
    level.add_argument("--full", dest="level", action="store_const", const="full", help=full)
    cmd.set_defaults(level="quick")
    cmd.add_argument("--out", default=out, metavar="DIR", action=Once,
                     help="report folder: new, empty, or one an earlier study wrote (its files are replaced)")
    cmd.add_argument("--force", action="store_true", help="write into a non-empty folder that xtrap did not write")
    cmd.add_argument("--svg", action="store_true", help="also write the figures as SVG")
    cmd.add_argument("--json", action="store_true", help=json_help)


def _progress(as_json: bool) -> Any:
    """A bar on a terminal; off a terminal, one line per step on stderr."""
    if sys.stderr.isatty():
        return not as_json
    return lambda line: print(f"xtrap: {line}", file=sys.stderr, flush=True)


def sharp_flat_command(args: argparse.Namespace) -> int:
    from analysis import json_safe, sharp_flat

    setup = _sharp_flat_setup(args)  # every misuse is one line before the folder is touched
    out = output_folder("--out", args.out, force=args.force, owned=SHARP_FLAT_FILES, marker="# xtrap sharp-flat")
    summary = sharp_flat(args.level, out_dir=out, progress=_progress(args.json), svg=args.svg, **setup)
    if args.json:
        print(json.dumps(json_safe(summary), allow_nan=False))
        return 0
    print(f"{'problem':<10} {'method':<13} {'lr':>6} {'batch':>5} {'flat':>5}  {'95% CI':<13} {'runs':>4}  sharp min (G2)")
    for r in summary["basins"]:
        g2 = "–" if "sharp_stable" not in r else "stable" if r["sharp_stable"] else "unstable"
        print(f"{r['problem']:<10} {r['method']:<13} {r['lr']:>6g} {r['batch']:>5} {r['flat_fraction']:>5.2f}  "
              f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  {r['runs']:>4}  {g2}")
    for why in summary["omitted"]:
        print(f"theory left out: {why}")
    held = sum(c["holds"] is True for c in summary["claims"])
    print(f"claims: {held} of {len(summary['claims'])} held; report: {summary['report']} ({summary['seconds']:.0f} s)")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from analysis import json_safe, verify

    out = output_folder("--out", args.out, force=args.force, owned=VERIFY_FILES, marker="# xtrap verify")
    summary = verify(args.level, out_dir=str(out), progress=_progress(args.json), svg=args.svg,
                     sharp_flat=args.sharp_flat)
    if args.json:
        print(json.dumps(json_safe(summary), allow_nan=False))
        return 0 if summary["passed"] else 1
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
    print(f"proofs: {c.get('verified', 0)} verified, {c.get('failed', 0)} failed, {c.get('cited', 0)} cited"
          f"{' (from the cache)' if summary.get('proofs_cached') else ''}; "
          f"checks: {len(summary['checks'])}, {bad} not as expected; runs: {summary['runs']}"
          f"{f' ({k} from the cache)' if (k := summary.get('runs_cached')) else ''}; report: {summary.get('report')} "
          f"({summary['seconds']:.0f} s) -> {'PASSED' if summary['passed'] else 'FAILED'}")
    return 0 if summary["passed"] else 1
