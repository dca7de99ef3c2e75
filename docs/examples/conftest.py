"""The worked tests of docs/testing.md run as part of the README's test command (float64, as xtrap's checks assume)."""

import jax

jax.config.update("jax_enable_x64", True)
