"""Every error, mapped once to RFC 7807 problem details (``application/problem+json``).

The titles are fixed English (like every error's in :mod:`rounds.errors`); the details this
module writes itself are the ``web`` catalogue's, in the request's language."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from sqlalchemy.exc import IntegrityError

from rounds.errors import Problem, RoundsError
from rounds.i18n import DEFAULT, text
from rounds.logs import REQUEST_ID, current_request_id
from rounds.web.language import request_language

log = logging.getLogger("rounds")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://rounds.dev/problems/"


def _errors(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"pointer": p.pointer, "message": p.message, "code": p.code,
             **({"source": p.source} if p.source else {})} for p in problems]


def problem_response(status: int, code: str, title: str, detail: str, *,
                     problems: list[Problem] | None = None, instance: str | None = None
                     ) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status,
                            "detail": detail, "code": code}
    if instance:
        body["instance"] = instance
    if problems:
        body["errors"] = _errors(problems)
    request_id = current_request_id()
    if request_id:  # what a user quotes in an error report, to find the request's log lines
        body[REQUEST_ID] = request_id
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def rounds_error_handler(request: Request[Any, Any, Any], exc: RoundsError
                         ) -> Response[dict[str, Any]]:
    response = problem_response(exc.status, exc.code, exc.title, exc.detail,
                                problems=exc.problems, instance=request.url.path)
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:  # 429 and 503 say when to come back
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException
                       ) -> Response[dict[str, Any]]:
    problems: list[Problem] = []
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        for e in exc.extra:
            if isinstance(e, dict):
                key = str(e.get("key") or "")
                problems.append(Problem("/" + key if key else "", str(e.get("message")),
                                        "invalid", str(e.get("source") or "")))
    code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request",
            401: "unauthorized", 403: "forbidden"}.get(exc.status_code, "http_error")
    if isinstance(exc, NotFoundException):
        code = "not_found"
    response = problem_response(exc.status_code, code, exc.detail or "Error",
                                exc.detail or "", problems=problems, instance=request.url.path)
    if exc.headers:  # a 405's Allow, a 401's WWW-Authenticate
        response.headers.update(exc.headers)
    return response


def _language(request: Request[Any, Any, Any]) -> str:
    """The request's language; the default when even that cannot be read (an error page
    must not fail in turn)."""
    try:
        return request_language(request)
    except Exception:
        return DEFAULT


def integrity_error_handler(request: Request[Any, Any, Any], exc: IntegrityError
                            ) -> Response[dict[str, Any]]:
    """Two requests racing to create the same thing: the loser learns it exists already."""
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
    return problem_response(409, "conflict", "Conflict",
                            text("web", _language(request), "conflict"),
                            instance=request.url.path)


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception
                             ) -> Response[dict[str, Any]]:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "Internal error",
                            text("web", _language(request), "internal_error"),
                            instance=request.url.path)


exception_handlers: dict[Any, Any] = {
    RoundsError: rounds_error_handler,
    HTTPException: http_error_handler,
    IntegrityError: integrity_error_handler,
    Exception: unexpected_error_handler,
}
