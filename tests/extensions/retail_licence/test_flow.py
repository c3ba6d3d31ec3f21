"""The application's whole way on both databases, through the service: applying (every
mistake at its field), the steps, the inspection's distance rule (too close fails, far
passes), the decision issuing the licence on a new site, the panel on /shop; the statutory
limit's reminder and escalation, once; renewal reminders."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from extensions.retail_licence import city as c
from rounds.db import transaction
from rounds.errors import InvalidInput
from support.fieldwork import png_bytes

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Changsha


@pytest.fixture
async def rl(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async for sessions in c.migrated(database_url):
        async with transaction(sessions) as db:
            await c.load_definitions(db)
        yield sessions


async def _photo(db: AsyncSession, tmp: Path, who: Any, seed: int) -> str:
    from rounds.runtime.storage.service import upload
    from rounds.runtime.storage.store import photo_store

    return (await upload(db, photo_store(tmp), who, png_bytes(seed))).id


async def _apply(db: AsyncSession, tmp: Path, username: str, metres: float,
                 area: str = "urban", now: datetime = NOW) -> Any:
    from rounds_retail_licence import service

    who = await c.principal(db, username)
    lat, lng = c.north_of(c.SHOP_AT, metres)
    docs = [service.DocumentIn("id_card", await _photo(db, tmp, who, 1)),
            service.DocumentIn("premises_proof", await _photo(db, tmp, who, 2))]
    return await service.apply(db, who, service.ApplicationIn(
        shop_name="新开便利店", address="芙蓉中路 9 号", owner_name="陈", phone="13800000009",
        business_type="convenience_store", market_area=area, lat=lat, lng=lng,
        documents=docs), now=now, tz=TZ)


async def _to_inspection(db: AsyncSession, app_id: int, users: dict[str, int]) -> None:
    from rounds_retail_licence import service

    head = await c.principal(db, c.HEAD)
    await service.check_documents(db, head, app_id, now=NOW)
    await service.schedule_inspection(db, head, app_id, inspector_id=users[c.INSPECTOR],
                                      on=date(2026, 12, 3), now=NOW, tz=TZ)


async def _inspect(db: AsyncSession, tmp: Path, app_id: int) -> Any:
    from rounds_retail_licence import service

    inspector = await c.principal(db, c.INSPECTOR)
    _, content_hash, _ = await service.inspection_version(db)
    body = {"id": str(uuid.uuid4()), "definition_id": service.INSPECTION_STANDARD,
            "version": content_hash, "visit_id": None, "evidence": {},
            "answers": {"inspection_location": {"lat": c.SHOP_AT[0], "lng": c.SHOP_AT[1],
                                                "accuracy_m": 8},
                        "premises_match": "yes", "owner_matches": "yes",
                        "trading_ready": "yes", "no_school_nearby": "yes",
                        "premises_photos": [await _photo(db, tmp, inspector, 9)]}}
    return await service.record_inspection(db, inspector, app_id, json.dumps(body).encode(),
                                           now=NOW, tz=TZ, lang="zh")


async def test_applying_names_every_mistake_at_its_field(rl: Any, tmp_path: Path) -> None:
    from rounds_retail_licence import service

    async with transaction(rl) as db:
        await c.seed(db)
        who = await c.principal(db, c.APPLICANT)
        with pytest.raises(InvalidInput) as caught:
            await service.apply(db, who, service.ApplicationIn(
                shop_name="", address="x" * 201, owner_name="陈", phone="call me",
                business_type="casino", market_area="",
                documents=[service.DocumentIn("id_card", "no-such-photo"),
                           service.DocumentIn("passport", "x")]), now=NOW, tz=TZ)
    pointers = {(p.pointer, p.code) for p in caught.value.problems}
    assert pointers == {("/shop_name", "required"), ("/address", "max_length"),
                        ("/phone", "pattern"), ("/business_type", "enum"),
                        ("/market_area", "required"), ("/position", "required"),
                        ("/documents/1/kind", "enum"),
                        ("/documents/premises_proof", "required"),
                        ("/documents/id_card", "unknown_photo")}


async def test_the_whole_way_too_close_fails_then_far_passes_and_the_licence_is_issued(
        rl: Any, tmp_path: Path) -> None:
    from rounds_retail_licence import service, states
    from rounds_retail_licence.models import LicenceApplicationEvent

    from rounds.runtime.people.models import User
    from rounds.runtime.sites.models import Site
    from rounds.runtime.sites.panels import panels_for

    async with transaction(rl) as db:
        town = await c.seed(db)
        near = await _apply(db, tmp_path, c.APPLICANT, 30)  # urban: 50 m at least
        far = await _apply(db, tmp_path, c.OTHER, 80)
        assert near.state == states.SUBMITTED
        assert near.deadline == date(2026, 12, 29)  # 20 working days after 1 December
        for app in (near, far):
            await _to_inspection(db, app.id, town.users)
        near = await _inspect(db, tmp_path, near.id)
        far = await _inspect(db, tmp_path, far.id)
        assert near.state == far.state == states.INSPECTED
        assert near.inspection["passed"] is False
        assert "nearest_distance" in near.inspection["failed"]
        assert [a["code"] for a in near.inspection["alerts"]] == ["too_close"]
        assert 29 < near.inspection["evaluation"]["calculated"]["nearest_distance"] < 31
        assert far.inspection["passed"] is True and far.inspection["failed"] == []

        head = await c.principal(db, c.HEAD)
        with pytest.raises(InvalidInput) as caught:  # a refusal says why
            await service.decide(db, head, near.id, decision="refuse", note="", now=NOW, tz=TZ)
        assert [p.pointer for p in caught.value.problems] == ["/note"]
        await service.decide(db, head, near.id, decision="refuse", note="间距不足", now=NOW,
                             tz=TZ)
        assert near.state == states.REFUSED and near.licence_number is None
        await service.decide(db, head, far.id, decision="grant", note="", now=NOW, tz=TZ)
        assert far.state == states.ISSUED
        assert far.licence_number == f"2026{far.id:08d}"
        assert (far.valid_from, far.valid_until) == (date(2026, 12, 1), date(2031, 11, 30))
        site = await db.get(Site, far.site_id)
        assert site is not None and site.site_kind == "retailer"
        assert site.attributes["licence_no"] == far.licence_number
        assert site.attributes["licence_expires_on"] == "2031-11-30"
        user = (await db.execute(select(User).where(User.username == c.OTHER))).scalar_one()
        assert user.site_id == site.id  # the applicant's account acts for the new shop
        steps = (await db.execute(select(LicenceApplicationEvent.action, LicenceApplicationEvent
                                         .from_state, LicenceApplicationEvent.to_state)
                                  .where(LicenceApplicationEvent.application_id == far.id)
                                  .order_by(LicenceApplicationEvent.id))).all()
        assert [tuple(s) for s in steps] == [
            ("submit", None, "submitted"),
            ("check_documents", "submitted", "documents_checked"),
            ("schedule_inspection", "documents_checked", "inspection_scheduled"),
            ("record_inspection", "inspection_scheduled", "inspected"),
            ("decide", "inspected", "decided"), ("issue", "decided", "issued")]

    async with transaction(rl) as db:  # a new principal: the account has its shop now
        shop = await c.principal(db, c.OTHER)
        assert shop.site_id == far.site_id
        panels = await panels_for(db, shop, shop.site_id, "zh")
        licence = [p for p in panels if p.title == "烟草专卖零售许可证"]
        assert licence and licence[0].tone == "good"
        assert ("许可证号", far.licence_number) in licence[0].rows
        assert ("有效期至", "2031年11月30日") in licence[0].rows
        stranger = await c.principal(db, c.APPLICANT)  # another shop sees nothing of it
        assert not [p for p in await panels_for(db, stranger, far.site_id, "zh")
                    if p.title == "烟草专卖零售许可证"]
        assert town.licensed_site != far.site_id
        head = await c.principal(db, c.HEAD)  # the site's history, for its unit's reviewer
        seen = [p for p in await panels_for(db, head, far.site_id, "en")
                if p.title == "Tobacco retail licence"]
        assert seen and seen[0].status == "Licence in force"


async def _count(db: AsyncSession, kind: str) -> list[int]:
    from rounds.runtime.notifications.models import Notification

    return sorted(u for (u,) in (await db.execute(
        select(Notification.user_id).where(Notification.kind == kind))).all())


async def test_the_statutory_limit_reminds_then_escalates_once(rl: Any, tmp_path: Path) -> None:
    from rounds_retail_licence import service
    from rounds_retail_licence.models import LicenceApplicationEvent

    async with transaction(rl) as db:
        town = await c.seed(db)
        app = await _apply(db, tmp_path, c.APPLICANT, 200)
        assert app.deadline == date(2026, 12, 29)
        # 23 December (Wednesday): 4 working days left, nothing yet.
        assert await service.remind_and_escalate(db, datetime(2026, 12, 23, 2, tzinfo=UTC),
                                                 TZ) == 0
        # 24 December: 3 working days left: the station's reviewer, once.
        soon = datetime(2026, 12, 24, 2, tzinfo=UTC)
        assert await service.remind_and_escalate(db, soon, TZ) == 1
        assert await service.remind_and_escalate(db, soon, TZ) == 0
        assert await _count(db, "licence_due_soon") == [town.users[c.HEAD]]
        assert await _count(db, "licence_overdue") == []
        # On the day itself it is not late yet; the next working day it is.
        assert await service.remind_and_escalate(db, datetime(2026, 12, 29, 2, tzinfo=UTC),
                                                 TZ) == 0
        late = datetime(2026, 12, 30, 2, tzinfo=UTC)
        assert await service.remind_and_escalate(db, late, TZ) == 1
        assert await service.remind_and_escalate(db, late + timedelta(days=3), TZ) == 0
        assert await _count(db, "licence_overdue") == [town.users[c.CITY_HEAD]]
        actions = (await db.execute(select(func.count()).where(
            LicenceApplicationEvent.application_id == app.id,
            LicenceApplicationEvent.action.in_(("reminded", "escalated"))))).scalar_one()
        assert actions == 2


async def test_renewal_reminders_90_and_30_days_before_expiry(rl: Any, tmp_path: Path
                                                               ) -> None:
    from rounds_retail_licence import service

    async with transaction(rl) as db:
        town = await c.seed(db)
        app = await _apply(db, tmp_path, c.OTHER, 200)
        await _to_inspection(db, app.id, town.users)
        await _inspect(db, tmp_path, app.id)
        await service.decide(db, await c.principal(db, c.HEAD), app.id, decision="grant",
                             note="", now=NOW, tz=TZ)
        until = app.valid_until
        assert until is not None

        def at(days_before: int) -> datetime:
            d = until - timedelta(days=days_before)
            return datetime(d.year, d.month, d.day, 2, tzinfo=UTC)

        assert await service.remind_renewals(db, at(91), TZ) == 0
        assert await service.remind_renewals(db, at(90), TZ) == 1
        assert await service.remind_renewals(db, at(60), TZ) == 0  # the 90 days' once
        assert await service.remind_renewals(db, at(30), TZ) == 1
        assert await service.remind_renewals(db, at(2), TZ) == 0
        assert await _count(db, "licence_renewal") == [town.users[c.OTHER]] * 2


async def test_two_reviewers_at_once_one_step_is_taken(rl: Any, tmp_path: Path) -> None:
    """The second of two reviewers who read the application before either acted is refused
    (409), not applied on top of the first: the UPDATE names the version read."""
    from rounds_retail_licence import service
    from rounds_retail_licence.states import WrongState

    async with transaction(rl) as db:
        town = await c.seed(db)
        app_id = (await _apply(db, tmp_path, c.APPLICANT, 200)).id
    async with rl() as first, first.begin():
        head = await c.principal(first, c.HEAD)
        seen, _ = await service.load(first, head, app_id)  # read by the first: submitted
        async with transaction(rl) as second:  # the second takes the step meanwhile
            other = await c.principal(second, c.CITY_HEAD)
            await service.check_documents(second, other, app_id, now=NOW)
        with pytest.raises(WrongState, match="meanwhile"):
            await service.check_documents(first, head, app_id, now=NOW)
        assert seen is not None  # (kept: the session holds it as it was read)
    assert town.users
