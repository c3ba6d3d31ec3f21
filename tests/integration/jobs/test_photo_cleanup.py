"""Photos nobody uses are deleted a day after upload; photos a submission or an issue uses
are kept (SQLite and PostgreSQL, real files); beat runs it like the other jobs."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.jobs.celery_app import TASK_MODULES, create_celery
from rounds.runtime.definitions.service import get_version
from rounds.runtime.issues import lifecycle, sources
from rounds.runtime.storage import service as storage
from rounds.runtime.storage.models import Photo, PhotoUpload
from rounds.runtime.storage.store import LocalPhotoStore
from rounds.runtime.submissions import service as submissions
from rounds.runtime.visits import service as visits
from rounds.settings import load_settings
from support.fieldwork import (
    STANDARD,
    body,
    jpeg_bytes,
    load_definitions,
    png_bytes,
    poor_answers,
    principal,
    seed,
)

Sessions = async_sessionmaker[AsyncSession]


async def _photos(sessions: Sessions, store: LocalPhotoStore) -> dict[str, Photo]:
    """Zhang's photos: one in a submission, one in an issue's comment, two never used (all
    uploaded two days ago), and one unused uploaded just now; Wang's photo of the same bytes
    as one of the unused (the same file), uploaded just now."""
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        zhang, zhao, wang = [await principal(db, n) for n in ("zhang", "zhao", "wang")]
        made = {name: await storage.upload(db, store, zhang, data) for name, data in (
            ("in_submission", png_bytes(51)), ("in_issue", png_bytes(52)),
            ("unused", png_bytes(53)), ("unused_shared", jpeg_bytes(seed=54)),
            ("recent", png_bytes(55)))}
        made["wangs_copy"] = await storage.upload(db, store, wang, jpeg_bytes(seed=54))
        version = (await get_version(db, STANDARD)).content_hash
        visit = await visits.check_in(db, zhang, qr_token=field.qr["shop_a"])
        issue = await sources.assign_issue(db, zhao, now=utcnow(), site_id=field.sites["shop_a"],
                                          title="门头招牌破损", assignee_id=field.users["zhang"])
        await lifecycle.comment(db, zhang, issue.id, now=utcnow(), text="已拍照",
                             photos=[made["in_issue"].id])
        await db.execute(update(Photo).where(Photo.id.in_(
            [p.id for k, p in made.items() if k not in ("recent", "wangs_copy")])).values(
            created_at=utcnow() - timedelta(days=2)))
    answers, evidence = poor_answers(made["in_submission"].id)
    await submissions.submit(sessions, zhang, msgspec.json.encode(body(
        str(uuid.uuid4()), version, answers, evidence=evidence, visit_id=visit.visit.id)))
    return made


async def _left(sessions: Sessions) -> set[str]:
    async with sessions() as db:
        return set((await db.execute(select(Photo.id))).scalars())


async def test_unused_photos_older_than_a_day_go_used_ones_stay(sessions: Sessions,
                                                                 tmp_path: Path) -> None:
    store = LocalPhotoStore(tmp_path / "photos")
    made = await _photos(sessions, store)
    files = {k: store.path(p.storage_key) for k, p in made.items()}
    assert all(f.exists() for f in files.values())
    # the stored file of the unused photos is older than a day too
    for name in ("unused", "unused_shared"):
        old = (utcnow() - timedelta(days=2)).timestamp()
        os.utime(files[name], (old, old))
    async with transaction(sessions) as db:
        db.add(PhotoUpload(user_id=made["unused"].uploaded_by, at=utcnow() - timedelta(days=2),
                           size=1))
    async with transaction(sessions) as db:
        deleted, keys = await storage.delete_unused_photos(
            db, now=utcnow(), older_than=timedelta(hours=24))
    assert deleted == 2
    removed = await storage.remove_files(store, keys,
                                         unless_put_since=utcnow() - timedelta(hours=24))
    assert removed == 1
    left = await _left(sessions)
    assert made["unused"].id not in left and made["unused_shared"].id not in left
    assert {made[k].id for k in ("in_submission", "in_issue", "recent", "wangs_copy")} <= left
    assert not files["unused"].exists()
    assert files["unused_shared"].exists()  # Wang's photo is the same bytes: the file stays
    assert all(files[k].exists() for k in ("in_submission", "in_issue", "recent"))
    async with sessions() as db:
        assert (await db.execute(select(PhotoUpload.id).where(
            PhotoUpload.at < utcnow() - timedelta(days=1)))).first() is None
    # a second run finds nothing more
    async with transaction(sessions) as db:
        assert await storage.delete_unused_photos(
            db, now=utcnow(), older_than=timedelta(hours=24)) == (0, [])
    # a day later the recent ones (Zhang's and Wang's) are unused for a day too
    async with transaction(sessions) as db:
        deleted, _ = await storage.delete_unused_photos(
            db, now=utcnow() + timedelta(hours=25), older_than=timedelta(hours=24))
    assert deleted == 2
    assert await _left(sessions) == {made["in_submission"].id, made["in_issue"].id}


def test_beat_runs_the_cleanup_and_the_task_deletes(sqlite_url: str, tmp_path: Path) -> None:
    from rounds.db import create_engine, session_factory
    from rounds.migrate import upgrade

    settings = load_settings(env={"ROUNDS_DATABASE_URL": sqlite_url,
                                  "ROUNDS_DATA_DIR": str(tmp_path),
                                  "ROUNDS_UPLOADS_CLEANUP_SECONDS": "600",
                                  "ROUNDS_UPLOADS_ORPHAN_HOURS": "24"})
    app = create_celery(settings)
    entry = app.conf.beat_schedule["delete-unused-photos"]
    assert entry["task"] == "rounds.storage.delete_unused_photos"
    assert entry["schedule"] == timedelta(minutes=10)
    assert "rounds.runtime.storage.jobs" in TASK_MODULES
    app.loader.import_default_modules()
    assert "rounds.storage.delete_unused_photos" in app.tasks

    upgrade(sqlite_url)

    async def prepare() -> dict[str, Photo]:
        engine = create_engine(sqlite_url)
        try:
            return await _photos(session_factory(engine), LocalPhotoStore(tmp_path / "photos"))
        finally:
            await engine.dispose()

    made = asyncio.run(prepare())
    result: Any = app.tasks["rounds.storage.delete_unused_photos"].apply()
    assert result.get() == 2

    async def left() -> set[str]:
        engine = create_engine(sqlite_url)
        try:
            return await _left(session_factory(engine))
        finally:
            await engine.dispose()

    ids = asyncio.run(left())
    assert made["unused"].id not in ids and made["in_submission"].id in ids
    assert made["in_issue"].id in ids
