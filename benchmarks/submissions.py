"""Field operations: POST /api/submissions end to end, under load, against two baselines.

    .venv/bin/python benchmarks/submissions.py                  # both databases, full run
    .venv/bin/python benchmarks/submissions.py --quick          # a small run
    .venv/bin/python benchmarks/submissions.py --db sqlite      # or postgresql, or both
    .venv/bin/python benchmarks/submissions.py --profile        # the production profile only

What runs, for each database (a fresh SQLite file; a fresh PostgreSQL database
``rounds_bench_<pid>`` on 127.0.0.1:5432, dropped afterwards):

1. **Seed** with the app's own code: migrations, the definitions, a city, 32 customer managers
   each serving one retailer, with photos they uploaded, an open visit there (``check_in``) and
   an API token. Then bodies of ``customer_manager_visit`` are generated
   (``rounds.demo.answers.plausible_submission``, a fixed seed, the user's own photos) and
   checked against the compiled form, each with a new submission id: none is sent twice.
2. **Serve**: this file started again as a second process (``--serve``) runs uvicorn with one
   worker on a free port; its app is ``rounds.app.create_app`` as shipped, plus benchmark-only
   routes registered on it (``app.register``), behind the same middleware and auth:

   - ``full``   POST /api/submissions, the real handler and service: decode, the user's visit,
     validate, score, alerts, one transaction (the row, failed items, photo links), respond;
   - ``bare``   POST /bench/bare: the same row (same columns, same JSON documents: the answers
     and evidence as sent, an evaluation of the same form) inserted through the same database
     layer (the app's engine, SQLAlchemy Core, ``EncodedJSON`` binds, ``writer_lock``), no
     validation, no scoring, no read; it responds with the stored document;
   - ``raw driver`` POST /bench/raw: the same row, a plain ``INSERT`` through the driver alone
     (aiosqlite on one connection with the app's pragmas; an asyncpg pool), same response;
   - ``bare, same rows`` POST /bench/bare-rows: every row one full submission writes (the
     submission, its failed items, photo links, issues, issue events, notifications), through
     SQLAlchemy Core in one transaction: no read, validation, scoring or routing (what each body
     fails, and its photos, were worked out by the load process before the load and handed over
     in a file); one issue per failed item with its ``created``, ``routed`` and ``assigned``
     events and a notification to the assignee (the submitter), as the full path makes them
     for this world (the seed has no one who may accept a fix);
   - ``raw driver, same rows`` POST /bench/raw-rows: the same rows through the driver alone,
     one multi-row INSERT per table;
   - ``trivial`` POST /bench/trivial: reads the body and answers 201 (the harness's ceiling).
3. **Load** from this process (not the server's): 32 clients, one per customer manager (its
   token, its visit), each on its own keep-alive connection sending its next body as soon as
   the previous answer arrived. The variants take turns in rounds (the order rotates), so
   machine noise hits each alike. A round ends when the server is idle again: work a request
   leaves behind (the issues the failed items become, their notifications) runs after its
   response, and is counted in the round's time (``/bench/settle`` waits for those tasks).
   Rates are requests / the rounds' time; latencies are per request (p50, p99 by nearest
   rank). Every response is counted: anything but 201 is printed, and the stored rows must
   match the 201s.

The answers are ``plausible_submission``'s default quality (0.85): about two bodies in three
have a failed item, as in the field. ``--quality 1.0`` sends passing visits only (no issues
follow), which isolates the write path itself.

The client is a small asyncio HTTP/1.1 client by default: httpx.AsyncClient is measured too
(``--client httpx`` uses it), and both ceilings are printed, against a bare asyncio server that
answers every request with fixed bytes (httpx's is below the baselines' rates here). The
machine's CPUs are shared by the server, the client and PostgreSQL, so the cheaper client also
disturbs the server less.

**The production profile** (``--profile``, instead of the run above; PostgreSQL only, Redis
needed): the ``full`` variant served by ``rounds serve`` itself, as docs/deploy.md runs it
(Redis for live pushes, a free Redis database claimed for the run; no benchmark routes), with
one API process (``--workers 1``) against two (``--workers 2``) on one freshly seeded
database. The two take turns, each round a server started afresh, warmed up (32 clients x
the warm-up bodies, which reach both processes), loaded, then stopped; the order alternates.
A round's time runs until the last answer and then until every notification the requests
made has been pushed (read from the database: nothing in the server to ask, with two
processes). The 32 clients' keep-alive connections are balanced over the processes first:
the kernel hands a connection to whichever process accepts first, so connections opened at
once mostly go to one of them and stay there, which would measure that imbalance rather than
a second process; the clients reconnect until each process holds its share (both
distributions are printed). No target: on a 2-core machine the client, PostgreSQL and the API
processes share the cores; the figure is recorded (docs/deploy.md).

Targets (issue 16): full / bare same rows >= 0.70, full / raw driver same rows >= 0.50, p99 full
<= 2 x p99 bare same rows; with ``--quality 1.0``, full / bare >= 0.75. The rows each variant
stored per request are printed, so "the same rows" can be checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec

import bench_pg  # this folder: the benchmarks run as scripts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

STANDARD = "customer_manager_visit"
CLIENTS = 32
SEED = 20260314
VARIANTS = {"full": "/api/submissions", "bare": "/bench/bare",
            "bare, same rows": "/bench/bare-rows", "raw driver": "/bench/raw",
            "raw driver, same rows": "/bench/raw-rows"}
SAME_ROWS = "same_rows.json"  # in the data dir: per body, what the same-rows variants write
TRIVIAL = "/bench/trivial"


# -- the benchmark's server: the real app plus the baseline routes ------------------------------

def bench_handlers(data_dir: Path) -> tuple[list[Any], Callable[[], Awaitable[None]]]:
    """The baseline routes, mounted on the real app (only in this benchmark's server), and
    what closes their connections at shutdown."""
    import aiosqlite
    import asyncpg  # type: ignore[import-untyped]
    from litestar import Litestar, Request, Response, post
    from sqlalchemy import Table, bindparam, insert, select

    from rounds.db import utcnow
    from rounds.forms.compiled import compile_form
    from rounds.runtime.access import Principal
    from rounds.runtime.definitions.models import DefinitionVersion
    from rounds.runtime.issues.models import Issue, IssueEvent, IssuePhoto
    from rounds.runtime.notifications.models import Notification
    from rounds.runtime.sql import EncodedJSON, writer_lock
    from rounds.runtime.submissions import service
    from rounds.runtime.submissions.models import FailedItem, Submission, SubmissionPhoto
    from rounds.runtime.visits.models import Visit

    table = cast(Table, Submission.__table__)
    columns = [c.name for c in table.c]
    json_columns = ("answers", "evidence", "evaluation")
    # What the SQLAlchemy baseline executes: a plain INSERT of every column, the JSON documents
    # bound as the JSON text they already are (as the service does).
    core_insert = insert(table).values({
        c: bindparam(c, type_=EncodedJSON()) if c in json_columns else bindparam(c)
        for c in columns})
    names = ", ".join(columns)
    sqlite_insert = f"INSERT INTO submissions ({names}) VALUES ({', '.join('?' * len(columns))})"
    pg_insert = (f"INSERT INTO submissions ({names}) VALUES "
                 f"({', '.join(f'${i}' for i in range(1, len(columns) + 1))})")
    decode = msgspec.json.Decoder(service.Envelope).decode

    @dataclass
    class Baseline:
        """What the baselines know without reading per request: the site of each visit, the
        version ids, and an evaluation of the form (scored once, from the first body)."""

        site_of_visit: dict[int, int]
        version_ids: dict[tuple[str, str], int]
        contents: dict[tuple[str, str], dict[str, Any]]
        evaluation: msgspec.Raw | None = None
        scores: tuple[Any, ...] = ()
        sqlite: aiosqlite.Connection | None = None
        sqlite_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
        pg: asyncpg.Pool | None = None

        def score_once(self, env: service.Envelope) -> None:
            if self.evaluation is not None:
                return
            content = self.contents[(env.definition_id, env.version)]
            ctx = {"site": {}, "visit": {"id": env.visit_id, "distance_m": 0.0}}
            ev = compile_form(content, env.version).validate(
                service.form_body(env), ctx, "zh").evaluation
            self.evaluation = msgspec.Raw(msgspec.json.encode(service.stored_evaluation(ev)))
            self.scores = (ev.score.points, ev.score.max, ev.score.percentage, ev.score.passed,
                           len(ev.alerts), len(ev.failed))

        def row(self, raw: bytes, principal: Principal) -> tuple[dict[str, Any], bytes]:
            env = decode(raw)
            self.score_once(env)
            assert self.evaluation is not None and env.visit_id is not None
            total, max_total, percentage, passed, alerts, failed = self.scores
            evidence = bytes(env.evidence) if len(env.evidence) else b"{}"
            row = {"id": str(env.id), "body_hash": hashlib.sha256(raw).hexdigest(),
                   "user_id": principal.user_id, "site_id": self.site_of_visit[env.visit_id],
                   "visit_id": env.visit_id, "definition_id": env.definition_id,
                   "version_id": self.version_ids[(env.definition_id, env.version)],
                   "content_hash": env.version, "answers": bytes(env.answers).decode(),
                   "evidence": evidence.decode(), "total": total, "max_total": max_total,
                   "percentage": percentage, "passed": passed,
                   "evaluation": bytes(self.evaluation).decode(), "alert_count": alerts,
                   "failed_count": failed, "submitted_at": utcnow(),
                   # The columns later migrations added: the score in its model (0008) and
                   # when the work was done (0009), as the service fills them.
                   "score_value": percentage, "score_model": "percentage",
                   "direction": "higher_better", "outcome": None}
            row["happened_at"] = row["submitted_at"]
            out = msgspec.json.encode({
                **row, "answers": env.answers, "evidence": msgspec.Raw(evidence),
                "evaluation": self.evaluation, "submitted_at": row["submitted_at"].isoformat()})
            return row, out

    # The handlers are defined in here (their imports belong to the server process only), so
    # Litestar is told what their annotations name.
    names_ = {"Principal": Principal, "Request": Request, "Response": Response}
    ready: dict[int, Baseline] = {}
    init_lock = asyncio.Lock()

    async def baseline(app: Litestar) -> Baseline:
        hit = ready.get(id(app))
        if hit is not None:
            return hit
        async with init_lock:
            if id(app) in ready:
                return ready[id(app)]
            engine = app.state.engine
            async with engine.connect() as conn:
                visits = dict((await conn.execute(select(Visit.id, Visit.site_id))).all())
                versions = (await conn.execute(select(
                    DefinitionVersion.definition_id, DefinitionVersion.content_hash,
                    DefinitionVersion.id, DefinitionVersion.content))).all()
            b = Baseline(visits, {(v[0], v[1]): v[2] for v in versions},
                         {(v[0], v[1]): v[3] for v in versions})
            url = app.state.settings.database_url
            if url.startswith("sqlite"):
                b.sqlite = await aiosqlite.connect(url.split(":///", 1)[1], timeout=30)
                for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                    await b.sqlite.execute(f"PRAGMA {pragma}")
            else:
                dsn = url.replace("postgresql+asyncpg://", "postgresql://")
                b.pg = await asyncpg.create_pool(dsn, min_size=20, max_size=20)
            ready[id(app)] = b
            return b

    @post("/bench/bare", include_in_schema=False, signature_namespace=names_)
    async def bare(request: Request[Any, Any, Any], principal: Principal) -> Response[bytes]:
        b = await baseline(request.app)
        row, out = b.row(await request.body(), principal)
        engine = request.app.state.engine
        async with writer_lock(engine), engine.begin() as conn:
            await conn.execute(core_insert, row)
        return Response(out, status_code=201, media_type="application/json")

    @post("/bench/raw", include_in_schema=False, signature_namespace=names_)
    async def raw(request: Request[Any, Any, Any], principal: Principal) -> Response[bytes]:
        b = await baseline(request.app)
        row, out = b.row(await request.body(), principal)
        if b.sqlite is not None:
            # SQLAlchemy's SQLite DateTime text format, so that the rows are the same.
            values = [row[c] for c in columns]
            values[columns.index("submitted_at")] = row["submitted_at"].strftime(
                "%Y-%m-%d %H:%M:%S.%f")
            async with b.sqlite_lock:
                await b.sqlite.execute(sqlite_insert, values)
                await b.sqlite.commit()
        else:
            assert b.pg is not None
            async with b.pg.acquire() as conn:
                await conn.execute(pg_insert, *[row[c] for c in columns])
        return Response(out, status_code=201, media_type="application/json")

    # -- the same rows as a full submission (issue 16's baselines) --------------------------
    tables = {cast(Table, t).name: cast(Table, t) for t in (
        FailedItem.__table__, SubmissionPhoto.__table__, Issue.__table__,
        IssueEvent.__table__, IssuePhoto.__table__, Notification.__table__)}
    json_of = {"issues": ("titles",), "issue_events": ("data",), "notifications": ("message",)}
    plans: dict[str, Any] = {}

    def plan(submission_id: str) -> dict[str, Any]:
        if not plans:
            plans.update(msgspec.json.decode((data_dir / SAME_ROWS).read_bytes()))
        return cast(dict[str, Any], plans[submission_id])

    InsertMany = Callable[[str, list[dict[str, Any]]], Awaitable[list[int]]]

    async def write_same_rows(row: dict[str, Any], insert_many: InsertMany) -> None:
        """The rows of one full submission after its own: failed items, photo links, an
        issue per failed item, its events and the assignee's notification."""
        p = plan(row["id"])
        now, sid, user, site = row["submitted_at"], row["id"], row["user_id"], row["site_id"]
        failed = p["failed"]
        if p["photos"]:
            await insert_many("submission_photos", [
                {"submission_id": sid, "photo_id": ph} for ph in p["photos"]])
        if not failed:
            return
        failed_ids = await insert_many("failed_items", [
            {"submission_id": sid, "item_id": f["item"], "severity": f["severity"],
             "site_id": site, "created_at": now} for f in failed])
        issue_ids = await insert_many("issues", [
            {"title": f["item"], "titles": {"zh": f["item"], "en": f["item"]},
             "description": "", "source": "failed_item", "severity": f["severity"],
             "priority": 2, "status": "assigned", "site_id": site, "org_unit_id": p["unit"],
             "submission_id": sid, "failed_item_id": fid, "definition_id": STANDARD,
             "item_id": f["item"], "assignee_id": user, "assigner_id": None,
             "reporter_id": user, "due_at": now, "escalation_level": 0, "created_at": now,
             "updated_at": now, "version": 1} for f, fid in zip(failed, failed_ids, strict=True)])
        events: list[dict[str, Any]] = []
        for f, iid in zip(failed, issue_ids, strict=True):
            base = {"issue_id": iid, "at": now, "actor_id": None, "reason": ""}
            events += [
                {**base, "action": "created", "from_status": None, "to_status": "open",
                 "data": {"item_id": f["item"], "photos": f["photos"]}},
                {**base, "action": "routed", "from_status": None, "to_status": None,
                 "data": {"party": "assigner", "fallback": "nobody"}},
                {**base, "action": "assigned", "from_status": "open", "to_status": "assigned",
                 "data": {"assignee_id": user}}]
        event_ids = await insert_many("issue_events", events)
        photos = [{"issue_id": iid, "photo_id": ph}
                  for f, iid in zip(failed, issue_ids, strict=True) for ph in f["photos"]]
        if photos:
            await insert_many("issue_photos", photos)
        await insert_many("notifications", [
            {"user_id": user, "kind": "issue_assigned", "message": {"zh": f["item"],
                                                                   "en": f["item"]},
             "link": f"/issues/{iid}", "issue_id": iid, "created_at": now,
             "dedupe_key": f"issue:{iid}:event:{event_ids[3 * n + 2]}:u{user}"}
            for n, (f, iid) in enumerate(zip(failed, issue_ids, strict=True))])

    @post("/bench/bare-rows", include_in_schema=False, signature_namespace=names_)
    async def bare_rows(request: Request[Any, Any, Any], principal: Principal
                        ) -> Response[bytes]:
        b = await baseline(request.app)
        row, out = b.row(await request.body(), principal)
        engine = request.app.state.engine
        async with writer_lock(engine), engine.begin() as conn:
            async def insert_many(name: str, rows: list[dict[str, Any]]) -> list[int]:
                t = tables[name]
                if "id" not in t.c:
                    await conn.execute(insert(t), rows)
                    return []
                result = await conn.execute(
                    insert(t).returning(t.c.id, sort_by_parameter_order=True), rows)
                return [int(i) for i in result.scalars()]

            await conn.execute(core_insert, row)
            await write_same_rows(row, insert_many)
        return Response(out, status_code=201, media_type="application/json")

    def sqlite_value(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")
        return v

    @post("/bench/raw-rows", include_in_schema=False, signature_namespace=names_)
    async def raw_rows(request: Request[Any, Any, Any], principal: Principal
                       ) -> Response[bytes]:
        b = await baseline(request.app)
        row, out = b.row(await request.body(), principal)

        def sql(name: str, rows: list[dict[str, Any]], mark: Callable[[int], str]
                ) -> tuple[str, list[Any]]:
            cols = list(rows[0])
            jsons = json_of.get(name, ())
            values: list[Any] = []
            groups = []
            for r in rows:
                groups.append("(" + ", ".join(mark(len(values) + i + 1)
                                              for i in range(len(cols))) + ")")
                values += [msgspec.json.encode(r[c]).decode() if c in jsons else r[c]
                           for c in cols]
            return f"INSERT INTO {name} ({', '.join(cols)}) VALUES {', '.join(groups)}", values

        if b.sqlite is not None:
            db = b.sqlite

            async def insert_sqlite(name: str, rows: list[dict[str, Any]]) -> list[int]:
                text, values = sql(name, rows, lambda _: "?")
                cursor = await db.execute(text, [sqlite_value(v) for v in values])
                last = cursor.lastrowid or 0  # one statement: consecutive rowids
                return list(range(last - len(rows) + 1, last + 1))

            values = [row[c] for c in columns]
            values[columns.index("submitted_at")] = sqlite_value(row["submitted_at"])
            values[columns.index("happened_at")] = sqlite_value(row["happened_at"])
            async with b.sqlite_lock:
                try:
                    await db.execute(sqlite_insert, values)
                    await write_same_rows(row, insert_sqlite)
                    await db.commit()
                except BaseException:
                    await db.rollback()
                    raise
        else:
            assert b.pg is not None
            async with b.pg.acquire() as pg, pg.transaction():
                async def insert_pg(name: str, rows: list[dict[str, Any]]) -> list[int]:
                    text, values = sql(name, rows, lambda n: f"${n}")
                    if "id" not in tables[name].c:
                        await pg.execute(text, *values)
                        return []
                    return [int(r[0]) for r in await pg.fetch(text + " RETURNING id", *values)]

                await pg.execute(pg_insert, *[row[c] for c in columns])
                await write_same_rows(row, insert_pg)
        return Response(out, status_code=201, media_type="application/json")

    @post("/bench/trivial", include_in_schema=False, signature_namespace=names_)
    async def trivial(request: Request[Any, Any, Any]) -> Response[bytes]:
        await request.body()
        return Response(b'{"ok":true}', status_code=201, media_type="application/json")

    # Background work a request leaves behind (the issues of a submission's failed items and
    # their notifications run after its response) is counted in the time of its round: a
    # round ends when every task the requests started is done.
    idle_tasks: set[asyncio.Task[Any]] = set()

    @post("/bench/settle", include_in_schema=False, opt={"public": True},
          signature_namespace=names_)
    async def settle(request: Request[Any, Any, Any]) -> Response[bytes]:
        me = asyncio.current_task()
        if not idle_tasks:  # the first call, before any load: what runs when idle
            idle_tasks.update(t for t in asyncio.all_tasks() if t is not me)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300
        while any(t is not me and t not in idle_tasks for t in asyncio.all_tasks()):
            if loop.time() > deadline:
                return Response(b'{"settled":false}', status_code=504,
                                media_type="application/json")
            await asyncio.sleep(0.001)
        return Response(b'{"settled":true}', status_code=200, media_type="application/json")

    async def close() -> None:
        for b in ready.values():
            if b.sqlite is not None:
                await b.sqlite.close()
            if b.pg is not None:
                await b.pg.close()

    return [bare, raw, bare_rows, raw_rows, trivial, settle], close


def serve(port: int, database_url: str, data_dir: str) -> None:
    import uvicorn

    from rounds.app import create_app
    from rounds.settings import load_settings

    env = {"ROUNDS_DATABASE_URL": database_url, "ROUNDS_DATA_DIR": data_dir,
           "ROUNDS_DEFINITIONS_DIR": str(ROOT / "definitions"),
           "ROUNDS_NODE_MODULES_DIR": str(ROOT / "node_modules")}
    if "ROUNDS_DATABASE_GROUP_COMMIT" in os.environ:  # to compare (1: no group commit)
        env["ROUNDS_DATABASE_GROUP_COMMIT"] = os.environ["ROUNDS_DATABASE_GROUP_COMMIT"]
    settings = load_settings(env)
    app = create_app(settings)
    handlers, close = bench_handlers(Path(data_dir))
    for handler in handlers:
        app.register(handler)
    app.on_shutdown.append(close)
    # Dev only: ROUNDS_BENCH_PROFILE=<file> profiles the server (cProfile; a pstats file at
    # shutdown: uvicorn ends the process by its signal once the server stops).
    profile_to = os.environ.get("ROUNDS_BENCH_PROFILE")
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()

        def dump_profile() -> None:
            profiler.disable()
            profiler.dump_stats(profile_to)

        app.on_shutdown.append(dump_profile)
        profiler.enable()
    # No access log (it would cost every variant alike); keep-alive across the rounds.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_keep_alive=300)


def echo_server(port: int) -> None:
    """A bare asyncio HTTP/1.1 server with fixed answers: the client's own ceiling."""
    reply = (b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
             b"content-length: 11\r\n\r\n{\"ok\":true}")

    class Echo(asyncio.Protocol):
        def __init__(self) -> None:
            self.buf = b""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.Transport, transport)

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while True:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                at = head.find(b"content-length:")
                size = 0
                if at >= 0:
                    stop = head.find(b"\r\n", at)
                    size = int(head[at + 15:stop if stop > 0 else len(head)])
                if len(self.buf) < end + 4 + size:
                    return
                self.buf = self.buf[end + 4 + size:]
                self.transport.write(reply)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the data ----------------------------------------------------------------------------------

@dataclass
class Worker:
    """A customer manager with an open visit: what one client needs."""

    user_id: int
    token: str
    visit_id: int
    site_attributes: dict[str, Any]
    position: tuple[float, float]
    photo_ids: list[str]


@dataclass
class World:
    workers: list[Worker]
    content: dict[str, Any]
    content_hash: str
    unit_id: int = 0  # the one org unit (the issues')


def retailer_attributes(i: int) -> dict[str, Any]:
    return {"licence_no": f"4201{i:08d}", "shop_name": f"Shop {i}", "address": f"{i} Road",
            "owner_name": "Wang", "grade": 1 + i % 30, "delivery_cycle": "weekly",
            "business_type": "grocery"}


async def seed(url: str) -> World:
    """Migrate, import the definitions and seed the customer managers, all with the app's
    own code."""
    from sqlalchemy import select

    from rounds.db import create_engine, session_factory, transaction
    from rounds.definitions.loader import load_documents
    from rounds.migrate import upgrade
    from rounds.runtime.definitions import service as definitions
    from rounds.runtime.definitions.models import PUBLISHED, DefinitionVersion
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.auth import hash_password, issue, principal_for
    from rounds.runtime.people.models import User
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site
    from rounds.runtime.storage.models import Photo
    from rounds.runtime.visits.service import Position, check_in

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with transaction(sessions) as db:
            docs, problems = load_documents([ROOT / "definitions"])
            assert not problems, problems
            await definitions.sync(db, docs)
        workers: list[Worker] = []
        async with transaction(sessions) as db:
            version = (await db.execute(select(DefinitionVersion).where(
                DefinitionVersion.definition_id == STANDARD,
                DefinitionVersion.status == PUBLISHED).order_by(
                DefinitionVersion.number.desc()))).scalars().first()
            assert version is not None
            unit = await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                         name_en="City company")
            password = hash_password("bench-password-1")
            for i in range(CLIENTS):
                user = User(username=f"cm{i:02d}", display_name=f"CM {i}",
                            role_id="customer_manager", org_unit_id=unit.id,
                            password_hash=password)
                db.add(user)
                lat, lng = 30.25 + i * 0.01, 114.30 + i * 0.01
                site = await create_site(db, None, site_kind="retailer", code=f"R{i:03d}",
                                         name=f"Shop {i}", lat=lat, lng=lng, org_unit="city",
                                         address=f"{i} Road",
                                         attributes=retailer_attributes(i))
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                      user_id=user.id))
                # PNGs: a signature must be one (the answers draw signatures from these too).
                photos = [Photo(id=str(uuid.uuid4()), sha256=f"{i:02d}{n}".ljust(64, "0"),
                                content_type="image/png", size=2048,
                                storage_key=f"bench/{i}/{n}.png", uploaded_by=user.id)
                          for n in range(3)]
                db.add_all(photos)
                await db.flush()
                principal = await principal_for(db, user, credential="api")
                visit = await check_in(db, principal, site_id=site.id,
                                       position=Position(lat, lng, 8.0))
                token = (await issue(db, user.id, kind="api")).token
                workers.append(Worker(user.id, token, visit.visit.id, dict(site.attributes),
                                      (lat, lng), [p.id for p in photos]))
            return World(workers, dict(version.content), version.content_hash, unit.id)
    finally:
        await engine.dispose()


@dataclass
class Bodies:
    per_client: list[list[bytes]]
    with_failed: int = 0  # bodies with failed items (the server turns each into an issue)
    failed_items: int = 0
    alerts: int = 0
    # Submission id → what its full submission writes besides its row (the same-rows
    # variants' plan): the failed items (item, severity, evidence photos), the photos linked.
    plans: dict[str, Any] = field(default_factory=dict)


def make_bodies(world: World, per_client: int, rng: random.Random, quality: float) -> Bodies:
    """``per_client`` valid bodies for each worker, each with a new id, checked against the
    compiled form (with the context the server gives the rules) before they are used."""
    from rounds.demo.answers import plausible_submission
    from rounds.forms.compiled import SubmissionInvalid, compile_form
    from rounds.runtime.submissions.documents import photo_refs

    form = compile_form(world.content, world.content_hash)
    today = date.today()
    out = Bodies([])
    for w in world.workers:
        ctx = {"now": datetime.now(UTC).isoformat(), "today": today.isoformat(),
               "user": {"id": w.user_id, "role": "customer_manager"},
               "site": w.site_attributes,
               "visit": {"id": w.visit_id, "method": "gps", "distance_m": 0.0,
                         "flagged": False}}
        bodies: list[bytes] = []
        while len(bodies) < per_client:
            doc = plausible_submission(world.content, rng, quality=quality,
                                       photo_ids=w.photo_ids, position=w.position,
                                       today=today, ctx=ctx)
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            body = msgspec.json.encode({"id": sid,
                                        "definition_id": STANDARD,
                                        "version": world.content_hash,
                                        "visit_id": w.visit_id, **doc})
            try:
                valid = form.validate(msgspec.json.encode(doc), ctx, "zh")
            except SubmissionInvalid:
                continue
            ev = valid.evaluation
            evidence = valid.evidence if isinstance(valid.evidence, dict) else {}
            out.plans[sid] = {
                "unit": world.unit_id,
                "photos": sorted(set(photo_refs(form, valid.answers, valid.evidence).values())),
                "failed": [{"item": f.item, "severity": f.severity, "photos": sorted(
                    {str(ph) for ph in (evidence.get(f.item) or {}).get("photos") or []})}
                    for f in ev.failed]}
            bodies.append(body)
            out.with_failed += bool(ev.failed)
            out.failed_items += len(ev.failed)
            out.alerts += len(ev.alerts)
        out.per_client.append(bodies)
    return out


# -- the load ----------------------------------------------------------------------------------

@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    settling: float = 0.0  # of ``seconds``: after the last response, until the server was idle
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.seconds += other.seconds
        self.settling += other.settling
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        s = sorted(self.latencies)
        return s[max(0, math.ceil(q * len(s)) - 1)] if s else float("nan")

    @property
    def not_201(self) -> int:
        return self.requests - self.statuses[201]


class RawHTTP:
    """One keep-alive HTTP/1.1 connection: a request out, the answer (by Content-Length) in."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(head + b"%d\r\n\r\n" % len(body) + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lower = header.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at < 0:
            raise RuntimeError(f"no Content-Length in {header[:200]!r}")
        size = int(lower[at + 17:lower.index(b"\r\n", at + 2)])
        return int(header[9:12]), await self.reader.readexactly(size)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


class Load:
    """32 clients, each one user on its own connection, with the chosen HTTP client."""

    def __init__(self, kind: str, port: int, tokens: list[str]) -> None:
        self.kind, self.port, self.tokens = kind, port, tokens
        self.raw: list[RawHTTP] = []
        self.httpx: httpx.AsyncClient | None = None
        self.control = RawHTTP("127.0.0.1", port)

    async def settle(self) -> None:
        """Wait until the server has finished what the requests started (background tasks)."""
        head = (f"POST /bench/settle HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Content-Length: ").encode()
        status, body = await self.control.post(head, b"")
        if status != 200:
            raise RuntimeError(f"the server did not settle: {status} {body!r}")

    async def __aenter__(self) -> Load:
        await self.control.open()
        if self.kind == "raw":
            self.raw = [RawHTTP("127.0.0.1", self.port) for _ in self.tokens]
            await asyncio.gather(*(c.open() for c in self.raw))
        else:
            n = len(self.tokens)
            self.httpx = httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{self.port}", timeout=120,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(c.close() for c in [*self.raw, self.control]))
        if self.httpx is not None:
            await self.httpx.aclose()

    def _sender(self, i: int, path: str) -> Callable[[bytes], Awaitable[int]]:
        if self.kind == "raw":
            conn = self.raw[i]
            head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                    f"Authorization: Bearer {self.tokens[i]}\r\n"
                    "Content-Type: application/json\r\nContent-Length: ").encode()

            async def send_raw(body: bytes) -> int:
                return (await conn.post(head, body))[0]
            return send_raw
        client = self.httpx
        assert client is not None
        headers = {"Authorization": f"Bearer {self.tokens[i]}",
                   "Content-Type": "application/json"}

        async def send_httpx(body: bytes) -> int:
            r = await client.post(path, content=body, headers=headers)
            return r.status_code
        return send_httpx

    async def run(self, path: str, bodies: list[list[bytes]], settle: bool = True) -> Tally:
        """Every client sends its bodies one after the other; all clients at once. The time
        runs until the server has finished the background work of the requests too."""
        tally = Tally()
        clock = time.perf_counter

        async def client(i: int) -> None:
            send = self._sender(i, path)
            for body in bodies[i]:
                t0 = clock()
                try:
                    status = await send(body)
                except Exception as e:  # counted, never dropped
                    tally.errors[f"{type(e).__name__}: {e}"[:120]] += 1
                    status = -1
                tally.latencies.append(clock() - t0)
                tally.statuses[status] += 1

        start = clock()
        await asyncio.gather(*(client(i) for i in range(len(bodies))))
        answered = clock()
        if settle:
            await self.settle()
        tally.seconds = clock() - start
        tally.settling = clock() - answered
        tally.requests = sum(len(b) for b in bodies)
        return tally


# -- processes ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(args: list[str], port: int, log: Path, ready: Callable[[], bool]) -> Iterator[int]:
    """This file run again as another process (a server), until the block ends."""
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, __file__, *args, "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not ready():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()}")
                time.sleep(0.1)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def postgres_database() -> AbstractContextManager[str]:
    return bench_pg.postgres_database(f"rounds_bench_{os.getpid()}")


def count_submissions(url: str) -> int:
    from sqlalchemy import func, select

    from rounds.db import create_engine
    from rounds.runtime.submissions.models import Submission

    async def run() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(
                    select(func.count()).select_from(Submission))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def rows_per_submission(url: str, ids: dict[str, set[str]]) -> dict[str, float]:
    """Per variant: the rows a stored submission came with (itself, failed items, photo links,
    issues, their events, photos and notifications), on average."""
    from sqlalchemy import func, select

    from rounds.db import create_engine
    from rounds.runtime.issues.models import Issue, IssueEvent, IssuePhoto
    from rounds.runtime.notifications.models import Notification
    from rounds.runtime.submissions.models import FailedItem, Submission, SubmissionPhoto

    sid = Issue.submission_id
    queries = [select(Submission.id, func.count()).group_by(Submission.id),
               select(FailedItem.submission_id, func.count()).group_by(FailedItem.submission_id),
               select(SubmissionPhoto.submission_id, func.count()).group_by(
                   SubmissionPhoto.submission_id),
               select(sid, func.count()).group_by(sid)]
    queries += [select(sid, func.count()).select_from(t).join(Issue, Issue.id == t.issue_id)
                .group_by(sid)
                for t in (IssueEvent, IssuePhoto, Notification)]

    async def run() -> dict[str, int]:
        engine = create_engine(url)
        counts: Counter[str] = Counter()
        try:
            async with engine.connect() as conn:
                for q in queries:
                    for s, n in (await conn.execute(q)).all():
                        counts[str(s)] += int(n)
        finally:
            await engine.dispose()
        return dict(counts)

    counts = asyncio.run(run())
    out = {}
    for v, wanted in ids.items():
        stored = [counts[i] for i in wanted if i in counts]
        out[v] = sum(stored) / len(stored) if stored else 0.0
    return out


# -- the production profile: `rounds serve`, one API process against two ----------------------

@contextmanager
def redis_database() -> Iterator[str]:
    """A Redis database nobody uses (empty, and our claim key set first), flushed after:
    test runs and other benchmarks may share the server."""
    import redis

    token = uuid.uuid4().hex
    for number in range(15, 0, -1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=number)
        try:
            if client.dbsize() == 0 and client.set("rounds:bench:claim", token, nx=True,
                                                   ex=3600):
                try:
                    yield f"redis://127.0.0.1:6379/{number}"
                finally:
                    client.flushdb()
                return
        finally:
            client.close()
    raise RuntimeError("no free Redis database on 127.0.0.1:6379")


def api_processes(pid: int) -> set[int]:
    """The API processes of a `rounds serve --workers N` supervisor (its spawned children)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"multiprocessing" in cmd and b"spawn_main" in cmd:
            found.add(int(entry.name))
    return found


def holders(pids: set[int], port: int) -> dict[int, int]:
    """Which of ``pids`` holds each established connection to ``port``: client port → pid
    (Linux /proc)."""
    inode_of: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                    inode_of[f"socket:[{cols[9]}]"] = int(cols[2].rsplit(":", 1)[1], 16)
    found: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = str(fd.readlink())
                    if link in inode_of:
                        found[inode_of[link]] = pid
    return found


def shares(pids: set[int], held: dict[int, int]) -> str:
    """Connections per process, as ``17/15``."""
    return "/".join(str(sum(1 for p in held.values() if p == pid)) for pid in sorted(pids))


async def balance(load: Load, pids: set[int], port: int) -> tuple[str, str]:
    """Reconnect the clients until each API process holds as many of them (±1) as the
    others. The kernel hands a new connection to whichever process accepts first, so 32
    connections opened at once may nearly all go to one process, and keep-alive keeps them
    there: that would measure the imbalance, not what a second process adds. (connections
    per process as handed out, then as balanced)"""
    def client_port(c: RawHTTP) -> int:
        assert c.writer is not None
        return int(c.writer.get_extra_info("sockname")[1])

    def held() -> dict[int, int]:
        return holders(pids, port)

    quota = math.ceil(len(load.raw) / len(pids))
    await asyncio.sleep(0.2)  # the accepts are done
    first = held()
    before = shares(pids, first)
    for _ in range(50 * len(load.raw)):
        now = held()
        per = Counter(now.get(client_port(c)) for c in load.raw)
        over = [c for c in load.raw if per[now.get(client_port(c))] > quota
                or now.get(client_port(c)) is None]
        if not over:
            break
        await over[0].close()
        await over[0].open()
        await asyncio.sleep(0.01)
    clients = {client_port(c) for c in load.raw}
    return before, shares(pids, {k: v for k, v in held().items() if k in clients})


@contextmanager
def rounds_serve(workers: int, env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """`rounds serve --workers N` until the block ends (SIGTERM, as a service manager
    stops it); yields the supervisor's pid once every process has started."""
    import signal

    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rounds.cli", "serve", "--workers", str(workers),
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        # Every process must be accepting before the clients connect, or the first one
        # would take all of them.
        while not (_healthy(port) and log.read_text(errors="replace").count(
                "Application startup complete") >= workers):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rounds serve did not start: {log.read_text()}")
            time.sleep(0.1)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def pushed(url: str, timeout: float = 300) -> None:
    """Until no notification waits to be pushed (each API process pushes its own after the
    commit; this is how the load sees that work end, whichever process did it)."""
    from sqlalchemy import func, select

    from rounds.db import create_engine
    from rounds.runtime.notifications.models import Notification

    engine = create_engine(url)
    query = select(func.count()).select_from(Notification).where(
        Notification.pushed_at.is_(None))
    try:
        async with engine.connect() as conn:
            deadline = time.monotonic() + timeout
            while (await conn.execute(query)).scalar_one():
                await conn.rollback()  # a fresh snapshot for the next look
                if time.monotonic() > deadline:
                    raise RuntimeError("notifications still not pushed after the load")
                await asyncio.sleep(0.005)
    finally:
        await engine.dispose()


async def profile_turn(client: str, world: World, url: str, port: int, pid: int,
                       warm: list[list[bytes]], chunk: list[list[bytes]]
                       ) -> tuple[Tally, Tally, tuple[str, str]]:
    """One server's turn: the clients' connections balanced over the API processes, the
    warm-up, then the measured load (until its notifications are pushed). (warm-up, load,
    connections per process as the kernel handed them out and as balanced)"""
    pids = api_processes(pid) or {pid}  # --workers 1: the supervisor serves itself
    async with Load(client, port, [w.token for w in world.workers]) as load:
        spread = await balance(load, pids, port) if len(pids) > 1 else ("", "")
        warmed = await load.run(VARIANTS["full"], warm, settle=False)
        await pushed(url)
        t = await load.run(VARIANTS["full"], chunk, settle=False)
        answered = time.perf_counter()
        await pushed(url)
        waited = time.perf_counter() - answered
        t.seconds += waited
        t.settling += waited
        return warmed, t, spread


def bench_profile(url: str, data_dir: Path, args: argparse.Namespace) -> list[str]:
    """``full`` under `rounds serve --workers 1` and `--workers 2`, in turns."""
    counts = (1, 2)
    rounds, per_round, warmup = args.rounds, args.per_round, args.warmup
    print(f"== postgresql: production profile (rounds serve with Redis): seeding ({CLIENTS} "
          "customer managers, each with an open visit)")
    world = seed_world(url)
    rng = random.Random(SEED)
    made = make_bodies(world, rounds * len(counts) * (warmup + per_round), rng, args.quality)
    print(f"   {CLIENTS * rounds * per_round:,} requests per server after "
          f"{CLIENTS * warmup:,} warm-up at each start, {rounds} rounds (order alternating); "
          f"answers of quality {args.quality}")
    tallies = {n: Tally() for n in counts}
    spread: dict[int, list[tuple[str, str]]] = {n: [] for n in counts}
    every = Tally()
    with redis_database() as redis_url:
        env = {**os.environ, "ROUNDS_DATABASE_URL": url, "ROUNDS_REDIS_URL": redis_url,
               "ROUNDS_DATA_DIR": str(data_dir),
               "ROUNDS_DEFINITIONS_DIR": str(ROOT / "definitions"),
               "ROUNDS_NODE_MODULES_DIR": str(ROOT / "node_modules"),
               "ROUNDS_SERVER_DRAIN_SECONDS": "5", "ROUNDS_LOG_FORMAT": "json"}
        env.pop("ROUNDS_SERVER_WORKERS", None)
        turn = 0
        for r in range(rounds):
            for n in counts if r % 2 == 0 else counts[::-1]:
                lo = turn * (warmup + per_round)
                turn += 1
                warm = [b[lo:lo + warmup] for b in made.per_client]
                chunk = [b[lo + warmup:lo + warmup + per_round] for b in made.per_client]
                port = free_port()
                with rounds_serve(n, env, port, data_dir / f"serve-{n}-{r}.log") as pid:
                    warmed, t, handed = asyncio.run(profile_turn(
                        args.client, world, url, port, pid, warm, chunk))
                tallies[n].add(t)
                every.add(warmed)
                every.add(t)
                spread[n].append(handed)
    for n, t in tallies.items():
        label = f"{n} API process{'es' if n > 1 else ''}"
        print(f"   {'full, ' + label:36s} {t.rate:>8,.0f} req/s  p50 {ms(t.pct(0.5)):>9s}  "
              f"p99 {ms(t.pct(0.99)):>9s}  (pushing after the last answer: "
              f"{t.settling / t.seconds:.0%} of the time)")
        if n > 1:
            print(f"      clients' connections per process, as the kernel handed them out → "
                  f"balanced: {', '.join(f'{a} → {b}' for a, b in spread[n])}")
    bad = {s: c for s, c in every.statuses.items() if s != 201}
    print(f"   responses: {every.requests:,}, 201: {every.statuses[201]:,}, non-201: "
          f"{sum(bad.values())}" + (f" {bad}" if bad else ""))
    for err, count in every.errors.items():
        print(f"   error x{count}: {err}")
    stored = count_submissions(url)
    print(f"   rows stored: {stored:,} ({'=' if stored == every.statuses[201] else '!='} the "
          "201s)")
    one, two = tallies[1], tallies[2]
    return [f"postgresql: full, 2 API processes / 1: {two.rate / one.rate:.2f} (no target on "
            f"a {os.cpu_count()}-core machine)"]


# -- the run -----------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def client_ceilings(per_client: int, body: bytes) -> None:
    """Both clients against a server that does nothing: what the client alone can do."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, \
            process(["--echo-server"], port, Path(tmp) / "echo.log", lambda: _listening(port)):
        for kind, label in (("raw", "asyncio HTTP/1.1 client"), ("httpx", "httpx.AsyncClient")):
            async def run(kind: str = kind) -> Tally:
                async with Load(kind, port, ["x"] * CLIENTS) as load:
                    await load.run("/", [[body] * 8] * CLIENTS, settle=False)  # warm-up
                    return await load.run("/", [[body] * per_client] * CLIENTS, settle=False)
            t = asyncio.run(run())
            print(f"client ceiling ({label}, {CLIENTS} clients, vs a bare asyncio server): "
                  f"{t.rate:,.0f} req/s  p50 {ms(t.pct(0.5))}")


def bench_database(db: str, url: str, data_dir: Path, args: argparse.Namespace) -> list[str]:
    rounds, per_round, warmup = args.rounds, args.per_round, args.warmup
    print(f"== {db}: seeding ({CLIENTS} customer managers, each with an open visit)")
    world = seed_world(url)
    rng = random.Random(SEED)
    per_client = warmup + rounds * per_round
    variants = {args.only: VARIANTS[args.only]} if args.only else VARIANTS
    made = {v: make_bodies(world, per_client, rng, args.quality) for v in variants}
    bodies = {v: m.per_client for v, m in made.items()}
    plans = {sid: p for m in made.values() for sid, p in m.plans.items()}
    (data_dir / SAME_ROWS).write_bytes(msgspec.json.encode(plans))
    trivial = make_bodies(world, warmup + per_round, rng, args.quality).per_client
    size = sum(len(b) for bs in next(iter(bodies.values())) for b in bs) / (CLIENTS * per_client)
    n = CLIENTS * rounds * per_round
    first = next(iter(made.values()))
    total = CLIENTS * per_client
    print(f"   {n:,} requests per variant after {CLIENTS * warmup:,} warm-up, {rounds} "
          f"interleaved rounds; bodies {size:,.0f} bytes on average, every id new;\n"
          f"   answers of quality {args.quality}: {first.with_failed / total:.0%} with failed "
          f"items ({first.failed_items / total:.2f} a body, each an issue), "
          f"{first.alerts / total:.2f} alerts a body")
    port = free_port()
    tallies = {v: Tally() for v in variants}
    warm = Tally()
    serve_args = ["--serve", "--database-url", url, "--data-dir", str(data_dir)]
    with process(serve_args, port, data_dir / "server.log", lambda: _healthy(port)) as pid:
        if args.server_pid_file:
            Path(args.server_pid_file).write_text(str(pid))

        async def load_all() -> Tally:
            async with Load(args.client, port, [w.token for w in world.workers]) as load:
                await asyncio.sleep(0.5)
                await load.settle()  # the first call notes what runs when the server is idle
                for v, path in variants.items():
                    warm.add(await load.run(path, [b[:warmup] for b in bodies[v]]))
                await load.run(TRIVIAL, [b[:warmup] for b in trivial])
                ceiling = await load.run(TRIVIAL, [b[warmup:] for b in trivial])
                names = list(variants)
                for r in range(rounds):
                    lo = warmup + r * per_round
                    for v in names[r % len(names):] + names[:r % len(names)]:
                        chunk = [b[lo:lo + per_round] for b in bodies[v]]
                        tallies[v].add(await load.run(variants[v], chunk))
                return ceiling
        ceiling = asyncio.run(load_all())
    print(f"   {'trivial endpoint (auth, body read)':36s} {ceiling.rate:>8,.0f} req/s  "
          f"p50 {ms(ceiling.pct(0.5)):>9s}  p99 {ms(ceiling.pct(0.99)):>9s}")
    for v, t in tallies.items():
        print(f"   {v:36s} {t.rate:>8,.0f} req/s  p50 {ms(t.pct(0.5)):>9s}  "
              f"p99 {ms(t.pct(0.99)):>9s}  (background after the last answer: "
              f"{t.settling / t.seconds:.0%} of the time)")
    every = Tally()
    every.add(warm)
    for t in tallies.values():
        every.add(t)
    bad = {s: c for s, c in every.statuses.items() if s != 201}
    print(f"   responses: {every.requests:,}, 201: {every.statuses[201]:,}, non-201: "
          f"{sum(bad.values())}" + (f" {bad}" if bad else ""))
    for err, count in every.errors.items():
        print(f"   error x{count}: {err}")
    stored = count_submissions(url)
    print(f"   rows stored: {stored:,} ({'=' if stored == every.statuses[201] else '!='} the "
          "201s)")
    ids = {v: {msgspec.json.decode(b)["id"] for bs in bodies[v] for b in bs} for v in variants}
    per = rows_per_submission(url, ids)
    print("   rows per stored submission (itself, failed items, photo links, issues, events, "
          "issue photos, notifications): " + ", ".join(f"{v} {n:.2f}" for v, n in per.items()))
    if args.only:
        return []
    full, bare = tallies["full"], tallies["bare"]
    same, raw_same = tallies["bare, same rows"], tallies["raw driver, same rows"]
    return [f"{db}: full / bare: {full.rate / bare.rate:.2f}"
            + (" (target >= 0.75)" if args.quality >= 1.0 else ""),
            f"{db}: full / raw driver: {full.rate / tallies['raw driver'].rate:.2f}",
            f"{db}: full / bare same rows: {full.rate / same.rate:.2f} (target >= 0.70)",
            f"{db}: full / raw driver same rows: {full.rate / raw_same.rate:.2f} "
            "(target >= 0.50)",
            f"{db}: p99 full / p99 bare same rows: {full.pct(0.99) / same.pct(0.99):.1f} "
            "(target <= 2.0)"]


def seed_world(url: str) -> World:
    return asyncio.run(seed(url))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="fewer requests (a smoke test)")
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw",
                   help="the load generator's HTTP client (default: a small asyncio one)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 6; quick 2)")
    p.add_argument("--per-round", type=int,
                   help="requests per client per variant and round (default 16; quick 8)")
    p.add_argument("--server-pid-file", help="write the server's pid here (for a profiler)")
    p.add_argument("--quality", type=float, default=0.85,
                   help="how often an answer is the good one (plausible_submission's "
                   "default 0.85: most bodies have a failed item; 1.0: none)")
    p.add_argument("--profile", action="store_true",
                   help="only the production profile: full, `rounds serve --workers 2` / "
                   "--workers 1, on PostgreSQL with Redis")
    p.add_argument("--only", choices=list(VARIANTS),
                   help="load one variant only (to profile it; no ratios)")
    # Internal: this file as the server process, or as the client-ceiling server.
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.port, args.database_url, args.data_dir)
        return
    if args.echo_server:
        echo_server(args.port)
        return
    args.rounds = args.rounds or (2 if args.quick else 6)
    args.per_round = args.per_round or (8 if args.quick else 16)
    args.warmup = 4 if args.quick else 8

    if args.profile:
        profile(args)
        return

    print(f"# POST /api/submissions ({STANDARD}) end to end vs bare and raw-driver inserts; "
          f"server: uvicorn, 1 worker; load: {CLIENTS} clients in another process "
          f"({'asyncio HTTP/1.1' if args.client == 'raw' else 'httpx.AsyncClient'}); "
          f"{os.cpu_count()} CPUs")
    sample = make_sample_body()
    client_ceilings(100 if args.quick else 400, sample)
    lines: list[str] = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="rounds_bench_") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'rounds.sqlite3'}"
            lines += bench_database("sqlite", url, Path(tmp), args)
    if args.db in ("postgresql", "both"):
        with tempfile.TemporaryDirectory(prefix="rounds_bench_") as tmp, \
                postgres_database() as url:
            lines += bench_database("postgresql", url, Path(tmp), args)
    for line in lines:
        print(line)


def profile(args: argparse.Namespace) -> None:
    print(f"# POST /api/submissions ({STANDARD}) end to end, the production profile: "
          f"rounds serve --workers 1 vs --workers 2, PostgreSQL and Redis; load: {CLIENTS} "
          f"clients in another process; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="rounds_bench_") as tmp, \
            postgres_database() as url:
        lines = bench_profile(url, Path(tmp), args)
    for line in lines:
        print(line)


def make_sample_body() -> bytes:
    """A body of the benchmark's size for the client ceiling (not validated: not stored)."""
    import json

    from rounds.demo.answers import plausible_submission

    content = json.loads((ROOT / "definitions" / "standards" / f"{STANDARD}.json").read_text())
    doc = plausible_submission(content, random.Random(SEED), photo_ids=[str(uuid.uuid4())])
    return msgspec.json.encode({"id": str(uuid.uuid4()), "definition_id": STANDARD,
                                "version": "0" * 64, "visit_id": 1, **doc})


if __name__ == "__main__":
    main()
