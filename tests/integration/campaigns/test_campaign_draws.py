"""A campaign's draw inputs resolved from the database, on SQLite and PostgreSQL: a site an
inspector visited recently counts as served; sites other campaigns drew recently are not
drawn again; a superseded draw is kept as written."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.errors import NotFound, RoundsError
from rounds.runtime.campaigns import service
from rounds.runtime.campaigns.models import CampaignDraw
from rounds.runtime.visits import service as visits
from rounds.runtime.visits.models import Visit
from support.fieldwork import STANDARD, Field, load_definitions, principal, seed

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        return await seed(db)


def spec(**changes: Any) -> dict[str, Any]:
    today = dt.date.today()
    return {"standard": STANDARD, "population": {"site_kinds": ["retailer"]},
            "sample": {"count": 3}, "pool": {"roles": ["customer_manager"]},
            "period": {"start": today.isoformat(),
                       "end": (today + dt.timedelta(days=30)).isoformat()}} | changes


def teams(record: CampaignDraw) -> dict[int, list[int]]:
    return {d["site"]: d["team"] for s in record.result["strata"] for d in s["drawn"]}


async def test_a_recent_visit_counts_as_serving_the_site(sessions: Sessions, city: Field
                                                         ) -> None:
    zhang, wang = city.users["zhang"], city.users["wang"]
    async with transaction(sessions) as db:  # zhang was at shop C ten days ago
        db.add(Visit(user_id=zhang, site_id=city.sites["shop_c"], method="gps",
                     checked_in_at=utcnow() - dt.timedelta(days=10), flags={},
                     flagged=False))
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="One", spec=spec(), tz=dt.UTC)
        record = await service.draw_campaign(db, li, campaign.id)
    drawn = teams(record)
    assert drawn == {city.sites["shop_a"]: [wang], city.sites["shop_b"]: [zhang],
                     city.sites["shop_c"]: [wang]}


async def test_sites_drawn_by_another_campaign_are_not_drawn_again(
        sessions: Sessions, city: Field) -> None:
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        first = await service.create_campaign(db, li, title="First", spec=spec(), tz=dt.UTC)
        await service.draw_campaign(db, li, first.id)
        second = await service.create_campaign(db, li, title="Second", spec=spec(), tz=dt.UTC)
        record = await service.draw_campaign(db, li, second.id)
        again = await service.draw_campaign(db, li, first.id, reason="the pool changed")
    result = service.decoded_result(record)
    assert result.drawn == 0 and sorted(result.excluded_recently_drawn) == sorted(
        city.sites.values())
    async with sessions() as db:
        draws = (await db.execute(select(CampaignDraw).where(
            CampaignDraw.campaign_id == first.id).order_by(CampaignDraw.number))).scalars()
        kept, current = list(draws)
    assert kept.superseded_by == again.id and current.superseded_by is None
    assert kept.reason is None and current.reason == "the pool changed"


async def test_the_drawn_site_is_in_scope_only_during_the_period(sessions: Sessions,
                                                                 city: Field) -> None:
    later = dt.date.today() + dt.timedelta(days=5)
    period = {"start": later.isoformat(), "end": (later + dt.timedelta(days=10)).isoformat()}
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="Later", spec=spec(
            period=period), tz=dt.UTC)
        record = await service.draw_campaign(db, li, campaign.id)
    assert teams(record)[city.sites["shop_b"]] == [city.users["zhang"]]
    async with transaction(sessions) as db:
        zhang = await principal(db, "zhang")
        with pytest.raises(NotFound):  # drawn, but the period has not started
            await visits.check_in(db, zhang, qr_token=city.qr["shop_b"])
        # Listed ahead (the period has not ended), not yet in scope.
        assert city.sites["shop_b"] in {
            v.site.id for v in await service.my_campaign_visits(db, zhang)}


async def test_the_period_is_the_company_s_days_not_the_database_s(
        sessions: Sessions, city: Field) -> None:
    """A period is whole days in the company's time zone, whatever the database's date
    (UTC on SQLite). Far east of UTC (UTC+14) a period that ended on the company's yesterday
    is over, though from 10:00 UTC the database's date is still that day; far west (UTC-12)
    one that starts on the company's tomorrow has not begun, though before 12:00 UTC the
    database's date is already that day. Between them every hour of the day is covered."""
    east, west = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")
    east_today, west_today = dt.datetime.now(east).date(), dt.datetime.now(west).date()
    day = dt.timedelta(days=1)
    name = {i: n for n, i in city.users.items()}
    code = {i: c for c, i in city.sites.items()}

    async def drawn(title: str, tz: ZoneInfo, start: dt.date, end: dt.date
                    ) -> tuple[int, str, str]:
        async with transaction(sessions) as db:
            li = await principal(db, "li")
            campaign = await service.create_campaign(db, li, title=title, tz=tz, spec=spec(
                period={"start": start.isoformat(), "end": end.isoformat()},
                exclusions={"allow_repeat": True}))  # each may draw the others' sites
            # a drawn site with a team (one whose inspectors all serve it has none)
            site, team = next((s, t) for s, t in teams(
                await service.draw_campaign(db, li, campaign.id)).items() if t)
        return campaign.id, name[team[0]], city.qr[code[site]]

    # Open: a period from the company's today lets the drawn inspector check in (so the
    # refusals below are the period's doing).
    campaign_id, inspector, qr = await drawn("Open", east, east_today, east_today + 3 * day)
    async with transaction(sessions) as db:
        await visits.check_in(db, await principal(db, inspector), qr_token=qr)
        await service.close_campaign(db, await principal(db, "li"), campaign_id)
    for title, tz, start, end in (("Over", east, east_today - 3 * day, east_today - day),
                                  ("Not yet", west, west_today + day, west_today + 3 * day)):
        _, inspector, qr = await drawn(title, tz, start, end)
        async with transaction(sessions) as db:
            with pytest.raises(NotFound):
                await visits.check_in(db, await principal(db, inspector), qr_token=qr)


async def test_two_draws_at_once_store_one_and_refuse_the_other_clearly(
        sessions: Sessions, city: Field) -> None:
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="Once", spec=spec(), tz=dt.UTC)

    async def draw() -> CampaignDraw:
        async with transaction(sessions) as db:
            return await service.draw_campaign(db, await principal(db, "li"), campaign.id)

    outcomes = await asyncio.gather(draw(), draw(), return_exceptions=True)
    stored = [o for o in outcomes if isinstance(o, CampaignDraw)]
    refused = [o for o in outcomes if not isinstance(o, CampaignDraw)]
    # The one that lost is told in words with a stable code (PostgreSQL's row lock makes it
    # wait and see the first draw: a re-draw without its reason; SQLite's unique number),
    # never a raw database error.
    assert len(stored) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], RoundsError) and refused[0].code in (
        "campaign_drawn_meanwhile", "redraw_reason"), refused[0]
    async with sessions() as db:
        numbers = (await db.execute(select(CampaignDraw.number).where(
            CampaignDraw.campaign_id == campaign.id))).scalars().all()
    assert numbers == [1]
