"""Basin statistics: which minimum does each method end in, as batch size and step size change.

A :class:`~analysis.sharp_flat.landscapes.Landscape` fixes a problem with one sharp and one flat kind of minimum
and a start; a :func:`basin_sweep` runs one method over step size × batch size × seeds in one compiled sweep and
records where every run ends (the exact gradient-flow basin of the problem), the top Hessian
eigenvalue there (exact: the problems provide their Hessians), a thinned trajectory, and a
generalization proxy (:func:`shift_gap`). :func:`basin_rows` turns a sweep into table rows with
Clopper–Pearson intervals, the G2 stability filter of each minimum and, for SGD on a finite sum,
the critical batch size and Lyapunov exponent of the sharp minimum (:mod:`analysis.sharp_flat.overlays`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

import problems
import xtrap
from problems import Problem, check_int, check_real

from .landscapes import Landscape
from .overlays import (critical_batch, curvature_spread, noise_along, sgd_lyapunov, stability_filter,
                                stationary_std)


@dataclass(frozen=True)
class MethodSpec:
    """A method of the sharp/flat study: its constructor and the kind its G2 filter uses (``None``: a method
    without a linear-stability rule in THEORY.md §G2, such as a user's; its rows carry no theory)."""

    label: str
    kind: str | None  # key of overlays.stability_filter
    make: Callable[[Any, Any], xtrap.Method]  # (lrs, batches) -> the stochastic method
    params: dict[str, Any] = field(default_factory=dict)  # fixed hyper-parameters ("lr": tied to the step)
    exact: Callable[[Any], xtrap.Method] | None = None  # lrs -> the exact-gradient method whose G2 claim is tested

    def hyper(self, lr: float) -> dict[str, float]:
        """The step sizes at update step ``lr`` (γ = η where tied)."""
        out = {"lr": lr, **self.params}
        if self.params.get("extrap_lr") == "lr":
            out["extrap_lr"] = lr
        return out


MOMENTUM, NOISE_SCALE, SAM_RADIUS = 0.9, 0.1, 0.05
METHODS: dict[str, MethodSpec] = {m.label: m for m in (
    MethodSpec("SGD", "sgd", lambda lr, b: xtrap.sgd(lr=lr, batch=b), exact=lambda lr: xtrap.sgd(lr=lr, exact=True)),
    MethodSpec("SGD+momentum", "heavy_ball", lambda lr, b: xtrap.sgd(lr=lr, momentum=MOMENTUM, batch=b),
               {"momentum": MOMENTUM}, lambda lr: xtrap.sgd(lr=lr, momentum=MOMENTUM, exact=True)),
    MethodSpec("EXTRAP-SGD", "extrap", lambda lr, b: xtrap.extrap_sgd(lr=lr, batch=b), {"extrap_lr": "lr"},
               lambda lr: xtrap.extragradient(lr=lr)),
    MethodSpec("past_extrap", "past", lambda lr, b: xtrap.past_extrap(lr=lr, batch=b), {"extrap_lr": "lr"},
               lambda lr: xtrap.past_extrap(lr=lr, exact=True)),
    # noise injection is random by construction and normalized SAM never converges (A2.7): no exact G2 test
    MethodSpec("noise_extrap", "noise", lambda lr, b: xtrap.noise_extrap(lr=lr, extrap_lr=NOISE_SCALE, batch=b),
               {"extrap_lr": NOISE_SCALE}),
    MethodSpec("SAM", "sam", lambda lr, b: xtrap.sam(lr=lr, rho=SAM_RADIUS, batch=b), {"rho": SAM_RADIUS}),
)}
EXTRAPOLATED = ("EXTRAP-SGD", "past_extrap", "noise_extrap", "SAM")  # the framework's extrapolated variants (G5)


def method_spec(method: str | MethodSpec | xtrap.Method) -> MethodSpec:
    """A study method from a name of :data:`METHODS`, a :class:`MethodSpec`, or any :class:`xtrap.Method` (a
    user's rule from :func:`xtrap.method`): swept as ``method.replace(lr=lrs, batch=batches)``, labelled by its
    name, without theory overlays.

    Raises:
        ParameterError: an unknown name, or another kind of object.
    """
    if isinstance(method, MethodSpec):
        return method
    if isinstance(method, xtrap.Method):
        return MethodSpec(method.name, None, lambda lr, b, m=method: m.replace(lr=lr, batch=b))
    if isinstance(method, str):
        return METHODS[problems.check_choice("methods", method, tuple(METHODS))]
    raise problems.ParameterError(f"methods must hold names of {', '.join(METHODS)}, xtrap.Method objects or "
                                  f"MethodSpec objects; got {type(method).__name__}")


def theory_omitted(landscape: Landscape, method: MethodSpec) -> str | None:
    """Why the theory overlays are left out of a sweep's rows (``None``: they apply)."""
    if landscape.theory is not None:
        return landscape.theory
    if method.kind is None:
        return f"{method.label} has no linear-stability rule in THEORY.md §G2"
    return None


def shift_gap(problem: Problem, x: Any, shifts: Any) -> Any:
    """Generalization proxy: :math:`\\frac1J\\sum_jf(x-\\delta_j)-f(x)`, the loss a shifted ("test")
    copy of the objective gives the trained point. For antithetic pairs :math:`\\pm\\delta_j` every odd-order
    term cancels exactly, so the gap is :math:`\\tfrac12\\operatorname{tr}(H(x)M)`, :math:`M=\\frac1J\\sum_j
    \\delta_j\\delta_j^\\top` (:math:`\\approx\\tau^2I` for :math:`\\delta_j\\sim N(0,\\tau^2I)`), plus even terms of order
    :math:`\\ge4`."""
    return jnp.mean(jax.vmap(lambda d: problem.value(x - d))(shifts)) - problem.value(x)


@dataclass(frozen=True)
class BasinSweep:
    """One method on one landscape over ``lrs`` × ``batches`` × seeds. Arrays are (lr, batch, seed, ...)."""

    landscape: Landscape
    method: MethodSpec
    lrs: np.ndarray
    batches: np.ndarray
    steps: int
    basin: np.ndarray
    diverged: np.ndarray
    final_sharpness: np.ndarray
    final_trace: np.ndarray
    shift_gap: np.ndarray
    record_steps: np.ndarray
    trajectory: np.ndarray  # (lr, batch, seed, record, dim)
    sharpness_trace: np.ndarray  # (lr, batch, seed, record)
    shifts: int  # J, the number of shifts of the generalization proxy
    shift_moment: np.ndarray  # (dim, dim): (1/J) sum_j delta_j delta_j^T of those shifts

    def flat(self) -> np.ndarray:
        """Runs that end in a flat basin (diverged runs excluded)."""
        return np.isin(self.basin, self.landscape.index("flat")) & ~self.diverged


HESSIAN_CHUNK_ENTRIES = 2 ** 22  # Hessian entries formed at once (32 MiB of float64), whatever the dimension


def _spectra(p: Problem, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\lambda_{\\max}` and :math:`\\mathrm{tr}\\,H` of the exact (dense) Hessian at every row of ``xs``, in
    chunks of at most :data:`HESSIAN_CHUNK_ENTRIES` entries (one compiled program: the last chunk is padded)."""
    chunk = max(1, min(len(xs), HESSIAN_CHUNK_ENTRIES // (p.dim * p.dim)))
    spectra = jax.jit(jax.vmap(lambda x: jnp.linalg.eigvalsh(p.hessian(x))))
    pad = (-len(xs)) % chunk
    padded = np.concatenate([xs, np.repeat(xs[:1], pad, axis=0)]) if pad else xs
    eig = np.concatenate([np.asarray(spectra(jnp.asarray(padded[k:k + chunk])))
                          for k in range(0, len(padded), chunk)])[:len(xs)]
    return eig[:, -1], eig.sum(axis=1)


def basin_sweep(landscape: Landscape, method: MethodSpec, lrs: Any, batches: Any, *, seeds: int, steps: int,
                seed: int = 0, shifts: int = 256, progress: bool = False) -> BasinSweep:
    """Run ``method`` from ``landscape.x0`` over ``lrs`` × ``batches`` × ``seeds`` (one compiled sweep)."""
    p = landscape.problem
    shifts = check_int("shifts", shifts, lo=2)
    if shifts % 2:
        raise problems.ParameterError(f"shifts must be even (antithetic pairs); got {shifts}")
    lrs, batches = np.atleast_1d(np.asarray(lrs, dtype=float)), np.atleast_1d(np.asarray(batches, dtype=int))
    m = method.make(lrs, batches)
    axes = tuple(xtrap.hyper.sweep_axes(m.hyper))
    if axes != ("lr", "batch"):  # checked before any work, not after the sweep
        raise problems.ParameterError(
            f"method {method.label!r}: a basin sweep runs over exactly lr x batch, but its make(lrs, batches) "
            f"sweeps {', '.join(axes) or 'nothing'}; tie a step to lr with extrap_lr='lr' or give it one value")
    res = xtrap.run(p, m, steps=steps, seeds=seeds, seed=seed, x0=landscape.x0,
                    iterates=True, record_every=max(1, steps // 50), progress=progress)
    traj = np.asarray(res["iterates"])
    diverged = np.asarray(res["diverged"], dtype=bool)
    top, trace = _spectra(p, np.nan_to_num(traj.reshape(-1, p.dim)))
    sharp, tr = top.reshape(traj.shape[:-1]), trace.reshape(traj.shape[:-1])
    half = landscape.shift * jax.random.normal(jax.random.key(seed + 1), (shifts // 2, p.dim))
    deltas = jnp.concatenate([half, -half])  # antithetic: odd orders cancel exactly, as in the tr H prediction
    final = jnp.asarray(np.nan_to_num(traj[..., -1, :].reshape(-1, p.dim)))
    gap = np.asarray(jax.jit(jax.vmap(lambda y: shift_gap(p, y, deltas)))(final)).reshape(diverged.shape)
    nan = np.where(diverged, np.nan, 1.0)
    return BasinSweep(landscape, method, lrs, batches, steps, np.asarray(res["basin"]), diverged,
                      sharp[..., -1] * nan, tr[..., -1] * nan, gap * nan, np.asarray(res.coords["record"]),
                      traj, np.where(diverged[..., None], np.nan, sharp), int(deltas.shape[0]),
                      np.asarray(deltas.T @ deltas) / deltas.shape[0])


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for a proportion :math:`k/n` (Clopper & Pearson 1934); ``(nan, nan)`` when ``n = 0``."""
    n = check_int("n", n, lo=0)
    k = check_int("k", k, lo=0, hi=n)
    confidence = check_real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    if n == 0:
        return float("nan"), float("nan")
    alpha = 1 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def basin_rows(sweep: BasinSweep, *, confidence: float = 0.95, key: Any = None) -> list[dict[str, Any]]:
    """One row per (lr, batch): flat fraction with its interval, final sharpness, the theory beside it.

    ``near_fraction``: runs whose last iterate is within 1/8 of the barrier of the sharp minimum
    (they did not leave it, in the sense of G4), with its interval. ``stationary_std``/``escape_z``: the
    linearised spread along the sharp direction and barrier / spread (``inf``: no noise; ``nan``: no exact
    linear model; ``0``: mean-square divergent). ``theory``: ``None`` where the overlays (G2 filter, B_crit,
    Lyapunov exponent, spread) are in the row, else why they are left out (:func:`theory_omitted`).
    """
    ls, spec = sweep.landscape, sweep.method
    lam_s, lam_f = ls.curvature("sharp"), ls.curvature("flat")
    sharp_x = np.asarray(ls.minimum("sharp").x)
    omitted = theory_omitted(ls, spec)
    if omitted is None:
        h, a, s = curvature_spread(ls.problem, sharp_x)
    near = (np.linalg.norm(sweep.trajectory[..., -1, :] - sharp_x, axis=-1) < ls.barrier / 8) & ~sweep.diverged
    direction = ls.sharp_direction()
    key = jax.random.key(0) if key is None else key
    flat = sweep.flat()
    rows = []
    for i, lr in enumerate(sweep.lrs):
        hyper = spec.hyper(float(lr))
        args = {k: float(v) for k, v in hyper.items() if k in ("lr", "extrap_lr", "rho", "momentum")}
        if omitted is None:
            f_sharp, f_flat = stability_filter(spec.kind, lam_s, **args), stability_filter(spec.kind, lam_f, **args)
        for j, b in enumerate(sweep.batches):
            ok = ~sweep.diverged[i, j]
            runs, k = int(ok.sum()), int(flat[i, j].sum())
            lo, hi = clopper_pearson(k, runs, confidence)
            fs = sweep.final_sharpness[i, j][ok]
            row = dict(problem=ls.name, method=spec.label, batch=int(b), lr=float(lr), flat_fraction=k / runs if runs
                       else float("nan"), ci_low=lo, ci_high=hi, runs=runs, diverged=int((~ok).sum()),
                       confidence=confidence, steps=sweep.steps,
                       final_sharpness_median=float(np.median(fs)) if runs else float("nan"),
                       final_sharpness_q25=float(np.quantile(fs, 0.25)) if runs else float("nan"),
                       final_sharpness_q75=float(np.quantile(fs, 0.75)) if runs else float("nan"),
                       shift_gap_median=float(np.median(sweep.shift_gap[i, j][ok])) if runs else float("nan"),
                       sharp_curvature=lam_s, flat_curvature=lam_f, theory=omitted,
                       **{k_: v for k_, v in hyper.items() if k_ != "lr"})
            n_lo, n_hi = clopper_pearson(int(near[i, j].sum()), runs, confidence)
            row.update(near_fraction=int(near[i, j].sum()) / runs if runs else math.nan, near_ci_low=n_lo,
                       near_ci_high=n_hi)
            rows.append(row)
            if omitted is not None:
                continue
            p_b = problems.without_replacement_factor(ls.problem.n, int(b)) if ls.problem.n is not None else 0.0
            std = stationary_std(spec.kind, lam_s, noise_along(ls.problem, sharp_x, direction, int(b)), **args,
                                 curvature_var=p_b * s * s)
            row.update(sharp_stable=f_sharp.stable, flat_stable=f_flat.stable, filter_rule=f_sharp.rule,
                       filter_theorem=f_sharp.theorem, stationary_std=std,
                       escape_z=ls.barrier / std if std > 0 else (math.inf if std == 0 else math.nan))
            if spec.kind == "sgd":
                row["b_crit"] = critical_batch(a, s, ls.problem.n, float(lr))
                row.update(sgd_lyapunov(h, float(lr), int(b), key=jax.random.fold_in(key, j)))
    return rows
