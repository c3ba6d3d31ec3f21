"""The checks of what a person sends to the issues slice, and the 422 they give.

A text (required or not, at most so long), photos (their own uploads, at most
:data:`MAX_PHOTOS`), and the user an issue is handed to (active, in the principal's scope,
whose role may rectify). Every problem names its JSON pointer; :func:`invalid` gathers
them into one :class:`IssueInvalid`.

Imports ``routing`` (the roles' capabilities) of the slice, and the people and storage
below it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem
from rounds.runtime.access import Principal
from rounds.runtime.issues.routing import role_capabilities
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_scope
from rounds.runtime.storage.models import Photo

MAX_PHOTOS = 20
MAX_TEXT = 4000


class IssueInvalid(InvalidInput, code="issue_invalid", title="Invalid issue input"):
    """What is sent to open or work on an issue is wrong; ``problems`` says where."""


def invalid(problems: list[Problem]) -> IssueInvalid:
    return IssueInvalid("; ".join(f"{p.pointer}: {p.message}" for p in problems), problems)


def clean_text(value: str | None, pointer: str, *, required: bool, limit: int = MAX_TEXT
               ) -> tuple[str, list[Problem]]:
    """The text without surrounding blanks, and what is wrong with it."""
    text = (value or "").strip()
    if required and not text:
        return text, [Problem(pointer, "required", "required", "body")]
    if len(text) > limit:
        return text, [Problem(pointer, f"at most {limit} characters", "max_length", "body")]
    return text, []


async def check_photos(db: AsyncSession, user_id: int, photos: Sequence[str],
                       pointer: str = "/photos") -> list[str]:
    """The photo ids, once each, if every one is an upload of ``user_id``."""
    ids = list(dict.fromkeys(str(p) for p in photos))
    if len(ids) > MAX_PHOTOS:
        raise invalid([Problem(pointer, f"at most {MAX_PHOTOS} photos", "max_items", "body")])
    owned = set((await db.execute(select(Photo.id).where(
        Photo.id.in_(ids), Photo.uploaded_by == user_id))).scalars()) if ids else set()
    bad = [Problem(f"{pointer}/{n}", f"no photo {pid!r} uploaded by you; upload it first "
                   "(POST /api/photos) and send the id it returns", "unknown_photo", "body")
           for n, pid in enumerate(ids) if pid not in owned]
    if bad:
        raise invalid(bad)
    return ids


async def check_assignee(db: AsyncSession, principal: Principal, user_id: int,
                         pointer: str = "/assignee_id") -> User:
    """A user the principal may hand an issue to: active, in their scope, able to rectify."""
    user = (await db.execute(select(User).where(User.id == user_id, user_scope(principal)))
            ).scalar_one_or_none()
    if user is None or not user.active:
        raise invalid([Problem(pointer, f"no active user {user_id} in your scope",
                               "unknown_user", "body")])
    caps = (await role_capabilities(db)).get(user.role_id, frozenset())
    if "issue.rectify" not in caps:
        raise invalid([Problem(pointer, f"{user.display_name} ({user.role_id}) may not "
                               "rectify issues (the role lacks issue.rectify)",
                               "cannot_rectify", "body")])
    return user
