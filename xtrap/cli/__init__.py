"""The ``xtrap`` command line: ``run``, ``check``, ``compare``, ``sharpness``, ``problems``, ``methods``, ``proofs``,
``verify``, ``sharp-flat``, ``large-batch``.

One module per command group (:mod:`.run`, :mod:`.check`, :mod:`.compare`, :mod:`.listings`, :mod:`.studies`,
:mod:`.large_batch`); a user's own
problem, method or bound is named ``MODULE:NAME`` (:mod:`._load`); strict option parsing in
:mod:`._args` and output-path checks in :mod:`._paths`. Every command has ``--help`` (every option with its
default) and ``--json`` (one strict JSON object on stdout). A bad argument prints one line on stderr and exits
with status 2, before any work; nothing prints a traceback for a user's mistake. Ctrl-C (or SIGTERM) stops
within a chunk of runs and exits 130 (143) with one line saying what was saved where.
"""

from __future__ import annotations

import signal
import sys
from typing import Sequence

from . import _cache, _devices, check, compare, large_batch, listings, run, sharpness, studies
from ._args import CliError, Parser
from ._args import Terminated as _Terminated


def _build_parser() -> Parser:
    p = Parser(prog="xtrap", description="Checkable theory of extrapolated SGD.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    run.add_parser(sub)
    check.add_parser(sub)
    compare.add_parser(sub)
    sharpness.add_parser(sub)
    listings.add_parsers(sub)
    studies.add_parsers(sub)
    large_batch.add_parser(sub)
    for name in _cache.COMMANDS:  # the commands that compile and run programs
        _cache.add_options(sub.choices[name])
        _devices.add_options(sub.choices[name])
    return p


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xtrap`` console script; returns the exit status."""
    from problems import ParameterError
    from proofs import AssumptionError

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a worker thread): keep the default
        previous = None
    try:
        args = _build_parser().parse_args(argv)
        _cache.enable(args)
        _devices.enable(args)
        return args.handler(args)
    except (CliError, ParameterError, AssumptionError) as err:
        print(f"xtrap: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    except (KeyboardInterrupt, _Terminated, run.Interrupted) as err:
        what = str(err) if isinstance(err, run.Interrupted) else (
            "interrupted; anything saved with --out is complete up to the last finished chunk" + _cache.resume_hint())
        print(f"xtrap: {what}", file=sys.stderr)
        return 143 if isinstance(err, _Terminated) or getattr(err, "signal", None) == "SIGTERM" else 130
    finally:
        _devices.reset()
        _cache.reset()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


__all__ = ["CliError", "main"]
