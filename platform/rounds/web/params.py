"""Bounded integers for paths, query strings and request bodies, shared by every handler.

Ids, versions and counts live in ``INTEGER`` columns, 32-bit on PostgreSQL (SQLite holds
64): a value past that reaches the driver as an ``OverflowError`` or ``DataError`` (a 500).
These types refuse it at the door with a 400 naming the parameter, and the OpenAPI
document shows the bounds. Body fields use ``rounds.db.IdField``/``DbIntField``; numbers
inside answers are JSON, not columns: ``rounds.web.bodies`` holds them to 64 bits.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from rounds.db import DB_INT_MAX

# Far past the last page of any list here; (page - 1) * per_page stays small.
PAGE_MAX = 1_000_000

Id = Annotated[int, Parameter(ge=1, le=DB_INT_MAX)]
"""A row id (or version number) in a path (``/api/issues/{issue_id:int}``) or a query."""

OptionalId = Annotated[int | None, Parameter(ge=1, le=DB_INT_MAX)]

PageNumber = Annotated[int, Parameter(ge=1, le=PAGE_MAX)]
"""``?page=``, from 1."""


def id_or_none(text: str) -> int | None:
    """An id from free text (a header, a form field): None unless digits within bounds."""
    text = text.strip()
    if not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= DB_INT_MAX else None
