"""HTTP handlers of the submissions slice (and of photos, which submissions refer to).

Imports: the submissions slice, the storage slice (its photo handlers are wired here), the
shared runtime modules, the web toolkit. What follows a submission with failed items (the
issues slice's issues) is registered with ``service.with_failed_items`` (in the submission's
transaction) or ``service.after_failed_items`` (after the response: nothing uses it today).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.ops.metrics import submission_outcome
from rounds.runtime.access import Principal
from rounds.runtime.storage import web as storage_web
from rounds.runtime.submissions import service
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged

_JSON = "application/json"


def json_response(body: Any, status: int) -> Response[bytes]:
    # Sorted keys: a retry's 200 is byte for byte the first answer's 201, whatever order the
    # database (JSONB) gives the stored documents back in.
    return Response(msgspec.json.encode(body, order="sorted"), status_code=status,
                    media_type=_JSON)


class SubmissionController(Controller):
    path = "/api/submissions"
    tags = ("submissions",)

    @post("/", summary="Submit a filled form: validated, scored and stored once per id",
          description="Body: {id (a UUID the client makes), definition_id, version (the "
          "content hash of the version filled), visit_id (required for standards), answers, "
          "evidence}. 201 with the score, its explanation, alerts and failed items; a retry "
          "with the same id and content gets 200 and the same document; the same id with "
          "other content 409; invalid answers 422 listing every error with its JSON pointer.",
          responses=None)
    async def submit(self, request: Request[Any, Any, Any], principal: Principal
                     ) -> Response[bytes]:
        raw = await request.body()
        with submission_outcome():  # counted: accepted or rejected (metrics)
            outcome = await service.submit(request.app.state.sessions, principal, raw,
                                           lang=request_language(request),
                                           tz=request.app.state.settings.tz)
        response = json_response(outcome.body, 201 if outcome.created else 200)
        hooks = service.failed_items_hooks()
        if outcome.body["failed_items"] and hooks:
            # Failed items become issues after the response is sent (idempotent, so a retry
            # may run it again); the reconciliation catches up if this is lost.
            response.background = BackgroundTasks([
                BackgroundTask(hook, request.app.state.sessions, outcome.body["id"])
                for hook in hooks])
        return response

    @get("/mine", summary="My submissions, newest first", dependencies=paged(200))
    async def mine(self, db: AsyncSession, principal: Principal, paging: Paging,
                   definition_id: str | None = None) -> Page[dict[str, Any]]:
        items, total = await service.my_submissions(
            db, principal, definition_id=definition_id, limit=paging.limit,
            offset=paging.offset)
        return paging.of([asdict(i) for i in items], total)

    @get("/{submission_id:str}", summary="A submission with its score, explanation, alerts "
                                         "and failed items")
    async def one(self, db: AsyncSession, principal: Principal, submission_id: str
                  ) -> Response[bytes]:
        return json_response(await service.get_submission(db, principal, submission_id), 200)


def handlers() -> list[Any]:
    # Photos are wired here: they exist for submissions (answers and evidence refer to them).
    return [SubmissionController, *storage_web.handlers()]
