"""Objectives and stochastic oracles with exact constants and known minima.

Every problem follows the protocol of :class:`problems.Problem`; ``make(name, **params)``
builds one by name and ``names()`` lists them. Importing this package enables float64 in JAX:
exact constants and theory checks are meaningless in float32.

Families: ``quadratic`` and ``noisy-quadratic`` (additive noise), ``least-squares`` (finite sum,
prescribed spectrum), ``two-basin`` (one sharp and one flat minimum, finite sum), ``cosine``
(separable nonconvex, many minima), ``logistic`` (nonconvex-regularised, synthetic data, finite sum),
``huber`` (the tight GD witness) and ``digits`` (a small smooth MLP on scikit-learn's handwritten digits,
with test loss and accuracy; its constants estimated). A user's own objective becomes a problem with :func:`from_function` or
:func:`from_samples` (any parameter pytree; constants not given are estimated, and labelled so). Finite sums share :class:`FiniteSum`: indices drawn without
replacement and the exact state-dependent variance ``sigma2_at(x)``.
"""

import jax

jax.config.update("jax_enable_x64", True)

from ._diagonal import DiagonalMatrix, eigvalsh  # noqa: E402
from ._base import IsotropicNoise, Minimum, Problem, masked_mean, prefix_mask, pytree_dataclass, static_field, uses_additive_oracle, uses_batch_mean_law  # noqa: E402
from ._registry import describe, make, names, parameter_help, parameters, register  # noqa: E402
from ._validate import ParameterError, check_array, check_bool, check_choice, check_int, check_real  # noqa: E402
from ._finite_sum import FiniteSum, without_replacement_factor  # noqa: E402
from .quadratic import Quadratic, make_quadratic, noisy_quadratic, quadratic  # noqa: E402
from .least_squares import LeastSquares, least_squares  # noqa: E402
from .two_basin import TwoBasin, two_basin  # noqa: E402
from .cosine import Cosine, cosine  # noqa: E402
from .logistic import Logistic, logistic  # noqa: E402
from .huber import Huber, huber  # noqa: E402
from .user import UserFiniteSum, UserProblem, from_function, from_samples  # noqa: E402
from .digits import Digits, digits  # noqa: E402

__all__ = [
    "Cosine", "DiagonalMatrix", "Digits", "FiniteSum", "Huber", "IsotropicNoise", "LeastSquares", "Logistic", "Minimum", "Problem", "ParameterError", "Quadratic",
    "TwoBasin", "UserFiniteSum", "UserProblem", "from_function", "from_samples",
    "check_array", "check_bool", "check_choice", "check_int", "check_real", "cosine", "describe", "digits", "eigvalsh", "huber", "least_squares", "logistic", "make",
    "make_quadratic", "masked_mean", "names", "noisy_quadratic", "parameter_help", "parameters", "prefix_mask", "pytree_dataclass",
    "quadratic", "register", "static_field", "two_basin", "uses_additive_oracle", "uses_batch_mean_law", "without_replacement_factor",
]
