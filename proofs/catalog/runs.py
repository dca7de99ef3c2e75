"""Which runs each catalogued bound speaks about: its :class:`~proofs.bound.RunScope`.

A bound's symbols say *which numbers* it needs; its scope says *which runs* it is a statement about: the kind
of statement (a bound on a quantity of one run, a witness value, a stationary limit, a per-direction value, a
stability threshold, or a symbolic identity with no run at all), the recorded quantity it bounds, and the
structure of the method and oracle its proof assumed (direction rule, base update, same or fresh batch,
workers, exact or stochastic gradients, step-size schedule). ``analysis.check`` refuses any run outside the
scope, naming the assumption, or moves to the sibling theorem that covers it (``siblings``).

One table, in THEORY.md order, so that every scope can be read against its theorem in one place. Names are
the framework's own strings (``proofs`` imports nothing of ours): directions ``none, local, global, past,
gaussian, ball, sphere, sam, usam``; bases ``sgd, heavy_ball, nesterov``.
"""

from __future__ import annotations

from ..bound import RunScope

AVG = "avg_grad_norm2"
EG = ("local", "global")  # one stream (K = 1): local and global extrapolation are the same method
NOISE = ("gaussian", "ball", "sphere")


def _not_a_run(kind: str, why: str) -> RunScope:
    return RunScope(kind=kind, note=why)


_PER_DIRECTION = _not_a_run("per_direction", "a value along one eigen-direction of a quadratic; `xtrap verify` "
                                             "sums it over the directions of its quadratic runs")
_THRESHOLD = _not_a_run("threshold", "a stability threshold on the curvature; `xtrap verify` classifies runs "
                                     "just inside and outside it")
_STATIONARY = _not_a_run("stationary", "a stationary limit (t -> infinity); `xtrap verify` compares it with "
                                       "time averages of chains started at x*")
_SYMBOLIC = _not_a_run("symbolic", "an identity about functions or constants, checked symbolically and "
                                   "numerically by `xtrap proofs`; it bounds no quantity of a run")


def _witness(why: str) -> RunScope:
    return _not_a_run("witness", f"an exact value at one witness instance ({why}); `xtrap verify` holds it there")


SCOPES: dict[str, RunScope] = {
    **{f"A1.{m}": _PER_DIRECTION for m in ("GD", "EG", "USAM", "NI")},
    **{f"A2.{m}": _THRESHOLD for m in ("GD", "EG", "USAM", "HB", "NAG", "PEG")},
    "A2.SAM": _STATIONARY, "A2.SAM.loss": _STATIONARY,
    **{f"A3.{m}": _PER_DIRECTION for m in ("SGD", "EG-indep", "EG-same", "USAM-same", "USAM-indep", "NI", "HB",
                                          "PEG", "EXTRAP-K")},
    "A3.transient": _SYMBOLIC, "A3.obs-same": _SYMBOLIC, "A3.obs-indep": _SYMBOLIC,
    **{f"A4.{m}": _SYMBOLIC for m in ("p", "WME", "Bcrit", "EG-indep")},
    # B: deterministic gradient descent and extragradient (exact gradients only; stochastic runs: C and D)
    "B1": RunScope("run", AVG, directions=("none",), gradients="exact", siblings=(("stochastic", "C2"),)),
    "B2.witness": _witness("GD on the Huber function of THEORY.md §B2"),
    "B3": RunScope("run", "dist", directions=("none",), gradients="exact"),
    "B4": RunScope("run", "loss_gap", directions=("none",), gradients="exact"),
    "B5": RunScope("run", AVG, directions=EG, gradients="exact", siblings=(("stochastic", "D1"),)),
    "B6": RunScope("run", "loss_gap", directions=EG, gradients="exact"),
    "B7": RunScope("run", "loss_gap", directions=EG, gradients="exact"),
    # C: mini-batch SGD (K workers of batch b are held against these as one batch Kb: no per-worker perturbation)
    "C2": RunScope("run", AVG, directions=("none",)),
    "C3": RunScope("run", None, directions=("none",),
                   note="it bounds f at the average iterate, which runs do not record"),
    "C4": RunScope("run", "dist2", directions=("none",)),
    "C5": RunScope("run", "loss_gap", directions=("none",)),
    "C7": RunScope("run", "dist2", directions=("none",), steps="inverse_time"),
    "C8": RunScope("run", "loss_gap", directions=("none",)),
    # D: the extrapolation framework
    "D0": RunScope("run", AVG, directions=("none", "local", "global", "past") + NOISE + ("sam", "usam"),
                   batch="fresh", siblings=(("workers", "D0-K"),)),
    "D0-K": RunScope("run", AVG, directions=("none", "local", "global") + NOISE + ("sam", "usam"), batch="fresh",
                     workers="any"),
    "D1": RunScope("run", AVG, directions=EG, batch="fresh",
                   siblings=(("workers", "D1-K"), ("same_batch", "D2"), ("direction=none", "C2"))),
    "D1.floor": _witness("EG with independent batches on f = (L/2)||x||^2 with additive noise, in the limit"),
    "D1-K": RunScope("run", AVG, directions=EG, batch="fresh", workers="any", siblings=(("same_batch", "D2"),)),
    "D1-K.cor": RunScope("run", AVG, directions=EG, batch="fresh", workers="any"),
    "D2": RunScope("run", AVG, directions=("local", "usam"), batch="same", siblings=(("fresh_batch", "D1"),)),
    "D2.cor": RunScope("run", AVG, directions=("local",), batch="same", siblings=(("fresh_batch", "D1"),)),
    "D3": RunScope("run", AVG, directions=("past",)),
    "D4": RunScope("run", AVG, directions=("gaussian",), siblings=(("workers", "D4-K"), ("direction=ball", "D4.ball"),
                                                                   ("direction=sphere", "D4-K"))),
    "D4.ball": RunScope("run", AVG, directions=("ball",), siblings=(("workers", "D4-K"),
                                                                    ("direction=gaussian", "D4"))),
    "D4-K": RunScope("run", AVG, directions=NOISE, workers="any"),
    "D4.floor": _witness("Gaussian noise injection on f = (L/2)||x||^2 with additive noise, in the limit"),
    "D4.smoothed": RunScope("run", None, directions=NOISE, workers="any",
                            note="it bounds the gradient of the smoothed f_gamma, which runs do not record"),
    "D5a": RunScope("run", AVG, directions=("sam",), batch="fresh", siblings=(("workers", "D0-K"),
                                                                           ("same_batch", "D5b"))),
    "D5a.witness": _witness("deterministic normalized SAM on f = (L/2)||x||^2 with eta = 1/L"),
    "D5b": RunScope("run", AVG, directions=("sam",), batch="any"),
    **{name: _SYMBOLIC for name in ("E2.gauss", "E2.ball", "E2.sphere", "E5.gauss", "E5.ball", "E5.sphere",
                                    "E5.sam", "E6.descent", "E6.eg_gradient", "E6.usam_gradient",
                                    "E6.stochastic")},
    **{f"G2.{m}": _THRESHOLD for m in ("GD", "HB", "NAG", "EG", "USAM", "PEG", "NI")},
    "H4": _witness("SGD with eta_t = 1/(mu (t+1)) on the Gaussian location problem of THEORY.md §H4"),
}
"""Theorem name -> the runs its bound covers (every bound of the catalog has one; a test checks it)."""
