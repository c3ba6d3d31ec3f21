"""Licence applications: applying, every step of the state machine, the inspection, the
decision and the licence it issues, and what each person sees.

Services take the principal and the time explicitly; the web handlers are thin. Each step
is checked by :mod:`~rounds_retail_licence.states` (403 wrong person, 409 wrong state),
recorded as an event (who, when, from and to) and told to the applicant (their inbox).

The inspection is the standard ``retail_licence_inspection`` (a definition of this
extension), filled on the phone through the forms engine and validated and scored by the
core's compiled form, as any standard is. It is stored with the application rather than as
a core submission: a core standard is filled during a visit to an existing site, and an
applicant without a shop has no site until the licence is issued. The rules read, under
``ctx.site``, the application's market area and the distance to the nearest licensed
retailer (:func:`nearest_licensed`); the minimum distances per area are the definition's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from rounds import i18n
from rounds.db import as_utc
from rounds.errors import InvalidInput, NotFound, Problem
from rounds.rules.operations import distance_m
from rounds.runtime.access import Principal
from rounds.runtime.definitions.compiled import form_version
from rounds.runtime.definitions.service import get_version
from rounds.runtime.notifications.service import notify
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.auth import forget_principals_after_commit
from rounds.runtime.people.models import User
from rounds.runtime.sites.geo import valid_position
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.service import create_site
from rounds.runtime.storage.access import photo_use
from rounds.runtime.storage.models import Photo
from rounds.runtime.storage.service import keep_photos, unowned_photos
from rounds.runtime.submissions.body import form_body, parse
from rounds.runtime.submissions.documents import photo_refs, score_columns, stored_evaluation
from rounds.runtime.visits.service import rule_context
from rounds_retail_licence import states, workdays
from rounds_retail_licence.models import (
    LicenceApplication,
    LicenceApplicationEvent,
    LicenceApplicationPhoto,
)

DOMAIN = "retail_licence"
INSPECTION_STANDARD = "retail_licence_inspection"
# The documents an application carries: 身份证 and 经营场所证明 are required.
DOCUMENT_KINDS = ("id_card", "premises_proof", "business_licence", "shop_photo")
REQUIRED_DOCUMENTS = ("id_card", "premises_proof")
MARKET_AREAS = ("urban", "rural")
BUSINESS_TYPES = ("convenience_store", "supermarket", "tobacco_alcohol_shop", "grocery",
                  "catering_entertainment", "other")
SCOPES = ("cigarettes_cigars", "cigarettes")  # 经营范围: 卷烟、雪茄烟 / 卷烟
LICENCE_YEARS = 5  # a retail licence is valid for five years
# A new shop starts at the lowest grade, delivered every two weeks, until its customer
# manager grades it (the retailer site kind requires both).
NEW_SHOP_GRADE = 1
NEW_SHOP_DELIVERY = "biweekly"
# Licensed retailers farther than this (in degrees of latitude and longitude, about 5 km)
# are not looked at for the nearest one: the minimum distances are tens of metres.
NEAR_DEGREES = 0.05
PHONE_CHARS = set("0123456789+() -")


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **fields)


def both(key: str, /, state: str | None = None, **fields: Any) -> dict[str, str]:
    """A message in every language (notifications are read in the reader's); ``state``
    is put in as its words in each."""
    out = {}
    for lang in i18n.LANGUAGES:
        extra = {"state": say(lang, f"state_{state}")} if state is not None else {}
        out[lang] = say(lang, key, **fields, **extra)
    return out


def local_day(at: datetime, tz: tzinfo) -> date:
    return as_utc(at).astimezone(tz).date()


# -- who is what to an application -----------------------------------------------------------

def unit_in_scope(principal: Principal, unit: OrgUnit) -> bool:
    """Whether an application of ``unit`` is the principal's to review."""
    if principal.org_scope == "city":
        return True
    if principal.org_scope == "org_subtree":
        return unit.path.startswith(principal.org_path)
    if principal.org_scope == "org_unit":
        return unit.id == principal.org_unit_id
    return False


def _scope_sql(principal: Principal) -> ColumnElement[bool]:
    """The applications a principal sees, as a condition (with ``OrgUnit`` joined)."""
    seen: list[ColumnElement[bool]] = [LicenceApplication.applicant_id == principal.user_id]
    if principal.can(states.INSPECT):
        seen.append(LicenceApplication.inspector_id == principal.user_id)
    if principal.can(states.REVIEW):
        if principal.org_scope == "city":
            seen.append(true())
        elif principal.org_scope == "org_subtree":
            seen.append(OrgUnit.path.startswith(principal.org_path))
        elif principal.org_scope == "org_unit":
            seen.append(LicenceApplication.org_unit_id == principal.org_unit_id)
    return or_(*seen)


def who(app: LicenceApplication, unit: OrgUnit, principal: Principal) -> states.Who:
    return states.Who(principal=principal, applicant=app.applicant_id == principal.user_id,
                      in_scope=unit_in_scope(principal, unit),
                      inspector=app.inspector_id == principal.user_id)


def facts(app: LicenceApplication) -> states.Facts:
    return states.Facts(state=app.state, decision=app.decision)


@photo_use
def _photo_seen(principal: Principal, photo_id: str) -> ColumnElement[bool]:
    """A document or inspection photo: seen by whoever sees its application."""
    return exists().where(
        LicenceApplicationPhoto.photo_id == photo_id,
        LicenceApplication.id == LicenceApplicationPhoto.application_id,
        OrgUnit.id == LicenceApplication.org_unit_id, _scope_sql(principal))


@keep_photos
def _photo_kept() -> ColumnElement[bool]:
    return exists().where(LicenceApplicationPhoto.photo_id == Photo.id)


# -- reading -----------------------------------------------------------------------------

async def load(db: AsyncSession, principal: Principal, app_id: int
               ) -> tuple[LicenceApplication, OrgUnit]:
    """An application the principal may see, with its unit (404 otherwise: an application
    out of sight is not found, and tells nothing)."""
    row = (await db.execute(
        select(LicenceApplication, OrgUnit)
        .join(OrgUnit, OrgUnit.id == LicenceApplication.org_unit_id)
        .where(LicenceApplication.id == app_id, _scope_sql(principal)))).first()
    if row is None:
        raise NotFound(f"no licence application {app_id} that you may see")
    return row[0], row[1]


async def listing(db: AsyncSession, principal: Principal, *, show: str = "all",
                  limit: int = 20, offset: int = 0
                  ) -> tuple[list[LicenceApplication], int]:
    """A page of the applications the principal sees, newest first. ``show``: ``mine``
    (made by them), ``open`` (not yet issued, refused or withdrawn), ``all``."""
    where: list[ColumnElement[bool]] = [_scope_sql(principal)]
    if show == "mine":
        where.append(LicenceApplication.applicant_id == principal.user_id)
    elif show == "open":
        where.append(LicenceApplication.state.in_(states.OPEN))
    base = select(LicenceApplication).join(
        OrgUnit, OrgUnit.id == LicenceApplication.org_unit_id).where(*where)
    total = int((await db.execute(
        select(func.count()).select_from(base.subquery()))).scalar_one())
    rows = (await db.execute(base.order_by(LicenceApplication.submitted_at.desc(),
                                           LicenceApplication.id.desc())
                             .limit(limit).offset(offset))).scalars().all()
    return list(rows), total


async def events(db: AsyncSession, app_id: int) -> list[tuple[LicenceApplicationEvent, str]]:
    """The application's steps, oldest first, each with its actor's name ("" for the
    system: a reminder, an escalation)."""
    rows = (await db.execute(
        select(LicenceApplicationEvent, User.display_name)
        .outerjoin(User, User.id == LicenceApplicationEvent.actor_id)
        .where(LicenceApplicationEvent.application_id == app_id)
        .order_by(LicenceApplicationEvent.at, LicenceApplicationEvent.id))).all()
    return [(e, name or "") for e, name in rows]


async def inspectors(db: AsyncSession, principal: Principal, unit: OrgUnit
                     ) -> list[tuple[int, str]]:
    """Who may be sent to inspect an application of ``unit``: active users whose role has
    ``retail_licence.inspect``, in the unit or a unit above or below it."""
    from rounds.runtime.issues.routing import roles_with

    roles = await roles_with(db, states.INSPECT)
    if not roles:
        return []
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = await db.execute(
        select(User.id, User.display_name).join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.role_id.in_(roles), User.active.is_(True),
               or_(OrgUnit.id.in_(ancestors or [unit.id]), OrgUnit.path.startswith(unit.path)))
        .order_by(User.display_name, User.id))
    return [(int(i), str(n)) for i, n in rows]


# -- applying ------------------------------------------------------------------------------

class DocumentIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    photo_id: str


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    """What an applicant sends (every field is checked, all problems at once)."""

    shop_name: str = ""
    address: str = ""
    owner_name: str = ""
    phone: str = ""
    business_type: str = ""
    market_area: str = ""
    lat: float | None = None
    lng: float | None = None
    documents: list[DocumentIn] = msgspec.field(default_factory=list)


def _text(problems: list[Problem], value: str, name: str, limit: int, *,
          required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        problems.append(Problem(f"/{name}", "required", "required"))
    elif len(value) > limit:
        problems.append(Problem(f"/{name}", f"at most {limit} characters", "max_length",
                                params={"max": limit}))
    return value


async def apply(db: AsyncSession, principal: Principal, data: ApplicationIn, *,
                now: datetime, tz: tzinfo) -> LicenceApplication:
    """A new application (``retail_licence.apply``): for the applicant's shop when their
    account has one, else for the shop they describe. The statutory limit starts today."""
    states.may_submit(principal)
    problems: list[Problem] = []
    shop_name = _text(problems, data.shop_name, "shop_name", 100)
    address = _text(problems, data.address, "address", 200)
    owner_name = _text(problems, data.owner_name, "owner_name", 50)
    phone = _text(problems, data.phone, "phone", 20, required=False)
    if phone and (len(phone) < 7 or not set(phone) <= PHONE_CHARS):
        problems.append(Problem("/phone", "7 to 20 digits, spaces, +, ( and )", "pattern"))
    if data.business_type not in BUSINESS_TYPES:
        problems.append(Problem("/business_type", f"one of {', '.join(BUSINESS_TYPES)}",
                                "required" if not data.business_type else "enum"))
    if data.market_area not in MARKET_AREAS:
        problems.append(Problem("/market_area", f"one of {', '.join(MARKET_AREAS)}",
                                "required" if not data.market_area else "enum"))
    site = await db.get(Site, principal.site_id) if principal.site_id is not None else None
    lat, lng = data.lat, data.lng
    if site is not None and (lat is None or lng is None):
        lat, lng = site.lat, site.lng  # the shop is where it is
    if lat is None or lng is None:
        problems.append(Problem("/position", "required: where the shop is", "required"))
    elif not valid_position(lat, lng):
        problems.append(Problem("/position", "not a position on the earth", "invalid"))
    kinds: dict[str, str] = {}
    refs: dict[str, str] = {}
    for i, doc in enumerate(data.documents):
        if doc.kind not in DOCUMENT_KINDS:
            problems.append(Problem(f"/documents/{i}/kind",
                                    f"one of {', '.join(DOCUMENT_KINDS)}", "enum"))
            continue
        if doc.kind in kinds:
            problems.append(Problem(f"/documents/{i}/kind", "this document is there already",
                                    "duplicate"))
            continue
        kinds[doc.kind] = doc.photo_id
        refs[f"/documents/{doc.kind}"] = doc.photo_id
    for kind in REQUIRED_DOCUMENTS:
        if kind not in kinds:
            problems.append(Problem(f"/documents/{kind}", "required", "required"))
    problems += [Problem(p.pointer, p.message, p.code)
                 for p in await unowned_photos(db, principal.user_id, refs)]
    if problems:
        raise InvalidInput("the application has mistakes", problems)
    assert lat is not None and lng is not None
    today = local_day(now, tz)
    app = LicenceApplication(
        number=f"tmp-{uuid.uuid4().hex[:20]}", applicant_id=principal.user_id,
        site_id=site.id if site is not None else None,
        org_unit_id=site.org_unit_id if site is not None else principal.org_unit_id,
        state=states.SUBMITTED, shop_name=shop_name, address=address, owner_name=owner_name,
        phone=phone, business_type=data.business_type, market_area=data.market_area,
        lat=float(lat), lng=float(lng),
        documents={"items": [{"kind": k, "photo_id": kinds[k]} for k in DOCUMENT_KINDS
                             if k in kinds]},
        submitted_at=now, deadline=workdays.deadline_for(today), decision_note="",
        licence_scope="")
    db.add(app)
    await db.flush()
    # 申请编号: the year and the id, known after the insert (unique as the id is).
    app.number = f"XK{today.year}{app.id:06d}"
    await _link_photos(db, app.id, kinds.values())
    await _record(db, app, "submit", (None, states.SUBMITTED), actor_id=principal.user_id,
                  at=now)
    unit = await db.get(OrgUnit, app.org_unit_id)
    if unit is not None:  # the reviewers of the unit (the nearest one up that has any)
        people = await _reviewers(db, _chain(unit))
        first = next((u for u in _chain(unit) if people.get(u)), None)
        if first is not None:
            await notify(db, user_ids=people[first], kind="licence_new",
                         message=both("notify_new", number=app.number, shop=app.shop_name),
                         link=f"/licence-applications/{app.id}",
                         dedupe_key=f"licence:{app.id}:new")
    return app


async def _link_photos(db: AsyncSession, app_id: int, photo_ids: Any) -> None:
    for pid in sorted(set(photo_ids)):
        if await db.get(LicenceApplicationPhoto, (app_id, pid)) is None:
            db.add(LicenceApplicationPhoto(application_id=app_id, photo_id=pid))
    await db.flush()


async def _record(db: AsyncSession, app: LicenceApplication, action: str,
                  move: tuple[str | None, str | None], *, actor_id: int | None,
                  at: datetime, note: str = "") -> LicenceApplicationEvent:
    from_state, to_state = move
    event = LicenceApplicationEvent(application_id=app.id, action=action,
                                    from_state=from_state, to_state=to_state,
                                    actor_id=actor_id, at=at, note=note)
    db.add(event)
    await db.flush()
    if actor_id != app.applicant_id and to_state is not None:
        # The applicant follows the progress in their inbox too (once per event).
        await notify(db, user_ids=[app.applicant_id], kind="licence_progress",
                     message=both("notify_progress", state=to_state, number=app.number),
                     link=f"/licence-applications/{app.id}",
                     dedupe_key=f"licence:{app.id}:event:{event.id}")
    return event


# -- the steps -------------------------------------------------------------------------------

async def _step(db: AsyncSession, principal: Principal, app_id: int, step_name: str, *,
                now: datetime, note: str = "", version: int | None = None
                ) -> tuple[LicenceApplication, OrgUnit]:
    app, unit = await load(db, principal, app_id)
    step = states.check(step_name, facts(app), who(app, unit, principal))
    if version is not None and version != app.version:
        raise states.WrongState(f"the application changed since you read it (version "
                                f"{app.version}, you sent {version}); read it again")
    before = app.state
    app.state = step.to_state
    try:
        await db.flush()  # UPDATE ... WHERE version = the one read
    except StaleDataError:
        raise states.WrongState("someone else changed the application meanwhile; read it "
                                "again") from None
    await _record(db, app, step_name, (before, step.to_state), actor_id=principal.user_id,
                  at=now, note=note)
    return app, unit


def _note(problems: list[Problem], note: str, *, required: bool = False) -> str:
    return _text(problems, note, "note", 1000, required=required)


async def check_documents(db: AsyncSession, principal: Principal, app_id: int, *,
                          now: datetime, note: str = "", version: int | None = None
                          ) -> LicenceApplication:
    """The documents are complete and as required (a reviewer's step)."""
    problems: list[Problem] = []
    note = _note(problems, note)
    if problems:
        raise InvalidInput("the note is too long", problems)
    app, _ = await _step(db, principal, app_id, "check_documents", now=now, note=note,
                         version=version)
    return app


async def schedule_inspection(db: AsyncSession, principal: Principal, app_id: int, *,
                              inspector_id: int | None, on: date | None, now: datetime,
                              tz: tzinfo, note: str = "", version: int | None = None
                              ) -> LicenceApplication:
    """Send an inspector on a day (a reviewer's step): both are required, the inspector one
    who may inspect applications of the unit, the day not before today."""
    app, unit = await load(db, principal, app_id)
    states.check("schedule_inspection", facts(app), who(app, unit, principal))
    problems: list[Problem] = []
    allowed_ids = {i for i, _ in await inspectors(db, principal, unit)}
    if inspector_id is None:
        problems.append(Problem("/inspector_id", "required", "required"))
    elif inspector_id not in allowed_ids:
        problems.append(Problem("/inspector_id", "not an inspector of this unit",
                                "unknown_inspector"))
    if on is None:
        problems.append(Problem("/on", "required", "required"))
    elif on < local_day(now, tz):
        problems.append(Problem("/on", "not before today", "date_min"))
    note = _note(problems, note)
    if problems:
        raise InvalidInput("the inspection cannot be scheduled so", problems)
    app, _ = await _step(db, principal, app_id, "schedule_inspection", now=now, note=note,
                         version=version)
    app.inspector_id, app.inspection_on = inspector_id, on
    assert inspector_id is not None and on is not None
    await notify(db, user_ids=[inspector_id], kind="licence_inspection",
                 message=both("notify_inspection", number=app.number, shop=app.shop_name,
                              y=on.year, m=on.month, d=on.day),
                 link=f"/licence-applications/{app.id}/inspect",
                 dedupe_key=f"licence:{app.id}:inspection:{app.version}")
    return app


async def withdraw(db: AsyncSession, principal: Principal, app_id: int, *, now: datetime,
                   note: str = "", version: int | None = None) -> LicenceApplication:
    """The applicant withdraws it (before the decision)."""
    problems: list[Problem] = []
    note = _note(problems, note)
    if problems:
        raise InvalidInput("the note is too long", problems)
    app, _ = await _step(db, principal, app_id, "withdraw", now=now, note=note,
                         version=version)
    return app


@dataclass(frozen=True)
class Nearest:
    """The nearest licensed retailer to a position (None: none within ~5 km)."""

    distance_m: float | None
    site_id: int | None = None
    name: str = ""
    code: str = ""
    point: dict[str, float] | None = None  # {"lat", "lng"}, as the rules' points are


async def nearest_licensed(db: AsyncSession, lat: float, lng: float, *,
                           exclude_site: int | None = None) -> Nearest:
    """The nearest retailer holding a licence (its ``licence_no`` set), by ``distance_m``,
    the rules' own operation; the applicant's own shop is not its own neighbour."""
    rows = (await db.execute(
        select(Site.id, Site.name, Site.code, Site.lat, Site.lng, Site.attributes)
        .where(Site.site_kind == "retailer",
               Site.lat.between(lat - NEAR_DEGREES, lat + NEAR_DEGREES),
               Site.lng.between(lng - NEAR_DEGREES, lng + NEAR_DEGREES),
               Site.id != exclude_site if exclude_site is not None else true()))).all()
    best: Nearest = Nearest(None)
    for sid, name, code, slat, slng, attrs in rows:
        if not (attrs or {}).get("licence_no"):
            continue
        d = distance_m([lat, lng], [slat, slng])
        if d is not None and (best.distance_m is None or d < best.distance_m):
            best = Nearest(d, int(sid), str(name), str(code),
                           {"lat": float(slat), "lng": float(slng)})
    return best


async def inspection_context(db: AsyncSession, principal: Principal,
                             app: LicenceApplication, *, now: datetime, tz: tzinfo
                             ) -> dict[str, Any]:
    """What the inspection's rules read under ``ctx``: ``ctx.site`` has the application's
    market area, position and the distance to the nearest licensed retailer."""
    near = await nearest_licensed(db, app.lat, app.lng, exclude_site=app.site_id)
    site = {"market_area": app.market_area, "position": {"lat": app.lat, "lng": app.lng},
            "nearest_licensed": near.point, "nearest_licensed_m": near.distance_m,
            "nearest_licensed_name": near.name,
            "shop_name": app.shop_name, "address": app.address}
    return rule_context(principal, now=now, tz=tz, site=site)


async def inspection_version(db: AsyncSession) -> tuple[dict[str, Any], str, int]:
    """The current inspection standard: its content, content hash and number."""
    v = await get_version(db, INSPECTION_STANDARD)
    return dict(v.content), v.content_hash, v.number


async def record_inspection(db: AsyncSession, principal: Principal, app_id: int, raw: bytes,
                            *, now: datetime, tz: tzinfo, lang: str) -> LicenceApplication:
    """The inspector's filled standard (the forms engine's body: ``{id, definition_id,
    version, answers, evidence}``), validated and scored by the compiled form with the
    application's context; the application is then ``inspected``. The same body again
    (a retry after a lost answer) changes nothing."""
    app, unit = await load(db, principal, app_id)
    parsed = parse(raw)
    env = parsed.env
    if app.inspection and app.inspection.get("id") == str(env.id) \
            and app.state != states.INSPECTION_SCHEDULED:
        return app  # stored already: a retry
    states.check("record_inspection", facts(app), who(app, unit, principal))
    if env.definition_id != INSPECTION_STANDARD:
        raise InvalidInput("not the inspection standard", [Problem(
            "/definition_id", f"the inspection is {INSPECTION_STANDARD!r}", "wrong_form",
            "body")])
    fv = await form_version(db, env.definition_id, env.version)
    ctx = await inspection_context(db, principal, app, now=now, tz=tz)
    refs = photo_refs(fv.form, parsed.answers, parsed.evidence)
    photo_problems = await unowned_photos(db, principal.user_id, refs)
    valid = fv.form.validate(form_body(env), ctx, lang)
    kept = photo_refs(fv.form, valid.answers, valid.evidence)
    photo_problems = [p for p in photo_problems if p.pointer in kept]
    if photo_problems:
        raise InvalidInput("photos that are not yours", photo_problems)
    scored = valid.scored
    evaluation = stored_evaluation(scored)
    columns = score_columns(scored)
    app.inspection = msgspec.to_builtins({
        "id": str(env.id), "definition_id": fv.definition_id, "version": fv.content_hash,
        "number": fv.number, "answers": valid.answers, "evidence": valid.evidence,
        "evaluation": evaluation, "passed": columns["passed"],
        "percentage": columns["percentage"],
        "failed": [f.get("item") if isinstance(f, Mapping) else str(f)
                   for f in evaluation.get("failed") or []],
        "alerts": evaluation.get("alerts") or [], "ctx_site": ctx["site"],
        "at": now.isoformat(), "by": principal.user_id})
    await _link_photos(db, app.id, kept.values())
    passed = "passed" if columns["passed"] else "failed"
    await _step(db, principal, app_id, "record_inspection", now=now, note=passed)
    return app


async def decide(db: AsyncSession, principal: Principal, app_id: int, *, decision: str,
                 note: str, scope: str = "cigarettes_cigars", now: datetime, tz: tzinfo,
                 version: int | None = None) -> LicenceApplication:
    """The decision (a reviewer's): ``grant`` issues the licence at once (number, scope,
    five years from today) on the applicant's shop, made now if they had none; ``refuse``
    refuses, with the reason (required). Two steps, in one transaction: decided, then
    issued or refused."""
    app, unit = await load(db, principal, app_id)
    states.check("decide", facts(app), who(app, unit, principal))
    problems: list[Problem] = []
    if decision not in (states.GRANT, states.REFUSE):
        problems.append(Problem("/decision", "grant or refuse",
                                "required" if not decision else "enum"))
    note = _note(problems, note, required=decision == states.REFUSE)
    if decision == states.GRANT and scope not in SCOPES:
        problems.append(Problem("/scope", f"one of {', '.join(SCOPES)}", "enum"))
    if problems:
        raise InvalidInput("the decision has mistakes", problems)
    app, _ = await _step(db, principal, app_id, "decide", now=now, note=note,
                         version=version)
    app.decision, app.decided_by, app.decided_at, app.decision_note = (
        decision, principal.user_id, now, note)
    if decision == states.REFUSE:
        await _step(db, principal, app_id, "refuse", now=now, note=note)
        return app
    await _issue(db, app, unit, scope, now=now, tz=tz)
    await _step(db, principal, app_id, "issue", now=now, note=app.licence_number or "")
    return app


def _years_later(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


async def _issue(db: AsyncSession, app: LicenceApplication, unit: OrgUnit, scope: str, *,
                 now: datetime, tz: tzinfo) -> None:
    """The licence: its record on the application, and on the site (made for an applicant
    without a shop, whose account then acts for it)."""
    today = local_day(now, tz)
    number = f"{today.year:04d}{app.id:08d}"  # 12 digits, as the retailer kind asks
    until = _years_later(today, LICENCE_YEARS) - timedelta(days=1)
    app.licence_number, app.licence_scope = number, scope
    app.valid_from, app.valid_until = today, until
    if app.site_id is not None:
        site = await db.get(Site, app.site_id)
        assert site is not None
        site.attributes = {**site.attributes, "licence_no": number,
                           "licence_expires_on": until.isoformat()}
        return
    attributes: dict[str, Any] = {
        "licence_no": number, "licence_expires_on": until.isoformat(),
        "shop_name": app.shop_name, "address": app.address, "owner_name": app.owner_name,
        "grade": NEW_SHOP_GRADE, "delivery_cycle": NEW_SHOP_DELIVERY,
        "business_type": app.business_type, "market_area": app.market_area,
        "opened_on": today.isoformat()}
    if app.phone:
        attributes["phone"] = app.phone
    site = await create_site(db, None, site_kind="retailer", code=number, name=app.shop_name,
                             lat=app.lat, lng=app.lng, org_unit=unit.code,
                             address=app.address, attributes=attributes)
    app.site_id = site.id
    applicant = await db.get(User, app.applicant_id)
    if applicant is not None and applicant.site_id is None:
        applicant.site_id = site.id  # their account acts for the new shop (/shop)
        forget_principals_after_commit(db)


# -- periodic work: the statutory limit, renewals ------------------------------------------

async def _reviewers(db: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[int]]:
    from rounds.runtime.issues.routing import roles_with, users_by_unit

    return await users_by_unit(db, await roles_with(db, states.REVIEW), list(unit_ids))


def _chain(unit: OrgUnit) -> list[int]:
    """The unit and those above it, nearest first."""
    return [int(p) for p in reversed(unit.path.strip("/").split("/")) if p] or [unit.id]


async def remind_and_escalate(db: AsyncSession, now: datetime, tz: tzinfo) -> int:
    """Open applications near or past their statutory limit: the reviewers of the unit (the
    nearest unit up that has any) are reminded :data:`~workdays.REMIND_WORKING_DAYS`
    working days before it; once it has passed, the reviewers of the unit above that are
    told (escalation). Each once per application (a column, and the notices' keys)."""
    today = local_day(now, tz)
    soon = workdays.add_working_days(today, workdays.REMIND_WORKING_DAYS)
    rows = (await db.execute(
        select(LicenceApplication, OrgUnit).join(OrgUnit,
                                                 OrgUnit.id == LicenceApplication.org_unit_id)
        .where(LicenceApplication.state.in_(states.OPEN), LicenceApplication.deadline <= soon,
               or_(LicenceApplication.reminded_at.is_(None),
                   and_(LicenceApplication.escalated_at.is_(None),
                        LicenceApplication.deadline < today)))
        .order_by(LicenceApplication.deadline, LicenceApplication.id))).all()
    done = 0
    for app, unit in rows:
        chain = _chain(unit)
        people = await _reviewers(db, chain)
        levels = [u for u in chain if people.get(u)]
        if app.reminded_at is None and levels:
            left = workdays.working_days_between(today, app.deadline)
            await notify(db, user_ids=people[levels[0]], kind="licence_due_soon",
                         message=both("notify_due_soon", number=app.number,
                                      n=max(0, left), y=app.deadline.year,
                                      m=app.deadline.month, d=app.deadline.day),
                         link=f"/licence-applications/{app.id}",
                         dedupe_key=f"licence:{app.id}:due_soon")
            app.reminded_at = now
            await _record(db, app, "reminded", (None, None), actor_id=None, at=now)
            done += 1
        if app.escalated_at is None and app.deadline < today:
            above = levels[1] if len(levels) > 1 else (levels[0] if levels else None)
            if above is not None:
                past = workdays.working_days_between(app.deadline, today)
                await notify(db, user_ids=people[above], kind="licence_overdue",
                             message=both("notify_overdue", number=app.number, n=past,
                                          y=app.deadline.year, m=app.deadline.month,
                                          d=app.deadline.day),
                             link=f"/licence-applications/{app.id}",
                             dedupe_key=f"licence:{app.id}:overdue")
                app.escalated_at = now
                await _record(db, app, "escalated", (None, None), actor_id=None, at=now,
                              note=str(above))
                done += 1
    await db.flush()
    return done


RENEWAL_DAYS = (90, 30)  # the shop's account is told this many days before the expiry


async def remind_renewals(db: AsyncSession, now: datetime, tz: tzinfo) -> int:
    """Tell each shop's account (users acting for the site) :data:`RENEWAL_DAYS` days
    before its licence expires: once per licence and mark (the notices' keys)."""
    today = local_day(now, tz)
    rows = (await db.execute(
        select(LicenceApplication).where(
            LicenceApplication.state == states.ISSUED,
            LicenceApplication.site_id.is_not(None),
            LicenceApplication.valid_until.is_not(None),
            LicenceApplication.valid_until <= today + timedelta(days=max(RENEWAL_DAYS)),
            LicenceApplication.valid_until >= today))).scalars().all()
    done = 0
    for app in rows:
        assert app.valid_until is not None
        left = (app.valid_until - today).days
        mark = min(d for d in RENEWAL_DAYS if left <= d)
        shop_users = list((await db.execute(select(User.id).where(
            User.site_id == app.site_id, User.active.is_(True)))).scalars())
        if not shop_users:
            continue
        added = await notify(
            db, user_ids=shop_users, kind="licence_renewal",
            message=both("notify_renewal", number=app.licence_number or "", n=left,
                         y=app.valid_until.year, m=app.valid_until.month,
                         d=app.valid_until.day),
            link="/licence-applications/new",
            dedupe_key=f"licence:{app.id}:renewal:{mark}")
        done += bool(added)
    return done


