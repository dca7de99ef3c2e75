"""Hypothesis strategies for the objects of a claim: problem instances and methods.

* :func:`problems` draws instances of a problem family with valid parameters (each range checked against the
  family's own constructor before anything is drawn), shrinking towards small, simple instances;
* :func:`methods` draws methods of the framework over direction rule, base update and hyper-parameters.

The parameters of a theorem are drawn by :mod:`xtrap.testing.admissible`.

>>> from hypothesis import given
>>> @given(problems("quadratic", dim=2))
... def test_dim(p):
...     assert p.dim == 2
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

import problems as _problems
from problems import ParameterError

from ..methods import METHODS, Method

Range = Any  # a fixed value or a (low, high) tuple

# Where a family's parameters are drawn when the caller gives no range: small, fast, well-conditioned
# instances inside what the constructor accepts (tests/test_testing.py checks every endpoint against it).
FAMILY_DEFAULTS: dict[str, dict[str, Range]] = {
    "quadratic": dict(dim=(1, 8), L=(0.5, 4.0), mu_over_L=(0.0, 1.0), spacing=("geometric", "linear", "two"),
                      sigma2=(0.0, 2.0), rotate=(False, True), seed=(0, 2**16)),
    "least-squares": dict(dim=(1, 6), n=(8, 48), L=(0.5, 4.0), mu_over_L=(0.05, 1.0),
                          spacing=("geometric", "linear", "two"), noise=(0.0, 1.0), rotate=(False, True),
                          seed=(0, 2**16)),
    "cosine": dict(dim=(1, 3), a=(0.5, 4.0), b=(-1.0, 1.0), omega=(0.5, 5.0), noise=(0.0, 0.5), start=(-2.0, 2.0)),
    "huber": dict(L=(0.5, 4.0), D0=(0.5, 4.0), T=(1, 100), noise=(0.0, 0.5)),
    "logistic": dict(dim=(1, 4), n=(40, 120), reg=(0.0, 1.0), label_noise=(0.1, 0.5), starts=2, seed=(0, 2**16)),
    "noisy-quadratic": dict(dim=(1, 32), scale=(0.0, 2.0)),
    "two-basin": dict(dim=(1, 3), sharp_well_curvature=(2.0, 50.0), flat_well_curvature=(0.2, 2.0), sharp_depth=(0.5, 2.0),
                      flat_depth=(0.5, 2.0), separation=(2.0, 5.0), confinement=(0.0, 0.1), c=(0.5, 2.0),
                      n=(8, 64), spread=(0.0, 0.2), offset=(-1.0, 1.0), seed=(0, 2**16)),
}
DERIVED = {"mu_over_L": "mu"}  # constants given as ratios: mu = mu_over_L * L


def _value_strategy(key: str, spec: Range, default: Any) -> st.SearchStrategy[Any]:
    """A fixed value, a ``(low, high)`` range of the default's kind, or (a tuple of strings/bools) a choice."""
    if isinstance(spec, tuple) and spec and all(isinstance(v, (str, bool)) for v in spec):
        return st.sampled_from(spec)
    if not isinstance(spec, tuple):
        return st.just(spec)
    if len(spec) != 2:
        raise ParameterError(f"{key} must be a fixed value or a (low, high) tuple; got {spec!r}")
    lo, hi = spec
    for end in spec:
        if isinstance(end, bool) or not isinstance(end, (int, float)) or not math.isfinite(end):
            raise ParameterError(f"{key}: range ends must be finite numbers; got {spec!r}")
    if lo > hi:
        raise ParameterError(f"{key}: range (low, high) needs low <= high; got {spec!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if int(lo) != lo or int(hi) != hi:
            raise ParameterError(f"{key} is an integer parameter; its range must have integer ends, got {spec!r}")
        return st.integers(int(lo), int(hi))
    return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)


def problems(family: str, **ranges: Range) -> st.SearchStrategy[Any]:
    """Instances of the problem ``family`` with every parameter valid for its constructor.

    Each keyword is one of the family's parameters (``problems.parameters(family)``) or a constant given as a
    ratio (``mu_over_L`` for the quadratic families: :math:`\\mu=\\text{mu\\_over\\_L}\\cdot L`), and is a fixed value
    or a ``(low, high)`` tuple (integers for integer parameters). Parameters not given are drawn from
    :data:`FAMILY_DEFAULTS` (small, well-conditioned instances) or held at the constructor's default. Before
    anything is drawn, both ends of every range are built with the constructor, so a range outside what it
    accepts is an immediate :class:`~problems.ParameterError`, not a stream of failed examples. Examples shrink
    towards the low ends (small ``dim``, ``n``, noise).

    Fix ``dim`` (and ``n``) to keep all examples of one structure: problems are pytrees, so examples that
    differ only in constants reuse one compiled run (``xtrap.compiled_count()`` stays put).

    Raises:
        ParameterError: an unknown family or parameter, a malformed range, or an end the constructor refuses.

    >>> from hypothesis import given
    >>> @given(problems("quadratic", dim=3, L=(1.0, 2.0)))
    ... def test_L(p):
    ...     assert 1.0 <= p.L <= 2.0
    """
    if not isinstance(family, str) or family not in _problems.names():
        raise ParameterError(f"family must be one of {', '.join(_problems.names())}; got {family!r}")
    params = _problems.parameters(family)
    allowed = set(params) | {k for k in DERIVED if DERIVED[k] in params}
    for key in ranges:
        if key not in allowed:
            raise ParameterError(f"problems({family!r}): no parameter {key!r}; the family has "
                                 f"{', '.join(sorted(allowed))}")
    spec = dict(FAMILY_DEFAULTS.get(family, {}))
    for key, value in ranges.items():
        if key in ("mu", "mu_over_L"):  # one of the two fixes mu
            spec.pop("mu_over_L" if key == "mu" else "mu", None)
        spec[key] = value
    strategies = {k: _value_strategy(k, v, params.get(k, params.get(DERIVED.get(k, ""), 0.0)))
                  for k, v in spec.items()}

    def build(values: dict[str, Any]) -> Any:
        kw = dict(values)
        if "mu_over_L" in kw:
            kw["mu"] = kw.pop("mu_over_L") * kw.get("L", params.get("L", 1.0))
        if "n" in kw and "dim" in kw and family == "least-squares":
            kw["n"] = max(kw["n"], kw["dim"] + 1)  # n >= dim, + 1 with noise (the constructor's rule)
        return _problems.make(family, **kw)

    for end in (0, 1):  # both ends must be accepted by the constructor: a bad range fails now, by name
        corner = {k: (v[end] if isinstance(v, tuple) and len(v) == 2 and not isinstance(v[0], (str, bool))
                      else v[0] if isinstance(v, tuple) else v) for k, v in spec.items()}
        try:
            build(corner)
        except ParameterError as err:
            raise ParameterError(f"problems({family!r}, ...): the {'low' if end == 0 else 'high'} end of the ranges "
                                 f"is refused by the constructor: {err}") from None
    def build_or_reject(values: dict[str, Any]) -> Any:
        try:
            return build(values)
        except ParameterError:  # data-dependent refusals inside valid ranges (separable logistic data)
            from hypothesis import reject

            reject()

    return st.fixed_dictionaries(strategies).map(build_or_reject)


# ---- methods -------------------------------------------------------------------------------------------------

_BY_DIRECTION = {"none": "sgd", "local": "extrap_sgd", "global": "global_extrap_sgd", "past": "past_extrap",
                 "gaussian": "noise_extrap", "ball": "noise_extrap", "sphere": "noise_extrap", "sam": "sam",
                 "usam": "usam"}


def methods(direction: str | tuple[str, ...] | None = None, base: str | tuple[str, ...] | None = None, *,
            lr: Range = (0.01, 0.5), extrap_lr: Range = (0.0, 0.5), rho: Range = (0.0, 0.2),
            momentum: Range = (0.0, 0.9), batch: Range = (1, 8), workers: Range = 1) -> st.SearchStrategy[Method]:
    """Methods of the framework: a direction rule, a base update and hyper-parameters in the given ranges.

    ``direction`` is one of ``xtrap.DIRECTIONS`` or a tuple of them (default: all); ``base`` one of
    ``"sgd"``, ``"heavy_ball"``, ``"nesterov"`` or a tuple (default all). The method is built by the named
    constructor of its direction (``local`` -> :func:`xtrap.extrap_sgd`, ``none`` -> :func:`xtrap.sgd`, ...);
    ``momentum`` is drawn only for the momentum bases (``sgd`` has 0). Each range is a fixed value or a
    ``(low, high)`` tuple. Fix ``batch`` and ``workers`` to keep one compiled structure.

    >>> from hypothesis import given
    >>> @given(methods("local", "sgd", lr=(0.05, 0.2)))
    ... def test_local(m):
    ...     assert m.config.direction == "local"
    """
    from ..framework import BASES, DIRECTIONS

    dirs = tuple(DIRECTIONS) if direction is None else (direction,) if isinstance(direction, str) else tuple(direction)
    bases = tuple(BASES) if base is None else (base,) if isinstance(base, str) else tuple(base)
    for d in dirs:
        if d not in DIRECTIONS:
            raise ParameterError(f"direction must be one of {', '.join(DIRECTIONS)}; got {d!r}")
    for b in bases:
        if b not in BASES:
            raise ParameterError(f"base must be one of {', '.join(BASES)}; got {b!r}")
    s = {k: _value_strategy(k, v, 1 if k in ("batch", "workers") else 0.0)
         for k, v in dict(lr=lr, extrap_lr=extrap_lr, rho=rho, momentum=momentum, batch=batch, workers=workers).items()}

    @st.composite
    def one(draw: st.DrawFn) -> Method:
        d, b = draw(st.sampled_from(dirs)), draw(st.sampled_from(bases))
        name = _BY_DIRECTION[d]
        kw: dict[str, Any] = {"lr": draw(s["lr"])}
        if b != "sgd":
            kw.update(momentum=draw(s["momentum"].filter(lambda m: m > 0)), nesterov=b == "nesterov")
        if d in ("local", "global", "past", "gaussian", "ball", "sphere"):
            kw["extrap_lr"] = draw(s["extrap_lr"])
        if d in ("gaussian", "ball", "sphere"):
            kw["law"] = d
        if d in ("sam", "usam"):
            kw["rho"] = draw(s["rho"])
        kw.update(batch=draw(s["batch"]), workers=draw(s["workers"]))
        return METHODS[name](**kw)

    return one()


__all__ = ["FAMILY_DEFAULTS", "methods", "problems"]
