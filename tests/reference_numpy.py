"""An independent plain-NumPy implementation of the extrapolation framework (THEORY.md §1.2–§1.5).

Written from THEORY.md and the documented contract of :mod:`xtrap.framework` only (not from the
body of ``xtrap.apply``). It consumes the *same randomness* as xtrap: the per-step
:class:`xtrap.Draws`, converted to NumPy, hold ``max_workers`` workers of ``max_batch`` samples;
worker ``k < K`` uses its first ``b`` samples (K = ``workers``, b = ``batch``).

One step, for active workers ``k < K`` (all gradients exact in ``exact`` mode)::

    none      u^k = x
    local     u^k = x - gamma g(x; xi'^k)
    global    u^k = x - gamma (1/K) sum_j g(x; xi'^j)
    past      u^k = x - gamma h_{t-1}  (averaged)   or  x - gamma h^k_{t-1}  (local);  h_{-1} = 0
    gaussian/ball/sphere   u^k = x - gamma Z^k
    sam       u^k = x + rho g/||g||  (u = x when g = 0),  g = g(x; xi'^k)
    usam      u^k = x + rho g(x; xi'^k)
    h^k = g(u^k; xi^k)  (xi'^k = xi^k with same_batch),   h = (1/K) sum_k h^k
    sgd         x <- x - eta h
    heavy_ball  m <- beta m + h,  x <- x - eta m
    nesterov    m <- beta m + h,  x <- x - eta (h + beta m)

Step sizes follow the schedule formula of :mod:`xtrap.schedules`,
``s(t) = s0 * w(t) * q**floor(t/tau) / (1 + t/t0)``, ``w(t) = min(1, (t+1)/t_w)`` when ``t_w > 0``;
``gamma_t = eta_t`` when the extrapolation step is tied to the update step.

The module also holds the NumPy twins of the test problems (an additive-noise quadratic and the
separable nonconvex ``f(x) = sum_i (a x_i^2/2 + b cos x_i)`` with additive Gaussian gradient noise),
and, in a clearly separated section at the end, the JAX side of that nonconvex problem (a
:class:`problems.Problem` subclass) plus jitted wrappers shared by the test files.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------------
# NumPy problems: exact gradient and per-sample gradients from the drawn samples
# --------------------------------------------------------------------------------------------


class NpQuadratic:
    """f(x) = 1/2 (x-x*)^T H (x-x*), H = Q diag(lam) Q^T; per-sample gradient H(x-x*) + eps_i."""

    def __init__(self, eigvals: Any, eigvecs: Any = None, x_star: Any = None) -> None:
        self.lam = np.asarray(eigvals, dtype=np.float64)
        d = self.lam.size
        self.Q = np.eye(d) if eigvecs is None else np.asarray(eigvecs, dtype=np.float64)
        self.H = (self.Q * self.lam) @ self.Q.T
        self.x_star = np.zeros(d) if x_star is None else np.asarray(x_star, dtype=np.float64)

    def value(self, x: np.ndarray) -> float:
        r = x - self.x_star
        return 0.5 * float(r @ self.H @ r)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.H @ (x - self.x_star)

    def sample_grads(self, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """Rows: the per-sample gradients H(x-x*) + eps_i (eps are the additive-noise samples)."""
        return self.grad(x)[None, :] + eps


class NpCosine:
    """f(x) = sum_i (a x_i^2/2 + b cos x_i); per-sample gradient a x - b sin x + eps_i."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = float(a), float(b)

    def value(self, x: np.ndarray) -> float:
        return float(np.sum(self.a * x * x / 2 + self.b * np.cos(x)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.a * x - self.b * np.sin(x)

    def sample_grads(self, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
        return self.grad(x)[None, :] + eps


# --------------------------------------------------------------------------------------------
# Schedules and hyper-parameters
# --------------------------------------------------------------------------------------------


def schedule_value(s: dict[str, float], t: int) -> float:
    """s(t) = s0 * w(t) * q**floor(t/tau) / (1 + t/t0) (module docstring of xtrap.schedules)."""
    t = float(t)
    warm = min(1.0, (t + 1.0) / s["warmup"]) if s["warmup"] > 0 else 1.0
    decay = s["decay_factor"] ** math.floor(t / s["decay_every"]) if math.isfinite(s["decay_every"]) else 1.0
    inv = 1.0 + (t / s["inverse_t0"] if math.isfinite(s["inverse_t0"]) else 0.0)
    return s["base"] * warm * decay / inv


def _sched_dict(sched: Any) -> dict[str, float]:
    return {f: float(np.asarray(getattr(sched, f))) for f in ("base", "warmup", "decay_factor", "decay_every",
                                                             "inverse_t0")}


def hyper_np(hyper: Any) -> dict[str, Any]:
    """Read the *values* of a scalar :class:`xtrap.Hyper` into plain Python numbers."""
    return {
        "lr": _sched_dict(hyper.lr),
        "extrap_lr": None if hyper.extrap_lr is None else _sched_dict(hyper.extrap_lr),
        "rho": float(np.asarray(hyper.rho)),
        "momentum": float(np.asarray(hyper.momentum)),
        "batch": int(np.asarray(hyper.batch)),
        "workers": int(np.asarray(hyper.workers)),
    }


# --------------------------------------------------------------------------------------------
# The reference step
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RefState:
    x: np.ndarray
    buf: np.ndarray
    past: np.ndarray  # (max_workers, d): last per-worker update gradients h^k
    t: int


def ref_init(x0: Any, max_workers: int) -> RefState:
    x0 = np.array(x0, dtype=np.float64)
    return RefState(x=x0, buf=np.zeros_like(x0), past=np.zeros((max_workers,) + x0.shape), t=0)


DIRECTIONS = ("none", "local", "global", "past", "gaussian", "ball", "sphere", "sam", "usam")
BASES = ("sgd", "heavy_ball", "nesterov")


def ref_apply(cfg: dict[str, Any], state: RefState, prob: Any, draws: tuple, hyp: dict[str, Any]) -> RefState:
    """One step of the framework in NumPy.

    Args:
        cfg: ``direction``, ``base``, ``same_batch``, ``past_source``, ``exact``.
        state: the reference state (never an xtrap state).
        prob: a NumPy problem (:class:`NpQuadratic`, :class:`NpCosine`).
        draws: ``(xi_extrap, xi_update, noise)`` as NumPy arrays (or ``None``), leading axes
            ``(max_workers, max_batch)`` for the batches and ``(max_workers,)`` for the noise.
        hyp: from :func:`hyper_np`.
    """
    direction, base = cfg["direction"], cfg["base"]
    exact = cfg.get("exact", False)
    xi_ext, xi_upd, noise = draws
    if cfg.get("same_batch", False):
        xi_ext = xi_upd  # xi'^k = xi^k (THEORY.md §1.3)
    K, b = hyp["workers"], hyp["batch"]
    eta = schedule_value(hyp["lr"], state.t)
    gamma = eta if hyp["extrap_lr"] is None else schedule_value(hyp["extrap_lr"], state.t)
    rho, beta = hyp["rho"], hyp["momentum"]
    x = state.x

    def g(point: np.ndarray, xi: Any) -> np.ndarray:
        if exact:
            return prob.grad(point)
        return np.mean(prob.sample_grads(point, np.asarray(xi)[:b]), axis=0)

    ext = lambda k: None if exact else xi_ext[k]  # noqa: E731
    upd = lambda k: None if exact else xi_upd[k]  # noqa: E731

    us = []
    if direction == "global":
        dbar = np.mean([g(x, ext(j)) for j in range(K)], axis=0)
    if direction == "past" and cfg.get("past_source", "averaged") == "averaged":
        hprev = np.mean(state.past[:K], axis=0)
    for k in range(K):
        if direction == "none":
            u = x
        elif direction == "local":
            u = x - gamma * g(x, ext(k))
        elif direction == "global":
            u = x - gamma * dbar
        elif direction == "past":
            u = x - gamma * (hprev if cfg.get("past_source", "averaged") == "averaged" else state.past[k])
        elif direction in ("gaussian", "ball", "sphere"):
            u = x - gamma * np.asarray(noise[k])
        elif direction == "sam":
            gk = g(x, ext(k))
            nrm = np.linalg.norm(gk)
            u = x if nrm == 0 else x + rho * gk / nrm
        elif direction == "usam":
            u = x + rho * g(x, ext(k))
        else:
            raise ValueError(direction)
        us.append(u)
    hk = np.stack([g(us[k], upd(k)) for k in range(K)])
    h = hk.mean(axis=0)

    if base == "sgd":
        buf = state.buf
        x_new = x - eta * h
    elif base == "heavy_ball":
        buf = beta * state.buf + h
        x_new = x - eta * buf
    elif base == "nesterov":
        buf = beta * state.buf + h
        x_new = x - eta * (h + beta * buf)
    else:
        raise ValueError(base)
    past = state.past.copy()
    past[:K] = hk
    return RefState(x=x_new, buf=buf, past=past, t=state.t + 1)


# ============================================================================================
# JAX side shared by the test files (not part of the reference implementation)
# ============================================================================================

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import problems  # noqa: E402
import xtrap  # noqa: E402


@problems.pytree_dataclass
class CosineNoise(problems.Problem):
    """f(x) = sum_i (a x_i^2/2 + b cos x_i), gradient oracle grad f(x) + eps, eps ~ N(0, s^2 I).

    Nonconvex for b > a (f'' = a - b cos x_i); L = a + b; minima where a x = b sin x.
    """

    a: Any
    b: Any
    noise_std: Any

    def value(self, x: Any) -> Any:
        return jnp.sum(self.a * x * x / 2 + self.b * jnp.cos(x))

    def grad(self, x: Any) -> Any:
        return self.a * x - self.b * jnp.sin(x)

    def sample(self, key: Any, size: int) -> Any:
        return self.noise_std * jax.random.normal(key, (size, self.dim), dtype=self.x0.dtype)

    def sample_grad(self, x: Any, xi_i: Any) -> Any:
        return self.grad(x) + xi_i


def make_cosine(dim: int = 5, a: float = 1.0, b: float = 3.0, noise_std: float = 0.5,
                x0: Any = None) -> CosineNoise:
    # 1-D minimiser of a x^2/2 + b cos x: a z = b sin z, found by Newton from z = 2.5 (b = 3a: z ~ 2.279)
    z = 2.5
    for _ in range(50):
        z -= (a * z - b * math.sin(z)) / (a - b * math.cos(z))
    xs = np.full(dim, z)
    hess = np.eye(dim) * (a - b * math.cos(z))
    fstar = dim * (a * z * z / 2 + b * math.cos(z))
    start = np.linspace(-1.5, 2.0, dim) if x0 is None else np.asarray(x0, dtype=np.float64)
    return CosineNoise(x0=start, L=np.float64(a + b), mu=np.float64(np.nan), f_star=np.float64(fstar),
                       sigma2=np.float64(dim * noise_std**2),
                       minima=(problems.Minimum(x=xs, hessian=hess, value=np.float64(fstar)),),
                       name="test-cosine", dim=dim, n=None,
                       a=np.float64(a), b=np.float64(b), noise_std=np.float64(noise_std))


_japply = jax.jit(xtrap.apply, static_argnums=0)


def normalize_hyper(hyper: Any) -> Any:
    """Every leaf as a (strongly typed) NumPy array, so one compiled apply serves all values."""
    return jax.tree_util.tree_map(np.asarray, hyper)


def japply(config: Any, state: Any, problem: Any, draws: Any, hyper: Any) -> Any:
    """``jax.jit(xtrap.apply)`` with the config static and the hyper-parameter leaves normalised."""
    return _japply(config, state, problem, draws, normalize_hyper(hyper))


def draws_many(config: Any, problem: Any, keys: Any, max_batch: int, max_workers: int,
               batch_mean_for: int | None = None) -> list[tuple]:
    """``xtrap.draw`` for every key (vmapped: the same bits as one call per key), as NumPy tuples.

    ``batch_mean_for=b``: the batch-mean draws ``xtrap.run`` makes on an additive Gaussian oracle, written as the
    per-sample batches the reference consumes. The contract (xtrap/framework.py) is that a worker's batch noise is
    its one draw :math:`\\epsilon` divided by :math:`\\sqrt b`; ``b`` copies of :math:`\\epsilon/\\sqrt b` (then anything in
    the masked slots) average to exactly that, so the reference's own arithmetic is unchanged."""
    mean = batch_mean_for is not None
    stacked = jax.vmap(lambda k: xtrap.draw(config, problem, k, max_batch, max_workers, mean))(keys)
    n = len(keys)
    conv = [None if a is None else np.asarray(a) for a in stacked]
    if mean:
        conv = [a if a is None or i == 2 else np.repeat(a[..., None, :] / np.sqrt(batch_mean_for), max_batch, -2)
                for i, a in enumerate(conv)]
    return [tuple(None if a is None else a[i] for a in conv) for i in range(n)]


def to_draws(t: tuple) -> Any:
    """A NumPy draws tuple back to :class:`xtrap.Draws` (jnp arrays)."""
    return xtrap.Draws(*[None if a is None else jnp.asarray(a) for a in t])


def cfg_dict(config: Any) -> dict[str, Any]:
    return {"direction": config.direction, "base": config.base, "same_batch": config.same_batch,
            "past_source": config.past_source, "exact": config.exact}


LAM = np.array([0.3, 0.7, 1.0, 1.6, 2.5])


def rotated_quadratic(seed: int) -> tuple[Any, "NpQuadratic", np.ndarray, np.ndarray, np.ndarray]:
    """The test quadratic: spectrum ``LAM``, random rotation, minimizer and start from ``seed``,
    isotropic noise 0.3 I. Returns ``(problem, numpy twin, Q, x_star, x0)``."""
    import problems

    d = LAM.size
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    x_star = 0.5 * rng.standard_normal(d)
    x0 = x_star + rng.standard_normal(d)
    quad = problems.make_quadratic(LAM, eigvecs=q, x_star=x_star, noise_cov=0.3 * np.eye(d), x0=x0)
    return quad, NpQuadratic(LAM, q, x_star), q, x_star, x0
