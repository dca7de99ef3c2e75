"""proofs.make_bound: a user's bound from text or sympy is an ordinary Bound that checks and asserts like the catalog's."""

from __future__ import annotations

import pytest
import sympy as sp

import problems
import proofs
import xtrap
from analysis.checks import check
from xtrap.testing import ClaimFailed, assert_obeys

C2_TEXT = "2*Delta/(eta*T) + L*eta*sigma2/b"


@pytest.mark.slow
def test_a_text_bound_equals_the_catalog_c2_everywhere_it_is_evaluated() -> None:
    """C2 retyped by a user: the same value at the same parameters, and the same verdict on the same run."""
    mine = proofs.make_bound("my-c2", C2_TEXT, measures="avg_grad_norm2", conditions={"step condition": "eta <= 1/L"})
    c2 = proofs.catalog()["C2"].bound
    vals = dict(Delta=1.7, eta=0.3, T=57, L=2.5, sigma2=0.8, b=3)
    assert mine.evaluate(**vals) == pytest.approx(c2.evaluate(**vals), rel=1e-15)
    p = problems.make("quadratic", dim=3, L=2.0, sigma2=1.0)
    r = xtrap.run(p, xtrap.sgd(lr=0.3, batch=2), steps=80, seeds=64)
    a, b = check(r, mine), check(r, c2)
    assert (a.verdict, a.measured, a.bound) == (b.verdict, b.measured, b.bound) == ("pass", b.measured, b.bound)
    assert assert_obeys(r, mine).verdict == "pass"
    with pytest.raises(proofs.AssumptionError, match="step condition eta <= 1/L violated"):
        mine.evaluate(**dict(vals, eta=0.5))


def test_a_false_user_bound_is_caught_by_assert_obeys() -> None:
    false = proofs.make_bound("tenth-of-c2", f"({C2_TEXT}) / 10", measures="avg_grad_norm2")
    with pytest.raises(ClaimFailed, match="tenth-of-c2"):
        assert_obeys((xtrap.sgd(lr=0.3), problems.make("quadratic", dim=3)), false, steps=80, seeds=64)


def test_names_sympy_keeps_for_itself_are_the_users_symbols_and_all_are_positive() -> None:
    b = proofs.make_bound("letters", "E*N/(S*I)", measures="loss_gap")
    assert b.parameters == ("E", "I", "N", "S") and b.evaluate(E=2.0, N=3.0, S=1.0, I=4.0) == 1.5
    with pytest.raises(proofs.AssumptionError, match="E must be >= 0"):
        b.evaluate(E=-1.0, N=1.0, S=1.0, I=1.0)
    x = sp.Symbol("x", real=True)  # sympy input keeps the user's own assumptions
    assert proofs.make_bound("s", x**2, measures="dist2").evaluate(x=-2.0) == 4.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(expr="2*Delta/(eta*T", measures="loss_gap"), "expr must be an expression in the bound's symbols"),
    (dict(expr="Delta", measures="loss"), "measures must be one of avg_grad_norm2"),
    (dict(expr="Delta", measures="loss_gap", relation="<"), "relation must be '<=', '>=' or '=='"),
    (dict(expr="Delta", measures="loss_gap", conditions={"step": "eta 1/L"}), "condition 'step' must be 'lhs REL rhs'"),
    (dict(expr="Delta", measures="loss_gap", conditions={"step": 3}), "condition 'step' must be text"),
    (dict(expr="Delta", measures="loss_gap", batch="both"), "RunScope batch must be one of fresh, same, any"),
])
def test_a_malformed_user_bound_is_refused_naming_the_part(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        proofs.make_bound("bad", **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(conditions=["eta <= 1/L"]), "conditions must be a mapping"),
    (dict(directions="local"), r"directions must be a tuple of names, e.g. \('local',\)"),
])
def test_sequence_arguments_are_not_strings(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        proofs.make_bound("bad", "Delta", measures="loss_gap", **kwargs)
