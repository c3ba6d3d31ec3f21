"""A real `rounds worker --beat` on Redis (broker and live pushes) and PostgreSQL: reconciling
every second, it reminds a due-soon issue, escalates an overdue one and publishes the
notifications through Redis itself (no API process runs); further ticks change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from jobs_helpers import (
    issue_state,
    notifications_of,
    open_issue,
    prepare,
    reconciles_done,
    unit_id,
)

from rounds.runtime.notifications.push import user_channel
from rounds.settings import redis_prefix
from support.live import LiveWorker, redis_database, wait_until


def _env(redis_url: str, **more: str) -> dict[str, str]:
    return {"ROUNDS_JOBS_BROKER_URL": redis_url, "ROUNDS_REDIS_URL": redis_url,
            "ROUNDS_JOBS_RECONCILE_SECONDS": "1", **more}


def _drain(pubsub: Any, into: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """What Redis delivered to our subscription so far, by notification id."""
    while (message := pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)):
        event = json.loads(message["data"])
        into[int(event["id"])] = {**event, "channel": message["channel"].decode()}
    return into


def test_a_worker_with_beat_reminds_escalates_and_publishes_through_redis(
        tmp_path: Path, postgres_url: str) -> None:
    field = prepare(postgres_url)
    overdue = open_issue(postgres_url, field, due_in=-timedelta(hours=2), title="Overdue")
    soon = open_issue(postgres_url, field, due_in=timedelta(hours=3), title="Due soon")
    later = open_issue(postgres_url, field, due_in=timedelta(days=5), title="Due later")
    city = unit_id(postgres_url, "city")
    with redis_database() as redis_url:
        client = redis.Redis.from_url(redis_url)
        pubsub = client.pubsub()
        prefix = redis_prefix(redis_url)
        pubsub.subscribe(*(user_channel(field.users[u], prefix)
                           for u in ("zhang", "li", "admin")))
        worker = LiveWorker(tmp_path / "worker", postgres_url, env=_env(redis_url))
        try:
            wait_until(lambda: issue_state(postgres_url, overdue)["escalation_level"] == 1
                       and issue_state(postgres_url, soon)["reminded_at"] is not None,
                       what="the escalation and the reminder")
            escalated = issue_state(postgres_url, overdue)
            assert escalated["escalated_to_unit_id"] == city  # north's head → the city
            assert escalated["escalated_at"] is not None
            assert issue_state(postgres_url, later)["reminded_at"] is None

            told = notifications_of(postgres_url, overdue)
            assert {n["kind"] for n in told} == {"issue_escalated"}
            assert {n["user_id"] for n in told} == {field.users["li"], field.users["admin"]}
            (reminder,) = notifications_of(postgres_url, soon)
            assert (reminder["kind"], reminder["user_id"]) == ("issue_due_soon",
                                                               field.users["zhang"])
            assert notifications_of(postgres_url, later) == []

            # Published by the worker through Redis: no API process runs here.
            rows = told + [reminder]
            wait_until(lambda: all(n["pushed_at"] for n in notifications_of(postgres_url)),
                       what="the rows marked pushed")
            heard: dict[int, dict[str, Any]] = {}
            wait_until(lambda: {n["id"] for n in rows} <= set(_drain(pubsub, heard)),
                       what="the notifications on Redis")
            for n in rows:
                assert heard[n["id"]]["channel"] == user_channel(n["user_id"], prefix)
                assert heard[n["id"]]["kind"] == n["kind"]

            # Idempotent: two more full reconciliations add nothing and escalate no further.
            done = reconciles_done(worker.log)
            wait_until(lambda: reconciles_done(worker.log) >= done + 2, what="two more ticks")
            assert len(notifications_of(postgres_url)) == len(rows)
            assert issue_state(postgres_url, overdue)["escalation_level"] == 1
        finally:
            worker.stop()
            pubsub.close()
            client.close()

