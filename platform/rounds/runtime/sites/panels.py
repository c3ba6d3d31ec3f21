"""Panels on the pages of a site: what other slices and extensions know about it.

A panel is data (a title, rows of label and value, a tone, a link), never HTML, so a
contributor cannot break a page's markup or its escaping. Contributors register an async
function with :func:`site_panel`; the pages of a site (the shop portal's ``/shop``, the
site's history ``/sites/{id}/history``, a visit's page ``/visits/{id}``) call
:func:`panels_for` and draw each panel the same way (``fw.site_panels`` in
``fieldwork/templates/_fw.html``). A contributor decides by the principal what it shows
(the retailer's own shop, a station head's scope) and returns nothing when it has nothing
to say. One that fails is logged and left out: a panel never takes a page down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal

log = logging.getLogger(__name__)

TONES = ("", "good", "warn", "bad")


@dataclass(frozen=True)
class Panel:
    """One panel: ``rows`` are (label, value) pairs, already in the page's language."""

    title: str
    rows: Sequence[tuple[str, str]] = ()
    tone: str = ""  # one of TONES: how the panel's status line is coloured
    status: str = ""  # one line: the panel's verdict ("核验通过", "审批中"...)
    href: str = ""  # a page with more, and its link's words
    link_text: str = ""
    actions: Sequence[tuple[str, str]] = field(default=())  # (href, words) links


SitePanels = Callable[[AsyncSession, Principal, int, str], Awaitable[Sequence[Panel]]]
_contributors: list[SitePanels] = []


def site_panel(fn: SitePanels) -> SitePanels:
    """Register ``fn(db, principal, site_id, lang)``: the panels it has for a site."""
    if fn not in _contributors:
        _contributors.append(fn)
    return fn


async def panels_for(db: AsyncSession, principal: Principal, site_id: int,
                     lang: str) -> list[Panel]:
    """Every contributor's panels for the site, in registration order."""
    out: list[Panel] = []
    for fn in _contributors:
        try:
            async with db.begin_nested():  # a failing contributor leaves the session usable
                out.extend(await fn(db, principal, site_id, lang))
        except Exception:
            log.exception("site panel %s failed for site %s", fn.__qualname__, site_id)
    return out
