"""OKR grades on both databases, figured by hand from a small store.

The field (tests/support/field.py): customer managers ``cm_a`` (area A1 under station A) and
``cm_b`` (station B), a market inspector ``mi_a`` (station A), heads ``head_a`` and
``head_b``, a city ``leader``. November 2026's store rows are written directly (the store's
own tests check that its rows are the raw data's sums); the OKR is ``service_quality``
(customer managers).

cm_a, by hand (grade rules of definitions/okrs/service_quality.json):

- visits done: RA1 2 of 2 planned, RA2 1 of 2 → 3 / 4 = 0.75 → D 0.25 (weight 0.7)
- flagged check-ins 0 of 3 → 0 → A 1 (0.3)                   objective 1: 0.475 (0.4)
- standard forms: 170 / 2 = 85 → B 0.75 (0.6)
- surveys: 90 / 1 = 90 → A 1 (0.4)                            objective 2: 0.85 (0.4)
- issues closed on time 1 of 2 → 0.5 → D 0.25 (0.7)
- opened 3 − closed 2 = 1 still open → B 0.75 (0.3)            objective 3: 0.4 (0.2)
- whole: 0.4×0.475 + 0.4×0.85 + 0.2×0.4 = 0.61 → C

cm_b: RB1 1 of 1 → A; 1 flagged of 1 → D; objective 1 0.7 + 0.075 = 0.775; no forms (left
out); no issue closed (left out), none open → A; whole (0.4×0.775 + 0.2×1) / 0.6 = 0.85 → B.

Station A is cm_a's figures (mi_a's plan is not counted: the OKR grades customer managers):
0.61 C. The city sums both: done 4 / 5 = 0.8 → C; flagged 1 / 4 → D; objective 1 0.425;
whole 0.4×0.425 + 0.4×0.85 + 0.2×0.4 = 0.59 → C.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from okr_support import seed_store
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.errors import NotFound
from rounds.runtime.notifications.models import Notification
from rounds.runtime.okr import drill, freeze, service
from rounds.runtime.okr.models import OkrGrade, OkrRecompute
from rounds.runtime.store.models import ClosedDay, MonthFact
from rounds.runtime.visits.models import Visit
from support.field import Field, principal, seed_field

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
OKR = "service_quality"


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async with sessions() as db, db.begin():
        w = await seed_field(db)
        await seed_store(db, w)
    return w


def by_id(rows: list[Any]) -> dict[int, Any]:
    return {r.subject_id: r for r in rows}


async def test_grades_by_person_and_unit_by_hand(sessions: async_sessionmaker[AsyncSession],
                                                 world: Field) -> None:
    u, units = world.users, world.units
    async with sessions() as db:
        leader = await principal(db, "leader")
        people = await service.grades(db, leader, okr_id=OKR, period="2026-11", level="person")
        assert [r.subject_id for r in people] == [u["cm_b"], u["cm_a"]]  # best first
        cm_a, cm_b = by_id(people)[u["cm_a"]], by_id(people)[u["cm_b"]]
        assert (round(cm_a.score, 9), cm_a.grade) == (0.61, "C")
        assert cm_a.grade_title == {"zh": "合格", "en": "Adequate"}
        assert (round(cm_b.score, 9), cm_b.grade) == (0.85, "B")
        assert not cm_a.frozen and cm_a.computed_at is None
        assert {k.id: (k.value, k.grade) for k in cm_a.key_results} == {
            "visits_done": (0.75, "D"), "checkins_flagged": (0.0, "A"),
            "visit_score": (85.0, "B"), "satisfaction_score": (90.0, "A"),
            "issues_on_time": (0.5, "D"), "issues_open": (1.0, "B")}
        units_ = by_id(await service.grades(db, leader, okr_id=OKR, period="2026-11",
                                            level="org_unit"))
        assert (round(units_[units["st_a"]].score, 9), units_[units["st_a"]].grade) == (0.61, "C")
        assert (round(units_[units["area_a1"]].score, 9)) == 0.61
        assert (round(units_[units["st_b"]].score, 9)) == 0.85
        assert (round(units_[units["city"]].score, 9), units_[units["city"]].grade) == (0.59, "C")
        city = {k.id: k.value for k in units_[units["city"]].key_results}
        assert city["visits_done"] == pytest.approx(0.8)
        assert city["checkins_flagged"] == pytest.approx(0.25)
        # a unit's subtree only
        within = await service.grades(db, leader, okr_id=OKR, period="2026-11",
                                      level="org_unit", unit_id=units["st_a"])
        assert {r.subject_id for r in within} == {units["st_a"], units["area_a1"]}


async def test_the_explanation_gives_the_numbers(sessions: async_sessionmaker[AsyncSession],
                                                 world: Field) -> None:
    u = world.users
    async with sessions() as db:
        cm_b = await service.grade_of(db, await principal(db, "cm_b"), okr_id=OKR,
                                      period="2026-11", subject_kind="person",
                                      subject_id=u["cm_b"])
    assert (round(cm_b.score or 0, 9), cm_b.grade) == (0.85, "B")
    assert (cm_b.first_day, cm_b.last_day) == ("2026-11-01", "2026-11-30")
    assert cm_b.left_out == ["visit_score", "satisfaction_score", "issues_on_time"]
    krs = {k.id: k for o in cm_b.objectives for k in o.key_results}
    flagged = krs["checkins_flagged"]
    assert flagged.metric_title["en"] == "Share of flagged check-ins"
    assert (flagged.value, flagged.grade, flagged.score) == (1.0, "D", 0.25)
    assert flagged.sums["checkins_flagged"] == 1 and flagged.sums["checkins"] == 1
    assert flagged.sums_in_words["en"] == "1 flagged check-ins ÷ 1 check-ins = 1"
    assert flagged.sums_in_words["zh"] == "异常打卡 1 ÷ 打卡 1 = 1"
    assert flagged.weight == 0.3 and flagged.weight_used == pytest.approx(0.3)
    assert flagged.rows == (f"/api/okr/{OKR}/grades/2026-11/person/{u['cm_b']}"
                            "/key-results/checkins_flagged/rows")
    done = krs["visits_done"]
    assert (done.value, done.grade, done.score) == (1.0, "A", 1.0)
    assert done.sums_in_words["en"] == "1 visits done ÷ 1 planned visits = 1"
    assert done.sums["planned_sites"] == 1 and done.sums["visited_sites"] == 1
    assert krs["visit_score"].left_out == "no_value"
    assert krs["issues_open"].value == 0 and krs["issues_open"].grade == "A"
    # objectives: 0.775 over its 0.4, closed loop 1.0 alone in it; the whole renormalised
    assert cm_b.objectives[0].score == pytest.approx(0.775)
    assert cm_b.objectives[1].score is None
    assert cm_b.objectives[0].weight_used == pytest.approx(0.4 / 0.6)
    assert cm_b.explanation[0]["en"] == "Overall score 0.85, grade B (Good)"
    assert "Average visit score" in cm_b.explanation[1]["en"]
    assert "scaled up" in cm_b.explanation[1]["en"]
    assert flagged.line["en"] == ("Share of flagged check-ins: 1 (target 0.02), grade D (Needs "
                                  "improvement), score 0.25, weight 30%")
    assert flagged.line["zh"] == ("异常打卡占比：1（目标值 0.02），考评等级 D（待改进），"
                                  "考评分 0.25，权重 30%")


async def test_scope(sessions: async_sessionmaker[AsyncSession], world: Field) -> None:
    u, units = world.users, world.units
    async with sessions() as db:
        head_b = await principal(db, "head_b")
        rows = await service.grades(db, head_b, okr_id=OKR, period="2026-11", level="person")
        assert [r.subject_id for r in rows] == [u["cm_b"]]
        unit_rows = await service.grades(db, head_b, okr_id=OKR, period="2026-11",
                                         level="org_unit")
        assert {r.subject_id for r in unit_rows} == {units["st_b"]}
        for call in (
            service.grade_of(db, head_b, okr_id=OKR, period="2026-11", subject_kind="person",
                             subject_id=u["cm_a"]),
            service.grade_of(db, head_b, okr_id=OKR, period="2026-11",
                             subject_kind="org_unit", subject_id=units["st_a"]),
            service.grade_of(db, head_b, okr_id=OKR, period="2026-11",
                             subject_kind="org_unit", subject_id=units["city"]),
            service.grades(db, head_b, okr_id=OKR, period="2026-11", level="person",
                           unit_id=units["st_a"]),
            service.grades(db, head_b, okr_id=OKR, period="2026-11", level="org_unit",
                           unit_id=units["city"]),
            drill.rows_behind(db, head_b, okr_id=OKR, period="2026-11",
                              subject_kind="person", subject_id=u["cm_a"],
                              key_result_id="visits_done", tz=TZ),
        ):
            with pytest.raises(NotFound):
                await call
        # a field user: their own grade only
        cm_a = await principal(db, "cm_a")
        own = await service.grades(db, cm_a, okr_id=OKR, period="2026-11", level="person")
        assert [r.subject_id for r in own] == [u["cm_a"]]
        for call in (
            service.grades(db, cm_a, okr_id=OKR, period="2026-11", level="org_unit"),
            service.grades(db, cm_a, okr_id=OKR, period="2026-11", level="person",
                           unit_id=units["area_a1"]),
            service.grade_of(db, cm_a, okr_id=OKR, period="2026-11", subject_kind="person",
                             subject_id=u["cm_b"]),
            service.grade_of(db, cm_a, okr_id=OKR, period="2026-11",
                             subject_kind="org_unit", subject_id=units["area_a1"]),
        ):
            with pytest.raises(NotFound):
                await call
        mine = await service.my_grades(db, cm_a, "2026-11")
        assert [(g.okr_id, g.period, g.grade) for g in mine if g.okr_id == OKR] == [
            (OKR, "2026-11", "C")]
        assert {g.okr_id for g in mine} == {OKR, "shop_satisfaction"}
        # the head of station A sees cm_a and station A
        head_a = await principal(db, "head_a")
        seen = await service.grade_of(db, head_a, okr_id=OKR, period="2026-11",
                                      subject_kind="person", subject_id=u["cm_a"])
        assert seen.grade == "C"


async def test_drill_down_lists_the_visits_behind(sessions: async_sessionmaker[AsyncSession],
                                                  world: Field) -> None:
    u, s = world.users, world.sites
    async with sessions() as db, db.begin():
        for day, site, flagged in ((3, "RA1", False), (4, "RA2", True)):
            at = datetime(2026, 11, day, 2, 0, tzinfo=UTC)
            db.add(Visit(user_id=u["cm_a"], site_id=s[site], method="gps", checked_in_at=at,
                         flags={}, flagged=flagged, checked_out_at=at, duration_s=600))
        # the last local day of October (before 00:00 in Shanghai): not in November
        db.add(Visit(user_id=u["cm_a"], site_id=s["RA1"], method="gps",
                     checked_in_at=datetime(2026, 10, 31, 15, 59, tzinfo=UTC), flags={},
                     checked_out_at=datetime(2026, 10, 31, 16, 10, tzinfo=UTC)))
    async with sessions() as db:
        page = await drill.rows_behind(db, await principal(db, "head_a"), okr_id=OKR,
                                       period="2026-11", subject_kind="person",
                                       subject_id=u["cm_a"], key_result_id="checkins_flagged",
                                       tz=TZ, per_page=1)
        assert page.total == 2 and len(page.items) == 1
        assert page.items[0].status == "checked_out"
        assert page.items[0].link.startswith("/visits/")
        page2 = await drill.rows_behind(db, await principal(db, "leader"), okr_id=OKR,
                                        period="2026-11", subject_kind="org_unit",
                                        subject_id=world.units["st_a"],
                                        key_result_id="checkins_flagged", tz=TZ, page=2,
                                        per_page=1)
        assert page2.total == 2 and page2.items[0].status == "flagged"


async def test_a_frozen_period_stays_until_recompute(sessions: async_sessionmaker[AsyncSession],
                                                     world: Field) -> None:
    u, units = world.users, world.units
    async with sessions() as db, db.begin():
        assert await freeze.freeze_due(db, now=NOW, tz=TZ) == 0  # not closed in the store
        db.add(ClosedDay(day=date(2026, 11, 30)))
        await db.flush()
        # November of the OKRs (service_quality, market_patrol, shop_satisfaction),
        # once
        assert await freeze.freeze_due(db, now=NOW, tz=TZ) == 3
        assert await freeze.freeze_due(db, now=NOW, tz=TZ) == 0
    async with sessions() as db:
        kept = (await db.execute(select(func.count()).select_from(OkrGrade).where(
            OkrGrade.okr_id == OKR))).scalar_one()
        assert kept == 2 + len(units)  # cm_a, cm_b and every org unit
        notes = (await db.execute(select(Notification.user_id, Notification.dedupe_key)
                                  .where(Notification.kind == "okr_below",
                                         Notification.dedupe_key.contains(OKR)))).all()
    # below 0.5: cm_a's visits done (D) and issues on time (D), to cm_a and head_a; cm_b's
    # flagged check-ins (D), to cm_b and head_b
    assert sorted((uid, key.split(":")[-2]) for uid, key in notes) == sorted(
        [(u["cm_a"], "visits_done"), (u["cm_a"], "issues_on_time"),
         (u["head_a"], "visits_done"), (u["head_a"], "issues_on_time"),
         (u["cm_b"], "checkins_flagged"), (u["head_b"], "checkins_flagged")])
    async with sessions() as db:
        said = (await db.execute(select(Notification).where(
            Notification.user_id == u["head_a"],
            Notification.dedupe_key.contains("visits_done")))).scalar_one()
    assert said.message["en"] == ("CM_A's OKR “Customer manager service quality OKR” "
                                  "(2026-11): key result “Planned visits done” scored 0.25 "
                                  "(D (Needs improvement)), below 0.5.")
    assert said.message["zh"].startswith("CM_A的考评「客户经理服务质量 OKR」（2026-11）中")
    assert said.link == f"/dashboard/people/{u['cm_a']}?month=2026-11"
    # data changes after the freeze: the grade does not
    async with sessions() as db, db.begin():
        await db.execute(update(MonthFact).where(
            MonthFact.user_id == u["cm_a"], MonthFact.definition_id == "")
            .values(issues_closed_on_time=2))
    async with sessions() as db:
        leader = await principal(db, "leader")
        row = by_id(await service.grades(db, leader, okr_id=OKR, period="2026-11",
                                         level="person"))[u["cm_a"]]
        assert row.frozen and row.computed_at is not None
        assert (round(row.score or 0, 9), row.grade) == (0.61, "C")
    # recompute on purpose: on time 2 / 2 → A; objective 3 0.7 + 0.225 = 0.925;
    # whole 0.19 + 0.34 + 0.185 = 0.715 → C
    async with sessions() as db, db.begin():
        reports = await freeze.recompute(db, period="2026-11", okr_id=OKR, by="tester",
                                         reason="late issues", now=NOW, tz=TZ)
    assert [(r.okr_id, r.rows) for r in reports] == [(OKR, 2 + len(units))]
    changed = {(c.subject_kind, c.subject_id): (c.before, c.after) for c in reports[0].changes}
    before, after = changed[("person", u["cm_a"])]
    assert before == (pytest.approx(0.61), "C") and after == (pytest.approx(0.715), "C")
    assert ("person", u["cm_b"]) not in changed
    async with sessions() as db:
        record = (await db.execute(select(OkrRecompute))).scalar_one()
        assert (record.okr_id, record.period, record.by, record.reason) == (
            OKR, "2026-11", "tester", "late issues")
        assert record.changed == len(changed) and f"person:{u['cm_a']}" in record.changes
        row = by_id(await service.grades(db, await principal(db, "leader"), okr_id=OKR,
                                         period="2026-11", level="person"))[u["cm_a"]]
        assert round(row.score or 0, 9) == 0.715
        # no notice twice: cm_a's visits done is still D, already said
        assert (await db.execute(select(func.count()).select_from(Notification).where(
            Notification.kind == "okr_below", Notification.dedupe_key.contains(OKR)))
                ).scalar_one() == 6
    with pytest.raises(Exception, match="not over"):
        async with sessions() as db, db.begin():
            await freeze.recompute(db, period="2026-12", by="tester", reason="", now=NOW,
                                   tz=TZ)


def test_the_worker_freezes_on_its_reconciliation() -> None:
    from rounds.jobs import maintenance
    from rounds.jobs.celery_app import TASK_MODULES
    from rounds.runtime.okr import jobs

    assert "rounds.runtime.okr.jobs" in TASK_MODULES
    assert jobs.freeze_closed_periods in maintenance.RECONCILERS
