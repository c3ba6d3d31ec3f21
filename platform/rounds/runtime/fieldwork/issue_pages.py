"""The closed loop's pages: the issue board, one issue, my issues, the inbox.

Server-rendered like the other field pages, from the issues and notifications services
(the same views the API returns); ``static/issues.js`` adds the bell's live count, the
notifications pushed by the server (Server-Sent Events) and the actions, which go to the
API (``POST /api/issues/{id}/{action}`` with the version the page showed and the CSRF token).
The page chrome, the language and the words are the other field pages' (see
:mod:`~rounds.runtime.fieldwork.chrome`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.i18n import pick
from rounds.runtime.access import Forbidden, Principal
from rounds.runtime.fieldwork import chrome, service, views
from rounds.runtime.fieldwork.views import say
from rounds.runtime.issues import queries as issues
from rounds.runtime.notifications import service as notifications
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.orgs.service import OrgUnitNode, visible_org_tree
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber, id_or_none

PER_PAGE = 20
# What a list row offers: the steps of the loop. Reassigning, commenting and cancelling need
# more context and stay on the issue's own page.
ROW_ACTIONS = ("start", "rectify", "verify", "refuse", "close", "reopen")
NOT_DONE = ",".join(s for s in views.ISSUE_STATES if s not in ("closed", "cancelled"))


def _data(value: Any) -> dict[str, Any]:
    """A service view (msgspec structs) as plain data for the pure presentation code."""
    out: dict[str, Any] = msgspec.to_builtins(value)
    return out


def _int(value: str | None) -> int | None:
    """A filter from the query string: a form sends empty fields as ``""``."""
    return id_or_none(value or "")


def _units(tree: list[OrgUnitNode], lang: str, depth: int = 0) -> list[tuple[int, str]]:
    """The org unit tree flattened for a select, indented by depth."""
    out: list[tuple[int, str]] = []
    for node in tree:
        name = pick({"zh": node.name_zh, "en": node.name_en}, lang, node.code)
        out.append((node.id, "\u3000" * depth + name))
        out += _units(node.children, lang, depth + 1)
    return out


async def _unread(db: AsyncSession, principal: Principal) -> int:
    return await notifications.unread_count(db, principal.user_id)


# -- the board -----------------------------------------------------------------------------------

@get("/issues", include_in_schema=False)
async def board_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, status: str | None = None,
                     org_unit_id: str | None = None, assignee_id: str | None = None,
                     site_id: str | None = None, overdue: str | None = None,
                     page: PageNumber = 1
                     ) -> Response[str]:
    """The issues of my scope, filtered by state, org unit, assignee, site and overdue, most
    urgent first, with the counts per state on top as bars."""
    language = request_language(request)
    now = utcnow()
    filters: dict[str, Any] = {
        "status": status if status in views.ISSUE_STATES else None,
        "org_unit_id": _int(org_unit_id), "assignee_id": _int(assignee_id),
        "site_id": _int(site_id), "overdue": overdue in ("true", "1", "on")}
    # Issue titles and standard names in the page's language (?lang=), not only the user's.
    reader = replace(principal, language=language)
    found = await issues.board(db, reader, now=now, status=filters["status"],
                               org_unit_id=filters["org_unit_id"],
                               assignee_id=filters["assignee_id"], site_id=filters["site_id"],
                               overdue=True if filters["overdue"] else None, page=page,
                               per_page=PER_PAGE)
    counts = await service.issue_counts(db, principal, now=now,
                                        org_unit_id=filters["org_unit_id"],
                                        assignee_id=filters["assignee_id"],
                                        site_id=filters["site_id"], overdue=filters["overdue"])

    def link(**changes: Any) -> str:
        return views.href("/issues", language, **views.board_query(filters, **changes))

    try:
        units = _units(await visible_org_tree(db, principal), language)
    except Forbidden:
        units = []
    people = await service.assignable_people(db, principal)
    # The filters in force, each a link that drops it (the others kept).
    unit_names, people_names = dict(units), {p.id: p.label for p in people}
    sites = await service.site_names(db, [filters["site_id"]])
    chips = [{"label": label, "href": link(**{key: None})} for key, label in (
        ("status", views.status_text(filters["status"], language) if filters["status"]
         else None),
        ("org_unit_id", unit_names.get(filters["org_unit_id"] or 0, "").strip("\u3000")
         or None),
        ("assignee_id", people_names.get(filters["assignee_id"] or 0)),
        ("site_id", sites.get(filters["site_id"] or 0)),
        ("overdue", say(language, "overdue") if filters["overdue"] else None)) if label]
    return chrome.page(
        request, "issues_board.html", language, principal, title=say(language, "board_title"),
        active="board", unread=await _unread(db, principal),
        bars=views.status_bars(counts, language, lambda s: link(status=s), filters["status"]),
        filters=filters, chips=chips, clear_href=views.href("/issues", language),
        statuses=[(s, views.status_text(s, language)) for s in views.ISSUE_STATES],
        units=units, people=people,
        rows=[views.issue_card(_data(i), language, settings.tz, actions=()) for i in
              found.items],
        pager=views.pager(page, PER_PAGE, found.total, lambda n: link(page=n),
                          views.words(language)["issues_total"]))


# -- one issue ------------------------------------------------------------------------------------

@get("/issues/{issue_id:int}", include_in_schema=False)
async def issue_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, issue_id: Id
                     ) -> Response[str]:
    """An issue: what, where, who and by when; the evidence (as found, and of each fix); the
    whole history; and what the current state lets this user do."""
    language = request_language(request)
    detail = _data(await issues.get_issue(db, replace(principal, language=language), issue_id,
                                          now=utcnow()))
    unit = await db.get(OrgUnit, detail["org_unit_id"])
    card = views.issue_card(detail, language, settings.tz, org_unit=pick(
        {"zh": unit.name_zh, "en": unit.name_en}, language, unit.code) if unit else "")
    events = list(detail.get("events") or [])
    names = await service.user_names(db, views.mentioned_people(events))
    lines = views.event_lines(events, names, language, settings.tz)
    photo = f"/api/issues/{issue_id}/photos/"  # whoever sees the issue sees its photos
    created = next((e for e in events if e.get("action") == "created"), None)
    found_data = (created or {}).get("data") or {}
    fixes = [{"who": (f.get("by") or {}).get("name", ""), "at": views.local(f["at"], settings.tz),
              "at_iso": f["at"], "note": f.get("note", ""),
              "photos": [photo + p for p in f.get("photos") or []]}
             for f in detail.get("evidence") or []]
    people = (await service.assignable_people(db, principal)
              if "reassign" in detail.get("allowed_actions", []) else [])
    board = principal.can("issue.view_scope")
    return chrome.page(
        request, "issue.html", language, principal,
        title=say(language, "issue_title", id=issue_id), active="",
        unread=await _unread(db, principal),
        issue=card, forms=card.forms, people=people, fixes=fixes,
        found={"note": str(found_data.get("note") or ""),
               "photos": [photo + str(p) for p in found_data.get("photos") or []]},
        events=[{**line.__dict__,
                 # photos of the finding and of each fix are shown with the evidence above
                 "photos": [] if line.action in ("create", "rectify")
                 else [photo + p for p in line.photos]} for line in lines],
        # a retailer's account goes back to its portal's problems (it has no field pages)
        back_href=views.href("/shop/issues", language, show="mine") if views.is_shop(principal)
        else views.href("/issues" if board else "/me/issues", language),
        back_label=say(language, "nav_shop_issues" if views.is_shop(principal)
                       else "nav_issues" if board else "nav_my_issues"))


# -- my issues ------------------------------------------------------------------------------------

@get("/me/issues", include_in_schema=False)
async def my_issues_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                         settings: Settings, principal: Principal,
                         done: bool = False, page: PageNumber = 1,
                         assigned_page: PageNumber = 1) -> Response[str]:
    """The issues I am to fix (``page``), and those I assigned (to verify and close;
    ``assigned_page``), each list paged with its count, each row with the steps its state
    allows me; a new one appears while the page is open."""
    language = request_language(request)
    now = utcnow()
    status = None if done else NOT_DONE
    pages = {"assignee": page, "assigner": assigned_page}
    params = {"assignee": "page", "assigner": "assigned_page"}
    groups = []
    for key, title in (("assignee", say(language, "my_as_assignee")),
                       ("assigner", say(language, "my_as_assigner"))):
        found = await issues.my_issues(db, replace(principal, language=language), now=now,
                                       as_=key, status=status,
                                       page=pages[key], per_page=PER_PAGE)
        if key == "assigner" and not found.total and not principal.can("issue.verify"):
            continue  # field staff assign nothing: no empty "assigned by me"

        def link(n: int, key: str = key) -> str:  # this list's page n, the other one kept
            kept: dict[str, int | None] = {params[k]: p for k, p in pages.items() if p > 1}
            kept[params[key]] = n if n > 1 else None
            return views.href("/me/issues", language, done="true" if done else None, **kept)

        groups.append({"key": key, "title": title, "rows": [
            views.issue_card(_data(i), language, settings.tz, actions=ROW_ACTIONS)
            for i in found.items],
            "pager": views.pager(pages[key], PER_PAGE, found.total, link,
                                 views.words(language)["issues_total"])})
    return chrome.page(
        request, "my_issues.html", language, principal, title=say(language, "my_issues_title"),
        active="my_issues", unread=await _unread(db, principal), groups=groups,
        people=[], done=done,
        toggle_href=views.href("/me/issues", language, done="true" if not done else None),
        toggle_label=say(language, "hide_done" if done else "show_done"))


# -- the inbox ------------------------------------------------------------------------------------

def _local_link(link: str, lang: str) -> str | None:
    """A notification's link on this site, in the page's language; anything else none."""
    if not link.startswith("/") or link.startswith("//"):
        return None
    parts = urlsplit(link)
    query = [(k, v) for k, v in (p.split("=", 1) for p in parts.query.split("&") if "=" in p)
             if k != "lang"]
    return f"{parts.path}?{urlencode([*query, ('lang', lang)])}"


@get("/me/notifications", include_in_schema=False)
async def inbox_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, page: PageNumber = 1) -> Response[str]:
    """My notifications, unread first; each can be marked read, or all at once."""
    language = request_language(request)
    found, total = await notifications.inbox(db, principal.user_id, limit=PER_PAGE,
                                             offset=(page - 1) * PER_PAGE)
    unread = await _unread(db, principal)
    rows = [{"id": n.id, "kind": n.kind, "text": n.text(language), "unread": n.unread,
             "href": _local_link(n.link, language), "at": views.local(n.created_at, settings.tz)}
            for n in found]
    return chrome.page(
        request, "notifications.html", language, principal, title=say(language, "inbox_title"),
        active="inbox", unread=unread, rows=rows,
        pager=views.pager(page, PER_PAGE, total,
                          lambda n: views.href("/me/notifications", language, page=n),
                          views.words(language)["inbox_total"]))


def route_handlers() -> list[Any]:
    return [board_page, issue_page, my_issues_page, inbox_page]
