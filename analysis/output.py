"""What a study writes: figures (PNG, SVG on request), Markdown, strict JSON; each file replaced atomically.

The one module that both studies (:mod:`analysis.verify`, :mod:`analysis.sharp_flat`) use for their files.
It imports no study and nothing of xtrap: only the standard library, NumPy and (given a figure) matplotlib.

* :func:`json_safe`: values that ``json.dumps(..., allow_nan=False)`` accepts (non-finite floats become
  ``None``, NumPy scalars plain numbers).
* :func:`write_text`, :func:`write_json`, :func:`save_figure`: write to a temporary file in the same folder
  and :func:`os.replace` it onto the target, so a kill leaves the old file or the new one, never half of one.
* :func:`md_cell`: a Markdown table cell (pipes escaped, newlines folded).
* :func:`progress`: what a study shows while it works: a bar on a terminal, or one line per item through a
  callable (the CLI prints those on stderr off a terminal), or nothing.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json(d / "a.json", {"x": float("inf")}).read_text()
'{\\n "x": null\\n}'
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")

import numpy as np

Figure = tuple[list[str], str]
"""What a figure function returns: the file names it wrote and the caption."""


def json_safe(value: Any) -> Any:
    """Strict-JSON values (for ``json.dumps``): non-finite floats become ``None``, NumPy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _replace_atomically(path: Path, write: Any) -> Path:
    """Call ``write(tmp_path)`` on a fresh temporary file beside ``path``, then move it onto ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # an ordinary file's mode, not mkstemp's private 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8); returns the path."""
    return _replace_atomically(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, value: Any) -> Path:
    """Write ``json_safe(value)`` as strict, indented JSON to ``path`` atomically; returns the path."""
    return write_text(path, json.dumps(json_safe(value), indent=1, allow_nan=False))


def save_figure(fig: Any, out_dir: Path, stem: str, svg: bool = False) -> list[str]:
    """Save a matplotlib figure as ``stem.png`` (and ``stem.svg``) in ``out_dir``, atomically; close it.

    Returns the file names written (relative to ``out_dir``), PNG first.
    """
    import matplotlib.pyplot as plt

    names = [f"{stem}.png"] + ([f"{stem}.svg"] if svg else [])
    try:
        for name in names:
            fmt = name.rsplit(".", 1)[1]
            _replace_atomically(Path(out_dir) / name,
                                lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=130, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return names


def md_cell(text: Any) -> str:
    """``text`` as one Markdown table cell: ``|`` escaped, newlines folded into spaces."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def progress(items: Iterable[T], show: bool | Callable[[str], None], desc: str) -> Iterator[T]:
    """Yield ``items``, showing progress: ``True`` a tqdm bar (stderr), a callable ``show(line)`` one line per item
    (``"checks 3 of 77"``), ``False`` nothing."""
    seq = list(items)
    if callable(show):
        for i, item in enumerate(seq, 1):
            show(f"{desc} {i} of {len(seq)}")
            yield item
    elif show:
        from tqdm import tqdm

        yield from tqdm(seq, desc=desc, leave=False)
    else:
        yield from seq


__all__ = ["Figure", "json_safe", "md_cell", "progress", "save_figure", "write_json", "write_text"]
