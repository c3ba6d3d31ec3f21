"""`rounds` processes started as a guide's tested block says (API processes under
`rounds serve --workers N`, job workers, the schedule), and which API process holds a
connection: what the production guides' tests need."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.deploy import connection_holder
from support.live import REPO, wait_until
from support.processes import family


@dataclass
class Started:
    """A long-running `rounds` command (in a session of its own: what it leaves behind can
    be killed as a group), its output in ``log``."""

    argv: list[str]
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_rounds(argv: list[str], env: Mapping[str, str], log: Path) -> Started:
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "rounds.cli", *argv], env=dict(env),
                                   cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Started(argv, process, log)


def run_rounds(argv: list[str], env: Mapping[str, str]) -> None:
    """A `rounds` command that finishes (migrations, definitions); fails the test, with its
    output, unless it succeeds."""
    done = subprocess.run([sys.executable, "-m", "rounds.cli", *argv], env=dict(env), cwd=REPO,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"rounds {' '.join(argv)}: {done.stdout}{done.stderr}"


@dataclass
class Served:
    """The API processes a guide's block started (what support.live's helpers need)."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    database_url: str
    log: Path
    workers: int

    def processes(self) -> set[int]:
        """The supervisor's API processes (not multiprocessing's resource tracker)."""
        found: set[int] = set()
        for pid in family(self.process.pid) - {self.process.pid}:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"multiprocessing.spawn" in cmd or b"spawn_main" in cmd:
                found.add(pid)
        return found


def serving(served: Served) -> bool:
    """Healthy, and every process has said so (uvicorn: one line each)."""
    assert served.process.poll() is None, served.log.read_text()
    try:
        health = httpx.get(served.url + "/api/health", timeout=1).is_success
    except httpx.HTTPError:
        return False
    return health and served.log.read_text().count("Application startup complete") \
        >= served.workers


def client_port(response: httpx.Response) -> int:
    """The local port of the connection a response came on."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def holder(served: Served, response: httpx.Response) -> int:
    """The API process that holds the connection a response came on."""
    pids = served.processes()
    found: int | None = wait_until(
        lambda: connection_holder(pids, served.port, client_port(response)), timeout=10,
        what="the process holding the connection")
    assert found is not None
    return found
