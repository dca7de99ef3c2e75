"""The protocol of ``xtrap large-batch``: batch sizes, the learning-rate rule, the epoch budget, the methods and the
source of every value, fixed before any run (:data:`LEVELS`, :data:`METHODS`, :func:`lr_rule`, :func:`schedule`).

**Learning rate** (Goyal et al. 2017, linear scaling with gradual warm-up):

.. math:: \\eta(B)=\\eta_{\\rm ref}\\,\\frac{B}{B_{\\rm ref}},\\qquad \\eta_t=\\eta(B)\\min\\Big(1,\\frac{t+1}{t_w}\\Big),
          \\qquad \\eta_{\\rm ref}=0.1,\\ B_{\\rm ref}=256,\\ t_w=5\\text{ epochs},

then constant (no decay). The last step, the largest the run takes, is :math:`\\eta_{T-1}=\\eta(B)\\min(1,E/W)` for
a budget of :math:`E` epochs and :math:`W` warm-up epochs (:func:`last_step`): the peak when the budget outlasts the
warm-up, less when it ends inside it (the tests' ``tiny`` level); the stability thresholds are those of that step.
No cap, by choice: at the largest batches the threshold of that step can lie below a seed's starting curvature
:math:`\\lambda_{\\max}(x_0)` (the warm-up starts every run at :math:`\\eta(B)/t_w`, far below); the report gives
each run's :math:`\\lambda_{\\max}(x_0)/\\lambda^\\star` and the start-filter claim tests whether those runs fail to
train. The control "SGD, no scaling" keeps :math:`\\eta(B_{\\min})` at every batch.

**Budget**: a fixed number of epochs, the large-batch setting (a larger batch takes fewer steps):
:math:`T(B)=E\\lceil n/B\\rceil`, each step a batch drawn without replacement (independently at every step, so an
"epoch" is :math:`\\lceil n/B\\rceil` steps, at least :math:`n` samples).

References: P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", arXiv:1706.02677 (2017);
P. Foret et al., "Sharpness-Aware Minimization", ICLR 2021; T. Lin, L. Kong, S. Stich, M. Jaggi, "Extrapolation for
Large-batch Training in Deep Learning", ICML 2020.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import xtrap
from problems import check_choice, check_int, check_real

ETA_REF, B_REF = 0.1, 256  # Goyal et al. 2017: eta = 0.1 * B / 256
WARMUP_EPOCHS = 5  # Goyal et al. 2017: gradual warm-up over the first 5 epochs
MOMENTUM = 0.9  # Nesterov, the paper's baseline (THEORY.md section 2) at the usual beta (Goyal et al. 2017)
SAM_RADIUS = 0.05  # Foret et al. 2021's default rho; xtrap.sam's default
NOISE_SCALE = 0.01  # xtrap.noise_extrap's default gamma (per-coordinate std; ||gamma Z|| ~ gamma sqrt(d))
PROBLEM = {"hidden": 32, "activation": "tanh", "weight_decay": 0.0, "test_fraction": 0.2}  # the digits MLP

LEVELS: dict[str, dict[str, Any]] = {
    "tiny": {"batches": (64, 1437), "epochs": 3, "seeds": 2, "sharpness_seeds": 1, "lanczos": 8, "probes": 4,
             "methods": ("SGD", "EXTRAP-SGD")},  # for the tests only (a hidden option of the command)
    "quick": {"batches": (16, 64, 256, 1437), "epochs": 30, "seeds": 5, "sharpness_seeds": None, "lanczos": 20,
              "probes": 20, "methods": None},
    "full": {"batches": (16, 32, 64, 128, 256, 512, 1024, 1437), "epochs": 100, "seeds": 10, "sharpness_seeds": None,
             "lanczos": 40, "probes": 100, "methods": None},
}
"""Batch sizes (powers of 4 resp. 2 from 16, the whole training set last), epochs, seeds, and the sharpness
effort (seeds per cell measured, ``None`` for every seed; Lanczos iterations; Hutchinson probes) of each level.
Lanczos and Hutchinson on the problem's value compile one Hessian-vector program for all points, so measuring every
seed costs milliseconds a point. (Until issue 14's review, ``quick`` measured 2 seeds a cell and ``full`` 4, when
each call compiled anew; the change was asked by the review, not made after seeing results.)"""

MIN_SHARPNESS_RUNS = 3  # fewer measured end points a cell: the sharpness comparison is "undecided"

PILOT = {"method": "SGD", "seeds": 3, "level": "quick"}
"""The one pilot run while the study was written: SGD alone, 3 seeds, at the ``quick`` level's batch sizes and
epochs, to check that the budget trains at all; nothing was changed after it."""


@dataclass(frozen=True)
class MethodSpec:
    """One method of the study: its label, how to build it at a step schedule and batch, and its settings' sources.

    Attributes:
        label: the name in tables and figures.
        kind: the stability rule of :func:`analysis.large_batch.theory.threshold` (``"nag"``, ``"extrap"``,
            ``"noise"``, ``"sam"``).
        make: ``make(lr, batch) -> xtrap.Method`` (``lr`` a number, an array or an :class:`xtrap.Schedule`).
        settings: the method's own hyper-parameters, in words, with where each value came from.
        grads: gradient evaluations per step (the cost of a step in gradients).
    """

    label: str
    kind: str
    make: Callable[[Any, int], xtrap.Method]
    settings: str
    grads: int


def _nesterov(**kw: Any) -> dict[str, Any]:
    return dict(momentum=MOMENTUM, nesterov=True, **kw)


METHODS: dict[str, MethodSpec] = {m.label: m for m in (
    MethodSpec("SGD", "nag", lambda lr, b: xtrap.sgd(lr=lr, batch=b, **_nesterov()),
               "mini-batch SGD with Nesterov momentum beta = 0.9 (the paper's baseline)", 1),
    MethodSpec("EXTRAP-SGD", "extrap", lambda lr, b: xtrap.extrap_sgd(lr=lr, extrap_lr="lr", batch=b, **_nesterov()),
               "gamma_t = eta_t (xtrap.extrap_sgd's default), a fresh extrapolation batch of the same "
               "size, one worker; Nesterov beta = 0.9", 2),
    MethodSpec("SAM", "sam", lambda lr, b: xtrap.sam(lr=lr, rho=SAM_RADIUS, batch=b, **_nesterov()),
               f"rho = {SAM_RADIUS} (Foret et al. 2021's default), ascent on the same batch; Nesterov beta = 0.9", 2),
    MethodSpec("noise injection", "noise",
               lambda lr, b: xtrap.noise_extrap(lr=lr, extrap_lr=NOISE_SCALE, batch=b, **_nesterov()),
               f"Gaussian u = x - gamma Z, gamma = {NOISE_SCALE} (xtrap.noise_extrap's default); Nesterov beta = 0.9",
               1),
)}
NO_SCALING = "SGD, no scaling"  # the control: SGD at eta(B_min) for every batch


def lr_rule(batch: int, eta_ref: float = ETA_REF, b_ref: int = B_REF) -> float:
    """The linear-scaling rule :math:`\\eta(B)=\\eta_{\\rm ref}B/B_{\\rm ref}` (Goyal et al. 2017).

    Args:
        batch: the global batch size :math:`B\\ge1`.
        eta_ref: :math:`\\eta_{\\rm ref}>0`, the step at the reference batch (0.1).
        b_ref: :math:`B_{\\rm ref}\\ge1` (256).

    Returns:
        :math:`\\eta(B)`.

    >>> lr_rule(16), round(lr_rule(1437), 6)
    (0.00625, 0.561328)
    """
    batch = check_int("batch", batch, lo=1)
    eta_ref = check_real("eta_ref", eta_ref, lo=0.0, lo_open=True)
    b_ref = check_int("b_ref", b_ref, lo=1)
    return eta_ref * batch / b_ref


def steps_per_epoch(batch: int, n: int) -> int:
    """:math:`\\lceil n/B\\rceil`: the steps of one epoch at batch ``batch`` on ``n`` samples (``batch`` in [1, n]).

    >>> steps_per_epoch(16, 1437), steps_per_epoch(1437, 1437)
    (90, 1)
    """
    n = check_int("n", n, lo=1)
    return math.ceil(n / check_int("batch", batch, lo=1, hi=n))


def schedule(peak: Any, batch: int, n: int, warmup_epochs: float = WARMUP_EPOCHS) -> xtrap.Schedule:
    """The step schedule :math:`\\eta_t=\\eta\\min(1,(t+1)/t_w)`, :math:`t_w` = ``warmup_epochs`` epochs of steps.

    Args:
        peak: :math:`\\eta`, a number or a 1-D array (a sweep axis).
        batch, n: the batch size and the number of training samples (an epoch is :func:`steps_per_epoch`).
        warmup_epochs: the warm-up length in epochs, >= 0 (0: none).

    >>> s = schedule(0.5, 1437, 1437)
    >>> [round(s.at(t), 3) for t in range(7)]
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5]
    """
    warmup_epochs = check_real("warmup_epochs", warmup_epochs, lo=0.0)
    return xtrap.warmup(peak, warmup_epochs * steps_per_epoch(batch, n))


def last_step(peak: float, batch: int, n: int, epochs: int, warmup_epochs: float = WARMUP_EPOCHS) -> float:
    """The step of the last update of a budget of ``epochs`` epochs under :func:`schedule`, the largest it takes:

    .. math:: \\eta_{T-1}=\\eta\\min\\Big(1,\\frac{T}{t_w}\\Big)=\\eta\\min\\Big(1,\\frac{E}{W}\\Big),\\qquad
              T=E\\lceil n/B\\rceil,\\ t_w=W\\lceil n/B\\rceil.

    Args:
        peak: :math:`\\eta>0`; batch, n: as in :func:`schedule`; epochs: :math:`E\\ge1`; warmup_epochs: :math:`W\\ge0`.

    Returns:
        :math:`\\eta_{T-1}`, read off the schedule itself (``schedule(...).at(T - 1)``).

    >>> round(last_step(0.5, 1437, 1437, 30), 12), round(last_step(0.5, 1437, 1437, 3), 12)  # 3 of 5 warm-up epochs
    (0.5, 0.3)
    """
    peak = check_real("peak", peak, lo=0.0, lo_open=True)
    epochs = check_int("epochs", epochs, lo=1)
    return float(schedule(peak, batch, n, warmup_epochs).at(epochs * steps_per_epoch(batch, n) - 1))


def level_config(level: str, seeds: int | None = None) -> dict[str, Any]:
    """The settings of ``level`` (:data:`LEVELS`), with ``seeds`` (>= 2) overriding its seeds when given; the seeds
    whose end points are measured (``sharpness_seeds``) resolved to a number (``None``: every seed)."""
    cfg = dict(LEVELS[check_choice("level", level, tuple(LEVELS))])
    if seeds is not None:
        cfg["seeds"] = check_int("seeds", seeds, lo=2)
    s = cfg["sharpness_seeds"]
    cfg["sharpness_seeds"] = cfg["seeds"] if s is None else min(s, cfg["seeds"])
    cfg["methods"] = tuple(METHODS) if cfg["methods"] is None else cfg["methods"]
    return cfg


def network_text(p: Any) -> str:
    """The digits problem ``p`` in words, read off the problem: the split, layer widths, activation, loss, decay.

    >>> import problems
    >>> network_text(problems.make("digits", hidden=8, weight_decay=1e-4, estimate_points=1)).split("; ")[1]
    'MLP 64-8-10 (d = 610), tanh, softmax cross-entropy, weight decay 0.0001'
    """
    params = p.unravel(p.x0)
    (d_in, hidden), (_, classes) = params["w1"].shape, params["w2"].shape
    wd = float(p.weight_decay)
    return (f"scikit-learn digits, {p.n} train / {int(p.test_labels.shape[0])} test images (stratified, fixed split); "
            f"MLP {d_in}-{hidden}-{classes} (d = {p.dim}), {p.activation}, softmax cross-entropy, "
            + ("no weight decay" if wd == 0 else f"weight decay {wd:g}"))


def protocol_rows(cfg: dict[str, Any], p: Any) -> list[tuple[str, str, str]]:
    """The protocol of the settings ``cfg`` (:func:`level_config`) on the digits problem ``p``, as
    ``(what, value, source)`` rows for the report and the JSON."""
    b, n, k = cfg["batches"], p.n, cfg["sharpness_seeds"]
    which = "every seed" if k == cfg["seeds"] else f"the first {k} seed(s)"
    return [
        ("data, network", network_text(p), "problems.make('digits'), the brief"),
        ("batch sizes B", ", ".join(map(str, b)) + (" (the last: the whole training set)" if b[-1] == n else ""),
         "chosen once: powers of about 4 (quick) or 2 (full) from 16 to n"),
        ("learning rate", f"eta(B) = {ETA_REF} * B / {B_REF}: " + ", ".join(f"{lr_rule(x):.4g}" for x in b),
         "linear scaling, Goyal et al. 2017"),
        ("warm-up", f"linear from eta(B)/t_w to eta(B) over the first {WARMUP_EPOCHS} epochs, then constant (no "
                    "decay); the thresholds use the last step, eta(B) min(1, epochs / warm-up epochs)",
         "gradual warm-up, Goyal et al. 2017 (who start from the small-batch rate)"),
        ("control", f"{NO_SCALING}: eta = {lr_rule(b[0]):.4g} (eta(B_min)) at every B, the same warm-up",
         "shows what the scaling rule does"),
        ("budget", f"{cfg['epochs']} epochs at every B: T(B) = {cfg['epochs']} * ceil(n/B) = "
                   + ", ".join(str(cfg['epochs'] * steps_per_epoch(x, n)) for x in b) + " steps",
         "fixed epochs: the large-batch setting (same samples, fewer steps)"),
        ("momentum", f"Nesterov, beta = {MOMENTUM} (PyTorch form) for every method", "the paper's baseline; Goyal et al."),
        ("seeds", f"{cfg['seeds']} per cell; seed s: the initialization of problems.make('digits', seed=s) and the "
                  "batch draws of seed s", "several seeds, both sources of randomness"),
        ("statistics", "test accuracy: mean ± the 95% Student-t interval over the runs that did not diverge; "
                       "diverged runs counted, never averaged; differences: Welch's 95% interval", "the brief"),
        ("sharpness", f"at the final iterate of {which} of each cell: lambda_max by Lanczos ({cfg['lanczos']} "
                      f"iterations), trace by Hutchinson ({cfg['probes']} Rademacher probes, 99% t interval), of "
                      f"the full training loss; with fewer than {MIN_SHARPNESS_RUNS} end points a cell the sharpness "
                      "comparison is undecided", "analysis.sharpness"),
    ] + [(m.label, m.settings, "") for m in METHODS.values() if m.label in cfg["methods"]]


__all__ = ["B_REF", "ETA_REF", "LEVELS", "METHODS", "MIN_SHARPNESS_RUNS", "MOMENTUM", "MethodSpec", "NOISE_SCALE",
           "NO_SCALING", "PILOT", "PROBLEM", "SAM_RADIUS", "WARMUP_EPOCHS", "last_step", "level_config", "lr_rule",
           "network_text", "protocol_rows", "schedule", "steps_per_epoch"]
