"""A consumer's complaint becomes an issue routed by the rules in the consumer role's
definition (SQLite and PostgreSQL): counterfeit cigarettes to the enforcement officer of the
shop's unit (the city's when no shop is named), a shop's service to its customer manager,
both accepted by the station head; every problem at once; no contact kept without consent,
and the contact shown only to the assignee and the assigner."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.errors import InvalidInput
from rounds.runtime.issues.complaints import CONSUMER_COMPLAINT, file_complaint
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.issues.queries import get_issue
from rounds.runtime.people.service import create_user
from support.fieldwork import PASSWORD, Field, load_definitions, principal, seed

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        for name, unit in (("officer_n", "north"), ("officer_city", "city")):
            user = await create_user(db, username=name, display_name=name,
                                     role_id="enforcement_officer", org_unit_code=unit,
                                     password=PASSWORD, language="zh")
            field.users[name] = user.id
        return field


async def test_complaints_are_routed_by_the_topic_rule(sessions: Sessions, city: Field) -> None:
    async with transaction(sessions) as db:
        fake = await file_complaint(db, topic="fake_cigarettes", shop="shop_a", now=utcnow(),
                                    text="店里卖的中华烟包装有问题，疑似假烟。")
        no_shop = await file_complaint(db, topic="fake_cigarettes", now=utcnow(),
                                       text="路边流动摊贩在卖来路不明的卷烟。")
        service = await file_complaint(db, topic="service", shop="Shop A", now=utcnow(),
                                       text="店主态度很差。", contact="13800000000",
                                       consent=True)
    assert fake.site_id == city.sites["shop_a"]
    assert fake.assignee_id == city.users["officer_n"]  # the shop's unit (north)
    assert fake.assigner_id == city.users["zhao"]  # the station head of north
    assert no_shop.site_id is None and no_shop.assignee_id == city.users["officer_city"]
    assert service.assignee_id == city.users["zhang"]  # shop_a's customer manager
    assert service.assigner_id == city.users["zhao"]
    async with sessions() as db:
        issues = {i.id: i for i in (await db.execute(select(Issue))).scalars()}
        assert {issues[f.issue_id].source for f in (fake, no_shop, service)} == \
            {CONSUMER_COMPLAINT}
        assert all(issues[f.issue_id].reporter_id is None for f in (fake, no_shop, service))
        assert issues[fake.issue_id].severity == "high"
        assert issues[fake.issue_id].title.startswith("假冒或非法渠道卷烟：")
        created = (await db.execute(select(IssueEvent.data).where(
            IssueEvent.issue_id == service.issue_id, IssueEvent.action == "created"))
        ).scalar_one()
        assert created["contact"] == "13800000000" and created["topic"] == "service"
        # the assignee sees the contact; the city leader, who may see the issue, does not
        mine = await get_issue(db, await principal(db, "zhang"), service.issue_id, now=utcnow())
        theirs = await get_issue(db, await principal(db, "li"), service.issue_id, now=utcnow())
    assert next(e for e in mine.events if e.action == "created").data["contact"]
    assert "contact" not in next(e for e in theirs.events if e.action == "created").data


async def test_every_problem_at_once_and_no_contact_without_consent(
        sessions: Sessions, city: Field) -> None:
    async with transaction(sessions) as db:
        with pytest.raises(InvalidInput) as bad:
            await file_complaint(db, topic="nonsense", shop="no such shop", text="  ",
                                 contact="13800000000", consent=False, now=utcnow())
    assert {(p.pointer, p.code) for p in bad.value.problems} == {
        ("/topic", "enum"), ("/shop", "unknown_shop"), ("/text", "required"),
        ("/consent", "consent_required")}
    async with sessions() as db:
        assert (await db.execute(select(Issue))).first() is None
