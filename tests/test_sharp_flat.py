"""Sharp vs flat: the theory overlays against independent computations, basin statistics, the CLI.

The overlays are checked against what they summarise: G2 filters against numerical spectral radii of
the linearised methods, B_crit against the mean-square factor it zeroes, Lyapunov exponents against
exact enumeration of the batches, Clopper–Pearson against scipy's exact binomial interval.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math

import jax
import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

import problems
from analysis import basin_rows, basin_sweep, clopper_pearson, landscapes
from analysis.sharp_flat.basins import METHODS, shift_gap
from analysis.sharp_flat import claims, g2_deterministic
from analysis.sharp_flat.overlays import (critical_batch, curvature_spread, heavy_ball_second_moment, noise_along,
                                        sgd_lyapunov, stability_filter, stationary_std)
from proofs.catalog import catalog
from xtrap.cli import main

sf_module = importlib.import_module("analysis.sharp_flat.study")


def _spectral_radius(kind: str, lam: float, lr: float, gamma: float, beta: float) -> float:
    """Spectral radius of the deterministic method linearised on f = lam x^2 / 2 (state matrices of THEORY.md A2)."""
    if kind in ("sgd", "noise"):
        a = np.array([[1 - lr * lam]])
    elif kind == "extrap":
        a = np.array([[1 - lr * lam * (1 - gamma * lam)]])
    elif kind == "heavy_ball":
        a = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
    else:  # past, state (x_t, g_(t-1))
        a = np.array([[1 - lr * lam, lr * gamma * lam], [lam, -gamma * lam]])
    return float(np.max(np.abs(np.linalg.eigvals(a))))


@given(kind=st.sampled_from(["sgd", "noise", "extrap", "heavy_ball", "past"]),
       lam=st.floats(0.05, 50.0), lr=st.floats(0.005, 1.0), gamma=st.floats(0.005, 1.0), beta=st.floats(0.0, 0.95))
def test_stability_filter_matches_the_spectral_radius(kind, lam, lr, gamma, beta) -> None:
    rho = _spectral_radius(kind, lam, lr, gamma, beta)
    if abs(rho - 1) < 1e-6:  # marginal: the filter's strict inequality is decided by round-off
        return
    f = stability_filter(kind, lam, lr=lr, extrap_lr=gamma, momentum=beta)
    assert f.stable == (rho < 1), (f, rho)


def test_stability_filter_names_its_theorem_and_refuses_unknown_methods() -> None:
    assert stability_filter("extrap", 15.0, lr=0.1, extrap_lr=0.1).theorem == "A2.EG"
    eg = stability_filter("extrap", 3.0, lr=1.0, extrap_lr=0.05)  # eta > 8 gamma: the band (lam_-, lam_+) is excluded
    assert not eg.stable and "band" in eg.rule
    with pytest.raises(problems.ParameterError, match="method must be one of"):
        stability_filter("adam", 1.0, lr=0.1)


@given(n=st.integers(1, 60), confidence=st.sampled_from([0.9, 0.95, 0.99]), data=st.data())
def test_clopper_pearson_equals_scipy_exact_interval(n, confidence, data) -> None:
    k = data.draw(st.integers(0, n))
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert np.allclose(clopper_pearson(k, n, confidence), (ci.low, ci.high), rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_curvature_spread_is_the_exact_hessian_on_average() -> None:
    """Mean of the per-sample curvatures = the top eigenvalue of the exact Hessian (an identity of finite sums)."""
    p = problems.make("two-basin", confinement=1.0)
    for m in p.minima:
        h, a, s = curvature_spread(p, m.x)
        assert h.shape == (p.n,) and s > 0
        assert a == pytest.approx(float(np.linalg.eigvalsh(m.hessian)[-1]), rel=1e-12)
        # each h_i against a central second difference of f_i along e1 (step 1e-4: error O(1e-8) relative)
        e1, d = np.eye(p.dim)[0], 1e-4
        fi = lambda y, i: float(p.component_value(jax.numpy.asarray(y), i))  # noqa: E731
        fd = np.array([(fi(m.x + d * e1, i) - 2 * fi(m.x, i) + fi(m.x - d * e1, i)) / d**2 for i in range(p.n)])
        assert np.allclose(h, fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(h)))
        assert s**2 == pytest.approx(float(np.mean(fd**2) - np.mean(fd) ** 2), rel=1e-4)
    c = problems.make("cosine", dim=1)
    assert curvature_spread(c, c.minima[1].x)[2] == 0.0  # additive noise: one Hessian for every sample


def test_critical_batch_zeroes_the_mean_square_margin() -> None:
    """At B = B_crit the A4.WME factor (a different catalog entry) is exactly 1."""
    wme = catalog()["A4.WME"].bound
    for a, s, n, lr in [(15.4, 5.2, 64, 0.125), (2.0, 3.0, 10, 0.5), (1.0, 4.0, 1000, 1.5)]:
        b = critical_batch(a, s, n, lr)
        assert 0 < b < n
        assert wme.evaluate(B=b, a=a, eta=lr, n=n, s=s) == pytest.approx(1.0, rel=1e-12)
    assert critical_batch(15.0, 1.0, 64, 0.2) == math.inf  # eta a >= 2: unstable even at full batch
    assert critical_batch(15.0, 0.0, 64, 0.1) == 0.0


@pytest.mark.slow
def test_sgd_lyapunov_matches_enumeration_of_batches() -> None:
    """G4: the Monte-Carlo exponent is within 4 SE of the exact mean over all C(n, B) batches; THEORY.md's
    example (h = 1,...,1,10; n = 10; B = 1; eta = 0.5) gives mean-square factor 1.825 and Lambda = -0.485."""
    h = np.array([1.0] * 9 + [10.0])
    out = sgd_lyapunov(h, 0.5, 1, key=jax.random.key(3))
    assert out["mean_square_factor"] == pytest.approx(1.825, rel=1e-12)
    assert abs(out["lyapunov"] - np.mean(np.log(np.abs(1 - 0.5 * h)))) < 4 * out["lyapunov_se"]
    assert out["lyapunov"] == pytest.approx(-0.485, abs=4 * out["lyapunov_se"] + 5e-4)
    rng = np.random.default_rng(0)
    h = rng.uniform(5, 25, size=9)
    for b in (2, 4):
        exact = np.mean([np.log(abs(1 - 0.12 * np.mean(h[list(c)]))) for c in itertools.combinations(range(9), b)])
        est = sgd_lyapunov(h, 0.12, b, key=jax.random.key(b))
        assert abs(est["lyapunov"] - exact) < 4 * est["lyapunov_se"]
    full = sgd_lyapunov(h, 0.12, 9, key=jax.random.key(0))
    assert full["lyapunov"] == pytest.approx(math.log(abs(1 - 0.12 * h.mean())), rel=1e-12)


@pytest.mark.slow
def test_g2_classification_holds_on_both_landscapes() -> None:
    """Exact-gradient runs from the sharp minimum converge iff the G2 filter says stable (a real check:
    the filters come from the catalog, the runs from xtrap)."""
    for ls in landscapes():
        rows = g2_deterministic(ls, [0.05, 0.125, 0.2, 0.25], steps=300)
        assert len(rows) == 16
        assert all(r["holds"] for r in rows), [r["detail"] for r in rows if not r["holds"]]


@pytest.fixture(scope="module")
def small_sweeps():
    ls = landscapes()
    return [basin_sweep(ls[0], METHODS["EXTRAP-SGD"], [0.05, 0.2], [1, 64], seeds=24, steps=200),
            basin_sweep(ls[1], METHODS["SGD"], [0.05, 0.25], [1, 16], seeds=24, steps=100)]


@pytest.mark.slow
def test_basin_rows_count_runs_and_bracket_the_fraction(small_sweeps) -> None:
    for sw in small_sweeps:
        rows = basin_rows(sw)
        assert len(rows) == sw.lrs.size * sw.batches.size
        for r in rows:
            assert r["runs"] + r["diverged"] == 24
            assert r["ci_low"] <= r["flat_fraction"] <= r["ci_high"]
            assert {"problem", "method", "batch", "lr", "flat_fraction", "ci_low", "ci_high", "runs"} <= set(r)
        if sw.method.label == "SGD":
            assert all("b_crit" in r and "lyapunov" in r for r in rows)


def test_extragradient_leaves_the_sharp_two_basin_minimum_where_g2_says_so(small_sweeps) -> None:
    """EXTRAP-SGD with gamma = eta = 0.2 has 1/gamma = 5 < lambda_sharp: G2 says it cannot stay; here it ends
    in the flat basin. At eta = 0.05 (1/gamma = 20 > lambda_sharp) and B = n (exact gradients) it stays."""
    rows = {(r["lr"], r["batch"]): r for r in basin_rows(small_sweeps[0])}
    assert not rows[(0.2, 1)]["sharp_stable"] and rows[(0.05, 64)]["sharp_stable"]
    assert rows[(0.2, 1)]["ci_low"] > 0.5
    assert rows[(0.05, 64)]["flat_fraction"] == 0.0


def test_final_sharpness_is_the_exact_hessian_at_the_last_iterate(small_sweeps) -> None:
    sw = small_sweeps[0]
    p = sw.landscape.problem
    x = sw.trajectory[1, 0, 3, -1]
    assert sw.final_sharpness[1, 0, 3] == pytest.approx(float(np.linalg.eigvalsh(np.asarray(p.hessian(x)))[-1]),
                                                        rel=1e-12)


def test_shift_gap_is_half_tau2_trace_to_second_order() -> None:
    """On a quadratic the generalization proxy is exactly (1/J) sum_j delta_j^T H delta_j / 2 (no higher terms)."""
    p = problems.make("quadratic", dim=3)
    d = 0.1 * jax.random.normal(jax.random.key(0), (500, 3))
    h = np.asarray(p.hessian(p.x0))
    exact = 0.5 * np.mean(np.einsum("ji,ik,jk->j", np.asarray(d), h, np.asarray(d)))
    x = np.asarray(p.minima[0].x)
    assert float(shift_gap(p, x, d)) == pytest.approx(exact, rel=1e-10)


def _row(**kw):
    base = dict(problem="two-basin", method="SGD", lr=0.1, batch=1, ci_low=0.0, ci_high=0.1, flat_fraction=0.0,
                b_crit=8.0, mean_square_factor=1.2, lyapunov=-0.3, lyapunov_se=0.01, runs=50, sharp_stable=True,
                near_fraction=0.9, near_ci_low=0.8, near_ci_high=0.97)
    return dict(base, **kw)


def test_claims_hold_fail_or_stay_undecided() -> None:
    rows = [_row(), _row(batch=64, ci_low=0.5, ci_high=0.8, flat_fraction=0.6, lyapunov=0.2,
                         near_fraction=0.7, near_ci_low=0.6, near_ci_high=0.8),
            _row(method="SAM", batch=1, ci_low=0.9, ci_high=1.0, flat_fraction=0.95, sharp_stable=False),
            _row(method="SGD+momentum", batch=1, ci_low=0.9, ci_high=1.0, flat_fraction=0.95),
            _row(problem="cosine", lr=0.2, b_crit=0.0), _row(problem="cosine", lr=0.2, batch=64, b_crit=0.0)]
    out = {(c["claim"], c["problem"], c["method"], c["batch"]): c for c in claims(rows)}
    assert out[("G3", "two-basin", "SGD", "1 vs 64")]["holds"] is False  # B_crit = 8 in (1, 64]: small batch is below
    assert out[("G3", "cosine", "SGD", "1 vs 64")]["holds"] is None  # B_crit = 0: no prediction
    assert out[("G4", "two-basin", "SGD", 1)]["holds"] is True  # Lambda < 0 and most runs stayed in the sharp basin
    assert "says the opposite" in out[("G4", "two-basin", "SGD", 1)]["detail"]  # mean-square factor 1.2 > 1
    assert out[("G4", "two-basin", "SGD", 64)]["holds"] is False  # Lambda > 0, yet most runs ended near the minimum
    rows[0].update(ci_low=0.4, ci_high=0.6)  # Lambda < 0 with an interval straddling 1/2: undecided
    assert [c["holds"] for c in claims(rows) if c["claim"] == "G4" and c["batch"] == 1 and c["problem"] == "two-basin"] == [None]
    g5 = out[("G5", "two-basin", "SAM", 1)]
    assert g5["holds"] is True and "rejects the sharp minimum" in g5["detail"] and "B=64" in g5["detail"]
    assert not any(k[0] == "G5" and k[2] == "SGD+momentum" for k in out)  # momentum is not an extrapolation
    assert not any(k[0] == "G5" and k[1] == "cosine" for k in out)  # unequal depths: outside G5's setting


def test_bad_inputs_are_parameter_errors() -> None:
    for call, name in [(lambda: clopper_pearson(5, 3), "k"), (lambda: clopper_pearson(1, 3, 1.5), "confidence"),
                       (lambda: stability_filter("adam", 1.0, lr=0.1), "method"),
                       (lambda: stability_filter("sgd", 1.0, lr=-0.1), "lr"),
                       (lambda: stability_filter("extrap", 1.0, lr=0.1, extrap_lr=0.0), "extrap_lr"),
                       (lambda: stability_filter("sgd", math.nan, lr=0.1), "lam"),
                       (lambda: sgd_lyapunov(np.ones(4), 0.1, 5, key=jax.random.key(0)), "batch"),
                       (lambda: basin_sweep(landscapes()[1], METHODS["SGD"], [0.1], [1], seeds=2, steps=2, shifts=3),
                        "shifts")]:
        with pytest.raises(problems.ParameterError, match=name):
            call()


@pytest.mark.slow
def test_heavy_ball_second_moment_is_a3_without_spread_and_matches_simulation() -> None:
    """s = 0: A3.SGD / A3.HB (catalog) to round-off. s > 0, curvatures correlated with gradients, batches without
    replacement: the simulated linear recursion's stationary E c^2 within 4 SE (20,000 chains, 2,000 steps)."""
    cat = catalog()
    for lam, v, eta, beta in [(15.4, 0.3, 0.05, 0.9), (2.0, 1.0, 0.5, 0.0), (1.0, 0.2, 1.2, 0.5)]:
        row = cat["A3.HB"].bound.evaluate(eta=eta, beta=beta, v=v, **{"lambda": lam}) if beta else \
            cat["A3.SGD"].bound.evaluate(eta=eta, v=v, **{"lambda": lam})
        assert heavy_ball_second_moment(lam, 0.0, v, lr=eta, momentum=beta) == pytest.approx(2 * row / lam, rel=1e-12)
    rng = np.random.default_rng(7)
    n = 12
    h = rng.uniform(8, 22, n)
    g = rng.normal(size=n) + 0.3 * (h - h.mean())
    g -= g.mean()
    for b, eta, beta in [(1, 0.05, 0.0), (3, 0.05, 0.9)]:
        p = (n - b) / (b * (n - 1))
        pred = heavy_ball_second_moment(h.mean(), p * h.var(), p * g.var(), lr=eta, momentum=beta)
        prev = cur = np.zeros(20000)
        for _ in range(2000):
            idx = np.argsort(rng.random((cur.size, n)), axis=1)[:, :b]
            prev, cur = cur, (1 + beta - eta * h[idx].mean(1)) * cur - beta * prev - eta * g[idx].mean(1)
        m, se = np.mean(cur**2), np.std(cur**2) / np.sqrt(cur.size)
        assert abs(m - pred) < 4 * se, (b, beta, m, pred, se)
    assert heavy_ball_second_moment(15.4, 27.5, 0.1, lr=0.125) == math.inf  # A4.WME factor 1.29 > 1


@given(lam=st.floats(0.1, 20.0), lr=st.floats(0.001, 0.5), gamma=st.floats(0.001, 0.5), v=st.floats(1e-4, 10.0))
def test_stationary_std_of_the_extrapolated_methods_is_their_a3_row(lam, lr, gamma, v) -> None:
    """THEORY.md A3, typed here from the table: E c^2 = 2 E[f - f*] / lambda for EG-indep, PEG, NI (w = 1)."""
    rows = {  # (stationary loss, the A2 stability margins that must be positive), evaluated only where stable
        "extrap": (lambda: lr * v * (1 + gamma**2 * lam**2) / (2 * (1 - gamma * lam) * (2 - lr * lam + lr * gamma * lam**2)),
                   (1 - gamma * lam, 2 - lr * lam * (1 - gamma * lam))),
        "past": (lambda: lr * v * (1 - gamma * lam) / (2 * (1 + gamma * lam) * (2 - lr * lam - 2 * gamma * lam)),
                 (1 - gamma * lam, 2 - (lr + 2 * gamma) * lam)),
        "noise": (lambda: lr * (v + gamma**2 * lam**2) / (2 * (2 - lr * lam)), (2 - lr * lam,))}
    for kind, (loss, margins) in rows.items():
        if min(abs(m) for m in margins) < 1e-9:  # marginal: the strict inequality is decided by round-off
            continue
        got = stationary_std(kind, lam, v, lr=lr, extrap_lr=gamma)
        assert math.isnan(got) if min(margins) < 0 else got == pytest.approx(math.sqrt(2 * loss() / lam), rel=1e-9)
        assert math.isnan(stationary_std(kind, lam, v, lr=lr, extrap_lr=gamma, curvature_var=1.0))  # no exact model


@pytest.fixture
def tiny_level(monkeypatch):
    monkeypatch.setitem(sf_module.LEVELS, "quick", {"seeds": 8, "steps": 40, "grid": {
        "two-basin": ([0.2], [1, 4]), "cosine": ([0.25], [1, 4])}})
    monkeypatch.setattr(sf_module, "METHODS", {k: METHODS[k] for k in ("SGD", "EXTRAP-SGD")})


@pytest.mark.slow
def test_cli_sharp_flat_json_report_and_figures(tiny_level, capsys, tmp_path) -> None:
    code = main(["sharp-flat", "--quick", "--json", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    d = json.loads(out.out)
    assert len(d["basins"]) == 2 * 2 * 2
    for r in d["basins"]:
        for key in ("problem", "method", "batch", "lr", "flat_fraction", "ci_low", "ci_high", "runs"):
            assert key in r
    assert {c["claim"] for c in d["claims"]} >= {"G2", "G3", "G5"}
    report = (tmp_path / "report.md").read_text()
    assert "## Claims" in report and "two-basin" in report and "cosine" in report
    assert json.loads((tmp_path / "basins.json").read_text())["basins"] == d["basins"]
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.stat().st_size > 0 for p in pngs)
    assert all(p.name in report for p in pngs)


def test_cli_sharp_flat_bad_out_is_one_line(capsys, tmp_path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["sharp-flat", "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out must be a folder" in err[0]


@pytest.mark.slow
def test_noise_along_equals_enumeration_of_batches() -> None:
    """v_B along e1 at the sharp minimum = the variance of the batch-mean gradient over all C(n, B) batches."""
    p = problems.make("two-basin", n=7, spread=0.05, confinement=1.0)
    x = np.asarray(p.minima[p.sharp_index].x)
    g = np.asarray(p.per_sample_grads(jax.numpy.asarray(x)))[:, 0]
    e1 = np.eye(p.dim)[0]
    for b in (1, 2, 3, 7):
        means = [g[list(c)].mean() for c in itertools.combinations(range(p.n), b)]
        assert noise_along(p, x, e1, b) == pytest.approx(float(np.var(means)), rel=1e-10, abs=1e-300)
    c = problems.make("cosine", dim=3, noise=0.7)
    assert noise_along(c, c.x0, np.eye(3)[1], 4) == pytest.approx(0.49 / 4, rel=1e-12)


@given(lam=st.floats(0.1, 20.0), lr=st.floats(0.001, 0.5), v=st.floats(1e-4, 10.0), beta=st.floats(0.0, 0.95))
def test_stationary_std_is_the_a3_rows(lam, lr, v, beta) -> None:
    """SGD: E c^2 = eta v / (lambda (2 - eta lambda)) (THEORY.md A3); heavy ball: (1+beta)/(1-beta) (2 - eta lambda) /
    (2(1+beta) - eta lambda) times that; unstable or SAM: nan."""
    sgd2 = lr * v / (lam * (2 - lr * lam)) if lr * lam < 2 else math.nan
    got = stationary_std("sgd", lam, v, lr=lr)
    assert (math.isnan(got) and math.isnan(sgd2)) or got == pytest.approx(math.sqrt(sgd2), rel=1e-10)
    if lr * lam < 2:
        hb = stationary_std("heavy_ball", lam, v, lr=lr, momentum=beta) ** 2
        ratio = (1 + beta) / (1 - beta) * (2 - lr * lam) / (2 * (1 + beta) - lr * lam)
        assert hb == pytest.approx(ratio * sgd2, rel=1e-9)
    assert math.isnan(stationary_std("sam", lam, v, lr=lr, rho=0.05))


def test_an_interrupted_study_keeps_its_finished_sweeps(tiny_level, monkeypatch, tmp_path) -> None:
    real, calls = sf_module.basin_sweep, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sf_module, "basin_sweep", flaky)
    with pytest.raises(KeyboardInterrupt):
        sf_module.sharp_flat("quick", out_dir=tmp_path)
    saved = json.loads((tmp_path / "basins.json").read_text())
    assert saved["complete"] is False and len(saved["basins"]) == 2  # the first sweep: 1 lr x 2 batches
    assert not list(tmp_path.glob("*.tmp"))


def test_unknown_method_is_a_parameter_error() -> None:
    with pytest.raises(problems.ParameterError, match="methods must be one of .*'adam'"):
        sf_module.sharp_flat("quick", methods=["SGD", "adam"])


def test_a_method_that_sweeps_more_than_lr_and_batch_is_refused_before_any_run(monkeypatch) -> None:
    """gamma tied to eta by a factor makes extrap_lr a third sweep axis: refused at once, not after the sweep."""
    import problems
    import xtrap
    from analysis.sharp_flat.basins import MethodSpec

    ran = []
    monkeypatch.setattr(xtrap, "run", lambda *a, **k: ran.append(1))
    tied = MethodSpec("tied", "extrap", lambda lr, b: xtrap.extrap_sgd(lr=lr, extrap_lr=0.5 * lr, batch=b))
    with pytest.raises(problems.ParameterError, match="sweeps lr, extrap_lr, batch"):
        basin_sweep(landscapes()[0], tied, [0.1, 0.2], [1, 2], seeds=2, steps=5)
    assert not ran
