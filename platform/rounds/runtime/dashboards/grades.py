"""The dashboards' OKR grade tables: by unit and by person, ranked, and the trend of the
last months, as tables (:class:`~rounds.runtime.dashboards.service.Table`) like every other
dashboard figure, so they are sorted, exported and served the same way.

The grades themselves are the OKR slice's (``rounds.runtime.okr.service``: computed from the
store, or the frozen snapshot of a closed period); this module only chooses which rows a
dashboard shows (the units right under the unit shown, the people of its subtree) and how.
Each OKR is graded by its own kind of period: the period that holds the month's first day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.i18n import pick
from rounds.runtime.access import Principal
from rounds.runtime.dashboards import service
from rounds.runtime.dashboards.service import (
    TREND_MONTHS,
    Column,
    Subtree,
    Table,
    month_days,
    months_back,
    say,
)
from rounds.runtime.okr import service as okr
from rounds.runtime.okr.periods import period_of
from rounds.runtime.okr.views import GradeDetail, GradeRow
from rounds.runtime.people.models import User
from rounds.runtime.store.models import MonthFact

GRADE_TABLES = ("grades_units", "grades_people", "grades_trend")


async def months_with_facts(db: AsyncSession, months: list[str]) -> list[str]:
    """The months the store holds facts for: a month before the data began is not graded
    on the trend (with every key result empty but a stock, its score says nothing)."""
    held = set((await db.execute(select(MonthFact.month).where(
        MonthFact.month.in_(months)).distinct())).scalars())
    return [m for m in months if m in held]


def explanation_path(okr_id: str, period: str, subject_kind: str, subject_id: int) -> str:
    """The page that explains one grade, down to the records behind each key result
    (``pages.grade_page``)."""
    return f"/okr/{okr_id}/{period}/{subject_kind}/{subject_id}"


def _row(r: GradeRow, title: dict[str, str], lang: str, rank: int | None) -> dict[str, Any]:
    return {"rank": rank, "okr_id": r.okr_id, "okr": pick(title, lang, r.okr_id),
            "period": r.period, "subject_kind": r.subject_kind, "subject_id": r.subject_id,
            "name": pick(r.name, lang, str(r.subject_id)),
            "grade": grade_named(r.grade, r.grade_title, lang),
            "score": r.score, "frozen": r.frozen, "org_unit_id": r.org_unit_id}


def grade_named(grade: str | None, title: dict[str, str] | None, lang: str) -> str | None:
    """``D · 待改进``: the grade's id with its title when it has one of its own."""
    if not grade:
        return None
    named = pick(title, lang, grade)
    return grade if named == grade else f"{grade} · {named}"


def _ranked(rows: list[GradeRow], title: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """Rank 1 the best score of the OKR; a subject without a score is listed, unranked."""
    out, n = [], 0
    for r in sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), r.subject_id)):
        if r.score is not None:
            n += 1
        out.append(_row(r, title, lang, n if r.score is not None else None))
    return out


def _columns(lang: str, *, unit: bool) -> list[Column]:
    return [Column("rank", say(lang, "col_rank"), "count"),
            Column("name", say(lang, "col_unit" if unit else "col_person"), "link"),
            Column("okr", say(lang, "col_okr")),
            Column("grade", say(lang, "col_grade")),
            Column("score", say(lang, "col_grade_score"), "ratio")]


async def grade_tables(db: AsyncSession, principal: Principal, tree: Subtree, *, month: str,
                       lang: str, names: tuple[str, ...] = GRADE_TABLES) -> dict[str, Table]:
    """The grade tables named in ``names`` for the unit ``tree`` and ``month``."""
    first, _ = month_days(month)
    shown_units = {u.id for u in tree.children} or {tree.root.id}
    in_force = await okr.okrs_in_force(db)
    units: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    trend: list[dict[str, Any]] = []
    for oif in in_force:
        title = dict(oif.okr.title)
        period = period_of(oif.okr.period, first)
        if "grades_units" in names:
            rows = await okr.grades(db, principal, okr_id=oif.okr.id, period=period,
                                    level="org_unit", unit_id=tree.root.id)
            units += _ranked([r for r in rows if r.subject_id in shown_units], title, lang)
        if "grades_people" in names:
            rows = await okr.grades(db, principal, okr_id=oif.okr.id, period=period,
                                    level="person", unit_id=tree.root.id)
            for r in _ranked(rows, title, lang):
                r["unit"] = tree.name(r["org_unit_id"], lang)
                people.append(r)
        if "grades_trend" in names:
            seen: set[str] = set()
            for m in await months_with_facts(db, months_back(month, TREND_MONTHS)):
                p = period_of(oif.okr.period, month_days(m)[0])
                if p in seen:
                    continue
                seen.add(p)
                rows = await okr.grades(db, principal, okr_id=oif.okr.id, period=p,
                                        level="org_unit", unit_id=tree.root.id)
                keep = shown_units | {tree.root.id}
                trend += [{**_row(r, title, lang, None), "month": m}
                          for r in sorted(rows, key=lambda r: r.subject_id)
                          if r.subject_id in keep]
    out: dict[str, Table] = {}
    if "grades_units" in names:
        out["grades_units"] = Table("grades_units", say(lang, "grades_units_title"),
                                    _columns(lang, unit=True), units)
    if "grades_people" in names:
        cols = _columns(lang, unit=False)
        cols.insert(2, Column("unit", say(lang, "col_unit")))
        out["grades_people"] = Table("grades_people", say(lang, "grades_people_title"),
                                     cols, people)
    if "grades_trend" in names:
        out["grades_trend"] = Table(
            "grades_trend", say(lang, "grades_trend_title"),
            [Column("month", say(lang, "col_month"), "month"),
             Column("name", say(lang, "col_unit")), Column("okr", say(lang, "col_okr")),
             Column("grade", say(lang, "col_grade")),
             Column("score", say(lang, "col_grade_score"), "ratio")], trend)
    return out


async def person_grades(db: AsyncSession, principal: Principal, user_id: int, month: str
                        ) -> list[GradeDetail]:
    """A person's grades for the month, explained: one's own (every OKR for one's role), or
    a person in a dashboard reader's scope (the OKR slice checks it again: 404 outside)."""
    first, _ = month_days(month)
    if user_id == principal.user_id:
        return await okr.my_grades(db, principal, month)
    out = []
    for oif in await okr.okrs_in_force(db):
        people = await okr.people_of(db, oif.okr, where=[User.id == user_id])
        if people:
            out.append(await okr.grade_of(db, principal, okr_id=oif.okr.id,
                                          period=period_of(oif.okr.period, first),
                                          subject_kind="person", subject_id=user_id))
    return out


TABLES = (*GRADE_TABLES, *service.TABLES)


async def dashboard_table(db: AsyncSession, principal: Principal, tree: Subtree, *,
                          name: str, month: str, lang: str, now: datetime) -> Table:
    """Any dashboard table by name (:data:`TABLES`): the API's and the exports' entry."""
    if name in GRADE_TABLES:
        return (await grade_tables(db, principal, tree, month=month, lang=lang,
                                   names=(name,)))[name]
    return await service.table(db, tree, name, month, lang, now=now)


def trend_charts(t: Table, tree: Subtree, lang: str) -> list[dict[str, Any]]:
    """One line chart an OKR: each unit's score over the months (0..1)."""
    charts = []
    for okr_id in dict.fromkeys(r["okr_id"] for r in t.rows):
        rows = [r for r in t.rows if r["okr_id"] == okr_id]
        months = sorted({r["month"] for r in rows})
        series = []
        for uid in dict.fromkeys(r["subject_id"] for r in rows):
            by_month = {r["month"]: r["score"] for r in rows if r["subject_id"] == uid}
            series.append({"name": tree.name(uid, lang),
                           "data": [by_month.get(m) for m in months]})
        charts.append({"months": months, "metric": rows[0]["okr"], "series": series})
    return charts
