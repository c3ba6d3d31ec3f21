"""HTTP handlers of the submissions slice (being written)."""

from typing import Any


def handlers() -> list[Any]:
    return []
