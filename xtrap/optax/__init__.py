"""The framework's methods as optax transformations, for ordinary training loops over any parameter pytree.

Extrapolating methods alternate an extrapolation call and an update call, driven by the loop (the convention of
``optax.contrib.sam``); :func:`make_step` does both gradient evaluations of a step in one compiled call, for
:math:`K` simulated workers. See ``docs/optax.md``.

>>> import xtrap, xtrap.optax
>>> sorted(xtrap.optax.METHODS) == sorted(xtrap.METHODS)   # every named method of xtrap
True
"""

from ._methods import extragradient, extrap_sgd, global_extrap_sgd, noise_extrap, past_extrap, sam, sgd, usam
from ._step import AXIS, StepInfo, make_step
from ._transform import DIRECTIONS, ExtrapState

METHODS = {"sgd": sgd, "extrap_sgd": extrap_sgd, "global_extrap_sgd": global_extrap_sgd,
           "extragradient": extragradient, "past_extrap": past_extrap, "noise_extrap": noise_extrap, "sam": sam,
           "usam": usam}
"""The constructors by name (the names of :data:`xtrap.METHODS`)."""

__all__ = ["AXIS", "DIRECTIONS", "METHODS", "ExtrapState", "StepInfo", "extragradient", "extrap_sgd",
           "global_extrap_sgd", "make_step", "noise_extrap", "past_extrap", "sam", "sgd", "usam"]
