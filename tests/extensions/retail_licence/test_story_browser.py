"""The story in Chromium, on a real server with the extension enabled: an applicant without a
shop applies online on the phone (documents photographed, position from the phone); the
station's reviewer checks the documents and sends the inspector; the inspector fills the
inspection standard on the phone pages (the distance to the nearest licensed retailer is
the rule's); the head decides; the licence appears on the new site and the applicant sees
it on the shop portal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from extensions.retail_licence import city as c
from support.browser import sign_in
from support.fieldwork import png_bytes
from support.live import LiveServer, in_database

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
NEW_SHOP = c.north_of(c.SHOP_AT, 120)  # far enough from the licensed retailer (50 m)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("rl-live"),
                      env={"ROUNDS_EXTENSIONS_ENABLED": "retail_licence"})
    try:
        in_database(live.database_url, c.seed)
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():  # fail, not skip: a browser test that cannot run proves nothing
        pytest.fail("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def phone(browser: Any, errors: list[str], at: tuple[float, float]) -> Any:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN",
                              geolocation={"latitude": at[0], "longitude": at[1],
                                           "accuracy": 8},
                              permissions=["geolocation"])
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text else None)
    return page


def test_apply_inspect_decide_and_the_applicant_sees_the_licence(
        server: LiveServer, browser: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    url = server.url
    for i, name in enumerate(("id.png", "premises.png", "site.png")):
        (tmp_path / name).write_bytes(png_bytes(40 + i))

    # The applicant, on the phone, without a shop yet.
    page = phone(browser, errors, NEW_SHOP)
    # Signed in without a page asked for: the applications, not the shop portal (no shop
    # yet), and none of a shop's or a field user's links.
    page.goto(f"{url}/sign-in")
    page.fill("#username", c.OTHER)
    page.fill("#password", c.PASSWORD)
    page.click("form[data-sign-in-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/licence-applications(\?.*)?$"))
    assert page.locator("nav.fw-nav [data-nav='/licence-applications']").count() == 1
    assert page.locator("nav.fw-nav [data-nav=shop], nav.fw-nav a[href^='/today']").count() == 0
    page.goto(f"{url}/licence-applications/new?lang=zh")
    page.click("[data-send]")  # nothing filled: each mistake at its field
    assert page.locator("[data-error-for=shop_name]").is_visible()
    assert page.locator("[data-error-for='documents/id_card']").is_visible()
    assert page.locator("[data-error-for=position]").is_visible()
    page.fill("#rl-shop_name", "何记便利店")
    page.fill("#rl-address", "芙蓉中路 21 号")
    page.fill("#rl-owner_name", "何")
    page.fill("#rl-phone", "13800000021")
    page.select_option("#rl-business_type", "convenience_store")
    page.select_option("#rl-market_area", "urban")
    page.click("[data-locate]")
    page.wait_for_function("() => document.querySelector('#rl-lat').value !== ''")
    page.set_input_files("#rl-doc-id_card", str(tmp_path / "id.png"))
    page.set_input_files("#rl-doc-premises_proof", str(tmp_path / "premises.png"))
    page.click("[data-send]")
    page.wait_for_url(re.compile(r".*/licence-applications/\d+\?lang=zh$"))
    app_id = int(re.search(r"/licence-applications/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert page.locator("[data-state]").first.inner_text() == "已提交"
    assert page.locator("[data-due]").inner_text() == "还剩 20 个工作日"
    assert page.locator("[data-steps] [data-step$='/withdraw']").count() == 1
    assert page.locator(".rl-docs a").count() == 2

    # The station's reviewer (head) checks the documents and sends the inspector.
    head = phone(browser, errors, c.SHOP_AT)
    sign_in(head, url, c.HEAD, f"/licence-applications/{app_id}", password=c.PASSWORD)
    head.click("[data-step$='/check-documents'] [data-send]")
    head.wait_for_selector("[data-state=documents_checked]")
    head.select_option("#rl-inspector", label=c.INSPECTOR)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    head.fill("#rl-on", tomorrow)
    head.click("[data-step$='/schedule-inspection'] [data-send]")
    head.wait_for_selector("[data-state=inspection_scheduled]")
    assert head.locator("[data-step$='/decide']").count() == 0  # not before the inspection

    # The inspector fills the inspection standard on the phone, at the new shop.
    insp = phone(browser, errors, NEW_SHOP)
    sign_in(insp, url, c.INSPECTOR, f"/licence-applications/{app_id}", password=c.PASSWORD)
    insp.click("[data-inspect]")
    insp.wait_for_url(f"**/licence-applications/{app_id}/inspect*")
    insp.wait_for_selector("form[data-ready=true]")
    insp.locator('[data-item="inspection_location"] [data-action="locate"]').click()
    insp.wait_for_function("() => document.querySelector("
                           "'[data-item=inspection_location] [data-gps=lat]').value !== ''")
    for item in ("premises_match", "owner_matches", "trading_ready", "no_school_nearby"):
        insp.check(f"#f-{item}-0")  # 是
    insp.set_input_files("#f-premises_photos", str(tmp_path / "site.png"))
    insp.locator('[data-item="premises_photos"] figure[data-upload=done]').first.wait_for(
        timeout=15000)
    insp.click("form[data-rounds-form] button[type=submit]")
    insp.wait_for_url(re.compile(rf".*/licence-applications/{app_id}\?lang=zh$"))
    assert insp.locator("[data-inspection]").get_attribute("data-inspection") == "passed"
    assert insp.locator("[data-verdict]").inner_text() == "符合条件"
    distance = insp.locator("[data-distance]").inner_text()
    assert distance.startswith("120 米") and "芙蓉烟酒店" in distance

    # The head decides: the licence is issued on a new site.
    head.reload()
    head.check("input[name=decision][value=grant]")
    head.click("[data-step$='/decide'] [data-send]")
    head.wait_for_selector("[data-state=issued]")
    number = head.locator("[data-licence-number]").inner_text()
    assert re.fullmatch(r"\d{12}", number)

    # The applicant: the licence on the application, and the shop's page shows it.
    page.reload()
    assert page.locator("[data-state]").first.inner_text() == "已发证"
    assert page.locator("[data-licence-number]").inner_text() == number
    page.click("text=查看我的店铺")
    page.wait_for_url("**/shop*")
    panel = page.locator("text=烟草专卖零售许可证").first
    assert panel.is_visible()
    body = page.locator("main").inner_text()
    assert number in body and "许可证有效" in body
    assert not errors, errors
