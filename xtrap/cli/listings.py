"""``xtrap problems``, ``xtrap methods``, ``xtrap proofs``: what there is, with parameters, defaults and ranges."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from typing import Any

from ._args import CliError


def add_parsers(sub: Any) -> None:
    pr = sub.add_parser("problems", help="list problems with their parameters and defaults",
                        description="The problem families, what each parameter means and its default. Give them to "
                                    "`xtrap run --problem NAME --param KEY=VALUE`. With a NAME (a family or a "
                                    "user's MODULE:NAME) and --param values: the instance's effective constants, "
                                    "where each comes from, and its minima with their sharpness.")
    pr.add_argument("name", nargs="?", default=None, help="one family (or MODULE:NAME) to build and describe")
    pr.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a parameter of the instance to describe (repeatable)")
    pr.add_argument("--json", action="store_true", help="print one strict JSON object")
    pr.set_defaults(handler=problems_command)
    me = sub.add_parser("methods", help="list methods with their options and defaults",
                        description="The named methods of the framework, their update rule in words and their options.")
    me.add_argument("--json", action="store_true", help="print one strict JSON object")
    me.set_defaults(handler=methods_command)
    pf = sub.add_parser("proofs", help="verify the bound catalog (all, or the named theorems/sections)",
                        description="Verify the machine-checked derivations. Exit status 1 if any fails.")
    pf.add_argument("names", nargs="*", help="theorem names or THEORY.md sections (e.g. D1, A2); default: all")
    pf.add_argument("--json", action="store_true", help="print one strict JSON object")
    pf.set_defaults(handler=proofs_command)


def plain(text: str) -> str:
    """Docstring text for a terminal: roles (``:math:`x```, ``:func:`f```) and literal quotes removed, one line."""
    text = re.sub(r":(?:math|func|class|mod|data|meth|attr):`~?([^`]*)`", r"\1", text)
    text = re.sub(r"\\[,;!]|\\q?quad", " ", text.replace("``", "").replace(".. math::", ""))
    return " ".join(text.split()).strip()


def _summary(obj: Any) -> str:
    """The first paragraph of a docstring, and the update rule when a math block follows it."""
    parts = (inspect.getdoc(obj) or "").split("\n\n")
    first = plain(parts[0]).rstrip(":")
    rule = next((plain(p) for p in parts[1:2] if p.lstrip().startswith(".. math::")), "")
    return first + (f"; update: {rule}" if rule else "")


def _print(items: list[dict[str, Any]], field: str, as_json: bool) -> int:
    if as_json:
        from analysis import json_safe

        print(json.dumps(json_safe({"items": items}), allow_nan=False))
        return 0
    for it in items:
        print(f"{it['name']}: {it['description']}")
        for k, v in it[field].items():
            doc = it.get("help", {}).get(k)
            print(f"    {k} = {v!r}" + (f"  ({doc})" if doc else ""))
        print()
    return 0


def instance_summary(p: Any) -> dict[str, Any]:
    """The effective constants of a problem instance, their sources, and its minima (label, value, lambda_max)."""
    import numpy as np

    return {"name": p.name, "constants": p.constants, "sources": p.sources, "notes": list(p.notes),
            "minima": [{"label": m.label, "value": float(m.value), "lambda_max": m.sharpness,
                        "lambda_min": float(np.linalg.eigvalsh(np.asarray(m.hessian))[0])} for m in p.minima]}


def _instance(args: argparse.Namespace) -> int:
    import problems

    from . import _args, _load

    params = _args.params(args.param)
    p = _load.problem(args.name, params) if _load.is_reference(args.name) else problems.make(args.name, **params)
    info = instance_summary(p)
    if args.json:
        from analysis import json_safe

        print(json.dumps(json_safe(info), allow_nan=False))
        return 0
    c, src = info["constants"], info["sources"]

    def num(v: Any) -> str:
        return "none" if v is None else f"{v:.6g}"
    print(f"{p.name}: dim={c['dim']} n={c['n']}")
    for k in ("L", "mu", "f_star", "sigma2"):
        print(f"    {k} = {num(c[k])}  ({src.get(k, 'exact') if c[k] is not None else 'none known'})")
    print(f"    minima ({src.get('minima', 'exact')}): {len(info['minima'])}")
    for m in info["minima"][:12]:
        print(f"        {m['label']}: f = {m['value']:.6g}, lambda_max = {m['lambda_max']:.6g}, "
              f"lambda_min = {m['lambda_min']:.6g}")
    if len(info["minima"]) > 12:
        print(f"        ... and {len(info['minima']) - 12} more (--json lists all)")
    for note in info["notes"]:
        print(f"    note: {note}")
    return 0


def problems_command(args: argparse.Namespace) -> int:
    import problems

    if args.name is not None:
        return _instance(args)
    if args.param:
        raise CliError("--param describes one instance: give the problem NAME too (xtrap problems NAME --param ...)")
    items = []
    for n in problems.names():
        items.append({"name": n, "description": plain(problems.describe(n)), "parameters": problems.parameters(n),
                      "help": problems.parameter_help(n)})
    return _print(items, "parameters", args.json)


def methods_command(args: argparse.Namespace) -> int:
    import xtrap

    items = []
    for name, ctor in xtrap.METHODS.items():
        sig = inspect.signature(ctor)
        items.append({"name": name, "description": _summary(ctor),
                      "options": {k: p.default for k, p in sig.parameters.items()},
                      "help": {k: xtrap.methods.OPTION_HELP.get(k, "") for k in sig.parameters}})
    return _print(items, "options", args.json)


def proofs_command(args: argparse.Namespace) -> int:
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
    counts = {s: sum(r["status"] == s for r in rows) for s in ("verified", "failed", "cited")}
    if args.json:
        from analysis import json_safe

        print(json.dumps(json_safe({"theorems": rows, "counts": counts}), allow_nan=False))
    else:
        for r in rows:
            print(f"{r['name']:<14} {r['section']:<5} {r['status']:<9} {r['seconds']:6.2f}s  {r['title']}")
            for f in r["failures"]:
                print(f"{'':<14} FAILED step: {f['step']}: {f['detail']}")
        print(f"{counts['verified']} verified, {counts['failed']} failed, {counts['cited']} cited "
              f"({sum(r['seconds'] for r in rows):.1f} s)")
    return 1 if failed else 0
