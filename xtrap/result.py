"""A small labelled result: named arrays with named dimensions, coordinates and attributes.

Saved as one ``.npz`` file (arrays bit for bit, metadata as JSON), so ``load(save(r)) == r``.
Writes go to a temporary file renamed into place, so an interrupted save never leaves a
truncated file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Result:
    """Labelled arrays: ``data[name]`` has dimensions ``dims[name]``; ``coords[dim]`` labels a dimension.

    Dimensions of a run: the sweep axes (in the order the hyper-parameters were given), then
    ``seed``, then ``record`` (the recorded steps, ``coords["record"]``) for traces.
    """

    data: dict[str, np.ndarray]
    dims: dict[str, tuple[str, ...]]
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    @property
    def sweep_dims(self) -> tuple[str, ...]:
        """The hyper-parameter axes (everything before ``seed``)."""
        return tuple(self.attrs.get("sweep_dims", ()))

    def sel(self, **index: int) -> "Result":
        """Integer-index selection along named dimensions (the dimension is dropped)."""
        data, dims = {}, {}
        for name, arr in self.data.items():
            d = list(self.dims[name])
            sl: list[Any] = [slice(None)] * arr.ndim
            for dim, i in index.items():
                if dim in d:
                    sl[d.index(dim)] = i
            data[name] = arr[tuple(sl)]
            dims[name] = tuple(x for x in d if x not in index)
        coords = {k: v for k, v in self.coords.items() if k not in index}
        attrs = dict(self.attrs)
        attrs["sweep_dims"] = [x for x in self.sweep_dims if x not in index]
        if "hyper" in attrs:  # the selected value replaces the swept list, so the point knows its parameters
            hyper = dict(attrs["hyper"])
            for dim, i in index.items():
                if dim in self.sweep_dims and dim in hyper:
                    hyper[dim] = np.asarray(self.coords[dim])[i].item()
            attrs["hyper"] = hyper
        return Result(data, dims, coords, attrs)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path`` (``.npz``) atomically; returns the path."""
        path = Path(path)
        meta = {"dims": {k: list(v) for k, v in self.dims.items()}, "attrs": self.attrs,
                "coords": list(self.coords)}
        arrays = {f"data/{k}": v for k, v in self.data.items()}
        arrays.update({f"coords/{k}": v for k, v in self.coords.items()})
        arrays["meta"] = np.array(json.dumps(meta, default=_json_default))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
        os.close(fd)
        try:
            np.savez(tmp, **arrays)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # an ordinary file's mode, not mkstemp's private 0600
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Result":
        """Read a result written by :meth:`save`.

        Raises:
            ParameterError: the file is missing, unreadable or not a result written by :meth:`save`.
        """
        from problems import ParameterError

        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                data = {k.removeprefix("data/"): z[k] for k in z.files if k.startswith("data/")}
                coords = {k.removeprefix("coords/"): z[k] for k in z.files if k.startswith("coords/")}
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ParameterError(f"path must name a result saved by xtrap (an .npz file); {str(path)!r}: "
                                 f"{getattr(err, 'strerror', None) or err}") from None
        dims = {k: tuple(v) for k, v in meta["dims"].items()}
        return cls(data, dims, coords, meta["attrs"])

    def equals(self, other: "Result") -> bool:
        """Exact equality of arrays (NaNs equal), dims, coords and attributes."""
        same = (self.dims == other.dims and self.attrs == other.attrs
                and self.data.keys() == other.data.keys() and self.coords.keys() == other.coords.keys())
        return same and all(
            np.array_equal(a, b[k], equal_nan=a.dtype.kind == "f")
            for a_dict, b in ((self.data, other.data), (self.coords, other.coords))
            for k, a in a_dict.items()
        )


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")
