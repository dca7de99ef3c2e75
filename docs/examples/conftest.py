"""The worked tests of docs/testing.md and the tutorials run as part of the README's test command (float64, as
xtrap's checks assume). The tutorials write their figures to ``$XTRAP_TUTORIAL_FIGURES`` when it is set (to build
the documentation pages with them), else to a temporary folder."""

import os
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def figure_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a tutorial writes its figures: ``$XTRAP_TUTORIAL_FIGURES/<tutorial>/`` (one folder per script, so two
    studies never share a report), else a temporary folder."""
    where = os.environ.get("XTRAP_TUTORIAL_FIGURES")
    if not where:
        return tmp_path
    path = Path(where) / request.module.__name__.rpartition(".")[2].removeprefix("test_")
    path.mkdir(parents=True, exist_ok=True)
    return path
