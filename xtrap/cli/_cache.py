"""The cache folder of the command line: JAX's persistent compilation cache, so a second invocation skips compiling.

One folder, safe to delete at any time: ``--cache-dir DIR``, else ``$XTRAP_CACHE_DIR``, else
``$XDG_CACHE_HOME/xtrap`` (``~/.cache/xtrap``). Compiled programs go to its ``jax/`` subfolder through
``jax.config`` (``jax_compilation_cache_dir``); every program is cached, however short its compile, because the
studies compile hundreds of small ones. The size is capped (:data:`MAX_BYTES`, least recently used evicted), which
makes JAX guard every read and write with a file lock, so concurrent ``xtrap`` processes sharing the folder do not
corrupt it. ``--no-cache`` turns it off for one invocation, ``XTRAP_NO_CACHE=1`` for every one (the test suite
sets it, so its in-process CLI calls leave JAX's configuration alone). The key of an entry is JAX's: the program, the
compiler options, the JAX/XLA versions and the device, so a stale entry is never used.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ._args import CliError

MAX_BYTES = 2 * 2**30
COMMANDS = ("run", "check", "compare", "sharpness", "verify", "sharp-flat")  # the ones that compile programs


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--cache-dir`` and ``--no-cache`` on one command."""
    g = parser.add_argument_group("cache")
    g.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="the cache folder (compiled programs; safe to delete); default $XTRAP_CACHE_DIR, else "
                        "$XDG_CACHE_HOME/xtrap or ~/.cache/xtrap")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache folder this time")


def folder(cache_dir: str | None) -> Path:
    """The cache folder: the option, else ``$XTRAP_CACHE_DIR``, else the user's XDG cache folder."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get("XTRAP_CACHE_DIR"):
        return Path(os.environ["XTRAP_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xtrap"


def enable(args: argparse.Namespace) -> Path | None:
    """Turn on the persistent compilation cache for this process as the options say; returns its folder."""
    if getattr(args, "no_cache", True) or os.environ.get("XTRAP_NO_CACHE", "") not in ("", "0"):
        return None
    path = folder(args.cache_dir) / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"--cache-dir: cannot create the cache folder {str(path)!r} ({err.strerror}); give a "
                       "writable folder or --no-cache") from None
    if not os.access(path, os.W_OK):
        raise CliError(f"--cache-dir: the cache folder {str(path)!r} is not writable; give another or --no-cache")
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return path
