"""Who rectifies and who accepts the fix, on SQLite and PostgreSQL: only people whose role
may act, the fallback (the nearest head who may, then the administrators) with its reason in
the history, an item's own rules and due date, and what each party's role lets them do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from issue_support import NOW, Loop, aware
from sqlalchemy import update

from rounds.db import transaction
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions import service as definitions
from rounds.runtime.issues import lifecycle, queries, sources
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import SiteAssignment


async def create(loop: Loop, submission_id: str) -> int:
    return await loop.system(sources.create_issues_for_submission, submission_id, NOW)


async def publish(loop: Loop, content: dict[str, Any]) -> None:
    """A definition published the way the admin API does (one document, no cross-check:
    the runtime must cope with what it lets through)."""
    async with transaction(loop.sessions) as db:
        draft = await definitions.save_draft(db, content, "test")
        await definitions.publish(db, content["id"], draft.number)


async def publish_standard(loop: Loop, issues: dict[str, Any], *, floor: dict[str, Any] | None
                           = None, sign: dict[str, Any] | None = None) -> None:
    await publish(loop, {
        "kind": "standard", "id": "shop_hygiene",
        "title": {"zh": "店面卫生", "en": "Shop hygiene"}, "site_kinds": ["retailer"],
        "sections": [{"id": "main", "title": {"zh": "检查", "en": "Checks"}, "items": [
            {"id": "floor_clean", "type": "yes_no", "severity": "low",
             "title": {"zh": "地面整洁", "en": "Floor clean"}, **(floor or {})},
            {"id": "no_smoking_sign", "type": "yes_no", "severity": "high",
             "title": {"zh": "禁烟标识", "en": "No-smoking sign"}, **(sign or {})}]}],
        "issues": issues})


async def deactivate(loop: Loop, *names: str) -> None:
    async with transaction(loop.sessions) as db:
        await db.execute(update(User).where(User.id.in_([loop.uid(n) for n in names]))
                         .values(active=False))


async def test_a_rule_with_nobody_able_goes_to_the_nearest_head_with_the_reason(
        loop: Loop) -> None:
    # delivery_service: the site's delivery staff rectify (RA1 has none), the station head
    # accepts. The station head of RA1's station may rectify: they are the assignee, so the
    # fix is accepted by the next head up who may, the city leader.
    sid = await loop.submission("driver", "RA1", "delivery_service", [("on_time", "medium")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert (issue.status, issue.assignee_id, issue.assigner_id) == (
        "assigned", loop.uid("head_a"), loop.uid("leader"))
    events = await loop.events(issue.id)
    assert [e.action for e in events] == ["created", "routed", "routed", "assigned"]
    to_head, to_leader = events[1].data, events[2].data
    assert (to_head["party"], to_head["why"], to_head["fallback"], to_head["unit_id"],
            to_head["user_id"]) == ("assignee", "no_candidate", "head",
                                    loop.world.units["st_a"], loop.uid("head_a"))
    assert to_head["rules"] == [{"of": "site", "role": "delivery_staff"}]
    assert to_head["rule_from"] == "standard"
    assert to_head["why_text"] == {"zh": "规则没有找到整改责任人，已交给st_a的负责人。",
                                   "en": "The rule found no assignee; given to the head of "
                                         "st_a."}
    assert (to_leader["party"], to_leader["why"], to_leader["fallback"]) == (
        "assigner", "is_assignee", "head")
    assert to_leader["passed_over"] == [{"user_id": loop.uid("head_a"),
                                         "role": "station_head", "why": "is_assignee"}]
    assert [n.kind for n in await loop.inbox("head_a")] == ["issue_assigned"]
    # The history as the pages and the API show it.
    seen = await loop.run("head_a", queries.get_issue, issue.id, now=NOW)
    assert [e.action for e in seen.events][1:3] == ["routed", "routed"]
    # The assignee's start, and as the station's head they may hand it on (改派).
    assert seen.allowed_actions == ["start", "cancel", "reassign", "comment"]


async def test_a_candidate_whose_role_may_not_act_is_never_chosen(loop: Loop) -> None:
    # An admin-published standard whose rules name people who may not act: the submitter
    # (a city leader, no issue.rectify) and the site's customer manager (no issue.verify).
    await publish_standard(loop, {"assign_to": {"of": "submitter"},
                                  "verify_by": {"role": "customer_manager", "of": "site"}})
    sid = await loop.submission("leader", "RA1", "shop_hygiene", [("floor_clean", "low")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert issue.assignee_id == loop.uid("head_a")  # the nearest head who may rectify
    assert issue.assigner_id == loop.uid("leader")  # the nearest other head who may accept
    routed = [e.data for e in await loop.events(issue.id) if e.action == "routed"]
    assert [(r["party"], r["why"], r["passed_over"]) for r in routed] == [
        ("assignee", "cannot_act", [{"user_id": loop.uid("leader"), "role": "city_leader",
                                     "why": "cannot_act", "lacks": "issue.rectify"}]),
        ("assigner", "cannot_act", [{"user_id": loop.uid("cm_a"), "role": "customer_manager",
                                     "why": "cannot_act", "lacks": "issue.verify"}])]
    assert routed[1]["unit_id"] == loop.world.units["city"]  # head_a is the assignee
    assert routed[1]["why_text"] == {
        "zh": "规则找到的人员（客户经理）的角色不能验收整改，已交给city的负责人。",
        "en": "The people the rule names (Customer manager) have a role that may not accept "
              "fixes; given to the head of city."}


async def test_nobody_able_anywhere_leaves_it_open_for_the_administrators(loop: Loop) -> None:
    # Station B has lost its head and the city its leader: nobody may rectify RB1's issue
    # (an administrator does not), and only the administrators may accept the fix.
    await deactivate(loop, "head_b", "leader")
    sid = await loop.submission("driver", "RB1", "delivery_service", [("on_time", "medium")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert (issue.status, issue.assignee_id, issue.assigner_id) == (
        "open", None, loop.uid("admin"))
    events = await loop.events(issue.id)
    assert [e.action for e in events] == ["created", "routed", "routed", "needs_assignee"]
    assert [(e.data["party"], e.data["fallback"]) for e in events[1:3]] == [
        ("assignee", "nobody"), ("assigner", "administrators")]
    assert events[1].data["why_text"]["en"] == (
        "The rule found no assignee; the assigner must choose an assignee.")
    assert events[2].data["why_text"]["zh"] == "规则没有找到交办人，已交给系统管理员。"
    assert [n.kind for n in await loop.inbox("admin")] == ["issue_unassigned"]
    # The administrator can act on it: hand it to RB1's customer manager.
    admin = await loop.run("admin", queries.get_issue, issue.id, now=NOW)
    assert admin.allowed_actions == ["cancel", "reassign", "comment"]
    out = await loop.run("admin", lifecycle.reassign, issue.id, version=1, now=NOW,
                         assignee_id=loop.uid("cm_b"))
    assert (out.status, out.assignee and out.assignee.id) == ("assigned", loop.uid("cm_b"))


async def test_an_item_routes_its_own_issue_and_sets_its_own_due(loop: Loop) -> None:
    await publish_standard(
        loop, {"due_days": {"low": 14, "high": 3},
               "assign_to": {"role": "customer_manager", "of": "site"},
               "verify_by": {"role": "station_head", "of": "org_unit"}},
        floor={"assign_to": {"role": "market_inspector", "of": "site"},
               "verify_by": {"role": "city_leader", "of": "org_unit"}, "due": {"days": 2}},
        sign={"due": {"hours": 6}})
    at = NOW - timedelta(hours=1)
    sid = await loop.submission("cm_a", "RA1", "shop_hygiene", [
        ("floor_clean", "low"), ("no_smoking_sign", "high")], at=at)
    assert await create(loop, sid) == 2
    floor, sign = await loop.issues(submission_id=sid)
    # The item's rules and due date beat the standard's and the severity's (low: 14 days).
    assert (floor.assignee_id, floor.assigner_id) == (loop.uid("mi_a"), loop.uid("leader"))
    assert aware(floor.due_at) == at + timedelta(days=2)
    # The other item sets only its due date: the standard's rules (high would be 3 days).
    assert (sign.assignee_id, sign.assigner_id) == (loop.uid("cm_a"), loop.uid("head_a"))
    assert aware(sign.due_at) == at + timedelta(hours=6)
    created = (await loop.events(floor.id))[0].data
    assert created["rules"] == {
        "assign_to": {"of": "site", "role": "market_inspector"},
        "verify_by": {"of": "org_unit", "role": "city_leader"},
        "from": {"assign_to": "item", "verify_by": "item"}}
    assert (created["due"], created["due_from"]) == ({"days": 2}, "item")
    assert (await loop.events(sign.id))[0].data["due"] == {"hours": 6}
    # Nothing went to the fallback: no routed events.
    assert "routed" not in [e.action for e in await loop.events(floor.id)]


async def test_one_issue_for_the_submission_is_due_when_its_most_urgent_item_is(
        loop: Loop) -> None:
    await publish_standard(loop, {"per": "submission", "due_days": 10},
                           sign={"due": {"days": 1}})
    sid = await loop.submission("cm_a", "RA1", "shop_hygiene", [
        ("floor_clean", "low"), ("no_smoking_sign", "high")])
    assert await create(loop, sid) == 1
    (issue,) = await loop.issues(submission_id=sid)
    assert aware(issue.due_at) == NOW + timedelta(days=1)


async def test_the_assigner_is_the_verify_by_party_not_the_submitter(loop: Loop) -> None:
    # No verify_by: not the market inspector who found it, but the station head over RA1.
    await publish_standard(loop, {"assign_to": {"role": "customer_manager", "of": "site"}})
    sid = await loop.submission("mi_a", "RA1", "shop_hygiene", [("floor_clean", "low")])
    await create(loop, sid)
    (issue,) = await loop.issues(submission_id=sid)
    assert (issue.assignee_id, issue.assigner_id, issue.reporter_id) == (
        loop.uid("cm_a"), loop.uid("head_a"), loop.uid("mi_a"))
    # The inspector follows it but may not cancel it (nor could they: no issue.cancel).
    mine = await loop.run("mi_a", queries.get_issue, issue.id, now=NOW)
    assert mine.allowed_actions == ["comment"]
    with pytest.raises(Forbidden, match=r"issue\.cancel"):
        await loop.run("mi_a", lifecycle.cancel, issue.id, version=1, now=NOW, reason="mine")


async def test_the_roles_capabilities_decide_what_a_party_may_do(loop: Loop) -> None:
    # A role that may accept fixes but not cancel issues, whose member fills the standard
    # and accepts its fixes (verify_by: the submitter).
    await publish(loop, {
        "kind": "role", "id": "quality_checker",
        "title": {"zh": "质量检查员", "en": "Quality checker"}, "audience": "field_staff",
        "capabilities": ["visit.check_in", "submission.create", "issue.verify"],
        "org_scope": "org_unit", "site_kinds": ["retailer"], "standards": ["shop_hygiene"],
        "surveys": []})
    async with transaction(loop.sessions) as db:
        checker = User(username="qc_a", display_name="QC_A", role_id="quality_checker",
                       org_unit_id=loop.world.units["area_a1"], password_hash="x")
        db.add(checker)
        await db.flush()
        loop.world.users["qc_a"] = checker.id
    await publish_standard(loop, {"assign_to": {"role": "customer_manager", "of": "site"},
                                  "verify_by": {"of": "submitter"}})
    sid = await loop.submission("qc_a", "RA1", "shop_hygiene", [("floor_clean", "low")])
    await create(loop, sid)
    (issue,) = await loop.issues(submission_id=sid)
    assert issue.assigner_id == loop.uid("qc_a")
    seen = await loop.run("qc_a", queries.get_issue, issue.id, now=NOW)
    assert seen.allowed_actions == ["comment"]  # neither cancel nor reassign
    with pytest.raises(Forbidden, match=r"with issue\.cancel in their role"):
        await loop.run("qc_a", lifecycle.cancel, issue.id, version=1, now=NOW, reason="dup")
    with pytest.raises(Forbidden, match=r"issue\.assign"):
        await loop.run("qc_a", lifecycle.reassign, issue.id, version=1, now=NOW,
                       assignee_id=loop.uid("mi_a"))
    # What the role does allow: accepting the fix.
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    photo = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, issue.id, version=started.version,
                          now=NOW, note="swept", photos=[photo])
    checked = await loop.run("qc_a", lifecycle.verify, issue.id, version=done.version, now=NOW)
    assert checked.status == "verified"


async def test_every_shipped_standard_routes(loop: Loop) -> None:
    # Each shipped standard, filled at RA1 by a role that fills it: someone who may
    # rectify and someone else who may accept the fix, by its rules (no fallback needed).
    fillers = {"customer_manager_visit": ("cm_a", "price_tags_complete"),
               "market_inspector_patrol": ("mi_a", "licence_valid"),
               "leader_spot_check": ("leader", "visit_confirmed")}
    for standard, (who, item) in fillers.items():
        sid = await loop.submission(who, "RA1", standard, [(item, "high")])
        await create(loop, sid)
        (issue,) = await loop.issues(submission_id=sid)
        assert issue.assignee_id is not None and issue.assigner_id is not None, standard
        assert issue.assignee_id != issue.assigner_id, standard
        assert "routed" not in [e.action for e in await loop.events(issue.id)], standard
    # delivery_service at a site with its delivery staff assigned routes by its rules too.
    async with transaction(loop.sessions) as db:
        db.add(SiteAssignment(site_id=loop.world.sites["RA1"], role_id="delivery_staff",
                              user_id=loop.uid("driver")))
    sid = await loop.submission("driver", "RA1", "delivery_service", [("on_time", "high")])
    await create(loop, sid)
    (issue,) = await loop.issues(submission_id=sid)
    assert (issue.assignee_id, issue.assigner_id) == (loop.uid("driver"), loop.uid("head_a"))
