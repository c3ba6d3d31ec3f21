"""Where issues come from, on SQLite and PostgreSQL: a submission's failed items (per the
standard's ``issues`` rules, idempotent), the reconciliation, 交办 and a retailer's feedback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from issue_support import NOW, Loop, aware

from rounds.db import transaction
from rounds.errors import InvalidInput, NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions import service as definitions
from rounds.runtime.issues import lifecycle, queries, sources
from rounds.runtime.people.models import User


def pointers(exc: InvalidInput) -> set[str]:
    return {p.pointer for p in exc.problems}


async def create(loop: Loop, submission_id: str, now: Any = NOW) -> int:
    return await loop.system(sources.create_issues_for_submission, submission_id, now)


async def test_failed_items_become_issues_per_the_standard(loop: Loop) -> None:
    # customer_manager_visit: per item; due 14/7/3/1 days by severity; the site's customer
    # manager rectifies; the station head of the site's unit (or the nearest above) verifies.
    at = NOW - timedelta(hours=3)
    sid = await loop.submission("cm_a", "RA1", "customer_manager_visit", [
        ("display_standard", "low"), ("price_tags_complete", "medium")], at=at, evidence={
        "price_tags_complete": {"photos": ["p1"], "note": "two tags missing"}})
    assert await create(loop, sid) == 2
    issues = await loop.issues(submission_id=sid)
    assert [(i.item_id, i.severity, i.source, i.status) for i in issues] == [
        ("display_standard", "low", "failed_item", "assigned"),
        ("price_tags_complete", "medium", "failed_item", "assigned")]
    assert {i.assignee_id for i in issues} == {loop.uid("cm_a")}
    # RA1 is in area A1, which has no station head: the nearest unit above (st_a) has one.
    assert {i.assigner_id for i in issues} == {loop.uid("head_a")}
    assert {i.reporter_id for i in issues} == {loop.uid("cm_a")}
    # Due from the submission (not from when the issue was made), by severity.
    assert [aware(i.due_at) for i in issues] == [at + timedelta(days=14),
                                                 at + timedelta(days=7)]
    assert [i.priority for i in issues] == [4, 3]
    assert {i.site_id for i in issues} == {loop.world.sites["RA1"]}
    assert {i.org_unit_id for i in issues} == {loop.world.units["area_a1"]}
    # Named as the problem (the item's problem title, not its "passed" wording): in the
    # submitter's language (zh) in `title`, both languages (and the standard's name) kept.
    assert [i.title for i in issues] == ["卷烟陈列杂乱无序", "明码标价不规范"]
    assert issues[1].titles == {
        "zh": "明码标价不规范", "en": "Prices not correctly marked",
        "standard": {"zh": "客户经理拜访服务标准", "en": "Customer manager visit standard"}}
    created = (await loop.events(issues[1].id))[0]
    assert created.action == "created" and created.actor_id is None
    assert created.data["title"] == {"zh": "明码标价不规范", "en": "Prices not correctly marked"}
    assert created.data["note"] == "two tags missing" and created.data["photos"] == ["p1"]
    assert "two tags missing" in issues[1].description
    assert [n.kind for n in await loop.inbox("cm_a")] == ["issue_assigned"] * 2

    # Idempotent: again (a retry, the reconciliation) creates nothing, tells nobody again.
    assert await create(loop, sid, NOW + timedelta(hours=1)) == 0
    assert (await sources.reconcile_missing_issues(loop.sessions, NOW)).made == 0
    assert len(await loop.issues(submission_id=sid)) == 2
    assert len(await loop.inbox("cm_a")) == 2


async def test_english_speakers_get_english_titles(loop: Loop) -> None:
    async with transaction(loop.sessions) as db:
        user = await db.get(User, loop.uid("cm_a"))
        assert user is not None
        user.language = "en"
    sid = await loop.submission("cm_a", "RA1", "customer_manager_visit",
                                [("price_tags_complete", "medium")])
    await create(loop, sid)
    assert [i.title for i in await loop.issues(submission_id=sid)] == [
        "Prices not correctly marked"]


async def test_a_leaders_spot_check_is_verified_by_the_leader(loop: Loop) -> None:
    # leader_spot_check: verify_by the submitter; high severity by default, due in 3 days.
    sid = await loop.submission("leader", "RA1", "leader_spot_check",
                                [("visit_confirmed", "high")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert issue.assignee_id == loop.uid("cm_a") and issue.assigner_id == loop.uid("leader")
    assert aware(issue.due_at) == NOW + timedelta(days=3)


async def test_round_robin_between_two_candidates(loop: Loop) -> None:
    async with transaction(loop.sessions) as db:
        other = User(username="head_a2", display_name="HEAD_A2", role_id="station_head",
                     org_unit_id=loop.world.units["st_a"], password_hash="x")
        db.add(other)
        await db.flush()
        loop.world.users["head_a2"] = other.id
    first = await loop.submission("cm_a", "RA1", "customer_manager_visit", [
        ("display_standard", "low"), ("price_tags_complete", "medium"),
        ("stock_checked", "medium")])
    second = await loop.submission("cm_a", "RA2", "customer_manager_visit",
                                   [("price_tags_complete", "medium")])
    await create(loop, first)
    await create(loop, second)
    assigners = [i.assigner_id for i in await loop.issues()]
    a, b = sorted([loop.uid("head_a"), loop.uid("head_a2")])
    assert assigners == [a, b, a, b]  # taking turns, in a stable order
    # The same data gives the same turns: the choice is computed, not remembered.
    assert await create(loop, first) == 0


async def publish_standard(loop: Loop, definition_id: str, issues: dict[str, Any]) -> None:
    """A small standard written the way a user would, with these issue rules."""
    content = {
        "kind": "standard", "id": definition_id,
        "title": {"zh": "店面卫生", "en": "Shop hygiene"}, "site_kinds": ["retailer"],
        "sections": [{"id": "main", "title": {"zh": "检查", "en": "Checks"}, "items": [
            {"id": "floor_clean", "type": "yes_no", "severity": "low",
             "title": {"zh": "地面整洁", "en": "Floor clean"}},
            {"id": "no_smoking_sign", "type": "yes_no", "severity": "high",
             "title": {"zh": "禁烟标识", "en": "No-smoking sign"}}]}],
        "issues": issues}
    async with transaction(loop.sessions) as db:
        draft = await definitions.save_draft(db, content, "test")
        await definitions.publish(db, definition_id, draft.number)


async def test_one_issue_per_submission_when_the_standard_says_so(loop: Loop) -> None:
    await publish_standard(loop, "shop_hygiene", {
        "per": "submission", "due_days": 2,
        "assign_to": {"role": "customer_manager", "of": "site"}})
    sid = await loop.submission("mi_a", "RA1", "shop_hygiene", [
        ("floor_clean", "low"), ("no_smoking_sign", "high")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert issue.item_id is None and issue.severity == "high"  # the worst of them
    assert issue.title == "店面卫生：2项不合格"
    assert issue.titles is not None  # the failed items, for each reader's language
    assert [t["zh"] for t in issue.titles["items"]] == ["地面整洁", "禁烟标识"]
    assert issue.assignee_id == loop.uid("cm_a")
    # verify_by left out: not the submitter (an inspector may not accept fixes) but the
    # head of the nearest unit who may, the station head over RA1.
    assert issue.assigner_id == loop.uid("head_a")
    assert aware(issue.due_at) == NOW + timedelta(days=2)
    data = (await loop.events(issue.id))[0].data
    assert [i["item_id"] for i in data["items"]] == ["floor_clean", "no_smoking_sign"]
    assert await create(loop, sid) == 0
    assert (await sources.reconcile_missing_issues(loop.sessions, NOW)).made == 0


async def test_the_defaults_never_make_someone_who_cannot_rectify_the_assignee(
        loop: Loop) -> None:
    # No assign_to: the site's staff of the submitter's role, else the submitter; a city
    # leader may not rectify, so the fallback: the head of RB1's station, who may. No
    # verify_by: the nearest head who may accept fixes and is not the assignee (the leader).
    await publish_standard(loop, "shop_safety", {})
    sid = await loop.submission("leader", "RB1", "shop_safety", [("floor_clean", "low")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert (issue.status, issue.assignee_id) == ("assigned", loop.uid("head_b"))
    assert issue.assigner_id == loop.uid("leader")
    assert aware(issue.due_at) == NOW + timedelta(days=14)  # the built-in table: low
    # The same standard filled by the market inspector of RA1: they serve the site, and
    # the station head accepts the fix (not the inspector, whose role may not).
    mine = await loop.submission("mi_a", "RA1", "shop_safety", [("floor_clean", "low")])
    await create(loop, mine)
    (theirs,) = await loop.issues(submission_id=mine)
    assert (theirs.assignee_id, theirs.assigner_id) == (loop.uid("mi_a"), loop.uid("head_a"))


async def test_the_reconciliation_creates_what_is_missing(loop: Loop) -> None:
    # Two submissions whose after-response step was lost (a crash, a restart).
    one = await loop.submission("cm_a", "RA1", "customer_manager_visit", [
        ("display_standard", "low"), ("price_tags_complete", "medium")])
    two = await loop.submission("mi_a", "RA1", "market_inspector_patrol",
                                [("licence_valid", "high")], at=NOW - timedelta(days=1))
    done = await loop.submission("cm_a", "RA2", "customer_manager_visit",
                                 [("stock_checked", "medium")])
    await create(loop, done)
    assert (await sources.reconcile_missing_issues(
        loop.sessions, NOW + timedelta(minutes=1))).made == 3
    assert len(await loop.issues(submission_id=one)) == 2
    (patrol,) = await loop.issues(submission_id=two)
    assert patrol.assignee_id == loop.uid("mi_a")  # the site's market inspector
    assert patrol.assigner_id == loop.uid("head_a")
    assert aware(patrol.due_at) == NOW + timedelta(days=1)  # high: 2 days from the patrol
    assert (await sources.reconcile_missing_issues(loop.sessions, NOW)).made == 0
    assert len(await loop.issues()) == 4


async def test_a_retailers_complaint_is_assigned_by_the_rules(loop: Loop) -> None:
    photo = await loop.photo("shop_ra1")
    issue = await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind="complaint",
                           text="送货总是迟到两个小时", photos=[photo])
    assert issue.source == "complaint" and issue.status == "assigned"
    assert issue.title == "投诉：送货总是迟到两个小时"
    assert issue.site_id == loop.world.sites["RA1"]
    assert issue.reporter and issue.reporter.id == loop.uid("shop_ra1")
    assert issue.assignee and issue.assignee.id == loop.uid("cm_a")  # the shop's manager
    assert issue.assigner and issue.assigner.id == loop.uid("head_a")  # the station head
    assert issue.allowed_actions == ["comment"]
    assert issue.events[0].data["photos"] == [photo]
    assert len(await loop.inbox("cm_a", "issue_assigned")) == 1
    # The retailer follows it and is told when it is closed.
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    fix = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, issue.id, version=started.version,
                          now=NOW, note="talked to the driver", photos=[fix])
    checked = await loop.run("head_a", lifecycle.verify, issue.id, version=done.version, now=NOW)
    # The shop confirms the fix before it closes (the shop's sign-off).
    confirmed = await loop.run("shop_ra1", lifecycle.confirm, issue.id,
                               version=checked.version, now=NOW)
    await loop.run("head_a", lifecycle.close, issue.id, version=confirmed.version, now=NOW)
    assert len(await loop.inbox("shop_ra1", "issue_closed")) == 1
    seen = await loop.run("shop_ra1", queries.get_issue, issue.id, now=NOW)
    assert seen.status == "closed"
    with pytest.raises(NotFound):
        await loop.run("head_b", queries.get_issue, issue.id, now=NOW)


async def test_feedback_is_for_retailers_about_their_shop(loop: Loop) -> None:
    with pytest.raises(Forbidden):
        await loop.run("cm_a", sources.submit_feedback, now=NOW, kind="complaint", text="x")
    with pytest.raises(InvalidInput) as exc:
        await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind="praise", text=" ")
    assert pointers(exc.value) == {"/kind", "/text"}
    theirs = await loop.photo("cm_a")
    with pytest.raises(InvalidInput) as exc:
        await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind="suggestion",
                       text="more brands", photos=[theirs])
    assert pointers(exc.value) == {"/photos/0"}
    idea = await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind="suggestion",
                          text="more brands", title="品规建议")
    assert idea.title == "品规建议" and idea.severity == "low"
    assert idea.due_at == (NOW + timedelta(days=14)).isoformat()


async def test_assigning_checks_role_site_and_assignee(loop: Loop) -> None:
    def assign(**kw: Any) -> dict[str, Any]:
        return {"now": NOW, "site_id": loop.world.sites["RA1"], "title": "整改陈列",
                "assignee_id": loop.uid("cm_a"), **kw}

    with pytest.raises(Forbidden):  # a customer manager does not assign
        await loop.run("cm_a", sources.assign_issue, **assign())
    with pytest.raises(InvalidInput) as exc:
        await loop.run("head_a", sources.assign_issue, **assign(
            site_id=loop.world.sites["RB1"], title=" ", severity="urgent", priority=9,
            due_at=NOW - timedelta(days=1)))
    assert pointers(exc.value) == {"/site_id", "/title", "/severity", "/priority", "/due_at"}
    with pytest.raises(InvalidInput) as exc:
        await loop.run("head_a", sources.assign_issue, **assign(assignee_id=loop.uid("cm_b")))
    assert pointers(exc.value) == {"/assignee_id"}
    with pytest.raises(InvalidInput, match="may not rectify"):  # a retailer's own account
        await loop.run("head_a", sources.assign_issue, **assign(
            assignee_id=loop.uid("shop_ra1")))
    due = NOW + timedelta(days=2)
    issue = await loop.run("head_a", sources.assign_issue, **assign(
        severity="high", priority=1, due_at=due, description="by Friday"))
    assert (issue.severity, issue.priority, issue.due_at) == ("high", 1, due.isoformat())
    # The leader assigns anywhere in the city.
    far = await loop.run("leader", sources.assign_issue, **assign(
        site_id=loop.world.sites["RB1"], assignee_id=loop.uid("cm_b")))
    assert far.assigner and far.assigner.id == loop.uid("leader")


async def test_each_reader_sees_the_problem_title_and_standard_in_their_language(
        loop: Loop) -> None:
    # A zh speaker submits; the issue, its standard and its notification read in English
    # for an English reader, and in Chinese for a Chinese one.
    sid = await loop.submission("cm_a", "RA1", "market_inspector_patrol",
                                [("no_counterfeit", "critical")])
    await create(loop, sid)
    (issue,) = await loop.issues(submission_id=sid)
    assert issue.title == "发现假冒卷烟"  # the problem, not the item's "未发现假冒卷烟"
    async with transaction(loop.sessions) as db:
        user = await db.get(User, loop.uid("head_a"))
        assert user is not None
        user.language = "en"
    head = await loop.run("head_a", queries.get_issue, issue.id, now=NOW)
    assert head.title == "Counterfeit cigarettes found"
    assert head.standard == "Market inspector patrol standard"
    assert "市场" not in head.description
    cm = await loop.run("cm_a", queries.get_issue, issue.id, now=NOW)
    assert (cm.title, cm.standard) == ("发现假冒卷烟", "市管员市场巡查标准")
    (note,) = await loop.inbox("mi_a", "issue_assigned")  # the site's market inspector
    assert "Counterfeit cigarettes found" in note.message["en"]
    assert "发现假冒卷烟" in note.message["zh"]
    assert "发现假冒卷烟" not in note.message["en"]
