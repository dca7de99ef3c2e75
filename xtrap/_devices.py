"""Where a run's chunks execute: the flattened grid x seeds axis split over devices with ``jax.sharding``.

Every chunk of runs is one array axis of independent runs, so spreading it is data parallelism with no
communication. With ``n`` devices a call takes ``n`` chunks: the runs' hyper-parameters and keys are laid out over
a one-axis :class:`jax.sharding.Mesh` named ``"runs"`` with ``NamedSharding(mesh, P("runs"))``, and each device
runs the one-device program (jitted once per device) on its own shard, all dispatched asynchronously so the
devices work at once; the outputs are assembled into global arrays with
:func:`jax.make_array_from_single_device_arrays`. Each device executes exactly the one-device program on the same
rows of a chunk, so every run's numbers are those of one device running the same chunks (``chunk=``), bit for
bit (tested in a subprocess on 4 host CPU devices, ``XLA_FLAGS=--xla_force_host_platform_device_count=4``). Handing the whole sharded chunk to one
``jit`` (XLA's partitioner) or to :func:`jax.shard_map` instead was measured to move stochastic two-basin runs by
an ulp: XLA compiles a partitioned module's elementwise code differently.

Several hosts: call ``jax.distributed.initialize()`` in every process first; ``jax.devices()`` then lists every
host's devices, the mesh spans them, and the results are gathered to every process
(``jax.experimental.multihost_utils.process_allgather``); see docs/scaling.md.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import numpy as np

from problems import ParameterError

_default: list[int | None] = [None]  # the process default set by use_devices (the CLI's --devices)


def use_devices(devices: int | None) -> None:
    """Set how many devices :func:`xtrap.run` uses when it is not told (``None``: all of ``jax.devices()``).

    >>> import xtrap
    >>> xtrap.use_devices(1)   # every later run on the first device only
    >>> xtrap.use_devices(None)
    """
    if devices is not None:
        resolve(devices)
    _default[0] = devices


def resolve(devices: int | None) -> list[Any]:
    """The devices a run uses: the first ``devices`` of ``jax.devices()`` (default: the process default, else all)."""
    available = jax.devices()
    n = _default[0] if devices is None else devices
    if n is None:
        return list(available)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(available):
        raise ParameterError(f"devices must be an integer in [1, {len(available)}] (the {available[0].platform} "
                             f"devices JAX sees); got {n!r}")
    chosen = list(available[: int(n)])
    hosts = {d.process_index for d in available}
    if len({d.process_index for d in chosen}) < len(hosts):  # a host with no device would have nothing to run
        raise ParameterError(f"devices={n} leaves out some of the {len(hosts)} hosts; use all {len(available)} "
                             "devices (the default) on several hosts")
    return chosen


def describe(devices: list[Any]) -> str:
    """One line for a run's metadata: how many devices of which kind, on how many hosts."""
    kinds = sorted({d.device_kind for d in devices})
    hosts = len({d.process_index for d in devices})
    return (f"{len(devices)} {devices[0].platform} device{'s' if len(devices) > 1 else ''} ({', '.join(kinds)})"
            f" on {hosts} host{'s' if hosts > 1 else ''}")


class Placement:
    """Runs a chunk program on one device, or on every device of a mesh, each its own rows (see the module doc)."""

    def __init__(self, devices: list[Any]) -> None:
        self.devices, self.n = devices, len(devices)
        if self.n > 1:
            from jax.sharding import Mesh, NamedSharding, PartitionSpec

            self.split = NamedSharding(Mesh(np.array(devices), ("runs",)), PartitionSpec("runs"))
        self._shared: dict[Any, Any] = {}

    def share(self, tree: Any) -> None:
        """Ship what every run reads (the problem, the start, the radius) to each device of this host once."""
        if self.n == 1:
            self._shared = {None: tree}
        else:
            self._shared = {d: jax.device_put(tree, d) for d in self.devices if d.process_index == jax.process_index()}

    def __call__(self, fn: Callable[..., Any], per_run: Any) -> dict[str, np.ndarray]:
        """``fn(problem, *per_run, start, radius)`` over a leading runs axis of ``n x chunk`` rows: device ``i``
        computes rows ``[i chunk, (i+1) chunk)`` with the one-device program; the results as NumPy arrays."""
        if self.n == 1:
            prob, start, radius = self._shared[None]
            return jax.tree_util.tree_map(np.asarray, fn(prob, *per_run, start, radius))
        placed = jax.device_put(per_run, self.split)
        leaves, tree = jax.tree_util.tree_flatten(placed)
        outs = []
        for k, shard in enumerate(leaves[0].addressable_shards):  # the same device order on every leaf
            local = jax.tree_util.tree_unflatten(tree, [a.addressable_shards[k].data for a in leaves])
            prob, start, radius = self._shared[shard.device]
            outs.append(fn(prob, *local, start, radius))  # dispatched asynchronously: the devices run together
        result = {}
        for name in outs[0]:
            pieces = [o[name] for o in outs]
            shape = (self.n * pieces[0].shape[0],) + pieces[0].shape[1:]
            whole = jax.make_array_from_single_device_arrays(shape, self.split, pieces)
            if jax.process_count() > 1:  # every host gets every host's rows
                from jax.experimental import multihost_utils

                whole = multihost_utils.process_allgather(whole, tiled=True)
            result[name] = np.asarray(whole)
        return result
