"""The closed loop (PDCA): an issue is found, assigned, rectified, verified and closed.

The assigner (交办人) and the assignee (整改责任人) both sign an issue off (共同销号):

    open ─assign─▶ assigned ─start─▶ in_progress ─rectify─▶ rectified ─verify─▶ verified
                                        ▲  ▲                  │refuse              │close
                                        │  └──────────────────┘                    ▼
                                        └────────────────reopen───────────────── closed
    cancel: from any active state (open, assigned, in_progress, rectified)

- **rectify**: the assignee signs, with evidence (a note and photos they uploaded);
- every step needs the capability of the role too (``issue.rectify``, ``issue.verify``,
  ``issue.cancel``, ``issue.assign``): being a party is not enough;
- **verify** / **refuse**: the assigner signs, or sends it back with a reason (which clears
  the assignee's signature); with no assigner, a supervisor (``issue.verify``) over the
  issue's site stands in;
- **close** needs both signatures, by the assigner or a supervisor; **reopen** clears both.

Every step appends an :class:`IssueEvent` (the audit trail) and bumps ``version``. A request
names the version it saw: the update is ``UPDATE ... WHERE version = :seen``, so of two people
acting on the same issue at once one wins and the other gets 409 (stale version). Comments,
reminders and escalations add events without bumping the version: they change nothing a
person decides on, so they never make someone's pending action stale.

Issues come from four sources: failed items of a submission (``create_issues_for_submission``,
run after the response is sent, and ``reconcile_missing_issues``, the periodic reconciliation),
a supervisor's own assignment (交办, ``assign_issue``) and a retailer's suggestion or complaint
(``submit_feedback``). Who rectifies and who verifies is data: a standard's ``issues.assign_to``
and ``issues.verify_by``, or a failed item's own (see ``routing``: only people whose role may
act, with a fallback written into the history).

Reminders and escalations (``remind_due_soon``, ``escalate_overdue``) are recomputed from the
issues' columns, each change made by a conditional UPDATE whose row count says whether this
run won: they are idempotent and safe to run concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from rounds.db import utcnow
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.issues import routing
from rounds.runtime.issues.models import (
    ACTIVE,
    ASSIGNED,
    CANCELLED,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    RECTIFIED,
    STATES,
    VERIFIED,
    Issue,
    IssueEvent,
    IssuePhoto,
)
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    DEFAULT_ASSIGN_TO,
    DEFAULT_VERIFY_BY,
    FEEDBACK_ASSIGN_TO,
    FEEDBACK_VERIFY_BY,
    Party,
    Routed,
    Where,
    roles,
    route,
    unit_chain,
    users_by_unit,
)
from rounds.runtime.notifications.service import notify
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_scope
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import (
    insert_or_nothing,
    is_busy,
    retry_busy,
    write_transaction,
)
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.web.paging import Page

log = logging.getLogger("rounds.issues")

# Routing moved to routing.py; its public names stay importable from here, as before.
candidates = routing.candidates
pick = routing.pick
resolve_party = routing.resolve_party
role_capabilities = routing.role_capabilities

SEVERITIES = ("low", "medium", "high", "critical")
# Days to close when a standard says nothing for a severity (and for 交办 and feedback).
DEFAULT_DUE_DAYS = {"critical": 1, "high": 3, "medium": 7, "low": 14}
# 1 urgent … 4 low: an issue's priority follows its severity unless a person sets it.
PRIORITY_OF = {"critical": 1, "high": 2, "medium": 3, "low": 4}
ESCALATE_EVERY = timedelta(days=1)  # at most one org level up per day per issue
DUE_SOON = timedelta(hours=24)
MAX_PHOTOS = 20
MAX_TEXT = 4000

FAILED_ITEM, ASSIGNMENT, COMPLAINT, SUGGESTION = "failed_item", "assigned", "complaint", \
    "suggestion"
_ISSUES = cast(Table, Issue.__table__)


# -- errors ---------------------------------------------------------------------------------

class WrongState(Conflict):
    """The action is not possible in the issue's current state: says which state it is in
    and what the caller may do now."""

    code = "issue_wrong_state"
    title = "Not possible in the issue's current state"

    def __init__(self, issue_id: int, action: str, status: str, allowed: list[str]) -> None:
        needs = ", ".join(ACTIONS[action].from_states) if action in ACTIONS else "?"
        now = ", ".join(allowed) or "nothing"
        super().__init__(f"cannot {action} issue {issue_id}: it is {status} ({action} needs "
                         f"{needs}); you may now: {now}")
        self.issue_status = status
        self.allowed_actions = allowed


class StaleVersion(Conflict):
    """Someone changed the issue since the caller read it (optimistic locking)."""

    code = "stale_version"
    title = "The issue changed since you read it"

    def __init__(self, issue_id: int, sent: int, current: int) -> None:
        super().__init__(f"issue {issue_id} is at version {current}, you sent version {sent}: "
                         "someone changed it meanwhile; reload it and try again")
        self.current_version = current


class IssueInvalid(InvalidInput):
    code = "issue_invalid"
    title = "Invalid issue input"


def _invalid(problems: list[Problem]) -> IssueInvalid:
    return IssueInvalid("; ".join(f"{p.pointer}: {p.message}" for p in problems), problems)


# -- time -----------------------------------------------------------------------------------

def _utc(at: datetime) -> datetime:
    """Aware UTC (SQLite gives naive datetimes back; they are UTC as stored)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime | None) -> str | None:
    return _utc(at).isoformat() if at is not None else None


# -- the rules of the loop ------------------------------------------------------------------

@dataclass(frozen=True)
class _Who:
    """What the principal is to an issue."""

    user_id: int
    assignee: bool
    assigner: bool
    reporter: bool
    in_scope: bool  # the issue's site is in the principal's scope
    principal: Principal

    def supervises(self, capability: str) -> bool:
        return self.in_scope and self.principal.can(capability)


# Being a party is not enough: the party's role must have the capability for the step (a
# submitter made the assigner, whose role may not cancel, cannot cancel).

def _assignee(_: Issue, w: _Who) -> bool:
    return w.assignee and w.principal.can("issue.rectify")


def _signer(i: Issue, w: _Who) -> bool:
    # The assigner signs; with no assigner (none was found by the rules) a supervisor does.
    return ((w.assigner and w.principal.can("issue.verify"))
            or (i.assigner_id is None and w.supervises("issue.verify")))


def _closer(_: Issue, w: _Who) -> bool:
    return (w.assigner and w.principal.can("issue.verify")) or w.supervises("issue.verify")


def _canceller(_: Issue, w: _Who) -> bool:
    return (w.assigner or w.in_scope) and w.principal.can("issue.cancel")


def _reassigner(_: Issue, w: _Who) -> bool:
    return (w.assigner and w.principal.can("issue.assign")) or w.supervises("issue.assign")


def _anyone(_: Issue, __: _Who) -> bool:
    return True


@dataclass(frozen=True)
class Action:
    name: str
    from_states: tuple[str, ...]
    to_status: str | None  # None: the state stays (a comment)
    may: Callable[[Issue, _Who], bool]
    who: str  # for the 403 message
    capability: str | None = None  # the role needs it too


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("start", (ASSIGNED,), IN_PROGRESS, _assignee, "the assignee", "issue.rectify"),
    Action("rectify", (IN_PROGRESS,), RECTIFIED, _assignee, "the assignee", "issue.rectify"),
    Action("verify", (RECTIFIED,), VERIFIED, _signer, "the assigner", "issue.verify"),
    Action("refuse", (RECTIFIED,), IN_PROGRESS, _signer, "the assigner", "issue.verify"),
    Action("close", (VERIFIED,), CLOSED, _closer, "the assigner or a supervisor of its site",
           "issue.verify"),
    Action("reopen", (CLOSED,), IN_PROGRESS, _closer,
           "the assigner or a supervisor of its site", "issue.verify"),
    Action("cancel", ACTIVE, CANCELLED, _canceller,
           "the assigner or a supervisor of its site", "issue.cancel"),
    Action("reassign", (OPEN, ASSIGNED, IN_PROGRESS), ASSIGNED, _reassigner,
           "the assigner or a supervisor of its site", "issue.assign"),
    Action("comment", STATES, None, _anyone, "anyone who can see it"),
)}


def allowed_actions(issue: Issue, principal: Principal, in_scope: bool) -> list[str]:
    """The actions the principal may take on the issue now (what the pages offer)."""
    w = _who(issue, principal, in_scope)
    return [a.name for a in ACTIONS.values()
            if issue.status in a.from_states and a.may(issue, w)]


def _who(issue: Issue, principal: Principal, in_scope: bool) -> _Who:
    uid = principal.user_id
    return _Who(uid, issue.assignee_id == uid, issue.assigner_id == uid,
                issue.reporter_id == uid, bool(in_scope), principal)


# -- scope ----------------------------------------------------------------------------------

_SUPERVISING = ("issue.view_scope", "issue.verify", "issue.assign")


def _unit_scope(principal: Principal) -> ColumnElement[bool]:
    scope = principal.org_scope
    if scope == "city":
        return true()
    if scope == "org_subtree" and principal.org_path:
        return Issue.org_unit_id.in_(select(OrgUnit.id).where(
            OrgUnit.path.startswith(principal.org_path)))
    if scope == "org_unit":
        return Issue.org_unit_id == principal.org_unit_id
    return false()


def in_scope(principal: Principal) -> ColumnElement[bool]:
    """Issues of the sites in the principal's scope (by org unit for an issue without a
    site), whatever their capabilities."""
    return or_(Issue.site_id.in_(select(Site.id).where(site_scope(principal))),
               and_(Issue.site_id.is_(None), _unit_scope(principal)))


def _involved(principal: Principal) -> ColumnElement[bool]:
    uid = principal.user_id
    return or_(Issue.assignee_id == uid, Issue.assigner_id == uid, Issue.reporter_id == uid)


def visible(principal: Principal) -> ColumnElement[bool]:
    """Everyone sees the issues they are assignee, assigner or reporter of; whoever may
    view, verify or assign issues in a scope sees every issue there."""
    if any(principal.can(c) for c in _SUPERVISING):
        return or_(_involved(principal), in_scope(principal))
    return _involved(principal)


def _scope_column(principal: Principal) -> ColumnElement[Any]:
    if any(principal.can(c) for c in ("issue.verify", "issue.assign", "issue.cancel")):
        return in_scope(principal).label("in_scope")
    return literal(False).label("in_scope")


# -- views ----------------------------------------------------------------------------------

class Person(msgspec.Struct):
    id: int
    name: str


class IssueView(msgspec.Struct, kw_only=True):
    id: int
    title: str  # in the reader's language where the issue has both
    description: str
    standard: str | None  # the name of the standard it came from, in the reader's language
    source: str
    severity: str
    priority: int
    status: str
    site_id: int | None
    site_name: str | None
    org_unit_id: int
    submission_id: str | None
    definition_id: str | None
    item_id: str | None
    assigner: Person | None
    assignee: Person | None
    reporter: Person | None
    due_at: str | None
    overdue: bool
    assignee_signed_at: str | None
    assigner_signed_at: str | None
    closed_at: str | None
    reminded_at: str | None
    escalation_level: int
    escalated_at: str | None
    escalated_to_unit_id: int | None
    created_at: str
    updated_at: str
    version: int
    allowed_actions: list[str]
    link: str


class EventView(msgspec.Struct):
    id: int
    at: str
    actor: Person | None
    action: str
    from_status: str | None
    to_status: str | None
    reason: str
    data: dict[str, Any]


class Evidence(msgspec.Struct):
    at: str
    by: Person | None
    note: str
    photos: list[str]


class IssueDetail(IssueView, kw_only=True):
    events: list[EventView]
    evidence: list[Evidence]  # each rectification's note and photos, oldest first


IssuePage = Page[IssueView]


async def _names(db: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


async def _site_names(db: AsyncSession, site_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {s for s in site_ids if s is not None}
    if not ids:
        return {}
    rows = await db.execute(select(Site.id, Site.name).where(Site.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


def _person(names: dict[int, str], uid: int | None) -> Person | None:
    return Person(uid, names.get(uid, "")) if uid is not None else None


def _description(issue: Issue, lang: str) -> str:
    """The stored description (language-free: the site, the submitter's note) with the
    failed items of a per-submission issue listed in the reader's language."""
    items = _titles(issue).get("items")
    lines = [f"- {_title_in(t, lang)}" for t in items if isinstance(t, dict)] if isinstance(
        items, list) else []
    return "\n".join([issue.description, *lines]).strip() if lines else issue.description


def _view_fields(issue: Issue, principal: Principal, in_scope_: bool, now: datetime, *,
                 names: dict[int, str], sites: dict[int, str]) -> dict[str, Any]:
    due = _utc(issue.due_at) if issue.due_at is not None else None
    return {
        "id": issue.id, "title": _title_in(_titles(issue), principal.language, issue.title),
        "description": _description(issue, principal.language),
        "standard": _title_in(_titles(issue).get("standard"), principal.language) or None,
        "source": issue.source, "severity": issue.severity, "priority": issue.priority,
        "status": issue.status, "site_id": issue.site_id,
        "site_name": sites.get(issue.site_id) if issue.site_id is not None else None,
        "org_unit_id": issue.org_unit_id, "submission_id": issue.submission_id,
        "definition_id": issue.definition_id, "item_id": issue.item_id,
        "assigner": _person(names, issue.assigner_id),
        "assignee": _person(names, issue.assignee_id),
        "reporter": _person(names, issue.reporter_id),
        "due_at": _iso(due), "overdue": bool(due and issue.status in ACTIVE and due < now),
        "assignee_signed_at": _iso(issue.assignee_signed_at),
        "assigner_signed_at": _iso(issue.assigner_signed_at),
        "closed_at": _iso(issue.closed_at), "reminded_at": _iso(issue.reminded_at),
        "escalation_level": issue.escalation_level, "escalated_at": _iso(issue.escalated_at),
        "escalated_to_unit_id": issue.escalated_to_unit_id,
        "created_at": _iso(issue.created_at) or "", "updated_at": _iso(issue.updated_at) or "",
        "version": issue.version,
        "allowed_actions": allowed_actions(issue, principal, in_scope_),
        "link": f"/issues/{issue.id}",
    }


async def _views(db: AsyncSession, principal: Principal, rows: Sequence[tuple[Issue, Any]],
                 now: datetime) -> list[IssueView]:
    names = await _names(db, [u for i, _ in rows
                              for u in (i.assigner_id, i.assignee_id, i.reporter_id)])
    sites = await _site_names(db, [i.site_id for i, _ in rows])
    return [IssueView(**_view_fields(i, principal, bool(s), now, names=names, sites=sites))
            for i, s in rows]


# -- queries --------------------------------------------------------------------------------

def _status_filter(status: str | None) -> ColumnElement[bool] | None:
    if status is None or status == "":
        return None
    if status == "active":
        return Issue.status.in_(ACTIVE)
    wanted = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise _invalid([Problem("/status", f"unknown status {', '.join(unknown)}; one of: "
                                "active, " + ", ".join(STATES), "enum", "query")])
    return Issue.status.in_(wanted)


async def _page(db: AsyncSession, principal: Principal, conds: list[ColumnElement[bool]], *,
                now: datetime, page: int, per_page: int) -> IssuePage:
    total = (await db.execute(select(func.count()).select_from(Issue).where(*conds))
             ).scalar_one()
    # Most urgent first: by due date (none last), then newest.
    rows = (await db.execute(
        select(Issue, _scope_column(principal)).where(*conds)
        .order_by(Issue.due_at.is_(None), Issue.due_at, Issue.id.desc())
        .limit(per_page).offset((page - 1) * per_page))).all()
    return IssuePage(items=await _views(db, principal, rows, now), total=int(total),
                     page=page, per_page=per_page)


async def board_conditions(db: AsyncSession, principal: Principal, *, now: datetime,
                           status: str | None = None, org_unit_id: int | None = None,
                           assignee_id: int | None = None, overdue: bool | None = None,
                           site_id: int | None = None) -> list[ColumnElement[bool]]:
    """The board's filters as SQL conditions, within what the principal may see: ``status``
    is a state, several (comma separated) or ``active``; ``org_unit_id`` keeps that unit and
    the units below; ``overdue`` True keeps late issues, False the others, None all."""
    conds: list[ColumnElement[bool]] = [visible(principal)]
    by_status = _status_filter(status)
    if by_status is not None:
        conds.append(by_status)
    if org_unit_id is not None:
        unit = await db.get(OrgUnit, org_unit_id)
        conds.append(Issue.org_unit_id.in_(select(OrgUnit.id).where(
            OrgUnit.path.startswith(unit.path))) if unit is not None and unit.path
            else false())
    if assignee_id is not None:
        conds.append(Issue.assignee_id == assignee_id)
    if site_id is not None:
        conds.append(Issue.site_id == site_id)
    if overdue is not None:
        late = and_(Issue.status.in_(ACTIVE), Issue.due_at.is_not(None), Issue.due_at < now)
        conds.append(late if overdue else ~late)
    return conds


async def board(db: AsyncSession, principal: Principal, *, now: datetime,
                status: str | None = None, org_unit_id: int | None = None,
                assignee_id: int | None = None, overdue: bool | None = None,
                site_id: int | None = None, page: int = 1, per_page: int = 50) -> IssuePage:
    """The issues the principal may see, filtered (see ``board_conditions``), a page."""
    now = _utc(now)
    conds = await board_conditions(db, principal, now=now, status=status,
                                   org_unit_id=org_unit_id, assignee_id=assignee_id,
                                   overdue=overdue, site_id=site_id)
    return await _page(db, principal, conds, now=now, page=page, per_page=per_page)


async def my_issues(db: AsyncSession, principal: Principal, *, now: datetime,
                    as_: str | None = None, status: str | None = None, page: int = 1,
                    per_page: int = 50) -> IssuePage:
    """The issues the principal is the assignee or the assigner of (``as_`` picks one)."""
    uid = principal.user_id
    mine = {"assignee": Issue.assignee_id == uid, "assigner": Issue.assigner_id == uid,
            None: or_(Issue.assignee_id == uid, Issue.assigner_id == uid)}
    if as_ not in mine:
        raise _invalid([Problem("/as", "assignee or assigner", "enum", "query")])
    conds: list[ColumnElement[bool]] = [mine[as_]]
    by_status = _status_filter(status)
    if by_status is not None:
        conds.append(by_status)
    return await _page(db, principal, conds, now=_utc(now), page=page,
                       per_page=per_page)


async def _visible_issue(db: AsyncSession, principal: Principal, issue_id: int
                         ) -> tuple[Issue, bool]:
    row = (await db.execute(select(Issue, _scope_column(principal)).where(
        Issue.id == issue_id, visible(principal)))).first()
    if row is None:
        raise NotFound(f"no issue {issue_id} that you may see")
    return row[0], bool(row[1])


async def get_issue(db: AsyncSession, principal: Principal, issue_id: int, *,
                    now: datetime) -> IssueDetail:
    """An issue with its whole history (oldest first), its evidence and what the principal
    may do now; 404 when it is not theirs to see."""
    issue, scoped = await _visible_issue(db, principal, issue_id)
    return await _detail(db, principal, issue, scoped, _utc(now))


async def _detail(db: AsyncSession, principal: Principal, issue: Issue, scoped: bool,
                  now: datetime) -> IssueDetail:
    events = (await db.execute(select(IssueEvent).where(IssueEvent.issue_id == issue.id)
                               .order_by(IssueEvent.id))).scalars().all()
    names = await _names(db, [issue.assigner_id, issue.assignee_id, issue.reporter_id,
                              *(e.actor_id for e in events)])
    sites = await _site_names(db, [issue.site_id])
    evidence = [Evidence(at=_iso(e.at) or "", by=_person(names, e.actor_id),
                         note=str(e.data.get("note", "")),
                         photos=[str(p) for p in e.data.get("photos", [])])
                for e in events if e.action == "rectified"]
    return IssueDetail(
        **_view_fields(issue, principal, scoped, now, names=names, sites=sites),
        events=[EventView(id=e.id, at=_iso(e.at) or "", actor=_person(names, e.actor_id),
                          action=e.action, from_status=e.from_status, to_status=e.to_status,
                          reason=e.reason, data=dict(e.data)) for e in events],
        evidence=evidence)


async def issue_photo(db: AsyncSession, principal: Principal, issue_id: int, photo_id: str
                      ) -> Photo:
    """A photo of an issue's evidence (or feedback, or comment), for whoever may see the
    issue: the assigner must see what the assignee sent even though they did not upload it."""
    await _visible_issue(db, principal, issue_id)
    events = (await db.execute(select(IssueEvent.data).where(IssueEvent.issue_id == issue_id))
              ).scalars().all()
    if any(photo_id in (d.get("photos") or []) for d in events):
        photo = await db.get(Photo, photo_id)
        if photo is not None:
            return photo
    raise NotFound(f"no photo {photo_id} in issue {issue_id}")


# -- roles and people -----------------------------------------------------------------------

async def _roles_with(db: AsyncSession, *capabilities: str) -> list[str]:
    return sorted(r for r, caps in (await role_capabilities(db)).items()
                  if caps & set(capabilities))


async def _check_assignee(db: AsyncSession, principal: Principal, user_id: int,
                          pointer: str = "/assignee_id") -> User:
    """A user the principal may hand an issue to: active, in their scope, able to rectify."""
    user = (await db.execute(select(User).where(User.id == user_id, user_scope(principal)))
            ).scalar_one_or_none()
    if user is None or not user.active:
        raise _invalid([Problem(pointer, f"no active user {user_id} in your scope",
                                "unknown_user", "body")])
    caps = (await role_capabilities(db)).get(user.role_id, frozenset())
    if "issue.rectify" not in caps:
        raise _invalid([Problem(pointer, f"{user.display_name} ({user.role_id}) may not "
                                "rectify issues (the role lacks issue.rectify)",
                                "cannot_rectify", "body")])
    return user


async def _check_photos(db: AsyncSession, user_id: int, photos: Sequence[str],
                        pointer: str = "/photos") -> list[str]:
    ids = list(dict.fromkeys(str(p) for p in photos))
    if len(ids) > MAX_PHOTOS:
        raise _invalid([Problem(pointer, f"at most {MAX_PHOTOS} photos", "max_items", "body")])
    owned = set((await db.execute(select(Photo.id).where(
        Photo.id.in_(ids), Photo.uploaded_by == user_id))).scalars()) if ids else set()
    bad = [Problem(f"{pointer}/{n}", f"no photo {pid!r} uploaded by you; upload it first "
                   "(POST /api/photos) and send the id it returns", "unknown_photo", "body")
           for n, pid in enumerate(ids) if pid not in owned]
    if bad:
        raise _invalid(bad)
    return ids


# -- assignment rules -----------------------------------------------------------------------

def due_days(config: Any, severity: str) -> int:
    """``due_days`` of a standard: one number, or one per severity (the built-in table for
    severities it leaves out)."""
    if isinstance(config, int) and not isinstance(config, bool) and config > 0:
        return config
    if isinstance(config, dict) and isinstance(config.get(severity), int):
        return int(config[severity])
    return DEFAULT_DUE_DAYS.get(severity, DEFAULT_DUE_DAYS["medium"])


def due_in(config: Any, severity: str, item_due: Any = None) -> tuple[timedelta, str]:
    """How long the assignee has, and what said so: the item's own ``due`` (``{"days": n}``
    or ``{"hours": n}``), else the standard's ``due_days`` for the severity ("item" or
    "severity")."""
    if isinstance(item_due, dict):
        for unit in ("days", "hours"):
            n = item_due.get(unit)
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                return timedelta(**{unit: n}), "item"
    return timedelta(days=due_days(config, severity)), "severity"


def _due_json(due: timedelta) -> dict[str, int]:
    seconds = int(due.total_seconds())
    return {"days": seconds // 86400} if seconds % 86400 == 0 else {"hours": seconds // 3600}


def _item_routing(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Item id → the item's own ``assign_to``, ``verify_by`` and ``due`` (those it sets)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Any) -> None:
        for it in items or ():
            if isinstance(it, dict) and "id" in it:
                own = {k: it[k] for k in ("assign_to", "verify_by", "due") if k in it}
                if own:
                    out[str(it["id"])] = own
                walk(it.get("items"))

    for section in content.get("sections") or ():
        walk(section.get("items"))
    return out


# -- notifications --------------------------------------------------------------------------

def _span(delta: timedelta | None) -> tuple[str, str]:
    """A duration as people say it: hours under two days, days beyond."""
    hours = max(0, round((delta or timedelta()).total_seconds() / 3600))
    if hours < 48:
        return f"{hours}小时", f"{hours} h"
    return f"{round(hours / 24)}天", f"{round(hours / 24)} days"


Title = str | dict[str, Any] | None  # an issue's title: one text, or {"zh", "en", ...}


def _titles(issue: Issue) -> dict[str, Any]:
    """An issue's title in both languages (an issue typed by a person has just the one)."""
    return dict(issue.titles) if isinstance(issue.titles, dict) else {}


def _title_in(title: Title, lang: str, fallback: str = "") -> str:
    if isinstance(title, dict):
        text = title.get(lang) or title.get("zh") or title.get("en")
        return str(text) if text else fallback
    return title or fallback


def _message(kind: str, titles: Title, *, actor: str = "", reason: str = "",
             due_in: timedelta | None = None, unit: str = "", plain: str = ""
             ) -> dict[str, str]:
    """A notification in both languages; the issue's title in each reader's language when
    it has both (``plain`` is the one-language title to fall back on)."""
    return {"zh": _message_in("zh", kind, _title_in(titles, "zh", plain), actor=actor,
                              reason=reason, due_in=due_in, unit=unit),
            "en": _message_in("en", kind, _title_in(titles, "en", plain), actor=actor,
                              reason=reason, due_in=due_in, unit=unit)}


def _message_in(lang: str, kind: str, title: str, *, actor: str, reason: str,
                due_in: timedelta | None, unit: str) -> str:
    r_zh = f"（原因：{reason}）" if reason else ""
    r_en = f" (reason: {reason})" if reason else ""
    span_zh, span_en = _span(due_in)
    due_zh = f"（{span_zh}内完成）" if due_in is not None else ""
    due_en = f" (due in {span_en})" if due_in is not None else ""
    texts = {
        "issue_assigned": (f"新问题交办给您：{title}{due_zh}",
                           f"New issue assigned to you: {title}{due_en}"),
        "issue_unassigned": (f"问题待交办整改责任人：{title}", f"Issue needs an assignee: {title}"),
        "issue_reassigned": (f"问题已改派他人：{title}",
                             f"Issue reassigned to someone else: {title}"),
        "issue_started": (f"{actor}已开始整改：{title}", f"{actor} started rectifying: {title}"),
        "issue_rectified": (f"{actor}已整改完毕，请您验收：{title}",
                            f"{actor} fixed it, please accept: {title}"),
        "issue_verified": (f"整改已验收通过：{title}", f"Fix accepted: {title}"),
        "issue_refused": (f"验收退回，请您重新整改：{title}{r_zh}",
                          f"Fix sent back, please redo it: {title}{r_en}"),
        "issue_closed": (f"问题已销号：{title}", f"Issue closed: {title}"),
        "issue_reopened": (f"问题已重新打开：{title}{r_zh}", f"Issue reopened: {title}{r_en}"),
        "issue_cancelled": (f"问题已撤销：{title}{r_zh}", f"Issue cancelled: {title}{r_en}"),
        "issue_comment": (f"{actor}给问题留言：{title}", f"{actor} commented on: {title}"),
        "issue_due_soon": (f"问题即将到期，请您在{span_zh}内完成：{title}",
                           f"Issue due soon: {title} (within {span_en})"),
        "issue_escalated": (f"逾期督办至{unit}：{title}（已逾期{span_zh}）",
                            f"Overdue issue escalated to {unit}: {title} "
                            f"(overdue by {span_en})"),
    }
    zh, en = texts[kind]
    return zh if lang == "zh" else en


async def _tell(db: AsyncSession, issue_id: int, event: IssueEvent, kind: str, *,
                users: Iterable[int | None], message: dict[str, str]) -> None:
    """Notify the people concerned by an event (never its actor), once per event."""
    ids = {u for u in users if u is not None and u != event.actor_id}
    if ids:
        await notify(db, user_ids=ids, kind=kind, message=message, link=f"/issues/{issue_id}",
                     issue_id=issue_id, dedupe_key=f"issue:{issue_id}:event:{event.id}")


def _parties(issue: Issue) -> list[int | None]:
    return [issue.assignee_id, issue.assigner_id, issue.reporter_id]


async def _event(db: AsyncSession, issue_id: int, *, at: datetime, actor_id: int | None,
                 action: str, from_status: str | None, to_status: str | None,
                 reason: str = "", data: dict[str, Any] | None = None) -> IssueEvent:
    event = IssueEvent(issue_id=issue_id, at=at, actor_id=actor_id, action=action,
                       from_status=from_status, to_status=to_status, reason=reason,
                       data=data or {})
    db.add(event)
    await db.flush()
    photos = sorted({str(p) for p in (data or {}).get("photos") or []})
    if photos:  # who may see them, and that they are in use, follow from the issue
        # (stored photos only: evidence copied from a submission is not checked again here)
        await db.execute(insert_or_nothing(db, cast(Table, IssuePhoto.__table__)).from_select(
            ["issue_id", "photo_id"],
            select(literal(issue_id), Photo.id).where(Photo.id.in_(photos))))
    return event


# -- opening an issue -----------------------------------------------------------------------

async def _open(db: AsyncSession, values: dict[str, Any], *, now: datetime,
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
    await _event(db, issue_id, at=now, actor_id=actor_id, action="created", from_status=None,
                 to_status=OPEN, data=created)
    for r in routed:
        if r.fallback is not None:
            await _event(db, issue_id, at=now, actor_id=None, action="routed",
                         from_status=None, to_status=None, data=r.event_data())
            if r.fallback == "nobody" and r.party == ASSIGNER:
                log.warning("issue %s has nobody who may accept its fix: %s", issue_id,
                            r.text.get("en"))
    due_in = (_utc(row["due_at"]) - now) if row.get("due_at") else None
    if assignee is not None:
        ev = await _event(db, issue_id, at=now, actor_id=actor_id, action="assigned",
                          from_status=OPEN, to_status=ASSIGNED,
                          data={"assignee_id": assignee})
        await _tell(db, issue_id, ev, "issue_assigned", users=[assignee],
                    message=_message("issue_assigned", row.get("titles") or row["title"],
                                     due_in=due_in))
    elif row.get("assigner_id") is not None:
        ev = await _event(db, issue_id, at=now, actor_id=actor_id, action="needs_assignee",
                          from_status=None, to_status=None)
        await _tell(db, issue_id, ev, "issue_unassigned", users=[row["assigner_id"]],
                    message=_message("issue_unassigned", row.get("titles") or row["title"]))
    return issue_id


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


def _problem_titles(content: dict[str, Any], evaluation: Any) -> dict[str, dict[str, str]]:
    """Item id → the name of its problem when it failed, in both languages: the problem
    title the evaluation filled in (the item's ``problem``), else the item's title."""
    out = _item_titles(content)
    out.update(_static_problems(content))
    failed = evaluation.get("failed") if isinstance(evaluation, dict) else None
    for f in failed if isinstance(failed, list) else []:
        filled = f.get("problem") if isinstance(f, dict) else None
        if isinstance(filled, dict) and filled.get("zh") and filled.get("en"):
            out[str(f.get("item"))] = {"zh": str(filled["zh"]), "en": str(filled["en"])}
    return out


def _in(title: dict[str, str], lang: str, fallback: str) -> str:
    return title.get(lang) or title.get("zh") or title.get("en") or fallback


_RANK = {s: n for n, s in enumerate(SEVERITIES)}


async def create_issues_for_submission(db: AsyncSession, submission_id: str,
                                       now: datetime) -> int:
    """Turn a submission's failed items into issues, per its standard's ``issues`` (the
    version it was filled against). Idempotent: a failed item has one issue at most (a
    unique key), so running it again (a retry, the reconciliation) creates nothing.
    Returns how many issues it created.

    The due date counts from the submission, not from now: a late run (the reconciliation
    after a lost message) does not give the assignee more time."""
    now = _utc(now)
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
    titles = _problem_titles(content, sub.evaluation)
    definition_title: dict[str, str] = dict(content.get("title") or {})
    standard = {"zh": _in(definition_title, "zh", sub.definition_id),
                "en": _in(definition_title, "en", sub.definition_id)}
    submitter = await db.get(User, sub.user_id)
    lang = submitter.language if submitter is not None else "zh"
    site = await db.get(Site, sub.site_id) if sub.site_id is not None else None
    if site is None and submitter is None:  # pragma: no cover - foreign keys prevent it
        return 0
    unit_id = site.org_unit_id if site is not None else cast(User, submitter).org_unit_id
    submitted = _utc(sub.submitted_at)
    evidence = sub.evidence if isinstance(sub.evidence, dict) else {}
    standard_rules = {"assign_to": Party.of_json(config.get("assign_to")),
                      "verify_by": Party.of_json(config.get("verify_by"))}
    routing = _item_routing(content)
    where = Where(sub.site_id, unit_id, sub.user_id,
                  submitter.role_id if submitter is not None else None)
    known = await roles(db)
    place = f"{site.name}（{site.code}）" if site is not None else ""

    async def parties(item_id: str | None) -> tuple[Routed, Routed, dict[str, Any]]:
        """The assignee and the assigner of an item's issue (None: the submission's) by
        the item's own rules, else the standard's, else the defaults."""
        own = routing.get(item_id or "", {})
        used: dict[str, Any] = {}
        found: dict[str, tuple[Party | None, str]] = {}
        for key in ("assign_to", "verify_by"):
            rule = Party.of_json(own.get(key))
            found[key] = (rule, "item") if rule is not None else \
                (standard_rules[key], "standard" if standard_rules[key] else "default")
            chosen = found[key][0]
            used[key] = chosen.as_json() if chosen is not None else None
        assignee = await route(db, ASSIGNEE, found["assign_to"][0], where,
                               rule_from=found["assign_to"][1], default=DEFAULT_ASSIGN_TO,
                               known=known)
        assigner = await route(db, ASSIGNER, found["verify_by"][0], where,
                               rule_from=found["verify_by"][1], default=DEFAULT_VERIFY_BY,
                               exclude=assignee.user_id, known=known)
        used["from"] = {"assign_to": found["assign_to"][1],
                        "verify_by": found["verify_by"][1]}
        return assignee, assigner, used

    def base(severity: str, due: timedelta) -> dict[str, Any]:
        return {"source": FAILED_ITEM, "severity": severity, "site_id": sub.site_id,
                "org_unit_id": unit_id, "submission_id": sub.id,
                "definition_id": sub.definition_id, "reporter_id": sub.user_id,
                "due_at": submitted + due}

    made = 0
    if per == "submission":
        severity = max((f.severity or default_severity for f in failed),
                       key=lambda s: _RANK.get(s, 1))
        items: list[dict[str, Any]] = [{"item_id": f.item_id, "failed_item_id": f.id,
                  "severity": f.severity or default_severity,
                  "title": titles.get(f.item_id, {})} for f in failed]
        head = {"zh": f"{_in(definition_title, 'zh', sub.definition_id)}：{len(failed)}项不合格",
                "en": f"{_in(definition_title, 'en', sub.definition_id)}: "
                      f"{len(failed)} failed item{'s' if len(failed) != 1 else ''}"}
        assignee, assigner, used = await parties(None)
        # One issue for them all: due when the most urgent of its items is.
        due, due_from = min((due_in(config.get("due_days"), f.severity or default_severity,
                                    routing.get(f.item_id, {}).get("due")) for f in failed),
                            key=lambda d: d[0])
        # The failed items are listed in each reader's language (see _description).
        neutral = {**head, "standard": standard,
                   "items": [{"zh": _in(i["title"], "zh", i["item_id"]),
                              "en": _in(i["title"], "en", i["item_id"])} for i in items]}
        values = {**base(severity, due), "title": _in(head, lang, sub.definition_id)[:300],
                  "titles": neutral, "description": place,
                  "failed_item_id": failed[0].id, "item_id": None,
                  "assignee_id": assignee.user_id, "assigner_id": assigner.user_id}
        if await _open(db, values, now=now, actor_id=None, unique_failed_item=True,
                       routed=(assignee, assigner), created={
                "title": head, "items": items, "submission_id": sub.id, "rules": used,
                "due_days": due_days(config.get("due_days"), severity),
                "due": _due_json(due), "due_from": due_from}) is not None:
            made += 1
        return made

    for f in failed:
        if f.id in taken:
            continue
        severity = f.severity or default_severity
        title = titles.get(f.item_id, {})
        note = evidence.get(f.item_id, {}) if isinstance(evidence.get(f.item_id), dict) else {}
        assignee, assigner, used = await parties(f.item_id)
        due, due_from = due_in(config.get("due_days"), severity,
                               routing.get(f.item_id, {}).get("due"))
        # The description is language-free (the site, the note); the title and the
        # standard's name are stored in both languages, for each reader's own.
        text = [place]
        if note.get("note"):
            text.append(str(note["note"]))
        values = {**base(severity, due), "title": _in(title, lang, f.item_id)[:300],
                  "titles": {"zh": _in(title, "zh", f.item_id)[:300],
                             "en": _in(title, "en", f.item_id)[:300], "standard": standard},
                  "description": "\n".join(t for t in text if t),
                  "failed_item_id": f.id, "item_id": f.item_id,
                  "assignee_id": assignee.user_id, "assigner_id": assigner.user_id}
        created = {"title": title, "submission_id": sub.id, "item_id": f.item_id,
                   "severity": severity, "rules": used,
                   "due_days": due_days(config.get("due_days"), severity),
                   "due": _due_json(due), "due_from": due_from,
                   "photos": [str(p) for p in note.get("photos") or []],
                   "note": str(note.get("note") or "")}
        if await _open(db, values, now=now, actor_id=None, unique_failed_item=True,
                       routed=(assignee, assigner), created=created) is not None:
            made += 1
    return made


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
    now = _utc(now)
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


async def create_issues_in_background(sessions: async_sessionmaker[AsyncSession],
                                      submission_id: str) -> None:
    """After a submission's response is sent: its issues, in a write transaction of their
    own (in the process's writer queue on SQLite, retried while another process holds the
    database). A failure is logged; the reconciliation (``reconcile_missing_issues``)
    catches up."""
    async def run() -> int:
        async with write_transaction(sessions) as db:
            return await create_issues_for_submission(db, submission_id, utcnow())

    try:
        await retry_busy(run)
    except Exception:
        log.exception("could not create the issues of submission %s; the reconciliation "
                      "will", submission_id)


# -- 交办 (a supervisor's own assignment) and a retailer's feedback --------------------------

def _text(value: str | None, pointer: str, *, required: bool, limit: int = MAX_TEXT
          ) -> tuple[str, list[Problem]]:
    text = (value or "").strip()
    if required and not text:
        return text, [Problem(pointer, "required", "required", "body")]
    if len(text) > limit:
        return text, [Problem(pointer, f"at most {limit} characters", "max_length", "body")]
    return text, []


async def assign_issue(db: AsyncSession, principal: Principal, *, now: datetime,
                       site_id: int, title: str, assignee_id: int, description: str = "",
                       severity: str = "medium", priority: int | None = None,
                       due_at: datetime | None = None) -> IssueDetail:
    """交办: someone with ``issue.assign`` hands an issue at a site of their scope to a user
    of their scope who may rectify; they are its assigner."""
    principal.require("issue.assign")
    now = _utc(now)
    title, problems = _text(title, "/title", required=True, limit=300)
    description, more = _text(description, "/description", required=False)
    problems += more
    if severity not in SEVERITIES:
        problems.append(Problem("/severity", f"one of {', '.join(SEVERITIES)}", "enum", "body"))
    if priority is not None and not 1 <= priority <= 4:
        problems.append(Problem("/priority", "1 (urgent) to 4 (low)", "range", "body"))
    if due_at is not None and _utc(due_at) <= now:
        problems.append(Problem("/due_at", "must be in the future", "date_min", "body"))
    site = (await db.execute(select(Site).where(Site.id == site_id, site_scope(principal)))
            ).scalar_one_or_none()
    if site is None:
        problems.append(Problem("/site_id", f"no site {site_id} in your scope",
                                "unknown_site", "body"))
    if problems:
        raise _invalid(problems)
    assert site is not None
    await _check_assignee(db, principal, assignee_id)
    due = _utc(due_at) if due_at is not None else \
        now + timedelta(days=DEFAULT_DUE_DAYS[severity])
    values = {"title": title, "description": description, "source": ASSIGNMENT,
              "severity": severity, "priority": priority or PRIORITY_OF[severity],
              "site_id": site.id, "org_unit_id": site.org_unit_id, "due_at": due,
              "assigner_id": principal.user_id, "assignee_id": assignee_id,
              "reporter_id": principal.user_id}
    issue_id = await _open(db, values, now=now, actor_id=principal.user_id,
                           created={"title": title})
    assert issue_id is not None
    return await get_issue(db, principal, issue_id, now=now)


FEEDBACK_KINDS = {COMPLAINT: "medium", SUGGESTION: "low"}  # kind → severity


async def submit_feedback(db: AsyncSession, principal: Principal, *, now: datetime,
                          kind: str, text: str, title: str | None = None,
                          photos: Sequence[str] = ()) -> IssueDetail:
    """A retailer's suggestion or complaint about their own shop, assigned by the rules:
    the shop's customer manager rectifies, the station head of the shop's unit (or the
    nearest above) verifies. The retailer is its reporter and follows it."""
    principal.require("shop.view_own")
    if principal.site_id is None:
        raise Forbidden("your account acts for no shop")
    now = _utc(now)
    body, problems = _text(text, "/text", required=True)
    head, more = _text(title, "/title", required=False, limit=300)
    problems += more
    if kind not in FEEDBACK_KINDS:
        problems.append(Problem("/kind", "complaint or suggestion", "enum", "body"))
    if problems:
        raise _invalid(problems)
    photo_ids = await _check_photos(db, principal.user_id, photos)
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
    label = {COMPLAINT: ("投诉：", "Complaint: "), SUGGESTION: ("建议：", "Suggestion: ")}[kind]
    summary = body if len(body) <= 60 else body[:59] + "…"
    values = {"title": (head or label[principal.language != "zh"] + summary)[:300],
              "description": body, "source": kind, "severity": severity,
              "site_id": site.id, "org_unit_id": site.org_unit_id,
              "due_at": now + timedelta(days=DEFAULT_DUE_DAYS[severity]),
              "assigner_id": assigner.user_id, "assignee_id": assignee.user_id,
              "reporter_id": principal.user_id}
    issue_id = await _open(db, values, now=now, actor_id=principal.user_id,
                           routed=(assignee, assigner), created={
        "kind": kind, "photos": photo_ids, "note": body,
        "rules": {"assign_to": FEEDBACK_ASSIGN_TO.as_json(),
                  "verify_by": FEEDBACK_VERIFY_BY.as_json()}})
    assert issue_id is not None
    return await get_issue(db, principal, issue_id, now=now)


# -- transitions ----------------------------------------------------------------------------

async def _acting(db: AsyncSession, principal: Principal, issue_id: int, action: str,
                  version: int | None) -> Issue:
    """The issue, if the principal may take ``action`` on it now: 404 when they cannot see
    it, 403 when it is not theirs to do, 409 in the wrong state or at a stale version."""
    issue, scoped = await _visible_issue(db, principal, issue_id)
    spec = ACTIONS[action]
    if not spec.may(issue, _who(issue, principal, scoped)):
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
    now = _utc(now)
    issue = await _acting(db, principal, issue_id, action, version)
    before = issue.status
    to = ACTIONS[action].to_status
    await _move(db, issue, seen=issue.version, now=now,
                changes={**(changes or {}), "status": to})
    event = await _event(db, issue.id, at=now, actor_id=principal.user_id,
                         action=event_action or _PAST[action], from_status=before,
                         to_status=to, reason=reason, data=data)
    return issue, event


_PAST = {"start": "started", "rectify": "rectified", "verify": "verified",
         "refuse": "refused", "close": "closed", "reopen": "reopened",
         "cancel": "cancelled", "reassign": "reassigned", "comment": "commented"}


def _reason(reason: str | None) -> str:
    text, problems = _text(reason, "/reason", required=True)
    if problems:
        raise _invalid(problems)
    return text


async def _done(db: AsyncSession, principal: Principal, issue: Issue, now: datetime
                ) -> IssueDetail:
    return await get_issue(db, principal, issue.id, now=now)


async def start(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                now: datetime) -> IssueDetail:
    """The assignee starts rectifying."""
    issue, ev = await _transition(db, principal, issue_id, "start", now=now, version=version)
    await _tell(db, issue.id, ev, "issue_started", users=[issue.assigner_id],
                message=_message("issue_started", _titles(issue) or issue.title,
                                 actor=principal.display_name))
    return await _done(db, principal, issue, now)


async def rectify(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                  now: datetime, note: str, photos: Sequence[str]) -> IssueDetail:
    """The assignee signs: done, with evidence (a note and at least one photo of theirs)."""
    await _acting(db, principal, issue_id, "rectify", version)
    text, problems = _text(note, "/note", required=True)
    if not photos:
        problems.append(Problem("/photos", "at least one photo of the rectification",
                                "required", "body"))
    if problems:
        raise _invalid(problems)
    photo_ids = await _check_photos(db, principal.user_id, photos)
    issue, ev = await _transition(
        db, principal, issue_id, "rectify", now=now, version=version,
        changes={"assignee_signed_at": _utc(now)}, data={"note": text, "photos": photo_ids})
    await _tell(db, issue.id, ev, "issue_rectified", users=[issue.assigner_id],
                message=_message("issue_rectified", _titles(issue) or issue.title,
                                 actor=principal.display_name))
    return await _done(db, principal, issue, now)


async def verify(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, note: str = "") -> IssueDetail:
    """The assigner signs: the rectification is checked."""
    text, problems = _text(note, "/note", required=False)
    if problems:
        raise _invalid(problems)
    issue, ev = await _transition(db, principal, issue_id, "verify", now=now, version=version,
                                  changes={"assigner_signed_at": _utc(now)},
                                  data={"note": text} if text else None)
    await _tell(db, issue.id, ev, "issue_verified", users=[issue.assignee_id],
                message=_message("issue_verified", _titles(issue) or issue.title))
    return await _done(db, principal, issue, now)


async def refuse(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """The assigner sends the rectification back (with a reason); the assignee's signature
    is withdrawn."""
    await _acting(db, principal, issue_id, "refuse", version)
    why = _reason(reason)
    issue, ev = await _transition(db, principal, issue_id, "refuse", now=now, version=version,
                                  changes={"assignee_signed_at": None}, reason=why)
    await _tell(db, issue.id, ev, "issue_refused", users=[issue.assignee_id],
                message=_message("issue_refused", _titles(issue) or issue.title, reason=why))
    return await _done(db, principal, issue, now)


async def close(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                now: datetime) -> IssueDetail:
    """销号: needs both signatures; by the assigner or a supervisor of the site."""
    issue = await _acting(db, principal, issue_id, "close", version)
    missing = [who for who, at in (("assignee", issue.assignee_signed_at),
                                   ("assigner", issue.assigner_signed_at)) if at is None]
    if missing:
        raise Conflict(f"issue {issue_id} cannot close without the signature of the "
                       f"{' and the '.join(missing)}")
    issue, ev = await _transition(db, principal, issue_id, "close", now=now, version=version,
                                  changes={"closed_at": _utc(now)})
    await _tell(db, issue.id, ev, "issue_closed", users=_parties(issue),
                message=_message("issue_closed", _titles(issue) or issue.title))
    return await _done(db, principal, issue, now)


async def reopen(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """A closed issue back to the assignee: both signatures are withdrawn."""
    await _acting(db, principal, issue_id, "reopen", version)
    why = _reason(reason)
    issue, ev = await _transition(
        db, principal, issue_id, "reopen", now=now, version=version, reason=why,
        changes={"assignee_signed_at": None, "assigner_signed_at": None, "closed_at": None,
                 "reminded_at": None})
    await _tell(db, issue.id, ev, "issue_reopened", users=[issue.assignee_id],
                message=_message("issue_reopened", _titles(issue) or issue.title, reason=why))
    return await _done(db, principal, issue, now)


async def cancel(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                 now: datetime, reason: str) -> IssueDetail:
    """Withdrawn (a mistake, a duplicate, no longer relevant), with the reason."""
    await _acting(db, principal, issue_id, "cancel", version)
    why = _reason(reason)
    issue, ev = await _transition(db, principal, issue_id, "cancel", now=now,
                                  version=version, reason=why)
    await _tell(db, issue.id, ev, "issue_cancelled", users=_parties(issue),
                message=_message("issue_cancelled", _titles(issue) or issue.title, reason=why))
    return await _done(db, principal, issue, now)


async def reassign(db: AsyncSession, principal: Principal, issue_id: int, *, version: int,
                   now: datetime, assignee_id: int, reason: str = "") -> IssueDetail:
    """Hand the issue to another assignee (in the principal's scope, able to rectify); they
    start afresh (``assigned``) and get the reminder anew."""
    current = await _acting(db, principal, issue_id, "reassign", version)
    if assignee_id == current.assignee_id:
        raise _invalid([Problem("/assignee_id", "is the assignee already", "unchanged",
                                "body")])
    text, problems = _text(reason, "/reason", required=False)
    if problems:
        raise _invalid(problems)
    await _check_assignee(db, principal, assignee_id)
    old = current.assignee_id
    issue, ev = await _transition(
        db, principal, issue_id, "reassign", now=now, version=version, reason=text,
        changes={"assignee_id": assignee_id, "assignee_signed_at": None, "reminded_at": None},
        data={"from_assignee_id": old, "to_assignee_id": assignee_id},
        event_action="assigned" if old is None else "reassigned")
    due_in = _utc(issue.due_at) - _utc(now) if issue.due_at is not None else None
    await _tell(db, issue.id, ev, "issue_assigned", users=[assignee_id],
                message=_message("issue_assigned", _titles(issue) or issue.title, due_in=due_in))
    await _tell(db, issue.id, ev, "issue_reassigned", users=[old],
                message=_message("issue_reassigned", _titles(issue) or issue.title))
    return await _done(db, principal, issue, now)


async def comment(db: AsyncSession, principal: Principal, issue_id: int, *, now: datetime,
                  text: str, photos: Sequence[str] = (), version: int | None = None
                  ) -> IssueDetail:
    """A remark by anyone who can see the issue; the version stays (see the module)."""
    issue = await _acting(db, principal, issue_id, "comment", version)
    body, problems = _text(text, "/text", required=True)
    if problems:
        raise _invalid(problems)
    photo_ids = await _check_photos(db, principal.user_id, photos)
    now = _utc(now)
    ev = await _event(db, issue.id, at=now, actor_id=principal.user_id, action="commented",
                      from_status=None, to_status=None, reason="",
                      data={"text": body, **({"photos": photo_ids} if photo_ids else {})})
    await _tell(db, issue.id, ev, "issue_comment", users=_parties(issue),
                message=_message("issue_comment", _titles(issue) or issue.title,
                                 actor=principal.display_name))
    return await _done(db, principal, issue, now)


# -- reminders and escalation (run by the periodic jobs) -------------------------------------

async def remind_due_soon(db: AsyncSession, now: datetime, within: timedelta = DUE_SOON
                          ) -> int:
    """Remind each assignee once of an active issue due within ``within`` (not yet past
    due: escalation takes those). ``reminded_at`` is set by ``UPDATE ... WHERE reminded_at
    IS NULL``: a concurrent or repeated run that finds it set does nothing."""
    now = _utc(now)
    rows = (await db.execute(select(Issue.id, Issue.assignee_id, Issue.title, Issue.due_at,
                                    Issue.titles)
                             .where(Issue.status.in_(ACTIVE), Issue.assignee_id.is_not(None),
                                    Issue.reminded_at.is_(None), Issue.due_at > now,
                                    Issue.due_at <= now + within)
                             .order_by(Issue.due_at, Issue.id))).all()
    done = 0
    for issue_id, assignee_id, title, due_at, titles in rows:
        assert due_at is not None  # by the query
        won = cast(CursorResult[Any], await db.execute(
            update(Issue).where(Issue.id == issue_id, Issue.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)))
        if won.rowcount != 1:
            continue
        due_in = _utc(due_at) - now
        ev = await _event(db, issue_id, at=now, actor_id=None, action="reminded",
                          from_status=None, to_status=None,
                          data={"assignee_id": assignee_id, "due_at": _iso(due_at)})
        await _tell(db, issue_id, ev, "issue_due_soon", users=[assignee_id],
                    message=_message("issue_due_soon", titles or title, due_in=due_in))
        done += 1
    return done


async def escalate_overdue(db: AsyncSession, now: datetime) -> int:
    """Escalate each overdue active issue one org level up, at most once a day.

    From the issue's org unit (or the unit it was last escalated to), the next unit up that
    has anyone whose role may verify or view issues there (``issue.verify`` or
    ``issue.view_scope``, read from the role definitions) is told; a unit with nobody to
    tell is passed over, so no day is lost on it. At the top nothing more happens. The
    change is ``UPDATE ... WHERE escalation_level = :seen AND (escalated_at IS NULL OR
    escalated_at <= now - 1 day)``: repeated or concurrent runs escalate once."""
    now = _utc(now)
    cutoff = now - ESCALATE_EVERY
    roles = await _roles_with(db, "issue.verify", "issue.view_scope")
    rows = (await db.execute(
        select(Issue.id, Issue.org_unit_id, Issue.escalated_to_unit_id,
               Issue.escalation_level, Issue.title, Issue.due_at, Issue.titles)
        .where(Issue.status.in_(ACTIVE), Issue.due_at.is_not(None), Issue.due_at < now,
               or_(Issue.escalated_at.is_(None), Issue.escalated_at <= cutoff))
        .order_by(Issue.due_at, Issue.id))).all()
    units: dict[int, OrgUnit | None] = {}
    done = 0
    for issue_id, unit_id, last_unit_id, level, title, due_at, titles in rows:
        start_id = last_unit_id or unit_id
        if start_id not in units:
            units[start_id] = await db.get(OrgUnit, start_id)
        unit = units[start_id]
        if unit is None:
            continue
        above = unit_chain(unit)[1:]
        people = await users_by_unit(db, roles, above)
        target = next((u for u in above if people.get(u)), None)
        if target is None:  # the top: nobody further up to tell
            continue
        won = cast(CursorResult[Any], await db.execute(
            update(Issue).where(Issue.id == issue_id, Issue.escalation_level == level,
                                or_(Issue.escalated_at.is_(None),
                                    Issue.escalated_at <= cutoff))
            .values(escalation_level=level + 1, escalated_at=now,
                    escalated_to_unit_id=target)
            .execution_options(synchronize_session=False)))
        if won.rowcount != 1:
            continue
        target_unit = await db.get(OrgUnit, target)
        name = {"zh": target_unit.name_zh if target_unit else "",
                "en": target_unit.name_en if target_unit else ""}
        ev = await _event(db, issue_id, at=now, actor_id=None, action="escalated",
                          from_status=None, to_status=None,
                          data={"level": level + 1, "from_unit_id": start_id,
                                "to_unit_id": target, "unit": name,
                                "notified": people[target]})
        overdue_by = now - _utc(due_at) if due_at is not None else timedelta()
        message = {"zh": _message("issue_escalated", titles or title, due_in=overdue_by,
                                  unit=name["zh"])["zh"],
                   "en": _message("issue_escalated", titles or title, due_in=overdue_by,
                                  unit=name["en"])["en"]}
        await _tell(db, issue_id, ev, "issue_escalated", users=people[target],
                    message=message)
        done += 1
    return done
