"""A smooth separable nonconvex family: :math:`f(x)=\\tfrac a2\\|x\\|^2+b\\sum_i\\cos(\\omega x_i)`.

:math:`f(x)=\\sum_i\\phi(x_i)`, :math:`\\phi(s)=\\tfrac a2s^2+b\\cos(\\omega s)`, :math:`a>0`;
:math:`\\phi''(s)=a-b\\omega^2\\cos(\\omega s)`, so

* :math:`L=\\sup|\\phi''|=a+|b|\\omega^2` [exact]: attained where :math:`b\\cos(\\omega s)=-|b|`, i.e. at
  :math:`s=\\pi/\\omega` if :math:`b>0` (at :math:`s=0`, :math:`\\phi''(0)=a-b\\omega^2`) and at :math:`s=0` if
  :math:`b<0`, in every coordinate; the other extreme is :math:`a-|b|\\omega^2`, of smaller modulus.
  The sharpness dial is :math:`\\omega`. :math:`\\mu=\\inf\\phi''=a-|b|\\omega^2` when that is
  positive (then :math:`f` is strongly convex with one minimum), else ``nan``.
* **1-D minima** [numerical, to round-off]: the critical points satisfy :math:`as=b\\omega\\sin(\\omega s)`,
  so :math:`|s|\\le|b|\\omega/a`; they are the roots of :math:`\\phi'(s)/s` on a grid of spacing
  :math:`2\\pi/(200\\omega)` over :math:`[0,|b|\\omega/a]`, refined by safeguarded Newton and mirrored
  (:math:`\\phi` is even; :math:`s=0` is always critical, a minimum iff :math:`a\\ge b\\omega^2`, degenerate
  when equal). The minima :math:`s_1<\\dots<s_m` alternate with the maxima :math:`r_1<\\dots<r_{m-1}`.
* **minima of f** [exact products]: all :math:`m^d` points :math:`(s_{k_1},\\dots,s_{k_d})`, enumerated in
  lexicographic order of :math:`(k_1,\\dots,k_d)` (index :math:`\\sum_jk_jm^{d-1-j}`), with Hessian
  :math:`\\mathrm{diag}(\\phi''(s_{k_j}))`, while :math:`m^d\\le4096`; beyond that (any d up to 4096: L, mu,
  f_star and sigma2 stay exact, being separable) only the :math:`m` *diagonal* minima
  :math:`(s_k,\\dots,s_k)` are listed, and a point flowing to a mixed product minimum has basin -1 (said in
  :attr:`notes`). Label: ``"flat"`` iff every coordinate sits at a 1-D minimum of the smallest curvature
  (relative tolerance 1e-9), else ``"sharp"``.
* :math:`f^\\star=d\\min_k\\phi(s_k)` [exact to round-off].
* **basins** [exact]: gradient flow is separable, and coordinate :math:`j` converges to :math:`s_k` iff
  :math:`x_j\\in(r_{k-1},r_k)` (:math:`r_0=-\\infty`, :math:`r_m=\\infty`; a point exactly on :math:`r_k` is
  assigned to :math:`s_k`); :meth:`basin` maps the per-coordinate indices to the product index.
  :meth:`distance_to_minimum` is exact per coordinate: :math:`\\sqrt{\\sum_j\\min_k(x_j-s_k)^2}`.

Oracle: additive Gaussian noise :math:`g=\\nabla f(x)+\\epsilon`, :math:`\\epsilon\\sim N(0,\\nu^2I)`
(``noise`` :math:`=\\nu`), so ``sigma2`` :math:`=\\nu^2d` exactly at every point (global, attained).
Start: :math:`x_0=` ``start`` :math:`\\cdot\\mathbf 1`.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from ._base import Array, IsotropicNoise, Minimum, pytree_dataclass
from ._registry import register
from ._roots import grid_roots
from ._validate import ParameterError, check_int, check_real

MAX_MINIMA = 4096


@pytree_dataclass
class Cosine(IsotropicNoise):
    """:math:`\\tfrac a2\\|x\\|^2+b\\sum_i\\cos(\\omega x_i)` with additive Gaussian gradient noise.

    Attributes (beyond :class:`Problem`):
        a, b, omega: the parameters.
        noise: per-coordinate noise std :math:`\\nu`.
        mins_1d: the 1-D local minima :math:`s_1<\\dots<s_m`.
        curv_1d: :math:`\\phi''(s_k)`.
        maxs_1d: the 1-D local maxima :math:`r_1<\\dots<r_{m-1}` (the basin boundaries).
    """

    a: Array
    b: Array
    omega: Array
    noise: Array
    mins_1d: Array
    curv_1d: Array
    maxs_1d: Array

    def value(self, x: Array) -> Array:
        return 0.5 * self.a * (x @ x) + self.b * jnp.sum(jnp.cos(self.omega * x))

    def grad(self, x: Array) -> Array:
        return self.a * x - self.b * self.omega * jnp.sin(self.omega * x)

    def hessian(self, x: Array) -> Array:
        return jnp.diag(self.a - self.b * self.omega**2 * jnp.cos(self.omega * x))

    def coordinate_basins(self, x: Array) -> Array:
        """Index :math:`k_j` of the 1-D minimum each coordinate flows to, shape ``(dim,)``."""
        return jnp.searchsorted(self.maxs_1d, x, side="left").astype(jnp.int32)

    def basin(self, x: Array) -> Array:
        """The product index :math:`\\sum_jk_jm^{d-1-j}` of the minimum ``x`` flows to; with only the diagonal
        minima listed (:math:`m^d>4096`), :math:`k` when every coordinate flows to :math:`s_k`, else -1."""
        m, k = self.mins_1d.shape[0], self.coordinate_basins(x)
        if not self.all_listed:
            return jnp.where(jnp.all(k == k[0]), k[0], -1).astype(jnp.int32)
        weights = m ** np.arange(self.dim - 1, -1, -1)
        return jnp.sum(k * jnp.asarray(weights, jnp.int32)).astype(jnp.int32)

    @property
    def all_listed(self) -> bool:
        """Whether :attr:`minima` holds every product minimum (:math:`m^d\\le4096`), not only the diagonal ones."""
        return len(self.minima) == self.mins_1d.shape[0] ** self.dim

    @property
    def notes(self) -> tuple[str, ...]:
        if self.all_listed:
            return ()
        m = self.mins_1d.shape[0]
        return (f"minima: the {m} diagonal ones (s_k, ..., s_k) of the {m}^{self.dim} product minima (more than "
                f"{MAX_MINIMA}: not enumerated); a run ending at a mixed product minimum has basin -1",)

    def distance_to_minimum(self, x: Array) -> Array:
        d2 = (x[:, None] - self.mins_1d[None, :]) ** 2
        return jnp.sqrt(jnp.sum(jnp.min(d2, axis=1)))


def _one_minus_sinc(t: np.ndarray, order: int) -> np.ndarray:
    """:math:`h(t)=1-\\sin t/t` (``order`` 0) or :math:`h'(t)`, free of cancellation (Taylor series near 0)."""
    t = np.asarray(t, dtype=np.float64)
    small = np.abs(t) < 0.1
    ts = np.where(small, 1.0, t)
    t2 = t * t
    if order == 0:
        series = t2 * (1 / 6 - t2 * (1 / 120 - t2 * (1 / 5040 - t2 * (1 / 362880 - t2 / 39916800))))
        return np.where(small, series, 1.0 - np.sin(ts) / ts)
    series = t * (1 / 3 - t2 * (1 / 30 - t2 * (1 / 840 - t2 * (1 / 45360 - t2 / 3991680))))
    return np.where(small, series, (np.sin(ts) - ts * np.cos(ts)) / ts**2)


def _critical_points_1d(a: float, b: float, omega: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted 1-D local minima and maxima of :math:`\\phi` (see the module docstring).

    The positive critical points are the roots of :math:`\\phi'(s)/s=a-b\\omega^2\\,\\sin(\\omega s)/(\\omega s)`,
    which is smooth at 0, so roots arbitrarily close to 0 are bracketed too. :math:`s=0` is a minimum
    if :math:`\\phi''(0)=a-b\\omega^2\\ge0` (when it is 0, :math:`\\phi=b+b\\omega^4s^4/24+O(s^6)`, a
    degenerate minimum) and a maximum otherwise.
    """
    c0 = a - b * omega**2  # phi''(0); phi'(s)/s = c0 + b w^2 h(w s), evaluated without cancellation
    ratio = lambda s: c0 + b * omega**2 * _one_minus_sinc(omega * s, 0)  # noqa: E731
    dratio = lambda s: b * omega**3 * _one_minus_sinc(omega * s, 1)  # noqa: E731
    d2 = lambda s: a - b * omega**2 * np.cos(omega * s)  # noqa: E731
    radius = abs(b) * omega / a
    step = 2 * np.pi / (200 * omega)
    count = int(np.ceil(radius / step)) + 2
    if count > 4 * 10**6:
        raise ParameterError(f"|b|*omega**2/a = {abs(b) * omega**2 / a:g} gives too many 1-D critical points; "
                             f"the number of minima must be at most {MAX_MINIMA}")
    pos = grid_roots(ratio, dratio, np.linspace(0.0, count * step, count + 1))
    pos = pos[pos > 0]
    curv = d2(pos)
    zero_is_min = c0 >= 0
    mins = np.concatenate([-pos[curv > 0][::-1], [0.0] if zero_is_min else [], pos[curv > 0]])
    maxs = np.concatenate([-pos[curv < 0][::-1], [] if zero_is_min else [0.0], pos[curv < 0]])
    return mins, maxs


@register("cosine")
def cosine(dim: int = 2, a: float = 1.0, b: float = 1.0, omega: float = 3.0, noise: float = 0.1,
           start: float = 1.5) -> Cosine:
    """Separable nonconvex a/2 |x|^2 + b sum cos(omega x_i): many minima, L = a + |b| omega^2.

    Sharpness dial ``omega``; additive Gaussian noise of std ``noise`` per coordinate; start
    ``start * ones(dim)``. The product minima are enumerated while ``m**dim <= 4096``; beyond, only the
    ``m`` diagonal ones are listed.

    Args:
        dim: dimension d, in [1, 4096] (beyond m**dim = 4096 product minima, only the diagonal ones are listed).
        a: curvature of the quadratic part, in (0, 1e8].
        b: amplitude of the cosine, in [-1e8, 1e8].
        omega: frequency, the sharpness dial, in (0, 1e8].
        noise: std of the additive Gaussian noise per coordinate, in [0, 1e150].
        start: x0 = start * ones(dim).

    Example:
        >>> import problems
        >>> p = problems.make("cosine")
        >>> float(p.L), len(p.minima)
        (10.0, 16)
    """
    dim = check_int("dim", dim, lo=1, hi=4096)
    a = check_real("a", a, lo=0.0, hi=1e8, lo_open=True)
    b = check_real("b", b, lo=-1e8, hi=1e8)
    omega = check_real("omega", omega, lo=0.0, hi=1e8, lo_open=True)
    noise = check_real("noise", noise, lo=0.0, hi=1e150)
    start = check_real("start", start)

    mins, maxs = _critical_points_1d(a, b, omega)
    m = mins.size
    if m > MAX_MINIMA:
        raise ParameterError(f"|b|*omega**2/a = {abs(b) * omega**2 / a:g} gives {m} 1-D minima, more than "
                             f"{MAX_MINIMA}; decrease b or omega, or increase a")
    phi = 0.5 * a * mins**2 + b * np.cos(omega * mins)
    curv = a - b * omega**2 * np.cos(omega * mins)
    flat_1d = curv <= curv.min() * (1 + 1e-9)
    minima = []
    listed = itertools.product(range(m), repeat=dim) if m**dim <= MAX_MINIMA else ((k,) * dim for k in range(m))
    for ks in listed:
        k = np.array(ks)
        label = "flat" if bool(np.all(flat_1d[k])) else "sharp"
        minima.append(Minimum(x=mins[k], hessian=np.diag(curv[k]), value=np.float64(np.sum(phi[k])), label=label))
    mu = a - abs(b) * omega**2 if a > abs(b) * omega**2 else np.nan
    return Cosine(
        x0=np.full(dim, start), L=np.float64(a + abs(b) * omega**2), mu=np.float64(mu),
        f_star=np.float64(dim * phi.min()), sigma2=np.float64(noise**2 * dim), minima=tuple(minima),
        name="cosine", dim=dim, n=None, a=np.float64(a), b=np.float64(b), omega=np.float64(omega),
        noise=np.float64(noise), mins_1d=mins, curv_1d=curv, maxs_1d=maxs,
    )
