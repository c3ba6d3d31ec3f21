"""A worker SIGKILLed mid-task (with its pool: a machine that dies) loses no task.

Tasks are acknowledged late, so the broker still holds the message: on Redis it goes back to
the queue after the visibility timeout (3 s here, ROUNDS_JOBS_VISIBILITY_TIMEOUT), on
RabbitMQ as soon as the dead worker's connection drops; the next worker completes it. (On
the embedded SQLite broker a taken message is gone: there the periodic reconciliation
redoes the work from the database, see test_jobs_embedded.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from support.live import LiveWorker, rabbitmq_vhost, redis_database, wait_until

TASKS = "integration.jobs.jobs_test_tasks"  # tests.slow_once: sleeps on its first attempt


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[str]:
    with redis_database() if request.param == "redis" else rabbitmq_vhost() as url:
        yield url


def test_a_task_of_a_killed_worker_is_completed_by_the_next_one(tmp_path: Path,
                                                                  broker: str) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}"
    env = {"ROUNDS_JOBS_BROKER_URL": broker, "ROUNDS_JOBS_VISIBILITY_TIMEOUT": "3"}
    marks = tmp_path / "marks"
    marks.mkdir()
    first = LiveWorker(tmp_path / "w1", database, env=env, beat=False, preload=TASKS,
                       name="first")
    sender = Celery("test", broker=broker)
    try:
        sender.send_task("tests.slow_once", args=[str(marks)])
        wait_until((marks / "attempts").exists, what="the task started")
    finally:
        sender.close()
        first.kill()  # mid-task (it sleeps until killed): the message was never acknowledged
    assert not (marks / "done").exists()

    second = LiveWorker(tmp_path / "w2", database, env=env, beat=False, preload=TASKS,
                        name="second")
    try:
        wait_until((marks / "done").exists, what="the task completed")
    finally:
        second.stop()
    attempts = (marks / "attempts").read_text().split()
    assert len(attempts) == 2 and attempts[0] != attempts[1]  # two processes ran it
    assert (marks / "done").read_text() == attempts[1]
    assert "tests.slow_once" in second.log.read_text()
