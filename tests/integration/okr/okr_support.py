"""The store of ``test_okr_grades`` (November 2026, written directly), for the service and
the HTTP tests: see that module's docstring for the figures by hand."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.store.models import DayFact, MonthFact, MonthSite
from rounds.runtime.store.refresh import sum_plans
from support.field import Field

DAY = date(2026, 11, 10)


async def put(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Day rows on DAY and the month rows that are their sums."""
    months: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(dict)
    for r in rows:
        db.add(DayFact(day=DAY, **r))
        key = (r["user_id"], r["org_unit_id"], r["definition_id"], r["definition_kind"])
        for k, v in r.items():
            if k in ("user_id", "org_unit_id", "definition_id", "definition_kind"):
                months[key][k] = v
            elif k != "site_id":
                months[key][k] = months[key].get(k, 0) + v
    for values in months.values():
        db.add(MonthFact(month="2026-11", **values))
    await db.flush()


async def seed_store(db: AsyncSession, w: Field) -> None:
    u, s, units = w.users, w.sites, w.units
    a1, st_b = units["area_a1"], units["st_b"]
    await put(db, [
        dict(user_id=u["cm_a"], site_id=s["RA1"], org_unit_id=a1, definition_id="",
             definition_kind="", checkins=3, checkins_flagged=0, visits_done=3,
             issues_opened=3, issues_closed=2, issues_closed_on_time=1),
        dict(user_id=u["cm_a"], site_id=s["RA1"], org_unit_id=a1,
             definition_id="customer_manager_visit", definition_kind="standard",
             submissions=2, percentage_count=2, percentage_sum=170.0),
        dict(user_id=u["cm_a"], site_id=s["RA2"], org_unit_id=a1,
             definition_id="retailer_satisfaction", definition_kind="survey",
             submissions=1, percentage_count=1, percentage_sum=90.0),
        dict(user_id=u["cm_b"], site_id=s["RB1"], org_unit_id=st_b, definition_id="",
             definition_kind="", checkins=1, checkins_flagged=1, visits_done=1),
        dict(user_id=u["mi_a"], site_id=s["RA1"], org_unit_id=a1, definition_id="",
             definition_kind="", checkins=0),
    ])
    for user, site, unit, planned, done in (("cm_a", "RA1", a1, 2, 2), ("cm_a", "RA2", a1, 2, 1),
                                            ("cm_b", "RB1", st_b, 1, 1),
                                            ("mi_a", "RA1", a1, 5, 0)):
        db.add(MonthSite(month="2026-11", user_id=u[user], site_id=s[site], org_unit_id=unit,
                         planned=planned, checkins=done, visits_done=done))
    await db.flush()
    await sum_plans(db, "2026-11")  # the plan sums the refresh keeps


