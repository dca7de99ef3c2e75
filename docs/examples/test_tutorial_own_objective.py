"""Tutorial: plugging in my own objective and method (docs/own-objects.md). Run by the README's test command.

A 2-layer MLP on synthetic data, defined in under 20 lines, becomes an xtrap problem; EXTRAP-SGD and SGD run on it
in one compiled sweep each; the final sharpness is measured; its sharp and flat minima (found by search) are compared
in ``xtrap sharp-flat``; a momentum-direction extrapolation rule of my own is swept over batch sizes and put beside
SGD and EXTRAP-SGD on shared axes. Every constant xtrap estimated says so.
"""

import pytest
import jax
import jax.numpy as jnp
import numpy as np

import problems
import xtrap
from analysis.sharpness import top_eigenvalues

# ---- 1. my objective: a tanh MLP with weight decay on 64 noisy samples of sin(x0) cos(x1) (13 lines) --------------
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 2))
Y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.3 * rng.standard_normal(64)


def init(key, hidden=4):
    k1, k2 = jax.random.split(key)
    return {"layer1": {"w": jax.random.normal(k1, (2, hidden)) / 2, "b": jnp.zeros(hidden)},
            "layer2": {"w": jax.random.normal(k2, (hidden,)) / 3, "b": jnp.zeros(())}}


def loss(params, sample):
    hidden = jnp.tanh(sample["x"] @ params["layer1"]["w"] + params["layer1"]["b"])
    out = hidden @ params["layer2"]["w"] + params["layer2"]["b"]
    decay = 1e-3 * sum(jnp.sum(w ** 2) for w in jax.tree_util.tree_leaves(params))
    return 0.5 * (out - sample["y"]) ** 2 + decay


# 12 starts spread 2 apart find minima of two curvatures: called sharp and flat when 1.2 times apart
mlp = problems.from_samples(loss, {"x": X, "y": Y}, init(jax.random.key(0)), starts=12, spread=2.0, sharp_ratio=1.2)


# ---- 2. my direction rule: extrapolate along the momentum buffer, u = x - gamma * beta * m (4 lines) --------------
@xtrap.register_direction("momentum-lookahead", doc="-gamma * beta * m_t: along the momentum buffer")
def momentum_lookahead(x, state, grads, noise, hyper):
    return -hyper.gamma * hyper.momentum * state.buf


def test_the_mlp_is_a_problem_whose_estimated_constants_say_so():
    assert mlp.dim == 17 and mlp.n == 64
    assert mlp.sources["L"] == "estimated" and mlp.sources["sigma2"] == "estimated"
    assert any("lower bound on the true L" in note for note in mlp.notes)
    assert mlp.unravel(mlp.x0)["layer1"]["w"].shape == (2, 4)  # back to my pytree
    labels = [m.label for m in mlp.minima]  # copies under a permutation of the hidden units share their label
    assert {"sharp", "flat"} <= set(labels) and mlp.sources["minima"] == "estimated"


@pytest.mark.slow
def test_extrap_sgd_and_sgd_in_one_compiled_sweep_and_their_final_sharpness():
    # EXTRAP-SGD with gamma = 0 is SGD (the extrapolated point is x_t itself, its gradient taken on a fresh batch):
    # so the extrapolation step is one more sweep axis, and both methods run in one compiled program
    before = xtrap.compiled_count()
    r = xtrap.run(mlp, xtrap.extrap_sgd(lr=[0.05, 0.2], extrap_lr=[0.0, 0.2], batch=[4, 16]), steps=300, seeds=8,
                  iterates=True, record_every=300)
    assert xtrap.compiled_count() == before + 1 and r.sweep_dims == ("lr", "extrap_lr", "batch")
    assert not np.any(r["diverged"])
    final = np.mean(np.asarray(r["loss"])[..., -1], axis=-1)  # (lr, gamma, batch): mean over seeds
    assert np.all(final < float(mlp.value(mlp.x0)))
    # the final sharpness (Lanczos on Hessian-vector products) at one end point of each method: lr=0.2, batch=4
    x_end = lambda g: jnp.asarray(np.asarray(r["iterates"])[1, g, 0, 0, -1])  # noqa: E731  g: 0 SGD, 1 EXTRAP-SGD
    lam = [float(top_eigenvalues(mlp.value, x_end(g), 1, key=jax.random.key(1))[0]) for g in (1, 0)]
    dense = [float(np.linalg.eigvalsh(np.asarray(mlp.hessian(x_end(g))))[-1]) for g in (1, 0)]
    np.testing.assert_allclose(lam, dense, rtol=1e-8)
    assert all(0 < v <= float(mlp.L) * 1.5 for v in lam)  # near a minimum: not far above the region's estimate


@pytest.mark.slow
def test_my_rule_sweeps_over_batch_sizes_in_one_compiled_run():
    method = xtrap.method("momentum-lookahead", lr=0.02, extrap_lr=0.5, momentum=0.8, batch=[1, 4, 16, 64])
    before = xtrap.compiled_count()
    r = xtrap.run(mlp, method, steps=200, seeds=8)
    assert xtrap.compiled_count() == before + 1 and r.sweep_dims == ("batch",) and not np.any(r["diverged"])
    spread = np.std(np.asarray(r["loss"])[..., -1], axis=1)  # seed-to-seed spread at the end, per batch size
    assert spread[-1] < spread[0]  # b = 64 is the full sum here: no sampling noise at all


@pytest.mark.slow
def test_extrap_sgd_against_sgd_on_shared_axes(figure_dir):
    from analysis import compare

    out = compare(mlp, {"SGD": xtrap.sgd(lr=0.2, batch=4), "EXTRAP-SGD": xtrap.extrap_sgd(lr=0.2, batch=4),
                        "momentum-lookahead": xtrap.method("momentum-lookahead", lr=0.02, extrap_lr=0.5, momentum=0.8,
                                                           batch=4)},
                  steps=300, seeds=8, out_dir=figure_dir)
    assert out["f_star_source"] == "estimated"  # the gap f - f* rests on the searched minima, and says so
    assert all(m["diverged"] == 0 for m in out["methods"]) and (figure_dir / "compare.png").is_file()
    first = out["methods"][0]["curves"]["loss_gap"]["mean"]
    assert first[-1] < first[0]  # training lowered the loss


@pytest.mark.slow
def test_its_sharp_and_flat_minima_compared_in_sharp_flat(figure_dir):
    from analysis import sharp_flat
    from analysis.sharp_flat import landscape

    lam = landscape(mlp).curvature("sharp")
    eta = 0.6 * 2 / lam  # below the sharp minimum's linear-stability threshold for gradient descent
    out = sharp_flat(problem=mlp, methods=["SGD", "EXTRAP-SGD"], lrs=[eta], batches=[4, 64], seeds=16, steps=200,
                     out_dir=figure_dir)
    rows = {(r["method"], r["batch"]): r for r in out["basins"]}
    # full batch (b = n = 64): exact gradients at a linearly stable minimum, so SGD stays near it (the lower end of
    # the 95% interval of that fraction above 1/2); at b = 4 the sampling noise takes most runs away from it (the
    # upper end below 1/2), to flatter ground (median final lambda_max below the sharp minimum's)
    assert rows[("SGD", 64)]["near_ci_low"] > 0.5 and rows[("SGD", 4)]["near_ci_high"] < 0.5
    assert rows[("SGD", 4)]["final_sharpness_median"] < lam
    assert out["omitted"] and (figure_dir / "sharp_flat_final_sharpness.png").is_file()

