"""The reconciliation on the embedded SQLite database while people submit: it makes progress,
says plainly when a tick failed, and logs one line a tick (not a traceback a row).

A real `rounds up` server takes a steady load of submissions over HTTP (each one also opens
its issues in the server, after the response), while a real `rounds worker --beat`
reconciles every second on the same SQLite file: two processes writing to one database.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import httpx
from jobs_helpers import (
    failed_items_of,
    issue_state,
    issues_of_submissions,
    lost_submissions,
    open_issue,
    open_visit_for,
    poor_body,
    prepare,
)

from support.fieldwork import PASSWORD
from support.live import LiveServer, LiveWorker, api_token, in_database, wait_until

EMBEDDED = {"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""}


class Load:
    """Clients posting submissions with failed items, until stopped (bounded: at most
    ``limit`` posts in all)."""

    def __init__(self, server: LiveServer, token: dict[str, str], version: str, photo: str,
                 visit_id: int, clients: int = 4, limit: int = 5000) -> None:
        self.server, self.token = server, token
        self.args = (version, photo, visit_id)
        self.clients, self.limit = clients, limit
        self.statuses: list[int] = []
        self.stopped = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def _client(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=60) as client:
            while not self.stopped.is_set() and len(self.statuses) < self.limit:
                r = await client.post("/api/submissions", content=poor_body(*self.args),
                                      headers={**self.token,
                                               "Content-Type": "application/json"})
                self.statuses.append(r.status_code)

    async def __aenter__(self) -> Load:
        self.tasks = [asyncio.create_task(self._client()) for _ in range(self.clients)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stopped.set()
        await asyncio.gather(*self.tasks)


def _tick_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "rounds.reconcile[" in line]


async def test_the_reconciliation_opens_lost_issues_while_submissions_pour_in(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    server = LiveServer(data, env=EMBEDDED)
    worker: LiveWorker | None = None
    try:
        url = server.database_url
        await asyncio.to_thread(prepare, url, migrate=False)
        version, photo, visit = await asyncio.to_thread(open_visit_for, url, tmp_path / "ph")
        # A backlog: submissions whose background task was lost, as after a crash.
        lost = await asyncio.to_thread(lost_submissions, url, version, photo, visit, 60)
        assert await asyncio.to_thread(issues_of_submissions, url, lost) == 0
        failed = await asyncio.to_thread(failed_items_of, url, lost)
        assert failed >= 2 * len(lost)
        token = api_token(server, "zhang", PASSWORD)
        async with Load(server, token, version, photo, visit) as load:
            await asyncio.to_thread(wait_until, lambda: len(load.statuses) >= 20,
                                    what="the load to run")
            worker = await asyncio.to_thread(
                LiveWorker, data, url, name="load",
                env={**EMBEDDED, "ROUNDS_JOBS_RECONCILE_SECONDS": "1"})
            await asyncio.to_thread(
                wait_until, lambda: issues_of_submissions(url, lost) == failed, timeout=180,
                what="the backlog's issues")
            # and the ticks after it, still under load, go through too
            log = worker.log
            done = await asyncio.to_thread(wait_until, lambda: sum(
                "succeeded" in line for line in _tick_lines(log.read_text(errors="replace"))),
                what="a tick that succeeded")
            await asyncio.to_thread(wait_until, lambda: sum(
                "succeeded" in line for line in _tick_lines(log.read_text(errors="replace")))
                >= done + 3, timeout=120, what="three more ticks")
        assert load.statuses and set(load.statuses) == {201}  # nobody's submission was lost
        text = worker.log.read_text(errors="replace")
        assert "Traceback" not in text
        assert "database is locked" not in text
        assert not [line for line in _tick_lines(text) if "succeeded" not in line
                    and "received" not in line]  # no tick failed
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


async def test_a_tick_that_cannot_do_its_work_is_reported_failed(tmp_path: Path) -> None:
    """A submission whose standard's stored version is unreadable cannot get its issues: the
    tick says it failed (once, in one line), and the other work of the tick is still done."""
    data = tmp_path / "var"
    server = LiveServer(data, env=EMBEDDED)
    worker: LiveWorker | None = None
    try:
        url = server.database_url
        field = await asyncio.to_thread(prepare, url, migrate=False)
        version, photo, visit = await asyncio.to_thread(open_visit_for, url, tmp_path / "ph")
        lost = await asyncio.to_thread(lost_submissions, url, version, photo, visit, 3)
        overdue = await asyncio.to_thread(open_issue, url, field, due_in=-timedelta(hours=2),
                                          title="Overdue")

        async def break_the_version(db: object) -> None:
            from sqlalchemy import update

            from rounds.runtime.definitions.models import DefinitionVersion

            await db.execute(update(DefinitionVersion)  # type: ignore[attr-defined]
                             .where(DefinitionVersion.content_hash == version)
                             .values(content={"sections": 5}))

        await asyncio.to_thread(in_database, url, break_the_version)
        worker = await asyncio.to_thread(
            LiveWorker, data, url, name="failing",
            env={**EMBEDDED, "ROUNDS_JOBS_RECONCILE_SECONDS": "1"})

        def failed_ticks() -> list[str]:
            return [line for line in _tick_lines(worker.log.read_text(errors="replace"))
                    if "raised" in line or "failed" in line.lower()]

        await asyncio.to_thread(wait_until, lambda: len(failed_ticks()) >= 2, timeout=90,
                                what="two failed ticks")
        text = worker.log.read_text(errors="replace")
        assert not [line for line in _tick_lines(text) if "succeeded" in line]
        assert "Traceback" not in text
        # The tick names what failed and why, in one line each.
        summary = [line for line in text.splitlines() if "could not" in line
                   and "create_missing_issues" in line]
        assert summary and len(summary) <= len(_tick_lines(text))
        assert "3 submissions" in summary[0]
        # The escalation, in the same ticks, was done all the same.
        assert issue_state(url, overdue)["escalation_level"] == 1
        assert issues_of_submissions(url, lost) == 0
    finally:
        if worker is not None:
            with contextlib.suppress(Exception):
                worker.stop()
        server.stop()
