"""Check campaigns as a service: create, draw on the record, re-draw, close, progress.

A campaign's spec is checked by ``rounds.draws.check_spec`` and its form must exist: a
standard named as ``standard``, or a survey named as ``survey`` (a market survey task).
A draw resolves its inputs from the database (:func:`resolve_inputs`), takes a seed from
the operating system's cryptographic source, runs ``rounds.draws.draw`` and stores the
inputs' exact bytes, the seed and the result: the published record anyone can re-run
(``rounds.draws.verify``). A draw is never changed; a re-draw (with its reason) is a new
draw, and the first is kept, marked superseded. A closed campaign refuses every change.

Working a campaign is working as usual: the drawn inspectors' scope takes in their drawn
site during the period while the campaign is not closed (``access.widen_site_scope``), so
they check in and submit there; "my day" lists the site as a check of the campaign
(``visits.plans.more_stops``). Progress matches visits and submissions to the assignments by
site, team member, period and (for submissions) the campaign's standard.

Who runs campaigns: the roles with the capability ``campaign.manage``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import DB_INT_MAX, utcnow
from rounds.draws import CampaignError, CampaignSpec, DrawInputs, DrawResult, check_spec, new_seed
from rounds.draws import draw as run_engine
from rounds.draws.draw import Inspector, OrgUnit, PastDraw, Service
from rounds.draws.draw import Site as DrawSite
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.pointer import join as pointer
from rounds.rules.operations import haversine_m
from rounds.runtime.access import Principal, widen_site_scope
from rounds.runtime.campaigns.models import (
    CLOSED,
    DRAFT,
    DRAWN,
    CampaignAssignment,
    CampaignDraw,
    CheckCampaign,
)
from rounds.runtime.definitions.service import current_versions
from rounds.runtime.issues.models import CLOSED as ISSUE_CLOSED
from rounds.runtime.issues.models import VERIFIED as ISSUE_VERIFIED
from rounds.runtime.issues.models import Issue
from rounds.runtime.orgs.models import OrgUnit as OrgUnitRow
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.plans import DayStop, more_stops

MANAGE = "campaign.manage"
FORM_KINDS = ("standard", "survey")


class CampaignClosed(Conflict, code="campaign_closed", title="The campaign is closed"):
    """Any change (an edit, a draw, closing again) of a closed campaign."""


class CampaignDrawn(Conflict, code="campaign_drawn", title="The campaign is drawn"):
    """An edit of a campaign that has a draw: its spec is part of the published inputs."""


class DrawnMeanwhile(Conflict, code="campaign_drawn_meanwhile",
                     title="The campaign was drawn meanwhile"):
    """Two draws of one campaign at the same moment: the first stored wins (the unique draw
    number decides; on SQLite no row lock orders them before that)."""


class RedrawReason(InvalidInput, code="redraw_reason", title="A re-draw needs its reason"):
    """A second draw without a reason: a re-draw is recorded with why."""


# -- reading ---------------------------------------------------------------------------------

async def _campaign(db: AsyncSession, campaign_id: int, *, lock: bool = False
                    ) -> CheckCampaign:
    stmt = select(CheckCampaign).where(CheckCampaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()  # draws and closes of one campaign, one at a time
    campaign = (await db.execute(stmt)).scalar_one_or_none()
    if campaign is None:
        raise NotFound(f"no check campaign {campaign_id}")
    return campaign


def spec_of(campaign: CheckCampaign) -> CampaignSpec:
    return msgspec.convert(campaign.spec, CampaignSpec)


def _refuse_if_closed(campaign: CheckCampaign) -> None:
    if campaign.status == CLOSED:
        at = campaign.closed_at.isoformat() if campaign.closed_at else "?"
        raise CampaignClosed(f"check campaign {campaign.id} was closed at {at}; it takes no "
                             f"more changes")


async def list_campaigns(db: AsyncSession, principal: Principal) -> list[CheckCampaign]:
    principal.require(MANAGE)
    return list((await db.execute(select(CheckCampaign).order_by(CheckCampaign.id.desc()))
                 ).scalars())


async def get_campaign(db: AsyncSession, principal: Principal, campaign_id: int
                       ) -> tuple[CheckCampaign, list[CampaignDraw]]:
    """The campaign and its draws, the first first."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id)
    return campaign, await _draws(db, campaign_id)


async def _draws(db: AsyncSession, campaign_id: int) -> list[CampaignDraw]:
    return list((await db.execute(select(CampaignDraw).where(
        CampaignDraw.campaign_id == campaign_id).order_by(CampaignDraw.number))).scalars())


async def published_draw(db: AsyncSession, principal: Principal, campaign_id: int,
                         number: int) -> CampaignDraw:
    """A draw's record as published: the inputs' bytes, the seed, the result."""
    principal.require(MANAGE)
    found = (await db.execute(select(CampaignDraw).where(
        CampaignDraw.campaign_id == campaign_id, CampaignDraw.number == number))
             ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no draw {number} of check campaign {campaign_id}")
    return found


# -- writing ---------------------------------------------------------------------------------

async def _checked(db: AsyncSession, raw_spec: Any) -> CampaignSpec:
    """The spec checked, its standard (or survey) existing: or every mistake at once."""
    spec = check_spec(raw_spec)
    # Ids the database cannot hold name nothing (and would fail the query on PostgreSQL).
    too_big = [Problem(pointer(*where, n), f"no such id: {i} is beyond any id", "invalid",
                       "campaign")
               for where, ids in ((("population", "org_units"), spec.population.org_units),
                                  (("population", "site_ids"), spec.population.site_ids or []),
                                  (("pool", "org_units"), spec.pool.org_units))
               for n, i in enumerate(ids) if not 0 < i <= DB_INT_MAX]
    if too_big:
        raise CampaignError.of(too_big)
    form, kind = spec.form, spec.form_kind
    current = await current_versions(db, ids=[form, *spec.pool.roles])
    version = current.get(form)
    problems: list[Problem] = []
    found = version.content.get("kind") if version is not None else None
    if found != kind:
        # A standard named as a survey (or the other way) is named at its field, saying
        # what it is, so the fix is to move it to the other field.
        other = f": it is a {found}, name it as \"{found}\"" if found in FORM_KINDS else ""
        problems.append(Problem(f"/{kind}", f"no {kind} {form!r}{other}",
                                "unknown_reference", "campaign"))
        version = None
    # The drawn inspectors submit the campaign's form: a role that does not work with it
    # would have its staff refused at the first submission, after the draw is published.
    for n, role_id in enumerate(spec.pool.roles):
        role = current.get(role_id)
        content = role.content if role is not None else {}
        if role is None or content.get("kind") != "role":
            problems.append(Problem(pointer("pool", "roles", n), f"no role {role_id!r}",
                                    "unknown_reference", "campaign"))
        elif version is not None and form not in (
                *(content.get("standards") or []), *(content.get("surveys") or [])):
            problems.append(Problem(
                pointer("pool", "roles", n), f"the role {role_id!r} does not work with "
                f"{form!r}: its staff could not submit the campaign's form (add it "
                f"to the role's {kind}s, or draw from another role)", "role_without_form",
                "campaign"))
    if problems:
        raise CampaignError.of(problems)
    return spec


def _set_period(campaign: CheckCampaign, spec: CampaignSpec, tz: dt.tzinfo) -> None:
    campaign.period_start, campaign.period_end = spec.period.start, spec.period.end
    campaign.opens_at, campaign.closes_at = _bounds(campaign, tz)


async def create_campaign(db: AsyncSession, principal: Principal, *, title: str,
                          spec: Any, tz: dt.tzinfo, now: dt.datetime | None = None
                          ) -> CheckCampaign:
    """A new campaign (a draft) of a checked spec; nothing is stored when it has mistakes."""
    principal.require(MANAGE)
    if not title.strip():
        raise InvalidInput("name the campaign", [Problem("/title", "a title is required",
                                                         "required")])
    checked = await _checked(db, spec)
    campaign = CheckCampaign(
        title=title.strip(), standard_id=checked.form, spec=msgspec.to_builtins(checked),
        status=DRAFT, created_by=principal.user_id, created_at=now or utcnow())
    _set_period(campaign, checked, tz)
    db.add(campaign)
    await db.flush()
    return campaign


async def update_campaign(db: AsyncSession, principal: Principal, campaign_id: int, *,
                          tz: dt.tzinfo, title: str | None = None, spec: Any = None
                          ) -> CheckCampaign:
    """Edit a draft: once drawn, its spec is in the published inputs; once closed, nothing."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    if campaign.status != DRAFT:
        raise CampaignDrawn(f"check campaign {campaign_id} is drawn: its spec is part of "
                            f"the published draw and cannot change (close it and start "
                            f"another)")
    if title is not None:
        if not title.strip():
            raise InvalidInput("name the campaign", [Problem("/title", "a title is required",
                                                             "required")])
        campaign.title = title.strip()
    if spec is not None:
        checked = await _checked(db, spec)
        campaign.spec = msgspec.to_builtins(checked)
        campaign.standard_id = checked.form
        _set_period(campaign, checked, tz)
    await db.flush()
    return campaign


async def close_campaign(db: AsyncSession, principal: Principal, campaign_id: int, *,
                         now: dt.datetime | None = None) -> CheckCampaign:
    """Close: no more draws or edits, and the drawn sites leave the inspectors' scope."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    campaign.status = CLOSED
    campaign.closed_at = now or utcnow()
    await db.flush()
    return campaign


# -- the draw --------------------------------------------------------------------------------

def _days_before(day: dt.date, days: int) -> dt.date:
    try:
        return day - dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min


def _grade(attributes: Any) -> str | None:
    grade = (attributes or {}).get("grade") if isinstance(attributes, dict) else None
    return None if grade is None else str(grade)


async def resolve_inputs(db: AsyncSession, spec: CampaignSpec, campaign_id: int) -> DrawInputs:
    """The draw's inputs as the database holds them now: every org unit (the parent map),
    the sites that may be in the population (the engine applies the filter), the people of
    the pool's roles, who serves which site (current site assignments, and visits within
    ``served_within_days`` before the period) and the sites other campaigns' current draws
    drew within ``redraw_within_days`` before it."""
    units = [OrgUnit(id=i, parent=p) for i, p in
             (await db.execute(select(OrgUnitRow.id, OrgUnitRow.parent_id))).all()]
    site_query = select(Site.id, Site.code, Site.org_unit_id, Site.site_kind, Site.attributes)
    if spec.population.site_kinds:
        site_query = site_query.where(Site.site_kind.in_(spec.population.site_kinds))
    if spec.population.site_ids is not None:
        site_query = site_query.where(Site.id.in_(spec.population.site_ids))
    sites = [DrawSite(id=i, code=c, org_unit=u, kind=k, grade=_grade(a))
             for i, c, u, k, a in (await db.execute(site_query)).all()]
    people = (await db.execute(select(User.id, User.org_unit_id, User.role_id).where(
        User.role_id.in_(spec.pool.roles), User.active.is_(True)))).all()
    inspectors = [Inspector(id=i, org_unit=u, roles=[r]) for i, u, r in people]
    ids = [i.id for i in inspectors]
    services: list[Service] = []
    if ids:
        serving = (await db.execute(select(SiteAssignment.user_id, SiteAssignment.site_id)
                                    .where(SiteAssignment.user_id.in_(ids))
                                    .distinct())).all()
        services += [Service(inspector=u, site=s) for u, s in serving]
        since = _days_before(spec.period.start, spec.exclusions.served_within_days)
        since_at = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        visited = (await db.execute(
            select(Visit.user_id, Visit.site_id, func.max(Visit.checked_in_at))
            .where(Visit.user_id.in_(ids), Visit.checked_in_at >= since_at)
            .group_by(Visit.user_id, Visit.site_id))).all()
        current = {(s.inspector, s.site) for s in services}
        services += [Service(inspector=u, site=s, until=_as_date(last))
                     for u, s, last in visited if (u, s) not in current]
    since_drawn = _days_before(spec.period.start, spec.exclusions.redraw_within_days)
    drawn_rows = (await db.execute(
        select(CampaignAssignment.site_id, func.max(CampaignDraw.drawn_at))
        .join(CampaignDraw, CampaignDraw.id == CampaignAssignment.draw_id)
        .where(CampaignDraw.campaign_id != campaign_id, CampaignDraw.superseded_by.is_(None),
               CampaignDraw.drawn_at >= dt.datetime.combine(since_drawn, dt.time(),
                                                            tzinfo=dt.UTC))
        .group_by(CampaignAssignment.site_id))).all()
    past = [PastDraw(site=s, drawn_on=_as_date(at)) for s, at in drawn_rows]
    return DrawInputs(spec=spec, org_units=units, sites=sites, inspectors=inspectors,
                      services=services, past_draws=past)


def _as_date(value: Any) -> dt.date:
    """A day out of ``max()`` of a timestamp: SQLite hands back text, PostgreSQL a datetime."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return dt.datetime.fromisoformat(str(value)).date()


async def draw_campaign(db: AsyncSession, principal: Principal, campaign_id: int, *,
                        reason: str | None = None, now: dt.datetime | None = None
                        ) -> CampaignDraw:
    """Draw the campaign (a re-draw when it has a draw: ``reason`` is then required, the
    earlier draw is kept and marked superseded). Stores the record and its assignments."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id, lock=True)
    _refuse_if_closed(campaign)
    earlier = await _draws(db, campaign_id)
    reason = (reason or "").strip() or None
    if earlier and reason is None:
        raise RedrawReason(f"check campaign {campaign_id} was drawn already (draw "
                           f"{earlier[-1].number}); a re-draw needs its reason",
                           [Problem("/reason", "say why the campaign is drawn again",
                                    "required", "body")])
    spec = spec_of(campaign)
    inputs = await resolve_inputs(db, spec, campaign_id)
    published = msgspec.json.encode(inputs)  # the bytes stored and published, as they are
    seed = new_seed()
    result = run_engine(msgspec.json.decode(published, type=DrawInputs), seed)
    record = CampaignDraw(
        campaign_id=campaign_id, number=len(earlier) + 1, algorithm=result.algorithm,
        inputs=published, inputs_digest=result.inputs_digest, seed=result.seed,
        result=msgspec.to_builtins(result), drawn_by=principal.user_id,
        drawn_at=now or utcnow(), reason=reason)
    db.add(record)
    try:
        await db.flush()
    except IntegrityError:
        raise DrawnMeanwhile(
            f"check campaign {campaign_id} was drawn by someone else at the same moment "
            f"(draw {record.number}); reload it, and re-draw with a reason if still needed",
            [Problem("", "another draw was stored first", "drawn_meanwhile", "body")]
        ) from None
    for stratum in result.strata:
        for drawn in stratum.drawn:
            db.add(CampaignAssignment(
                draw_id=record.id, site_id=drawn.site, stratum=stratum.key,
                lead_id=drawn.team[0] if drawn.team else None,
                second_id=drawn.team[1] if len(drawn.team) > 1 else None))
    current = [d for d in earlier if d.superseded_by is None]
    if current:
        # The one column ever set on a stored draw, once, from null.
        await db.execute(update(CampaignDraw).where(
            CampaignDraw.id.in_([d.id for d in current]), CampaignDraw.superseded_by.is_(None)
        ).values(superseded_by=record.id).execution_options(synchronize_session=False))
    campaign.status = DRAWN
    await db.flush()
    return record


def decoded_result(record: CampaignDraw) -> DrawResult:
    return msgspec.convert(record.result, DrawResult)


# -- working it --------------------------------------------------------------------------------

def _in_team(user_id: Any) -> ColumnElement[bool]:
    return or_(CampaignAssignment.lead_id == user_id, CampaignAssignment.second_id == user_id)


def _live() -> Any:
    """Assignments of current draws of drawn (not closed) campaigns."""
    return (select(CampaignAssignment, CampaignDraw, CheckCampaign)
            .join(CampaignDraw, CampaignDraw.id == CampaignAssignment.draw_id)
            .join(CheckCampaign, CheckCampaign.id == CampaignDraw.campaign_id)
            .where(CampaignDraw.superseded_by.is_(None), CheckCampaign.status == DRAWN))


@widen_site_scope
def drawn_site(user_id: Any) -> ColumnElement[bool]:
    """The sites ``user_id`` was drawn to check, during the period (its days in the
    company's time zone, as instants), while the campaign is not closed."""
    now = func.now()
    return Site.id.in_(
        select(CampaignAssignment.site_id)
        .join(CampaignDraw, CampaignDraw.id == CampaignAssignment.draw_id)
        .join(CheckCampaign, CheckCampaign.id == CampaignDraw.campaign_id)
        .where(_in_team(user_id), CampaignDraw.superseded_by.is_(None),
               CheckCampaign.status == DRAWN, CheckCampaign.opens_at <= now,
               CheckCampaign.closes_at > now))


def _bounds(campaign: CheckCampaign, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The period as instants: from its first day's start to its last day's end, in ``tz``."""
    start = dt.datetime.combine(campaign.period_start, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(campaign.period_end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True)
class Worked:
    """What was done at an assignment: visited, submitted, and the latest submission of the
    campaign's form by its team (its id; whether it passed)."""

    visited: bool
    submitted: bool
    passed: bool | None
    submission_id: str | None


async def _worked(db: AsyncSession, campaign: CheckCampaign,
                  assignments: Sequence[CampaignAssignment], tz: dt.tzinfo
                  ) -> dict[int, Worked]:
    """Assignment id → what its team did at its site during the period."""
    start, end = _bounds(campaign, tz)
    teams = {a.id: {u for u in (a.lead_id, a.second_id) if u is not None} for a in assignments}
    sites = {a.site_id for a in assignments}
    users = {u for team in teams.values() for u in team}
    if not sites or not users:
        return {a.id: Worked(False, False, None, None) for a in assignments}
    visits = {(u, s) for u, s in (await db.execute(select(Visit.user_id, Visit.site_id).where(
        Visit.site_id.in_(sites), Visit.user_id.in_(users), Visit.checked_in_at >= start,
        Visit.checked_in_at < end).distinct())).all()}
    subs = (await db.execute(select(
        Submission.user_id, Submission.site_id, Submission.id, Submission.passed)
        .where(Submission.definition_id == campaign.standard_id,
               Submission.site_id.in_(sites), Submission.user_id.in_(users),
               Submission.submitted_at >= start, Submission.submitted_at < end)
        .order_by(Submission.submitted_at, Submission.id))).all()
    latest: dict[tuple[int, int | None], tuple[int, str, bool | None]] = {}
    for n, (u, s, sid, passed) in enumerate(subs):
        latest[(u, s)] = (n, sid, passed)  # in time order: the last one wins
    out: dict[int, Worked] = {}
    for a in assignments:
        team = teams[a.id]
        # The team's latest, whichever member sent it (a team of two may both submit).
        done = max((latest[(u, a.site_id)] for u in team if (u, a.site_id) in latest),
                   default=None)
        out[a.id] = Worked(visited=any((u, a.site_id) in visits for u in team),
                           submitted=done is not None,
                           passed=done[2] if done else None,
                           submission_id=done[1] if done else None)
    return out


@dataclass(frozen=True)
class SiteOutcome:
    """A drawn site of the current draw and what came of it: its team (the lead first, as
    ``(user id, name)``), what they did, and the latest submission's result and the issues
    it raised (``issues_done``: verified or closed)."""

    assignment_id: int
    site: Site
    org_unit: dict[str, str]  # its name by language
    stratum: str
    team: tuple[tuple[int, str], ...]
    worked: Worked
    submitted_at: dt.datetime | None = None
    score_value: float | None = None
    score_model: str | None = None
    percentage: float | None = None
    outcome: str | None = None
    issues_raised: int = 0
    issues_done: int = 0


def current_draw(draws: Sequence[CampaignDraw]) -> CampaignDraw | None:
    """The draw in force: the one no re-draw superseded."""
    return next((d for d in draws if d.superseded_by is None), None)


async def site_outcomes(db: AsyncSession, campaign: CheckCampaign, draw: CampaignDraw,
                        tz: dt.tzinfo) -> list[SiteOutcome]:
    """Every drawn site of ``draw``, by stratum and site code. No access check: the callers
    decide who sees it (the campaign's managers; the public, once the campaign is closed)."""
    rows = (await db.execute(
        select(CampaignAssignment, Site, OrgUnitRow.name_zh, OrgUnitRow.name_en)
        .join(Site, Site.id == CampaignAssignment.site_id)
        .join(OrgUnitRow, OrgUnitRow.id == Site.org_unit_id)
        .where(CampaignAssignment.draw_id == draw.id)
        .order_by(CampaignAssignment.stratum, Site.code))).all()
    assignments = [a for a, *_ in rows]
    worked = await _worked(db, campaign, assignments, tz)
    people = {u for a in assignments for u in (a.lead_id, a.second_id) if u is not None}
    names = dict((await db.execute(select(User.id, User.display_name).where(
        User.id.in_(people)))).all()) if people else {}
    submission_ids = [w.submission_id for w in worked.values() if w.submission_id]
    results: dict[str, Any] = {}
    raised: dict[str, list[int]] = {}
    if submission_ids:
        results = {r.id: r for r in (await db.execute(select(
            Submission.id, Submission.submitted_at, Submission.score_value,
            Submission.score_model, Submission.percentage, Submission.outcome).where(
            Submission.id.in_(submission_ids)))).all()}
        for sid, status, count in (await db.execute(
                select(Issue.submission_id, Issue.status, func.count())
                .where(Issue.submission_id.in_(submission_ids))
                .group_by(Issue.submission_id, Issue.status))).all():
            if sid is None:
                continue
            tally = raised.setdefault(sid, [0, 0])
            tally[0] += count
            tally[1] += count if status in (ISSUE_VERIFIED, ISSUE_CLOSED) else 0
    out = []
    for a, site, unit_zh, unit_en in rows:
        w = worked[a.id]
        team = tuple((u, names.get(u, str(u))) for u in (a.lead_id, a.second_id)
                     if u is not None)
        r = results.get(w.submission_id or "")
        counts = raised.get(w.submission_id or "", [0, 0])
        out.append(SiteOutcome(
            assignment_id=a.id, site=site, org_unit={"zh": unit_zh, "en": unit_en},
            stratum=a.stratum,
            team=team, worked=w, submitted_at=r.submitted_at if r else None,
            score_value=r.score_value if r else None, score_model=r.score_model if r else None,
            percentage=r.percentage if r else None, outcome=r.outcome if r else None,
            issues_raised=counts[0], issues_done=counts[1]))
    return out


@dataclass(frozen=True)
class StratumProgress:
    """A stratum's coverage (drawn, without a team, visited, submitted) and results (passed,
    failed, the mean score of the submitted, the issues raised and done)."""

    stratum: str
    drawn: int
    unassigned: int
    visited: int
    submitted: int
    passed: int
    failed: int
    mean_score: float | None
    issues_raised: int
    issues_done: int


def strata_of(outcomes: Sequence[SiteOutcome]) -> list[StratumProgress]:
    """The outcomes summed per stratum, in the strata's order."""
    groups: dict[str, list[SiteOutcome]] = {}
    for o in outcomes:
        groups.setdefault(o.stratum, []).append(o)
    out = []
    for key in sorted(groups):
        group = groups[key]
        scores = [o.score_value for o in group if o.score_value is not None]
        out.append(StratumProgress(
            stratum=key, drawn=len(group), unassigned=sum(not o.team for o in group),
            visited=sum(o.worked.visited for o in group),
            submitted=sum(o.worked.submitted for o in group),
            passed=sum(o.worked.passed is True for o in group),
            failed=sum(o.worked.passed is False for o in group),
            mean_score=round(sum(scores) / len(scores), 2) if scores else None,
            issues_raised=sum(o.issues_raised for o in group),
            issues_done=sum(o.issues_done for o in group)))
    return out


async def outcomes(db: AsyncSession, principal: Principal, campaign_id: int, *,
                   tz: dt.tzinfo = dt.UTC) -> tuple[CheckCampaign, CampaignDraw | None,
                                                    list[SiteOutcome]]:
    """The campaign's drawn sites and what came of them (none before the first draw)."""
    principal.require(MANAGE)
    campaign = await _campaign(db, campaign_id)
    current = current_draw(await _draws(db, campaign_id))
    if current is None:
        return campaign, None, []
    return campaign, current, await site_outcomes(db, campaign, current, tz)


async def progress(db: AsyncSession, principal: Principal, campaign_id: int, *,
                   tz: dt.tzinfo = dt.UTC) -> tuple[CheckCampaign, CampaignDraw | None,
                                                    list[StratumProgress]]:
    """Per stratum of the current draw: coverage and results."""
    campaign, current, sites = await outcomes(db, principal, campaign_id, tz=tz)
    return campaign, current, strata_of(sites)


@dataclass(frozen=True)
class CampaignVisit:
    """A drawn site to check, as its inspector sees it."""

    campaign_id: int
    campaign_title: str
    standard_id: str
    period_start: dt.date
    period_end: dt.date
    site: Site
    team: list[int]
    lead: bool
    visited: bool
    submitted: bool


async def my_campaign_visits(db: AsyncSession, principal: Principal, *,
                             today: dt.date | None = None, tz: dt.tzinfo = dt.UTC
                             ) -> list[CampaignVisit]:
    """The principal's drawn sites in campaigns not closed whose period has not ended."""
    principal.require("visit.check_in")
    today = today or dt.datetime.now(tz).date()
    rows = (await db.execute(_live().add_columns(Site).join(
        Site, Site.id == CampaignAssignment.site_id).where(
        _in_team(principal.user_id), CheckCampaign.period_end >= today)
        .order_by(CheckCampaign.period_end, CheckCampaign.id, Site.code))).all()
    out: list[CampaignVisit] = []
    by_campaign: dict[int, list[Any]] = {}
    for row in rows:
        by_campaign.setdefault(row[2].id, []).append(row)
    for group in by_campaign.values():
        campaign = group[0][2]
        worked = await _worked(db, campaign, [r[0] for r in group], tz)
        for a, _, c, site in group:
            w = worked[a.id]
            out.append(CampaignVisit(
                campaign_id=c.id, campaign_title=c.title, standard_id=c.standard_id,
                period_start=c.period_start, period_end=c.period_end, site=site,
                team=[u for u in (a.lead_id, a.second_id) if u is not None],
                lead=a.lead_id == principal.user_id, visited=w.visited,
                submitted=w.submitted))
    return out


def _metres(near: tuple[float, float] | None, site: Site) -> float | None:
    """As for planned stops: metres from ``near``, rounded to 0.1 m."""
    if near is None:
        return None
    return round(haversine_m(near[0], near[1], site.lat, site.lng), 1)


@more_stops
async def campaign_stops(db: AsyncSession, principal: Principal, today: dt.date,
                         tz: dt.tzinfo, near: tuple[float, float] | None) -> list[DayStop]:
    """"My day"'s campaign checks: drawn sites of the period not submitted yet."""
    visits = await my_campaign_visits(db, principal, today=today, tz=tz)
    return [DayStop(v.site.id, v.site.code, v.site.name, v.site.address, v.site.site_kind,
                    v.site.lat, v.site.lng, _metres(near, v.site), 1, 0, 1, "campaign", 1,
                    campaign_id=v.campaign_id, campaign_title=v.campaign_title)
            for v in visits if v.period_start <= today and not v.submitted]


