"""``analysis.compare`` / ``xtrap compare``: methods on shared axes (issue 11, item 6: the paper's headline figure).

The curves are checked against hand-written NumPy loops (exact gradients: every seed gives the same run), the
verdicts against a difference that is there by construction (noisy SGD against noiseless gradient descent on the
same quadratic), divergence against a step past 2/L.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import problems
import xtrap
from analysis import compare
from xtrap.cli import main


def _quadratic() -> problems.Problem:
    return problems.make("quadratic", dim=5, L=2.0, mu=0.2, sigma2=0.0)


def test_exact_gradient_curves_are_the_numpy_loops() -> None:
    p = _quadratic()
    A, x0 = np.asarray(p.hessian(p.x0)), np.asarray(p.x0)
    eta, gamma, steps = 0.3, 0.2, 60
    out = compare(p, {"GD": xtrap.sgd(lr=eta, exact=True), "EG": xtrap.extragradient(lr=eta, extrap_lr=gamma)},
                  steps=steps, seeds=3, record_every=1)
    runs = {"GD": lambda x: x - eta * A @ x, "EG": lambda x: x - eta * A @ (x - gamma * A @ x)}
    for row in out["methods"]:
        xs = [x0]
        for _ in range(steps):
            xs.append(runs[row["label"]](xs[-1]))
        want_f = [0.5 * x @ A @ x for x in xs]  # f* = 0
        want_g = [float((A @ x) @ (A @ x)) for x in xs]
        np.testing.assert_allclose(row["curves"]["loss_gap"]["mean"], want_f, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(row["curves"]["grad_norm2"]["mean"], want_g, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(row["curves"]["loss_gap"]["se"], 0.0, atol=1e-15)  # every seed the same
        assert row["runs"] == 3 and row["diverged"] == 0
    assert out["f_star_source"] == "exact" and out["record_steps"] == list(range(steps + 1))


@pytest.mark.slow
def test_a_difference_that_is_there_is_found_and_divergence_is_counted_not_averaged(tmp_path) -> None:
    p = problems.make("quadratic", dim=10, L=1.0, mu=0.1, sigma2=1.0)
    out = compare(p, {"GD": xtrap.sgd(lr=0.5, exact=True), "SGD": xtrap.sgd(lr=0.5, batch=1),
                      "GD past 2/L": xtrap.sgd(lr=2.5, exact=True)}, steps=300, seeds=16, out_dir=tmp_path)
    gd, sgd, far = out["methods"]
    assert gd["final"]["loss_gap"]["mean"] < 1e-12  # noiseless GD converges
    assert sgd["versus_first"]["loss_gap"]["verdict"] == "higher"  # SGD sits at its noise floor, far above 0
    assert far["runs"] == 0 and far["diverged"] == 16  # lr = 2.5 > 2/L = 2: flagged, no mean of NaNs
    assert far["versus_first"]["loss_gap"]["verdict"] == "undecided"
    assert json.loads((tmp_path / "compare.json").read_text())["methods"][2]["diverged"] == 16
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# xtrap compare: quadratic") and "| 0 | 16 |" in report
    assert (tmp_path / "compare.png").stat().st_size > 10_000


def test_compare_refuses_misuse() -> None:
    p = _quadratic()
    for methods, match in [([], "one or more"), ([xtrap.sgd(lr=0.1), xtrap.sgd(lr=0.2)], "distinct names"),
                           ({"a": "sgd"}, r"methods\['a'\] must be an xtrap.Method"),
                           ([xtrap.sgd(lr=[0.1, 0.2])], "sweeps lr: a comparison runs each method at one setting")]:
        with pytest.raises(problems.ParameterError, match=match):
            compare(p, methods, steps=5, seeds=2)
    with pytest.raises(problems.ParameterError, match="seeds must be"):
        compare(p, [xtrap.sgd(lr=0.1)], steps=5, seeds=1)


@pytest.mark.slow
def test_the_cli_compares_built_in_and_user_methods(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "mine.py").write_text("import xtrap\n\ndef half(lr=0.1, batch=1):\n"
                                      "    return xtrap.extrap_sgd(lr=lr, extrap_lr=lr / 2, batch=batch)\n")
    monkeypatch.chdir(tmp_path)
    code = main(["compare", "--problem", "quadratic", "--param", "dim=3", "--methods", "sgd,extrap_sgd,mine.py:half",
                 "--lr", "0.2", "--batch", "2", "--steps", "40", "--seeds", "4", "--out", "c", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [m["label"] for m in out["methods"]] == ["sgd", "extrap_sgd", "half"]
    assert out["methods"][2]["hyper"]["extrap_lr"] == pytest.approx(0.1) and out["methods"][0]["hyper"]["batch"] == 2
    assert (tmp_path / "c" / "report.md").is_file()
    for argv, message in [(["--methods", "sgd,nope"], "--methods must name methods"),
                          (["--methods", "sgd,sgd"], "distinct methods"), (["--seeds", "1"], "--seeds"),
                          (["--methods", "mine.py:absent"], "has no attribute 'absent'")]:
        try:
            code = main(["compare", *argv, "--out", "d", "--steps", "5"])
        except SystemExit as err:
            code = err.code
        line = capsys.readouterr().err.strip()
        assert code == 2 and message in line and "\n" not in line, (argv, line)
    assert not (tmp_path / "d").exists()
