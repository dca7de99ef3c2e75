"""Progress over the chunks of a run: nothing, a tqdm bar, or calls ``report(done, total)``."""

from __future__ import annotations

from typing import Any


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Report:
    """Progress as calls ``report(done, total)`` (the CLI prints a line now and then off a terminal)."""

    def __init__(self, report: Any, total: int) -> None:
        self.report, self.total, self.done = report, total, 0

    def update(self, n: int) -> None:
        self.done += n
        self.report(self.done, self.total)

    def close(self) -> None:
        pass


def progress(total: int, show: Any) -> Any:
    """A bar over ``total`` runs: ``show`` False (none), True (tqdm) or a callable ``show(done, total)``."""
    if callable(show):
        return _Report(show, total)
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="run", leave=False)
