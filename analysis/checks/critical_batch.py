"""The critical batch size of the catalog's A4 (a finite-sum quadratic with sampling noise), from measured curvatures.

Both studies that put :math:`B_{\\rm crit}` beside their runs (``xtrap sharp-flat`` at a minimum, ``xtrap large-batch``
at a network's end points) evaluate it here, from the per-sample curvatures :math:`h_i` along one direction: their
mean :math:`a` and standard deviation :math:`s`.
"""

from __future__ import annotations

import math

from problems import check_int, check_real
from proofs.catalog import catalog


def critical_batch(a: float, s: float, n: int | None, lr: float) -> float:
    """:math:`B_{\\rm crit}` of A4: SGD at step :math:`\\eta`, linearised along a direction of mean per-sample curvature
    :math:`a` and spread :math:`s` over :math:`n` samples, is mean-square stable iff :math:`B\\ge B_{\\rm crit}`
    (``A4.Bcrit`` [derived], evaluated from the verified catalog).

    Returns ``inf`` when :math:`a\\le0` or :math:`\\eta a\\ge2` (:math:`(1-\\eta a)^2\\ge1`: unstable at every batch, the
    full one too), ``0`` when :math:`s=0` (the batch plays no part), the catalog's value otherwise, and its
    :math:`n\\to\\infty` limit :math:`\\eta s^2/(a(2-\\eta a))` when ``n`` is ``None`` (a streaming oracle).

    Args:
        a: the mean curvature (finite); s: the spread, >= 0; n: the samples, >= 2 (or ``None``); lr: :math:`\\eta>0`.

    >>> round(critical_batch(1.0, 10.0, 1437, 0.5), 4)  # 1437 * 50 / (50 + 1.5 * 1436)
    32.5998
    >>> critical_batch(5.0, 1.0, 1437, 0.5), critical_batch(1.0, 0.0, 1437, 0.5)
    (inf, 0.0)

    Reference: Wu, Ma & E, "How SGD selects the global minima in over-parameterized learning", NeurIPS 2018 (the
    criterion); the closed form is derived and machine-checked in the catalog (A4).
    """
    a = check_real("a", a)
    s = check_real("s", s, lo=0.0)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    if a <= 0 or lr * a >= 2:
        return math.inf
    if s == 0:
        return 0.0
    if n is None:
        return lr * s * s / (a * (2 - lr * a))
    n = check_int("n", n, lo=2)
    return float(catalog()["A4.Bcrit"].bound.evaluate(a=a, eta=lr, n=n, s=s))
