"""Every list page in Chromium, a page at a time with its count: my day (nearest first from
the emulated position, plan order and "distance unknown" without one), my issues, the issue
board and the inbox, in Chinese and English; and the glossary's words on the rendered pages.

A server of its own, seeded straight into its database: a customer manager with 25 retailers
north of the browser's position (named in the reverse order of their distances), 25 issues
assigned to them by their station head, and 25 notifications.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from support.browser import sign_in
from support.field import retailer_attributes
from support.live import LiveServer, run_async

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)  # where the browser is (tests/browser/conftest.py)
SITES = 25
ISSUES = 25
NOTICES = 25
WAIT = 15000


def north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / 6_371_008.8 * 180 / math.pi, HERE[1]


def shop_name(i: int) -> str:
    """The i-th nearest shop (0: the nearest), named so that by name it is the farthest."""
    return f"零售户 {SITES - i:02d}"


@dataclass
class World:
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url


def seed(server: LiveServer) -> World:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.issues.models import Issue
    from rounds.runtime.notifications.service import notify
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site
    from rounds.runtime.visits.plans import generate_month_plans, month_of

    async def run() -> World:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                unit = await create_org_unit(db, code="east", kind="station",
                                             name_zh="东区管理所", name_en="East station",
                                             parent_code="city")
                cm = await create_user(db, username="cm_list", display_name="客户经理 甲",
                                       role_id="customer_manager", org_unit_code="east",
                                       password=PASSWORD, language="zh")
                head = await create_user(db, username="head_list", display_name="所长 乙",
                                         role_id="station_head", org_unit_code="east",
                                         password=PASSWORD, language="zh")
                site_ids = []
                for i in range(SITES):
                    lat, lng = north(60 + 150 * i)  # the i-th nearest, 150 m apart
                    site = await create_site(db, None, site_kind="retailer", code=f"L{i:02d}",
                                             name=shop_name(i), lat=lat, lng=lng,
                                             org_unit="east", address=f"滨湖路 {i} 号",
                                             attributes=retailer_attributes(f"L{i:02d}"))
                    await db.flush()
                    site_ids.append(site.id)
                    db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                          user_id=cm.id))
                await db.flush()
                await generate_month_plans(
                    db, month_of(datetime.now(ZoneInfo("Asia/Shanghai")).date()))
                now = datetime.now(UTC)
                for i in range(ISSUES):
                    db.add(Issue(title=f"价签缺失 {i:02d}", source="assigned",
                                 severity="medium", status="assigned", site_id=site_ids[i],
                                 org_unit_id=unit.id, assigner_id=head.id, assignee_id=cm.id,
                                 reporter_id=head.id, due_at=now + timedelta(days=3 + i),
                                 created_at=now - timedelta(minutes=i)))
                for i in range(NOTICES):
                    await notify(db, user_ids=[cm.id], kind="issue_assigned",
                                 message={"zh": f"新问题交办给您：价签缺失 {i:02d}",
                                          "en": f"New issue assigned to you: {i:02d}"},
                                 dedupe_key=f"paged-{i}")
            return World(server)
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("lists-server"))
    try:
        yield seed(server)
    finally:
        server.stop()


def stop_names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator("[data-stop] .fw-site").all_inner_texts()]


def page_line(page: Any, scope: str = "") -> str:
    return str(page.locator(f"{scope} [data-pager] [data-page-line]".strip()).first
               .inner_text())


def test_my_day_every_site_nearest_first_a_page_at_a_time(world: World, page: Any,
                                                          page_errors: list[str]) -> None:
    sign_in(page, world.url, "cm_list", "/today")
    # the browser's position: the server sorts the whole list and the page takes its order
    page.wait_for_selector("[data-day][data-sorted=near]", timeout=WAIT)
    assert "near=" in page.url
    assert stop_names(page) == [shop_name(i) for i in range(20)]
    assert page.locator("[data-stop] [data-distance]").first.inner_text() == "60 米"
    assert page_line(page) == f"第 1 / 2 页，共 {SITES} 家零售户"
    assert page.locator("[data-day-status]").inner_text().startswith("按离您的距离由近到远排序")
    # the next page keeps the position: the farthest five
    with page.expect_navigation():
        page.locator("[data-pager] a[rel=next]").click()
    assert "near=" in page.url and "page=2" in page.url
    page.wait_for_selector("[data-day][data-sorted=near]")
    assert stop_names(page) == [shop_name(i) for i in range(20, SITES)]
    assert page_line(page) == f"第 2 / 2 页，共 {SITES} 家零售户"
    assert page.locator("[data-pager] [aria-current=page]").inner_text() == "2"
    # in English, the same page
    page.goto(page.url.replace("lang=zh", "lang=en"))
    assert page_line(page) == f"Page 2 of 2, {SITES} retailers"
    assert not page_errors


def test_my_day_without_a_position_is_in_plan_order(world: World, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:  # no geolocation permission: the position is refused
        page = ctx.new_page()
        sign_in(page, world.url, "cm_list", "/today")
        page.wait_for_function(
            "document.querySelector('[data-day-status]').textContent.includes('无法获取')",
            timeout=WAIT)
        assert "near=" not in page.url
        assert set(page.locator("[data-stop] [data-distance]").all_inner_texts()) == {"距离未知"}
        # every site due twice: by name then, so the farthest first here
        assert stop_names(page)[0] == shop_name(SITES - 1)
        assert page_line(page) == f"第 1 / 2 页，共 {SITES} 家零售户"
    finally:
        ctx.close()


def test_my_issues_the_board_and_the_inbox_are_paged_with_counts(world: World, page: Any,
                                                                 browser: Any,
                                                                 page_errors: list[str]
                                                                 ) -> None:
    sign_in(page, world.url, "cm_list", "/me/issues")
    mine = "[data-issue-group=assignee]"
    assert page.locator(f"{mine} [data-issue-row]").count() == 20
    assert page.locator(f"{mine} [data-group-count]").inner_text() == str(ISSUES)
    assert page_line(page, mine) == f"第 1 / 2 页，共 {ISSUES} 个问题"
    with page.expect_navigation():
        page.locator(f"{mine} [data-pager] a.fw-page", has_text="2").click()
    assert page.locator(f"{mine} [data-issue-row]").count() == ISSUES - 20
    assert page_line(page, mine) == f"第 2 / 2 页，共 {ISSUES} 个问题"
    page.screenshot(path="/tmp/rounds-my-issues-p2.png", full_page=True)

    page.goto(f"{world.url}/me/notifications?lang=en")
    assert page.locator("[data-notification]").count() == 20
    assert page_line(page) == f"Page 1 of 2, {NOTICES} notifications"
    page.screenshot(path="/tmp/rounds-inbox-en.png", full_page=True)
    page.goto(f"{world.url}/me/notifications?lang=zh&page=2")
    assert page.locator("[data-notification]").count() == NOTICES - 20
    assert page_line(page) == f"第 2 / 2 页，共 {NOTICES} 条通知"
    assert not page_errors

    head_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        head = head_ctx.new_page()
        sign_in(head, world.url, "head_list", "/issues")
        assert head.locator("[data-issue-list=board] [data-issue-row]").count() == 20
        assert page_line(head) == f"第 1 / 2 页，共 {ISSUES} 个问题"
        with head.expect_navigation():
            head.locator("[data-pager] a[rel=next]").click()
        assert head.locator("[data-issue-list=board] [data-issue-row]").count() == ISSUES - 20
        head.goto(head.url.replace("lang=zh", "lang=en"))
        assert page_line(head) == f"Page 2 of 2, {ISSUES} issues"
        head.screenshot(path="/tmp/rounds-board-en-1366.png", full_page=True)
    finally:
        head_ctx.close()


GLOSSARY_NOT = ("代办", "你", "评论", "验证", "分派", "指派", "主管", "双随机", "店铺码")


def test_the_pages_speak_the_glossary(world: World, page: Any) -> None:
    """The rendered Chinese pages: 整改责任人 not 代办人, 您 not 你, 留言, 验收, 交办..."""
    sign_in(page, world.url, "cm_list", "/today")
    page.wait_for_selector("[data-day][data-sorted=near]", timeout=WAIT)
    texts = {"/today": page.locator("body").inner_text()}
    for path in ("/me/issues", "/me/notifications", "/me/submissions"):
        page.goto(f"{world.url}{path}?lang=zh")
        texts[path] = page.locator("body").inner_text()
    issue = page.request.get(f"{world.url}/api/issues/mine").json()
    first = (issue.get("items") or [{}])[0].get("id")
    if first:
        page.goto(f"{world.url}/issues/{first}?lang=zh")
        texts["/issues/{id}"] = page.locator("body").inner_text()
        assert "整改责任人" in texts["/issues/{id}"]
    for path, text in texts.items():
        for word in GLOSSARY_NOT:
            assert word not in text, f"{path} says {word!r}"
    assert "今日待走访零售户" in texts["/today"]
    # and the texts the scripts show (the same catalogue, sent to the page)
    words = page.evaluate("JSON.parse(document.getElementById('fieldwork-config').textContent)"
                          ".text")
    # 双随机抽查 is the glossary's word for a check campaign's drawn site (site and inspector
    # both drawn) and for the campaigns' pages (the nav entry of those who run them), and
    # there only; never for a leader's spot check.
    said = [k for k, v in words.items() for bad in GLOSSARY_NOT if bad in v
            and not (k in ("remaining_campaign", "nav_campaigns") and bad == "双随机")]
    assert said == []
    assert re.search(r"整改责任人", words["assignee"])
