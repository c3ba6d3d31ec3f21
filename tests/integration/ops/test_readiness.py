"""/api/ready and `rounds doctor` against real things: a `rounds up` server on a PostgreSQL
database that stops taking connections and then takes them again, with Redis; a broker that
is not there; the command's output and exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from support.fieldwork import pg_admin
from support.live import REPO, LiveServer, free_port, redis_database, wait_until

EMBEDDED = {"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""}


def _ready(server: LiveServer) -> httpx.Response:
    return httpx.get(server.url + "/api/ready", timeout=30)


def _failed(r: httpx.Response) -> dict[str, dict[str, Any]]:
    """The failed checks of a 503, by name."""
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "not_ready"
    return {e["source"]: e for e in problem["errors"]}


def _connections(database: str, allowed: bool) -> None:
    """Let PostgreSQL take connections to ``database`` again, or refuse them and end the
    ones open (as a stopped or unreachable database would)."""
    pg_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
    if not allowed:
        pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{database}'")


def test_readiness_follows_the_database(tmp_path: Path, postgres_url: str) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    with redis_database() as redis_url:
        server = LiveServer(tmp_path, database_url=postgres_url,
                            env={"ROUNDS_REDIS_URL": redis_url, "ROUNDS_JOBS_BROKER_URL": ""})
        try:
            r = _ready(server)
            assert r.status_code == 200, r.text
            checks = {c["name"]: c for c in r.json()["checks"]}
            assert r.json()["status"] == "ready"
            assert set(checks) == {"database", "migrations", "broker", "redis"}
            assert all(c["ok"] for c in checks.values())
            assert database in checks["database"]["detail"]

            _connections(database, allowed=False)
            try:
                failed = _failed(wait_until(lambda: _ready(server).status_code == 503
                                            and _ready(server), timeout=30,
                                            what="503 once the database is away"))
                assert failed["database"]["code"] == "database_unavailable"
                assert database in failed["database"]["message"]  # it names the database
                assert "migrations" in failed  # not known without the database
                assert "broker" not in failed and "redis" not in failed
                # Liveness is another question: the process itself is fine.
                assert httpx.get(server.url + "/api/health").status_code == 200
            finally:
                _connections(database, allowed=True)
            wait_until(lambda: _ready(server).status_code == 200, timeout=30,
                       what="200 once the database is back")
            # The connections the outage broke went back to the pool's count too (0 once
            # no request or poll holds one).
            wait_until(lambda: "\nrounds_db_pool_connections_in_use 0.0\n"
                       in httpx.get(server.url + "/metrics").text, timeout=20,
                       what="no pool connection counted in use")
        finally:
            server.stop()


def test_a_broker_that_is_not_there_is_named_without_its_password(tmp_path: Path) -> None:
    broker = f"redis://:broker-secret@127.0.0.1:{free_port()}/0"
    server = LiveServer(tmp_path, env={**EMBEDDED, "ROUNDS_JOBS_BROKER_URL": broker})
    try:
        r = _ready(server)
        failed = _failed(r)
        assert set(failed) == {"broker"}
        assert failed["broker"]["code"] == "broker_unavailable"
        assert "127.0.0.1" in failed["broker"]["message"]
        assert "broker-secret" not in r.text and "***" in failed["broker"]["message"]
    finally:
        server.stop()


def _doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **EMBEDDED, "ROUNDS_DATA_DIR": str(tmp_path),
               "PYTHONIOENCODING": "utf-8", **env}
    return subprocess.run([sys.executable, "-m", "rounds.cli", "doctor"], env=environ,
                          check=False, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_doctor_prints_each_check_and_fails_when_one_does(tmp_path: Path,
                                                          postgres_url: str) -> None:
    # A fresh database that was never migrated: the database answers, the schema does not.
    fresh = _doctor(tmp_path, ROUNDS_DATABASE_URL=postgres_url)
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    lines = {line.split()[1]: line for line in fresh.stdout.splitlines() if line[:1] in "✓✗"}
    assert lines["database"].startswith("✓")
    assert lines["migrations"].startswith("✗") and "rounds db upgrade" in lines["migrations"]
    assert lines["broker"].startswith("✓")
    assert "not ready: migrations" in fresh.stderr

    from rounds.migrate import upgrade

    upgrade(postgres_url)
    ok = _doctor(tmp_path, ROUNDS_DATABASE_URL=postgres_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [line[0] for line in ok.stdout.splitlines()[:3]] == ["✓", "✓", "✓"]
    assert ok.stdout.splitlines()[-1] == "ready"

    broker = f"amqp://guest:amqp-secret@127.0.0.1:{free_port()}//"
    down = _doctor(tmp_path, ROUNDS_DATABASE_URL=postgres_url, ROUNDS_JOBS_BROKER_URL=broker)
    assert down.returncode == 1
    (line,) = [ln for ln in down.stdout.splitlines() if " broker " in ln]
    assert line.startswith("✗") and "amqp://guest:***@127.0.0.1" in line
    assert "amqp-secret" not in down.stdout + down.stderr
