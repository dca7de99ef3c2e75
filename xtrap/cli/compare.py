"""``xtrap compare``: several methods on one problem, on shared axes (EXTRAP-SGD against SGD by default).

Each method (a built-in name, or a user's ``MODULE:NAME``) runs at the one setting the options give, from the same
start with the same seeds; prints one row per method (final f - f* and ||grad f||^2, mean ± standard error, and the
difference from the first method with its verdict) and writes ``DIR/report.md``, ``compare.json`` and the figure.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import _args, _load
from ._args import MAX_INT, MAX_SEED, CliError, Once
from ._paths import output_folder

FILES = ("report.md", "compare.json", "compare.png", "compare.svg")


def add_parser(sub: Any) -> None:
    c = sub.add_parser("compare", help="several methods on one problem, on shared axes (EXTRAP-SGD vs SGD)",
                       description="Run every --methods entry at one setting (--lr, --batch, ...) on --problem from "
                                   "the same start and seeds; compare f - f* and ||grad f||^2 over the steps on shared "
                                   "axes, with each final difference from the first method tested at 4 standard "
                                   "errors. Writes DIR/report.md, compare.json and compare.png.")
    c.add_argument("--problem", default="quadratic", action=Once, help="problem name or MODULE:NAME / FILE.py:NAME")
    c.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a problem parameter")
    c.add_argument("--methods", default="sgd,extrap_sgd", action=Once, metavar="M1,M2,...",
                   help="comma list of method names (see `xtrap methods`) and user methods MODULE:NAME (an "
                        "xtrap.Method, or a function returning one, called with the method options given); the "
                        "first is the reference")
    c.add_argument("--lr", type=_args.real("--lr", lo=0.0, lo_open=True), action=Once, help="update step eta > 0")
    c.add_argument("--extrap-lr", type=_args.real("--extrap-lr", lo=0.0), action=Once,
                   help="extrapolation step gamma >= 0 (to the methods that have one)")
    c.add_argument("--momentum", type=_args.real("--momentum", lo=0.0, hi=1.0, hi_open=True), action=Once,
                   help="momentum beta in [0, 1)")
    c.add_argument("--batch", type=_args.integer("--batch"), action=Once, help=f"batch size in [1, {MAX_INT}]")
    c.add_argument("--workers", type=_args.integer("--workers"), action=Once, help="workers K")
    c.add_argument("--steps", type=_args.integer("--steps"), default=1000, action=Once, help="horizon T")
    c.add_argument("--seeds", type=_args.integer("--seeds", lo=2), default=16, action=Once, help="runs per method (>= 2)")
    c.add_argument("--seed", type=_args.integer("--seed", lo=0, hi=MAX_SEED), default=0, action=Once, help="seed")
    c.add_argument("--out", default="xtrap-compare", metavar="DIR", action=Once, help="report folder")
    c.add_argument("--force", action="store_true", help="write into a non-empty folder that xtrap did not write")
    c.add_argument("--svg", action="store_true", help="also write the figure as SVG")
    c.add_argument("--json", action="store_true", help="print one strict JSON object")
    c.set_defaults(handler=command)


def _method(text: str, kwargs: dict[str, Any]) -> Any:
    import xtrap

    if _load.is_reference(text):
        return _load.method(text, kwargs, "--methods")
    if text not in xtrap.METHODS:
        raise CliError(f"--methods must name methods ({', '.join(xtrap.METHODS)}) or MODULE:NAME; got {text!r}")
    import inspect

    accepted = inspect.signature(xtrap.METHODS[text]).parameters
    return xtrap.make_method(text, **{k: v for k, v in kwargs.items() if k in accepted})


def command(args: argparse.Namespace) -> int:
    import problems
    from analysis import compare, json_safe

    params = _args.params(args.param)
    problem = (_load.problem(args.problem, params) if _load.is_reference(args.problem)
               else problems.make(args.problem, **params))
    kwargs = {k: v for k, v in (("lr", args.lr), ("extrap_lr", args.extrap_lr), ("momentum", args.momentum),
                                ("batch", args.batch), ("workers", args.workers)) if v is not None}
    names = [t.strip() for t in args.methods.split(",") if t.strip()]
    labels = [t.rpartition(":")[2] for t in names]
    if len(set(labels)) < len(labels) or not names:
        raise CliError(f"--methods must list distinct methods (a user's is labelled by its NAME); got {args.methods!r}")
    methods = {name.rpartition(":")[2]: _method(name, kwargs) for name in names}
    out = output_folder("--out", args.out, force=args.force, owned=FILES, marker="# xtrap compare")
    summary = compare(problem, methods, steps=args.steps, seeds=args.seeds, seed=args.seed, out_dir=out, svg=args.svg)
    if args.json:
        print(json.dumps(json_safe(summary), allow_nan=False))
        return 0
    print(f"{'method':<18} {'runs':>4} {'div.':>4}  {'final f - f*':>20}  {'final ||grad f||^2':>20}  vs first (f - f*)")
    for row in summary["methods"]:
        f, g = row["final"]["loss_gap"], row["final"]["grad_norm2"]
        vs = row["versus_first"].get("loss_gap")
        print(f"{row['label']:<18} {row['runs']:>4} {row['diverged']:>4}  {f['mean']:>11.4g} ± {f['se']:<7.2g}  "
              f"{g['mean']:>11.4g} ± {g['se']:<7.2g}  "
              + ("reference" if vs is None else f"{vs['difference']:+.3g} ± {vs['se']:.2g} ({vs['verdict']})"))
    print(f"report: {out / 'report.md'} ({summary['seconds']:.0f} s)")
    return 0
