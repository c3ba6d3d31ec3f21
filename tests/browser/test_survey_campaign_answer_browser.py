"""A retailer survey campaign in Chromium, on a real server: the city leader (a desktop)
makes it with a mistake, sees every mistake (the summary at the top and next to the
fields, the values kept), corrects it and opens it; the shop's own account (a phone,
390×844) finds it on /surveys/{id}/answer, answers by keyboard and gets the thanks with its
score; a second visit to the page says it is answered; the leader's page counts 1."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.campaign_city import new_page
from support.fieldwork import PASSWORD, Field, seed_database
from support.live import LiveServer

pytestmark = pytest.mark.browser

WAIT = 20_000
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TITLE = "十二月零售户满意度调查"
ITEMS = ("customer_manager_service", "delivery_rating", "market_supervision", "supply_fit",
         "complaint_handling")


def add_owner(url: str, field: Field) -> None:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_user(db, username="owner_a", display_name="王店主",
                                  role_id="retailer_user", org_unit_code="north",
                                  password=PASSWORD, site_id=field.sites["shop_a"])
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    live = LiveServer(tmp_path_factory.mktemp("survey-answer-browser"))
    try:
        # in a thread of its own: Playwright's loop runs in this one
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: add_owner(live.database_url,
                                          seed_database(live.database_url))).result()
        yield live.url
    finally:
        live.stop()


def test_a_leader_opens_a_survey_and_the_shop_answers_it(server: str, browser: Any) -> None:
    errors: list[str] = []
    leader = new_page(browser, errors, DESKTOP)
    sign_in(leader, server, "li", "/surveys/new?lang=zh")
    leader.fill("#f-title", TITLE)
    leader.check("input[name=audience][value=consumer]")  # a retailer survey: wrong
    leader.select_option("#f-survey", "retailer_satisfaction")
    leader.fill("#f-target-responses", "0")
    leader.click("[data-create]")
    summary = leader.locator("[data-error-summary]")
    expect(summary).to_be_visible(timeout=WAIT)
    expect(summary.locator("li")).to_have_count(2)
    expect(leader.locator("[data-error-for=survey]")).to_contain_text("不是为所选调查对象设计的")
    expect(leader.locator("[data-error-for=target_responses]")).to_be_visible()
    expect(leader.locator("#f-title")).to_have_value(TITLE)  # the values are kept
    expect(leader.locator("#f-target-responses")).to_have_attribute("aria-invalid", "true")
    summary.locator("a[data-summary-for=target_responses]").click()
    leader.check("input[name=audience][value=retailer]")
    leader.fill("#f-target-responses", "10")
    leader.click("[data-create]")
    leader.wait_for_url(re.compile(r".*/surveys/\d+\?lang=zh$"), timeout=WAIT)
    campaign_id = int(re.search(r"/surveys/(\d+)", leader.url).group(1))  # type: ignore[union-attr]
    expect(leader.locator("[data-status-code]")).to_have_text("草稿")
    leader.locator("[data-open]").click()
    expect(leader.locator("[data-survey-page][data-status=open]")).to_be_attached(timeout=WAIT)

    shop = new_page(browser, errors, PHONE)
    sign_in(shop, server, "owner_a", f"/surveys/{campaign_id}/answer?lang=zh")
    expect(shop.locator("[data-survey-answer]")).to_contain_text(TITLE)
    for item in ITEMS:  # by keyboard: each scale's 5, then the overall judgement
        shop.focus(f"#f-{item}-4")
        shop.keyboard.press("Space")
    shop.locator("input[name=f-overall_satisfaction][value=satisfied]").focus()
    shop.keyboard.press("Space")
    shop.locator("button[type=submit]").focus()
    shop.keyboard.press("Enter")
    shop.wait_for_url(re.compile(rf".*/surveys/{campaign_id}/thanks\?.*"), timeout=WAIT)
    expect(shop.locator("[data-answer-done] h1")).to_have_text("感谢您的评价")
    expect(shop.locator("[data-answer-score]")).to_be_visible()
    width = shop.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    shop.goto(f"{server}/surveys/{campaign_id}/answer?lang=zh")
    expect(shop.locator("[data-answer-done] h1")).to_have_text("您已填写过这份问卷")

    leader.goto(f"{server}/surveys/{campaign_id}?lang=zh")
    expect(leader.locator("[data-progress]")).to_have_attribute("data-responses", "1")
    assert not errors, errors
