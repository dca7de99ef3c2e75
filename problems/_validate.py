"""Argument checking with messages that name the parameter, the expected range and the value."""

from __future__ import annotations

import math
from typing import Any


class ParameterError(ValueError):
    """A parameter is outside its admissible range (the message says which, where, and what was given)."""


def _fmt(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def check_real(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number in the stated interval.

    Raises:
        ParameterError: naming ``name``, the interval and the given value.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number, got {value!r}") from None
    lb = "(" if lo_open else "["
    rb = ")" if hi_open else "]"
    interval = f"{lb}{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}{rb}"
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, in {interval}; got {value!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ParameterError(f"{name} must be in {interval}, got {_fmt(v)}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ParameterError(f"{name} must be in {interval}, got {_fmt(v)}")
    return v


def check_int(name: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[lo, hi]``.

    Raises:
        ParameterError: naming ``name``, the range and the given value.
    """
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ParameterError(f"{name} must be an integer, got {value!r}") from None
    v = int(value)
    rng = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ParameterError(f"{name} must be an integer in {rng}, got {v}")
    return v


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``.

    Raises:
        ParameterError: naming ``name``, the allowed values and the given value.
    """
    if value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
