"""Survey responses of campaigns in the query store, on SQLite and PostgreSQL: counted with
the staff-submitted surveys in ``surveys.count`` and ``surveys.avg_percentage``, on the row
of the staff member they are about and of the shop's org unit, by the day they happened; a
response stored after a refresh picked up by the next one; the store equal to the live
figures.

The fixture (November 2026, Asia/Shanghai):

responses  R1 about cm_a, shop RA1 (area_a1), 11-02 10:00: 80 %
           R2 about cm_a, shop RA2 (area_a1), 11-03 09:00: 60 %
           R3 about cm_b, shop RB1 (st_b), 11-02 15:00: 100 %
           R4 about nobody (a consumer's), no shop, unit st_b, 11-03 20:00: no score
forms      S1 survey submitted by cm_a, no site, 11-02 12:00: 90 %
later      R5 about cm_b, shop RB1, 11-04 08:00, stored after the first refresh: 40 %
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from store_support import (
    SURVEY,
    TZ,
    Sessions,
    add_campaign,
    add_response,
    add_submission,
    local,
    month_equals_days,
    snapshot,
)

from rounds.db import transaction
from rounds.runtime.store import read, refresh
from rounds.runtime.store.live import live_metric_table
from rounds.runtime.surveys.models import SurveyCampaign
from support.field import Field, seed_field

D2, D3, D4 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)
NOV = (date(2026, 11, 1), date(2026, 11, 30))
METRICS = ["surveys.count", "surveys.avg_percentage", "submissions.count"]


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        world = await seed_field(db)
        campaign = await add_campaign(db, world)
        await add_response(db, world, campaign, happened_at=local(D2, 10), about="cm_a",
                           site="RA1", unit="area_a1", percentage=80.0, score=80.0)
        await add_response(db, world, campaign, happened_at=local(D3, 9), about="cm_a",
                           site="RA2", unit="area_a1", percentage=60.0, score=60.0)
        await add_response(db, world, campaign, happened_at=local(D2, 15), about="cm_b",
                           site="RB1", unit="st_b", percentage=100.0, score=100.0)
        await add_response(db, world, campaign, happened_at=local(D3, 20), unit="st_b")
        await add_submission(db, world, "cm_a", SURVEY, happened_at=local(D2, 12),
                             percentage=90.0, score=90.0)
    return world


async def both(sessions: Sessions, **ask: object) -> dict[int, dict[str, float | None]]:
    """The store's figures (checked equal to the live ones), as values."""
    async with sessions() as db:
        got = await read.metric_table(db, metrics=METRICS, first=NOV[0], last=NOV[1],
                                      **ask)  # type: ignore[arg-type]
        live = await live_metric_table(db, metrics=METRICS, first=NOV[0], last=NOV[1],
                                       tz=TZ, now=local(D4, 23), **ask)  # type: ignore[arg-type]
    assert read.differences(got, live) == []
    return {k: {m: f.value for m, f in row.items()} for k, row in got.items()}


async def test_responses_count_for_whom_they_are_about(sessions: Sessions, world: Field
                                                       ) -> None:
    await refresh.refresh(sessions, tz=TZ, now=local(D3, 23))
    cm_a, cm_b = world.users["cm_a"], world.users["cm_b"]
    everyone = await both(sessions, by="all")
    assert everyone[0]["surveys.count"] == 5  # four responses and cm_a's own survey
    assert everyone[0]["surveys.avg_percentage"] == pytest.approx((80 + 60 + 100 + 90) / 4)
    assert everyone[0]["submissions.count"] == 0  # standards only
    people = await both(sessions, by="user", user_ids=[cm_a, cm_b])
    assert people[cm_a]["surveys.count"] == 3
    assert people[cm_a]["surveys.avg_percentage"] == pytest.approx((80 + 60 + 90) / 3)
    assert people[cm_b]["surveys.count"] == 1
    assert people[cm_b]["surveys.avg_percentage"] == pytest.approx(100)
    u = world.units
    units = await both(sessions, by="org_unit",
                       unit_ids=[u["city"], u["st_a"], u["area_a1"], u["st_b"]])
    assert units[u["st_b"]]["surveys.count"] == 2  # R3, and the consumer's R4
    assert units[u["st_b"]]["surveys.avg_percentage"] == pytest.approx(100)
    assert units[u["area_a1"]]["surveys.count"] == 3  # R1, R2, and S1 (cm_a's unit)
    assert units[u["city"]]["surveys.count"] == 5
    # By the day it happened: the first of the two days only.
    async with sessions() as db:
        day = await read.metric_table(db, metrics=METRICS, first=D2, last=D2, by="all")
    assert day[0]["surveys.count"].value == 3


async def test_a_response_stored_later_is_picked_up(sessions: Sessions, world: Field
                                                    ) -> None:
    await refresh.refresh(sessions, tz=TZ, now=local(D3, 23))
    async with transaction(sessions) as db:
        campaign = (await db.execute(select(SurveyCampaign.id))).scalar_one()
        await add_response(db, world, campaign, happened_at=local(D4, 8),
                           about="cm_b", site="RB1", unit="st_b", percentage=40.0, score=40.0)
    report = await refresh.refresh(sessions, tz=TZ, now=local(D4, 23))
    assert D4 in report.days
    cm_b = world.users["cm_b"]
    people = await both(sessions, by="user", user_ids=[cm_b])
    assert people[cm_b]["surveys.count"] == 2
    assert people[cm_b]["surveys.avg_percentage"] == pytest.approx(70)
    await month_equals_days(sessions)
    # Rerunning changes nothing; a rebuild gives the same rows.
    before = await snapshot(sessions)
    await refresh.refresh(sessions, tz=TZ, now=local(D4, 23))
    assert await snapshot(sessions) == before
    await refresh.rebuild(sessions, NOV[0], D4, tz=TZ, now=local(D4, 23))
    assert await snapshot(sessions) == before
