"""``analysis.large_batch`` / ``xtrap large-batch``: test accuracy against batch size on the digits MLP (issue 14).

The pieces are held against independent references: the learning-rate rule and schedule against the formulas written
out here, the intervals against SciPy's own (``scipy.stats.t.interval``, ``ttest_ind(...).confidence_interval``) and a
tabulated quantile, the claims against cells whose answer is known by construction (the theory's pieces are in
tests/test_large_batch_theory.py). The end-to-end test runs the command at its tiny level and recomputes every number of the
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
from analysis.large_batch import (NO_SCALING, claims, critical_batch, critical_batch_claim, curvature_spread, last_step,
                                  level_config, lr_rule, mean_ci, nag_constant, noise_scale, schedule, stable,
                                  start_claim, steps_per_epoch, threshold, top_direction, welch)
from analysis.large_batch.claims import multiplicity, noise_claim
from analysis.large_batch.protocol import protocol_rows
from analysis.large_batch.report import accuracy_cell, excluded, multiplicity_text, pilot_text
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


@pytest.mark.parametrize("epochs", [1, 3, 5, 6, 30])
@pytest.mark.parametrize("batch", [16, 64, 1437])
def test_the_last_step_is_the_peak_only_when_the_budget_outlasts_the_warm_up(batch, epochs) -> None:
    """eta_{T-1} = eta min(1, T / t_w) = eta min(1, E / 5), written out here: inside the warm-up (E < 5) it is less
    than the peak (the review's item 4: the tiny level's thresholds used the peak)."""
    peak = lr_rule(batch)
    assert last_step(peak, batch, 1437, epochs) == pytest.approx(peak * min(1.0, epochs / 5), rel=1e-14)
    assert (last_step(peak, batch, 1437, epochs) < peak) is (epochs < 5)


def test_protocol_inputs_out_of_range_are_parameter_errors_naming_them() -> None:
    for call, name in ((lambda: lr_rule(0), "batch"), (lambda: steps_per_epoch(2000, 1437), "batch"),
                       (lambda: level_config("huge"), "level"), (lambda: level_config("quick", seeds=1), "seeds"),
                       (lambda: schedule(0.1, 16, 1437, warmup_epochs=-1), "warmup_epochs")):
        with pytest.raises(problems.ParameterError, match=name):
            call()
    cfg = level_config("quick", seeds=3)  # every seed's end point is measured at quick and full (review, item 3)
    assert cfg["seeds"] == 3 and cfg["sharpness_seeds"] == 3 and cfg["batches"][-1] == 1437
    assert level_config("quick")["sharpness_seeds"] == 5 and level_config("full", seeds=12)["sharpness_seeds"] == 12
    assert level_config("full")["batches"][0] == 16 and level_config("tiny", seeds=2)["sharpness_seeds"] == 1


def test_the_protocol_text_is_read_off_the_problem_and_the_pilot_is_not_claimed_for_another_level() -> None:
    """A 30% split of the 1,797 images holds ceil(0.3 * 1797) = 540 test images (scikit-learn rounds the test share
    up); the hidden width, activation and decay are the problem's, not the study's defaults."""
    p = problems.make("digits", hidden=8, activation="softplus", weight_decay=1e-3, test_fraction=0.3,
                      estimate_points=1)
    rows = dict((a, b) for a, b, _ in protocol_rows({**level_config("full"), "batches": (16, 1257)}, p))
    text = rows["data, network"]
    assert rows["batch sizes B"] == "16, 1257 (the last: the whole training set)"
    assert "1257 train / 540 test images" in text and "MLP 64-8-10 (d = 610)" in text
    assert "softplus" in text and "weight decay 0.001" in text and "360" not in text and "tanh" not in text
    full, quick = pilot_text("full"), pilot_text("quick")
    assert "quick level's batch sizes B = 16, 64, 256, 1437 and 30 epochs (not this full level's)" in full
    assert "(not this" not in quick and "B = 16, 64, 256, 1437" in quick


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


# ---- claims --------------------------------------------------------------------------------------------------------
def _cell(label, batch, acc, train=None, loss=None, lam=(), th=10.0, status="exact", start=0.5, failed=False):
    """A cell of ``len(acc)`` runs; ``start`` and ``failed``: one value for every run or a list, one per run."""
    acc = list(acc)
    per_run = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * len(acc)  # noqa: E731
    return {"label": label, "batch": batch, "test_accuracy": acc, "train_accuracy": list(train or [a + 0.02 for a in acc]),
            "loss": list(loss or [0.1] * len(acc)), "lambda_max": list(lam) or [1.0, 1.1, 1.05], "threshold": th,
            "status": status, "start_ratio": None if start is None else per_run(start), "failed_run": per_run(failed)}


def test_claims_find_what_the_cells_hold_by_construction() -> None:
    small = _cell("SGD", 16, [0.96, 0.965, 0.97, 0.962], loss=[0.05, 0.051, 0.049, 0.05], lam=[1.0, 1.1, 1.05])
    large = _cell("SGD", 1437, [0.90, 0.905, 0.91, 0.902], train=[0.99, 0.99, 0.99, 0.99],
                  loss=[0.2, 0.21, 0.19, 0.2], lam=[2.0, 2.1, 2.02], th=2.05)
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
    assert sgd["holds"] is False and "B=1437 (2.1 >= 2.05)" in sgd["detail"]  # 2.1 above, 2.0 and 2.02 below
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


def test_the_start_filter_claim_compares_the_failed_runs_with_those_started_above_threshold() -> None:
    ok = [_cell("SGD", 16, [0.9, 0.9]), _cell("EXTRAP-SGD", 1437, [0.1, 0.1], start=1.3, failed=True)]
    assert start_claim(ok, ["SGD", "EXTRAP-SGD"])["holds"] is True
    missed = ok + [_cell("SGD", 1437, [0.1, 0.1], start=0.9, failed=True)]  # failed although below threshold
    assert start_claim(missed, ["SGD", "EXTRAP-SGD"])["holds"] is False
    survived = [_cell("SGD", 1437, [0.9, 0.9], start=1.1)]  # above threshold at the start, trained anyway
    assert start_claim(survived, ["SGD"])["holds"] is False
    assert start_claim([_cell("SGD", 16, [0.9, 0.9])], ["SGD"])["holds"] is None  # nothing to predict
    assert start_claim([_cell("SAM", 16, [0.9, 0.9], status="reference", start=None)], ["SAM"])["holds"] is None


def test_the_start_filter_is_judged_run_by_run_with_each_seeds_own_ratio() -> None:
    """Review, item 1, the digits case: at the full batch two of five SGD seeds start above lambda* and train
    anyway, while every EXTRAP-SGD run starts above and fails: 5 of 7 flagged runs failed, 0 of 6 unflagged did. A
    per-cell judgement with seed 0's ratio (0.93 for SGD) would call this exact."""
    sgd = _cell("SGD", 1437, [0.95] * 5, start=[0.93, 0.89, 0.86, 1.17, 1.13])
    extrap = _cell("EXTRAP-SGD", 1437, [0.1] * 5, start=[1.26, 1.2, 1.17, 1.58, 1.54], failed=True)
    small = _cell("SGD", 64, [0.96, 0.96, 0.96], start=[0.1, 0.1, 0.1])
    c = start_claim([sgd, extrap, small], ["SGD", "EXTRAP-SGD"])
    assert c["holds"] is False
    assert (c["flagged"], c["flagged_failed"], c["unflagged"], c["unflagged_failed"]) == (7, 5, 6, 0)
    assert c["detail"].startswith("5 of 7 runs started above lambda* failed to train, 0 of 6 started below did")
    assert "above but trained: SGD B=1437 seed 3 (1.17), SGD B=1437 seed 4 (1.13)" in c["detail"]
    late = _cell("SGD", 1437, [0.95, 0.1, 0.95], start=[0.5, 0.5, 0.5], failed=[False, True, False])
    c = start_claim([late], ["SGD"])
    assert c["holds"] is False and "below but failed: SGD B=1437 seed 1 (0.50)" in c["detail"]
    assert c["below_failed"] == ["SGD B=1437 seed 1 (0.50)"] and c["above_trained"] == []


def test_the_noise_scale_claim_uses_the_range_along_the_runs_and_the_half_open_interval() -> None:
    """Review, item 2: B_noise grows along training (57 at x0, ~910 and ~6,400 at the ends of SGD at B = 16 and at
    the full batch), so a range straddling a batch size gives no prediction; a prediction needs every value in
    [B_min, B_max): the largest batch beyond it, the smallest not (B_noise = B_min counts, = B_max does not)."""
    cells = [_cell("SGD", 16, [0.96] * 3, loss=[0.05, 0.051, 0.049]), _cell("SGD", 1437, [0.95] * 3,
                                                                             loss=[0.2, 0.21, 0.19])]
    assert noise_claim(cells, [16, 1437], 57.0)["holds"] is True  # one point inside: the old judgement
    along = noise_claim(cells, [16, 1437], [57.0, 910.0, 6400.0])
    assert along["holds"] is None and "straddles" in along["detail"] and "[57, 6,400]" in along["detail"]
    assert (along["b_noise_low"], along["b_noise_high"]) == (57.0, 6400.0)
    inside = noise_claim(cells, [16, 1437], [16.0, 300.0, 1436.0])
    assert inside["holds"] is True and "inside [B = 16, B = 1437)" in inside["detail"]
    assert noise_claim(cells, [16, 1437], [100.0, 1437.0])["holds"] is None  # B_max itself is not beyond it
    assert "beyond B = 1437" in noise_claim(cells, [16, 1437], [2000.0, 5000.0])["detail"]
    assert "below B = 16" in noise_claim(cells, [16, 1437], [3.0, 9.0])["detail"]


def _crit(batch, b_crit, x0=0.01):
    return {"label": "SGD", "batch": batch, "critical": {"b_crit": list(b_crit), "b_crit_x0": [x0] * len(b_crit)}}


def test_the_critical_batch_claim_holds_iff_every_end_point_is_at_or_above_its_b_crit() -> None:
    """Synthetic end points whose answer is known: all B_crit below their batch (and below 1: A4 filters nothing);
    one above its batch (the inequality reversed) fails and is named; B = B_crit counts as stable; diverged end
    points (NaN) are left out; an infinite B_crit (eta a >= 2) fails; nothing measured: no verdict."""
    ok = critical_batch_claim([_crit(16, [0.05, 0.2]), _crit(1437, [0.9, math.nan])])
    assert ok["holds"] is True and ok["points"] == 3 and ok["b_crit_max"] == 0.9 and ok["filters_batches"] == []
    assert "even B = 1" in ok["detail"] and ok["label"] == "derived" and "Nesterov momentum" in ok["detail"]
    mid = critical_batch_claim([_crit(16, [3.0]), _crit(1437, [12.0])])  # B_crit >= 1 but below every batch
    assert mid["holds"] is True and "below the smallest batch B = 16" in mid["detail"]
    other = critical_batch_claim([_crit(16, [3.0]), _crit(1437, [40.0])])  # each run stable; B = 16 would not be at
    assert other["holds"] is True and other["filters_batches"] == [16]  # the large batch's end point
    assert "A4 calls B = 16 unstable at some end point" in other["detail"]
    bad = critical_batch_claim([_crit(16, [20.0, 3.0]), _crit(1437, [40.0])])  # 16 < 20: reversed at one point
    assert bad["holds"] is False and bad["below"] == ["B=16 seed 0 (B_crit 20)"] and bad["filters_batches"] == [16]
    assert "B = 16 unstable" in bad["detail"] and "2 of 3 end points" in bad["detail"]
    assert "smallest margin B / B_crit 0.8" in bad["detail"] and "margin B / B_crit 5.33" in mid["detail"]
    assert critical_batch_claim([_crit(16, [16.0])])["holds"] is True  # B >= B_crit, not >
    assert critical_batch_claim([_crit(16, [0.0, 2.0])])["holds"] is True  # s = 0 at one point: B_crit = 0
    edge = critical_batch_claim([_crit(16, [0.1]), _crit(1437, [math.inf])])
    assert edge["holds"] is False and edge["filters_batches"] == [16, 1437]
    assert critical_batch_claim([_crit(16, [math.nan])])["holds"] is None
    assert critical_batch_claim([_cell("SGD", 16, [0.9, 0.9])])["holds"] is None  # no critical batch measured
    listed = claims([_crit(16, [0.1]) | _cell("SGD", 16, [0.9] * 3), _cell("SGD", 1437, [0.9] * 3)], [16, 1437], 5000.0,
                    ["SGD"])
    assert next(c for c in listed if c["claim"].startswith("critical batch"))["holds"] is True
    assert next(c for c in listed if c["claim"].startswith("noise scale"))["label"] == "cited"


def test_sharpness_with_fewer_than_three_end_points_a_cell_is_undecided() -> None:
    """Review, item 3: a 2-vs-2 Welch test is not enough; the same clear difference with 3 a side is decided."""
    two = [_cell("SGD", 16, [0.96] * 3, lam=[1.0, 1.01]), _cell("SGD", 1437, [0.96] * 3, lam=[2.0, 2.01])]
    sharper = lambda cs: next(c for c in claims(cs, [16, 1437], 5000.0, ["SGD"]) if c["claim"].startswith(  # noqa
        "sharper"))
    assert welch([2.0, 2.01], [1.0, 1.01])["verdict"] == "higher"  # what the old code would have reported
    assert sharper(two)["holds"] is None and "fewer than 3" in sharper(two)["detail"]
    three = [_cell("SGD", 16, [0.96] * 3, lam=[1.0, 1.01, 1.02]), _cell("SGD", 1437, [0.96] * 3, lam=[2.0, 2.01, 2.02])]
    assert sharper(three)["holds"] is True
    nan = [_cell("SGD", 16, [0.96] * 3, lam=[1.0, 1.01, float("nan")]), three[1]]  # a diverged end point
    assert sharper(nan)["holds"] is None


def test_interval_words_and_the_multiplicity_follow_the_numbers() -> None:
    """Review, items 5 and 7: what an interval excludes, from its ends; the expected false verdicts, 0.05 per claim
    judged by a 95% interval."""
    assert excluded({"low": -0.0171, "high": 0.0032}, both=False) == "a drop of more than 1.7 points is excluded at 95%"
    assert excluded({"low": -0.0171, "high": 0.0032}, down="loss") == (
        "a loss of more than 1.7 points and a gain of more than 0.3 points is excluded at 95%")
    assert excluded({"low": -0.25, "high": 0.5}, scale=1.0, unit="", up="rise", down="fall") == (
        "a fall of more than 0.25 and a rise of more than 0.5 is excluded at 95%")
    cs = [{"claim": f"c{i}", "holds": i % 2 == 0, "low": -0.1, "high": 0.1} for i in range(8)] + [
        {"claim": "stability", "holds": True}, {"claim": "none", "holds": None}, {"claim": "x", "holds": None,
                                                                                   "low": float("nan")},
        {"claim": "start", "holds": False}]
    m = multiplicity(cs)
    assert (m["claims"], m["judged"], m["intervals"]) == (12, 10, 8)
    assert m["expected_false"] == pytest.approx(0.4, rel=1e-12) and m["expected_false_all"] == pytest.approx(0.6)
    text = multiplicity_text(cs)
    assert "states 12 claims and decides 10; 8 of them by a 95% interval" in text and "about 0.4 false" in text


def test_a_diverged_run_is_counted_and_left_out_of_the_table_entry() -> None:
    c = {"summary": {"test_accuracy": mean_ci([0.9, 0.92, float("nan")])}, "diverged": [False, False, True]}
    assert accuracy_cell(c) == "0.910 ± 0.127 (2 runs, **1 diverged**)"


def test_the_docstring_examples_run() -> None:
    import doctest
    import importlib

    for name, least in (("protocol", 3), ("stats", 3), ("theory", 3), ("claims", 1), ("report", 2)):
        module = importlib.import_module(f"analysis.large_batch.{name}")  # the module, not the package's function
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted >= least, name


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
    lam0 = saved["start"]["lambda_max_x0"]
    assert len(lam0) == 2 and lam0[0] != lam0[1]  # each seed's own start
    for c in saved["cells"]:  # each run's accuracy is a count of the 360 test images; its threshold is A2.NAG's
        assert np.allclose(np.asarray(c["test_accuracy"]) * 360, np.round(np.asarray(c["test_accuracy"]) * 360))
        kappa = 2 * 1.9 / 2.8
        last = c["lr"] * 3 / 5  # 3 epochs of a 5-epoch warm-up: the last step is 3/5 of the peak (review, item 4)
        want = kappa / last if c["method"] == "SGD" else 1 / last  # EXTRAP-SGD, gamma = eta: 1/gamma
        assert c["lr_last"] == pytest.approx(last, rel=1e-12) and c["threshold"] == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose(c["start_ratio"], np.asarray(lam0) / want, rtol=1e-12)
        assert c["failed_run"] == [bool(d) or not (l[-1] < l[0]) for d, l in zip(c["diverged"], c["curves"]["loss"])]
        assert np.isfinite(c["lambda_max"]).all() and len(c["lambda_max"]) == 1
    claim = {c["claim"].split(":")[0]: c for c in saved["claims"]}
    assert claim["sharper at large batch (SGD's final lambda_max)"]["holds"] is None  # 1 end point a cell
    crit, stable_everywhere = saved["start"]["critical"], True
    for c in (c for c in saved["cells"] if c["label"] == "SGD"):  # A4 at the end point and the starts, by hand
        k, lr = c["critical"], c["lr_last"]
        b_crit = lambda a, s: 1437 * lr * s**2 / (lr * s**2 + a * (2 - lr * a) * 1436)  # noqa: E731
        assert k["ritz_value"][0] == pytest.approx(c["lambda_max"][0], rel=1e-10)  # Lanczos with lambda_max's key
        assert k["a"][0] == pytest.approx(k["ritz_value"][0], rel=1e-10)  # mean of v^T H_i v = v^T H v = theta
        assert 0 < k["ritz_residual"][0] < k["ritz_value"][0] and k["s"][0] > 0
        assert k["b_crit"][0] == pytest.approx(b_crit(k["a"][0], k["s"][0]), rel=1e-12)
        np.testing.assert_allclose(k["b_crit_x0"], [b_crit(a, s) for a, s in zip(crit["a"], crit["s"])], rtol=1e-12)
        stable_everywhere &= c["batch"] >= k["b_crit"][0]
    assert claim["critical batch (A4)"]["holds"] is stable_everywhere and claim["critical batch (A4)"]["points"] == 2
    assert "| B | η of the last step | a (per seed) |" in report and "[cited]" in report and "[derived]" in report
    assert claim["start filter"]["flagged"] + claim["start filter"]["unflagged"] == 8  # 2 labels x 2 batches x 2 seeds
    path = saved["noise_path"]
    assert len(path["values"]["SGD B=64"]) == 4 and path["values"]["SGD B=64"][0] == pytest.approx(
        saved["noise_scale"]["start"]["b_noise"], rel=1e-12)  # x0 of seed 0 is the path's first point
    gap = claim["gap"]
    if gap["verdict"] == "indistinguishable":
        assert f"a drop of more than {-100 * gap['low']:.1f} points is excluded at 95%" in report
    assert "did not appear" not in report and "Multiplicity: this report states" in report
    # a second run replaces the files of the first in the same folder
    assert main(["large-batch", "--tiny", "--out", str(out), "--seeds", "2"]) == 0
    assert "report:" in capsys.readouterr().out and not (out / "training_curves.svg").exists()


@pytest.mark.slow
def test_the_optax_loops_of_the_docs_page_run_and_train(capsys) -> None:
    """docs/real-network.md's two loops (the ordinary alternating optax loop, two ``tx.update`` calls a step, and the
    ``make_step`` one), each under 20 lines, run as written and beat chance (0.1) by far."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "real-network.md").read_text()
    blocks = [b.split("```", 1)[0] for b in page.split("```python\n")[1:]]
    assert len(blocks) == 2
    assert "tx.update(" in blocks[0] and "make_step(" in blocks[1]
    for i, code in enumerate(blocks):
        assert len([line for line in code.splitlines() if line.strip()]) < 20
        exec(compile(code, f"docs/real-network.md (loop {i + 1})", "exec"), {})
        assert float(capsys.readouterr().out.strip()) > 0.9
