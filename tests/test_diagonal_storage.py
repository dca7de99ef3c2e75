"""Quadratics stored by their structure (issue 13, item 2): a standard-basis quadratic keeps d numbers per matrix.

* ``DiagonalMatrix`` acts as the dense ``diag(v)`` it stands for (products from both sides, stacks, indexing,
  ``np.asarray``, eigenvalues, ``jit`` and ``vmap``), checked against NumPy's dense matrix, and refuses a silent
  ``jnp.asarray``;
* the diagonal quadratic is the dense one: the same problem built with ``eigvecs=np.eye(d)`` (stored dense) gives the
  same value, gradient, Hessian, noise and runs, to round-off;
* its storage grows with d (a d = 10^6 problem holds a few d-vectors), and a run at d = 10^5 completes;
* the families' dimension caps: 4096 with a dense rotation, 10^7 without, refused with the parameter named;
* ``noisy-quadratic`` is what its docstring says: H = diag(1, 1/2, ..., 1/d) in coordinate order, noise covariance
  c H (before, the eigenvalues were sorted into ascending order while the noise kept the caller's order).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from problems import DiagonalMatrix

V = np.array([0.5, -2.0, 3.0, 0.25])
DENSE = np.diag(V)


def test_diagonal_matrix_acts_as_the_dense_matrix():
    D = DiagonalMatrix(diagonal=V)
    x, X = np.arange(1.0, 5.0), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(D @ x, DENSE @ x)
    np.testing.assert_array_equal(x @ D, x @ DENSE)
    np.testing.assert_array_equal(X @ D, X @ DENSE)
    np.testing.assert_array_equal(D @ X.T, DENSE @ X.T)
    np.testing.assert_array_equal(jnp.asarray(X) @ D, X @ DENSE)
    np.testing.assert_array_equal(np.asarray(D), DENSE)
    np.testing.assert_array_equal(np.asarray(D.dense()), DENSE)
    assert D.shape == (4, 4) and D.ndim == 2 and D.T is D and D[1, 1] == -2.0 and D[0, 1] == 0.0
    np.testing.assert_array_equal(problems.eigvalsh(D), np.linalg.eigvalsh(DENSE))
    np.testing.assert_array_equal(np.linalg.eigvalsh(D), np.linalg.eigvalsh(DENSE))


def test_diagonal_matrix_is_a_pytree_under_jit_and_vmap():
    D = DiagonalMatrix(diagonal=jnp.asarray(V))
    out = jax.jit(lambda m, x: (m @ x, m))(D, jnp.ones(4))
    np.testing.assert_array_equal(out[0], V)
    assert isinstance(out[1], DiagonalMatrix)
    batch = jax.vmap(lambda v: DiagonalMatrix(diagonal=v).dense())(jnp.stack([jnp.asarray(V), 2 * jnp.asarray(V)]))
    np.testing.assert_array_equal(batch, np.stack([DENSE, 2 * DENSE]))


def test_no_silent_densifying_inside_a_compiled_program():
    D = DiagonalMatrix(diagonal=jnp.asarray(V))
    with pytest.raises(jax.errors.TracerArrayConversionError):
        jax.jit(jnp.asarray)(D)
    with pytest.raises(TypeError, match="eigvalsh"):
        jax.jit(jnp.linalg.eigvalsh)(D)


LAM = np.array([0.3, 1.0, 0.05, 2.0, 0.7])
COV = np.array([0.2, 0.0, 1.5, 0.4, 0.9])


def _pair():
    """The same quadratic stored diagonal (no eigvecs) and dense (eigvecs = identity)."""
    kw = dict(x_star=np.arange(5.0), x0=np.arange(5.0) + np.array([1.0, -2.0, 0.5, 3.0, -1.0]))
    return (problems.make_quadratic(LAM, noise_cov=COV, **kw),
            problems.make_quadratic(LAM, eigvecs=np.eye(5), noise_cov=np.diag(COV), **kw))


def test_diagonal_quadratic_is_the_dense_one():
    diag, dense = _pair()
    assert isinstance(diag.H, DiagonalMatrix) and isinstance(diag.noise_factor, DiagonalMatrix)
    assert isinstance(dense.H, np.ndarray)
    x = jnp.asarray([0.3, -1.0, 2.0, 0.0, 5.0])
    assert float(diag.value(x)) == pytest.approx(float(dense.value(x)), rel=1e-15)
    np.testing.assert_allclose(diag.grad(x), dense.grad(x), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(diag.hessian(x), dense.hessian(x))
    np.testing.assert_array_equal(np.asarray(diag.minima[0].hessian), np.diag(LAM))
    assert diag.minima[0].sharpness == dense.minima[0].sharpness == 2.0
    for a in ("L", "mu", "sigma2"):
        assert float(getattr(diag, a)) == pytest.approx(float(getattr(dense, a)), rel=1e-15)
    key = jax.random.key(3)
    np.testing.assert_array_equal(diag.sample(key, 7), dense.sample(key, 7))
    np.testing.assert_allclose(diag.noise_cov, np.diag(COV), rtol=1e-15)
    r = np.array([1.0, 2.0, -3.0, 0.5, 4.0])
    c_diag, c_dense = diag.to_eigenbasis(r), dense.to_eigenbasis(r)  # paired with each problem's eigvals
    for lam in LAM:
        assert c_diag[diag.eigvals == lam] == pytest.approx(c_dense[dense.eigvals == lam], abs=1e-15)
        assert (diag.eigen_noise_variances()[diag.eigvals == lam]
                == pytest.approx(dense.eigen_noise_variances()[dense.eigvals == lam], rel=1e-14))


@pytest.mark.parametrize("method", [xtrap.extrap_sgd(lr=0.4, batch=3), xtrap.extragradient(lr=0.4),
                                    xtrap.sgd(lr=0.3, momentum=0.5, batch=2)], ids=["extrap_sgd", "eg", "heavy_ball"])
def test_diagonal_and_dense_runs_agree(method):
    diag, dense = _pair()
    a, b = (xtrap.run(p, method, steps=40, seeds=3, record_every=10, iterates=True) for p in (diag, dense))
    np.testing.assert_allclose(a["iterates"], b["iterates"], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-13)


def test_storage_grows_with_d():
    d = 10**6
    p = problems.make("quadratic", dim=d, rotate=False)
    nbytes = sum(np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(p))
    assert nbytes <= 10 * 8 * d  # x0, eigvals, the identity's diagonal, x*, noise, minimum: < 10 d-vectors
    small = problems.make("quadratic", dim=10**5, rotate=False)
    r = xtrap.run(small, xtrap.extrap_sgd(lr=0.5, batch=4), steps=20, seeds=2, record_every=20, averages=False)
    assert not r["diverged"].any() and np.all(r["loss"][..., -1] < r["loss"][..., 0])


def test_dimension_caps_name_the_parameter():
    with pytest.raises(problems.ParameterError, match=r"dim must be in \[1, 4096\] with rotate=True.*got 5000"):
        problems.make("quadratic", dim=5000)
    assert problems.make("quadratic", dim=5000, rotate=False).dim == 5000
    with pytest.raises(problems.ParameterError, match=r"dim.*10000001"):
        problems.make("noisy-quadratic", dim=10**7 + 1)


def test_noisy_quadratic_is_what_it_says():
    c, d = 0.7, 6
    p = problems.make("noisy-quadratic", dim=d, scale=c)
    h = np.diag(1.0 / np.arange(1, d + 1))
    np.testing.assert_array_equal(np.asarray(p.H), h)
    np.testing.assert_allclose(p.noise_cov, c * h, rtol=1e-15)
    assert float(p.sigma2) == pytest.approx(c * np.sum(1.0 / np.arange(1, d + 1)), rel=1e-15)


def test_bad_noise_vector_is_refused():
    with pytest.raises(problems.ParameterError, match="noise_cov must be positive semidefinite"):
        problems.make_quadratic([1.0, 2.0], noise_cov=[0.5, -0.1])
    with pytest.raises(problems.ParameterError, match="noise_cov"):
        problems.make_quadratic([1.0, 2.0], noise_cov=[0.5, 0.1, 0.2])
