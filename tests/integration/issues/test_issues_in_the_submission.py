"""A submission's issues made in its own transaction (``issues.bulk``), on SQLite and
PostgreSQL: the same issues, events, photos and notifications as the reconciliation makes one
by one (``sources.create_issues_for_submission``), routing from memory that follows staff
changes at once, and nothing left when the submission's transaction rolls back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from issue_support import NOW, Loop
from sqlalchemy import delete, select
from test_issue_sources import publish_standard

from rounds.db import transaction
from rounds.runtime.issues import bulk, sources
from rounds.runtime.issues.models import Issue, IssueEvent, IssuePhoto
from rounds.runtime.notifications.models import Notification
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.submissions.service import Stored
from support.field import principal


async def stored(loop: Loop, who: str, submission_id: str) -> Stored:
    """The submission as the write path hands it to its transaction's hooks."""
    async with loop.sessions() as db:
        sub = await db.get(Submission, submission_id)
        assert sub is not None
        failed = (await db.execute(select(FailedItem).where(
            FailedItem.submission_id == submission_id).order_by(FailedItem.id))).scalars()
        site = await db.get(Site, sub.site_id)
        assert site is not None
        row = {c.name: getattr(sub, c.name) for c in Submission.__table__.c}
        # The photos of its evidence that are stored (the write path checks them).
        sent = {str(p) for note in sub.evidence.values() for p in note.get("photos") or ()}
        photos = frozenset((await db.execute(select(Photo.id).where(
            Photo.id.in_(sorted(sent))))).scalars())
        return Stored(row, [{"id": f.id, "item_id": f.item_id, "severity": f.severity}
                            for f in failed], await principal(db, who),
                      {"org_unit_id": site.org_unit_id, "site_name": site.name,
                       "site_code": site.code}, photos)


async def in_bulk(loop: Loop, who: str, submission_id: str) -> None:
    """``bulk.make_issues`` in a transaction of its own, as the submission's would run it."""
    sub = await stored(loop, who, submission_id)
    engine = loop.sessions.kw["bind"]
    async with engine.begin() as conn:
        await bulk.make_issues(conn, [sub])


async def written(loop: Loop, submission_id: str) -> dict[str, Any]:
    """Everything made for a submission, ids replaced by their order (comparable)."""
    async with loop.sessions() as db:
        issues = list((await db.execute(select(Issue).where(
            Issue.submission_id == submission_id).order_by(Issue.id))).scalars())
        order = {i.id: n for n, i in enumerate(issues)}
        events = list((await db.execute(select(IssueEvent).where(
            IssueEvent.issue_id.in_(order)).order_by(IssueEvent.id))).scalars())
        event_order = {e.id: n for n, e in enumerate(events)}
        notes = list((await db.execute(select(Notification).where(
            Notification.issue_id.in_(order)).order_by(Notification.id))).scalars())
        photos = sorted((order[p.issue_id], p.photo_id) for p in (await db.execute(
            select(IssuePhoto).where(IssuePhoto.issue_id.in_(order)))).scalars())

    def issue(i: Issue) -> dict[str, Any]:
        return {c.name: getattr(i, c.name) for c in Issue.__table__.c if c.name != "id"}

    def dedupe(key: str) -> str:
        _, issue_id, _, event_id, user = key.split(":")
        return f"{order[int(issue_id)]}:{event_order[int(event_id)]}:{user}"

    return {
        "issues": [issue(i) for i in issues],
        "events": [(order[e.issue_id], e.action, e.from_status, e.to_status, e.actor_id,
                    e.at, e.reason, e.data) for e in events],
        "notifications": [(n.user_id, n.kind, n.message, n.link.replace(
            f"/issues/{n.issue_id}", f"/issues/#{order[n.issue_id or 0]}"),
            order[n.issue_id or 0], dedupe(n.dedupe_key)) for n in notes],
        "photos": photos}


async def forget(loop: Loop, submission_id: str) -> None:
    async with transaction(loop.sessions) as db:
        ids = select(Issue.id).where(Issue.submission_id == submission_id)
        for table in (Notification, IssuePhoto, IssueEvent):
            await db.execute(delete(table).where(table.issue_id.in_(ids)))
        await db.execute(delete(Issue).where(Issue.submission_id == submission_id))


async def same_as_the_reconciliation(loop: Loop, who: str, submission_id: str
                                     ) -> dict[str, Any]:
    """Made in bulk, then again by the reconciliation's code: the two must be equal."""
    await in_bulk(loop, who, submission_id)
    made = await written(loop, submission_id)
    await forget(loop, submission_id)
    at = (await stored(loop, who, submission_id)).row["submitted_at"]
    await loop.system(sources.create_issues_for_submission, submission_id, at)
    assert await written(loop, submission_id) == made
    return made


async def add_station_head(loop: Loop, name: str) -> None:
    async with transaction(loop.sessions) as db:
        head = User(username=name, display_name=name.upper(), role_id="station_head",
                    org_unit_id=loop.world.units["st_a"], password_hash="x")
        db.add(head)
        await db.flush()
        loop.world.users[name] = head.id


@pytest.fixture(autouse=True)
def fresh_routing() -> None:
    bulk.forget_routing()  # each test's database is new: no routes of another test's


async def test_per_item_with_evidence_photos_is_what_the_reconciliation_makes(
        loop: Loop) -> None:
    photo = await loop.photo("cm_a")
    sid = await loop.submission("cm_a", "RA1", "customer_manager_visit", [
        ("display_standard", "low"), ("price_tags_complete", "medium")],
        at=NOW - timedelta(hours=3), evidence={
        "price_tags_complete": {"photos": [photo, "not-stored"], "note": "two missing"}})
    made = await same_as_the_reconciliation(loop, "cm_a", sid)
    assert [i["assignee_id"] for i in made["issues"]] == [loop.uid("cm_a")] * 2
    assert [i["assigner_id"] for i in made["issues"]] == [loop.uid("head_a")] * 2
    assert [e[1] for e in made["events"]] == ["created", "assigned"] * 2
    assert made["photos"] == [(1, photo)]  # the stored one only
    assert [(n[0], n[1]) for n in made["notifications"]] == [
        (loop.uid("cm_a"), "issue_assigned")] * 2


async def test_taking_turns_is_what_the_reconciliation_gives(loop: Loop) -> None:
    await add_station_head(loop, "head_a2")
    first = await loop.submission("cm_a", "RA1", "customer_manager_visit", [
        ("display_standard", "low"), ("price_tags_complete", "medium"),
        ("stock_checked", "medium")])
    made = await same_as_the_reconciliation(loop, "cm_a", first)
    a, b = sorted([loop.uid("head_a"), loop.uid("head_a2")])
    assert [i["assigner_id"] for i in made["issues"]] == [a, b, a]
    second = await loop.submission("cm_a", "RA2", "customer_manager_visit",
                                   [("price_tags_complete", "medium")])
    await in_bulk(loop, "cm_a", second)  # counts the first's issues: b's turn
    assert [i.assigner_id for i in await loop.issues(submission_id=second)] == [b]


async def test_a_leaders_spot_check_and_one_issue_per_submission(loop: Loop) -> None:
    spot = await loop.submission("leader", "RA1", "leader_spot_check",
                                 [("visit_confirmed", "high")])
    made = await same_as_the_reconciliation(loop, "leader", spot)
    assert [(i["assignee_id"], i["assigner_id"]) for i in made["issues"]] == [
        (loop.uid("cm_a"), loop.uid("leader"))]
    await publish_standard(loop, "shop_hygiene", {"per": "submission"})
    whole = await loop.submission("cm_a", "RA1", "shop_hygiene", [
        ("floor_clean", "low"), ("no_smoking_sign", "high")])
    made = await same_as_the_reconciliation(loop, "cm_a", whole)
    assert [(i["item_id"], i["severity"]) for i in made["issues"]] == [(None, "high")]


async def test_nobody_who_may_verify_is_routed_and_told_as_the_reconciliation_does(
        loop: Loop) -> None:
    # No station head anywhere above RB1 who may verify: the fallback, written down.
    async with transaction(loop.sessions) as db:
        for name in ("head_a", "head_b"):
            head = await db.get(User, loop.uid(name))
            assert head is not None
            head.active = False
    sid = await loop.submission("cm_b", "RB1", "customer_manager_visit",
                                [("price_tags_complete", "medium")])
    made = await same_as_the_reconciliation(loop, "cm_b", sid)
    assert "routed" in [e[1] for e in made["events"]]


async def test_staff_changes_reach_the_routing_at_once(loop: Loop) -> None:
    one = await loop.submission("cm_a", "RA1", "customer_manager_visit",
                                [("price_tags_complete", "medium")])
    await in_bulk(loop, "cm_a", one)
    assert [i.assigner_id for i in await loop.issues(submission_id=one)] == [
        loop.uid("head_a")]
    # A second head of the station (a new user): the routes in memory are forgotten.
    await add_station_head(loop, "head_a2")
    a, b = sorted([loop.uid("head_a"), loop.uid("head_a2")])
    two = await loop.submission("cm_a", "RA1", "customer_manager_visit",
                                [("price_tags_complete", "medium")])
    await in_bulk(loop, "cm_a", two)
    assert [i.assigner_id for i in await loop.issues(submission_id=two)] == [b]
    # The first head leaves (made inactive): the other one only, from then on.
    async with transaction(loop.sessions) as db:
        head = await db.get(User, b)
        assert head is not None
        head.active = False
    three = await loop.submission("cm_a", "RA1", "customer_manager_visit",
                                  [("price_tags_complete", "medium")])
    await in_bulk(loop, "cm_a", three)
    assert [i.assigner_id for i in await loop.issues(submission_id=three)] == [a]


async def test_a_rolled_back_submission_leaves_no_issue_and_tells_nobody(loop: Loop) -> None:
    sid = await loop.submission("cm_a", "RA1", "customer_manager_visit",
                                [("price_tags_complete", "medium")])
    sub = await stored(loop, "cm_a", sid)
    engine = loop.sessions.kw["bind"]
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            assert await bulk.make_issues(conn, [sub]) is not None
            raise RuntimeError("the submission's transaction fails after its issues")
    assert await loop.issues(submission_id=sid) == []
    assert await loop.inbox("cm_a") == []
    # What the reconciliation is for: it makes them later.
    assert (await sources.reconcile_missing_issues(loop.sessions, NOW)).made == 1
