"""A deterministic rate: gradient descent's (1/T) sum_t ||grad f(x_t)||^2 falls like 1/T (B1's order).

On a strongly convex quadratic the sum of squared gradient norms converges, so its average over T steps is
S/T for large T: the fitted exponent's interval must contain -1.
"""

import pytest
import numpy as np
from hypothesis import given, settings

import xtrap
from analysis.checks import prefix_average
from xtrap.testing import assert_rate, problems


@pytest.mark.slow
@settings(settings.get_profile("xtrap-ci"))
@given(p=problems("quadratic", dim=4, mu_over_L=(0.2, 1.0), sigma2=0.0))
def test_gradient_descent_averaged_gradient_norm_falls_like_one_over_T(p):
    r = xtrap.run(p, xtrap.sgd(lr=1.0 / p.L, exact=True), steps=400, record_every=1)
    horizons = np.arange(200, 401, 25)
    assert_rate((horizons, prefix_average(r["grad_norm2"][0], horizons)), -1.0)
