"""Fixtures of the issues tests (the helpers live in ``issue_support``)."""

from issue_support import loop

__all__ = ["loop"]
