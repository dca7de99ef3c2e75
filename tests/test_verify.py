"""``xtrap verify``: the declared checks, their evaluation, refusals, wrong bounds, the CLI and the report.

The whole quick verification runs once (marked slow); everything else uses one or two cheap checks.
"""

from __future__ import annotations

import dataclasses
import importlib
import json

import pytest

import analysis
import problems
import proofs
import xtrap
from analysis import CHECKS, Runner, declared_params, evaluate_check
from xtrap.cli import main

verify_module = importlib.import_module("analysis.verify.study")  # `analysis.verify` is the function; the room is analysis/verify/
evaluate_module = importlib.import_module("analysis.verify.evaluate")
report_module = importlib.import_module("analysis.verify.report")
sharp_flat_module = importlib.import_module("analysis.sharp_flat.study")


def _one(theorem: str, problem_label: str | None = None, **fields: object) -> analysis.CatalogCheck:
    for c in CHECKS:
        if c.theorem == theorem and (problem_label is None or c.problem.label == problem_label) and all(
                getattr(c, k) == v for k, v in fields.items()):
            return c
    raise LookupError(theorem)


def _scaled(name: str, factor: float) -> proofs.Bound:
    b = proofs.catalog()[name].bound
    return dataclasses.replace(b, expr=b.expr * factor, _fn=None)


# ---- the declarations ---------------------------------------------------------------------------------------


def test_every_check_maps_to_a_bound_and_its_params_cover_the_bound() -> None:
    catalog = proofs.catalog()
    runner = Runner("quick")
    assert len(CHECKS) >= 60
    for c in CHECKS:
        assert c.theorem in catalog and catalog[c.theorem].bound is not None, c.theorem
        bound = catalog[c.theorem].bound
        params = declared_params(c, runner.context(c))
        missing = set(bound.parameters) - set(params)
        assert not missing, f"{c.theorem} on {c.problem.label}: params lack {missing}"
        given = {k: params[k] for k in bound.parameters}
        if c.kind == "threshold" or c.expect == "pass":
            bound.check(**given)  # the declared instance satisfies the bound's assumptions
        else:
            with pytest.raises(proofs.AssumptionError):
                bound.check(**given)


def test_witnesses_have_tolerances_and_the_catalog_covers_the_brief() -> None:
    assert all(c.witness_tol is not None and 0 < c.witness_tol < 0.05 for c in CHECKS if c.witness)
    names = {c.theorem for c in CHECKS}
    for required in ("A1.GD", "A1.EG", "A1.USAM", "A1.NI", "A2.GD", "A2.EG", "A2.USAM", "A2.HB", "A2.NAG", "A2.PEG",
                     "A3.SGD", "A3.EG-indep", "A3.EG-same", "A3.USAM-same", "A3.NI", "A3.HB", "A3.PEG",
                     "A3.EXTRAP-K", "B1", "B2.witness", "B3", "B4", "B5", "B6", "C2", "C4", "C5", "C8", "D0",
                     "D0-K", "D1", "D1-K", "D2", "D3", "D4", "D5a", "D5b", "D1.floor", "D4.floor", "D5a.witness",
                     "H4"):
        assert required in names, required
    witnesses = {c.theorem for c in CHECKS if c.witness}
    assert {"B2.witness", "C2", "C4", "C5", "C8", "D1", "D4", "D5a", "H4"} <= witnesses
    for theorem in ("D0", "D1", "D2", "D3", "D4", "D5a", "D5b"):  # D-bounds on the quadratic and the cosine family
        assert {"aniso()", "cosine()"} <= {c.problem.label for c in CHECKS if c.theorem == theorem}
    assert [c.theorem for c in CHECKS if c.expect == "refused"] == ["C2"]


def test_build_and_runspec() -> None:
    a, b = analysis.build(max, x=1), analysis.build(max, x=1)
    assert a == b and hash(a) == hash(b) and a.label == "max(x=1)"
    with pytest.raises(ValueError, match="level"):
        CHECKS[0].run.at("medium")


# ---- evaluation: refusal, wrong bounds, thresholds ------------------------------------------------------------


@pytest.mark.slow
def test_declared_refusal_is_refused_and_strict_check_raises() -> None:
    check = _one("C2", expect="refused")
    runner = Runner("quick")
    res = evaluate_check(check, runner)
    assert res.verdict == "refused" and "eta <= 1/L" in res.detail
    assert runner.runs == 0  # refused before spending a run
    ctx = runner.context(check)
    bound = proofs.catalog()["C2"].bound
    params = {k: declared_params(check, ctx)[k] for k in bound.parameters}
    result = xtrap.run(ctx.problem, ctx.method, steps=20, seeds=4)
    with pytest.raises(proofs.AssumptionError, match="eta <= 1/L"):
        analysis.check(result, bound, strict=True)  # the run's own parameters: its eta is outside C2's condition
    assert analysis.check(result, bound, strict=False).verdict == "refused"
    with pytest.raises(problems.ParameterError, match=f"T={params['T']!r} but the run has T=20"):
        analysis.check(result, bound, params)  # the declared horizon is not this 20-step run's


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_a_wrong_bound_fails_at_a_deterministic_witness(monkeypatch, factor: float) -> None:
    check = _one("B2.witness")
    assert evaluate_check(check, Runner("quick")).verdict == "pass"
    monkeypatch.setattr(evaluate_module, "theorem_bound", lambda name: _scaled(name, factor))
    res = evaluate_check(check, Runner("quick"))
    assert res.verdict == "fail" and res.ratio == pytest.approx(1 / factor, rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("theorem", ["C4", "D1"])
def test_a_wrong_bound_fails_at_a_statistical_witness(monkeypatch, theorem: str) -> None:
    check = _one(theorem, "iso()", witness=True)
    runner = Runner("quick")
    good = evaluate_check(check, runner)
    assert good.verdict == "pass" and abs(good.ratio - 1) < check.witness_tol
    monkeypatch.setattr(evaluate_module, "theorem_bound", lambda name: _scaled(name, 0.5))
    bad = evaluate_check(check, runner)  # same cached run, half the bound: violated by far more than 4 SE
    assert bad.verdict == "fail" and bad.ratio == pytest.approx(2 * good.ratio)


def test_a_wrong_threshold_is_misclassified(monkeypatch) -> None:
    check = _one("A2.GD")
    assert evaluate_check(check, Runner("quick")).verdict == "pass"
    monkeypatch.setattr(evaluate_module, "theorem_bound", lambda name: _scaled(name, 1.01))  # 2.02/eta: too high
    res = evaluate_check(check, Runner("quick"))
    assert res.verdict == "fail" and res.measured == 0.5 and "want stable" in res.detail


# ---- the CLI --------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny(monkeypatch):
    """A fast `xtrap verify`: a given check list, no proofs (counts stubbed), no rate fits, no figures."""

    def use(checks, failed_proofs: int = 0) -> None:
        monkeypatch.setattr(verify_module, "CHECKS", list(checks))
        monkeypatch.setattr(verify_module, "proof_counts", lambda progress=False: (
            {"verified": 3, "failed": failed_proofs, "cited": 1}, ["X"] * failed_proofs, False))
        monkeypatch.setattr(verify_module, "rate_fits", lambda runner: [])
        monkeypatch.setattr(report_module, "figures_for", lambda *a, **k: [])
        monkeypatch.setattr(sharp_flat_module, "sharp_flat", _fake_sharp_flat)

    return use


def _fake_sharp_flat(level, out_dir=None, **kw):
    """Stands in for the sharp-vs-flat study (tested in test_sharp_flat.py): one row, one claim of each kind."""
    return {"basins": [{}], "claims": [{"claim": c, "holds": True} for c in ("G2", "G3", "G4", "G5")]}


def test_report_links_the_sharp_flat_study(tiny, capsys, tmp_path) -> None:
    tiny([_one("B2.witness")])
    assert _cli(capsys, "--out", str(tmp_path))[0] == 0
    report = (tmp_path / "report.md").read_text()
    assert "[sharp-flat/report.md](sharp-flat/report.md)" in report and "G2: 1 held, 0 did not" in report
    assert _cli(capsys, "--no-sharp-flat", "--out", str(tmp_path / "b"))[0] == 0
    assert "xtrap sharp-flat --quick" in (tmp_path / "b" / "report.md").read_text()


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["verify", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_passes_and_prints_json(tiny, capsys, tmp_path) -> None:
    tiny([_one("B2.witness"), _one("C2", expect="refused")])
    code, out, err = _cli(capsys, "--quick", "--json", "--out", str(tmp_path / "r"))
    assert code == 0, err
    d = json.loads(out)
    assert d["passed"] and d["proofs"] == {"verified": 3, "failed": 0, "cited": 1} and d["seconds"] > 0
    assert [r["verdict"] for r in d["checks"]] == ["pass", "refused"]
    for row in d["checks"]:
        for key in ("theorem", "problem", "method", "measured", "bound", "ratio", "verdict", "witness"):
            assert key in row
    assert (tmp_path / "r" / "report.md").exists()


def test_cli_exit_1_on_a_failed_check(tiny, capsys, monkeypatch, tmp_path) -> None:
    tiny([_one("B2.witness")])
    monkeypatch.setattr(evaluate_module, "theorem_bound", lambda name: _scaled(name, 0.5))
    code, out, _ = _cli(capsys, "--out", str(tmp_path))
    assert code == 1 and "FAILED" in out and "expected pass" in out


def test_cli_exit_1_on_an_unexpected_refusal_or_a_failed_proof(tiny, capsys, tmp_path) -> None:
    refusal = _one("C2", expect="refused")
    tiny([dataclasses.replace(refusal, expect="pass")])
    assert _cli(capsys, "--out", str(tmp_path))[0] == 1
    tiny([refusal], failed_proofs=1)
    assert _cli(capsys, "--out", str(tmp_path))[0] == 1


@pytest.mark.parametrize("argv, needle", [
    (["--quick", "--full"], "not allowed with argument"),
    (["--bogus"], "unrecognized arguments"),
])
def test_cli_bad_arguments_exit_2(capsys, argv: list[str], needle: str) -> None:
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == "" and needle in err and len(err.strip().splitlines()) == 1


def test_cli_out_must_be_a_folder(capsys, tmp_path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = _cli(capsys, "--out", str(f))
    assert code == 2 and "--out must be a folder" in err


# ---- the whole quick verification, once ----------------------------------------------------------------------


@pytest.mark.slow
def test_quick_verification_passes_and_writes_the_report(tmp_path) -> None:
    # in its own process, as a user runs it: after the rest of the suite, XLA's compiler crashed in-process
    # (segmentation fault compiling a G2 run) with over a thousand earlier programs compiled in the same process
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "xtrap.cli", "verify", "--quick", "--json", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=3000)
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    assert out, err[-2000:]
    d = json.loads(out)
    bad = [(r["theorem"], r["problem"], r["verdict"], r["detail"]) for r in d["checks"] if not r["ok"]]
    assert code == 0 and d["passed"], bad
    assert d["proofs"]["failed"] == 0 and d["proofs"]["verified"] > 50
    assert len(d["checks"]) == len([c for c in CHECKS if "quick" in c.levels])
    assert all(r["consistent"] for r in d["rates"]) and {r["proved"] for r in d["rates"]} == {-1.0}
    assert any(r["witness"] and r["verdict"] == "pass" for r in d["checks"])
    assert [r["verdict"] for r in d["checks"] if r["expected"] == "refused"] == ["refused"]
    for name in ("report.md", "horizon.png", "tightness.png", "stability.png", "speedup.png"):
        assert (tmp_path / name).stat().st_size > 0
    text = (tmp_path / "report.md").read_text()
    assert "PASSED" in text and "| theorem |" in text and "seeds" in text
