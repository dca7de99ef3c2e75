"""Sharp vs flat on the user's settings (issue 11, item 4): any problem with labelled minima as a landscape, the
methods and grid chosen by the user, the theory overlays where they apply and a stated reason where they do not.

The expectations come from outside the code under test: barriers from the minima themselves, per-sample curvatures
from ``jax.hessian`` of the user's own per-sample loss, basin outcomes from linear stability (a step above
2/lambda_sharp cannot stay at the sharp minimum; a step far below it, with small noise, cannot leave it).
"""

from __future__ import annotations

import dataclasses
import importlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from analysis import sharp_flat
from analysis.sharp_flat import landscape, landscapes
from analysis.sharp_flat.overlays import curvature_spread
from xtrap.cli import main

basins = importlib.import_module("analysis.sharp_flat.basins")


def _wells(x):  # a sharp well at s = -1 (curvature 40) and a flat one at s = 2 (curvature 2), equal depth 1
    return (-jnp.exp(-20.0 * (x[0] + 1) ** 2) - jnp.exp(-(x[0] - 2) ** 2) + 0.01 * x[0] ** 2 + 0.5 * x[1] ** 2)


@pytest.fixture(scope="module")
def wells() -> problems.Problem:
    return problems.from_function(_wells, jnp.array([0.5, 0.3]), noise=0.05, starts=16, spread=2.0)


def test_the_built_in_landscapes_are_the_general_constructor_on_their_problems() -> None:
    tb, cs = landscapes()
    sharp = np.asarray(tb.minimum("sharp").x)
    assert tb.barrier == pytest.approx(abs(float(tb.problem.ridge) - sharp[0]), rel=0, abs=0)
    np.testing.assert_array_equal(tb.x0, sharp + 1e-3 * np.eye(2)[0])
    assert tb.theory is None and cs.theory is None and tb.equal_depth and not cs.equal_depth
    np.testing.assert_array_equal(np.abs(cs.sharp_direction()), [1.0])


def test_a_user_landscape_states_why_the_theory_is_left_out(wells) -> None:
    ls = landscape(wells, "wells")
    xs, xf = (np.asarray(ls.minimum(k).x) for k in ("sharp", "flat"))
    np.testing.assert_allclose([xs[0], xf[0]], [-1.0, 2.0], atol=0.03)
    d = xf - xs  # the barrier is the distance to where the problem's basin switches on the way to the flat minimum
    at = lambda t: int(wells.basin(jnp.asarray(xs + t * d)))  # noqa: E731
    t_switch = ls.barrier / np.linalg.norm(d)
    assert at(t_switch - 1e-6) == int(ls.index("sharp")[0]) and at(t_switch + 1e-6) == int(ls.index("flat")[0])
    assert ls.theory is not None and "minima are estimated" in ls.theory and "L-BFGS" in ls.theory
    assert ls.equal_depth  # f = -1 + small terms at both wells


def test_landscape_refuses_problems_without_sharp_and_flat_minima() -> None:
    with pytest.raises(problems.ParameterError, match="needs minima labelled 'sharp' and 'flat'; quadratic has 'global'"):
        landscape(problems.make("quadratic"))
    with pytest.raises(problems.ParameterError, match="x0 must be a finite vector of shape"):
        landscape(problems.make("two-basin"), x0=[0.0])
    p = problems.make("two-basin")
    same = dataclasses.replace(p, minima=(p.minima[0], dataclasses.replace(p.minima[0], label="flat")))
    with pytest.raises(problems.ParameterError, match="sharp minimum sharper than its flat one and apart from it"):
        landscape(same)
    with pytest.raises(problems.ParameterError, match="needs every minimum listed; cosine lists only 4"):
        landscape(problems.make("cosine", dim=20))  # 4^20 product minima: the mixed flat ones are not listed


def test_a_method_that_sweeps_more_than_lr_and_batch_is_refused_before_any_sweep(wells, monkeypatch) -> None:
    ran = []
    monkeypatch.setattr(basins, "basin_sweep", lambda *a, **k: ran.append(a))
    study = importlib.import_module("analysis.sharp_flat.study")
    monkeypatch.setattr(study, "basin_sweep", lambda *a, **k: ran.append(a))
    wide = xtrap.extrap_sgd(lr=0.01, extrap_lr=[0.0, 0.01])
    with pytest.raises(problems.ParameterError, match="sweeps lr, extrap_lr, batch; give its other hyper-parameters"):
        sharp_flat(problem=wells, methods=["SGD", wide], lrs=[0.01], batches=[1], seeds=2, steps=2)
    assert ran == []


@pytest.mark.slow
def test_the_landscape_figure_of_a_one_dimensional_two_basin(tmp_path) -> None:
    from analysis.sharp_flat.landscape_figure import fig_landscape

    ls = landscape(problems.make("two-basin", dim=1, n=16))  # it has a ridge but no second coordinate to draw
    sw = basins.basin_sweep(ls, basins.METHODS["SGD"], [0.05], [1], seeds=2, steps=10)
    names, _ = fig_landscape([sw], tmp_path)
    assert names == ["sharp_flat_landscape.png"] and (tmp_path / names[0]).stat().st_size > 10_000


@pytest.mark.slow
def test_sharp_flat_on_a_user_problem_and_method_measures_without_theory(wells, tmp_path) -> None:
    """The structure of a run on estimated minima (the science of it is docs/examples/test_tutorial_which_minimum)."""
    lam = landscape(wells).curvature("sharp")
    mine = xtrap.extrap_sgd(lr=0.01, extrap_lr=0.01)  # a Method object: the user's own, without a G2 rule
    out = sharp_flat(problem=wells, methods=["SGD", mine], lrs=[0.2 / lam], batches=[1, 4], seeds=6, steps=30,
                     out_dir=tmp_path)
    rows = out["basins"]
    assert [(r["method"], r["batch"]) for r in rows] == [("SGD", 1), ("SGD", 4), ("extrap_sgd", 1), ("extrap_sgd", 4)]
    assert all("sharp_stable" not in r and "b_crit" not in r and r["theory"] for r in rows) and out["complete"]
    assert [c for c in out["claims"] if c["claim"] in ("G2", "G3", "G4")] == []
    assert len(out["omitted"]) == 1 and out["omitted"][0].startswith("user: the minima are estimated")
    report = (tmp_path / "report.md").read_text()
    assert "Theory overlays left out" in report and "SGD at the sharp minimum, step by step" not in report
    assert json.loads((tmp_path / "basins.json").read_text())["complete"] is True
    assert (tmp_path / "sharp_flat_landscape.png").stat().st_size > 0
    assert out["grid"]["user"]["source"] == "step sizes: given, batch sizes: given"
    default = sharp_flat(problem=wells, methods=["SGD"], batches=[1], seeds=2, steps=2)["grid"]["user"]["lrs"]
    # on both sides of SGD's threshold 2/lambda_sharp, none at it, to the 3 digits printed (0.5% at most)
    np.testing.assert_allclose(np.asarray(default) * lam / 2, [0.6, 0.9, 1.4], rtol=5e-3)


def test_sharp_flat_refuses_a_bad_grid() -> None:
    p = problems.make("two-basin")
    for kw, match in [({"lrs": [0.1, -1.0]}, "lrs must be"), ({"batches": [0]}, "batches must be"),
                      ({"batches": [65]}, "batches must be"), ({"seeds": 0}, "seeds must be"),
                      ({"methods": ["SGD", "SGD"]}, "distinct methods"), ({"methods": [3]}, "methods must hold")]:
        with pytest.raises(problems.ParameterError, match=match):
            sharp_flat(problem=p, **kw)


@pytest.mark.slow
def test_curvature_spread_of_a_user_finite_sum_uses_its_own_per_sample_hessians() -> None:
    rng = np.random.default_rng(3)
    data = {"a": rng.standard_normal((12, 3)), "c": rng.uniform(0.5, 2.0, 12)}

    def loss(x, s):  # per-sample curvature differs through c and a
        return s["c"] * jnp.log(1 + (s["a"] @ x) ** 2) + 0.5 * jnp.sum(x ** 2)

    p = problems.from_samples(loss, data, jnp.array([0.3, -0.2, 0.1]), starts=1)
    x = jnp.array([0.2, 0.1, -0.3])
    v = jnp.asarray(np.linalg.eigh(np.asarray(p.hessian(x)))[1][:, -1])
    want = np.array([float(v @ jax.hessian(loss)(x, {"a": data["a"][i], "c": data["c"][i]}) @ v) for i in range(12)])
    h, a, s = curvature_spread(p, x)
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)
    assert a == pytest.approx(want.mean(), rel=1e-12) and s == pytest.approx(want.std(), rel=1e-9)


@pytest.mark.slow
def test_hessian_spectra_in_chunks_equal_one_dense_pass(monkeypatch) -> None:
    p = problems.make("two-basin", dim=3)
    xs = np.random.default_rng(0).normal(size=(11, 3))
    want = np.linalg.eigvalsh(np.stack([np.asarray(p.hessian(jnp.asarray(x))) for x in xs]))
    monkeypatch.setattr(basins, "HESSIAN_CHUNK_ENTRIES", 4 * 9)  # chunks of 4 points, the last one padded
    top, tr = basins._spectra(p, xs)
    np.testing.assert_allclose(top, want[:, -1], rtol=1e-13)
    np.testing.assert_allclose(tr, want.sum(axis=1), rtol=1e-13)


@pytest.mark.slow
def test_the_cli_runs_a_users_landscape_and_method_and_refuses_misuse(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "mine.py").write_text(
        "import jax.numpy as jnp\nimport problems, xtrap\n\n"
        "def wells(sharp=40.0):\n"
        "    f = lambda x: -jnp.exp(-sharp / 2 * (x[0] + 1) ** 2) - jnp.exp(-(x[0] - 2) ** 2) + 0.5 * x[1] ** 2\n"
        "    return problems.from_function(f, jnp.array([0.5, 0.3]), noise=0.05, starts=16, spread=2.0)\n\n"
        "def lookahead(lr, batch):\n"
        "    return xtrap.extrap_sgd(lr=lr, extrap_lr=0.01, batch=batch)\n\n"
        "INSTANCE = xtrap.extrap_sgd(lr=0.1, extrap_lr=0.02)\n\n"
        "def no_batch(lr):\n"
        "    return xtrap.sgd(lr=lr)\n")
    monkeypatch.chdir(tmp_path)
    code = main(["sharp-flat", "--problem", "mine.py:wells", "--param", "sharp=30", "--methods",
                 "SGD,mine.py:lookahead,mine.py:INSTANCE",
                 "--lr", "0.01,0.02", "--batch", "1,2", "--seeds", "4", "--steps", "20", "--out", "o", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and {r["method"] for r in out["basins"]} == {"SGD", "lookahead", "INSTANCE"}
    assert out["seeds"] == 4
    assert out["landscapes"][0]["minima"] == "estimated" and out["omitted"]
    for argv, message in [(["--param", "a=1"], "--param needs --problem"),
                          (["--methods", "SGD,BOGUS"], "--methods must name study methods"),
                          (["--problem", "quadratic"], "needs minima labelled 'sharp' and 'flat'"),
                          (["--problem", "mine.py:nope"], "has no attribute 'nope'"),
                          (["--batch", "0"], "--batch"), (["--batch", "1,65"], "--batch must be in [1, n=64]"),
                          (["--methods", "SGD,mine.py:no_batch"], "--methods mine.py:no_batch: calling it with"),
                          (["--methods", "mine.py:wells"], "--methods mine.py:wells: calling it with"),
                          (["--methods", "SGD,mine.py:INSTANCE,other.py:INSTANCE"], "distinct methods")]:
        try:
            code = main(["sharp-flat", *argv, "--out", "p"])
        except SystemExit as err:  # argparse's own refusals exit too
            code = err.code
        line = capsys.readouterr().err.strip()
        assert code == 2 and message in line and "\n" not in line, (argv, line)
    assert not (tmp_path / "p").exists()  # refused before the report folder is touched


def test_copies_of_a_minimum_share_its_label() -> None:
    """Minima as flat as the flattest (or as sharp as the sharpest) to 1e-6 are that kind: the copies of a network's
    minimum under a permutation of its hidden units must all count in a flat fraction."""
    from problems._search import sharpness_labels

    lam = [1.0, 1.0 + 1e-9, 1.5, 3.0 - 1e-9, 3.0]
    assert sharpness_labels(5, lam, 2.0) == ["flat", "flat", "mid1", "sharp", "sharp"]
    assert sharpness_labels(3, [1.0, 1.0, 1.5], 2.0) == ["min1", "min2", "min3"]  # not 2 times apart: no kinds
    assert sharpness_labels(3) == ["flat", "mid1", "sharp"]  # no curvatures given: by order alone
