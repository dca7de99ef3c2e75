"""Data-parallel SGD and EXTRAP-SGD over devices: one worker per device, a :func:`jax.shard_map` program.

The framework of :mod:`xtrap.framework` *simulates* :math:`K` workers on one device. Here each of the :math:`K`
devices of a one-axis mesh is a worker: the global batch's leading axis is split over the mesh, worker :math:`k`
holds its local batches :math:`\\xi^k` (update) and :math:`\\xi'^k` (extrapolation), the parameters :math:`x_t` and
the optimizer state are replicated, and one step of a user's ``loss_fn(params, batch)`` (any parameter pytree) is

.. math::
    u^k = \\begin{cases} x_t & \\text{none (SGD)}\\\\
                          x_t-\\gamma\\,g(x_t;\\xi'^k) & \\text{local (EXTRAP-SGD)}\\\\
                          x_t-\\gamma\\,\\frac1K\\sum_j g(x_t;\\xi'^j) & \\text{global}\\end{cases}
    \\qquad h_t=\\frac1K\\sum_{k=1}^K g(u^k;\\xi^k),\\qquad (x_{t+1}, s_{t+1}) = \\mathrm{opt}(h_t, s_t, x_t),

with :math:`g(x;\\xi)=\\nabla_x\\,\\mathrm{loss\\_fn}(x,\\xi)` on the local batch and ``opt`` an optax
:class:`~optax.GradientTransformation` (``same_batch``: :math:`\\xi'^k=\\xi^k`). With ``optax.sgd(eta, momentum,
nesterov)`` the update is the framework's base update exactly (optax's ``trace`` is the PyTorch form of
THEORY.md §1.5): :math:`m_{t+1}=\\beta m_t+h_t`, :math:`x_{t+1}=x_t-\\eta m_{t+1}` (heavy ball) or
:math:`x_{t+1}=x_t-\\eta(h_t+\\beta m_{t+1})` (Nesterov). So :math:`K` devices fed the framework's draws compute
the iterates of the simulated :math:`K`-worker framework (tests/test_data_parallel.py: to 1e-12 on 4 devices).

Communication: each :math:`\\frac1K\\sum` is a ``pmean`` of the gradient pytree flattened into one vector, so it is
one all-reduce whatever the number of leaves: **one all-reduce per step** for SGD and local EXTRAP-SGD (the
extrapolation is local, no communication), **two** for global extrapolation (counted in the compiled program by
the tests). The per-worker losses are returned sharded, not reduced, so they add none.

Several devices of one host: ``worker_mesh()`` spans ``jax.devices()``; several hosts: call
``jax.distributed.initialize()`` in every process first, then the same code runs, each process feeding its local
part of the batch through :func:`shard_batch` (docs/scaling.md, "Data-parallel training").

References: Lin, Kong, Stich & Jaggi, *Extrapolation for Large-batch Training in Deep Learning*, ICML 2020
(EXTRAP-SGD: local extragradient, then the all-reduce); the shard_map guide,
https://docs.jax.dev/en/latest/notebooks/shard_map.html.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from problems import ParameterError, check_bool, check_choice, check_real

from ._devices import resolve

EXTRAPOLATIONS = ("none", "local", "global")
AXIS = "workers"


def worker_mesh(devices: int | None = None, axis_name: str = AXIS) -> Mesh:
    """A one-axis device mesh over the first ``devices`` of :func:`jax.devices` (every host's, after
    ``jax.distributed.initialize``): worker :math:`k` is the mesh's :math:`k`-th device, in :func:`jax.make_mesh`'s
    order (that of ``jax.devices()`` on CPUs, by device id on GPUs, a ring over the topology on TPUs).

    Args:
        devices: how many devices (default: :func:`xtrap.use_devices`'s process default, else all of them).
        axis_name: the mesh axis' name, the one :func:`make_step` reduces over.

    Returns:
        A :class:`jax.sharding.Mesh` of shape ``(devices,)`` with the axis ``axis_name``.

    Raises:
        ParameterError: ``devices`` is not in ``[1, len(jax.devices())]`` or leaves out a host, or ``axis_name``
            is not a non-empty string.

    >>> from xtrap import data_parallel as dp
    >>> mesh = dp.worker_mesh(1)
    >>> mesh.axis_names, mesh.size
    (('workers',), 1)
    """
    if not isinstance(axis_name, str) or not axis_name:
        raise ParameterError(f"axis_name must be a non-empty string; got {axis_name!r}")
    chosen = resolve(devices)
    return jax.make_mesh((len(chosen),), (axis_name,), axis_types=(jax.sharding.AxisType.Auto,),
                         devices=chosen)


def shard_batch(local_batch: Any, mesh: Mesh, axis_name: str | None = None) -> Any:
    """The global batch, its leading axis split over the mesh, from the part this process holds.

    On one host the local batch *is* the global batch (``jax.device_put`` with the sharding); on several hosts each
    process passes the rows of its own devices, in the order of the mesh, and
    :func:`jax.make_array_from_process_local_data` assembles the global array without moving data between hosts.

    Args:
        local_batch: a pytree of arrays whose leading axes are this process' rows.
        mesh: the mesh of :func:`worker_mesh`.
        axis_name: the axis to split over (default: the mesh's only axis).

    Returns:
        The same pytree of global :class:`jax.Array` objects, sharded ``NamedSharding(mesh, P(axis_name))``.

    >>> import numpy as np
    >>> from xtrap import data_parallel as dp
    >>> dp.shard_batch(np.zeros((4, 3)), dp.worker_mesh(1)).shape
    (4, 3)
    """
    sharding = NamedSharding(mesh, P(_axis(mesh, axis_name)))
    return jax.tree_util.tree_map(lambda a: jax.make_array_from_process_local_data(sharding, np.asarray(a)),
                                  local_batch)


def _axis(mesh: Any, axis_name: str | None) -> str:
    if not isinstance(mesh, Mesh):
        raise ParameterError(f"mesh must be a jax.sharding.Mesh (e.g. xtrap.data_parallel.worker_mesh()); got "
                             f"{type(mesh).__name__}")
    if len(mesh.axis_names) != 1:
        raise ParameterError(f"mesh must have exactly one axis (the workers); got axes {mesh.axis_names}")
    if axis_name is None:
        return mesh.axis_names[0]
    if axis_name not in mesh.axis_names:
        raise ParameterError(f"axis_name must be the mesh's axis {mesh.axis_names[0]!r}; got {axis_name!r}")
    return axis_name


def _pmean(tree: Any, axis_name: str) -> Any:
    """:math:`\\frac1K\\sum_k` of a pytree over the workers as ONE all-reduce: flattened into one vector first."""
    flat, unravel = ravel_pytree(tree)
    return unravel(jax.lax.pmean(flat, axis_name))


class Step:
    """One data-parallel training step (built by :func:`make_step`; see the module docstring for the rule).

    Attributes:
        mesh: the device mesh; workers: :math:`K`, its size; axis_name: the axis reduced over.
        extrapolation: ``"none"``, ``"local"`` or ``"global"``; same_batch: :math:`\\xi'^k=\\xi^k`.
        extrap_lr: the default :math:`\\gamma`; jitted: the compiled ``jax.jit`` of the ``shard_map`` program.
    """

    def __init__(self, loss_fn: Callable[[Any, Any], Any], optimizer: Any, mesh: Mesh, extrapolation: str,
                 extrap_lr: float | None, axis_name: str, same_batch: bool) -> None:
        self.mesh, self.axis_name, self.workers = mesh, axis_name, int(mesh.shape[axis_name])
        self.extrapolation, self.extrap_lr, self.same_batch = extrapolation, extrap_lr, same_batch
        self._loss_fn, self._optimizer = loss_fn, optimizer
        spec = P(axis_name)
        program = jax.shard_map(self._worker, mesh=mesh, in_specs=(P(), P(), spec, spec, P()),
                                out_specs=(P(), P(), spec))
        self.jitted = jax.jit(program)

    def _worker(self, params: Any, opt_state: Any, batch: Any, extrap_batch: Any, gamma: Any) -> tuple:
        """Worker :math:`k`'s program: its local batches, the replicated parameters, two all-reduces at most."""
        axis, loss_fn = self.axis_name, self._loss_fn
        # the worker's own copy: differentiating the replicated params directly would sum the gradient over the
        # workers (the transpose of the implicit replicated -> per-worker cast is a psum): a hidden all-reduce
        x = jax.lax.pcast(params, axis, to="varying")
        if self.extrapolation == "none":
            loss, h_local = jax.value_and_grad(loss_fn)(x, batch)
        else:
            loss, g_x = jax.value_and_grad(loss_fn)(x, batch if self.same_batch else extrap_batch)
            if self.extrapolation == "global":
                g_x = _pmean(g_x, axis)  # the second all-reduce
            u = jax.tree_util.tree_map(lambda p, g: p - gamma * g, x, g_x)
            h_local = jax.grad(loss_fn)(u, batch)
        h = _pmean(h_local, axis)  # h_t: the all-reduce every step makes
        updates, opt_state = self._optimizer.update(h, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, jnp.reshape(loss, (1,))

    def _args(self, params: Any, opt_state: Any, batch: Any, extrap_batch: Any, extrap_lr: Any) -> tuple:
        """Check the batches (present when the rule needs them, leading axes divisible by :math:`K`)."""
        needs = self.extrapolation != "none" and not self.same_batch
        if needs and extrap_batch is None:
            raise ParameterError(f"extrap_batch is needed with extrapolation={self.extrapolation!r} and "
                                 "same_batch=False (a fresh batch per worker for the extrapolation); got None")
        if not needs and extrap_batch is not None:
            why = "same_batch=True" if self.same_batch else "extrapolation='none'"
            raise ParameterError(f"extrap_batch must be None with {why}; got a batch")
        for name, tree in (("batch", batch), ("extrap_batch", extrap_batch)):
            if name == "extrap_batch" and tree is None:
                continue
            sizes = {np.shape(a)[0] if np.ndim(a) else None for a in jax.tree_util.tree_leaves(tree)}
            if not sizes or None in sizes or len(sizes) > 1:
                raise ParameterError(f"{name} must be a pytree of arrays sharing one leading (batch) axis; got "
                                     f"leading sizes {sorted(s for s in sizes if s is not None) or 'none'}")
            (size,) = sizes
            if size % self.workers:
                raise ParameterError(f"{name}'s global batch size must be divisible by the mesh size K="
                                     f"{self.workers} (axis {self.axis_name!r}), one equal local batch per worker; "
                                     f"got {size}")
        if extrap_lr is None:
            extrap_lr = 0.0 if self.extrap_lr is None else self.extrap_lr
        elif self.extrapolation == "none":
            raise ParameterError(f"extrap_lr must be None with extrapolation='none'; got {extrap_lr!r}")
        elif not isinstance(extrap_lr, jax.core.Tracer):  # a number or a concrete array is checked; a traced value
            extrap_lr = check_real("extrap_lr", np.asarray(extrap_lr).item() if np.ndim(extrap_lr) == 0 else extrap_lr,
                                   lo=0.0)  # (inside the caller's jit) cannot be
        leaves = jax.tree_util.tree_leaves(params)
        dtype = jnp.result_type(leaves[0]) if leaves else float
        return params, opt_state, batch, extrap_batch, jnp.asarray(extrap_lr, dtype)

    def __call__(self, params: Any, opt_state: Any, batch: Any, extrap_batch: Any = None, *,
                 extrap_lr: Any = None) -> tuple[Any, Any, jax.Array]:
        """One step.

        Args:
            params: the replicated parameters :math:`x_t` (any pytree).
            opt_state: the optimizer state (``optimizer.init(params)``).
            batch: the global update batch :math:`(\\xi^1,\\dots,\\xi^K)`: a pytree whose leading axis holds
                :math:`K` equal local batches, worker :math:`k` the :math:`k`-th (see :func:`shard_batch`).
            extrap_batch: the global extrapolation batch :math:`(\\xi'^k)_k`, laid out alike; needed exactly for
                local or global extrapolation without ``same_batch``.
            extrap_lr: this step's :math:`\\gamma` (a schedule without recompiling); default the one of
                :func:`make_step`.

        Returns:
            ``(params, opt_state, losses)``: :math:`x_{t+1}`, the new state, and the :math:`K` local losses at
            :math:`x_t` (on :math:`\\xi'^k`, or on :math:`\\xi^k` for SGD), sharded over the workers, not reduced.

        Raises:
            ParameterError: a batch missing or given where it has no use, leading axes that differ or are not
                divisible by :math:`K`, or a negative ``extrap_lr``.
        """
        return self.jitted(*self._args(params, opt_state, batch, extrap_batch, extrap_lr))

    def lower(self, params: Any, opt_state: Any, batch: Any, extrap_batch: Any = None, *,
              extrap_lr: Any = None) -> Any:
        """``jax.jit(...).lower`` of the step for these arguments (``.as_text()``, ``.compile().as_text()``:
        the programs whose all-reduces the tests count)."""
        return self.jitted.lower(*self._args(params, opt_state, batch, extrap_batch, extrap_lr))


def make_step(loss_fn: Callable[[Any, Any], Any], optimizer: Any, *, mesh: Mesh, extrapolation: str = "local",
              extrap_lr: float | None = None, axis_name: str | None = None, same_batch: bool = False) -> Step:
    """Data-parallel SGD / EXTRAP-SGD / global extrapolation as one ``shard_map`` program over ``mesh``:

    .. math:: u^k=x_t-\\gamma\\,d^k,\\qquad h_t=\\frac1K\\sum_k g(u^k;\\xi^k),\\qquad
              (x_{t+1},s_{t+1})=\\mathrm{opt}(h_t,s_t,x_t),

    :math:`d^k=0` (``"none"``: SGD on the global batch), :math:`g(x_t;\\xi'^k)` (``"local"``: EXTRAP-SGD, no
    communication before the update's all-reduce) or :math:`\\frac1K\\sum_j g(x_t;\\xi'^j)` (``"global"``: a second
    all-reduce), :math:`g` the gradient of ``loss_fn`` on a worker's local batch.

    Args:
        loss_fn: ``loss_fn(params, local_batch) -> scalar``, the mean loss over a local batch (its gradient is
            :math:`g(x;\\xi^k)`); ``params`` any pytree of float arrays.
        optimizer: an optax ``GradientTransformation`` fed :math:`h_t`; ``optax.sgd(eta, momentum, nesterov)`` is
            the framework's sgd / heavy-ball / Nesterov base update.
        mesh: a one-axis mesh, one worker per device (:func:`worker_mesh`).
        extrapolation: ``"none"``, ``"local"`` or ``"global"``.
        extrap_lr: :math:`\\gamma\\ge0`, needed with extrapolation (the step may override it per call).
        axis_name: the mesh axis (default: the mesh's only axis).
        same_batch: extrapolate on the update batch, :math:`\\xi'^k=\\xi^k` (only with extrapolation).

    Returns:
        A :class:`Step`: ``step(params, opt_state, batch, extrap_batch=None) -> (params, opt_state, losses)``,
        compiled on first use; ``step.lower(...)`` gives the program.

    Raises:
        ParameterError: an unknown ``extrapolation``, ``extrap_lr`` missing, negative or given to SGD,
            ``same_batch`` without extrapolation, a mesh that is not one-axis, or a non-callable ``loss_fn`` or
            ``optimizer`` without ``init`` and ``update``.

    >>> import jax.numpy as jnp, optax
    >>> from xtrap import data_parallel as dp
    >>> loss = lambda x, batch: 0.5 * jnp.mean((batch - x) ** 2)
    >>> opt = optax.sgd(0.5, momentum=0.9, nesterov=True)
    >>> step = dp.make_step(loss, opt, mesh=dp.worker_mesh(1), extrapolation="local", extrap_lr=0.1)
    >>> x = jnp.zeros(())
    >>> x, state, losses = step(x, opt.init(x), jnp.ones(4), jnp.ones(4))
    >>> round(float(x), 6), losses.shape   # u = 0.1, h = u - 1 = -0.9, x = -0.5 (h + 0.9 h)
    (0.855, (1,))
    """
    if not callable(loss_fn):
        raise ParameterError(f"loss_fn must be a function loss_fn(params, batch) -> scalar; got {loss_fn!r}")
    if not (callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None))):
        raise ParameterError(f"optimizer must be an optax GradientTransformation (e.g. optax.sgd(0.1, momentum=0.9)); "
                             f"got {optimizer!r}")
    axis = _axis(mesh, axis_name)
    extrapolation = check_choice("extrapolation", extrapolation, EXTRAPOLATIONS)
    same_batch = check_bool("same_batch", same_batch)
    if extrapolation == "none":
        if same_batch:
            raise ParameterError("same_batch needs extrapolation 'local' or 'global' (it says which batch the "
                                 "extrapolation uses); got extrapolation='none'")
        if extrap_lr is not None:
            raise ParameterError(f"extrap_lr must be None with extrapolation='none'; got {extrap_lr!r}")
    elif extrap_lr is None:
        raise ParameterError(f"extrap_lr (gamma >= 0) is needed with extrapolation={extrapolation!r}; got None")
    else:
        extrap_lr = check_real("extrap_lr", extrap_lr, lo=0.0)
    return Step(loss_fn, optimizer, mesh, extrapolation, extrap_lr, axis, same_batch)
