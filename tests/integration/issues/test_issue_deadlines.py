"""Reminders and escalations, recomputed from the issues, on SQLite and PostgreSQL: once each,
however often (or however concurrently) the jobs run, and one org level a day."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from issue_support import NOW, Loop, aware

from rounds.runtime.issues import deadlines, lifecycle, sources
from rounds.runtime.issues.views import IssueDetail


async def issue_due(loop: Loop, due_in: timedelta, *, site: str = "RA1",
                    assignee: str = "cm_a", by: str = "head_a") -> IssueDetail:
    created = NOW - timedelta(days=5)
    return await loop.run(by, sources.assign_issue, now=created,
                          site_id=loop.world.sites[site], title="门头破损",
                          assignee_id=loop.uid(assignee), due_at=NOW + due_in)


async def test_due_soon_reminds_the_assignee_once(loop: Loop) -> None:
    soon = await issue_due(loop, timedelta(hours=10))
    later = await issue_due(loop, timedelta(days=3))
    late = await issue_due(loop, -timedelta(hours=1))  # overdue: escalation's business
    assert await loop.system(deadlines.remind_due_soon, NOW) == 1
    assert await loop.system(deadlines.remind_due_soon, NOW + timedelta(minutes=5)) == 0
    reminders = await loop.inbox("cm_a", "issue_due_soon")
    assert [n.issue_id for n in reminders] == [soon.id]
    assert reminders[0].message["en"] == "Issue due soon: 门头破损 (within 10 h)"
    assert aware((await loop.issue(soon.id)).reminded_at) == NOW
    assert (await loop.events(soon.id))[-1].action == "reminded"
    assert (await loop.issue(later.id)).reminded_at is None
    assert (await loop.issue(late.id)).reminded_at is None
    # The version stays: a reminder makes nobody's pending action stale.
    assert (await loop.issue(soon.id)).version == soon.version
    # A wider window picks the later one up, once.
    assert await loop.system(deadlines.remind_due_soon, NOW, timedelta(days=4)) == 1
    assert await loop.system(deadlines.remind_due_soon, NOW, timedelta(days=4)) == 0


async def test_reminders_run_concurrently_remind_once(loop: Loop, database_url: str) -> None:
    await issue_due(loop, timedelta(hours=2))
    await issue_due(loop, timedelta(hours=3))
    if database_url.startswith("sqlite"):
        runs = [await loop.system(deadlines.remind_due_soon, NOW) for _ in range(2)]
    else:
        runs = list(await asyncio.gather(*(loop.system(deadlines.remind_due_soon, NOW)
                                           for _ in range(4))))
    assert sum(runs) == 2
    assert len(await loop.inbox("cm_a", "issue_due_soon")) == 2


async def test_finished_issues_are_neither_reminded_nor_escalated(loop: Loop) -> None:
    issue = await issue_due(loop, timedelta(hours=2))
    await loop.run("head_a", lifecycle.cancel, issue.id, version=issue.version, now=NOW,
                   reason="a duplicate")
    assert await loop.system(deadlines.remind_due_soon, NOW) == 0
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(days=3)) == 0


async def test_overdue_issues_escalate_one_level_a_day(loop: Loop) -> None:
    # RA1 is in area A1 (under station A, under the city).
    issue = await issue_due(loop, -timedelta(hours=2))
    assert await loop.system(deadlines.escalate_overdue, NOW) == 1
    first = await loop.issue(issue.id)
    assert first.escalation_level == 1 and aware(first.escalated_at) == NOW
    assert first.escalated_to_unit_id == loop.world.units["st_a"]
    # Told: those who may verify or view issues in station A (its head).
    told = await loop.inbox("head_a", "issue_escalated")
    assert len(told) == 1 and told[0].issue_id == issue.id
    assert await loop.inbox("leader", "issue_escalated") == []

    # Again the same day (or concurrently): nothing more.
    assert await loop.system(deadlines.escalate_overdue, NOW) == 0
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(hours=12)) == 0
    assert len(await loop.inbox("head_a", "issue_escalated")) == 1

    # A day later: the city (its leader and the administrator, who views every issue).
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(days=1)) == 1
    second = await loop.issue(issue.id)
    assert second.escalation_level == 2
    assert second.escalated_to_unit_id == loop.world.units["city"]
    assert len(await loop.inbox("leader", "issue_escalated")) == 1
    assert len(await loop.inbox("admin", "issue_escalated")) == 1
    assert len(await loop.inbox("head_a", "issue_escalated")) == 1
    # The top: nothing further, ever.
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(days=2)) == 0
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(days=9)) == 0
    trail = [(e.action, e.data.get("level"), e.data.get("to_unit_id"))
             for e in await loop.events(issue.id) if e.action == "escalated"]
    assert trail == [("escalated", 1, loop.world.units["st_a"]),
                     ("escalated", 2, loop.world.units["city"])]
    message = (await loop.inbox("leader", "issue_escalated"))[0].message
    assert message["zh"] == "逾期督办至city：门头破损（已逾期26小时）"
    assert told[0].message["en"] == "Overdue issue escalated to st_a: 门头破损 (overdue by 2 h)"


async def test_escalation_from_a_station_goes_to_the_city(loop: Loop) -> None:
    issue = await issue_due(loop, -timedelta(days=2), site="RB1", assignee="cm_b",
                            by="head_b")
    assert await loop.system(deadlines.escalate_overdue, NOW) == 1
    assert (await loop.issue(issue.id)).escalated_to_unit_id == loop.world.units["city"]
    assert await loop.inbox("head_a", "issue_escalated") == []
    assert await loop.system(deadlines.escalate_overdue, NOW + timedelta(days=1)) == 0


async def test_escalation_run_concurrently_escalates_once(loop: Loop, database_url: str
                                                          ) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time")
    await issue_due(loop, -timedelta(hours=2))
    await issue_due(loop, -timedelta(hours=5))
    runs = await asyncio.gather(*(loop.system(deadlines.escalate_overdue, NOW)
                                  for _ in range(4)))
    assert sum(runs) == 2
    assert len(await loop.inbox("head_a", "issue_escalated")) == 2
