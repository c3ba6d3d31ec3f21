"""The definition store over real HTTP: meta-schemas, definitions, versions, problem details."""

from __future__ import annotations

from typing import Any

import httpx

from rounds.definitions.schemas import meta_schema
from support.live import add_user, api_token


def test_meta_schemas_are_served(live_server: Any) -> None:
    index = httpx.get(live_server.url + "/api/schemas").json()
    assert set(index) == {"site_kind", "role", "standard", "survey", "okr", "common"}
    got = httpx.get(live_server.url + index["standard"]).json()
    assert got == meta_schema("standard")
    missing = httpx.get(live_server.url + "/api/schemas/planet.json")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "planet" in missing.json()["detail"]


def test_definitions_are_listed_a_page_at_a_time(live_server: Any) -> None:
    page1 = httpx.get(live_server.url + "/api/definitions", params={"per_page": 5}).json()
    page2 = httpx.get(live_server.url + "/api/definitions",
                      params={"per_page": 5, "page": 2}).json()
    assert page1["total"] == page2["total"] >= 18
    assert len(page1["items"]) == 5
    assert not {i["id"] for i in page1["items"]} & {i["id"] for i in page2["items"]}
    standards = httpx.get(live_server.url + "/api/definitions",
                          params={"kind": "standard"}).json()
    assert {i["id"] for i in standards["items"]} == {
        "customer_manager_visit", "market_inspector_patrol", "delivery_service",
        "leader_spot_check", "retailer_conduct_demerits"}


def test_current_version_and_problem_details(live_server: Any) -> None:
    v = httpx.get(live_server.url + "/api/definitions/customer_manager_visit").json()
    assert v["number"] == 1 and v["status"] == "published" and len(v["content_hash"]) == 64
    assert v["content"]["title"]["zh"]
    by_hash = httpx.get(live_server.url +
                        f"/api/definitions/customer_manager_visit/versions/{v['content_hash']}")
    assert by_hash.json()["number"] == 1
    nope = httpx.get(live_server.url + "/api/definitions/no_such_thing")
    assert nope.status_code == 404
    body = nope.json()
    assert body["code"] == "not_found" and body["status"] == 404


def test_invalid_draft_lists_every_error(live_server: Any) -> None:
    draft = {"kind": "standard", "id": "tiny", "title": {"zh": "小"},
             "site_kinds": ["retailer"],
             "sections": [{"id": "s", "title": {"zh": "节", "en": "S"}, "items": [
                 {"id": "a", "type": "check", "title": {"zh": "甲", "en": "A"},
                  "visible_if": {"nope": [1]}},
                 {"id": "b", "type": "text", "weight": 3, "title": {"zh": "乙", "en": "B"}}]}]}
    r = httpx.put(live_server.url + "/api/definitions/tiny/draft", json=draft)
    assert r.status_code == 401  # authoring needs a signed-in author
    add_user(live_server, "author", "administrator")
    auth = api_token(live_server, "author")
    r = httpx.put(live_server.url + "/api/definitions/tiny/draft", json=draft, headers=auth)
    assert r.status_code == 422
    errors = {(e["code"], e["pointer"]) for e in r.json()["errors"]}
    assert ("schema", "/title") in errors
    assert ("unknown_operation", "/sections/0/items/0/visible_if") in errors
    assert ("weight_not_scorable", "/sections/0/items/1/weight") in errors
    # nothing was stored
    assert httpx.get(live_server.url + "/api/definitions/tiny/versions/1").status_code == 404
    check = httpx.post(live_server.url + "/api/definitions-validate", json=draft).json()
    assert check["valid"] is False and len(check["errors"]) == len(r.json()["errors"])
