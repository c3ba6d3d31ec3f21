"""Bounded integer parameters for paths and query strings, shared by every handler.

A database integer is signed 64-bit: an id or page past that reaches the driver as an
``OverflowError`` (a 500). These types refuse it at the door with a 400 naming the
parameter, and the OpenAPI document shows the bounds.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

INT64_MAX = 2**63 - 1
# Far past the last page of any list here, and (page - 1) * per_page stays a database integer.
PAGE_MAX = 1_000_000

Id = Annotated[int, Parameter(ge=1, le=INT64_MAX)]
"""A row id, in a path (``/api/issues/{issue_id:int}``) or a query (``?site_id=``)."""

OptionalId = Annotated[int | None, Parameter(ge=1, le=INT64_MAX)]

PageNumber = Annotated[int, Parameter(ge=1, le=PAGE_MAX)]
"""``?page=``, from 1."""


def id_or_none(text: str) -> int | None:
    """An id from free text (a header): None unless it is digits within the bounds."""
    text = text.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= INT64_MAX else None
