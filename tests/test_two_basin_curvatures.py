"""two-basin's curvature parameters give the constant they are named after (issue 11, item 6).

``sharp_curvature`` / ``flat_curvature`` are the minimum's curvature along x_1, solved for; the wells' own curvatures
(before the n shifted copies are averaged) are ``sharp_well_curvature`` / ``flat_well_curvature``. The check
differentiates ``f`` itself (``jax.hessian`` of the objective at the minimum), not the family's profile formulas.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems


def _curvatures_of_f(p: problems.Problem) -> list[float]:
    """d^2 f / dx_1^2 at the sharp and the flat minimum, by automatic differentiation of f."""
    out = []
    for label in ("sharp", "flat"):
        m = next(m for m in p.minima if m.label == label)
        np.testing.assert_allclose(np.asarray(jax.grad(p.value)(jnp.asarray(m.x))), 0.0, atol=1e-9)  # a minimum
        out.append(float(jax.hessian(p.value)(jnp.asarray(m.x))[0, 0]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kw", [dict(sharp_curvature=30.0), dict(sharp_curvature=8.0, dim=1, n=16),
                                dict(sharp_curvature=40.0, spread=0.05), dict(flat_curvature=1.5, confinement=1.0),
                                dict(sharp_curvature=20.0, flat_curvature=2.0)])
def test_a_curvature_parameter_gives_that_curvature_at_its_minimum(kw) -> None:
    p = problems.make("two-basin", **kw)
    got = dict(zip(("sharp_curvature", "flat_curvature"), _curvatures_of_f(p)))
    for name, value in kw.items():
        if name in got:
            assert got[name] == pytest.approx(value, rel=1e-11), name


@pytest.mark.slow
def test_the_well_curvature_is_the_curvature_before_smoothing() -> None:
    default, well = problems.make("two-basin"), problems.make("two-basin", sharp_well_curvature=20.0)
    assert _curvatures_of_f(default) == _curvatures_of_f(well)  # the default is that well curvature
    sharp = _curvatures_of_f(problems.make("two-basin", sharp_well_curvature=40.0))[0]
    assert 20.0 < sharp < 40.0  # smoothed: below its well's 40
    assert _curvatures_of_f(problems.make("two-basin", sharp_well_curvature=40.0, spread=0.0, separation=12.0))[0] == \
        pytest.approx(40.0 + 0.01 / 2, rel=1e-6)  # no shifts, wells far apart: k_s + eps/2 (the family docstring)


@pytest.mark.slow
def test_an_unreachable_curvature_and_both_names_are_refused_clearly() -> None:
    with pytest.raises(problems.ParameterError, match=r"sharp_curvature must be at most (3\d\.\d+) here .*got 40") as e:
        problems.make("two-basin", sharp_curvature=40.0)  # spread 0.1 smooths any well below about 34
    cap = float(e.value.args[0].split("at most ")[1].split(" ")[0])
    p = problems.make("two-basin", sharp_curvature=0.999 * cap)  # just below the stated largest value: reachable
    assert _curvatures_of_f(p)[0] == pytest.approx(0.999 * cap, rel=1e-10)
    for kw, match in [(dict(sharp_curvature=0.5), "must keep the sharp minimum sharper than the flat one"),
                      (dict(flat_curvature=30.0), "must keep the sharp minimum sharper than the flat one"),
                      (dict(sharp_curvature=0.01), "sharp_curvature=0.01 cannot be had"),
                      (dict(flat_curvature=1e-4), "flat_curvature=0.0001 cannot be had")]:
        with pytest.raises(problems.ParameterError, match=match):
            problems.make("two-basin", **kw)
    with pytest.raises(problems.ParameterError, match="give sharp_curvature .* or sharp_well_curvature .*not both"):
        problems.make("two-basin", sharp_curvature=10.0, sharp_well_curvature=12.0)
    with pytest.raises(problems.ParameterError, match="flat_curvature must be"):
        problems.make("two-basin", flat_curvature=-1.0)
