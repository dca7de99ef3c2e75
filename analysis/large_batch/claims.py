"""The study's claims, each held against the measured cells: ``holds`` is ``True``, ``False`` or ``None`` (no
prediction, or too few runs to decide). Differences are judged by Welch's 95% interval (:func:`.stats.welch`).

A *cell* is one method at one batch size: a dict with ``label``, ``batch`` and per-run lists ``test_accuracy``,
``train_accuracy``, ``loss`` (final training loss), ``lambda_max`` (measured seeds; NaN for a diverged run) and
``threshold`` (the stability threshold of the final step, :func:`.theory.threshold`, or ``None``), ``kind``.

* **gap** (the paper's premise): SGD's test accuracy at the largest batch is *lower* than at the smallest.
* **train-test gap grows**: SGD's train − test accuracy is *higher* at the largest batch than at the smallest.
* **<method> helps**: at the largest batch, the method's test accuracy is *higher* than SGD's.
* **scaling matters**: at the largest batch, SGD without the scaling rule is *lower* than with it.
* **noise scale** (McCandlish et al. 2018): when the largest batch exceeds :math:`B_{\\rm noise}` and the smallest
  does not, SGD's final training loss at the largest batch is *higher* than at the smallest (no prediction otherwise).
* **sharper at large batch** (Keskar et al. 2017): SGD's final :math:`\\lambda_{\\max}` is *higher* at the largest batch.
* **start filter**: the cells that fail to train are exactly those whose starting :math:`\\lambda_{\\max}(x_0)` is
  already above the threshold of their peak step (:func:`start_claim`).
* **stability filter**, per method with a threshold: every measured final :math:`\\lambda_{\\max}` lies below the
  threshold of its final step (Lanczos Ritz values never exceed :math:`\\lambda_{\\max}`, so a value above is certain).

Reference: N. S. Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima",
ICLR 2017.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .protocol import NO_SCALING
from .stats import welch


def _cell(cells: Sequence[dict[str, Any]], label: str, batch: int) -> dict[str, Any] | None:
    return next((c for c in cells if c["label"] == label and c["batch"] == batch), None)


def _compare(claim: str, a: dict[str, Any] | None, b: dict[str, Any] | None, key: str, want: str,
             what: str) -> dict[str, Any]:
    """A claim that ``a[key]`` is ``want`` (higher / lower) than ``b[key]`` by Welch's interval."""
    if a is None or b is None:
        return {"claim": claim, "holds": None, "detail": "not measured at this level"}
    w = welch(a[key], b[key])
    holds = None if w["verdict"] == "undecided" else w["verdict"] == want
    ci = (f"[{w['low']:+.3g}, {w['high']:+.3g}]" if math.isfinite(w["low"]) else "(too few runs)")
    return {"claim": claim, "holds": holds, "verdict": w["verdict"], "difference": w["difference"],
            "low": w["low"], "high": w["high"],
            "detail": f"{what}: {a['label']} B={a['batch']} minus {b['label']} B={b['batch']} = "
                      f"{w['difference']:+.3g}, 95% CI {ci}: {w['verdict']}"}


def _train_test(cell: dict[str, Any] | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    gap = np.asarray(cell["train_accuracy"], float) - np.asarray(cell["test_accuracy"], float)
    return {**cell, "train_test_gap": gap.tolist()}


def stability_claim(cells: Sequence[dict[str, Any]], label: str) -> dict[str, Any]:
    """Every measured final :math:`\\lambda_{\\max}` of ``label``'s cells below its final step's threshold?"""
    mine = [c for c in cells if c["label"] == label and c.get("threshold") is not None]
    pairs = [(c["batch"], lam, c["threshold"]) for c in mine for lam in c["lambda_max"] if math.isfinite(lam)]
    claim = f"stability filter: {label}"
    if not mine or mine[0].get("status") == "reference" or not pairs:
        return {"claim": claim, "holds": None, "detail": "no threshold in the catalog" if mine else "not measured"}
    above = [(b, lam, t) for b, lam, t in pairs if lam >= t]
    ratio = max(lam / t for _, lam, t in pairs)
    detail = (f"{len(pairs) - len(above)} of {len(pairs)} end points below lambda* of their final step; largest "
              f"lambda_max / lambda* = {ratio:.3g}")
    if above:
        detail += "; above: " + ", ".join(f"B={b} ({lam:.3g} >= {t:.3g})" for b, lam, t in above)
    return {"claim": claim, "holds": not above, "detail": detail, "max_ratio": ratio}


def start_claim(cells: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """The filters at the start: do the cells that failed to train (``failed``: most runs ended at a training loss
    no lower than the start's, or diverged) equal those whose starting curvature was already above the threshold of
    their peak step (``start_ratio`` = :math:`\\lambda_{\\max}(x_0)/\\lambda^\\star \\ge 1`)?"""
    mine = [c for c in cells if c["label"] in methods and c.get("status") not in (None, "reference")
            and c.get("start_ratio") is not None]
    claim = "start filter: the cells that fail to train are those whose start is above their threshold"
    if not mine:
        return {"claim": claim, "holds": None, "detail": "not measured"}
    name = lambda c: f"{c['label']} B={c['batch']} ({c['start_ratio']:.2f})"  # noqa: E731
    above = {name(c) for c in mine if c["start_ratio"] >= 1}
    failed = {name(c) for c in mine if c["failed"]}
    detail = (f"started above lambda* (lambda_max(x0)/lambda*): {', '.join(sorted(above)) or 'none'}; failed to "
              f"train: {', '.join(sorted(failed)) or 'none'}")
    return {"claim": claim, "holds": None if not above and not failed else above == failed, "detail": detail}


def claims(cells: Sequence[dict[str, Any]], batches: Sequence[int], b_noise: float,
           methods: Sequence[str]) -> list[dict[str, Any]]:
    """Hold every claim of the module docstring against ``cells``.

    Args:
        cells: the measured cells (module docstring).
        batches: the batch sizes, smallest first, largest last.
        b_noise: :math:`B_{\\rm noise}` at the start (:func:`.theory.noise_scale`).
        methods: the method labels, SGD first.

    Returns:
        One dict per claim: ``{"claim", "holds", "detail", ...}`` (``holds`` ``None``: no prediction or undecided).
    """
    lo, hi = batches[0], batches[-1]
    sgd_lo, sgd_hi = _cell(cells, "SGD", lo), _cell(cells, "SGD", hi)
    out = [_compare("gap: large-batch SGD loses test accuracy", sgd_hi, sgd_lo, "test_accuracy", "lower",
                    "test accuracy"),
           _compare("train-test gap grows with the batch", _train_test(sgd_hi), _train_test(sgd_lo),
                    "train_test_gap", "higher", "train - test accuracy")]
    for m in methods:
        if m != "SGD":
            out.append(_compare(f"{m} helps at the largest batch", _cell(cells, m, hi), sgd_hi, "test_accuracy",
                                "higher", "test accuracy"))
    out.append(_compare("scaling matters: unscaled SGD is worse at the largest batch", _cell(cells, NO_SCALING, hi),
                        sgd_hi, "test_accuracy", "lower", "test accuracy"))
    if lo < b_noise < hi:
        c = _compare("noise scale: batches beyond B_noise end at a higher training loss", sgd_hi, sgd_lo, "loss",
                     "higher", "final training loss")
        c["detail"] = f"B_noise = {b_noise:.3g} lies in ({lo}, {hi}]; " + c["detail"]
    else:
        c = {"claim": "noise scale: batches beyond B_noise end at a higher training loss", "holds": None,
             "detail": f"no prediction: B_noise = {b_noise:.3g} is not between B = {lo} and B = {hi}"}
    out.append(c)
    out.append(_compare("sharper at large batch (SGD's final lambda_max)", sgd_hi, sgd_lo, "lambda_max", "higher",
                        "final lambda_max"))
    out += [stability_claim(cells, m) for m in methods]
    out.append(start_claim(cells, methods))
    return out


__all__ = ["claims", "stability_claim", "start_claim"]
