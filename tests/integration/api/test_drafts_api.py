"""Drafts are for administrators: anonymous readers and field staff get 404 for a draft
version, and lists, schemas and previews show them published versions only (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.live import LiveServer, add_user, api_token

SECRET = "机密草稿标准"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    live = LiveServer(tmp_path_factory.mktemp("drafts"))
    try:
        add_user(live, "drafter", "administrator")
        add_user(live, "fielder", "customer_manager")
        admin, field = api_token(live, "drafter"), api_token(live, "fielder")
        current = httpx.get(live.url + "/api/definitions/customer_manager_visit").json()
        content = current["content"]
        # a new version of a published standard, and a standard that is only a draft
        changed = {**content, "title": {"zh": SECRET + "二", "en": "Secret draft 2"}}
        r = httpx.put(live.url + "/api/definitions/customer_manager_visit/draft",
                      json=changed, headers=admin)
        assert r.status_code == 200 and r.json()["number"] == 2, r.text
        secret = {**content, "id": "secret_standard", "title": {"zh": SECRET, "en": "Secret"}}
        r = httpx.put(live.url + "/api/definitions/secret_standard/draft", json=secret,
                      headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "draft", r.text
        yield {"url": live.url, "admin": admin, "field": field,
               "draft_hash": r.json()["content_hash"]}
    finally:
        live.stop()


def _readers(s: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {"anonymous": {}, "field user": s["field"]}


def test_a_draft_version_is_404_except_for_administrators(server: dict[str, Any]) -> None:
    url = server["url"]
    paths = ["/api/definitions/customer_manager_visit/versions/2",
             "/api/definitions/secret_standard/versions/1",
             f"/api/definitions/secret_standard/versions/{server['draft_hash']}",
             "/api/forms/secret_standard/schema?version=1",
             "/api/forms/customer_manager_visit/schema?version=2",
             "/forms/secret_standard/preview?version=1",
             "/forms/customer_manager_visit/preview?version=2"]
    for who, headers in _readers(server).items():
        for path in paths:
            r = httpx.get(url + path, headers=headers)
            assert r.status_code == 404, (who, path, r.status_code)
            assert SECRET not in r.text
        # the published version stays readable
        assert httpx.get(url + "/api/definitions/customer_manager_visit/versions/1",
                         headers=headers).status_code == 200
    r = httpx.post(url + "/api/forms/secret_standard/check?version=1", json={"answers": {}})
    assert r.status_code == 404
    for path in paths:
        r = httpx.get(url + path, headers=server["admin"])
        assert r.status_code == 200, (path, r.text)
    got = httpx.get(url + "/api/definitions/secret_standard/versions/1",
                    headers=server["admin"]).json()
    assert got["status"] == "draft" and got["content"]["title"]["zh"] == SECRET


def test_lists_show_drafts_to_administrators_only(server: dict[str, Any]) -> None:
    url = server["url"]
    for who, headers in _readers(server).items():
        listed = httpx.get(url + "/api/definitions", params={"kind": "standard"},
                           headers=headers)
        assert SECRET not in listed.text, who
        items = {i["id"]: i for i in listed.json()["items"]}
        assert "secret_standard" not in items and listed.json()["total"] == len(items)
        cm = items["customer_manager_visit"]
        assert (cm["current_version"], cm["latest_version"], cm["latest_status"]) == (
            1, 1, "published")
        assert "二" not in cm["title"]["zh"]
        assert SECRET not in httpx.get(url + "/forms", headers=headers).text
    admin = httpx.get(url + "/api/definitions", params={"kind": "standard"},
                      headers=server["admin"]).json()
    items = {i["id"]: i for i in admin["items"]}
    assert items["secret_standard"]["latest_status"] == "draft"
    assert items["secret_standard"]["title"]["zh"] == SECRET
    assert items["customer_manager_visit"]["latest_version"] == 2
