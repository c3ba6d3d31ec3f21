"""The closed loop at service level, on SQLite and PostgreSQL: every step, every refusal, the
two signatures, the audit trail and the notifications."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from issue_support import NOW, Loop, aware
from sqlalchemy import update

from rounds.db import transaction
from rounds.errors import Conflict, InvalidInput, NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.issues import lifecycle, queries, sources
from rounds.runtime.issues.models import Issue
from rounds.runtime.issues.states import StaleVersion, WrongState
from rounds.runtime.issues.views import IssueDetail


def pointers(exc: InvalidInput) -> set[str]:
    return {p.pointer for p in exc.problems}


async def assigned(loop: Loop, *, site: str = "RA1", assignee: str = "cm_a",
                   by: str = "head_a", severity: str = "medium") -> IssueDetail:
    """交办 by a station head to a customer manager."""
    return await loop.run(by, sources.assign_issue, now=NOW, site_id=loop.world.sites[site],
                          title="价签缺失", description="two tags missing", severity=severity,
                          assignee_id=loop.uid(assignee))


async def rectified(loop: Loop, issue: IssueDetail) -> IssueDetail:
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=issue.version, now=NOW)
    photo = await loop.photo("cm_a")
    return await loop.run("cm_a", lifecycle.rectify, issue.id, version=started.version,
                          now=NOW + timedelta(hours=2), note="tags replaced", photos=[photo])


async def test_the_loop_needs_both_signatures_and_keeps_every_step(loop: Loop) -> None:
    issue = await assigned(loop)
    assert (issue.status, issue.version, issue.source) == ("assigned", 1, "assigned")
    assert issue.assigner and issue.assigner.id == loop.uid("head_a")
    assert issue.assignee and issue.assignee.id == loop.uid("cm_a")
    assert issue.due_at == (NOW + timedelta(days=7)).isoformat()  # medium: 7 days
    assert issue.priority == 3
    assert issue.allowed_actions == ["cancel", "reassign", "comment"]  # the assigner's
    cm = await loop.run("cm_a", queries.get_issue, issue.id, now=NOW)
    assert cm.allowed_actions == ["start", "comment"]

    started = await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    assert (started.status, started.version) == ("in_progress", 2)
    assert started.allowed_actions == ["rectify", "comment"]
    photo = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, issue.id, version=2, now=NOW,
                          note="tags replaced", photos=[photo, photo])
    assert (done.status, done.version) == ("rectified", 3)
    assert done.assignee_signed_at == NOW.isoformat() and done.assigner_signed_at is None
    assert [(e.note, e.photos) for e in done.evidence] == [("tags replaced", [photo])]
    head = await loop.run("head_a", queries.get_issue, issue.id, now=NOW)
    assert head.allowed_actions == ["verify", "refuse", "cancel", "comment"]

    checked = await loop.run("head_a", lifecycle.verify, issue.id, version=3, now=NOW)
    assert (checked.status, checked.version) == ("verified", 4)
    assert checked.assigner_signed_at == NOW.isoformat()
    assert checked.allowed_actions == ["close", "comment"]
    closed = await loop.run("head_a", lifecycle.close, issue.id, version=4,
                            now=NOW + timedelta(hours=1))
    assert (closed.status, closed.version) == ("closed", 5)
    assert closed.closed_at == (NOW + timedelta(hours=1)).isoformat()
    assert closed.allowed_actions == ["reopen", "comment"]

    # The audit trail: every step, in order, with who, from → to and the evidence.
    trail = [(e.action, e.from_status, e.to_status, e.actor.id if e.actor else None)
             for e in closed.events]
    head_a, cm_a = loop.uid("head_a"), loop.uid("cm_a")
    assert trail == [("created", None, "open", head_a), ("assigned", "open", "assigned", head_a),
                     ("started", "assigned", "in_progress", cm_a),
                     ("rectified", "in_progress", "rectified", cm_a),
                     ("verified", "rectified", "verified", head_a),
                     ("closed", "verified", "closed", head_a)]
    assert closed.events[3].data == {"note": "tags replaced", "photos": [photo]}
    assert [e.id for e in closed.events] == sorted(e.id for e in closed.events)

    # Who was told what: the assignee of the assignment, the verification and the close;
    # the assigner of the start and the rectification; never the actor.
    assert [n.kind for n in await loop.inbox("cm_a", issue_id=issue.id)] == [
        "issue_assigned", "issue_verified", "issue_closed"]
    assert [n.kind for n in await loop.inbox("head_a", issue_id=issue.id)] == [
        "issue_started", "issue_rectified"]
    note = (await loop.inbox("cm_a", "issue_assigned"))[0]
    assert note.link == f"/issues/{issue.id}"
    assert note.message == {"zh": "新问题交办给您：价签缺失（7天内完成）",
                            "en": "New issue assigned to you: 价签缺失 (due in 7 days)"}
    assert (await loop.inbox("head_a", "issue_rectified"))[0].message["en"] == \
        "CM_A fixed it, please accept: 价签缺失"
    assert note.dedupe_key.startswith(f"issue:{issue.id}:event:")


async def test_wrong_person_is_403_and_out_of_scope_is_404(loop: Loop) -> None:
    issue = await assigned(loop)
    with pytest.raises(Forbidden, match="only the assignee may start"):
        await loop.run("head_a", lifecycle.start, issue.id, version=1, now=NOW)
    with pytest.raises(Forbidden):  # the leader supervises, but only the assignee starts
        await loop.run("leader", lifecycle.start, issue.id, version=1, now=NOW)
    await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    with pytest.raises(Forbidden):
        await loop.run("head_a", lifecycle.rectify, issue.id, version=2, now=NOW,
                       note="x", photos=[])
    done = await rectified(loop, await assigned(loop))
    with pytest.raises(Forbidden, match="only the assigner may verify"):
        await loop.run("cm_a", lifecycle.verify, done.id, version=done.version, now=NOW)
    with pytest.raises(Forbidden):  # a supervisor does not sign for an assigner there is
        await loop.run("leader", lifecycle.verify, done.id, version=done.version, now=NOW)
    with pytest.raises(Forbidden):
        await loop.run("cm_a", lifecycle.cancel, done.id, version=done.version, now=NOW,
                       reason="mine")
    for outsider in ("head_b", "cm_b", "shop_ra1", "mi_a"):
        with pytest.raises(NotFound):
            await loop.run(outsider, queries.get_issue, issue.id, now=NOW)
        with pytest.raises(NotFound):
            await loop.run(outsider, lifecycle.cancel, issue.id, version=2, now=NOW,
                           reason="not mine")


async def test_wrong_state_is_409_naming_the_state_and_what_is_allowed(loop: Loop) -> None:
    issue = await assigned(loop)
    photo = await loop.photo("cm_a")
    with pytest.raises(WrongState) as exc:
        await loop.run("cm_a", lifecycle.rectify, issue.id, version=1, now=NOW, note="done",
                       photos=[photo])
    assert exc.value.status == 409 and exc.value.issue_status == "assigned"
    assert exc.value.allowed_actions == ["start", "comment"]
    assert "it is assigned" in exc.value.detail and "start, comment" in exc.value.detail
    with pytest.raises(WrongState, match="it is assigned"):
        await loop.run("head_a", lifecycle.close, issue.id, version=1, now=NOW)
    with pytest.raises(WrongState):
        await loop.run("head_a", lifecycle.reopen, issue.id, version=1, now=NOW, reason="x")
    with pytest.raises(WrongState):
        await loop.run("head_a", lifecycle.verify, issue.id, version=1, now=NOW)


async def test_evidence_is_required_and_must_be_the_assignees(loop: Loop) -> None:
    issue = await assigned(loop)
    await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    with pytest.raises(InvalidInput) as exc:
        await loop.run("cm_a", lifecycle.rectify, issue.id, version=2, now=NOW, note="  ",
                       photos=[])
    assert exc.value.status == 422 and pointers(exc.value) == {"/note", "/photos"}
    theirs = await loop.photo("head_a")
    with pytest.raises(InvalidInput) as exc:
        await loop.run("cm_a", lifecycle.rectify, issue.id, version=2, now=NOW, note="done",
                       photos=[theirs])
    assert pointers(exc.value) == {"/photos/0"}
    with pytest.raises(InvalidInput) as exc:
        await loop.run("cm_a", lifecycle.rectify, issue.id, version=2, now=NOW, note="done",
                       photos=["no-such-photo"])
    assert pointers(exc.value) == {"/photos/0"}
    assert (await loop.issue(issue.id)).status == "in_progress"  # nothing changed


async def test_a_stale_version_is_409(loop: Loop) -> None:
    issue = await assigned(loop)
    await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    with pytest.raises(StaleVersion) as exc:
        await loop.run("head_a", lifecycle.cancel, issue.id, version=1, now=NOW, reason="dup")
    assert exc.value.status == 409 and exc.value.current_version == 2
    # A comment adds to the history without making anyone's pending action stale.
    commented = await loop.run("head_a", lifecycle.comment, issue.id, now=NOW, text="hurry")
    assert commented.version == 2
    with pytest.raises(StaleVersion):
        await loop.run("head_a", lifecycle.comment, issue.id, now=NOW, text="x", version=1)
    cancelled = await loop.run("head_a", lifecycle.cancel, issue.id, version=2, now=NOW,
                               reason="dup")
    assert cancelled.status == "cancelled" and cancelled.version == 3


async def test_concurrent_steps_on_one_version_one_wins(loop: Loop, database_url: str
                                                        ) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: there is no race to lose")
    issue = await assigned(loop)
    outcomes = await asyncio.gather(
        loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW),
        loop.run("head_a", lifecycle.cancel, issue.id, version=1, now=NOW, reason="dup"),
        return_exceptions=True)
    wins = [o for o in outcomes if isinstance(o, IssueDetail)]
    assert len(wins) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o not in wins)
    final = await loop.issue(issue.id)
    assert final.version == 2 and final.status == wins[0].status
    assert len(await loop.events(issue.id)) == 3  # created, assigned, and one step


async def test_refused_rectification_goes_back_in_progress(loop: Loop) -> None:
    done = await rectified(loop, await assigned(loop))
    with pytest.raises(InvalidInput) as exc:
        await loop.run("head_a", lifecycle.refuse, done.id, version=done.version, now=NOW,
                       reason=" ")
    assert pointers(exc.value) == {"/reason"}
    back = await loop.run("head_a", lifecycle.refuse, done.id, version=done.version, now=NOW,
                          reason="photo is blurred")
    assert back.status == "in_progress" and back.assignee_signed_at is None
    assert back.events[-1].action == "refused" and back.events[-1].reason == "photo is blurred"
    assert (back.events[-1].from_status, back.events[-1].to_status) == (
        "rectified", "in_progress")
    refusal = await loop.inbox("cm_a", "issue_refused")
    assert len(refusal) == 1 and "photo is blurred" in refusal[0].message["en"]
    photo = await loop.photo("cm_a")
    again = await loop.run("cm_a", lifecycle.rectify, done.id, version=back.version, now=NOW,
                           note="new photo", photos=[photo])
    assert again.status == "rectified" and len(again.evidence) == 2
    checked = await loop.run("head_a", lifecycle.verify, done.id, version=again.version, now=NOW)
    closed = await loop.run("head_a", lifecycle.close, done.id, version=checked.version, now=NOW)
    assert closed.status == "closed"


async def test_reopen_clears_both_signatures(loop: Loop) -> None:
    done = await rectified(loop, await assigned(loop))
    checked = await loop.run("head_a", lifecycle.verify, done.id, version=done.version, now=NOW)
    closed = await loop.run("head_a", lifecycle.close, done.id, version=checked.version, now=NOW)
    with pytest.raises(InvalidInput) as exc:
        await loop.run("head_a", lifecycle.reopen, done.id, version=closed.version, now=NOW,
                       reason="")
    assert pointers(exc.value) == {"/reason"}
    with pytest.raises(Forbidden):
        await loop.run("cm_a", lifecycle.reopen, done.id, version=closed.version, now=NOW,
                       reason="me")
    # A supervisor of the site (the city leader) may reopen what a station head closed.
    reopened = await loop.run("leader", lifecycle.reopen, done.id, version=closed.version,
                              now=NOW, reason="the retailer complained again")
    assert reopened.status == "in_progress"
    assert reopened.assignee_signed_at is None and reopened.assigner_signed_at is None
    assert reopened.closed_at is None
    assert [n.kind for n in await loop.inbox("cm_a", "issue_reopened")] == ["issue_reopened"]


async def test_close_needs_both_signatures(loop: Loop) -> None:
    done = await rectified(loop, await assigned(loop))
    checked = await loop.run("head_a", lifecycle.verify, done.id, version=done.version, now=NOW)
    async with transaction(loop.sessions) as db:  # a signature lost (say, by a bad import)
        await db.execute(update(Issue).where(Issue.id == done.id).values(
            assignee_signed_at=None))
    with pytest.raises(Conflict, match="signature of the assignee"):
        await loop.run("head_a", lifecycle.close, done.id, version=checked.version, now=NOW)
    with pytest.raises(Forbidden):
        await loop.run("cm_a", lifecycle.close, done.id, version=checked.version, now=NOW)


async def test_a_supervisor_may_close_and_everyone_concerned_is_told(loop: Loop) -> None:
    done = await rectified(loop, await assigned(loop))
    checked = await loop.run("head_a", lifecycle.verify, done.id, version=done.version, now=NOW)
    closed = await loop.run("leader", lifecycle.close, done.id, version=checked.version, now=NOW)
    assert closed.status == "closed" and closed.events[-1].actor
    assert closed.events[-1].actor.id == loop.uid("leader")
    assert len(await loop.inbox("cm_a", "issue_closed")) == 1
    assert len(await loop.inbox("head_a", "issue_closed")) == 1


async def test_cancel_from_any_active_state_with_a_reason(loop: Loop) -> None:
    for steps in range(3):  # assigned, in_progress, rectified
        issue = await assigned(loop)
        if steps == 1:
            issue = await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
        if steps == 2:
            issue = await rectified(loop, issue)
        with pytest.raises(InvalidInput) as exc:
            await loop.run("head_a", lifecycle.cancel, issue.id, version=issue.version,
                           now=NOW, reason="")
        assert pointers(exc.value) == {"/reason"}
        gone = await loop.run("head_a", lifecycle.cancel, issue.id, version=issue.version,
                              now=NOW, reason="a duplicate")
        assert gone.status == "cancelled" and gone.allowed_actions == ["comment"]
        assert gone.events[-1].reason == "a duplicate"
        with pytest.raises(WrongState):
            await loop.run("head_a", lifecycle.cancel, issue.id, version=gone.version,
                           now=NOW, reason="again")
    assert len(await loop.inbox("cm_a", "issue_cancelled")) == 3


async def test_reassign_to_someone_in_scope_who_may_rectify(loop: Loop) -> None:
    issue = await assigned(loop)
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=1, now=NOW)
    with pytest.raises(InvalidInput) as exc:  # another station's customer manager
        await loop.run("head_a", lifecycle.reassign, issue.id, version=2, now=NOW,
                       assignee_id=loop.uid("cm_b"))
    assert pointers(exc.value) == {"/assignee_id"}
    with pytest.raises(InvalidInput, match="may not rectify"):  # a retailer account
        await loop.run("head_a", lifecycle.reassign, issue.id, version=2, now=NOW,
                       assignee_id=loop.uid("shop_ra1"))
    with pytest.raises(Forbidden):
        await loop.run("cm_a", lifecycle.reassign, issue.id, version=2, now=NOW,
                       assignee_id=loop.uid("mi_a"))
    moved = await loop.run("head_a", lifecycle.reassign, issue.id, version=started.version,
                           now=NOW, assignee_id=loop.uid("mi_a"), reason="licence matter")
    assert moved.status == "assigned" and moved.version == 3
    assert moved.assignee and moved.assignee.id == loop.uid("mi_a")
    assert moved.events[-1].action == "reassigned"
    assert moved.events[-1].data == {"from_assignee_id": loop.uid("cm_a"),
                                     "to_assignee_id": loop.uid("mi_a")}
    assert len(await loop.inbox("mi_a", "issue_assigned")) == 1
    assert len(await loop.inbox("cm_a", "issue_reassigned")) == 1
    with pytest.raises(NotFound):  # no longer theirs
        await loop.run("cm_a", queries.get_issue, issue.id, now=NOW)
    mine = await loop.run("mi_a", lifecycle.start, issue.id, version=3, now=NOW)
    assert mine.status == "in_progress"


async def test_comments_by_anyone_who_can_see_the_issue(loop: Loop) -> None:
    issue = await assigned(loop)
    with pytest.raises(InvalidInput) as exc:
        await loop.run("cm_a", lifecycle.comment, issue.id, now=NOW, text=" ")
    assert pointers(exc.value) == {"/text"}
    out = await loop.run("cm_a", lifecycle.comment, issue.id, now=NOW, text="on my way")
    assert out.events[-1].action == "commented" and out.events[-1].data == {"text": "on my way"}
    assert out.version == 1
    assert len(await loop.inbox("head_a", "issue_comment")) == 1
    assert await loop.inbox("cm_a", "issue_comment") == []  # not told of their own remark
    viewer = await loop.run("leader", lifecycle.comment, issue.id, now=NOW, text="noted")
    assert viewer.events[-1].actor and viewer.events[-1].actor.id == loop.uid("leader")


async def test_the_due_date_defaults_from_severity(loop: Loop) -> None:
    for severity, days, priority in (("critical", 1, 1), ("high", 3, 2), ("low", 14, 4)):
        issue = await assigned(loop, severity=severity)
        assert aware(( await loop.issue(issue.id)).due_at) == NOW + timedelta(days=days)
        assert issue.priority == priority
