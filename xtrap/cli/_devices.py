"""``--devices N``: how many of JAX's devices the runs of one command spread over (:func:`xtrap.use_devices`)."""

from __future__ import annotations

import argparse

from . import _args
from ._args import CliError


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--devices`` on one command."""
    parser.add_argument("--devices", type=_args.integer("--devices"), default=None, action=_args.Once, metavar="N",
                        help="spread each chunk of runs over the first N of JAX's devices (default: all of them; "
                             "bitwise the numbers of one device running the same chunks)")


def enable(args: argparse.Namespace) -> None:
    """Make ``--devices`` the process default of :func:`xtrap.run`; refuse more devices than JAX sees."""
    n = getattr(args, "devices", None)
    if n is None:
        return
    import jax

    import xtrap

    have = len(jax.devices())
    if n > have:
        raise CliError(f"--devices must be in [1, {have}] (the {jax.devices()[0].platform} devices JAX sees); got {n}")
    xtrap.use_devices(n)


def reset() -> None:
    """Back to the default (all devices), so an in-process call leaves no setting behind."""
    import xtrap

    xtrap.use_devices(None)
