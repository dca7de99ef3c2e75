"""``xtrap sharpness``: the curvature of a problem at a point — a labelled minimum, ``x0``, or a point in a file.

Prints :math:`\\lambda_{\\max}` (Lanczos on Hessian-vector products), the Hutchinson trace with its confidence
interval, and (``--figure``) the stochastic-Lanczos-quadrature spectral density; ``--json`` gives the same as one
object. Every number is estimated (matrix-free, seeded by ``--seed``); where the problem knows the Hessian at a
minimum, the exact values are printed beside them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from . import _args, _load
from ._args import CliError, Once
from ._paths import output_file


def add_parser(sub: Any) -> None:
    s = sub.add_parser("sharpness", help="lambda_max, Hessian trace and spectral density of a problem at a point",
                       description="Sharpness of a problem (a family, or a user's MODULE:NAME) at a point: one of its "
                                   "minima by label or index, x0, or a point in a file (.npy, or numbers separated "
                                   "by commas or whitespace in a text file, in the problem's flat coordinates).")
    s.add_argument("--problem", default="two-basin", action=Once, help="problem name or MODULE:NAME")
    s.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a problem parameter")
    s.add_argument("--at", default=None, action=Once, metavar="MINIMUM|x0|FILE",
                   help="where: a minimum's label (e.g. sharp) or index, x0, or a file (default: every minimum, "
                        "or x0 when none is known)")
    s.add_argument("--probes", type=_args.integer("--probes", lo=2, hi=100_000), default=100, action=Once,
                   help="Hutchinson probes (and a tenth of them, at least 4, for the density)")
    s.add_argument("--seed", type=_args.integer("--seed", lo=0, hi=_args.MAX_SEED), default=0, action=Once,
                   help="seed of the random probes")
    s.add_argument("--figure", default=None, action=Once, metavar="FILE.png",
                   help="write the spectral density (SLQ) at each point here")
    s.add_argument("--force", action="store_true", help="replace an existing --figure file")
    s.add_argument("--json", action="store_true", help="print one strict JSON object")
    s.set_defaults(handler=command)


def _points(problem: Any, at: str | None) -> list[tuple[str, Any, Any]]:
    """``(name, flat point, exact Hessian or None)`` for each point asked for."""
    import numpy as np

    mins = list(problem.minima)
    if at is None:
        return [(m.label, m.x, m.hessian) for m in mins] or [("x0", problem.x0, None)]
    if at == "x0":
        return [("x0", problem.x0, None)]
    labels = [m.label for m in mins]
    if at in labels:
        m = mins[labels.index(at)]
        return [(m.label, m.x, m.hessian)]
    if at.isdigit():
        if int(at) >= len(mins):
            raise CliError(f"--at {at}: the problem has {len(mins)} known minima (indices 0..{len(mins) - 1})")
        m = mins[int(at)]
        return [(m.label, m.x, m.hessian)]
    path = Path(at)
    if not path.is_file():
        raise CliError(f"--at must be a minimum's label ({', '.join(labels) or 'none known'}), an index, x0, or a "
                       f"file; got {at!r}")
    try:
        x = np.load(path) if path.suffix == ".npy" else np.array(path.read_text().replace(",", " ").split(), float)
    except (OSError, ValueError) as err:
        raise CliError(f"--at {at}: could not read a point ({err})") from None
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size != problem.dim or not np.all(np.isfinite(x)):
        raise CliError(f"--at {at}: the point must have {problem.dim} finite numbers (the problem's dimension); got "
                       f"{x.size}{'' if np.all(np.isfinite(x)) else ' with non-finite entries'}")
    return [(path.name, x, None)]


def command(args: argparse.Namespace) -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import problems
    from analysis import json_safe
    from analysis.sharpness import hessian_spectral_density, hessian_trace, top_eigenvalues

    params = _args.params(args.param)
    p = _load.problem(args.problem, params) if _load.is_reference(args.problem) else problems.make(args.problem,
                                                                                                    **params)
    figure = None if args.figure is None else output_file("--figure", args.figure, force=args.force)
    if figure is not None and figure.suffix.lower() not in (".png", ".svg"):
        raise CliError(f"--figure must end in .png or .svg; got {args.figure!r}")
    rows, densities = [], []
    key = jax.random.key(args.seed)
    for name, x, hess in _points(p, args.at):
        k1, k2, k3, key = jax.random.split(key, 4)
        x = jnp.asarray(x)
        lam = float(top_eigenvalues(p.value, x, 1, key=k1)[0])
        tr = hessian_trace(p.value, x, key=k2, probes=args.probes)
        row: dict[str, Any] = {"point": name, "lambda_max": lam, "trace": tr.estimate, "trace_ci": [tr.ci_low, tr.ci_high],
                               "trace_confidence": tr.confidence, "probes": tr.probes, "estimated": True}
        if hess is not None:
            ev = np.linalg.eigvalsh(np.asarray(hess))
            row["exact"] = {"lambda_max": float(ev[-1]), "trace": float(ev.sum()),
                            "source": p.sources.get("minima", "exact")}
        rows.append(row)
        if figure is not None:
            densities.append((name, hessian_spectral_density(p.value, x, key=k3, probes=max(4, args.probes // 10))))
    if figure is not None:
        _figure(densities, p.name, figure)
    payload = {"problem": p.name, "dim": p.dim, "points": rows, "figure": None if figure is None else str(figure)}
    if args.json:
        print(json.dumps(json_safe(payload), allow_nan=False))
        return 0
    print(f"{p.name} (dim {p.dim}): estimated by Lanczos (lambda_max) and Hutchinson ({args.probes} probes, trace)")
    for r in rows:
        lo, hi = r["trace_ci"]
        line = (f"  {r['point']}: lambda_max = {r['lambda_max']:.6g}, trace = {r['trace']:.6g} "
                f"({100 * r['trace_confidence']:g}% CI [{lo:.6g}, {hi:.6g}])")
        if "exact" in r:
            e = r["exact"]
            line += f"; from the Hessian ({e['source']}): lambda_max = {e['lambda_max']:.6g}, trace = {e['trace']:.6g}"
        print(line)
    if figure is not None:
        print(f"figure: {figure}")
    return 0


def _figure(densities: list[tuple[str, Any]], name: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.output import save_figure

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for j, (label, sd) in enumerate(densities):
        ax.plot(sd.grid, sd.density, color=f"C{j % 10}", label=label)
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("density (SLQ, smoothed)")
    ax.set_title(f"{name}: Hessian spectral density (estimated)", fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, path.parent if str(path.parent) else Path("."), path.stem, svg=path.suffix.lower() == ".svg")
