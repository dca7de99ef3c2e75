"""The study's claims, each held against the measured cells: ``holds`` is ``True``, ``False`` or ``None`` (no
prediction, or too few runs to decide). Differences are judged by Welch's 95% interval (:func:`.stats.welch`).

A *cell* is one method at one batch size: a dict with ``label``, ``batch`` and per-run lists ``test_accuracy``,
``train_accuracy``, ``loss`` (final training loss), ``lambda_max`` (measured seeds; NaN for a diverged run),
``start_ratio`` (each run's :math:`\\lambda_{\\max}(x_0)/\\lambda^\\star`, its own seed's starting curvature) and
``failed_run`` (the run diverged or ended no lower than it started), and ``threshold`` (the stability threshold of
the last step, :func:`.theory.threshold`, or ``None``), ``kind``, ``status``; an SGD cell also ``critical``
(``b_crit`` and ``b_crit_x0`` per measured seed, :func:`critical_batch_claim`).

* **gap** (the paper's premise): SGD's test accuracy at the largest batch is *lower* than at the smallest.
* **train-test gap grows**: SGD's train − test accuracy is *higher* at the largest batch than at the smallest.
* **<method> helps**: at the largest batch, the method's test accuracy is *higher* than SGD's.
* **scaling matters**: at the largest batch, SGD without the scaling rule is *lower* than with it.
* **noise scale** (McCandlish et al. 2018): when every value of :math:`B_{\\rm noise}` measured along the runs lies
  in :math:`[B_{\\min},B_{\\max})` (the largest batch exceeds it throughout, the smallest never does), SGD's final
  training loss at the largest batch is *higher* than at the smallest; no prediction when the range of
  :math:`B_{\\rm noise}` along the runs straddles a batch size or lies beyond both.
* **sharper at large batch** (Keskar et al. 2017): SGD's final :math:`\\lambda_{\\max}` is *higher* at the largest
  batch; undecided with fewer than :data:`~.protocol.MIN_SHARPNESS_RUNS` measured end points in a cell.
* **start filter**, per run: the runs that fail to train are exactly those whose own starting
  :math:`\\lambda_{\\max}(x_0)` is already above the threshold of their last step (:func:`start_claim`); the detail
  gives the fraction of flagged runs that failed and of unflagged runs that failed.
* **critical batch** (THEORY.md §A4 ``A4.Bcrit`` [derived]): every measured end point of SGD satisfies
  :math:`B\\ge B_{\\rm crit}` of that point at the last step (:func:`critical_batch_claim`): SGD linearised there
  along the top Hessian direction is mean-square stable at the batch it ran with.
* **stability filter**, per method with a threshold: every measured final :math:`\\lambda_{\\max}` lies below the
  threshold of its last step (Lanczos Ritz values never exceed :math:`\\lambda_{\\max}`, so a value above is certain).

Each claim judged by an interval is judged at 95%, with no correction for multiplicity: with :math:`m` of them, about
:math:`0.05m` false verdicts are to be expected per report even if no effect existed (:func:`multiplicity` counts
them).

Reference: N. S. Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima",
ICLR 2017.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .protocol import MIN_SHARPNESS_RUNS, NO_SCALING
from .stats import CONFIDENCE, welch


def _cell(cells: Sequence[dict[str, Any]], label: str, batch: int) -> dict[str, Any] | None:
    return next((c for c in cells if c["label"] == label and c["batch"] == batch), None)


def _compare(claim: str, a: dict[str, Any] | None, b: dict[str, Any] | None, key: str, want: str,
             what: str, min_runs: int = 2) -> dict[str, Any]:
    """A claim that ``a[key]`` is ``want`` (higher / lower) than ``b[key]`` by Welch's interval; undecided when a side
    has fewer than ``min_runs`` finite values."""
    if a is None or b is None:
        return {"claim": claim, "holds": None, "detail": "not measured at this level"}
    runs = [int(np.isfinite(np.asarray(c[key], float)).sum()) for c in (a, b)]
    if min(runs) < min_runs:
        return {"claim": claim, "holds": None, "verdict": "undecided",
                "detail": f"{what}: {runs[0]} and {runs[1]} measured runs, fewer than {min_runs} in a cell: "
                          "undecided"}
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
    """Every measured final :math:`\\lambda_{\\max}` of ``label``'s cells below its last step's threshold?"""
    mine = [c for c in cells if c["label"] == label and c.get("threshold") is not None]
    pairs = [(c["batch"], lam, c["threshold"]) for c in mine for lam in c["lambda_max"] if math.isfinite(lam)]
    claim = f"stability filter: {label}"
    if not mine or mine[0].get("status") == "reference" or not pairs:
        return {"claim": claim, "holds": None, "detail": "no threshold in the catalog" if mine else "not measured"}
    above = [(b, lam, t) for b, lam, t in pairs if lam >= t]
    ratio = max(lam / t for _, lam, t in pairs)
    detail = (f"{len(pairs) - len(above)} of {len(pairs)} end points below lambda* of their last step; largest "
              f"lambda_max / lambda* = {ratio:.3g}")
    if above:
        detail += "; above: " + ", ".join(f"B={b} ({lam:.3g} >= {t:.3g})" for b, lam, t in above)
    return {"claim": claim, "holds": not above, "detail": detail, "max_ratio": ratio}


def start_claim(cells: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """The filters at the start, run by run: do the runs that failed to train (``failed_run``: diverged, or ended at
    a training loss no lower than the start's) equal those whose own starting curvature was already above the
    threshold of their last step (``start_ratio`` :math:`=\\lambda_{\\max}(x_0)/\\lambda^\\star\\ge1`)?

    Returns:
        ``{"claim", "holds", "detail", "flagged", "flagged_failed", "unflagged", "unflagged_failed"}``: ``holds``
        ``True`` when the two sets of runs are equal, ``False`` otherwise, ``None`` when no run was flagged or failed;
        the counts of runs started above :math:`\\lambda^\\star` (flagged) and below, and how many of each failed.
    """
    mine = [c for c in cells if c["label"] in methods and c.get("status") not in (None, "reference")
            and c.get("start_ratio") is not None]
    claim = "start filter: the runs that fail to train are those whose start is above their threshold"
    if not mine:
        return {"claim": claim, "holds": None, "detail": "not measured"}
    runs = [(c, s, float(r), bool(f)) for c in mine for s, (r, f) in enumerate(zip(c["start_ratio"], c["failed_run"]))]
    flagged = [x for x in runs if x[2] >= 1]
    unflagged = [x for x in runs if x[2] < 1]
    k, j = sum(f for *_, f in flagged), sum(f for *_, f in unflagged)

    def names(rs: list[tuple[dict[str, Any], int, float, bool]]) -> list[str]:
        return [f"{c['label']} B={c['batch']} seed {s} ({r:.2f})" for c, s, r, _ in rs]

    above_trained, below_failed = names([x for x in flagged if not x[3]]), names([x for x in unflagged if x[3]])
    detail = (f"{k} of {len(flagged)} runs started above lambda* failed to train, {j} of {len(unflagged)} started "
              f"below did (lambda_max(x0) of the run's own seed over the threshold of its last step)")
    if above_trained:
        detail += "; above but trained: " + ", ".join(above_trained)
    if below_failed:
        detail += "; below but failed: " + ", ".join(below_failed)
    return {"claim": claim, "holds": None if not flagged and not j else k == len(flagged) and j == 0,
            "detail": detail, "flagged": len(flagged), "flagged_failed": int(k), "unflagged": len(unflagged),
            "unflagged_failed": int(j), "above_trained": above_trained, "below_failed": below_failed}


CRITICAL_CAVEATS = ("A4 is exact for plain SGD on a quadratic finite sum, linearised along one direction; here SGD has "
                    "Nesterov momentum (deterministic edge 1.357/eta, below A4's 2/eta), the end point is not a "
                    "minimum, and a, s are measured at the point along the top Ritz vector: estimated")


def critical_batch_claim(cells: Sequence[dict[str, Any]], label: str = "SGD") -> dict[str, Any]:
    """A4's critical batch at ``label``'s end points: does every measured end point satisfy
    :math:`B\\ge B_{\\rm crit}(x_T)` (``cell["critical"]["b_crit"]``, at the cell's last step)?

    Returns:
        ``{"claim", "holds", "detail", "label", "points", "below", "b_crit_max", "b_crit_x0_max",
        "filters_batches"}``:
        ``holds`` ``True`` when every finite-curvature end point is at or above its :math:`B_{\\rm crit}`, ``False``
        when one is below (listed in ``below``), ``None`` when none was measured; the largest end-point and start
        values; ``filters_batches``, the study's batches below some end point's :math:`B_{\\rm crit}` (those A4 would
        call mean-square unstable there).
    """
    claim = f"critical batch (A4): every {label} end point has B >= B_crit of that point"
    mine = [c for c in cells if c["label"] == label and "critical" in c]
    pts = [(c["batch"], s, float(b)) for c in mine for s, b in enumerate(c["critical"]["b_crit"]) if not math.isnan(b)]
    if not pts:
        return {"claim": claim, "holds": None, "detail": "not measured", "label": "derived"}
    below = [f"B={b} seed {s} (B_crit {_num(v)})" for b, s, v in pts if b < v]
    top = max(v for *_, v in pts)
    starts = [float(v) for c in mine for v in c["critical"]["b_crit_x0"] if not math.isnan(v)]
    batches = sorted({c["batch"] for c in cells if c["label"] == label})
    filtered = [b for b in batches if b < top]
    x0 = max(starts) if starts else math.nan
    detail = (f"{len(pts) - len(below)} of {len(pts)} end points at or above their B_crit; largest B_crit "
              f"{_num(top)}" + (": below 1, so in A4's model every batch size, even B = 1, is mean-square stable "
                                "there, and A4 filters none of the study's batches" if top < 1 else
                                f", below the smallest batch B = {batches[0]}: A4 filters none of the study's batches "
                                "at these points" if not filtered else
                                f": A4 calls B = {', '.join(map(str, filtered))} unstable at some end point")
              + (f"; smallest margin B / B_crit {_num(min(b / v for b, _, v in pts if v > 0))}" if top > 0 else "")
              + (f"; at the starts (same step) B_crit up to {_num(x0)}" if starts else ""))
    if below:
        detail += "; below: " + ", ".join(below)
    return {"claim": claim, "holds": not below, "detail": detail + f" ({CRITICAL_CAVEATS})", "label": "derived",
            "points": len(pts), "below": below, "b_crit_max": top, "b_crit_x0_max": x0, "filters_batches": filtered}


def noise_claim(cells: Sequence[dict[str, Any]], batches: Sequence[int], b_noise: float | Sequence[float]
                ) -> dict[str, Any]:
    """The noise-scale prediction, judged on the values of :math:`B_{\\rm noise}` measured along the runs (module
    docstring): a prediction only when all of them lie in :math:`[B_{\\min},B_{\\max})`."""
    claim = "noise scale: batches beyond B_noise end at a higher training loss"
    v = np.asarray(b_noise, float).reshape(-1)
    v = v[~np.isnan(v)]
    lo, hi = batches[0], batches[-1]
    if v.size == 0:
        return {"claim": claim, "holds": None, "detail": "not measured"}
    r_lo, r_hi = float(v.min()), float(v.max())
    where = f"B_noise along the runs in [{_num(r_lo)}, {_num(r_hi)}]"
    if lo <= r_lo and r_hi < hi:
        c = _compare(claim, _cell(cells, "SGD", hi), _cell(cells, "SGD", lo), "loss", "higher", "final training loss")
        c["detail"] = f"{where}, inside [B = {lo}, B = {hi}); " + c["detail"]
    else:
        why = (f"straddles B = {lo if r_lo < lo <= r_hi else hi}" if r_lo < lo <= r_hi or r_lo < hi <= r_hi else
               f"lies beyond B = {hi}" if r_lo >= hi else f"lies below B = {lo}")
        c = {"claim": claim, "holds": None,
             "detail": f"no prediction: {where} {why}, not inside [B = {lo}, B = {hi})"}
    c.update(b_noise_low=r_lo, b_noise_high=r_hi, label="cited")  # McCandlish et al. 2018, cited in THEORY.md §6
    return c


def _num(v: float) -> str:
    """3 significant digits; whole numbers with thousands separators from 1,000 on."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def claims(cells: Sequence[dict[str, Any]], batches: Sequence[int], b_noise: float | Sequence[float],
           methods: Sequence[str]) -> list[dict[str, Any]]:
    """Hold every claim of the module docstring against ``cells``.

    Args:
        cells: the measured cells (module docstring).
        batches: the batch sizes, smallest first, largest last.
        b_noise: the values of :math:`B_{\\rm noise}` measured along the runs (:func:`.theory.noise_scale`; one number
            for a single point).
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
    out.append(noise_claim(cells, batches, b_noise))
    out.append(critical_batch_claim(cells))
    out.append(_compare("sharper at large batch (SGD's final lambda_max)", sgd_hi, sgd_lo, "lambda_max", "higher",
                        "final lambda_max", min_runs=MIN_SHARPNESS_RUNS))
    out += [stability_claim(cells, m) for m in methods]
    out.append(start_claim(cells, methods))
    return out


def multiplicity(claims: Sequence[dict[str, Any]], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """How many verdicts a report should expect wrong by chance: of the ``claims``, those judged (``holds`` not
    ``None``), those judged by an interval at level :math:`c` (:math:`m`), and :math:`(1-c)m`, the expected count of
    false "higher"/"lower" verdicts if none of those effects existed (no correction for multiplicity is applied);
    also :math:`(1-c)N` for all :math:`N` claims, as if each were a :math:`c`-level statement.

    >>> multiplicity([{"holds": True, "low": 0.1}, {"holds": False, "low": -0.2}, {"holds": None}])["expected_false"]
    0.1
    """
    intervals = [c for c in claims if c.get("holds") is not None and math.isfinite(c.get("low", math.nan))]
    alpha = 1 - confidence
    return {"claims": len(claims), "judged": sum(c.get("holds") is not None for c in claims),
            "intervals": len(intervals), "expected_false": round(alpha * len(intervals), 12),
            "expected_false_all": round(alpha * len(claims), 12), "confidence": confidence}


__all__ = ["CRITICAL_CAVEATS", "claims", "critical_batch_claim", "multiplicity", "noise_claim", "stability_claim",
           "start_claim"]
