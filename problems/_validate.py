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
    if isinstance(value, (bool, str, bytes)) or value is None:  # True is not 1.0 and "0.5" is not 0.5 here
        raise ParameterError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
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


def check_array(name: str, value: Any, shape: tuple[int, ...]) -> Any:
    """Return ``value`` as a float64 NumPy array of ``shape`` with finite entries.

    Raises:
        ParameterError: naming ``name``, the expected shape and what was given (non-numeric, wrong shape,
            NaN or infinite entries).
    """
    import numpy as np

    try:
        a = np.asarray(value)
        if a.dtype.kind not in "iuf":
            raise TypeError
        a = a.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} must be an array of real numbers of shape {shape}; got {value!r}") from None
    if a.size == int(np.prod(shape)) and a.shape != shape and a.ndim <= 1 and len(shape) == 1:
        a = a.reshape(shape)
    if a.shape != shape:
        raise ParameterError(f"{name} must have shape {shape}; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be finite; got {float(a[~np.isfinite(a)].reshape(-1)[0])!r} in it")
    return a


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a boolean (``True``/``False``, or a NumPy bool): no ``"no"``, no ``0``.

    Raises:
        ParameterError: naming ``name`` and the given value.
    """
    if isinstance(value, bool):
        return value
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return bool(value)
    except ImportError:  # pragma: no cover
        pass
    raise ParameterError(f"{name} must be True or False, got {value!r}")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``.

    Raises:
        ParameterError: naming ``name``, the allowed values and the given value.
    """
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
