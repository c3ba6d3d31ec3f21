"""An administrator rolls a standard back, in Chromium on a real server (issue 13).

On a desktop the administrator opens the admin app from the 管理 link, finds the customer
manager's visit standard, and imports a file of it with two planted mistakes (a site kind
and an issue rule's role that do not exist): it becomes the draft. Publishing it is refused
and every mistake is shown at its JSON pointer, the summary focused. A corrected file is
imported (the same draft), published and current; the diff page names the changed title.
The rollback without a reason is refused next to the reason's box; with one, the earlier
version is current again. The export downloads the file `rounds definitions sync` reads.
The audit page lists each step with who did it. Screenshots of every admin page in both
languages at 1366×900 and 390×844 go to $ROUNDS_SHOTS/admin.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.field import DEFINITIONS
from support.live import LiveServer, add_user

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
WAIT = 20_000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots")) / "admin"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 700}  # checked, not kept
ADMIN, FIELD = "admin_wu", "cm_field"
STANDARD = "customer_manager_visit"
NEW_TITLE = "客户经理拜访（十二月版）"


@dataclass
class World:
    server: LiveServer
    files: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("admin-browser")
    server = LiveServer(folder / "server")
    try:
        add_user(server, ADMIN, "administrator")
        add_user(server, FIELD, "customer_manager")
        files = folder / "files"
        files.mkdir()
        shipped = json.loads((DEFINITIONS / "standards" / f"{STANDARD}.json").read_text())
        fixed = {**shipped, "title": {**shipped["title"], "zh": NEW_TITLE}}
        planted = {**fixed, "site_kinds": [*shipped["site_kinds"], "no_such_kind"],
                   "issues": {**shipped["issues"],
                              "assign_to": {"role": "no_such_role", "of": "site"}}}
        broken = {**fixed, "id": "broken_new", "pass_percentage": "high",
                  "title": {"zh": "坏文件"}, "site_kinds": "retailer"}
        for name, content in (("planted", planted), ("fixed", fixed), ("broken", broken)):
            (files / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False),
                                                encoding="utf-8")
        yield World(server, files)
    finally:
        server.stop()


def new_page(browser: Any, errors: list[str], viewport: dict[str, int]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # (a refused form's 422 is logged by the browser as a failed load: that is expected)
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    return page


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def answered(page: Any, before: int) -> None:
    """Wait for admin.js to put a form's answer in place (or follow its redirect)."""
    page.wait_for_function(
        f"() => Number(document.body.dataset.answers || 0) > {before} || "
        "!document.querySelector('[data-status]')?.textContent", timeout=WAIT)


def current(page: Any) -> str:
    return str(page.locator("[data-current-version]").get_attribute("data-current-version"))


def test_an_administrator_publishes_fixes_and_rolls_a_standard_back(world: World,
                                                                    browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, DESKTOP)
    sign_in(page, world.url, ADMIN, "/admin")
    shoot(page, "home-zh-1366")
    expect(page.locator('[data-nav="admin"]')).to_have_attribute("aria-current", "page")
    page.click('[data-card="definitions"] h2 a')
    page.wait_for_url(re.compile(r"/admin/definitions\?"))
    page.fill("#f-q", "客户经理")
    page.click("form[data-filters] button[type=submit]")
    page.click(f'tr[data-definition="{STANDARD}"] a')
    page.wait_for_url(re.compile(rf"/admin/definitions/{STANDARD}\?"))
    earlier = current(page)
    assert earlier

    # The file with two planted mistakes becomes the draft.
    page.set_input_files("#f-file", str(world.files / "planted.json"))
    with page.expect_navigation():
        page.click("form[data-import] button[type=submit]")
    draft = page.locator('tr[data-status="draft"]').first.get_attribute("data-version")
    assert draft and int(draft) > int(earlier)
    expect(page.locator("[data-badge=draft]").first).to_be_visible()

    # Publishing it is refused: each mistake at its pointer, the summary focused.
    page.click(f'form[data-publish="{draft}"] button[type=submit]')
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused(timeout=WAIT)
    pointers = {p.get_attribute("data-pointer") for p in
                page.locator("[data-problem]").all()}
    assert pointers == {"/site_kinds/1", "/issues/assign_to/role"}
    expect(page.locator('[data-pointer="/issues/assign_to/role"]')).to_contain_text(
        "no_such_role")
    assert current(page) == earlier
    shoot(page, "definition-refused-zh-1366")

    # Fixed by importing the corrected file: the same draft, published.
    page.set_input_files("#f-file", str(world.files / "fixed.json"))
    with page.expect_navigation():
        page.click("form[data-import] button[type=submit]")
    assert page.locator('tr[data-status="draft"]').first.get_attribute("data-version") == draft
    with page.expect_navigation():
        page.click(f'form[data-publish="{draft}"] button[type=submit]')
    assert current(page) == draft
    expect(page.locator("h1")).to_have_text(NEW_TITLE)

    # The diff between the two names the title.
    page.click(f'tr[data-version="{earlier}"] [data-diff-link]')
    page.wait_for_url(re.compile(r"/diff\?"))
    expect(page.locator("[data-diff] tbody tr")).to_have_count(1)
    expect(page.locator("[data-diff]")).to_contain_text(NEW_TITLE)
    shoot(page, "diff-zh-1366")
    page.go_back()

    # The rollback needs a reason, then makes the earlier version current again.
    row = page.locator(f'tr[data-version="{earlier}"]')
    row.locator("details summary").click()
    row.locator("form[data-rollback] button[type=submit]").click()
    expect(page.locator('[data-error-for="reason"]')).to_be_visible(timeout=WAIT)
    row = page.locator(f'tr[data-version="{earlier}"]')
    expect(row.locator("input[name=reason]")).to_have_attribute("aria-invalid", "true")
    row.locator("input[name=reason]").fill("十二月版标题有误，先用原来的")
    with page.expect_navigation():
        row.locator("form[data-rollback] button[type=submit]").click()
    assert current(page) == earlier
    expect(page.locator(f'tr[data-version="{earlier}"][data-current]')).to_be_visible()
    shoot(page, "definition-zh-1366")

    # The export is the file sync reads: the earlier (current) content.
    with page.expect_download() as got:
        page.click("[data-export]")
    exported = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert exported == json.loads(
        (DEFINITIONS / "standards" / f"{STANDARD}.json").read_text())

    # The audit page lists each step, newest first, with who did it.
    page.click('[data-section="audit"]')
    page.wait_for_url(re.compile(r"/admin/audit"))
    actions = [e.get_attribute("data-action") for e in
               page.locator("[data-entry]").all()[:4]]
    assert actions == ["definition.rollback", "definition.publish", "definition.import",
                       "definition.import"]
    expect(page.locator("[data-entry]").first).to_contain_text("十二月版标题有误")
    expect(page.locator("[data-entry]").first.locator("[data-who]")).to_have_text(ADMIN)
    assert errors == []
    page.context.close()


def test_every_admin_page_in_both_languages_and_sizes(world: World, browser: Any) -> None:
    """The screenshots (looked at by a person) and what each page must have at any width
    down to 320 px: the admin sub-navigation, and no page wider than the screen."""
    pages = {"home": "/admin", "definitions": "/admin/definitions",
             "definition": f"/admin/definitions/{STANDARD}",
             "diff": f"/admin/definitions/{STANDARD}/diff", "audit": "/admin/audit"}
    for viewport, size in ((DESKTOP, "1366"), (PHONE, "390"), (NARROW, "")):
        errors: list[str] = []
        page = new_page(browser, errors, viewport)
        sign_in(page, world.url, ADMIN, "/admin")
        for lang in ("zh", "en"):
            for name, path in pages.items():
                page.goto(f"{world.url}{path}?lang={lang}")
                expect(page.locator("[data-admin-nav]")).to_be_visible()
                wide = page.evaluate("() => document.documentElement.scrollWidth")
                assert wide <= viewport["width"], (name, lang, wide)
                if size:
                    shoot(page, f"{name}-{lang}-{size}")
            # A file that is not a definition, imported from the list: refused, with why.
            page.goto(f"{world.url}/admin/definitions?lang={lang}")
            page.set_input_files("#f-import-new", str(world.files / "broken.json"))
            page.click("form[data-import-new] button[type=submit]")
            expect(page.locator("[data-error-summary]")).to_be_focused(timeout=WAIT)
            assert page.locator("[data-problem]").count() >= 2
            assert page.evaluate("() => document.documentElement.scrollWidth") \
                <= viewport["width"]
            if size:
                shoot(page, f"import-refused-{lang}-{size}")
        assert errors == []
        page.context.close()


def test_a_field_user_sees_no_admin_link_and_gets_403(world: World, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, PHONE)
    sign_in(page, world.url, FIELD, "/today")
    expect(page.locator('[data-nav="admin"]')).to_have_count(0)
    response = page.goto(f"{world.url}/admin/definitions")
    assert response is not None and response.status == 403
    page.context.close()
