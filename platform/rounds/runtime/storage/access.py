"""Who may see a photo: one rule, wherever the photo is shown.

A photo is seen by its uploader and by whoever may see a record that uses it, by the same
rules as the record itself: a station head who can open a submission of their station sees
its photos and signature through ``/api/photos/{id}``, as through the issue's URL. Everyone
else gets 404, which tells nothing about photos they may not see.

Storage sits below the slices whose records use photos (submissions, issues), so it does
not ask them: each registers, with :func:`photo_use`, the condition "this photo is in one of
my records that this principal may see", next to the rule that says who sees its records
(``submissions.service``, ``issues.service``). A slice registers when its module is
imported (the app imports every slice); a photo no registered use shows is seen by its
uploader only: denied by default.

Imports: the shared access module and the storage slice's models.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound
from rounds.runtime.access import Principal
from rounds.runtime.storage.models import Photo

# (principal, photo id) -> a condition true when the photo is in a record of the slice that
# the principal may see (an EXISTS over the slice's photo links).
PhotoUse = Callable[[Principal, str], ColumnElement[bool]]
_USES: list[PhotoUse] = []


def photo_use(use: PhotoUse) -> PhotoUse:
    """Register a slice's use of photos (a decorator); registering twice changes nothing."""
    if use not in _USES:
        _USES.append(use)
    return use


async def visible_photo(db: AsyncSession, principal: Principal, photo_id: str) -> Photo:
    """A photo the principal may see (404 otherwise)."""
    photo = await db.get(Photo, photo_id)
    if photo is not None and photo.uploaded_by == principal.user_id:
        return photo
    if photo is not None and _USES:
        seen = or_(*(use(principal, photo_id) for use in _USES))
        if (await db.execute(select(seen))).scalar():
            return photo
    raise NotFound(f"no photo {photo_id} that you may see")
