"""Where issues come from, and how one is opened.

Issues come from four sources:

- the failed items of a submission (one issue per failed item, or one per submission where
  the standard says ``issues.per: submission``): made in the submission's own transaction
  with bulk statements (``bulk``); :func:`create_issues_for_submission` makes the same ones
  with the ORM for the periodic reconciliation (:func:`reconcile_missing_issues`, run by the
  jobs: it repairs what was stored before, or what a crash left) and the
  ``rounds.issues.for_submission`` task (one submission on demand);
- a supervisor's own assignment (交办, :func:`assign_issue`);
- a retailer's complaint or suggestion about their shop (:func:`submit_feedback`).

Who rectifies and who verifies is data: a standard's ``issues.assign_to`` and
``issues.verify_by``, or a failed item's own (see ``routing``: only people whose role may
act, with a fallback written into the history). Opening an issue (:func:`open_issue`)
writes its ``created`` event, the ``routed`` events of any fallback, its ``assigned`` event
and tells the assignee (or the assigner that it needs one).

Imports ``routing``, ``events``, ``checks``, ``texts``, ``deadlines`` and ``queries`` of the
slice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from rounds import i18n
from rounds.db import as_utc, table_of
from rounds.errors import NotFound, Problem
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.issues import events, texts
from rounds.runtime.issues.checks import check_assignee, check_photos, clean_text, invalid
from rounds.runtime.issues.deadlines import (
    DEFAULT_DUE_DAYS,
    PRIORITY_OF,
    SEVERITIES,
    due_days,
    due_in,
    due_json,
)
from rounds.runtime.issues.models import ASSIGNED, OPEN, Issue
from rounds.runtime.issues.queries import get_issue
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    FEEDBACK_ASSIGN_TO,
    FEEDBACK_VERIFY_BY,
    Party,
    Routed,
    Where,
    item_rules,
    parties,
    roles,
    route,
)
from rounds.runtime.issues.views import IssueDetail
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import insert_or_nothing, is_busy, retry_busy, write_transaction
from rounds.runtime.submissions.models import FailedItem, Submission

log = logging.getLogger("rounds.issues")

FAILED_ITEM, ASSIGNMENT, COMPLAINT, SUGGESTION = "failed_item", "assigned", "complaint", \
    "suggestion"
FEEDBACK_KINDS = {COMPLAINT: "medium", SUGGESTION: "low"}  # kind → severity
_ISSUES = table_of(Issue)
_RANK = {s: n for n, s in enumerate(SEVERITIES)}


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

def _item_titles(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Item id → its title ({zh, en}), through sections and groups."""
    out: dict[str, dict[str, str]] = {}

    def walk(items: Any) -> None:
        for it in items or ():
            if isinstance(it, dict) and "id" in it:
                out[str(it["id"])] = dict(it.get("title") or {})
                walk(it.get("items"))

    for section in content.get("sections") or ():
        walk(section.get("items"))
    return out


def _static_problems(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Items' problem titles that need no data (no params): what a submission stored
    before problem titles were filled in still gets them."""
    out: dict[str, dict[str, str]] = {}
    for section in content.get("sections") or ():
        for it in section.get("items") or ():
            p = it.get("problem") if isinstance(it, dict) else None
            if isinstance(p, dict) and not p.get("params") and p.get("zh") and p.get("en"):
                out[str(it["id"])] = {"zh": str(p["zh"]), "en": str(p["en"])}
    return out


def problem_titles(content: dict[str, Any], evaluation: Any) -> dict[str, dict[str, str]]:
    """Item id → the name of its problem when it failed, in both languages: the problem
    title the evaluation filled in (the item's ``problem``), else the item's title."""
    return filled_titles(definition_titles(content), evaluation)


def definition_titles(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What ``problem_titles`` takes from the definition alone (the same for every
    submission of a version)."""
    out = _item_titles(content)
    out.update(_static_problems(content))
    return out


def filled_titles(titles: dict[str, dict[str, str]], evaluation: Any
                  ) -> dict[str, dict[str, str]]:
    """``titles`` with the problem titles an evaluation filled in."""
    out = dict(titles)
    failed = evaluation.get("failed") if isinstance(evaluation, dict) else None
    for f in failed if isinstance(failed, list) else []:
        filled = f.get("problem") if isinstance(f, dict) else None
        if isinstance(filled, dict) and filled.get("zh") and filled.get("en"):
            out[str(f.get("item"))] = {"zh": str(filled["zh"]), "en": str(filled["en"])}
    return out


def severity_rank(severity: str) -> int:
    """How urgent a severity is (an unknown one counts as low)."""
    return _RANK.get(severity, 1)


def in_each(title: texts.Title, fallback: str, limit: int | None = None) -> dict[str, str]:
    """A title in every language (each by the one fallback order), cut to ``limit``."""
    return {lang: texts.title_in(title, lang, fallback)[:limit] for lang in i18n.LANGUAGES}


async def create_issues_for_submission(db: AsyncSession, submission_id: str,
                                       now: datetime) -> int:
    """Turn a submission's failed items into issues, per its standard's ``issues`` (the
    version it was filled against). Idempotent: a failed item has one issue at most (a
    unique key), so running it again (a retry, the reconciliation) creates nothing.
    Returns how many issues it created.

    The due date counts from the submission, not from now: a late run (the reconciliation
    after a lost message) does not give the assignee more time."""
    now = as_utc(now)
    sub = await db.get(Submission, submission_id)
    if sub is None:
        return 0
    failed = (await db.execute(select(FailedItem).where(
        FailedItem.submission_id == submission_id).order_by(FailedItem.id))).scalars().all()
    if not failed:
        return 0
    taken = set((await db.execute(select(Issue.failed_item_id).where(
        Issue.submission_id == submission_id, Issue.failed_item_id.is_not(None)))).scalars())
    version = await db.get(DefinitionVersion, sub.version_id)
    content: dict[str, Any] = dict(version.content) if version is not None else {}
    config: dict[str, Any] = dict(content.get("issues") or {})
    per = config.get("per", "item")
    if per == "submission" and taken:
        return 0
    default_severity = str(config.get("default_severity") or "medium")
    titles = problem_titles(content, sub.evaluation)
    definition_title: dict[str, str] = dict(content.get("title") or {})
    standard = in_each(definition_title, sub.definition_id)
    submitter = await db.get(User, sub.user_id)
    lang = submitter.language if submitter is not None else "zh"
    site = await db.get(Site, sub.site_id) if sub.site_id is not None else None
    if site is None and submitter is None:  # pragma: no cover - foreign keys prevent it
        return 0
    unit_id = site.org_unit_id if site is not None else cast(User, submitter).org_unit_id
    submitted = sub.submitted_at
    evidence = sub.evidence if isinstance(sub.evidence, dict) else {}
    standard_rules = {"assign_to": Party.of_json(config.get("assign_to")),
                      "verify_by": Party.of_json(config.get("verify_by"))}
    own_rules = item_rules(content)
    where = Where(sub.site_id, unit_id, sub.user_id,
                  submitter.role_id if submitter is not None else None)
    known = await roles(db)
    place = f"{site.name}（{site.code}）" if site is not None else ""

    def base(severity: str, due: timedelta) -> dict[str, Any]:
        return {"source": FAILED_ITEM, "severity": severity, "site_id": sub.site_id,
                "org_unit_id": unit_id, "submission_id": sub.id,
                "definition_id": sub.definition_id, "reporter_id": sub.user_id,
                "due_at": submitted + due}

    made = 0
    if per == "submission":
        severity = max((f.severity or default_severity for f in failed), key=severity_rank)
        items: list[dict[str, Any]] = [{"item_id": f.item_id, "failed_item_id": f.id,
                  "severity": f.severity or default_severity,
                  "title": titles.get(f.item_id, {})} for f in failed]
        head = texts.failed_items_title(definition_title, len(failed), sub.definition_id)
        assignee, assigner, used = await parties(db, where, own={}, standard=standard_rules,
                                                 known=known)
        # One issue for them all: due when the most urgent of its items is.
        due, due_from = min((due_in(config.get("due_days"), f.severity or default_severity,
                                    own_rules.get(f.item_id, {}).get("due")) for f in failed),
                            key=lambda d: d[0])
        # The failed items are listed in each reader's language (see texts.description).
        neutral = {**head, "standard": standard,
                   "items": [in_each(i["title"], i["item_id"]) for i in items]}
        values = {**base(severity, due),
                  "title": texts.title_in(head, lang, sub.definition_id)[:300],
                  "titles": neutral, "description": place,
                  "failed_item_id": failed[0].id, "item_id": None,
                  "assignee_id": assignee.user_id, "assigner_id": assigner.user_id}
        if await open_issue(db, values, now=now, actor_id=None, unique_failed_item=True,
                            routed=(assignee, assigner), created={
                "title": head, "items": items, "submission_id": sub.id, "rules": used,
                "due_days": due_days(config.get("due_days"), severity),
                "due": due_json(due), "due_from": due_from}) is not None:
            made += 1
        return made

    for f in failed:
        if f.id in taken:
            continue
        severity = f.severity or default_severity
        title = titles.get(f.item_id, {})
        note = evidence.get(f.item_id, {}) if isinstance(evidence.get(f.item_id), dict) else {}
        assignee, assigner, used = await parties(db, where, own=own_rules.get(f.item_id, {}),
                                                 standard=standard_rules, known=known)
        due, due_from = due_in(config.get("due_days"), severity,
                               own_rules.get(f.item_id, {}).get("due"))
        # The description is language-free (the site, the note); the title and the
        # standard's name are stored in every language, for each reader's own.
        text = [place]
        if note.get("note"):
            text.append(str(note["note"]))
        values = {**base(severity, due),
                  "title": texts.title_in(title, lang, f.item_id)[:300],
                  "titles": {**in_each(title, f.item_id, 300), "standard": standard},
                  "description": "\n".join(t for t in text if t),
                  "failed_item_id": f.id, "item_id": f.item_id,
                  "assignee_id": assignee.user_id, "assigner_id": assigner.user_id}
        created = {"title": title, "submission_id": sub.id, "item_id": f.item_id,
                   "severity": severity, "rules": used,
                   "due_days": due_days(config.get("due_days"), severity),
                   "due": due_json(due), "due_from": due_from,
                   "photos": [str(p) for p in note.get("photos") or []],
                   "note": str(note.get("note") or "")}
        if await open_issue(db, values, now=now, actor_id=None, unique_failed_item=True,
                            routed=(assignee, assigner), created=created) is not None:
            made += 1
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

