"""What a run *is*, for holding it against a bound: its structure and its parameters, read from the run itself.

A bound is a statement about some runs only (its :class:`proofs.RunScope`: direction rule, base update, same
or fresh batch, workers, exact or stochastic gradients, schedule) and at some parameters (its symbols). This
module reads both from what a run records, so a check never compares a run with a bound it is not about, nor
at parameters other than the run's:

* :class:`RunInfo` — the structure and parameters of one grid point, from an :class:`xtrap.Result`
  (:meth:`RunInfo.of_result`) or, before anything runs, from the problem and method
  (:meth:`RunInfo.of_setup`);
* :func:`run_parameters` — every bound symbol the run determines (:math:`T, b, K, \\eta, \\gamma, \\rho, \\beta`,
  :math:`L, \\mu, \\sigma^2, d, \\Delta, D_0` and what the direction rule fixes);
* :func:`resolve_scope` — the bound that covers the run: the named one, or the sibling its scope names for
  this kind of run (say D1 -> D1-K for K workers, with a note saying why), else
  :class:`proofs.AssumptionError` naming the structural assumption the run breaks.

>>> import problems, xtrap
>>> p = problems.make("quadratic", dim=3)
>>> info = RunInfo.of_setup(p, xtrap.extrap_sgd(lr=0.5, extrap_lr=0.5, workers=4), steps=100)
>>> bound, notes = resolve_scope("D1", info)
>>> bound.name, notes[0].startswith("switched from D1 to D1-K")
('D1-K', True)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

import proofs
from problems import ParameterError

NOISE_LAWS = ("gaussian", "ball", "sphere")
_EXTRAP_BATCH = ("local", "global", "sam", "usam")  # the direction rules that draw an extrapolation batch
_POOLABLE = ("none", "global")  # no per-worker perturbation: K workers of batch b are one batch of Kb
_DIRECTION_WORDS = {"none": "no extrapolation (SGD)", "local": "local extrapolation (EXTRAP-SGD)",
                    "global": "global extrapolation", "past": "past-gradient extrapolation",
                    "gaussian": "Gaussian noise injection", "ball": "uniform-ball noise injection",
                    "sphere": "uniform-sphere noise injection", "sam": "normalized SAM", "usam": "USAM"}


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """The structure and parameters of one grid point of a run (no sweep axis left).

    Attributes:
        direction, base, same_batch, exact, past_source: the method's structure (``xtrap.Config``).
        lr, extrap_lr: the step-size schedules as dicts of the schedule fields (``base``, ``warmup``,
            ``decay_factor``, ``decay_every``, ``inverse_t0``); ``extrap_lr`` is ``None`` when tied to ``lr``.
        rho, momentum, batch, workers: the other hyper-parameters.
        steps: the horizon :math:`T` the compared quantity refers to.
        constants: the problem's constants (``L``, ``mu``, ``f_star``, ``sigma2``, ``dim``, ``n``).
        delta, d0: :math:`f(x_0)-f^\\star` and :math:`\\|x_0-x^\\star\\|` (nearest known minimum).
        injects_noise: the direction rule draws noise (a user's rule registered with a noise law; the built-in
            noise rules are known by name).
        sources: where each constant comes from (``problems.Problem.sources``: ``"exact"``, ``"given"``,
            ``"estimated"``, ``"unknown"``); a constant not listed is exact.
    """

    direction: str
    base: str
    same_batch: bool
    exact: bool
    past_source: str
    lr: dict[str, float]
    extrap_lr: dict[str, float] | None
    rho: float
    momentum: float
    batch: int
    workers: int
    steps: int
    constants: dict[str, Any]
    delta: float
    d0: float
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    injects_noise: bool = False

    @classmethod
    def of_setup(cls, problem: Any, method: Any, *, steps: int, x0: Any = None) -> "RunInfo":
        """From a problem and a method with scalar hyper-parameters, before any run."""
        h, cfg = method.hyper, method.config
        sweeps = [name for name in ("rho", "momentum", "batch", "workers") if np.ndim(getattr(h, name))]
        sweeps += [name for name in ("lr", "extrap_lr") if getattr(h, name) is not None and any(
            np.ndim(getattr(getattr(h, name), f)) for f in _SCHEDULE_FIELDS)]
        if sweeps:
            raise ParameterError(f"a bound is held against one grid point: {', '.join(sweeps)} is a sweep axis; "
                                 "give one value per hyper-parameter (or select a point of the result)")
        start = np.asarray(problem.x0 if x0 is None else x0, dtype=np.float64)
        return cls(direction=cfg.direction, base=cfg.base, same_batch=bool(cfg.same_batch), exact=bool(cfg.exact),
                   past_source=cfg.past_source, lr=_schedule(h.lr), extrap_lr=None if h.extrap_lr is None
                   else _schedule(h.extrap_lr), rho=float(h.rho), momentum=float(h.momentum), batch=int(h.batch),
                   workers=int(h.workers), steps=int(steps), constants=dict(problem.constants),
                   delta=float(problem.value(start)) - float(problem.f_star),
                   d0=float(problem.distance_to_minimum(start)), sources=dict(problem.sources),
                   injects_noise=getattr(getattr(cfg, "rule", None), "noise", None) is not None)

    @classmethod
    def of_result(cls, result: Any, record: int = -1) -> "RunInfo":
        """From an :class:`xtrap.Result` without sweep axes; ``record`` picks the horizon of trace quantities."""
        if result.sweep_dims:
            raise ParameterError(f"the result has sweep axes ({', '.join(result.sweep_dims)}); select one grid "
                                 f"point first, e.g. result.sel({result.sweep_dims[0]}=0)")
        a = result.attrs
        cfg, hyp = a["config"], a["hyper"]
        steps_rec = np.asarray(result.coords["record"])
        if not -steps_rec.size <= record < steps_rec.size:
            raise ParameterError(f"record must index one of the {steps_rec.size} recorded steps; got {record}")
        c = a.get("constants", {})
        loss0 = np.asarray(result["loss"], dtype=np.float64)[..., 0].reshape(-1)
        dist0 = np.asarray(result["dist"], dtype=np.float64)[..., 0].reshape(-1)
        f_star = c.get("f_star")
        return cls(direction=cfg["direction"], base=cfg["base"], same_batch=bool(cfg["same_batch"]),
                   exact=bool(cfg["exact"]), past_source=cfg.get("past_source", "averaged"),
                   lr=_schedule_view(hyp, "lr"), extrap_lr=None if hyp.get("extrap_lr") == "lr"
                   else _schedule_view(hyp, "extrap_lr"), rho=float(hyp.get("rho", 0.0)),
                   momentum=float(hyp.get("momentum", 0.0)), batch=int(hyp.get("batch", 1)),
                   workers=int(hyp.get("workers", 1)), steps=int(steps_rec[record]), constants=dict(c),
                   delta=float(loss0[0]) - float(math.nan if f_star is None else f_star), d0=float(dist0[0]),
                   sources=dict(a.get("sources", {})), injects_noise=cfg.get("noise") is not None)

    @property
    def noise(self) -> bool:
        """Whether the runs are random: stochastic gradients, or injected noise."""
        return not self.exact or self.direction in NOISE_LAWS or self.injects_noise


_SCHEDULE_FIELDS = ("base", "warmup", "decay_factor", "decay_every", "inverse_t0")
_SCHEDULE_DEFAULTS = {"warmup": 0.0, "decay_factor": 1.0, "decay_every": math.inf, "inverse_t0": math.inf}


def _schedule(s: Any) -> dict[str, float]:
    return {f: float(np.asarray(getattr(s, f))) for f in _SCHEDULE_FIELDS}


def _schedule_view(hyper: dict[str, Any], name: str) -> dict[str, float]:
    """A schedule from a result's ``attrs['hyper']`` (non-default fields are stored as ``name.field``)."""
    out = {"base": _scalar(hyper, name)}
    for f, default in _SCHEDULE_DEFAULTS.items():
        v = hyper.get(f"{name}.{f}", default)
        out[f] = default if v is None else float(v)
    return out


def _scalar(hyper: dict[str, Any], name: str) -> float:
    v = hyper.get(name, 0.0)
    if isinstance(v, list):
        raise ParameterError(f"{name} is a sweep axis of this result; select one grid point first")
    return float(v)


def _schedule_kind(s: dict[str, float] | None) -> str:
    if s is None:
        return "constant"
    warm = s["warmup"] > 0
    decay = s["decay_factor"] != 1.0 and math.isfinite(s["decay_every"])
    inverse = math.isfinite(s["inverse_t0"])
    if not (warm or decay or inverse):
        return "constant"
    return "inverse_time" if inverse and not (warm or decay) else "other"


def noise_moment(law: str, d: int) -> float:
    """:math:`\\mathbb E\\|Z\\|^2`: Gaussian :math:`d`, ball :math:`d/(d+2)`, sphere :math:`1` (THEORY.md §1.2)."""
    return {"gaussian": float(d), "ball": d / (d + 2.0), "sphere": 1.0}[law]


def run_parameters(info: RunInfo) -> dict[str, float]:
    """Every bound symbol that the run determines, by its catalog name.

    ``T`` (and ``t`` :math:`=T`, ``k`` :math:`=T+1`: C5 counts iterates from :math:`w_1=x_0`), ``b``, ``K``,
    ``eta`` (the base of the update schedule), ``gamma`` (the extrapolation step or noise scale; :math:`\\eta` when
    tied; 0 without extrapolation; :math:`\\rho` for USAM, whose perturbation is :math:`-\\gamma g` with
    :math:`|\\gamma|=\\rho`), ``rho``, ``beta`` (momentum; for a :math:`1/t` schedule
    :math:`\\eta_t=\\beta/(t+k_0)`, C7's schedule constant instead, with ``k0``), ``L``, ``mu``, ``d``, ``sigma2``
    (0 for exact gradients), ``Delta`` :math:`=f(x_0)-f^\\star`, ``D0`` :math:`=\\|x_0-x^\\star\\|`, and where
    the direction rule fixes them ``sigma_Z2`` :math:`=\\mathbb E\\|Z\\|^2` and ``delta2``
    :math:`=\\mathbb E\\|\\delta_t\\|^2` (noise :math:`\\gamma^2\\mathbb E\\|Z\\|^2`, SAM :math:`\\rho^2`, none 0).
    Non-finite constants (``mu`` of a nonconvex problem) are left out: a bound that needs them is refused.
    """
    c = info.constants
    eta = info.lr["base"]
    gamma = eta if info.extrap_lr is None else info.extrap_lr["base"]
    if info.direction == "none":
        gamma = 0.0
    elif info.direction == "usam":
        gamma = info.rho
    d = int(c.get("dim") or 0)
    out = {"T": float(info.steps), "t": float(info.steps), "k": float(info.steps + 1), "b": float(info.batch),
           "K": float(info.workers), "eta": eta, "gamma": gamma, "rho": info.rho, "beta": info.momentum,
           "d": float(d), "Delta": info.delta, "D0": info.d0}
    for name in ("L", "mu", "sigma2"):
        v = c.get(name)
        if v is not None and math.isfinite(float(v)):
            out[name] = float(v)
    if info.exact:
        out["sigma2"] = 0.0
    if _schedule_kind(info.lr) == "inverse_time":
        out["k0"] = info.lr["inverse_t0"]
        out["beta"] = info.lr["base"] * info.lr["inverse_t0"]  # s0 / (1 + t/t0) = (s0 t0) / (t0 + t)
    if info.direction in NOISE_LAWS and d:
        out["sigma_Z2"] = noise_moment(info.direction, d)
        out["delta2"] = gamma**2 * out["sigma_Z2"]
    elif info.direction == "sam":
        out["delta2"] = info.rho**2
    elif info.direction == "none":
        out["delta2"] = 0.0
    return {k: v for k, v in out.items() if math.isfinite(v)}


_RESTS_ON = {"L": "L", "mu": "mu", "sigma2": "sigma2", "Delta": "f_star", "D0": "minima"}  # symbol -> constant


_MEASURED_RESTS_ON = {"loss_gap": "f_star", "avg_loss_gap": "f_star", "dist": "minima", "dist2": "minima"}


def estimated_inputs(info: RunInfo, names: Any, measures: str | None) -> list[str]:
    """:func:`estimated_symbols`, plus the measured quantity itself when it rests on an estimated constant: the gap
    :math:`f(x_T)-f^\\star` on ``f_star``, the distance :math:`\\|x_T-x^\\star\\|` on the minima."""
    out = estimated_symbols(info, names)
    const = _MEASURED_RESTS_ON.get(measures or "")
    if const is not None and info.sources.get(const, "exact") == "estimated":
        out.append(f"the measured {measures} (from the estimated {const})")
    return out


def estimated_symbols(info: RunInfo, names: Any) -> list[str]:
    """The bound symbols among ``names`` whose value rests on an estimated constant of the problem, in words.

    ``L``, ``mu``, ``sigma2`` on themselves (``sigma2`` is 0, exactly, for exact gradients), ``Delta`` on
    ``f_star``, ``D0`` on the minima. A check whose bound uses one of them holds (or fails) *for the estimated
    constants* and is never reported as verified.

    >>> import problems, xtrap
    >>> info = RunInfo.of_setup(problems.make("quadratic", dim=2), xtrap.sgd(), steps=10)
    >>> estimated_symbols(dataclasses.replace(info, sources={"L": "estimated"}), ("L", "eta", "T"))
    ['L (estimated)']
    """
    out = []
    for name in names:
        const = _RESTS_ON.get(name)
        if const is None or info.sources.get(const, "exact") != "estimated":
            continue
        if name == "sigma2" and info.exact:
            continue
        out.append(f"{name} (estimated)" if name == const else f"{name} (from the estimated {const})")
    return out


def _words(direction: str) -> str:
    return _DIRECTION_WORDS.get(direction, "a user-defined direction rule")


def _violations(scope: proofs.RunScope, info: RunInfo) -> list[tuple[str, str]]:
    """``(sibling key, reason)`` for every structural assumption of ``scope`` that the run breaks."""
    out = []
    if info.direction not in scope.directions:
        allowed = ", ".join(f"{d} ({_words(d)})" for d in scope.directions)
        out.append((f"direction={info.direction}", f"it is proved for the direction rules {allowed}; the run uses "
                                                   f"{info.direction} ({_words(info.direction)})"))
    if info.base not in scope.bases:
        out.append(("base", f"it is proved for the base update {', '.join(scope.bases)}; the run uses {info.base} "
                            f"(momentum {info.momentum:g})"))
    if scope.gradients == "exact" and not info.exact:
        out.append(("stochastic", "it is proved for exact gradients (deterministic); the run uses stochastic "
                                  "gradients"))
    if scope.gradients == "stochastic" and info.exact:
        out.append(("exact", "it is proved for stochastic gradients; the run uses exact gradients"))
    if info.direction in _EXTRAP_BATCH and not info.exact:
        if scope.batch == "fresh" and info.same_batch:
            out.append(("same_batch", "it needs an update batch independent of the extrapolation batch (fresh); "
                                      "the run reuses the extrapolation batch (same batch)"))
        if scope.batch == "same" and not info.same_batch:
            out.append(("fresh_batch", "it is proved for the same batch at the extrapolated point; the run draws "
                                       "a fresh update batch"))
    if info.workers > 1 and scope.workers != "any" and not info.exact and info.direction not in _POOLABLE:
        out.append(("workers", f"it is proved for one worker; the run has K={info.workers} workers, each "
                               "perturbing with its own batch"))
    for name, sched in (("lr", info.lr), ("extrap_lr", info.extrap_lr)):
        kind = _schedule_kind(sched)
        if name == "extrap_lr" and (info.direction == "none" or kind == "constant"):
            continue
        if kind != scope.steps:
            want = "constant steps" if scope.steps == "constant" else "the 1/t schedule eta_t = beta/(t + k0)"
            out.append(("schedule", f"it assumes {want}; the run's {name} schedule is {kind.replace('_', ' ')}"))
    return out


def resolve_scope(bound: proofs.Bound | str, info: RunInfo) -> tuple[proofs.Bound, list[str]]:
    """The bound that covers the run: ``bound`` itself, or a catalog sibling (with a note saying why).

    ``bound`` is a :class:`proofs.Bound` or the name of a catalog theorem.

    Raises:
        ParameterError: an unknown theorem name, or something that is not a bound.
        proofs.AssumptionError: the bound declares no :class:`proofs.RunScope`, is not a statement about one
            run (a threshold, a witness value, a limit, a per-direction value, an identity), bounds a quantity
            runs do not record, or the run breaks a structural assumption that no sibling covers; the message
            names it.
    """
    catalog = proofs.catalog()
    if isinstance(bound, str):
        theorem = catalog.get(bound)
        if theorem is None or theorem.bound is None:
            known = ", ".join(n for n, t in catalog.items() if t.bound is not None)
            raise ParameterError(f"theorem must name a catalog theorem with a bound ({known}); got {bound!r}")
        bound = theorem.bound
    if not isinstance(bound, proofs.Bound):
        raise ParameterError(f"bound must be a proofs.Bound or a catalog theorem name; got {bound!r}")
    notes: list[str] = []
    seen = [bound.name]
    while True:
        scope = bound.scope
        if scope is None:
            raise proofs.AssumptionError(f"bound {bound.name} declares no run scope (proofs.RunScope: which methods, "
                                         "batches, workers and quantity it is about), so no run is held against it")
        if scope.kind != "run":
            raise proofs.AssumptionError(f"bound {bound.name} is {scope.description}, not a bound on a quantity of "
                                         f"one run: {scope.note}")
        if scope.measures is None:
            raise proofs.AssumptionError(f"bound {bound.name} bounds {bound.quantity}: {scope.note}")
        broken = _violations(scope, info)
        if not broken:
            return bound, notes
        key, reason = broken[0]
        sibling = dict(scope.siblings).get(key)
        if sibling is None or sibling in seen:
            raise proofs.AssumptionError(f"bound {bound.name} does not cover this run: {reason}")
        notes.append(f"switched from {bound.name} to {sibling}: {bound.name} does not cover this run ({reason}); "
                     f"{sibling} does")
        seen.append(sibling)
        bound = catalog[sibling].bound


def pooled(info: RunInfo, params: dict[str, float]) -> tuple[dict[str, float], str | None]:
    """Without a per-worker perturbation (SGD, global extrapolation) :math:`K` workers of batch :math:`b` are one
    stream with batch :math:`Kb` (exact reduction, THEORY.md §1.6): the parameters a one-worker bound sees."""
    if info.workers > 1 and info.direction in _POOLABLE and not info.exact:
        out = dict(params, b=float(info.batch * info.workers), K=1.0)
        return out, f"K={info.workers} workers of batch {info.batch} pooled into one batch b={info.batch * info.workers}"
    return params, None


__all__ = ["RunInfo", "estimated_inputs", "estimated_symbols", "noise_moment", "pooled", "resolve_scope", "run_parameters"]
