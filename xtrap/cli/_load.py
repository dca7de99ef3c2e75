"""A user's objects named on the command line: ``module:NAME`` or ``path/to/file.py:NAME``.

``--problem mymodule:factory``, ``--method mymodule:NAME`` and ``--bound mymodule:NAME`` import the module (the
current directory first on the path, as ``python -m`` does) or load the file, and take the attribute. Every way
this can go wrong is one line: no such module or file, an error while importing it (its type and message), no
such attribute, or an object of the wrong kind.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from ._args import CliError


def is_reference(text: str) -> bool:
    """Whether ``text`` names a user's object (``module:NAME``), not a built-in name."""
    return ":" in text


def load(option: str, text: str) -> Any:
    """The object that ``text`` (``module:NAME`` or ``file.py:NAME``) names."""
    where, _, name = text.rpartition(":")
    if not where or not name or not name.replace(".", "").replace("_", "").isalnum():
        raise CliError(f"{option} expects MODULE:NAME or FILE.py:NAME; got {text!r}")
    module = _module(option, where)
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise CliError(f"{option}: {where} has no attribute {part!r} (in {text!r})")
        obj = getattr(obj, part)
    return obj


_FILES: dict[Path, Any] = {}  # FILE.py loaded once per process, however many options name it


def _module(option: str, where: str) -> Any:
    path = Path(where)
    try:
        if where.endswith(".py"):
            if not path.is_file():
                raise CliError(f"{option}: no such file {where!r}")
            key = path.resolve()
            if key in _FILES:
                return _FILES[key]
            name = f"_xtrap_user_{path.stem}_{abs(hash(key))}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # as an import does (dataclasses and pickling look the module up)
            sys.path.insert(0, str(key.parent))
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)
                raise
            finally:
                sys.path.pop(0)
            _FILES[key] = module
            return module
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        return importlib.import_module(where)
    except CliError:
        raise
    except ModuleNotFoundError as err:
        if err.name == where or where.startswith(f"{err.name}."):
            raise CliError(f"{option}: no module named {where!r} (run from the folder that holds it, or give "
                           "FILE.py:NAME)") from None
        raise CliError(f"{option}: importing {where!r} failed: {type(err).__name__}: {err}") from None
    except Exception as err:  # the user's module raised while importing: its error, in one line
        raise CliError(f"{option}: importing {where!r} failed: {type(err).__name__}: {err}") from None


def problem(text: str, params: dict[str, Any]) -> Any:
    """``--problem``: a :class:`problems.Problem`, or a factory called with the ``--param`` values."""
    import problems

    obj = load("--problem", text)
    if isinstance(obj, problems.Problem):
        if params:
            raise CliError(f"--param: {text} is a problem instance, not a factory; it takes no parameters")
        return obj
    return _made("--problem", text, obj, params, problems.Problem, "a problems.Problem", "no parameters")


def _made(option: str, text: str, factory: Any, kwargs: dict[str, Any], kind: type, what: str, none: str) -> Any:
    """``factory(**kwargs)``, which must be a ``kind``: whatever goes wrong (not callable, its own error, another
    kind) is one line naming ``option`` and ``text``; a ``ParameterError`` it raises passes through as it is."""
    import problems

    if not callable(factory):
        raise CliError(f"{option} {text} must be {what} or a function returning one; got {type(factory).__name__}")
    try:
        out = factory(**kwargs)
    except problems.ParameterError:
        raise
    except Exception as err:  # the user's function failed: its error, in one line
        raise CliError(f"{option} {text}: calling it with {sorted(kwargs) or none} failed: "
                       f"{type(err).__name__}: {err}") from None
    if not isinstance(out, kind):
        raise CliError(f"{option} {text} must return {what}; it returned {type(out).__name__}")
    return out


def method(text: str, kwargs: dict[str, Any], option: str = "--method") -> Any:
    """``--method`` (or ``option``): an :class:`xtrap.Method`, or a function called with the method options given."""
    import xtrap

    obj = load(option, text)
    if isinstance(obj, xtrap.Method):
        other = sorted(set(kwargs) - set(_HYPER))
        if other:
            raise CliError(f"{option} {text} is a method instance: only its hyper-parameters ({', '.join(_HYPER)}) can "
                           f"be changed from the command line, not {', '.join(other)}")
        return obj.replace(**kwargs) if kwargs else obj
    return _made(option, text, obj, kwargs, xtrap.Method, "an xtrap.Method", "no options")


_HYPER = ("lr", "extrap_lr", "rho", "momentum", "batch", "workers")


def bound(text: str, option: str = "--bound") -> Any:
    """``--bound`` / ``--check``: a :class:`proofs.Bound` (e.g. from :func:`proofs.make_bound`)."""
    import proofs

    obj = load(option, text)
    if not isinstance(obj, proofs.Bound):
        raise CliError(f"{option} {text} must be a proofs.Bound (see proofs.make_bound); got {type(obj).__name__}")
    return obj
