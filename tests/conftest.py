"""Shared test settings: float64 JAX, hypothesis profiles ("ci" fast, "thorough" long, from xtrap's plugin).

Select with HYPOTHESIS_PROFILE=thorough; the default is "ci" (derandomized).
"""

import os

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
os.environ["XTRAP_NO_CACHE"] = "1"  # in-process CLI calls must not turn on JAX's persistent cache for the suite

# the project's own profiles derive from the ones xtrap's pytest plugin gives every user (xtrap.testing.plugin),
# with fewer examples for the default suite; "ci" keeps the plugin's derandomize (the same examples on every run:
# a CI verdict never depends on the draw), "thorough" explores fresh examples each time
settings.register_profile("ci", settings.get_profile("xtrap-ci"), max_examples=15,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", settings.get_profile("xtrap-thorough"), max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module: one process compiles well over a thousand of them in
    the suite, and XLA's CPU compiler crashed (segmentation fault) late in a run that kept them all."""
    yield
    import importlib

    importlib.import_module("xtrap.run")._compiled.cache_clear()
    jax.clear_caches()

# When a hypothesis test fails, its pytest plugin imports libcst to write a patch with the failing
# example; importing libcst emits "mypy_extensions.TypedDict is deprecated" (a DeprecationWarning
# from a third-party dependency), which filterwarnings=error turns into an INTERNALERROR that hides
# the real failure. Import libcst once here with exactly that warning silenced.
import warnings  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="mypy_extensions.TypedDict is deprecated", category=DeprecationWarning)
    try:
        import libcst  # noqa: F401
    except ImportError:  # hypothesis then skips the patch, nothing to silence
        pass
