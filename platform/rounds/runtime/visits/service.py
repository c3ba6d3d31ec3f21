"""Check-in (打卡入戶) and check-out: proof of presence at a site.

A check-in is by the shop's QR code (the token printed in it) or by GPS. Either way the time,
the method, the position sent, its accuracy and the distance to the site are recorded, and
the check-in is *flagged*, never refused, for where it was made: ``far`` when farther than
the role's ``check_in.radius_m``, ``poor_accuracy`` when the accuracy is worse than its
``max_accuracy_m`` (or not given), ``no_position`` for a GPS check-in without a position.
Supervisors see the flags (``flagged_visits``).

*How* it was made is the one thing that can refuse it: a role's ``check_in.methods`` and a
site kind's ``check_in.methods`` (``qr``, ``gps``; default both) say which methods count;
another method is refused with a problem naming the method wanted, or, where the definition
says ``"other_method": "flag"``, accepted with the flag ``method_not_allowed``.

One open visit per person: a partial unique index on ``visits(user_id) WHERE checked_out_at
IS NULL`` makes the database settle two racing check-ins, and the insert is ``ON CONFLICT DO
NOTHING`` so the loser gets a clean 409 naming the open visit instead of an integrity error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import table_of, utcnow
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.rules.operations import distance_m
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.definitions.service import current_content, current_versions, role_content
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.service import parse_qr_payload
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.visits.models import Visit

GPS = "gps"
QR = "qr"


class VisitAlreadyOpen(Conflict, code="visit_open", title="A visit is already open"):
    """A check-in while another visit is open; ``visit`` is the open one."""

    def __init__(self, visit: Visit, site_name: str) -> None:
        # Plain values: the ORM object expires when the failed transaction rolls back.
        self.visit_id = visit.id
        self.site_id = visit.site_id
        self.site_name = site_name
        self.checked_in_at = visit.checked_in_at
        super().__init__(f"you are checked in at {site_name} (visit {visit.id}) since "
                         f"{self.checked_in_at.isoformat()}; check out first")


class VisitClosed(Conflict, code="visit_closed", title="The visit is closed"):
    """A check-out of a visit that is checked out already."""


class CheckInMethodRefused(InvalidInput, code="check_in_method",
                           title="This check-in method is not accepted here"):
    """A check-in by a method the role or the site kind does not accept (and does not flag)."""


@dataclass(frozen=True)
class MethodRule:
    """What a role or a site kind says about check-in methods (``check_in.methods`` and
    ``check_in.other_method`` of its definition)."""

    methods: frozenset[str]
    other: str  # "refuse" or "flag"
    by: str  # "role" or "site_kind"
    name: str  # the role's or the site kind's id


METHOD_NAMES = {QR: "by scanning the shop QR code", GPS: "by GPS"}


def judge_method(method: str, rules: list[MethodRule]) -> bool:
    """Whether a check-in by ``method`` is flagged; raises :class:`CheckInMethodRefused`
    when a rule that does not accept it refuses (pure: no database). Both the role's and the
    site kind's rule apply."""
    flagged = False
    for rule in rules:
        if method in rule.methods:
            continue
        if rule.other == "flag":
            flagged = True
            continue
        wanted = " or ".join(METHOD_NAMES[m] for m in sorted(rule.methods))
        whose = (f"the site kind {rule.name!r}" if rule.by == "site_kind"
                 else f"your role ({rule.name})")
        where = "/qr_token" if QR in rule.methods else "/gps"
        raise CheckInMethodRefused(
            f"a {method.upper()} check-in is not accepted here: {whose} requires checking in "
            f"{wanted}", [Problem(where, f"check in {wanted}", "check_in_method", "body", {
                "method": method, "allowed": sorted(rule.methods), "required_by": rule.by})])
    return flagged


def method_rules(principal: Principal, site_kind: str, kind_content: Mapping[str, Any] | None
                 ) -> list[MethodRule]:
    rules = [MethodRule(principal.check_in_methods, principal.check_in_other_method, "role",
                        principal.role_id)]
    check_in = (kind_content or {}).get("check_in") or {}
    if check_in.get("methods"):
        rules.append(MethodRule(frozenset(check_in["methods"]),
                                str(check_in.get("other_method") or "refuse"), "site_kind",
                                site_kind))
    return rules


@dataclass(frozen=True)
class Position:
    lat: float
    lng: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class VisitView:
    """A visit with the site it is at (what the API shows)."""

    visit: Visit
    site: Site


def visit_context(*, visit_id: int, method: str, distance_m: float | None, flagged: Any,
                  checked_in_at: datetime, tz: tzinfo) -> dict[str, Any]:
    """What rules read under ``ctx.visit``: the check-in, its date and time in the company's
    time zone (``tz``), so "expires before the visit" compares dates of one calendar."""
    local = checked_in_at.astimezone(tz)
    return {"id": visit_id, "method": method, "distance_m": distance_m,
            "flagged": bool(flagged), "checked_in_at": local.isoformat(),
            "date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def rule_context(principal: Principal | None, *, now: datetime, tz: tzinfo,
                 site: Mapping[str, Any] | None = None,
                 visit: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``ctx`` of every rule evaluation: the same on submit, on the check endpoint and in
    the browser's form (docs/definitions.md, "What rules see"). "Today" is the date in the
    company's time zone everywhere."""
    local = now.astimezone(tz)
    ctx: dict[str, Any] = {"now": local.isoformat(), "today": local.date().isoformat(),
                           "site": dict(site or {}), "visit": dict(visit or {})}
    if principal is not None:
        ctx["user"] = {"id": principal.user_id, "role": principal.role_id}
    return ctx


def assess(position: Position | None, site: Site, method: str, radius_m: float,
           max_accuracy_m: float) -> tuple[float | None, dict[str, Any]]:
    """The distance to the site and the flags of a check-in (pure: no database)."""
    flags: dict[str, Any] = {}
    if position is None:
        if method == GPS:  # a QR scan proves presence on its own
            flags["no_position"] = True
        return None, flags
    distance = distance_m({"lat": position.lat, "lng": position.lng},
                          {"lat": site.lat, "lng": site.lng})
    if distance is not None and distance > radius_m:
        flags["far"] = True
    # An accuracy not given cannot be trusted any more than a poor one.
    if position.accuracy_m is None or position.accuracy_m > max_accuracy_m:
        flags["poor_accuracy"] = True
    return distance, flags


def _scoped_site(principal: Principal) -> Select[Site]:
    return select(Site).where(site_scope(principal))


async def _site_for_check_in(db: AsyncSession, principal: Principal, site_id: int | None,
                             qr_token: str | None) -> Site:
    if qr_token:
        # What the phone scanned: our payload (rounds:checkin:<token>), a URL, or the token.
        token = parse_qr_payload(qr_token)
        site = (await db.execute(_scoped_site(principal).where(
            Site.qr_token == token))).scalar_one_or_none()
        if site is None:
            raise NotFound("no site with this QR code among your sites")
        if site_id is not None and site_id != site.id:
            raise InvalidInput("the QR code is not the code of this site", [Problem(
                "/qr_token", f"this code belongs to another site than {site_id}",
                "site_mismatch")])
        return site
    if site_id is None:
        raise InvalidInput("say where you are: a site_id with a GPS position, or a qr_token",
                           [Problem("/site_id", "site_id or qr_token is required",
                                    "required")])
    site = (await db.execute(_scoped_site(principal).where(Site.id == site_id))
            ).scalar_one_or_none()
    if site is None:
        raise NotFound(f"no site {site_id} among your sites")
    return site


async def current_visit(db: AsyncSession, principal: Principal) -> VisitView | None:
    """The principal's open visit, if any."""
    row = (await db.execute(select(Visit, Site).join(Site, Site.id == Visit.site_id).where(
        Visit.user_id == principal.user_id, Visit.checked_out_at.is_(None)))).first()
    return VisitView(row[0], row[1]) if row else None


async def check_in(db: AsyncSession, principal: Principal, *, site_id: int | None = None,
                   qr_token: str | None = None, position: Position | None = None,
                   now: datetime | None = None) -> VisitView:
    """Open a visit at a site in the principal's scope (404 otherwise); flagged, not refused."""
    principal.require("visit.check_in")
    site = await _site_for_check_in(db, principal, site_id, qr_token)
    method = QR if qr_token else GPS
    kind = await current_content(db, site.site_kind, "site_kind")
    wrong_method = judge_method(method, method_rules(principal, site.site_kind, kind))
    open_ = await current_visit(db, principal)
    if open_ is not None:
        raise VisitAlreadyOpen(open_.visit, open_.site.name)
    distance, flags = assess(position, site, method, principal.check_in_radius_m,
                             principal.check_in_max_accuracy_m)
    if wrong_method:
        flags["method_not_allowed"] = True
    values = {"user_id": principal.user_id, "site_id": site.id, "method": method,
              "checked_in_at": now or utcnow(),
              "lat": position.lat if position else None,
              "lng": position.lng if position else None,
              "accuracy_m": position.accuracy_m if position else None,
              "distance_m": distance, "flags": flags, "flagged": bool(flags)}
    table = table_of(Visit)
    stmt = insert_or_nothing(db, table).values(values).returning(table.c.id)
    new_id = (await db.execute(stmt)).scalar_one_or_none()
    if new_id is None:  # another check-in won the race between our check and our insert
        open_ = await current_visit(db, principal)
        if open_ is None:  # pragma: no cover - closed again in between; let the client retry
            raise Conflict("another check-in happened at the same moment; try again")
        raise VisitAlreadyOpen(open_.visit, open_.site.name)
    visit = await db.get(Visit, new_id)
    assert visit is not None
    return VisitView(visit, site)


async def check_out(db: AsyncSession, principal: Principal, visit_id: int, *,
                    now: datetime | None = None) -> VisitView:
    """Close the principal's own open visit, recording how long it lasted."""
    row = (await db.execute(select(Visit, Site).join(Site, Site.id == Visit.site_id).where(
        Visit.id == visit_id, Visit.user_id == principal.user_id))).first()
    if row is None:
        raise NotFound(f"no visit {visit_id} of yours")
    visit, site = row
    if visit.checked_out_at is not None:
        raise VisitClosed(f"visit {visit_id} was checked out at "
                          f"{visit.checked_out_at.isoformat()}")
    at = now or utcnow()
    duration = max(0, int((at - visit.checked_in_at).total_seconds()))
    # Conditional on still being open, so two check-outs racing each other close it once.
    done = await db.execute(update(Visit).where(
        Visit.id == visit_id, Visit.checked_out_at.is_(None)).values(
        checked_out_at=at, duration_s=duration).execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 1) == 0:
        raise VisitClosed(f"visit {visit_id} was checked out meanwhile")
    await db.refresh(visit)
    for hook in _after_check_out:
        await hook(db, visit, site)
    return VisitView(visit, site)


# What a higher slice does when a visit is checked out, in its transaction (the surveys
# slice asks the shop about the visit); filled when that slice is imported (rounds.slices).
AfterCheckOut = Callable[[AsyncSession, Visit, Site], Awaitable[None]]
_after_check_out: list[AfterCheckOut] = []


def after_check_out(hook: AfterCheckOut) -> AfterCheckOut:
    """Register ``hook``: it runs after each check-out, in the check-out's transaction."""
    if hook not in _after_check_out:
        _after_check_out.append(hook)
    return hook


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Visits a principal may see: their own, and with ``submission.view_scope`` those at
    sites in their scope."""
    own = Visit.user_id == principal.user_id
    if principal.can("submission.view_scope"):
        return or_(own, Visit.site_id.in_(select(Site.id).where(site_scope(principal))))
    return own


async def get_visit(db: AsyncSession, principal: Principal, visit_id: int) -> VisitView:
    row = (await db.execute(select(Visit, Site).join(Site, Site.id == Visit.site_id).where(
        Visit.id == visit_id, _visible(principal)))).first()
    if row is None:
        raise NotFound(f"no visit {visit_id} that you may see")
    return VisitView(row[0], row[1])


async def list_visits(db: AsyncSession, principal: Principal, *, mine: bool = True,
                      flagged: bool | None = None, site_id: int | None = None,
                      limit: int = 50, offset: int = 0) -> tuple[list[VisitView], int]:
    """Newest first: the principal's own visits, or (``mine=False``, with
    ``submission.view_scope``) every visit at sites in their scope."""
    if mine:
        cond: ColumnElement[bool] = Visit.user_id == principal.user_id
    else:
        principal.require("submission.view_scope")
        cond = Visit.site_id.in_(select(Site.id).where(site_scope(principal)))
    conds = [cond]
    if flagged is not None:
        conds.append(Visit.flagged.is_(flagged))
    if site_id is not None:
        conds.append(Visit.site_id == site_id)
    where = and_(*conds)
    total = (await db.execute(select(func.count()).select_from(Visit).where(where))
             ).scalar_one()
    rows = (await db.execute(select(Visit, Site).join(Site, Site.id == Visit.site_id)
                             .where(where).order_by(Visit.checked_in_at.desc(), Visit.id.desc())
                             .limit(limit).offset(offset))).all()
    return [VisitView(v, s) for v, s in rows], int(total)


async def flagged_visits(db: AsyncSession, principal: Principal, *, limit: int = 50,
                         offset: int = 0) -> tuple[list[VisitView], int]:
    """Flagged check-ins at sites in a supervisor's scope (``submission.view_scope``)."""
    return await list_visits(db, principal, mine=False, flagged=True, limit=limit,
                             offset=offset)


class FormRef(msgspec.Struct, frozen=True):
    """A standard or survey a role works with, at its current version (the API lists it with
    its links: ``web.FormOut``)."""

    definition_id: str
    kind: str
    title: dict[str, str]
    version: int
    content_hash: str


def _applies(content: dict[str, Any], site_kind: str) -> bool:
    kinds = content.get("site_kinds")
    # A survey without site kinds is not tied to a kind of site.
    return kinds is None or site_kind in kinds


async def forms_for_site_kind(db: AsyncSession, principal: Principal, site_kind: str
                              ) -> list[FormRef]:
    """The role's standards and surveys (in the role's order) that apply to a kind of site,
    each at its current version."""
    role = await role_content(db, principal.role_id)
    wanted = [*(role.get("standards") or []), *(role.get("surveys") or [])]
    if not wanted:
        return []
    current = await current_versions(db, ids=wanted)
    out: list[FormRef] = []
    for def_id in wanted:
        v = current.get(def_id)
        if v is None or not _applies(v.content, site_kind):
            continue
        out.append(FormRef(definition_id=def_id, kind=str(v.content.get("kind")),
                           title=dict(v.content.get("title") or {}), version=v.number,
                           content_hash=v.content_hash))
    return out


async def visit_forms(db: AsyncSession, principal: Principal, visit_id: int
                      ) -> tuple[VisitView, list[FormRef]]:
    view = await get_visit(db, principal, visit_id)
    return view, await forms_for_site_kind(db, principal, view.site.site_kind)


async def check_context(db: AsyncSession, principal: Principal | None, visit_id: int | None,
                        *, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """The ``ctx`` of a form checked without storing it: as on submit, with the signed-in
    user's own visit (``visit_id``) and its site when one is named."""
    if visit_id is None:
        return rule_context(principal, now=now, tz=tz)
    if principal is None:
        raise NotFound(f"no visit {visit_id} of yours (sign in first)")
    view = await get_visit(db, principal, visit_id)
    if view.visit.user_id != principal.user_id:
        raise NotFound(f"no visit {visit_id} of yours")
    return visit_rule_context(principal, view, now=now, tz=tz)


def visit_rule_context(principal: Principal, view: VisitView, *, now: datetime, tz: tzinfo
                       ) -> dict[str, Any]:
    """The ``ctx`` of forms filled during a visit (its site's attributes, the check-in)."""
    v = view.visit
    return rule_context(principal, now=now, tz=tz, site=view.site.attributes,
                        visit=visit_context(visit_id=v.id, method=v.method,
                                            distance_m=v.distance_m, flagged=v.flagged,
                                            checked_in_at=v.checked_in_at, tz=tz))
