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
from analysis.large_batch import (NO_SCALING, claims, last_step, level_config, lr_rule, mean_ci, nag_constant,
                                  noise_scale, schedule, stable, start_claim, steps_per_epoch, threshold, welch)
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


@pytest.mark.slow  # ~3 s: two compilations (the batched HVP, the dense Hessian)
def test_each_seed_gets_its_own_starting_curvature_equal_to_the_dense_hessians() -> None:
    """Review, item 1: lambda_max(x0) of every seed, not seed 0's for all; against NumPy's eigvalsh of the dense
    Hessian (forward-mode Jacobian of the gradient) at each of three starts, on a small network (d = 235; 60 Lanczos
    iterations converge there to about 1e-15)."""
    from analysis.large_batch.study import _start_curvatures

    p = problems.make("digits", hidden=3, estimate_points=1)
    starts = [np.asarray(p.x0) * a for a in (1.0, 1.3, 0.7)]  # three starts (the study passes each seed's x0)
    got = _start_curvatures(p, starts, iterations=60)
    dense = jax.jit(jax.jacfwd(p.grad))
    want = [float(np.linalg.eigvalsh(np.asarray(dense(jnp.asarray(x))))[-1]) for x in starts]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert len(set(np.round(want, 6))) == 3  # the seeds' curvatures differ: one value for all would fail


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
