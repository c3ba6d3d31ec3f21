"""Where issues come from, and how one is opened.

Issues come from four sources:

- the failed items of a submission (one issue per failed item, or one per submission where
  the standard says ``issues.per: submission``): made in the submission's own transaction
  with bulk statements (``bulk``); :func:`create_issues_for_submission` reads a stored
  submission back and makes the missing ones through the same code for the periodic
  reconciliation (:func:`reconcile_missing_issues`, run by the
  jobs: it repairs what was stored before, or what a crash left) and the
  ``rounds.issues.for_submission`` task (one submission on demand);
- a supervisor's own assignment (交办, :func:`assign_issue`);
- a retailer's complaint or suggestion about their shop (:func:`submit_feedback`).

Who rectifies and who verifies is data: a standard's ``issues.assign_to`` and
``issues.verify_by``, or a failed item's own (see ``routing``: only people whose role may
act, with a fallback written into the history). Opening an issue (:func:`open_issue`)
writes its ``created`` event, the ``routed`` events of any fallback, its ``assigned`` event
and tells the assignee (or the assigner that it needs one).

Imports ``bulk``, ``routing``, ``events``, ``checks``, ``texts``, ``deadlines`` and
``queries`` of the slice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from rounds.db import as_utc, table_of
from rounds.errors import NotFound, Problem
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.issues import bulk, events, texts
from rounds.runtime.issues.checks import check_assignee, check_photos, clean_text, invalid
from rounds.runtime.issues.deadlines import (
    DEFAULT_DUE_DAYS,
    PRIORITY_OF,
    SEVERITIES,
)
from rounds.runtime.issues.models import ASSIGNED, OPEN, Issue
from rounds.runtime.issues.queries import get_issue
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    FEEDBACK_ASSIGN_TO,
    FEEDBACK_VERIFY_BY,
    Routed,
    Where,
    roles,
    route,
)
from rounds.runtime.issues.views import IssueDetail
from rounds.runtime.notifications.service import PENDING_PUSH
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import insert_or_nothing, is_busy, retry_busy, write_transaction
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.models import FailedItem, Submission

log = logging.getLogger("rounds.issues")

FAILED_ITEM = bulk.FAILED_ITEM
ASSIGNMENT, COMPLAINT, SUGGESTION = "assigned", "complaint", "suggestion"
FEEDBACK_KINDS = {COMPLAINT: "medium", SUGGESTION: "low"}  # kind → severity
_ISSUES, _SUBMISSIONS, _FAILED = table_of(Issue), table_of(Submission), table_of(FailedItem)
_S = Site.__table__.c


# -- opening an issue -----------------------------------------------------------------------

async def open_issue(db: AsyncSession, values: dict[str, Any], *, now: datetime,
                     actor_id: int | None, created: dict[str, Any],
                     unique_failed_item: bool = False,
                     routed: Sequence[Routed] = ()) -> int | None:
    """Insert an issue (status ``assigned`` when it has an assignee, else ``open``) with its
    ``created`` event, a ``routed`` event for each party found by the fallback (why), its
    ``assigned`` event, and tell the assignee (or the assigner that it needs one). With
    ``unique_failed_item`` an existing issue of the failed item wins (ON CONFLICT DO
    NOTHING): None then."""
    assignee = values.get("assignee_id")
    row = {"description": "", "priority": PRIORITY_OF.get(values["severity"], 3),
           "escalation_level": 0, "version": 1, "created_at": now, "updated_at": now,
           **values, "status": ASSIGNED if assignee is not None else OPEN}
    stmt = (insert_or_nothing(db, _ISSUES, ["failed_item_id"]) if unique_failed_item
            else _ISSUES.insert())
    new_id = (await db.execute(stmt.values(row).returning(_ISSUES.c.id))).scalar_one_or_none()
    if new_id is None:
        return None
    issue_id = int(new_id)
    await events.record(db, issue_id, at=now, actor_id=actor_id, action="created",
                        from_status=None, to_status=OPEN, data=created)
    for r in routed:
        if r.fallback is not None:
            await events.record(db, issue_id, at=now, actor_id=None, action="routed",
                                from_status=None, to_status=None, data=r.event_data())
            if r.fallback == "nobody" and r.party == ASSIGNER:
                log.warning("issue %s has nobody who may accept its fix: %s", issue_id,
                            r.text.get("en"))
    left = (row["due_at"] - now) if row.get("due_at") else None
    if assignee is not None:
        ev = await events.record(db, issue_id, at=now, actor_id=actor_id, action="assigned",
                                 from_status=OPEN, to_status=ASSIGNED,
                                 data={"assignee_id": assignee})
        await events.tell(db, issue_id, ev, "issue_assigned", users=[assignee],
                          message=texts.message("issue_assigned",
                                                row.get("titles") or row["title"],
                                                due_in=left))
    elif row.get("assigner_id") is not None:
        ev = await events.record(db, issue_id, at=now, actor_id=actor_id,
                                 action="needs_assignee", from_status=None, to_status=None)
        await events.tell(db, issue_id, ev, "issue_unassigned", users=[row["assigner_id"]],
                          message=texts.message("issue_unassigned",
                                                row.get("titles") or row["title"]))
    return issue_id


# -- failed items ---------------------------------------------------------------------------

async def create_issues_for_submission(db: AsyncSession, submission_id: str,
                                       now: datetime) -> int:
    """Turn a submission's failed items into issues, per its standard's ``issues`` (the
    version it was filled against), with the rows the write path makes (``bulk.issues_of``).
    Idempotent: the submission's row is locked (PostgreSQL; SQLite has one writer) and the
    failed items that have an issue are left out, so running it again (a retry, the
    reconciliation) creates nothing. Returns how many issues it created.

    The due date counts from the submission, not from now: a late run (the reconciliation
    after a lost message) does not give the assignee more time."""
    now = as_utc(now)
    t = _SUBMISSIONS.c
    found = (await db.execute(select(*t, _S.org_unit_id, _S.name.label("site_name"),
                                   _S.code.label("site_code"))
                            .outerjoin(Site.__table__, _S.id == t.site_id)
                            .where(t.id == submission_id).with_for_update(of=_SUBMISSIONS))
           ).mappings().first()
    if found is None:
        return 0
    row: dict[str, Any] = dict(found)
    failed = [dict(f) for f in (await db.execute(
        select(*_FAILED.c).where(_FAILED.c.submission_id == submission_id)
        .order_by(_FAILED.c.id))).mappings()]
    if not failed:
        return 0
    taken = set((await db.execute(select(Issue.failed_item_id).where(
        Issue.submission_id == submission_id, Issue.failed_item_id.is_not(None)))).scalars())
    if taken and (await bulk.standard(await db.connection(), row)).per == "submission":
        return 0  # its one issue exists
    submitter = await db.get(User, row["user_id"])
    if submitter is None:  # pragma: no cover - foreign keys prevent it
        return 0
    evidence = row["evidence"] if isinstance(row["evidence"], dict) else {}
    notes = [evidence.get(f["item_id"]) for f in failed]
    named = {str(p) for note in notes if isinstance(note, dict)
             for p in note.get("photos") or ()}
    stored = frozenset((await db.execute(select(Photo.id).where(Photo.id.in_(named))))
                       .scalars()) if named else frozenset[str]()
    made, pushed = await bulk.issues_of(await db.connection(), [bulk.Failed(
        row, [f for f in failed if f["id"] not in taken],
        bulk.Submitter(submitter.id, submitter.role_id, submitter.org_unit_id,
                       submitter.language),
        row if row["site_id"] is not None else None, stored, now)])
    if pushed:  # pushed once the session's transaction commits
        db.info.setdefault(PENDING_PUSH, set()).update(pushed)
    return made


# -- catching up: the reconciliation ----------------------------------------------------------

def _missing() -> Any:
    """Failed items that no issue covers (per item, or the per-submission issue)."""
    per_item = exists().where(Issue.failed_item_id == FailedItem.id)
    # A per-submission issue holds the id of the submission's first failed item: found
    # through the indexes on failed_items.submission_id and issues.failed_item_id.
    sibling = aliased(FailedItem)
    per_submission = exists().where(sibling.submission_id == FailedItem.submission_id,
                                    Issue.failed_item_id == sibling.id,
                                    Issue.item_id.is_(None))
    return and_(~per_item, ~per_submission)


async def _missing_submissions(db: AsyncSession, limit: int) -> list[str]:
    """Submissions with failed items that no issue covers, oldest first."""
    return [str(sid) for sid in (await db.execute(
        select(FailedItem.submission_id).where(_missing()).group_by(FailedItem.submission_id)
        .order_by(func.min(FailedItem.id)).limit(limit))).scalars()]


@dataclass
class Reconciled:
    """What a reconciliation run did: issues made, and the submissions it could not do
    (id → the error, in a line)."""

    made: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """The failures in one line: how many, and the first errors."""
        errors: dict[str, int] = {}
        for error in self.failed.values():
            errors[error] = errors.get(error, 0) + 1
        listed = "; ".join(f"{e} (×{n})" if n > 1 else e for e, n in list(errors.items())[:3])
        n = len(self.failed)
        return f"{n} submission{'s' if n != 1 else ''} left without issues: {listed}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


async def reconcile_missing_issues(sessions: async_sessionmaker[AsyncSession], now: datetime,
                                   *, limit: int = 1000, batch: int = 10, attempts: int = 5
                                   ) -> Reconciled:
    """The reconciliation: issues for every failed item that has none (a lost background
    task, a crash after the submission's commit), oldest first, at most ``limit`` submissions
    a run.

    Made to go on while people submit: ``batch`` submissions a transaction, each a short
    write transaction (``write_transaction``: on SQLite in the same writer queue as the API's
    and holding the write lock from its start), retried as a whole while the database is
    busy. A submission that fails for another reason is rolled back alone (a savepoint),
    recorded in the result, and the others go on; the caller reports the run as failed."""
    now = as_utc(now)
    async with sessions() as db:
        ids = await _missing_submissions(db, limit)
    done = Reconciled()
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]

        async def run(chunk: list[str] = chunk) -> tuple[int, dict[str, str]]:
            made, failed = 0, {}
            async with write_transaction(sessions) as db:
                for sid in chunk:
                    try:
                        async with db.begin_nested():
                            made += await create_issues_for_submission(db, sid, now)
                    except Exception as exc:
                        if is_busy(exc):
                            raise  # the whole batch again, after a pause
                        failed[sid] = _one_line(exc)
                        log.debug("could not create the issues of submission %s", sid,
                                  exc_info=True)
            return made, failed

        try:
            made, failed = await retry_busy(run, attempts=attempts)
        except Exception as exc:
            if not is_busy(exc):
                raise
            # Still busy after every try: the rest waits for the next run.
            done.failed.update({sid: _one_line(exc) for sid in ids[start:]})
            break
        done.made += made
        done.failed.update(failed)
    return done


# -- 交办 (a supervisor's own assignment) and a retailer's feedback --------------------------

async def assign_issue(db: AsyncSession, principal: Principal, *, now: datetime,
                       site_id: int, title: str, assignee_id: int, description: str = "",
                       severity: str = "medium", priority: int | None = None,
                       due_at: datetime | None = None) -> IssueDetail:
    """交办: someone with ``issue.assign`` hands an issue at a site of their scope to a user
    of their scope who may rectify; they are its assigner."""
    principal.require("issue.assign")
    now = as_utc(now)
    title, problems = clean_text(title, "/title", required=True, limit=300)
    description, more = clean_text(description, "/description", required=False)
    problems += more
    if severity not in SEVERITIES:
        problems.append(Problem("/severity", f"one of {', '.join(SEVERITIES)}", "enum", "body"))
    if priority is not None and not 1 <= priority <= 4:
        problems.append(Problem("/priority", "1 (urgent) to 4 (low)", "range", "body"))
    if due_at is not None and due_at <= now:
        problems.append(Problem("/due_at", "must be in the future", "date_min", "body"))
    site = (await db.execute(select(Site).where(Site.id == site_id, site_scope(principal)))
            ).scalar_one_or_none()
    if site is None:
        problems.append(Problem("/site_id", f"no site {site_id} in your scope",
                                "unknown_site", "body"))
    if problems:
        raise invalid(problems)
    assert site is not None
    await check_assignee(db, principal, assignee_id)
    due = due_at if due_at is not None else \
        now + timedelta(days=DEFAULT_DUE_DAYS[severity])
    values = {"title": title, "description": description, "source": ASSIGNMENT,
              "severity": severity, "priority": priority or PRIORITY_OF[severity],
              "site_id": site.id, "org_unit_id": site.org_unit_id, "due_at": due,
              "assigner_id": principal.user_id, "assignee_id": assignee_id,
              "reporter_id": principal.user_id}
    issue_id = await open_issue(db, values, now=now, actor_id=principal.user_id,
                                created={"title": title})
    assert issue_id is not None
    return await get_issue(db, principal, issue_id, now=now)


async def submit_feedback(db: AsyncSession, principal: Principal, *, now: datetime,
                          kind: str, text: str, title: str | None = None,
                          photos: Sequence[str] = ()) -> IssueDetail:
    """A retailer's suggestion or complaint about their own shop, assigned by the rules:
    the shop's customer manager rectifies, the station head of the shop's unit (or the
    nearest above) verifies. The retailer is its reporter and follows it."""
    principal.require("shop.view_own")
    if principal.site_id is None:
        raise Forbidden("your account acts for no shop")
    now = as_utc(now)
    body, problems = clean_text(text, "/text", required=True)
    head, more = clean_text(title, "/title", required=False, limit=300)
    problems += more
    if kind not in FEEDBACK_KINDS:
        problems.append(Problem("/kind", "complaint or suggestion", "enum", "body"))
    if problems:
        raise invalid(problems)
    photo_ids = await check_photos(db, principal.user_id, photos)
    site = await db.get(Site, principal.site_id)
    if site is None:
        raise NotFound("your shop is not among the sites")
    severity = FEEDBACK_KINDS[kind]
    where = Where(site.id, site.org_unit_id, principal.user_id, principal.role_id)
    known = await roles(db)
    assignee = await route(db, ASSIGNEE, FEEDBACK_ASSIGN_TO, where, rule_from="feedback",
                           known=known)
    assigner = await route(db, ASSIGNER, FEEDBACK_VERIFY_BY, where, rule_from="feedback",
                           exclude=assignee.user_id, known=known)
    # Without a title, the kind and the start of the text: "投诉：……" / "Complaint: ..."
    summary = body if len(body) <= 60 else body[:59] + "…"
    values = {"title": (head or texts.feedback_title(kind, principal.language, summary))[:300],
              "description": body, "source": kind, "severity": severity,
              "site_id": site.id, "org_unit_id": site.org_unit_id,
              "due_at": now + timedelta(days=DEFAULT_DUE_DAYS[severity]),
              "assigner_id": assigner.user_id, "assignee_id": assignee.user_id,
              "reporter_id": principal.user_id}
    issue_id = await open_issue(db, values, now=now, actor_id=principal.user_id,
                                routed=(assignee, assigner), created={
        "kind": kind, "photos": photo_ids, "note": body,
        "rules": {"assign_to": FEEDBACK_ASSIGN_TO.as_json(),
                  "verify_by": FEEDBACK_VERIFY_BY.as_json()}})
    assert issue_id is not None
    return await get_issue(db, principal, issue_id, now=now)

