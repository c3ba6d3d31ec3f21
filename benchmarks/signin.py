"""Sign-ins must not stall the server: a request's latency while 20 people sign in at once,
against the same request's latency on an idle server.

    .venv/bin/python benchmarks/signin.py            # 5 rounds
    .venv/bin/python benchmarks/signin.py --quick    # 2 rounds

A real `rounds up` (SQLite, no worker) on a free port, 20 users with API tokens. Idle: a
client sends ``GET /api/auth/me`` (bearer token: the middleware, the principal cache, a
handler) one after another and the latencies are kept. Busy: 20 clients each sign in
(``POST /api/auth/sign-in``, argon2 verifies the password) at the same moment while the same
probe runs; its latencies until the last sign-in answered are kept. Rounds alternate idle
and busy. Printed: the probe's median and worst latency busy / idle.

argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB per check); run on the
event loop, every other request waits behind all 20 (about a second on two cores). Run on
the bounded hashing threads (``rounds.runtime.people.auth``), requests go on meanwhile.

Targets (two shared cores: argon2 itself runs four lanes in threads of its own, so the
server's core is shared while anyone signs in): median busy / idle <= 10x, p99 busy / p99
idle <= 25x, worst busy / worst idle <= 100x. On the event loop the worst was ~1,000x
(seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
USERS = 20
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(database_url: str) -> None:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                for i in range(USERS + 1):
                    await create_user(db, username=f"u{i}", display_name=f"U{i}",
                                      role_id="customer_manager", org_unit_code="city",
                                      password=PASSWORD)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def probe(client: httpx.AsyncClient, headers: dict[str, str], stop: asyncio.Event,
                most: int | None = None) -> list[float]:
    latencies: list[float] = []
    while not stop.is_set() and (most is None or len(latencies) < most):
        t = time.perf_counter()
        r = await client.get("/api/auth/me", headers=headers)
        latencies.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
    return latencies


async def measure(url: str, rounds: int) -> tuple[list[float], list[float]]:
    limits = httpx.Limits(max_connections=USERS + 2, max_keepalive_connections=USERS + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        r = await client.post("/api/auth/sign-in", json={
            "username": f"u{USERS}", "password": PASSWORD, "kind": "api"})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        await probe(client, headers, asyncio.Event(), most=20)  # warm up
        idle: list[float] = []
        busy: list[float] = []
        for _ in range(rounds):
            idle += await probe(client, headers, asyncio.Event(), most=60)
            stop = asyncio.Event()
            task = asyncio.create_task(probe(client, headers, stop))

            async def sign_in(i: int) -> None:
                answer = await client.post("/api/auth/sign-in", json={
                    "username": f"u{i}", "password": PASSWORD, "kind": "api"})
                assert answer.status_code == 200, answer.text

            await asyncio.gather(*[sign_in(i) for i in range(USERS)])
            stop.set()
            busy += await task
        return idle, busy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    args = p.parse_args()
    rounds = 2 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="rounds-bench-signin-") as tmp:
        data = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        database_url = f"sqlite+aiosqlite:///{data / 'rounds.sqlite3'}"
        env = {**os.environ, "ROUNDS_DATA_DIR": str(data),
               "ROUNDS_DEFINITIONS_DIR": str(REPO / "definitions"),
               "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
               "ROUNDS_SERVER_PORT": str(port)}
        env.pop("ROUNDS_DATABASE_URL", None)
        env.pop("ROUNDS_REDIS_URL", None)
        log = (data / "server.log").open("w")
        server = subprocess.Popen([sys.executable, "-m", "rounds.cli", "up", "--no-worker"],
                                  env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit((data / "server.log").read_text())
                time.sleep(0.2)
            seed(database_url)
            try:
                idle, busy = asyncio.run(measure(url, rounds))
            except Exception:
                print((data / "server.log").read_text()[-6000:], file=sys.stderr)
                raise
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    report(idle, busy, rounds)


def report(idle: list[float], busy: list[float], rounds: int) -> None:
    def ms(x: float) -> str:
        return f"{x * 1000:.1f} ms"

    def p99(xs: list[float]) -> float:
        return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]

    med_i, med_b = statistics.median(idle), statistics.median(busy)
    print(f"{rounds} rounds; {USERS} parallel sign-ins a round; probe GET /api/auth/me")
    for name, xs in (("idle", idle), ("busy", busy)):
        print(f"{name}:  {len(xs)} requests, median {ms(statistics.median(xs))}, "
              f"p99 {ms(p99(xs))}, worst {ms(max(xs))}")
    row: dict[str, Any] = {"median": (med_b / med_i, 10.0),
                           "p99": (p99(busy) / p99(idle), 25.0),
                           "worst": (max(busy) / max(idle), 100.0)}
    for name, (ratio, target) in row.items():
        print(f"concurrent request latency during {USERS} parallel sign-ins / idle latency "
              f"({name}): {ratio:.2f}x (target <= {target:.1f}x)")


if __name__ == "__main__":
    main()
