"""Survey campaigns on SQLite and PostgreSQL: drafted, opened (pinning the survey version),
closed; whom they ask (by unit with the units below, by grade; a follow-visit campaign once
per visit); who may answer (the targeted shop once, an industry user, not staff)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.errors import Forbidden
from rounds.runtime.definitions import service as definitions
from rounds.runtime.notifications.models import Notification
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.service import create_user
from rounds.runtime.sites.models import Site
from rounds.runtime.surveys import service
from rounds.runtime.surveys.models import SurveyCampaign
from rounds.runtime.surveys.responses import AlreadyAnswered, campaign_form
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.service import check_out
from support.fieldwork import PASSWORD, Field, load_definitions, principal, seed

Sessions = async_sessionmaker[AsyncSession]
SURVEY = "retailer_satisfaction"
UTC = dt.UTC


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        for name, role, unit, shop in (("owner_a", "retailer_user", "north", "shop_a"),
                                       ("owner_b", "retailer_user", "south", "shop_b"),
                                       ("maker", "industry_user", "city", None)):
            user = await create_user(db, username=name, display_name=name, role_id=role,
                                     org_unit_code=unit, password=PASSWORD,
                                     site_id=field.sites[shop] if shop else None)
            field.users[name] = user.id
        return field


async def unit_id(db: AsyncSession, code: str) -> int:
    return int((await db.execute(select(OrgUnit.id).where(OrgUnit.code == code))).scalar_one())


def period(days_before: int = 1, days_after: int = 10) -> dict[str, str]:
    today = utcnow().date()
    return {"start": (today - dt.timedelta(days=days_before)).isoformat(),
            "end": (today + dt.timedelta(days=days_after)).isoformat()}


async def opened(sessions: Sessions, **spec: Any) -> int:
    raw = {"title": "满意度", "survey": SURVEY, "audience": "retailer",
           "target_responses": 10, "period": period(), **spec}
    async with transaction(sessions) as db:
        leader = await principal(db, "li")
        campaign = await service.create_campaign(db, leader, raw, tz=UTC)
        await service.open_campaign(db, leader, campaign.id)
        return campaign.id


def answers(**more: Any) -> bytes:
    a: dict[str, Any] = {"customer_manager_service": 5, "delivery_rating": 4,
                         "market_supervision": 4, "supply_fit": 3, "complaint_handling": 5,
                         "overall_satisfaction": "satisfied", **more}
    return msgspec.json.encode({"answers": a})


async def asked(sessions: Sessions, shop: str, field: Field) -> list[service.Offer]:
    async with transaction(sessions) as db:
        site = await db.get(Site, field.sites[shop])
        assert site is not None
        return await service.asked_of_shop(db, site, utcnow())


async def test_targeting_by_unit_with_the_units_below_and_by_grade(sessions: Sessions,
                                                                   city: Field) -> None:
    async with transaction(sessions) as db:
        city_id, south = await unit_id(db, "city"), await unit_id(db, "south")
    whole_city = await opened(sessions, targeting={"org_units": [city_id]})
    south_only = await opened(sessions, targeting={"org_units": [south]})
    grade_3 = await opened(sessions, targeting={"grades": ["3"]})
    grade_1 = await opened(sessions, targeting={"grades": ["1"]})
    ids = {o.campaign.id for o in await asked(sessions, "shop_a", city)}
    assert whole_city in ids and grade_3 in ids
    assert south_only not in ids and grade_1 not in ids
    assert south_only in {o.campaign.id for o in await asked(sessions, "shop_b", city)}


async def test_respond_targeted_once_untargeted_staff_and_industry(sessions: Sessions,
                                                                   city: Field) -> None:
    async with transaction(sessions) as db:
        north = await unit_id(db, "north")
    campaign_id = await opened(sessions, targeting={"org_units": [north]})
    first = str(uuid.uuid4())
    async with transaction(sessions) as db:
        stored = await service.respond(db, await principal(db, "owner_a"), campaign_id,
                                       first, answers())
    assert stored.created and stored.percentage is not None
    async with transaction(sessions) as db:  # a retry: the stored result
        again = await service.respond(db, await principal(db, "owner_a"), campaign_id,
                                      first, answers())
        assert not again.created and again.percentage == stored.percentage
    assert campaign_id not in {o.campaign.id for o in await asked(sessions, "shop_a", city)}
    async with transaction(sessions) as db:
        with pytest.raises(AlreadyAnswered):
            await service.respond(db, await principal(db, "owner_a"), campaign_id,
                                  str(uuid.uuid4()), answers())
        with pytest.raises(service.NotAsked):  # shop_b is in the south
            await service.respond(db, await principal(db, "owner_b"), campaign_id,
                                  str(uuid.uuid4()), answers())
        with pytest.raises(Forbidden):  # staff answer no surveys
            await service.respond(db, await principal(db, "zhang"), campaign_id,
                                  str(uuid.uuid4()), answers())
        with pytest.raises(service.NotAsked):  # an industry user: not a retailer campaign
            await service.respond(db, await principal(db, "maker"), campaign_id,
                                  str(uuid.uuid4()), answers())
    async with transaction(sessions) as db:
        leader = await principal(db, "li")
        view = await service.get_campaign(db, leader, campaign_id)
        assert view.responses == 1


async def test_an_industry_user_answers_an_industry_campaign(sessions: Sessions,
                                                             city: Field) -> None:
    async with transaction(sessions) as db:  # an industry survey: the retailer one, re-aimed
        current = await definitions.get_version(db, SURVEY)
        content = {**current.content, "id": "industry_view", "audience": "industry"}
        draft = await definitions.save_draft(db, content)
        await definitions.publish(db, "industry_view", draft.number)
    campaign_id = await opened(sessions, survey="industry_view", audience="industry")
    async with transaction(sessions) as db:
        maker = await principal(db, "maker")
        assert [o.campaign.id for o in await service.my_surveys(db, maker)] == [campaign_id]
        await service.respond(db, maker, campaign_id, str(uuid.uuid4()), answers())
        assert await service.my_surveys(db, maker) == []
        with pytest.raises(service.NotAsked):
            await service.respond(db, await principal(db, "owner_a"), campaign_id,
                                  str(uuid.uuid4()), answers())


async def add_visit(sessions: Sessions, field: Field, who: str, shop: str,
                    days_ago: float, *, still_open: bool = False) -> int:
    at = utcnow() - dt.timedelta(days=days_ago)
    async with transaction(sessions) as db:
        visit = Visit(user_id=field.users[who], site_id=field.sites[shop], method="qr",
                      checked_in_at=at, flags={},
                      checked_out_at=None if still_open else at + dt.timedelta(minutes=5))
        db.add(visit)
        await db.flush()
        return visit.id


async def test_follow_visit_offers_once_per_visit(sessions: Sessions, city: Field) -> None:
    campaign_id = await opened(sessions, period=period(days_before=20),
                               follow_visit={"within_days": 3, "roles": ["customer_manager"]})
    recent = await add_visit(sessions, city, "zhang", "shop_a", 1)
    await add_visit(sessions, city, "zhang", "shop_a", 5)  # outside the 3 days
    await add_visit(sessions, city, "zhao", "shop_a", 1)  # a station head: another role
    offers = [o for o in await asked(sessions, "shop_a", city) if o.campaign.id == campaign_id]
    assert [(o.visit_id, o.staff_name) for o in offers] == [(recent, "zhang")]
    async with transaction(sessions) as db:
        owner = await principal(db, "owner_a")
        with pytest.raises(service.NotAsked):  # a visit the campaign does not follow
            await service.respond(db, owner, campaign_id, str(uuid.uuid4()), answers(),
                                  about_visit_id=recent + 1)
        await service.respond(db, owner, campaign_id, str(uuid.uuid4()), answers(),
                              about_visit_id=recent)
    assert not [o for o in await asked(sessions, "shop_a", city) if o.campaign.id == campaign_id]
    later = await add_visit(sessions, city, "zhang", "shop_a", 0.01, still_open=True)
    offers = [o for o in await asked(sessions, "shop_a", city) if o.campaign.id == campaign_id]
    assert [o.visit_id for o in offers] == [later]
    async with transaction(sessions) as db:  # the check-out tells the shop's account
        await check_out(db, await principal(db, "zhang"), later)
    async with transaction(sessions) as db:
        told = (await db.execute(select(Notification).where(
            Notification.user_id == city.users["owner_a"]))).scalars().all()
    assert [n.link for n in told] == [f"/surveys/{campaign_id}/answer?visit={later}"]


async def test_open_pins_the_version_and_closing_ends_it(sessions: Sessions,
                                                         city: Field) -> None:
    campaign_id = await opened(sessions)
    async with transaction(sessions) as db:
        pinned = (await db.get(SurveyCampaign, campaign_id))
        assert pinned is not None
        before = pinned.version_id
        current = await definitions.get_version(db, SURVEY)
        title = {"zh": "新版满意度调查", "en": "New satisfaction survey"}
        draft = await definitions.save_draft(db, {**current.content, "title": title})
        await definitions.publish(db, SURVEY, draft.number)
    async with transaction(sessions) as db:
        campaign = await db.get(SurveyCampaign, campaign_id)
        assert campaign is not None and campaign.version_id == before
        form = await campaign_form(db, campaign)
        assert form.version_id == before and form.content_hash == current.content_hash
        leader = await principal(db, "li")
        with pytest.raises(service.CampaignNotDraft):
            await service.update_campaign(db, leader, campaign_id, {}, tz=UTC)
        await service.close_campaign(db, leader, campaign_id)
        with pytest.raises(service.CampaignClosed):
            await service.open_campaign(db, leader, campaign_id)
    assert campaign_id not in {o.campaign.id for o in await asked(sessions, "shop_a", city)}
