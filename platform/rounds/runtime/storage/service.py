"""Photos: uploaded once, referenced by id from answers and evidence, seen by few.

- The type is sniffed from the bytes (``puremagic``); the file name and the declared content
  type are ignored. Only JPEG, PNG, WebP and HEIC/HEIF are kept.
- Content-addressed: the bytes are stored under their SHA-256, and the photo id is derived
  from (uploader, SHA-256), so the same bytes uploaded twice by the same person are the same
  photo (and two uploads racing each other settle on one row).
- Who may see a photo: its uploader, and users with ``submission.view_scope`` when a
  submission at a site in their scope refers to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import cast

import puremagic
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rounds.errors import NotFound, Problem, RoundsError
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.storage.models import Photo
from rounds.runtime.storage.store import PhotoStore, key_of
from rounds.runtime.submissions.models import Submission, SubmissionPhoto

MAX_PHOTO_BYTES = 10 * 1024 * 1024
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx")
_PHOTO_IDS = uuid.UUID("6f1d4a52-63a4-4c3e-9a57-2f0d7c1e8b90")  # namespace of photo ids


class PhotoTooLarge(RoundsError):
    code = "photo_too_large"
    status = 413
    title = "Photo too large"


class UnsupportedPhotoType(RoundsError):
    code = "unsupported_photo_type"
    status = 415
    title = "Not a photo type we accept"


def sniff(data: bytes) -> str | None:
    """The content type of an accepted photo, from its bytes; None for anything else."""
    try:
        found = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return None
    for match in found:
        mime = match.mime_type
        if mime in ACCEPTED_TYPES:
            if mime == "image/heif" and data[8:12] in _HEIC_BRANDS:
                return "image/heic"
            return str(mime)
    return None


def photo_id_for(user_id: int, sha256: str) -> str:
    return str(uuid.uuid5(_PHOTO_IDS, f"{user_id}:{sha256}"))


async def upload(db: AsyncSession, store: PhotoStore, principal: Principal, data: bytes
                 ) -> Photo:
    if not (principal.can("submission.create") or principal.can("survey.respond")):
        raise Forbidden(f"your role ({principal.role_id}) may not upload photos")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB; "
                            f"this one is {len(data) / (1024 * 1024):.1f} MB")
    content_type = sniff(data)
    if content_type is None:
        raise UnsupportedPhotoType("only JPEG, PNG, WebP and HEIC photos are accepted "
                                   "(the type is read from the file's content, not its name)")
    sha = key_of(data)
    key = await store.put(data)
    photo_id = photo_id_for(principal.user_id, sha)
    await db.execute(insert_or_nothing(db, cast(Table, Photo.__table__), ["id"]).values(
        id=photo_id, sha256=sha, content_type=content_type, size=len(data), storage_key=key,
        uploaded_by=principal.user_id))
    photo = await db.get(Photo, photo_id)
    assert photo is not None
    return photo


async def visible_photo(db: AsyncSession, principal: Principal, photo_id: str) -> Photo:
    """A photo the principal may see (404 otherwise: nothing is told about others')."""
    photo = await db.get(Photo, photo_id)
    if photo is not None and photo.uploaded_by == principal.user_id:
        return photo
    if photo is not None and principal.can("submission.view_scope"):
        used_in_scope = (await db.execute(
            select(SubmissionPhoto.submission_id)
            .join(Submission, Submission.id == SubmissionPhoto.submission_id)
            .where(SubmissionPhoto.photo_id == photo_id,
                   Submission.site_id.in_(select(Site.id).where(site_scope(principal))))
            .limit(1))).first()
        if used_in_scope:
            return photo
    raise NotFound(f"no photo {photo_id} that you may see")


async def unowned_photos(db: AsyncSession | AsyncConnection, user_id: int, refs: Mapping[str, str]
                         ) -> list[Problem]:
    """A problem for every reference (JSON pointer → photo id) that is not a photo
    ``user_id`` uploaded."""
    if not refs:
        return []
    ids = set(refs.values())
    owned = set((await db.execute(select(Photo.id).where(
        Photo.id.in_(ids), Photo.uploaded_by == user_id))).scalars())
    return [Problem(ptr, f"no photo {pid!r} uploaded by you; upload it first (POST "
                         "/api/photos) and send the id it returns", "unknown_photo", "body")
            for ptr, pid in refs.items() if pid not in owned]
