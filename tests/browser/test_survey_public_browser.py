"""A consumer on a phone (390×844, Chromium): opens a shop's survey link, answers it by
touch, sees the thanks; opens it again and is told it was answered. The consumer page's
complaint shows every problem at its field, then is filed. No script runs on these pages and
nothing breaks the Content-Security-Policy. Each page is photographed in zh and en, at 390
and 1366 wide, into $ROUNDS_SHOTS (default /work/shots/public), the manager's links page and
QR sheet too."""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from support.browser import sign_in
from support.fieldwork import PASSWORD, Live, live_city
from support.public_links import link_of, make_campaign

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots/public"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, int]]:
    # Seeded in a thread of its own: Playwright keeps an event loop in this one.
    with ExitStack() as stack, concurrent.futures.ThreadPoolExecutor(1) as pool:
        live = pool.submit(stack.enter_context, live_city(
            tmp_path_factory.mktemp("survey_public_browser"), "sqlite")).result()
        yield live, pool.submit(make_campaign, live).result()


def _page(browser: Any, viewport: dict[str, int], errors: list[str]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A page's own status (422, 409, 404: what these pages answer) is logged as a failed
    # load; anything else is an error.
    page.on("console", lambda m: errors.append(m.text)
            if (m.type == "error" and not m.text.startswith("Failed to load resource"))
            or "Content Security Policy" in m.text else None)
    return page


def _answer(page: Any) -> None:
    for item, value in (("customer_manager_service", "5"), ("delivery_rating", "4"),
                        ("market_supervision", "na"), ("supply_fit", "3"),
                        ("complaint_handling", "5"), ("overall_satisfaction", "satisfied")):
        page.locator(f"input[name='f-{item}'][value='{value}']").check()
    page.locator("input[name='f-improve_first'][value='supply']").check()


def test_a_consumer_answers_a_shops_link_once(browser: Any, city: tuple[Live, int]) -> None:
    live, cid = city
    path = link_of(live, cid, shop="shop_a")
    errors: list[str] = []
    page = _page(browser, PHONE, errors)
    page.goto(f"{live.url}{path}")
    assert page.locator("h1").inner_text() == "消费者满意度调查"
    assert "Shop A" in page.locator("[data-shop]").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # Sent half done: every problem at its field, the answers kept.
    page.locator("input[name='f-delivery_rating'][value='4']").check()
    page.get_by_role("button", name="提交答卷").click()
    page.wait_for_load_state()
    assert page.locator("[data-summary] li").count() >= 5
    assert page.locator("input[name='f-delivery_rating'][value='4']").is_checked()
    _answer(page)
    page.get_by_role("button", name="提交答卷").click()
    page.wait_for_selector("[data-survey-page=thanks]")
    assert page.locator("h1").inner_text() == "感谢您的参与"
    page.goto(f"{live.url}{path}")
    assert page.locator("[data-survey-page=answered]").count() == 1
    assert "您已填写过该问卷" in page.locator("h1").inner_text()
    assert page.locator("script").count() == 0
    assert not errors, errors
    page.context.close()


def test_a_complaint_from_the_consumer_page(browser: Any, city: tuple[Live, int]) -> None:
    live, _ = city
    errors: list[str] = []
    page = _page(browser, PHONE, errors)
    page.goto(f"{live.url}/consumer?shop=shop_a")
    assert page.locator("#c-shop").input_value() == "shop_a"
    assert page.locator("[data-surveys] a").count() >= 1
    page.fill("#c-contact", "13800000000")
    page.get_by_role("button", name="提交投诉").click()
    page.wait_for_selector("[data-summary]")
    assert page.locator("[data-summary] li").count() == 3  # topic, text, consent
    assert page.locator("#c-contact").input_value() == "13800000000"
    page.get_by_label("店铺服务问题").check()
    page.fill("#c-text", "店主态度很差，不找零。")
    page.get_by_label("我同意烟草公司保存我的联系方式，仅用于处理本次投诉。").check()
    page.get_by_role("button", name="提交投诉").click()
    page.wait_for_selector("[data-consumer-page=complaint_filed]")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert not errors, errors
    page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_screenshots(browser: Any, city: tuple[Live, int], lang: str, size: str) -> None:
    live, cid = city
    errors: list[str] = []
    page = _page(browser, PHONE if size == "phone" else DESKTOP, errors)
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}_{lang}_{size}.png"), full_page=True)

    path = link_of(live, cid, shop="shop_b")
    page.goto(f"{live.url}{path}?lang={lang}")
    shot("survey")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("[data-summary]")
    shot("survey_errors")
    page.goto(f"{live.url}/s/forged-link?lang={lang}")
    shot("survey_invalid")
    page.goto(f"{live.url}/consumer?lang={lang}&shop=shop_b")
    shot("consumer")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("[data-summary]")
    shot("consumer_errors")
    sign_in(page, live.url, "li", f"/surveys/{cid}/links?lang={lang}", password=PASSWORD)
    shot("links")
    page.goto(f"{live.url}/surveys/{cid}/links/sheet?lang={lang}")
    shot("sheet")
    assert not errors, errors
    page.context.close()
