"""The steps of the closed loop (PDCA): start, rectify, verify or refuse, close, reopen, cancel,
reassign, comment.

The assigner (交办人) and the assignee (整改责任人) both sign an issue off (共同销号):

- **rectify**: the assignee signs, with evidence (a note and photos they uploaded);
- **verify** / **refuse**: the assigner signs, or sends it back with a reason (which clears
  the assignee's signature); with no assigner, a supervisor (``issue.verify``) over the
  issue's site stands in;
- **confirm** / **send_back**: for what a retailer raised (a complaint or a suggestion), the
  shop confirms the verified fix (确认整改) or sends it back with a reason (every signature
  withdrawn, back in progress);
- **close** needs both signatures (and the shop's, for what it raised), by the assigner or a
  supervisor; **reopen** clears them all.

Who may take which step from which state is ``states``. Every step appends an event (the
audit trail, ``events``), bumps ``version`` and tells the people concerned. A request names
the version it saw: the update is ``UPDATE ... WHERE version = :seen``, so of two people
acting on the same issue at once one wins and the other gets 409 (stale version). Comments
add events without bumping the version: they change nothing a person decides on, so they
never make someone's pending action stale. Each step answers with the issue as the actor
sees it afterwards (``queries.get_issue``).

Imports ``states``, ``queries``, ``events``, ``checks``, ``texts`` and ``deadlines`` of the
slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from rounds.db import as_utc
from rounds.errors import Conflict, Problem
from rounds.runtime.access import Forbidden, Principal
from rounds.runtime.issues import events, texts
from rounds.runtime.issues.checks import check_assignee, check_photos, clean_text, invalid
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.issues.queries import get_issue, visible_issue
from rounds.runtime.issues.states import (
    ACTIONS,
    PAST,
    AlreadyConfirmed,
    NeedsShopConfirmation,
    StaleVersion,
    WrongState,
    allowed_actions,
    needs_shop,
    who,
)
from rounds.runtime.issues.views import IssueDetail


async def _acting(db: AsyncSession, principal: Principal, issue_id: int, action: str,
                  version: int | None) -> Issue:
    """The issue, if the principal may take ``action`` on it now: 404 when they cannot see
    it, 403 when it is not theirs to do, 409 in the wrong state or at a stale version."""
    issue, scoped = await visible_issue(db, principal, issue_id)
    spec = ACTIONS[action]
    if not spec.may(issue, who(issue, principal, scoped)):
        needs = f", with {spec.capability} in their role" if spec.capability else ""
        raise Forbidden(f"only {spec.who} may {action} issue {issue_id}{needs}")
    if issue.status not in spec.from_states:
        raise WrongState(issue_id, action, issue.status,
                         allowed_actions(issue, principal, scoped))
    if version is not None and version != issue.version:
        raise StaleVersion(issue_id, version, issue.version)
    return issue


async def _move(db: AsyncSession, issue: Issue, *, seen: int, now: datetime,
                changes: dict[str, Any]) -> None:
    """``UPDATE ... WHERE version = :seen``: of two concurrent actions one wins."""
    values = {**changes, "version": seen + 1, "updated_at": now}
    result = cast(CursorResult[Any], await db.execute(
        update(Issue).where(Issue.id == issue.id, Issue.version == seen).values(values)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        current = (await db.execute(select(Issue.version).where(Issue.id == issue.id))
                   ).scalar_one()
        raise StaleVersion(issue.id, seen, int(current))
    for key, value in values.items():  # the loaded object follows, without another UPDATE
        set_committed_value(issue, key, value)


async def _transition(db: AsyncSession, principal: Principal, issue_id: int, action: str, *,
                      now: datetime, version: int, changes: dict[str, Any] | None = None,
                      reason: str = "", data: dict[str, Any] | None = None,
                      event_action: str | None = None) -> tuple[Issue, IssueEvent]:
    now = as_utc(now)
    issue = await _acting(db, principal, issue_id, action, version)
    before = issue.status
    to = ACTIONS[action].to_status
    await _move(db, issue, seen=issue.version, now=now,
                changes={**(changes or {}), "status": to})
    event = await events.record(db, issue.id, at=now, actor_id=principal.user_id,
                                action=event_action or PAST[action], from_status=before,
                                to_status=to, reason=reason, data=data)
    return issue, event


def _reason(reason: str | None) -> str:
    text, problems = clean_text(reason, "/reason", required=True)
    if problems:
        raise invalid(problems)
    return text


def _title(issue: Issue) -> texts.Title:
    return texts.titles(issue) or issue.title


async def _done(db: AsyncSession, principal: Principal, issue: Issue, now: datetime
                ) -> IssueDetail:
    return await get_issue(db, principal, issue.id, now=now)


async def start(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                now: datetime) -> IssueDetail:
    """The assignee starts rectifying."""
    issue, ev = await _transition(db, principal, issue_id, "start", now=now, version=version)
    await events.tell(db, issue.id, ev, "issue_started", users=[issue.assigner_id],
                      message=texts.message("issue_started", _title(issue),
                                            actor=principal.display_name))
    return await _done(db, principal, issue, now)


async def rectify(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                  now: datetime, note: str, photos: Sequence[str]) -> IssueDetail:
    """The assignee signs: done, with evidence (a note and at least one photo of theirs)."""
    await _acting(db, principal, issue_id, "rectify", version)
    text, problems = clean_text(note, "/note", required=True)
    if not photos:
        problems.append(Problem("/photos", "at least one photo of the rectification",
                                "required", "body"))
    if problems:
        raise invalid(problems)
    photo_ids = await check_photos(db, principal.user_id, photos)
    issue, ev = await _transition(
        db, principal, issue_id, "rectify", now=now, version=version,
        changes={"assignee_signed_at": as_utc(now)}, data={"note": text, "photos": photo_ids})
    await events.tell(db, issue.id, ev, "issue_rectified", users=[issue.assigner_id],
                      message=texts.message("issue_rectified", _title(issue),
                                            actor=principal.display_name))
    await events.tell(db, issue.id, ev, "issue_rectified_shop", users=_shop(issue),
                      message=texts.message("issue_rectified_shop", _title(issue)))
    return await _done(db, principal, issue, now)


async def verify(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, note: str = "") -> IssueDetail:
    """The assigner signs: the rectification is checked."""
    text, problems = clean_text(note, "/note", required=False)
    if problems:
        raise invalid(problems)
    issue, ev = await _transition(db, principal, issue_id, "verify", now=now, version=version,
                                  changes={"assigner_signed_at": as_utc(now)},
                                  data={"note": text} if text else None)
    await events.tell(db, issue.id, ev, "issue_verified", users=[issue.assignee_id],
                      message=texts.message("issue_verified", _title(issue)))
    await events.tell(db, issue.id, ev, "issue_to_confirm", users=_shop(issue),
                      message=texts.message("issue_to_confirm", _title(issue)))
    return await _done(db, principal, issue, now)


def _shop(issue: Issue) -> list[int | None]:
    """The shop that raised the issue, when it is a party to its sign-off."""
    return [issue.reporter_id] if needs_shop(issue) else []


async def _shop_acting(db: AsyncSession, principal: Principal, issue_id: int, action: str,
                       version: int) -> Issue:
    issue = await _acting(db, principal, issue_id, action, version)
    if issue.reporter_signed_at is not None:
        raise AlreadyConfirmed(issue_id)
    return issue


async def confirm(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                  now: datetime, note: str = "") -> IssueDetail:
    """确认整改: the shop that raised the issue confirms the verified fix; it may be closed."""
    await _shop_acting(db, principal, issue_id, "confirm", version)
    text, problems = clean_text(note, "/note", required=False)
    if problems:
        raise invalid(problems)
    issue, ev = await _transition(db, principal, issue_id, "confirm", now=now,
                                  version=version, changes={"reporter_signed_at": as_utc(now)},
                                  data={"note": text} if text else None)
    await events.tell(db, issue.id, ev, "issue_confirmed",
                      users=[issue.assigner_id, issue.assignee_id],
                      message=texts.message("issue_confirmed", _title(issue),
                                            actor=principal.display_name))
    return await _done(db, principal, issue, now)


async def send_back(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                    now: datetime, reason: str) -> IssueDetail:
    """The shop that raised the issue is not satisfied with the fix: back to the assignee
    with the reason (like 验收退回); every signature is withdrawn."""
    await _shop_acting(db, principal, issue_id, "send_back", version)
    why = _reason(reason)
    issue, ev = await _transition(
        db, principal, issue_id, "send_back", now=now, version=version, reason=why,
        changes={"assignee_signed_at": None, "assigner_signed_at": None})
    await events.tell(db, issue.id, ev, "issue_sent_back",
                      users=[issue.assignee_id, issue.assigner_id],
                      message=texts.message("issue_sent_back", _title(issue), reason=why,
                                            actor=principal.display_name))
    return await _done(db, principal, issue, now)


async def refuse(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """The assigner sends the rectification back (with a reason); the assignee's signature
    is withdrawn."""
    await _acting(db, principal, issue_id, "refuse", version)
    why = _reason(reason)
    issue, ev = await _transition(db, principal, issue_id, "refuse", now=now, version=version,
                                  changes={"assignee_signed_at": None}, reason=why)
    await events.tell(db, issue.id, ev, "issue_refused", users=[issue.assignee_id],
                      message=texts.message("issue_refused", _title(issue), reason=why))
    return await _done(db, principal, issue, now)


async def close(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                now: datetime) -> IssueDetail:
    """销号: needs both signatures (and the shop's confirmation of what it raised); by the
    assigner or a supervisor of the site."""
    issue = await _acting(db, principal, issue_id, "close", version)
    if needs_shop(issue) and issue.reporter_signed_at is None:
        raise NeedsShopConfirmation(issue_id)
    missing = [party for party, at in (("assignee", issue.assignee_signed_at),
                                       ("assigner", issue.assigner_signed_at)) if at is None]
    if missing:
        raise Conflict(f"issue {issue_id} cannot close without the signature of the "
                       f"{' and the '.join(missing)}")
    issue, ev = await _transition(db, principal, issue_id, "close", now=now, version=version,
                                  changes={"closed_at": as_utc(now)})
    await events.tell(db, issue.id, ev, "issue_closed", users=events.parties(issue),
                      message=texts.message("issue_closed", _title(issue)))
    return await _done(db, principal, issue, now)


async def reopen(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """A closed issue back to the assignee: every signature (the shop's too) is withdrawn."""
    await _acting(db, principal, issue_id, "reopen", version)
    why = _reason(reason)
    issue, ev = await _transition(
        db, principal, issue_id, "reopen", now=now, version=version, reason=why,
        changes={"assignee_signed_at": None, "assigner_signed_at": None, "closed_at": None,
                 "reporter_signed_at": None, "reminded_at": None})
    await events.tell(db, issue.id, ev, "issue_reopened", users=[issue.assignee_id],
                      message=texts.message("issue_reopened", _title(issue), reason=why))
    return await _done(db, principal, issue, now)


async def cancel(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """Withdrawn (a mistake, a duplicate, no longer relevant), with the reason."""
    await _acting(db, principal, issue_id, "cancel", version)
    why = _reason(reason)
    issue, ev = await _transition(db, principal, issue_id, "cancel", now=now,
                                  version=version, reason=why)
    await events.tell(db, issue.id, ev, "issue_cancelled", users=events.parties(issue),
                      message=texts.message("issue_cancelled", _title(issue), reason=why))
    return await _done(db, principal, issue, now)


async def reassign(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                   now: datetime, assignee_id: int, reason: str = "") -> IssueDetail:
    """Hand the issue to another assignee (in the principal's scope, able to rectify); they
    start afresh (``assigned``) and get the reminder anew."""
    current = await _acting(db, principal, issue_id, "reassign", version)
    if assignee_id == current.assignee_id:
        raise invalid([Problem("/assignee_id", "is the assignee already", "unchanged",
                               "body")])
    text, problems = clean_text(reason, "/reason", required=False)
    if problems:
        raise invalid(problems)
    await check_assignee(db, principal, assignee_id)
    old = current.assignee_id
    issue, ev = await _transition(
        db, principal, issue_id, "reassign", now=now, version=version, reason=text,
        changes={"assignee_id": assignee_id, "assignee_signed_at": None, "reminded_at": None},
        data={"from_assignee_id": old, "to_assignee_id": assignee_id},
        event_action="assigned" if old is None else "reassigned")
    due_in = issue.due_at - as_utc(now) if issue.due_at is not None else None
    await events.tell(db, issue.id, ev, "issue_assigned", users=[assignee_id],
                      message=texts.message("issue_assigned", _title(issue), due_in=due_in))
    await events.tell(db, issue.id, ev, "issue_reassigned", users=[old],
                      message=texts.message("issue_reassigned", _title(issue)))
    return await _done(db, principal, issue, now)


async def comment(db: AsyncSession, principal: Principal, issue_id: int, *, now: datetime,
                  text: str, photos: Sequence[str] = (), version: int | None = None
                  ) -> IssueDetail:
    """A remark by anyone who can see the issue; the version stays (see the module)."""
    issue = await _acting(db, principal, issue_id, "comment", version)
    body, problems = clean_text(text, "/text", required=True)
    if problems:
        raise invalid(problems)
    photo_ids = await check_photos(db, principal.user_id, photos)
    now = as_utc(now)
    ev = await events.record(db, issue.id, at=now, actor_id=principal.user_id,
                             action="commented", from_status=None, to_status=None, reason="",
                             data={"text": body, **({"photos": photo_ids} if photo_ids else {})})
    await events.tell(db, issue.id, ev, "issue_comment", users=events.parties(issue),
                      message=texts.message("issue_comment", _title(issue),
                                            actor=principal.display_name))
    return await _done(db, principal, issue, now)
