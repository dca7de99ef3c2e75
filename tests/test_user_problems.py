"""problems.from_function / from_samples: the user's objective runs exactly like a built-in family, any pytree
of parameters works, constants not given are estimated and labelled so, and checks on them never say 'pass'."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import problems
import proofs
import xtrap
from analysis.checks import check

FEW = settings(max_examples=10, deadline=None, database=None)


def _cosine_tree(a, b, omega):
    """The cosine family's objective, on parameters split into a dict (to exercise pytrees)."""
    def f(w):
        x = jnp.concatenate([w["u"], jnp.atleast_1d(w["v"])])
        return 0.5 * a * (x @ x) + b * jnp.sum(jnp.cos(omega * x))
    return f


@pytest.mark.slow
def test_a_function_on_a_pytree_runs_the_same_trajectory_as_the_built_in_family() -> None:
    """cosine(a, b, omega, noise) is IsotropicNoise: same oracle law and the same draws under the same key."""
    fam = problems.make("cosine", dim=3, a=1.0, b=0.5, omega=2.0, noise=0.3, start=1.5)
    x0 = {"u": jnp.full(2, 1.5), "v": 1.5}
    mine = problems.from_function(_cosine_tree(1.0, 0.5, 2.0), x0, noise=0.3, L=float(fam.L),
                                  minima=[{"u": m.x[:2], "v": m.x[2]} for m in fam.minima[:2]])
    assert mine.dim == 3 and float(mine.sigma2) == pytest.approx(0.3**2 * 3, rel=1e-15)
    method = xtrap.extrap_sgd(lr=0.2, extrap_lr=0.1, batch=4)
    a = xtrap.run(fam, method, steps=60, seeds=5, record_every=1, iterates=True)
    b = xtrap.run(mine, method, steps=60, seeds=5, record_every=1, iterates=True)
    np.testing.assert_allclose(b["iterates"], a["iterates"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-12, atol=1e-14)
    tree = mine.unravel(b["iterates"][0, -1])
    assert set(tree) == {"u", "v"} and np.shape(tree["u"]) == (2,) and np.shape(tree["v"]) == ()


@pytest.mark.slow
def test_per_sample_losses_run_the_same_trajectory_as_the_built_in_least_squares() -> None:
    """Batches without replacement drawn as the built-in finite sums draw them: identical runs."""
    ls = problems.make("least-squares", dim=3, n=24, mu=0.2, L=2.0, noise=0.5, seed=3)
    A, y = np.asarray(ls.A), np.asarray(ls.y)
    mine = problems.from_samples(lambda w, s: 0.5 * (s["a"] @ w["x"] - s["y"]) ** 2, {"a": A, "y": y},
                                 {"x": jnp.asarray(ls.x0)})
    assert mine.n == 24 and mine.dim == 3
    method = xtrap.sgd(lr=0.3, batch=5, momentum=0.5)
    a = xtrap.run(ls, method, steps=80, seeds=4, record_every=1, iterates=True)
    b = xtrap.run(mine, method, steps=80, seeds=4, record_every=1, iterates=True)
    np.testing.assert_allclose(b["iterates"], a["iterates"], rtol=0, atol=1e-12)
    # the found minimum is the least-squares solution, its Hessian A^T A / n, f_star the exact optimum
    (m,) = mine.minima
    np.testing.assert_allclose(np.asarray(m.x), np.asarray(ls.x_star), atol=1e-10)
    np.testing.assert_allclose(np.asarray(m.hessian), A.T @ A / 24, atol=1e-12)
    assert float(mine.f_star) == pytest.approx(float(ls.f_star), rel=1e-10, abs=1e-14)
    # L of a quadratic is the same at every point: the estimate is exact here (an estimate still, and labelled)
    assert float(mine.L) == pytest.approx(2.0, rel=1e-12) and mine.sources["L"] == "estimated"
    # sigma2: the exact per-sample variance, maximised over the region's points (>= its value at x*)
    assert float(mine.sigma2) >= float(ls.sigma2_at(ls.x_star)) * (1 - 1e-12)
    assert mine.sources == {"L": "estimated", "mu": "unknown", "f_star": "estimated", "sigma2": "estimated",
                            "minima": "estimated"}
    assert any(n.startswith("L: largest |Hessian eigenvalue|") and "lower bound" in n for n in mine.notes)


@FEW
@given(a=st.floats(0.5, 3.0), b=st.floats(0.1, 2.0), omega=st.floats(0.5, 3.0), start=st.floats(-3.0, 3.0))
def test_the_estimated_L_is_a_lower_bound_on_the_true_one(a, b, omega, start) -> None:
    """Cosine: L = a + |b| omega^2 is the supremum of the curvature; a sampled maximum cannot exceed it."""
    p = problems.from_function(lambda x: 0.5 * a * (x @ x) + b * jnp.sum(jnp.cos(omega * x)), jnp.full(2, start),
                               minima=(), region_points=16)
    assert 0 < float(p.L) <= (a + b * omega**2) * (1 + 1e-12)
    assert p.sources["L"] == "estimated" and p.sources["minima"] == "unknown" and p.sources["f_star"] == "unknown"


def test_minima_are_labelled_by_sharpness_with_a_stated_ratio() -> None:
    def double_well(k_left, k_right):  # minima at -1 (curvature k_left) and +1 (k_right), 1-D
        return lambda x: jnp.sum(jnp.where(x < 0, k_left, k_right) * (x * x - 1) ** 2 / 8)
    p = problems.from_function(double_well(1.0, 16.0), jnp.array([0.3]), minima=[jnp.array([-1.0]),
                                                                                   jnp.array([1.0])])
    assert [m.label for m in p.minima] == ["flat", "sharp"]
    np.testing.assert_allclose([m.sharpness for m in p.minima], [1.0, 16.0], rtol=1e-12)
    assert p.sources["minima"] == "given" and p.sources["f_star"] == "estimated"
    same = problems.from_function(double_well(4.0, 4.0), jnp.array([0.3]), minima=[jnp.array([-1.0]),
                                                                                     jnp.array([1.0])])
    assert [m.label for m in same.minima] == ["min1", "min2"]  # equally sharp: neither is called sharp
    searched = problems.from_function(double_well(1.0, 16.0), jnp.array([0.0]), starts=12, spread=2.0)
    assert [m.label for m in searched.minima] == ["flat", "sharp"]
    np.testing.assert_allclose(sorted(float(m.x[0]) for m in searched.minima), [-1.0, 1.0], atol=1e-10)
    assert any("sharp_ratio=2" in n for n in searched.notes)


def test_unknown_minima_give_nan_distances_and_basin_minus_one_with_a_note() -> None:
    p = problems.from_function(lambda x: jnp.sum(jnp.cosh(x)), jnp.ones(2), minima=(), noise=0.1)
    r = xtrap.run(p, xtrap.sgd(lr=0.1), steps=20, seeds=3)
    assert np.all(np.isnan(r["dist"])) and np.all(r["basin"] == -1) and not np.any(r["diverged"])
    assert "no minimum is known: dist is NaN and basin is -1 in every run" in r.attrs["notes"]
    assert r.attrs["sources"]["minima"] == "unknown"


@pytest.mark.slow
def test_a_check_at_estimated_constants_holds_for_them_and_is_never_a_pass() -> None:
    lam = jnp.array([0.5, 1.0, 2.0])
    f = lambda x: 0.5 * jnp.sum(lam * x**2)  # noqa: E731
    c2 = proofs.catalog()["C2"].bound
    estimated = problems.from_function(f, jnp.ones(3), noise=0.3)
    res = check(xtrap.run(estimated, xtrap.sgd(lr=0.25), steps=100, seeds=64), c2)
    assert res.verdict == "holds-estimated" and not res.passed
    assert res.estimated == ("Delta (from the estimated f_star)", "L (estimated)")
    assert res.detail.startswith("holds for the estimated constants")
    given_ = problems.from_function(f, jnp.ones(3), noise=0.3, L=2.0, f_star=0.0)
    res = check(xtrap.run(given_, xtrap.sgd(lr=0.25), steps=100, seeds=64), c2)
    assert res.verdict == "pass" and res.estimated == ()
    # a step above 1/L_est is refused by the bound's condition, at the estimated L
    with pytest.raises(proofs.AssumptionError, match="step condition"):
        check(xtrap.run(estimated, xtrap.sgd(lr=0.6), steps=10, seeds=64), c2)


@pytest.mark.parametrize("call, match", [
    (lambda: problems.from_function(lambda x: x * 2, jnp.ones(2)), r"f\(x0\) must return a scalar; got shape \(2,\)"),
    (lambda: problems.from_function(lambda x: jnp.log(-jnp.sum(x)), jnp.ones(2)), r"f\(x0\) must be finite"),
    (lambda: problems.from_function(lambda x: x["nope"], {"a": jnp.ones(2)}), r"f\(x0\) failed to evaluate"),
    (lambda: problems.from_function(lambda x: -jnp.sum(x**2), jnp.ones(2)), r"no strict local minimum found"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), jnp.ones(2), starts=0), r"starts must be an integer in \[1, 1000\], got 0"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), jnp.ones(2), noise=-1.0), r"noise must be in"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), jnp.ones(2), L=2.0, mu=3.0), r"mu must be in"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), jnp.ones(2), f_star=1.0), r"f_star=1 is above"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), jnp.ones(2), minima=[jnp.ones(3)]),
     r"minima\[0\] must have the structure of x0"),
    (lambda: problems.from_function(lambda x: jnp.sum(x**2), {}), r"x0 must be an array or a pytree"),
    (lambda: problems.from_function("f", jnp.ones(2)), r"f must be a callable"),
    (lambda: problems.from_samples(lambda w, s: s["a"] @ w, {"a": np.ones((3, 2)), "y": np.ones(4)}, jnp.ones(2)),
     r"data leaves must share one leading \(sample\) axis"),
    (lambda: problems.from_samples(lambda w, s: s @ w, np.ones((3, 2)), jnp.ones(2), sigma2=-1.0), r"sigma2"),
])
def test_misuse_gets_one_clear_error_naming_the_parameter(call, match) -> None:
    with pytest.raises(problems.ParameterError, match=match):
        call()


@pytest.mark.slow
def test_another_data_set_of_the_same_shapes_reuses_the_compiled_run() -> None:
    rng = np.random.default_rng(0)

    def make(seed_shift):
        a = rng.standard_normal((16, 2))
        return problems.from_samples(_sq_loss, {"a": a, "y": a @ np.array([1.0, -2.0]) + seed_shift},
                                     jnp.zeros(2), L=10.0, sigma2=1.0, minima=())
    first, second = make(0.0), make(0.5)
    method = xtrap.sgd(lr=0.05, batch=4)
    xtrap.run(first, method, steps=10, seeds=2)
    before = xtrap.compiled_count()
    xtrap.run(second, method, steps=10, seeds=2)
    assert xtrap.compiled_count() == before


def _sq_loss(w, s):
    return 0.5 * (s["a"] @ w - s["y"]) ** 2


@pytest.mark.slow
def test_a_network_on_nested_dict_weights_is_a_problem_with_labelled_constants() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 2))
    y = np.tanh(x @ np.array([1.0, -1.0])) + 0.1 * rng.standard_normal(40)

    def loss(p, s):
        out = jnp.tanh(s["x"] @ p["layer1"]["w"] + p["layer1"]["b"]) @ p["layer2"]["w"]
        return 0.5 * (out - s["y"]) ** 2 + 1e-2 * sum(jnp.sum(v**2) for v in jax.tree_util.tree_leaves(p))

    w0 = {"layer1": {"w": 0.5 * rng.standard_normal((2, 3)), "b": np.zeros(3)}, "layer2": {"w": 0.3 * np.ones(3)}}
    p = problems.from_samples(loss, {"x": x, "y": y}, w0, starts=3)
    assert p.dim == 12 and p.n == 40 and len(p.minima) >= 1
    for m in p.minima:  # every kept minimum is stationary with a positive definite Hessian
        assert float(jnp.linalg.norm(p.grad(m.x))) <= 1e-8
        assert np.linalg.eigvalsh(np.asarray(m.hessian))[0] > 0
    r = xtrap.run(p, xtrap.extrap_sgd(lr=[0.1, 0.2], batch=8), steps=50, seeds=3)
    assert r["loss"].shape == (2, 3, 51) and not np.any(r["diverged"])


def test_a_measured_gap_to_an_estimated_f_star_is_never_a_pass() -> None:
    """A tilted double well searched from one start finds only the local minimum: f_star is an estimate (too high),
    so even a bound on f - f_star that the runs meet says holds-estimated, naming the measured gap."""
    p = problems.from_function(lambda x: jnp.sum((x**2 - 1) ** 2 + 0.3 * x), jnp.array([1.0]), L=50.0, starts=1)
    assert [m.label for m in p.minima] == ["min1"] and float(p.f_star) > 0.2  # the true inf f is about -0.31
    loose = proofs.make_bound("loose-gap", "1 + 0*L", measures="loss_gap")
    res = check(xtrap.run(p, xtrap.sgd(lr=0.01, exact=True), steps=50), loose)
    assert res.verdict == "holds-estimated" and "the measured loss_gap (from the estimated f_star)" in res.estimated


def test_given_minima_must_be_minima() -> None:
    f = lambda x: jnp.sum((x**2 - 1) ** 2)  # noqa: E731  minima at +-1, a local maximum at 0
    with pytest.raises(problems.ParameterError, match=r"minima\[0\] is not a stationary point"):
        problems.from_function(f, jnp.ones(1), minima=[jnp.array([0.5])])
    with pytest.raises(problems.ParameterError, match=r"minima\[1\] is a saddle"):
        problems.from_function(f, jnp.ones(1), minima=[jnp.array([1.0]), jnp.array([0.0])])


@pytest.mark.slow
def test_resume_fingerprints_of_a_users_problem_agree_across_processes(tmp_path) -> None:
    import subprocess
    import sys
    script = ("import jax.numpy as jnp, problems, xtrap\n"
              "s = 2.0\n"
              "p = problems.from_function(lambda w: 0.5 * s * jnp.sum(w['a'] ** 2), {'a': jnp.ones(2)}, L=2.0, "
              "minima=())\n"
              "print(xtrap.run(p, xtrap.sgd(lr=0.1), steps=3).attrs['fingerprint'])\n")
    runs = [subprocess.run([sys.executable, "-c", script.replace("s = 2.0", f"s = {v}")], capture_output=True,
                           text=True, check=True).stdout.strip() for v in ("2.0", "2.0", "3.0")]
    assert runs[0] == runs[1] != runs[2]  # the same code and captures: one run; another captured value: another
