"""Check campaigns over real HTTP, against a `rounds up` server on SQLite and on PostgreSQL:
a bad spec stores nothing; a draw is stored and verifies from its published record; a
re-draw needs its reason and keeps the first; nobody draws a site they serve; the drawn
inspector checks in at the drawn site (out of their scope), it is in their day, their
submission's failed items become issues and progress counts it; someone not drawn cannot
check in there; a closed campaign refuses every change."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from rounds.draws import DrawResult, decode_inputs, verify
from support.fieldwork import STANDARD, Live, body, count_rows, live_city, png_bytes, poor_answers


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("campaigns"), request.param) as city:
        yield city


def spec(**changes: Any) -> dict[str, Any]:
    today = dt.date.today()
    # From two days back: the scope compares with the database's date, whatever its zone.
    out: dict[str, Any] = {
        "standard": STANDARD,
        "population": {"site_kinds": ["retailer"]},
        "sample": {"count": 3},
        "pool": {"roles": ["customer_manager"]},
        "team_size": 1,
        "period": {"start": (today - dt.timedelta(days=2)).isoformat(),
                   "end": (today + dt.timedelta(days=30)).isoformat()}}
    return out | changes


def client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def teams(record: dict[str, Any]) -> dict[int, list[int]]:
    return {d["site"]: d["team"] for s in record["result"]["strata"] for d in s["drawn"]}


def verifies(record: dict[str, Any]) -> bool:
    inputs = decode_inputs(json.loads(record["inputs"]))
    return verify(inputs, bytes.fromhex(record["seed"]),
                  msgspec.convert(record["result"], DrawResult))


def test_a_bad_spec_gives_every_mistake_and_stores_nothing(live: Live) -> None:
    with client(live, "li") as c:
        bad = spec(sample={"count": 0}, team_size=3, pool={"roles": []},
                   period={"start": "2026-05-01", "end": "2026-04-01"}, colour="red")
        r = c.post("/api/campaigns", json={"title": "Spring checks", "spec": bad})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "campaign_invalid"
        # Every mistake at once, each at its pointer into the spec.
        assert {p["pointer"] for p in r.json()["errors"]} == {
            "/colour", "/sample/count", "/team_size", "/pool/roles", "/period/end"}
        r = c.post("/api/campaigns", json={"title": "Spring checks",
                                           "spec": spec(standard="no_such_standard")})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/standard"
        # The pool's roles must exist and work with the campaign's form: staff of a role
        # without it would be refused at their first submission, after the draw.
        r = c.post("/api/campaigns", json={"title": "Spring checks", "spec": spec(
            pool={"roles": ["customer_manager", "no_such_role", "delivery_staff"]})})
        assert r.status_code == 422, r.text
        assert [(p["pointer"], p["code"]) for p in r.json()["errors"]] == [
            ("/pool/roles/1", "unknown_reference"), ("/pool/roles/2", "role_without_form")]
    assert count_rows(live.database_url(), "check_campaigns") == 0
    with client(live, "zhang") as c:  # a customer manager may not run campaigns
        r = c.post("/api/campaigns", json={"title": "Mine", "spec": spec()})
        assert r.status_code == 403, r.text


def test_a_campaign_drawn_worked_and_closed(live: Live) -> None:
    users, sites, qr = live.field.users, live.field.sites, live.field.qr
    zhang, wang = users["zhang"], users["wang"]
    with client(live, "zhang") as c:  # before the draw, shop B is not zhang's
        r = c.post("/api/visits", json={"qr_token": qr["shop_b"]})
        assert r.status_code == 404, r.text
    with client(live, "li") as c:
        r = c.post("/api/campaigns", json={"title": "Double random", "spec": spec()})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert r.json()["status"] == "draft"
        r = c.post(f"/api/campaigns/{cid}/draws", json={})
        assert r.status_code == 201, r.text
        first = c.get(f"/api/campaigns/{cid}/draws/1").json()
        assert verifies(first) and not first["superseded"]
        assert first["inputs_digest"] == first["result"]["inputs_digest"]
        drawn = teams(first)
        assert set(drawn) == {sites["shop_a"], sites["shop_b"], sites["shop_c"]}
        # Nobody draws a site they serve: each shop's customer manager is elsewhere.
        assert drawn[sites["shop_a"]] == [wang] and drawn[sites["shop_b"]] == [zhang]
        # Drawn: the spec is in the published inputs and cannot change.
        r = c.patch(f"/api/campaigns/{cid}", json={"title": "Renamed"})
        assert r.status_code == 409 and r.json()["code"] == "campaign_drawn"
        # A re-draw needs its reason, and keeps the first.
        r = c.post(f"/api/campaigns/{cid}/draws", json={})
        assert r.status_code == 422 and r.json()["code"] == "redraw_reason", r.text
        r = c.post(f"/api/campaigns/{cid}/draws", json={"reason": "an inspector left"})
        assert r.status_code == 201, r.text
        second = r.json()
        assert second["number"] == 2 and second["reason"] == "an inspector left"
        again = c.get(f"/api/campaigns/{cid}/draws/1").json()
        assert again["superseded"] and again["seed"] == first["seed"]
        assert again["inputs"] == first["inputs"] and verifies(again)
        assert verifies(c.get(f"/api/campaigns/{cid}/draws/2").json())
        listed = c.get(f"/api/campaigns/{cid}").json()
        assert [(d["number"], d["superseded_by_number"]) for d in listed["draws"]] == [
            (1, 2), (2, None)]
    now = teams(second)
    assert now[sites["shop_b"]] == [zhang] and now[sites["shop_a"]] == [wang]
    not_drawn_at_c = "wang" if now[sites["shop_c"]] == [zhang] else "zhang"

    with client(live, "zhang") as c:
        day = c.get("/api/me/day").json()
        stop = next(s for s in day["stops"] if s["site_id"] == sites["shop_b"])
        assert stop["campaign_id"] == cid and stop["campaign_title"] == "Double random"
        page = c.get("/today", params={"lang": "en"})
        assert page.status_code == 200, page.text
        assert "A check of the campaign “Double random”" in page.text
        mine = c.get("/api/me/campaign-visits").json()
        assert sites["shop_b"] in {v["site_id"] for v in mine}
        r = c.post("/api/visits", json={"qr_token": qr["shop_b"]})  # out of own scope
        assert r.status_code == 201, r.text
        visit = r.json()["id"]
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        up = c.post("/api/photos", files={"file": ("p.png", png_bytes(3), "image/png")})
        assert up.status_code == 201, up.text
        answers, evidence = poor_answers(str(up.json()["id"]))
        doc = body(str(uuid.uuid4()), version, answers, evidence=evidence, visit_id=visit)
        r = c.post("/api/submissions", json=doc)
        assert r.status_code == 201, r.text
        assert r.json()["failed_items"]
        c.post(f"/api/visits/{visit}/check-out")
        day = c.get("/api/me/day").json()  # submitted: off the day
        assert sites["shop_b"] not in {s["site_id"] for s in day["stops"]
                                       if s.get("campaign_id") == cid}
    assert count_rows(live.database_url(), "issues", f"submission_id = '{doc['id']}'") > 0
    with client(live, not_drawn_at_c) as c:
        r = c.post("/api/visits", json={"qr_token": qr["shop_c"]})
        assert r.status_code == 404, r.text

    with client(live, "li") as c:
        progress = c.get(f"/api/campaigns/{cid}/progress").json()
        assert progress["draw_number"] == 2
        [row] = progress["strata"]
        assert (row["stratum"], row["drawn"], row["visited"], row["submitted"],
                row["passed"], row["failed"]) == ("all", 3, 1, 1, 0, 1)
        assert row["issues_raised"] > 0 and row["issues_done"] == 0
        assert row["mean_score"] is not None
        drawn_sites = {s["site_id"]: s for s in c.get(f"/api/campaigns/{cid}/sites").json()}
        assert set(drawn_sites) == {sites["shop_a"], sites["shop_b"], sites["shop_c"]}
        checked = drawn_sites[sites["shop_b"]]
        assert checked["submission_id"] == doc["id"] and checked["passed"] is False
        assert checked["team"] == [zhang] and checked["issues_raised"] == row["issues_raised"]
        assert not drawn_sites[sites["shop_a"]]["submitted"]
        r = c.post(f"/api/campaigns/{cid}/close")
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text
        for r in (c.post(f"/api/campaigns/{cid}/draws", json={"reason": "again"}),
                  c.patch(f"/api/campaigns/{cid}", json={"title": "Renamed"}),
                  c.post(f"/api/campaigns/{cid}/close")):
            assert r.status_code == 409 and r.json()["code"] == "campaign_closed", r.text
        assert len(c.get(f"/api/campaigns/{cid}").json()["draws"]) == 2
    with client(live, "zhang") as c:  # closed: shop B is out of zhang's scope again
        r = c.post("/api/visits", json={"qr_token": qr["shop_b"]})
        assert r.status_code == 404, r.text
        assert c.get("/api/me/campaign-visits").json() == []
