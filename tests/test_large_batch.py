"""``analysis.large_batch`` / ``xtrap large-batch``: test accuracy against batch size on the digits MLP (issue 14).

The pieces are held against independent references: the learning-rate rule and schedule against the formulas written
out here, the intervals against SciPy's own (``scipy.stats.t.interval``, ``ttest_ind(...).confidence_interval``) and a
tabulated quantile, the stability thresholds against the spectral radius of the linear recursion built in NumPy and
against ``xtrap.run`` itself, the noise scale against per-sample gradients, the claims against cells whose answer is
known by construction. The end-to-end test runs the command at its tiny level and recomputes every number of the
accuracy table from the saved JSON.
"""

from __future__ import annotations

import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import problems
import xtrap
from analysis.large_batch import (NO_SCALING, claims, level_config, lr_rule, mean_ci, nag_constant, noise_scale,
                                  schedule, stable, start_claim, steps_per_epoch, threshold, welch)
from analysis.large_batch.report import accuracy_cell
from xtrap.cli import main


# ---- the protocol -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [1, 16, 64, 256, 1000, 1437])
def test_lr_rule_is_goyal_linear_scaling_and_the_schedule_warms_up_over_five_epochs(batch) -> None:
    assert lr_rule(batch) == pytest.approx(0.1 * batch / 256, rel=1e-15)
    n = 1437
    spe = -(-n // batch)  # ceil(n / B), written independently
    assert steps_per_epoch(batch, n) == spe
    s = schedule(lr_rule(batch), batch, n)
    t = np.arange(0, 7 * spe)
    want = lr_rule(batch) * np.minimum(1.0, (t + 1.0) / (5 * spe))
    np.testing.assert_allclose(np.asarray(s(t)), want, rtol=1e-14, atol=0)
    assert s.at(5 * spe - 1) == pytest.approx(lr_rule(batch), rel=1e-15) and s.at(0) < s.at(1)


def test_protocol_inputs_out_of_range_are_parameter_errors_naming_them() -> None:
    for call, name in ((lambda: lr_rule(0), "batch"), (lambda: steps_per_epoch(2000, 1437), "batch"),
                       (lambda: level_config("huge"), "level"), (lambda: level_config("quick", seeds=1), "seeds"),
                       (lambda: schedule(0.1, 16, 1437, warmup_epochs=-1), "warmup_epochs")):
        with pytest.raises(problems.ParameterError, match=name):
            call()
    cfg = level_config("quick", seeds=3)
    assert cfg["seeds"] == 3 and cfg["sharpness_seeds"] == 2 and cfg["batches"][-1] == 1437
    assert level_config("full")["batches"][0] == 16 and level_config("tiny", seeds=2)["sharpness_seeds"] == 1


# ---- statistics ----------------------------------------------------------------------------------------------------
def test_mean_ci_is_scipys_t_interval_and_drops_diverged_runs() -> None:
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 17):
        a = rng.normal(0.9, 0.05, n)
        got = mean_ci(np.concatenate([a, [np.nan, np.inf]]))
        lo, hi = stats.t.interval(0.95, n - 1, loc=a.mean(), scale=stats.sem(a))
        assert got["n"] == n and got["dropped"] == 2
        np.testing.assert_allclose([got["low"], got["high"]], [lo, hi], rtol=1e-13)
    five = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])  # s = sqrt(2.5): half = t_{0.975,4} sqrt(2.5)/sqrt(5), t from tables
    assert five["half"] == pytest.approx(2.7764451 * math.sqrt(0.5), rel=1e-7)
    one = mean_ci([0.5, float("nan")])
    assert one["mean"] == 0.5 and math.isnan(one["half"]) and one["n"] == 1
    assert math.isnan(mean_ci([float("nan")])["mean"])
    with pytest.raises(problems.ParameterError, match="confidence"):
        mean_ci([1.0, 2.0], confidence=1.0)


def test_welch_is_scipys_interval_and_its_verdicts_follow_the_interval() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.95, 0.01, 6), rng.normal(0.93, 0.03, 4)
    got = welch(np.append(a, np.nan), b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    np.testing.assert_allclose([got["low"], got["high"]], [ci.low, ci.high], rtol=1e-12)
    assert got["verdict"] == ("higher" if ci.low > 0 else "lower" if ci.high < 0 else "indistinguishable")
    assert welch([0.9, 0.91, 0.92], [0.95, 0.96, 0.97])["verdict"] == "lower"
    assert welch([0.95, 0.96, 0.97], [0.9, 0.91, 0.92])["verdict"] == "higher"
    assert welch([0.9, 0.95, 1.0], [0.91, 0.96, 0.99])["verdict"] == "indistinguishable"
    assert welch([0.9, 0.9], [0.8, 0.8])["verdict"] == "higher"  # no spread: the point difference decides
    assert welch([0.9], [0.8, 0.7])["verdict"] == "undecided"


# ---- theory -----------------------------------------------------------------------------------------------------
def _radius(lam: float, lr: float, beta: float, gamma: float = 0.0) -> float:
    """Spectral radius of Nesterov (PyTorch form) fed the extrapolated gradient lam (1 - gamma lam) c, state (c, m)."""
    h = lam * (1 - gamma * lam)  # d h / d c
    # m' = beta m + h c;  c' = c - lr (h c + beta m') = (1 - lr h (1 + beta)) c - lr beta^2 m
    a = np.array([[1 - lr * h * (1 + beta), -lr * beta * beta], [h, beta]])
    return float(np.max(np.abs(np.linalg.eigvals(a))))


@pytest.mark.parametrize("lr, beta", [(0.5, 0.9), (0.00625, 0.9), (1.0, 0.0), (0.2, 0.5)])
def test_nag_threshold_is_where_the_spectral_radius_crosses_one(lr, beta) -> None:
    t = threshold("nag", lr=lr, momentum=beta)
    assert t["theorem"] == "A2.NAG" and t["status"] == "exact"
    assert t["threshold"] == pytest.approx(2 * (1 + beta) / ((1 + 2 * beta) * lr), rel=1e-14)
    assert _radius(t["threshold"] * (1 - 1e-6), lr, beta) < 1 < _radius(t["threshold"] * (1 + 1e-6), lr, beta)
    assert nag_constant(beta) == pytest.approx(2 * (1 + beta) / (1 + 2 * beta), rel=1e-15)
    assert threshold("noise", lr=lr, momentum=beta)["threshold"] == t["threshold"]


@pytest.mark.parametrize("lr, gamma, beta", [(0.5, 0.5, 0.9), (2.0, 0.05, 0.9), (3.0, 0.1, 0.0), (0.1, 0.4, 0.5)])
def test_extrap_stability_is_the_spectral_radius_of_the_recursion(lr, gamma, beta) -> None:
    lams = np.linspace(0.01, 1.5 / gamma, 997)
    pred = np.array([stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=beta) for lam in lams])
    rad = np.array([_radius(lam, lr, beta, gamma) for lam in lams])
    near = np.abs(rad - 1) < 1e-9  # marginal points are neither
    np.testing.assert_array_equal(pred[~near], (rad < 1)[~near])
    t = threshold("extrap", lr=lr, extrap_lr=gamma, momentum=beta)["threshold"]
    assert _radius(t * (1 - 1e-7), lr, beta, gamma) < 1 <= _radius(t * (1 + 1e-7), lr, beta, gamma) + 1e-12
    assert all(stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=beta) for lam in lams[lams < t * (1 - 1e-9)])
    if lr > 4 * gamma * nag_constant(beta):  # the band: stable again between lambda_+ and 1/gamma
        assert t < 1 / gamma and stable("extrap", 0.999 / gamma, lr=lr, extrap_lr=gamma, momentum=beta)


@pytest.mark.parametrize("lam, diverges", [(1.9, False), (2.1, True)])
def test_the_extrap_threshold_is_xtraps_own_deterministic_extragradient_with_nesterov(lam, diverges) -> None:
    """gamma = eta = 0.5: the threshold is 1/gamma = 2; xtrap's exact-gradient EG with Nesterov agrees."""
    lr = gamma = 0.5
    assert threshold("extrap", lr=lr, extrap_lr=gamma, momentum=0.9)["threshold"] == pytest.approx(2.0)
    assert stable("extrap", lam, lr=lr, extrap_lr=gamma, momentum=0.9) is (not diverges)
    p = problems.make("quadratic", dim=1, L=lam, mu=lam, sigma2=0.0)
    r = xtrap.run(p, xtrap.extragradient(lr=lr, extrap_lr=gamma, momentum=0.9, nesterov=True), steps=3000,
                  diverge_radius=1e6)
    assert bool(np.asarray(r["diverged"]).item()) is diverges
    if not diverges:
        assert float(np.asarray(r["loss"])[..., -1].item()) < 1e-20


def test_sam_has_no_threshold_and_bad_kinds_are_refused() -> None:
    t = threshold("sam", lr=0.5, momentum=0.9)
    assert t["status"] == "reference" and stable("sam", 1.0, lr=0.5, momentum=0.9) is None
    with pytest.raises(problems.ParameterError, match="kind"):
        threshold("usam", lr=0.5, momentum=0.9)
    with pytest.raises(problems.ParameterError, match="lr"):
        threshold("nag", lr=0.0, momentum=0.9)


def test_noise_scale_is_the_per_sample_variance_over_the_squared_gradient() -> None:
    from analysis.large_batch.study import _b_noise

    p = problems.make("digits", hidden=3, estimate_points=1)
    x = np.asarray(p.x0) + 0.1
    g = np.asarray(jax.vmap(lambda i: p.sample_grad(jnp.asarray(x), i))(jnp.arange(p.n)))  # each sample's own
    mean = g.mean(axis=0)
    want_s2, want_g2 = float(((g - mean) ** 2).sum(axis=1).mean()), float(mean @ mean)
    got = _b_noise(p, x)
    assert got["sigma2"] == pytest.approx(want_s2, rel=1e-10) and got["grad_norm2"] == pytest.approx(want_g2, rel=1e-10)
    assert got["b_noise"] == pytest.approx(want_s2 / want_g2, rel=1e-10)
    assert noise_scale(1.0, 0.0) == math.inf


# ---- claims --------------------------------------------------------------------------------------------------------
def _cell(label, batch, acc, train=None, loss=None, lam=(), th=10.0, status="exact", start=0.5, failed=False):
    acc = list(acc)
    return {"label": label, "batch": batch, "test_accuracy": acc, "train_accuracy": list(train or [a + 0.02 for a in acc]),
            "loss": list(loss or [0.1] * len(acc)), "lambda_max": list(lam) or [1.0, 1.1], "threshold": th,
            "status": status, "start_ratio": start, "failed": failed}


def test_claims_find_what_the_cells_hold_by_construction() -> None:
    small = _cell("SGD", 16, [0.96, 0.965, 0.97, 0.962], loss=[0.05, 0.051, 0.049, 0.05], lam=[1.0, 1.1])
    large = _cell("SGD", 1437, [0.90, 0.905, 0.91, 0.902], train=[0.99, 0.99, 0.99, 0.99],
                  loss=[0.2, 0.21, 0.19, 0.2], lam=[2.0, 2.1], th=2.05)
    cells = [small, large, _cell("EXTRAP-SGD", 16, [0.96, 0.97, 0.96]), _cell("EXTRAP-SGD", 1437, [0.95, 0.951, 0.949]),
             _cell(NO_SCALING, 1437, [0.5, 0.52, 0.49])]
    out = {c["claim"]: c for c in claims(cells, [16, 1437], b_noise=60.0, methods=["SGD", "EXTRAP-SGD"])}
    assert out["gap: large-batch SGD loses test accuracy"]["holds"] is True
    assert out["train-test gap grows with the batch"]["holds"] is True
    assert out["EXTRAP-SGD helps at the largest batch"]["holds"] is True
    assert out["scaling matters: unscaled SGD is worse at the largest batch"]["holds"] is True
    assert out["noise scale: batches beyond B_noise end at a higher training loss"]["holds"] is True
    assert out["sharper at large batch (SGD's final lambda_max)"]["holds"] is True
    sgd = out["stability filter: SGD"]
    assert sgd["holds"] is False and "B=1437 (2.1 >= 2.05)" in sgd["detail"]  # 2.1 above, 2.0 below
    assert out["stability filter: EXTRAP-SGD"]["holds"] is True
    # the opposite construction: no gap, no help, B_noise outside the batches: no prediction
    same = [_cell("SGD", 16, [0.96, 0.965, 0.97]), _cell("SGD", 1437, [0.97, 0.96, 0.965]),
            _cell("EXTRAP-SGD", 1437, [0.94, 0.945, 0.94])]
    out = {c["claim"]: c for c in claims(same, [16, 1437], b_noise=5000.0, methods=["SGD", "EXTRAP-SGD"])}
    assert out["gap: large-batch SGD loses test accuracy"]["holds"] is False
    assert out["gap: large-batch SGD loses test accuracy"]["verdict"] == "indistinguishable"
    assert out["EXTRAP-SGD helps at the largest batch"]["verdict"] == "lower"
    assert out["noise scale: batches beyond B_noise end at a higher training loss"]["holds"] is None
    assert out["scaling matters: unscaled SGD is worse at the largest batch"]["holds"] is None  # not measured
    ref = claims([_cell("SAM", 16, [0.9, 0.9], status="reference"), *same], [16, 1437], 60.0, ["SGD", "SAM"])
    assert next(c for c in ref if c["claim"] == "stability filter: SAM")["holds"] is None


def test_the_start_filter_claim_compares_the_failed_cells_with_those_started_above_threshold() -> None:
    ok = [_cell("SGD", 16, [0.9, 0.9]), _cell("EXTRAP-SGD", 1437, [0.1, 0.1], start=1.3, failed=True)]
    assert start_claim(ok, ["SGD", "EXTRAP-SGD"])["holds"] is True
    missed = ok + [_cell("SGD", 1437, [0.1, 0.1], start=0.9, failed=True)]  # failed although below threshold
    assert start_claim(missed, ["SGD", "EXTRAP-SGD"])["holds"] is False
    survived = [_cell("SGD", 1437, [0.9, 0.9], start=1.1)]  # above threshold at the start, trained anyway
    assert start_claim(survived, ["SGD"])["holds"] is False
    assert start_claim([_cell("SGD", 16, [0.9, 0.9])], ["SGD"])["holds"] is None  # nothing to predict
    assert start_claim([_cell("SAM", 16, [0.9, 0.9], status="reference", start=None)], ["SAM"])["holds"] is None


def test_a_diverged_run_is_counted_and_left_out_of_the_table_entry() -> None:
    c = {"summary": {"test_accuracy": mean_ci([0.9, 0.92, float("nan")])}, "diverged": [False, False, True]}
    assert accuracy_cell(c) == "0.910 ± 0.127 (2 runs, **1 diverged**)"


def test_the_docstring_examples_run() -> None:
    import doctest
    import importlib

    for name in ("protocol", "stats", "theory"):  # (the package's names "claims", ... are its functions)
        module = importlib.import_module(f"analysis.large_batch.{name}")
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted >= 3, name


# ---- the command ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1"], "--seeds must be an integer in [2,"), (["--seeds", "x"], "--seeds"),
    (["--quick", "--full"], "not allowed"),
    (["--out", "a", "--out", "b"], "given twice"), (["--bogus"], "unrecognized"),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, message, capsys, tmp_path) -> None:
    assert main(["large-batch", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("xtrap: error:") and message in err and "\n" not in err


def test_a_foreign_folder_or_a_file_is_refused_before_any_run(capsys, tmp_path) -> None:
    (tmp_path / "theirs.txt").write_text("not ours")
    assert main(["large-batch", "--out", str(tmp_path)]) == 2
    assert "xtrap did not write" in capsys.readouterr().err
    assert main(["large-batch", "--out", str(tmp_path / "theirs.txt")]) == 2
    assert "is a file" in capsys.readouterr().err


_ROW = re.compile(r"^\| (?P<label>[^|]+?) \| (?P<cells>.+) \|$")
_ENTRY = re.compile(r"(?P<mean>\d\.\d{3}) ± (?P<half>\d\.\d{3}) \((?P<n>\d+) runs(?:, \*\*(?P<div>\d+) diverged\*\*)?\)")


@pytest.mark.slow
def test_the_tiny_study_writes_every_file_and_its_table_is_the_json_recomputed(capsys, tmp_path) -> None:
    out = tmp_path / "lb"
    assert main(["large-batch", "--tiny", "--out", str(out), "--json", "--svg"]) == 0
    printed = json.loads(capsys.readouterr().out)  # one strict JSON object
    for name in ("report.md", "large_batch.json") + tuple(f"{s}.{e}" for s in (
            "accuracy_vs_batch", "sharpness_vs_batch", "training_curves") for e in ("png", "svg")):
        assert (out / name).stat().st_size > 1000, name
    saved = json.loads((out / "large_batch.json").read_text())
    assert saved["complete"] and saved["cells"] == printed["cells"] and saved["claims"] == printed["claims"]
    cells = {(c["label"], c["batch"]): c for c in saved["cells"]}
    assert set(saved["methods"]) == {"SGD", "EXTRAP-SGD", NO_SCALING} and saved["batches"] == [64, 1437]
    report = (out / "report.md").read_text()
    assert report.startswith("# xtrap large-batch")
    table = report.split("## Test accuracy against batch size")[1].split("\n\n")[2].splitlines()
    assert table[0] == "| method | B = 64 | B = 1437 |"
    seen = 0
    for line in table[2:]:
        m = _ROW.match(line)
        for batch, entry in zip(saved["batches"], m["cells"].split(" | ")):
            e, c = _ENTRY.fullmatch(entry), cells[(m["label"], batch)]
            acc = np.asarray(c["test_accuracy"], float)
            ok = ~np.asarray(c["diverged"])
            assert int(e["n"]) == ok.sum() == np.isfinite(acc).sum() and int(e["div"] or 0) == (~ok).sum()
            a = acc[ok]
            lo, hi = stats.t.interval(0.95, a.size - 1, loc=a.mean(), scale=stats.sem(a))
            assert e["mean"] == f"{a.mean():.3f}" and e["half"] == f"{(hi - lo) / 2:.3f}"
            seen += 1
    assert seen == 6
    for c in saved["cells"]:  # each run's accuracy is a count of the 360 test images; its threshold is A2.NAG's
        assert np.allclose(np.asarray(c["test_accuracy"]) * 360, np.round(np.asarray(c["test_accuracy"]) * 360))
        kappa = 2 * 1.9 / 2.8
        want = kappa / c["lr"] if c["method"] == "SGD" else 1 / c["lr"]  # EXTRAP-SGD, gamma = eta: 1/gamma
        assert c["threshold"] == pytest.approx(want, rel=1e-12)
        assert np.isfinite(c["lambda_max"]).all() and len(c["lambda_max"]) == 1
    # a second run replaces the files of the first in the same folder
    assert main(["large-batch", "--tiny", "--out", str(out), "--seeds", "2"]) == 0
    assert "report:" in capsys.readouterr().out and not (out / "training_curves.svg").exists()


@pytest.mark.slow
def test_the_optax_loop_of_the_docs_page_runs_and_trains(capsys) -> None:
    """docs/real-network.md's loop (under 20 lines) runs as written and beats chance (0.1) by far."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "real-network.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) < 20
    exec(compile(code, "docs/real-network.md", "exec"), {})
    assert float(capsys.readouterr().out.strip()) > 0.9
