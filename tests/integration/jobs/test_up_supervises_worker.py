"""`rounds up` watches the job worker it started: never a server that looks alive while no
job runs.

- A worker killed with SIGKILL (out of memory, an operator's mistake) is noticed: one line
  says so, another worker starts after a short pause and serves tasks.
- A worker that cannot run at all (here: a broker URL no transport knows) is restarted a few
  times with growing pauses, then `rounds up` stops as a whole, says why, exit code 1.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from celery import Celery

from support.live import LiveServer, wait_until
from support.processes import alive, command_line, group, workers_of

EMBEDDED = {"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""}


def _worker_main(up: LiveServer) -> int | None:
    """The pid of the worker `rounds up` runs now (not its pool or beat processes)."""
    for pid in workers_of(up.process.pid):
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        if int(parent) == up.process.pid and "rounds.cli worker" in command_line(pid):
            return pid
    return None


def _cleanup(up: LiveServer, *pids: int) -> None:
    left = workers_of(up.process.pid) if up.process.poll() is None else set()
    if up.process.poll() is None:
        up.process.kill()
    up.stop()
    for pid in left | set(pids):  # never leave them to the next test, even when this fails
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_is_noticed_and_replaced(tmp_path: Path) -> None:
    data = tmp_path / "var"
    up = LiveServer(data, worker=True, env=EMBEDDED)
    first: int | None = None
    try:
        wait_until(lambda: "ready." in up.log.read_text(errors="replace"), timeout=90,
                   what="the worker")
        first = wait_until(lambda: _worker_main(up), what="the worker process")
        pool = group(first) - {first}
        assert pool  # its pool (and beat) in its process group

        os.kill(first, signal.SIGKILL)  # the worker alone: its pool is left behind

        wait_until(lambda: f"the job worker (pid {first}) was killed by SIGKILL; starting "
                   "another in 1 s" in up.log.read_text(errors="replace"), timeout=30,
                   what="the line saying the worker was killed")
        second = wait_until(lambda: (pid := _worker_main(up)) not in (None, first) and pid,
                            timeout=60, what="another worker")
        wait_until(lambda: not group(first), timeout=30,
                   what="the killed worker's pool and beat to be gone")
        wait_until(lambda: up.log.read_text(errors="replace").count("ready.") >= 2,
                   timeout=90, what="the new worker ready")

        sender = Celery("test", broker=f"sqla+sqlite:///{data / 'jobs.sqlite3'}")
        try:
            task = sender.send_task("rounds.ping", args=["still here"])
        finally:
            sender.close()
        wait_until(lambda: f"rounds.ping[{task.id}] succeeded" in
                   up.log.read_text(errors="replace"), timeout=60,
                   what="the new worker to answer a ping")
        assert up.process.poll() is None  # the server kept serving throughout
        assert alive(second)
    finally:
        _cleanup(up, *([first] if first else []))


def test_a_worker_that_keeps_failing_stops_up_with_a_message(tmp_path: Path) -> None:
    up = LiveServer(tmp_path / "var", worker=True,
                    env={**EMBEDDED, "ROUNDS_JOBS_BROKER_URL": "nosuch://nowhere"})
    try:
        # Four restarts, 1 + 2 + 4 + 8 s apart, then it gives up on the fifth exit.
        wait_until(lambda: up.process.poll() is not None, timeout=150,
                   what="rounds up to stop")
        assert up.process.returncode == 1
        log = up.log.read_text(errors="replace")
        assert log.count("exited with code 1; starting another in") == 4
        assert "starting another in 8 s (4 exits in 300 s; `rounds up` stops at 5)" in log
        assert "exited with code 1: 5 times in 300 s, so `rounds up` stops" in log
        assert "rounds up stopped: the job worker" in log  # the last words, at the exit
        assert "Shutting down" in log  # the server stopped gracefully, not killed
    finally:
        _cleanup(up)
