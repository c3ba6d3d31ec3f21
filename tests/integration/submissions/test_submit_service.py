"""Submissions at service level, on SQLite and PostgreSQL: validated, scored, stored once."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.errors import InvalidInput, NotFound
from rounds.forms.compiled import SubmissionInvalid
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions.service import get_version
from rounds.runtime.storage import access as photo_access
from rounds.runtime.storage import service as photos
from rounds.runtime.storage.store import LocalPhotoStore
from rounds.runtime.submissions import service
from rounds.runtime.submissions.models import FailedItem, Submission, SubmissionPhoto
from rounds.runtime.submissions.service import SubmissionIdConflict
from rounds.runtime.visits import service as visits
from support.fieldwork import (
    STANDARD,
    Field,
    body,
    good_answers,
    load_definitions,
    png_bytes,
    poor_answers,
    principal,
    seed,
)

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Ready:
    field: Field
    version: str
    photo: str
    visit_id: int


@pytest.fixture
async def ready(sessions: Sessions, tmp_path: Path) -> Ready:
    """Zhang, checked in at shop A, with a photo uploaded."""
    store = LocalPhotoStore(tmp_path / "photos")
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        zhang = await principal(db, "zhang")
        version = (await get_version(db, STANDARD)).content_hash
        photo = await photos.upload(db, store, zhang, png_bytes(1))
        visit = await visits.check_in(db, zhang, qr_token=field.qr["shop_a"])
    return Ready(field, version, photo.id, visit.visit.id)


async def _submit(sessions: Sessions, who: str, doc: dict[str, Any]) -> service.Outcome:
    async with sessions() as db:
        p = await principal(db, who)
    return await service.submit(sessions, p, msgspec.json.encode(doc), lang="en")


async def _count(sessions: Sessions, model: Any) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_valid_submission_is_scored_and_stored(sessions: Sessions, ready: Ready) -> None:
    sid = str(uuid.uuid4())
    out = await _submit(sessions, "zhang", body(sid, ready.version, good_answers(ready.photo),
                                                visit_id=ready.visit_id))
    assert out.created
    b = out.body
    assert b["id"] == sid and b["version"] == ready.version and b["version_number"] == 1
    assert b["visit_id"] == ready.visit_id and b["site_id"] == ready.field.sites["shop_a"]
    assert b["score"]["percentage"] == 100.0 and b["score"]["passed"] is True
    assert b["failed_items"] == [] and b["alerts"] == []
    # The explanation: every scored item with its points and the rule that decided them.
    items = {i["item"]: i for i in b["score"]["items"]}
    assert items["brands_in_stock"]["decided_by"].startswith("rule:")
    assert sum(i["points"] for i in items.values() if i["counted"]) == b["score"]["points"]
    assert await _count(sessions, Submission) == 1
    assert await _count(sessions, SubmissionPhoto) == 1
    async with sessions() as db:
        stored = await service.get_submission(db, await principal(db, "zhang"), sid)
    assert "Total" in stored.pop("explanation")  # in words, when read back
    assert msgspec.json.encode(stored, order="sorted") == msgspec.json.encode(
        b, order="sorted")


async def test_failed_items_and_alerts_are_recorded(sessions: Sessions, ready: Ready) -> None:
    answers, evidence = poor_answers(ready.photo)
    sid = str(uuid.uuid4())
    out = await _submit(sessions, "zhang", body(sid, ready.version, answers, evidence=evidence,
                                                visit_id=ready.visit_id))
    failed = {f["item"] for f in out.body["failed_items"]}
    assert {"display_standard", "price_tags_complete"} <= failed
    assert "price_tags_missing" in {a["code"] for a in out.body["alerts"]}
    assert out.body["score"]["passed"] is False
    async with sessions() as db:
        rows = (await db.execute(select(FailedItem).where(FailedItem.submission_id == sid))
                ).scalars().all()
        sub = await db.get(Submission, sid)
    assert {r.item_id for r in rows} == failed
    assert {r.site_id for r in rows} == {ready.field.sites["shop_a"]}
    assert sub is not None and sub.failed_count == len(failed)
    assert sub.alert_count == len(out.body["alerts"]) and sub.passed is False


async def test_invalid_answers_list_every_error(sessions: Sessions, ready: Ready) -> None:
    answers = good_answers(ready.photo) | {"brands_in_stock": -3, "display_standard": "nice",
                                           "display_photo": ["not-uploaded"]}
    del answers["retailer_signature"]
    with pytest.raises(SubmissionInvalid) as exc:
        await _submit(sessions, "zhang", body(str(uuid.uuid4()), ready.version, answers,
                                              visit_id=ready.visit_id))
    pointers = {p.pointer for p in exc.value.problems}
    assert {"/answers/brands_in_stock", "/answers/display_standard",
            "/answers/retailer_signature", "/answers/display_photo/0"} <= pointers
    assert await _count(sessions, Submission) == 0


async def test_the_envelope_lists_every_error(sessions: Sessions, ready: Ready) -> None:
    doc = {"id": "not-a-uuid", "version": 3, "answers": [], "extra": 1}
    async with sessions() as db:
        p = await principal(db, "zhang")
    with pytest.raises(SubmissionInvalid) as exc:
        await service.submit(sessions, p, msgspec.json.encode(doc))
    assert {e.pointer for e in exc.value.problems} == {
        "/id", "/definition_id", "/version", "/answers", "/extra"}


async def test_a_standard_needs_the_users_own_open_visit(sessions: Sessions, ready: Ready
                                                         ) -> None:
    answers = good_answers(ready.photo)
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, "zhang", body(str(uuid.uuid4()), ready.version, answers))
    assert exc.value.problems[0].pointer == "/visit_id"
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, "wang", body(str(uuid.uuid4()), ready.version, answers,
                                             visit_id=ready.visit_id))
    assert exc.value.problems[0].code == "unknown_visit"
    with pytest.raises(InvalidInput) as exc:
        await _submit(sessions, "zhang", body(str(uuid.uuid4()), "0" * 64, answers,
                                              visit_id=ready.visit_id))
    assert exc.value.problems[0].pointer == "/version"


async def test_photos_must_be_the_submitters(sessions: Sessions, ready: Ready, tmp_path: Path
                                             ) -> None:
    store = LocalPhotoStore(tmp_path / "photos")
    async with transaction(sessions) as db:
        wangs = await photos.upload(db, store, await principal(db, "wang"), png_bytes(1))
    assert wangs.id != ready.photo  # same bytes, another uploader: another photo
    answers = good_answers(ready.photo) | {"display_photo": [ready.photo, wangs.id],
                                           "storefront_photo": ["nope"]}
    with pytest.raises(SubmissionInvalid) as exc:
        await _submit(sessions, "zhang", body(str(uuid.uuid4()), ready.version, answers,
                                              visit_id=ready.visit_id))
    assert {p.pointer for p in exc.value.problems} == {"/answers/display_photo/1",
                                                       "/answers/storefront_photo/0"}
    assert await _count(sessions, Submission) == 0


async def test_a_retry_gets_the_stored_result_and_other_content_conflicts(
        sessions: Sessions, ready: Ready) -> None:
    sid = str(uuid.uuid4())
    doc = body(sid, ready.version, good_answers(ready.photo), visit_id=ready.visit_id)
    first = await _submit(sessions, "zhang", doc)
    # The same content, serialised in another key order, is the same submission.
    again = await _submit(sessions, "zhang", dict(reversed(list(doc.items()))))
    assert first.created and not again.created and again.body == first.body
    other = {**doc, "answers": good_answers(ready.photo) | {"brands_in_stock": 30}}
    with pytest.raises(SubmissionIdConflict):
        await _submit(sessions, "zhang", other)
    with pytest.raises(SubmissionIdConflict):  # someone else reusing the id
        await _submit(sessions, "wang", doc)
    assert await _count(sessions, Submission) == 1
    # Checked out since: a retry still gets the stored result.
    async with transaction(sessions) as db:
        await visits.check_out(db, await principal(db, "zhang"), ready.visit_id)
    late = await _submit(sessions, "zhang", doc)
    assert not late.created and late.body == first.body


async def test_fifty_parallel_retries_store_one_row(sessions: Sessions, ready: Ready) -> None:
    answers, evidence = poor_answers(ready.photo)
    sid = str(uuid.uuid4())
    doc = body(sid, ready.version, answers, evidence=evidence, visit_id=ready.visit_id)
    async with sessions() as db:
        p = await principal(db, "zhang")
    raw = msgspec.json.encode(doc)
    outs = await asyncio.gather(*(service.submit(sessions, p, raw) for _ in range(50)))
    assert sum(o.created for o in outs) == 1
    assert all(o.body == outs[0].body for o in outs)
    assert await _count(sessions, Submission) == 1
    assert await _count(sessions, FailedItem) == len(outs[0].body["failed_items"])


async def test_a_crash_before_commit_leaves_nothing(sessions: Sessions, ready: Ready,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The failed-item insert fails after the submission row went in: nothing remains."""
    real = service.failed_item_rows

    def with_a_bad_row(*args: Any) -> list[dict[str, Any]]:
        rows = real(*args)
        return [*rows, {**rows[0], "item_id": None}]  # NOT NULL: the database refuses it

    monkeypatch.setattr(service, "failed_item_rows", with_a_bad_row)
    answers, evidence = poor_answers(ready.photo)
    sid = str(uuid.uuid4())
    doc = body(sid, ready.version, answers, evidence=evidence, visit_id=ready.visit_id)
    with pytest.raises(IntegrityError):
        await _submit(sessions, "zhang", doc)
    for model in (Submission, FailedItem, SubmissionPhoto):
        assert await _count(sessions, model) == 0, model
    monkeypatch.setattr(service, "failed_item_rows", real)
    out = await _submit(sessions, "zhang", doc)  # the client's retry goes through
    assert out.created and await _count(sessions, Submission) == 1


async def test_who_sees_a_submission(sessions: Sessions, ready: Ready) -> None:
    sid = str(uuid.uuid4())
    await _submit(sessions, "zhang", body(sid, ready.version, good_answers(ready.photo),
                                          visit_id=ready.visit_id))
    async with sessions() as db:
        for who in ("wang", "qian"):
            with pytest.raises(NotFound):
                await service.get_submission(db, await principal(db, who), sid)
        for who in ("zhao", "li"):  # the north station head, the city leader
            assert (await service.get_submission(db, await principal(db, who), sid))["id"] == sid
        mine, total = await service.my_submissions(db, await principal(db, "zhang"))
        assert total == 1 and mine[0].id == sid and mine[0].percentage == 100.0
        # The photo follows the submission: the station head may see it, wang may not.
        assert (await photo_access.visible_photo(db, await principal(db, "zhao"), ready.photo))
        with pytest.raises(NotFound):
            await photo_access.visible_photo(db, await principal(db, "wang"), ready.photo)


async def test_a_retailer_answers_a_survey_for_their_own_shop(sessions: Sessions, ready: Ready
                                                              ) -> None:
    """A survey needs no visit; a retailer's answers are tied to their own shop."""
    from rounds.runtime.people.service import create_user

    async with transaction(sessions) as db:
        await create_user(db, username="shopkeeper", display_name="Shop A",
                          role_id="retailer_user", org_unit_code="north",
                          password="password-123", site_id=ready.field.sites["shop_a"])
        survey = (await get_version(db, "retailer_satisfaction")).content_hash
    answers = {"customer_manager_service": 5, "delivery_rating": 4, "market_supervision": 4,
               "supply_fit": 3, "complaint_handling": 5, "overall_satisfaction": "satisfied"}
    sid = str(uuid.uuid4())
    out = await _submit(sessions, "shopkeeper", body(sid, survey, answers,
                                                     definition_id="retailer_satisfaction"))
    assert out.created and out.body["visit_id"] is None
    assert out.body["site_id"] == ready.field.sites["shop_a"]
    async with sessions() as db:  # no visit: the work happened when it was stored
        stored = await db.get(Submission, sid)
        assert stored is not None and stored.happened_at == stored.submitted_at
    assert out.body["score"]["percentage"] is not None
    # The standard is not among a retailer's forms.
    with pytest.raises(Forbidden):
        await _submit(sessions, "shopkeeper", body(str(uuid.uuid4()), ready.version,
                                                   good_answers(ready.photo)))
    async with sessions() as db:  # the north station head sees it (shop A is north's)
        assert (await service.get_submission(db, await principal(db, "zhao"), sid))
