"""The retailer's portal in Chromium at phone size, on a real server.

The customer manager visits the shop and fills the standard (through the API, as the
phone's form does). The shop's account signs in on the sign-in page and lands on its portal
(``/``: its own home), sees the visit with the role's word for it, the staff member and the
score, opens why the score is what it is, files a suggestion (工作建议) on its form, finds it
among its own; the customer manager, in another browser, finds it on their issues page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from support.field import retailer_attributes
from support.fieldwork import body, png_bytes, poor_answers
from support.live import LiveServer, api_token, run_async

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)
WAIT = 20_000
CM, HEAD, SHOP = "cm_li", "head_wu", "shop_furong"


@dataclass
class World:
    server: LiveServer
    site_id: int
    tokens: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return self.server.url


def seed(server: LiveServer) -> int:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site

    async def run() -> int:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                                      name_en="East station", parent_code="city")
                cm = await create_user(db, username=CM, display_name="客户经理 李",
                                       role_id="customer_manager", org_unit_code="east",
                                       password=PASSWORD, phone="13800000001", language="zh")
                await create_user(db, username=HEAD, display_name="所长 吴",
                                  role_id="station_head", org_unit_code="east",
                                  password=PASSWORD, language="zh")
                site = await create_site(db, None, site_kind="retailer", code="R1",
                                         name="芙蓉烟酒店", lat=HERE[0], lng=HERE[1],
                                         org_unit="east", address="芙蓉中路 1 号",
                                         attributes=retailer_attributes("R1"))
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                      user_id=cm.id))
                await create_user(db, username=SHOP, display_name="芙蓉烟酒店 王老板",
                                  role_id="retailer_user", org_unit_code="east",
                                  password=PASSWORD, site_id=site.id, language="zh")
                return int(site.id)
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("shop-portal-server"))
    try:
        site_id = seed(server)
        yield World(server, site_id, {u: api_token(server, u, PASSWORD) for u in (CM, SHOP)})
    finally:
        server.stop()


def phone(browser: Any, errors: list[str]) -> Any:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                              is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    return page


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/sign-in?lang=zh")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[data-sign-in-form] button[type=submit]")


def visit_and_score(world: World) -> dict[str, Any]:
    with httpx.Client(base_url=world.url, headers=world.tokens[CM], timeout=30) as c:
        r = c.post("/api/visits", json={"site_id": world.site_id, "gps": {
            "lat": HERE[0], "lng": HERE[1], "accuracy_m": 8}})
        assert r.status_code == 201, r.text
        visit = int(r.json()["id"])
        photo = c.post("/api/photos", files={"file": ("tags.png", png_bytes(1),
                                                      "image/png")}).json()["id"]
        version = c.get("/api/definitions/customer_manager_visit").json()["content_hash"]
        answers, evidence = poor_answers(photo)
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, answers,
                                                 evidence=evidence, visit_id=visit))
        assert r.status_code == 201, r.text
        return dict(r.json())


def test_the_shop_sees_its_visit_and_files_a_suggestion(world: World, browser: Any) -> None:
    result = visit_and_score(world)
    errors: list[str] = []
    shop = phone(browser, errors)
    sign_in(shop, world.url, SHOP)
    shop.wait_for_url(re.compile(re.escape(world.url) + r"/shop(\?.*)?$"))
    expect(shop.locator("h1")).to_have_text("芙蓉烟酒店")
    card = shop.locator("[data-shop-card]")
    expect(card.locator("[data-fact=grade]")).to_have_text("5")
    expect(card.locator("[data-fact=delivery_cycle]")).to_have_text("每周一次")
    expect(card.locator("[data-staff-role=customer_manager]")).to_contain_text("客户经理 李")
    expect(card.locator("[data-staff-role=customer_manager]")).to_contain_text("13800000001")
    visit = shop.locator("[data-shop-visits] [data-shop-visit]").first
    expect(visit.locator(".card-title")).to_have_text("客户经理拜访")
    expect(visit.locator("[data-staff]")).to_have_text("客户经理 李")
    expect(visit.locator("[data-date]")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"))
    expect(visit.locator("[data-figure]")).to_be_visible()
    # Why the score is what it is: the result page, open to the shop.
    visit.locator("[data-explanation]").click()
    shop.wait_for_url(re.compile(re.escape(f"{world.url}/submissions/{result['id']}")))
    expect(shop.locator("main")).to_contain_text("芙蓉烟酒店")

    # A suggestion, from the nav's 工作建议.
    shop.goto(f"{world.url}/shop?lang=zh")
    shop.locator("[data-nav=shop-feedback]").click()
    shop.wait_for_url(re.compile(r"/shop/feedback/new"))
    shop.locator("[data-send]").click()  # empty: said next to the field, nothing sent
    expect(shop.locator("[data-error-for=text]")).to_have_text("请填写内容。")
    shop.fill("#fb-title", "希望增加新品规")
    shop.fill("#fb-text", "顾客经常问新品，希望每次送货多配两条。")
    shop.locator("[data-send]").click()
    shop.wait_for_url(re.compile(r"/shop/issues\?.*show=mine"))
    mine = shop.locator("[data-shop-issues] [data-mine]").first
    expect(mine.locator(".card-title")).to_have_text("希望增加新品规")
    expect(mine.locator("[data-status]")).to_have_text("已交办")
    shop.context.close()

    # The customer manager finds it on their issues page.
    cm = phone(browser, errors)
    sign_in(cm, world.url, CM)
    cm.wait_for_url(re.compile(r"/today"))
    cm.goto(f"{world.url}/me/issues?lang=zh")
    expect(cm.locator("main")).to_contain_text("希望增加新品规", timeout=WAIT)
    cm.context.close()
    assert not errors, errors
