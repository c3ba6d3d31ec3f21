"""Org units: creating them keeps the materialised path right."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.runtime.orgs.models import OrgUnit


async def create_org_unit(db: AsyncSession, *, code: str, kind: str, name_zh: str,
                          name_en: str, parent_code: str | None = None) -> OrgUnit:
    parent = None
    if parent_code is not None:
        parent = await by_code(db, parent_code)
    if (await db.execute(select(OrgUnit.id).where(OrgUnit.code == code))).first():
        raise InvalidInput(f"org unit {code!r} exists already",
                           [Problem("/code", f"{code!r} is already used", "duplicate_id")])
    unit = OrgUnit(code=code, kind=kind, name_zh=name_zh, name_en=name_en,
                   parent_id=parent.id if parent else None)
    db.add(unit)
    await db.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await db.flush()
    return unit


async def by_code(db: AsyncSession, code: str) -> OrgUnit:
    unit = (await db.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"no org unit {code!r}")
    return unit
