"""Runs held against bounds: statistics over seeds (more to come: checks, rate fits, sharpness).

Imports xtrap, problems and proofs; only ``xtrap/cli.py`` imports analysis.
"""

from .summary import summarize

__all__ = ["summarize"]
