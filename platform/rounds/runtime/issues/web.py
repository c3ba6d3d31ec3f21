"""HTTP handlers of the issues slice: the board, my issues, one issue with its history, 交办,
a retailer's feedback, and one POST per step of the loop (each naming the ``version`` it saw).

Errors are problem details: 403 not yours to do, 404 not yours to see, 409 wrong state
(with ``issue_status`` and ``allowed_actions``) or stale version (with ``current_version``), 422
bad input (with a JSON pointer per problem).

The request bodies are here; the answers are the shapes of ``views``. Reading is
``queries``, opening an issue ``sources``, the steps of the loop ``lifecycle``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import DbIntField, IdField, utcnow
from rounds.errors import NotFound, Problem
from rounds.runtime.access import Principal
from rounds.runtime.issues import lifecycle, queries, sources
from rounds.runtime.issues.states import StaleVersion, WrongState
from rounds.runtime.issues.views import IssueDetail, IssuePage
from rounds.runtime.storage.store import photo_store
from rounds.settings import Settings
from rounds.web.paging import Paging, paged
from rounds.web.params import Id, OptionalId
from rounds.web.problems import problem_response

# -- bodies ---------------------------------------------------------------------------------


class Seen(msgspec.Struct, forbid_unknown_fields=True):
    version: DbIntField  # the issue's version the client saw (optimistic locking)


class RectifyIn(msgspec.Struct, forbid_unknown_fields=True):
    version: DbIntField
    note: str = ""
    photos: list[str] = msgspec.field(default_factory=list)


class VerifyIn(msgspec.Struct, forbid_unknown_fields=True):
    version: DbIntField
    note: str = ""


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    version: DbIntField
    reason: str = ""


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    version: DbIntField
    assignee_id: IdField
    reason: str = ""


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str = ""
    photos: list[str] = msgspec.field(default_factory=list)
    version: DbIntField | None = None  # optional: a comment never makes anyone's action stale


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    """交办: an issue at a site of my scope, for someone of my scope who may rectify."""

    site_id: IdField
    title: str
    assignee_id: IdField
    description: str = ""
    severity: str = "medium"
    priority: DbIntField | None = None  # 1 urgent … 4 low; by default from the severity
    due_at: datetime | None = None  # by default from the severity


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    """A retailer's complaint or suggestion about their own shop."""

    kind: str  # complaint | suggestion
    text: str
    title: str | None = None
    photos: list[str] = msgspec.field(default_factory=list)


# -- problems -------------------------------------------------------------------------------

_FIELD = re.compile(r"field `([^`]+)`")


def _pointer(key: str, message: str) -> str:
    """Litestar names the failing key (``photos[0]``) or, for a missing or unknown field,
    ``data`` with the field in the message."""
    if key in ("", "data"):
        m = _FIELD.search(message)
        return "/" + m.group(1) if m else ""
    return "/" + re.sub(r"\[(\d+)\]", r"/\1", key).replace(".", "/")


def _invalid_request(request: Request[Any, Any, Any], exc: ValidationException
                     ) -> Response[dict[str, Any]]:
    problems = [Problem(_pointer(str(e.get("key") or ""), str(e.get("message") or "")),
                        str(e.get("message") or "invalid"), "invalid",
                        str(e.get("source") or "body"))
                for e in (exc.extra if isinstance(exc.extra, list) else [])
                if isinstance(e, dict)]
    return problem_response(422, "invalid_input", "Invalid input",
                            "; ".join(f"{p.pointer or '/'}: {p.message}" for p in problems)
                            or "the request is not valid", problems=problems,
                            instance=request.url.path)


def _wrong_state(request: Request[Any, Any, Any], exc: WrongState) -> Response[dict[str, Any]]:
    response = problem_response(exc.status, exc.code, exc.title, exc.detail,
                                instance=request.url.path)
    response.content["issue_status"] = exc.issue_status  # the issue's state now
    response.content["allowed_actions"] = exc.allowed_actions
    return response


def _stale(request: Request[Any, Any, Any], exc: StaleVersion) -> Response[dict[str, Any]]:
    response = problem_response(exc.status, exc.code, exc.title, exc.detail,
                                instance=request.url.path)
    response.content["current_version"] = exc.current_version
    return response


def _step(step: Callable[..., Awaitable[IssueDetail]], body: type[msgspec.Struct],
          summary: str) -> HTTPRouteHandler:
    """``POST /api/issues/{issue_id}/<step>``: a step of the loop (``lifecycle``), its body's
    fields its arguments (the version the client saw among them); the answer is the issue
    as the actor sees it afterwards."""

    async def handler(self: Controller, db: AsyncSession, principal: Principal, issue_id: Id,
                      data: msgspec.Struct) -> IssueDetail:
        return await step(db, principal, issue_id, now=utcnow(),
                          **msgspec.structs.asdict(data))

    # Named after the step (its operation id) and typed with the step's body: Litestar reads
    # both from the function.
    handler.__name__, handler.__qualname__ = step.__name__, f"IssueController.{step.__name__}"
    handler.__annotations__["data"] = body
    return post(f"/{{issue_id:int}}/{step.__name__}", status_code=200, summary=summary)(handler)


class IssueController(Controller):
    path = "/api/issues"
    tags = ("issues",)
    exception_handlers = {  # noqa: RUF012
        ValidationException: _invalid_request, WrongState: _wrong_state, StaleVersion: _stale}

    # -- reading ------------------------------------------------------------------------

    @get("/", summary="The issue board: issues in my scope (issue.view_scope) and those I "
                      "am assignee, assigner or reporter of; most urgent first",
         description="status: a state, several comma separated, or `active`; org_unit_id "
         "keeps that unit and the units below; overdue: active and past due.",
         dependencies=paged(200))
    async def board(self, db: AsyncSession, principal: Principal, paging: Paging, *,
                    status: str | None = None, org_unit_id: OptionalId = None,
                    assignee_id: OptionalId = None, overdue: bool | None = None,
                    site_id: OptionalId = None) -> IssuePage:
        return await queries.board(db, principal, now=utcnow(), status=status,
                                   org_unit_id=org_unit_id, assignee_id=assignee_id,
                                   overdue=overdue, site_id=site_id, page=paging.page,
                                   per_page=paging.per_page)

    @get("/mine", summary="Issues I am the assignee or the assigner of (`as`: one of them)",
         dependencies=paged(200))
    async def mine(self, db: AsyncSession, principal: Principal, paging: Paging, *,
                   as_: str | None = Parameter(query="as", default=None),
                   status: str | None = None) -> IssuePage:
        return await queries.my_issues(db, principal, now=utcnow(), as_=as_, status=status,
                                       page=paging.page, per_page=paging.per_page)

    @get("/{issue_id:int}", summary="An issue with its whole history, its evidence and the "
                                    "actions I may take now")
    async def one(self, db: AsyncSession, principal: Principal, issue_id: Id) -> IssueDetail:
        return await queries.get_issue(db, principal, issue_id, now=utcnow())

    @get("/{issue_id:int}/photos/{photo_id:str}",
         summary="A photo of an issue's evidence, feedback or comments, for whoever may see "
                 "the issue")
    async def photo(self, db: AsyncSession, principal: Principal, settings: Settings,
                    issue_id: Id, photo_id: str) -> Response[bytes]:
        photo = await queries.issue_photo(db, principal, issue_id, photo_id)
        try:
            content = await photo_store(settings.data_dir).open(photo.storage_key)
        except FileNotFoundError:
            raise NotFound(f"the file of photo {photo_id} is missing") from None
        return Response(content, media_type=photo.content_type, headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{photo.sha256}"', "X-Content-Type-Options": "nosniff"})

    # -- opening ------------------------------------------------------------------------

    @post("/", status_code=201, summary="交办: assign an issue at a site of my scope "
                                        "(issue.assign); I am its assigner")
    async def assign(self, db: AsyncSession, principal: Principal, data: AssignIn
                     ) -> IssueDetail:
        return await sources.assign_issue(
            db, principal, now=utcnow(), site_id=data.site_id, title=data.title,
            assignee_id=data.assignee_id, description=data.description,
            severity=data.severity, priority=data.priority, due_at=data.due_at)

    @post("/feedback", status_code=201,
          summary="A retailer's complaint or suggestion about their shop (shop.view_own): "
                  "the shop's customer manager rectifies, the station head verifies")
    async def feedback(self, db: AsyncSession, principal: Principal, data: FeedbackIn
                       ) -> IssueDetail:
        return await sources.submit_feedback(db, principal, now=utcnow(), kind=data.kind,
                                             text=data.text, title=data.title,
                                             photos=data.photos)

    # -- the loop: one POST a step (``_step``) --------------------------------------------

    start = _step(lifecycle.start, Seen, "The assignee starts rectifying")
    rectify = _step(lifecycle.rectify, RectifyIn,
                    "The assignee signs: rectified, with a note and photos (uploaded by them)")
    verify = _step(lifecycle.verify, VerifyIn,
                   "The assigner signs: the rectification is verified")
    refuse = _step(lifecycle.refuse, ReasonIn,
                   "The assigner refuses the rectification (reason required): back in "
                   "progress, the assignee's signature withdrawn")
    close = _step(lifecycle.close, Seen,
                  "销号: close a verified issue (both signatures); the assigner or a "
                  "supervisor")
    reopen = _step(lifecycle.reopen, ReasonIn,
                   "Reopen a closed issue (reason required): back in progress, both "
                   "signatures withdrawn")
    cancel = _step(lifecycle.cancel, ReasonIn,
                   "Cancel an active issue (reason required); the assigner or a supervisor")
    reassign = _step(lifecycle.reassign, ReassignIn,
                     "Hand the issue to another assignee (in my scope, able to rectify)")

    confirm = _step(lifecycle.confirm, VerifyIn,
                    "确认整改: the shop that raised the issue (a complaint or suggestion) "
                    "confirms the verified fix; it closes only after this")
    send_back = _step(lifecycle.send_back, ReasonIn,
                      "The shop that raised the issue sends the verified fix back (reason "
                      "required): back in progress, every signature withdrawn")

    comment = _step(lifecycle.comment, CommentIn,
                    "Comment (anyone who can see the issue); the version is optional")


def handlers() -> list[Any]:
    return [IssueController]

