"""Over HTTP, on a real server: with the extension enabled its pages and API answer and a
refused step is a problem document with its stable code (403 wrong person, 409 wrong state,
422 naming each field, 404 for an application out of sight); without it, none of it is
there and the core's definitions stand on their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from extensions.retail_licence import city as c
from support.fieldwork import png_bytes
from support.live import LiveServer, in_database


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, c.City]]:
    server = LiveServer(tmp_path_factory.mktemp("rl-api"),
                        env={"ROUNDS_EXTENSIONS_ENABLED": "retail_licence"})
    try:
        yield server, in_database(server.database_url, c.seed)
    finally:
        server.stop()


def client(server: LiveServer, username: str) -> httpx.Client:
    h = httpx.Client(base_url=server.url, timeout=30)
    r = h.post("/api/auth/sign-in", json={"username": username, "password": c.PASSWORD})
    assert r.status_code == 200, r.text
    h.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return h


def apply(h: httpx.Client, seed: int) -> dict[str, Any]:
    docs = [{"kind": kind, "photo_id": h.post("/api/photos", files={
        "file": ("d.png", png_bytes(seed + i), "image/png")}).json()["id"]}
            for i, kind in enumerate(("id_card", "premises_proof"))]
    lat, lng = c.north_of(c.SHOP_AT, 100)
    r = h.post("/api/licence-applications", json={
        "shop_name": "新店", "address": "芙蓉中路 5 号", "owner_name": "陈",
        "business_type": "grocery", "market_area": "rural", "lat": lat, "lng": lng,
        "documents": docs})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_problems_over_http(live: tuple[LiveServer, c.City]) -> None:
    server, town = live
    applicant, other = client(server, c.APPLICANT), client(server, c.OTHER)
    head, inspector = client(server, c.HEAD), client(server, c.INSPECTOR)
    app = apply(applicant, 60)
    base = f"/api/licence-applications/{app['id']}"
    assert app["state"] == "submitted"

    r = applicant.post("/api/licence-applications", json={"shop_name": "", "lat": 200})
    assert r.status_code == 422
    assert {e["pointer"] for e in r.json()["errors"]} >= {
        "/shop_name", "/address", "/owner_name", "/business_type", "/market_area",
        "/position", "/documents/id_card", "/documents/premises_proof"}

    r = applicant.post(f"{base}/check-documents", json={})  # not the applicant's step
    assert (r.status_code, r.json()["code"]) == (403, "licence_not_your_step")
    r = head.post(f"{base}/decide", json={"decision": "grant"})  # not yet
    assert (r.status_code, r.json()["code"]) == (409, "licence_wrong_state")
    assert other.get(base).status_code == 404  # another applicant's: not found
    doc = app["documents"][0]["photo_id"]
    assert head.get(f"/api/photos/{doc}").status_code == 200  # the unit's reviewer sees it
    assert other.get(f"/api/photos/{doc}").status_code == 404  # nobody else does
    assert inspector.get(f"/api/photos/{doc}").status_code == 404  # not sent: not yet
    assert other.get(f"/licence-applications/{app['id']}").status_code == 404

    r = head.post(f"{base}/check-documents", json={"version": app["version"]})
    assert r.status_code == 200 and r.json()["state"] == "documents_checked"
    r = head.post(f"{base}/check-documents", json={})  # twice: the state has moved on
    assert (r.status_code, r.json()["code"]) == (409, "licence_wrong_state")
    r = head.post(f"{base}/schedule-inspection", json={"inspector_id": town.users[c.OTHER],
                                                        "on": "2000-01-01"})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/inspector_id", "unknown_inspector"), ("/on", "date_min")}
    r = inspector.get(f"/licence-applications/{app['id']}/inspect")
    assert r.status_code == 404  # not sent yet: out of the inspector's sight

    r = applicant.post(f"{base}/withdraw", json={"version": app["version"]})  # stale
    assert (r.status_code, r.json()["code"]) == (409, "licence_wrong_state")
    r = applicant.post(f"{base}/withdraw", json={})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    r = applicant.post(f"{base}/withdraw", json={})
    assert (r.status_code, r.json()["code"]) == (409, "licence_wrong_state")

    for path in ("/licence-applications", "/licence-applications/new",
                 f"/licence-applications/{app['id']}", "/static/retail_licence/licence.js"):
        assert applicant.get(path).status_code == 200, path
    page = head.get(f"/licence-applications/{app['id']}?lang=en").text
    assert "Withdrew the application" in page and "撤回" not in page
    assert head.get("/licence-applications/new").status_code == 403  # reviewers do not apply


def test_without_the_extension_nothing_of_it_is_there(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "plain")
    try:
        for path in ("/api/licence-applications", "/licence-applications",
                     "/static/retail_licence/licence.js"):
            assert httpx.get(server.url + path).status_code == 404, path
        assert httpx.get(server.url + "/api/definitions/retail_licence_inspection"
                         ).status_code in (401, 404)
    finally:
        server.stop()
