"""Compile once (issue 13, item 3): a study compiles one run program per method structure, and a study run again
with other problem constants and other hyper-parameters compiles nothing at all.

Every XLA compilation is counted through JAX's monitoring hook (the backend-compile event), not only xtrap's run
programs, so a helper that is dispatched op by op, or a constant baked into a program, shows up here.
"""

from __future__ import annotations

import pytest
from jax import monitoring

import problems
import xtrap
from analysis import compare

COMPILES: list[str] = []


def _listen(name: str, secs: float, **kw) -> None:
    if name == "/jax/core/compile/backend_compile_duration":
        COMPILES.append(name)


@pytest.fixture(autouse=True)
def _counting():
    """Count compilations during each test only (the listener is removed afterwards)."""
    monitoring.register_event_duration_secs_listener(_listen)
    yield
    monitoring.unregister_event_duration_listener(_listen)


@pytest.mark.slow
def test_a_study_run_again_compiles_nothing(tmp_path):
    runs_before = xtrap.compiled_count()
    compare(problems.make("quadratic", dim=5), [xtrap.sgd(lr=0.3, batch=2), xtrap.extrap_sgd(lr=0.3, batch=2)],
            steps=50, seeds=4, out_dir=tmp_path / "a")
    assert xtrap.compiled_count() - runs_before == 2  # one run program per method structure
    COMPILES.clear()
    compare(problems.make("quadratic", dim=5, seed=3, mu=0.2),
            [xtrap.sgd(lr=0.2, batch=4), xtrap.extrap_sgd(lr=0.1, batch=4)],
            steps=50, seeds=4, out_dir=tmp_path / "b")
    assert COMPILES == []
