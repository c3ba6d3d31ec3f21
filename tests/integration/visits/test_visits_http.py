"""Check-in over real HTTP, against a `rounds up` server on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from support.fieldwork import Live, count_rows, live_city, north_of


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("visits"), request.param) as city:
        yield city


def _client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=30)


def _close_open_visit(c: httpx.Client) -> None:
    current = c.get("/api/visits/current").json()["visit"]
    if current:
        assert c.post(f"/api/visits/{current['id']}/check-out").status_code == 200


@pytest.mark.parametrize(("metres", "accuracy", "flags"), [
    (15, 10, []), (600, 10, ["far"]), (15, 200, ["poor_accuracy"])])
def test_gps_check_in_flags_but_never_refuses(live: Live, metres: float, accuracy: float,
                                              flags: list[str]) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)
        lat, lng = north_of("shop_a", metres)
        r = c.post("/api/visits", json={"site_id": live.field.sites["shop_a"],
                                         "gps": {"lat": lat, "lng": lng, "accuracy_m": accuracy}})
        assert r.status_code == 201, r.text
        v = r.json()
        assert v["method"] == "gps" and v["open"] and v["flags"] == flags
        assert v["flagged"] is bool(flags)
        assert v["distance_m"] == pytest.approx(metres, abs=0.5)
        assert v["position"] == {"lat": lat, "lng": lng, "accuracy_m": accuracy}
        assert v["site"]["code"] == "shop_a" and v["checked_in_at"]
        assert c.get("/api/visits/current").json()["visit"]["id"] == v["id"]
        out = c.post(f"/api/visits/{v['id']}/check-out")
        assert out.status_code == 200
        assert out.json()["duration_s"] >= 0 and not out.json()["open"]
        assert c.get("/api/visits/current").json() == {"visit": None}


def test_qr_check_in_second_open_visit_and_check_out(live: Live) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)
        r = c.post("/api/visits", json={"qr_token": live.field.qr["shop_a"]})
        assert r.status_code == 201, r.text
        visit = r.json()
        assert visit["method"] == "qr" and visit["flags"] == [] and visit["position"] is None
        again = c.post("/api/visits", json={"site_id": live.field.sites["shop_a"],
                                             "gps": {"lat": 31.2304, "lng": 121.4737,
                                                     "accuracy_m": 5}})
        assert again.status_code == 409
        problem = again.json()
        assert again.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "visit_open" and problem["open_visit"]["id"] == visit["id"]
        assert problem["open_visit"]["check_out"] == f"/api/visits/{visit['id']}/check-out"
        out = c.post(f"/api/visits/{visit['id']}/check-out")
        assert out.status_code == 200 and isinstance(out.json()["duration_s"], int)
        twice = c.post(f"/api/visits/{visit['id']}/check-out")
        assert twice.status_code == 409 and twice.json()["code"] == "visit_closed"


def test_sites_out_of_scope_are_404(live: Live) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)
        for payload in ({"site_id": live.field.sites["shop_b"]},
                        {"qr_token": live.field.qr["shop_b"]}, {"site_id": 424242}):
            r = c.post("/api/visits", json=payload)
            assert r.status_code == 404 and r.json()["code"] == "not_found", payload


def test_roles_without_visit_check_in_get_403(live: Live) -> None:
    for who in ("qian", "admin"):
        with _client(live, who) as c:
            r = c.post("/api/visits", json={"site_id": live.field.sites["shop_a"]})
            assert r.status_code == 403 and r.json()["code"] == "forbidden", who


def test_another_customer_manager_gets_404_for_my_visit(live: Live) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)
        far = north_of("shop_a", 900)
        visit = c.post("/api/visits", json={
            "site_id": live.field.sites["shop_a"],
            "gps": {"lat": far[0], "lng": far[1], "accuracy_m": 5}}).json()
        assert c.get(f"/api/visits/{visit['id']}").status_code == 200
        mine = c.get("/api/visits", params={"mine": "true", "per_page": 2}).json()
        assert mine["items"][0]["id"] == visit["id"] and mine["total"] >= 1
        assert c.get("/api/visits/flagged").status_code == 403  # not a supervisor
        assert c.get("/api/visits", params={"mine": "false"}).status_code == 403
    with _client(live, "wang") as c:
        r = c.get(f"/api/visits/{visit['id']}")
        assert r.status_code == 404
        assert c.get(f"/api/visits/{visit['id']}/forms").status_code == 404
        assert c.post(f"/api/visits/{visit['id']}/check-out").status_code == 404
    with _client(live, "zhao") as c:  # the north station head supervises shop A
        assert c.get(f"/api/visits/{visit['id']}").json()["flags"] == ["far"]
        in_scope = c.get("/api/visits", params={"mine": "false"}).json()["items"]
        assert visit["id"] in [v["id"] for v in in_scope]
        assert {v["site"]["code"] for v in in_scope} <= {"shop_a", "shop_c"}
        flagged = c.get("/api/visits/flagged").json()
        assert visit["id"] in [v["id"] for v in flagged["items"]]
        assert all(v["flagged"] and v["site"]["code"] != "shop_b" for v in flagged["items"])


def test_forms_of_a_visit_link_to_their_schema(live: Live) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)
        visit = c.post("/api/visits", json={"qr_token": live.field.qr["shop_a"]}).json()
        forms = c.get(f"/api/visits/{visit['id']}/forms").json()
        # The role's standards first, then its surveys (the market survey campaigns' form).
        assert [f["definition_id"] for f in forms["forms"]] == ["customer_manager_visit",
                                                                "market_price_stock"]
        f = forms["forms"][0]
        current = c.get("/api/definitions/customer_manager_visit").json()
        assert (f["version"], f["content_hash"]) == (current["number"], current["content_hash"])
        form = c.get(f["links"]["form"]).json()
        assert form["content_hash"] == f["content_hash"]
        assert form["schema"]["properties"]["answers"]["properties"]["brands_in_stock"]
        assert form["ctx"]["visit"]["id"] == visit["id"] and form["ctx"]["site"]["grade"] == "3"
        schema = c.get(f["links"]["schema"])
        assert schema.status_code == 200
        assert schema.json()["x-rounds-version"]["content_hash"] == f["content_hash"]
        assert c.get(f["links"]["preview"]).status_code == 200
        main = c.get(f"/api/visits/{visit['id']}/form").json()
        assert main["definition_id"] == "customer_manager_visit" and main["ctx"] == form["ctx"]


def test_racing_check_ins_over_http_open_one_visit(live: Live) -> None:
    with _client(live, "zhang") as c:
        _close_open_visit(c)

    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=live.url, headers=live.auth["zhang"],
                                     timeout=60) as c:
            rs = await asyncio.gather(*(c.post("/api/visits", json={
                "qr_token": live.field.qr["shop_a"]}) for _ in range(20)))
        return [r.status_code for r in rs]

    codes = asyncio.run(race())
    assert sorted(set(codes)) == [201, 409] and codes.count(201) == 1, codes
    assert count_rows(live.database_url(), "visits",
                      f"user_id = {live.field.users['zhang']} AND checked_out_at IS NULL") == 1
