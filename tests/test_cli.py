"""The command line: every problem x every method gives finite JSON; bad input is one line, exit 2."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import problems
import xtrap
from xtrap.cli import main

METHOD_OPTIONS = {
    "sgd": ["--lr", "0.05"],
    "extrap_sgd": ["--lr", "0.05", "--workers", "2", "--batch", "2"],
    "global_extrap_sgd": ["--lr", "0.05", "--workers", "2"],
    "extragradient": ["--lr", "0.05", "--extrap-lr", "0.05"],
    "past_extrap": ["--lr", "0.05", "--extrap-lr", "0.02"],
    "noise_extrap": ["--lr", "0.05", "--extrap-lr", "0.01", "--law", "ball"],
    "sam": ["--lr", "0.05", "--rho", "0.01", "--momentum", "0.5", "--nesterov"],
    "usam": ["--lr", "0.05", "--rho", "0.01", "--momentum", "0.5"],
}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code = main(["run", "--json", *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_every_method_is_exercised() -> None:
    assert set(METHOD_OPTIONS) == set(xtrap.METHODS)


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(METHOD_OPTIONS))
@pytest.mark.parametrize("problem", problems.names())
def test_every_problem_and_method_gives_finite_numbers(capsys, problem: str, method: str) -> None:
    # step 0.05 is below 1/L for every default problem, so no run may diverge
    p = problems.make(problem)
    assert 0.05 * float(p.L) < 1.0, f"default {problem} has L={float(p.L)}; pick a smaller CLI step"
    d = run_json(capsys, "--problem", problem, "--method", method, "--steps", "60", "--seeds", "3",
                 *METHOD_OPTIONS[method])
    assert d["problem"] == problem and d["method"] == method
    for key in ("L", "f_star", "sigma2", "dim"):
        assert math.isfinite(d["constants"][key])
    final = d["final"]
    assert final["diverged"] == 0 and final["runs"] == 3
    assert math.isfinite(final["loss_mean"]) and math.isfinite(final["grad_norm2_mean"])
    # the loss is never below the problem's exact infimum
    assert final["loss_mean"] >= d["constants"]["f_star"] - 1e-9
    assert d["seconds"] > 0


@pytest.mark.slow
def test_sweep_json_lists_points(capsys) -> None:
    d = run_json(capsys, "--method", "sgd", "--lr", "0.1,2.5", "--batch", "1,4", "--steps", "200", "--seeds", "2")
    pts = d["final"]
    assert [(p["lr"], p["batch"]) for p in pts] == [(0.1, 1), (0.1, 4), (2.5, 1), (2.5, 4)]
    # eta = 2.5 > 2/L = 2 on the default quadratic (L = 1): GD-type divergence, flagged not averaged
    assert all(p["diverged"] == 2 and p["loss_mean"] is None for p in pts[2:])
    assert all(p["diverged"] == 0 and math.isfinite(p["loss_mean"]) for p in pts[:2])


@pytest.mark.slow
def test_out_file_round_trips(tmp_path, capsys) -> None:
    path = tmp_path / "r.npz"
    d = run_json(capsys, "--steps", "30", "--seeds", "2", "--out", str(path))
    r = xtrap.Result.load(path)
    assert r.attrs["complete"] and r["loss"].shape[0] == 2
    assert r["loss"][:, -1].mean() == pytest.approx(d["final"]["loss_mean"], rel=1e-12)


@pytest.mark.parametrize("argv, needle", [
    (["run", "--problem", "nope"], "problem must be one of"),
    (["run", "--method", "adam"], "method must be one of"),
    (["run", "--lr", "-0.1"], "--lr must be in (0, inf]"),
    (["run", "--lr", "abc"], "--lr"),
    (["run", "--momentum", "1.5"], "--momentum must be in [0, 1)"),
    (["run", "--batch", "0"], "--batch must be an integer in [1, 2147483647]"),
    (["run", "--param", "dim=0"], "dim"),
    (["run", "--param", "nonsense=1"], "no parameter 'nonsense'"),
    (["run", "--param", "dim"], "KEY=VALUE"),
    (["run", "--method", "sgd", "--rho", "0.1"], "no option 'rho'"),
    (["run", "--steps", "0"], "steps"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv: list[str], needle: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("xtrap: error:"), err
    assert needle in err
    assert "Traceback" not in err


def test_batch_larger_than_finite_sum_is_refused(capsys) -> None:
    finite = [n for n in problems.names() if problems.make(n).n is not None]
    assert finite, "no finite-sum family registered"
    name = finite[0]
    n = problems.make(name).n
    code = main(["run", "--problem", name, "--batch", str(n + 1), "--steps", "5", "--seeds", "1"])
    err = capsys.readouterr().err
    assert code == 2 and f"n={n}" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["problems", "methods"])
def test_listings(capsys, command: str) -> None:
    assert main([command, "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]  # one JSON object
    names = {it["name"] for it in items}
    assert names == (set(problems.names()) if command == "problems" else set(xtrap.METHODS))
    assert main([command]) == 0
    text = capsys.readouterr().out
    assert all(n in text for n in names)


@pytest.mark.slow
def test_console_script_help_and_error() -> None:
    ok = subprocess.run([sys.executable, "-m", "xtrap.cli", "run", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "--extrap-lr" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "xtrap.cli", "run", "--lr", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "lr" in bad.stderr


def test_run_check_refuses_parameters_outside_the_bound_before_running(capsys) -> None:
    code = main(["run", "--problem", "quadratic", "--param", "L=4", "--method", "sgd", "--lr", "0.3",
                 "--check", "C2", "--steps", "5", "--seeds", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "step condition eta <= 1/L violated: eta=0.3 > 1/L=0.25" in err


@pytest.mark.slow
def test_run_check_holds_a_run_against_a_catalog_bound(capsys) -> None:
    d = run_json(capsys, "--method", "extrap_sgd", "--lr", "0.5", "--extrap-lr", "0.5", "--check", "D1",
                 "--steps", "200", "--seeds", "40")  # 30 seeds at least decide (analysis.checks.MIN_SEEDS)
    c = d["check"]
    assert c["theorem"] == "D1" and c["relation"] == "<=" and c["verdict"] == "pass"
    assert 0 < c["ratio"] < 1 and c["n"] == 40


@pytest.mark.slow
def test_run_check_refuses_an_unknown_theorem_and_checks_a_sweep_point_by_point(capsys) -> None:
    assert main(["run", "--check", "Z3"]) == 2
    assert "--check must name a catalog theorem" in capsys.readouterr().err
    d = run_json(capsys, "--method", "extrap_sgd", "--lr", "0.1,1.5", "--check", "D1", "--steps", "100",
                 "--seeds", "40")
    # one verdict per grid point, each at its own parameters; lr = 1.5 breaks D1's step condition (L = 1)
    assert [pt["lr"] for pt in d["final"]] == [0.1, 1.5]
    assert [pt["check"]["verdict"] for pt in d["final"]] == ["pass", "refused"]
    assert "eta=1.5" in d["final"][1]["check"]["detail"] and "check" not in d
