"""From raw data to a frozen grade: visits, forms and issues as the services store them, the
store rebuilt and the month closed, the grade frozen; a late form lands in its day, the
frozen grade stays until ``recompute``. On both databases.

cm_a in November 2026, by hand (service_quality):

- plan RA1 2, RA2 2; visits RA1 on the 3rd and the 10th with a form each (done), RA2 on the
  12th without one (not done): 2 / 4 = 0.5 → D; flagged 0 of 3 → A;  objective 1: 0.475
- forms 80 and 90 → 85 → B; no survey (left out);                    objective 2: 0.75
- issues: one closed on time, one late → 0.5 → D; three opened, two closed → 1 open → B;
                                                                     objective 3: 0.4
- whole: 0.4×0.475 + 0.4×0.75 + 0.2×0.4 = 0.57 → C

A form of the 15th sent late (100): forms 270 / 3 = 90 → A, objective 2 1.0, whole 0.67.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.runtime.okr import drill, freeze, service
from rounds.runtime.store import refresh
from support.field import principal, seed_field

# the store's own helpers, which write raw rows as the services do
from integration.store.store_support import (  # isort: skip
    SURVEY, TZ, add_campaign, add_issue, add_plan, add_response, add_submission, add_visit,
    local)

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
OKR = "service_quality"


def nov(day: int, hour: int = 10) -> datetime:
    return local(date(2026, 11, day), hour)


async def test_raw_data_to_a_frozen_grade(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as db, db.begin():
        w = await seed_field(db)
        for site in ("RA1", "RA2"):
            await add_plan(db, w, "2026-11", "cm_a", site, 2)
        for day, site, pct in ((3, "RA1", 80.0), (10, "RA1", 90.0), (12, "RA2", None)):
            vid = await add_visit(db, w, "cm_a", site, nov(day))
            if pct is not None:
                await add_submission(db, w, "cm_a", "customer_manager_visit", site=site,
                                     visit_id=vid, happened_at=nov(day) + timedelta(minutes=5),
                                     percentage=pct)
        common = {"unit": "area_a1", "assignee": "cm_a", "site": "RA1"}
        await add_issue(db, w, created_at=nov(5), status="closed", closed_at=nov(6),
                        due_at=nov(10), **common)
        await add_issue(db, w, created_at=nov(5), status="closed", closed_at=nov(9),
                        due_at=nov(7), **common)
        await add_issue(db, w, created_at=nov(20), due_at=nov(27, 23), **common)
    await refresh.rebuild(sessions, date(2026, 11, 1), date(2026, 11, 30), tz=TZ, now=NOW)
    await refresh.close_day(sessions, date(2026, 11, 30), tz=TZ, now=NOW)
    async with sessions() as db, db.begin():
        assert await freeze.freeze_due(db, now=NOW, tz=TZ) == 3  # the OKRs' November
    async with sessions() as db:
        leader = await principal(db, "leader")
        g = await service.grade_of(db, leader, okr_id=OKR, period="2026-11",
                                   subject_kind="person", subject_id=w.users["cm_a"])
        assert g.frozen
        assert {k.id: (k.value, k.grade) for o in g.objectives for k in o.key_results} == {
            "visits_done": (0.5, "D"), "checkins_flagged": (0.0, "A"),
            "visit_score": (85.0, "B"), "satisfaction_score": (None, None),
            "issues_on_time": (0.5, "D"), "issues_open": (1.0, "B")}
        assert g.score == pytest.approx(0.57) and g.grade == "C"
        rows = await drill.rows_behind(db, leader, okr_id=OKR, period="2026-11",
                                       subject_kind="person", subject_id=w.users["cm_a"],
                                       key_result_id="issues_on_time", tz=TZ)
        assert rows.total == 2 and {r.status for r in rows.items} == {"closed"}
    # a form of the 15th, sent on 3 December: its day is recomputed, the grade stays frozen
    async with sessions() as db, db.begin():
        await add_submission(db, w, "cm_a", "customer_manager_visit", site="RA2",
                             happened_at=nov(15), submitted_at=local(date(2026, 12, 3), 9),
                             percentage=100.0)
        await refresh.recompute_days(db, [date(2026, 11, 15)], tz=TZ, now=NOW)
    async with sessions() as db:
        g = await service.grade_of(db, await principal(db, "cm_a"), okr_id=OKR,
                                   period="2026-11", subject_kind="person",
                                   subject_id=w.users["cm_a"])
        assert g.score == pytest.approx(0.57)
    async with sessions() as db, db.begin():
        (report,) = await freeze.recompute(db, period="2026-11", okr_id=OKR, by="ops",
                                           reason="a late form", now=NOW, tz=TZ)
    async with sessions() as db:
        g = await service.grade_of(db, await principal(db, "cm_a"), okr_id=OKR,
                                   period="2026-11", subject_kind="person",
                                   subject_id=w.users["cm_a"])
    assert g.frozen and g.score == pytest.approx(0.67) and g.grade == "C"
    assert next(k for o in g.objectives for k in o.key_results
                if k.id == "visit_score").value == pytest.approx(90.0)
    assert ("person", w.users["cm_a"]) in {(c.subject_kind, c.subject_id)
                                           for c in report.changes}


async def test_retailers_satisfaction_grades_the_customer_manager_it_is_about(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """The shops' satisfaction responses after a customer manager's visits grade that
    customer manager (``shop_satisfaction``): the average score
    (``surveys.avg_percentage``, weight 0.4), the mean rating of the customer manager's
    question (``surveys.item_mean``, 0.3) and the share "satisfied" or better
    (``surveys.outcome_share``, 0.3); a consumer's response about nobody grades no one.

    cm_a: 90 % rated 5, very satisfied; 80 % rated 4, fairly satisfied (neutral) →
    85 → A; 4.5 → A; 1 of 2 = 0.5 → C: 0.4 + 0.3 + 0.15 = 0.85 → B.
    cm_b: 40 %, "not applicable", dissatisfied → 40 → D; no rating (left out); 0 → D:
    (0.1 + 0.075) / 0.7 = 0.25 → D. The service OKR's satisfaction key result agrees."""
    async with sessions() as db, db.begin():
        w = await seed_field(db)
        campaign = await add_campaign(db, w)
        for day, site, about, pct, rating, level in (
                (4, "RA1", "cm_a", 90.0, 5, "very_satisfied"),
                (11, "RA2", "cm_a", 80.0, 4, "neutral"),
                (6, "RB1", "cm_b", 40.0, "na", "dissatisfied"),
                (7, "RB1", None, 10.0, 1, "dissatisfied")):
            await add_response(db, w, campaign, happened_at=nov(day), about=about, site=site,
                               unit="st_b" if site == "RB1" else "area_a1",
                               percentage=pct, score=pct, outcome=level,
                               answers={"customer_manager_service": rating})
    await refresh.rebuild(sessions, date(2026, 11, 1), date(2026, 11, 30), tz=TZ, now=NOW)
    async with sessions() as db:
        leader = await principal(db, "leader")
        graded = {}
        for who in ("cm_a", "cm_b"):
            g = await service.grade_of(db, leader, okr_id="shop_satisfaction",
                                       period="2026-11", subject_kind="person",
                                       subject_id=w.users[who])
            krs = {k.id: (k.value, k.grade) for o in g.objectives for k in o.key_results}
            graded[who] = (krs, round(g.score or 0, 3), g.grade)
            if who == "cm_a":  # the explanation names the outcome levels counted
                share = next(k for o in g.objectives for k in o.key_results
                             if k.id == "satisfied_share")
                assert share.sums_in_words == {
                    "zh": "结果为满意、非常满意的答卷 1 ÷ 有结果等级的答卷 2 = 0.5",
                    "en": "1 responses rated Satisfied, Very satisfied ÷ 2 responses with an "
                          "outcome = 0.5"}, share.sums_in_words
                score = next(k for o in g.objectives for k in o.key_results
                             if k.id == "satisfaction_score")
                # the rows are survey responses: answers (答卷), not forms
                assert score.sums_in_words == {
                    "zh": "得分率合计 170 ÷ 计得分率答卷 2 = 85",
                    "en": "170 sum of percentages ÷ 2 survey responses scored as a "
                          "percentage = 85"}, score.sums_in_words
                # the records behind it: the two responses, with shop, survey, score and
                # outcome level, and nothing of who answered
                behind = await drill.rows_behind(
                    db, leader, okr_id="shop_satisfaction", period="2026-11",
                    subject_kind="person", subject_id=w.users[who],
                    key_result_id="satisfaction_score", tz=TZ)
                assert behind.total == 2
                assert [(r.kind, r.title, r.value, r.status, r.definition_id, r.user_id,
                         r.link) for r in behind.items] == [
                    ("survey_response", "Shop RA1", 90.0, "very_satisfied", SURVEY,
                     w.users["cm_a"], ""),
                    ("survey_response", "Shop RA2", 80.0, "neutral", SURVEY, w.users["cm_a"], "")]
        cm_a = await service.grade_of(db, leader, okr_id=OKR, period="2026-11",
                                      subject_kind="person", subject_id=w.users["cm_a"])
        # the station's records: its customer managers' responses (cm_b's at RB1)
        unit = await drill.rows_behind(
            db, leader, okr_id="shop_satisfaction", period="2026-11", subject_kind="org_unit",
            subject_id=w.units["st_b"], key_result_id="satisfaction_score", tz=TZ)
        assert [(r.kind, r.title, r.status) for r in unit.items] == [
            ("survey_response", "Shop RB1", "dissatisfied")]
    assert graded == {
        "cm_a": ({"satisfaction_score": (85.0, "A"), "manager_rating": (4.5, "A"),
                  "satisfied_share": (0.5, "C")}, 0.85, "B"),
        "cm_b": ({"satisfaction_score": (40.0, "D"), "manager_rating": (None, None),
                  "satisfied_share": (0.0, "D")}, 0.25, "D")}
    assert next(k.value for o in cm_a.objectives for k in o.key_results
                if k.id == "satisfaction_score") == pytest.approx(85.0)
