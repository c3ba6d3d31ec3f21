"""The field staff's pages in Chromium on a phone: sign in, my day nearest first, check in by
GPS, fill the customer manager's visit form with photos, the result, check out.

A server of its own (its users' visits and failed sign-ins must not meet other tests'), seeded
through the services straight into its database: a station with customer managers and
retailers around the position the browser reports.
"""

from __future__ import annotations

import asyncio
import io
import math
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image

from rounds.rules.alerts import format_number
from support.field import retailer_attributes
from support.fieldwork import png_bytes
from support.live import LiveServer, in_database

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)  # where the browser is (tests/browser/conftest.py)
TODAY_SHOT = Path("/tmp/rounds-today.png")
RESULT_SHOT = Path("/tmp/rounds-result.png")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ANY_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / 6_371_008.8 * 180 / math.pi, HERE[1]


# code: (name, metres north of HERE, customer manager). Names sort in another order than
# distances, so "nearest first" cannot pass by accident.
SHOPS = {
    "R1": ("Shop Alpha 阿尔法烟酒", 1500, "cm_main"),
    "R2": ("Shop Bravo 布拉沃便利", 400, "cm_main"),
    "R3": ("Shop Charlie 查理商行", 40, "cm_main"),
    "R4": ("Shop Delta 德尔塔超市", 5000, "cm_far"),
}
PEOPLE = {"cm_main": "zh", "cm_far": "en", "cm_pw": "zh"}


@dataclass
class Seeded:
    server: LiveServer
    users: dict[str, int]
    sites: dict[str, int]
    qr: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


def seed(server: LiveServer) -> Seeded:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site
    from rounds.runtime.visits.plans import generate_month_plans, month_of

    async def run() -> Seeded:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                                      name_en="East station", parent_code="city")
                users = {}
                for name, lang in PEOPLE.items():
                    user = await create_user(db, username=name, display_name=f"客户经理 {name}",
                                             role_id="customer_manager", org_unit_code="east",
                                             password=PASSWORD, language=lang)
                    users[name] = user.id
                sites, qr = {}, {}
                for code, (name, metres, manager) in SHOPS.items():
                    lat, lng = north(metres)
                    site = await create_site(db, None, site_kind="retailer", code=code,
                                             name=name, lat=lat, lng=lng, org_unit="east",
                                             address=f"芙蓉中路 {metres} 号",
                                             attributes=retailer_attributes(code))
                    await db.flush()
                    sites[code], qr[code] = site.id, site.qr_token
                    db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                          user_id=users[manager]))
                await db.flush()
                # the server's month: plans and "today" are in the company's time zone
                month = month_of(datetime.now(ZoneInfo("Asia/Shanghai")).date())
                await generate_month_plans(db, month)
            return Seeded(server, users, sites, qr)
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop running in this thread: seed from another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server = LiveServer(tmp_path_factory.mktemp("fieldwork-server"))
    try:
        yield seed(server)
    finally:
        server.stop()


def sign_in(page: Any, url: str, username: str, password: str = PASSWORD,
            next_path: str = "/today") -> None:
    page.goto(f"{url}/sign-in?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[data-sign-in-form] button[type=submit]")


def wait_today(page: Any, url: str) -> None:
    # not "**/today": that also matches the sign-in page's "?next=/today"
    page.wait_for_url(re.compile(re.escape(url) + r"/today(\?.*)?$"))


def check_out(page: Any, button: Any, url: str) -> None:
    """Check out and wait for the navigation to today's page it makes (the page may be
    on /today already)."""
    with page.expect_navigation(url=re.compile(re.escape(url) + r"/today\?lang=\w+$")):
        button.click()


def stop_names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator("[data-stop] .fw-site").all_inner_texts()]


def item(page: Any, item_id: str) -> Any:
    return page.locator(f'[data-item="{item_id}"]').first


def draw_signature(page: Any) -> None:
    pad = page.locator("#f-retailer_signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 110, steps=5)
    page.mouse.move(box["x"] + 240, box["y"] + 50, steps=5)
    page.mouse.up()


def upload(page: Any, selector: str, path: Path, holder: Any) -> None:
    """Choose a photo and wait until the server has it (the thumbnail says so)."""
    page.set_input_files(selector, str(path))
    holder.locator("figure[data-upload=done]").first.wait_for(timeout=15000)


def test_anonymous_visitors_are_sent_to_sign_in(field: Seeded, page: Any,
                                                page_errors: list[str]) -> None:
    for path in ("/today", "/me/submissions", "/visits/1", "/submissions/x"):
        r = httpx.get(field.url + path, follow_redirects=False,
                      headers={"Accept": "text/html"})
        assert r.status_code == 303, (path, r.status_code)
        assert r.headers["location"] == "/sign-in?next=" + path.replace("/", "%2F")
    # the API keeps answering with its 401 problem document
    api = httpx.get(field.url + "/api/visits/current")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    # in the browser: /today → sign-in → back to /today
    page.goto(f"{field.url}/today?lang=en")
    page.wait_for_url("**/sign-in?next=*")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("#username", "cm_far")
    page.fill("#password", PASSWORD)
    page.click("form[data-sign-in-form] button[type=submit]")
    page.wait_for_url("**/today?lang=en")
    assert page.locator("h1").inner_text() == "My day"
    assert not page_errors


def test_a_wrong_password_and_then_too_many(field: Seeded, page: Any,
                                            page_errors: list[str]) -> None:
    sign_in(page, field.url, "cm_pw", "not-the-password")
    error = page.locator("[data-sign-in-error]")
    error.wait_for()
    assert error.inner_text() == "用户名或密码不对。"
    assert page.url.startswith(f"{field.url}/sign-in")
    for _ in range(4):  # five failures in the window: the sixth attempt has to wait
        page.fill("#password", "still-wrong")
        with page.expect_response("**/api/auth/sign-in"):
            page.click("form[data-sign-in-form] button[type=submit]")
    # Many failures later the wait has grown to its longest (the throttle's own state, as a
    # long guessing run from this address leaves it: no test waits that long).
    def longest_wait(db: Any) -> Any:
        from sqlalchemy import update

        from rounds.runtime.people import throttle
        from rounds.runtime.people.models import SignInThrottle

        key = throttle.key(throttle.PAIR, "cm_pw", "ip", "127.0.0.1").key
        return db.execute(update(SignInThrottle).where(SignInThrottle.key == key).values(
            attempts=30, next_at=time.time() + throttle.PAIR.cap_s))

    in_database(field.server.database_url, longest_wait)
    page.fill("#password", PASSWORD)  # even the right password waits now
    with page.expect_response("**/api/auth/sign-in") as answer:
        page.click("form[data-sign-in-form] button[type=submit]")
    assert answer.value.status == 429
    page.wait_for_function(
        "document.querySelector('[data-sign-in-error]').textContent.includes('分钟')")
    assert "请 15 分钟后再试" in error.inner_text()
    # in English too
    page.goto(f"{field.url}/sign-in?lang=en")
    page.fill("#username", "cm_pw")
    page.fill("#password", PASSWORD)
    page.click("form[data-sign-in-form] button[type=submit]")
    page.wait_for_function(
        "document.querySelector('[data-sign-in-error]').textContent.includes('minutes')")
    assert error.inner_text() == "Too many failed sign-ins. Try again in 15 minutes."
    assert not page_errors


def test_a_visit_from_check_in_to_check_out(field: Seeded, page: Any, tmp_path: Path,
                                            page_errors: list[str]) -> None:
    sign_in(page, field.url, "cm_main")
    wait_today(page, field.url)
    assert page.locator("html").get_attribute("lang") == "zh-CN"  # the account's language
    # nearest first, from the browser's position; the plan's own order is by name
    page.wait_for_selector("[data-day][data-sorted=near]")
    assert stop_names(page) == [SHOPS[c][0] for c in ("R3", "R2", "R1")]
    distances = page.locator("[data-stop] [data-distance]").all_inner_texts()
    assert distances == ["40 米", "400 米", "1.5 公里"]
    assert page.locator("[data-stop] [data-remaining]").first.inner_text() == \
        "本月还需走访 2 次（计划 2 次）"
    assert "芙蓉中路 40 号" in page.locator("[data-stop]").first.inner_text()
    counts = {k: page.locator(f"[data-count={k}]").inner_text()
              for k in ("planned", "done", "pending")}
    assert counts == {"planned": "6", "done": "0", "pending": "6"}
    assert page.locator("[data-open-visit]").count() == 0
    page.screenshot(path=str(TODAY_SHOT), full_page=True)

    # check in at the nearest by GPS: 40 m away with ±12 m, inside the 100 m radius
    page.locator("[data-stop]").first.locator("[data-check-in-gps]").click()
    page.wait_for_url(re.compile(r".*/visits/\d+\?.*new=true.*"))
    assert page.locator(".fw-ok").inner_text() == "已打卡。"
    assert page.locator("[data-flags]").get_attribute("data-flags") == ""
    assert page.locator("[data-flags]").inner_text().strip().endswith("在店铺范围内，没有标记。")
    assert page.locator("[data-visit-distance]").inner_text() == "40 米"
    visit_id = int(re.search(r"/visits/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    # checked in but no form yet: not a done visit, the shop stays on today's list
    page.goto(f"{field.url}/today")
    page.wait_for_selector("[data-day][data-sorted=near]")
    assert page.locator("[data-count=done]").inner_text() == "0"
    assert SHOPS["R3"][0] in stop_names(page)
    page.goto(f"{field.url}/visits/{visit_id}")

    # the visit's form
    page.locator("[data-visit-forms] a").first.click()
    page.wait_for_url(f"**/visits/{visit_id}/forms/customer_manager_visit*")
    page.wait_for_selector("form[data-ready=true]")
    assert page.locator("form").get_attribute("action") == "/api/submissions"
    item(page, "arrival_location").locator('[data-action="locate"]').click()
    page.wait_for_function(
        "document.querySelector('[data-item=arrival_location] [data-gps=lat]').value !== ''")
    shop, tags = tmp_path / "shop.png", tmp_path / "tags.png"
    shop.write_bytes(png_bytes(1))
    tags.write_bytes(png_bytes(2))
    upload(page, "#f-storefront_photo", shop, item(page, "storefront_photo"))
    page.check("#f-stock_checked")
    page.fill("#f-brands_in_stock", "45")
    page.check("#f-out_of_stock_found-1")  # 否
    page.check("#f-new_brand_recommended-0")  # 是
    page.check("#f-display_standard-0")  # 规范
    page.check("#f-price_tags_complete-1")  # 否: fails, and asks for evidence
    evidence = page.locator("#f-price_tags_complete-evidence")
    assert evidence.is_visible()
    upload(page, "#f-price_tags_complete-evidence-photos", tags, evidence)
    page.fill("#f-price_tags_complete-evidence-note", "两个品规没有价签")
    upload(page, "#f-display_photo", shop, item(page, "display_photo"))
    page.check("#f-policy_explained")
    page.check("#f-policy_topics-0")
    page.check("#f-self_discipline_group-0")
    draw_signature(page)
    # the drawn signature is uploaded once the pen rests: its photo id is the answer
    page.wait_for_function("document.querySelector('#f-retailer_signature').value !== ''")
    item(page, "price_tags_complete").screenshot(path="/tmp/rounds-evidence.png")
    payload = page.evaluate("window.roundsForm.payload()")
    # the answers carry the photos' ids from the server, not file names
    assert ANY_UUID.match(payload["answers"]["storefront_photo"][0])
    assert ANY_UUID.match(payload["evidence"]["price_tags_complete"]["photos"][0])

    # reloaded by mistake: the answers, the photos and the signature come back from the phone
    draft_key = (f"rounds:draft:{field.users['cm_main']}:{visit_id}:customer_manager_visit:"
                 + page.locator("form[data-rounds-form]").get_attribute("data-draft-key")
                 .rsplit(":", 1)[1])
    page.wait_for_function(f"localStorage.getItem({draft_key!r}) !== null")
    page.wait_for_function(  # the last change (the signature) is in the draft too
        f"JSON.parse(localStorage.getItem({draft_key!r})).signatures"
        "['f-retailer_signature-pad'] !== undefined")
    signature = page.input_value("#f-retailer_signature")
    page.reload()
    page.wait_for_selector("form[data-draft=restored]")
    assert page.locator("[data-draft-restored]").inner_text().startswith("已恢复您在本机保存")
    assert page.evaluate("window.roundsForm.payload()") == payload
    assert page.input_value("#f-retailer_signature") == signature
    assert page.locator("[data-item=storefront_photo] figure[data-photo-id]").count() == 1
    assert page.is_checked("#f-price_tags_complete-1")
    assert page.input_value("#f-price_tags_complete-evidence-note") == "两个品规没有价签"
    # the pad shows the signature again (drawn once its saved image has loaded)
    page.wait_for_function("""() => {
        const c = document.querySelector('#f-retailer_signature-pad')
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        return d.some((v, i) => i % 4 === 3 && v > 0) }""", timeout=10000)

    # the first try reaches the server but its answer is lost on the way back
    sent: list[dict[str, Any]] = []

    def lose_the_answer(route: Any) -> None:
        sent.append(route.request.post_data_json)
        route.fetch()
        route.abort("connectionreset")

    page.route("**/api/submissions", lose_the_answer)
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('[data-result]').textContent.includes('网络')")
    page.unroute("**/api/submissions")
    # the retry sends the same id: the server answers with what it stored the first time
    with page.expect_request("**/api/submissions") as retry:
        page.click("button[type=submit]")
    page.wait_for_url("**/submissions/*")
    body = retry.value.post_data_json
    assert body["id"] == sent[0]["id"] and UUID.match(body["id"])
    assert {k: body[k] for k in ("definition_id", "visit_id")} == {
        "definition_id": "customer_manager_visit", "visit_id": visit_id}
    assert len(body["version"]) == 64
    assert retry.value.headers.get("x-csrf-token")
    assert page.url.split("?")[0].endswith(f"/submissions/{body['id']}")
    assert page.evaluate(f"localStorage.getItem({draft_key!r})") is None  # sent: draft gone
    mine = page.request.get(f"{field.url}/api/submissions/mine").json()
    assert mine["total"] == 1  # one submission, not two

    # the result: score, explanation, the problem raised, the alert
    stored = page.request.get(f"{field.url}/api/submissions/{body['id']}").json()
    # the signature drawn on the pad is a stored PNG, not a string
    signature = stored["answers"]["retailer_signature"]
    assert set(signature) == {"photo"} and ANY_UUID.match(signature["photo"])
    drawn = page.request.get(f"{field.url}/api/photos/{signature['photo']}")
    assert drawn.ok and drawn.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(drawn.body()))
    assert image.format == "PNG" and image.width > 200
    assert image.getchannel("A").getbbox() is not None  # the strokes are there
    # stored at full precision, shown to the definition's digits (1 by default)
    pct = format_number(stored["score"]["percentage"], stored["score"]["digits"])
    score_text = page.locator("[data-score]").inner_text()
    assert score_text.startswith(f"{pct}%")
    assert page.locator("[data-passed]").get_attribute("data-passed") == \
        ("true" if stored["score"]["passed"] else "false")
    problem = page.locator("[data-problem=price_tags_complete]")
    assert "明码标价" in problem.inner_text() or "价签" in problem.inner_text()
    assert "两个品规没有价签" in problem.inner_text()
    assert problem.locator("img").count() == 1
    row = page.locator("[data-explained=price_tags_complete]")
    assert "0 / 2 分" in row.inner_text() and "回答“否”" in row.inner_text()
    assert "2 / 2 分" in page.locator("[data-explained=brands_in_stock]").inner_text()
    assert page.locator("[data-section]").count() == 6
    assert page.locator("[data-alert=price_tags_missing]").count() == 1
    page.screenshot(path=str(RESULT_SHOT), full_page=True)

    # the same result in English
    page.goto(page.url.split("?")[0] + "?lang=en")
    assert page.locator("#problems-title").inner_text() == "Failed items"
    assert "answered “No”" in page.locator("[data-explained=price_tags_complete]").inner_text()
    page.goto(page.url.split("?")[0] + "?lang=zh")

    # check out from the result page: back to today, the visit counted
    check_out(page, page.locator("[data-check-out]"), field.url)
    assert page.locator("[data-open-visit]").count() == 0
    assert page.locator("[data-count=done]").inner_text() == "1"
    page.wait_for_selector("[data-day][data-sorted=near]")
    assert stop_names(page) == [SHOPS[c][0] for c in ("R2", "R1")]  # visited today: gone

    # my results
    page.click(".fw-nav a[href^='/me/submissions']")
    page.wait_for_url("**/me/submissions*")
    rows = page.locator("[data-result-row]")
    assert rows.count() == 1
    assert SHOPS["R3"][0] in rows.first.inner_text()
    assert f"{pct}%" in rows.first.inner_text()
    assert not page_errors


def test_a_far_check_in_is_flagged(field: Seeded, page: Any, page_errors: list[str]) -> None:
    sign_in(page, field.url, "cm_far")
    wait_today(page, field.url)
    assert page.locator("h1").inner_text() == "My day"  # this account is in English
    page.wait_for_selector("[data-day][data-sorted=near]")
    assert page.locator("[data-stop] [data-distance]").all_inner_texts() == ["5 km"]
    page.locator("[data-check-in-gps]").first.click()
    page.wait_for_url("**/visits/*")
    flags = page.locator("[data-flags]")
    assert flags.get_attribute("data-flags") == "far"
    far = page.locator("[data-flag=far]").inner_text()
    assert far == "Far from the shop: 5 km, more than the 100 m allowed."
    assert "accepted but flagged" in flags.inner_text()
    page.screenshot(path="/tmp/rounds-visit-far.png", full_page=True)
    # the open visit is on top of today's page, flagged there too, and blocks another check-in
    page.goto(f"{field.url}/today")
    card = page.locator("[data-open-visit]")
    assert SHOPS["R4"][0] in card.inner_text()
    assert "Far from the shop" in card.inner_text()
    check_out(page, card.locator("[data-check-out]"), field.url)
    assert page.locator("[data-open-visit]").count() == 0
    # what is not there (or not one's own) is a page too, in the user's language
    response = page.goto(f"{field.url}/submissions/{uuid.uuid4()}")
    assert response.status == 404
    assert page.locator("[data-status-code]").inner_text() == \
        "This page does not exist, or you may not see it."
    assert not page_errors


def test_a_shop_code_check_in(field: Seeded, page: Any, page_errors: list[str]) -> None:
    """The shop's code typed in (camera scanning is not part of the pages)."""
    sign_in(page, field.url, "cm_main")
    wait_today(page, field.url)
    page.wait_for_selector("[data-day][data-sorted=near]")
    stop = page.locator(f"[data-stop][data-site-id='{field.sites['R2']}']")
    stop.locator("details.fw-code summary").click()
    # another shop's code under this shop is refused
    stop.locator("input[name=code]").fill(f"rounds:checkin:{field.qr['R1']}")
    stop.locator("[data-check-in-code] button[type=submit]").click()
    stop.locator("[data-status].is-error").wait_for()
    assert "打卡失败" in stop.locator("[data-status]").inner_text()
    stop.locator("input[name=code]").fill(f"rounds:checkin:{field.qr['R2']}")
    stop.locator("[data-check-in-code] button[type=submit]").click()
    page.wait_for_url("**/visits/*")
    assert page.locator(".fw-facts").inner_text().count("扫码打卡") == 1
    # a form sent half-filled: every error next to its item, nothing stored, same id kept
    page.locator("[data-visit-forms] a").first.click()
    page.wait_for_selector("form[data-ready=true]")
    page.fill("#f-brands_in_stock", "301")
    with page.expect_response("**/api/submissions") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 422
    page.locator("[data-summary] li").first.wait_for()
    assert "不能大于 300" in item(page, "brands_in_stock").locator("[data-error]").inner_text()
    assert item(page, "storefront_photo").locator("[data-error]").count() == 1
    assert page.locator("[data-summary] li").count() == len(answer.value.json()["errors"])
    first_id = answer.value.request.post_data_json["id"]
    with page.expect_request("**/api/submissions") as again:
        page.click("button[type=submit]")
    assert again.value.post_data_json["id"] == first_id
    page.go_back()
    check_out(page, page.locator("[data-check-out]"), field.url)
    assert not page_errors


def test_no_uuid_collisions_in_the_fallback(page: Any, field: Seeded) -> None:
    """Without crypto.randomUUID (plain http on a company network) ids are still v4 UUIDs."""
    page.goto(f"{field.url}/sign-in")
    ids = page.evaluate("""async () => {
        const m = await import('/static/rounds/rounds-form.js')
        const real = crypto.randomUUID
        crypto.randomUUID = undefined
        try { return Array.from({length: 200}, () => m.newUuid()) }
        finally { crypto.randomUUID = real }
    }""")
    assert len(set(ids)) == 200
    assert all(UUID.match(i) for i in ids)
    assert uuid.UUID(ids[0]).version == 4
