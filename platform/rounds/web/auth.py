"""Authentication on the way in, deny by default, and CSRF for cookie-based requests.

The middleware resolves a bearer token or the session cookie to a ``Principal`` (or none)
and keeps it in the request state. A guard applied to the whole app then refuses every
route that is not marked ``opt={"public": True}`` to requests without a principal; handlers
ask for ``principal: Principal`` and check capabilities through the services.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from rounds.errors import RoundsError
from rounds.runtime.access import Forbidden, NotAuthenticated, Principal
from rounds.runtime.people import auth

SESSION_COOKIE = "rounds_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "Missing or wrong CSRF token"


def credential_of(scope: Scope) -> tuple[str | None, str | None]:
    """(bearer token, session token) of a request, either may be None."""
    bearer = session = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                bearer = text[7:].strip()
        elif name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == SESSION_COOKIE and val:
                    session = val
    return bearer, session


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        bearer, session = credential_of(scope)
        principal: Principal | None = None
        token = bearer or session
        state = scope.setdefault("state", {})
        if token:
            app_state = scope["app"].state
            try:
                principal = auth._cache.get(auth.token_hash(token))
                if principal is None:
                    async with app_state.sessions() as db:
                        principal = await auth.authenticate(db, token)
            except NotAuthenticated as exc:
                if bearer:  # a bad bearer token is an error; a stale cookie is just no session
                    await _problem(scope, receive, send, exc)
                    return
        # Whatever the credential, if the browser sent it by itself (the cookie) the request
        # must prove it comes from our page: an API token put in the cookie has no CSRF
        # token and so cannot change anything that way.
        if principal is not None and not bearer and scope.get("method") not in SAFE_METHODS:
            # Compared as bytes, in constant time: any bytes a client sends are just wrong.
            sent = dict(scope.get("headers", ())).get(CSRF_HEADER.encode(), b"")
            if principal.credential != "session" or not principal.csrf_token \
                    or not secrets.compare_digest(sent, principal.csrf_token.encode()):
                await _problem(scope, receive, send, CsrfFailed(
                    "this request changes data and must carry the page's CSRF token "
                    "in the X-CSRF-Token header"))
                return
        state["principal"] = principal
        await next_app(scope, receive, send)


async def _problem(scope: Scope, receive: Receive, send: Send, exc: RoundsError) -> None:
    from rounds.web.problems import problem_response

    response = problem_response(exc.status, exc.code, exc.title, exc.detail,
                                instance=str(scope.get("path", "")))
    await response.to_asgi_response(app=None, request=Request(scope))(scope, receive, send)


async def signed_in_unless_public(connection: ASGIConnection[Any, Any, Any, Any],
                                  handler: BaseRouteHandler) -> None:
    """The app-wide guard: everything needs a signed-in user unless marked public.

    Async on purpose: Litestar runs a plain function guard in a thread pool, a thread hop on
    every request for two dictionary look-ups."""
    if handler.opt.get("public"):
        return
    if connection.scope.get("state", {}).get("principal") is None:
        raise NotAuthenticated("sign in to use this")


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise NotAuthenticated("sign in to use this")
    return principal


def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    return principal
