"""The admin app's people and places in Chromium: the administrator imports a CSV of sites
with a bad row and sees the row-by-row report (nothing stored), creates a person (the
password shown once) and a site of a kind with attributes (a planted mistake shown at its
field, fixed), and prints the QR sheet (N codes, the chrome hidden in print). Every page is
photographed at 390×844 and 1366×900 in Chinese and English into /work/shots/people (or
$ROUNDS_SHOTS/people) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import sign_in
from support.fieldwork import PASSWORD, Live, live_city

pytestmark = pytest.mark.browser

WAIT = 20000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots")) / "people"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
HEADER = ("code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,"
          "grade,delivery_cycle,business_type\n")
GOOD_ROW = ("imp_1,导入一,retailer,north,31.2,121.4,路 1,310101000101,导入一,吴,3,weekly,"
            "supermarket\n")
BAD_ROW = "imp_2,导入二,retailer,nowhere,91,121.4,路 2,12,导入二,郑,3,weekly,supermarket\n"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # Seeded in a thread of its own: Playwright keeps an event loop in this one, where the
    # seeding's asyncio.run would refuse to start.
    import concurrent.futures
    from contextlib import ExitStack

    with ExitStack() as stack, concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield pool.submit(stack.enter_context, live_city(
            tmp_path_factory.mktemp("admin-places"), "sqlite")).result()


def open_admin(browser: Any, city: Live, path: str, viewport: dict[str, int],
               errors: list[str]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A 422 is the answer to a form with mistakes (admin.js puts it in place): expected.
    page.on("console", lambda m: errors.append(m.text)
            if (m.type == "error" and "status of 422" not in m.text)
            or "Content Security Policy" in m.text else None)
    sign_in(page, city.url, "admin", next_path="/admin", password=PASSWORD)
    page.goto(city.url + path)
    page.wait_for_load_state()
    return page


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header over the page otherwise
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def answered(page: Any, before: int) -> None:
    """Wait for admin.js to put the answer to a form in place."""
    page.wait_for_function(f"Number(document.body.dataset.answers || 0) > {before}",
                           timeout=WAIT)


def test_admin_imports_a_csv_of_sites_with_a_bad_row_and_sees_the_report(
        browser: Any, city: Live, tmp_path: Path) -> None:
    errors: list[str] = []
    page = open_admin(browser, city, "/admin/imports?lang=zh", DESKTOP, errors)
    csv_file = tmp_path / "sites.csv"
    csv_file.write_text(HEADER + GOOD_ROW + BAD_ROW, encoding="utf-8")
    form = page.locator("[data-import-kind=sites] form")
    form.locator("input[type=file]").set_input_files(str(csv_file))
    form.locator("button[type=submit]").click()
    report = page.locator("[data-import-report=refused]")
    report.wait_for(timeout=WAIT)
    assert "没有导入" in report.inner_text()
    rows = page.locator("[data-row-errors] tbody tr")
    cells = [(r.get_attribute("data-row"), r.get_attribute("data-column"))
             for r in rows.all()]
    assert ("3", "org_unit") in cells and ("3", "lat") in cells and ("3", "licence_no") in cells
    assert all(row == "3" for row, _ in cells)  # the good row has no error
    # Focus went to the report, so a screen reader reads it out.
    assert page.evaluate("document.activeElement.dataset.importReport") == "refused"
    shoot(page, "imports-report-desktop-zh")
    page.goto(city.url + "/admin/sites?lang=zh&q=imp_")
    assert page.locator("[data-no-sites]").count() == 1  # nothing stored
    assert not errors, errors


def test_admin_creates_a_person_and_a_site_and_prints_the_qr_sheet(
        browser: Any, city: Live) -> None:
    errors: list[str] = []
    page = open_admin(browser, city, "/admin/people/new?lang=zh", PHONE, errors)
    page.fill("#f-username", "qian2")
    page.fill("#f-display-name", "钱经理")
    page.select_option("#f-role-id", "customer_manager")
    page.select_option("#f-org-unit", "north")
    page.fill("#f-phone", "13900002222")
    page.click("[data-person-form] button[type=submit]")
    page.locator("[data-password-once]").wait_for(timeout=WAIT)
    password = page.locator("[data-password]").inner_text()
    assert len(password) >= 8
    shoot(page, "person-created-phone-zh")

    page.goto(city.url + "/admin/sites/new?kind=retailer&lang=zh")
    page.fill("#f-code", "shop_b2")
    page.fill("#f-name", "便民超市")
    page.select_option("#f-org-unit", "north")
    page.fill("#f-lat", "31.231")
    page.fill("#f-lng", "121.474")
    page.fill("#f-address", "北京东路 2 号")
    page.fill("#f-attributes-licence-no", "310101000222")
    page.fill("#f-attributes-shop-name", "便民超市")
    page.fill("#f-attributes-owner-name", "钱")
    page.fill("#f-attributes-grade", "99")  # the planted mistake: grades go to 30
    page.select_option("#f-attributes-delivery-cycle", "weekly")
    page.select_option("#f-attributes-business-type", "supermarket")
    page.click("[data-site-form] button[type=submit]")
    answered(page, 0)
    grade = page.locator("#f-attributes-grade")
    assert grade.get_attribute("aria-invalid") == "true"
    assert page.locator("[data-error-for='attributes.grade']").count() == 1
    assert page.locator("[data-error-for]").count() == 1  # only that one
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    shoot(page, "site-error-phone-zh")
    grade.fill("12")
    page.click("[data-site-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/sites/\d+\?.*"), timeout=WAIT)
    assert page.locator("[data-notice]").count() == 1
    assert page.locator("img[data-qr]").count() == 1

    page.goto(city.url + "/admin/sites/qr-sheet?lang=zh&kind=retailer")
    cards = page.locator(".ad-sheet-card")
    assert cards.count() == 4  # shop_a, shop_b, shop_c, shop_b2
    assert page.locator("[data-sheet-count]").get_attribute("data-sheet-count") == "4"
    for img in page.locator(".ad-sheet-card img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    page.emulate_media(media="print")
    assert not page.locator(".ad-nav").is_visible()
    assert not page.locator("[data-print]").is_visible()
    assert cards.first.is_visible()
    page.emulate_media(media="screen")
    assert not errors, errors


PAGES = [("org-tree", "/admin/orgs"), ("people", "/admin/people"),
         ("person-new", "/admin/people/new"), ("person", "/admin/people/{zhang}"),
         ("org-unit", "/admin/orgs/{north}"), ("sites", "/admin/sites"),
         ("site-new", "/admin/sites/new?kind=retailer"), ("site", "/admin/sites/{shop_a}"),
         ("qr-sheet", "/admin/sites/qr-sheet?kind=retailer"), ("imports", "/admin/imports"),
         ("plans", "/admin/plans")]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_photographed(browser: Any, city: Live, lang: str, size: str) -> None:
    import httpx

    with httpx.Client(base_url=city.url, headers=city.auth["admin"]) as c:
        units = {n["code"]: n["id"] for root in c.get("/api/org-units").json()["items"]
                 for n in [root, *root["children"]]}
    ids = {"zhang": city.field.users["zhang"], "north": units["north"],
           "shop_a": city.field.sites["shop_a"]}
    errors: list[str] = []
    viewport = PHONE if size == "phone" else DESKTOP
    page = open_admin(browser, city, f"/admin?lang={lang}", viewport, errors)
    for name, path in PAGES:
        url = path.format(**ids)
        page.goto(f"{city.url}{url}{'&' if '?' in url else '?'}lang={lang}")
        page.wait_for_load_state()
        assert page.locator("h1").count() == 1, name
        # Nothing wider than the screen: tables scroll in their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
            name
        shoot(page, f"{name}-{size}-{lang}")
        if size == "phone":  # the narrowest phone too
            page.set_viewport_size({"width": 320, "height": 640})
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth + 1"), name
            page.set_viewport_size(viewport)
    # The plans page with its result.
    page.goto(f"{city.url}/admin/plans?lang={lang}")
    page.select_option("#f-unit", str(units["north"]))
    page.click("[data-plans-form] button[type=submit]")
    page.locator("[data-plan-result]").wait_for(timeout=WAIT)
    shoot(page, f"plans-result-{size}-{lang}")
    assert not errors, errors
