"""Photos: uploaded once, referenced by id from answers, evidence and signatures.

- **Decoded for real** (``images.clean``): the type is sniffed from the bytes, the pixel
  count is checked from the header before decoding (decompression bombs), the image must
  decode completely, and what is stored is a new encoding without metadata (EXIF with its
  GPS position, XMP, comments). JPEG, PNG, WebP and HEIC are accepted; HEIC is kept as JPEG.
- **Limits per user** (``ROUNDS_UPLOADS_*``): a rate of upload attempts per minute (refused
  ones count: each costs a decode) and a quota of MB stored in any 24 hours; both are 429
  with ``Retry-After``. They are counted in the database, so they hold across API processes
  (two requests racing may both pass the last free place: the limit is approximate by that).
- **Content-addressed**: the stored bytes live under their SHA-256; the photo id is derived
  from (uploader, SHA-256 of what was sent), so the same file uploaded twice by the same
  person is the same photo, found before decoding it again.
- **Who may see a photo**: ``access.visible_photo`` (whoever may see a submission or an
  issue that uses it).
- **Unused photos** (no submission or issue refers to them: a photo chosen and removed, a
  signature drawn again, a form never sent) are deleted a day after upload
  (``delete_unused_photos``, run by beat: ``storage/jobs.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from rounds.db import table_of, transaction, utcnow
from rounds.errors import Problem, RoundsError, TryLater
from rounds.runtime.access import Forbidden, Principal
from rounds.runtime.issues.models import IssuePhoto
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.storage.images import (
    ACCEPTED_TYPES,
    CleanImage,
    PhotoTooManyPixels,
    PhotoUnreadable,
    UnsupportedPhotoType,
    clean,
    sniff,
)
from rounds.runtime.storage.models import Photo, PhotoUpload
from rounds.runtime.storage.store import PhotoStore, key_of
from rounds.runtime.submissions.models import SubmissionPhoto
from rounds.settings import UploadsSettings

__all__ = ["ACCEPTED_TYPES", "MAX_PHOTO_BYTES", "PhotoQuotaExceeded", "PhotoTooLarge",
           "PhotoTooManyPixels", "PhotoUnreadable", "TooManyUploads", "UnsupportedPhotoType",
           "photo_id_for", "receive", "sniff", "unowned_photos", "upload"]

MAX_PHOTO_BYTES = 10 * 1024 * 1024
RATE_WINDOW = timedelta(minutes=1)
QUOTA_WINDOW = timedelta(hours=24)
_PHOTO_IDS = uuid.UUID("6f1d4a52-63a4-4c3e-9a57-2f0d7c1e8b90")  # namespace of photo ids


class PhotoTooLarge(RoundsError, code="photo_too_large", status=413, title="Photo too large"):
    """More bytes than ``MAX_PHOTO_BYTES``."""


class TooManyUploads(TryLater, code="too_many_uploads", title="Too many uploads"):
    """More upload attempts in a minute than the user's rate."""


class PhotoQuotaExceeded(TryLater, code="photo_quota_exceeded",
                         title="Daily photo quota used up"):
    """The photo would take the user past the MB they may store in 24 hours."""


def photo_id_for(user_id: int, sha256: str) -> str:
    return str(uuid.uuid5(_PHOTO_IDS, f"{user_id}:{sha256}"))


def _may_upload(principal: Principal, data: bytes) -> None:
    if not (principal.can("submission.create") or principal.can("survey.respond")):
        raise Forbidden(f"your role ({principal.role_id}) may not upload photos")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB; "
                            f"this one is {len(data) / (1024 * 1024):.1f} MB")


def _seconds_until(at: datetime, now: datetime) -> int:
    return math.ceil((at - now).total_seconds())


async def _admit(db: AsyncSession, user_id: int, size: int, limits: UploadsSettings,
                 now: datetime) -> None:
    """Count this attempt against the user's rate (429 past it); the attempt is recorded
    even when it is refused later, so the caller commits this on its own."""
    since = now - RATE_WINDOW
    recent = list((await db.execute(
        select(PhotoUpload.at).where(PhotoUpload.user_id == user_id, PhotoUpload.at > since)
        .order_by(PhotoUpload.at.desc()).limit(max(1, limits.per_minute)))).scalars())
    if len(recent) >= limits.per_minute:
        wait = _seconds_until(recent[-1] + RATE_WINDOW, now) if recent else 60
        raise TooManyUploads(f"at most {limits.per_minute} uploads a minute; try again in "
                             f"{max(1, wait)} seconds", wait)
    db.add(PhotoUpload(user_id=user_id, at=now, size=size))


async def _check_quota(db: AsyncSession, user_id: int, size: int, limits: UploadsSettings,
                       now: datetime) -> None:
    quota = limits.daily_quota_mb * 1024 * 1024
    stored = list((await db.execute(
        select(Photo.created_at, Photo.size)
        .where(Photo.uploaded_by == user_id, Photo.created_at > now - QUOTA_WINDOW)
        .order_by(Photo.created_at))).all())
    used = sum(s for _, s in stored)
    if used + size <= quota:
        return
    # When enough of the day's photos are older than a day for this one to fit.
    wait = int(QUOTA_WINDOW.total_seconds())
    left = used
    for at, s in stored:
        left -= s
        if left + size <= quota:
            wait = _seconds_until(at + QUOTA_WINDOW, now)
            break
    hours = max(1, math.ceil(wait / 3600))
    raise PhotoQuotaExceeded(
        f"you have stored {used / (1024 * 1024):.0f} MB of photos in the last 24 hours; "
        f"the limit is {limits.daily_quota_mb} MB; try again in about {hours} hours", wait)


async def _store(db: AsyncSession, store: PhotoStore, user_id: int, photo_id: str,
                 image: CleanImage, *, limits: UploadsSettings, now: datetime) -> Photo:
    await _check_quota(db, user_id, len(image.data), limits, now)
    key = await store.put(image.data)
    await db.execute(insert_or_nothing(db, table_of(Photo), ["id"]).values(
        id=photo_id, sha256=key_of(image.data), content_type=image.content_type,
        size=len(image.data), storage_key=key, uploaded_by=user_id, created_at=now,
        width=image.width, height=image.height))
    photo = await db.get(Photo, photo_id)
    assert photo is not None
    return photo


async def upload(db: AsyncSession, store: PhotoStore, principal: Principal, data: bytes,
                 limits: UploadsSettings | None = None) -> Photo:
    """Check, clean and store a photo within the caller's transaction (no rate: that is
    ``receive``'s, which HTTP uses)."""
    limits = limits or UploadsSettings()
    _may_upload(principal, data)
    photo_id = photo_id_for(principal.user_id, hashlib.sha256(data).hexdigest())
    known = await db.get(Photo, photo_id)
    if known is not None:
        return known
    image = await asyncio.to_thread(clean, data, max_pixels=limits.max_megapixels * 1_000_000)
    return await _store(db, store, principal.user_id, photo_id, image, limits=limits,
                        now=utcnow())


async def receive(sessions: async_sessionmaker[AsyncSession], store: PhotoStore,
                  principal: Principal, data: bytes, limits: UploadsSettings) -> Photo:
    """An upload over HTTP: counted against the rate (in a transaction of its own, kept
    whatever follows), decoded outside any transaction, then stored within the quota."""
    _may_upload(principal, data)
    now = utcnow()
    async with transaction(sessions) as db:
        await _admit(db, principal.user_id, len(data), limits, now)
    photo_id = photo_id_for(principal.user_id, hashlib.sha256(data).hexdigest())
    async with transaction(sessions) as db:
        known = await db.get(Photo, photo_id)
        if known is not None:  # the same file again (a retry): nothing to decode
            return known
    image = await asyncio.to_thread(clean, data, max_pixels=limits.max_megapixels * 1_000_000)
    async with transaction(sessions) as db:
        return await _store(db, store, principal.user_id, photo_id, image, limits=limits,
                            now=utcnow())


async def unowned_photos(db: AsyncSession | AsyncConnection, user_id: int,
                         refs: Mapping[str, str], *, png_only: Mapping[str, str] | None = None
                         ) -> list[Problem]:
    """A problem for every reference (JSON pointer → photo id) that is not a photo
    ``user_id`` uploaded, and for every one of ``png_only`` (signatures) that is not a PNG."""
    if not refs:
        return []
    ids = set(refs.values())
    owned = {pid: kind for pid, kind in (await db.execute(select(
        Photo.id, Photo.content_type).where(Photo.id.in_(ids), Photo.uploaded_by == user_id)))}
    problems: list[Problem] = []
    for ptr, pid in refs.items():
        if pid not in owned:
            problems.append(Problem(ptr, f"no photo {pid!r} uploaded by you; upload it first "
                                         "(POST /api/photos) and send the id it returns",
                                    "unknown_photo", "body"))
        elif png_only and ptr in png_only and owned[pid] != "image/png":
            problems.append(Problem(ptr, f"a signature is the PNG drawn on the signature pad; "
                                         f"photo {pid!r} is {owned[pid]}", "signature_not_png",
                                    "body"))
    return problems


# Conditions on ``Photo`` that keep a photo from the cleanup: "a record of mine refers to
# it" (an EXISTS), for records other than submissions and issues (an extension's documents).
PhotoKeeper = Callable[[], ColumnElement[bool]]
_KEEPERS: list[PhotoKeeper] = []


def keep_photos(keeper: PhotoKeeper) -> PhotoKeeper:
    """Register a kind of record whose photos are used (registering twice changes nothing)."""
    if keeper not in _KEEPERS:
        _KEEPERS.append(keeper)
    return keeper


async def delete_unused_photos(db: AsyncSession, *, now: datetime, older_than: timedelta,
                               batch: int = 500) -> tuple[int, list[str]]:
    """Delete the rows of photos uploaded more than ``older_than`` ago that no submission and
    no issue refers to (and the log of upload attempts older than a day). Returns how many,
    and the storage keys no photo uses any more: the caller removes those files after its
    commit (``remove_files``), so a failed transaction never leaves a row without its file.
    Idempotent; at most ``batch`` photos a call (the next run takes the rest)."""
    unused = (await db.execute(
        select(Photo.id, Photo.storage_key).where(
            Photo.created_at < now - older_than,
            ~exists().where(SubmissionPhoto.photo_id == Photo.id),
            ~exists().where(IssuePhoto.photo_id == Photo.id),
            *(~keeper() for keeper in _KEEPERS))
        .order_by(Photo.created_at).limit(batch))).all()
    await db.execute(delete(PhotoUpload).where(PhotoUpload.at < now - QUOTA_WINDOW))
    if not unused:
        return 0, []
    await db.execute(delete(Photo).where(Photo.id.in_([pid for pid, _ in unused])))
    keys = {key for _, key in unused}
    shared = set((await db.execute(select(Photo.storage_key).where(  # the same bytes
        Photo.storage_key.in_(keys)))).scalars())
    return len(unused), sorted(keys - shared)


async def remove_files(store: PhotoStore, keys: list[str], *, unless_put_since: datetime
                       ) -> int:
    """Remove stored files no photo uses, except those put again since (an upload of the
    same bytes racing the cleanup keeps its file). How many were removed."""
    removed = 0
    for key in keys:
        removed += await store.delete(key, unless_put_since=unless_put_since)
    return removed
