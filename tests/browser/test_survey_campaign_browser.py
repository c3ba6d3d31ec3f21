"""A market survey task (issue 19 part 5) from end to end in Chromium, on a real server.

The city leader (a desktop) creates the campaign through its form, choosing the market
survey (问卷调查) in the form's select, and draws it. The drawn market inspector (a phone,
390×844) finds the drawn shop on Today, checks in and fills the survey, with a remark that
names a person. The leader's page shows 各题结果: the stock question's chart and its table
with the right counts, the price's statistics, the remark with its filter (the count in a
live region). Closed, the public record labels its form 问卷调查, reads the shop as 已调查,
shows the aggregates and never the remark. Pages are photographed (zh and en, 390 and 1366
wide) into $ROUNDS_SHOTS (default /work/shots/answers).

The world: one shop, served by one market inspector (who may therefore never draw it) and
one other market inspector (who must); the repository's definitions as they are (the
market inspectors' role fills the market survey).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.campaign_city import DRAWN, HERE, LEADER, World, seed
from support.campaign_city import new_page as _new_page
from support.live import LiveServer

pytestmark = pytest.mark.browser

WAIT = 20_000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots/answers"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TITLE = "十二月卷烟价格与库存调查"
SURVEY = "market_price_stock"
REMARK = "中华断货三天，店主李建国说下周到货"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("survey-campaign-browser") / "server")
    try:
        yield World(server, seed(server))
    finally:
        server.stop()


def shoot_all(browser: Any, errors: list[str], base: str, path: str, name: str, *,
              signed_in: bool = True, ready: str = "body") -> None:
    """The page at ``path`` in zh and en, on a phone and a desktop."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("390", PHONE), ("1366", DESKTOP)):
        page = new_page(browser, errors, viewport)
        if signed_in:
            sign_in(page, base, LEADER, "/campaigns")
        for lang in ("zh", "en"):
            page.goto(f"{base}{path}?lang={lang}")
            page.locator(ready).first.wait_for(state="attached", timeout=WAIT)
            page.screenshot(path=str(SHOTS / f"{name}-{lang}-{size}.png"), full_page=True)
        page.context.close()


def test_a_market_survey_task_from_the_form_to_its_public_record(world: World,
                                                                 browser: Any) -> None:
    errors: list[str] = []
    leader = new_page(browser, errors, DESKTOP)
    sign_in(leader, world.url, LEADER, "/campaigns/new")
    # one select, two groups: the standards and the staff surveys
    groups = leader.locator("#f-standard optgroup")
    expect(groups).to_have_count(2)
    assert groups.nth(1).get_attribute("label") == "问卷调查"
    assert SURVEY in groups.nth(1).locator("option").evaluate_all(
        "os => os.map(o => o.value)")
    leader.fill("#f-title", TITLE)
    leader.locator("#f-standard").focus()
    leader.select_option("#f-standard", SURVEY)
    leader.fill("#f-sample-number", "1")
    leader.check("input[name=pool_roles][value=market_inspector]")
    leader.locator("[data-create]").click()
    leader.wait_for_url(re.compile(r".*/campaigns/\d+(\?.*)?$"), timeout=WAIT)
    campaign_url = leader.url.split("?")[0]
    number = campaign_url.rsplit("/", 1)[1]
    assert "卷烟市场价格与库存调查（问卷调查）" in leader.locator(
        "[data-form-kind=survey]").inner_text()

    leader.locator("[data-draw]").click()
    leader.locator("[data-draw-record='1']").wait_for(timeout=WAIT)
    row = leader.locator("[data-site-row=R1]")
    expect(row.locator("[data-team]")).to_have_text("市管员 钱")

    # the drawn inspector, on a phone at the shop, fills the survey
    phone = new_page(browser, errors, PHONE, device_scale_factor=2, is_mobile=True,
                     has_touch=True, permissions=["geolocation"],
                     geolocation={"latitude": HERE[0], "longitude": HERE[1], "accuracy": 12})
    sign_in(phone, world.url, DRAWN, "/today")
    stop = phone.locator(f"[data-stop][data-site-id='{world.site_id}']")
    stop.wait_for(timeout=WAIT)
    assert TITLE in stop.locator("[data-remaining]").inner_text()
    stop.locator("[data-check-in-gps]").click()
    phone.wait_for_url(re.compile(r".*/visits/\d+\?.*new=true.*"), timeout=WAIT)
    phone.locator(f"[data-visit-forms] a[href*='{SURVEY}']").click()
    phone.wait_for_url(f"**/forms/{SURVEY}*")
    phone.wait_for_selector("form[data-ready=true]")
    phone.check("#f-zhonghua_stock-2")  # 断货: its price is hidden
    phone.check("#f-yuxi_stock-0")
    phone.fill("#f-yuxi_price", "240")
    phone.check("#f-yunyan_stock-1")
    phone.fill("#f-yunyan_price", "220")
    phone.check("#f-hongtashan_stock-0")
    phone.fill("#f-hongtashan_price", "100")
    phone.check("#f-prices_marked-0")
    phone.check("#f-sales_trend-1")
    phone.fill("#f-remarks", REMARK)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/submissions/*", timeout=WAIT)

    # the leader's page: submitted (no pass or fail), the answers per question
    leader.goto(campaign_url)
    expect(row).to_have_attribute("data-state", "submitted")
    assert leader.locator("#t-strata [data-col=passed]").count() == 0
    stock = leader.locator("[data-question=zhonghua_stock]")
    stock.locator("[data-chart=bars][data-drawn] svg").wait_for(state="attached",
                                                                timeout=WAIT)
    counts = dict(zip(stock.locator("[data-choices] tbody th").all_inner_texts(),
                      stock.locator("[data-choices] [data-count]").all_inner_texts(),
                      strict=True))
    assert counts == {"充足": "0", "偏紧": "0", "断货": "1", "未作答": "0"}
    price = leader.locator("[data-question=yuxi_price] [data-stat=mean] td")
    assert price.inner_text() in ("240", "240.0")
    remarks = leader.locator("[data-question=remarks]")
    assert REMARK in remarks.inner_text()
    remarks.locator("[data-text-filter]").fill("没有这句话")
    expect(remarks.locator("[data-texts-shown]")).to_have_text("显示 0 / 1 条")
    expect(remarks.locator("[data-text]")).to_be_hidden()
    remarks.locator("[data-text-filter]").fill("李建国")
    expect(remarks.locator("[data-texts-shown]")).to_have_text("显示 1 / 1 条")
    assert leader.locator("[data-answers-csv]").get_attribute("href") == \
        f"/api/campaigns/{number}/answers.csv?lang=zh"
    shoot_all(browser, errors, world.url, f"/campaigns/{number}", "campaign",
              ready="[data-chart=bars][data-drawn] svg")
    shoot_all(browser, errors, world.url, "/campaigns/new", "new")

    # closed: the public record, aggregates only
    leader.locator("[data-close-details] summary").click()
    leader.locator("[data-close]").click()
    leader.locator("[data-closed]").wait_for(timeout=WAIT)
    public = new_page(browser, errors, PHONE)
    public.goto(f"{world.url}/public/campaigns/{number}")
    about = public.locator("[aria-labelledby=s-about]")
    assert "问卷调查" in about.inner_text() and "检查标准" not in about.inner_text()
    expect(public.locator("table[data-sites] tr[data-outcome=checked]")).to_contain_text(
        "已调查")
    answers = public.locator("[data-public-answers]")
    stock_row = answers.locator("[data-question=zhonghua_stock] tr", has_text="断货")
    expect(stock_row.locator("[data-count]")).to_have_text("1")
    assert "平均值" in answers.inner_text()
    assert "李建国" not in public.locator("main").inner_text()
    shoot_all(browser, errors, world.url, f"/public/campaigns/{number}", "public",
              signed_in=False, ready="[data-public-answers]")
    assert errors == []


def new_page(browser: Any, errors: list[str], viewport: dict[str, int], **options: Any) -> Any:
    return _new_page(browser, errors, viewport, console_errors=True, **options)
