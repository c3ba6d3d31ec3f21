"""The store's figures equal the live ones, on a randomised fixture, for every metric of the
catalogue, by person, org unit and for all, over whole months and partial ranges; after an
incremental refresh that had late submissions, issues closed, sent back and escalated, and
visits checked out since the store was filled.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from store_support import (
    STANDARD,
    SURVEY,
    TZ,
    Sessions,
    add_campaign,
    add_issue,
    add_plan,
    add_response,
    add_submission,
    add_visit,
    local,
    month_equals_days,
    snapshot,
)

from rounds.db import transaction
from rounds.definitions.metrics import CATALOGUE
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.store import read, refresh
from rounds.runtime.store.live import live_metric_table
from rounds.runtime.visits.models import Visit
from support.field import Field, seed_field

START = date(2026, 10, 1)
NOW_A = local(date(2026, 11, 20), 18)
NOW_B = local(date(2026, 12, 10), 18)
PEOPLE = ["cm_a", "cm_b", "mi_a", "head_a"]
SITES = {"cm_a": ["RA1", "RA2"], "cm_b": ["RB1"], "mi_a": ["RA1", "TS-A"],
         "head_a": ["RA2", "TS-A"]}
UNITS = ["city", "st_a", "area_a1", "st_b"]
SITE_UNIT = {"RA1": "area_a1", "RA2": "area_a1", "RB1": "st_b", "TS-A": "st_a"}
DEFINITIONS = [STANDARD, SURVEY, "leader_spot_check", "market_inspector_patrol"]
LEVELS = ["dissatisfied", "neutral", "satisfied", "very_satisfied"]


def moment(rng: random.Random, first: datetime, last: datetime) -> datetime:
    return first + timedelta(seconds=rng.randint(0, int((last - first).total_seconds())))


async def form(db: Any, world: Field, rng: random.Random, user: str, site: str, vid: int,
               at: datetime, stored: datetime) -> None:
    await add_submission(
        db, world, user, rng.choice([STANDARD, "leader_spot_check", "market_inspector_patrol"]),
        site=site, visit_id=vid, happened_at=at, submitted_at=stored,
        score=rng.choice([None, rng.uniform(0, 100)]),
        percentage=rng.choice([None, round(rng.uniform(0, 100), 3)]),
        passed=rng.choice([None, True, False]),
        failed=tuple(rng.sample(["i1", "i2", "i3"], rng.randint(0, 2))),
        alerts=rng.randint(0, 2))


async def fill(db: Any, world: Field, rng: random.Random, first: datetime, last: datetime,
               *, n: int, formless: list[tuple[int, str, str, datetime]]) -> list[int]:
    """Visits (with forms or not: those without go to ``formless``), forms without a visit,
    issues, between first and last. Returns the issue ids."""
    campaign = await add_campaign(db, world)
    rr = random.Random(n)  # the responses' own draws: the rest of the fixture is unchanged
    for _ in range(n):
        user = rng.choice(PEOPLE)
        site = rng.choice(SITES[user])
        at = moment(rng, first, last)
        vid = await add_visit(db, world, user, site, at, seconds=rng.randint(60, 3600),
                              flagged=rng.random() < 0.2)
        if rng.random() < 0.6:
            await form(db, world, rng, user, site, vid, at, at + timedelta(minutes=5))
        else:
            formless.append((vid, user, site, at))
        if rng.random() < 0.3:
            when = moment(rng, first, last)
            await add_submission(db, world, user, SURVEY, happened_at=when,
                                 site=rng.choice([None, site]),
                                 percentage=round(rng.uniform(0, 100), 2),
                                 score=rng.uniform(0, 10), alerts=rng.randint(0, 1))
        if rr.random() < 0.4:  # a shop's response about this visit, or a consumer's
            when = min(at + timedelta(hours=rr.randint(1, 60)), NOW_B - timedelta(hours=1))
            await add_response(db, world, campaign, happened_at=when,
                               about=rr.choice([None, user]),
                               site=rr.choice([None, site]),
                               unit=rr.choice([None, SITE_UNIT[site]]),
                               percentage=rr.choice([None, round(rr.uniform(0, 100), 2)]),
                               score=rr.choice([None, rr.uniform(0, 10)]),
                               outcome=rr.choice([None, *LEVELS]),
                               answers={"customer_manager_service": rr.choice(
                                   [1, 2, 3, 4, 5, 5, "na"]),
                                        "delivery_rating": rr.randint(1, 5)})
    ids = []
    for _ in range(n // 2):
        created = moment(rng, first, last)
        site = rng.choice([None, "RA1", "RA2", "RB1", "TS-A"])
        unit = SITE_UNIT[site] if site else rng.choice(UNITS)
        times: dict[str, Any] = {"due_at": created + timedelta(hours=rng.randint(-2, 120))}
        status = rng.choice(["open", "in_progress", "rectified", "verified", "closed",
                             "cancelled"])
        step = created
        if status in ("rectified", "verified", "closed"):
            step = times["assignee_signed_at"] = step + timedelta(hours=rng.randint(1, 50))
        if status in ("verified", "closed"):
            step = times["assigner_signed_at"] = step + timedelta(hours=rng.randint(0, 20))
        if status == "closed":
            step = times["closed_at"] = step + timedelta(minutes=rng.randint(0, 600))
        if status == "cancelled":
            step = step + timedelta(hours=rng.randint(1, 30))
        if rng.random() < 0.3:
            times["escalated_at"] = times["due_at"] + timedelta(hours=rng.randint(1, 30))
        cap = NOW_B - timedelta(hours=1)
        times = {k: min(v, cap) if k != "due_at" else v for k, v in times.items()}
        ids.append(await add_issue(
            db, world, unit=unit, site=site, created_at=created, status=status,
            source=rng.choice(["failed_item", "assigned", "complaint"]),
            assignee=rng.choice([None, *PEOPLE]), definition_id=rng.choice([None, *DEFINITIONS]),
            updated_at=min(step, cap), **times))
    return ids


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db)


async def test_store_equals_live_for_every_metric(sessions: Sessions, world: Field) -> None:
    rng = random.Random(12)
    async with transaction(sessions) as db:
        for month in ("2026-10", "2026-11", "2026-12"):
            for user, sites in SITES.items():
                for site in sites:
                    if rng.random() < 0.8:
                        await add_plan(db, world, month, user, site, rng.randint(1, 3))
        formless: list[tuple[int, str, str, datetime]] = []
        early = await fill(db, world, rng, local(START, 0), NOW_A - timedelta(hours=1), n=50,
                           formless=formless)
        # cm_b's visit still open when the store is filled
        open_visit = await add_visit(db, world, "cm_b", "RB1", NOW_A - timedelta(minutes=30),
                                     seconds=None)
    await refresh.refresh(sessions, tz=TZ, now=NOW_A)

    async with transaction(sessions) as db:
        # Late forms: done at visits before NOW_A, stored after it.
        assert len(formless) > 10
        for vid, user, site, at in formless[:10]:
            await form(db, world, rng, user, site, vid, at,
                       moment(rng, NOW_A, NOW_B - timedelta(hours=2)))
        await fill(db, world, rng, NOW_A + timedelta(hours=1), NOW_B - timedelta(hours=3),
                   n=30, formless=[])
        await db.execute(update(Visit).where(Visit.id == open_visit).values(
            checked_out_at=NOW_A + timedelta(minutes=10), duration_s=2400))
        later = NOW_A + timedelta(days=2)
        for issue_id in early[:6]:  # closed since
            await db.execute(update(Issue).where(Issue.id == issue_id).values(
                status="closed", closed_at=later, assigner_signed_at=later,
                assignee_signed_at=later, updated_at=later))
        for issue_id in early[6:9]:  # a rectification sent back: the day it counted on
            issue = await db.get(Issue, issue_id)
            assert issue is not None
            if issue.assignee_signed_at is not None:
                db.add(IssueEvent(issue_id=issue_id, at=issue.assignee_signed_at,
                                  action="rectified", data={}))
            await db.execute(update(Issue).where(Issue.id == issue_id).values(
                status="in_progress", assignee_signed_at=None, assigner_signed_at=None,
                closed_at=None, updated_at=later))
        for issue_id in early[9:12]:  # escalated again: updated_at does not change
            await db.execute(update(Issue).where(Issue.id == issue_id).values(
                escalated_at=later + timedelta(hours=3), escalation_level=2))
    report = await refresh.refresh(sessions, tz=TZ, now=NOW_B)
    assert report.kind == "incremental" and report.days
    await month_equals_days(sessions)

    metrics = sorted(m for m in CATALOGUE if not CATALOGUE[m].parameter)
    answers = sorted(m for m in CATALOGUE if CATALOGUE[m].parameter)
    ranges = [(date(2026, 11, 1), date(2026, 11, 30)), (START, date(2026, 11, 30)),
              (date(2026, 11, 10), date(2026, 12, 5)), (date(2026, 11, 21), date(2026, 11, 21)),
              (START, date(2026, 12, 10))]
    u = world.units
    asks: list[dict[str, Any]] = [{"by": by} for by in ("user", "org_unit", "all")]
    asks += [{"by": "user", "unit_ids": [u["st_a"]]},
             {"by": "org_unit", "unit_ids": [u["st_a"], u["st_b"]]},
             {"by": "all", "definition_id": STANDARD},
             {"by": "user", "user_ids": [world.users["cm_a"], world.users["driver"]]}]
    async with sessions() as db:
        for first, last in ranges:
            for ask in asks:
                got = await read.metric_table(db, metrics=metrics, first=first, last=last,
                                              **ask)
                live = await live_metric_table(db, metrics=metrics, first=first, last=last,
                                               tz=TZ, now=NOW_B, **ask)
                assert read.differences(got, live) == [], (first, last, ask)
                assert got, (first, last, ask)
                # The survey answers' metrics, of the satisfaction survey's question and
                # the levels at or above "satisfied".
                named = {**ask, "definition_id": SURVEY, "item": "customer_manager_service",
                         "levels": LEVELS[2:]}
                got = await read.metric_table(db, metrics=answers, first=first, last=last,
                                              **named)
                live = await live_metric_table(db, metrics=answers, first=first, last=last,
                                               tz=TZ, now=NOW_B, **named)
                assert read.differences(got, live) == [], (first, last, named)
        # The fixture is not empty where it matters.
        whole = await read.metric_table(db, metrics=metrics, first=START,
                                        last=date(2026, 12, 10), by="all")
        rated = await read.metric_table(db, metrics=answers, first=START,
                                        last=date(2026, 12, 10), by="all",
                                        definition_id=SURVEY, item="customer_manager_service",
                                        levels=LEVELS[2:])
    assert all(f.value for f in rated[0].values())  # answers and outcomes in the fixture
    figures = {m: f.value for m, f in whole[0].items()}
    for metric in ("visits.count", "submissions.count", "surveys.count", "issues.opened",
                   "issues.closed", "issues.overdue_count", "issues.escalated_count",
                   "alerts.count", "complaints.count"):
        assert figures[metric], metric

    # Rerunning the refresh, or rebuilding everything, changes nothing.
    before = await snapshot(sessions)
    await refresh.refresh(sessions, tz=TZ, now=NOW_B)
    assert await snapshot(sessions) == before
    await refresh.rebuild(sessions, START, date(2026, 12, 10), tz=TZ, now=NOW_B)
    assert await snapshot(sessions) == before
