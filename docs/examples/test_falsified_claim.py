"""A falsified claim, caught: "extragradient with gamma = eta decreases f for every eta <= 2/L" is false.

The true claim (eta <= 1/L, drawn from B5's step condition) passes; widening the step condition to 2/L
fails, and hypothesis shrinks the counterexample to one with eta > 1/L, where the top eigen-direction's factor
1 - eta L + eta^2 L^2 exceeds 1.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xtrap
from xtrap.testing import ClaimFailed, admissible, assert_monotone, problems

QUADRATICS = problems("quadratic", dim=5, sigma2=0.0, L=(0.5, 2.0), rotate=True)  # one structure: one compile


def extragradient_decreases_f(p, eta):
    assert_monotone(xtrap.run(p, xtrap.extragradient(lr=eta, extrap_lr=eta), steps=200), "loss")


@settings(settings.get_profile("xtrap-ci"))
@given(data=st.data(), p=QUADRATICS)
def test_extragradient_with_tied_steps_decreases_f(data, p):
    extragradient_decreases_f(p, data.draw(admissible("B5", problem=p))["eta"])


@pytest.mark.slow
def test_the_widened_claim_is_caught_with_a_shrunk_counterexample():
    seen = []

    @settings(settings.get_profile("xtrap-ci"), database=None, report_multiple_bugs=False)
    @given(data=st.data(), p=QUADRATICS)
    def widened(data, p):
        eta = data.draw(st.floats(0.01, 2.0 / p.L))
        seen.append((p.L, eta))
        extragradient_decreases_f(p, eta)

    with pytest.raises(ClaimFailed, match="not monotone"):
        widened()
    L, eta = seen[-1]  # hypothesis re-runs the shrunk counterexample last
    assert eta * L > 1.0
