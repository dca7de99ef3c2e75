"""A stability threshold: gradient descent is stable iff eta * lambda < 2 (A2.GD: lambda_max = 2/eta).

Just below the threshold every run stays bounded; just above, every run grows by orders of magnitude (a run
barely past 2/eta grows too slowly to hit the divergence radius, so growth counts as divergence).
"""

from hypothesis import given, settings

import problems
import proofs
import xtrap
from xtrap.testing import admissible, assert_diverges, assert_stable


@settings(settings.get_profile("xtrap-ci"))
@given(v=admissible("A2.GD"))
def test_gradient_descent_is_stable_exactly_below_two_over_eta(v):
    edge = proofs.catalog()["A2.GD"].bound.evaluate(**v)  # the largest stable curvature 2/eta
    gd = xtrap.sgd(lr=v["eta"], exact=True)
    assert_stable((gd, problems.make_quadratic([0.95 * edge], x0=[1.0])), steps=2000)
    assert_diverges((gd, problems.make_quadratic([1.05 * edge], x0=[1.0])), steps=2000)
