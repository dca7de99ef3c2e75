"""An exact stationary value: SGD on a 1-D quadratic with additive noise (A3.SGD, [exact]).

From x* = 0, E f(x_t) = eta v / (4 - 2 eta lambda) (1 - r^(2t)) with r = 1 - eta lambda; after 2000 steps
r^(2t) is negligible wherever |r| < 0.99, so the mean final loss over 1000 runs must equal A3.SGD's value
within the error budget (two-sided).
"""

import pytest
from hypothesis import assume, given, settings

import problems
import xtrap
from xtrap.testing import admissible, assert_equals_exact


@pytest.mark.slow
@settings(settings.get_profile("xtrap-ci"))
@given(v=admissible("A3.SGD", eta=0.5, v=1.0))
def test_sgd_settles_at_the_exact_stationary_loss(v):
    assume(abs(1 - v["eta"] * v["lambda"]) < 0.99)
    p = problems.make_quadratic([v["lambda"]], noise_cov=[[v["v"]]], x0=[0.0])
    r = xtrap.run(p, xtrap.sgd(lr=v["eta"]), steps=2000, seeds=1000, record_every=2000)
    assert_equals_exact(r["loss"][:, -1], "A3.SGD", values=v, label="f(x_T) - f*")
