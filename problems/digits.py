"""Handwritten digits: a small smooth MLP on scikit-learn's bundled 8x8 images, a real finite sum.

**Data.** ``sklearn.datasets.load_digits()``: 1,797 images of :math:`8\\times8` pixels with values 0..16 and labels
0..9 (a copy of the UCI optical-recognition test set [AK98], bundled with scikit-learn: nothing is downloaded).
Pixels are divided by 16 (into :math:`[0,1]`) and flattened to :math:`a_i\\in[0,1]^{64}`. The split is fixed:
``sklearn.model_selection.train_test_split(..., test_size=test_fraction, stratify=labels, random_state=0)``, so
every instance with the same ``test_fraction`` has the same train set (:math:`n=1437` for the default 0.2) and test
set (360 images), each class in proportion. The finite sum is over the train set; the test set is only measured.

**Network and loss.** Parameters :math:`\\theta=\\{W_1\\in\\mathbb R^{64\\times H},b_1\\in\\mathbb R^H,
W_2\\in\\mathbb R^{H\\times10},b_2\\in\\mathbb R^{10}\\}` (the pytree ``{"w1", "b1", "w2", "b2"}``; :math:`x` its
flat vector of :math:`d=75H+10` coordinates, :meth:`Digits.unravel` gives the tree back), and

.. math:: z(\\theta;a)=W_2^\\top\\phi(W_1^\\top a+b_1)+b_2,\\qquad
          f_i(x)=\\log\\sum_{c=0}^{9}e^{z_c(\\theta;a_i)}-z_{y_i}(\\theta;a_i)+\\frac\\lambda2\\|x\\|^2,\\qquad
          f=\\frac1n\\sum_{i=1}^nf_i,

softmax cross-entropy plus weight decay :math:`\\lambda` (``weight_decay``, on every coordinate, biases too) inside
every :math:`f_i`, so :math:`f` stays an exact finite sum and batches are drawn without replacement like the other
finite sums. :math:`\\phi` is ``tanh`` or ``softplus`` :math:`\\log(1+e^s)`, both :math:`C^\\infty`: the theory's
assumptions (an :math:`L`-Lipschitz gradient, Hessians and their top eigenvalue as sharpness) need a twice
differentiable :math:`f`; with ReLU the gradient jumps across the kinks and the Hessian is zero almost everywhere,
so neither :math:`L` nor Hessian-vector sharpness would mean anything. Start :math:`x_0`: LeCun normal
initialization [LBOM98], :math:`W_1\\sim N(0,\\frac1{64})`, :math:`W_2\\sim N(0,\\frac1H)` entrywise (drawn in
that order by ``numpy.random.default_rng(seed)``), biases 0.

**Constants** (none is exact; :attr:`~problems.Problem.sources` and :attr:`~problems.Problem.notes` say so):

* ``L`` [estimated]: no global smoothness constant exists (at :math:`W_1=0`, :math:`b_1=0` with logits made
  equal by :math:`b_2`, the curvature along :math:`W_1` grows like :math:`\\|W_2\\|^2`, without bound).
  Reported: :math:`\\max|\\lambda(\\nabla^2f)|` at :math:`x_0` and at ``estimate_points - 1`` further
  initializations (the generator's next draws), by Lanczos (ARPACK) on Hessian-vector products: the curvature
  where runs start, a lower bound on :math:`\\sup\\|\\nabla^2f\\|` over any region holding these points;
* ``sigma2`` [estimated]: :math:`\\max\\frac1n\\sum_i\\|\\nabla f_i-\\nabla f\\|^2` at the same points (exact there,
  :meth:`~problems.FiniteSum.sigma2_at`), again a lower bound on a global variance bound;
* ``f_star`` [estimated]: 0, a lower bound on :math:`\\inf f` (cross-entropy and weight decay are
  nonnegative); it is :math:`\\inf f` (not attained) when :math:`\\lambda=0` and the network can fit every
  training label (then scaling the last layer up drives the loss to 0), else below it;
* ``mu`` unknown; ``minima=()``, none listed: with :math:`\\lambda=0` and a network that fits every training label
  there is no minimizer at all (the infimum 0 is approached as the last layer grows); otherwise minimizers come
  in symmetric families (the :math:`H!` permutations of hidden units, and sign flips of tanh units) and searching
  them with dense Hessians at :math:`d\\approx2400` is beyond the few seconds a build may take. ``dist`` is NaN and
  ``basin`` -1 in runs.

**Generalization.** :meth:`Digits.extra_metrics` gives test loss, test accuracy and train accuracy at a flat
:math:`x` (``xtrap.run`` records them beside ``loss``). For a user's own loop on the pytree, the fields ``images``,
``labels``, ``test_images``, ``test_labels`` hold the data and :meth:`Digits.logits`,
:meth:`Digits.per_sample_loss`, :meth:`Digits.batch_loss`, :meth:`Digits.accuracy` the network:

>>> import jax, optax, problems
>>> p = problems.make("digits")
>>> params, opt = p.unravel(p.x0), optax.sgd(0.5, momentum=0.9, nesterov=True)
>>> state = opt.init(params)
>>> @jax.jit
... def step(params, state, key):
...     i = p.sample(key, 64)                      # 64 indices without replacement
...     g = jax.grad(p.batch_loss)(params, p.images[i], p.labels[i])
...     updates, state = opt.update(g, state, params)
...     return optax.apply_updates(params, updates), state
>>> for t in range(300):
...     params, state = step(params, state, jax.random.key(t))
>>> float(p.accuracy(params, p.test_images, p.test_labels)) > 0.9
True

References:
    [AK98] E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine Learning Repository,
    1998. [LBOM98] Y. LeCun, L. Bottou, G. Orr, K.-R. Mueller, "Efficient BackProp", Neural Networks: Tricks of
    the Trade, 1998. [LKSJ20] T. Lin, L. Kong, S. Stich, M. Jaggi, "Extrapolation for Large-batch Training in Deep
    Learning", ICML 2020 (its experiments train networks on image data; this is the smallest such setting).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Array, pytree_dataclass, static_field
from ._finite_sum import FiniteSum
from ._flat import Unravel, flatten
from ._registry import register
from ._search import largest_curvature
from ._validate import check_choice, check_int, check_real
from .user import _Labelled

ACTIVATIONS = {"tanh": jnp.tanh, "softplus": jax.nn.softplus}
CLASSES = 10
PIXELS = 64
SPLIT_SEED = 0  # random_state of the stratified split: fixed, not a parameter


def _compiled(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method(self, *args)`` as one compiled program per instance structure (``self`` is a pytree argument): an
    eager call costs one compilation instead of one per operation (seconds for a gradient); under an outer
    ``jit``/``grad``/``vmap`` it is inlined like any function."""
    compiled = jax.jit(method)

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return compiled(self, *args, **kwargs)

    return call


@pytree_dataclass
class Digits(_Labelled, FiniteSum):
    """An MLP classifier of the digits images: :math:`f=\\frac1n\\sum_i f_i`, :math:`f_i` the softmax
    cross-entropy of train image :math:`i` plus :math:`\\frac\\lambda2\\|x\\|^2` (module docstring).

    Attributes (beyond :class:`~problems.Problem`):
        images, labels: the train set, ``(n, 64)`` pixels in [0, 1] and ``(n,)`` int labels 0..9.
        test_images, test_labels: the test set, likewise.
        weight_decay: :math:`\\lambda\\ge0`.
        activation: ``"tanh"`` or ``"softplus"`` (static).
        unravel: flat vector -> ``{"w1", "b1", "w2", "b2"}`` (static, an :class:`~problems.user.Unravel`).
        provenance, estimates: ``(constant, source)`` pairs and how each was estimated (static; read
            :attr:`sources` and :attr:`notes`).

    Every method is compiled as one program (an eager call compiles once, not once per operation).

    >>> import problems
    >>> p = problems.make("digits", hidden=4, estimate_points=1)
    >>> p.per_sample_loss(p.unravel(p.x0), p.images[:3], p.labels[:3]).shape
    (3,)
    >>> sorted(p.extra_metrics(p.x0))
    ['test_accuracy', 'test_loss', 'train_accuracy']
    """

    images: Array
    labels: Array
    test_images: Array
    test_labels: Array
    weight_decay: Array
    activation: str = static_field()
    unravel: Unravel = static_field()
    provenance: tuple[tuple[str, str], ...] = static_field()
    estimates: tuple[str, ...] = static_field(default=())

    # ---- the network on the parameter pytree (for a user's own loop) -------------------------------------------
    @_compiled
    def logits(self, params: dict[str, Array], images: Array) -> Array:
        """:math:`z(\\theta;a)=W_2^\\top\\phi(W_1^\\top a+b_1)+b_2` for each row :math:`a` of ``images``.

        Args:
            params: the pytree ``{"w1": (64, H), "b1": (H,), "w2": (H, 10), "b2": (10,)}``.
            images: ``(m, 64)`` pixels.

        Returns:
            ``(m, 10)`` logits.
        """
        h = ACTIVATIONS[self.activation](images @ params["w1"] + params["b1"][None, :])
        return h @ params["w2"] + params["b2"][None, :]

    def _cross_entropy(self, params: dict[str, Array], images: Array, labels: Array) -> Array:
        z = self.logits(params, images)
        return jax.nn.logsumexp(z, axis=-1) - jnp.take_along_axis(z, labels[:, None], axis=-1)[:, 0]

    def _decay(self, params: dict[str, Array]) -> Array:
        return 0.5 * self.weight_decay * sum(jnp.sum(w * w) for w in jax.tree_util.tree_leaves(params))

    @_compiled
    def per_sample_loss(self, params: dict[str, Array], images: Array, labels: Array) -> Array:
        """:math:`f_i=\\log\\sum_ce^{z_c}-z_{y_i}+\\frac\\lambda2\\|\\theta\\|^2` for each row, shape ``(m,)``.

        Args:
            params: the parameter pytree (see :meth:`logits`).
            images: ``(m, 64)`` pixels; labels: ``(m,)`` ints in 0..9.
        """
        return self._cross_entropy(params, images, labels) + self._decay(params)

    @_compiled
    def batch_loss(self, params: dict[str, Array], images: Array, labels: Array) -> Array:
        """The mean of :meth:`per_sample_loss` over the rows: :math:`f` itself on the whole train set."""
        return jnp.mean(self._cross_entropy(params, images, labels)) + self._decay(params)

    @_compiled
    def accuracy(self, params: dict[str, Array], images: Array, labels: Array) -> Array:
        """The fraction of rows whose largest logit (the first, on a tie) is at the label."""
        hit = jnp.argmax(self.logits(params, images), axis=-1) == labels
        return jnp.mean(hit.astype(params["b2"].dtype))

    # ---- the problem protocol on the flat vector -------------------------------------------------------------------
    @_compiled
    def value(self, x: Array) -> Array:
        """:math:`f(x)`, the mean loss over the train set."""
        return self.batch_loss(self.unravel(x), self.images, self.labels)

    @_compiled
    def grad(self, x: Array) -> Array:
        """:math:`\\nabla f(x)` (reverse mode)."""
        return jax.grad(self.value)(x)

    @_compiled
    def sample_grad(self, x: Array, i: Array) -> Array:
        """:math:`\\nabla f_i(x)` for the train image of index ``i``."""
        return jax.grad(lambda z: self.batch_loss(self.unravel(z), self.images[i][None, :], self.labels[i][None]))(x)

    @_compiled
    def stochastic_grad(self, x: Array, xi: Array, mask: Array | None = None) -> Array:
        """:math:`\\frac{\\sum_jm_j\\nabla f_{\\xi_j}(x)}{\\sum_jm_j}` as one gradient of the weighted mean loss (equal
        by linearity to the base class's mean of per-sample gradients, without forming them)."""
        def loss(z: Array) -> Array:
            params = self.unravel(z)
            ce = self._cross_entropy(params, self.images[xi], self.labels[xi])
            w = jnp.ones_like(ce) if mask is None else jnp.asarray(mask, ce.dtype)
            return jnp.sum(w * ce) / jnp.sum(w) + self._decay(params)

        return jax.grad(loss)(x)

    @_compiled
    def extra_metrics(self, x: Array) -> dict[str, Array]:
        """The generalization measures at the flat point ``x`` (scalars; jit- and vmap-safe).

        Returns:
            ``test_loss``: :math:`\\frac1{n_{test}}\\sum_{j}f_j(x)` over the test set, the same per-sample loss as
            :math:`f` (weight decay included, so ``test_loss - loss`` is the generalization gap);
            ``test_accuracy`` and ``train_accuracy``: :meth:`accuracy` on each set.
        """
        params = self.unravel(x)
        return {"test_loss": self.batch_loss(params, self.test_images, self.test_labels),
                "test_accuracy": self.accuracy(params, self.test_images, self.test_labels),
                "train_accuracy": self.accuracy(params, self.images, self.labels)}


@functools.lru_cache(maxsize=8)
def _split(test_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels), pixels / 16, the stratified split of the docstring."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportError("the digits problem needs scikit-learn: pip install scikit-learn") from err
    data = load_digits()
    images = np.asarray(data.data, dtype=np.float64) / 16.0
    labels = np.asarray(data.target, dtype=np.int32)
    parts = train_test_split(images, labels, test_size=test_fraction, stratify=labels, random_state=SPLIT_SEED)
    for a in parts:
        a.setflags(write=False)
    return parts[0], parts[2], parts[1], parts[3]


def _init(rng: np.random.Generator, hidden: int) -> dict[str, np.ndarray]:
    """LeCun normal: :math:`W\\sim N(0, 1/\\text{fan-in})`, biases 0; ``w1`` drawn before ``w2``."""
    w1 = rng.standard_normal((PIXELS, hidden)) / math.sqrt(PIXELS)
    w2 = rng.standard_normal((hidden, CLASSES)) / math.sqrt(hidden)
    return {"w1": w1, "b1": np.zeros(hidden), "w2": w2, "b2": np.zeros(CLASSES)}


@jax.jit
def _hvp(p: Digits, x: Array, v: Array) -> Array:
    return jax.jvp(p.grad, (x,), (v,))[1]


@jax.jit
def _sigma2(p: Digits, x: Array) -> Array:
    return p.sigma2_at(x)


@register("digits")
def digits(hidden: int = 32, activation: str = "tanh", weight_decay: float = 0.0, test_fraction: float = 0.2,
           seed: int = 0, estimate_points: int = 3) -> Digits:
    """Handwritten digits (scikit-learn's 8x8 images) classified by a one-hidden-layer smooth MLP, a finite sum.

    Softmax cross-entropy of a 64 -> hidden -> 10 network (tanh or softplus) on a fixed stratified train split,
    plus (weight_decay / 2) ||x||^2 in every sample's loss; test loss and accuracy from ``extra_metrics``. L and
    sigma2 are estimated at initializations (lower bounds), f_star = 0 is a lower bound, minima none listed.

    Args:
        hidden: hidden units H, in [1, 256] (dimension d = 75 H + 10).
        activation: "tanh" or "softplus" (smooth, so Hessians and L exist).
        weight_decay: lambda, the L2 weight decay inside every sample's loss, in [0, 1e6].
        test_fraction: the share of the 1,797 images held out (stratified, random_state 0), in [0.05, 0.5].
        seed: the initialization seed (numpy default_rng), in [0, 2^63 - 1].
        estimate_points: initializations where L and sigma2 are estimated (x0 first), in [1, 100].

    Returns:
        A :class:`Digits` problem (a pytree: runs and sweeps take it like any built-in family).

    Raises:
        ParameterError: a parameter out of its range (the message names it, the range and the value).

    Example:
        >>> import problems
        >>> p = problems.make("digits", hidden=16)
        >>> p.dim, p.n, p.test_images.shape, p.sources["L"], p.minima
        (1210, 1437, (360, 64), 'estimated', ())
    """
    hidden = check_int("hidden", hidden, lo=1, hi=256)
    activation = check_choice("activation", activation, tuple(ACTIVATIONS))
    weight_decay = check_real("weight_decay", weight_decay, lo=0.0, hi=1e6)
    test_fraction = check_real("test_fraction", test_fraction, lo=0.05, hi=0.5)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    estimate_points = check_int("estimate_points", estimate_points, lo=1, hi=100)

    images, labels, test_images, test_labels = _split(test_fraction)
    rng = np.random.default_rng(seed)
    flat0, unravel = flatten("x0", _init(rng, hidden))
    points = [flat0] + [flatten("x0", _init(rng, hidden))[0] for _ in range(estimate_points - 1)]
    draft = Digits(x0=jnp.asarray(flat0), L=np.float64(1.0), mu=np.float64(np.nan), f_star=np.float64(0.0),
                   sigma2=np.float64(0.0), minima=(), name="digits", dim=int(flat0.size), n=int(labels.size),
                   images=jnp.asarray(images), labels=jnp.asarray(labels), test_images=jnp.asarray(test_images),
                   test_labels=jnp.asarray(test_labels), weight_decay=np.float64(weight_decay),
                   activation=activation, unravel=unravel, provenance=())
    L = max(largest_curvature(None, lambda x, v: _hvp(draft, jnp.asarray(x), jnp.asarray(v)), x) for x in points)
    sigma2 = max(float(_sigma2(draft, jnp.asarray(x))) for x in points)
    sources = {"L": "estimated", "sigma2": "estimated", "f_star": "estimated", "mu": "unknown", "minima": "unknown"}
    # no seed or value in the notes: they are static fields, and instances differing in data share compiled runs
    where = f"at x0 and {estimate_points - 1} further initializations" if estimate_points > 1 else "at x0"
    notes = (f"L: largest |Hessian eigenvalue| (Lanczos, ARPACK, on Hessian-vector products) {where}: the curvature "
             "where runs start, a lower bound on the sup over any region holding them (no global L exists: the "
             "Hessian is unbounded as the weights grow)",
             f"sigma2: max of the exact per-sample gradient variance {where}: a lower bound on a global bound",
             "f_star: 0, a lower bound on inf f (cross-entropy and weight decay are nonnegative); equal to inf f (not "
             "attained) when weight_decay = 0 and the network can fit every training label",
             "minima: none listed (without weight decay a network fitting every label has no minimizer; otherwise "
             "they come in symmetric families, not searched)")
    return dataclasses.replace(draft, L=np.float64(L), sigma2=np.float64(sigma2),
                               provenance=tuple(sorted(sources.items())), estimates=notes)


__all__ = ["ACTIVATIONS", "Digits", "digits"]
