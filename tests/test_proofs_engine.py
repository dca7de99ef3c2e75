"""The verification engine: it proves true claims, rejects false ones, and the whole catalog verifies.

Every strategy is exercised on a claim that holds and on a nearby claim that does not, so a
checker that says "yes" to everything fails these tests.
"""

from __future__ import annotations

import json

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import proofs
from proofs.engine import (Domain, Identity, Interval, Nonnegative, SlackCertificate, Theorem, prove_nonnegative,
                           unroll_linear, verify)
from xtrap.cli import main

eta, L, gamma, lam, mu, T, D = sp.symbols("eta L gamma lambda mu T Delta", positive=True)


def test_identity_accepts_equal_and_rejects_unequal() -> None:
    assert Identity("ok", (1 + eta) ** 2, 1 + 2 * eta + eta**2).check().ok
    bad = Identity("bad", (1 + eta) ** 2, 1 + 2 * eta + 2 * eta**2).check()
    assert not bad.ok and "eta**2" in bad.detail


def _d0_parts():
    """THEORY.md §4.5 example: the one-step claim of D0 with its three slacks."""
    sb, f0 = sp.symbols("sigma2_over_b f0", positive=True)
    a2, c2, ac, d2 = sp.symbols("A2 C2 AC D2", nonnegative=True)
    s = sp.symbols("s1 s2 s3", nonnegative=True)
    derived = f0 - eta * ac + L * eta**2 / 2 * (c2 + sb - s[1]) - s[0]
    derived = derived.subs(ac, sp.solve(sp.Eq(a2 - 2 * ac + c2, L**2 * d2 - s[2]), ac)[0])
    claim = f0 - eta / 2 * a2 - eta / 2 * (1 - L * eta) * c2 + eta * L**2 / 2 * d2 + L * eta**2 / 2 * sb
    return claim, derived, s, a2


def test_slack_certificate_accepts_the_d0_step_and_rejects_its_mutation() -> None:
    claim, derived, s, a2 = _d0_parts()
    assert SlackCertificate("D0", claim, derived, s).check().ok
    wrong = SlackCertificate("D0 wrong", claim - eta / 2 * a2, derived, s).check()
    assert not wrong.ok and "remainder" in wrong.detail


def test_slack_certificate_rejects_a_negative_slack_coefficient() -> None:
    s1 = sp.Symbol("s1", nonnegative=True)
    # claim - derived = (1 - 2 L eta) s1: nonnegative only for eta <= 1/(2L)
    ok_dom = Domain((Interval(eta, 0, 1 / (2 * L)),))
    bad_dom = Domain((Interval(eta, 0, 1 / L),))
    assert SlackCertificate("ok", (1 - 2 * L * eta) * s1, 0, (s1,), ok_dom).check().ok
    assert not SlackCertificate("bad", (1 - 2 * L * eta) * s1, 0, (s1,), bad_dom).check().ok


def test_nonnegative_on_a_domain_depends_on_the_domain() -> None:
    assert Nonnegative("", 1 - L * eta, Domain((Interval(eta, 0, 1 / L),))).check().ok
    assert not Nonnegative("", 1 - L * eta, Domain((Interval(eta, 0, 2 / L),))).check().ok


def test_strict_claims_fail_at_a_closed_endpoint_where_they_vanish() -> None:
    expr = eta * gamma * lam**2 - eta * lam + 2  # EG's 1 + r; vanishes at eta = 8 gamma, lambda = 1/(2 gamma)
    assert Nonnegative("", expr, Domain((Interval(eta, 0, 8 * gamma, hi_open=True),)), strict=True).check().ok
    assert not Nonnegative("", expr, Domain((Interval(eta, 0, 8 * gamma),)), strict=True).check().ok
    assert Nonnegative("", expr, Domain((Interval(eta, 0, 8 * gamma),)), strict=False).check().ok
    assert not Nonnegative("", expr, Domain((Interval(eta, 0, 9 * gamma),))).check().ok


def test_univariate_root_isolation_finds_the_exact_constant() -> None:
    x = sp.Symbol("x", positive=True)
    c = 1 - x - x / 2 * (1 + x) ** 2  # D2 with gamma = eta, x = L eta: min on (0, 1/4] is 71/128
    dom = Domain((Interval(x, 0, sp.Rational(1, 4), lo_open=True),))
    assert prove_nonnegative(c - sp.Rational(71, 128), dom)[0]
    assert not prove_nonnegative(c - sp.Rational(72, 128), dom)[0]


@given(st.fractions(min_value=0, max_value=3), st.fractions(min_value=0, max_value=3))
def test_nonnegative_never_proves_a_polynomial_negative_somewhere(a, b) -> None:
    """Soundness spot-check: (x - a)(x - b) is negative between distinct roots, so no proof may exist."""
    x = sp.Symbol("x", nonnegative=True)
    expr = (x - sp.Rational(a)) * (x - sp.Rational(b))
    proved, _ = prove_nonnegative(expr, Domain())
    assert proved == (a == b or (a == 0 and b == 0)) or (proved is False)
    if a != b:
        assert not proved


def test_unroll_linear_and_a_wrong_closed_form() -> None:
    steps = unroll_linear(1 - eta * mu, L * eta**2 / 2, D, T, Domain((Interval(mu, 0, L), Interval(eta, 0, 1 / L))))
    assert all(s.check().ok for s in steps)
    th = Theorem("x", "x", "x", "derived", "", steps=steps)
    assert verify(th).status == "verified"
    k = next(i for i, s in enumerate(steps) if "closed form solves" in s.description)
    wrong = th.replace_step(k, rhs=(1 - eta * mu) * steps[k].rhs)  # one contraction too many
    assert verify(wrong).status == "failed"


def test_cited_theorems_are_never_verified_and_derived_need_steps() -> None:
    cited = Theorem("c", "c", "t", "cited", "")
    assert verify(cited).status == "cited"
    assert verify(Theorem("d", "d", "t", "derived", "")).status == "failed"


def test_bound_refuses_violated_assumptions_with_the_values() -> None:
    b = proofs.Bound("X", "q", 2 * D / (eta * T), conditions=(proofs.Condition("step condition", eta, "<=", 1 / L),))
    assert b.evaluate(eta=0.25, L=4.0, Delta=1.0, T=8.0) == pytest.approx(1.0)
    with pytest.raises(proofs.AssumptionError, match=r"eta <= 1/L violated: eta=0.3 > 1/L=0.25"):
        b.evaluate(eta=0.3, L=4.0, Delta=1.0, T=8.0)
    with pytest.raises(proofs.AssumptionError, match="needs"):
        b.evaluate(eta=0.1, L=4.0)


def test_violation_of_a_compound_condition_reads_in_written_order_with_its_inputs() -> None:
    # 1 - L*gamma at L=4, gamma=0.5 is -1: the message keeps the written term order and names the inputs
    c = proofs.Condition("contraction c > 0", 1 - L * gamma, ">", 0)
    b = proofs.Bound("Y", "q", gamma, conditions=(c,))
    with pytest.raises(proofs.AssumptionError) as err:
        b.evaluate(L=4.0, gamma=0.5)
    assert str(err.value) == "bound Y: contraction c > 0 violated: 1 - L*gamma=-1 <= 0 (at L=4, gamma=0.5)"


CATALOG = proofs.catalog()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CATALOG))
def test_every_catalogued_theorem_verifies_or_is_cited(name: str) -> None:
    th = CATALOG[name]
    rep = verify(th)
    if th.status == "cited":
        assert rep.status == "cited" and not th.steps
    else:
        assert rep.status == "verified", [(o.step, o.detail) for o in rep.failures]
        assert th.steps and th.status in ("exact", "derived")


MUTATIONS = proofs.mutations()


def test_there_are_at_least_ten_mutations() -> None:
    assert len(MUTATIONS) >= 10, sorted(MUTATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("label", list(MUTATIONS))
def test_every_mutation_is_rejected(label: str) -> None:
    assert verify(MUTATIONS[label]).status == "failed"


def test_cli_proofs_json_and_exit_status(capsys) -> None:
    assert main(["proofs", "A2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["theorems"]  # one JSON object
    assert {r["section"] for r in rows} == {"A2"} and all(r["status"] == "verified" for r in rows)
    assert all({"name", "section", "status", "seconds"} <= set(r) for r in rows)
    assert main(["proofs", "NOPE"]) == 2
    assert "no theorem or section 'NOPE'" in capsys.readouterr().err


def test_cli_proofs_exits_nonzero_when_a_theorem_fails(capsys, monkeypatch) -> None:
    wrong = next(iter(MUTATIONS.values()))
    monkeypatch.setattr(proofs, "select", lambda names: [wrong])
    assert main(["proofs"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_a_bound_refuses_a_negative_value_of_a_symbol_derived_as_positive() -> None:
    # D2's only condition is c > 0; with gamma > 1/L it holds for eta < 0, where the derivation (eta > 0) says
    # nothing: the bound used to return -1.25 there. Zero stays allowed (sigma2 = 0: exact gradients).
    d2 = proofs.catalog()["D2"].bound
    v = dict(Delta=1.0, L=1.0, T=1.0, b=1.0, gamma=2.0, sigma2=1.0)
    with pytest.raises(proofs.AssumptionError, match=r"bound D2: eta must be >= 0 \(the derivation's sign assumption\)"):
        d2.evaluate(eta=-1.0, **v)
    assert "eta" in d2.signed_symbols
    assert proofs.catalog()["C2"].bound.evaluate(Delta=1.0, L=1.0, T=10.0, b=1.0, eta=0.5, sigma2=0.0) > 0
