"""The licence page in Chromium on a phone: the form sent by the page's script (with its
CSRF token), every mistake at its field with the summary focused, then a photo and the
licence's words, and the result on the page; and the catalogues say the same in both
languages."""

from __future__ import annotations

import concurrent.futures
import re
import string
from pathlib import Path
from typing import Any

import pytest

from support.fieldwork import jpeg_bytes

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
LOCALE = Path(__file__).resolve().parents[3] / "extensions" / "business_licence" / \
    "rounds_business_licence" / "locale"


def _words(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    with (LOCALE / lang / "LC_MESSAGES" / "business_licence.po").open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id}


def test_the_catalogues_have_the_same_keys_and_fields() -> None:
    zh, en = _words("zh"), _words("en")
    assert zh.keys() == en.keys()

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key in zh:
        assert fields(zh[key]) == fields(en[key]), key
        assert zh[key] and en[key], key
        # The Chinese words have no English in them (but codes, fields and numbers).
        assert not re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", zh[key])), key


def _story(url: str, site_id: int, photo: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {"errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  is_mobile=True, has_touch=True)
        page = ctx.new_page()
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.goto(f"{url}/sign-in?lang=zh")
        page.fill("#username", "cm_a")
        page.fill("#password", "password-123")
        page.click("form[data-sign-in-form] button[type=submit]")
        page.wait_for_url(re.compile(r".*/today.*"))
        page.goto(f"{url}/sites/{site_id}/business-licence?lang=zh")
        seen["empty"] = page.locator("[data-none]").inner_text()
        page.fill("#bl-code", "9133 0100")
        page.click("button.bl-submit")
        summary = page.locator("[data-error-summary]")
        summary.wait_for()
        seen["summary"] = summary.locator("strong").inner_text()
        seen["summary_focused"] = page.evaluate(
            "() => document.activeElement?.hasAttribute('data-error-summary')")
        seen["invalid"] = page.locator("[aria-invalid=true]").count()
        seen["code_kept"] = page.input_value("#bl-code")
        page.fill("#bl-code", "91330100716105852f")  # typed in lower case: taken upper
        page.fill("#bl-holder", "Wang")
        page.fill("#bl-address", "RA1 Road")
        page.fill("#bl-expires-on", "2030-06-30")
        page.set_input_files("#bl-photo", str(photo))
        seen["chosen"] = page.locator("[data-file-name]").inner_text()
        page.click("button.bl-submit")
        page.locator("[data-done]").wait_for()
        seen["done"] = page.locator("[data-done]").inner_text()
        seen["latest_focused"] = page.evaluate(
            "() => document.activeElement?.id === 'bl-latest'")
        seen["outcome"] = page.locator("#bl-latest [data-outcome]").inner_text()
        seen["code"] = page.locator("#bl-latest [data-code]").inner_text()
        seen["made"] = page.locator("#bl-latest [data-made]").inner_text()
        seen["photo_loaded"] = page.evaluate(
            "() => { const i = document.querySelector('#bl-latest img');"
            " return !!i && i.complete && i.naturalWidth > 0 }")
        browser.close()
    return seen


@pytest.mark.browser
def test_the_page_on_a_phone(enabled_server: Any, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed at /usr/bin/chromium")
    server, world = enabled_server
    photo = tmp_path / "licence.jpg"
    photo.write_bytes(jpeg_bytes(seed=7))
    # Playwright's sync API in a thread of its own: it leaves an event loop behind in the
    # thread it ran in, which must not be the one the async tests use.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        seen = pool.submit(_story, server.url, world.sites["RA1"], photo).result()
    assert seen["errors"] == []
    assert seen["empty"] == "尚未核验营业执照。"
    assert seen["summary"] == "有 4 处填写有误，请修改"
    assert seen["summary_focused"] is True
    assert seen["invalid"] == 4 and seen["code_kept"] == "9133 0100"
    assert seen["chosen"] == "已选择：licence.jpg"
    assert seen["done"] == "已核验：核验通过" and seen["latest_focused"] is True
    assert seen["outcome"] == "核验通过"
    assert seen["code"] == "91330100716105852F"
    assert seen["made"] == "已核验 5 项，未核验 0 项。"
    assert seen["photo_loaded"] is True


def _in_the_form_engine(url: str, codes: list[Any]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {"errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.goto(f"{url}/forms/customer_manager_visit/preview?lang=zh")
        page.wait_for_function("window.roundsRules !== undefined")
        seen["answers"] = page.evaluate(
            """(codes) => codes.map((c) => [
                 window.roundsRules.evaluate({"uscc_valid": [{"var": "c"}]}, {c}),
                 window.roundsRules.evaluate({"uscc_region": [{"var": "c"}]}, {c})])""", codes)
        browser.close()
    return seen


def test_a_forms_rules_use_the_operations_in_the_browser(enabled_server: Any) -> None:
    """Any definition's rule may use uscc_valid: the form engine of the phone pages (which
    imports the enabled extensions' operations) answers as the server does."""
    from rounds_business_licence.uscc import uscc_region, uscc_valid

    server, _ = enabled_server
    good = "91330100716105852F"
    codes: list[Any] = [good, "9144030071526726XG", good[:17] + "G", good.lower(), None, 7]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        seen = pool.submit(_in_the_form_engine, server.url, codes).result()
    assert seen["errors"] == []
    assert seen["answers"] == [[uscc_valid(c), uscc_region(c)] for c in codes]
    assert seen["answers"][0] == [True, "330100"] and seen["answers"][2] == [False, None]
