"""One survey response: validated against the campaign's survey version, scored in the
survey's model, stored exactly once.

The client chooses the response's id (a UUID): a retry after a lost answer finds the stored
response and gets the same result; the same id sent with other content is a conflict. An
anonymous respondent is held to one response by the single-use token's nonce (unique) or by
the device's hash (unique within the campaign); the database's unique indexes decide, so
two racing copies end with one row.

Imports: the definitions slice's compiled forms, the submissions slice's score columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, table_of, utcnow
from rounds.errors import Conflict, NotFound
from rounds.forms.compiled import SubmissionInvalid
from rounds.runtime.definitions.compiled import FormVersion, form_version
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.submissions.documents import score_columns, stored_evaluation
from rounds.runtime.surveys.models import OPEN, SurveyCampaign, SurveyResponse

_RESPONSES = table_of(SurveyResponse)


class CampaignNotOpen(Conflict, code="survey_campaign_not_open",
                      title="The survey is not open for answers"):
    """The campaign is a draft, closed, or outside its period."""


class AlreadyAnswered(Conflict, code="survey_already_answered",
                      title="This survey was already answered"):
    """The token was used, or this device already answered the campaign."""


class ResponseIdConflict(Conflict, code="survey_response_id_conflict",
                         title="This response id was used for other content"):
    """A response id sent again with other content (a retry must send the same)."""


@dataclass(frozen=True)
class Respondent:
    """Who answers, and what the response is about. ``user_id`` is None for an anonymous
    respondent, who is then held to one response by ``token_nonce`` or ``device_hash``."""

    kind: str  # retailer, consumer, industry
    user_id: int | None = None
    site_id: int | None = None
    org_unit_id: int | None = None
    about_visit_id: int | None = None
    about_user_id: int | None = None
    token_nonce: str | None = None
    device_hash: str | None = None


@dataclass(frozen=True)
class StoredResponse:
    """A stored response: ``created`` is False for a retry that found it stored."""

    id: str
    created: bool
    campaign_id: int
    percentage: float | None
    score_value: float | None
    outcome: str | None


def is_open(campaign: SurveyCampaign, now: datetime) -> bool:
    """Whether the campaign takes answers at ``now``."""
    return (campaign.status == OPEN
            and as_utc(campaign.opens_at) <= as_utc(now) < as_utc(campaign.closes_at))


# A version's content hash never changes (a published version is immutable): kept per process,
# by database and version id (ids belong to one database; tests use several at once).
_hashes: dict[tuple[Any, int], str] = {}


async def campaign_form(db: AsyncSession, campaign: SurveyCampaign) -> FormVersion:
    """The compiled form of the survey version the campaign asks (cached for the process)."""
    key = (db.bind, campaign.version_id)
    content_hash = _hashes.get(key)
    if content_hash is None:
        content_hash = (await db.execute(select(DefinitionVersion.content_hash).where(
            DefinitionVersion.id == campaign.version_id))).scalar_one_or_none()
        if content_hash is None:
            raise NotFound(f"the survey version of campaign {campaign.id} is missing")
        _hashes[key] = content_hash
    return await form_version(db, campaign.survey_id, content_hash)


def body_digest(body: bytes) -> str:
    """What tells a retry (same content) from a reuse of the id: the canonical answers."""
    canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    return hashlib.sha256(canonical).hexdigest()


async def store_response(db: AsyncSession, campaign: SurveyCampaign, response_id: str,
                         body: bytes, respondent: Respondent, *, lang: str = "zh",
                         now: datetime | None = None,
                         ctx: dict[str, Any] | None = None) -> StoredResponse:
    """Validate ``body`` (``{"answers": {...}}``) against the campaign's survey version,
    score it and store it under ``response_id``, once; the caller commits.

    Raises ``SubmissionInvalid`` (every problem at once), :class:`CampaignNotOpen`,
    :class:`AlreadyAnswered` (the token or the device used) or :class:`ResponseIdConflict`.
    """
    now = as_utc(now) if now else utcnow()
    digest = body_digest(body)
    # No read first on the hot path: the insert's ON CONFLICT tells a retry (or a used
    # device or token) apart, and only then is the stored row read.
    if not is_open(campaign, now):
        stored = await _stored(db, response_id)
        if stored is not None:  # a retry of what was stored while it was open
            return _replay(stored, respondent, digest)
        raise CampaignNotOpen(f"survey campaign {campaign.id} is not open for answers")
    fv = await campaign_form(db, campaign)
    try:
        valid = fv.form.validate(body, ctx, lang)
    except SubmissionInvalid:
        stored = await _stored(db, response_id)
        if stored is not None:  # the id is taken: a conflict, whatever the body
            return _replay(stored, respondent, digest)
        raise
    scored = valid.scored
    row = {"id": response_id, "body_hash": digest, "campaign_id": campaign.id,
           "definition_id": campaign.survey_id, "version_id": campaign.version_id,
           "respondent": respondent.kind, "user_id": respondent.user_id,
           "site_id": respondent.site_id, "org_unit_id": respondent.org_unit_id,
           "about_visit_id": respondent.about_visit_id,
           "about_user_id": respondent.about_user_id,
           "token_nonce": respondent.token_nonce, "device_hash": respondent.device_hash,
           "answers": valid.answers, "evaluation": stored_evaluation(scored),
           "submitted_at": now, "happened_at": now, **score_columns(scored)}
    del row["passed"]
    done = (await db.execute(insert_or_nothing(db, _RESPONSES).values(row).returning(
        _RESPONSES.c.id))).scalar_one_or_none()
    if done is None:
        stored = await _stored(db, response_id)
        if stored is not None:  # a racing copy of this very response
            return _replay(stored, respondent, digest)
        raise AlreadyAnswered("this survey was already answered with this link or device")
    return StoredResponse(response_id, True, campaign.id, row["percentage"],
                          row["score_value"], row["outcome"])


async def _stored(db: AsyncSession, response_id: str) -> SurveyResponse | None:
    return await db.get(SurveyResponse, response_id)


def _replay(stored: SurveyResponse, respondent: Respondent, digest: str) -> StoredResponse:
    same = (stored.body_hash == digest and stored.user_id == respondent.user_id
            and stored.token_nonce == respondent.token_nonce
            and stored.device_hash == respondent.device_hash)
    if not same:
        raise ResponseIdConflict(
            f"response {stored.id} exists with other content; a new response needs a new id")
    return StoredResponse(stored.id, False, stored.campaign_id, stored.percentage,
                          stored.score_value, stored.outcome)
