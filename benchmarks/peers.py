"""What a researcher would otherwise write for one EXTRAP-SGD sweep, written as well as we know how.

The workload (THEORY.md §1.2, direction ``local``, fresh batches, :math:`\\gamma=\\eta`, K = 1) on the additive-noise
quadratic :math:`f(x)=\\tfrac12 r^\\top H r`, :math:`r=x-x^\\star`, per-sample noise :math:`\\epsilon\\sim N(0,sI)`:

.. math::
    u = x-\\gamma\\,(Hr+\\bar\\epsilon_1),\\qquad x^+ = x-\\eta\\,(H(u-x^\\star)+\\bar\\epsilon_2),\\qquad
    \\bar\\epsilon_j=\\tfrac1b\\textstyle\\sum_{i\\le b}\\epsilon_{j,i}\\sim N(0,\\tfrac sbI).

Every contestant returns :math:`f(x_T)` for each seed, so all estimate the same number,
:func:`exact_expected_loss`, and the benchmark checks each against it (within 4 standard errors) before timing.

Two ways to draw the batch noise, both exact in law:

* ``per-sample``: ``b`` normal vectors per gradient, averaged (the model as it is written down);
* ``batch-mean``: one normal vector scaled by :math:`1/\\sqrt b` (the law of the mean, drawn directly).

Contestants (``SEEDS`` x ``STEPS`` runs; ``key``/``rng`` differ per contestant, so results agree in law only):

* :func:`numpy_vectorized` : a loop over steps, vectorized over seeds; the state is the (seeds, d) residual, the
  gradient one BLAS matrix product ``R @ H`` (never a three-operand ``einsum``, which NumPy does not send to BLAS),
  or ``R * h`` when ``H = diag(h)`` is passed as its diagonal ``h`` (every contestant takes ``h`` either way),
  normals from the fastest bit generator (SFC64) written into preallocated buffers;
* :func:`optax_vmapped` : ``jax.jit(jax.vmap(run_one))`` with ``lax.scan`` over steps and an ``optax.sgd`` update,
  the JAX user's idiom;
* :func:`optax_per_seed` : the same jitted ``run_one`` called once per seed from Python.

References: Lin, Kong, Stich & Jaggi, ICML 2020 (EXTRAP-SGD); optax's ``sgd``; NumPy's ``Generator``/``SFC64``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

DRAWS = ("per-sample", "batch-mean")


def exact_expected_loss(eigvals: np.ndarray, r0_eig: np.ndarray, s: float, eta: float, gamma: float, b: int,
                        steps: int) -> float:
    """:math:`\\mathbb E f(x_T)` exactly, from the second-moment recursion in the eigenbasis of :math:`H`.

    With :math:`a_i=1-\\eta\\lambda_i+\\eta\\gamma\\lambda_i^2`, the residual obeys
    :math:`r^+ = A r+\\eta\\gamma H\\bar\\epsilon_1-\\eta\\bar\\epsilon_2`, so per eigen-coordinate
    :math:`m_i^+=a_im_i` and :math:`c_i^+=a_i^2c_i+\\eta^2(1+\\gamma^2\\lambda_i^2)\\,s/b`, and
    :math:`\\mathbb Ef(x_T)=\\tfrac12\\sum_i\\lambda_i(m_i^2+c_i)` (isotropic noise commutes with :math:`H`).

    >>> round(exact_expected_loss(np.array([1.0]), np.array([1.0]), 0.0, 0.5, 0.5, 1, 1), 6)
    0.28125
    """
    a = 1.0 - eta * eigvals + eta * gamma * eigvals**2
    add = eta**2 * (1.0 + gamma**2 * eigvals**2) * s / b
    m, c = r0_eig.astype(np.float64), np.zeros_like(eigvals)
    for _ in range(steps):
        m, c = a * m, a * a * c + add
    return float(0.5 * np.sum(eigvals * (m * m + c)))


def numpy_vectorized(h: np.ndarray, r0: np.ndarray, s: float, eta: float, gamma: float, b: int, seeds: int,
                     steps: int, draw: str, seed: int = 0) -> np.ndarray:
    """:math:`f(x_T)` per seed, a NumPy loop over steps vectorized over seeds (see the module docstring)."""
    rng = np.random.Generator(np.random.SFC64(seed))
    d = h.shape[-1]
    r = np.repeat(r0[None, :], seeds, axis=0)
    if draw == "per-sample":
        z = np.empty((seeds, b, d))
        scale = np.sqrt(s) / b
    else:
        z = np.empty((seeds, d))
        scale = np.sqrt(s / b)

    def noise() -> np.ndarray:
        rng.standard_normal(out=z)
        return (z.sum(axis=1) if draw == "per-sample" else z) * scale

    def hess(v: np.ndarray) -> np.ndarray:
        return v @ h if h.ndim == 2 else v * h

    for _ in range(steps):
        u = r - gamma * (hess(r) + noise())
        r = r - eta * (hess(u) + noise())
    return 0.5 * np.sum(r * hess(r), axis=-1)


def _optax_run_one(h: np.ndarray, r0: np.ndarray, s: float, eta: float, gamma: float, b: int, steps: int,
                   draw: str) -> Callable[[Any], Any]:
    import jax
    import jax.numpy as jnp
    import optax

    hj, x0 = jnp.asarray(h), jnp.asarray(r0)  # x* = 0: the iterate is the residual
    tx = optax.sgd(eta)

    def loss(x: Any) -> Any:
        return 0.5 * x @ (hj @ x if hj.ndim == 2 else hj * x)

    def noisy_grad(x: Any, key: Any) -> Any:
        if draw == "per-sample":
            eps = jnp.sqrt(s) * jax.random.normal(key, (b, x.shape[0]), x.dtype).mean(axis=0)
        else:
            eps = jnp.sqrt(s / b) * jax.random.normal(key, x.shape, x.dtype)
        return jax.grad(loss)(x) + eps

    def step(carry: Any, key: Any) -> Any:
        x, state = carry
        k1, k2 = jax.random.split(key)
        u = x - gamma * noisy_grad(x, k1)
        updates, state = tx.update(noisy_grad(u, k2), state, x)
        return (optax.apply_updates(x, updates), state), None

    def run_one(key: Any) -> Any:
        (x, _), _ = jax.lax.scan(step, (x0, tx.init(x0)), jax.random.split(key, steps))
        return loss(x)

    return run_one


def optax_vmapped(h: np.ndarray, r0: np.ndarray, s: float, eta: float, gamma: float, b: int, seeds: int,
                  steps: int, draw: str) -> Callable[[int], np.ndarray]:
    """A compiled ``seed -> f(x_T) per seed`` function: ``jit(vmap(run_one))`` over ``seeds`` keys."""
    import jax

    fn = jax.jit(jax.vmap(_optax_run_one(h, r0, s, eta, gamma, b, steps, draw)))
    return lambda seed: np.asarray(fn(jax.random.split(jax.random.key(seed), seeds)))


def optax_per_seed(h: np.ndarray, r0: np.ndarray, s: float, eta: float, gamma: float, b: int, seeds: int,
                   steps: int, draw: str) -> Callable[[int], np.ndarray]:
    """A compiled ``seed -> f(x_T) per seed`` function: one ``jit(run_one)`` call per seed from Python."""
    import jax

    fn = jax.jit(_optax_run_one(h, r0, s, eta, gamma, b, steps, draw))

    def run(seed: int) -> np.ndarray:
        keys = jax.random.split(jax.random.key(seed), seeds)
        return np.array([float(fn(k)) for k in keys])

    return run
