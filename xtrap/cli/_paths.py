"""Where a command may write: checked before any work, so a bad ``--out`` never costs a run.

Refused always: a device or other special file, a directory where a file is wanted (or a file where a folder
is), a place that cannot be written (tested by creating and removing a temporary file there). Refused unless
``--force``: a symbolic link (``--force`` replaces the link itself, never what it points to), a file or a
non-empty folder that xtrap did not write, and an earlier result (``run --resume`` continues one instead).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from ._args import CliError


def _name(option: str, text: str) -> Path:
    if not text or not text.strip():
        raise CliError(f"{option} needs a path, got an empty string")
    if "\x00" in text:
        raise CliError(f"{option}: a path cannot contain a NUL character")
    path = Path(text)
    if any(len(part.encode()) > 255 for part in path.parts) or len(os.fsencode(text)) > 4000:
        raise CliError(f"{option}: name too long ({len(text)} characters): {text[:40]!r}...")
    return path


def _special(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _writable(option: str, folder: Path) -> None:
    """Create ``folder`` (and its parents) if needed, then prove it writable with a temporary file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".xtrap-write-test.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise CliError(f"{option}: cannot write in {str(folder)!r} ({err.strerror or err})") from None


def _is_result(path: Path) -> bool:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return "meta" in z.files and '"config"' in str(z["meta"])
    except Exception:  # noqa: BLE001 - anything unreadable is "not a result"
        return False


def output_file(option: str, text: str, *, force: bool, resume: bool = False) -> Path:
    """The path of a result file that a run may write (or, with ``resume``, continue)."""
    path = _name(option, text)
    if _special(path) and not path.is_symlink():
        raise CliError(f"{option}: {text!r} is a device or special file; give a regular file name")
    if path.is_dir() and not path.is_symlink():
        raise CliError(f"{option}: {text!r} is a folder; give a file name such as {str(path / 'run.npz')!r}")
    if path.is_symlink() and not force:
        raise CliError(f"{option}: {text!r} is a symbolic link; xtrap does not write through links (--force "
                       "replaces the link itself with the result)")
    exists = path.exists() or path.is_symlink()
    if resume:
        if not (path.is_file() and _is_result(path)):
            raise CliError(f"{option}: --resume needs the partial result of an earlier run at {text!r}; "
                           f"{'it is not an xtrap result' if exists else 'there is none'}")
    elif exists and not force:
        what = "holds an earlier xtrap result (--resume continues it" if _is_result(path) else \
            "is a file xtrap did not write (choose another name"
        raise CliError(f"{option}: {text!r} {what}, --force replaces it)")
    _writable(option, path.parent if str(path.parent) else Path("."))
    return path


def output_folder(option: str, text: str, *, force: bool, owned: tuple[str, ...], marker: str) -> Path:
    """A report folder: new, empty, or one an earlier xtrap study wrote (its files are removed first, so an
    interrupted run never leaves an old report beside new data). ``owned`` are the names the study writes;
    ``marker`` starts the first line of the ``report.md`` it writes."""
    path = _name(option, text)
    if path.is_symlink() and not force:
        raise CliError(f"{option}: {text!r} is a symbolic link; give a real folder (or --force)")
    if path.exists() and not path.is_dir():
        raise CliError(f"{option} must be a folder; {text!r} is a file" if path.is_file() else
                       f"{option}: {text!r} is a device or special file")
    if path.is_dir() and any(path.iterdir()):
        report = path / "report.md"
        try:
            ours = report.is_file() and report.read_text(errors="replace").startswith(marker)
        except OSError:
            ours = False
        ours = ours or (path / "basins.json").is_file()
        if not ours and not force:
            raise CliError(f"{option}: {text!r} is a non-empty folder that xtrap did not write; choose a new "
                           "folder (or --force to write into it)")
    _writable(option, path)
    for name in owned:  # remove the earlier study's files (only the names this study writes)
        target = path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    return path
