"""The public record of a closed check campaign (一公开: the results made public).

Only a CLOSED campaign has a public record; any other is :class:`~rounds.errors.NotFound`,
exactly as a campaign that does not exist, so drafts and running campaigns are not revealed.
The record is what :func:`~rounds.runtime.campaigns.service.site_outcomes` gives the
campaign's managers, cut to what the company chose to show (the spec's ``publication``):
the inspectors' names only with ``"names"`` and never anything else of them (no ids, no
phone), the score only with ``scores``. The draws' verification data is all public: the
algorithm, the seed, the digest, each re-draw with its reason, and the inputs' exact bytes
(ids of sites, units and inspectors, no names: docs/draws.md), so anyone can re-run a draw.

No access check here: the callers are the public pages and API, open to anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.draws import Publication
from rounds.errors import NotFound
from rounds.runtime.campaigns.answers import CampaignAnswers, answers_of
from rounds.runtime.campaigns.models import CLOSED, CampaignDraw, CheckCampaign
from rounds.runtime.campaigns.service import (
    SiteOutcome,
    current_draw,
    decoded_result,
    site_outcomes,
    spec_of,
    strata_of,
)
from rounds.runtime.definitions.service import current_versions
from rounds.runtime.orgs.models import OrgUnit

PER_PAGE = 20
Outcome = Literal["passed", "failed", "checked", "unchecked"]


@dataclass(frozen=True)
class PublicCampaign:
    """A closed campaign as the public list shows it."""

    id: int
    title: str
    form_id: str
    period_start: dt.date
    period_end: dt.date
    closed_on: dt.date


@dataclass(frozen=True)
class PublicSite:
    """A drawn site and its outcome: ``passed``/``failed`` (合格/不合格), ``checked`` (a
    submission without a verdict, e.g. a survey), ``unchecked`` (未检查). ``score`` and
    ``percentage`` are None unless the company shows scores; ``inspectors`` (names) empty
    unless it names them."""

    code: str
    name: str
    org_unit: dict[str, str]
    stratum: str
    checked_on: dt.date | None
    outcome: Outcome
    score: float | None
    percentage: float | None
    issues_raised: int
    issues_done: int
    inspectors: tuple[str, ...]


@dataclass(frozen=True)
class PublicStratum:
    key: str
    label: dict[str, str] | None  # an org unit's names (stratified by org unit), else None
    drawn: int
    checked: int
    passed: int
    failed: int
    issues_raised: int
    issues_done: int


@dataclass(frozen=True)
class PublicDraw:
    """A draw's verification data (no one's id: not who drew it)."""

    number: int
    algorithm: str
    seed: str
    inputs_digest: str
    drawn_at: dt.datetime
    reason: str | None
    superseded: bool


@dataclass(frozen=True)
class Sample:
    """How the sites were drawn: ``count`` or ``share`` as the spec says, ``stratify_by``,
    the eligible sites, the sample size and the drawn (the current draw's)."""

    count: int | None
    share: float | None
    stratify_by: str | None
    min_per_stratum: int | None
    eligible: int | None
    sample_size: int | None
    drawn: int | None


@dataclass(frozen=True)
class PublicRecord:
    campaign: PublicCampaign
    form_title: dict[str, str]
    publication: Publication
    sample: Sample
    draw_number: int | None  # the draw in force
    strata: list[PublicStratum]
    sites: list[PublicSite]
    draws: list[PublicDraw]
    form_kind: str = "standard"  # or "survey": a market survey task
    # A survey's answers per question, aggregates only (no free text: it may name people).
    answers: CampaignAnswers | None = None


def _local_day(at: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return at.astimezone(tz).date()


def _listed(campaign: CheckCampaign, tz: dt.tzinfo) -> PublicCampaign:
    closed = campaign.closed_at or campaign.closes_at  # closed campaigns have closed_at
    return PublicCampaign(id=campaign.id, title=campaign.title, form_id=campaign.standard_id,
                          period_start=campaign.period_start, period_end=campaign.period_end,
                          closed_on=_local_day(closed, tz))


async def public_campaigns(db: AsyncSession, *, tz: dt.tzinfo, page: int = 1,
                           per_page: int = PER_PAGE) -> tuple[list[PublicCampaign], int]:
    """The closed campaigns, the last closed first, a page of them, and how many there are."""
    closed = CheckCampaign.status == CLOSED
    total = (await db.execute(select(func.count()).select_from(CheckCampaign).where(closed))
             ).scalar_one()
    rows = (await db.execute(select(CheckCampaign).where(closed).order_by(
        CheckCampaign.closed_at.desc(), CheckCampaign.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page))).scalars()
    return [_listed(c, tz) for c in rows], int(total)


async def closed_campaign(db: AsyncSession, campaign_id: int) -> CheckCampaign:
    """The campaign if it is closed; NotFound otherwise, the same as no such campaign."""
    campaign = (await db.execute(select(CheckCampaign).where(
        CheckCampaign.id == campaign_id, CheckCampaign.status == CLOSED))).scalar_one_or_none()
    if campaign is None:
        raise NotFound(f"no closed check campaign {campaign_id}")
    return campaign


def _outcome(o: SiteOutcome) -> Outcome:
    if not o.worked.submitted:
        return "unchecked"
    if o.worked.passed is None:
        return "checked"
    return "passed" if o.worked.passed else "failed"


def public_site(o: SiteOutcome, shows: Publication, tz: dt.tzinfo) -> PublicSite:
    """A manager's site outcome cut to what the company shows."""
    return PublicSite(
        code=o.site.code, name=o.site.name, org_unit=dict(o.org_unit), stratum=o.stratum,
        checked_on=_local_day(o.submitted_at, tz) if o.submitted_at else None,
        outcome=_outcome(o),
        score=o.score_value if shows.scores else None,
        percentage=o.percentage if shows.scores else None,
        issues_raised=o.issues_raised, issues_done=o.issues_done,
        inspectors=tuple(name for _, name in o.team) if shows.inspectors == "names" else ())


async def _unit_names(db: AsyncSession, keys: Sequence[str]) -> dict[str, dict[str, str]]:
    ids = [int(k) for k in keys if k.isdigit()]
    if not ids:
        return {}
    rows = (await db.execute(select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en).where(
        OrgUnit.id.in_(ids)))).all()
    return {str(i): {"zh": zh, "en": en} for i, zh, en in rows}


def _draw(d: CampaignDraw) -> PublicDraw:
    return PublicDraw(number=d.number, algorithm=d.algorithm, seed=d.seed,
                      inputs_digest=d.inputs_digest, drawn_at=d.drawn_at, reason=d.reason,
                      superseded=d.superseded_by is not None)


async def public_record(db: AsyncSession, campaign_id: int, tz: dt.tzinfo) -> PublicRecord:
    """The public record of a closed campaign (NotFound for any other)."""
    campaign = await closed_campaign(db, campaign_id)
    spec = spec_of(campaign)
    draws = list((await db.execute(select(CampaignDraw).where(
        CampaignDraw.campaign_id == campaign_id).order_by(CampaignDraw.number))).scalars())
    current = current_draw(draws)
    outcomes = await site_outcomes(db, campaign, current, tz) if current else []
    strata = strata_of(outcomes)
    labels = await _unit_names(db, [s.stratum for s in strata]) \
        if spec.sample.stratify_by == "org_unit" else {}
    result = decoded_result(current) if current else None
    form = (await current_versions(db, ids=[campaign.standard_id])).get(campaign.standard_id)
    title: Any = form.content.get("title") if form is not None else None
    return PublicRecord(
        campaign=_listed(campaign, tz),
        form_title=dict(title) if isinstance(title, dict) else {"zh": campaign.standard_id},
        publication=spec.publication,
        sample=Sample(count=spec.sample.count, share=spec.sample.share,
                      stratify_by=spec.sample.stratify_by,
                      min_per_stratum=spec.sample.min_per_stratum,
                      eligible=result.eligible if result else None,
                      sample_size=result.sample_size if result else None,
                      drawn=result.drawn if result else None),
        draw_number=current.number if current else None,
        strata=[PublicStratum(key=s.stratum, label=labels.get(s.stratum), drawn=s.drawn,
                              checked=s.submitted, passed=s.passed, failed=s.failed,
                              issues_raised=s.issues_raised, issues_done=s.issues_done)
                for s in strata],
        sites=[public_site(o, spec.publication, tz) for o in outcomes],
        draws=[_draw(d) for d in draws], form_kind=spec.form_kind,
        answers=await answers_of(db, campaign, tz, texts=False)
        if spec.form_kind == "survey" and current is not None and form is not None else None)


async def published_inputs(db: AsyncSession, campaign_id: int, number: int) -> bytes:
    """A draw's inputs, the JSON bytes exactly as stored (their SHA-256 over the canonical
    form is the digest), of a closed campaign only."""
    await closed_campaign(db, campaign_id)
    found = (await db.execute(select(CampaignDraw.inputs).where(
        CampaignDraw.campaign_id == campaign_id, CampaignDraw.number == number))
             ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no draw {number} of check campaign {campaign_id}")
    return bytes(found)


async def published_result(db: AsyncSession, campaign_id: int, number: int
                           ) -> dict[str, Any]:
    """A draw's result as stored (what re-running the inputs under the seed must give)."""
    await closed_campaign(db, campaign_id)
    found = (await db.execute(select(CampaignDraw.result).where(
        CampaignDraw.campaign_id == campaign_id, CampaignDraw.number == number))
             ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no draw {number} of check campaign {campaign_id}")
    return dict(found)
