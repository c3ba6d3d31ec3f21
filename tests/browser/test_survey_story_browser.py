"""Issue 14's story in Chromium at phone size (390×844), on one real server.

A small city: the east station, its head, a customer manager serving 芙蓉烟酒店, the shop's own
account and a city leader, who opens two campaigns through the API: consumers' satisfaction
(public links) and retailers' satisfaction, asked of the shop after each visit of its
customer manager (within three days). The customer manager visits the shop, fills the
standard and checks out. A consumer, with no account, opens the shop's own link (as its QR
code carries it, read from the leader's sheet of shops) and answers; the shop signs in, sees
the visit and its score, finds the survey about that visit under 问卷调查 and answers it by
keyboard, then files a suggestion (工作建议) that its customer manager finds on their issues
page. The leader's results pages count the shop's response, with its outcome level, and the
consumer's, about the shop.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from support.live import LiveServer, api_token
from support.shop_city import (
    CM,
    LEADER,
    PASSWORD,
    SHOP,
    phone,
    seed,
    sign_in,
    visit_and_score,
)

pytestmark = pytest.mark.browser

WAIT = 20_000
RETAILER_ITEMS = ("customer_manager_service", "delivery_rating", "market_supervision",
                  "supply_fit", "complaint_handling")
COMMENT = "店主很热情，价格清楚。"


@dataclass
class World:
    server: LiveServer
    site_id: int
    tokens: dict[str, dict[str, str]]
    consumer_campaign: int = 0
    retailer_campaign: int = 0

    @property
    def url(self) -> str:
        return self.server.url


def open_campaign(world: World, spec: dict[str, Any]) -> int:
    """A campaign made and opened through the API, as the leader."""
    with httpx.Client(base_url=world.url, headers=world.tokens[LEADER], timeout=30) as c:
        r = c.post("/api/survey-campaigns", json=spec)
        assert r.status_code == 201, r.text
        cid = int(r.json()["id"])
        r = c.post(f"/api/survey-campaigns/{cid}/open")
        assert r.status_code == 200, r.text
        return cid


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("survey-story-server"))
    try:
        site_id = seed(server)
        w = World(server, site_id,
                  {u: api_token(server, u, PASSWORD) for u in (CM, SHOP, LEADER)})
        today = dt.date.today()
        period = {"start": (today - dt.timedelta(days=1)).isoformat(),
                  "end": (today + dt.timedelta(days=30)).isoformat()}
        w.consumer_campaign = open_campaign(w, {
            "title": "芙蓉片区消费者满意度调查", "survey": "consumer_satisfaction",
            "audience": "consumer", "one_per": "device", "target_responses": 50,
            "period": period})
        w.retailer_campaign = open_campaign(w, {
            "title": "拜访后零售户满意度调查", "survey": "retailer_satisfaction",
            "audience": "retailer", "targeting": {"org_units": [], "grades": []},
            "follow_visit": {"within_days": 3, "roles": ["customer_manager"]},
            "target_responses": 20, "period": period})
        yield w
    finally:
        server.stop()


def no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_story_of_issue_14(world: World, browser: Any) -> None:
    errors: list[str] = []
    result = visit_and_score(world.url, world.tokens[CM], world.site_id, check_out=True)
    assert result.get("score") is not None or result.get("percentage") is not None, result

    # The leader reads the shop's own link from the sheet of shops (what its QR code holds).
    leader = phone(browser, errors)
    sign_in(leader, world.url, LEADER)
    leader.wait_for_url(lambda u: "/sign-in" not in u)
    leader.goto(f"{world.url}/surveys/{world.consumer_campaign}/links?lang=zh")
    expect(leader.locator("[data-campaign-qr]")).to_be_visible()
    leader.goto(f"{world.url}/surveys/{world.consumer_campaign}/links/sheet?lang=zh")
    card = leader.locator("[data-url][data-code=R1]")
    expect(card).to_have_count(1)
    shop_link = str(card.get_attribute("data-url"))
    assert "/s/" in shop_link

    # A consumer: a fresh phone, no account, opens the shop's link and answers.
    consumer = phone(browser, errors)
    consumer.goto(shop_link.replace(re.match(r"https?://[^/]+", shop_link).group(0),  # type: ignore[union-attr]
                                    world.url))
    expect(consumer.locator("h1")).to_have_text("芙蓉片区消费者满意度调查")
    expect(consumer.locator("[data-shop]")).to_contain_text("芙蓉烟酒店")
    no_overflow(consumer)
    for item, value in (("shop_service", "5"), ("price_marked", "5"), ("brand_available", "4"),
                        ("shop_environment", "4"), ("genuine_trust", "5"),
                        ("no_minors", "yes"), ("market_order", "4"),
                        ("overall_satisfaction", "very_satisfied")):
        consumer.locator(f"input[name='f-{item}'][value='{value}']").check()
    consumer.locator("textarea[name='f-comments'], input[name='f-comments']").fill(COMMENT)
    consumer.get_by_role("button", name="提交答卷").click()
    consumer.wait_for_selector("[data-survey-page=thanks]")
    expect(consumer.locator("h1")).to_have_text("感谢您的参与")
    no_overflow(consumer)
    consumer.context.close()

    # The shop signs in, lands on its portal, sees the visit with its score.
    shop = phone(browser, errors)
    sign_in(shop, world.url, SHOP)
    shop.wait_for_url(re.compile(re.escape(world.url) + r"/shop(\?.*)?$"))
    expect(shop.locator("h1")).to_have_text("芙蓉烟酒店")
    visit = shop.locator("[data-shop-visits] [data-shop-visit]").first
    expect(visit.locator("[data-staff]")).to_have_text("客户经理 李")
    expect(visit.locator("[data-figure]")).to_be_visible()
    # The survey about that visit, under 问卷调查.
    surveys = shop.locator("[data-shop-surveys]")
    expect(surveys.locator("h2")).to_have_text("问卷调查")
    offer = surveys.locator("a", has_text="拜访后零售户满意度调查")
    expect(offer).to_have_count(1)
    assert "visit=" in str(offer.get_attribute("href"))
    offer.click()
    shop.wait_for_url(re.compile(rf"/surveys/{world.retailer_campaign}/answer\?.*visit="))
    expect(shop.locator("[data-survey-answer]")).to_contain_text("拜访后零售户满意度调查")
    for item in RETAILER_ITEMS:  # by keyboard: each scale's 5, then the overall judgement
        shop.focus(f"#f-{item}-4")
        shop.keyboard.press("Space")
    shop.locator("input[name=f-overall_satisfaction][value=very_satisfied]").focus()
    shop.keyboard.press("Space")
    shop.locator("button[type=submit]").focus()
    shop.keyboard.press("Enter")
    shop.wait_for_url(re.compile(rf"/surveys/{world.retailer_campaign}/thanks"), timeout=WAIT)
    expect(shop.locator("[data-answer-done] h1")).to_have_text("感谢您的评价")
    expect(shop.locator("[data-answer-score]")).to_be_visible()
    # Answered: the portal no longer asks it.
    shop.goto(f"{world.url}/shop?lang=zh")
    expect(shop.locator("[data-shop-surveys] a", has_text="拜访后零售户满意度调查")
           ).to_have_count(0)

    # A suggestion (工作建议) from the nav.
    shop.locator("[data-nav=shop-feedback]").click()
    shop.wait_for_url(re.compile(r"/shop/feedback/new"))
    shop.fill("#fb-title", "希望送货时间固定")
    shop.fill("#fb-text", "希望每周二上午送货，方便安排收货。")
    shop.locator("[data-send]").click()
    shop.wait_for_url(re.compile(r"/shop/issues\?.*show=mine"))
    expect(shop.locator("[data-shop-issues] [data-mine]").first.locator(".card-title")
           ).to_have_text("希望送货时间固定")
    shop.context.close()

    # The customer manager finds the suggestion on their issues page.
    cm = phone(browser, errors)
    sign_in(cm, world.url, CM)
    cm.wait_for_url(re.compile(r"/today"))
    cm.goto(f"{world.url}/me/issues?lang=zh")
    expect(cm.locator("main")).to_contain_text("希望送货时间固定", timeout=WAIT)
    cm.context.close()

    # The leader's results: the shop's response with its outcome level, about its manager.
    leader.goto(f"{world.url}/surveys/{world.retailer_campaign}/results?lang=zh")
    expect(leader.locator("[data-overview] [data-responses]")).to_have_attribute(
        "data-responses", "1")
    staff = leader.locator("[data-groups=staff] tr", has_text="客户经理 李")
    expect(staff).to_have_count(1)
    levels = leader.locator("[data-groups=staff] thead th")
    expect(levels).to_contain_text(["非常满意"])
    headers = levels.all_inner_texts()
    cells = staff.locator("td").all_inner_texts()
    level_of = dict(zip(headers[3:], cells[2:], strict=True))
    assert level_of["非常满意"].startswith("1"), level_of
    expect(leader.locator("[data-chart=levels]")).to_have_attribute("data-drawn", "true",
                                                                   timeout=WAIT)
    no_overflow(leader)
    # The consumer's response, about the shop: counted, its comment listed with the shop.
    leader.goto(f"{world.url}/surveys/{world.consumer_campaign}/results?lang=zh")
    expect(leader.locator("[data-overview] [data-responses]")).to_have_attribute(
        "data-responses", "1")
    text = leader.locator("[data-texts] [data-text]")
    expect(text).to_have_count(1)
    expect(text).to_contain_text(COMMENT)
    expect(text).to_contain_text("芙蓉烟酒店")
    no_overflow(leader)
    leader.context.close()
    assert not errors, errors
