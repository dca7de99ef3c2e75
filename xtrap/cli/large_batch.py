"""``xtrap large-batch``: test accuracy against the global batch size on the digits MLP (the paper's headline
experiment in miniature), with sharpness at the end points and the theory beside it.

Prints the accuracy-vs-batch table (method x batch: mean ± 95% t half-width, diverged runs) and the claims, and
writes ``DIR/report.md``, ``large_batch.json`` and the figures ``accuracy_vs_batch``, ``sharpness_vs_batch``,
``training_curves`` (:mod:`analysis.large_batch`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._args import Once, integer
from ._paths import output_folder

FILES = ("report.md", "large_batch.json") + tuple(
    f"{s}.{e}" for s in ("accuracy_vs_batch", "sharpness_vs_batch", "training_curves") for e in ("png", "svg"))


def add_parser(sub: Any) -> None:
    c = sub.add_parser("large-batch", help="test accuracy vs batch size on a real network (the paper's headline "
                                           "experiment in miniature)",
                       description="SGD with Nesterov momentum, EXTRAP-SGD, SAM and noise injection on the digits MLP "
                                   "at batch sizes from 16 to the whole training set, with linear learning-rate "
                                   "scaling (0.1 B/256) and 5 warm-up epochs at a fixed epoch budget, several seeds "
                                   "with 95% intervals; final sharpness (Lanczos lambda_max, Hutchinson trace) at the "
                                   "end points beside the stability threshold of the step used and the critical batch "
                                   "sizes (the noise scale B_noise [cited], the catalog's A4 B_crit [derived]). "
                                   "Writes DIR/report.md, large_batch.json and three figures.")
    level = c.add_mutually_exclusive_group()
    level.add_argument("--quick", dest="level", action="store_const", const="quick",
                       help="4 batch sizes, 30 epochs, 5 seeds: under 5 minutes on 2 CPU cores")
    level.add_argument("--full", dest="level", action="store_const", const="full",
                       help="8 batch sizes, 100 epochs, 10 seeds, sharpness at every seed: sized for a GPU (used when "
                            "JAX has one)")
    level.add_argument("--tiny", dest="level", action="store_const", const="tiny", help=argparse.SUPPRESS)
    c.set_defaults(level="quick")
    c.add_argument("--seeds", type=integer("--seeds", lo=2), action=Once, metavar="N",
                   help="runs per method and batch size, >= 2 (default: the level's)")
    c.add_argument("--out", default="xtrap-large-batch", metavar="DIR", action=Once,
                   help="report folder: new, empty, or one an earlier large-batch study wrote (its files are replaced)")
    c.add_argument("--force", action="store_true", help="write into a non-empty folder that xtrap did not write")
    c.add_argument("--svg", action="store_true", help="also write the figures as SVG")
    c.add_argument("--json", action="store_true", help="print one strict JSON object")
    c.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from analysis import json_safe
    from analysis.large_batch import large_batch
    from analysis.large_batch.report import accuracy_cell

    from .studies import _progress

    out = output_folder("--out", args.out, force=args.force, owned=FILES, marker="# xtrap large-batch")
    summary = large_batch(args.level, out_dir=out, progress=_progress(args.json), svg=args.svg, seeds=args.seeds)
    if args.json:
        print(json.dumps(json_safe(summary), allow_nan=False))
        return 0
    batches = summary["batches"]
    print(f"test accuracy (mean ± 95% t half-width over the runs that did not diverge), {summary['epochs']} epochs, "
          f"{summary['seeds']} seeds")
    print(f"{'method':<16} " + " ".join(f"{'B=' + str(b):>30}" for b in batches))
    for label in summary["methods"]:
        cells = {c["batch"]: c for c in summary["cells"] if c["label"] == label}
        print(f"{label:<16} " + " ".join(f"{accuracy_cell(cells[b]).replace('**', '') if b in cells else '':>30}"
                                         for b in batches))
    for c in summary["claims"]:
        print(f"{'yes' if c['holds'] else 'no' if c['holds'] is False else '-':>3}  {c['claim']}")
    print(f"report: {summary['report']} ({summary['seconds']:.0f} s)")
    return 0
