"""HTTP handlers of the sites slice (being written)."""

from typing import Any


def handlers() -> list[Any]:
    return []
