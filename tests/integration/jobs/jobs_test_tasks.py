"""A test-only task, loaded into a worker with ``LiveWorker(preload=...)``.

``tests.slow_once`` records each attempt (the process that ran it); the first attempt then
sleeps (long enough to be killed), a later one completes. Idempotent as a real task must be:
running it again only completes it again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.slow_once", acks_late=True)
def slow_once(marks: str) -> int:
    folder = Path(marks)
    with (folder / "attempts").open("a") as f:
        f.write(f"{os.getpid()}\n")
    attempts = (folder / "attempts").read_text().split()
    if len(attempts) == 1:
        time.sleep(600)  # the test kills the worker meanwhile
    (folder / "done").write_text(str(os.getpid()))
    return len(attempts)


@shared_task(name="tests.sleep", acks_late=True)
def sleep(marks: str, seconds: float) -> None:
    """Marks ``started``, sleeps, marks ``done``: a task in flight when a stop comes."""
    (Path(marks) / "started").write_text(str(os.getpid()))
    time.sleep(seconds)
    (Path(marks) / "done").write_text(str(os.getpid()))
