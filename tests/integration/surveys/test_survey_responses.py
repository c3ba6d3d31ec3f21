"""A survey response stored once, on SQLite and PostgreSQL: scored in the survey's model, a
retry answered with the stored result, the id reused for other content refused, a device or
a token held to one response, and nothing taken once the campaign is closed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.forms.compiled import SubmissionInvalid
from rounds.runtime.definitions.service import get_version
from rounds.runtime.surveys.models import CONSUMER, OPEN, SurveyCampaign, SurveyResponse
from rounds.runtime.surveys.responses import (
    AlreadyAnswered,
    CampaignNotOpen,
    Respondent,
    ResponseIdConflict,
    store_response,
)
from support.fieldwork import Field, load_definitions, seed

Sessions = async_sessionmaker[AsyncSession]
SURVEY = "retailer_satisfaction"


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        return await seed(db)


async def open_campaign(db: AsyncSession, field: Field, **changes: Any) -> SurveyCampaign:
    version = await get_version(db, SURVEY)
    now = utcnow()
    campaign = SurveyCampaign(
        title="满意度", survey_id=SURVEY, version_id=version.id, audience=CONSUMER,
        targeting={}, follow_visit=None, target_responses=10,
        period_start=now.date(), period_end=now.date() + dt.timedelta(days=7),
        opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=7),
        status=OPEN, created_by=field.users["zhang"], **changes)
    db.add(campaign)
    await db.flush()
    return campaign


def answers(overall: str = "satisfied", **more: Any) -> bytes:
    a: dict[str, Any] = {"customer_manager_service": 5, "delivery_rating": 4,
                         "market_supervision": 4, "supply_fit": 3, "complaint_handling": 5,
                         "overall_satisfaction": overall, **more}
    return msgspec.json.encode({"answers": a})


async def reload(db: AsyncSession, campaign_id: int) -> SurveyCampaign:
    found = await db.get(SurveyCampaign, campaign_id)
    assert found is not None
    return found


async def count(db: AsyncSession) -> int:
    return (await db.execute(select(func.count()).select_from(SurveyResponse))).scalar_one()


async def test_stored_once_scored_and_held_to_one_per_device(sessions: Sessions,
                                                             city: Field) -> None:
    rid = str(uuid.uuid4())
    device = Respondent(CONSUMER, site_id=city.sites["shop_a"], device_hash="d" * 64)
    async with transaction(sessions) as db:
        campaign = await open_campaign(db, city)
        first = await store_response(db, campaign, rid, answers(), device)
    assert first.created and first.percentage is not None and 0 < first.percentage < 100
    async with transaction(sessions) as db:
        campaign = await reload(db, campaign.id)
        again = await store_response(db, campaign, rid, answers(), device)
        assert not again.created and again.percentage == first.percentage
        with pytest.raises(ResponseIdConflict):
            await store_response(db, campaign, rid, answers("neutral"), device)
        with pytest.raises(AlreadyAnswered):  # the same device, a new response
            await store_response(db, campaign, str(uuid.uuid4()), answers(), device)
    async with transaction(sessions) as db:
        assert await count(db) == 1


async def test_a_token_once_bad_answers_and_a_closed_campaign(sessions: Sessions,
                                                            city: Field) -> None:
    async with transaction(sessions) as db:
        campaign = await open_campaign(db, city, one_per="token")
        token = Respondent(CONSUMER, token_nonce="n1")
        await store_response(db, campaign, str(uuid.uuid4()), answers(), token)
    async with transaction(sessions) as db:
        campaign = await reload(db, campaign.id)
        with pytest.raises(AlreadyAnswered):
            await store_response(db, campaign, str(uuid.uuid4()), answers(), token)
    async with transaction(sessions) as db:
        campaign = await reload(db, campaign.id)
        with pytest.raises(SubmissionInvalid) as bad:  # dissatisfied needs a reason
            await store_response(db, campaign, str(uuid.uuid4()),
                                 answers("dissatisfied", supply_fit=9), Respondent(CONSUMER))
        assert {p.pointer for p in bad.value.problems} >= {"/answers/supply_fit",
                                                           "/answers/suggestions"}
        campaign.closes_at = utcnow() - dt.timedelta(seconds=1)
        with pytest.raises(CampaignNotOpen):
            await store_response(db, campaign, str(uuid.uuid4()), answers(),
                                 Respondent(CONSUMER))
    async with transaction(sessions) as db:
        assert await count(db) == 1
