"""The HTTP side of signing in that knows no slice: deny by default, credentials, CSRF.

What is here: the session cookie's name and how a request carries its credential (a bearer
token or the cookie, :func:`credential_of`), the CSRF rule for cookie-based requests
(:func:`csrf_problem`), and the guard applied to the whole app that refuses every route not
marked ``opt={"public": True}`` to requests without a principal. Turning a credential into a
principal is the people slice's (``rounds.runtime.people.guards``): the middleware there
keeps the principal in the request state, where the guard looks for it.

Imports: the foundation only (rounds.errors); never rounds.runtime.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Receive, Scope, Send

from rounds.errors import Forbidden, NotAuthenticated, RoundsError
from rounds.web.problems import problem_response

SESSION_COOKIE = "rounds_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden, code="csrf_failed", title="Missing or wrong CSRF token"):
    """A state-changing request with the session cookie but not the page's CSRF token."""


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


def csrf_problem(scope: Scope, *, bearer: bool, credential: str, csrf_token: str | None
                 ) -> CsrfFailed | None:
    """Whatever the credential, if the browser sent it by itself (the cookie) a request that
    changes data must prove it comes from our page: an API token put in the cookie has no
    CSRF token and so cannot change anything that way. None when the request may go on."""
    if bearer or scope.get("method") in SAFE_METHODS:
        return None
    # Compared as bytes, in constant time: any bytes a client sends are just wrong.
    sent = dict(scope.get("headers", ())).get(CSRF_HEADER.encode(), b"")
    if credential != "session" or not csrf_token \
            or not secrets.compare_digest(sent, csrf_token.encode()):
        return CsrfFailed("this request changes data and must carry the page's CSRF token "
                          "in the X-CSRF-Token header")
    return None


async def send_problem(scope: Scope, receive: Receive, send: Send, exc: RoundsError) -> None:
    """Answer with the problem document of ``exc`` from a middleware (before any handler)."""
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
