"""A small city in a database, issues due at chosen times, and reads behind the workers' back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select

import rounds.runtime.models  # noqa: F401  (every model, so foreign keys resolve)
from support.fieldwork import (
    STANDARD,
    Field,
    body,
    load_definitions,
    png_bytes,
    poor_answers,
    principal,
    seed,
)
from support.live import in_database, run_async


def prepare(database_url: str, *, migrate: bool = True) -> Field:
    """Migrate (unless a server did), import the definitions and seed the city."""
    from rounds.migrate import upgrade

    if migrate:
        upgrade(database_url)

    async def work(db: Any) -> Field:
        if migrate:
            await load_definitions(db)
        return await seed(db)

    result: Field = in_database(database_url, work)
    return result


def open_issue(database_url: str, field: Field, *, due_in: timedelta, title: str) -> int:
    """An issue of shop A (north station) assigned to zhang by zhao, due ``due_in`` from now."""
    from rounds.db import utcnow
    from rounds.runtime.issues.models import ASSIGNED, Issue
    from rounds.runtime.sites.models import Site

    async def work(db: Any) -> int:
        site = await db.get(Site, field.sites["shop_a"])
        now = utcnow()
        issue = Issue(title=title, source="assigned", severity="high", priority=2,
                      status=ASSIGNED, site_id=site.id, org_unit_id=site.org_unit_id,
                      assigner_id=field.users["zhao"], assignee_id=field.users["zhang"],
                      reporter_id=field.users["zhao"], due_at=now + due_in, created_at=now,
                      updated_at=now)
        db.add(issue)
        await db.flush()
        return int(issue.id)

    return int(in_database(database_url, work))


def issue_state(database_url: str, issue_id: int) -> dict[str, Any]:
    from rounds.runtime.issues.models import Issue

    async def work(db: Any) -> dict[str, Any]:
        i = await db.get(Issue, issue_id)
        return {"escalation_level": i.escalation_level, "escalated_at": i.escalated_at,
                "escalated_to_unit_id": i.escalated_to_unit_id, "reminded_at": i.reminded_at,
                "status": i.status}

    result: dict[str, Any] = in_database(database_url, work)
    return result


def notifications_of(database_url: str, issue_id: int | None = None) -> list[dict[str, Any]]:
    """Notification rows (of an issue, or all), oldest first."""
    from rounds.runtime.notifications.models import Notification

    async def work(db: Any) -> list[dict[str, Any]]:
        q = select(Notification).order_by(Notification.id)
        if issue_id is not None:
            q = q.where(Notification.issue_id == issue_id)
        return [{"id": n.id, "user_id": n.user_id, "kind": n.kind, "issue_id": n.issue_id,
                 "pushed_at": n.pushed_at} for n in (await db.execute(q)).scalars()]

    result: list[dict[str, Any]] = in_database(database_url, work)
    return result


def unit_id(database_url: str, code: str) -> int:
    from rounds.runtime.orgs.models import OrgUnit

    async def work(db: Any) -> int:
        return int((await db.execute(select(OrgUnit.id).where(OrgUnit.code == code))
                    ).scalar_one())

    return int(in_database(database_url, work))


def without_issues(database_url: str, submission_ids: list[str]) -> None:
    """Take away the issues the submissions' transactions made (with their events, photos and
    notifications): what the reconciliation repairs, as a submission stored before issues
    were made in its transaction, or restored from a backup taken between the two."""
    from sqlalchemy import delete

    from rounds.runtime.issues.models import Issue, IssueEvent, IssuePhoto
    from rounds.runtime.notifications.models import Notification

    async def work(db: Any) -> None:
        ids = select(Issue.id).where(Issue.submission_id.in_(submission_ids))
        for table in (Notification, IssuePhoto, IssueEvent):
            await db.execute(delete(table).where(table.issue_id.in_(ids)))
        await db.execute(delete(Issue).where(Issue.submission_id.in_(submission_ids)))

    in_database(database_url, work)


def submit_with_failed_items(database_url: str, photos: Path) -> tuple[str, int]:
    """Zhang checks in at shop A and submits a visit with failed items, whose issues are
    then lost (``without_issues``). (submission id, failed items)"""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.storage import service as storage
    from rounds.runtime.storage.store import LocalPhotoStore
    from rounds.runtime.submissions import service as submissions
    from rounds.runtime.visits import service as visits

    async def run() -> tuple[str, int]:
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        try:
            async with transaction(sessions) as db:
                zhang = await principal(db, "zhang")
                version = (await get_version(db, STANDARD)).content_hash
                photo = await storage.upload(db, LocalPhotoStore(photos), zhang, png_bytes(3))
                visit = await visits.check_in(db, zhang, site_id=None,
                                              qr_token=await _qr(db, "shop_a"))
            answers, evidence = poor_answers(photo.id)
            sid = str(uuid.uuid4())
            out = await submissions.submit(sessions, zhang, msgspec.json.encode(
                body(sid, version, answers, evidence=evidence, visit_id=visit.visit.id)),
                lang="en")
            return sid, len(out.body["failed_items"])
        finally:
            await engine.dispose()

    result: tuple[str, int] = run_async(run())
    without_issues(database_url, [result[0]])
    return result


async def _qr(db: Any, code: str) -> str:
    from rounds.runtime.sites.models import Site

    return str((await db.execute(select(Site.qr_token).where(Site.code == code))).scalar_one())


def issues_of_submission(database_url: str, submission_id: str) -> int:
    from rounds.runtime.issues.models import Issue

    async def work(db: Any) -> int:
        return int((await db.execute(select(func.count()).select_from(Issue).where(
            Issue.submission_id == submission_id))).scalar_one())

    return int(in_database(database_url, work))


def reconciles_done(log: Path) -> int:
    """How many reconciliations the worker has finished (from its log)."""
    text = log.read_text(errors="replace")
    return sum(1 for line in text.splitlines()
               if "rounds.reconcile[" in line and "succeeded" in line)


def open_visit_for(database_url: str, photos: Path, username: str = "zhang",
                   shop: str = "shop_a") -> tuple[str, str, int]:
    """A worker checked in at a shop, with a photo uploaded: (version hash, photo id, visit)."""
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.storage import service as storage
    from rounds.runtime.storage.store import LocalPhotoStore
    from rounds.runtime.visits import service as visits

    async def work(db: Any) -> tuple[str, str, int]:
        who = await principal(db, username)
        version = (await get_version(db, STANDARD)).content_hash
        photo = await storage.upload(db, LocalPhotoStore(photos), who, png_bytes(5))
        visit = await visits.check_in(db, who, site_id=None, qr_token=await _qr(db, shop))
        return version, photo.id, visit.visit.id

    result: tuple[str, int, int] = in_database(database_url, work)
    return result


def poor_body(version: str, photo: str, visit_id: int) -> bytes:
    """A new submission (its own id) with failed items, at the visit."""
    answers, evidence = poor_answers(photo)
    return msgspec.json.encode(body(str(uuid.uuid4()), version, answers, evidence=evidence,
                                    visit_id=visit_id))


def lost_submissions(database_url: str, version: str, photo: str, visit_id: int, n: int,
                     username: str = "zhang") -> list[str]:
    """``n`` submissions stored with their failed items but no issues (``without_issues``)."""
    from rounds.db import create_engine, session_factory
    from rounds.runtime.submissions import service as submissions

    async def run() -> list[str]:
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        try:
            async with sessions() as db:
                who = await principal(db, username)
            ids = []
            for _ in range(n):
                out = await submissions.submit(sessions, who, poor_body(version, photo,
                                                                        visit_id), lang="en")
                ids.append(str(out.body["id"]))
            return ids
        finally:
            await engine.dispose()

    result: list[str] = run_async(run())
    without_issues(database_url, result)
    return result


def issues_of_submissions(database_url: str, submission_ids: list[str]) -> int:
    from rounds.runtime.issues.models import Issue

    async def work(db: Any) -> int:
        return int((await db.execute(select(func.count()).select_from(Issue).where(
            Issue.submission_id.in_(submission_ids)))).scalar_one())

    return int(in_database(database_url, work))


def failed_items_of(database_url: str, submission_ids: list[str]) -> int:
    from rounds.runtime.submissions.models import FailedItem

    async def work(db: Any) -> int:
        return int((await db.execute(select(func.count()).select_from(FailedItem).where(
            FailedItem.submission_id.in_(submission_ids)))).scalar_one())

    return int(in_database(database_url, work))
