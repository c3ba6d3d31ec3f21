"""One "today" everywhere, over real HTTP on SQLite and PostgreSQL: with ROUNDS_TIMEZONE set
to a zone whose date is not UTC's right now, the form check endpoint and the submission give
rules the same ``ctx.today`` and ``ctx.visit.date`` (the company's), and list what they
dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from support.fieldwork import PASSWORD, Field, postgres_database, seed_database
from support.live import LiveServer, api_token
from support.visit_rules import FIRE_SAFETY_ID, definitions_with_fire_safety


def zone_off_utc_date() -> str:
    """A zone whose date differs from UTC's now, with at least half an hour to spare:
    UTC+14 from 10:30 UTC on, UTC-11 before."""
    now = datetime.now(UTC)
    return "Pacific/Kiritimati" if (now.hour, now.minute) >= (10, 30) else "Pacific/Pago_Pago"


@dataclass
class Server:
    url: str
    zone: str
    field: Field
    auth: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("today")
    zone = zone_off_utc_date()
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgres" else None
        live = LiveServer(data / "server", database_url=url,
                          definitions=definitions_with_fire_safety(data),
                          env={"ROUNDS_TIMEZONE": zone})
        stack.callback(live.stop)
        field = seed_database(live.database_url)
        yield Server(live.url, zone, field, api_token(live, "zhang", PASSWORD))


def _local_today(zone: str) -> str:
    return datetime.now(ZoneInfo(zone)).date().isoformat()


def test_check_and_submit_agree_on_today_in_the_company_time_zone(server: Server) -> None:
    today = _local_today(server.zone)
    assert today != datetime.now(UTC).date().isoformat()  # the point of the zone chosen
    with httpx.Client(base_url=server.url, headers=server.auth, timeout=60) as c:
        r = c.post("/api/visits", json={"qr_token": server.field.qr["shop_a"]})
        assert r.status_code == 201, r.text
        visit_id = r.json()["id"]
        version = c.get(f"/api/definitions/{FIRE_SAFETY_ID}").json()["content_hash"]
        answers: dict[str, Any] = {"extinguisher_expires": "2099-01-01",
                                   "replacement_note": "not needed"}
        # Without a visit: ctx.today only.
        plain = c.post(f"/api/forms/{FIRE_SAFETY_ID}/check", json={"answers": answers})
        assert plain.status_code == 200, plain.text
        assert plain.json()["calculated"]["today_is"] == today
        # With the visit: the same ctx the submission will have.
        checked = c.post(f"/api/forms/{FIRE_SAFETY_ID}/check?visit_id={visit_id}&lang=en",
                         json={"answers": answers})
        assert checked.status_code == 200, checked.text
        got = checked.json()
        assert got["calculated"]["today_is"] == today
        assert got["calculated"]["visit_day"].startswith(today + " ")
        assert got["calculated"]["shop_grade"] == "3"
        assert got["dropped"] == [{"pointer": "/answers/replacement_note", "reason": "hidden"}]
        submitted = c.post("/api/submissions", json={
            "id": str(uuid.uuid4()), "definition_id": FIRE_SAFETY_ID, "version": version,
            "visit_id": visit_id, "answers": answers})
        assert submitted.status_code == 201, submitted.text
        stored = submitted.json()
        assert stored["calculated"] == got["calculated"]
        assert stored["dropped"] == got["dropped"]
        # Expired the day before the visit, in the company's calendar: failed, both ways.
        yesterday = date.fromordinal(date.fromisoformat(today).toordinal() - 1).isoformat()
        expired = {"extinguisher_expires": yesterday, "replacement_note": "ordered"}
        checked = c.post(f"/api/forms/{FIRE_SAFETY_ID}/check?visit_id={visit_id}",
                         json={"answers": expired}).json()
        assert [f["item"] for f in checked["failed"]] == ["extinguisher_expires"]
        submitted = c.post("/api/submissions", json={
            "id": str(uuid.uuid4()), "definition_id": FIRE_SAFETY_ID, "version": version,
            "visit_id": visit_id, "answers": expired})
        assert [f["item"] for f in submitted.json()["failed_items"]] == ["extinguisher_expires"]


def test_a_visit_needs_its_signed_in_owner(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        r = anonymous.post(f"/api/forms/{FIRE_SAFETY_ID}/check?visit_id=1",
                           json={"answers": {"extinguisher_expires": "2099-01-01"}})
    assert r.status_code == 404
