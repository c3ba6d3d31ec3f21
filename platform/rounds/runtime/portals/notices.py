"""Reading the company's notices: those a reader of an audience sees now.

A retailer sees the notices for retailers and for everyone that are for the whole company or
for its shop's unit or a unit above it; a consumer those for consumers and for everyone that
are for the whole company. Withdrawn and expired notices are not shown; the newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.portals.models import FOR_CONSUMERS, FOR_EVERYONE, FOR_RETAILERS, Notice


async def current_notices(db: AsyncSession, audience: str, *, now: datetime,
                          org_unit_id: int | None = None, limit: int = 20
                          ) -> Sequence[Notice]:
    """The notices ``audience`` (``retailer`` or ``consumer``) sees at ``now``; for a
    retailer, ``org_unit_id`` is its shop's unit (notices of that unit and those above)."""
    now = as_utc(now)
    if audience not in (FOR_RETAILERS, FOR_CONSUMERS):
        raise ValueError(f"no notices for audience {audience!r}")
    units: list[int] = []
    if audience == FOR_RETAILERS and org_unit_id is not None:
        unit = await db.get(OrgUnit, org_unit_id)
        if unit is not None and unit.path:
            units = [int(part) for part in unit.path.strip("/").split("/") if part]
    stmt = (select(Notice)
            .where(Notice.audience.in_((audience, FOR_EVERYONE)),
                   Notice.published_at <= now, Notice.withdrawn_at.is_(None),
                   or_(Notice.expires_at.is_(None), Notice.expires_at > now),
                   or_(Notice.org_unit_id.is_(None), Notice.org_unit_id.in_(units)))
            .order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())
