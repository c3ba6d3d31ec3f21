"""The embedded default, end to end: a `rounds up` server and a `rounds worker --beat` on one
SQLite database, the broker a SQLite file (kombu's SQLAlchemy transport) and the live
channels in the server's memory. Nothing else runs: no Redis, no RabbitMQ, no PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from celery import Celery
from jobs_helpers import (
    issue_state,
    issues_of_submission,
    notifications_of,
    open_issue,
    prepare,
    reconciles_done,
    submit_with_failed_items,
)

from support.fieldwork import PASSWORD
from support.live import LiveServer, LiveWorker, api_token, event_stream, wait_until

STREAM = "/api/notifications/stream"


async def test_the_embedded_default_runs_jobs_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "var"  # what ROUNDS_DATA_DIR is for `rounds up`: database, broker
    server = LiveServer(data, env={"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""})
    worker: LiveWorker | None = None
    try:
        url = server.database_url
        field = await asyncio.to_thread(prepare, url, migrate=False)
        overdue = await asyncio.to_thread(open_issue, url, field,
                                          due_in=-timedelta(hours=2), title="Overdue")
        # A submission whose failed items have no issues yet: its message was "lost".
        lost, failed = await asyncio.to_thread(submit_with_failed_items, url, tmp_path / "ph")
        assert failed >= 2
        li = api_token(server, "li", PASSWORD)
        zhang = api_token(server, "zhang", PASSWORD)
        async with event_stream(server.url + STREAM, li) as li_stream, \
                event_stream(server.url + STREAM, zhang) as zhang_stream:
            worker = await asyncio.to_thread(
                LiveWorker, data, url, name="embedded",
                env={"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": "",
                     "ROUNDS_JOBS_RECONCILE_SECONDS": "1"})
            # The worker made these rows; the server's poll pushed them to the open pages.
            escalated = await li_stream.next_event("notification", timeout=90)
            assigned = await zhang_stream.next_event("notification", timeout=90)
        assert escalated["data"]["kind"] == "issue_escalated"
        assert escalated["data"]["issue_id"] == overdue
        assert assigned["data"]["kind"] == "issue_assigned"
        assert issue_state(url, overdue)["escalation_level"] == 1

        # The reconciliation opened the lost submission's issues, one per failed item.
        wait_until(lambda: issues_of_submission(url, lost) == failed, what="the issues")

        # A task through the embedded broker, end to end: idempotent, so it opens nothing
        # more, and the worker's log shows it ran.
        sender = Celery("test", broker=f"sqla+sqlite:///{data / 'jobs.sqlite3'}")
        try:
            sender.send_task("rounds.issues.for_submission", args=[lost])
        finally:
            sender.close()
        wait_until(lambda: "rounds.issues.for_submission" in worker.log.read_text()
                   and "succeeded" in worker.log.read_text().split(
                       "rounds.issues.for_submission", 1)[1], what="the task run")
        done = reconciles_done(worker.log)
        wait_until(lambda: reconciles_done(worker.log) >= done + 2, what="two more ticks")
        assert issues_of_submission(url, lost) == failed
        kinds = [n["kind"] for n in notifications_of(url)]
        assert kinds.count("issue_escalated") == 2  # li and admin, once each
        assert "sqla+sqlite" in worker.log.read_text()  # the broker was the SQLite file
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
