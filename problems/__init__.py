"""Objectives and stochastic oracles with exact constants and known minima.

Every problem follows the protocol of :class:`problems.Problem`; ``make(name, **params)``
builds one by name and ``names()`` lists them. Importing this package enables float64 in JAX:
exact constants and theory checks are meaningless in float32.
"""

import jax

jax.config.update("jax_enable_x64", True)

from ._base import Minimum, Problem, masked_mean, prefix_mask, pytree_dataclass, static_field  # noqa: E402
from ._registry import describe, make, names, parameters, register  # noqa: E402
from ._validate import ParameterError, check_choice, check_int, check_real  # noqa: E402
from .quadratic import Quadratic, make_quadratic, noisy_quadratic, quadratic  # noqa: E402

__all__ = [
    "Minimum", "Problem", "ParameterError", "Quadratic",
    "check_choice", "check_int", "check_real", "describe", "make", "make_quadratic", "masked_mean",
    "names", "noisy_quadratic", "parameters", "prefix_mask", "pytree_dataclass", "quadratic", "register",
    "static_field",
]
