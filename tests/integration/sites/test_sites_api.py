"""Sites over real HTTP (a `rounds up` server, on SQLite and on PostgreSQL): scoped lists and
details, 404 that reveals nothing, 403 for what a role lacks, nearest first, history, QR
codes, creating and staffing sites, CSV imports with every row error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.field import HOME, FieldServer, field_server

SCOPES = {
    "cm_a": {"RA1", "RA2"},
    "cm_b": {"RB1"},
    "head_a": {"RA1", "RA2", "TS-A"},
    "head_b": {"RB1"},
    "shop_ra1": {"RA1"},
    "leader": {"RA1", "RA2", "RB1", "TS-A"},
    "sadmin_a": {"RA1", "RA2", "TS-A"},
    "driver": set(),
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("sites_api"),
                      postgres=request.param == "postgres") as srv:
        yield srv


def call(api: FieldServer, who: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {**(api.tokens[who] if who else {}), **kw.pop("headers", {})}
    return httpx.request(method, api.url + path, headers=headers, timeout=30, **kw)


def assert_reveals_nothing(api: FieldServer, who: str, method: str, path: str, site_id: int,
                           **kw: Any) -> None:
    """A site out of scope answers exactly like a site that does not exist: 404."""
    r = call(api, who, method, path, **kw)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    missing = call(api, who, method, path.replace(str(site_id), "999999"), **kw)
    same = {"detail": "", "instance": "", "request_id": ""}  # each request has its own id
    assert r.json() | same == missing.json() | same
    for code in ("RA1", "RA2", "RB1", "TS-A", "Shop", "Transit", "Road"):
        assert code not in r.text


def test_sites_need_a_signed_in_user(api: FieldServer) -> None:
    for path in ("/api/sites", f"/api/sites/{api.world.sites['RA1']}",
                 f"/api/sites/{api.world.sites['RA1']}/history",
                 f"/api/sites/{api.world.sites['RA1']}/qr.svg"):
        r = call(api, None, "GET", path)
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_each_role_lists_and_reads_its_scope_only(api: FieldServer) -> None:
    for who, visible in SCOPES.items():
        listed = call(api, who, "GET", "/api/sites").json()
        assert {s["code"] for s in listed["items"]} == visible, who
        assert listed["total"] == len(visible)
        for code, site_id in api.world.sites.items():
            if code in visible:
                details = call(api, who, "GET", f"/api/sites/{site_id}")
                history = call(api, who, "GET", f"/api/sites/{site_id}/history")
                assert details.status_code == 200 and details.json()["code"] == code
                assert history.status_code == 200 and history.json()["total"] == 0
            else:
                assert_reveals_nothing(api, who, "GET", f"/api/sites/{site_id}", site_id)
                assert_reveals_nothing(api, who, "GET", f"/api/sites/{site_id}/history",
                                       site_id)


def test_site_details_with_assignments_and_no_qr_token(api: FieldServer) -> None:
    r = call(api, "shop_ra1", "GET", f"/api/sites/{api.world.sites['RA1']}").json()
    assert r["site_kind"] == "retailer" and r["site_kind_title"]["zh"] == "卷烟零售户"
    assert r["org_unit_code"] == "area_a1" and r["attributes"]["licence_no"] == "330100000001"
    # The retailer sees who looks after the shop by name, not the staff's user names (half
    # of what signing in takes).
    assert {(a["role_id"], a["username"], a["display_name"]) for a in r["assignments"]} == {
        ("customer_manager", None, "CM_A"), ("market_inspector", None, "MI_A")}
    assert "cm_a" not in str(r) and "mi_a" not in str(r)
    assert "qr_token" not in r


def test_nearest_first_and_filters(api: FieldServer) -> None:
    near = f"{HOME[0]},{HOME[1]}"
    r = call(api, "leader", "GET", "/api/sites", params={"near": near}).json()
    assert [s["code"] for s in r["items"]] == ["RA1", "RA2", "TS-A", "RB1"]
    assert 900 < r["items"][0]["distance_m"] < 1100
    page = call(api, "leader", "GET", "/api/sites",
                params={"near": near, "per_page": 2, "page": 2}).json()
    assert [s["code"] for s in page["items"]] == ["TS-A", "RB1"] and page["total"] == 4
    kinds = call(api, "head_a", "GET", "/api/sites",
                 params={"kind": "logistics_transit_station"}).json()
    assert [s["code"] for s in kinds["items"]] == ["TS-A"]
    q = call(api, "leader", "GET", "/api/sites", params={"q": "rb"}).json()
    assert [s["code"] for s in q["items"]] == ["RB1"]
    unit = call(api, "cm_a", "GET", "/api/sites",
                params={"org_unit_id": api.world.units["st_b"]}).json()
    assert unit["items"] == [] and unit["total"] == 0  # a filter never widens the scope
    bad = call(api, "leader", "GET", "/api/sites", params={"near": "north,east"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/near"


def test_qr_code_for_site_managers_in_scope(api: FieldServer) -> None:
    ra1, rb1 = api.world.sites["RA1"], api.world.sites["RB1"]
    r = call(api, "admin", "GET", f"/api/sites/{ra1}/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in r.text and "RA1 Shop RA1" in r.text
    assert call(api, "sadmin_a", "GET", f"/api/sites/{ra1}/qr.svg").text == r.text
    for who in ("cm_a", "shop_ra1", "head_a", "leader"):  # in scope, but not their job
        refused = call(api, who, "GET", f"/api/sites/{ra1}/qr.svg")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert "RA1" not in refused.text
    assert_reveals_nothing(api, "sadmin_a", "GET", f"/api/sites/{rb1}/qr.svg", rb1)


def test_create_a_site(api: FieldServer) -> None:
    body = {"site_kind": "warehouse", "code": "W-API", "name": "API warehouse",
            "org_unit": "st_a", "lat": 30.3, "lng": 120.3, "address": "Dock 1",
            "attributes": {"capacity_m3": 900, "security": "basic"}}
    refused = call(api, "cm_a", "POST", "/api/sites", json=body)
    assert refused.status_code == 403
    bad = call(api, "admin", "POST", "/api/sites",
               json={**body, "lat": 91, "attributes": {"capacity_m3": "lots", "dock": 1}})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "/lat", "/attributes/capacity_m3", "/attributes/dock", "/attributes/security"}
    out_of_scope = call(api, "sadmin_a", "POST", "/api/sites",
                        json={**body, "site_kind": "retailer", "org_unit": "st_b",
                              "attributes": {}})
    assert out_of_scope.status_code == 422
    assert "/org_unit" in {e["pointer"] for e in out_of_scope.json()["errors"]}
    created = call(api, "admin", "POST", "/api/sites", json=body)
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["code"] == "W-API" and site["attributes"] == {"capacity_m3": 900,
                                                              "security": "basic"}
    assert call(api, "head_a", "GET", f"/api/sites/{site['id']}").status_code == 200
    assert_reveals_nothing(api, "head_b", "GET", f"/api/sites/{site['id']}", site["id"])


def test_assign_staff(api: FieldServer) -> None:
    ra2, rb1 = api.world.sites["RA2"], api.world.sites["RB1"]
    body = {"role_id": "market_inspector", "user_id": api.world.users["mi_a"]}
    refused = call(api, "cm_a", "POST", f"/api/sites/{ra2}/assignments", json=body)
    assert refused.status_code == 403
    assert_reveals_nothing(api, "sadmin_a", "POST", f"/api/sites/{rb1}/assignments", rb1,
                           json=body)
    wrong = call(api, "admin", "POST", f"/api/sites/{ra2}/assignments",
                 json={"role_id": "customer_manager", "user_id": api.world.users["mi_a"]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "wrong_role"
    ok = call(api, "sadmin_a", "POST", f"/api/sites/{ra2}/assignments", json=body)
    assert ok.status_code == 200, ok.text
    assert ("market_inspector", "mi_a") in {(a["role_id"], a["username"])
                                            for a in ok.json()["assignments"]}
    listed = call(api, "mi_a", "GET", "/api/sites").json()
    assert {s["code"] for s in listed["items"]} == {"RA1", "RA2"}
    # A station administrator cannot hand a station-B person a station-A site.
    far = call(api, "sadmin_a", "POST", f"/api/sites/{ra2}/assignments",
               json={"role_id": "customer_manager", "user_id": api.world.users["cm_b"]})
    assert far.status_code == 422 and "cm_b" not in far.text


SITES_CSV = "\n".join([
    "code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,grade,"
    "delivery_cycle,business_type,customer_manager",
    "R30,Shop 30,retailer,area_a1,30.26,120.16,30 Road,330100000030,Shop 30,Wang,5,weekly,"
    "grocery,cm_a",
    "R31,Shop 31,retailer,area_a1,91,120.16,31 Road,3301,Shop 31,Li,5,weekly,grocery,cm_a",
    "R32,Shop 32,retailer,st_b,30.3,120.2,32 Road,330100000032,Shop 32,Zhao,7,biweekly,"
    "supermarket,",
    "R33,Shop 33,retailer,area_a1,30.2,120.1,33 Road,330100000033,,Qian,5,monthly,grocery,"
    "head_a",
])


def test_import_sites(api: FieldServer) -> None:
    count = call(api, "leader", "GET", "/api/sites").json()["total"]
    files = {"file": ("sites.csv", SITES_CSV.encode(), "text/csv")}
    for who in ("cm_a", "head_a", "leader"):
        refused = call(api, who, "POST", "/api/imports/sites", files=files)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    r = call(api, "admin", "POST", "/api/imports/sites", files=files)
    assert r.status_code == 422 and r.json()["code"] == "import_invalid"
    assert [e["pointer"] for e in r.json()["errors"]] == [
        "/rows/3/lat", "/rows/3/licence_no", "/rows/5/shop_name", "/rows/5/delivery_cycle",
        "/rows/5/customer_manager"]
    assert call(api, "leader", "GET", "/api/sites").json()["total"] == count  # nothing
    # The same file as a text/csv body, skipping the bad rows.
    ok = call(api, "admin", "POST", "/api/imports/sites", params={"skip_bad_rows": "true"},
              content=SITES_CSV.encode(), headers={"Content-Type": "text/csv"})
    assert ok.status_code == 200, ok.text
    report = ok.json()
    assert (report["imported"], report["rows"], report["created"]) == (2, 4, ["R30", "R32"])
    assert {e["row"] for e in report["errors"]} == {3, 5}
    assert call(api, "leader", "GET", "/api/sites").json()["total"] == count + 2
    mine = {s["code"] for s in call(api, "cm_a", "GET", "/api/sites").json()["items"]}
    assert "R30" in mine and "R32" not in mine
    # A station administrator's import cannot reach station B.
    scoped = call(api, "sadmin_a", "POST", "/api/imports/sites",
                  files={"file": ("s.csv", SITES_CSV.replace("R3", "R4").encode())})
    assert "/rows/4/org_unit" in {e["pointer"] for e in scoped.json()["errors"]}
