"""The retailer's portal in Chromium at phone size, on a real server.

The customer manager visits the shop and fills the standard (through the API, as the
phone's form does). The shop's account signs in on the sign-in page and lands on its portal
(``/``: its own home), sees the visit with the role's word for it, the staff member and the
score, opens why the score is what it is, files a suggestion (工作建议) on its form, finds it
among its own; the customer manager, in another browser, finds it on their issues page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from support.live import LiveServer, api_token
from support.shop_city import CM, PASSWORD, SHOP, phone, seed, sign_in, visit_and_score

pytestmark = pytest.mark.browser

WAIT = 20_000


@dataclass
class World:
    server: LiveServer
    site_id: int
    tokens: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("shop-portal-server"))
    try:
        site_id = seed(server)
        yield World(server, site_id, {u: api_token(server, u, PASSWORD) for u in (CM, SHOP)})
    finally:
        server.stop()


def test_the_shop_sees_its_visit_and_files_a_suggestion(world: World, browser: Any) -> None:
    result = visit_and_score(world.url, world.tokens[CM], world.site_id)
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
