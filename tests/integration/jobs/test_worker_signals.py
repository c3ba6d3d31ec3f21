"""`rounds worker` and `rounds beat` stop cleanly on a service manager's SIGTERM and on
Ctrl-C's SIGINT: within a bounded time, exit code 0, no process of theirs left (a worker's
pool and embedded beat are in its process group). A worker finishes the task it is running
before it goes. And the supervisor of `rounds up` kills a worker that does not stop in time,
with its whole group, so that nothing outlives `rounds up`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from rounds.jobs.supervise import WorkerSupervisor
from support.live import REPO, LiveWorker, wait_until
from support.processes import alive, group

TASKS = "integration.jobs.jobs_test_tasks"  # tests.sleep: a task in flight
SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                                  ids=["SIGTERM", "SIGINT"])


def _stopped_cleanly(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    members = group(process.pid)
    assert len(members) >= 1
    process.send_signal(sig)
    try:
        assert process.wait(60) == 0
        wait_until(lambda: not group(process.pid), timeout=10,
                   what="every process of its group to end")
    finally:
        for pid in group(process.pid) | members:  # never leave them to the next test
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@SIGNALS
def test_a_worker_finishes_its_task_and_stops(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "var"
    worker = LiveWorker(data, f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}",
                        env={"ROUNDS_JOBS_BROKER_URL": "", "ROUNDS_REDIS_URL": ""},
                        beat=True, preload=TASKS)
    try:
        assert len(group(worker.process.pid)) >= 3  # the worker, its pool process and beat
        marks = tmp_path / "marks"
        marks.mkdir()
        sender = Celery("test", broker=f"sqla+sqlite:///{data / 'jobs.sqlite3'}")
        try:
            sender.send_task("tests.sleep", args=[str(marks), 3])
        finally:
            sender.close()
        wait_until((marks / "started").exists, what="the task started")
        _stopped_cleanly(worker.process, sig)
        assert (marks / "done").exists()  # a warm shutdown: the task was let finish
    finally:
        worker.stop()


@SIGNALS
def test_beat_stops(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "var"
    data.mkdir()
    log = data / "beat.log"
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data), "ROUNDS_JOBS_BROKER_URL": "",
           "ROUNDS_REDIS_URL": "",
           "ROUNDS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}"}
    with log.open("w") as out:
        beat = subprocess.Popen([sys.executable, "-m", "rounds.cli", "beat"], env=env,
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until(lambda: "beat: Starting..." in log.read_text(errors="replace"),
                   what="beat")
        _stopped_cleanly(beat, sig)
    finally:
        if beat.poll() is None:
            beat.kill()
            beat.wait(10)


def test_a_worker_that_does_not_stop_in_time_is_killed_with_its_group(tmp_path: Path
                                                                      ) -> None:
    # A "worker" that ignores SIGTERM and has a child that does too (a stuck pool process).
    stubborn = ("import signal, subprocess, sys, time; "
                "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)']); "
                "time.sleep(600)")
    supervisor = WorkerSupervisor([sys.executable, "-c", stubborn], stop_seconds=1,
                                  give_up=lambda message: None)
    supervisor.start()
    process = supervisor.process
    assert process is not None
    try:
        wait_until(lambda: len(group(process.pid)) == 2, what="the worker and its child")
        supervisor.stop()  # returns once it is all gone (SIGTERM, 1 s, SIGKILL to the group)
        assert process.returncode == -signal.SIGKILL
        wait_until(lambda: not group(process.pid), timeout=10, what="the child to be gone")
        assert supervisor.process is process  # not restarted: it was asked to stop
    finally:
        for pid in group(process.pid):
            os.kill(pid, signal.SIGKILL)
