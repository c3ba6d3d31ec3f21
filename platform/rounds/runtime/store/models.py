"""The query store: facts rolled up from the raw tables, read by dashboards and OKR grades.

Grain (``store_day_facts``): a local day (the company's time zone) × person × site × org
unit × definition. Visits and check-ins are rows with ``definition_id = ''``; a
submission's facts are on its definition's row; an issue's on the row of its assignee,
site, org unit and definition. ``0`` stands for "no site" / "no person" (a key column may
not be NULL). Every measure is a count or a sum, so any period, person or unit is a sum of
rows. ``store_month_facts`` holds the same sums per month × person × org unit × definition
(no site), kept equal to the day rows' sums; ``store_month_sites`` the plan per person and
site with the visits made, for coverage and completion (which are not sums of days), and
``store_month_plans`` their sums per month × person × org unit (what the plan figures read).

The store is derived: ``rounds rollup`` rebuilds any range from the raw tables, and the
refresh recomputes whole days, so rerunning it changes nothing (see ``refresh``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

# The additive measures of a day or month row, in the order the catalogue documents them.
VISIT_MEASURES = ("checkins", "checkins_flagged", "checkouts", "visit_seconds", "visits_done")
SUBMISSION_MEASURES = ("submissions", "scored", "score_sum", "percentage_count",
                       "percentage_sum", "judged", "passed", "failed_items", "alerts")
ISSUE_MEASURES = ("issues_opened", "issues_rectified", "issues_verified", "issues_closed",
                  "issues_closed_on_time",
                  "issues_overdue", "issues_escalated", "issues_cancelled", "close_seconds",
                  "complaints_opened")
MEASURES = VISIT_MEASURES + SUBMISSION_MEASURES + ISSUE_MEASURES
FLOAT_MEASURES = frozenset({"visit_seconds", "score_sum", "percentage_sum", "close_seconds"})


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


def _amount() -> Mapped[float]:
    return mapped_column(Float, default=0, server_default="0")


class Measures:
    """The facts one row sums (see ``rounds.definitions.metrics`` for what each means)."""

    # visits (on the rows with definition_id = ''): check-ins that day, of them flagged,
    # check-outs, the checked-out visits' time on site, visits done under the role's rule
    checkins: Mapped[int] = _count()
    checkins_flagged: Mapped[int] = _count()
    checkouts: Mapped[int] = _count()
    visit_seconds: Mapped[float] = _amount()
    visits_done: Mapped[int] = _count()
    # submissions (on their definition's rows)
    submissions: Mapped[int] = _count()
    scored: Mapped[int] = _count()  # with a score value
    score_sum: Mapped[float] = _amount()  # of score_value
    percentage_count: Mapped[int] = _count()
    percentage_sum: Mapped[float] = _amount()
    judged: Mapped[int] = _count()  # passed is not NULL
    passed: Mapped[int] = _count()
    failed_items: Mapped[int] = _count()
    alerts: Mapped[int] = _count()
    # issues (on the row of the assignee, site, unit and definition of the issue)
    issues_opened: Mapped[int] = _count()  # created that day
    issues_rectified: Mapped[int] = _count()  # the assignee signed that day
    issues_verified: Mapped[int] = _count()  # the assigner signed (accepted) that day
    issues_closed: Mapped[int] = _count()  # closed that day
    issues_closed_on_time: Mapped[int] = _count()  # ... by due_at
    issues_overdue: Mapped[int] = _count()  # due that day, not closed by then
    issues_escalated: Mapped[int] = _count()  # escalated that day
    issues_cancelled: Mapped[int] = _count()
    close_seconds: Mapped[float] = _amount()  # opened → closed, summed
    complaints_opened: Mapped[int] = _count()


class DayFact(Measures, Base):
    __tablename__ = "store_day_facts"
    __table_args__ = (Index("ix_store_day_facts_user_day", "user_id", "day"),
                      Index("ix_store_day_facts_unit_day", "org_unit_id", "day"))

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: nobody
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no site
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # '': visits
    definition_kind: Mapped[str] = mapped_column(String(16), default="")  # standard, survey


class MonthFact(Measures, Base):
    __tablename__ = "store_month_facts"
    __table_args__ = (Index("ix_store_month_facts_user_month", "user_id", "month"),
                      Index("ix_store_month_facts_unit_month", "org_unit_id", "month"))

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition_kind: Mapped[str] = mapped_column(String(16), default="")


class MonthSite(Base):
    """A person's plan for a site in a month and the visits made: completion counts visits
    up to the plan per site, coverage the planned sites visited at least once."""

    __tablename__ = "store_month_sites"
    __table_args__ = (Index("ix_store_month_sites_unit_month", "org_unit_id", "month"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer)  # the site's
    planned: Mapped[int] = _count()
    checkins: Mapped[int] = _count()
    visits_done: Mapped[int] = _count()


class MonthPlan(Base):
    """The plan sums of a person's sites of one org unit in a month: ``store_month_sites``
    grouped by (month, user, org unit), kept equal to that GROUP BY by the refresh (only the
    (month, person) groups whose site rows changed are summed again), so that a plan figure
    reads a row per person and unit, not one per site."""

    __tablename__ = "store_month_plans"
    __table_args__ = (Index("ix_store_month_plans_unit_month", "org_unit_id", "month"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the sites'
    planned: Mapped[int] = _count()  # Σ planned
    visits_done: Mapped[int] = _count()  # Σ min(visits done, planned) per site
    checkins: Mapped[int] = _count()  # Σ check-ins, planned sites or not
    planned_sites: Mapped[int] = _count()  # sites with planned > 0
    visited_sites: Mapped[int] = _count()  # of them, with a check-in


class ItemDayFact(Base):
    """Failed items per standard item: the heat map of the most-failed items."""

    __tablename__ = "store_item_day_facts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed: Mapped[int] = _count()


class ItemMonthFact(Base):
    __tablename__ = "store_item_month_facts"
    __table_args__ = (Index("ix_store_item_month_facts_unit", "org_unit_id", "month"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed: Mapped[int] = _count()


class StoreMark(Base):
    """How far a refresh has read a source: rows changed after ``mark`` are not in yet."""

    __tablename__ = "store_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    mark: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ClosedDay(Base):
    """A day closed by the nightly refresh (recomputed once its day was over)."""

    __tablename__ = "store_closed_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    times: Mapped[int] = mapped_column(Integer, default=1)  # closed again after late data


class Refresh(Base):
    """One refresh of the store (incremental, nightly close or rebuild): what it did."""

    __tablename__ = "store_refreshes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # incremental, close, rebuild
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    days: Mapped[int] = _count()  # days recomputed
    rows: Mapped[int] = _count()  # day rows written
