"""The same figures as :func:`read.metric_table`, computed straight from the raw tables.

Visits, submissions, failed items, issues and plans are summed with SQL aggregates over
the range (in the company's time zone ``tz``; overdue as of ``now``), never reading a
store table. This is what the store saves the dashboards from doing on every page: the
benchmark's baseline, and the oracle the tests hold the store to (equal tables, for every
metric, key and range). Grouping, scope and values are :func:`read.assemble`'s, shared.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, table_of, utcnow
from rounds.runtime.sites.models import Site
from rounds.runtime.store.facts import (
    Key,
    RowFilter,
    Sums,
    answer_sums,
    day_bounds,
    definition_kinds,
    done_rules,
    issue_sums,
    merge,
    response_sums,
    submission_sums,
    visit_sums,
)
from rounds.runtime.store.models import ISSUE_MEASURES, SUBMISSION_MEASURES, VISIT_MEASURES
from rounds.runtime.store.read import (
    Ask,
    AskPlan,
    By,
    Figure,
    answer_figures,
    assemble,
    month_after,
)
from rounds.runtime.visits.models import PlannedVisit
from rounds.settings import load_settings

# Before any data: where "all history" starts for stock metrics.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def _key(key: Key) -> int:
    return int(key[0]) if key else 0


async def live_metric_table(db: AsyncSession, *, metrics: Sequence[str], first: date,
                            last: date, by: By, unit_ids: Collection[int] | None = None,
                            user_ids: Collection[int] | None = None,
                            definition_id: str | None = None, tz: tzinfo | None = None,
                            now: datetime | None = None, item: str | None = None,
                            levels: Sequence[str] | None = None
                            ) -> dict[int, dict[str, Figure]]:
    """:func:`read.metric_table`'s table from the raw tables. ``tz``: the company's time
    zone (default: the settings'); ``now``: what "overdue" is measured against (default:
    now) — the store's figures are as of its last refresh."""
    zone = tz if tz is not None else load_settings().tz
    at = as_utc(now) if now is not None else utcnow()
    kinds = await definition_kinds(db)
    rules = await done_rules(db)

    async def fetch(ask: Ask) -> dict[int, dict[str, float]]:
        definitions: frozenset[str] | None = None
        if ask.rows:
            definitions = frozenset(d for d, k in kinds.items() if k == ask.rows)
        if ask.definition_id:
            definitions = frozenset({ask.definition_id}) & definitions \
                if definitions is not None else frozenset({ask.definition_id})
        rows = RowFilter(definitions, ask.unit_scope, ask.user_ids)
        start = day_bounds(ask.first, zone)[0] if ask.first is not None else _BEGINNING
        end = day_bounds(ask.last, zone)[1]
        if ask.answers:
            answers = await answer_sums(db, start, end, ask.by, rows=rows, surveys=[
                d for d, k in kinds.items() if k == "survey"])
            got: dict[int, dict[str, float]] = {}
            for key, sums in answers.items():
                row = got.setdefault(_key(key), {})
                for name, n in sums.items():
                    row[name] = row.get(name, 0.0) + n
            return {k: answer_figures(ask, v) for k, v in got.items()}
        facts = set(ask.facts)
        parts: list[Sums] = []
        if facts & set(VISIT_MEASURES):
            parts.append(await visit_sums(db, start, end, ask.by, rules=rules, rows=rows))
        if facts & set(SUBMISSION_MEASURES):
            parts.append(await submission_sums(db, start, end, ask.by, rows=rows))
            parts.append(await response_sums(db, start, end, ask.by, rows=rows))
        if facts & set(ISSUE_MEASURES):
            parts.append(await issue_sums(db, start, end, ask.by, now=at, rows=rows))
        out: dict[int, dict[str, float]] = {}
        for key, sums in merge(*parts).items():
            row = out.setdefault(_key(key), {})
            for f in ask.facts:
                row[f] = row.get(f, 0.0) + sums.get(f, 0.0)
        return out

    async def fetch_plan(ask: AskPlan) -> dict[int, dict[str, float]]:
        pv, st = table_of(PlannedVisit).c, table_of(Site).c
        out: dict[int, dict[str, float]] = {}
        for month in ask.months:
            first_day = date(int(month[:4]), int(month[5:]), 1)
            start = day_bounds(first_day, zone)[0]
            end = day_bounds(month_after(month), zone)[0]
            # (user, site) → [unit, planned, check-ins, done]
            pairs: dict[tuple[int, int], list[int]] = {}
            for u, s, o, n in await db.execute(
                    select(pv.user_id, pv.site_id, st.org_unit_id, pv.visits)
                    .join(table_of(Site), st.id == pv.site_id).where(pv.month == month)):
                pairs[(int(u), int(s))] = [int(o), int(n), 0, 0]
            visits = await visit_sums(db, start, end, "grain", rules=rules)
            for (u, s, o, _), sums in visits.items():
                pair = pairs.setdefault((int(u), int(s)), [int(o), 0, 0, 0])
                pair[2] += int(sums["checkins"])
                pair[3] += int(sums["visits_done"])
            for (u, _s), (unit, planned, checkins, done) in pairs.items():
                if ask.unit_scope is not None and unit not in ask.unit_scope:
                    continue
                if ask.user_ids is not None and u not in ask.user_ids:
                    continue
                key = {"user": u, "org_unit": unit}.get(ask.by, 0)
                row = out.setdefault(key, dict.fromkeys(
                    ("planned", "visits_done", "checkins", "planned_sites", "visited_sites"),
                    0.0))
                row["planned"] += planned
                row["visits_done"] += min(done, planned)
                row["checkins"] += checkins
                row["planned_sites"] += planned > 0
                row["visited_sites"] += planned > 0 and checkins > 0
        return out

    return await assemble(db, metrics=metrics, first=first, last=last, by=by,
                          unit_ids=unit_ids, user_ids=user_ids, definition_id=definition_id,
                          fetch=fetch, fetch_plan=fetch_plan, item=item, levels=levels)
