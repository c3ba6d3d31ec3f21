"""Who may see a photo: one rule, wherever the photo is shown.

A photo is seen by its uploader and by whoever may see a submission or an issue that uses
it, by the same rules as the submission or issue itself (``submissions.service.visible``,
``issues.service.visible``): a station head who can open a submission of their station sees
its photos and signature through ``/api/photos/{id}``, as through the issue's URL. Everyone
else gets 404, which tells nothing about photos they may not see.

This sits above the submissions and issues slices (which use ``storage.service``), so it is
a module of its own.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound
from rounds.runtime.access import Principal
from rounds.runtime.issues import queries as issues
from rounds.runtime.issues.models import Issue, IssuePhoto
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions import service as submissions
from rounds.runtime.submissions.models import Submission, SubmissionPhoto


async def visible_photo(db: AsyncSession, principal: Principal, photo_id: str) -> Photo:
    """A photo the principal may see (404 otherwise)."""
    photo = await db.get(Photo, photo_id)
    if photo is not None and photo.uploaded_by == principal.user_id:
        return photo
    if photo is not None:
        in_submission = exists().where(
            SubmissionPhoto.photo_id == photo_id,
            Submission.id == SubmissionPhoto.submission_id, submissions.visible(principal))
        in_issue = exists().where(
            IssuePhoto.photo_id == photo_id, Issue.id == IssuePhoto.issue_id,
            issues.visible(principal))
        if (await db.execute(select(or_(in_submission, in_issue)))).scalar():
            return photo
    raise NotFound(f"no photo {photo_id} that you may see")
