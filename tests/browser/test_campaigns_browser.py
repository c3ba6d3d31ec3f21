"""A random double check (双随机抽查) from end to end in Chromium, on a real server.

The city leader (a desktop) creates the campaign through its form: first with two mistakes
(no title, no inspectors' role), both shown at once in the summary and next to their
fields; then, by the keyboard alone from the summary's link, with the mistakes put right.
The leader draws it. The drawn market inspector (a phone, 390×844) finds the drawn shop on
Today as a 双随机抽查 stop, checks in and submits the campaign's standard with a failed
item. The leader's campaign page then shows the coverage (1 of 1 submitted), the failed
result and the issue it raised; a re-draw without a reason is refused next to the reason's
box; the campaign is closed, and its page says so and offers no action.

The world: one shop, served by one market inspector (who may therefore never draw it) and
one other market inspector (who must); the standard is a small one of two yes/no items,
added to the repository's definitions with the market inspectors' role working with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.campaign_city import DRAWN, HERE, LEADER, World, new_page, seed
from support.field import DEFINITIONS
from support.live import LiveServer

pytestmark = pytest.mark.browser

WAIT = 20_000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/wt/shots"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TITLE = "十二月双随机抽查"

STANDARD = {
    "kind": "standard", "id": "random_check",
    "title": {"zh": "双随机抽查检查标准", "en": "Random double check standard"},
    "site_kinds": ["retailer"], "pass_percentage": 80,
    "sections": [{
        "id": "shop", "title": {"zh": "店面检查", "en": "The shop"},
        "items": [
            {"id": "licence_displayed", "type": "yes_no", "required": True, "weight": 1,
             "title": {"zh": "许可证悬挂在醒目位置", "en": "Licence displayed"},
             "problem": {"zh": "许可证未悬挂", "en": "Licence not displayed"}},
            {"id": "prices_marked", "type": "yes_no", "required": True, "weight": 1,
             "title": {"zh": "卷烟明码标价", "en": "Prices marked"},
             "problem": {"zh": "卷烟未明码标价", "en": "Prices not marked"}},
        ],
    }],
    "issues": {"per": "item", "default_severity": "medium",
               "due_days": {"low": 7, "medium": 3, "high": 2, "critical": 1},
               "assign_to": {"role": "market_inspector", "of": "site"},
               "verify_by": {"role": "station_head", "of": "org_unit"}},
}


def definitions(folder: Path) -> Path:
    """The repository's definitions, the small standard, and the market inspectors' role
    working with it (a drawn inspector submits the campaign's standard)."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    (target / "standards" / "random_check.json").write_text(
        json.dumps(STANDARD, ensure_ascii=False, indent=2), encoding="utf-8")
    role_path = target / "roles" / "market_inspector.json"
    role = json.loads(role_path.read_text(encoding="utf-8"))
    role["standards"] = [*role["standards"], "random_check"]
    role_path.write_text(json.dumps(role, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("campaigns-browser")
    server = LiveServer(folder / "server", definitions=definitions(folder))
    try:
        yield World(server, seed(server))
    finally:
        server.stop()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"campaigns-{name}.png"), full_page=True)


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element ``selector`` has the focus (a person's keyboard path)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement?.matches({selector!r}) ?? false"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def answer(page: Any) -> None:
    """Wait for the page the form's answer put in place (campaigns.js counts them)."""
    page.wait_for_function("Number(document.body.dataset.answers || 0) > 0", timeout=WAIT)


def test_a_random_double_check_from_the_form_to_closing(world: World, browser: Any) -> None:
    errors: list[str] = []
    leader = new_page(browser, errors, DESKTOP)
    sign_in(leader, world.url, LEADER, "/campaigns")
    # the nav entry of those who run campaigns
    expect(leader.locator("nav.fw-nav [data-nav=campaigns]")).to_have_text("双随机抽查")
    leader.locator("[data-new-campaign]").click()
    leader.wait_for_url(re.compile(r".*/campaigns/new(\?.*)?$"))
    # the period's default: today and 30 days on, in the company's time zone
    start, end = leader.input_value("#f-period-start"), leader.input_value("#f-period-end")
    assert start < end

    # two mistakes at once: no title, no inspectors' role
    leader.select_option("#f-standard", "random_check")
    leader.fill("#f-sample-number", "1")
    leader.locator("[data-create]").click()
    summary = leader.locator("[data-error-summary]")
    summary.wait_for(timeout=WAIT)
    assert summary.locator("li").all_inner_texts() == [
        "请填写抽查名称。", "请选择至少一个检查人员岗位。"]
    assert leader.locator("[data-error-for=title]").inner_text() == "请填写抽查名称。"
    assert leader.locator("[data-error-for=pool_roles]").inner_text() == \
        "请选择至少一个检查人员岗位。"
    assert leader.locator("#f-title").get_attribute("aria-invalid") == "true"
    # what was chosen is kept; the summary has the focus
    assert leader.input_value("#f-standard") == "random_check"
    assert leader.input_value("#f-sample-number") == "1"
    assert leader.evaluate("document.activeElement.id") == "error-summary"
    shoot(leader, "new-errors-zh-desktop")

    # put right by the keyboard alone: the summary's link to the title, type, Tab to the
    # role, Space, Tab to the button, Enter
    leader.keyboard.press("Tab")
    assert leader.evaluate("document.activeElement.dataset.summaryFor") == "title"
    leader.keyboard.press("Enter")
    assert leader.evaluate("document.activeElement.id") == "f-title"
    leader.keyboard.type(TITLE)
    tab_to(leader, "input[name=pool_roles][value=market_inspector]")
    leader.keyboard.press("Space")
    assert leader.is_checked("input[name=pool_roles][value=market_inspector]")
    tab_to(leader, "[data-create]")
    leader.keyboard.press("Enter")
    leader.wait_for_url(re.compile(r".*/campaigns/\d+(\?.*)?$"), timeout=WAIT)
    campaign_url = leader.url.split("?")[0]
    expect(leader.locator("h1")).to_have_text(TITLE)
    expect(leader.locator("[data-status-code]").first).to_have_text("草稿")

    # draw it: the record and the one drawn shop, with the inspector who does not serve it
    leader.locator("[data-draw]").click()
    leader.locator("[data-draw-record='1']").wait_for(timeout=WAIT)
    expect(leader.locator("[data-status-code]").first).to_have_text("已抽取")
    row = leader.locator("[data-site-row=R1]")
    expect(row.locator("[data-team]")).to_have_text("市管员 钱")
    expect(row).to_have_attribute("data-state", "not_visited")
    published = leader.locator("[data-published]").get_attribute("href")
    assert published == f"/api/campaigns/{campaign_url.rsplit('/', 1)[1]}/draws/1"

    # the drawn inspector, on a phone at the shop
    phone = new_page(browser, errors, PHONE, device_scale_factor=2, is_mobile=True,
                     has_touch=True, permissions=["geolocation"],
                     geolocation={"latitude": HERE[0], "longitude": HERE[1], "accuracy": 12})
    sign_in(phone, world.url, DRAWN, "/today")
    stop = phone.locator(f"[data-stop][data-site-id='{world.site_id}']")
    stop.wait_for(timeout=WAIT)
    assert "双随机抽查" in stop.locator("[data-remaining]").inner_text()
    assert TITLE in stop.locator("[data-remaining]").inner_text()
    shoot(phone, "today-zh-phone")
    stop.locator("[data-check-in-gps]").click()
    phone.wait_for_url(re.compile(r".*/visits/\d+\?.*new=true.*"), timeout=WAIT)
    phone.locator("[data-visit-forms] a[href*='random_check']").click()
    phone.wait_for_url("**/forms/random_check*")
    phone.wait_for_selector("form[data-ready=true]")
    phone.check("#f-licence_displayed-0")  # 是
    phone.check("#f-prices_marked-1")  # 否: a failed item, an issue
    phone.click("button[type=submit]")
    phone.wait_for_url("**/submissions/*", timeout=WAIT)

    # the leader's page: covered, failed, one issue raised
    leader.goto(campaign_url)
    coverage = leader.locator("[data-campaign-coverage] [data-coverage]")
    expect(coverage).to_have_attribute("data-submitted", "1")
    expect(coverage).to_have_attribute("data-drawn", "1")
    assert "已提交 1 / 抽中 1" in coverage.inner_text()
    expect(row).to_have_attribute("data-state", "submitted")
    expect(row.locator("[data-passed]")).to_have_text("不合格")
    expect(row.locator("[data-issues]")).to_have_text("1 / 0")
    stratum = leader.locator("#t-strata tbody tr").first
    assert stratum.locator("[data-col=submitted]").inner_text() == "1"
    assert stratum.locator("[data-col=failed]").inner_text() == "1"
    leader.locator("[data-chart=strata][data-drawn] svg").wait_for(state="attached",
                                                                  timeout=WAIT)
    shoot(leader, "campaign-zh-desktop")

    # a re-draw needs its reason: refused next to the box, nothing drawn
    leader.locator("[data-redraw]").click()
    error = leader.locator("[data-error-for=reason]")
    error.wait_for(timeout=WAIT)
    assert error.inner_text() == "请填写重新抽取的原因。"
    assert leader.locator("#f-reason").get_attribute("aria-invalid") == "true"
    assert leader.locator("[data-draw-record]").get_attribute("data-draw-record") == "1"
    assert leader.locator("[data-earlier-draws]").count() == 0

    # close it (the button behind its explanation), and it says so
    leader.locator("[data-close-details] summary").click()
    leader.locator("[data-close]").click()
    leader.locator("[data-closed]").wait_for(timeout=WAIT)
    assert "已于" in leader.locator("[data-closed]").inner_text()
    expect(leader.locator("[data-status-code]").first).to_have_text("已结束")
    assert leader.locator("form[data-campaign-form]").count() == 0

    # the list: newest first, its coverage in words
    leader.goto(f"{world.url}/campaigns")
    item = leader.locator("[data-campaign]").first
    assert TITLE in item.inner_text() and "已提交 1 / 抽中 1（100%）" in item.inner_text()

    # published (一公开): anyone, signed in or not, reads the outcome on the public page
    public = new_page(browser, errors, PHONE)
    public.goto(f"{world.url}/public/campaigns/{campaign_url.rsplit('/', 1)[1]}")
    failed = public.locator("table[data-sites] tr[data-outcome=failed]")
    expect(failed).to_have_count(1)
    assert "不合格" in failed.inner_text() and "R1" in failed.inner_text()
    assert "钱" not in public.locator("main").inner_text()  # inspectors hidden by default
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_campaign_pages_speak_one_language(world: World, browser: Any, lang: str) -> None:
    """No text of the other language's catalogue on a page, every key in both catalogues
    (tests/unit/test_i18n.py), and the pages whole at 320 px (no sideways scrolling)."""
    from rounds.i18n import table

    errors: list[str] = []
    page = new_page(browser, errors, {"width": 320, "height": 700})
    sign_in(page, world.url, LEADER, "/campaigns")
    other = "en" if lang == "zh" else "zh"
    words = [t for t in table("campaigns", other).values()
             if len(t) > 3 and "{" not in t and t not in table("campaigns", lang).values()]
    page.goto(f"{world.url}/campaigns?lang={lang}")
    links = [a for a in page.eval_on_selector_all(
        "a[href^='/campaigns/']", "as => as.map(a => a.getAttribute('href'))")
        if re.match(r"/campaigns/\d+", a)]
    for path in ("/campaigns", "/campaigns/new", *links[:1]):
        page.goto(f"{world.url}{path.split('?')[0]}?lang={lang}")
        body = page.inner_text("main").replace(TITLE, "")  # a title is the user's text
        assert [w for w in words if w in body] == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    assert errors == []
