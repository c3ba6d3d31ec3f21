"""The query store filled by hand for the dashboards' tests (API and browser): rows of the
field of ``support.field`` for November 2026 (and one October row), so every figure the
dashboards show is known in advance. See tests/integration/dashboards/test_dashboard_api.py
for the table of what they hold and the figures worked out from them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rounds.runtime.definitions.service import get_version
from rounds.runtime.issues.models import Issue
from rounds.runtime.store.models import DayFact, ItemMonthFact, MonthFact, MonthSite
from rounds.runtime.store.refresh import sum_plans
from rounds.runtime.submissions.models import Submission
from support.field import FieldServer
from support.live import in_database

MONTH = "2026-11"
CMV = "customer_manager_visit"


def fill_store(api: FieldServer) -> None:
    u, s, units = api.world.users, api.world.sites, api.world.units
    a1, st_b = units["area_a1"], units["st_b"]

    async def work(db: Any) -> None:
        def month(user: str, unit: int, definition: str = "", kind: str = "", **m: Any
                  ) -> None:
            db.add(MonthFact(month=MONTH, user_id=u[user], org_unit_id=unit,
                             definition_id=definition, definition_kind=kind, **m))

        month("cm_a", a1, checkins=6, checkins_flagged=2, visits_done=5, issues_opened=3,
              issues_rectified=2, issues_verified=2, issues_closed=2, issues_closed_on_time=1,
              issues_overdue=1, issues_escalated=1)
        month("cm_a", a1, CMV, "standard", submissions=8, percentage_count=8,
              percentage_sum=680.0, failed_items=4)
        month("mi_a", a1, checkins=2, checkins_flagged=1, visits_done=1)
        month("cm_b", st_b, checkins=4, visits_done=4, issues_opened=1)
        month("cm_b", st_b, CMV, "standard", submissions=4, percentage_count=4,
              percentage_sum=360.0)
        for user, site, unit, planned, done, checkins in (
                ("cm_a", "RA1", a1, 4, 5, 6), ("cm_a", "RA2", a1, 4, 0, 0),
                ("mi_a", "RA1", a1, 2, 1, 2), ("cm_b", "RB1", st_b, 2, 4, 4)):
            db.add(MonthSite(month=MONTH, user_id=u[user], site_id=s[site], org_unit_id=unit,
                             planned=planned, visits_done=done, checkins=checkins))
        # October: cm_a did 2 of RA1's 4
        db.add(MonthSite(month="2026-10", user_id=u["cm_a"], site_id=s["RA1"],
                         org_unit_id=a1, planned=4, visits_done=2, checkins=2))
        for user, unit, item, failed in (("cm_a", a1, "price_tags_complete", 3),
                                         ("cm_b", st_b, "price_tags_complete", 1),
                                         ("cm_a", a1, "display_standard", 1)):
            db.add(ItemMonthFact(month=MONTH, user_id=u[user], org_unit_id=unit,
                                 definition_id=CMV, item_id=item, failed=failed))
        for day, user, site, unit, checkins, flagged in (
                (date(2026, 11, 5), "cm_a", "RA1", a1, 3, 2),
                (date(2026, 11, 7), "mi_a", "RA1", a1, 2, 1),
                (date(2026, 11, 3), "cm_b", "RB1", st_b, 4, 0)):
            db.add(DayFact(day=day, user_id=u[user], site_id=s[site], org_unit_id=unit,
                           definition_id="", checkins=checkins, checkins_flagged=flagged))
        # today (the company's day): cm_a checked in at RA1 twice, once flagged — the map
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        db.add(DayFact(day=today, user_id=u["cm_a"], site_id=s["RA1"], org_unit_id=a1,
                       definition_id="", checkins=2, checkins_flagged=1))
        db.add(Issue(title="断货", source="manual", severity="low", status="open",
                     org_unit_id=st_b, site_id=s["RB1"], assignee_id=u["cm_b"],
                     created_at=datetime.now(UTC) - timedelta(days=10)))
        version = await get_version(db, CMV)
        for user, site, answers in (
                ("cm_a", "RA1", {"display_standard": "messy", "brands_in_stock": 42,
                                 "price_tags_complete": False,
                                 "policy_topics": ["price_policy", "tobacco_law"]}),
                ("cm_b", "RB1", {"display_standard": "standard"})):
            db.add(Submission(
                id=str(uuid.uuid4()), body_hash="0" * 64, user_id=u[user], site_id=s[site],
                definition_id=CMV, version_id=version.id, content_hash=version.content_hash,
                answers=answers, evidence={}, evaluation={}, percentage=80.0,
                score_value=80.0, submitted_at=datetime(2026, 11, 5, 3, tzinfo=UTC)))
        await db.flush()
        for month in (MONTH, "2026-10"):  # the plan sums the refresh keeps
            await sum_plans(db, month)

    in_database(api.server.database_url, work)
