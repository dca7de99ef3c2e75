"""THEORY.md §D: extrapolated SGD on smooth nonconvex objectives -- bounds derived for xtrap.

These are xtrap's own bounds ("derived for xtrap"), **not** the theorems of Lin, Kong, Stich & Jaggi
(ICML 2020), which are not available. Every chain is written with exact rationals, inner products
and squared norms as scalar symbols, and each assumed inequality as an equality with a nonnegative
slack (THEORY.md §4.5):

* **D0** master lemma (the §4.5 certificate), averaged for :math:`\\eta\\le1/L` [derived];
  **D0-K** the :math:`K`-worker version (polarization, Jensen as a slack, variance
  :math:`\\sigma^2/(Kb)`) [derived].
* **D1** EG with independent batches [derived], **D1.floor** its witness floor at
  :math:`f=\\frac L2\\|x\\|^2`, :math:`\\eta=1/L` [exact]; **D1-K** EXTRAP-SGD with :math:`K` workers
  [derived] and **D1-K.cor** its form for :math:`\\gamma\\le\\frac1{\\sqrt2L}` [derived].
* **D2** EG/USAM with the same batch, :math:`c>0` [derived]; **D2.cor** :math:`\\gamma=\\eta\\le\\frac1{4L}`
  (:math:`c\\ge\\frac{71}{128}`; constant :math:`\\frac{41}{16}`) [derived].
* **D3** PEG under :math:`L^2\\gamma^2\\le1-L\\eta`, with the check that this implies A2.6 stability [derived].
* **D4** noise injection (Gaussian, ball), **D4-K** (:math:`K` workers, :math:`\\mathbb E\\|Z\\|^2\\le\\sigma_Z^2`),
  **D4.floor** [exact], **D4.smoothed** (SGD on :math:`f_\\gamma`) [derived].
* **D5a** normalized SAM, independent ascent batch [derived], **D5a.witness** [exact];
  **D5b** standard (same-batch) SAM, :math:`\\eta\\le\\frac1{4L}` [derived].

Bounded quantity (THEORY.md §3): the *average gradient norm* :math:`\\frac1T\\sum_{t<T}\\mathbb E\\|\\nabla f(x_t)\\|^2`
at the base points :math:`x_t`, not at the extrapolated points. Parameter names, shared by all
D-bounds: ``eta, gamma, rho, L, Delta, T, sigma2, b, K, d, sigma_Z2`` (plus ``delta2``, the average
:math:`\\mathbb E\\|\\delta_t\\|^2`, in D0/D0-K, and ``Delta_gamma`` in D4.smoothed).

The entries live in three modules, split by idea; this module assembles them in THEORY.md order for
the catalog (:data:`proofs.catalog.MODULES`):

* :mod:`proofs.catalog.d_master`: the shared parameters and helpers, D0 and D0-K;
* :mod:`proofs.catalog.d_extragradient`: D1, D1.floor, D1-K, D1-K.cor, D2, D2.cor, D3;
* :mod:`proofs.catalog.d_noise_sam`: D4, D4.ball, D4-K, D4.floor, D4.smoothed, D5a, D5a.witness, D5b.
"""

from __future__ import annotations

from ..engine import Theorem
from . import d_extragradient, d_master, d_noise_sam

PARTS = (d_master, d_extragradient, d_noise_sam)


def theorems() -> list[Theorem]:
    return [th for part in PARTS for th in part.theorems()]


def mutations() -> dict[str, Theorem]:
    return {name: th for part in PARTS for name, th in part.mutations().items()}
