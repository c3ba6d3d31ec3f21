"""The public record of a closed campaign in Chromium, as an anonymous visitor on a phone
(390×844): the list, the record (its strata, sites and outcomes, the draws' verification
block), the language switch, the CSV download parsed; no script runs (the pages have
none) and nothing breaks the Content-Security-Policy. Each page is photographed in zh and
en, at 390 and 1366 wide, into $ROUNDS_SHOTS (default /work/wt/shots/publish)."""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import io
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from support.fieldwork import STANDARD, Live, body, live_city, png_bytes, poor_answers

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/wt/shots/publish"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _closed_campaign(live: Live) -> int:
    """A campaign drawn, re-drawn with its reason, one site checked (failed), closed; its
    inspectors named."""
    today = dt.date.today()
    spec = {"standard": STANDARD, "population": {"site_kinds": ["retailer"]},
            "sample": {"count": 3}, "pool": {"roles": ["customer_manager"]},
            "period": {"start": (today - dt.timedelta(days=2)).isoformat(),
                       "end": (today + dt.timedelta(days=30)).isoformat()},
            "publication": {"inspectors": "names"}}
    with live.client("li") as c:
        cid = int(c.post("/api/campaigns", json={"title": "城区零售户双随机抽查",
                                                 "spec": spec}).json()["id"])
        c.post(f"/api/campaigns/{cid}/draws", json={})
        record = c.post(f"/api/campaigns/{cid}/draws",
                        json={"reason": "一名客户经理调离"}).json()
    users = {v: k for k, v in live.field.users.items()}
    shops = {v: k for k, v in live.field.sites.items()}
    site, team = next((d["site"], d["team"]) for s in record["result"]["strata"]
                      for d in s["drawn"] if d["team"])
    with live.client(users[team[0]]) as c:
        visit = c.post("/api/visits", json={"qr_token": live.field.qr[shops[site]]}).json()
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        up = c.post("/api/photos", files={"file": ("p.png", png_bytes(7), "image/png")})
        answers, evidence = poor_answers(str(up.json()["id"]))
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, answers,
                                                  evidence=evidence, visit_id=visit["id"]))
        assert r.status_code == 201, r.text
    with live.client("li") as c:
        assert c.post(f"/api/campaigns/{cid}/close").status_code == 200
    return cid


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, int]]:
    # Seeded in a thread of its own: Playwright keeps an event loop in this one.
    with ExitStack() as stack, concurrent.futures.ThreadPoolExecutor(1) as pool:
        live = pool.submit(stack.enter_context, live_city(
            tmp_path_factory.mktemp("public_browser"), "sqlite")).result()
        yield live, pool.submit(_closed_campaign, live).result()


def _context(browser: Any, viewport: dict[str, int], errors: list[str]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text else None)
    return page


def test_an_anonymous_visitor_on_a_phone(browser: Any, city: tuple[Live, int]) -> None:
    live, cid = city
    errors: list[str] = []
    page = _context(browser, PHONE, errors)
    page.goto(f"{live.url}/public/campaigns")
    assert page.locator("h1").inner_text() == "双随机抽查结果公示"
    page.get_by_role("link", name="城区零售户双随机抽查").click()
    page.wait_for_url(f"{live.url}/public/campaigns/{cid}?lang=zh")
    rows = page.locator("table[data-sites] tbody tr")
    assert rows.count() == 3
    assert page.locator("tr[data-outcome=failed]").count() == 1
    assert "不合格" in page.locator("tr[data-outcome=failed]").inner_text()
    assert page.locator("[data-draw]").count() == 2
    assert page.locator("[data-draw='1'] [data-seed]").inner_text() != \
        page.locator("[data-draw='2'] [data-seed]").inner_text()
    # Nothing wider than the phone but the tables, which scroll inside their own box, down
    # to 320 px.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{live.url}/public/campaigns/{cid}?lang=en")
    assert "Failed" in page.locator("tr[data-outcome=failed]").inner_text()
    assert page.locator("h2#s-verify").inner_text() == "Verify the draw"
    with page.expect_download() as caught:  # from the keyboard
        page.locator("[data-export=csv]").focus()
        page.keyboard.press("Enter")
    download = caught.value
    assert download.suggested_filename == f"campaign-{cid}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["Code", "Retailer", "Outcome"] and table[0][-1] == "Inspectors"
    assert sorted(r[2] for r in table[1:]) == ["Failed", "Not checked", "Not checked"]
    # The pages need no script: none is loaded.
    assert page.locator("script[src]").count() == 0
    assert not errors, errors
    page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_screenshots(browser: Any, city: tuple[Live, int], lang: str, size: str) -> None:
    live, cid = city
    errors: list[str] = []
    page = _context(browser, PHONE if size == "phone" else DESKTOP, errors)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (("list", "/public/campaigns"), ("record", f"/public/campaigns/{cid}")):
        page.goto(f"{live.url}{path}?lang={lang}")
        page.screenshot(path=str(SHOTS / f"public_{name}_{lang}_{size}.png"), full_page=True)
    assert not errors, errors
    page.context.close()
