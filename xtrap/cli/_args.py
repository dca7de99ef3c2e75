"""Strict command-line values: every option parsed and range-checked before any work starts.

A value that does not parse, is out of range, is given twice, or is an empty item of a comma list is a
:class:`CliError`: one line naming the option, the expected range and the given text, exit status 2.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable

MAX_INT = 2**31 - 1  # steps, seeds, batch, workers: what a run can hold (int32 counters)
MAX_SEED = 2**63 - 1


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Help(argparse.HelpFormatter):
    """``(default: X)`` after an option's help when it has a default worth stating."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        if "%(default)" in text or d is None or d is False or d == [] or d is argparse.SUPPRESS or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


class Terminated(Exception):
    """SIGTERM, turned into an exception so that the same clean-up as Ctrl-C runs (exit status 143)."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, and ``(default: ...)`` after every option's help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one readable line instead of usage + message
        name = self.prog.removeprefix("xtrap").strip()
        raise CliError(f"{name + ': ' if name else ''}{message}")


class Once(argparse.Action):
    """Store an option's value, refusing a second occurrence (``--out a --out b`` is an error, not ``b``)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, f"_seen_{self.dest}", False):
            raise CliError(f"{option_string} given twice; give it once")
        setattr(namespace, f"_seen_{self.dest}", True)
        setattr(namespace, self.dest, values)


def _real(option: str, text: str, lo: float | None, hi: float | None, lo_open: bool, hi_open: bool = False) -> float:
    low = text.strip().lower()
    if low in ("true", "false", "yes", "no", "on", "off"):
        raise CliError(f"{option} expects a number, got {text!r}")
    try:
        v = float(text)
    except ValueError:
        raise CliError(f"{option} expects a number, got {text!r}") from None
    if not math.isfinite(v):
        raise CliError(f"{option} must be finite, got {text!r}")
    interval = (f"{'(' if lo_open else '['}{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}"
                f"{')' if hi_open else ']'}")
    if (lo is not None and (v < lo or (lo_open and v == lo))) or (hi is not None and (v > hi or (hi_open and v == hi))):
        raise CliError(f"{option} must be in {interval}, got {text!r}")
    return v


def _integer(option: str, text: str, lo: int, hi: int) -> int:
    t = text.strip()
    try:
        v = int(t)
    except ValueError:
        try:
            f = float(t)
        except ValueError:
            raise CliError(f"{option} expects an integer in [{lo}, {hi}], got {text!r}") from None
        if not (math.isfinite(f) and f.is_integer() and abs(f) < 2**53):
            raise CliError(f"{option} expects an integer in [{lo}, {hi}], got {text!r}") from None
        v = int(f)
    if not lo <= v <= hi:
        raise CliError(f"{option} must be an integer in [{lo}, {hi}], got {text!r}")
    return v


def _items(option: str, text: str) -> list[str]:
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise CliError(f"{option}: empty item in the comma list {text!r} (write e.g. 0.1,0.2)")
    return [p.strip() for p in parts]


def real(option: str, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
         hi_open: bool = False, sweep: bool = False, tie: str | None = None) -> Callable[[str], Any]:
    """A float option (a comma list of floats if ``sweep``; the word ``tie`` passes through)."""
    def parse(text: str) -> Any:
        if tie is not None and text.strip() == tie:
            return tie
        values = [_real(option, t, lo, hi, lo_open, hi_open) for t in (_items(option, text) if sweep else [text])]
        return values if sweep and len(values) > 1 else values[0]
    return parse


def integer(option: str, *, lo: int = 1, hi: int = MAX_INT, sweep: bool = False) -> Callable[[str], Any]:
    """An int option in ``[lo, hi]`` (a comma list of them if ``sweep``)."""
    def parse(text: str) -> Any:
        values = [_integer(option, t, lo, hi) for t in (_items(option, text) if sweep else [text])]
        return values if sweep and len(values) > 1 else values[0]
    return parse


def vector(option: str) -> Callable[[str], list[float]]:
    """A comma list of finite numbers (a point such as ``--x0 1,0.5``)."""
    return lambda text: [_real(option, t, None, None, False) for t in _items(option, text)]


def param_value(key: str, text: str) -> Any:
    """The value of ``--param KEY=VALUE``: ``true``/``false``, an int, a float, a comma list of numbers, else text.

    Non-finite numbers (``nan``, ``inf``) are kept as floats for the problem to refuse with its own range.
    """
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    if "," in t:
        items = _items(f"--param {key}", t)
        try:
            return [float(x) for x in items]
        except ValueError:
            raise CliError(f"--param {key}: a comma list must hold numbers only, got {text!r}") from None
    if not t:
        raise CliError(f"--param {key}= has no value")
    return t


def params(pairs: list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE`` pairs as a dict (keys with ``-`` read as ``_``; a key given twice is an error)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise CliError(f"--param expects KEY=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        key = k.strip().replace("-", "_")
        if not key.isidentifier():
            raise CliError(f"--param: {k!r} is not a parameter name (in {pair!r})")
        if key in out:
            raise CliError(f"--param {key} given twice")
        out[key] = param_value(key, v)
    return out
