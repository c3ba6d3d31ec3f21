"""Group commit, on SQLite and PostgreSQL: submissions sent at once are stored together (one
writer, one transaction for those queued), each answered after its commit with its issues;
one that the database refuses fails alone; an id twice in a group is stored once. The same
holds without group commit (each request its own transaction)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import rounds.slices  # noqa: F401  (the issues slice fills the submission's hook)
from rounds.db import transaction
from rounds.runtime.definitions.service import get_version
from rounds.runtime.issues.models import Issue
from rounds.runtime.storage import service as photos
from rounds.runtime.storage.store import LocalPhotoStore
from rounds.runtime.submissions import service
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.submissions.service import SubmissionIdConflict
from rounds.runtime.visits import service as visits
from support.fieldwork import (
    STANDARD,
    body,
    load_definitions,
    png_bytes,
    poor_answers,
    principal,
    seed,
)

Sessions = async_sessionmaker[AsyncSession]
AT_ONCE = 24


@pytest.fixture(autouse=True, params=[64, 1], ids=["grouped", "one_each"])
def group_size(request: pytest.FixtureRequest, sessions: Sessions) -> int:
    """Each test with group commit and without it (``ROUNDS_DATABASE_GROUP_COMMIT=1``: each
    request its own transaction): the same guarantees."""
    service.group_commit(sessions.kw["bind"], request.param)
    return int(request.param)


@pytest.fixture
async def poor(sessions: Sessions, tmp_path: Path) -> dict[str, Any]:
    """Zhang at shop A, and a body of a poor visit there (failed items: issues) as a function
    of its id."""
    store = LocalPhotoStore(tmp_path / "photos")
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        zhang = await principal(db, "zhang")
        version = (await get_version(db, STANDARD)).content_hash
        photo = await photos.upload(db, store, zhang, png_bytes(1))
        visit = await visits.check_in(db, zhang, qr_token=field.qr["shop_a"])
    answers, evidence = poor_answers(photo.id)
    return {"version": version, "visit_id": visit.visit.id, "answers": answers,
            "evidence": evidence}


def _body(poor: dict[str, Any], sid: str, **answers: Any) -> bytes:
    return msgspec.json.encode(body(sid, poor["version"], {**poor["answers"], **answers},
                                    evidence=poor["evidence"], visit_id=poor["visit_id"]))


async def _issues(sessions: Sessions, sid: str) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).where(
            Issue.submission_id == sid))).scalar_one())


async def _count(sessions: Sessions, model: Any) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_submissions_sent_at_once_are_all_stored_with_their_issues(
        sessions: Sessions, poor: dict[str, Any]) -> None:
    async with sessions() as db:
        zhang = await principal(db, "zhang")

    async def send(sid: str) -> tuple[service.Outcome, int]:
        out = await service.submit(sessions, zhang, _body(poor, sid))
        # What the client sees when the answer arrives: the issues are there already.
        return out, await _issues(sessions, sid)

    ids = [str(uuid.uuid4()) for _ in range(AT_ONCE)]
    answered = await asyncio.gather(*(send(sid) for sid in ids))
    for sid, (out, issues) in zip(ids, answered, strict=True):
        assert out.created and out.body["id"] == sid
        assert issues == len(out.body["failed_items"]) > 0
    assert await _count(sessions, Submission) == AT_ONCE
    assert await _count(sessions, Issue) == await _count(sessions, FailedItem)


async def _refuse(sessions: Sessions, sid: str) -> None:
    """The database itself refuses one submission id (a trigger): a failure the write path
    cannot foresee, in the middle of a group."""
    engine = sessions.kw["bind"]
    async with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execute(text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON submissions "
                f"WHEN NEW.id = '{sid}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            await conn.execute(text(
                "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.id = '{sid}' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"))
            await conn.execute(text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON submissions "
                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"))


async def test_one_refused_submission_fails_alone(sessions: Sessions,
                                                  poor: dict[str, Any]) -> None:
    bad = str(uuid.uuid4())
    await _refuse(sessions, bad)
    async with sessions() as db:
        zhang = await principal(db, "zhang")
    ids = [str(uuid.uuid4()) for _ in range(AT_ONCE)]
    ids.insert(AT_ONCE // 2, bad)
    outs = await asyncio.gather(*(service.submit(sessions, zhang, _body(poor, sid))
                                  for sid in ids), return_exceptions=True)
    for sid, out in zip(ids, outs, strict=True):
        if sid == bad:
            assert isinstance(out, DBAPIError) and "refused" in str(out)
            assert await _issues(sessions, sid) == 0
        else:
            assert isinstance(out, service.Outcome) and out.created, out
            assert await _issues(sessions, sid) == len(out.body["failed_items"]) > 0
    async with sessions() as db:
        stored = set((await db.execute(select(Submission.id))).scalars())
    assert stored == set(ids) - {bad}


async def test_an_id_twice_in_a_group_is_stored_once(sessions: Sessions,
                                                     poor: dict[str, Any]) -> None:
    async with sessions() as db:
        zhang = await principal(db, "zhang")
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    same = _body(poor, sid)
    reused = _body(poor, sid, brands_in_stock=30)  # the same id, other content
    outs = await asyncio.gather(
        service.submit(sessions, zhang, same), service.submit(sessions, zhang, same),
        service.submit(sessions, zhang, _body(poor, other)),
        service.submit(sessions, zhang, reused), service.submit(sessions, zhang, same),
        return_exceptions=True)
    # Each request reads before it queues, so under load the other content may reach the
    # writer first: whichever content is first is stored, once; the same content again is
    # answered with the stored result, other content under that id with a 409.
    sames, other_content = [outs[0], outs[1], outs[4]], outs[3]
    if isinstance(other_content, service.Outcome):
        assert other_content.created
        assert all(isinstance(o, SubmissionIdConflict) for o in sames), sames
        stored = other_content
    else:
        assert isinstance(other_content, SubmissionIdConflict), other_content
        assert all(isinstance(o, service.Outcome) for o in sames), sames
        firsts = [o for o in sames if isinstance(o, service.Outcome)]
        assert sum(o.created for o in firsts) == 1
        assert all(o.body == firsts[0].body for o in firsts)  # the replays: the stored result
        stored = next(o for o in firsts if o.created)
    assert isinstance(outs[2], service.Outcome) and outs[2].created
    assert await _count(sessions, Submission) == 2
    assert await _issues(sessions, sid) == len(stored.body["failed_items"])
