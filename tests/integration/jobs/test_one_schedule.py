"""Exactly one schedule: `rounds beat` processes on one PostgreSQL database and one Redis
broker. While one holds the schedule the others wait, naming it; each periodic task is sent
once per tick, whichever beat sends it; a beat killed with SIGKILL is replaced once its
lock expires, and one stopped cleanly hands over at once.

What was sent is read from the broker itself: no worker consumes, so every task message
stays in Redis with its headers (the task, the sending process's ``origin``, and its
absolute ``expires``: the time it was sent plus the entry's 30 s)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import redis

from rounds.migrate import upgrade
from support.live import REPO, LiveWorker, redis_database, wait_until

LOCK_SECONDS = 20
# The two periodic tasks that tick every second here (the nightly close never comes).
EVERY_SECOND = ("rounds.reconcile", "rounds.storage.delete_unused_photos")
EXPIRES = timedelta(seconds=30)  # the entries' "expires" option: max(30, interval)


class LiveBeat:
    """A real `rounds beat` process (in a session of its own, as a service would be)."""

    def __init__(self, data_dir: Path, database_url: str, broker_url: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir),
               "ROUNDS_DATABASE_URL": database_url, "ROUNDS_JOBS_BROKER_URL": broker_url,
               "ROUNDS_JOBS_RECONCILE_SECONDS": "1", "ROUNDS_UPLOADS_CLEANUP_SECONDS": "1",
               "ROUNDS_JOBS_SCHEDULE_LOCK_SECONDS": str(LOCK_SECONDS)}
        self.log = data_dir / "beat.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rounds.cli", "beat", "--loglevel", "INFO"], env=env,
            cwd=REPO, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
        # How its task messages name it (celery's "origin": gen<pid>@<host>) and how the
        # lock and the other beats' logs do (host:pid/token).
        self.origin = f"gen{self.process.pid}@{socket.gethostname()}"
        self.holder = f"{socket.gethostname()}:{self.process.pid}/"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def says(self, what: str) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"beat exited ({self.process.returncode}): {self.text()}")
        return what in self.text()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log_file.close()

    def stop(self) -> int:
        """SIGTERM, and its exit code (it must go within 30 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        self._log_file.close()
        return self.process.returncode


def _sent(client: redis.Redis) -> list[tuple[datetime, str, str]]:
    """Every task message in the broker's queue: (sent at, task, origin)."""
    messages = []
    for raw in client.lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        sent_at = datetime.fromisoformat(headers["expires"]) - EXPIRES
        messages.append((sent_at, headers["task"], headers["origin"]))
    return sorted(messages)


def _count(client: redis.Redis, beat: LiveBeat, task: str = "rounds.reconcile") -> int:
    return sum(1 for _, name, origin in _sent(client) if name == task and origin == beat.origin)


def test_two_beats_send_each_tick_once_and_hand_over(tmp_path: Path, postgres_url: str
                                                     ) -> None:
    upgrade(postgres_url)
    with redis_database() as broker:
        client = redis.Redis.from_url(broker)
        beats: list[LiveBeat] = []

        def start(name: str) -> LiveBeat:
            beats.append(LiveBeat(tmp_path / name, postgres_url, broker))
            return beats[-1]

        try:
            first = start("first")
            wait_until(lambda: first.says("holds the schedule"), what="the first beat to hold it")
            second = start("second")
            # The second names the first (its host and process id), and the lock's expiry.
            wait_until(lambda: second.says(f"waiting: the schedule is held by {first.holder}"),
                       what="the second beat to name the first")
            assert f"not renewed for {LOCK_SECONDS} s" in second.text()

            # A window of several ticks with both running: only the first sends.
            wait_until(lambda: _count(client, first) >= 5, what="five ticks of the first")
            assert _count(client, second) == 0
            assert "holds the schedule" not in second.text()

            # The holder dies without a word: the second takes over once the lock expires.
            first.kill()
            wait_until(lambda: second.says("holds the schedule"), timeout=LOCK_SECONDS + 40,
                       what="the second beat to take over after the expiry")
            wait_until(lambda: _count(client, second) >= 3, what="three ticks of the second")

            # A clean stop releases the lock: a third beat takes over at once, well before
            # the lock would have expired.
            third = start("third")
            wait_until(lambda: third.says(f"waiting: the schedule is held by {second.holder}"),
                       what="the third beat to name the second")
            assert second.stop() == 0
            assert "released the schedule lock" in second.text()
            wait_until(lambda: third.says("holds the schedule"), timeout=LOCK_SECONDS / 2,
                       what="the third beat to take over the released lock")
            wait_until(lambda: _count(client, third) >= 3, what="three ticks of the third")
            assert third.stop() == 0
        finally:
            for beat in beats:
                if beat.process.poll() is None:
                    beat.kill()

        sent = _sent(client)
        client.close()

    for task in EVERY_SECOND:
        ticks = [(at, origin) for at, name, origin in sent if name == task]
        # Each tick sent once: one beat sends a task at most once a second, so two sends
        # closer than half a second are one tick sent twice (two beats' ticks interleave).
        close_pairs = [(a, b) for a, b in itertools.pairwise(ticks)
                       if b[0] - a[0] < timedelta(seconds=0.5)]
        assert close_pairs == [], f"{task} sent twice in a tick: {close_pairs}"
        # One sender at a time, in the order they held the schedule.
        senders = [origin for _, origin in ticks]
        order = [o for i, o in enumerate(senders) if i == 0 or senders[i - 1] != o]
        assert order == [first.origin, second.origin, third.origin], (task, order)


def test_a_beat_without_the_lock_table_says_so_and_keeps_trying(tmp_path: Path,
                                                                postgres_url: str) -> None:
    """A database not yet migrated: the beat sends nothing and says why, then holds the
    schedule as soon as the table is there (`rounds db upgrade` while it runs)."""
    with redis_database() as broker:
        client = redis.Redis.from_url(broker)
        beat = LiveBeat(tmp_path / "beat", postgres_url, broker)
        try:
            wait_until(lambda: beat.says("cannot read the schedule lock"),
                       what="the beat to say it cannot read the lock")
            assert client.llen("celery") == 0
            upgrade(postgres_url)
            wait_until(lambda: beat.says("holds the schedule"), what="the beat to take it")
            wait_until(lambda: _count(client, beat) >= 1, what="a tick")
            assert beat.stop() == 0
        finally:
            if beat.process.poll() is None:
                beat.kill()
            client.close()


def test_a_worker_with_beat_holds_the_schedule_and_releases_it_on_stop(
        tmp_path: Path, sqlite_url: str) -> None:
    """`rounds worker --beat` (what `rounds up` starts) on the embedded default: its beat
    holds the schedule, and the worker's warm shutdown releases it."""
    upgrade(sqlite_url)
    worker = LiveWorker(tmp_path / "worker", sqlite_url,
                        env={"ROUNDS_JOBS_RECONCILE_SECONDS": "1"})
    try:
        worker.wait_for_log("beat: holds the schedule")
        worker.wait_for_log("Sending due task reconcile")
    finally:
        worker.stop()
    assert worker.process.returncode == 0
    # Its beat is a child process, which logs its release as it goes.
    wait_until(lambda: "beat: released the schedule lock" in worker.log.read_text(),
               timeout=10, what="the worker's beat to release the lock")
