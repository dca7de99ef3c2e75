"""The pytest plugin of :mod:`xtrap.testing` (entry point ``pytest11``, active wherever xtrap is installed).

It registers two hypothesis profiles and one option:

* ``xtrap-ci``: 25 examples, no deadline, derandomized (the same examples on every run: CI never flakes);
* ``xtrap-thorough``: 500 examples, no deadline, random (for local hunts);
* ``--xtrap-alpha A``: the error budget of every :mod:`xtrap.testing` assertion in the session, the chance that
  a true claim fails a whole test (default :math:`10^{-6}`).

Select a profile with ``pytest --hypothesis-profile=xtrap-ci``. Without hypothesis installed the plugin does
nothing.
"""

from __future__ import annotations

from typing import Any

STATE = {"alpha": 1e-6}  # the session's budget; read by xtrap.testing.assertions.budget()

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - xtrap.testing needs hypothesis; pytest itself does not
    settings = None
else:
    _SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("xtrap-ci", max_examples=25, deadline=None, derandomize=True,
                              suppress_health_check=_SLOW)
    settings.register_profile("xtrap-thorough", max_examples=500, deadline=None, suppress_health_check=_SLOW)


def pytest_addoption(parser: Any) -> None:
    parser.getgroup("xtrap").addoption(
        "--xtrap-alpha", type=float, default=None, metavar="A",
        help="error budget of xtrap.testing assertions: the chance that a true claim fails a whole test, "
             "in (0, 0.5] (default 1e-6)")


def pytest_configure(config: Any) -> None:
    alpha = config.getoption("--xtrap-alpha", default=None)
    if alpha is None or settings is None:
        return
    import pytest

    if not 0.0 < alpha <= 0.5:
        raise pytest.UsageError(f"--xtrap-alpha must be in (0, 0.5]; got {alpha!r}")
    STATE["alpha"] = float(alpha)


def pytest_report_header(config: Any) -> str | None:
    if settings is None:
        return None
    return f"xtrap.testing: error budget alpha={STATE['alpha']:g} per test (--xtrap-alpha)"
