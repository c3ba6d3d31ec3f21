"""`rounds serve --workers N` on PostgreSQL and Redis, run exactly as docs/operations.md says
(its tested block): every process serves, a live notification made through one process
reaches a page whose stream is open on another, and SIGTERM stops them all, open streams
notwithstanding, within a bound. Without Redis more than one process is refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.deploy import marked_block, parse_command, rounds_commands
from support.live import (
    DEFINITIONS,
    REPO,
    add_user,
    api_token,
    event_stream,
    free_port,
    in_database,
    redis_database,
    user_id,
    wait_until,
)
from support.processes import alive, family
from support.served import Served, holder, serving

GUIDE = REPO / "docs" / "operations.md"
STREAM = "/api/notifications/stream"
DRAIN_SECONDS = 3


def _guide_block(values: dict[str, str]) -> tuple[dict[str, str], list[list[str]]]:
    """The tested block of the guide: its exported settings (replaced by the test's own
    values: each must be one the test provides) and its `rounds` commands, in order."""
    block = marked_block(GUIDE.read_text(), "tests/integration/ops/test_serve_workers.py")
    exported: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith("export "):
            name = line.removeprefix("export ").split("=", 1)[0]
            assert name in values, f"the guide exports {name}, which this test does not set"
            exported[name] = values[name]
    return exported, rounds_commands(block)


@pytest.fixture
def served(tmp_path: Path, postgres_url: str) -> Iterator[Served]:
    with redis_database() as redis_url:
        exported, commands = _guide_block({"ROUNDS_DATABASE_URL": postgres_url,
                                           "ROUNDS_REDIS_URL": redis_url})
        *setup, serve = commands
        args = parse_command(serve)
        assert args.command == "serve" and args.workers >= 2, serve
        port = free_port()
        env = {**os.environ, "ROUNDS_DATA_DIR": str(tmp_path / "var"),
               "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS),
               "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
               "ROUNDS_SERVER_PORT": str(port),
               "ROUNDS_SERVER_DRAIN_SECONDS": str(DRAIN_SECONDS), **exported}
        env.pop("ROUNDS_SERVER_WORKERS", None)
        for argv in setup:
            done = subprocess.run([sys.executable, "-m", "rounds.cli", *argv], env=env, cwd=REPO,
                                  capture_output=True, text=True, timeout=180, check=False)
            assert done.returncode == 0, f"rounds {' '.join(argv)}: {done.stdout}{done.stderr}"
        log = tmp_path / "serve.log"
        with log.open("w") as out:
            # A session of its own: whatever it leaves behind can be killed as a group.
            process = subprocess.Popen([sys.executable, "-m", "rounds.cli", *serve], env=env,
                                       cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        served = Served(process, f"http://127.0.0.1:{port}", port, postgres_url, log,
                        args.workers)
        try:
            wait_until(lambda: serving(served), timeout=90, what="the API processes")
            yield served
        finally:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _notify(database_url: str, uid: int, count: int) -> None:
    """Unread notifications for the user, made behind the servers' back."""
    from rounds.runtime.notifications.service import notify

    async def work(db: Any) -> None:
        for i in range(count):
            await notify(db, user_ids=[uid], kind="issue_assigned", dedupe_key=f"ops:{i}",
                         message={"zh": "测试", "en": "test"})

    in_database(database_url, work)


async def test_n_processes_serve_and_a_push_on_one_reaches_a_page_on_another(
        served: Served) -> None:
    await asyncio.to_thread(add_user, served, "ann", "customer_manager")
    auth = await asyncio.to_thread(api_token, served, "ann")
    uid = await asyncio.to_thread(user_id, served, "ann")
    await asyncio.to_thread(_notify, served.database_url, uid, 2)

    async with contextlib.AsyncExitStack() as stack:
        # Streams, until each process has one (the processes take connections in turn as
        # the kernel hands them out; bounded).
        on: dict[int, list[Any]] = {}
        for _ in range(40):
            stream = await stack.enter_async_context(event_stream(served.url + STREAM, auth))
            assert stream.first["data"] == {"unread": 2}
            pid = await asyncio.to_thread(holder, served, stream.response)
            on.setdefault(pid, []).append(stream)
            if len(on) == served.workers:
                break
        assert len(on) == served.workers, f"streams only on {sorted(on)}"
        assert set(on) == served.processes()  # distinct processes, all of them serving

        async with httpx.AsyncClient(base_url=served.url, headers=auth) as client:
            r = await client.post("/api/notifications/read-all")  # a change in one process
            assert r.status_code == 200, r.text
            made_by = await asyncio.to_thread(holder, served, r)
        others = [s for pid, streams in on.items() if pid != made_by for s in streams]
        assert others, "no stream on another process than the one that made the change"
        for stream in [s for streams in on.values() for s in streams]:
            assert (await stream.next_event("unread"))["data"] == {"unread": 0}

        # SIGTERM with streams still open: every process drains (bounded by
        # ROUNDS_SERVER_DRAIN_SECONDS) and the supervisor exits after them.
        processes = family(served.process.pid)
        served.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(served.process.wait, DRAIN_SECONDS + 30)
        assert code == 0, served.log.read_text()
        await asyncio.to_thread(wait_until, lambda: not any(alive(p) for p in processes),
                                timeout=10, what="every API process to end")
        for stream in [s for streams in on.values() for s in streams]:
            with contextlib.suppress(httpx.HTTPError):
                await stream.response.aclose()
    log = served.log.read_text()
    assert log.count("Shutting down") == served.workers  # each one stopped gracefully


def test_several_processes_without_redis_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "ROUNDS_DATA_DIR": str(tmp_path), "ROUNDS_REDIS_URL": "",
           "ROUNDS_SERVER_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "rounds.cli", "serve", "--workers", "2"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert "ROUNDS_REDIS_URL" in done.stderr and "--workers 1" in done.stderr
    # The setting says the same as the option.
    done = subprocess.run([sys.executable, "-m", "rounds.cli", "serve"],
                          env={**env, "ROUNDS_SERVER_WORKERS": "3"}, cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "3 API processes need ROUNDS_REDIS_URL" in done.stderr
