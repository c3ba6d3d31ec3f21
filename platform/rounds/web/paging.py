"""Lists a page at a time: the one page type every list answers with, and the paging
parameters that come with it (``?page=`` from 1, ``?per_page=`` within the list's bound).

A list handler takes the ``paging`` dependency and answers ``paging.of(items, total)``::

    @get("/", dependencies=paged(max_per_page=200))
    async def index(self, db: AsyncSession, paging: Paging) -> Page[VisitOut]:
        views, total = await service.list_visits(db, limit=paging.limit, offset=paging.offset)
        return paging.of([visit_out(v) for v in views], total)

A list that says more than its page (the inbox's unread count) subclasses ``Page`` and
restates ``items`` with its type: the OpenAPI document reads a subclass's own fields.

Imports only Litestar, msgspec and ``rounds.web.params``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec
from litestar.di import Provide
from litestar.params import Parameter

from rounds.web.params import PageNumber

T = TypeVar("T")

PER_PAGE = 50  # the default page size of every list


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: its items, how many the whole list holds, which page this is and
    how many a page holds."""

    items: list[T]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True, slots=True)
class Paging:
    """Which page a request asks for, and its size."""

    page: int = 1
    per_page: int = PER_PAGE

    @property
    def limit(self) -> int:
        return self.per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def of(self, items: list[T], total: int) -> Page[T]:
        """This page of a list of ``total`` items."""
        return Page(items=items, total=total, page=self.page, per_page=self.per_page)


def paged(max_per_page: int) -> dict[str, Provide]:
    """The ``paging`` dependency of a list handler whose pages hold at most ``max_per_page``
    items (a larger ``per_page`` is a 400 naming it, as the OpenAPI document says)."""

    def paging(page: PageNumber = 1,
               per_page: int = Parameter(default=PER_PAGE, ge=1, le=max_per_page)) -> Paging:
        return Paging(page=page, per_page=per_page)

    return {"paging": Provide(paging, sync_to_thread=False)}


__all__ = ["PER_PAGE", "Page", "Paging", "paged"]
