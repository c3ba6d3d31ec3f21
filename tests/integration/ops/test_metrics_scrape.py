"""/metrics on a real `rounds up` server with a real worker beside it (the embedded default:
one SQLite database, the broker a SQLite file): one scrape of the API process shows what
both processes counted — submissions accepted and rejected, requests by route, the jobs the
worker ran, live streams open — and it is refused to whoever may not read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.fieldwork import STANDARD, Live, body, good_answers, live_city, png_bytes
from support.live import LiveServer, LiveWorker, event_stream, free_port, wait_until

TOKEN = "scrape-token-for-tests"
EMBEDDED = {"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": ""}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("metrics"), "sqlite",
                   env={**EMBEDDED, "ROUNDS_METRICS_TOKEN": TOKEN}) as city:
        yield city


def scrape(url: str) -> Samples:
    r = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_submission_accepted_and_one_rejected_are_counted(live: Live) -> None:
    before = scrape(live.url)
    with live.client("zhang") as c:
        visit = live.visit(c)
        r = c.post("/api/photos", files={"file": ("shop.png", png_bytes(3), "image/png")})
        photo = r.json()["id"]
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        accepted = c.post("/api/submissions", json=body(
            str(uuid.uuid4()), version, good_answers(photo), visit_id=visit))
        assert accepted.status_code == 201, accepted.text
        rejected = c.post("/api/submissions", content=b'{"id": 5}')
        assert rejected.status_code == 422
    after = scrape(live.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("rounds_submissions_total", outcome="accepted") == 1
    assert grew("rounds_submissions_total", outcome="rejected") == 1
    # Requests by route template (not by address) and status, with their latency.
    route = "/api/submissions"
    assert grew("rounds_http_requests_total", method="POST", route=route, status="201") == 1
    assert grew("rounds_http_requests_total", method="POST", route=route, status="422") == 1
    assert grew("rounds_http_request_duration_seconds_count", method="POST", route=route) == 2
    assert value(after, "rounds_http_requests_total", method="GET",
                 route="/api/definitions/{definition_id}", status="200") >= 1
    assert ("rounds_db_pool_connections_in_use", frozenset()) in after


async def test_an_open_live_stream_is_counted_until_it_closes(live: Live) -> None:
    stream = live.url + "/api/notifications/stream"
    async with event_stream(stream, live.auth["li"]):
        assert value(scrape(live.url), "rounds_live_streams_open") == 1
    wait_until(lambda: value(scrape(live.url), "rounds_live_streams_open") == 0,
               timeout=20, what="the stream counted closed")


def test_the_jobs_a_worker_runs_show_in_the_servers_scrape(live: Live) -> None:
    before = scrape(live.url)
    assert value(before, "rounds_reconcile_age_seconds") == float("inf")  # none yet
    assert value(before, "rounds_store_refresh_age_seconds") == float("inf")
    assert ("rounds_jobs_queued", frozenset({("queue", "celery")})) in before
    data = Path(live.server.log).parent  # the server's data folder: broker and metrics
    worker = LiveWorker(data, live.database_url(), name="metrics",
                        env={**EMBEDDED, "ROUNDS_JOBS_RECONCILE_SECONDS": "1"})
    try:
        task = frozenset({("task", "rounds.reconcile")})

        def reconciled() -> Samples | None:
            now = scrape(live.url)
            return now if now.get(("rounds_job_duration_seconds_count", task), 0) >= 2 else None

        after = wait_until(reconciled, timeout=90, interval=1, what="two reconciles counted")
    finally:
        worker.stop()
    assert value(after, "rounds_jobs_run_total", task="rounds.reconcile") >= 2
    assert value(after, "rounds_jobs_failed_total", task="rounds.reconcile") == 0
    assert 0 <= value(after, "rounds_reconcile_age_seconds") < 60
    # The reconcile refreshes the query store, which the scrape reads from the database.
    assert 0 <= value(after, "rounds_store_refresh_age_seconds") < 60
    # Counted in the worker's process, still there once it has stopped.
    assert value(scrape(live.url), "rounds_jobs_run_total", task="rounds.reconcile") >= 2


def test_the_token_is_required_when_set(live: Live) -> None:
    assert httpx.get(live.url + "/metrics").status_code == 401
    wrong = httpx.get(live.url + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert TOKEN not in wrong.text


def test_outside_the_operators_networks_metrics_are_404_and_readiness_says_less(
        tmp_path: Path) -> None:
    """ROUNDS_METRICS_ALLOW_FROM names the operators' networks: from elsewhere /metrics is
    not there, and /api/ready names the failed checks without hosts or errors."""
    broker = f"redis://:broker-secret@127.0.0.1:{free_port()}/0"
    server = LiveServer(tmp_path, env={**EMBEDDED, "ROUNDS_METRICS_ALLOW_FROM": "10.0.0.0/8",
                                       "ROUNDS_METRICS_TOKEN": "",
                                       "ROUNDS_JOBS_BROKER_URL": broker})
    try:
        r = httpx.get(server.url + "/metrics")
        assert r.status_code == 404
        assert "rounds_" not in r.text
        ready = httpx.get(server.url + "/api/ready", timeout=30)
        assert ready.status_code == 503
        (failed,) = ready.json()["errors"]
        assert (failed["source"], failed["code"], failed["message"]) == (
            "broker", "broker_unavailable", "unavailable")
        assert "127.0.0.1" not in ready.text and "secret" not in ready.text
    finally:
        server.stop()
