"""The command line's cache folder (xtrap/cli/_cache.py): JAX's persistent compilation cache and the results cache,
in subprocesses.

A second invocation finds every compiled program in the folder (JAX logs cache hits and no miss) and prints the
same numbers;
``--no-cache`` and ``XTRAP_NO_CACHE`` leave the folder alone; ``XTRAP_CACHE_DIR`` chooses it; an unusable folder
is one line and exit 2; two processes filling one empty folder at the same time both finish with the same numbers
and leave a folder a third reads.
"""

from __future__ import annotations

import pytest
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

RUN = ["run", "--problem", "quadratic", "--param", "dim=3", "--method", "extrap_sgd", "--lr", "0.2", "--steps",
       "40", "--seeds", "4", "--json"]


def xtrap(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("XTRAP_NO_CACHE", "XTRAP_CACHE_DIR")}
    e.update(env)
    return subprocess.run([sys.executable, "-m", "xtrap.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=e, timeout=600)


def entries(folder: Path) -> set[str]:
    return {p.name for p in (folder / "jax").glob("*-cache")}


def numbers(proc: subprocess.CompletedProcess) -> list:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["final"]


@pytest.mark.slow
def test_a_second_invocation_reads_every_program_from_the_folder(tmp_path):
    folder = tmp_path / "cache"
    first = xtrap([*RUN, "--cache-dir", str(folder)], tmp_path)
    written = entries(folder)
    assert written, "nothing was cached"
    shutil.rmtree(folder / "results")  # else the run itself is read back, and nothing is compiled (tested below)
    second = xtrap([*RUN, "--cache-dir", str(folder)], tmp_path, JAX_LOG_COMPILES="1",
                   JAX_EXPLAIN_CACHE_MISSES="1")  # JAX then logs every persistent-cache hit and miss
    assert entries(folder) == written
    hits = second.stderr.count("Persistent compilation cache hit")
    misses = second.stderr.count("PERSISTENT COMPILATION CACHE MISS")
    assert hits >= len(written) // 2 and misses == 0, (hits, misses)  # every program came from the folder
    assert numbers(second) == numbers(first)
    # the environment variable names the folder; --no-cache and XTRAP_NO_CACHE leave it alone
    env_folder = tmp_path / "env-cache"
    assert numbers(xtrap(RUN, tmp_path, XTRAP_CACHE_DIR=str(env_folder))) == numbers(first)
    assert entries(env_folder)
    for args, env in (([*RUN, "--no-cache", "--cache-dir", str(tmp_path / "a")], {}),
                      ([*RUN, "--cache-dir", str(tmp_path / "b")], {"XTRAP_NO_CACHE": "1"})):
        assert numbers(xtrap(args, tmp_path, **env)) == numbers(first)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_an_unusable_folder_is_one_line_and_exit_2_or_a_warning_for_the_default(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = xtrap([*RUN, "--cache-dir", str(blocker / "cache")], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--cache-dir" in proc.stderr and "--no-cache" in proc.stderr
    proc = xtrap(RUN, tmp_path, XTRAP_CACHE_DIR=str(blocker / "cache"))
    assert proc.returncode == 2 and proc.stderr.startswith("xtrap: error: XTRAP_CACHE_DIR: ")
    # the default folder (under XDG_CACHE_HOME) unusable: one warning line, and the run goes on without the cache
    proc = xtrap(RUN, tmp_path, XDG_CACHE_HOME=str(blocker), MPLCONFIGDIR=str(tmp_path / "mpl"))  # (matplotlib
    # reads XDG_CACHE_HOME too, and would warn in its own words)
    assert proc.returncode == 0 and json.loads(proc.stdout)["final"]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("xtrap: warning: the default cache folder")


@pytest.mark.slow
def test_concurrent_writers_share_one_folder(tmp_path):
    folder = tmp_path / "shared"
    e = {k: v for k, v in os.environ.items() if k not in ("XTRAP_NO_CACHE", "XTRAP_CACHE_DIR")}
    procs = [subprocess.Popen([sys.executable, "-m", "xtrap.cli", *RUN, "--cache-dir", str(folder)], cwd=tmp_path,
                              env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    a, b = (json.loads(o[0])["final"] for o in outs)
    assert a == b
    written = entries(folder)
    third = xtrap([*RUN, "--cache-dir", str(folder)], tmp_path)
    assert numbers(third) == a and entries(folder) == written


@pytest.mark.slow
def test_a_finished_run_is_read_from_the_folder_and_the_line_says_so(tmp_path):
    folder = tmp_path / "cache"
    first = xtrap([*RUN, "--cache-dir", str(folder)], tmp_path)
    assert list((folder / "results").rglob("*.npz"))
    second = xtrap([*RUN, "--cache-dir", str(folder)], tmp_path)
    assert numbers(second) == numbers(first)
    assert (json.loads(first.stdout)["cached"], json.loads(second.stdout)["cached"]) == (False, True)
    table = xtrap([a for a in RUN if a != "--json"] + ["--cache-dir", str(folder)], tmp_path)
    assert table.returncode == 0 and "read from the cache folder, computed earlier" in table.stdout.splitlines()[-1]
    fresh = xtrap([*RUN, "--cache-dir", str(folder), "--no-cache"], tmp_path)
    assert json.loads(fresh.stdout)["cached"] is False and numbers(fresh) == numbers(first)
