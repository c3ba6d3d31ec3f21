"""The visit in the browser's rules: the form filled during a visit gets the server's ctx
(the visit's date in the company's time zone, the site's attributes), so a rule comparing an
answer date with ``ctx.visit.date`` shows and hides the same items live as the server
decides on submit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from support.browser import sign_in
from support.fieldwork import PASSWORD, Field, seed_database
from support.live import LiveServer, api_token
from support.visit_rules import FIRE_SAFETY_ID, definitions_with_fire_safety

pytestmark = pytest.mark.browser
SHOTS = Path("/work/wt/shots/visits")


def zone_off_utc_date() -> str:
    now = datetime.now(UTC)
    return "Pacific/Kiritimati" if (now.hour, now.minute) >= (10, 30) else "Pacific/Pago_Pago"


@dataclass
class Ready:
    url: str
    zone: str
    field: Field
    visit_id: int
    auth: dict[str, str]


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ready]:
    data = tmp_path_factory.mktemp("visit-rules")
    zone = zone_off_utc_date()
    server = LiveServer(data / "server", definitions=definitions_with_fire_safety(data),
                        env={"ROUNDS_TIMEZONE": zone})
    try:
        # Playwright's sync API keeps an event loop in this thread: seed from another.
        with ThreadPoolExecutor(1) as pool:
            field = pool.submit(seed_database, server.database_url).result()
        auth = api_token(server, "zhang", PASSWORD)
        r = httpx.post(server.url + "/api/visits", headers=auth,
                       json={"qr_token": field.qr["shop_a"]})
        assert r.status_code == 201, r.text
        yield Ready(server.url, zone, field, int(r.json()["id"]), auth)
    finally:
        server.stop()


def test_a_rule_on_the_visit_date_agrees_live_and_on_the_server(
        ready: Ready, page: Any, page_errors: list[str]) -> None:
    today = datetime.now(ZoneInfo(ready.zone)).date()
    yesterday = date.fromordinal(today.toordinal() - 1)
    form_path = f"/visits/{ready.visit_id}/forms/{FIRE_SAFETY_ID}?lang=en"
    sign_in(page, ready.url, "zhang", form_path)
    note = page.locator('[data-item="replacement_note"]')
    visit_day = page.locator('[data-item="visit_day"] [data-calc]')
    # The visit's date is the company's (not UTC's), as on the server.
    assert visit_day.inner_text().startswith(today.isoformat() + " ")
    assert page.locator('[data-item="shop_grade"] [data-calc]').inner_text() == "3"
    date_input = page.locator('[data-item="extinguisher_expires"] input').first
    date_input.fill(yesterday.isoformat())
    date_input.dispatch_event("change")
    note.wait_for(state="visible")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "visit-form-expired-en-390.png"), full_page=True)
    date_input.fill(today.isoformat())
    date_input.dispatch_event("change")
    note.wait_for(state="hidden")
    # The server decides the same: expired yesterday needs the note, today does not.
    version = httpx.get(f"{ready.url}/api/definitions/{FIRE_SAFETY_ID}").json()["content_hash"]

    def submit(answers: dict[str, Any]) -> httpx.Response:
        return httpx.post(ready.url + "/api/submissions", headers=ready.auth, json={
            "id": str(uuid.uuid4()), "definition_id": FIRE_SAFETY_ID, "version": version,
            "visit_id": ready.visit_id, "answers": answers})

    refused = submit({"extinguisher_expires": yesterday.isoformat()})
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/answers/replacement_note"]
    assert submit({"extinguisher_expires": today.isoformat()}).status_code == 201
    assert not page_errors
