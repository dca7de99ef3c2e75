"""xtrap: the unified extrapolation framework as compiled, vectorized JAX runs.

Importing xtrap enables float64 in JAX (via ``problems``): theory checks need it; pass
``dtype="float32"`` to :func:`run` for speed.
"""

import problems as _problems  # noqa: F401  (enables float64 first)

from ._devices import use_devices
from .directions import DirectionRule, StepHyper, directions, register_direction, worker_mean
from .framework import BASES, DIRECTIONS, NOISE_LAWS, Config, Draws, State, apply, draw, init, sample_noise, step
from .hyper import Hyper, grid, make_hyper, sweep_axes
from .methods import (METHODS, Method, extragradient, extrap_sgd, global_extrap_sgd, make_method, method,
                      noise_extrap, past_extrap, sam, sgd, usam)
from .result import Result
from .results_cache import ResultsCache, use_results_cache
from .run import compiled_count, run
from .schedules import Schedule, constant, inverse_time, step_decay, warmup

__all__ = [
    "BASES", "DIRECTIONS", "METHODS", "NOISE_LAWS", "Config", "DirectionRule", "Draws", "Hyper", "Method", "Result",
    "ResultsCache", "Schedule", "State", "StepHyper", "apply", "compiled_count", "constant", "directions", "draw", "extragradient",
    "extrap_sgd", "global_extrap_sgd", "grid", "init", "inverse_time", "make_hyper", "make_method", "method",
    "noise_extrap", "past_extrap", "register_direction", "run", "sam", "sample_noise", "sgd", "step", "step_decay",
    "sweep_axes", "use_devices", "use_results_cache", "usam", "warmup", "worker_mean",
]
