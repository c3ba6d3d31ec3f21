"""Reading issues: who may see which, the board, my issues, one issue with its history.

- **Scope.** Everyone sees the issues they are assignee, assigner or reporter of; whoever may
  view, verify or assign issues in a scope (``issue.view_scope``, ``issue.verify``,
  ``issue.assign``) sees every issue there (:func:`visible`); an issue without a site goes by
  its org unit (:func:`in_scope`).
- **Lists.** :func:`board` (filtered: :func:`board_conditions`, which the fieldwork counts
  share) and :func:`my_issues`, most urgent first, a page at a time.
- **One issue.** :func:`get_issue`: its whole history, its evidence and what the reader may
  do now; 404 when it is not theirs to see. :func:`issue_photo`: a photo of it.

Each answer is a shape of ``views``, in the reader's language (``texts``).

Imports ``states``, ``views``, ``texts``, ``checks`` and ``deadlines`` of the slice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rounds.db import as_utc
from rounds.errors import NotFound, Problem
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.issues import texts
from rounds.runtime.issues.checks import invalid
from rounds.runtime.issues.deadlines import iso
from rounds.runtime.issues.models import ACTIVE, STATES, Issue, IssueEvent, IssuePhoto
from rounds.runtime.issues.states import allowed_actions, needs_shop
from rounds.runtime.issues.views import (
    EventView,
    Evidence,
    IssueDetail,
    IssuePage,
    IssueView,
    Person,
)
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.storage.access import photo_use
from rounds.runtime.storage.models import Photo

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

async def _named(db: AsyncSession, id_: InstrumentedAttribute[int],
                 name: InstrumentedAttribute[str], ids: Iterable[int | None]) -> dict[int, str]:
    """Id → name (the columns ``id_`` and ``name``) of the rows with these ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db.execute(select(id_, name).where(id_.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


async def _names(db: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    return await _named(db, User.id, User.display_name, user_ids)


async def _site_names(db: AsyncSession, site_ids: Iterable[int | None]) -> dict[int, str]:
    return await _named(db, Site.id, Site.name, site_ids)


def _person(names: dict[int, str], uid: int | None) -> Person | None:
    return Person(uid, names.get(uid, "")) if uid is not None else None


def _view_fields(issue: Issue, principal: Principal, in_scope_: bool, now: datetime, *,
                 names: dict[int, str], sites: dict[int, str]) -> dict[str, Any]:
    due = issue.due_at if issue.due_at is not None else None
    titles = texts.titles(issue)
    return {
        "id": issue.id, "title": texts.title_in(titles, principal.language, issue.title),
        "description": texts.description(issue, principal.language),
        "standard": texts.title_in(titles.get("standard"), principal.language) or None,
        "source": issue.source, "severity": issue.severity, "priority": issue.priority,
        "status": issue.status, "site_id": issue.site_id,
        "site_name": sites.get(issue.site_id) if issue.site_id is not None else None,
        "org_unit_id": issue.org_unit_id, "submission_id": issue.submission_id,
        "definition_id": issue.definition_id, "item_id": issue.item_id,
        "assigner": _person(names, issue.assigner_id),
        "assignee": _person(names, issue.assignee_id),
        "reporter": _person(names, issue.reporter_id),
        "due_at": iso(due), "overdue": bool(due and issue.status in ACTIVE and due < now),
        "assignee_signed_at": iso(issue.assignee_signed_at),
        "assigner_signed_at": iso(issue.assigner_signed_at),
        "needs_shop_confirmation": needs_shop(issue),
        "reporter_signed_at": iso(issue.reporter_signed_at),
        "closed_at": iso(issue.closed_at), "reminded_at": iso(issue.reminded_at),
        "escalation_level": issue.escalation_level, "escalated_at": iso(issue.escalated_at),
        "escalated_to_unit_id": issue.escalated_to_unit_id,
        "created_at": iso(issue.created_at) or "", "updated_at": iso(issue.updated_at) or "",
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


# -- lists ----------------------------------------------------------------------------------

def _status_filter(status: str | None) -> ColumnElement[bool] | None:
    if status is None or status == "":
        return None
    if status == "active":
        return Issue.status.in_(ACTIVE)
    wanted = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise invalid([Problem("/status", f"unknown status {', '.join(unknown)}; one of: "
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
    now = as_utc(now)
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
        raise invalid([Problem("/as", "assignee or assigner", "enum", "query")])
    conds: list[ColumnElement[bool]] = [mine[as_]]
    by_status = _status_filter(status)
    if by_status is not None:
        conds.append(by_status)
    return await _page(db, principal, conds, now=as_utc(now), page=page,
                       per_page=per_page)


# -- one issue ------------------------------------------------------------------------------

async def visible_issue(db: AsyncSession, principal: Principal, issue_id: int
                        ) -> tuple[Issue, bool]:
    """The issue if the principal may see it, and whether it is in their scope; else 404."""
    row = (await db.execute(select(Issue, _scope_column(principal)).where(
        Issue.id == issue_id, visible(principal)))).first()
    if row is None:
        raise NotFound(f"no issue {issue_id} that you may see")
    return row[0], bool(row[1])


async def get_issue(db: AsyncSession, principal: Principal, issue_id: int, *,
                    now: datetime) -> IssueDetail:
    """An issue with its whole history (oldest first), its evidence and what the principal
    may do now; 404 when it is not theirs to see."""
    issue, scoped = await visible_issue(db, principal, issue_id)
    return await _detail(db, principal, issue, scoped, as_utc(now))


async def _detail(db: AsyncSession, principal: Principal, issue: Issue, scoped: bool,
                  now: datetime) -> IssueDetail:
    events = (await db.execute(select(IssueEvent).where(IssueEvent.issue_id == issue.id)
                               .order_by(IssueEvent.id))).scalars().all()
    names = await _names(db, [issue.assigner_id, issue.assignee_id, issue.reporter_id,
                              *(e.actor_id for e in events)])
    sites = await _site_names(db, [issue.site_id])
    evidence = [Evidence(at=iso(e.at) or "", by=_person(names, e.actor_id),
                         note=str(e.data.get("note", "")),
                         photos=[str(p) for p in e.data.get("photos", [])])
                for e in events if e.action == "rectified"]
    return IssueDetail(
        **_view_fields(issue, principal, scoped, now, names=names, sites=sites),
        events=[EventView(id=e.id, at=iso(e.at) or "", actor=_person(names, e.actor_id),
                          action=e.action, from_status=e.from_status, to_status=e.to_status,
                          reason=e.reason, data=_shown_data(e.data, issue, principal))
                for e in events],
        evidence=evidence)


def _shown_data(data: dict[str, Any], issue: Issue, principal: Principal) -> dict[str, Any]:
    """An event's data as the principal may see it: a consumer's contact (kept with their
    consent, issues.complaints) only for the assignee and the assigner."""
    if "contact" in data and principal.user_id not in (issue.assignee_id, issue.assigner_id):
        return {k: v for k, v in data.items() if k != "contact"}
    return dict(data)


async def issue_photo(db: AsyncSession, principal: Principal, issue_id: int, photo_id: str
                      ) -> Photo:
    """A photo of an issue's evidence (or feedback, or comment), for whoever may see the
    issue: the assigner must see what the assignee sent even though they did not upload it."""
    await visible_issue(db, principal, issue_id)
    events = (await db.execute(select(IssueEvent.data).where(IssueEvent.issue_id == issue_id))
              ).scalars().all()
    if any(photo_id in (d.get("photos") or []) for d in events):
        photo = await db.get(Photo, photo_id)
        if photo is not None:
            return photo
    raise NotFound(f"no photo {photo_id} in issue {issue_id}")


@photo_use
def _in_a_visible_issue(principal: Principal, photo_id: str) -> ColumnElement[bool]:
    """Whoever may see an issue sees its photos (the hook of ``storage.access``)."""
    return exists().where(IssuePhoto.photo_id == photo_id, Issue.id == IssuePhoto.issue_id,
                          visible(principal))
