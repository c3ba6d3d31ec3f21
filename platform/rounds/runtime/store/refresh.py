"""Keeping the store equal to the raw tables: whole days recomputed, months kept as their sum.

The unit of work is a local day (the company's time zone): :func:`recompute_days` replaces a
day's rows (and its failed-item rows) with what the raw tables say now, and adds the
difference (new − old) to the month tables with ``INSERT … ON CONFLICT DO UPDATE`` (SQLite
and PostgreSQL alike), so a month row stays the sum of its day rows without reading the
month again. Recomputing a day twice gives the same rows and a difference of zero: every
refresh can be rerun, and rerunning changes nothing.

- :func:`refresh` (the reconciler, every ``ROUNDS_STORE_REFRESH_SECONDS``): the days touched
  by rows changed since the marks (``store_marks``: the ``now`` of the last refresh, less
  :data:`OVERLAP` for transactions that committed late): new or changed submissions
  (``submitted_at``) on the day their work was done (``happened_at``: a submission stored
  days after its visit lands on the visit's day) and new survey responses (likewise, on
  the day they happened), visits checked in or out, issues changed
  (``updated_at``, ``escalated_at``) on every day they count on or counted on before (the
  days of their events), and issues that became overdue since. It costs the days it
  touches, not the history. The first refresh of an empty store rebuilds it.
- :func:`close_day` (nightly, at ``ROUNDS_STORE_CLOSE_AT``): yesterday recomputed once it is
  over, and any day since the last closed one; ``store_closed_days`` says which days are
  closed (``times``: how often: late data closes a day again).
- :func:`rebuild` (``rounds rollup``): every day of a range, one transaction each, with
  the months it covers whole summed again from their day rows.
- :func:`refresh_plans`: the planned visits of ``store_month_sites`` from ``planned_visits``.
- :func:`sum_plans`: ``store_month_plans`` made again as the GROUP BY of ``store_month_sites``
  by (month, user, org unit), for the (month, person) groups whose site rows changed (a
  day's visitors, the people whose plan changed; a whole month in a rebuild).

Every writer takes the store's lock first (PostgreSQL: a transaction advisory lock; SQLite:
the write transaction itself), so that two refreshes never add the same difference twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import as_utc, table_of, utcnow
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import retry_busy, write_transaction
from rounds.runtime.store.facts import (
    day_bounds,
    days_between,
    definition_kinds,
    done_rules,
    first_raw_day,
    item_sums,
    local_day,
    month_of,
    raw_sums,
)
from rounds.runtime.store.models import (
    FLOAT_MEASURES,
    MEASURES,
    ClosedDay,
    DayFact,
    ItemDayFact,
    ItemMonthFact,
    MonthFact,
    MonthPlan,
    MonthSite,
    Refresh,
    StoreMark,
)
from rounds.runtime.submissions.models import Submission
from rounds.runtime.surveys.models import SurveyResponse
from rounds.runtime.visits.models import PlannedVisit, Visit

Sessions = async_sessionmaker[AsyncSession]
Progress = Callable[[int, int, date], None]
"""``progress(done, total, day)``: called after each day a rebuild recomputed."""

# A transaction may commit a little after the time it stamped on its rows: the refresh
# reads back this far before its marks, so that such rows are not missed.
OVERLAP = timedelta(minutes=5)
MARKS = ("submissions", "visits", "issues")
_LOCK_KEY = 0x526F756E64 + 12  # "Round" + 12: the store writers' advisory lock
_CHUNK = 500
_COUNTS = tuple(m for m in MEASURES if m not in FLOAT_MEASURES)

_DAY, _MONTH, _MSITE = table_of(DayFact), table_of(MonthFact), table_of(MonthSite)
_IDAY, _IMONTH = table_of(ItemDayFact), table_of(ItemMonthFact)
_MPLAN = table_of(MonthPlan)


@dataclass
class RefreshReport:
    """What one refresh did: which days it recomputed and how many rows it wrote."""

    kind: str  # incremental, close, rebuild
    days: list[date] = field(default_factory=list)
    rows: int = 0
    months: list[str] = field(default_factory=list)  # whose plans were read again

    @property
    def first_day(self) -> date | None:
        return min(self.days) if self.days else None

    @property
    def last_day(self) -> date | None:
        return max(self.days) if self.days else None


# -- statements --------------------------------------------------------------------------

def _dialect(db: AsyncSession) -> Any:
    return postgresql if db.get_bind().dialect.name == "postgresql" else sqlite


def _upsert_adding(db: AsyncSession, table: Table, keys: Sequence[str], adds: Sequence[str]
                   ) -> Any:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET col = col + excluded.col``."""
    stmt = _dialect(db).insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + stmt.excluded[c] for c in adds})


async def _execute_many(db: AsyncSession, stmt: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), _CHUNK):
        await db.execute(stmt, rows[i:i + _CHUNK])


async def _lock(db: AsyncSession) -> None:
    """One store writer at a time (PostgreSQL; on SQLite the write transaction is the lock)."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _month_bounds(month: str) -> tuple[date, date]:
    year, mon = int(month[:4]), int(month[5:])
    return date(year, mon, 1), date(year + (mon == 12), mon % 12 + 1, 1)


# -- one day -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    tz: tzinfo
    now: datetime
    kinds: dict[str, str]
    rules: dict[str, str]


async def _context(db: AsyncSession, tz: tzinfo, now: datetime) -> _Context:
    return _Context(tz, as_utc(now), await definition_kinds(db), await done_rules(db))


def _full(measures: dict[str, float]) -> dict[str, Any]:
    return {m: (float(measures.get(m, 0.0)) if m in FLOAT_MEASURES
                else int(measures.get(m, 0.0))) for m in MEASURES}


async def _recompute_day(db: AsyncSession, day: date, ctx: _Context, *, months: bool) -> int:
    """Replace ``day``'s rows; with ``months``, add the difference to the month tables."""
    start, end = day_bounds(day, ctx.tz)
    sums = await raw_sums(db, start, end, "grain", now=ctx.now, rules=ctx.rules)
    new = [{"day": day, "user_id": int(u), "site_id": int(s), "org_unit_id": int(o),
            "definition_id": str(d), "definition_kind": ctx.kinds.get(str(d), ""),
            **_full(m)}
           for (u, s, o, d), m in sums.items() if any(m.values())]
    items = await item_sums(db, start, end,
                            surveys=[d for d, k in ctx.kinds.items() if k == "survey"])
    new_items = [{"day": day, "user_id": u, "org_unit_id": o, "definition_id": d,
                  "item_id": i, "failed": n} for (u, o, d, i), n in items.items() if n]
    if months:
        old = [dict(r) for r in (await db.execute(
            select(_DAY).where(_DAY.c.day == day))).mappings()]
        old_items = [dict(r) for r in (await db.execute(
            select(_IDAY).where(_IDAY.c.day == day))).mappings()]
    await db.execute(delete(_DAY).where(_DAY.c.day == day))
    await db.execute(delete(_IDAY).where(_IDAY.c.day == day))
    await _execute_many(db, _DAY.insert(), new)
    await _execute_many(db, _IDAY.insert(), new_items)
    if months:
        await _apply_to_month(db, month_of(day), new, old, new_items=new_items,
                              old_items=old_items)
    return len(new) + len(new_items)


async def _apply_to_month(db: AsyncSession, month: str, new: list[dict[str, Any]],
                          old: list[dict[str, Any]], *, new_items: list[dict[str, Any]],
                          old_items: list[dict[str, Any]]) -> None:
    """Add a day's new rows and take away its old ones in the month tables."""
    facts: dict[tuple[int, int, str], dict[str, Any]] = {}
    sites: dict[tuple[int, int], dict[str, Any]] = {}
    for rows, sign in ((new, 1), (old, -1)):
        for r in rows:
            key = (r["user_id"], r["org_unit_id"], r["definition_id"])
            acc = facts.setdefault(key, {"month": month, "user_id": key[0],
                                         "org_unit_id": key[1], "definition_id": key[2],
                                         "definition_kind": r["definition_kind"],
                                         **dict.fromkeys(MEASURES, 0)})
            for m in MEASURES:
                acc[m] += sign * r[m]
            if r["definition_id"] == "":
                skey = (r["user_id"], r["site_id"])
                s = sites.setdefault(skey, {"month": month, "user_id": skey[0],
                                            "site_id": skey[1], "org_unit_id": r["org_unit_id"],
                                            "planned": 0, "checkins": 0, "visits_done": 0})
                s["checkins"] += sign * r["checkins"]
                s["visits_done"] += sign * r["visits_done"]
    items: dict[tuple[int, int, str, str], dict[str, Any]] = {}
    for rows, sign in ((new_items, 1), (old_items, -1)):
        for r in rows:
            ikey = (r["user_id"], r["org_unit_id"], r["definition_id"], r["item_id"])
            i = items.setdefault(ikey, {"month": month, "user_id": ikey[0],
                                        "org_unit_id": ikey[1], "definition_id": ikey[2],
                                        "item_id": ikey[3], "failed": 0})
            i["failed"] += sign * r["failed"]
    changed_facts = [f for f in facts.values() if any(f[m] for m in MEASURES)]
    changed_sites = [s for s in sites.values() if s["checkins"] or s["visits_done"]]
    changed_items = [i for i in items.values() if i["failed"]]
    if changed_facts:
        await _execute_many(db, _upsert_adding(
            db, _MONTH, ["month", "user_id", "org_unit_id", "definition_id"], MEASURES),
            changed_facts)
        await db.execute(delete(_MONTH).where(
            _MONTH.c.month == month, *[_MONTH.c[m] == 0 for m in _COUNTS]))
    if changed_sites:
        await _execute_many(db, _upsert_adding(
            db, _MSITE, ["month", "user_id", "site_id"], ["checkins", "visits_done"]),
            changed_sites)
        await db.execute(delete(_MSITE).where(
            _MSITE.c.month == month, _MSITE.c.planned == 0, _MSITE.c.checkins == 0,
            _MSITE.c.visits_done == 0))
        await sum_plans(db, month, {s["user_id"] for s in changed_sites})
    if changed_items:
        await _execute_many(db, _upsert_adding(
            db, _IMONTH, ["month", "user_id", "org_unit_id", "definition_id", "item_id"],
            ["failed"]), changed_items)
        await db.execute(delete(_IMONTH).where(_IMONTH.c.month == month,
                                               _IMONTH.c.failed == 0))


async def recompute_days(db: AsyncSession, days: Iterable[date], *, tz: tzinfo,
                         now: datetime) -> int:
    """Replace each day's day rows and failed-item rows with what the raw tables say, and
    keep the month tables equal to the sum of the day rows (the difference, new − old, is
    added). ``now`` decides which issues are overdue. Returns the rows written."""
    await _lock(db)
    ctx = await _context(db, tz, now)
    written = 0
    for day in sorted(set(days)):
        written += await _recompute_day(db, day, ctx, months=True)
    return written


async def _sum_month(db: AsyncSession, month: str) -> None:
    """A month's rows made again as the sums of its day rows (plans read again too)."""
    first, after = _month_bounds(month)
    in_month = (_DAY.c.day >= first, _DAY.c.day < after)
    await db.execute(delete(_MONTH).where(_MONTH.c.month == month))
    await db.execute(_MONTH.insert().from_select(
        ["month", "user_id", "org_unit_id", "definition_id", "definition_kind", *MEASURES],
        select(literal(month), _DAY.c.user_id, _DAY.c.org_unit_id, _DAY.c.definition_id,
               func.max(_DAY.c.definition_kind), *[func.sum(_DAY.c[m]) for m in MEASURES])
        .where(*in_month)
        .group_by(_DAY.c.user_id, _DAY.c.org_unit_id, _DAY.c.definition_id)))
    await db.execute(delete(_MSITE).where(_MSITE.c.month == month))
    await db.execute(_MSITE.insert().from_select(
        ["month", "user_id", "site_id", "org_unit_id", "planned", "checkins", "visits_done"],
        select(literal(month), _DAY.c.user_id, _DAY.c.site_id, func.max(_DAY.c.org_unit_id),
               literal(0), func.sum(_DAY.c.checkins), func.sum(_DAY.c.visits_done))
        .where(*in_month, _DAY.c.definition_id == "", _DAY.c.checkins > 0)
        .group_by(_DAY.c.user_id, _DAY.c.site_id)))
    await db.execute(delete(_IMONTH).where(_IMONTH.c.month == month))
    await db.execute(_IMONTH.insert().from_select(
        ["month", "user_id", "org_unit_id", "definition_id", "item_id", "failed"],
        select(literal(month), _IDAY.c.user_id, _IDAY.c.org_unit_id, _IDAY.c.definition_id,
               _IDAY.c.item_id, func.sum(_IDAY.c.failed))
        .where(_IDAY.c.day >= first, _IDAY.c.day < after)
        .group_by(_IDAY.c.user_id, _IDAY.c.org_unit_id, _IDAY.c.definition_id,
                  _IDAY.c.item_id)))
    await refresh_plans(db, [month], sums=False)
    await sum_plans(db, month)


# -- plans -------------------------------------------------------------------------------

async def sum_plans(db: AsyncSession, month: str, users: Collection[int] | None = None
                    ) -> None:
    """``store_month_plans`` of ``month`` made again as the GROUP BY of its
    ``store_month_sites`` rows by (user, org unit), for the people ``users`` (None: all of the
    month's). A (month, person) group is read through the sites' primary key, so this costs
    the people given, not the month."""
    groups: list[list[int] | None] = [None]
    if users is not None:
        ids = sorted({int(u) for u in users})
        groups = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    t = _MSITE.c
    planned = t.planned > 0
    for chunk in groups:
        which = [] if chunk is None else [t.user_id.in_(chunk)]
        mine = [] if chunk is None else [_MPLAN.c.user_id.in_(chunk)]
        await db.execute(delete(_MPLAN).where(_MPLAN.c.month == month, *mine))
        await db.execute(_MPLAN.insert().from_select(
            ["month", "user_id", "org_unit_id", "planned", "visits_done", "checkins",
             "planned_sites", "visited_sites"],
            select(literal(month), t.user_id, t.org_unit_id, func.sum(t.planned),
                   func.sum(case((t.visits_done < t.planned, t.visits_done), else_=t.planned)),
                   func.sum(t.checkins), func.sum(case((planned, 1), else_=0)),
                   func.sum(case((planned & (t.checkins > 0), 1), else_=0)))
            .where(t.month == month, *which)
            .group_by(t.user_id, t.org_unit_id)))


async def refresh_plans(db: AsyncSession, months: Iterable[str], *, sums: bool = True
                        ) -> int:
    """``store_month_sites.planned`` made equal to ``planned_visits`` for these months (with
    the site's org unit); rows left with nothing planned or visited go; with ``sums``, the
    changed people's ``store_month_plans`` follow. Returns the rows changed."""
    await _lock(db)
    changed = 0
    pv, st = table_of(PlannedVisit).c, table_of(Site).c
    for month in sorted(set(months)):
        plans = {(int(u), int(s)): (int(o), int(n)) for u, s, o, n in await db.execute(
            select(pv.user_id, pv.site_id, st.org_unit_id, pv.visits)
            .join(table_of(Site), st.id == pv.site_id).where(pv.month == month))}
        have = {(int(u), int(s)): int(p) for u, s, p in await db.execute(
            select(_MSITE.c.user_id, _MSITE.c.site_id, _MSITE.c.planned)
            .where(_MSITE.c.month == month))}
        upserts = [{"month": month, "user_id": u, "site_id": s, "org_unit_id": o,
                    "planned": n, "checkins": 0, "visits_done": 0}
                   for (u, s), (o, n) in plans.items() if have.get((u, s)) != n]
        gone = [{"u": u, "s": s} for (u, s), p in have.items() if p and (u, s) not in plans]
        if upserts:
            stmt = _dialect(db).insert(_MSITE)
            await _execute_many(db, stmt.on_conflict_do_update(
                index_elements=["month", "user_id", "site_id"],
                set_={"planned": stmt.excluded.planned}), upserts)
        if gone:
            await _execute_many(db, update(_MSITE).where(
                _MSITE.c.month == month, _MSITE.c.user_id == bindparam("u"),
                _MSITE.c.site_id == bindparam("s")).values(planned=0)
                .execution_options(synchronize_session=False), gone)
            await db.execute(delete(_MSITE).where(
                _MSITE.c.month == month, _MSITE.c.planned == 0, _MSITE.c.checkins == 0,
                _MSITE.c.visits_done == 0))
        if sums and (upserts or gone):
            await sum_plans(db, month, {u for (u, s), (_, n) in plans.items()
                                        if have.get((u, s)) != n}
                            | {u for (u, s), p in have.items() if p and (u, s) not in plans})
        changed += len(upserts) + len(gone)
    return changed


# -- what changed ------------------------------------------------------------------------

_BUCKET = 900  # seconds: every UTC offset in use is a multiple of 15 minutes


def _bucket(db: AsyncSession, at: Any) -> Any:
    """An instant's 15-minute bucket (seconds since 1970 // 900): the instants of a bucket
    are on one local day in any time zone, so the days are read from a few distinct
    buckets, not from every row."""
    if db.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", at) / _BUCKET)
    return cast(func.strftime("%s", at), Integer) / _BUCKET


async def changed_days(db: AsyncSession, since: datetime, now: datetime, tz: tzinfo, *,
                       clock: datetime | None = None) -> set[date]:
    """The local days whose facts may differ from the store's because of rows changed after
    ``since`` (and of issues whose deadline passed between ``clock``, default ``since``,
    and ``now``: the last refresh's ``now`` is enough there, deadlines do not commit
    late)."""
    sub, vis, iss = table_of(Submission).c, table_of(Visit).c, table_of(Issue).c
    resp = table_of(SurveyResponse).c
    ev = table_of(IssueEvent).c
    now = as_utc(now)
    parts: list[Any] = []

    def read(at: Any, *where: Any) -> None:
        parts.append(select(_bucket(db, at).label("b")).where(at.is_not(None), *where))

    read(sub.happened_at, sub.submitted_at > since)
    read(resp.happened_at, resp.submitted_at > since)  # survey responses, stored once
    read(vis.checked_in_at, vis.checked_in_at > since)
    read(vis.checked_in_at, vis.checked_out_at > since)
    times = (iss.created_at, iss.due_at, iss.assignee_signed_at, iss.assigner_signed_at,
             iss.closed_at, iss.escalated_at, iss.updated_at)
    for changed in (iss.updated_at > since, iss.escalated_at > since):
        for at in times:
            read(at, changed)
    # Deadlines passed since: those issues are overdue now, on their deadline's day.
    read(iss.due_at, iss.due_at > (since if clock is None else as_utc(clock)),
         iss.due_at <= now)
    # Every day a changed issue counted on before (a rectification sent back, a reopened
    # issue, a second escalation): its events' days.
    changed_ids = select(iss.id).where(or_(iss.updated_at > since, iss.escalated_at > since))
    read(ev.at, ev.issue_id.in_(changed_ids))
    every = union(*parts).subquery()  # UNION: distinct buckets
    buckets = {int(b) for (b,) in await db.execute(select(every.c.b))}
    # A time still to come (an issue's deadline) counts for nothing yet: its day waits for
    # the refresh after it has passed.
    last = int(now.timestamp()) // _BUCKET
    return {local_day(datetime.fromtimestamp(b * _BUCKET, UTC), tz) for b in buckets
            if b <= last}


# -- the refreshes ---------------------------------------------------------------------------

async def _marks(sessions: Sessions) -> dict[str, datetime]:
    async with sessions() as db:
        return {m.name: as_utc(m.mark) for m in (await db.execute(select(StoreMark))).scalars()}


async def _set_marks(db: AsyncSession, now: datetime) -> None:
    stmt = _dialect(db).insert(table_of(StoreMark))
    await db.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"mark": stmt.excluded.mark,
                                       "updated_at": stmt.excluded.updated_at}),
        [{"name": name, "mark": as_utc(now), "updated_at": utcnow()} for name in MARKS])


async def _record(sessions: Sessions, report: RefreshReport, started: datetime, *,
                  marks_at: datetime | None = None) -> None:
    async def once() -> None:
        async with write_transaction(sessions) as db:
            if marks_at is not None:
                await _set_marks(db, marks_at)
            db.add(Refresh(kind=report.kind, started_at=started, finished_at=utcnow(),
                           first_day=report.first_day, last_day=report.last_day,
                           days=len(report.days), rows=report.rows))

    await retry_busy(once)


async def _recompute_in_batches(sessions: Sessions, days: Sequence[date], *, tz: tzinfo,
                                now: datetime, batch: int = 7) -> int:
    written = 0
    for i in range(0, len(days), batch):
        async def once(chunk: Sequence[date] = days[i:i + batch]) -> int:
            async with write_transaction(sessions) as db:
                return await recompute_days(db, chunk, tz=tz, now=now)

        written += await retry_busy(once)
    return written


async def _refresh_plans(sessions: Sessions, months: Iterable[str]) -> int:
    async def once() -> int:
        async with write_transaction(sessions) as db:
            return await refresh_plans(db, months)

    return await retry_busy(once)


async def refresh(sessions: Sessions, *, tz: tzinfo, now: datetime,
                  overlap: timedelta = OVERLAP) -> RefreshReport:
    """The incremental refresh: the days touched since the marks recomputed (a few short
    transactions), this month's plans read again, the marks moved to ``now`` and a
    ``store_refreshes`` row written. Idempotent. An empty store (no marks) is rebuilt from
    the first day of raw data to today."""
    started, now = utcnow(), as_utc(now)
    marks = await _marks(sessions)
    if any(name not in marks for name in MARKS):
        async with sessions() as db:
            first = await first_raw_day(db, tz)
        if first is None:
            report = RefreshReport("incremental")
            await _record(sessions, report, started, marks_at=now)
            return report
        return await rebuild(sessions, first, max(first, local_day(now, tz)), tz=tz, now=now)
    since = min(marks.values()) - overlap
    async with sessions() as db:
        days = sorted(await changed_days(db, since, now, tz, clock=min(marks.values())))
    report = RefreshReport("incremental", days)
    report.rows = await _recompute_in_batches(sessions, days, tz=tz, now=now)
    report.months = sorted({month_of(local_day(now, tz))} | {month_of(d) for d in days})
    await _refresh_plans(sessions, report.months)
    await _record(sessions, report, started, marks_at=now)
    return report


async def last_closed_day(db: AsyncSession) -> date | None:
    found = (await db.execute(select(func.max(table_of(ClosedDay).c.day)))).scalar()
    return found if found is None or isinstance(found, date) else date.fromisoformat(found)


async def close_day(sessions: Sessions, day: date, *, tz: tzinfo, now: datetime
                    ) -> RefreshReport:
    """Close ``day`` (nightly, once it is over): it is recomputed, with every earlier day
    not closed yet (a night the job did not run; on the first close, every day from the
    first day of raw data), and marked closed (``times`` counts a day closed again)."""
    started, now = utcnow(), as_utc(now)
    async with sessions() as db:
        last = await last_closed_day(db)
        first = await first_raw_day(db, tz) if last is None else last + timedelta(days=1)
    days = days_between(first, day) if first is not None and first < day else [day]
    report = RefreshReport("close", days)
    closed = table_of(ClosedDay)
    for d in days:
        async def once(d: date = d) -> int:
            async with write_transaction(sessions) as db:
                rows = await recompute_days(db, [d], tz=tz, now=now)
                stmt = _dialect(db).insert(closed).values(day=d, closed_at=now, times=1)
                await db.execute(stmt.on_conflict_do_update(
                    index_elements=["day"], set_={"closed_at": stmt.excluded.closed_at,
                                                  "times": closed.c.times + 1}))
                return rows

        report.rows += await retry_busy(once)
    report.months = sorted({month_of(d) for d in days})
    await _refresh_plans(sessions, report.months)
    await _record(sessions, report, started)
    return report


async def rebuild(sessions: Sessions, first: date, last: date, *, tz: tzinfo, now: datetime,
                  progress: Progress | None = None) -> RefreshReport:
    """Every day from ``first`` to ``last`` recomputed from the raw tables, one transaction
    a day (``progress(done, total, day)`` after each); the months the range covers whole are
    then summed again from their day rows (which repairs them whatever they held), the
    others kept equal by differences. Sets the marks if the store had none."""
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    started, now = utcnow(), as_utc(now)
    marks = await _marks(sessions)
    days = days_between(first, last)
    whole = {m for m in {month_of(d) for d in days}
             if _month_bounds(m)[0] >= first and _month_bounds(m)[1] - timedelta(days=1) <= last}
    report = RefreshReport("rebuild", days)
    async with sessions() as db:
        ctx = await _context(db, tz, now)
    for n, d in enumerate(days, 1):
        month = month_of(d)

        async def once(d: date = d, month: str = month) -> int:
            async with write_transaction(sessions) as db:
                await _lock(db)
                rows = await _recompute_day(db, d, ctx, months=month not in whole)
                if month in whole and d + timedelta(days=1) == _month_bounds(month)[1]:
                    await _sum_month(db, month)
                return rows

        report.rows += await retry_busy(once)
        if progress is not None:
            progress(n, len(days), d)
    report.months = sorted({month_of(d) for d in days})
    await _refresh_plans(sessions, [m for m in report.months if m not in whole])
    initial = any(name not in marks for name in MARKS)
    await _record(sessions, report, started, marks_at=now if initial else None)
    return report


async def store_range(sessions: Sessions, tz: tzinfo, today: date) -> tuple[date, date]:
    """The days a full rebuild covers: the first day of raw data (today if none) to today."""
    async with sessions() as db:
        first = await first_raw_day(db, tz)
    first = first if first is not None and first <= today else today
    return first, today


__all__ = ["OVERLAP", "Progress", "RefreshReport", "changed_days", "close_day",
           "last_closed_day", "rebuild", "recompute_days", "refresh", "refresh_plans",
           "store_range", "sum_plans"]
