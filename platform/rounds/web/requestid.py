"""The request id and the access log: one line per request, found again from a user's error
report (the id is in the ``X-Request-ID`` response header and in every problem body).

Wrapped around the whole application rather than listed as route middleware: a request for
an unknown path (404) or with the wrong method (405) never reaches a route's middleware, and
it gets an id and a line too.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from rounds.logs import REQUEST_ID, sane_request_id

HEADER = "X-Request-ID"
access_log = structlog.stdlib.get_logger("rounds.access")


def _user_id(scope: Scope) -> int | None:
    principal = scope.get("state", {}).get("principal")
    user_id = getattr(principal, "user_id", None)
    return user_id if isinstance(user_id, int) else None


class RequestIds:
    """Takes the client's ``X-Request-ID`` if sane (else makes one), binds it for whatever is
    logged while the request (and its background tasks) runs, returns it in the response's
    header and writes the access line when the response is complete. Request bodies and
    query strings are never logged (they may hold passwords or tokens)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        headers = MutableScopeHeaders(scope)
        request_id = sane_request_id(headers.get(HEADER)) or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        logged = False

        def log_access() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            fields: dict[str, Any] = {
                "method": scope.get("method"), "path": scope.get("path"),
                "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
            route = scope.get("path_template")
            if route and route != scope.get("path"):
                fields["route"] = route
            user_id = _user_id(scope)
            if user_id is not None:
                fields["user_id"] = user_id
            access_log.info("request", **fields)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)
            # Logged when the last byte is sent: before the response's background tasks,
            # whose lines follow with the same id.
            if message["type"] == "http.response.body" and not message.get("more_body"):
                log_access()

        with structlog.contextvars.bound_contextvars(**{REQUEST_ID: request_id}):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log_access()  # a stream cut off, or an error before any response


def install_request_ids(app: Litestar) -> Litestar:
    """Wrap the application's ASGI handler (error handling included) in ``RequestIds``."""
    app.asgi_handler = RequestIds(app.asgi_handler)
    return app
