"""Submissions: a filled form validated, scored and stored exactly once.

The write path, in the order it runs (``submit``):

1. **Decode** with msgspec (``body``); ``answers`` and ``evidence`` stay raw bytes
   (``msgspec.Raw``) and go as they are to the compiled form, whose fast path decodes and
   checks them in one pass. The content hash of the body (canonical JSON) is what tells a
   retry from a reuse.
2. **The compiled form** of the version the client names (its content hash: the server
   never validates against a version the user did not see) comes from a cache kept for the
   life of the process (``rounds.runtime.definitions.compiled``): a published version never
   changes, so the database is asked only on a miss. The role's forms are cached as long as
   a principal is.
3. **One read** (AUTOCOMMIT on PostgreSQL: no BEGIN/ROLLBACK around it): the user's open
   visit and its site (the rules' ``ctx``), with the count of the referenced photos the user
   uploaded. The connection goes back to the pool before the CPU work.
4. **Validate, score, alerts** (CPU only), then the rows are built and the JSON documents
   encoded with msgspec (several times faster than ``json.dumps``).
5. **Group commit**: the submission, ready to store, is queued for this process's writer
   (``_Writer``, one per database), which stores what is queued (up to
   ``ROUNDS_DATABASE_GROUP_COMMIT``) in one short transaction with prebuilt SQLAlchemy Core
   statements, one multi-row statement per table for the whole group: ``INSERT ... ON
   CONFLICT (id) DO NOTHING RETURNING id`` for the submissions (an id that comes back was
   stored now; the others exist, and the stored ``body_hash`` and submitter decide between a
   retry, 200 with the stored result, and a reuse of the id for other content, 409), their
   failed items and photo links (``executemany``), then the issues of the failed items
   (the ``with_failed_items`` hook: ``issues.bulk``). Each caller is answered after the
   commit, so an acknowledged submission has its issues; a failure anywhere before it
   leaves nothing, and the group's submissions are then stored again one by one (one bad
   submission fails alone). On SQLite the writer queues on this process's writer lock
   instead of polling the database's busy timeout.

The id comes from the client (a UUID), which makes a retry after a lost response safe: 50
copies racing each other all end with one row (the primary key decides), and every one of
them gets the same document (built from the stored row, keys sorted; ``documents``).

Reading: a submission its submitter or a supervisor of its site may see (``visible``), and
one's own submissions.

Imports: the forms and rules engines, the slices before submissions (definitions, people,
sites, storage, visits), any slice's models.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import msgspec
import structlog
from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from rounds.db import as_utc, table_of, utcnow
from rounds.errors import Conflict, InvalidInput, NotFound, Problem, RoundsError
from rounds.forms.compiled import SubmissionInvalid
from rounds.logs import REQUEST_ID
from rounds.runtime.access import (
    Forbidden,
    Principal,
    site_scope,
    site_scope_bound,
    site_scope_params,
)
from rounds.runtime.definitions.compiled import FormVersion, cached_form_version, form_version
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import role_content
from rounds.runtime.people.auth import PRINCIPAL_TTL_S
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import EncodedJSON, insert_or_nothing, writer_lock
from rounds.runtime.storage.access import photo_use
from rounds.runtime.storage.models import Photo
from rounds.runtime.storage.service import unowned_photos
from rounds.runtime.submissions.body import Envelope, Parsed, form_body, invalid, parse
from rounds.runtime.submissions.documents import (
    explanation_text,
    failed_item_rows,
    photo_refs,
    render,
    score_columns,
    signature_refs,
    stored_evaluation,
)
from rounds.runtime.submissions.models import FailedItem, Submission, SubmissionPhoto
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.service import rule_context, visit_context

_SUBMISSIONS = table_of(Submission)
_FAILED_ITEMS = table_of(FailedItem)
_PHOTO_LINKS = table_of(SubmissionPhoto)


class SubmissionIdConflict(Conflict, code="submission_id_conflict",
                           title="This submission id was used for other content"):
    """A submission id sent again with other content (a retry must send the same)."""


class SiteOutOfScope(Forbidden, code="site_out_of_scope",
                     title="The site is no longer among yours"):
    """The visit's site was taken out of the submitter's scope after they checked in."""


# -- what other slices do after a submission ------------------------------------------------------

# Work a slice above this one does once a submission with failed items is stored (the
# issues slice makes its issues): given the session factory and the submission's id, it
# runs after the response is sent, in a transaction of its own, and must be idempotent (a
# retry of the submission may run it again; a reconciliation catches up if it is lost).
AfterFailedItems = Callable[[async_sessionmaker[AsyncSession], str], Awaitable[None]]
_after_failed_items: list[AfterFailedItems] = []


def after_failed_items(hook: AfterFailedItems) -> AfterFailedItems:
    """Register work to do after a submission with failed items (registering twice changes
    nothing)."""
    if hook not in _after_failed_items:
        _after_failed_items.append(hook)
    return hook


def failed_items_hooks() -> tuple[AfterFailedItems, ...]:
    return tuple(_after_failed_items)


@dataclass(frozen=True)
class Stored:
    """A submission with failed items as the work in its own transaction sees it: what the
    write path has at hand, so that nothing is read again."""

    row: Mapping[str, Any]  # the submission's columns (the JSON documents decoded)
    failed: list[dict[str, Any]]  # its failed items' rows, with their ids, in order
    principal: Principal  # the submitter
    place: Mapping[str, Any] | None  # the visit and site of the one read (org_unit_id...)
    photos: frozenset[str]  # the photos it refers to: stored, and checked as the submitter's
    request_id: str | None = None  # the request that sent it (for the log lines about it)


# Work a slice above this one does in the submissions' own transaction once their failed
# items are inserted (the issues slice makes their issues, events and notifications): an
# acknowledged submission has them. It is given every submission with failed items that the
# transaction stores (group commit: often several), and may return what to do after the
# commit (push).
AfterCommit = Callable[[], None]
WithFailedItems = Callable[[AsyncConnection, Sequence[Stored]], Awaitable[AfterCommit | None]]
_with_failed_items: list[WithFailedItems] = []


def with_failed_items(hook: WithFailedItems) -> WithFailedItems:
    """Register work to do in a submission's transaction when it has failed items
    (registering twice changes nothing)."""
    if hook not in _with_failed_items:
        _with_failed_items.append(hook)
    return hook


def with_failed_items_hooks() -> tuple[WithFailedItems, ...]:
    return tuple(_with_failed_items)


# -- the role's forms, cached as long as a principal -----------------------------------------------

_role_forms: dict[tuple[Any, str], tuple[float, frozenset[str]]] = {}


async def role_forms(db: AsyncSession, role_id: str) -> frozenset[str]:
    """The standards and surveys a role works with; kept as long as a cached principal
    (a role's new version takes effect as late as a changed role does)."""
    key = (db.bind, role_id)
    hit = _role_forms.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    role = await role_content(db, role_id)
    ids = frozenset([*(role.get("standards") or []), *(role.get("surveys") or [])])
    _role_forms[key] = (time.monotonic() + PRINCIPAL_TTL_S, ids)
    return ids


@dataclass(frozen=True)
class Outcome:
    """``created``: stored now (201); else the stored result of an earlier try (200)."""

    created: bool
    body: dict[str, Any]


_STORED_COLUMNS = (*_SUBMISSIONS.c, DefinitionVersion.number)


async def _stored(db: AsyncSession | AsyncConnection, submission_id: str
                  ) -> Mapping[Any, Any] | None:
    row = (await db.execute(select(*_STORED_COLUMNS).join(
        DefinitionVersion, DefinitionVersion.id == _SUBMISSIONS.c.version_id).where(
        _SUBMISSIONS.c.id == submission_id))).mappings().first()
    return row


def _replay(stored: Mapping[Any, Any], principal: Principal, digest: str) -> Outcome:
    if stored["user_id"] != principal.user_id or stored["body_hash"] != digest:
        raise SubmissionIdConflict(
            f"submission {stored['id']} exists with other content; a new submission needs "
            "a new id (a retry must send exactly the same content)")
    return Outcome(False, render(stored, stored["number"]))


# -- submitting ----------------------------------------------------------------------------------

def _may_submit(principal: Principal, kind: str | None = None) -> bool:
    if principal.can("submission.create"):
        return True
    return kind in (None, "survey") and principal.can("survey.respond")


def _encode(doc: Any) -> str:
    return msgspec.json.encode(doc).decode()


def _engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


async def submit(sessions: async_sessionmaker[AsyncSession], principal: Principal, raw: bytes,
                 *, lang: str = "zh", now: datetime | None = None,
                 tz: tzinfo = UTC) -> Outcome:
    """Validate, score and store a submission body, once (see the module's notes)."""
    if not _may_submit(principal):
        raise Forbidden(f"your role ({principal.role_id}) may not submit forms")
    parsed = parse(raw)
    try:
        # In UTC, as the stored row gives it back: a retry's answer is the first one's.
        return await _submit(sessions, principal, parsed, lang=lang,
                             now=as_utc(now) if now else utcnow(), tz=tz)
    except SubmissionIdConflict:
        raise
    except RoundsError:
        # Refused now, but maybe stored by an earlier try (the visit was closed since, a
        # rule reads the time...): a retry of stored content still gets the stored result.
        async with _engine(sessions).connect() as conn:
            stored = await _stored(conn, str(parsed.env.id))
        if stored is not None:
            return _replay(stored, principal, parsed.digest)
        raise


async def _form_for(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine,
                    principal: Principal, env: Envelope) -> FormVersion:
    """The compiled form, checked against the role; from the caches, the database only on
    a miss."""
    fv = cached_form_version(engine, env.definition_id, env.version)
    role = _role_forms.get((engine, principal.role_id))
    allowed = role[1] if role is not None and role[0] > time.monotonic() else None
    if fv is None or allowed is None:
        async with sessions() as db:
            fv = fv or await form_version(db, env.definition_id, env.version)
            allowed = allowed or await role_forms(db, principal.role_id)
    if not _may_submit(principal, fv.kind):
        raise Forbidden(f"your role ({principal.role_id}) may not submit a {fv.kind}")
    if env.definition_id not in allowed:
        raise Forbidden(f"{env.definition_id!r} is not among the forms of your role "
                        f"({principal.role_id})")
    return fv


# Statements built once: building and cache-keying a statement costs more Python time than
# executing a cached one.
_V, _S, _P = Visit.__table__.c, Site.__table__.c, Photo.__table__.c
_OWNED = select(func.count()).where(
    _P.id.in_(bindparam("photo_ids", expanding=True)),
    _P.uploaded_by == bindparam("user_id"),
    # a signature is a drawn PNG, not any photo
    or_(_P.content_type == "image/png",
        _P.id.not_in(bindparam("png_ids", expanding=True)))).scalar_subquery().label("owned")
# The site's unit, name and code: what its issues need (``with_failed_items``).
_SITE_COLUMNS = (_S.id.label("site_id"), _S.site_kind, _S.attributes, _S.org_unit_id,
                 _S.name.label("site_name"), _S.code.label("site_code"))
_AT_VISIT = select(_V.id, _V.checked_out_at, _V.checked_in_at, _V.method, _V.distance_m,
                   _V.flagged, *_SITE_COLUMNS).select_from(
    Visit.__table__.join(Site.__table__, _S.id == _V.site_id)).where(
    _V.id == bindparam("visit_id"), _V.user_id == bindparam("user_id"))
_AT_SITE = select(*_SITE_COLUMNS).where(
    _S.id == bindparam("site_id"))
_PLACE_QUERIES: dict[tuple[str | None, bool, str], Any] = {
    # (where, with photos, kind of scope) → statement, built on first use
}


def _place_query(at: str | None, photos: bool, org_scope: str) -> Any:
    """The one read of the write path: the visit and its site (or the retailer's own site),
    whether the site is in the submitter's scope *now* (it may have been taken away since the
    check-in), and how many of the referenced photos are the submitter's."""
    key = (at, photos, org_scope)
    stmt = _PLACE_QUERIES.get(key)
    if stmt is None:
        if at is None:
            stmt = select(_OWNED)
        else:
            in_scope = case((site_scope_bound(org_scope), 1), else_=0).label("in_scope")
            stmt = (_AT_VISIT if at == "visit" else _AT_SITE).add_columns(in_scope)
            if photos:
                stmt = stmt.add_columns(_OWNED)
        _PLACE_QUERIES[key] = stmt
    return stmt


_JSON_COLUMNS = ("answers", "evidence", "evaluation")
_INSERTS: dict[str, Any] = {}  # dialect name → INSERT ... ON CONFLICT (id) DO NOTHING
_INSERT_FAILED = insert(_FAILED_ITEMS)
_INSERT_FAILED_IDS = insert(_FAILED_ITEMS).returning(_FAILED_ITEMS.c.id,
                                                     sort_by_parameter_order=True)
_INSERT_LINKS = insert(_PHOTO_LINKS)


def _insert_submission(conn: AsyncConnection) -> Any:
    name = conn.dialect.name
    stmt = _INSERTS.get(name)
    if stmt is None:
        # The JSON documents arrive encoded (msgspec), so they are bound as they are.
        binds = {c.name: bindparam(c.name, type_=EncodedJSON()) if c.name in _JSON_COLUMNS
                 else bindparam(c.name) for c in _SUBMISSIONS.c}
        stmt = _INSERTS[name] = insert_or_nothing(conn, _SUBMISSIONS, ["id"]).values(
            binds).returning(_SUBMISSIONS.c.id)
    return stmt


async def _where(conn: AsyncConnection, principal: Principal, env: Envelope, kind: str,
                 refs: dict[str, str], *, png: dict[str, str]
                 ) -> tuple[Mapping[Any, Any] | None, list[Problem]]:
    """The visit (and site) the submission is made at, and the photo references that are
    not the submitter's: one query in the usual case."""
    at: str | None = None
    params: dict[str, Any] = {"user_id": principal.user_id}
    if env.visit_id is not None:
        at, params["visit_id"] = "visit", env.visit_id
    elif kind == "standard":
        raise InvalidInput("a standard is filled during a visit", [Problem(
            "/visit_id", "required: the id of your open visit", "required", "body")])
    elif principal.site_id is not None:  # a retailer answering for their own shop
        at, params["site_id"] = "site", principal.site_id
    ids = sorted(set(refs.values()))
    if ids:
        params["photo_ids"] = ids
        params["png_ids"] = sorted(set(png.values()))
    if at is not None:
        params.update(site_scope_params(principal))
    row = ((await conn.execute(_place_query(at, bool(ids), principal.org_scope), params))
           .mappings().first() if at is not None or ids else None)
    if at == "visit":
        if row is None:
            raise InvalidInput(f"no visit {env.visit_id} of yours", [Problem(
                "/visit_id", "not one of your visits", "unknown_visit", "body")])
        if row["checked_out_at"] is not None:
            raise InvalidInput(f"visit {env.visit_id} is checked out", [Problem(
                "/visit_id", "the visit is closed; check in again", "visit_closed", "body")])
    if at is not None and row is not None and not row["in_scope"]:
        # Scope is checked when the submission is stored, not only at check-in: a site taken
        # away from the submitter meanwhile takes no more submissions from them.
        raise SiteOutOfScope(
            f"site {row['site_id']} is no longer among your sites; nothing was stored",
            [Problem("/visit_id" if at == "visit" else "", "the site of this visit was "
                     "taken out of your scope after you checked in", "site_out_of_scope",
                     "body")])
    problems: list[Problem] = []
    if ids and (row is None or row["owned"] < len(ids)):  # which ones: only when some are bad
        problems = await unowned_photos(conn, principal.user_id, refs, png_only=png)
    return (row if at is not None else None), problems


async def _submit(sessions: async_sessionmaker[AsyncSession], principal: Principal,
                  parsed: Parsed, *, lang: str, now: datetime, tz: tzinfo = UTC) -> Outcome:
    env = parsed.env
    submission_id = str(env.id)
    engine = _engine(sessions)
    fv = await _form_for(sessions, engine, principal, env)
    # Photos are checked as sent (hidden answers too), in the same query as the visit;
    # problems of answers the form drops (hidden items) are forgiven below.
    sent_refs = photo_refs(fv.form, parsed.answers, parsed.evidence)
    sent_signatures = signature_refs(fv.form, parsed.answers)
    async with engine.connect() as conn:  # short: back to the pool before the CPU work
        if conn.dialect.name == "postgresql":
            # One SELECT needs no transaction: no BEGIN and ROLLBACK round trips around it.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        place, photo_problems = await _where(conn, principal, env, fv.kind, sent_refs,
                                             png=sent_signatures)
    if place is not None and fv.site_kinds is not None \
            and place["site_kind"] not in fv.site_kinds:
        raise InvalidInput(f"{fv.definition_id!r} is not for a {place['site_kind']}", [Problem(
            "/definition_id", f"this form is for {', '.join(sorted(fv.site_kinds))}",
            "wrong_site_kind", "body")])
    visit_id = place["id"] if place is not None and env.visit_id is not None else None
    site_id = place["site_id"] if place is not None else None

    ctx = rule_context(
        principal, now=now, tz=tz,
        site=place["attributes"] if place is not None else None,
        visit=visit_context(visit_id=visit_id, method=place["method"],
                            distance_m=place["distance_m"], flagged=place["flagged"],
                            checked_in_at=place["checked_in_at"], tz=tz)
        if place is not None and visit_id is not None else None)
    try:
        valid = fv.form.validate(form_body(env), ctx, lang)
    except SubmissionInvalid as e:
        if photo_problems:  # one answer listing every error
            raise invalid([*e.problems, *photo_problems]) from None
        raise
    ev = valid.scored  # what is stored of the evaluation; no explanation is built here
    answers, evidence = valid.answers, valid.evidence
    refs = photo_refs(fv.form, answers, evidence)
    photo_problems = [p for p in photo_problems if p.pointer in refs]
    if photo_problems:
        raise invalid(photo_problems)
    evaluation = stored_evaluation(ev)
    # What the form did not keep (hidden answers, calculated values sent): the client sees
    # the list in the response, and a retry gets it from the stored row.
    evaluation["dropped"] = valid.dropped
    row: dict[str, Any] = {
        "id": submission_id, "body_hash": parsed.digest, "user_id": principal.user_id,
        "site_id": site_id, "visit_id": visit_id,
        "definition_id": fv.definition_id, "version_id": fv.version_id,
        "content_hash": fv.content_hash, "answers": answers, "evidence": evidence,
        **score_columns(ev), "evaluation": evaluation,
        "alert_count": len(ev.alerts), "failed_count": len(ev.failed), "submitted_at": now,
        # The day the work belongs to (the query store files it there, however late it
        # arrives): the visit's check-in, else now.
        "happened_at": place["checked_in_at"] if place is not None and visit_id is not None
        else now}
    params = {**row, "answers": _encode(answers), "evidence": _encode(evidence),
              "evaluation": _encode(evaluation)}
    failed_rows = failed_item_rows(submission_id, ev.failed, site_id, now)
    links = [{"submission_id": submission_id, "photo_id": pid} for pid in set(refs.values())]

    # Stored by this process's writer with others that are ready (group commit): no read
    # before the insert, a few statements for the whole group, one commit; answered after it.
    done = await _writer(engine).store(engine, _Write(
        principal, parsed.digest, row, params, failed_rows, links, place,
        frozenset(refs.values()), fv.number,
        structlog.contextvars.get_contextvars().get(REQUEST_ID)))
    return done if done is not None else Outcome(True, render(row, fv.number))


# -- group commit ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Write:
    """A submission ready to store: validated and scored, its rows built."""

    principal: Principal
    digest: str
    row: dict[str, Any]  # the submission's columns (documents as objects)
    params: dict[str, Any]  # the same, documents encoded: what the INSERT binds
    failed: list[dict[str, Any]]
    links: list[dict[str, Any]]
    place: Mapping[str, Any] | None
    photos: frozenset[str]
    number: int  # the version's number (the response names it)
    request_id: str | None  # the request that sent it (the writer's task is another's)

    @property
    def id(self) -> str:
        return str(self.row["id"])


_DEFAULT_GROUP = 64
_group_sizes: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def group_commit(engine: AsyncEngine, most: int) -> None:
    """At most ``most`` submissions in one write transaction of ``engine`` (1: no group
    commit, each request its own transaction, not through the writer); the app sets it from
    ``ROUNDS_DATABASE_GROUP_COMMIT``."""
    _group_sizes[engine.sync_engine] = max(1, most)


def _drainers(engine: AsyncEngine) -> int:
    """How many groups may be in flight at once: one on SQLite (one writer at a time); two on
    PostgreSQL, so that one group is written while the other waits for its commit."""
    return 1 if engine.dialect.name == "sqlite" else 2


class _Writer:
    """One engine's submission writer in this process (on this event loop).

    Callers queue their prepared submissions; a task stores what is queued, up to the group
    size, in one transaction (one task on SQLite, two on PostgreSQL: ``_drainers``): the
    rows of every submission in a few multi-row statements (the submissions, failed items,
    photo links, then the issues' hooks), one commit, and only then answers each caller.
    Whatever queued meanwhile is the next group: under load the groups grow by themselves,
    alone a submission waits for nobody.

    A statement failing fails the group: it is rolled back and each of its submissions is
    stored again alone, so one bad submission fails alone. The id decides as before (ON
    CONFLICT DO NOTHING): an id already stored, or twice in a group, is answered from the
    stored row after the insert (a retry gets the stored result, another content a 409). A
    crash after the commit loses only answers: the client's retry replays them.
    """

    def __init__(self) -> None:
        self.queue: deque[tuple[_Write, asyncio.Future[Outcome | None]]] = deque()
        self.tasks: set[asyncio.Task[None]] = set()

    async def store(self, engine: AsyncEngine, write: _Write) -> Outcome | None:
        """Store ``write`` (None: stored now) or the stored result of an earlier try."""
        if _group_sizes.get(engine.sync_engine, _DEFAULT_GROUP) == 1:
            # No group commit: the request's own short transaction, in its own task, as many
            # at once as there are requests (SQLite queues them on its writer lock).
            result = (await self._store_group(engine, [write]))[0]
            if isinstance(result, BaseException):
                raise result
            return result
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome | None] = loop.create_future()
        self.queue.append((write, future))
        # (done, not merely listed: a task that has just ended is listed until its callback)
        if sum(not t.done() for t in self.tasks) < _drainers(engine):
            # A task lives while there is work (it holds the engine only meanwhile).
            task = loop.create_task(self._drain(engine))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        # Shielded: a caller that goes away (the client hung up) leaves its submission in the
        # group; a retry is answered from the stored row. (Its error, if any, is then read
        # here, so that asyncio does not report it as never retrieved.)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(future)

    async def _drain(self, engine: AsyncEngine) -> None:
        most = _group_sizes.get(engine.sync_engine, _DEFAULT_GROUP)
        while self.queue:
            group = [self.queue.popleft() for _ in range(min(most, len(self.queue)))]
            results: list[Outcome | BaseException | None] | None = None
            try:
                try:
                    results = await self._store_group(engine, [w for w, _ in group])
                except Exception:
                    # Each one again alone: one bad submission fails alone, with its error.
                    results = [await self._alone(engine, w) for w, _ in group]
            finally:
                if results is None:  # cancelled (shutdown): nobody waits forever
                    for _, future in group:
                        if not future.done():
                            future.set_exception(Conflict(
                                "the server stopped while storing this submission; retry"))
            for (_, future), result in zip(group, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _alone(self, engine: AsyncEngine, write: _Write
                     ) -> Outcome | BaseException | None:
        try:
            return (await self._store_group(engine, [write]))[0]
        except Exception as exc:
            return exc

    async def _store_group(self, engine: AsyncEngine, group: list[_Write]
                           ) -> list[Outcome | BaseException | None]:
        """One transaction for ``group``: its result per submission (None: stored now; an
        outcome or error of a replay). A statement that fails raises (nothing is kept)."""
        after: list[AfterCommit] = []
        async with writer_lock(engine), engine.begin() as conn:
            firsts: dict[str, _Write] = {}
            for w in group:
                firsts.setdefault(w.id, w)
            result = await conn.execute(_insert_submission(conn),
                                        [w.params for w in firsts.values()])
            new = {str(i) for i in result.scalars()}
            created = [w for w in firsts.values() if w.id in new]
            # Copies: the ids go into them, and a group that fails is stored again alone.
            failed_of = {w.id: [dict(f) for f in w.failed] for w in created}
            with_failed = [w for w in created if w.failed]
            hooks = tuple(_with_failed_items) if with_failed else ()
            failed_rows = [f for rows in failed_of.values() for f in rows]
            if hooks:
                ids = (await conn.execute(_INSERT_FAILED_IDS, failed_rows)).scalars().all()
                for failed_row, failed_id in zip(failed_rows, ids, strict=True):
                    failed_row["id"] = int(failed_id)
            elif failed_rows:
                await conn.execute(_INSERT_FAILED, failed_rows)
            links = [link for w in created for link in w.links]
            if links:
                await conn.execute(_INSERT_LINKS, links)
            stored = [Stored(w.row, failed_of[w.id], w.principal, w.place, w.photos,
                             w.request_id)
                      for w in with_failed]
            for hook in hooks:
                done = await hook(conn, stored)
                if done is not None:
                    after.append(done)
            # The others' ids exist (stored before, or by their first in this group): they
            # are answered from the stored row, as a retry is.
            again = {w.id for w in group if w.id not in new or firsts[w.id] is not w}
            rows = {str(r["id"]): r for r in (await conn.execute(
                select(*_STORED_COLUMNS).join(
                    DefinitionVersion, DefinitionVersion.id == _SUBMISSIONS.c.version_id)
                .where(_SUBMISSIONS.c.id.in_(sorted(again))))).mappings()} if again else {}
        for done in after:
            done()
        out: list[Outcome | BaseException | None] = []
        for w in group:
            if w.id in new and firsts[w.id] is w:
                out.append(None)
                continue
            found = rows.get(w.id)
            if found is None:  # pragma: no cover - the winner rolled back after all
                out.append(Conflict("the same submission is being stored right now; retry"))
                continue
            try:
                out.append(_replay(found, w.principal, w.digest))
            except SubmissionIdConflict as exc:
                out.append(exc)
        return out


_writers: weakref.WeakKeyDictionary[Any, tuple[asyncio.AbstractEventLoop, _Writer]] = \
    weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> _Writer:
    """This engine's writer on the running loop (a loop of its own has its own: tests)."""
    loop = asyncio.get_running_loop()
    found = _writers.get(engine.sync_engine)
    if found is None or found[0] is not loop:
        found = _writers[engine.sync_engine] = (loop, _Writer())
    return found[1]


# -- reading -------------------------------------------------------------------------------------

def visible(principal: Principal) -> Any:
    """The submissions a principal may see: their own, with ``submission.view_scope`` those
    at sites in their scope, and a retailer's account (``shop.view_own``) those made during
    the staff's visits to its own shop (its scores and why; photos follow:
    ``storage.access``)."""
    own = _SUBMISSIONS.c.user_id == principal.user_id
    if principal.can("shop.view_own") and principal.site_id is not None:
        return or_(own, and_(_SUBMISSIONS.c.site_id == principal.site_id,
                             _SUBMISSIONS.c.visit_id.is_not(None)))
    if principal.can("submission.view_scope"):
        return or_(own, _SUBMISSIONS.c.site_id.in_(select(Site.id).where(
            site_scope(principal))))
    return own


@photo_use
def _in_a_visible_submission(principal: Principal, photo_id: str) -> ColumnElement[bool]:
    """Whoever may see a submission sees the photos and signatures it refers to."""
    return exists().where(SubmissionPhoto.photo_id == photo_id,
                          Submission.id == SubmissionPhoto.submission_id, visible(principal))


async def get_submission(db: AsyncSession, principal: Principal, submission_id: str, *,
                         lang: str | None = None) -> dict[str, Any]:
    """A submission its submitter, or a supervisor of its site, may see (404 otherwise),
    with its score explained in words (in ``lang``, by default the reader's language)."""
    row = (await db.execute(select(*_STORED_COLUMNS).join(
        DefinitionVersion, DefinitionVersion.id == _SUBMISSIONS.c.version_id).where(
        _SUBMISSIONS.c.id == submission_id, visible(principal)))).mappings().first()
    if row is None:
        raise NotFound(f"no submission {submission_id} that you may see")
    out = render(row, row["number"])
    out["explanation"] = explanation_text(out["score"], lang or principal.language)
    return out


@dataclass(frozen=True)
class SubmissionSummary:
    id: str
    definition_id: str
    version: str
    visit_id: int | None
    site_id: int | None
    submitted_at: str
    percentage: float | None  # in the percentage model only
    score_value: float | None  # the score in its model (full precision)
    score_model: str  # percentage, sum or mean
    direction: str  # higher_better or lower_better
    outcome: str | None  # the level of the definition's first outcome
    passed: bool | None
    alert_count: int
    failed_count: int


async def my_submissions(db: AsyncSession, principal: Principal, *,
                         definition_id: str | None = None, limit: int = 50, offset: int = 0
                         ) -> tuple[list[SubmissionSummary], int]:
    """The principal's own submissions, newest first."""
    t = _SUBMISSIONS.c
    conds = [t.user_id == principal.user_id]
    if definition_id:
        conds.append(t.definition_id == definition_id)
    total = (await db.execute(select(func.count()).select_from(_SUBMISSIONS).where(*conds))
             ).scalar_one()
    rows = (await db.execute(select(
        t.id, t.definition_id, t.content_hash, t.visit_id, t.site_id, t.submitted_at,
        t.percentage, t.score_value, t.score_model, t.direction, t.outcome, t.passed,
        t.alert_count, t.failed_count).where(*conds)
        .order_by(t.submitted_at.desc(), t.id).limit(limit).offset(offset))).all()
    return [SubmissionSummary(
        id=r.id, definition_id=r.definition_id, version=r.content_hash, visit_id=r.visit_id,
        site_id=r.site_id, submitted_at=r.submitted_at.isoformat(),
        percentage=r.percentage, score_value=r.score_value, score_model=r.score_model,
        direction=r.direction, outcome=r.outcome, passed=r.passed, alert_count=r.alert_count,
        failed_count=r.failed_count) for r in rows], int(total)
