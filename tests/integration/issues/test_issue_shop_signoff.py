"""The shop as a sign-off party: what a retailer raised (a complaint or a suggestion) closes
only once the shop confirmed the fix, after the assigner verified it; the shop may send the
fix back instead (back in progress, every signature withdrawn); reopening withdraws the
shop's confirmation. Both databases."""

from __future__ import annotations

import pytest
from issue_support import NOW, Loop, aware

from rounds.errors import Conflict, InvalidInput
from rounds.runtime.access import Forbidden
from rounds.runtime.issues import lifecycle, sources
from rounds.runtime.issues.states import AlreadyConfirmed, NeedsShopConfirmation, WrongState
from rounds.runtime.issues.views import IssueDetail


async def _verified(loop: Loop, kind: str = "suggestion") -> IssueDetail:
    """A retailer's feedback, rectified by the shop's customer manager and verified by the
    station head."""
    issue = await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind=kind,
                           text="希望增加新品规")
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=issue.version, now=NOW)
    fix = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, issue.id, version=started.version,
                          now=NOW, note="已协调配送新品", photos=[fix])
    return await loop.run("head_a", lifecycle.verify, issue.id, version=done.version, now=NOW)


async def test_the_shop_confirms_the_fix_before_it_closes(loop: Loop) -> None:
    checked = await _verified(loop)
    assert checked.needs_shop_confirmation and checked.reporter_signed_at is None
    # The shop was told it was fixed, then asked to confirm it.
    assert len(await loop.inbox("shop_ra1", "issue_rectified_shop", checked.id)) == 1
    assert len(await loop.inbox("shop_ra1", "issue_to_confirm", checked.id)) == 1
    # The head may not close it yet, and is not offered to.
    assert "close" not in checked.allowed_actions
    with pytest.raises(NeedsShopConfirmation) as refused:
        await loop.run("head_a", lifecycle.close, checked.id, version=checked.version, now=NOW)
    assert refused.value.status == 409 and refused.value.code == "issue_needs_shop_confirmation"
    shop_sees = await loop.run("shop_ra1", lifecycle.comment, checked.id, now=NOW, text="收到")
    assert shop_sees.allowed_actions == ["confirm", "send_back", "comment"]

    confirmed = await loop.run("shop_ra1", lifecycle.confirm, checked.id,
                               version=checked.version, now=NOW)
    assert confirmed.status == "verified" and confirmed.version == checked.version + 1
    assert confirmed.reporter_signed_at == NOW.isoformat()
    assert confirmed.allowed_actions == ["comment"]
    assert len(await loop.inbox("head_a", "issue_confirmed", checked.id)) == 1
    assert len(await loop.inbox("cm_a", "issue_confirmed", checked.id)) == 1
    # Once only.
    with pytest.raises(AlreadyConfirmed):
        await loop.run("shop_ra1", lifecycle.confirm, checked.id, version=confirmed.version,
                       now=NOW)
    with pytest.raises(AlreadyConfirmed):
        await loop.run("shop_ra1", lifecycle.send_back, checked.id,
                       version=confirmed.version, now=NOW, reason="还是不行")

    head = await loop.run("head_a", lifecycle.comment, checked.id, now=NOW, text="好")
    assert "close" in head.allowed_actions
    closed = await loop.run("head_a", lifecycle.close, checked.id, version=confirmed.version,
                            now=NOW)
    assert closed.status == "closed"
    assert [e.action for e in await loop.events(checked.id)][-3:] == [
        "confirmed", "commented", "closed"]

    # Reopening withdraws the shop's confirmation: it has to confirm the next fix again.
    reopened = await loop.run("head_a", lifecycle.reopen, checked.id, version=closed.version,
                              now=NOW, reason="又出现了")
    assert reopened.status == "in_progress" and reopened.reporter_signed_at is None
    assert aware((await loop.issue(checked.id)).reporter_signed_at) is None


async def test_the_shop_sends_the_fix_back(loop: Loop) -> None:
    checked = await _verified(loop, "complaint")
    with pytest.raises(InvalidInput) as bad:
        await loop.run("shop_ra1", lifecycle.send_back, checked.id, version=checked.version,
                       now=NOW, reason="  ")
    assert [p.pointer for p in bad.value.problems] == ["/reason"]
    back = await loop.run("shop_ra1", lifecycle.send_back, checked.id, version=checked.version,
                          now=NOW, reason="送货还是迟到")
    assert back.status == "in_progress"
    assert back.assignee_signed_at is None and back.assigner_signed_at is None
    assert back.reporter_signed_at is None
    assert len(await loop.inbox("cm_a", "issue_sent_back", checked.id)) == 1
    assert len(await loop.inbox("head_a", "issue_sent_back", checked.id)) == 1
    last = (await loop.events(checked.id))[-1]
    assert (last.action, last.reason, last.to_status) == ("sent_back", "送货还是迟到",
                                                          "in_progress")
    # The loop goes round again: rectify, verify, and the shop is asked once more.
    fix = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, checked.id, version=back.version,
                          now=NOW, note="换了配送时间", photos=[fix])
    again = await loop.run("head_a", lifecycle.verify, checked.id, version=done.version,
                           now=NOW)
    assert len(await loop.inbox("shop_ra1", "issue_to_confirm", checked.id)) == 2
    ok = await loop.run("shop_ra1", lifecycle.confirm, checked.id, version=again.version,
                        now=NOW)
    closed = await loop.run("head_a", lifecycle.close, checked.id, version=ok.version, now=NOW)
    assert closed.status == "closed"


async def test_only_the_shop_that_raised_it_confirms_and_only_when_verified(loop: Loop
                                                                           ) -> None:
    issue = await loop.run("shop_ra1", sources.submit_feedback, now=NOW, kind="complaint",
                           text="送货迟到")
    # Not verified yet: wrong state, with what the shop may do now.
    with pytest.raises(WrongState) as early:
        await loop.run("shop_ra1", lifecycle.confirm, issue.id, version=issue.version, now=NOW)
    assert early.value.issue_status == "assigned"
    assert early.value.allowed_actions == ["comment"]
    checked = await _verified(loop)
    # Not the shop: the assignee, the assigner, a supervisor may not confirm for it.
    for other in ("cm_a", "head_a", "leader"):
        with pytest.raises(Forbidden):
            await loop.run(other, lifecycle.confirm, checked.id, version=checked.version,
                           now=NOW)
        with pytest.raises(Forbidden):
            await loop.run(other, lifecycle.send_back, checked.id, version=checked.version,
                           now=NOW, reason="x")
    # A stale version is refused too.
    with pytest.raises(Conflict):
        await loop.run("shop_ra1", lifecycle.confirm, checked.id, version=checked.version - 1,
                       now=NOW)


async def test_issues_the_shop_did_not_raise_need_no_confirmation(loop: Loop) -> None:
    issue = await loop.run("head_a", sources.assign_issue, now=NOW,
                           site_id=loop.world.sites["RA1"], title="整改陈列",
                           assignee_id=loop.uid("cm_a"))
    assert not issue.needs_shop_confirmation
    started = await loop.run("cm_a", lifecycle.start, issue.id, version=issue.version, now=NOW)
    fix = await loop.photo("cm_a")
    done = await loop.run("cm_a", lifecycle.rectify, issue.id, version=started.version,
                          now=NOW, note="done", photos=[fix])
    checked = await loop.run("head_a", lifecycle.verify, issue.id, version=done.version,
                             now=NOW)
    assert "close" in checked.allowed_actions and "confirm" not in checked.allowed_actions
    closed = await loop.run("head_a", lifecycle.close, issue.id, version=checked.version,
                            now=NOW)
    assert closed.status == "closed"
