"""Survey campaigns as a service: create, edit a draft, open, close, list; who is asked what;
signed-in responses.

A campaign is drafted from its spec (:mod:`~rounds.runtime.surveys.spec`, every mistake at
once), opened (which pins the survey's *current* published version: every response of the
campaign answers the same questions, whatever is published later) and closed. Its period's
days become the instants it takes answers, in the company's time zone.

Who is asked: a retailer campaign asks the shops it targets (its units, with the units below,
and its grades; either empty: any); one that follows visits asks the shop once per visit by a
holder of one of its roles, for ``within_days`` days after the check-in and inside the
period. A consumer campaign is answered through public links (``links``); an industry one by
industry users, signed in. Who runs campaigns: the roles with ``survey.manage``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, utcnow
from rounds.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import Definition, DefinitionVersion
from rounds.runtime.definitions.service import current_versions, role_content
from rounds.runtime.notifications.service import notify
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.surveys.models import (
    CLOSED,
    CONSUMER,
    DRAFT,
    INDUSTRY,
    OPEN,
    RETAILER,
    SurveyCampaign,
    SurveyResponse,
)
from rounds.runtime.surveys.responses import (
    AlreadyAnswered,
    Respondent,
    StoredResponse,
    is_open,
    store_response,
)
from rounds.runtime.surveys.spec import (
    CampaignSpec,
    FollowVisit,
    Known,
    Period,
    Targeting,
    check_spec,
    spec_json,
)
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.service import after_check_out

MANAGE = "survey.manage"
RESPOND = "survey.respond"


class CampaignClosed(Conflict, code="survey_campaign_closed",
                     title="The survey campaign is closed"):
    """Opening, editing or closing again a closed campaign."""


class CampaignNotDraft(Conflict, code="survey_campaign_not_draft",
                       title="The survey campaign is not a draft"):
    """An edit or a second opening of an open campaign: its questions are fixed once open."""


class NotAsked(Forbidden, code="survey_not_asked", title="This survey is not asked of you"):
    """A respondent the campaign does not ask: staff, another audience, a shop it does not
    target, a visit it does not follow."""


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignView:
    """A campaign and how many responses it has."""

    campaign: SurveyCampaign
    responses: int


async def _campaign(db: AsyncSession, campaign_id: int, *, lock: bool = False
                    ) -> SurveyCampaign:
    stmt = select(SurveyCampaign).where(SurveyCampaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()
    found = (await db.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no survey campaign {campaign_id}")
    return found


async def _counts(db: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await db.execute(select(SurveyResponse.campaign_id, func.count()).where(
        SurveyResponse.campaign_id.in_(list(ids))).group_by(SurveyResponse.campaign_id))
    return {int(c): int(n) for c, n in rows.all()}


async def list_campaigns(db: AsyncSession, principal: Principal, *, limit: int = 50,
                         offset: int = 0) -> tuple[list[CampaignView], int]:
    """A page of the campaigns, newest first, with their response counts; and the total."""
    principal.require(MANAGE)
    total = (await db.execute(select(func.count()).select_from(SurveyCampaign))).scalar_one()
    found = list((await db.execute(select(SurveyCampaign).order_by(
        SurveyCampaign.id.desc()).limit(limit).offset(offset))).scalars())
    counts = await _counts(db, [c.id for c in found])
    return [CampaignView(c, counts.get(c.id, 0)) for c in found], int(total)


async def get_campaign(db: AsyncSession, principal: Principal, campaign_id: int
                       ) -> CampaignView:
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id)
    return CampaignView(campaign, (await _counts(db, [campaign_id])).get(campaign_id, 0))


async def version_hashes(db: AsyncSession, version_ids: set[int]) -> dict[int, str]:
    """Version id → content hash (what a client names a survey version by)."""
    if not version_ids:
        return {}
    rows = await db.execute(select(DefinitionVersion.id, DefinitionVersion.content_hash).where(
        DefinitionVersion.id.in_(list(version_ids))))
    return {int(i): str(h) for i, h in rows.all()}


def spec_of(campaign: SurveyCampaign) -> CampaignSpec:
    """The spec a stored campaign was made from."""
    follow = campaign.follow_visit
    return CampaignSpec(
        title=campaign.title, survey=campaign.survey_id, audience=campaign.audience,  # type: ignore[arg-type]
        targeting=msgspec.convert(campaign.targeting or {}, Targeting),
        follow_visit=msgspec.convert(follow, FollowVisit) if follow else None,
        one_per=campaign.one_per if campaign.audience == CONSUMER else None,  # type: ignore[arg-type]
        target_responses=campaign.target_responses,
        period=Period(start=campaign.period_start, end=campaign.period_end))


def spec_json_of(campaign: SurveyCampaign) -> dict[str, Any]:
    return spec_json(spec_of(campaign))


# -- writing ----------------------------------------------------------------------------------

async def known(db: AsyncSession) -> Known:
    """What a spec may name, as the database holds it now."""
    surveys = await current_versions(db, kind="survey")
    roles = (await db.execute(select(Definition.id).where(Definition.kind == "role"))).scalars()
    units = (await db.execute(select(OrgUnit.id))).scalars()
    return Known(surveys={i: v.content.get("audience") for i, v in surveys.items()},
                 roles=frozenset(roles), org_units=frozenset(int(u) for u in units))


async def checked(db: AsyncSession, raw: Any) -> CampaignSpec:
    """``raw`` checked against what exists, or every mistake at once (422)."""
    return check_spec(raw, await known(db))


def _bounds(start: dt.date, end: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The period's days as instants: its first day's start to its last day's end, in ``tz``."""
    opens = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    closes = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)


async def _current_version_id(db: AsyncSession, survey_id: str) -> int:
    version = (await current_versions(db, ids=[survey_id])).get(survey_id)
    if version is None:
        raise NotFound(f"no published survey {survey_id!r}")
    return version.id


async def _apply(db: AsyncSession, campaign: SurveyCampaign, spec: CampaignSpec,
                 tz: dt.tzinfo) -> None:
    campaign.title = spec.title.strip()
    campaign.survey_id = spec.survey
    # A draft shows the current version; opening pins the one current then.
    campaign.version_id = await _current_version_id(db, spec.survey)
    campaign.audience = spec.audience
    campaign.targeting = msgspec.to_builtins(spec.targeting)
    campaign.follow_visit = msgspec.to_builtins(spec.follow_visit) if spec.follow_visit else None
    campaign.one_per = spec.one_per or "device"
    campaign.target_responses = spec.target_responses
    campaign.period_start, campaign.period_end = spec.period.start, spec.period.end
    campaign.opens_at, campaign.closes_at = _bounds(spec.period.start, spec.period.end, tz)


async def create_campaign(db: AsyncSession, principal: Principal, raw: Any, *,
                          tz: dt.tzinfo, now: dt.datetime | None = None) -> SurveyCampaign:
    """A new campaign (a draft) of a checked spec; nothing is stored when it has mistakes."""
    principal.require(MANAGE)
    spec = await checked(db, raw)
    campaign = SurveyCampaign(status=DRAFT, created_by=principal.user_id,
                              created_at=now or utcnow())
    await _apply(db, campaign, spec, tz)
    db.add(campaign)
    await db.flush()
    return campaign


def _refuse_if_closed(campaign: SurveyCampaign) -> None:
    if campaign.status == CLOSED:
        raise CampaignClosed(f"survey campaign {campaign.id} is closed; it takes no changes")


async def update_campaign(db: AsyncSession, principal: Principal, campaign_id: int,
                          raw: Any, *, tz: dt.tzinfo) -> SurveyCampaign:
    """Replace a draft's spec (an open campaign's questions and audience are fixed)."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    if campaign.status != DRAFT:
        raise CampaignNotDraft(f"survey campaign {campaign_id} is open: its spec cannot "
                               f"change (close it and start another)")
    await _apply(db, campaign, await checked(db, raw), tz)
    await db.flush()
    return campaign


async def open_campaign(db: AsyncSession, principal: Principal, campaign_id: int
                        ) -> SurveyCampaign:
    """Open a draft: pin the survey's current published version (responses then answer it,
    whatever is published later); it takes answers within its period."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    if campaign.status != DRAFT:
        raise CampaignNotDraft(f"survey campaign {campaign_id} is open already")
    campaign.version_id = await _current_version_id(db, campaign.survey_id)
    campaign.status = OPEN
    await db.flush()
    return campaign


async def close_campaign(db: AsyncSession, principal: Principal, campaign_id: int, *,
                         now: dt.datetime | None = None) -> SurveyCampaign:
    """Close: no more answers, no more changes."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    campaign.status = CLOSED
    campaign.closed_at = now or utcnow()
    await db.flush()
    return campaign


# -- who is asked -----------------------------------------------------------------------------

def unit_ids_of(path: str) -> set[int]:
    """The unit and its ancestors, from its materialised path (``"/1/4/9/"``)."""
    return {int(p) for p in path.split("/") if p.isdigit()}


def shop_is_targeted(campaign: SurveyCampaign, site: Site, unit_path: str) -> bool:
    """Whether a retailer campaign asks ``site`` (whose org unit has ``unit_path``): in one
    of its units or below one, and of one of its grades (an empty list: any)."""
    if campaign.audience != RETAILER:
        return False
    targeting = campaign.targeting or {}
    units = targeting.get("org_units") or []
    grades = targeting.get("grades") or []
    if units and not unit_ids_of(unit_path) & set(units):
        return False
    grade = (site.attributes or {}).get("grade") if isinstance(site.attributes, dict) else None
    return not grades or (grade is not None and str(grade) in grades)


@dataclass(frozen=True)
class Offer:
    """A survey asked of a respondent now: for a follow-visit campaign, about one visit
    (its id, the day it began in the company's time zone, the staff member's name)."""

    campaign: SurveyCampaign
    visit_id: int | None = None
    visit_day: dt.date | None = None
    staff_id: int | None = None
    staff_name: str | None = None


async def _unit_path(db: AsyncSession, unit_id: int) -> str:
    return (await db.execute(select(OrgUnit.path).where(OrgUnit.id == unit_id))
            ).scalar_one_or_none() or ""


async def _open_campaigns(db: AsyncSession, audience: str, now: dt.datetime
                          ) -> list[SurveyCampaign]:
    at = as_utc(now)
    found = (await db.execute(select(SurveyCampaign).where(
        SurveyCampaign.status == OPEN, SurveyCampaign.audience == audience,
        SurveyCampaign.opens_at <= at, SurveyCampaign.closes_at > at)
        .order_by(SurveyCampaign.closes_at, SurveyCampaign.id))).scalars()
    return [c for c in found if is_open(c, at)]


def _window(campaign: SurveyCampaign, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The check-ins a follow-visit campaign asks about at ``now``: within its last
    ``within_days`` days, and inside the period."""
    days = int((campaign.follow_visit or {}).get("within_days", 0))
    since = max(as_utc(now) - dt.timedelta(days=days), as_utc(campaign.opens_at))
    return since, min(as_utc(now), as_utc(campaign.closes_at))


async def _followed_visits(db: AsyncSession, campaign: SurveyCampaign, site_id: int,
                           now: dt.datetime, visit_id: int | None = None
                           ) -> list[tuple[Visit, User]]:
    roles = list((campaign.follow_visit or {}).get("roles") or [])
    since, until = _window(campaign, now)
    stmt = (select(Visit, User).join(User, User.id == Visit.user_id).where(
        Visit.site_id == site_id, User.role_id.in_(roles), Visit.checked_in_at >= since,
        Visit.checked_in_at <= until).order_by(Visit.checked_in_at, Visit.id))
    if visit_id is not None:
        stmt = stmt.where(Visit.id == visit_id)
    return [(v, u) for v, u in (await db.execute(stmt)).all()]


async def asked_of_shop(db: AsyncSession, site: Site, now: dt.datetime, *,
                        tz: dt.tzinfo = dt.UTC) -> list[Offer]:
    """The open retailer campaigns ``site`` is asked to answer and has not answered; a
    follow-visit campaign once per visit it follows, not yet answered about that visit."""
    path = await _unit_path(db, site.org_unit_id)
    offers: list[Offer] = []
    for campaign in await _open_campaigns(db, RETAILER, now):
        if not shop_is_targeted(campaign, site, path):
            continue
        answered = select(SurveyResponse.about_visit_id).where(
            SurveyResponse.campaign_id == campaign.id, SurveyResponse.site_id == site.id,
            SurveyResponse.respondent == RETAILER)
        if campaign.follow_visit:
            done = {v for v in (await db.execute(answered)).scalars()}
            for visit, user in await _followed_visits(db, campaign, site.id, now):
                if visit.id not in done:
                    offers.append(Offer(campaign, visit.id,
                                        as_utc(visit.checked_in_at).astimezone(tz).date(),
                                        user.id, user.display_name))
        elif (await db.execute(answered.limit(1))).first() is None:
            offers.append(Offer(campaign))
    return offers


async def industry_asked(db: AsyncSession, principal: Principal, now: dt.datetime
                         ) -> list[Offer]:
    """The open industry campaigns the industry user has not answered."""
    done = set((await db.execute(select(SurveyResponse.campaign_id).where(
        SurveyResponse.user_id == principal.user_id))).scalars())
    return [Offer(c) for c in await _open_campaigns(db, INDUSTRY, now) if c.id not in done]


def is_retailer(principal: Principal) -> bool:
    """A shop's own account: answers the surveys asked of its shop."""
    return principal.org_scope == "own_shop" and principal.site_id is not None


async def is_industry(db: AsyncSession, principal: Principal) -> bool:
    """An industry user: a role written for the industry audience."""
    return (await role_content(db, principal.role_id)).get("audience") == INDUSTRY


async def my_surveys(db: AsyncSession, principal: Principal, *, now: dt.datetime | None = None,
                     tz: dt.tzinfo = dt.UTC) -> list[Offer]:
    """What the signed-in retailer or industry user is asked to answer now (nothing for
    anyone else)."""
    now = now or utcnow()
    if not principal.can(RESPOND):
        return []
    if is_retailer(principal):
        site = await db.get(Site, principal.site_id)
        return await asked_of_shop(db, site, now, tz=tz) if site is not None else []
    if await is_industry(db, principal):
        return await industry_asked(db, principal, now)
    return []


async def offer_for(db: AsyncSession, principal: Principal, campaign_id: int,
                    about_visit_id: int | None = None, *, now: dt.datetime | None = None,
                    tz: dt.tzinfo = dt.UTC) -> Offer:
    """The campaign as asked of the principal (the answer page), or why not: 404 no such
    campaign, 403 not asked of you (or the visit not followed), 409 answered already."""
    now = now or utcnow()
    campaign = await _campaign(db, campaign_id)
    offer, _ = await _respondent(db, principal, campaign, about_visit_id, now=now, tz=tz)
    return offer


async def _respondent(db: AsyncSession, principal: Principal, campaign: SurveyCampaign,
                      about_visit_id: int | None, *, now: dt.datetime, tz: dt.tzinfo,
                      lock: bool = False) -> tuple[Offer, Respondent]:
    if not principal.can(RESPOND):
        raise NotAsked(f"your role ({principal.role_id}) does not answer surveys")
    if campaign.audience == RETAILER and is_retailer(principal):
        stmt = select(Site).where(Site.id == principal.site_id)
        if lock:
            # One response per shop (per visit): read, then insert, under a lock on the
            # shop's row, so two of its phones answering at once store one. No unique index
            # is needed (nor could one hold: consumers answer many times about one shop, and
            # a follow-visit campaign once per visit); SQLite writes one at a time anyway.
            stmt = stmt.with_for_update()
        site = (await db.execute(stmt)).scalar_one_or_none()
        if site is None or not shop_is_targeted(campaign, site,
                                                await _unit_path(db, site.org_unit_id)):
            raise NotAsked(f"survey campaign {campaign.id} does not ask your shop")
        offer = Offer(campaign)
        if campaign.follow_visit:
            if about_visit_id is None:
                raise InvalidInput("name the visit the answers are about", [Problem(
                    "/about_visit_id", "this survey follows visits: name the visit it is "
                    "about", "required")])
            found = await _followed_visits(db, campaign, site.id, now, about_visit_id)
            if not found:
                raise NotAsked(f"survey campaign {campaign.id} does not ask about visit "
                               f"{about_visit_id} (not at your shop, by another role, or "
                               f"outside its days)")
            visit, user = found[0]
            offer = Offer(campaign, visit.id, as_utc(visit.checked_in_at).astimezone(tz).date(),
                          user.id, user.display_name)
        elif about_visit_id is not None:
            raise InvalidInput("this survey does not follow visits", [Problem(
                "/about_visit_id", "this survey is not about a visit: leave about_visit_id "
                "out", "invalid")])
        answered = select(SurveyResponse.id).where(
            SurveyResponse.campaign_id == campaign.id, SurveyResponse.site_id == site.id,
            SurveyResponse.respondent == RETAILER)
        if offer.visit_id is not None:
            answered = answered.where(SurveyResponse.about_visit_id == offer.visit_id)
        if (await db.execute(answered.limit(1))).first() is not None:
            raise AlreadyAnswered(f"your shop has answered survey campaign {campaign.id}"
                                  + (f" about visit {offer.visit_id}" if offer.visit_id
                                     else ""))
        return offer, Respondent(RETAILER, user_id=principal.user_id, site_id=site.id,
                                 org_unit_id=site.org_unit_id, about_visit_id=offer.visit_id,
                                 about_user_id=offer.staff_id)
    if campaign.audience == INDUSTRY and await is_industry(db, principal):
        if about_visit_id is not None:
            raise InvalidInput("this survey does not follow visits", [Problem(
                "/about_visit_id", "this survey is not about a visit: leave about_visit_id "
                "out", "invalid")])
        answered = select(SurveyResponse.id).where(
            SurveyResponse.campaign_id == campaign.id,
            SurveyResponse.user_id == principal.user_id)
        if (await db.execute(answered.limit(1))).first() is not None:
            raise AlreadyAnswered(f"you have answered survey campaign {campaign.id}")
        return Offer(campaign), Respondent(INDUSTRY, user_id=principal.user_id,
                                           org_unit_id=principal.org_unit_id)
    raise NotAsked(f"survey campaign {campaign.id} asks {campaign.audience} respondents")


async def respond(db: AsyncSession, principal: Principal, campaign_id: int, response_id: str,
                  body: bytes, *, about_visit_id: int | None = None,
                  now: dt.datetime | None = None, lang: str = "zh",
                  tz: dt.tzinfo = dt.UTC) -> StoredResponse:
    """Store a signed-in respondent's answers (``body``: ``{"answers": {...}}``), once.

    A retry of a stored response (same id) gets its result, whatever happened since;
    otherwise 404 (no campaign), 403 ``survey_not_asked``, 409 ``survey_already_answered``,
    409 ``survey_campaign_not_open``, 422 (every problem of the answers at once)."""
    now = now or utcnow()
    campaign = await _campaign(db, campaign_id)
    stored = await db.get(SurveyResponse, response_id)
    if stored is not None and stored.campaign_id == campaign.id \
            and stored.user_id == principal.user_id:
        mine = Respondent(stored.respondent, user_id=stored.user_id)
        return await store_response(db, campaign, response_id, body, mine, lang=lang, now=now)
    _, respondent = await _respondent(db, principal, campaign, about_visit_id, now=now,
                                      tz=tz, lock=True)
    return await store_response(db, campaign, response_id, body, respondent, lang=lang,
                                now=now)


# -- a visit checked out: the shop is asked about it -----------------------------------------

@after_check_out
async def ask_shop_about_visit(db: AsyncSession, visit: Visit, site: Site) -> None:
    """When a visit at a shop a follow-visit campaign asks about is checked out, the shop's
    own accounts are told (their inbox): 请您对本次拜访进行评价."""
    now = utcnow()
    asked = [o for o in await asked_of_shop(db, site, now) if o.visit_id == visit.id]
    if not asked:
        return
    accounts = list((await db.execute(select(User.id).where(
        User.site_id == site.id, User.active.is_(True)))).scalars())
    if not accounts:
        return
    for offer in asked:
        await notify(
            db, user_ids=accounts, kind="survey_asked",
            message={"zh": "请您对本次拜访进行评价。", "en": "Please rate this visit."},
            link=f"/surveys/{offer.campaign.id}/answer?visit={visit.id}",
            dedupe_key=f"survey:{offer.campaign.id}:visit:{visit.id}")
