"""A stochastic upper bound: EXTRAP-SGD obeys D1 on every admissible quadratic, step and extrapolation."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xtrap
from xtrap.testing import admissible, assert_obeys, problems


@pytest.mark.slow
@settings(settings.get_profile("xtrap-ci"))
@given(data=st.data(), p=problems("quadratic", dim=10, sigma2=(0.1, 2.0)))
def test_extrap_sgd_obeys_d1(data, p):
    v = data.draw(admissible("D1", problem=p, T=50, b=1))
    method = xtrap.extrap_sgd(lr=v["eta"], extrap_lr=v["gamma"], batch=v["b"])
    assert_obeys((method, p), "D1", steps=v["T"], seeds=128)
