"""A submission's issues, made in the submission's own transaction with a few bulk statements.

The submissions slice calls :func:`make_issues` (its ``with_failed_items`` hook) once the
failed items are inserted, in the same transaction: an acknowledged submission always has its
issues, their first events and their notifications (rows: the outbox, pushed to open pages
after the commit). Whatever a crash leaves (nothing, as the transaction is one) and whatever
was stored before this existed is repaired by ``sources.reconcile_missing_issues``, which
reads a submission back and comes here too (:func:`issues_of`, the one home of what an
issue of a failed item, its events and its notification hold), for the failed items that
have no issue yet.

The rules: the standard's ``issues`` (per item or per submission, severities, due dates),
routing by the item's, the standard's or the default rules with the fallback
(``routing.route``), the events ``created``, ``routed`` (each fallback), ``assigned`` or
``needs_assignee``, a notification to whom the last one concerns. How:

- nothing is read again: the submission's row, its failed items with their ids, the
  submitter and the site come from the write path (``submissions.service.Stored``);
- a version's issue settings (titles, rules, due dates) are worked out once per version (a
  published version never changes);
- routing is computed in memory from a cache per process (:class:`Directory`): each
  ``route`` outcome for a place, rule and exclusion, and the roles. It is forgotten when
  people, site staff, sites, org units or definitions change in this process (session
  events) and after ``PRINCIPAL_TTL_S`` seconds for changes made by another process (a
  changed role takes effect as late there). Taking turns among several candidates
  (``routing.pick``) still counts issues in the database (once per candidate list and
  submission), plus those of this batch, so the turns are the ones the ORM path gives;
- four statements at most: the issues, their events, the photos their events name, the
  notifications (``INSERT ... RETURNING`` in executemany form; no read).

Imports ``routing``, ``texts``, ``deadlines`` of the slice (``sources`` imports this), the
notifications slice's push, the submissions slice's hook.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from rounds import i18n
from rounds.db import as_utc, table_of
from rounds.logs import REQUEST_ID
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.issues import texts
from rounds.runtime.issues.deadlines import (
    PRIORITY_OF,
    SEVERITIES,
    due_days,
    due_in,
    due_json,
)
from rounds.runtime.issues.models import ASSIGNED, OPEN, Issue, IssueEvent, IssuePhoto
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    DEFAULT_ASSIGN_TO,
    DEFAULT_VERIFY_BY,
    Party,
    Role,
    Routed,
    Where,
    item_rules,
    roles,
    route,
)
from rounds.runtime.notifications.models import Notification
from rounds.runtime.notifications.push import push_after_commit
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.auth import PRINCIPAL_TTL_S
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.submissions.service import AfterCommit, Stored, with_failed_items

log = logging.getLogger("rounds.issues")

_ISSUES, _EVENTS = table_of(Issue), table_of(IssueEvent)
_NOTIFICATIONS, _ISSUE_PHOTOS = table_of(Notification), table_of(IssuePhoto)
_INSERT_ISSUES = insert(_ISSUES).returning(_ISSUES.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_INSERT_NOTIFICATIONS = insert(_NOTIFICATIONS).returning(_NOTIFICATIONS.c.id,
                                                         sort_by_parameter_order=True)
_INSERT_ISSUE_PHOTOS = insert(_ISSUE_PHOTOS)


# -- what a failed item's issue is called ------------------------------------------------------

FAILED_ITEM = "failed_item"  # the source of an issue made from a failed item
_RANK = {s: n for n, s in enumerate(SEVERITIES)}


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


# -- a version's issue settings, once per version ----------------------------------------------

@dataclass(frozen=True)
class Standard:
    """What a standard version's ``issues`` say, worked out once."""

    config: dict[str, Any]
    per: str  # item | submission
    default_severity: str
    definition_title: dict[str, str]
    rules: dict[str, Party | None]  # the standard's assign_to, verify_by
    own_rules: dict[str, dict[str, Any]]  # item id → its own assign_to, verify_by, due
    titles: dict[str, dict[str, str]]  # item id → its problem's title (``problem_titles``)
    name: dict[str, str]  # the standard's name in every language

    @classmethod
    def of(cls, content: dict[str, Any], definition_id: str) -> Standard:
        config: dict[str, Any] = dict(content.get("issues") or {})
        title = dict(content.get("title") or {})
        return cls(config, str(config.get("per", "item")),
                   str(config.get("default_severity") or "medium"), title,
                   {"assign_to": Party.of_json(config.get("assign_to")),
                    "verify_by": Party.of_json(config.get("verify_by"))},
                   item_rules(content), definition_titles(content),
                   in_each(title, definition_id))


_standards: dict[tuple[Any, int, str], Standard] = {}


async def standard(conn: AsyncConnection, row: Mapping[str, Any]) -> Standard:
    """The standard of a submission's version (its content hash in the key too: a database
    made again under the same engine, as tests do, may reuse the version's id)."""
    version_id, definition_id = int(row["version_id"]), str(row["definition_id"])
    key = (conn.engine.sync_engine, version_id, str(row["content_hash"]))
    hit = _standards.get(key)
    if hit is None:
        content = (await conn.execute(select(DefinitionVersion.content).where(
            DefinitionVersion.id == version_id))).scalar_one_or_none()
        hit = _standards[key] = Standard.of(dict(content or {}), definition_id)
    return hit


# -- routing from memory ------------------------------------------------------------------------

_RouteKey = tuple[str, Party | None, str, tuple[Party, ...], Where, int | None]


@dataclass
class Directory:
    """Routing outcomes and roles of one database, as long as people and sites stay as they
    were (see the module)."""

    expires: float
    known: dict[str, Role] | None = None
    routes: dict[_RouteKey, Routed] = field(default_factory=dict)


_directories: dict[Any, Directory] = {}


def forget_routing() -> None:
    """People, site staff, sites, org units or roles changed: route again from the database."""
    _directories.clear()


def _directory(conn: AsyncConnection) -> Directory:
    key = conn.engine.sync_engine
    found = _directories.get(key)
    if found is None or found.expires <= time.monotonic():
        found = _directories[key] = Directory(time.monotonic() + PRINCIPAL_TTL_S)
    return found


# What routing reads: a change to any of these in this process forgets the cache.
_ROUTING_INPUTS = (User, SiteAssignment, Site, OrgUnit, DefinitionVersion)


@event.listens_for(Session, "after_flush")
def _changed_in_flush(session: Session, _flush: UOWTransaction) -> None:
    if any(isinstance(o, _ROUTING_INPUTS)
           for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["rounds.issues.routing_changed"] = True
        forget_routing()


@event.listens_for(Session, "do_orm_execute")
def _changed_in_bulk(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_insert or state.is_update or state.is_delete) and mapper is not None \
            and issubclass(mapper.class_, _ROUTING_INPUTS):
        state.session.info["rounds.issues.routing_changed"] = True
        forget_routing()


@event.listens_for(Session, "after_commit")
def _changed_at_commit(session: Session) -> None:
    # Again at the commit: a submission routed between the flush and the commit read the
    # old rows.
    if session.info.pop("rounds.issues.routing_changed", False):
        forget_routing()


class Router:
    """Routes the issues of one submission: from the directory, the database on a miss."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.directory = _directory(conn)
        self._session: AsyncSession | None = None
        self._counts: dict[tuple[str, tuple[int, ...]], int] = {}
        self.made: list[tuple[int | None, int | None]] = []  # (assignee, assigner) so far

    async def session(self) -> AsyncSession:
        # The routing functions take a session: one on the submission's connection, in its
        # transaction (it neither commits nor rolls back: conservative_savepoint).
        if self._session is None:
            self._session = AsyncSession(bind=self.conn)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def known(self) -> dict[str, Role]:
        if self.directory.known is None:
            self.directory.known = await roles(await self.session())
        return self.directory.known

    async def route(self, party: str, rule: Party | None, where: Where, *, rule_from: str,
                    default: Sequence[Party], exclude: int | None = None) -> Routed:
        key = (party, rule, rule_from, tuple(default), where, exclude)
        found = self.directory.routes.get(key)
        if found is None:
            found = await route(await self.session(), party, rule, where,
                                rule_from=rule_from, default=default, exclude=exclude,
                                known=await self.known())
            self.directory.routes[key] = found
        return await self._take_turns(found)

    async def _take_turns(self, routed: Routed) -> Routed:
        """``routing.pick`` over the cached candidates: the k-th issue naming any of them
        goes to ``among[k mod n]``, k counted in the database plus this batch."""
        among = routed.among
        if len(among) <= 1:
            return routed
        key = (routed.party, tuple(among))
        if key not in self._counts:
            column = _ISSUES.c.assignee_id if routed.party == ASSIGNEE \
                else _ISSUES.c.assigner_id
            self._counts[key] = int((await self.conn.execute(select(func.count()).where(
                column.in_(among)))).scalar_one())
        side = 0 if routed.party == ASSIGNEE else 1
        k = self._counts[key] + sum(1 for pair in self.made if pair[side] in among)
        return replace(routed, user_id=among[k % len(among)])

    async def parties(self, where: Where, own: Mapping[str, Any],
                      rules: Mapping[str, Party | None]) -> tuple[Routed, Routed,
                                                                  dict[str, Any]]:
        """``routing.parties``, from memory."""
        used: dict[str, Any] = {}
        found: dict[str, tuple[Party | None, str]] = {}
        for key in ("assign_to", "verify_by"):
            rule = Party.of_json(own.get(key))
            found[key] = (rule, "item") if rule is not None else \
                (rules[key], "standard" if rules[key] else "default")
            chosen = found[key][0]
            used[key] = chosen.as_json() if chosen is not None else None
        assignee = await self.route(ASSIGNEE, found["assign_to"][0], where,
                                    rule_from=found["assign_to"][1],
                                    default=DEFAULT_ASSIGN_TO)
        assigner = await self.route(ASSIGNER, found["verify_by"][0], where,
                                    rule_from=found["verify_by"][1],
                                    default=DEFAULT_VERIFY_BY, exclude=assignee.user_id)
        used["from"] = {"assign_to": found["assign_to"][1], "verify_by": found["verify_by"][1]}
        self.made.append((assignee.user_id, assigner.user_id))
        return assignee, assigner, used


# -- the issues of a submission ----------------------------------------------------------------

@dataclass
class _Planned:
    """An issue to insert, and what its events say."""

    row: dict[str, Any]
    created: dict[str, Any]
    routed: tuple[Routed, Routed]


@dataclass(frozen=True)
class Submitter:
    """Who submitted, as their issues need them."""

    user_id: int
    role_id: str | None
    org_unit_id: int
    language: str


@dataclass(frozen=True)
class Failed:
    """A submission with failed items, as its issues need it (``Stored`` from the write
    path; the reconciliation reads the same from the database)."""

    row: Mapping[str, Any]  # the submission's columns, the JSON documents decoded
    failed: Sequence[Mapping[str, Any]]  # the failed items still without issues, with ids
    submitter: Submitter
    place: Mapping[str, Any] | None  # org_unit_id, site_name, site_code of its site
    photos: frozenset[str]  # the stored photos it refers to (the events link these)
    at: datetime  # when the issues are made (the submission's time on the write path)
    request_id: str | None = None  # the request that sent it (its log lines carry it)


async def _plan(conn: AsyncConnection, sub: Failed, std: Standard,
                router: Router) -> list[_Planned]:
    row, failed, place = sub.row, sub.failed, sub.place
    now = sub.at
    submitted = as_utc(row["submitted_at"])
    sid, definition_id = row["id"], row["definition_id"]
    config, default_severity = std.config, std.default_severity
    titles = filled_titles(std.titles, row["evaluation"])
    standard_name = std.name
    lang = sub.submitter.language
    if row["site_id"] is not None and place is not None:
        unit_id = int(place["org_unit_id"])
        where_text = f"{place['site_name']}（{place['site_code']}）"
    else:
        unit_id, where_text = sub.submitter.org_unit_id, ""
    evidence = row["evidence"] if isinstance(row["evidence"], dict) else {}
    where = Where(row["site_id"], unit_id, sub.submitter.user_id, sub.submitter.role_id)

    def base(severity: str, due: timedelta) -> dict[str, Any]:
        return {"description": "", "priority": PRIORITY_OF.get(severity, 3),
                "escalation_level": 0, "version": 1, "created_at": now, "updated_at": now,
                "source": FAILED_ITEM, "severity": severity, "site_id": row["site_id"],
                "org_unit_id": unit_id, "submission_id": sid, "definition_id": definition_id,
                # due from the submission, not from when it is made (a late reconciliation
                # gives no more time)
                "reporter_id": row["user_id"], "due_at": submitted + due}

    def parties_of(values: dict[str, Any], assignee: Routed, assigner: Routed
                   ) -> dict[str, Any]:
        values.update(assignee_id=assignee.user_id, assigner_id=assigner.user_id,
                      status=ASSIGNED if assignee.user_id is not None else OPEN)
        return values

    out: list[_Planned] = []
    if std.per == "submission":
        severity = max((f["severity"] or default_severity for f in failed),
                       key=severity_rank)
        items: list[dict[str, Any]] = [{"item_id": f["item_id"], "failed_item_id": f["id"],
                                        "severity": f["severity"] or default_severity,
                                        "title": titles.get(f["item_id"], {})} for f in failed]
        head = texts.failed_items_title(std.definition_title, len(failed), definition_id)
        assignee, assigner, used = await router.parties(where, {}, std.rules)
        due, due_from = min((due_in(config.get("due_days"), f["severity"] or default_severity,
                                    std.own_rules.get(f["item_id"], {}).get("due"))
                             for f in failed), key=lambda d: d[0])
        neutral = {**head, "standard": standard_name,
                   "items": [in_each(i["title"], i["item_id"]) for i in items]}
        values = {**base(severity, due),
                  "title": texts.title_in(head, lang, definition_id)[:300],
                  "titles": neutral, "description": where_text,
                  "failed_item_id": failed[0]["id"], "item_id": None}
        out.append(_Planned(parties_of(values, assignee, assigner), {
            "title": head, "items": items, "submission_id": sid, "rules": used,
            "due_days": due_days(config.get("due_days"), severity),
            "due": due_json(due), "due_from": due_from}, (assignee, assigner)))
        return out

    for f in failed:
        item_id = f["item_id"]
        severity = f["severity"] or default_severity
        title = titles.get(item_id, {})
        note = evidence.get(item_id, {}) if isinstance(evidence.get(item_id), dict) else {}
        own = std.own_rules.get(item_id, {})
        assignee, assigner, used = await router.parties(where, own, std.rules)
        due, due_from = due_in(config.get("due_days"), severity, own.get("due"))
        text = [where_text]
        if note.get("note"):
            text.append(str(note["note"]))
        values = {**base(severity, due),
                  "title": texts.title_in(title, lang, item_id)[:300],
                  "titles": {**in_each(title, item_id, 300), "standard": standard_name},
                  "description": "\n".join(t for t in text if t),
                  "failed_item_id": f["id"], "item_id": item_id}
        out.append(_Planned(parties_of(values, assignee, assigner), {
            "title": title, "submission_id": sid, "item_id": item_id, "severity": severity,
            "rules": used, "due_days": due_days(config.get("due_days"), severity),
            "due": due_json(due), "due_from": due_from,
            "photos": [str(p) for p in note.get("photos") or []],
            "note": str(note.get("note") or "")}, (assignee, assigner)))
    return out


async def make_issues(conn: AsyncConnection, subs: Sequence[Stored]) -> AfterCommit | None:
    """The issues of submissions' failed items, their events and notifications, in the
    submissions' transaction (``conn``; several when the writer groups them); pushing the
    notifications after its commit."""
    _, pushed = await issues_of(conn, [Failed(
        sub.row, sub.failed, Submitter(sub.principal.user_id, sub.principal.role_id,
                                       sub.principal.org_unit_id, sub.principal.language),
        sub.place, sub.photos, as_utc(sub.row["submitted_at"]), sub.request_id)
        for sub in subs])
    return (lambda: push_after_commit(pushed)) if pushed else None


async def issues_of(conn: AsyncConnection, subs: Sequence[Failed]) -> tuple[int, list[int]]:
    """Insert the issues of each ``sub.failed``, their events, the photos these name and the
    notifications, in the caller's transaction, with one statement per table for them all:
    the one home of what these rows hold (the write path and the reconciliation both come
    here). Returns how many issues, and the notifications to push once the transaction
    commits."""
    router = Router(conn)  # one for all: taking turns counts the issues planned before
    planned: list[tuple[Failed, _Planned]] = []
    try:
        for sub in subs:
            std = await standard(conn, sub.row)
            planned += [(sub, p) for p in await _plan(conn, sub, std, router)]
    finally:
        await router.close()
    if not planned:
        return 0, []
    issue_ids = [int(i) for i in (await conn.execute(
        _INSERT_ISSUES, [p.row for _, p in planned])).scalars()]

    # The events of each issue, in the order ``sources.open_issue`` records them; the last
    # one (assigned or needs_assignee) is the one its notification is about.
    events: list[dict[str, Any]] = []
    told: list[tuple[int, int, str, int, dict[str, str], datetime]] = []  # (issue, event...)
    links: set[tuple[int, str]] = set()
    for (sub, p), issue_id in zip(planned, issue_ids, strict=True):
        now, first = sub.at, len(events)

        def add(action: str, from_status: str | None, to_status: str | None,
                data: dict[str, Any] | None = None, *, issue_id: int = issue_id,
                now: datetime = now) -> int:
            events.append({"issue_id": issue_id, "at": now, "actor_id": None, "action": action,
                           "from_status": from_status, "to_status": to_status, "reason": "",
                           "data": data or {}})
            return len(events) - 1

        add("created", None, OPEN, p.created)
        for r in p.routed:
            if r.fallback is not None:
                add("routed", None, None, r.event_data())
                if r.fallback == "nobody" and r.party == ASSIGNER:
                    log.warning("issue %s has nobody who may accept its fix: %s", issue_id,
                                r.text.get("en"))
        row = p.row
        title = row.get("titles") or row["title"]
        if row["assignee_id"] is not None:
            left = row["due_at"] - now if row.get("due_at") else None
            at = add("assigned", OPEN, ASSIGNED, {"assignee_id": row["assignee_id"]})
            told.append((issue_id, at, "issue_assigned", row["assignee_id"],
                         texts.message("issue_assigned", title, due_in=left), now))
        elif row["assigner_id"] is not None:
            at = add("needs_assignee", None, None)
            told.append((issue_id, at, "issue_unassigned", row["assigner_id"],
                         texts.message("issue_unassigned", title), now))
        # The photos its events name, as ``events.record`` links them: stored ones only (the
        # write path checked the submission's, so no query).
        links.update((issue_id, str(ph)) for e in events[first:]
                     for ph in e["data"].get("photos") or () if str(ph) in sub.photos)
    event_ids = [int(i) for i in (await conn.execute(_INSERT_EVENTS, events)).scalars()]
    if links:
        await conn.execute(_INSERT_ISSUE_PHOTOS,
                           [{"issue_id": i, "photo_id": ph} for i, ph in sorted(links)])
    # A line per submission, under its own request's id (a group's submissions came in
    # different requests): an operator follows a report from its request to its issues.
    made: dict[int, int] = {}
    for sub, _ in planned:
        made[id(sub)] = made.get(id(sub), 0) + 1
    for sub in subs:
        if id(sub) in made:
            with structlog.contextvars.bound_contextvars(
                    **({REQUEST_ID: sub.request_id} if sub.request_id else {})):
                log.info("issues made for submission %s: %d", sub.row["id"], made[id(sub)])
    if not told:
        return len(issue_ids), []
    notes = [{"user_id": user, "kind": kind, "message": message, "link": f"/issues/{issue}",
              "issue_id": issue, "created_at": now,
              "dedupe_key": f"issue:{issue}:event:{event_ids[at]}:u{user}"}
             for issue, at, kind, user, message, now in told]
    ids = [int(i) for i in (await conn.execute(_INSERT_NOTIFICATIONS, notes)).scalars()]
    return len(issue_ids), ids


with_failed_items(make_issues)
