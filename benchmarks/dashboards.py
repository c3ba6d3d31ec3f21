"""Dashboards: figures from the query store against the same figures computed live, and the
store's incremental refresh against a full rebuild.

    .venv/bin/python benchmarks/dashboards.py                 # PostgreSQL, 1,000,000 submissions
    .venv/bin/python benchmarks/dashboards.py --quick         # 100,000, SQLite and PostgreSQL
    .venv/bin/python benchmarks/dashboards.py --db sqlite     # or postgresql, or both

What runs, for each database (a fresh SQLite file; a fresh PostgreSQL database
``rounds_bench_dash_<pid>`` on 127.0.0.1:5432, dropped afterwards):

1. **Seed** with the app's own code: migrations, the definitions, the demo city at scale 10
   (4 stations, ~370 people, 20,000 retailers, their assignments), and the visit plans of
   four months (the three before this one and this one: one row per person and assigned
   site, as ``generate_month_plans`` makes them, written with one ``INSERT … SELECT``).
2. **Generate** the raw data by bulk insert (asyncpg ``copy_records_to_table`` on
   PostgreSQL, executemany on SQLite), a fixed seed: N submissions spread evenly over the
   working days of those four months up to yesterday, each with its visit (check-in in the
   company's time zone, some flagged, some never checked out) and a score; a few sent days
   after their visit (``happened_at`` the visit's); their failed items (0–2 each) and one
   issue per failed item, in every state of the loop (closed on time or late, rectified,
   accepted, in progress, assigned, cancelled; overdue ones escalated), plus complaints.
3. **Rebuild** the store for the whole range (``store.refresh.rebuild``), timed: the full
   rebuild, also printed per million submissions.
4. **Figures**: the city dashboard's figures for the last whole month, all stations and
   people: every catalogue metric by person and by org unit (``submissions.avg_score``,
   which must name a standard, for ``customer_manager_visit``), from the store
   (``store.read.metric_table``) and live from the raw tables
   (``store.live.live_metric_table``). They must be equal (floats to a relative 1e-9: sums
   added in another order); best of ``--runs`` each.
5. **Incremental**: a refresh to set the marks, then a day of 10,000 new submissions
   (with their visits, failed items and issues, stored "now", today) and the timed
   incremental refresh (``store.refresh.refresh``); today's figures from the store must then
   equal the live ones.

Targets (the full run, on PostgreSQL): store / live >= 100x; incremental / rebuild <= 0.02.
``--quick`` misses both by construction: its new day of 10,000 submissions is eight days'
worth of its history (the incremental refresh recomputes that day whole), and the live
queries scan a tenth of the rows while the store reads about as many as at full size.
``--keep`` leaves the database behind, to look at query plans.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import bench_pg  # this folder: the benchmarks run as scripts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

SEED = 20261205
TZ = ZoneInfo(os.environ.get("ROUNDS_TIMEZONE", "Asia/Shanghai"))
MONTHS = 4  # of data: the three months before this one and this one up to yesterday
STANDARDS = {"customer_manager": "customer_manager_visit",
             "market_inspector": "market_inspector_patrol", "delivery_staff": "delivery_service"}
PLANNED = {"customer_manager": 2, "market_inspector": 1}  # visits per site and month
TODAY_SUBMISSIONS = 10_000

VISIT_COLUMNS = ("id", "user_id", "site_id", "method", "checked_in_at", "lat", "lng",
                 "accuracy_m", "distance_m", "flags", "flagged", "checked_out_at", "duration_s")
SUBMISSION_COLUMNS = ("id", "body_hash", "user_id", "site_id", "visit_id", "definition_id",
                      "version_id", "content_hash", "answers", "evidence", "total", "max_total",
                      "percentage", "passed", "score_value", "evaluation", "alert_count",
                      "failed_count", "submitted_at", "happened_at")
FAILED_COLUMNS = ("id", "submission_id", "item_id", "severity", "site_id", "created_at")
ISSUE_COLUMNS = ("id", "title", "description", "source", "severity", "priority", "status",
                 "site_id", "org_unit_id", "submission_id", "failed_item_id", "definition_id",
                 "item_id", "assigner_id", "assignee_id", "reporter_id", "due_at",
                 "assignee_signed_at", "assigner_signed_at", "closed_at", "escalation_level",
                 "escalated_at", "escalated_to_unit_id", "created_at", "updated_at", "version")


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# -- the city ------------------------------------------------------------------------------

@dataclass
class City:
    workers: list[tuple[int, str]] = field(default_factory=list)  # (user, role)
    sites_of: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # (site, unit)
    versions: dict[str, tuple[int, str]] = field(default_factory=dict)  # id, content hash
    items: dict[str, list[str]] = field(default_factory=dict)  # scored items per standard
    head_of: dict[int, int] = field(default_factory=dict)  # site unit → station head
    station_of: dict[int, int] = field(default_factory=dict)  # site unit → station
    people: int = 0
    sites: int = 0


async def seed(url: str, *, scale: float, today: date) -> City:
    """Definitions, the demo city, the plans of the months (migrations ran already)."""
    from sqlalchemy import select, text

    from rounds.db import create_engine, session_factory, transaction
    from rounds.definitions.items import items_by_id
    from rounds.definitions.loader import load_documents
    from rounds.demo.city import build_city
    from rounds.runtime.definitions import service as definitions
    from rounds.runtime.orgs.models import OrgUnit
    from rounds.runtime.people.models import User
    from rounds.runtime.sites.models import SiteAssignment

    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        docs, _ = load_documents([ROOT / "definitions"])
        async with transaction(sessions) as db:
            await definitions.sync(db, docs)
        async with transaction(sessions) as db:
            built = await build_city(db, scale=scale, seed=SEED, progress=lambda _: None)
        city = City(sites=len(built.sites))
        async with transaction(sessions) as db:
            for std in STANDARDS.values():
                version = await definitions.get_version(db, std)
                city.versions[std] = (version.id, version.content_hash)
                city.items[std] = [i for i, item in items_by_id(version.content).items()
                                   if item.get("type") in ("check", "yes_no", "scale",
                                                           "single_choice")][:20] or ["item"]
            units = {u.id: u for u in (await db.execute(select(OrgUnit))).scalars()}
            roles = {uid: role for uid, role in (await db.execute(
                select(User.id, User.role_id))).all()}
            heads = {unit: uid for uid, role, unit in (await db.execute(
                select(User.id, User.role_id, User.org_unit_id))).all()
                if role == "station_head"}
            for unit in units.values():
                if unit.kind == "market_department" and unit.parent_id is not None:
                    city.station_of[unit.id] = unit.parent_id
                    city.head_of[unit.id] = heads[unit.parent_id]
            from rounds.runtime.sites.models import Site
            site_unit = dict((await db.execute(select(Site.id, Site.org_unit_id))).all())
            for site_id, user_id in (await db.execute(
                    select(SiteAssignment.site_id, SiteAssignment.user_id)
                    .order_by(SiteAssignment.site_id))).all():
                city.sites_of.setdefault(user_id, []).append((site_id, site_unit[site_id]))
            city.workers = sorted((u, roles[u]) for u in city.sites_of if roles[u] in STANDARDS)
            city.people = len(roles)
            for back in range(MONTHS - 1, -1, -1):
                month = month_start(today, back).strftime("%Y-%m")
                for role, n in PLANNED.items():
                    await db.execute(text(
                        "INSERT INTO planned_visits (month, user_id, site_id, visits, per, "
                        "per_visits) SELECT :month, a.user_id, a.site_id, :n, 'month', :n "
                        "FROM site_assignments a WHERE a.role_id = :role"),
                        {"month": month, "n": n, "role": role})
        return city
    finally:
        await engine.dispose()


# -- the raw data --------------------------------------------------------------------------

@dataclass
class Ids:
    visit: int = 0
    failed: int = 0
    issue: int = 0


@dataclass
class Batch:
    visits: list[tuple[Any, ...]] = field(default_factory=list)
    submissions: list[tuple[Any, ...]] = field(default_factory=list)
    failed: list[tuple[Any, ...]] = field(default_factory=list)
    issues: list[tuple[Any, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.submissions)


EMPTY = "{}"
STATES = (("closed", 0.55), ("closed_late", 0.15), ("rectified", 0.05), ("verified", 0.03),
          ("in_progress", 0.1), ("assigned", 0.08), ("cancelled", 0.04))


def _state(rng: random.Random) -> str:
    x = rng.random()
    for state, p in STATES:
        if x < p:
            return state
        x -= p
    return "assigned"


def _issue(rng: random.Random, ids: Ids, *, created: datetime, now: datetime, site: int | None,
           unit: int, submission: str | None, failed: int | None, definition: str | None,
           item: str | None, assignee: int, assigner: int, station: int, source: str
           ) -> tuple[Any, ...]:
    """One issue, taken as far through the loop as its people got by ``now``."""
    ids.issue += 1
    due = created + timedelta(days=3)
    state = _state(rng)
    rectified: datetime | None = None
    verified: datetime | None = None
    closed: datetime | None = None
    escalated: datetime | None = None
    level = 0
    if state in ("closed", "rectified", "verified"):
        rectified = created + (due - created) * rng.uniform(0.2, 0.7)
        if state != "rectified":
            verified = rectified + (due - rectified) * rng.uniform(0.1, 0.5)
        if state == "closed" and verified is not None:
            closed = verified + (due - verified) * rng.uniform(0.1, 0.9)
    elif state == "closed_late":
        rectified = due + timedelta(hours=rng.uniform(2, 60))
        verified = rectified + timedelta(hours=rng.uniform(1, 20))
        closed = verified + timedelta(hours=rng.uniform(0.5, 10))
        state = "closed"
    # What ``now`` has not reached yet did not happen: the issue is still at an earlier step.
    status = {"closed": "closed", "verified": "verified", "rectified": "rectified"}.get(
        state, state)
    if closed is not None and closed > now:
        closed, status = None, "verified"
    if verified is not None and verified > now:
        verified, status = None, "rectified"
    if rectified is not None and rectified > now:
        rectified, status = None, "in_progress"
    cancelled = status == "cancelled"
    updated = max(t for t in (created, rectified, verified, closed) if t is not None)
    if cancelled:
        updated = min(now, created + timedelta(hours=rng.uniform(1, 48)))
    active_until = verified or (None if cancelled else now)
    if active_until is not None and due < active_until and due + timedelta(hours=1) <= now:
        escalated, level = due + timedelta(hours=1), 1  # 督办
        updated = max(updated, escalated)
    return (ids.issue, f"问题 {item or source}", "", source, "medium", 2, status, site, unit,
            submission, failed, definition, item, assigner, assignee, assignee, due, rectified,
            verified, closed, level, escalated, station if level else None, created, updated, 1)


def generate(rng: random.Random, city: City, ids: Ids, days: list[date], per_day: list[int],
             *, now: datetime, stored_at: datetime | None = None, chunk: int = 50_000
             ) -> Iterator[Batch]:
    """The raw rows, ``per_day[i]`` submissions on ``days[i]``, in batches of ``chunk``
    submissions. ``stored_at``: every row stored then (a day arriving now), else each when it
    happened (a few late)."""
    batch = Batch()
    for day, count in zip(days, per_day, strict=True):
        start = datetime(day.year, day.month, day.day, 8, tzinfo=TZ).astimezone(UTC)
        span = 10 * 3600.0
        if stored_at is not None:  # today: up to now
            start = datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC)
            span = max(60.0, (stored_at - start).total_seconds() - 1900)  # checked out by now
        for _ in range(count):
            uid, role = city.workers[rng.randrange(len(city.workers))]
            site, unit = rng.choice(city.sites_of[uid])
            std = STANDARDS[role]
            version_id, content_hash = city.versions[std]
            ids.visit += 1
            checked_in = start + timedelta(seconds=rng.uniform(0, span))
            flags = {}
            if rng.random() < 0.07:
                flags = {"far": True} if rng.random() < 0.5 else {"poor_accuracy": True}
            # Checked out (a person has one open visit at most: the last one is left open).
            duration_s = rng.randint(300, 1800)
            out = checked_in + timedelta(seconds=duration_s)
            batch.visits.append((ids.visit, uid, site, "gps", checked_in, 30.39, 114.89, 12.0,
                                 150.0 if flags.get("far") else 20.0, json.dumps(flags),
                                 bool(flags), out, duration_s))
            sent = out + timedelta(minutes=1)
            if stored_at is not None:
                sent = stored_at
            elif rng.random() < 0.02:
                sent = min(now - timedelta(hours=1),
                           sent + timedelta(hours=rng.uniform(6, 72)))  # offline phone
            percentage = round(rng.uniform(40, 100), 1)
            failed_n = rng.choice((0, 0, 0, 0, 0, 1, 1, 1, 2, 2))
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            batch.submissions.append((
                sid, sid.replace("-", "") * 2, uid, site, ids.visit, std, version_id,
                content_hash, EMPTY, EMPTY, percentage, 100.0, percentage, percentage >= 70,
                percentage, EMPTY, int(percentage < 50), failed_n, sent, checked_in))
            for item in rng.sample(city.items[std], min(failed_n, len(city.items[std]))):
                ids.failed += 1
                batch.failed.append((ids.failed, sid, item, "medium", site, sent))
                batch.issues.append(_issue(
                    rng, ids, created=sent, now=stored_at or now, site=site, unit=unit,
                    submission=sid, failed=ids.failed, definition=std, item=item,
                    assignee=uid, assigner=city.head_of[unit], station=city.station_of[unit],
                    source="failed_item"))
            if rng.random() < 0.005:  # a retailer's complaint about the shop
                batch.issues.append(_issue(
                    rng, ids, created=sent, now=stored_at or now, site=site, unit=unit,
                    submission=None, failed=None, definition=None, item=None, assignee=uid,
                    assigner=city.head_of[unit], station=city.station_of[unit],
                    source="complaint"))
            if len(batch) >= chunk:
                yield batch
                batch = Batch()
    if len(batch):
        yield batch


class Writer:
    """Bulk inserts: asyncpg's COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = url.startswith("postgresql")
        self.conn: Any = None
        self.engine: Any = None

    async def __aenter__(self) -> Writer:
        if self.pg:
            import asyncpg  # type: ignore[import-untyped]

            self.conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg://",
                                                               "postgresql://"))
            # A bulk load of rows known to be consistent: no foreign-key trigger per row.
            await self.conn.execute("SET session_replication_role = replica")
        else:
            from rounds.db import create_engine

            self.engine = create_engine(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.conn is not None:
            await self.conn.close()
        if self.engine is not None:
            await self.engine.dispose()

    async def write(self, batch: Batch) -> None:
        tables = (("visits", VISIT_COLUMNS, batch.visits),
                  ("submissions", SUBMISSION_COLUMNS, batch.submissions),
                  ("failed_items", FAILED_COLUMNS, batch.failed),
                  ("issues", ISSUE_COLUMNS, batch.issues))
        if self.pg:
            async with self.conn.transaction():
                for name, columns, rows in tables:
                    if rows:
                        await self.conn.copy_records_to_table(name, records=rows,
                                                              columns=list(columns))
            return
        from sqlalchemy import insert

        from rounds.db import Base

        json_columns = {"flags", "answers", "evidence", "evaluation"}
        async with self.engine.begin() as conn:
            for name, columns, rows in tables:
                if not rows:
                    continue
                table = Base.metadata.tables[name]
                dicts = [{c: (json.loads(v) if c in json_columns else v)
                          for c, v in zip(columns, row, strict=True)} for row in rows]
                await conn.execute(insert(table), dicts)

    async def finish(self) -> None:
        """Sequences past the ids written (PostgreSQL), statistics for the planner."""
        if self.pg:
            for name in ("visits", "failed_items", "issues"):
                await self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))")
            await self.conn.execute("ANALYZE")
        else:
            from sqlalchemy import text

            async with self.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))


# -- measuring -----------------------------------------------------------------------------

async def best_of(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        best = min(best, time.perf_counter() - started)
    return best, result


def _metrics() -> tuple[list[str], list[str]]:
    """Every catalogue metric: those read without a definition, and those that need one."""
    from rounds.definitions.metrics import CATALOGUE

    free = [m.id for m in CATALOGUE.values() if m.definition != "required"]
    need = [m.id for m in CATALOGUE.values() if m.definition == "required"]
    return free, need


async def dashboard(db: Any, table: Callable[..., Awaitable[Any]], first: date, last: date,
                    **more: Any) -> dict[str, Any]:
    """The city dashboard's figures: every metric by person and by org unit (``more``: the
    live table's time zone and now)."""
    free, need = _metrics()
    out: dict[str, Any] = {}
    for by in ("user", "org_unit"):
        out[by] = await table(db, metrics=free, first=first, last=last, by=by, **more)
        if need:
            out[f"{by}:customer_manager_visit"] = await table(
                db, metrics=need, first=first, last=last, by=by,
                definition_id="customer_manager_visit", **more)
    return out


def compare(store: dict[str, Any], live: dict[str, Any], what: str) -> int:
    """The figures must be equal; the number of figures compared."""
    from rounds.runtime.store.read import differences

    n = 0
    for key, figures in store.items():
        diff = differences(figures, live[key], rel=1e-9)
        if diff:
            raise SystemExit(f"{what}: store and live differ ({key}): " + "; ".join(diff[:10]))
        n += sum(len(row) for row in figures.values())
    return n


async def run(url: str, n: int, *, runs: int, scale: float) -> None:
    from sqlalchemy import func, select

    from rounds.db import create_engine, session_factory
    from rounds.migrate import upgrade
    from rounds.runtime.store import refresh as store_refresh
    from rounds.runtime.store.live import live_metric_table
    from rounds.runtime.store.read import metric_table
    from rounds.runtime.submissions.models import Submission

    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    # The history is as of an hour ago (the store's last refresh then): the refresh's overlap
    # does not reach back into it, so the incremental refresh sees the new day only.
    now = datetime.now(UTC) - timedelta(hours=1)
    today = now.astimezone(TZ).date()
    first = month_start(today, MONTHS - 1)
    yesterday = today - timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]
    days = [d for d in days if d.weekday() < 6]
    per_day = [n // len(days) + (1 if i < n % len(days) else 0) for i in range(len(days))]

    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    city = await seed(url, scale=scale, today=today)
    print(f"[{kind}] city: {city.people} people, {city.sites:,} sites, "
          f"{len(city.workers)} field workers; seeded in {time.perf_counter() - started:.1f} s")
    rng = random.Random(SEED)
    ids = Ids()
    started = time.perf_counter()
    async with Writer(url) as writer:
        for batch in generate(rng, city, ids, days, per_day, now=now):
            await writer.write(batch)
        await writer.finish()
    print(f"[{kind}] raw data: {n:,} submissions and visits, {ids.failed:,} failed items, "
          f"{ids.issue:,} issues over {len(days)} days ({days[0]} to {days[-1]}) "
          f"in {time.perf_counter() - started:.1f} s")

    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with sessions() as db:
            stored = (await db.execute(select(func.count()).select_from(Submission))).scalar_one()
        assert stored == n, (stored, n)

        # (c) the full rebuild
        started = time.perf_counter()
        await store_refresh.rebuild(sessions, first, yesterday, tz=TZ, now=now)
        rebuild_s = time.perf_counter() - started

        # (a) the city dashboard of the last whole month, store against live
        month_first = month_start(today, 1)
        month_last = month_end(month_first)
        async with sessions() as db:
            store_s, store_figures = await best_of(runs, lambda: dashboard(
                db, metric_table, month_first, month_last))
        async with sessions() as db:
            live_s, live_figures = await best_of(runs, lambda: dashboard(
                db, live_metric_table, month_first, month_last, tz=TZ, now=now))
        figures = compare(store_figures, live_figures, f"{month_first:%Y-%m}")

        # (b) a day of new submissions, refreshed incrementally
        await store_refresh.refresh(sessions, tz=TZ, now=datetime.now(UTC))  # up to now
        arrived = datetime.now(UTC)
        async with Writer(url) as writer:
            for batch in generate(rng, city, ids, [today], [TODAY_SUBMISSIONS], now=arrived,
                                  stored_at=arrived):
                await writer.write(batch)
            await writer.finish()
        started = time.perf_counter()
        refreshed = datetime.now(UTC)
        report = await store_refresh.refresh(sessions, tz=TZ, now=refreshed)
        incremental_s = time.perf_counter() - started
        async with sessions() as db:
            today_figures = compare(
                await dashboard(db, metric_table, today, today),
                await dashboard(db, live_metric_table, today, today, tz=TZ, now=refreshed),
                f"{today} after the incremental refresh")
    finally:
        await engine.dispose()

    print(f"[{kind}] {n:,} submissions; the dashboard of {month_first:%Y-%m}: {figures:,} "
          f"figures equal (today's {today_figures:,} too, after the incremental refresh: "
          f"{len(report.days)} day(s), {report.rows:,} rows)")
    print(f"  store {store_s * 1000:.1f} ms, live {live_s * 1000:.1f} ms (best of {runs})")
    print(f"store / live: {live_s / store_s:.1f}x (target >= 100x)")
    print(f"  incremental {incremental_s:.2f} s ({TODAY_SUBMISSIONS:,} new submissions), "
          f"rebuild {rebuild_s:.1f} s")
    print(f"incremental / rebuild: {incremental_s / rebuild_s:.3f} (target <= 0.02)")
    print(f"rebuild per million submissions: {rebuild_s / (n / 1e6):.1f} s")


def postgres_database(*, keep: bool = False) -> AbstractContextManager[str]:
    return bench_pg.postgres_database(f"rounds_bench_dash_{os.getpid()}", keep=keep)


@contextmanager
def sqlite_database(*, keep: bool = False) -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="rounds-bench-dash-")
    try:
        yield f"sqlite+aiosqlite:///{tmp}/rounds.sqlite3"
    finally:
        if keep:
            print(f"kept: {tmp}/rounds.sqlite3")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="100,000 submissions, on SQLite and PostgreSQL")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"),
                        help="default: postgresql (both with --quick)")
    parser.add_argument("--submissions", type=int, help="default 1,000,000 (100,000 quick)")
    parser.add_argument("--runs", type=int, default=5, help="best of how many (default 5)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database afterwards (to look at query plans)")
    parser.add_argument("--scale", type=float, default=10.0,
                        help="the city's size (demo scale; 10: ~370 people, 20,000 sites)")
    args = parser.parse_args()
    import rounds.slices  # noqa: F401  (every slice's hooks, as the app loads them)

    n = args.submissions or (100_000 if args.quick else 1_000_000)
    which = args.db or ("both" if args.quick else "postgresql")
    for db in ("sqlite", "postgresql"):
        if which not in (db, "both"):
            continue
        make = sqlite_database if db == "sqlite" else postgres_database
        with make(keep=args.keep) as url:
            asyncio.run(run(url, n, runs=args.runs, scale=args.scale))


if __name__ == "__main__":
    main()
