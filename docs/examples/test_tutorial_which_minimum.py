"""Tutorial: which minimum does my method pick? (docs/tutorials/which-minimum.md). Run by the README's test command.

My objective has a sharp and a flat minimum of equal depth; xtrap finds and labels them (estimated, and said to
be). My method injects noise along the gradient direction only. ``xtrap sharp-flat`` runs it beside SGD and
EXTRAP-SGD from the sharp minimum over step and batch sizes, and reports the flat-basin fraction with exact 95%
intervals; the theory overlays are left out (my minima are estimated), with the reason. On a built-in landscape
with exact minima (two-basin with a sharp minimum of curvature 30) the same study keeps the theory and its G2
stability predictions are checked against exact-gradient runs. The command line does the same, from this folder:
``xtrap sharp-flat --problem test_tutorial_which_minimum.py:mine``
``--methods SGD,EXTRAP-SGD,test_tutorial_which_minimum.py:along --lr 0.005,0.2 --batch 1,16``.
"""

import pytest
import jax.numpy as jnp
import numpy as np

import problems
import xtrap
from analysis import sharp_flat
from analysis.sharp_flat import landscape


# ---- my objective: a sharp well at s = -1 (curvature 40) and a flat one at s = 2 (curvature 2), equal depth ----
def wells(x):
    return -jnp.exp(-20.0 * (x[0] + 1) ** 2) - jnp.exp(-(x[0] - 2) ** 2) + 0.01 * x[0] ** 2 + 0.5 * x[1] ** 2


mine = problems.from_function(wells, jnp.array([0.5, 0.3]), noise=0.05, starts=16, spread=2.0)


# ---- my method: extrapolate by gamma * z along the normalized mini-batch gradient, z ~ N(0, 1) per worker --------
@xtrap.register_direction("noise-along-gradient", extrap_batch=True, noise="gaussian",
                          doc="gamma z g/|g|: noise along the gradient direction only")
def noise_along_gradient(x, state, grads, noise, hyper):
    unit = grads / (jnp.linalg.norm(grads, axis=-1, keepdims=True) + 1e-12)
    return hyper.gamma * noise[..., :1] * unit


def along(lr, batch):
    return xtrap.method("noise-along-gradient", lr=lr, extrap_lr=0.3, batch=batch)


def test_my_minima_are_found_labelled_and_marked_estimated():
    ls = landscape(mine, "wells")
    assert [round(float(ls.minimum(k).x[0]), 1) for k in ("sharp", "flat")] == [-1.0, 2.0]
    assert round(ls.curvature("sharp")) == 40 and round(ls.curvature("flat")) == 2
    assert mine.sources["minima"] == "estimated" and "minima are estimated" in ls.theory


@pytest.mark.slow
def test_which_minimum_each_method_picks_on_my_landscape(figure_dir):
    lam = landscape(mine).curvature("sharp")
    lrs = [0.2 / lam, 8.0 / lam]  # far below SGD's threshold 2/lambda_sharp, and far past it (flat stays stable)
    out = sharp_flat(problem=mine, methods=["SGD", "EXTRAP-SGD", along(lrs, [1, 16])], lrs=lrs, batches=[1, 16],
                     seeds=32, steps=200, out_dir=figure_dir)
    rows = {(r["method"], r["lr"], r["batch"]): r for r in out["basins"]}
    for b in (1, 16):  # SGD: stays in the sharp basin at the small step, ends in the flat one at the large step
        assert rows[("SGD", lrs[0], b)]["ci_high"] < 0.5 and rows[("SGD", lrs[1], b)]["ci_low"] > 0.5
    assert {r["method"] for r in out["basins"]} == {"SGD", "EXTRAP-SGD", "noise-along-gradient"}
    assert out["omitted"] and all(r["theory"] for r in out["basins"])  # no G2/B_crit overlay on estimated minima
    g5 = [c for c in out["claims"] if c["claim"] == "G5"]  # equal depth: EXTRAP-SGD against large-batch SGD
    assert g5 and all("theory is left out" in c["detail"] for c in g5)
    assert (figure_dir / "sharp_flat_fraction.png").is_file() and (figure_dir / "report.md").is_file()


@pytest.mark.slow
def test_on_exact_minima_the_theory_is_kept_and_its_stability_predictions_hold():
    p = problems.make("two-basin", sharp_curvature=30)  # the sharp minimum's curvature itself (solved for)
    out = sharp_flat(problem=p, methods=["SGD", "EXTRAP-SGD"], batches=[64], seeds=16, steps=100)
    # default steps: 0.6, 0.9 and 1.4 times SGD's threshold 2/30, so SGD keeps the sharp minimum at the first two
    assert out["grid"]["two-basin"]["lrs"] == [0.04, 0.06, 0.0933]
    g2 = [c for c in out["claims"] if c["claim"] == "G2"]  # exact-gradient runs against the stability filter
    assert out["omitted"] == [] and len(g2) == 6 and all(c["holds"] for c in g2)
    sgd = [r for r in out["basins"] if r["method"] == "SGD"]
    assert [r["sharp_stable"] for r in sgd] == [True, True, False]
    assert np.isclose(sgd[0]["sharp_curvature"], 30.0, rtol=1e-10)
