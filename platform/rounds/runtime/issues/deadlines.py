"""Time in the closed loop: when an issue is due, and what happens as the date comes and goes.

- **Due dates.** A failed item's own ``due`` (``{"days": n}`` or ``{"hours": n}``), else the
  standard's ``due_days`` (one number, or one per severity), else the built-in table
  :data:`DEFAULT_DUE_DAYS` (also for 交办 and feedback). An issue's priority follows its
  severity (:data:`PRIORITY_OF`) unless a person sets it.
- **Reminders and escalations** (:func:`remind_due_soon`, :func:`escalate_overdue`, run by
  the periodic jobs) are recomputed from the issues' columns, each change made by a
  conditional UPDATE whose row count says whether this run won: they are idempotent and
  safe to run concurrently. They add events without bumping the version (they change
  nothing a person decides on).
- :func:`iso`: a time as the API writes it (aware UTC, as ``UtcDateTime`` reads it back).

Imports ``events``, ``routing`` and ``texts`` of the slice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.runtime.issues import events, texts
from rounds.runtime.issues.models import ACTIVE, Issue
from rounds.runtime.issues.routing import roles_with, unit_chain, users_by_unit
from rounds.runtime.orgs.models import OrgUnit

SEVERITIES = ("low", "medium", "high", "critical")
# Days to close when a standard says nothing for a severity (and for 交办 and feedback).
DEFAULT_DUE_DAYS = {"critical": 1, "high": 3, "medium": 7, "low": 14}
# 1 urgent … 4 low: an issue's priority follows its severity unless a person sets it.
PRIORITY_OF = {"critical": 1, "high": 2, "medium": 3, "low": 4}
ESCALATE_EVERY = timedelta(days=1)  # at most one org level up per day per issue
DUE_SOON = timedelta(hours=24)


def iso(at: datetime | None) -> str | None:
    return as_utc(at).isoformat() if at is not None else None


# -- due dates ------------------------------------------------------------------------------

def due_days(config: Any, severity: str) -> int:
    """``due_days`` of a standard: one number, or one per severity (the built-in table for
    severities it leaves out)."""
    if isinstance(config, int) and not isinstance(config, bool) and config > 0:
        return config
    if isinstance(config, dict) and isinstance(config.get(severity), int):
        return int(config[severity])
    return DEFAULT_DUE_DAYS.get(severity, DEFAULT_DUE_DAYS["medium"])


def due_in(config: Any, severity: str, item_due: Any = None) -> tuple[timedelta, str]:
    """How long the assignee has, and what said so: the item's own ``due`` (``{"days": n}``
    or ``{"hours": n}``), else the standard's ``due_days`` for the severity ("item" or
    "severity")."""
    if isinstance(item_due, dict):
        for unit in ("days", "hours"):
            n = item_due.get(unit)
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                return timedelta(**{unit: n}), "item"
    return timedelta(days=due_days(config, severity)), "severity"


def due_json(due: timedelta) -> dict[str, int]:
    """A due time as the history keeps it: whole days, else hours."""
    seconds = int(due.total_seconds())
    return {"days": seconds // 86400} if seconds % 86400 == 0 else {"hours": seconds // 3600}


# -- reminders and escalation (run by the periodic jobs) -------------------------------------

async def remind_due_soon(db: AsyncSession, now: datetime, within: timedelta = DUE_SOON
                          ) -> int:
    """Remind each assignee once of an active issue due within ``within`` (not yet past
    due: escalation takes those). ``reminded_at`` is set by ``UPDATE ... WHERE reminded_at
    IS NULL``: a concurrent or repeated run that finds it set does nothing."""
    now = as_utc(now)
    rows = (await db.execute(select(Issue.id, Issue.assignee_id, Issue.title, Issue.due_at,
                                    Issue.titles)
                             .where(Issue.status.in_(ACTIVE), Issue.assignee_id.is_not(None),
                                    Issue.reminded_at.is_(None), Issue.due_at > now,
                                    Issue.due_at <= now + within)
                             .order_by(Issue.due_at, Issue.id))).all()
    done = 0
    for issue_id, assignee_id, title, due_at, titles in rows:
        assert due_at is not None  # by the query
        won = cast(CursorResult[Any], await db.execute(
            update(Issue).where(Issue.id == issue_id, Issue.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)))
        if won.rowcount != 1:
            continue
        left = due_at - now
        ev = await events.record(db, issue_id, at=now, actor_id=None, action="reminded",
                                 from_status=None, to_status=None,
                                 data={"assignee_id": assignee_id, "due_at": iso(due_at)})
        await events.tell(db, issue_id, ev, "issue_due_soon", users=[assignee_id],
                          message=texts.message("issue_due_soon", titles or title,
                                                due_in=left))
        done += 1
    return done


async def escalate_overdue(db: AsyncSession, now: datetime) -> int:
    """Escalate each overdue active issue one org level up, at most once a day.

    From the issue's org unit (or the unit it was last escalated to), the next unit up that
    has anyone whose role may verify or view issues there (``issue.verify`` or
    ``issue.view_scope``, read from the role definitions) is told; a unit with nobody to
    tell is passed over, so no day is lost on it. At the top nothing more happens. The
    change is ``UPDATE ... WHERE escalation_level = :seen AND (escalated_at IS NULL OR
    escalated_at <= now - 1 day)``: repeated or concurrent runs escalate once."""
    now = as_utc(now)
    cutoff = now - ESCALATE_EVERY
    roles = await roles_with(db, "issue.verify", "issue.view_scope")
    rows = (await db.execute(
        select(Issue.id, Issue.org_unit_id, Issue.escalated_to_unit_id,
               Issue.escalation_level, Issue.title, Issue.due_at, Issue.titles)
        .where(Issue.status.in_(ACTIVE), Issue.due_at.is_not(None), Issue.due_at < now,
               or_(Issue.escalated_at.is_(None), Issue.escalated_at <= cutoff))
        .order_by(Issue.due_at, Issue.id))).all()
    units: dict[int, OrgUnit | None] = {}
    done = 0
    for issue_id, unit_id, last_unit_id, level, title, due_at, titles in rows:
        start_id = last_unit_id or unit_id
        if start_id not in units:
            units[start_id] = await db.get(OrgUnit, start_id)
        unit = units[start_id]
        if unit is None:
            continue
        above = unit_chain(unit)[1:]
        people = await users_by_unit(db, roles, above)
        target = next((u for u in above if people.get(u)), None)
        if target is None:  # the top: nobody further up to tell
            continue
        won = cast(CursorResult[Any], await db.execute(
            update(Issue).where(Issue.id == issue_id, Issue.escalation_level == level,
                                or_(Issue.escalated_at.is_(None),
                                    Issue.escalated_at <= cutoff))
            .values(escalation_level=level + 1, escalated_at=now,
                    escalated_to_unit_id=target)
            .execution_options(synchronize_session=False)))
        if won.rowcount != 1:
            continue
        target_unit = await db.get(OrgUnit, target)
        name = {"zh": target_unit.name_zh if target_unit else "",
                "en": target_unit.name_en if target_unit else ""}
        ev = await events.record(db, issue_id, at=now, actor_id=None, action="escalated",
                                 from_status=None, to_status=None,
                                 data={"level": level + 1, "from_unit_id": start_id,
                                       "to_unit_id": target, "unit": name,
                                       "notified": people[target]})
        overdue_by = now - due_at if due_at is not None else timedelta()
        await events.tell(db, issue_id, ev, "issue_escalated", users=people[target],
                          message=texts.message("issue_escalated", titles or title,
                                                due_in=overdue_by, unit=name))
        done += 1
    return done
