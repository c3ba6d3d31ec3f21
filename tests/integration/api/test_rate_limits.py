"""The anonymous requests that cost CPU (a definition validated, a form's body checked, a
closed campaign's public record) are limited per client address (ROUNDS_CHECKS_PER_MINUTE):
past the limit a 429 problem with Retry-After, each route with its own budget, and nothing
else limited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.fieldwork import STANDARD
from support.live import LiveServer

LIMIT = 3
VALIDATE = "/api/definitions-validate"
CHECK = f"/api/forms/{STANDARD}/check"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(Path(tmp_path_factory.mktemp("limits")),
                      env={"ROUNDS_CHECKS_PER_MINUTE": str(LIMIT)})
    yield live
    live.stop()


def _too_many(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 429 and body["code"] == "too_many_requests"
    assert body["instance"] == r.request.url.path
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.headers["content-security-policy"]  # the security headers, as on any answer


def test_past_the_limit_a_check_gets_429_with_retry_after(server: LiveServer) -> None:
    draft = {"kind": "survey", "id": "x"}  # invalid, which costs the same to find out
    for _ in range(LIMIT):
        r = httpx.post(server.url + VALIDATE, json=draft)
        assert r.status_code == 200 and r.json()["valid"] is False
        assert r.headers["ratelimit-limit"] == str(LIMIT)
    _too_many(httpx.post(server.url + VALIDATE, json=draft))

    # The form check has a budget of its own, whichever form is checked.
    for _ in range(LIMIT):
        r = httpx.post(server.url + CHECK, json={"answers": {}})
        assert r.status_code in (200, 422), r.text
    _too_many(httpx.post(server.url + CHECK, json={"answers": {}}))
    _too_many(httpx.post(server.url + "/api/forms/retailer_satisfaction/check",
                         json={"answers": {}}))


def test_other_endpoints_are_not_limited(server: LiveServer) -> None:
    for _ in range(LIMIT * 3):
        for path in ("/api/health", "/api/definitions", f"/api/definitions/{STANDARD}"):
            r = httpx.get(server.url + path)
            assert r.status_code == 200, (path, r.text)
            assert "ratelimit-limit" not in r.headers


def test_the_document_names_the_429(server: LiveServer) -> None:
    doc = httpx.get(server.url + "/api/docs/openapi.json").json()
    for path in (VALIDATE, "/api/forms/{definition_id}/check"):
        assert "429" in doc["paths"][path]["post"]["responses"], path
    assert "429" not in doc["paths"]["/api/definitions"]["get"]["responses"]


def test_a_campaign_s_public_record_is_limited_and_the_list_is_not(server: LiveServer
                                                                    ) -> None:
    """No campaign is closed here: each ask is a 404, which costs the same queries."""
    for path in ("/public/campaigns/7", "/api/public/campaigns/7"):
        for _ in range(LIMIT):
            assert httpx.get(server.url + path).status_code == 404
        _too_many(httpx.get(server.url + path))
    # The page, its CSV and its XLSX share the page's route and so its budget.
    _too_many(httpx.get(server.url + "/public/campaigns/8.csv"))
    for _ in range(LIMIT * 2):
        assert httpx.get(server.url + "/public/campaigns").status_code == 200
        assert httpx.get(server.url + "/api/public/campaigns").status_code == 200
