"""A smooth two-basin objective, one sharp and one flat minimum, with state-dependent sampling noise.

Profile along :math:`s=x_1`: two Gaussian wells, each with a one-sided quadratic wall behind it,

.. math:: \\phi(t)=\\sum_{j\\in\\{s,f\\}}-h_j\\,e^{-k_j(t-c_j)^2/(2h_j)}
          +\\varepsilon\\big[q\\big(c_s-t;\\tfrac{w_s}2\\big)+q\\big(t-c_f;\\tfrac{w_f}2\\big)\\big],\\qquad
          q(u;w)=\\tfrac12u^2\\,\\Phi(u/w),

with :math:`c_s=-D/2`, :math:`c_f=+D/2`, widths :math:`w_j=\\sqrt{h_j/k_j}` and :math:`\\Phi` the standard
normal CDF. The well at :math:`c_j` has curvature :math:`k_j` and depth :math:`h_j`. The walls
(``confinement`` :math:`\\varepsilon`) make :math:`f` coercive, with :math:`\\phi''\\to\\varepsilon` at
:math:`\\pm\\infty`; each vanishes to second order at its own well (:math:`q(0)=q'(0)=0`,
:math:`q''(0)=\\tfrac12`) and decays into the gap faster than that well's Gaussian. So, unlike a
confinement :math:`\\tfrac\\varepsilon2t^2` (whose own minimum at 0 becomes a third minimum between
far-apart wells), the walls add no minimum and favour neither well. For wells far apart and no shifts,
the minima are exactly at :math:`c_j`, of value :math:`-h_j` and curvature :math:`k_j+\\varepsilon/2`.

Finite sum of :math:`n` shifted copies, shifts :math:`a_i` (scalars) and :math:`e_i\\in\\mathbb R^{d-1}`,
:math:`\\sum_ia_i=0`, :math:`\\sum_ie_i=0`, every coordinate of rms ``spread`` (seeded):

.. math:: f_i(x)=\\phi(s-a_i)+\\tfrac c2\\|x_{2:}-e_i\\|^2,\\qquad
          f(x)=\\psi(s)+\\tfrac c2\\|x_{2:}\\|^2+\\tfrac c{2n}\\sum_i\\|e_i\\|^2,\\qquad
          \\psi(s)=\\frac1n\\sum_i\\phi(s-a_i).

Averaging over the shifts smooths the profile; the per-sample noise at a minimum is about curvature
times ``spread``, so it is larger in the sharp basin and batch size matters as in training.

Constants (construction, float64 numpy): every 1-D search is a grid of spacing :math:`w_j/50` around
each shifted well (:math:`\\max_jw_j/50` elsewhere) reaching 12 widths beyond the outermost well, then
safeguarded Newton with analytic derivatives (:mod:`problems._roots`); beyond that range the walls fix
the signs of :math:`\\psi'` and :math:`\\psi^{(3)}`.

* **minima** [numerical, to round-off]: the roots of :math:`\\psi'`; there must be exactly two minima
  and one maximum between them, else :class:`ParameterError` (the wells merge when too close, the shifts
  split a well when ``spread`` is not small against its width, walls as stiff as the wells deform them).
  Hessian :math:`\\mathrm{diag}(\\psi''(s^\\star),c,\\dots,c)`. Ordered ``(sharp, flat)`` by
  :math:`\\psi''(s^\\star)` (``sharp_index = 0``, ``flat_index = 1``); with strong smoothing the well built
  as "sharp" may come out flatter: the labels follow :math:`\\psi''` (equal curvatures: arbitrary).
* :math:`f^\\star` = the smaller minimum value (:math:`f` is coercive for :math:`\\varepsilon>0`; for
  :math:`\\varepsilon=0` it tends to a larger value at infinity).
* :math:`L=\\max(\\sup_s|\\psi''(s)|,c)` [exact: attained, or the limit :math:`\\varepsilon`]: the Hessian is
  diagonal; the sup is over the roots of :math:`\\psi^{(3)}`, the ends of the range and :math:`\\varepsilon`.
  ``mu = nan``.
* ``sigma2`` [global bound, the supremum, numerical to round-off]:
  :math:`\\sup_x\\frac1n\\sum_i\\|\\nabla f_i(x)-\\nabla f(x)\\|^2=\\sup_s\\mathrm{Var}_i\\,\\phi'(s-a_i)
  +\\frac{c^2}n\\sum_i\\|e_i-\\bar e\\|^2` (the first term tends to :math:`\\varepsilon^2\\overline{a^2}` at
  infinity); the state-dependent value is :meth:`~problems.FiniteSum.sigma2_at`.
* **basins** [exact]: gradient flow moves :math:`s` by :math:`\\psi'(s)` alone, so the basin is the side of
  the local maximum ``ridge`` of :math:`\\psi` between the minima (:math:`s<` ridge: the left minimum,
  :math:`s\\ge` ridge: the right one). GD with a step :math:`<1/L` respects it too, since
  :math:`s\\mapsto s-\\eta\\psi'(s)` is then increasing and fixes the ridge.
* :math:`x_0=(\\text{ridge}+\\text{offset},0,\\dots,0)`: with ``offset = 0`` the start is the ridge, a critical
  point where only noise decides the basin (deterministic GD stays there).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._base import Array, Minimum, masked_mean, pytree_dataclass
from ._finite_sum import FiniteSum
from ._registry import register
from ._roots import grid_maximum
from ._two_basin_profile import _avg, _critical, _grid, _impose, _phi, _standardized, _why_not_two
from ._validate import ParameterError, check_int, check_real


@pytree_dataclass
class TwoBasin(FiniteSum):
    """Two Gaussian wells along :math:`x_1` (one sharp, one flat), quadratic in the other coordinates.

    Attributes (beyond :class:`Problem`):
        centers, curvatures, depths: :math:`(c_s,c_f)`, :math:`(k_s,k_f)`, :math:`(h_s,h_f)` of the wells.
        confinement: :math:`\\varepsilon`, the curvature of the walls.
        c: curvature of the other coordinates.
        shifts: :math:`a_i`, ``(n,)``; offsets: :math:`e_i`, ``(n, dim-1)``.
        const: :math:`\\frac c{2n}\\sum_i\\|e_i\\|^2`.
        ridge: the local maximum of :math:`\\psi` between the wells (the basin boundary).
        left_index: index into ``minima`` of the minimum with the smaller :math:`s`.
    """

    centers: Array
    curvatures: Array
    depths: Array
    confinement: Array
    c: Array
    shifts: Array
    offsets: Array
    const: Array
    ridge: Array
    left_index: Array

    sharp_index = 0
    flat_index = 1

    def _d(self, t: Array, order: int) -> Array:
        return _phi(jnp, t, order, self.centers, self.curvatures, self.depths, self.confinement)

    def value(self, x: Array) -> Array:
        rest = x[1:]
        return jnp.mean(self._d(x[0] - self.shifts, 0)) + 0.5 * self.c * (rest @ rest) + self.const

    def grad(self, x: Array) -> Array:
        g1 = jnp.mean(self._d(x[0] - self.shifts, 1))
        return jnp.concatenate([g1[None], self.c * x[1:]])

    def hessian(self, x: Array) -> Array:
        h1 = jnp.mean(self._d(x[0] - self.shifts, 2))
        return jnp.diag(jnp.concatenate([h1[None], jnp.full((self.dim - 1,), self.c, dtype=x.dtype)]))

    def component_value(self, x: Array, i: Array) -> Array:
        """:math:`f_i(x)`."""
        r = x[1:] - jnp.asarray(self.offsets)[i]
        return self._d(x[0] - jnp.asarray(self.shifts)[i], 0) + 0.5 * self.c * (r @ r)

    def sample_grad(self, x: Array, xi_i: Array) -> Array:
        g1 = self._d(x[0] - jnp.asarray(self.shifts)[xi_i], 1)
        return jnp.concatenate([g1[None], self.c * (x[1:] - jnp.asarray(self.offsets)[xi_i])])

    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        g1 = masked_mean(self._d(x[0] - jnp.asarray(self.shifts)[xi], 1), mask)
        e = masked_mean(jnp.asarray(self.offsets)[xi], mask)
        return jnp.concatenate([g1[None], self.c * (x[1:] - e)])

    def basin(self, x: Array) -> Array:
        left = jnp.asarray(self.left_index, jnp.int32)
        return jnp.where(x[0] < self.ridge, left, 1 - left)


@register("two-basin")
def two_basin(dim: int = 2, sharp_curvature: float | None = None, flat_curvature: float | None = None,
              sharp_depth: float = 1.0, flat_depth: float = 1.0, separation: float = 3.0, confinement: float = 0.01,
              c: float = 1.0, n: int = 64, spread: float = 0.1, offset: float = 0.0, seed: int = 0,
              sharp_well_curvature: float | None = None, flat_well_curvature: float | None = None) -> TwoBasin:
    """Two Gaussian wells (sharp and flat) with shifted copies as samples: basin choice under noise.

    Wells of curvature :math:`k_s, k_f` (``sharp_well_curvature``, ``flat_well_curvature``; default 20 and 1) and
    depth ``sharp_depth`` / ``flat_depth`` at :math:`\\mp` ``separation``/2 along :math:`x_1`, quadratic walls of
    curvature ``confinement`` behind them, :math:`\\frac c2\\|x_{2:}\\|^2` in the other coordinates; ``n``
    samples shifted by rms ``spread``; start on the ridge between the wells plus ``offset``. Averaging the shifted
    copies smooths the wells, so a minimum's curvature :math:`\\psi''(s^\\star)` is below its well's (k_s = 40
    gives 23.4). ``sharp_curvature`` / ``flat_curvature`` ask for the minimum's curvature itself: the well
    curvature that gives it is solved for (Brent's method, to round-off), and a value no well curvature reaches
    is refused with the largest one that can be had.

    Args:
        dim: dimension d, in [1, 4096].
        sharp_curvature: curvature psi'' along x_1 at the sharp minimum (its lambda_max when at least c), in
            (0, 1e8]; solved for (default: not imposed). Not with sharp_well_curvature.
        flat_curvature: curvature psi'' along x_1 at the flat minimum, in (0, 1e8]; solved for (default: not
            imposed). Not with flat_well_curvature.
        sharp_depth: depth of the sharp well, in (0, 1e8].
        flat_depth: depth of the flat well, in (0, 1e8].
        separation: distance between the wells along x_1, in (0, 1e6].
        confinement: curvature of the quadratic walls behind the wells, in [0, 1e8].
        c: curvature in the other coordinates, in (0, 1e8].
        n: number of shifted samples, in [1, 1e5].
        spread: rms shift of the samples, in [0, 1e6].
        offset: shift of the whole landscape along x_1.
        seed: seed of the shifts, in [0, 2^63 - 1].
        sharp_well_curvature: curvature k_s of the sharp Gaussian well before smoothing, in (0, 1e8] (default 20).
        flat_well_curvature: curvature k_f of the flat Gaussian well before smoothing, in (0, 1e8] (default 1).

    Example:
        >>> import problems
        >>> p = problems.make("two-basin")
        >>> [m.label for m in p.minima], p.n
        (['sharp', 'flat'], 64)
    """
    dim = check_int("dim", dim, lo=1, hi=4096)
    targets = {}
    for name, well, value, default in (("sharp_curvature", "sharp_well_curvature", sharp_well_curvature, 20.0),
                                       ("flat_curvature", "flat_well_curvature", flat_well_curvature, 1.0)):
        target = locals()[name]
        if target is not None and value is not None:
            raise ParameterError(f"give {name} (the minimum's curvature) or {well} (the well's), not both")
        if target is not None:
            targets[name] = check_real(name, target, lo=0.0, hi=1e8, lo_open=True)
        targets[well] = check_real(well, default if value is None else value, lo=0.0, hi=1e8, lo_open=True)
    ks, kf = targets["sharp_well_curvature"], targets["flat_well_curvature"]
    hs = check_real("sharp_depth", sharp_depth, lo=0.0, hi=1e8, lo_open=True)
    hf = check_real("flat_depth", flat_depth, lo=0.0, hi=1e8, lo_open=True)
    sep = check_real("separation", separation, lo=0.0, hi=1e6, lo_open=True)
    eps = check_real("confinement", confinement, lo=0.0, hi=1e8)
    c = check_real("c", c, lo=0.0, hi=1e8, lo_open=True)
    n = check_int("n", n, lo=1, hi=10**5)
    spread = check_real("spread", spread, lo=0.0, hi=1e6)
    offset = check_real("offset", offset)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)

    rng = np.random.default_rng(seed)
    a = spread * _standardized(rng, (n, 1))[:, 0]
    e = spread * _standardized(rng, (n, dim - 1))
    centers, curv, depth = np.array([-sep / 2, sep / 2]), np.array([ks, kf]), np.array([hs, hf])
    imposed = [(j, name) for j, name in enumerate(("sharp_curvature", "flat_curvature")) if name in targets]
    if imposed:
        _impose(imposed, targets, a, centers, curv, depth, eps)
    ks, kf = float(curv[0]), float(curv[1])
    grid = _grid(centers, np.sqrt(depth / curv), a, f"separation ({sep:g}) and spread ({spread:g}) are")
    dpsi, mins, maxs = _critical(a, centers, curv, depth, eps, grid)
    if mins.size != 2 or maxs.size != 1 or not mins[0] < maxs[0] < mins[1]:
        raise ParameterError(_why_not_two(mins, maxs, centers, curv, depth, eps, sep, spread))
    ridge = float(maxs[0])
    order = sorted(range(2), key=lambda j: -float(dpsi[2](mins[j])))  # sharp (larger psi'') first
    s_min = mins[order]
    const = 0.5 * c * float(np.mean(np.sum(e * e, axis=1))) if dim > 1 else 0.0
    vals = dpsi[0](s_min) + const
    minima = []
    for j, label in enumerate(("sharp", "flat")):
        x = np.zeros(dim)
        x[0] = s_min[j]
        hess = np.diag(np.concatenate([[float(dpsi[2](s_min[j]))], np.full(dim - 1, c)]))
        minima.append(Minimum(x=x, hessian=hess, value=np.float64(vals[j]), label=label))

    _, top = grid_maximum(dpsi[2], dpsi[3], dpsi[4], grid)
    _, bottom = grid_maximum(lambda s: -dpsi[2](s), lambda s: -dpsi[3](s), lambda s: -dpsi[4](s), grid)
    L = max(top, -bottom, eps, c)

    def dev(t: np.ndarray, k: int) -> np.ndarray:  # phi^(k)(s - a_i) minus its mean over i
        d = _phi(np, t, k, centers, curv, depth, eps)
        return d - d.mean(axis=1, keepdims=True)

    var = _avg(a, lambda t: dev(t, 1) ** 2)
    dvar = _avg(a, lambda t: 2 * dev(t, 1) * dev(t, 2))
    ddvar = _avg(a, lambda t: 2 * (dev(t, 2) ** 2 + dev(t, 1) * dev(t, 3)))
    _, vmax = grid_maximum(var, dvar, ddvar, grid)
    ebar = e - e.mean(axis=0, keepdims=True)
    sigma2 = max(vmax, eps**2 * float(np.mean(a * a))) + c**2 * float(np.mean(np.sum(ebar * ebar, axis=1)))

    x0 = np.zeros(dim)
    x0[0] = ridge + offset
    return TwoBasin(
        x0=x0, L=np.float64(L), mu=np.float64(np.nan), f_star=np.float64(min(vals)), sigma2=np.float64(sigma2),
        minima=tuple(minima), name="two-basin", dim=dim, n=n,
        centers=centers, curvatures=curv, depths=depth, confinement=np.float64(eps), c=np.float64(c),
        shifts=a, offsets=e, const=np.float64(const), ridge=np.float64(ridge),
        left_index=np.int32(0 if s_min[0] < s_min[1] else 1),
    )
