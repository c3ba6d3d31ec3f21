"""People and org units over real HTTP: the tree per scope, users for user managers only,
404 that reveals nothing outside the manager's scope, passwords, deactivation, CSV imports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.field import PASSWORD, FieldServer, field_server
from support.live import add_user, api_token


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("people_api")) as srv:
        add_user(srv.server, "visitor", "consumer", org_unit="city")
        srv.tokens["visitor"] = api_token(srv.server, "visitor")
        yield srv


def call(api: FieldServer, who: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {**(api.tokens[who] if who else {}), **kw.pop("headers", {})}
    return httpx.request(method, api.url + path, headers=headers, timeout=30, **kw)


def codes(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["code"], codes(n["children"])) for n in nodes]


def assert_reveals_nothing(api: FieldServer, who: str, method: str, path: str, user_id: int,
                           **kw: Any) -> None:
    r = call(api, who, method, path, **kw)
    assert r.status_code == 404, r.text
    missing = call(api, who, method, path.replace(str(user_id), "999999"), **kw)
    same = {"detail": "", "instance": "", "request_id": ""}  # each request has its own id
    assert r.json() | same == missing.json() | same
    assert "cm_b" not in r.text and "CM_B" not in r.text


def test_org_units_as_far_as_the_scope_goes(api: FieldServer) -> None:
    assert call(api, None, "GET", "/api/org-units").status_code == 401
    full = [("city", [("st_a", [("area_a1", [])]), ("st_b", [])])]
    assert codes(call(api, "leader", "GET", "/api/org-units").json()["items"]) == full
    assert codes(call(api, "head_a", "GET", "/api/org-units").json()["items"]) == [
        ("st_a", [("area_a1", [])])]
    assert codes(call(api, "head_b", "GET", "/api/org-units").json()["items"]) == [
        ("st_b", [])]
    assert codes(call(api, "cm_a", "GET", "/api/org-units").json()["items"]) == [
        ("area_a1", [])]
    refused = call(api, "visitor", "GET", "/api/org-units")
    assert refused.status_code == 403 and "st_a" not in refused.text


def test_users_for_user_managers_in_their_scope(api: FieldServer) -> None:
    for who in ("cm_a", "head_a", "leader", "shop_ra1", "visitor"):
        refused = call(api, who, "GET", "/api/users")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert "cm_b" not in refused.text
        assert call(api, who, "GET", f"/api/users/{api.world.users['cm_a']}").status_code == 403
    everyone = call(api, "admin", "GET", "/api/users", params={"per_page": 100}).json()
    assert everyone["total"] == len(api.world.users) + 1
    page = call(api, "admin", "GET", "/api/users",
                params={"role": "customer_manager"}).json()
    assert [u["username"] for u in page["items"]] == ["cm_a", "cm_b"]
    station = call(api, "sadmin_a", "GET", "/api/users").json()
    assert {u["username"] for u in station["items"]} == {
        "head_a", "cm_a", "mi_a", "driver", "shop_ra1", "sadmin_a"}
    one = call(api, "sadmin_a", "GET", f"/api/users/{api.world.users['cm_a']}").json()
    assert one["org_unit_code"] == "area_a1" and "password_hash" not in one
    cm_b = api.world.users["cm_b"]
    assert_reveals_nothing(api, "sadmin_a", "GET", f"/api/users/{cm_b}", cm_b)


def test_create_users(api: FieldServer) -> None:
    body = {"username": "cm_new", "role_id": "customer_manager", "org_unit": "area_a1",
            "display_name": "New"}
    assert call(api, "cm_a", "POST", "/api/users", json=body).status_code == 403
    far = call(api, "sadmin_a", "POST", "/api/users", json={**body, "org_unit": "st_b"})
    assert far.status_code == 422 and far.json()["errors"][0]["pointer"] == "/org_unit"
    bad = call(api, "admin", "POST", "/api/users",
               json={**body, "username": "cm_a", "role_id": "wizard", "password": "short"})
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/username", "/role_id",
                                                            "/password"}
    created = call(api, "sadmin_a", "POST", "/api/users", json=body)
    assert created.status_code == 201, created.text
    password = created.json()["password"]
    assert created.json()["user"]["username"] == "cm_new" and len(password) >= 12
    assert api_token(api.server, "cm_new", password)


def test_passwords_and_deactivation(api: FieldServer) -> None:
    cm_b, driver = api.world.users["cm_b"], api.world.users["driver"]
    for path in (f"/api/users/{driver}/password", f"/api/users/{driver}/deactivate"):
        assert call(api, "cm_a", "POST", path, json={"password": "x" * 10}).status_code == 403
    assert_reveals_nothing(api, "sadmin_a", "POST", f"/api/users/{cm_b}/password", cm_b,
                           json={"password": "another-pass"})
    assert_reveals_nothing(api, "sadmin_a", "POST", f"/api/users/{cm_b}/deactivate", cm_b)
    old = api_token(api.server, "driver", PASSWORD)
    r = call(api, "sadmin_a", "POST", f"/api/users/{driver}/password",
             json={"password": "another-pass"})
    assert r.status_code == 200, r.text
    assert httpx.get(api.url + "/api/auth/me", headers=old).status_code == 401
    fresh = api_token(api.server, "driver", "another-pass")
    assert httpx.get(api.url + "/api/auth/me", headers=fresh).status_code == 200
    gone = call(api, "sadmin_a", "POST", f"/api/users/{driver}/deactivate")
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert httpx.get(api.url + "/api/auth/me", headers=fresh).status_code == 401
    again = httpx.post(api.url + "/api/auth/sign-in",
                       json={"username": "driver", "password": "another-pass"})
    assert again.status_code == 401


def test_import_users_and_org_units(api: FieldServer) -> None:
    units = "code,parent,kind,name_zh,name_en\nst_c,city,station,丙所,Station C\n" \
            "area_c1,st_c,area,丙一片,Area C1\nbroken,nowhere,area,,\n"
    for path in ("/api/imports/org-units", "/api/imports/users"):
        for who in ("cm_a", "head_a", "leader"):
            r = call(api, who, "POST", path, content=units.encode(),
                      headers={"Content-Type": "text/csv"})
            assert r.status_code == 403, (path, who)
    r = call(api, "admin", "POST", "/api/imports/org-units",
             files={"file": ("units.csv", units.encode("utf-8-sig"), "text/csv")})
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == [
        "/rows/4/parent", "/rows/4/name_zh", "/rows/4/name_en"]
    # A station administrator cannot add units under the city (nor learn they exist).
    scoped = call(api, "sadmin_a", "POST", "/api/imports/org-units",
                  files={"file": ("units.csv", units.encode())})
    assert "/rows/2/parent" in {e["pointer"] for e in scoped.json()["errors"]}
    ok = call(api, "admin", "POST", "/api/imports/org-units", params={"skip_bad_rows": True},
              files={"file": ("units.csv", units.encode())})
    assert ok.status_code == 200 and ok.json()["created"] == ["st_c", "area_c1"]

    users = "username,display_name,role,org_unit,password\n" \
            "cm_c,Chen,customer_manager,area_c1,\n" \
            "cm_d,Du,customer_manager,area_c1,tiny\n"
    bad = call(api, "admin", "POST", "/api/imports/users", content=users.encode(),
               headers={"Content-Type": "text/csv"})
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/rows/3/password"]
    good = call(api, "admin", "POST", "/api/imports/users?skip_bad_rows=true",
                content=users.encode(), headers={"Content-Type": "text/csv"}).json()
    assert good["created"] == ["cm_c"] and set(good["passwords"]) == {"cm_c"}
    assert api_token(api.server, "cm_c", good["passwords"]["cm_c"])
    missing = call(api, "admin", "POST", "/api/imports/users",
                   files={"other": ("x.txt", b"", "text/plain")}, data={"a": "b"})
    assert missing.status_code == 422
