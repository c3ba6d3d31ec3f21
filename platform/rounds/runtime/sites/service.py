"""Sites: created against their site kind definition, listed within the principal's scope
(nearest first on request), read with their assignments and history, staffed per role, and
printed as a QR code.

Every read goes through :func:`rounds.runtime.access.site_scope`, so a site outside the
principal's scope is simply not found (404, the caller learns nothing). An action the role
lacks is refused before anything is looked up (403).

QR codes encode ``rounds:checkin:<qr_token>``, not a URL: a code printed on a shop wall has
to outlive host names and deployments, and only the Rounds app acts on it (a phone's
camera app shows the text and opens nothing). :func:`parse_qr_payload` also accepts a URL
ending in ``/checkin/<qr_token>`` and the bare token, for clients that build those.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import segno
from sqlalchemy import Select, String, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem
from rounds.rules.operations import haversine_m
from rounds.rules.scoring import score_model
from rounds.runtime import audit
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import current_content
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.people.service import Lookups, user_scope
from rounds.runtime.sites.attributes import check_attributes
from rounds.runtime.sites.geo import valid_position
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.sql import one_or_not_found
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import Visit

QR_PREFIX = "rounds:checkin:"
CODE_MAX = 64
NAME_MAX = 200
ADDRESS_MAX = 500


def new_qr_token() -> str:
    """192 random bits: the token cannot be guessed, so holding it means seeing the code."""
    return secrets.token_urlsafe(24)


def qr_payload(site: Site) -> str:
    return QR_PREFIX + site.qr_token


def parse_qr_payload(text: str) -> str:
    """The site's qr_token from what a scanner read (our payload, a check-in URL, the token)."""
    text = text.strip()
    if text.startswith(QR_PREFIX):
        return text[len(QR_PREFIX):]
    if "/checkin/" in text:
        return text.rsplit("/checkin/", 1)[1].split("?", 1)[0].strip("/")
    return text


# -- the site kind and the checks a new site goes through ------------------------------------

async def site_kind_content(db: AsyncSession, kind_id: str) -> dict[str, Any] | None:
    """The current content of a site kind definition, None if there is none."""
    return await current_content(db, kind_id, "site_kind")


@dataclass
class SiteDraft:
    """A site that passed its checks, ready to be stored."""

    site_kind: str
    code: str
    name: str
    lat: float
    lng: float
    org_unit_id: int
    address: str
    attributes: dict[str, Any]


class SiteChecker(Lookups):
    """Checks new sites and assignments, remembering what it looked up (imports check
    thousands of rows against the same few kinds, units and roles).

    ``principal`` None is the system itself (the CLI): every org unit is in its scope.
    """

    def __init__(self, db: AsyncSession, principal: Principal | None) -> None:
        super().__init__(db, principal)
        self._kinds: dict[str, dict[str, Any] | None] = {}
        self._taken: set[str] = set()
        self._looked_up: set[str] = set()

    async def kind(self, kind_id: str) -> dict[str, Any] | None:
        if kind_id not in self._kinds:
            self._kinds[kind_id] = await site_kind_content(self.db, kind_id)
        return self._kinds[kind_id]

    async def prefetch_codes(self, codes: Iterable[str]) -> None:
        wanted = [c for c in set(codes) if c and c not in self._looked_up]
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            rows = await self.db.execute(select(Site.code).where(Site.code.in_(chunk)))
            self._taken.update(rows.scalars())
            self._looked_up.update(chunk)

    async def code_taken(self, code: str) -> bool:
        await self.prefetch_codes([code])
        return code in self._taken

    def claim_code(self, code: str) -> None:
        self._taken.add(code)

    async def check_site(self, *, site_kind: str, code: str, name: str, lat: Any, lng: Any,
                         org_unit: str, address: str, attributes: Mapping[str, Any],
                         where: Callable[[str], str], attribute_base: str,
                         own_code: str | None = None
                         ) -> tuple[SiteDraft | None, list[Problem]]:
        """Every problem of one site at once; ``where`` names the pointer of a field."""
        problems: list[Problem] = []
        kind = await self.kind(site_kind) if site_kind else None
        if not site_kind:
            problems.append(Problem(where("site_kind"), "a site kind is required", "required"))
        elif kind is None:
            problems.append(Problem(where("site_kind"),
                                    f"no site kind {site_kind!r} among the definitions",
                                    "unknown_reference"))
        code, name = code.strip(), name.strip()
        if _text(code, "code", CODE_MAX, "a code", where=where, problems=problems) \
                and code != own_code and await self.code_taken(code):
            problems.append(Problem(where("code"), f"a site with code {code!r} exists already",
                                    "duplicate_id"))
        _text(name, "name", NAME_MAX, "a name", where=where, problems=problems)
        _text(address, "address", ADDRESS_MAX, None, where=where, problems=problems)
        lat_f = _coordinate(lat, -90, 90, "lat", where=where, problems=problems)
        lng_f = _coordinate(lng, -180, 180, "lng", where=where, problems=problems)
        unit = await self.unit(org_unit) if org_unit else None
        if not org_unit:
            problems.append(Problem(where("org_unit"), "an org unit is required", "required"))
        elif unit is None:
            problems.append(Problem(where("org_unit"), f"no org unit {org_unit!r}",
                                    "unknown_reference"))
        clean: dict[str, Any] = {}
        if kind is not None:
            clean, attr_problems = check_attributes(kind, attributes, base=attribute_base)
            problems += attr_problems
        if problems or unit is None or lat_f is None or lng_f is None:
            return None, problems
        return SiteDraft(site_kind=site_kind, code=code, name=name, lat=lat_f, lng=lng_f,
                         org_unit_id=unit.id, address=address, attributes=clean), []

    async def check_assignment(self, site_kind: str, role_id: str, user: User | None,
                               pointer: str, user_ref: str) -> list[Problem]:
        """Whether ``user`` may be the site's staff member for ``role_id``."""
        role = await self.role(role_id)
        if role is None:
            return [Problem(pointer, f"no role {role_id!r} among the definitions",
                            "unknown_reference")]
        if user is None or not user.active:
            return [Problem(pointer, f"no active user {user_ref}", "unknown_reference")]
        if user.role_id != role_id:
            return [Problem(pointer, f"{user.username!r} is a {user.role_id}, not a {role_id}",
                            "wrong_role")]
        kinds = role.get("site_kinds")
        if kinds is not None and site_kind not in kinds:
            return [Problem(pointer, f"a {role_id} does not serve sites of kind {site_kind!r}",
                            "wrong_site_kind")]
        return []


def _text(value: str, name: str, limit: int, required: str | None, *,
          where: Callable[[str], str], problems: list[Problem]) -> bool:
    """Whether a text field is right: given when ``required`` (what it is: "a code"), at most
    ``limit`` characters; its problem is added when it is not."""
    if not value:
        if required is None:
            return True
        problems.append(Problem(where(name), f"{required} is required", "required"))
        return False
    if len(value) > limit:
        problems.append(Problem(where(name), f"at most {limit} characters", "too_long"))
        return False
    return True


def _coordinate(value: Any, low: float, high: float, name: str, *,
                where: Callable[[str], str], problems: list[Problem]) -> float | None:
    if value is None or value == "":
        problems.append(Problem(where(name), f"{name} is required", "required"))
        return None
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        number = float(value)
    except (TypeError, ValueError):
        problems.append(Problem(where(name), f"{name} should be a number", "invalid"))
        return None
    if not low <= number <= high:
        problems.append(Problem(where(name), f"{name} should be between {low:g} and {high:g}",
                                "out_of_range"))
        return None
    return number


def store_site(db: AsyncSession, draft: SiteDraft) -> Site:
    site = Site(site_kind=draft.site_kind, code=draft.code, name=draft.name, lat=draft.lat,
                lng=draft.lng, org_unit_id=draft.org_unit_id, address=draft.address,
                attributes=draft.attributes, qr_token=new_qr_token())
    db.add(site)
    return site


async def create_site(db: AsyncSession, principal: Principal | None, *, site_kind: str,
                      code: str, name: str, lat: Any, lng: Any, org_unit: str,
                      address: str = "", attributes: Mapping[str, Any] | None = None) -> Site:
    """A new site of a site kind, in an org unit of the principal's scope (site.manage).

    When the kind declares an ``address`` attribute and none is given, the site's address
    fills it (both kinds shipped declare one; asking for it twice would be silly).
    """
    if principal is not None:
        principal.require("site.manage")
    checker = SiteChecker(db, principal)
    attrs = dict(attributes or {})
    kind = await checker.kind(site_kind)
    if kind is not None and address and "address" not in attrs \
            and any(a["id"] == "address" for a in kind.get("attributes") or ()):
        attrs["address"] = address
    draft, problems = await checker.check_site(
        site_kind=site_kind, code=code, name=name, lat=lat, lng=lng, org_unit=org_unit,
        address=address, attributes=attrs, where=lambda f: f"/{f}",
        attribute_base="/attributes")
    if draft is None:
        raise InvalidInput(f"cannot create site {code!r}", problems)
    site = store_site(db, draft)
    await db.flush()
    if principal is not None:
        unit = await db.get(OrgUnit, site.org_unit_id)
        audit.record(db, actor_id=principal.user_id, action="site.create", target_kind="site",
                     target_id=site.code, changes=_fields(site, unit))
    return site


def _fields(site: Site, unit: OrgUnit | None) -> dict[str, Any]:
    """What the audit trail shows of a site (never its QR token: it proves presence)."""
    return {"site_kind": site.site_kind, "code": site.code, "name": site.name,
            "address": site.address, "lat": site.lat, "lng": site.lng,
            "org_unit": unit.code if unit else None,
            **{f"attributes.{k}": v for k, v in sorted(site.attributes.items())}}


async def update_site(db: AsyncSession, principal: Principal, site_id: int, *, name: str,
                      lat: Any, lng: Any, org_unit: str, address: str = "",
                      attributes: Mapping[str, Any] | None = None) -> Site:
    """Edit a site in scope (its kind and code stay: plans, visits and the printed code
    name them); checked like a new one, every mistake at once, each change audited."""
    principal.require("site.manage")
    site = await get_site(db, principal, site_id)
    checker = SiteChecker(db, principal)
    attrs = dict(attributes or {})
    kind = await checker.kind(site.site_kind)
    if kind is not None and address and "address" not in attrs \
            and any(a["id"] == "address" for a in kind.get("attributes") or ()):
        attrs["address"] = address
    draft, problems = await checker.check_site(
        site_kind=site.site_kind, code=site.code, name=name, lat=lat, lng=lng,
        org_unit=org_unit, address=address, attributes=attrs, where=lambda f: f"/{f}",
        attribute_base="/attributes", own_code=site.code)
    if draft is None:
        raise InvalidInput(f"cannot change site {site.code!r}", problems)
    before = _fields(site, await db.get(OrgUnit, site.org_unit_id))
    site.name, site.lat, site.lng = draft.name, draft.lat, draft.lng
    site.org_unit_id, site.address, site.attributes = draft.org_unit_id, draft.address, \
        draft.attributes
    changes = audit.changes_between(before, _fields(site, await db.get(OrgUnit,
                                                                       site.org_unit_id)))
    if changes:
        audit.record(db, actor_id=principal.user_id, action="site.update", target_kind="site",
                     target_id=site.code, changes=changes)
    await db.flush()
    return site


# -- reading ---------------------------------------------------------------------------------

async def get_site(db: AsyncSession, principal: Principal, site_id: int) -> Site:
    """A site in the principal's scope; NotFound otherwise, whether it exists or not."""
    return await one_or_not_found(
        db, select(Site).where(Site.id == site_id, site_scope(principal)), f"no site {site_id}")


async def site_by_code(db: AsyncSession, principal: Principal, code: str) -> Site | None:
    """The site with ``code`` in the principal's scope, or None (whether it exists or not)."""
    found: Site | None = (await db.execute(select(Site).where(
        Site.code == code, site_scope(principal)))).scalar_one_or_none()
    return found


@dataclass(frozen=True)
class SiteSummary:
    id: int
    code: str
    name: str
    site_kind: str
    address: str
    lat: float
    lng: float
    org_unit_id: int
    distance_m: float | None = None


def _summary(site: Site, distance_m: float | None = None) -> SiteSummary:
    return SiteSummary(id=site.id, code=site.code, name=site.name, site_kind=site.site_kind,
                       address=site.address, lat=site.lat, lng=site.lng,
                       org_unit_id=site.org_unit_id,
                       distance_m=round(distance_m, 1) if distance_m is not None else None)


async def _filtered(db: AsyncSession, principal: Principal, *, site_kind: str | None,
                    org_unit_id: int | None, search: str | None) -> Select[Any]:
    stmt = select(Site).where(site_scope(principal))
    if site_kind:
        stmt = stmt.where(Site.site_kind == site_kind)
    if org_unit_id is not None:
        # The unit and everything below it: a station's sites sit in its areas.
        unit = await db.get(OrgUnit, org_unit_id)
        units = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path if unit else "?"))
        stmt = stmt.where(Site.org_unit_id.in_(units))
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.where(or_(Site.name.ilike(like), Site.code.ilike(like)))
    return stmt


async def list_sites(db: AsyncSession, principal: Principal, *, site_kind: str | None = None,
                     org_unit_id: int | None = None, search: str | None = None,
                     near: tuple[float, float] | None = None, limit: int = 50, offset: int = 0
                     ) -> tuple[list[SiteSummary], int]:
    """One page of the sites in scope and the total count; by name, or nearest first.

    Nearest first reads the position of every candidate in scope (two floats and an id a
    site) and sorts by haversine distance in Python: a few thousand sites take a few
    milliseconds, and it works the same on SQLite and PostgreSQL without PostGIS. A much
    larger scope would want a spatial index (PostGIS, or a geohash column) instead.
    """
    stmt = await _filtered(db, principal, site_kind=site_kind, org_unit_id=org_unit_id,
                           search=search)
    if near is None:
        total = (await db.execute(select(func.count()).select_from(stmt.subquery()))
                 ).scalar_one()
        rows = await db.execute(stmt.order_by(Site.name, Site.id).limit(limit).offset(offset))
        return [_summary(s) for s in rows.scalars()], int(total)
    lat, lng = near
    positions = (await db.execute(
        stmt.with_only_columns(Site.id, Site.lat, Site.lng))).all()
    ranked = sorted(((haversine_m(lat, lng, s_lat, s_lng), s_id)
                     for s_id, s_lat, s_lng in positions))
    page = ranked[offset:offset + limit]
    by_id = {s.id: s for s in (await db.execute(
        select(Site).where(Site.id.in_([i for _, i in page])))).scalars()}
    return [_summary(by_id[i], d) for d, i in page], len(ranked)


@dataclass(frozen=True)
class AssignmentInfo:
    role_id: str
    user_id: int
    username: str | None  # only for those who manage or supervise people (see shown_username)
    display_name: str


# Capabilities whose holders work with other people's user names (assigning staff by CSV,
# managing accounts, supervising). Everyone else sees display names: a user name is half of
# what signing in takes, and guessing attacks start from it.
_SEES_USERNAMES = ("user.manage", "site.manage", "submission.view_scope")


def shown_username(principal: Principal, user_id: int, username: str) -> str | None:
    if user_id == principal.user_id or any(principal.can(c) for c in _SEES_USERNAMES):
        return username
    return None


@dataclass(frozen=True)
class SiteDetails:
    id: int
    code: str
    name: str
    site_kind: str
    site_kind_title: dict[str, str]
    address: str
    lat: float
    lng: float
    org_unit_id: int
    org_unit_code: str
    attributes: dict[str, Any]
    assignments: list[AssignmentInfo] = field(default_factory=list)
    created_at: str = ""


async def site_details(db: AsyncSession, principal: Principal, site_id: int) -> SiteDetails:
    """A site in scope with its site kind's title and the staff assigned to it per role.

    The QR token is not part of it: whoever reads it could check in without being there.
    """
    site = await get_site(db, principal, site_id)
    kind = await site_kind_content(db, site.site_kind) or {}
    unit = await db.get(OrgUnit, site.org_unit_id)
    rows = await db.execute(
        select(SiteAssignment.role_id, User.id, User.username, User.display_name)
        .join(User, User.id == SiteAssignment.user_id)
        .where(SiteAssignment.site_id == site.id).order_by(SiteAssignment.role_id))
    return SiteDetails(
        id=site.id, code=site.code, name=site.name, site_kind=site.site_kind,
        site_kind_title=dict(kind.get("title") or {}), address=site.address, lat=site.lat,
        lng=site.lng, org_unit_id=site.org_unit_id, org_unit_code=unit.code if unit else "",
        attributes=dict(site.attributes),
        assignments=[AssignmentInfo(r, u, shown_username(principal, u, n), d)
                     for r, u, n, d in rows],
        created_at=site.created_at.isoformat())


# -- staffing --------------------------------------------------------------------------------

async def assign_staff(db: AsyncSession, principal: Principal, site_id: int, role_id: str,
                       user_id: int | None) -> SiteDetails:
    """Make ``user_id`` the site's staff member for ``role_id`` (None: nobody any more).

    One person per role and site; assigning again replaces the previous one. The user must
    have that role, serve that site kind, and be someone the assigner's scope covers.
    """
    principal.require("site.manage")
    site = await get_site(db, principal, site_id)
    current = (await db.execute(select(SiteAssignment).where(
        SiteAssignment.site_id == site.id, SiteAssignment.role_id == role_id))
               ).scalar_one_or_none()
    if user_id is None:
        if current is not None:
            audit.record(db, actor_id=principal.user_id, action="site.unassign",
                         target_kind="site", target_id=site.code,
                         changes={"role_id": role_id, "user_id": [current.user_id, None]})
            await db.delete(current)
            await db.flush()
        return await site_details(db, principal, site.id)
    user = (await db.execute(select(User).where(User.id == user_id, user_scope(principal)))
            ).scalar_one_or_none()
    problems = await SiteChecker(db, principal).check_assignment(
        site.site_kind, role_id, user, "/user_id", str(user_id))
    if problems:
        raise InvalidInput(f"cannot assign user {user_id} as {role_id}", problems)
    assert user is not None
    if current is None or current.user_id != user.id:
        audit.record(db, actor_id=principal.user_id, action="site.assign", target_kind="site",
                     target_id=site.code, changes={"role_id": role_id, "user_id": [
                         current.user_id if current else None, user.id]})
    if current is None:
        db.add(SiteAssignment(site_id=site.id, role_id=role_id, user_id=user.id))
    else:
        current.user_id = user.id
    await db.flush()
    return await site_details(db, principal, site.id)


# -- QR code ---------------------------------------------------------------------------------

async def qr_svg(db: AsyncSession, principal: Principal, site_id: int) -> str:
    """The site's check-in QR code as an SVG document, for printing (site.manage only:
    the code on the wall is what proves a visit, so staff do not get a copy to carry)."""
    principal.require("site.manage")
    site = await get_site(db, principal, site_id)
    qr = segno.make(qr_payload(site), error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=8, border=4, title=f"{site.code} {site.name}")
    return out.getvalue().decode()


@dataclass(frozen=True)
class PrintedCode:
    site: SiteSummary
    data_uri: str  # the code as an SVG data: address, for an <img>


SHEET_MAX = 500  # a print run: more is more paper than anyone prints at once


async def qr_sheet(db: AsyncSession, principal: Principal, *, site_kind: str | None = None,
                   org_unit_id: int | None = None, search: str | None = None,
                   ids: Iterable[int] = (), limit: int = SHEET_MAX) -> list[PrintedCode]:
    """The check-in codes of many sites in scope (those ``ids``, or those the filters keep),
    by name, for a printed sheet (site.manage only, as one code)."""
    principal.require("site.manage")
    stmt = await _filtered(db, principal, site_kind=site_kind, org_unit_id=org_unit_id,
                           search=search)
    wanted = sorted(set(ids))
    if wanted:
        stmt = stmt.where(Site.id.in_(wanted))
    sites = (await db.execute(stmt.order_by(Site.name, Site.id).limit(limit))).scalars()
    return [PrintedCode(_summary(s), segno.make(qr_payload(s), error="m").svg_data_uri(
        scale=4, border=2)) for s in sites]


# -- history ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    """A visit or a submission at a site; the fields of the other kind are None."""

    kind: str  # "visit" or "submission"
    id: str
    at: str
    user_id: int
    username: str | None  # see shown_username
    display_name: str
    method: str | None = None
    checked_out_at: str | None = None
    duration_s: int | None = None
    flagged: bool | None = None  # only for supervisors and the visitor themselves
    definition_id: str | None = None
    percentage: float | None = None  # in the percentage model only
    # The score in the model the definition scores in (full precision), which way is better,
    # the decimals to show it with, and the first outcome's level with its label.
    score_value: float | None = None
    score_model: str | None = None
    direction: str | None = None
    digits: int | None = None
    outcome: str | None = None
    outcome_label: dict[str, str] | None = None
    passed: bool | None = None
    alert_count: int | None = None
    failed_count: int | None = None
    visit_id: int | None = None


async def site_history(db: AsyncSession, principal: Principal, site_id: int, *,
                       limit: int = 50, offset: int = 0) -> tuple[list[HistoryEntry], int]:
    """The visits and submissions at a site in scope, newest first, a page at a time.

    Everyone who sees the site sees its visits (a retailer sees who came and when).
    Submissions follow the capabilities: all of them with ``submission.view_scope``, one's
    own with ``submission.view_own``, none otherwise.
    """
    site = await get_site(db, principal, site_id)
    visits = select(literal("visit", String).label("kind"),
                    cast(Visit.id, String).label("ref"),
                    Visit.checked_in_at.label("at")).where(Visit.site_id == site.id)
    parts: list[Any] = [visits]  # the SELECTs of a UNION ALL
    if principal.can("submission.view_scope") or principal.can("submission.view_own"):
        subs = select(literal("submission", String), Submission.id,
                      Submission.submitted_at).where(Submission.site_id == site.id)
        if not principal.can("submission.view_scope"):
            subs = subs.where(Submission.user_id == principal.user_id)
        parts.append(subs)
    both = union_all(*parts).subquery()
    total = (await db.execute(select(func.count()).select_from(both))).scalar_one()
    page = (await db.execute(select(both.c.kind, both.c.ref).order_by(
        both.c.at.desc(), both.c.kind, both.c.ref.desc()).limit(limit).offset(offset))
            ).all()
    visit_ids = [int(ref) for kind, ref in page if kind == "visit"]
    sub_ids = [ref for kind, ref in page if kind == "submission"]
    visit_rows = {v.id: v for v in (await db.execute(
        select(Visit).where(Visit.id.in_(visit_ids)))).scalars()} if visit_ids else {}
    sub_rows = {s.id: s for s in (await db.execute(
        select(Submission).where(Submission.id.in_(sub_ids)))).scalars()} if sub_ids else {}
    # How each version shows a score: its digits and its first outcome's levels.
    shows = {row.id: _score_shown(row.content) for row in (await db.execute(
        select(DefinitionVersion.id, DefinitionVersion.content).where(
            DefinitionVersion.id.in_({s.version_id for s in sub_rows.values()})))).all()
    } if sub_rows else {}
    user_ids = {v.user_id for v in visit_rows.values()} | {s.user_id for s in sub_rows.values()}
    people = {u.id: u for u in (await db.execute(
        select(User).where(User.id.in_(user_ids)))).scalars()} if user_ids else {}
    supervisor = principal.can("submission.view_scope")
    entries: list[HistoryEntry] = []
    for kind, ref in page:
        if kind == "visit":
            v = visit_rows[int(ref)]
            who = people[v.user_id]
            entries.append(HistoryEntry(
                kind="visit", id=str(v.id), at=v.checked_in_at.isoformat(), user_id=who.id,
                username=shown_username(principal, who.id, who.username),
                display_name=who.display_name, method=v.method,
                checked_out_at=v.checked_out_at.isoformat() if v.checked_out_at else None,
                duration_s=v.duration_s,
                flagged=v.flagged if supervisor or v.user_id == principal.user_id else None))
        else:
            s = sub_rows[ref]
            who = people[s.user_id]
            digits, levels = shows.get(s.version_id, (1, {}))
            entries.append(HistoryEntry(
                kind="submission", id=s.id, at=s.submitted_at.isoformat(), user_id=who.id,
                username=shown_username(principal, who.id, who.username),
                display_name=who.display_name, definition_id=s.definition_id,
                percentage=s.percentage, score_value=s.score_value,
                score_model=s.score_model, direction=s.direction, digits=digits,
                outcome=s.outcome,
                outcome_label=levels.get(s.outcome) if s.outcome else None, passed=s.passed,
                alert_count=s.alert_count, failed_count=s.failed_count, visit_id=s.visit_id))
    return entries, int(total)


def _score_shown(content: Mapping[str, Any]) -> tuple[int, dict[str, dict[str, str]]]:
    """A version's decimals for its score (``scoring.digits``, 1 by default) and the labels
    of its first outcome's levels by id."""
    digits = score_model(content.get("scoring")).digits
    outcomes = content.get("outcomes")
    levels = outcomes[0].get("levels") or [] if isinstance(outcomes, list) and outcomes \
        else []
    return (digits,
            {str(lv["id"]): dict(lv.get("label") or {}) for lv in levels
             if isinstance(lv, Mapping) and "id" in lv})


def position(text: str | None) -> tuple[float, float] | None:
    """``"lat,lng"`` as a position; InvalidInput when it is not one."""
    if text is None or text == "":
        return None
    try:
        lat_s, lng_s = text.split(",")
        lat, lng = float(lat_s), float(lng_s)
    except ValueError:
        raise InvalidInput("near should be lat,lng", [
            Problem("/near", "expected two numbers, lat,lng", "invalid")]) from None
    if not valid_position(lat, lng):
        raise InvalidInput("near is not a position on the earth", [
            Problem("/near", "lat between -90 and 90, lng between -180 and 180",
                    "out_of_range")])
    return lat, lng
