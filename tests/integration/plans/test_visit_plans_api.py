"""Visit plans and "my day" over real HTTP: generation for site managers, progress per person
in scope (404 that reveals nothing outside it), today's round nearest first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from rounds.db import create_engine, session_factory, transaction
from rounds.runtime.definitions.service import get_version
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import Visit
from support.field import HOME, POSITIONS, FieldServer, field_server

MONTH = datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("plans_api")) as srv:
        yield srv


def call(api: FieldServer, who: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {**(api.tokens[who] if who else {}), **kw.pop("headers", {})}
    return httpx.request(method, api.url + path, headers=headers, timeout=30, **kw)


def add_visit(api: FieldServer, user: str, site: str, at: datetime) -> None:
    """A visit and the form submitted during it (what makes it done)."""
    async def run() -> None:
        engine = create_engine(api.server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                v = Visit(user_id=api.world.users[user], site_id=api.world.sites[site],
                          method="qr", checked_in_at=at,
                          checked_out_at=at + timedelta(minutes=15), duration_s=900,
                          flags={}, flagged=False)
                db.add(v)
                await db.flush()
                version = await get_version(db, "customer_manager_visit")
                db.add(Submission(
                    id=str(uuid.uuid4()), body_hash="0" * 64, user_id=v.user_id,
                    site_id=v.site_id, visit_id=v.id, definition_id=version.definition_id,
                    version_id=version.id, content_hash=version.content_hash, answers={},
                    evidence={}, evaluation={}, submitted_at=at))
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_generating_plans_is_for_site_managers(api: FieldServer) -> None:
    assert call(api, None, "POST", f"/api/plans/{MONTH}/generate").status_code == 401
    for who in ("cm_a", "head_a", "leader", "shop_ra1"):
        refused = call(api, who, "POST", f"/api/plans/{MONTH}/generate")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    first = call(api, "admin", "POST", f"/api/plans/{MONTH}/generate").json()
    assert (first["created"], first["people"]) == (4, 3)
    again = call(api, "admin", "POST", f"/api/plans/{MONTH}/generate").json()
    assert (again["created"], again["updated"], again["removed"], again["unchanged"]) == (
        0, 0, 0, 4)
    bad = call(api, "admin", "POST", "/api/plans/2026-13/generate")
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/month"


def test_month_plans_per_person_in_scope(api: FieldServer) -> None:
    add_visit(api, "cm_a", "RA1", datetime.now(UTC) - timedelta(seconds=5))
    mine = call(api, "cm_a", "GET", f"/api/plans/{MONTH}").json()
    assert [(p["username"], p["planned"], p["done"], p["pending"]) for p in mine["items"]] == [
        ("cm_a", 4, 1, 3)]
    one = call(api, "cm_a", "GET", f"/api/plans/{MONTH}",
               params={"user_id": api.world.users["cm_a"]}).json()["items"][0]
    assert [(s["code"], s["remaining"]) for s in one["sites"]] == [("RA1", 1), ("RA2", 2)]
    assert one["done_ratio"] == 0.25
    head = call(api, "head_a", "GET", f"/api/plans/{MONTH}").json()
    assert {p["username"] for p in head["items"]} == {"cm_a", "mi_a"}
    head_b = call(api, "head_b", "GET", f"/api/plans/{MONTH}").json()
    assert {p["username"] for p in head_b["items"]} == {"cm_b"}
    leader = call(api, "leader", "GET", f"/api/plans/{MONTH}").json()
    assert {p["username"] for p in leader["items"]} == {"cm_a", "cm_b", "mi_a"}
    # Someone else's plan, outside the scope: the same 404 as a user who does not exist.
    cm_b = api.world.users["cm_b"]
    for who in ("cm_a", "head_a", "driver"):
        r = call(api, who, "GET", f"/api/plans/{MONTH}", params={"user_id": cm_b})
        nobody = call(api, who, "GET", f"/api/plans/{MONTH}", params={"user_id": 999999})
        assert r.status_code == nobody.status_code == 404
        same = {"detail": "", "request_id": ""}  # the request id is each request's own
        assert r.json() | same == nobody.json() | same
        assert "cm_b" not in r.text and "RB1" not in r.text
    refused = call(api, "shop_ra1", "GET", f"/api/plans/{MONTH}")
    assert refused.status_code == 403 and "cm_a" not in refused.text
    assert call(api, "cm_a", "GET", "/api/plans/november").status_code == 422


def test_my_day_nearest_first(api: FieldServer) -> None:
    assert call(api, None, "GET", "/api/me/day").status_code == 401
    # RA1 was visited today already (previous test): only RA2 is left for today.
    day = call(api, "cm_a", "GET", "/api/me/day",
               params={"lat": HOME[0], "lng": HOME[1]}).json()
    assert [s["code"] for s in day["stops"]] == ["RA2"] and day["remaining_sites"] == 2
    inspector = call(api, "mi_a", "GET", "/api/me/day",
                params={"lat": HOME[0], "lng": HOME[1]}).json()
    assert [s["code"] for s in inspector["stops"]] == ["RA1"]
    # cm_b has one stop; from RB1 itself it is 0 m away.
    there = call(api, "cm_b", "GET", "/api/me/day",
                 params={"lat": POSITIONS["RB1"][0], "lng": POSITIONS["RB1"][1]}).json()
    assert [(s["code"], s["distance_m"], s["remaining"]) for s in there["stops"]] == [
        ("RB1", 0.0, 2)]
    assert "RA1" not in str(there)
    half = call(api, "cm_a", "GET", "/api/me/day", params={"lat": HOME[0]})
    assert half.status_code == 422 and half.json()["errors"][0]["pointer"] == "/lng"
    for who in ("shop_ra1", "sadmin_a"):  # no check-ins, no round
        assert call(api, who, "GET", "/api/me/day").status_code == 403


def test_my_day_orders_by_distance(api: FieldServer) -> None:
    # mi_a takes RA2 as well: from near RA2, RA2 comes before RA1; from HOME, RA1 first.
    r = call(api, "admin", "POST", f"/api/sites/{api.world.sites['RA2']}/assignments",
             json={"role_id": "market_inspector", "user_id": api.world.users["mi_a"]})
    assert r.status_code == 200
    assert call(api, "admin", "POST", f"/api/plans/{MONTH}/generate").json()["created"] == 1
    from_home = call(api, "mi_a", "GET", "/api/me/day",
                     params={"lat": HOME[0], "lng": HOME[1]}).json()
    assert [s["code"] for s in from_home["stops"]] == ["RA1", "RA2"]
    from_ra2 = call(api, "mi_a", "GET", "/api/me/day",
                    params={"lat": POSITIONS["RA2"][0], "lng": POSITIONS["RA2"][1]}).json()
    assert [s["code"] for s in from_ra2["stops"]] == ["RA2", "RA1"]
    # a page at a time, with the count of the whole list
    second = call(api, "mi_a", "GET", "/api/me/day", params={
        "lat": POSITIONS["RA2"][0], "lng": POSITIONS["RA2"][1], "limit": 1, "page": 2}).json()
    assert [s["code"] for s in second["stops"]] == ["RA1"]
    assert (second["total"], second["offset"]) == (2, 1)
    assert from_ra2["stops"][0]["distance_m"] < from_ra2["stops"][1]["distance_m"]
