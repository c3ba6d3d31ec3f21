"""A small city for the retail licence tests: the city company, the east station under it,
a reviewer at each (``HEAD`` at the station, ``CITY_HEAD`` above), an inspector, an
applicant without a shop, and one licensed retailer near where the new shop would be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from support.extensions import ENABLED

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "password-123"
SHOP_AT = (28.228304, 112.938814)  # the licensed retailer
APPLICANT, HEAD, CITY_HEAD, INSPECTOR, OTHER = (
    "applicant_chen", "head_wu", "head_city", "inspector_liu", "applicant_other")


@dataclass
class City:
    users: dict[str, int]
    licensed_site: int


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195.0, point[1]


async def load_definitions(db: AsyncSession) -> None:
    from rounds.definitions.loader import load_documents
    from rounds.extensions import activate
    from rounds.runtime.definitions.service import sync

    active = activate(ENABLED)
    docs, problems = load_documents([REPO / "definitions", *active.definition_dirs()])
    assert not problems, problems
    await sync(db, docs)


async def seed(db: AsyncSession) -> City:
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.service import create_site

    await create_org_unit(db, code="city", kind="city", name_zh="市公司", name_en="City")
    await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                          name_en="East station", parent_code="city")
    users = {}
    for name, role, unit in ((APPLICANT, "licence_applicant", "east"),
                             (OTHER, "licence_applicant", "east"),
                             (HEAD, "licence_reviewer", "east"),
                             (CITY_HEAD, "licence_reviewer", "city"),
                             (INSPECTOR, "licence_inspector", "east")):
        u = await create_user(db, username=name, display_name=name, role_id=role,
                              org_unit_code=unit, password=PASSWORD, language="zh")
        users[name] = u.id
    site = await create_site(db, None, site_kind="retailer", code="430100000001",
                             name="芙蓉烟酒店", lat=SHOP_AT[0], lng=SHOP_AT[1], org_unit="east",
                             address="芙蓉中路 1 号", attributes={
                                 "licence_no": "430100000001", "shop_name": "芙蓉烟酒店",
                                 "owner_name": "王", "grade": 5,
                                 "delivery_cycle": "weekly",
                                 "business_type": "tobacco_alcohol_shop"})
    await db.flush()
    return City(users, site.id)


async def principal(db: AsyncSession, username: str) -> Any:
    from rounds.runtime.people.auth import principal_for
    from rounds.runtime.people.models import User

    user = (await db.execute(select(User).where(User.username == username))).scalar_one()
    return await principal_for(db, user)


async def migrated(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from rounds.db import create_engine, session_factory
    from rounds.extensions import activate
    from rounds.migrate import upgrade

    active = activate(ENABLED)
    await asyncio.to_thread(upgrade, url, extensions=active)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
