"""The digits family: the data and its fixed split, the MLP and its loss against a NumPy reimplementation (forward and
hand-written backprop), the finite-sum oracle, the generalization metrics, the estimated constants and their labels,
training by xtrap.run, and named errors on bad parameters."""

from __future__ import annotations

import collections
import doctest
import importlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from sklearn.datasets import load_digits

import problems
import xtrap

digits_module = importlib.import_module("problems.digits")


# ---- an independent NumPy reference of the network, its loss and its gradient --------------------------------------

def np_act(pre: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """phi(pre) and phi'(pre)."""
    if activation == "tanh":
        h = np.tanh(pre)
        return h, 1.0 - h * h
    return np.logaddexp(0.0, pre), 0.5 * (1.0 + np.tanh(0.5 * pre))


def np_losses(tree: dict, a: np.ndarray, y: np.ndarray, activation: str, lam: float) -> np.ndarray:
    z = np_act(a @ tree["w1"] + tree["b1"], activation)[0] @ tree["w2"] + tree["b2"]
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    decay = 0.5 * lam * sum(float(np.sum(w * w)) for w in tree.values())
    return lse - z[np.arange(len(y)), y] + decay


def np_grad(tree: dict, a: np.ndarray, y: np.ndarray, activation: str, lam: float, weights=None) -> dict:
    """Backprop of sum_i w_i f_i / sum_i w_i (w = 1 by default), by hand."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    pre = a @ tree["w1"] + tree["b1"]
    h, dphi = np_act(pre, activation)
    z = h @ tree["w2"] + tree["b2"]
    prob = np.exp(z - z.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    dz = prob.copy()
    dz[np.arange(len(y)), y] -= 1.0
    dz *= (w / w.sum())[:, None]
    dpre = (dz @ tree["w2"].T) * dphi
    g = {"w2": h.T @ dz, "b2": dz.sum(axis=0), "w1": a.T @ dpre, "b1": dpre.sum(axis=0)}
    return {k: g[k] + lam * tree[k] for k in tree}


def flat(tree: dict) -> np.ndarray:
    return np.asarray(ravel_pytree({k: jnp.asarray(v) for k, v in tree.items()})[0])


def random_tree(rng: np.random.Generator, hidden: int, scale: float = 0.5) -> dict:
    """A point away from the initialization (nonzero biases, larger weights), so every term of the loss counts."""
    return {"w1": scale * rng.standard_normal((64, hidden)), "b1": scale * rng.standard_normal(hidden),
            "w2": scale * rng.standard_normal((hidden, 10)), "b2": scale * rng.standard_normal(10)}


@pytest.fixture(scope="module")
def default() -> problems.Digits:
    return problems.make("digits")


@pytest.fixture(scope="module", params=["tanh", "softplus"])
def small(request) -> problems.Digits:
    return problems.make("digits", hidden=6, activation=request.param, weight_decay=0.3, estimate_points=1)


# ---- data ----------------------------------------------------------------------------------------------------------

def _rows(images: np.ndarray, labels: np.ndarray) -> collections.Counter:
    return collections.Counter((r.tobytes(), int(c)) for r, c in zip(np.asarray(images), np.asarray(labels)))


def test_the_split_partitions_the_scaled_dataset_stratified(default) -> None:
    """Train + test are exactly the 1,797 images / 16 with their labels (a multiset identity: disjoint and complete),
    360 = ceil(0.2 * 1797) are held out, and each class is held out in proportion (to within one image)."""
    data = load_digits()
    assert default.images.shape == (1437, 64) and default.test_images.shape == (360, 64)
    assert default.n == 1437 and default.labels.shape == (1437,) and default.test_labels.shape == (360,)
    assert jnp.issubdtype(default.labels.dtype, jnp.integer) and default.images.dtype == jnp.float64
    assert float(default.images.min()) == 0.0 and float(default.images.max()) == 1.0
    assert _rows(default.images, default.labels) + _rows(default.test_images, default.test_labels) == _rows(
        data.data / 16.0, data.target)
    for c in range(10):
        n_c = int(np.sum(data.target == c))
        assert abs(int(np.sum(np.asarray(default.test_labels) == c)) - 0.2 * n_c) <= 1.0
        assert int(np.sum(np.asarray(default.labels) == c)) + int(np.sum(np.asarray(default.test_labels) == c)) == n_c


def test_the_split_is_fixed_and_sized_by_test_fraction(default) -> None:
    """Rebuilt from scratch (the cache emptied), the split is the same arrays, whatever the seed (which sets only x0);
    test_fraction = 0.3 holds out ceil(0.3 * 1797) = 540 images."""
    digits_module._split.cache_clear()
    again = problems.make("digits", hidden=6, seed=7, estimate_points=1)
    for field in ("images", "labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(np.asarray(getattr(again, field)), np.asarray(getattr(default, field)))
    images, labels, test_images, test_labels = digits_module._split(0.3)
    assert images.shape == (1257, 64) and labels.shape == (1257,) and test_images.shape == (540, 64)
    assert test_labels.shape == (540,)


# ---- parameters and initialization ---------------------------------------------------------------------------------

def test_the_parameters_are_the_stated_pytree_and_x0_is_lecun_normal(default) -> None:
    """d = 75 H + 10; unravel inverts ravel_pytree; biases 0; the weights' sample variances are within 4 standard
    errors of 1/fan-in (SE of a sample variance of N normals: var * sqrt(2 / (N - 1))); the same seed gives the same
    x0, another seed another."""
    assert default.dim == 75 * 32 + 10
    tree = default.unravel(default.x0)
    assert {k: v.shape for k, v in tree.items()} == {"w1": (64, 32), "b1": (32,), "w2": (32, 10), "b2": (10,)}
    np.testing.assert_array_equal(flat(tree), np.asarray(default.x0))
    assert not np.any(np.asarray(tree["b1"])) and not np.any(np.asarray(tree["b2"]))
    for name, fan_in in (("w1", 64), ("w2", 32)):
        w = np.asarray(tree[name]).ravel()
        var = 1.0 / fan_in
        assert abs(np.mean(w)) <= 4 * np.sqrt(var / w.size)
        assert abs(np.var(w, ddof=1) - var) <= 4 * var * np.sqrt(2 / (w.size - 1))
    same = problems.make("digits", seed=0, estimate_points=1)
    np.testing.assert_array_equal(np.asarray(same.x0), np.asarray(default.x0))
    assert not np.allclose(np.asarray(problems.make("digits", seed=1, estimate_points=1).x0), np.asarray(default.x0))


# ---- loss, gradient and oracle against the NumPy reference ---------------------------------------------------------

def test_the_numpy_reference_gradient_matches_finite_differences() -> None:
    """The hand-written backprop used as reference below is itself right: central differences of the NumPy loss in
    three random directions (truncation error ~ h^2 = 1e-10 relative)."""
    rng = np.random.default_rng(1)
    a, y = rng.random((9, 64)), rng.integers(0, 10, 9)
    for activation in ("tanh", "softplus"):
        tree = random_tree(rng, 5)
        g = np_grad(tree, a, y, activation, 0.3)
        for _ in range(3):
            v = {k: rng.standard_normal(t.shape) for k, t in tree.items()}
            h = 1e-5
            plus = np.mean(np_losses({k: tree[k] + h * v[k] for k in tree}, a, y, activation, 0.3))
            minus = np.mean(np_losses({k: tree[k] - h * v[k] for k in tree}, a, y, activation, 0.3))
            exact = sum(float(np.sum(g[k] * v[k])) for k in tree)
            assert (plus - minus) / (2 * h) == pytest.approx(exact, rel=1e-8)


def test_per_sample_losses_and_f_match_numpy_to_round_off(small) -> None:
    """f_i (cross-entropy + weight decay) on the pytree, and f on the flat vector (the mean over all 1,437), equal
    the NumPy forward pass to 1e-12."""
    rng = np.random.default_rng(2)
    tree = random_tree(rng, 6)
    a, y = np.asarray(small.images), np.asarray(small.labels)
    ref = np_losses(tree, a, y, small.activation, 0.3)
    mine = small.per_sample_loss({k: jnp.asarray(v) for k, v in tree.items()}, small.images[:7], small.labels[:7])
    np.testing.assert_allclose(np.asarray(mine), ref[:7], rtol=1e-12)
    assert float(small.value(jnp.asarray(flat(tree)))) == pytest.approx(float(np.mean(ref)), rel=1e-12)


def test_gradients_and_the_masked_batch_gradient_match_numpy_backprop(small) -> None:
    """grad f, a per-sample gradient and the mini-batch gradient (the oracle xtrap.run calls), masked and not, equal
    the hand-written backprop to 1e-11: the masked one is the gradient of the first 5 samples' mean loss (the
    protocol: a mean of per-sample gradients over the mask)."""
    rng = np.random.default_rng(3)
    tree = random_tree(rng, 6)
    x = jnp.asarray(flat(tree))
    a, y, act = np.asarray(small.images), np.asarray(small.labels), small.activation
    np.testing.assert_allclose(np.asarray(small.grad(x)), flat(np_grad(tree, a, y, act, 0.3)), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(np.asarray(small.sample_grad(x, jnp.asarray(5))),
                               flat(np_grad(tree, a[5:6], y[5:6], act, 0.3)), rtol=1e-11, atol=1e-13)
    xi = rng.choice(small.n, 12, replace=False)  # a batch as FiniteSum.sample draws one: distinct indices
    mask = np.arange(12) < 5
    got = np.asarray(small.stochastic_grad(x, jnp.asarray(xi), jnp.asarray(mask)))
    np.testing.assert_allclose(got, flat(np_grad(tree, a[xi], y[xi], act, 0.3, weights=mask)), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(got, flat(np_grad(tree, a[xi[:5]], y[xi[:5]], act, 0.3)), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(np.asarray(small.stochastic_grad(x, jnp.asarray(xi))),
                               flat(np_grad(tree, a[xi], y[xi], act, 0.3)), rtol=1e-11, atol=1e-13)


def test_extra_metrics_match_numpy_counts_under_jit_and_vmap(small) -> None:
    """test_loss = the mean test-set f_i; accuracies = (number of rows whose NumPy argmax is the label) / rows; the
    same under jit and under vmap over two points."""
    rng = np.random.default_rng(4)
    trees = [random_tree(rng, 6, scale=1.0) for _ in range(2)]
    xs = jnp.stack([jnp.asarray(flat(t)) for t in trees])
    batched = jax.vmap(jax.jit(small.extra_metrics))(xs)
    for j, tree in enumerate(trees):
        m = small.extra_metrics(xs[j])
        assert set(m) == {"test_loss", "test_accuracy", "train_accuracy"} and all(v.shape == () for v in m.values())
        ta, ty = np.asarray(small.test_images), np.asarray(small.test_labels)
        assert float(m["test_loss"]) == pytest.approx(float(np.mean(np_losses(tree, ta, ty, small.activation, 0.3))),
                                                      rel=1e-12)
        for key, a, y in (("test_accuracy", ta, ty), ("train_accuracy", np.asarray(small.images),
                                                       np.asarray(small.labels))):
            z = np_act(a @ tree["w1"] + tree["b1"], small.activation)[0] @ tree["w2"] + tree["b2"]
            hits = int(np.sum(np.argmax(z, axis=1) == y))
            assert float(m[key]) == pytest.approx(hits / len(y), abs=1e-15)
            assert float(batched[key][j]) == pytest.approx(hits / len(y), abs=1e-15)
        assert float(batched["test_loss"][j]) == pytest.approx(float(m["test_loss"]), rel=1e-13)


def test_instances_share_compiled_programs() -> None:
    """weight_decay and the initialization are pytree data, not static: one compilation serves all three."""
    ps = [problems.make("digits", hidden=6, estimate_points=1, **kw) for kw in ({}, {"seed": 4},
                                                                              {"weight_decay": 0.1})]
    f = jax.jit(lambda p, x: p.value(x))
    for p in ps:
        f(p, p.x0)
    assert f._cache_size() == 1


# ---- constants -----------------------------------------------------------------------------------------------------

def test_constants_are_labelled_and_their_notes_say_how(default) -> None:
    assert default.sources == {"L": "estimated", "sigma2": "estimated", "f_star": "estimated", "mu": "unknown",
                               "minima": "unknown"}
    assert default.minima == () and float(default.f_star) == 0.0 and np.isnan(float(default.mu))
    notes = dict(n.split(": ", 1) for n in default.notes)
    assert set(notes) == {"L", "sigma2", "f_star", "minima"}
    assert "Lanczos" in notes["L"] and "lower bound" in notes["L"] and "2 further initializations" in notes["L"]
    assert "lower bound" in notes["sigma2"] and "lower bound" in notes["f_star"]
    # the CLI's every-problem test runs step 0.05 and needs 0.05 L < 1
    assert 0 < float(default.L) < 20 and float(default.sigma2) > 0


@pytest.mark.slow
def test_estimated_L_and_sigma2_equal_dense_references_at_x0() -> None:
    """With one estimation point, L is max |eigenvalue| of the dense Hessian at x0 (jax.hessian, numpy eigvalsh) and
    sigma2 the variance of the NumPy per-sample gradients at x0; more points can only raise both (a maximum over a
    superset: the first point is x0 either way)."""
    one = problems.make("digits", hidden=8, weight_decay=0.01, estimate_points=1)
    ev = np.linalg.eigvalsh(np.asarray(jax.hessian(one.value)(one.x0)))
    assert float(one.L) == pytest.approx(max(abs(ev[0]), abs(ev[-1])), rel=1e-8)
    tree = {k: np.asarray(v) for k, v in one.unravel(one.x0).items()}
    a, y = np.asarray(one.images), np.asarray(one.labels)
    g = np.stack([flat(np_grad(tree, a[i:i + 1], y[i:i + 1], "tanh", 0.01)) for i in range(one.n)])
    assert float(one.sigma2) == pytest.approx(float(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1))), rel=1e-10)
    more = problems.make("digits", hidden=8, weight_decay=0.01, estimate_points=4)
    assert float(more.L) >= float(one.L) * (1 - 1e-9) and float(more.sigma2) >= float(one.sigma2) * (1 - 1e-12)


# ---- training ------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_sgd_by_xtrap_run_generalizes_far_above_chance(default) -> None:
    """300 steps of SGD (lr 0.5, batch 32, Nesterov 0.9) from x0, 3 seeds: every run reaches test accuracy >= 0.85
    (chance is 0.1; this network reaches ~0.95). It fails if labels and images were misaligned (chance level), if
    the oracle's gradient were wrong, or if the split leaked nothing learnable. x0 itself is near chance."""
    assert float(default.extra_metrics(default.x0)["test_accuracy"]) < 0.3
    r = xtrap.run(default, xtrap.sgd(lr=0.5, batch=32, momentum=0.9, nesterov=True), steps=300, seeds=3,
                  record_every=300, iterates=True, averages=False)
    assert not np.any(r["diverged"])
    final = np.asarray(r["iterates"])[:, -1]
    for x in final:
        m = default.extra_metrics(jnp.asarray(x))
        assert float(m["test_accuracy"]) >= 0.85 and float(m["train_accuracy"]) >= 0.85
    assert np.all(np.asarray(r["loss"])[:, -1] < 0.5 * float(default.value(default.x0)))


@pytest.mark.slow
def test_the_module_docstring_trains_with_optax() -> None:
    """The 20-line optax loop in the module docstring runs and reaches > 0.9 test accuracy; the factory's example."""
    pytest.importorskip("optax")
    result = doctest.testmod(digits_module)
    assert result.attempted >= 10 and result.failed == 0


@pytest.mark.slow
def test_importing_problems_does_not_import_sklearn() -> None:
    out = subprocess.run([sys.executable, "-c", "import sys, problems; print('sklearn' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- bad parameters ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, needle", [
    (dict(hidden=0), r"hidden must be an integer in \[1, 256\], got 0"),
    (dict(hidden=257), r"hidden must be an integer in \[1, 256\], got 257"),
    (dict(hidden=2.5), r"hidden must be an integer, got 2.5"),
    (dict(activation="relu"), r"activation must be one of tanh, softplus; got 'relu'"),
    (dict(weight_decay=-1.0), r"weight_decay must be in \[0, 1e\+06\], got -1"),
    (dict(weight_decay=float("nan")), r"weight_decay must be finite"),
    (dict(test_fraction=0.01), r"test_fraction must be in \[0.05, 0.5\], got 0.01"),
    (dict(test_fraction=0.6), r"test_fraction must be in \[0.05, 0.5\], got 0.6"),
    (dict(seed=-1), r"seed must be an integer in \[0, 9223372036854775807\], got -1"),
    (dict(estimate_points=0), r"estimate_points must be an integer in \[1, 100\], got 0"),
    (dict(layers=2), r"problem 'digits' has no parameter 'layers'"),
])
def test_bad_parameters_raise_named_errors(kw: dict, needle: str) -> None:
    with pytest.raises(problems.ParameterError, match=needle):
        problems.make("digits", **kw)
