"""Rounds: a low-code platform for field teams that work to written standards."""

__version__ = "0.1.0"
