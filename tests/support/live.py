"""A real `rounds up` server process for tests that talk HTTP (and browsers)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real `rounds up` process (migrate, sync definitions, serve) on a free port."""

    def __init__(self, data_dir: Path, database_url: str | None = None,
                 definitions: Path = DEFINITIONS) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir),
               "ROUNDS_DEFINITIONS_DIR": str(definitions),
               "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
               "ROUNDS_SERVER_PORT": str(self.port)}
        if database_url:
            env["ROUNDS_DATABASE_URL"] = database_url
        self.database_url = database_url or f"sqlite+aiosqlite:///{data_dir / 'rounds.sqlite3'}"
        self.log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rounds.cli", "up", "--no-worker"], env=env, cwd=REPO,
            stdout=self._log_file, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:
            self.process.kill()
        self._log_file.close()




def run_async(coro: Any) -> Any:
    """Run a coroutine to completion from sync test code, in a thread of its own: the
    browser tests' Playwright keeps an event loop in the main thread, where asyncio.run
    would refuse to start another."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def add_user(server: LiveServer, username: str, role_id: str, password: str = "password-123",
             org_unit: str = "city") -> None:
    """Create a user (and the city org unit if missing) straight in the server's database."""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.errors import NotFound
    from rounds.runtime.orgs.service import by_code, create_org_unit
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                try:
                    await by_code(db, org_unit)
                except NotFound:
                    await create_org_unit(db, code=org_unit, kind="city", name_zh="市公司",
                                          name_en="City company")
                await create_user(db, username=username, display_name=username,
                                  role_id=role_id, org_unit_code=org_unit, password=password)
        finally:
            await engine.dispose()

    run_async(run())


def api_token(server: LiveServer, username: str, password: str = "password-123") -> dict[str, str]:
    """Authorization headers of a fresh bearer token."""
    r = httpx.post(server.url + "/api/auth/sign-in",
                   json={"username": username, "password": password, "kind": "api"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}
