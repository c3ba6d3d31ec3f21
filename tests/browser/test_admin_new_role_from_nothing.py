"""Issue 13's first check, as one story in Chromium against one server, started once: an
administrator creates a new site kind, role and standard from nothing in the browser (items,
a condition from the rule builder, a score rule, an alert, issue routing), sees a planted
error at its field, fixes it, tests sample answers and publishes; creates a person of the new
role and a site of the new kind with that person serving it; the person then signs in on a
phone, checks in at the site with its shop code, fills the new standard with a failing
answer, submits and sees the score and the issue raised. No definition file is written and
the server is not restarted. Screenshots of each main step go to /work/shots/e2e (or
$ROUNDS_SHOTS/e2e)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.browser import sign_in
from support.live import LiveServer, add_user, in_database

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots")) / "e2e"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT = 20000
HERE = (28.228304, 112.938814)  # the phone's emulated position, at the stall

KIND = "market_stall"
ROLE = "market_stall_inspector"
STANDARD = "market_stall_check"
SITE_KIND = {"kind": "site_kind", "id": KIND,
             "title": {"zh": "农贸市场摊位", "en": "Farmers' market stall"},
             "attributes": [{"id": "stall_no", "type": "text", "required": True,
                             "title": {"zh": "摊位号", "en": "Stall number"}}]}
ROLE_DOC: dict[str, Any] = {
    "kind": "role", "id": ROLE, "title": {"zh": "市场摊位检查员", "en": "Market stall inspector"},
    "audience": "field_staff",
    "capabilities": ["visit.check_in", "submission.create", "submission.view_own",
                     "issue.rectify"],
    "org_scope": "own_sites", "site_kinds": [KIND], "standards": []}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the definitions published here must not meet other tests'."""
    live = LiveServer(tmp_path_factory.mktemp("new-role-server"))
    try:
        add_user(live, "e2e_admin", "administrator")
        yield live
    finally:
        live.stop()


def _watch(page: Any, errors: list[str]) -> None:
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A 422 is the answer to a form with mistakes (admin.js puts it in place): expected.
    page.on("console", lambda m: errors.append(m.text)
            if (m.type == "error" and "status of 422" not in m.text)
            or "Content Security Policy" in m.text else None)


def _shot(page: Any, name: str, *, full: bool = True) -> None:
    """``full``: the whole page; the editor's is very long and keeps its toolbar fixed at the
    bottom, so it is taken as the screen shows it (scrolled to what matters)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def _editor(page: Any) -> None:
    page.wait_for_selector("[data-editor][data-ready=true]", timeout=WAIT)


def _no_problems(page: Any) -> None:
    page.wait_for_function("document.querySelector('[data-editor]').dataset.problems === '0'",
                           timeout=WAIT)


def _json_publish(page: Any, url: str, path: str, doc: dict[str, Any], version: int,
                  shot: str) -> None:
    """Write a whole definition into the JSON editor (CodeMirror) and publish it."""
    page.goto(f"{url}{path}")
    _editor(page)
    page.wait_for_selector(".cm-content")
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps(doc, ensure_ascii=False, indent=2))
    _no_problems(page)
    _shot(page, shot, full=False)
    page.click("[data-publish]")
    page.wait_for_selector(f"[data-status]:has-text('已发布版本 {version}')", timeout=WAIT)


def _published(url: str, definition_id: str) -> dict[str, Any]:
    current = httpx.get(f"{url}/api/definitions/{definition_id}").json()
    assert current["status"] == "published", current
    return dict(current["content"])


def _write_standard(page: Any, url: str) -> None:
    """The new standard in the structured editor, a planted error seen and fixed, sample
    answers on the bench, published."""
    page.goto(f"{url}/admin/definitions/new?kind=standard&lang=zh")
    _editor(page)
    page.fill("[data-pointer='/id']", STANDARD)
    page.fill("[data-pointer='/title/zh']", "农贸市场摊位检查")
    page.fill("[data-pointer='/title/en']", "Market stall check")
    page.fill("[data-pointer='/site_kinds']", KIND)
    page.fill("[data-pointer='/pass_percentage']", "80")
    # the skeleton's first item: the licence shown (yes / no)
    page.fill("[data-pointer='/sections/0/title/zh']", "证照")
    page.fill("[data-pointer='/sections/0/title/en']", "Licences")
    page.click("[data-item-at='/sections/0/items/0'] > summary")  # items start folded
    page.fill("[data-pointer='/sections/0/items/0/title/zh']", "营业执照公示")
    page.fill("[data-pointer='/sections/0/items/0/title/en']", "Licence displayed")
    # a second section with the price tags counted
    page.click("[data-add-section]")
    page.wait_for_selector("[data-pointer='/sections/1/title/zh']")
    page.fill("[data-pointer='/sections/1/title/zh']", "明码标价")
    page.fill("[data-pointer='/sections/1/title/en']", "Price tags")
    page.click("[data-item-at='/sections/1/items/0'] > summary")
    assert page.input_value("[data-pointer='/sections/1/items/0/id']") == "item_2"
    page.fill("[data-pointer='/sections/1/items/0/title/zh']", "价格公示牌")
    page.fill("[data-pointer='/sections/1/items/0/title/en']", "Price board")
    page.select_option("[data-add-type='/sections/1']", "number")
    page.click("[data-add-item='/sections/1']")
    item = "/sections/1/items/1"
    page.fill(f"[data-pointer='{item}/id']", "price_tags")
    page.fill(f"[data-pointer='{item}/title/zh']", "价签数量")
    page.fill(f"[data-pointer='{item}/title/en']", "Price tags")
    page.fill(f"[data-pointer='{item}/weight']", "2")
    # fail when fewer than 3 price tags: made with the rule builder
    page.click(f"[data-sub='{item}#conditions'] > summary")
    rule = page.locator(f"[data-rule='{item}/fail_if']")
    rule.locator("[data-rule-field='0']").select_option("price_tags")
    rule.locator("[data-rule-op='0']").select_option("<")
    rule.locator("[data-rule-value='0']").fill("3")
    # a score rule: half the points under 5
    score = page.locator(f"[data-rule='{item}/score']")
    score.locator("[data-rule-json]").click()
    score.locator("textarea").fill(json.dumps(
        {"if": [{"<": [{"var": "price_tags"}, 5]}, 0.5, 1]}))
    # the item's issue, routed to the person of the new role serving the stall
    page.click(f"[data-sub='{item}#issue'] > summary")
    page.fill(f"[data-pointer='{item}/problem/zh']", "价签不全")
    page.fill(f"[data-pointer='{item}/problem/en']", "Price tags missing")
    page.fill(f"[data-pointer='{item}/assign_to/role']", ROLE)
    page.select_option(f"[data-pointer='{item}/assign_to/of']", "site")
    # an alert when there is no price tag at all
    page.click("[data-add-alert]")
    alert = page.locator("[data-rule='/alerts/0/when']")
    alert.locator("[data-rule-field='0']").select_option("price_tags")
    alert.locator("[data-rule-op='0']").select_option("==")
    alert.locator("[data-rule-value='0']").fill("0")
    page.fill("[data-pointer='/alerts/0/message/zh']", "摊位没有任何价签")
    page.fill("[data-pointer='/alerts/0/message/en']", "No price tag at the stall")
    # the standard's issue routing
    page.fill("[data-pointer='/issues/assign_to/role']", ROLE)
    page.select_option("[data-pointer='/issues/assign_to/of']", "site")
    page.fill("[data-pointer='/issues/due_days']", "3")

    # the planted error: the item's English title emptied, shown at its field
    page.fill(f"[data-pointer='{item}/title/en']", "")
    page.wait_for_function("document.querySelector('[data-editor]').dataset.problems !== '0'",
                           timeout=WAIT)
    note = page.locator(f".ed-error[data-error-for='{item}/title/en']")
    note.wait_for(state="visible", timeout=WAIT)
    assert page.get_attribute(f"[data-pointer='{item}/title/en']", "aria-invalid") == "true"
    # said in Chinese on the Chinese page, at the field and in the list of problems
    assert note.inner_text() == "这里缺少必填项 en。"
    assert page.inner_text(f"[data-problem='{item}/title']").endswith("这里缺少必填项 en。")
    assert page.get_attribute("[data-publish]", "aria-disabled") == "true"
    note.scroll_into_view_if_needed()
    _shot(page, "03-standard-planted-error", full=False)
    page.fill(f"[data-pointer='{item}/title/en']", "Price tags")
    _no_problems(page)
    page.click("[data-save]")
    page.wait_for_selector("[data-status]:has-text('版本 1')", timeout=WAIT)

    # sample answers on the bench: 2 price tags fail the item, the issue goes to the role
    page.wait_for_selector("[data-editor][data-previewing=false]", timeout=WAIT)
    frame = page.frame_locator("[data-preview]")
    frame.locator("[data-item='price_tags'] input").fill("2")
    frame.locator("[data-item='item_1'] input[value='yes']").check()
    frame.locator("[data-item='item_2'] input[value='yes']").check()
    frame.locator("button[type=submit]").click()
    page.wait_for_selector("[data-bench-score]", timeout=WAIT)
    assert "价签不全" in page.inner_text("[data-bench-failed]")
    assert ROLE in page.inner_text("[data-bench-issues]")
    page.locator("[data-bench-score]").scroll_into_view_if_needed()
    _shot(page, "04-standard-bench", full=False)
    page.click("[data-publish]")
    page.wait_for_selector("[data-status]:has-text('已发布版本 1')", timeout=WAIT)


def test_a_new_role_from_nothing_to_a_scored_visit(server: LiveServer, browser: Any) -> None:
    url = server.url
    errors: list[str] = []
    admin_ctx = browser.new_context(viewport=WIDE, locale="zh-CN")
    page = admin_ctx.new_page()
    _watch(page, errors)
    sign_in(page, url, "e2e_admin", next_path="/admin")

    # 1. the site kind, 2. the role (serving it, no standard yet: that one names the role)
    _json_publish(page, url, "/admin/definitions/new?kind=site_kind&lang=zh", SITE_KIND, 1,
                  "01-site-kind")
    assert _published(url, KIND)["title"]["zh"] == "农贸市场摊位"
    _json_publish(page, url, "/admin/definitions/new?kind=role&lang=zh", ROLE_DOC, 1,
                  "02-role")
    # 3. the standard, 4. the role again, now with its standard
    _write_standard(page, url)
    standard = _published(url, STANDARD)
    assert standard["site_kinds"] == [KIND]
    price_tags = standard["sections"][1]["items"][1]
    assert price_tags["fail_if"] == {"<": [{"var": "price_tags"}, 3]}
    _json_publish(page, url, f"/admin/definitions/{ROLE}/edit?lang=zh",
                  {**ROLE_DOC, "standards": [STANDARD]}, 2, "05-role-with-standard")
    assert _published(url, ROLE)["standards"] == [STANDARD]

    # 5. a person of the new role; the password is shown once
    page.goto(f"{url}/admin/people/new?lang=zh")
    page.fill("#f-username", "stall_li")
    page.fill("#f-display-name", "李检查员")
    page.select_option("#f-role-id", ROLE)
    page.select_option("#f-org-unit", "city")
    page.click("[data-person-form] button[type=submit]")
    page.locator("[data-password-once]").wait_for(timeout=WAIT)
    password = page.locator("[data-password]").inner_text().strip()
    _shot(page, "06-person-created")

    # 6. a site of the new kind, its attribute from the kind, the person serving it
    page.goto(f"{url}/admin/sites/new?kind={KIND}&lang=zh")
    page.fill("#f-code", "stall_a12")
    page.fill("#f-name", "东门菜市场 A12 摊位")
    page.select_option("#f-org-unit", "city")
    page.fill("#f-lat", str(HERE[0]))
    page.fill("#f-lng", str(HERE[1]))
    page.fill("#f-address", "东门菜市场")
    page.fill("#f-attributes-stall-no", "A12")
    page.click("[data-site-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/sites/\d+\?.*"), timeout=WAIT)
    staff = page.locator(f"[data-staff] [data-role='{ROLE}']")
    person = staff.locator("option", has_text="李检查员").get_attribute("value")
    staff.locator("select").select_option(person)
    staff.locator("button[type=submit]").click()
    staff.locator("[data-current]").wait_for(timeout=WAIT)
    assert "李检查员" in staff.locator("[data-current]").inner_text()
    _shot(page, "07-site-with-staff")
    assert not errors, errors
    admin_ctx.close()

    # The code printed on the stall's QR sheet (what the phone's scanner reads).
    def qr_token(db: Any) -> Any:
        from sqlalchemy import select

        from rounds.runtime.sites.models import Site

        return db.scalar(select(Site.qr_token).where(Site.code == "stall_a12"))

    token = in_database(server.database_url, qr_token)

    # 7. the person on a phone: check in by the shop code, the form, a failing answer
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                has_touch=True, locale="zh-CN", permissions=["geolocation"],
                                geolocation={"latitude": HERE[0], "longitude": HERE[1],
                                             "accuracy": 12})
    page = phone.new_page()
    _watch(page, errors)
    sign_in(page, url, "stall_li", password=password)
    page.locator("details.fw-other summary").click()
    page.locator("details.fw-other input[name=code]").fill(f"rounds:checkin:{token}")
    _shot(page, "08-phone-today")
    page.locator("details.fw-other button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/visits/\d+.*"), timeout=WAIT)
    forms = page.locator("[data-visit-forms] a")
    assert forms.count() == 1 and "农贸市场摊位检查" in forms.inner_text()
    _shot(page, "09-phone-visit")
    forms.click()
    page.wait_for_url(f"**/forms/{STANDARD}*", timeout=WAIT)
    page.wait_for_selector("form[data-ready=true]", timeout=WAIT)
    page.check("#f-item_1-0")  # 是
    page.check("#f-item_2-0")
    page.fill("#f-price_tags", "2")  # fewer than 3: fails
    _shot(page, "10-phone-form")
    page.click("button[type=submit]")
    page.wait_for_url("**/submissions/*", timeout=WAIT)

    # 8. the score and the problem raised, then the issue on the person's issue page
    page.wait_for_selector("[data-score]", timeout=WAIT)
    assert page.locator("[data-score]").inner_text().startswith("75%")  # (1 + 1 + 0.5×2) / 4
    assert page.locator("[data-passed]").get_attribute("data-passed") == "false"
    assert "价签不全" in page.locator("[data-problem=price_tags]").inner_text()
    _shot(page, "11-phone-result")
    page.goto(f"{url}/me/issues?lang=zh")
    rows = page.locator("[data-issue-list=assignee] [data-issue-row]")
    rows.first.wait_for(timeout=WAIT)
    assert rows.count() == 1 and "价签不全" in rows.first.inner_text()
    assert "东门菜市场 A12 摊位" in rows.first.inner_text()
    _shot(page, "12-phone-my-issues")
    assert not errors, errors
    phone.close()
