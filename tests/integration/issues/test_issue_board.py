"""Who sees which issues, on SQLite and PostgreSQL: the board in scope, my issues, filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from issue_support import NOW, Loop

from rounds.errors import InvalidInput, NotFound
from rounds.runtime.issues import lifecycle, queries, sources
from rounds.runtime.issues.views import IssueDetail, IssuePage


async def assign(loop: Loop, by: str, site: str, assignee: str, title: str,
                 due_in: timedelta = timedelta(days=7)) -> IssueDetail:
    return await loop.run(by, sources.assign_issue, now=NOW - timedelta(days=10),
                          site_id=loop.world.sites[site], title=title,
                          assignee_id=loop.uid(assignee), due_at=NOW + due_in)


def titles(page: IssuePage) -> list[str]:
    return [i.title for i in page.items]


@pytest.fixture
async def issues(loop: Loop) -> dict[str, IssueDetail]:
    """RA1 → cm_a (due soonest), RA2 → mi_a, RB1 → cm_b (overdue), all assigned by their
    station heads; and a complaint of RA1's retailer."""
    made = {
        "ra1": await assign(loop, "head_a", "RA1", "cm_a", "ra1", timedelta(days=1)),
        "ra2": await assign(loop, "head_a", "RA2", "mi_a", "ra2", timedelta(days=5)),
        "rb1": await assign(loop, "head_b", "RB1", "cm_b", "rb1", -timedelta(days=1)),
    }
    made["complaint"] = await loop.run("shop_ra1", sources.submit_feedback, now=NOW,
                                       kind="complaint", text="x", title="complaint")
    return made


async def board(loop: Loop, who: str, **kw: object) -> IssuePage:
    return await loop.run(who, queries.board, now=NOW, **kw)


async def test_the_board_keeps_to_the_scope(loop: Loop, issues: dict[str, IssueDetail]
                                            ) -> None:
    assert titles(await board(loop, "leader")) == ["rb1", "ra1", "ra2", "complaint"]
    assert titles(await board(loop, "admin")) == ["rb1", "ra1", "ra2", "complaint"]
    assert titles(await board(loop, "head_a")) == ["ra1", "ra2", "complaint"]
    assert titles(await board(loop, "head_b")) == ["rb1"]
    # Without issue.view_scope: only what they are assignee, assigner or reporter of.
    assert titles(await board(loop, "cm_a")) == ["ra1", "complaint"]
    assert titles(await board(loop, "mi_a")) == ["ra2"]
    assert titles(await board(loop, "shop_ra1")) == ["complaint"]
    assert titles(await board(loop, "driver")) == []
    with pytest.raises(NotFound):
        await loop.run("head_b", queries.get_issue, issues["ra1"].id, now=NOW)
    with pytest.raises(NotFound):
        await loop.run("cm_a", queries.get_issue, issues["ra2"].id, now=NOW)
    with pytest.raises(NotFound):
        await loop.run("shop_ra1", queries.get_issue, issues["ra1"].id, now=NOW)


async def test_each_item_says_what_its_reader_may_do(loop: Loop,
                                                     issues: dict[str, IssueDetail]) -> None:
    actions = {i.title: i.allowed_actions for i in (await board(loop, "head_a")).items}
    assert actions["ra1"] == ["cancel", "reassign", "comment"]
    assert {i.title: i.allowed_actions for i in (await board(loop, "cm_a")).items} == {
        "ra1": ["start", "comment"], "complaint": ["start", "comment"]}
    # The leader supervises every site: may cancel and reassign, never start for someone.
    leader = {i.title: i.allowed_actions for i in (await board(loop, "leader")).items}
    assert leader["rb1"] == ["cancel", "reassign", "comment"]


async def test_filters_and_pages(loop: Loop, issues: dict[str, IssueDetail]) -> None:
    assert titles(await board(loop, "leader", overdue=True)) == ["rb1"]
    assert titles(await board(loop, "leader", overdue=False)) == ["ra1", "ra2", "complaint"]
    assert titles(await board(loop, "leader", org_unit_id=loop.world.units["st_a"])) == [
        "ra1", "ra2", "complaint"]
    assert titles(await board(loop, "leader", org_unit_id=loop.world.units["st_b"])) == [
        "rb1"]
    assert titles(await board(loop, "leader", assignee_id=loop.uid("mi_a"))) == ["ra2"]
    assert titles(await board(loop, "leader", site_id=loop.world.sites["RA1"])) == [
        "ra1", "complaint"]
    await loop.run("head_a", lifecycle.cancel, issues["ra2"].id, version=1, now=NOW,
                   reason="dup")
    assert titles(await board(loop, "head_a", status="active")) == ["ra1", "complaint"]
    assert titles(await board(loop, "head_a", status="cancelled")) == ["ra2"]
    assert titles(await board(loop, "head_a", status="cancelled,assigned")) == [
        "ra1", "ra2", "complaint"]
    with pytest.raises(InvalidInput) as exc:
        await board(loop, "head_a", status="done")
    assert [p.pointer for p in exc.value.problems] == ["/status"]
    page = await board(loop, "leader", page=2, per_page=3)
    assert (page.total, page.page, page.per_page, titles(page)) == (4, 2, 3, ["complaint"])
    rb1 = (await board(loop, "leader", overdue=True)).items[0]
    assert rb1.overdue and rb1.site_name == "Shop RB1" and rb1.link == f"/issues/{rb1.id}"


async def test_my_issues_as_assignee_or_assigner(loop: Loop,
                                                 issues: dict[str, IssueDetail]) -> None:
    mine = await loop.run("cm_a", queries.my_issues, now=NOW)
    assert titles(mine) == ["ra1", "complaint"]
    assert titles(await loop.run("head_a", queries.my_issues, now=NOW)) == [
        "ra1", "ra2", "complaint"]
    assert titles(await loop.run("head_a", queries.my_issues, now=NOW, as_="assignee")) == []
    assert titles(await loop.run("head_a", queries.my_issues, now=NOW, as_="assigner",
                                 status="active")) == ["ra1", "ra2", "complaint"]
    # The retailer reported the complaint but neither rectifies nor verifies it.
    assert titles(await loop.run("shop_ra1", queries.my_issues, now=NOW)) == []
    with pytest.raises(InvalidInput):
        await loop.run("cm_a", queries.my_issues, now=NOW, as_="reporter")
