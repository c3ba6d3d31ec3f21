"""A user's error report names a request id; the operator finds every line it caused.

Real processes writing JSON log lines (ROUNDS_LOG_FORMAT=json): a `rounds up` server and a
`rounds worker`. The request id goes from the request's access line to the job its
response started (the submission's issues, made after the response), to a Celery task sent
while it was bound, and into problem responses; a password never reaches the log."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import structlog
from jobs_helpers import open_visit_for, poor_body, prepare

from support.fieldwork import PASSWORD
from support.live import LiveServer, LiveWorker, api_token, wait_until

JSON_LOGS = {"ROUNDS_LOG_FORMAT": "json", "ROUNDS_LOG_LEVEL": "info",
             "ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""}


def _lines(log: Path) -> list[dict[str, Any]]:
    """The log's JSON lines (Celery's start-up banner and `rounds up`'s own progress lines
    are printed, not logged: they are skipped)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def _of(log: Path, request_id: str) -> list[dict[str, Any]]:
    return [line for line in _lines(log) if line.get("request_id") == request_id]


def test_a_request_id_is_followed_from_the_request_to_its_jobs_and_problems(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    server = LiveServer(data, env=JSON_LOGS)
    worker: LiveWorker | None = None
    try:
        url = server.database_url
        prepare(url, migrate=False)
        version, photo, visit = open_visit_for(url, tmp_path / "photos")
        token = api_token(server, "zhang", PASSWORD)

        # Every line the server writes is one JSON object with the fields an operator
        # filters on.
        lines = _lines(server.log)
        assert lines
        for line in lines:
            assert {"timestamp", "level", "logger", "event", "process", "pid"} <= set(line)
            assert line["timestamp"].endswith("Z") or "+00:00" in line["timestamp"]
        assert {line["process"] for line in lines} == {"api"}

        # A submission with failed items, under the client's own request id: the access
        # line, and the line of the issues made after the response, have it.
        mine = "report-" + uuid.uuid4().hex[:12]
        r = httpx.post(server.url + "/api/submissions", content=poor_body(version, photo, visit),
                       headers={**token, "Content-Type": "application/json",
                                "X-Request-ID": mine}, timeout=30)
        assert r.status_code == 201, r.text
        assert r.headers["X-Request-ID"] == mine
        submission = r.json()["id"]

        def made() -> list[dict[str, Any]]:
            return [line for line in _of(server.log, mine)
                    if line["event"].startswith("issues made")]

        issues_line = wait_until(made, timeout=30, what="the issues' log line")[0]
        assert submission in issues_line["event"]
        access = [line for line in _of(server.log, mine) if line["logger"] == "rounds.access"]
        assert len(access) == 1  # one access line, not uvicorn's as well
        assert access[0]["method"] == "POST" and access[0]["path"] == "/api/submissions"
        assert access[0]["status"] == 201 and access[0]["duration_ms"] >= 0
        assert isinstance(access[0]["user_id"], int)

        # A request id that is not sane is not taken (nor logged): the server makes one.
        r = httpx.get(server.url + "/api/health", headers={"X-Request-ID": "forged id <x>"})
        made_id = r.headers["X-Request-ID"]
        assert made_id != "forged id <x>" and len(made_id) == 32
        assert "forged" not in server.log.read_text()

        # A bad request: the problem body names the request id of the header and the log.
        r = httpx.post(server.url + "/api/submissions", content=b"{not json",
                       headers={**token, "Content-Type": "application/json"}, timeout=30)
        assert 400 <= r.status_code < 500
        assert r.headers["content-type"].startswith("application/problem+json")
        problem_id = r.json()["request_id"]
        assert problem_id == r.headers["X-Request-ID"]
        failed = wait_until(lambda: _of(server.log, problem_id), timeout=10,
                            what="the bad request's line")
        assert any(line["status"] == r.status_code for line in failed
                   if line["logger"] == "rounds.access")
        # An unknown path too (it never reaches a route).
        r = httpx.get(server.url + "/api/no-such-thing", headers=token)
        assert r.status_code == 404 and r.json()["request_id"] == r.headers["X-Request-ID"]

        # A task sent while a request id is bound (as a request handler would) carries it
        # to a real worker, whose lines about the task have it.
        from rounds.jobs.celery_app import create_celery
        from rounds.settings import load_settings

        worker = LiveWorker(data, url, beat=False, name="logs", env=JSON_LOGS)
        sender = create_celery(load_settings(
            {"ROUNDS_DATA_DIR": str(data), "ROUNDS_DATABASE_URL": url}))
        sent = "job-" + uuid.uuid4().hex[:12]
        try:
            with structlog.contextvars.bound_contextvars(request_id=sent):
                sender.send_task("rounds.ping", args=["pong"])
        finally:
            sender.close()
        done = wait_until(lambda: [line for line in _of(worker.log, sent)
                                   if "succeeded" in line["event"]], timeout=60,
                          what="the task's line in the worker's log")
        assert done[0]["process"] == "worker" and done[0]["task"] == "rounds.ping"
        # and the next task, sent without one, does not inherit it
        sender = create_celery(load_settings(
            {"ROUNDS_DATA_DIR": str(data), "ROUNDS_DATABASE_URL": url}))
        try:
            sender.send_task("rounds.ping", args=["again"])
        finally:
            sender.close()
        again = wait_until(lambda: [line for line in _lines(worker.log)
                                    if "succeeded" in line["event"] and "again" in
                                    line["event"]], timeout=60, what="the second task")
        assert "request_id" not in again[0]
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def test_a_password_is_never_logged(tmp_path: Path) -> None:
    data = tmp_path / "var"
    server = LiveServer(data, env=JSON_LOGS)
    try:
        prepare(server.database_url, migrate=False)
        secret = "Sup3r-secret-" + uuid.uuid4().hex[:8]
        # A sign-in that fails (the password was wrong) and one that works; a bearer token
        # and a password in the query string.
        r = httpx.post(server.url + "/api/auth/sign-in",
                       json={"username": "zhang", "password": secret, "kind": "api"})
        assert r.status_code in (401, 422), r.text
        assert r.json()["request_id"] == r.headers["X-Request-ID"]
        token = api_token(server, "zhang", PASSWORD)
        bearer = token["Authorization"].split()[1]
        httpx.get(server.url + f"/api/health?password={secret}&token={bearer}",
                  headers=token)
        httpx.get(server.url + "/api/notifications", headers={"Authorization": "Bearer " + secret})
        server.stop()
        text = server.log.read_text(errors="replace")
        assert _lines(server.log)
        assert secret not in text and PASSWORD not in text and bearer not in text
    finally:
        server.stop()
