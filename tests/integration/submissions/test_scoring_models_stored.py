"""A submission keeps its score in the definition's model, on SQLite and PostgreSQL: the
value, the model, the direction and the first outcome's level in columns (at full
precision), the API's view with the score's model and the outcomes, the lists with them,
and rows stored before scoring models read as percentages, higher better."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import load_documents
from rounds.migrate import downgrade, upgrade
from rounds.runtime.definitions.service import get_version, sync
from rounds.runtime.people.service import create_user
from rounds.runtime.sites import service as sites
from rounds.runtime.storage import service as photos
from rounds.runtime.storage.store import LocalPhotoStore
from rounds.runtime.submissions import service
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits import service as visits
from support.fieldwork import (
    DEFINITIONS,
    STANDARD,
    Field,
    body,
    good_answers,
    png_bytes,
    poor_answers,
    principal,
    seed,
)

Sessions = async_sessionmaker[AsyncSession]
DEMERITS = "retailer_conduct_demerits"
PRESSURE = "retailer_business_pressure"
CLEAN = {"licence_displayed": "yes", "licence_matches": "yes", "ecig_licensed": "na",
         "no_counterfeit": "yes", "legal_source": "yes", "minor_sign_displayed": "yes",
         "no_sales_to_minors": "yes", "prices_marked": "yes"}


@dataclass
class Ready:
    field: Field
    photo: str
    visit_id: int
    versions: dict[str, str]


@pytest.fixture
async def ready(sessions: Sessions, tmp_path: Path) -> Ready:
    """The repository's definitions, customer managers filling the demerit check too; zhang
    checked in at shop A with a photo; a retailer account for shop A."""
    docs, problems = load_documents([DEFINITIONS])
    assert not problems
    for doc in docs:
        if doc.id == "customer_manager":
            doc.content["standards"] = [*doc.content["standards"], DEMERITS]
    store = LocalPhotoStore(tmp_path / "photos")
    async with transaction(sessions) as db:
        await sync(db, docs)
        field = await seed(db)
        await create_user(db, username="shopkeeper", display_name="Shop A",
                          role_id="retailer_user", org_unit_code="north",
                          password="password-123", site_id=field.sites["shop_a"])
        zhang = await principal(db, "zhang")
        photo = await photos.upload(db, store, zhang, png_bytes(3))
        visit = await visits.check_in(db, zhang, qr_token=field.qr["shop_a"])
        versions = {d: (await get_version(db, d)).content_hash
                    for d in (STANDARD, DEMERITS, PRESSURE)}
    return Ready(field, photo.id, visit.visit.id, versions)


async def _submit(sessions: Sessions, who: str, doc: dict[str, Any]) -> dict[str, Any]:
    async with sessions() as db:
        p = await principal(db, who)
    out = await service.submit(sessions, p, msgspec.json.encode(doc), lang="zh")
    return out.body


async def _row(sessions: Sessions, sid: str) -> Submission:
    async with sessions() as db:
        row = await db.get(Submission, sid)
    assert row is not None
    return row


async def test_a_demerit_check_stores_its_sum_direction_and_forced_outcome(
        sessions: Sessions, ready: Ready) -> None:
    sid = str(uuid.uuid4())
    answers = {**CLEAN, "licence_displayed": "no", "no_counterfeit": "no",
               "minor_sign_displayed": "no"}
    evidence = {"no_counterfeit": {"photos": [ready.photo], "note": "两条假冒中华"}}
    b = await _submit(sessions, "zhang", body(sid, ready.versions[DEMERITS], answers,
                                              evidence=evidence, visit_id=ready.visit_id,
                                              definition_id=DEMERITS))
    row = await _row(sessions, sid)
    # 1 (licence) + 5 (counterfeit) + 1 (sign); the e-cigarette item does not apply
    assert (row.score_value, row.total, row.score_model, row.direction) == (
        7.0, 7.0, "sum", "lower_better")
    assert row.percentage is None  # no percentage in a sum
    assert row.outcome == "suspended" and row.passed is False  # forced, whatever the points
    # the API's view: the score in its model, the outcome with why
    score = b["score"]
    assert {k: score[k] for k in ("model", "direction", "digits", "value", "percentage")} == {
        "model": "sum", "direction": "lower_better", "digits": 0, "value": 7.0,
        "percentage": None}
    assert b["outcome"] == "suspended"
    [finding] = b["outcomes"]
    assert finding["outcome"] == "finding" and finding["level"] == "suspended"
    assert finding["decided_by"] == "forced:no_counterfeit" and finding["passed"] is False
    assert finding["label"] == {"zh": "停业整顿", "en": "Suspended"}
    assert finding["message"]["zh"].startswith("发现假冒卷烟")
    async with sessions() as db:
        read = await service.get_submission(db, await principal(db, "zhang"), sid)
    read.pop("explanation")
    assert read == b  # read back: the same document


async def test_a_band_decides_the_outcome_from_the_unrounded_sum(sessions: Sessions,
                                                                 ready: Ready) -> None:
    sid = str(uuid.uuid4())
    b = await _submit(sessions, "zhang", body(sid, ready.versions[DEMERITS],
                                              {**CLEAN, "legal_source": "no"},
                                              visit_id=ready.visit_id,
                                              definition_id=DEMERITS))
    row = await _row(sessions, sid)
    assert (row.score_value, row.outcome, row.passed) == (5.0, "fix", True)
    [finding] = b["outcomes"]
    assert finding["decided_by"].startswith("band:") and finding["value"] == 5.0


async def test_a_survey_of_summed_choices_with_mean_sub_scales(sessions: Sessions,
                                                               ready: Ready) -> None:
    answers = {"supply_short": "always", "cash_tight": "often", "stock_unsold": "always",
               "fewer_customers": "always", "nearby_competition": "unsure",
               "price_pressure": "often"}
    sid = str(uuid.uuid4())
    b = await _submit(sessions, "shopkeeper", body(sid, ready.versions[PRESSURE], answers,
                                                   definition_id=PRESSURE))
    row = await _row(sessions, sid)
    # 3 + 2 + 3 + 3 + 2 ("can't say" scores nothing): 13, the "high" band (12 or more)
    assert (row.score_value, row.score_model, row.direction, row.outcome) == (
        13.0, "sum", "lower_better", "high")
    assert row.passed is None  # the survey's levels say nothing of passing
    sections = {s["section"]: s for s in b["score"]["sections"]}
    assert sections["supply"]["model"] == "mean"
    assert sections["supply"]["value"] == 8 / 3  # full precision: 2.666…, shown as 2.7
    assert sections["market"]["value"] == 2.5 and sections["market"]["answered"] == 2


async def test_a_percentage_keeps_full_precision(sessions: Sessions, ready: Ready) -> None:
    answers, evidence = poor_answers(ready.photo)
    sid = str(uuid.uuid4())
    b = await _submit(sessions, "zhang", body(sid, ready.versions[STANDARD], answers,
                                              evidence=evidence, visit_id=ready.visit_id))
    row = await _row(sessions, sid)
    assert row.score_model == "percentage" and row.direction == "higher_better"
    assert row.total is not None and row.max_total
    assert row.percentage == 100 * row.total / row.max_total  # not rounded to 1 decimal
    assert row.percentage != round(row.percentage, 1)
    assert row.score_value == row.percentage and row.outcome is None
    assert b["score"]["value"] == row.percentage and b["outcomes"] == []


async def test_the_lists_carry_the_model_direction_and_outcome(sessions: Sessions,
                                                               ready: Ready) -> None:
    sid = str(uuid.uuid4())
    await _submit(sessions, "zhang", body(sid, ready.versions[DEMERITS],
                                          {**CLEAN, "legal_source": "no"},
                                          visit_id=ready.visit_id, definition_id=DEMERITS))
    good = str(uuid.uuid4())
    await _submit(sessions, "zhang", body(good, ready.versions[STANDARD],
                                          good_answers(ready.photo), visit_id=ready.visit_id))
    async with sessions() as db:
        mine, _ = await service.my_submissions(db, await principal(db, "zhang"))
        history, _ = await sites.site_history(db, await principal(db, "zhao"),
                                              ready.field.sites["shop_a"])
    by_id = {m.id: m for m in mine}
    assert (by_id[sid].score_value, by_id[sid].score_model, by_id[sid].direction,
            by_id[sid].outcome, by_id[sid].percentage) == (5.0, "sum", "lower_better", "fix",
                                                           None)
    assert (by_id[good].score_value, by_id[good].score_model) == (100.0, "percentage")
    entries = {e.id: e for e in history if e.kind == "submission"}
    demerit = entries[sid]
    assert (demerit.score_value, demerit.score_model, demerit.direction, demerit.digits,
            demerit.outcome) == (5.0, "sum", "lower_better", 0, "fix")
    assert demerit.outcome_label == {"zh": "限期整改", "en": "Fix within a deadline"}
    assert (entries[good].score_model, entries[good].digits, entries[good].outcome_label) == (
        "percentage", 1, None)


async def test_rows_stored_before_scoring_models_are_percentages(
        sessions: Sessions, ready: Ready, database_url: str) -> None:
    sid = str(uuid.uuid4())
    answers, evidence = poor_answers(ready.photo)
    await _submit(sessions, "zhang", body(sid, ready.versions[STANDARD], answers,
                                          evidence=evidence, visit_id=ready.visit_id))
    async with sessions() as db:  # as an old row: no value, another model
        await db.execute(text("UPDATE submissions SET score_value = NULL, "
                              "score_model = 'sum' WHERE id = :id"), {"id": sid})
        await db.commit()
    await asyncio.to_thread(downgrade, database_url, "0007_auth")
    await asyncio.to_thread(upgrade, database_url)
    row = await _row(sessions, sid)
    assert (row.score_model, row.direction, row.outcome) == ("percentage", "higher_better",
                                                             None)
    assert row.score_value == row.percentage and row.percentage is not None
