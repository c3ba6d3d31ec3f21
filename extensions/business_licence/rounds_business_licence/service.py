"""The verification of a site's business licence (营业执照核验), and its expiry.

A field user with ``business_licence.verify`` photographs the licence and enters its code,
holder, address and expiry (:func:`create_check`). What can be checked is checked, each with
its result (``ok``, ``warning``, ``failed`` or ``not_made``, and why, as a key with
parameters so that each reader sees their own language):

- ``check_character``: the code's check character (GB 32100-2015, :mod:`.uscc`);
- ``duplicate``: the same code on another site's latest check (named);
- ``holder``: the holder against the site's record (its 负责人, its name or shop name);
- ``expiry``: expired fails, within :data:`WARN_DAYS` days warns (an empty expiry is 长期);
- ``registry``: the external registry (:mod:`.registry`) knows the code, with that holder,
  still trading; not made without a registry, or when it cannot be reached.

The outcome is ``failed`` if any check failed, else ``warning`` if any warned, else
``passed``. Every check is kept: the latest is the site's result, the others its history.

Before a licence expires (:data:`ISSUE_DAYS` days), :func:`open_expiry_issues` opens a
closed-loop issue for the site's customer manager (at most one per check, and none while
the site has an active one); the job worker runs it with the other reconcilers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.errors import InvalidInput, Problem
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.issues.deadlines import DEFAULT_DUE_DAYS
from rounds.runtime.issues.models import ACTIVE, Issue
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    FEEDBACK_ASSIGN_TO,
    FEEDBACK_VERIFY_BY,
    Where,
    roles,
    route,
)
from rounds.runtime.issues.sources import open_issue
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.service import get_site
from rounds.runtime.storage.models import Photo
from rounds_business_licence import texts, uscc
from rounds_business_licence.models import (
    FAILED,
    NOT_MADE,
    NOT_OK,
    OK,
    PASSED,
    WARN,
    WARNING,
    LicenceCheck,
)
from rounds_business_licence.registry import TRADING, Registry, RegistryUnavailable

VERIFY = "business_licence.verify"
WARN_DAYS = 60  # an expiry this close makes the check a warning
ISSUE_DAYS = 30  # an expiry this close opens an issue
SOURCE = "licence"  # the issues' source (issues.source is String(16))
CHECKS = ("check_character", "duplicate", "holder", "expiry", "registry")
HOLDER_MAX, ADDRESS_MAX = 100, 200


class LicenceCheckInvalid(InvalidInput, code="licence_check_invalid",
                          title="Invalid business-licence check"):
    """What was entered for a check is wrong; ``problems`` names each field."""


def normalise_code(raw: Any) -> str:
    """The code as the form takes it: blanks removed, upper case (the rule itself is strict:
    :mod:`.uscc`)."""
    return "".join(str(raw or "").split()).upper()


def _same_name(a: str, b: str) -> bool:
    """Names equal but for width (全角/半角), blanks and case: 张三 = 张 三, ＡＢＣ = abc."""
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).split()).casefold()
    return bool(norm(a)) and norm(a) == norm(b)


def _result(check: str, result: str, key: str, **params: Any) -> dict[str, Any]:
    return {"check": check, "result": result, "detail": {"key": key, "params": params}}


def outcome_of(checks: Sequence[dict[str, Any]]) -> str:
    results = {c["result"] for c in checks}
    return FAILED if NOT_OK in results else WARNING if WARN in results else PASSED


def parse_day(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


async def _validated(db: AsyncSession, principal: Principal, *, code: str, holder: str,
                     address: str, expires_on: str | date | None, photo_id: str | None
                     ) -> tuple[str, str, str, date | None, str]:
    problems: list[Problem] = []
    code = normalise_code(code)
    holder, address = (holder or "").strip(), (address or "").strip()
    if not code:
        problems.append(Problem("/code", "required", "required", "body"))
    elif len(code) != uscc.LENGTH:
        problems.append(Problem("/code", "18 characters", "length", "body",
                                {"length": len(code)}))
    for name, value, limit in (("holder", holder, HOLDER_MAX),
                               ("address", address, ADDRESS_MAX)):
        if not value:
            problems.append(Problem(f"/{name}", "required", "required", "body"))
        elif len(value) > limit:
            problems.append(Problem(f"/{name}", f"at most {limit} characters", "max_length",
                                    "body", {"limit": limit}))
    day: date | None = None
    if isinstance(expires_on, date):
        day = expires_on
    elif expires_on not in (None, ""):
        day = parse_day(expires_on)
        if day is None:
            problems.append(Problem("/expires_on", "a date, YYYY-MM-DD", "date", "body"))
    photo = (photo_id or "").strip()
    if not photo:
        problems.append(Problem("/photo_id", "required", "photo_required", "body"))
    elif (await db.execute(select(Photo.id).where(
            Photo.id == photo, Photo.uploaded_by == principal.user_id))).first() is None:
        problems.append(Problem("/photo_id", "no such photo uploaded by you; upload it first "
                                "(POST /api/photos) and send the id it returns",
                                "unknown_photo", "body"))
    if problems:
        raise LicenceCheckInvalid("; ".join(f"{p.pointer}: {p.message}" for p in problems),
                                  problems)
    return code, holder, address, day, photo


async def _duplicates(db: AsyncSession, site_id: int, code: str) -> list[Site]:
    """Other sites whose latest check has this code."""
    latest = select(func.max(LicenceCheck.id)).group_by(LicenceCheck.site_id)
    return list((await db.execute(
        select(Site).join(LicenceCheck, LicenceCheck.site_id == Site.id)
        .where(LicenceCheck.id.in_(latest), LicenceCheck.code == code,
               LicenceCheck.site_id != site_id).order_by(Site.id))).scalars())


def _holder_check(site: Site, holder: str) -> dict[str, Any]:
    attrs = site.attributes if isinstance(site.attributes, dict) else {}
    owner = str(attrs.get("owner_name") or "").strip()
    names = [n for n in (owner, str(attrs.get("shop_name") or "").strip(), site.name) if n]
    if not owner:
        return _result("holder", NOT_MADE, "holder_no_record")
    if any(_same_name(holder, n) for n in names):
        return _result("holder", OK, "holder_matches", record=owner)
    return _result("holder", NOT_OK, "holder_differs", record=owner)


def _expiry_check(expires_on: date | None, today: date) -> dict[str, Any]:
    if expires_on is None:
        return _result("expiry", OK, "expiry_none")
    days = (expires_on - today).days
    if days < 0:
        return _result("expiry", NOT_OK, "expired", date=expires_on.isoformat())
    if days <= WARN_DAYS:
        return _result("expiry", WARN, "expires_soon", date=expires_on.isoformat(), days=days)
    return _result("expiry", OK, "valid_until", date=expires_on.isoformat())


async def _registry_check(registry: Registry | None, code: str, valid: bool, holder: str
                          ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if registry is None:
        return _result("registry", NOT_MADE, "registry_none"), None
    if not valid:
        return _result("registry", NOT_MADE, "registry_code_invalid"), None
    try:
        answer = await registry.lookup(code)
    except RegistryUnavailable:
        return _result("registry", NOT_MADE, "registry_unreachable"), None
    if answer is None:
        return _result("registry", NOT_OK, "registry_unknown"), {"found": False}
    said = {"found": True, **answer.as_json()}
    if answer.status.strip() not in TRADING:
        return _result("registry", NOT_OK, "registry_status", status=answer.status), said
    if not _same_name(holder, answer.holder):
        return _result("registry", NOT_OK, "registry_holder", holder=answer.holder), said
    return _result("registry", OK, "registry_ok", status=answer.status), said


async def create_check(db: AsyncSession, principal: Principal, site_id: int, *, code: str,
                       holder: str, address: str, expires_on: str | date | None,
                       photo_id: str | None, now: datetime, today: date,
                       registry: Registry | None) -> LicenceCheck:
    """Verify a site's licence (``business_licence.verify``, a site in the caller's scope):
    every input mistake at once (422), else the check with each result, stored. ``today``
    is the company's date (the expiry is a date on the licence)."""
    principal.require(VERIFY)
    site = await get_site(db, principal, site_id)
    code, holder, address, day, photo = await _validated(
        db, principal, code=code, holder=holder, address=address, expires_on=expires_on,
        photo_id=photo_id)
    valid = uscc.uscc_valid(code)
    checks = [_result("check_character", OK if valid else NOT_OK,
                      "code_valid" if valid else "code_invalid",
                      region=uscc.uscc_region(code) or "")]
    others = await _duplicates(db, site.id, code)
    checks.append(_result("duplicate", NOT_OK, "duplicate_found",
                          sites=", ".join(f"{s.name} ({s.code})" for s in others))
                  if others else _result("duplicate", OK, "duplicate_none"))
    checks.append(_holder_check(site, holder))
    checks.append(_expiry_check(day, today))
    # Asked last, before anything is written: no write lock is held while it answers.
    registry_result, said = await _registry_check(registry, code, valid, holder)
    checks.append(registry_result)
    row = LicenceCheck(site_id=site.id, code=code, holder=holder, address=address,
                       expires_on=day, photo_id=photo, checked_by=principal.user_id,
                       checked_at=as_utc(now), outcome=outcome_of(checks), checks=checks,
                       registry_answer=said)
    db.add(row)
    await db.flush()
    return row


async def checks_of_site(db: AsyncSession, principal: Principal, site_id: int, *,
                         limit: int = 20, offset: int = 0) -> tuple[list[LicenceCheck], int]:
    """A site's checks, newest first, and how many there are (a site in the caller's
    scope; 404 otherwise, whether it exists or not)."""
    await get_site(db, principal, site_id)
    total = (await db.execute(select(func.count()).select_from(LicenceCheck).where(
        LicenceCheck.site_id == site_id))).scalar_one()
    rows = (await db.execute(select(LicenceCheck).where(LicenceCheck.site_id == site_id)
                             .order_by(LicenceCheck.id.desc()).limit(limit).offset(offset))
            ).scalars()
    return list(rows), int(total)


async def latest_visible(db: AsyncSession, principal: Principal, site_id: int
                         ) -> LicenceCheck | None:
    """The site's latest check if the principal may see the site (None otherwise, or when
    there is none): for its panel."""
    return (await db.execute(
        select(LicenceCheck).join(Site, Site.id == LicenceCheck.site_id)
        .where(LicenceCheck.site_id == site_id, site_scope(principal))
        .order_by(LicenceCheck.id.desc()).limit(1))).scalar_one_or_none()


# -- before a licence expires ---------------------------------------------------------------

def _due(expires_on: date, now: datetime, tz: tzinfo) -> datetime:
    """Due the morning the licence expires; an expired one gets the usual time."""
    usual = now + timedelta(days=DEFAULT_DUE_DAYS["medium"])
    if expires_on <= now.astimezone(tz).date():  # (also keeps year 1 from overflowing)
        return usual
    at = datetime.combine(expires_on, time(0, 0), tzinfo=tz)
    return as_utc(at) if at > now + timedelta(days=1) else usual


async def open_expiry_issues(db: AsyncSession, now: datetime, tz: tzinfo) -> int:
    """An issue for each site whose latest check expires within :data:`ISSUE_DAYS` days (or
    has expired) and that has none yet: at most one per check (``expiry_issue_id``), and
    none while the site has an active licence issue. The shop's customer manager
    rectifies, the station head verifies (the nearest head who may, by the routing's
    fallback). Idempotent: the checks it takes are locked (PostgreSQL; SQLite has one
    writer) and marked in the same transaction. Returns how many it opened."""
    now = as_utc(now)
    today = now.astimezone(tz).date()
    latest = select(func.max(LicenceCheck.id)).group_by(LicenceCheck.site_id)
    active = exists().where(Issue.site_id == LicenceCheck.site_id, Issue.source == SOURCE,
                            Issue.status.in_(ACTIVE))
    due = (await db.execute(
        select(LicenceCheck).where(
            LicenceCheck.id.in_(latest), LicenceCheck.expires_on.is_not(None),
            LicenceCheck.expires_on <= today + timedelta(days=ISSUE_DAYS),
            LicenceCheck.expiry_issue_id.is_(None), ~active)
        .order_by(LicenceCheck.id).with_for_update(of=LicenceCheck, skip_locked=True))
           ).scalars().all()
    if not due:
        return 0
    known = await roles(db)
    opened = 0
    for check in due:
        site = await db.get(Site, check.site_id)
        if site is None or check.expires_on is None:  # pragma: no cover - foreign key
            continue
        where = Where(site.id, site.org_unit_id, None, None)
        assignee = await route(db, ASSIGNEE, FEEDBACK_ASSIGN_TO, where, rule_from=SOURCE,
                               known=known)
        assigner = await route(db, ASSIGNER, FEEDBACK_VERIFY_BY, where, rule_from=SOURCE,
                               exclude=assignee.user_id, known=known)
        titles = texts.expiry_titles(check.expires_on, today, site.name)
        values = {"title": titles["zh"], "titles": titles, "description": "",
                  "source": SOURCE, "severity": "medium", "site_id": site.id,
                  "org_unit_id": site.org_unit_id,
                  "due_at": _due(check.expires_on, now, tz),
                  "assigner_id": assigner.user_id, "assignee_id": assignee.user_id,
                  "reporter_id": None}
        issue_id = await open_issue(db, values, now=now, actor_id=None,
                                    routed=(assignee, assigner), created={
            "licence_check_id": check.id, "expires_on": check.expires_on.isoformat(),
            "rules": {"assign_to": FEEDBACK_ASSIGN_TO.as_json(),
                      "verify_by": FEEDBACK_VERIFY_BY.as_json()}})
        check.expiry_issue_id = issue_id
        opened += 1
    await db.flush()
    return opened
