"""The structured editor in Chromium: an administrator writes a new standard from nothing
(sections, items, a condition made with the rule builder, a score rule, an alert, issue
routing), sees a planted error at its field, fixes it, tests sample answers, keeps them as a
test case and publishes; items move with the keyboard. Screenshots of the editor go to
ROUNDS_SHOTS (when set) in both languages at 1366x900 and 390x844."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from support.browser import sign_in
from support.field import retailer_attributes
from support.live import LiveServer, add_user, run_async

SHOTS = os.environ.get("ROUNDS_SHOTS")
WIDE = {"width": 1366, "height": 900}


def _editor(page: Any) -> None:
    page.wait_for_selector("[data-editor][data-ready=true]")


def _problems(page: Any) -> int:
    return int(page.get_attribute("[data-editor]", "data-problems") or "0")


def _shoot(browser: Any, live: LiveServer, path: str, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        for size, tag in ((WIDE, "1366"), ({"width": 390, "height": 844}, "390")):
            ctx = browser.new_context(viewport=size, locale="zh-CN")
            p = ctx.new_page()
            sign_in(p, live.url, "ed_admin", next_path="/admin")
            p.goto(f"{live.url}{path}{'&' if '?' in path else '?'}lang={lang}")
            _editor(p)
            p.wait_for_timeout(1500)
            p.screenshot(path=f"{SHOTS}/{name}-{lang}-{tag}.png", full_page=tag == "1366")
            ctx.close()


def _shop_with_manager(live: LiveServer, code: str, manager: str) -> None:
    """A shop ``code`` in the city, served by a new customer manager ``manager``."""
    from sqlalchemy import select

    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.people.models import User
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site

    add_user(live, manager, "customer_manager")

    async def run() -> None:
        engine = create_engine(live.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                site = await create_site(db, None, site_kind="retailer", code=code,
                                         name="编辑器测试店", lat=30.4, lng=114.9, org_unit="city",
                                         attributes=retailer_attributes(code))
                user = (await db.execute(select(User).where(User.username == manager))
                        ).scalar_one()
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                      user_id=user.id))
        finally:
            await engine.dispose()

    run_async(run())


def test_an_administrator_writes_tests_and_publishes_a_new_standard(
        live: LiveServer, browser: Any, page_errors: list[str]) -> None:
    add_user(live, "ed_admin", "administrator")
    ctx = browser.new_context(viewport=WIDE, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    sign_in(page, live.url, "ed_admin", next_path="/admin")
    page.goto(f"{live.url}/admin/definitions/new?kind=standard&lang=zh")
    _editor(page)
    page.fill("[data-pointer='/id']", "shelf_check")
    page.fill("[data-pointer='/title/zh']", "陈列检查")
    page.fill("[data-pointer='/title/en']", "Shelf check")

    # the first item: how many facings (a number)
    page.select_option("[data-add-type='/sections/0']", "number")
    page.click("[data-add-item='/sections/0']")
    item = "/sections/0/items/1"
    page.fill(f"[data-pointer='{item}/id']", "facings")
    page.fill(f"[data-pointer='{item}/title/zh']", "陈列数量")
    page.fill(f"[data-pointer='{item}/title/en']", "Facing count")
    page.fill(f"[data-pointer='{item}/weight']", "2")
    # fail when 陈列数量 is less than 3: made with the rule builder
    page.click(f"[data-sub='{item}#conditions'] > summary")
    rule = page.locator(f"[data-rule='{item}/fail_if']")
    rule.locator("[data-rule-field='0']").select_option("facings")
    rule.locator("[data-rule-op='0']").select_option("<")
    rule.locator("[data-rule-value='0']").fill("3")
    # a score rule (half the points under 5), in JSON
    score = page.locator(f"[data-rule='{item}/score']")
    score.locator("[data-rule-json]").click()
    score.locator("textarea").fill(json.dumps(
        {"if": [{"<": [{"var": "facings"}, 5]}, 0.5, 1]}))
    page.click(f"[data-sub='{item}#issue'] > summary")
    page.fill(f"[data-pointer='{item}/problem/zh']", "陈列不足")
    page.fill(f"[data-pointer='{item}/problem/en']", "Too few facings")
    page.fill(f"[data-pointer='{item}/assign_to/role']", "customer_manager")
    page.select_option(f"[data-pointer='{item}/assign_to/of']", "site")
    # an alert
    page.click("[data-add-alert]")
    alert = page.locator("[data-rule='/alerts/0/when']")
    alert.locator("[data-rule-field='0']").select_option("facings")
    alert.locator("[data-rule-op='0']").select_option("==")
    alert.locator("[data-rule-value='0']").fill("0")
    page.fill("[data-pointer='/alerts/0/message/zh']", "货架上没有陈列")
    page.fill("[data-pointer='/alerts/0/message/en']", "Nothing on the shelf")
    # the standard's issue routing
    page.fill("[data-pointer='/issues/verify_by/role']", "station_head")
    page.select_option("[data-pointer='/issues/verify_by/of']", "org_unit")
    page.fill("[data-pointer='/issues/due_days']", "3")

    # a planted error: the item's English title emptied; shown at its field
    page.fill(f"[data-pointer='{item}/title/en']", "")
    page.wait_for_function("document.querySelector('[data-editor]').dataset.problems !== '0'")
    note = page.locator(f".ed-error[data-error-for='{item}/title/en']")
    note.wait_for(state="visible")
    assert "en" in note.inner_text()
    assert page.locator(f"[data-problem='{item}/title']").count() == 1  # and in the list
    assert page.get_attribute(f"[data-pointer='{item}/title/en']", "aria-invalid") == "true"
    # publishing refused while a problem remains
    assert page.get_attribute("[data-publish]", "aria-disabled") == "true"
    page.click("[data-publish]", force=True)
    page.wait_for_selector("[data-status].is-error")
    page.fill(f"[data-pointer='{item}/title/en']", "Facing count")
    page.wait_for_function("document.querySelector('[data-editor]').dataset.problems === '0'")

    # the raw JSON view shows the same working copy, and an edit there reaches the form
    page.click("[data-tab=json]")
    page.wait_for_selector(".cm-editor .cm-content")
    assert '"facings"' in page.inner_text(".cm-content")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.cm-editor')).display") \
        == "flex"  # CodeMirror's own styles applied (its nonce is in the CSP)
    page.click("[data-tab=form]")

    # keyboard reorder: the new item moves up above the first one
    page.focus(f"[data-move='up'][data-at='{item}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-item-at='/sections/0/items/0'] >> text=陈列数量")
    page.click("[data-save]")
    page.wait_for_selector("[data-status]:has-text('版本 1')")

    # sample answers in the preview: 2 facings fail the item and the issue goes to routing;
    # at a sample shop the bench names who would fix it there
    _shop_with_manager(live, "ED1", "ed_cm")
    page.fill("[data-bench-site]", "ED1")
    page.wait_for_selector("[data-editor][data-previewing=false]")
    frame = page.frame_locator("[data-preview]")
    frame.locator("[data-item='facings'] input").fill("2")
    frame.locator("[data-item='item_1'] input[value='yes']").check()
    frame.locator("button[type=submit]").click()
    page.wait_for_selector("[data-bench-score]")
    assert "陈列不足" in page.inner_text("[data-bench-failed]")
    assert "66.7%" in page.inner_text("[data-bench-score]")  # (0.5 × 2 + 1) / 3
    assert page.inner_text("[data-bench-alerts]") == ""  # 2 facings: the shelf is not empty
    assert "customer_manager" in page.inner_text("[data-bench-issues]")
    assert "ed_cm" in page.inner_text("[data-bench-issues]")  # the shop's own manager
    page.fill("[data-case-name]", "两个陈列")
    page.click("[data-case-save]")
    page.wait_for_selector("[data-case='两个陈列']")

    page.click("[data-publish]")
    page.wait_for_selector("[data-status]:has-text('已发布版本 1')")
    assert page.locator("[data-case='两个陈列'][data-passed=true]").count() == 1
    current = httpx.get(f"{live.url}/api/definitions/shelf_check").json()
    assert current["number"] == 1 and current["status"] == "published"
    assert current["content"]["sections"][0]["items"][0]["id"] == "facings"
    assert current["content"]["sections"][0]["items"][0]["fail_if"] == {
        "<": [{"var": "facings"}, 3]}
    if SHOTS:  # the bench with its result and the passed test case, as the author saw them
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/editor-bench-zh-1366.png")
    assert not refused, refused
    assert not page_errors, page_errors
    ctx.close()
    _shoot(browser, live, "/admin/definitions/shelf_check/edit", "editor-standard")
    _shoot(browser, live, "/admin/definitions/new?kind=role", "editor-new-role")


def test_a_new_role_is_written_in_the_json_editor_and_published(
        live: LiveServer, browser: Any, page_errors: list[str]) -> None:
    add_user(live, "ed_admin2", "administrator")
    ctx = browser.new_context(viewport=WIDE, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    sign_in(page, live.url, "ed_admin2", next_path="/admin")
    page.goto(f"{live.url}/admin/definitions/new?kind=role&lang=en")
    _editor(page)
    page.wait_for_selector(".cm-content")
    # the skeleton has no id yet: the validator says so, at /id, in the list and the gutter
    page.wait_for_selector("[data-problem='/id']")
    role = {"kind": "role", "id": "shelf_clerk",
            "title": {"zh": "陈列员", "en": "Shelf clerk"}, "audience": "field_staff",
            "capabilities": ["visit.check_in", "submission.create"], "org_scope": "own_sites"}
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps(role, ensure_ascii=False, indent=2))
    page.wait_for_function("document.querySelector('[data-editor]').dataset.problems === '0'")
    page.click("[data-publish]")
    page.wait_for_selector("[data-status]:has-text('Version 1 published')")
    current = httpx.get(f"{live.url}/api/definitions/shelf_clerk").json()
    assert current["status"] == "published" and current["content"]["title"]["zh"] == "陈列员"
    assert not refused, refused
    assert not page_errors, page_errors
    ctx.close()


def test_the_json_view_completes_from_the_kinds_meta_schema(
        live: LiveServer, browser: Any, page_errors: list[str]) -> None:
    add_user(live, "ed_admin3", "administrator")
    ctx = browser.new_context(viewport=WIDE, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    sign_in(page, live.url, "ed_admin3", next_path="/admin")
    page.goto(f"{live.url}/admin/definitions/new?kind=site_kind&lang=zh")
    _editor(page)
    page.wait_for_selector(".cm-content")
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type('{"kind": "site_kind", ')
    page.keyboard.type('"')  # the editor closes the quote; the cursor is inside
    page.keyboard.press("Control+Space")
    options = page.locator(".cm-tooltip-autocomplete li")
    # (typing opened lists on the way: wait for this place's own)
    page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('attributes')")
    offered = options.all_inner_texts()
    for name in ("id", "title", "attributes", "check_in"):
        assert any(o.startswith(name) for o in offered), (name, offered)
    assert not any(o.startswith("kind") for o in offered), offered  # already there
    assert any("必填" in o for o in offered), offered  # the required ones say so, in Chinese
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/complete-zh-1366.png")
    # narrowing by typing, then Enter picks it: the property name, quoted, and its colon
    page.keyboard.type("attr")
    page.wait_for_function("document.querySelectorAll('.cm-tooltip-autocomplete li').length === 1")
    page.wait_for_timeout(200)  # CodeMirror ignores Enter for 75 ms after the list changes
    page.keyboard.press("Enter")
    text = page.evaluate("document.querySelector('.cm-content').innerText")
    assert '"attributes": ' in text, text
    # inside an attribute (through $defs/$ref): its type's enum values are offered
    page.keyboard.type('[{"type": ')
    page.keyboard.type('"')
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('\"number\"')")
    values = options.all_inner_texts()
    assert {'"text"', '"number"', '"choice"'} <= {v.split()[0] for v in values}, values
    page.keyboard.type("num")
    page.wait_for_function("document.querySelectorAll('.cm-tooltip-autocomplete li').length === 1")
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    text = page.evaluate("document.querySelector('.cm-content').innerText")
    assert '"type": "number"' in text, text
    # in English the meta-schema's descriptions come along, for a nested object too
    page.goto(f"{live.url}/admin/definitions/new?kind=role&lang=en")
    _editor(page)
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type('{"kind": "role", "check_in": {')
    page.keyboard.type('"rad')
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".cm-completionInfo:has-text('farthest distance')")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/complete-en-1366.png")
    assert not page_errors, page_errors
    ctx.close()
