"""The notices API: what the reader sees now (``GET /api/notices``), and for those with
``notice.publish`` publishing (``POST /api/notices``) and withdrawing one.

Errors are problem details (422 with a JSON pointer per problem, every one at once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import IdField, utcnow
from rounds.i18n import pick
from rounds.runtime.access import Principal
from rounds.runtime.portals import notices
from rounds.runtime.portals.models import FOR_CONSUMERS, FOR_RETAILERS, Notice
from rounds.runtime.sites.models import Site
from rounds.web.params import Id


class NoticeIn(msgspec.Struct, forbid_unknown_fields=True):
    title_zh: str
    body_zh: str
    audience: str
    topic: str
    title_en: str = ""
    body_en: str = ""
    org_unit_id: IdField | None = None
    published_at: datetime | None = None  # now by default
    expires_at: datetime | None = None  # none: until withdrawn


class NoticeOut(msgspec.Struct):
    id: int
    audience: str
    topic: str
    title: dict[str, Any]
    body: dict[str, Any]
    org_unit_id: int | None
    published_at: str
    expires_at: str | None
    withdrawn_at: str | None


class NoticeRead(msgspec.Struct):
    """A notice as its reader sees it: in their language."""

    id: int
    topic: str
    title: str
    body: str
    published_at: str


def _out(n: Notice) -> NoticeOut:
    return NoticeOut(id=n.id, audience=n.audience, topic=n.topic, title=dict(n.title),
                     body=dict(n.body), org_unit_id=n.org_unit_id,
                     published_at=n.published_at.isoformat(),
                     expires_at=n.expires_at.isoformat() if n.expires_at else None,
                     withdrawn_at=n.withdrawn_at.isoformat() if n.withdrawn_at else None)


class NoticeController(Controller):
    path = "/api/notices"
    tags = ("notices",)

    @get("/", summary="The notices I see now: a retailer's account those for retailers "
                      "(of its shop's unit and above) and everyone; anyone else those for "
                      "consumers and everyone")
    async def current(self, db: AsyncSession, principal: Principal) -> list[NoticeRead]:
        unit = None
        audience = FOR_CONSUMERS
        if principal.org_scope == "own_shop" and principal.site_id is not None:
            site = await db.get(Site, principal.site_id)
            audience, unit = FOR_RETAILERS, site.org_unit_id if site else None
        found = await notices.current_notices(db, audience, now=utcnow(), org_unit_id=unit)
        return [NoticeRead(id=n.id, topic=n.topic, title=pick(n.title, principal.language, ""),
                           body=pick(n.body, principal.language, ""),
                           published_at=n.published_at.isoformat()) for n in found]

    @post("/", status_code=201, summary="Publish a notice (notice.publish): Chinese required, "
                                        "English optional")
    async def publish(self, db: AsyncSession, principal: Principal, data: NoticeIn
                      ) -> NoticeOut:
        return _out(await notices.publish_notice(
            db, principal, now=utcnow(), title_zh=data.title_zh, body_zh=data.body_zh,
            title_en=data.title_en, body_en=data.body_en, audience=data.audience,
            topic=data.topic, org_unit_id=data.org_unit_id, published_at=data.published_at,
            expires_at=data.expires_at))

    @post("/{notice_id:int}/withdraw", status_code=200,
          summary="Withdraw a notice (notice.publish): no longer shown, kept on the record")
    async def withdraw(self, db: AsyncSession, principal: Principal, notice_id: Id
                       ) -> NoticeOut:
        return _out(await notices.withdraw_notice(db, principal, notice_id, now=utcnow()))


def handlers() -> list[Any]:
    return [NoticeController]
