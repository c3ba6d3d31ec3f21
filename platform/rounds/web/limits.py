"""Rate limits on the routes the app names, per client address (Litestar's rate limiter).

The app (composition) names the routes by method and path template, as the OpenAPI
document writes them (``("POST", "/api/forms/{definition_id}/check")``), so a limit stays
put wherever the handler lives. Each route has its own budget per client address, counted
in the app's in-memory store (so per process); past it the answer is a 429 problem with
``Retry-After`` (when the minute's window ends) and the security headers of any answer.

Imports: Litestar and rounds.web.problems; it knows no slice.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.types import Receive, Scope, Send

from rounds.web.problems import problem_response

Route = tuple[str, str]  # (HTTP method, path template)


def route_of(request: Request[Any, Any, Any]) -> Route:
    return request.method, str(request.scope.get("path_template", ""))


class _ProblemRateLimit(RateLimitMiddleware):
    """Litestar's limiter, answering a problem document itself: an exception raised in a
    middleware would be answered outside the middleware that adds the security headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            wait = max(1, int(headers.get(self.config.rate_limit_reset_header_key) or 60))
            response = problem_response(
                429, "too_many_requests", "Too many requests",
                f"too many requests from your address; try again in {wait} s",
                instance=str(scope.get("path", "")))
            response.headers.update({**headers, "Retry-After": str(wait)})
            await response.to_asgi_response(app=None, request=Request(scope))(
                scope, receive, send)


def rate_limit(routes: Collection[Route], per_minute: int) -> list[DefineMiddleware]:
    """The middleware limiting each of ``routes`` to ``per_minute`` requests a minute per
    client address; none when ``per_minute`` is 0 (no limit)."""
    if per_minute <= 0 or not routes:
        return []
    limited = frozenset(routes)

    async def is_limited(request: Request[Any, Any, Any]) -> bool:
        return route_of(request) in limited

    def budget(request: Request[Any, Any, Any]) -> str:
        method, path = route_of(request)
        return f"{get_remote_address(request)} {method} {path}"

    return [RateLimitConfig(rate_limit=("minute", per_minute), check_throttle_handler=is_limited,
                            identifier_for_request=budget,
                            middleware_class=_ProblemRateLimit).middleware]
