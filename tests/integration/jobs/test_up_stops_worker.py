"""Stopping `rounds up` stops the job worker it started: no worker is left behind, whichever
signal stopped the server (a service manager's SIGTERM, or Ctrl-C's SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.live import DEFINITIONS, REPO, free_port, wait_until


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has stopped; only its exit status is left


def _family(root: int) -> set[int]:
    """``root`` and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def _worker_processes(server_pid: int) -> set[int]:
    """The worker `rounds up` started and its pool and beat processes."""
    out: set[int] = set()
    for pid in _family(server_pid) - {server_pid}:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
        if b"rounds.cli worker" in cmd:
            out |= _family(pid)
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_up_stops_its_worker(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    data = tmp_path / "var"
    log = tmp_path / "up.log"
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data), "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS),
           "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
           "ROUNDS_SERVER_PORT": str(port), "ROUNDS_REDIS_URL": "",
           "ROUNDS_JOBS_BROKER_URL": ""}
    with log.open("w") as out:
        up = subprocess.Popen([sys.executable, "-m", "rounds.cli", "up"], env=env, cwd=REPO,
                              stdout=out, stderr=subprocess.STDOUT)
    workers: set[int] = set()
    try:
        def serving() -> bool:
            assert up.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).is_success
            except httpx.HTTPError:
                return False

        wait_until(serving, timeout=90, what="the server")
        # The worker is up with its pool (it says "ready." once it takes tasks).
        wait_until(lambda: "ready." in log.read_text(errors="replace"), timeout=90,
                   what="the worker")
        workers = wait_until(lambda: _worker_processes(up.pid), what="the worker processes")
        assert len(workers) >= 2  # the worker and its pool process at least

        up.send_signal(sig)
        up.wait(60)
        wait_until(lambda: not any(_alive(p) for p in workers), timeout=30,
                   what="the worker processes to end")
        assert "Shutting down" in log.read_text(errors="replace")  # a graceful stop
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(10)
        for pid in workers:  # never leave them to the next test, even when this one fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
