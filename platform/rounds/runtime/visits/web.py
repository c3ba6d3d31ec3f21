"""HTTP handlers of the visits slice (being written)."""

from typing import Any


def handlers() -> list[Any]:
    return []
