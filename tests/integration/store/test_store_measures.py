"""The query store on real SQLite and PostgreSQL: each measure and metric against a value
computed by hand on a small fixture, the same from the live tables, late data landing on
its day, and refreshes that change nothing when run again.

The fixture (November 2026, Asia/Shanghai; "11-02 01:00" is local time):

visits   V1 cm_a RA1 11-02 01:00, 20 min, form S1      V2 cm_a RA2 11-02 10:00, flagged, 30 min
         V3 cm_a RA1 11-03 09:00, still open            V4 cm_b RB1 11-02 23:30, 10 min, form S3
         V5 cm_a RA1 10-31 23:50 (October), 5 min
forms    S1 standard, cm_a RA1 at V1: score 90 (90 %), passed, failed item i1
         S2 survey, cm_a no site, 11-02 12:00: 80 %, one alert (unit: cm_a's, area_a1)
         S3 standard, cm_b RB1 at V4, stored 11-05 (late): 70 %, failed, items i1 i2, 2 alerts
issues   I1 cm_a RA1 standard: opened 11-02 02:00, due 11-04 02:00, rectified 11-03 10:00,
            verified and closed 11-03 15:00 (on time, 37 h)
         I2 cm_b RB1 complaint: opened 11-02 09:00, due 11-03 09:00, escalated 11-03 12:00,
            in progress (overdue)
         I3 nobody, st_a: opened 11-03 08:00, cancelled 11-04 08:00
         I4 cm_a RA2 standard: opened 11-02 12:00, due 11-03 12:00, closed 11-04 12:00 (late,
            48 h: overdue and closed)
plans    cm_a RA1 2, cm_a RA2 1, cm_b RB1 1, mi_a RA1 1
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from store_support import (
    STANDARD,
    SURVEY,
    TZ,
    Sessions,
    add_issue,
    add_plan,
    add_submission,
    add_visit,
    local,
    month_equals_days,
    plans_equal_sites,
    snapshot,
)

from rounds.db import transaction
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.store import read, refresh
from rounds.runtime.store.live import live_metric_table
from rounds.runtime.store.models import ClosedDay, DayFact, MonthPlan, Refresh
from rounds.runtime.visits import plans
from rounds.runtime.visits.models import PlannedVisit
from support.field import DEFINITIONS, Field, principal, seed_field, sync_definitions

D1, D2, D3, D4, D5, D6 = (date(2026, 11, d) for d in range(1, 7))
OCT31 = date(2026, 10, 31)
NOW1 = local(D4, 20)  # before S3 arrives
NOW2 = local(D6, 12)
NOV = (D1, date(2026, 11, 30))


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        world = await seed_field(db)
        v1 = await add_visit(db, world, "cm_a", "RA1", local(D2, 1), seconds=1200)
        await add_visit(db, world, "cm_a", "RA2", local(D2, 10), seconds=1800, flagged=True)
        await add_visit(db, world, "cm_a", "RA1", local(D3, 9), seconds=None)
        await add_visit(db, world, "cm_b", "RB1", local(D2, 23, 30), seconds=600)
        await add_visit(db, world, "cm_a", "RA1", local(OCT31, 23, 50), seconds=300)
        await add_submission(db, world, "cm_a", STANDARD, site="RA1", visit_id=v1,
                             happened_at=local(D2, 1), submitted_at=local(D2, 1, 10),
                             score=90, percentage=90, passed=True, failed=("i1",))
        await add_submission(db, world, "cm_a", SURVEY, happened_at=local(D2, 12),
                             score=80, percentage=80, alerts=1)
        await add_issue(db, world, unit="area_a1", site="RA1", assignee="cm_a",
                        definition_id=STANDARD, created_at=local(D2, 2), status="closed",
                        due_at=local(D4, 2), assignee_signed_at=local(D3, 10),
                        assigner_signed_at=local(D3, 15), closed_at=local(D3, 15),
                        updated_at=local(D3, 15))
        await add_issue(db, world, unit="st_b", site="RB1", assignee="cm_b", source="complaint",
                        created_at=local(D2, 9), status="in_progress", due_at=local(D3, 9),
                        escalated_at=local(D3, 12), escalation_level=1)
        await add_issue(db, world, unit="st_a", source="assigned", created_at=local(D3, 8),
                        status="cancelled", due_at=local(D5, 8), updated_at=local(D4, 8))
        await add_issue(db, world, unit="area_a1", site="RA2", assignee="cm_a",
                        definition_id=STANDARD, created_at=local(D2, 12), status="closed",
                        due_at=local(D3, 12), closed_at=local(D4, 12), updated_at=local(D4, 12))
        for user, site, n in (("cm_a", "RA1", 2), ("cm_a", "RA2", 1), ("cm_b", "RB1", 1),
                              ("mi_a", "RA1", 1)):
            await add_plan(db, world, "2026-11", user, site, n)
    return world


async def late_submission(sessions: Sessions, world: Field) -> None:
    """S3: done at V4 (11-02 23:30), stored on 11-05."""
    async with transaction(sessions) as db:
        from rounds.runtime.visits.models import Visit

        v4 = (await db.execute(select(Visit.id).where(
            Visit.user_id == world.users["cm_b"]))).scalar_one()
        await add_submission(db, world, "cm_b", STANDARD, site="RB1", visit_id=v4,
                             happened_at=local(D2, 23, 30), submitted_at=local(D5, 10),
                             score=70, percentage=70, passed=False, failed=("i1", "i2"),
                             alerts=2)


async def table(sessions: Sessions, metrics: list[str], by: read.By, first: date = NOV[0],
                last: date = NOV[1], **kw: object) -> dict[int, dict[str, read.Figure]]:
    async with sessions() as db:
        got = await read.metric_table(db, metrics=metrics, first=first, last=last, by=by,
                                      **kw)  # type: ignore[arg-type]
        live = await live_metric_table(db, metrics=metrics, first=first, last=last, by=by,
                                       tz=TZ, now=NOW2, **kw)  # type: ignore[arg-type]
    assert read.differences(got, live) == []
    return got


def values(t: dict[int, dict[str, read.Figure]], key: int) -> dict[str, float | None]:
    return {m: f.value for m, f in t[key].items()}


async def test_each_metric_by_hand_and_late_data(sessions: Sessions, world: Field) -> None:
    first = await refresh.refresh(sessions, tz=TZ, now=NOW1)  # an empty store: rebuilt
    assert first.kind == "rebuild" and first.days[0] == OCT31 and first.days[-1] == D4
    await late_submission(sessions, world)
    again = await refresh.refresh(sessions, tz=TZ, now=NOW2)
    assert again.kind == "incremental"
    assert D2 in again.days  # S3's day, though it was stored on the 5th
    await month_equals_days(sessions)

    cm_a, cm_b, mi_a = (world.users[n] for n in ("cm_a", "cm_b", "mi_a"))
    visits = ["visits.count", "visits.avg_minutes", "checkins.flagged_ratio",
              "visits.done_ratio", "visits.coverage", "visits.per_site"]
    forms = ["submissions.count", "submissions.avg_percentage", "submissions.pass_ratio",
             "submissions.failed_item_rate", "alerts.count", "surveys.count",
             "surveys.avg_percentage"]
    issues = ["issues.opened", "issues.closed", "issues.closed_on_time_ratio",
              "issues.overdue_count", "issues.escalated_count", "issues.open_count",
              "issues.avg_close_hours", "complaints.count"]
    t = await table(sessions, visits + forms + issues, "user")
    assert set(t) == {0, cm_a, cm_b, mi_a}
    assert values(t, cm_a) == {
        "visits.count": 3, "visits.avg_minutes": 25.0, "checkins.flagged_ratio": 1 / 3,
        "visits.done_ratio": 1 / 3, "visits.coverage": 1.0, "visits.per_site": 1.5,
        "submissions.count": 1, "submissions.avg_percentage": 90.0,
        "submissions.pass_ratio": 1.0, "submissions.failed_item_rate": 1.0,
        "alerts.count": 1, "surveys.count": 1, "surveys.avg_percentage": 80.0,
        "issues.opened": 2, "issues.closed": 2, "issues.closed_on_time_ratio": 0.5,
        "issues.overdue_count": 1, "issues.escalated_count": 0, "issues.open_count": 0,
        "issues.avg_close_hours": pytest.approx(42.5), "complaints.count": 0}
    assert values(t, cm_b) == {
        "visits.count": 1, "visits.avg_minutes": 10.0, "checkins.flagged_ratio": 0.0,
        "visits.done_ratio": 1.0, "visits.coverage": 1.0, "visits.per_site": 1.0,
        "submissions.count": 1, "submissions.avg_percentage": 70.0,
        "submissions.pass_ratio": 0.0, "submissions.failed_item_rate": 2.0,
        "alerts.count": 2, "surveys.count": 0, "surveys.avg_percentage": None,
        "issues.opened": 1, "issues.closed": 0, "issues.closed_on_time_ratio": None,
        "issues.overdue_count": 1, "issues.escalated_count": 1, "issues.open_count": 1,
        "issues.avg_close_hours": None, "complaints.count": 1}
    assert values(t, mi_a)["visits.done_ratio"] == 0.0
    assert values(t, mi_a)["visits.coverage"] == 0.0
    assert values(t, mi_a)["visits.count"] == 0
    assert values(t, 0)["issues.opened"] == 1  # I3, nobody's
    assert values(t, 0)["issues.open_count"] == 0  # cancelled
    assert t[cm_a]["visits.done_ratio"].sums == {
        "planned": 3, "visits_done": 1, "checkins": 3, "planned_sites": 2,
        "visited_sites": 2, "done_ratio": 1 / 3, "coverage": 1.0, "per_site": 1.5}
    assert t[cm_a]["issues.avg_close_hours"].sums == {
        "close_seconds": pytest.approx(37 * 3600 + 48 * 3600), "issues_closed": 2}

    # The per-day facts the funnel reads: rectified and verified on the 3rd (I1).
    async with sessions() as db:
        rows = (await db.execute(select(DayFact).where(DayFact.day == D3,
                                                       DayFact.user_id == cm_a))).scalars()
        by_key = {(r.site_id, r.definition_id): r for r in rows}
    ra1, ra2 = world.sites["RA1"], world.sites["RA2"]
    assert set(by_key) == {(ra1, STANDARD), (ra2, STANDARD), (ra1, "")}
    i1, i4, v3 = by_key[(ra1, STANDARD)], by_key[(ra2, STANDARD)], by_key[(ra1, "")]
    assert (i1.issues_rectified, i1.issues_verified, i1.issues_closed,
            i1.issues_closed_on_time, i1.issues_overdue) == (1, 1, 1, 1, 0)
    assert (i4.issues_overdue, i4.issues_closed) == (1, 0)  # due on the 3rd, closed the 4th
    assert (v3.checkins, v3.checkouts, v3.visits_done) == (1, 0, 0)  # still open
    assert i1.definition_kind == "standard" and v3.definition_kind == ""

    # A standard's own average score: the metric that must name its definition.
    avg = await table(sessions, ["submissions.avg_score"], "all", definition_id=STANDARD)
    assert avg[0]["submissions.avg_score"].value == 80.0
    assert avg[0]["submissions.avg_score"].sums == {"score_sum": 160.0, "scored": 2}

    # By org unit: each unit sums its subtree; st_a holds area_a1 and the nobody's issue.
    units = await table(sessions, ["visits.count", "issues.opened", "visits.done_ratio",
                                   "submissions.count"], "org_unit")
    u = world.units
    assert set(units) == set(u.values())
    assert values(units, u["city"]) == {"visits.count": 4, "issues.opened": 4,
                                        "visits.done_ratio": 2 / 5, "submissions.count": 2}
    assert values(units, u["st_a"]) == {"visits.count": 3, "issues.opened": 3,
                                        "visits.done_ratio": 1 / 4, "submissions.count": 1}
    assert values(units, u["area_a1"])["issues.opened"] == 2
    assert values(units, u["st_b"]) == {"visits.count": 1, "issues.opened": 1,
                                        "visits.done_ratio": 1.0, "submissions.count": 1}
    # A scope: only station A's rows, asked for one unit and by person.
    scoped = await table(sessions, ["visits.count", "issues.opened"], "user",
                         unit_ids=[u["st_a"]])
    assert set(scoped) == {0, cm_a}
    assert values(scoped, cm_a) == {"visits.count": 3, "issues.opened": 2}
    people = await table(sessions, ["visits.count"], "user", user_ids=[cm_b, mi_a])
    assert {k: v["visits.count"].value for k, v in people.items()} == {cm_b: 1, mi_a: 0}

    # Days, not whole months: day rows; the plan figures have no value.
    days = await table(sessions, ["visits.count", "visits.done_ratio", "issues.open_count"],
                       "all", first=D2, last=D2)
    assert values(days, 0) == {"visits.count": 3, "visits.done_ratio": None,
                               "issues.open_count": 3}  # I1, I2, I4 opened on the 2nd
    oct_nov = await table(sessions, ["visits.count", "visits.done_ratio"], "all",
                          first=date(2026, 10, 1), last=NOV[1])
    assert values(oct_nov, 0) == {"visits.count": 5, "visits.done_ratio": 2 / 5}
    span = await table(sessions, ["visits.count", "issues.open_count"], "all",
                       first=OCT31, last=D3)
    # I2, I3, I4 open at the end of the 3rd (I3 is cancelled on the 4th)
    assert values(span, 0) == {"visits.count": 5, "issues.open_count": 3}


async def test_rerunning_changes_nothing(sessions: Sessions, world: Field) -> None:
    await late_submission(sessions, world)
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    before = await snapshot(sessions)
    assert before["store_day_facts"] and before["store_month_facts"]
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    await refresh.rebuild(sessions, OCT31, D6, tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    # Whole months rebuilt: summed again from the day rows.
    await refresh.rebuild(sessions, date(2026, 10, 1), NOV[1], tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    await refresh.close_day(sessions, D5, tz=TZ, now=NOW2)
    await refresh.close_day(sessions, D5, tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    async with transaction(sessions) as db:
        assert await refresh.recompute_days(db, [D2, D3, OCT31], tz=TZ, now=NOW2) > 0
    assert await snapshot(sessions) == before
    await month_equals_days(sessions)
    async with sessions() as db:
        closed = (await db.execute(select(ClosedDay))).scalars().all()
        kinds = [r.kind for r in (await db.execute(select(Refresh).order_by(Refresh.id)))
                 .scalars()]
    # The first close closed every day from the first one with data; the second, D5 again.
    assert [(c.day, c.times) for c in closed] == [
        (OCT31, 1), (D1, 1), (D2, 1), (D3, 1), (D4, 1), (D5, 2)]
    assert kinds == ["rebuild", "incremental", "rebuild", "rebuild", "close", "close"]


async def test_close_catches_up_the_days_not_closed(sessions: Sessions, world: Field) -> None:
    first = await refresh.close_day(sessions, D2, tz=TZ, now=NOW2)
    assert first.days == [OCT31, D1, D2]  # from the first day with data
    report = await refresh.close_day(sessions, D5, tz=TZ, now=NOW2)
    assert report.days == [D3, D4, D5]
    async with sessions() as db:
        days = sorted(c.day for c in (await db.execute(select(ClosedDay))).scalars())
    assert days == [OCT31, D1, D2, D3, D4, D5]
    await month_equals_days(sessions)


async def test_a_submission_stored_later_moves_the_month(sessions: Sessions,
                                                         world: Field) -> None:
    await refresh.refresh(sessions, tz=TZ, now=NOW1)
    t = await table_store_only(sessions, ["submissions.count", "visits.done_ratio"])
    cm_b = world.users["cm_b"]
    assert values(t, cm_b) == {"submissions.count": 0, "visits.done_ratio": 0.0}
    await late_submission(sessions, world)
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    t = await table_store_only(sessions, ["submissions.count", "visits.done_ratio"])
    assert values(t, cm_b) == {"submissions.count": 1, "visits.done_ratio": 1.0}
    async with sessions() as db:
        row = (await db.execute(select(DayFact).where(
            DayFact.user_id == cm_b, DayFact.definition_id == STANDARD))).scalar_one()
    assert row.day == D2 and row.failed_items == 2 and row.alerts == 2
    await month_equals_days(sessions)


async def table_store_only(sessions: Sessions, metrics: list[str]
                           ) -> dict[int, dict[str, read.Figure]]:
    async with sessions() as db:
        return await read.metric_table(db, metrics=metrics, first=NOV[0], last=NOV[1],
                                       by="user")


async def test_days_an_issue_no_longer_counts_on_are_recomputed(sessions: Sessions,
                                                                world: Field) -> None:
    """I1's rectification is sent back (its signatures and close are cleared): the 3rd,
    where it counted, is known only from its events, and is recomputed all the same. I2 is
    escalated again three days later (escalating does not touch ``updated_at``): the
    escalation moves from the 3rd to the 6th."""
    await refresh.refresh(sessions, tz=TZ, now=NOW1)
    async with sessions() as db:
        before = (await db.execute(select(DayFact).where(
            DayFact.day == D3, DayFact.issues_rectified + DayFact.issues_escalated > 0))
        ).scalars().all()
    assert sum(r.issues_rectified for r in before) == 1
    assert sum(r.issues_escalated for r in before) == 1
    async with transaction(sessions) as db:
        i1 = (await db.execute(select(Issue).where(Issue.closed_at == local(D3, 15)))
              ).scalar_one()
        i2 = (await db.execute(select(Issue).where(Issue.escalated_at.is_not(None)))
              ).scalar_one()
        for issue_id, at, action in ((i1.id, local(D3, 10), "rectified"),
                                     (i1.id, local(D3, 15), "closed")):
            db.add(IssueEvent(issue_id=issue_id, at=at, action=action, data={}))
        await db.execute(update(Issue).where(Issue.id == i1.id).values(
            status="in_progress", assignee_signed_at=None, assigner_signed_at=None,
            closed_at=None, updated_at=local(D5, 9)))
    # I1 now counts on its opening (2nd), deadline (4th) and change (5th) only.
    report = await refresh.refresh(sessions, tz=TZ, now=local(D5, 20))
    assert D3 in report.days
    async with sessions() as db:
        after = (await db.execute(select(DayFact).where(
            DayFact.day == D3, DayFact.issues_rectified > 0))).scalars().all()
    assert after == []
    async with transaction(sessions) as db:
        for at in (local(D3, 12), local(D6, 10)):
            db.add(IssueEvent(issue_id=i2.id, at=at, action="escalated", data={}))
        await db.execute(update(Issue).where(Issue.id == i2.id).values(
            escalated_at=local(D6, 10), escalation_level=2))
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    t = await table(sessions, ["issues.closed", "issues.escalated_count"], "user")
    assert values(t, world.users["cm_a"])["issues.closed"] == 1  # I4 only
    days = await table(sessions, ["issues.escalated_count"], "all", first=D3, last=D3)
    assert values(days, 0)["issues.escalated_count"] == 0
    days = await table(sessions, ["issues.escalated_count"], "all", first=D6, last=D6)
    assert values(days, 0)["issues.escalated_count"] == 1
    await month_equals_days(sessions)


async def test_a_role_whose_check_in_is_the_visit(sessions: Sessions, world: Field,
                                                  tmp_path: Path) -> None:
    """Customer managers' visits are done once their form is in; with ``"visit_done":
    "checked_in"`` every check-in is (after a rollup: a role's rule is not a row change).
    The store agrees with the plans' own progress either way."""
    cm_a = world.users["cm_a"]

    async def done_and_progress() -> tuple[float | None, int]:
        await refresh.rebuild(sessions, OCT31, D6, tz=TZ, now=NOW2)
        t = await table(sessions, ["visits.done_ratio"], "user", user_ids=[cm_a])
        async with sessions() as db:
            (me,), _ = await plans.month_progress(db, await principal(db, "cm_a"), "2026-11",
                                                  user_id=cm_a, tz=TZ)
        return t[cm_a]["visits.done_ratio"].value, me.done

    assert await done_and_progress() == (1 / 3, 1)  # V1 (with S1) of RA1's 2; RA2's 0 of 1
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, folder)
    role_path = folder / "roles" / "customer_manager.json"
    role = json.loads(role_path.read_text())
    role_path.write_text(json.dumps({**role, "visit_done": "checked_in"}, ensure_ascii=False))
    async with transaction(sessions) as db:
        await sync_definitions(db, folder)
    # RA1: V1 and V3 (2 of 2); RA2: V2 (1 of 1)
    assert await done_and_progress() == (1.0, 3)


async def test_month_plans_are_the_sums_of_the_month_sites(sessions: Sessions,
                                                           world: Field) -> None:
    """``store_month_plans`` is ``store_month_sites`` grouped by (month, user, org unit) after
    a refresh, late data, a changed plan, a rebuild, and a rebuild that repairs it."""
    u, a1, st_b = world.users, world.units["area_a1"], world.units["st_b"]
    await refresh.refresh(sessions, tz=TZ, now=NOW1)
    got = await plans_equal_sites(sessions)
    # planned, done (up to the plan per site), check-ins, planned sites, visited
    assert got[("2026-11", u["cm_a"], a1)] == [3, 1, 3, 2, 2]  # RA1: 1 of 2, RA2: 0 of 1
    assert got[("2026-11", u["cm_b"], st_b)] == [1, 0, 1, 1, 1]
    assert got[("2026-11", u["mi_a"], a1)] == [1, 0, 0, 1, 0]
    assert got[("2026-10", u["cm_a"], a1)] == [0, 0, 1, 0, 0]  # visited, no plan
    await late_submission(sessions, world)
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    assert (await plans_equal_sites(sessions))[("2026-11", u["cm_b"], st_b)] == [1, 1, 1, 1, 1]
    async with transaction(sessions) as db:  # RA1's plan cut to 1, mi_a's dropped
        await db.execute(update(PlannedVisit).where(
            PlannedVisit.user_id == u["cm_a"], PlannedVisit.site_id == world.sites["RA1"])
            .values(visits=1))
        await db.execute(delete(PlannedVisit).where(PlannedVisit.user_id == u["mi_a"]))
    await refresh.refresh(sessions, tz=TZ, now=NOW2)
    got = await plans_equal_sites(sessions)
    assert got[("2026-11", u["cm_a"], a1)] == [2, 1, 3, 2, 2]
    assert ("2026-11", u["mi_a"], a1) not in got
    t = await table(sessions, ["visits.done_ratio", "visits.coverage", "visits.per_site"],
                    "org_unit")
    assert values(t, a1) == {"visits.done_ratio": 0.5, "visits.coverage": 1.0,
                             "visits.per_site": 1.5}
    before = await snapshot(sessions)
    await refresh.rebuild(sessions, D3, D6, tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    async with transaction(sessions) as db:  # lost: a whole-month rebuild sums it again
        await db.execute(delete(MonthPlan))
    await refresh.rebuild(sessions, date(2026, 10, 1), NOV[1], tz=TZ, now=NOW2)
    assert await snapshot(sessions) == before
    await month_equals_days(sessions)
