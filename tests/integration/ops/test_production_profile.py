"""The production profile, started exactly as docs/deploy.md's tested block says, on a fresh
PostgreSQL database and a Redis database of the test's own: two API processes
(`rounds serve --workers 2`), two `rounds worker` processes on Redis as the broker, and the
one `rounds beat`.

A customer manager's page has its stream open on one API process; she submits a visit with
failed items through the other; the new issues' notifications reach her page. One issue is
then made due soon (its due date moved in the database): a worker's reconciliation reminds
her, the reminder is published through Redis and reaches the same page, and the worker that
ran it is named by its own log. SIGTERM then stops every process, within a bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import rounds.runtime.models  # noqa: F401  (every model, so foreign keys resolve)
from support.deploy import marked_block, parse_command, rounds_commands
from support.fieldwork import (
    PASSWORD,
    STANDARD,
    Field,
    body,
    png_bytes,
    poor_answers,
    seed_database,
)
from support.live import (
    DEFINITIONS,
    REPO,
    api_token,
    event_stream,
    free_port,
    in_database,
    redis_database,
    wait_until,
)
from support.processes import alive, family
from support.served import Served, Started, holder, run_rounds, serving, start_rounds

GUIDE = REPO / "docs" / "deploy.md"
STREAM = "/api/notifications/stream"
DRAIN_SECONDS = 3
LONG_RUNNING = ("serve", "worker", "beat")


@dataclass
class Profile:
    served: Served
    workers: list[Started]
    beat: Started
    field: Field


def _guide_block(values: dict[str, str]) -> tuple[dict[str, str], list[list[str]]]:
    """The guide's tested block: its exported settings (replaced by the test's own values:
    each must be one the test provides) and its `rounds` commands, in order."""
    block = marked_block(GUIDE.read_text(), "tests/integration/ops/test_production_profile.py")
    exported: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith("export "):
            name = line.removeprefix("export ").split("=", 1)[0]
            assert name in values, f"the guide exports {name}, which this test does not set"
            exported[name] = values[name]
    return exported, rounds_commands(block)


def _stop(started: Started) -> None:
    if started.process.poll() is None:
        started.process.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(started.process.pid, signal.SIGKILL)
    started.process.wait(10)


@pytest.fixture
def profile(tmp_path: Path, postgres_url: str) -> Iterator[Profile]:
    with redis_database() as redis_url:
        exported, commands = _guide_block({"ROUNDS_DATABASE_URL": postgres_url,
                                           "ROUNDS_REDIS_URL": redis_url,
                                           "ROUNDS_JOBS_BROKER_URL": redis_url})
        setup = [argv for argv in commands if argv[0] not in LONG_RUNNING]
        running = [argv for argv in commands if argv[0] in LONG_RUNNING]
        # The profile, as the guide gives it: API processes, two workers or more, one beat.
        serves = [argv for argv in running if argv[0] == "serve"]
        workers = [argv for argv in running if argv[0] == "worker"]
        beats = [argv for argv in running if argv[0] == "beat"]
        assert len(serves) == 1 and parse_command(serves[0]).workers >= 2, serves
        assert len(workers) >= 2 and not any(parse_command(w).beat for w in workers), workers
        assert len(beats) == 1, "one schedule"
        port = free_port()
        env = {**os.environ, "ROUNDS_DATA_DIR": str(tmp_path / "var"),
               "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS),
               "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
               "ROUNDS_SERVER_PORT": str(port),
               "ROUNDS_SERVER_DRAIN_SECONDS": str(DRAIN_SECONDS),
               # The test's own: a reconciliation every second, not every minute, and the
               # workers' log lines as JSON, which the test reads.
               "ROUNDS_JOBS_RECONCILE_SECONDS": "1", "ROUNDS_LOG_FORMAT": "json",
               **exported}
        env.pop("ROUNDS_SERVER_WORKERS", None)
        for argv in setup:
            run_rounds(argv, env)
        started: list[Started] = []
        try:
            for n, argv in enumerate(running):
                started.append(start_rounds(argv, env, tmp_path / f"{n}-{argv[0]}.log"))
            api = started[running.index(serves[0])]
            served = Served(api.process, f"http://127.0.0.1:{port}", port, postgres_url,
                            api.log, parse_command(serves[0]).workers)
            wait_until(lambda: serving(served), timeout=90, what="the API processes")
            on = [s for s in started if s.argv[0] == "worker"]
            for w in on:
                wait_until(lambda w=w: _ready(w), timeout=90, what=f"worker {w.argv}")
            beat = next(s for s in started if s.argv[0] == "beat")
            wait_until(lambda: _ready(beat, "beat: holds the schedule"), timeout=90,
                       what="the beat to hold the schedule")
            field = seed_database(postgres_url)
            yield Profile(served, on, beat, field)
        finally:
            for s in started:
                _stop(s)


def _ready(started: Started, text: str = "ready.") -> bool:
    assert started.process.poll() is None, started.text()
    return text in started.text()


# -- what the workers' logs say -------------------------------------------------------------

TICK = re.compile(r"rounds\.reconcile\[[0-9a-f-]+\] succeeded in [0-9.]+s: (\{[^}]*\})")


@dataclass
class Tick:
    """A reconciliation a worker's log says it finished: what each reconciler did, and the
    process (the worker's pool) that ran it."""

    done: dict[str, int]
    pid: int


def _ticks(log: str) -> list[Tick]:
    """The reconciliations a worker's log (JSON lines) says it finished, in order."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        m = TICK.search(str(record.get("event", "")))
        if m:
            found.append(Tick(json.loads(m.group(1).replace("'", '"')), int(record["pid"])))
    return found


def _ticks_done(profile: Profile) -> int:
    return sum(len(_ticks(w.text())) for w in profile.workers)


# -- the database, behind the processes' back -----------------------------------------------

def _issues(database_url: str, submission_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from rounds.runtime.issues.models import Issue

    async def work(db: Any) -> list[dict[str, Any]]:
        rows = (await db.execute(select(Issue).where(Issue.submission_id == submission_id)
                                 .order_by(Issue.id))).scalars()
        return [{"id": i.id, "due_at": i.due_at, "reminded_at": i.reminded_at,
                 "assignee_id": i.assignee_id} for i in rows]

    result: list[dict[str, Any]] = in_database(database_url, work)
    return result


def _due_in(database_url: str, issue_id: int, due: timedelta) -> None:
    from rounds.db import utcnow
    from rounds.runtime.issues.models import Issue

    async def work(db: Any) -> None:
        issue = await db.get(Issue, issue_id)
        issue.due_at = utcnow() + due

    in_database(database_url, work)


def _reminders(database_url: str, issue_id: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from rounds.runtime.notifications.models import Notification

    async def work(db: Any) -> list[dict[str, Any]]:
        rows = (await db.execute(select(Notification).where(
            Notification.issue_id == issue_id, Notification.kind == "issue_due_soon"))
        ).scalars()
        return [{"id": n.id, "user_id": n.user_id, "pushed_at": n.pushed_at} for n in rows]

    result: list[dict[str, Any]] = in_database(database_url, work)
    return result


# -- the customer manager, through one API process ------------------------------------------

def _client_on_another_process(served: Served, auth: dict[str, str], not_on: int
                               ) -> tuple[httpx.Client, int]:
    """A keep-alive client whose connection an API process other than ``not_on`` holds
    (the kernel hands connections to the processes in turn; bounded)."""
    for _ in range(40):
        client = httpx.Client(base_url=served.url, headers=auth, timeout=60)
        r = client.get("/api/visits/current")
        assert r.status_code == 200, r.text
        pid = holder(served, r)
        if pid != not_on:
            return client, pid
        client.close()
    raise AssertionError(f"every connection went to process {not_on}")


def _submit_poor_visit(served: Served, field: Field, c: httpx.Client) -> tuple[str, int]:
    """Check in at shop A, upload a photo, submit a visit with failed items: the submission's
    id and the process that took it."""
    r = c.post("/api/visits", json={"qr_token": field.qr["shop_a"]})
    assert r.status_code == 201, r.text
    visit = int(r.json()["id"])
    r = c.post("/api/photos", files={"file": ("shop.png", png_bytes(21), "image/png")})
    assert r.status_code == 201, r.text
    photo = str(r.json()["id"])
    version = str(c.get(f"/api/definitions/{STANDARD}").json()["content_hash"])
    answers, evidence = poor_answers(photo)
    sid = str(uuid.uuid4())
    r = c.post("/api/submissions", json=body(sid, version, answers, evidence=evidence,
                                             visit_id=visit))
    assert r.status_code == 201, r.text
    assert r.json()["failed_items"], "the visit was meant to fail items"
    return sid, holder(served, r)


async def test_a_submission_reaches_a_page_on_the_other_process_and_a_worker_reminds(
        profile: Profile) -> None:
    served, field = profile.served, profile.field
    database_url = served.database_url
    auth = await asyncio.to_thread(api_token, served, "zhang", PASSWORD)
    zhang = field.users["zhang"]

    async with event_stream(served.url + STREAM, auth) as page:
        assert page.first["data"] == {"unread": 0}
        page_on = await asyncio.to_thread(holder, served, page.response)
        client, through = await asyncio.to_thread(_client_on_another_process, served, auth,
                                                  page_on)
        try:
            sid, took_it = await asyncio.to_thread(_submit_poor_visit, served, field, client)
        finally:
            client.close()
        assert took_it == through and through != page_on
        assert {through, page_on} == served.processes()

        # The issues were made in the submission's transaction by process A; their
        # notifications reach the page open on process B (through Redis).
        issues = await asyncio.to_thread(_issues, database_url, sid)
        assert issues and {i["assignee_id"] for i in issues} == {zhang}
        heard: set[int] = set()
        while heard != {i["id"] for i in issues}:
            event = await page.next_event("notification", timeout=30)
            assert event["data"]["kind"] == "issue_assigned", event
            heard.add(int(event["data"]["issue_id"]))

        # The issue due last is not due soon: a full reconciliation after the submission
        # leaves it alone.
        later = max(issues, key=lambda i: i["due_at"])
        assert later["due_at"] - datetime.now(later["due_at"].tzinfo) > timedelta(days=2)
        done = _ticks_done(profile)
        await asyncio.to_thread(wait_until, lambda: _ticks_done(profile) >= done + 2,
                                timeout=60, what="two reconciliations after the submission")
        assert await asyncio.to_thread(_reminders, database_url, later["id"]) == []

        # Due in three hours: the next reconciliation, in one of the workers, reminds her.
        seen = [len(_ticks(w.text())) for w in profile.workers]
        await asyncio.to_thread(_due_in, database_url, later["id"], timedelta(hours=3))
        while True:  # (an issue due within a day from the start was reminded at once)
            reminder = await page.next_event("notification", timeout=60)
            assert reminder["data"]["kind"] == "issue_due_soon", reminder
            if reminder["data"]["issue_id"] == later["id"]:
                break
        (row,) = await asyncio.to_thread(_reminders, database_url, later["id"])
        assert row["user_id"] == zhang and row["pushed_at"] is not None
        assert int(reminder["id"]) == row["id"]

    # Which worker: exactly one tick reminded, in one worker's log, run by a process of
    # that worker (its pool).
    reminded_by = [(w, t) for w, before in zip(profile.workers, seen, strict=True)
                   for t in _ticks(w.text())[before:] if t.done.get("remind_due_soon")]
    assert len(reminded_by) == 1, [w.text()[-2000:] for w in profile.workers]
    worker, tick = reminded_by[0]
    assert tick.done["remind_due_soon"] == 1
    assert tick.pid in family(worker.process.pid) - {worker.process.pid}, (tick, worker.argv)

    # SIGTERM to every process: each stops gracefully, and nothing of theirs is left.
    everything = [served.process.pid, *(w.process.pid for w in profile.workers),
                  profile.beat.process.pid]
    processes = set().union(*(family(pid) for pid in everything))
    for pid in everything:
        os.kill(pid, signal.SIGTERM)
    for started in [*profile.workers, profile.beat]:
        code = await asyncio.to_thread(started.process.wait, DRAIN_SECONDS + 60)
        assert code == 0, started.text()[-3000:]
    code = await asyncio.to_thread(served.process.wait, DRAIN_SECONDS + 30)
    assert code == 0, served.log.read_text()[-3000:]
    await asyncio.to_thread(wait_until, lambda: not any(alive(p) for p in processes),
                            timeout=15, what="every process of the profile to end")
    assert served.log.read_text().count("Shutting down") == served.workers
    assert "beat: released the schedule lock" in profile.beat.text()
