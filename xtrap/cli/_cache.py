"""The cache folder of the command line: compiled programs and finished runs, so a second invocation recomputes
only what changed, and an interrupted study resumes where it stopped.

One folder, safe to delete at any time: ``--cache-dir DIR``, else ``$XTRAP_CACHE_DIR``, else
``$XDG_CACHE_HOME/xtrap`` (``~/.cache/xtrap``). Compiled programs go to its ``jax/`` subfolder through
``jax.config`` (``jax_compilation_cache_dir``); every program is cached, however short its compile, because the
studies compile hundreds of small ones. Finished and partial runs go to its ``results/`` subfolder
(:mod:`xtrap.results_cache`). The compiled programs' size is capped (:data:`MAX_BYTES`, least recently used
evicted), which makes JAX guard every read and write with a file lock; results are written to a temporary file and
renamed into place; so concurrent ``xtrap`` processes sharing the folder do not corrupt it. ``--no-cache`` turns
both off for one invocation, ``XTRAP_NO_CACHE=1`` for every one (the test suite sets it, so its in-process CLI calls
leave JAX's configuration alone). The key of a program is JAX's: the program, the compiler options, the JAX/XLA
versions and the device; the key of a result is its run's fingerprint, the devices, the xtrap and problems sources
and the library versions. A stale entry is never used.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._args import CliError

MAX_BYTES = 2 * 2**30
COMMANDS = ("run", "check", "compare", "sharpness", "verify", "sharp-flat", "large-batch")  # the ones that compile programs


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--cache-dir`` and ``--no-cache`` on one command."""
    g = parser.add_argument_group("cache")
    g.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="the cache folder (compiled programs and finished runs; safe to delete); default $XTRAP_CACHE_DIR, else "
                        "$XDG_CACHE_HOME/xtrap or ~/.cache/xtrap")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache folder this time")


def folder(cache_dir: str | None) -> tuple[Path, str]:
    """The cache folder and where it was named: the option, else ``$XTRAP_CACHE_DIR``, else the XDG cache folder."""
    if cache_dir:
        return Path(cache_dir).expanduser(), "--cache-dir"
    if os.environ.get("XTRAP_CACHE_DIR"):
        return Path(os.environ["XTRAP_CACHE_DIR"]).expanduser(), "XTRAP_CACHE_DIR"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xtrap", ""


def enable(args: argparse.Namespace) -> Path | None:
    """Turn on the persistent compilation cache and the results cache for this process as the options say; returns
    the compilation cache's folder.

    A folder the user named (``--cache-dir``, ``$XTRAP_CACHE_DIR``) that cannot be written is an error; the default
    folder that cannot be written (a read-only home) prints one warning line and runs without the cache."""
    if getattr(args, "no_cache", True) or os.environ.get("XTRAP_NO_CACHE", "") not in ("", "0"):
        return None
    base, named_by = folder(args.cache_dir)
    path = base / "jax"
    problem = None
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK):
            problem = "is not writable"
    except OSError as err:
        problem = f"cannot be created ({err.strerror})"
    if problem:
        if named_by:
            raise CliError(f"{named_by}: the cache folder {str(path)!r} {problem}; give a writable folder or "
                           "--no-cache")
        print(f"xtrap: warning: the default cache folder {str(path)!r} {problem}; running without the cache "
              "(--cache-dir DIR or XTRAP_CACHE_DIR to give one, --no-cache to silence this)", file=sys.stderr)
        return None
    import jax

    import xtrap

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    xtrap.use_results_cache(base / "results")
    return path


def reset() -> None:
    """Forget this invocation's results cache (the CLI can be called in-process, e.g. by tests)."""
    if "xtrap.results_cache" in sys.modules:
        sys.modules["xtrap.results_cache"].use_results_cache(None)


def resume_hint() -> str:
    """What an interrupted invocation kept in the results cache, for its last line (empty without one)."""
    rc = sys.modules.get("xtrap.results_cache")
    store = None if rc is None else rc.as_cache(None)
    if store is None:
        return ""
    return f"; the runs finished so far are in the cache folder {str(store.folder)!r}: the same command continues"
