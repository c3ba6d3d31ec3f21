"""A submission at a visit, on SQLite and PostgreSQL: rules read the visit (its date in the
company's time zone, the site's attributes), scope is checked when the submission is
stored, an unknown form is named at /definition_id, and what was dropped is listed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import load_documents
from rounds.errors import InvalidInput
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions.service import get_version, sync
from rounds.runtime.sites.models import SiteAssignment
from rounds.runtime.submissions import service
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.visits import service as visits
from support.fieldwork import Field, body, principal, seed
from support.visit_rules import FIRE_SAFETY_ID, definitions_with_fire_safety

Sessions = async_sessionmaker[AsyncSession]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 17:30 UTC on 31 March is 01:30 on 1 April in Shanghai: the visit's date is 1 April there.
CHECKED_IN = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)
SUBMITTED = datetime(2026, 3, 31, 17, 45, tzinfo=UTC)


@dataclass
class Ready:
    field: Field
    fire: str
    visit_id: int


@pytest.fixture
async def ready(sessions: Sessions, tmp_path: Path) -> Ready:
    """Zhang checked in at shop A at CHECKED_IN; customer managers fill fire safety too."""
    docs, problems = load_documents([definitions_with_fire_safety(tmp_path)])
    assert not problems, problems
    async with transaction(sessions) as db:
        await sync(db, docs)
        field = await seed(db)
        zhang = await principal(db, "zhang")
        fire = (await get_version(db, FIRE_SAFETY_ID)).content_hash
        view = await visits.check_in(db, zhang, qr_token=field.qr["shop_a"], now=CHECKED_IN)
    return Ready(field, fire, view.visit.id)


async def _submit(sessions: Sessions, doc: dict[str, Any], who: str = "zhang"
                  ) -> service.Outcome:
    async with sessions() as db:
        p = await principal(db, who)
    return await service.submit(sessions, p, msgspec.json.encode(doc), lang="en",
                                now=SUBMITTED, tz=SHANGHAI)


def _fire(ready: Ready, **answers: Any) -> dict[str, Any]:
    return body(str(uuid.uuid4()), ready.fire, answers, visit_id=ready.visit_id,
                definition_id=FIRE_SAFETY_ID)


async def _count(sessions: Sessions, model: Any) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_rule_compares_an_answer_date_with_the_visit_date(sessions: Sessions,
                                                                  ready: Ready) -> None:
    # Expired on 31 March: before the visit (1 April in Shanghai, though 31 March in UTC).
    expired = await _submit(sessions, _fire(ready, extinguisher_expires="2026-03-31",
                                            replacement_note="new one ordered"))
    assert [f["item"] for f in expired.body["failed_items"]] == ["extinguisher_expires"]
    assert expired.body["calculated"]["visit_day"] == "2026-04-01 01:30"
    assert expired.body["calculated"]["today_is"] == "2026-04-01"
    assert expired.body["calculated"]["shop_grade"] == "3"  # ctx.site: the site's attributes
    assert expired.body["answers"]["replacement_note"] == "new one ordered"
    # The same rule shows the replacement note, so it is required when expired.
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, _fire(ready, extinguisher_expires="2026-03-31"))
    assert [p.pointer for p in exc.value.problems] == ["/answers/replacement_note"]
    # Valid on the day of the visit: nothing failed, and the note is hidden, so dropped.
    valid = await _submit(sessions, _fire(ready, extinguisher_expires="2026-04-01",
                                          replacement_note="typed, then not needed"))
    assert valid.body["failed_items"] == []
    assert "replacement_note" not in valid.body["answers"]
    assert valid.body["dropped"] == [{"pointer": "/answers/replacement_note",
                                      "reason": "hidden"}]
    async with sessions() as db:
        failed = (await db.execute(select(FailedItem.item_id))).scalars().all()
        times = (await db.execute(select(Submission.submitted_at, Submission.happened_at))
                 ).all()
    assert failed == ["extinguisher_expires"]
    # The work happened at the visit's check-in (the query store files it on that day).
    assert set(times) == {(SUBMITTED, CHECKED_IN)}


async def test_the_response_lists_what_was_dropped_and_a_retry_says_the_same(
        sessions: Sessions, ready: Ready) -> None:
    # A hidden answer, and a value the server calculates itself.
    doc = _fire(ready, extinguisher_expires="2026-05-01", replacement_note="x",
                visit_day="sent by the client")
    first = await _submit(sessions, doc)
    assert first.created
    assert first.body["dropped"] == [
        {"pointer": "/answers/replacement_note", "reason": "hidden"},
        {"pointer": "/answers/visit_day", "reason": "calculated"}]
    again = await _submit(sessions, doc)
    assert not again.created and again.body == first.body
    async with sessions() as db:
        stored = await service.get_submission(db, await principal(db, "zhang"), doc["id"])
    assert stored["dropped"] == first.body["dropped"]


async def test_a_site_taken_out_of_scope_after_check_in_takes_no_submission(
        sessions: Sessions, ready: Ready) -> None:
    async with transaction(sessions) as db:
        await db.execute(delete(SiteAssignment).where(
            SiteAssignment.site_id == ready.field.sites["shop_a"],
            SiteAssignment.user_id == ready.field.users["zhang"]))
    with pytest.raises(Forbidden) as exc:
        await _submit(sessions, _fire(ready, extinguisher_expires="2026-05-01"))
    assert exc.value.status == 403 and exc.value.code == "site_out_of_scope"
    assert [p.pointer for p in exc.value.problems] == ["/visit_id"]
    assert await _count(sessions, Submission) == 0
    assert await _count(sessions, FailedItem) == 0


async def test_a_submission_stored_before_the_site_left_the_scope_is_still_replayed(
        sessions: Sessions, ready: Ready) -> None:
    doc = _fire(ready, extinguisher_expires="2026-05-01")
    first = await _submit(sessions, doc)
    async with transaction(sessions) as db:
        await db.execute(delete(SiteAssignment).where(
            SiteAssignment.user_id == ready.field.users["zhang"]))
    again = await _submit(sessions, doc)  # a retry after a lost response
    assert not again.created and again.body == first.body


async def test_an_unknown_definition_is_named_at_definition_id(sessions: Sessions,
                                                               ready: Ready) -> None:
    doc = body(str(uuid.uuid4()), ready.fire, {}, visit_id=ready.visit_id,
               definition_id="no_such_form")
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, doc)
    assert [(p.pointer, p.code) for p in exc.value.problems] == [
        ("/definition_id", "unknown_definition")]
    # A known form with a version that is not one of its own: the version is what is wrong.
    doc = body(str(uuid.uuid4()), ready.fire, {}, visit_id=ready.visit_id)
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, doc)
    assert [(p.pointer, p.code) for p in exc.value.problems] == [
        ("/version", "unknown_version")]
