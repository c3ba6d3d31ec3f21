"""The dashboards in Chromium, as the city leader, a station head and a field user, on a phone
(390×844) and a desktop (1366×900), in Chinese and English: the charts drawn (an SVG or a
canvas inside each chart's box), the map drawn, the tables filled with the store's figures,
a table sorted from the keyboard alone (aria-sort follows), an export downloaded and parsed.
Each page is photographed into /work/wt/shots/ (or $ROUNDS_SHOTS) for a person to look at.

The field and the store rows: tests/support/field.py and tests/support/dashboards.py.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from support.browser import sign_in
from support.dashboards import MONTH, fill_store
from support.field import FieldServer, field_server

pytestmark = pytest.mark.browser

WAIT = 20000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/wt/shots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldServer]:
    # Seeded in a thread of its own: Playwright keeps an event loop in this one, where the
    # seeding's asyncio.run would refuse to start.
    import concurrent.futures
    from contextlib import ExitStack

    with ExitStack() as stack, concurrent.futures.ThreadPoolExecutor(1) as pool:
        srv = pool.submit(stack.enter_context,
                          field_server(tmp_path_factory.mktemp("dash_browser"))).result()
        fill_store(srv)
        yield srv


def open_as(browser: Any, api: FieldServer, who: str, path: str, viewport: dict[str, int],
            errors: list[str]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text else None)
    sign_in(page, api.url, who, next_path=path.replace("&", quote("&")))
    page.wait_for_load_state()
    return page


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_drawn(page: Any) -> None:
    assert page.locator("[data-chart]").count() >= 3
    for chart in page.locator("[data-chart]").all():
        chart.locator("svg, canvas").first.wait_for(state="attached", timeout=WAIT)
    page.wait_for_selector("[data-map][data-drawn] canvas, [data-map][data-drawn] svg",
                           state="attached", timeout=WAIT)


def column_values(page: Any, table: str, index: int) -> list[str]:
    return [str(v) for v in page.eval_on_selector_all(
        f"#{table} tbody tr", f"rows => rows.map(r => r.children[{index}].dataset.value)")]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_leader_dashboard(browser: Any, api: FieldServer, lang: str, size: str) -> None:
    errors: list[str] = []
    page = open_as(browser, api, "leader", f"/dashboard?month={MONTH}&lang={lang}",
                   PHONE if size == "phone" else DESKTOP, errors)
    try:
        wait_drawn(page)
        assert page.locator("#t-units tbody tr").count() == 2
        assert page.locator("#t-people tbody tr").count() == 3
        assert page.locator("#t-flagged tbody tr").count() == 2
        assert page.locator("#t-items tbody tr").count() == 2
        assert page.locator("[data-table=grades_units] tbody tr").count() >= 1
        people = page.locator("[data-table=grades_people] tbody th").all_inner_texts()
        assert {"CM_A", "MI_A", "CM_B"} <= set(people)
        # ranked: st_b (all planned visits done) before st_a
        assert page.locator("#t-units tbody tr").first.inner_text().split()[:2] == ["1", "st_b"]
        nav = page.locator("nav.fw-nav a[aria-current=page]")
        assert nav.inner_text() == ("看板" if lang == "zh" else "Dashboard")
        shoot(page, f"dashboard-leader-{lang}-{size}")
        if lang == "zh":
            # no English on a Chinese page: none of the English catalogue's texts shows
            from rounds.i18n import table

            body = page.inner_text("main")
            english = [t for t in table("dashboards", "en").values()
                       if len(t) > 3 and "{" not in t and t not in ("CSV", "OKR")]
            assert [t for t in english if t in body] == []
        if size == "desktop" and lang == "zh":
            # sort by the visits column (index 2) from the keyboard: Enter, then Space
            button = page.locator("#t-units thead button[data-sort='2']")
            button.focus()
            page.keyboard.press("Enter")
            th = page.locator("#t-units thead th").nth(2)
            assert th.get_attribute("aria-sort") == "ascending"
            assert column_values(page, "t-units", 2) == ["4", "8"]
            page.keyboard.press("Space")
            assert th.get_attribute("aria-sort") == "descending"
            assert column_values(page, "t-units", 2) == ["8", "4"]
            assert page.locator("#t-units thead th").nth(0).get_attribute("aria-sort") == "none"
            # the export, downloaded as a person does, parses to the table's figures
            with page.expect_download() as got:
                page.locator("#s-units ~ * [data-export=csv], "
                             "section[aria-labelledby=s-units] [data-export=csv]").first.click()
            rows = list(csv.reader(io.StringIO(
                Path(got.value.path()).read_text(encoding="utf-8-sig"))))
            assert rows[0][:2] == ["名次", "单位"] and len(rows) == 3
            by_name = {r[1]: r for r in rows[1:]}
            assert (by_name["st_a"][2], by_name["st_b"][2]) == ("8", "4")
            assert float(by_name["st_a"][3]) == 0.5
            # 200% zoom of the desktop: half as many CSS pixels, still no sideways page
            page.set_viewport_size({"width": DESKTOP["width"] // 2,
                                    "height": DESKTOP["height"] // 2})
            page.wait_for_timeout(300)
            assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"] // 2
            shoot(page, "dashboard-leader-zh-zoom200")
        if size == "phone":
            # nothing wider than the phone: tables scroll in their own box; at 320 px too
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            page.set_viewport_size({"width": 320, "height": 700})
            page.wait_for_timeout(300)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
            shoot(page, f"dashboard-leader-{lang}-320")
            # a flagged check-in opens its site's history, the flagged visit marked
            page.locator("#t-flagged tbody a").first.click()
            page.wait_for_url("**/sites/**/history**")
            assert page.locator("#t-history").count() == 1
            shoot(page, f"site-history-{lang}-phone")
    finally:
        page.context.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_station_head_dashboard_and_a_persons_card(browser: Any, api: FieldServer, lang: str,
                                                  size: str) -> None:
    errors: list[str] = []
    page = open_as(browser, api, "head_a", f"/dashboard?month={MONTH}&lang={lang}",
                   PHONE if size == "phone" else DESKTOP, errors)
    try:
        wait_drawn(page)
        names = page.locator("#t-people tbody th").all_inner_texts()
        assert sorted(names) == ["CM_A", "MI_A"]
        assert "st_b" not in page.content() and "RB1" not in page.content()
        shoot(page, f"dashboard-head-{lang}-{size}")
        page.locator("#t-people tbody a", has_text="CM_A").click()
        page.wait_for_url("**/dashboard/people/**")
        assert page.locator("[data-metric='visits.done_ratio'] strong").inner_text() == "50%"
        assert page.locator("#t-sites tbody tr").count() == 2
        shoot(page, f"person-head-{lang}-{size}")
    finally:
        page.context.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_field_user_month(browser: Any, api: FieldServer, lang: str, size: str) -> None:
    errors: list[str] = []
    page = open_as(browser, api, "cm_a", f"/me/month?month={MONTH}&lang={lang}",
                   PHONE if size == "phone" else DESKTOP, errors)
    try:
        left = page.locator("[data-left]").inner_text()
        assert ("还差 4 次" in left and "1 户尚未走访" in left) if lang == "zh" \
            else ("4 still to do" in left and "not visited yet: 1" in left)
        assert page.locator("#t-sites tbody tr").first.locator("th").inner_text() == "Shop RA2"
        assert page.locator("[data-metric='visits.done_ratio'] strong").inner_text() == "50%"
        assert page.locator("[data-metric='submissions.avg_percentage'] strong"
                            ).inner_text() == "85%"
        shoot(page, f"month-field-{lang}-{size}")
        # my grade, explained down to the records behind each key result
        assert page.locator("[data-grade] [data-grade-letter]").first.inner_text() != "—"
        page.locator("[data-explain]").first.click()
        page.wait_for_url("**/okr/service_quality/2026-11/person/**")
        assert page.locator("[data-key-result]").count() == 6
        assert page.locator("[data-explanation] li").count() >= 2
        shoot(page, f"grade-field-{lang}-{size}")
        page.locator("[data-rows-behind] summary").first.click()
        assert page.locator("[data-rows-behind]").first.get_attribute("open") is not None
        page.go_back()
        # /dashboard is not theirs: they land on their month
        page.goto(f"{api.url}/dashboard?month={MONTH}&lang={lang}")
        page.wait_for_url("**/me/month**")
        if size == "phone":
            # sort the plan by "left" with the keyboard
            button = page.locator("#t-sites thead button[data-sort='1']")
            button.focus()
            page.keyboard.press("Enter")
            assert column_values(page, "t-sites", 1) == ["0", "4"]
    finally:
        page.context.close()
    assert not errors, errors
