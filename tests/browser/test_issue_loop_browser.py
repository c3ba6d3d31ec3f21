"""The closed loop in Chromium, on a real server with its real notification stream (SSE).

A failed item of a customer manager's visit becomes an issue for the shop's customer manager
(the standard's ``issues.assign_to``) and the station head above the shop's market department
(``verify_by``). The customer manager's "my issues" page is open before the visit is
submitted: the new issues must appear there without a reload. The assignee starts and
rectifies with a note and a photo; the station head, in a third browser, verifies and closes
(共同销号), and the issue's page shows the whole history. A refused fix goes back to the
assignee with its reason, shown live on the issue page they have open.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.field import retailer_attributes
from support.fieldwork import body, png_bytes, poor_answers
from support.live import LiveServer, api_token, run_async

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)  # where the phones are (tests/browser/conftest.py)
BOARD_SHOT = Path("/tmp/rounds-issues.png")
ISSUE_SHOT = Path("/tmp/rounds-issue.png")
MINE_SHOT = Path("/tmp/rounds-my-issues.png")
WAIT = 20_000  # ms: a push goes through the database, the channel and the page's refetch
CM, HEAD = "cm_li", "head_wu"
NAMES = {CM: "客户经理 李", HEAD: "Station head Wu"}


@dataclass
class World:
    server: LiveServer
    users: dict[str, int]
    site_id: int
    tokens: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.tokens[who], timeout=30)


def seed(server: LiveServer) -> tuple[dict[str, int], int]:
    """City → station → market department; the shop in the market department, served by
    the customer manager; the station head one level above the shop's unit."""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site

    async def run() -> tuple[dict[str, int], int]:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                                      name_en="East station", parent_code="city")
                await create_org_unit(db, code="east_mkt", kind="market_department",
                                      name_zh="东区市场部", name_en="East market department",
                                      parent_code="east")
                users = {}
                for name, role, unit, lang in ((CM, "customer_manager", "east_mkt", "zh"),
                                               (HEAD, "station_head", "east", "en")):
                    user = await create_user(db, username=name, display_name=NAMES[name],
                                             role_id=role, org_unit_code=unit,
                                             password=PASSWORD, language=lang)
                    users[name] = user.id
                site = await create_site(db, None, site_kind="retailer", code="R1",
                                         name="芙蓉烟酒店", lat=HERE[0], lng=HERE[1],
                                         org_unit="east_mkt", address="芙蓉中路 1 号",
                                         attributes=retailer_attributes("R1"))
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                      user_id=users[CM]))
                return users, site.id
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("issue-loop-server"))
    try:
        users, site_id = seed(server)
        tokens = {u: api_token(server, u, PASSWORD) for u in users}
        yield World(server, users, site_id, tokens)
    finally:
        server.stop()


def phone(browser: Any, errors: list[str], locale: str = "zh-CN") -> Any:
    """A page in a browser context of its own (its own cookies: another person)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                              is_mobile=True, has_touch=True, locale=locale)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def shot(page: Any, path: Path) -> None:
    """A whole-page screenshot from the top (the sticky header stays where it belongs)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def listening(page: Any) -> None:
    """Until the page's notification stream is open (the server listens for its user)."""
    page.wait_for_selector("body[data-live=open]", timeout=WAIT)


def submit_poor_visit(world: World, seed_: int) -> dict[str, Any]:
    """The customer manager submits a visit with failed items (price tags "no", with its
    evidence photo), through the API as the phone's form does."""
    with world.api(CM) as c:
        current = c.get("/api/visits/current").json()["visit"]
        if current:
            visit = int(current["id"])
        else:
            r = c.post("/api/visits", json={"site_id": world.site_id, "gps": {
                "lat": HERE[0], "lng": HERE[1], "accuracy_m": 8}})
            assert r.status_code == 201, r.text
            visit = int(r.json()["id"])
        photo = c.post("/api/photos", files={"file": ("tags.png", png_bytes(seed_),
                                                      "image/png")}).json()["id"]
        version = c.get("/api/definitions/customer_manager_visit").json()["content_hash"]
        answers, evidence = poor_answers(photo)
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, answers,
                                                 evidence=evidence, visit_id=visit))
        assert r.status_code == 201, r.text
        return dict(r.json())


def issues_of(world: World, submission_id: str) -> dict[str, dict[str, Any]]:
    """The submission's issues by item, as the assignee's API sees them."""
    with world.api(CM) as c:
        items = c.get("/api/issues/mine", params={"per_page": 200}).json()["items"]
    return {i["item_id"]: i for i in items if i["submission_id"] == submission_id}


def wait_issues(world: World, submission_id: str, n: int) -> dict[str, dict[str, Any]]:
    import time

    deadline = time.monotonic() + WAIT / 1000
    while True:
        found = issues_of(world, submission_id)
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_issue_pages_need_a_user(world: World) -> None:
    for path in ("/issues", "/issues/1", "/me/issues", "/me/notifications"):
        r = httpx.get(world.url + path, follow_redirects=False)
        assert r.status_code == 303, (path, r.status_code)
        assert r.headers["location"] == "/sign-in?next=" + path.replace("/", "%2F")


def test_a_failed_item_reaches_the_assignee_live_and_both_sign_it_off(
        world: World, browser: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    # The assignee's list is open (and listening) before anything is submitted.
    mine = phone(browser, errors)
    sign_in(mine, world.url, CM, "/me/issues")
    listening(mine)
    assert mine.locator("[data-issue-row]").count() == 0
    mine.evaluate("window.__notReloaded = true")

    sub = submit_poor_visit(world, 11)
    failed = {f["item"] for f in sub["failed_items"]}
    assert "price_tags_complete" in failed

    # Each failed item is an issue for the shop's customer manager: on the open page at once.
    rows = mine.locator("[data-issue-list=assignee] [data-issue-row]")
    expect(rows).to_have_count(len(failed), timeout=WAIT)
    assert mine.evaluate("window.__notReloaded") is True  # refreshed in place, not reloaded
    expect(mine.locator("[data-live-notice]").first).to_contain_text("新问题交办给您")
    expect(mine.locator("[data-bell]")).to_have_attribute("data-unread", str(len(failed)))
    issues = issues_of(world, sub["id"])
    issue = issues["price_tags_complete"]
    assert issue["assignee"]["id"] == world.users[CM]
    assert issue["assigner"]["id"] == world.users[HEAD]  # verify_by: the station head above
    row = mine.locator(f"[data-issue-row='{issue['id']}']")
    expect(row).to_have_attribute("data-status", "assigned")
    shot(mine, MINE_SHOT)
    assert "芙蓉烟酒店" in row.inner_text() and "已交办" in row.inner_text()

    # The assignee starts, then rectifies with a note and a photo taken on the phone.
    row.locator("button[data-action-button=start]").click()
    expect(row).to_have_attribute("data-status", "in_progress", timeout=WAIT)
    row.locator("details[data-action-details=rectify] > summary").click()
    form = row.locator("form[data-issue-action=rectify]")
    form.locator("textarea[name=note]").fill("已补齐两个品规的价签")
    # a push while the fix is half typed (the station head comments): the list refreshes,
    # the row being filled in stays as it is
    refreshed = int(mine.evaluate("document.body.dataset.refreshes || 0"))
    with world.api(HEAD) as c:
        r = c.post(f"/api/issues/{issue['id']}/comment", json={"text": "今天能补齐吗？"})
        assert r.status_code == 200, r.text
    expect(mine.locator("[data-live-notice]").first).to_contain_text("给问题留言",
                                                                      timeout=WAIT)
    mine.wait_for_function(f"Number(document.body.dataset.refreshes) > {refreshed}")
    assert form.locator("textarea[name=note]").input_value() == "已补齐两个品规的价签"
    form.locator("button[data-action-button=rectify]").click()
    photo_error = form.locator("[data-error-for=photos]")
    expect(photo_error).to_have_text("请至少上传一张整改照片。")  # in place, nothing sent
    fixed = tmp_path / "fixed.png"
    fixed.write_bytes(png_bytes(12))
    form.locator("input[type=file]").set_input_files(str(fixed))
    form.locator("figure[data-upload=done]").wait_for(timeout=WAIT)
    form.locator("button[data-action-button=rectify]").click()
    expect(row).to_have_attribute("data-status", "rectified", timeout=WAIT)
    assert mine.evaluate("window.__notReloaded") is True

    # The assigner (the station head, in English) verifies, then closes: both have signed.
    head = phone(browser, errors, locale="en-US")
    sign_in(head, world.url, HEAD, f"/issues/{issue['id']}")
    expect(head.locator("[data-issue-status]").first).to_have_text("To accept")
    assert set(head.locator("[data-actions]").get_attribute("data-actions").split()) >= {
        "verify", "refuse"}
    assert head.locator("[data-fix-note]").inner_text() == "已补齐两个品规的价签"
    with head.expect_navigation():
        head.locator("button[data-action-button=verify]").click()
    expect(head.locator("[data-issue-status]").first).to_have_text("Accepted")
    with head.expect_navigation():
        head.locator("button[data-action-button=close]").click()
    status = head.locator("[data-issue-page] [data-issue-status]")
    expect(status).to_have_text("Closed")
    assert status.get_attribute("data-issue-status") == "closed"

    # The whole history: who did what and when, from which state to which.
    steps = head.locator("[data-history] > li")
    assert [s.get_attribute("data-event") for s in steps.all()] == [
        "create", "assign", "start", "comment", "rectify", "verify", "close"]
    who = [s.locator("[data-who]").inner_text() for s in steps.all()]
    assert who == ["System", "System", NAMES[CM], NAMES[HEAD], NAMES[CM], NAMES[HEAD],
                   NAMES[HEAD]]
    when = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")  # in the company's time zone
    assert all(when.match(s.locator("[data-when]").inner_text()) for s in steps.all())
    moved = [s.locator("[data-moved]").inner_text() for s in steps.all()
             if s.get_attribute("data-to")]
    assert moved == ["To assign", "To assign → Assigned", "Assigned → In progress",
                     "In progress → To accept", "To accept → Accepted",
                     "Accepted → Closed"]
    assert "今天能补齐吗？" in steps.nth(3).inner_text()
    assert head.locator("[data-fact=assignee-signed]").inner_text() != "not yet"
    assert head.locator("[data-fact=assigner-signed]").inner_text() != "not yet"
    assert head.locator("[data-issue-actions]").inner_text().count("Reopen") == 1
    # the evidence: as found (the inspector's note and photo) and the fix; the assigner
    # sees the assignee's photos through the issue
    assert "two tags missing" in head.locator("[data-found]").inner_text()
    for img in head.locator("[data-evidence] img").all():
        img.scroll_into_view_if_needed()
    head.wait_for_function("[...document.querySelectorAll('[data-evidence] img')]"
                           ".every((i) => i.complete && i.naturalWidth > 0)")
    assert head.locator("[data-evidence] img").count() == 2
    shot(head, ISSUE_SHOT)

    # The assignee hears of the verification and the closing: the issue leaves their list.
    expect(row).to_have_count(0, timeout=WAIT)
    assert mine.evaluate("window.__notReloaded") is True
    assert not errors
    head.context.close()
    mine.context.close()


def test_a_refused_fix_goes_back_in_progress_with_its_reason(world: World, browser: Any
                                                              ) -> None:
    errors: list[str] = []
    sub = submit_poor_visit(world, 21)
    issue = wait_issues(world, sub["id"], len(sub["failed_items"]))["display_standard"]
    with world.api(CM) as c:  # started and rectified (the pages did that above)
        photo = c.post("/api/photos", files={"file": ("d.png", png_bytes(22),
                                                      "image/png")}).json()["id"]
        v = c.post(f"/api/issues/{issue['id']}/start", json={"version": issue["version"]})
        assert v.status_code == 200, v.text
        r = c.post(f"/api/issues/{issue['id']}/rectify", json={
            "version": v.json()["version"], "note": "陈列已调整", "photos": [photo]})
        assert r.status_code == 200, r.text

    # The assignee has the issue open while the assigner looks at the fix.
    mine = phone(browser, errors)
    sign_in(mine, world.url, CM, f"/issues/{issue['id']}")
    listening(mine)
    expect(mine.locator("[data-issue-page] [data-issue-status]")).to_have_text("待验收")
    assert mine.locator("[data-issue-actions] button[data-action-button=verify]").count() == 0

    # On a slow line the issue page's script (issues.js) is still loading when the head
    # presses refuse: the press waits for it (it once submitted the form natively, which
    # reloaded the page and did nothing).
    head = phone(browser, errors, locale="en-US")
    held: list[Any] = []
    script = re.compile(r"/issues\.js(\?.*)?$")

    def hold(route: Any) -> None:
        held.append(route)

    head.route(script, hold)
    sign_in(head, world.url, HEAD, f"/issues/{issue['id']}")
    refuse = head.locator("form[data-issue-action=refuse]")
    refuse.locator("button[data-action-button=refuse]").click()
    head.wait_for_function("document.body.dataset.fieldwork === 'ready'")
    assert len(held) == 1 and head.evaluate("document.body.dataset.issues") is None
    held[0].continue_()
    expect(refuse.locator("[data-error-for=reason]")).to_have_text("Give a reason.")
    assert head.url.endswith(f"/issues/{issue['id']}")  # the same page, not a reload
    refuse.locator("textarea[name=reason]").fill("The top shelf is still messy")
    with head.expect_navigation():
        refuse.locator("button[data-action-button=refuse]").click()
    expect(head.locator("[data-issue-page] [data-issue-status]")).to_have_text("In progress")
    last = head.locator("[data-history] > li").last
    assert last.get_attribute("data-event") == "refuse"
    assert last.locator("[data-moved]").inner_text() == "To accept → In progress"
    assert "The top shelf is still messy" in last.locator("[data-reason]").inner_text()
    assert head.locator("[data-fact=assignee-signed]").inner_text() == "not yet"

    # On the assignee's open page: what happened, with the reason, and a reload offered.
    notice = mine.locator("[data-live-notice]").first
    expect(notice).to_contain_text("The top shelf is still messy", timeout=WAIT)
    expect(notice).to_contain_text("这个问题有更新")
    with mine.expect_navigation():
        notice.locator("button").click()
    expect(mine.locator("[data-issue-page] [data-issue-status]")).to_have_text("整改中")
    assert "The top shelf is still messy" in mine.locator("[data-history] > li").last.inner_text()
    assert mine.locator("button[data-action-button=rectify]").count() == 1  # to do again
    assert not errors
    head.context.close()
    mine.context.close()


def test_the_board_counts_filters_and_highlights_overdue(world: World, browser: Any) -> None:
    errors: list[str] = []
    with world.api(HEAD) as c:
        every = c.get("/api/issues", params={"per_page": 200}).json()["items"]
    assert every, "the tests above made issues"
    late = next(i for i in every if i["status"] in ("assigned", "in_progress"))
    overdue_since = datetime.now(UTC) - timedelta(days=2)

    async def make_late() -> None:  # two days past due, as time would make it
        from sqlalchemy import update

        from rounds.db import create_engine
        from rounds.runtime.issues.models import Issue

        engine = create_engine(world.server.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(update(Issue).where(Issue.id == late["id"])
                                   .values(due_at=overdue_since))
        finally:
            await engine.dispose()

    run_async(make_late())
    head = phone(browser, errors, locale="en-US")
    sign_in(head, world.url, HEAD, "/issues")
    expect(head.locator("h1")).to_have_text("Issue board")
    counts = {s: sum(1 for i in every if i["status"] == s) for s in
              ("open", "assigned", "in_progress", "rectified", "verified", "closed",
               "cancelled")}
    shown = {b.get_attribute("data-bar"): int(b.get_attribute("data-count"))
             for b in head.locator("[data-bar]").all()}
    assert shown == counts
    widest = max(counts.values())
    bar = head.locator(f"[data-bar={max(counts, key=lambda s: counts[s])}] .fw-bar")
    # The length comes as data (no inline style under the Content-Security-Policy); the
    # page's script draws it.
    assert bar.get_attribute("data-percent") == "100.0" and widest > 0
    assert bar.evaluate("b => b.style.width") == "100%"
    rows = head.locator("[data-issue-list=board] [data-issue-row]")
    assert rows.count() == len(every)
    red = head.locator(f"[data-issue-row='{late['id']}']")
    assert red.get_attribute("data-overdue") == "true"
    assert "Overdue" in red.locator(".fw-overdue").inner_text()
    shot(head, BOARD_SHOT)

    # overdue only: the filter form; then a bar keeps the filter while choosing a state
    head.locator("details.fw-filters > summary").click()
    head.check("#f-overdue")
    with head.expect_navigation():
        head.locator("[data-board-filters] button[type=submit]").click()
    assert "overdue=true" in head.url
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-issue-row") == str(late["id"])
    assert head.locator("[data-active-filters]").inner_text().startswith("Overdue")
    status_link = head.locator(f"[data-bar={late['status']}] a")
    assert "overdue=true" in status_link.get_attribute("href")
    with head.expect_navigation():
        status_link.click()
    assert f"status={late['status']}" in head.url and "overdue=true" in head.url
    expect(rows).to_have_count(1)
    assert head.locator(f"[data-bar={late['status']}] a").get_attribute("aria-current")
    # by assignee and org unit: the customer manager's, in the market department
    head.goto(f"{world.url}/issues?lang=zh&assignee_id={world.users[CM]}"
              f"&org_unit_id=&status=closed")
    expect(head.locator("h1")).to_have_text("问题看板")
    assert rows.count() == counts["closed"]
    assert all(r.get_attribute("data-status") == "closed" for r in rows.all())
    assert not errors
    head.context.close()


def test_the_inbox_marks_read_and_every_open_bell_follows(world: World, browser: Any) -> None:
    errors: list[str] = []
    with world.api(CM) as c:
        if c.get("/api/notifications/unread-count").json()["unread"] < 2:
            submit_poor_visit(world, 31)  # run alone: some notifications to read
    inbox = phone(browser, errors)
    sign_in(inbox, world.url, CM, "/me/notifications")
    other = inbox.context.new_page()  # the same person in another tab
    other.on("pageerror", lambda e: errors.append(str(e)))
    other.goto(f"{world.url}/today")
    listening(other)
    with world.api(CM) as c:
        unread = c.get("/api/notifications/unread-count").json()["unread"]
    assert unread > 1
    for p in (inbox, other):
        expect(p.locator("[data-bell]")).to_have_attribute("data-unread", str(unread))
        expect(p.locator("[data-bell] [data-unread]")).to_have_text(str(unread))
    first = inbox.locator("[data-notification][data-unread-row]").first
    assert first.locator("a").get_attribute("href").startswith("/issues/")
    first.locator("button[data-mark-read]").click()
    expect(inbox.locator("[data-bell]")).to_have_attribute("data-unread", str(unread - 1))
    expect(other.locator("[data-bell]")).to_have_attribute("data-unread", str(unread - 1),
                                                           timeout=WAIT)
    inbox.locator("button[data-mark-read=all]").click()
    expect(inbox.locator("[data-unread-row]")).to_have_count(0)
    expect(other.locator("[data-bell] [data-unread]")).to_be_hidden(timeout=WAIT)
    assert not errors
    inbox.context.close()
