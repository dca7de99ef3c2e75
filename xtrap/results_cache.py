"""A content-addressed folder of finished runs: studies recompute only what changed and resume where they stopped.

:func:`xtrap.run` with ``cache=`` (or a process default set by :func:`use_results_cache`, as the command line's
cache folder does) looks a run up by its key before computing it, and stores what it computes under that key.

The key is the SHA-256 of

* the run's :func:`fingerprint`: every number and structure that determines the run (the problem's data and
  static fields, the hyper-parameter grid, the method's structure and its direction rule's code, the seeds' keys,
  the start, the divergence radius, the horizon, the record steps, the chunking, the draw contract, the dtype);
* the devices it runs on (:func:`xtrap._devices.describe`);
* the code that computes the numbers: the xtrap version, a digest of the sources of the ``xtrap`` and ``problems``
  packages, and the JAX, jaxlib and NumPy versions.

Anything that could change a bit of the result changes the key, so an entry is never stale; an edited source file
only costs recomputation. Entries are ``<folder>/<key[:2]>/<key>.npz`` (:meth:`xtrap.Result.save`), written to a
temporary file and renamed into place, so concurrent writers of one key leave one complete file and a reader never
sees half of one. A run interrupted part-way leaves its partial result under its key (``attrs["complete"]`` is
``False``), saved after every chunk; the next run with the same key continues it, computing only the chunks not
done, bitwise as ``xtrap.run(resume=True)`` does. An entry that does not load is recomputed and replaced. The folder
is safe to delete at any time.

A result read from the cache says so: ``attrs["cached"]`` is ``True`` (``False`` when computed now), and
``attrs["seconds"]`` is then the time of the run that computed it.

>>> import tempfile, problems, xtrap
>>> folder = tempfile.mkdtemp()
>>> p, m = problems.make("quadratic", dim=3), xtrap.sgd(lr=0.1)
>>> xtrap.run(p, m, steps=20, cache=folder).attrs["cached"]
False
>>> xtrap.run(p, m, steps=20, cache=folder).attrs["cached"]
True
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems import ParameterError

from .result import Result

_default: list["ResultsCache | None"] = [None]  # the process default set by use_results_cache


class ResultsCache:
    """A folder of finished (and partial) runs, addressed by :func:`key`.

    Args:
        folder: the folder (created if missing); it must be writable.

    Raises:
        ParameterError: ``folder`` cannot be created or written.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).expanduser()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ParameterError(f"cache must be a folder that can be created; {str(self.folder)!r}: "
                                 f"{err.strerror}") from None
        if not os.access(self.folder, os.W_OK):
            raise ParameterError(f"cache must be a writable folder; {str(self.folder)!r} is not writable")

    def path(self, key: str) -> Path:
        """Where the entry of ``key`` lives."""
        return self.folder / key[:2] / f"{key}.npz"

    def lookup(self, key: str) -> Result | None:
        """The stored result of ``key`` (complete or partial), or ``None`` if there is none that loads."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return Result.load(path)
        except ParameterError:  # a damaged entry (written by something else): recomputed and replaced
            return None

    def read_json(self, key: str) -> Any:
        """The JSON value stored under ``key`` by :meth:`write_json` (a study's small outputs), or ``None``."""
        path = self.folder / key[:2] / f"{key}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):  # missing or damaged: recomputed and replaced
            return None

    def write_json(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON) under ``key``, atomically."""
        path = self.folder / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(value, f)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def __repr__(self) -> str:
        return f"ResultsCache({str(self.folder)!r})"


def use_results_cache(cache: str | os.PathLike[str] | ResultsCache | None) -> ResultsCache | None:
    """Set the results cache :func:`xtrap.run` uses when it is not told (``None``: no cache); returns it.

    >>> import tempfile, xtrap
    >>> xtrap.use_results_cache(tempfile.mkdtemp())   # every later run looked up and stored there
    ResultsCache(...)
    >>> xtrap.use_results_cache(None)
    """
    _default[0] = None if cache is None else as_cache(cache)
    return _default[0]


def as_cache(cache: Any) -> ResultsCache | None:
    """``cache=`` of :func:`xtrap.run` as a :class:`ResultsCache`: a folder or a cache; ``None`` for the process
    default; ``False`` for none."""
    if cache is None:
        return _default[0]
    if cache is False:
        return None
    if isinstance(cache, ResultsCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return ResultsCache(cache)
    raise ParameterError(f"cache must be a folder, an xtrap.ResultsCache, None (the process default) or False "
                         f"(none); got {cache!r}")


def key(fingerprint_hex: str, ran_on: str) -> str:
    """The entry's key: the run's fingerprint, where it runs, and the code and library versions that compute it."""
    h = hashlib.sha256()
    for part in (fingerprint_hex, ran_on, *_code_identity()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _code_identity() -> tuple[str, ...]:
    """The xtrap version, a digest of the ``xtrap`` and ``problems`` sources, and the JAX/jaxlib/NumPy versions."""
    import problems

    return code_identity((Path(__file__).parent, Path(problems.__file__).parent), ("xtrap", "jax", "jaxlib", "numpy"))


def code_identity(packages: tuple[Path, ...], dists: tuple[str, ...]) -> tuple[str, ...]:
    """``"name version"`` of each distribution in ``dists`` and a SHA-256 of every ``.py`` file under ``packages``:
    what a cached value computed by that code depends on."""
    h = hashlib.sha256()
    for package in packages:
        for f in sorted(package.rglob("*.py")):
            h.update(str(f.relative_to(package.parent)).encode())
            h.update(f.read_bytes())
    versions = []
    for dist in dists:
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
            versions.append(f"{dist} ?")
    return (*versions, h.hexdigest())


def fingerprint(*parts: Any) -> str:
    """A SHA-256 of everything that determines a run's numbers (problem data, hyper-parameter grid, structure,
    keys, start, radius, horizon, records, chunking), so a resumed file is known to belong to the same run."""
    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(parts):
        if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        a = np.asarray(leaf)
        if a.dtype == object:  # a structural leaf (e.g. the method's Config): its value, not its address
            h.update(repr(leaf).encode())
            continue
        h.update(str((a.dtype, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(jax.tree_util.tree_structure(parts)).encode())
    return h.hexdigest()


def partial_arrays(old: Result, fingerprint_hex: str, total: int, where: str) -> tuple[dict[str, np.ndarray],
                                                                                          np.ndarray]:
    """The flat arrays and ``done`` flags of a partial result, refused if another run wrote it."""
    if old.attrs.get("fingerprint") != fingerprint_hex:
        raise ParameterError(f"resume: {where} was written by a different run (problem, method, "
                             "hyper-parameters, seeds, steps or chunking differ); give the same arguments, or "
                             "another --out")
    lead = len(old.sweep_dims) + 1
    arrays = {k: v.reshape((total,) + v.shape[lead:]) for k, v in old.data.items() if k != "done"}
    return arrays, np.asarray(old.data["done"], dtype=bool).reshape(total).copy()
