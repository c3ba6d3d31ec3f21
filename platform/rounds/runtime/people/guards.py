"""Who is asking: the request's credential resolved to a :class:`Principal`, on the way in.

The middleware reads the bearer token or the session cookie (``rounds.web.auth``), finds
its principal (the cache first, then the database) and keeps it in the request state, where
the app-wide guard (``rounds.web.auth.signed_in_unless_public``) and the ``principal``
dependency find it. A bad bearer token is an error (401); a stale cookie is just no session.
A cookie-based request that changes data must carry the page's CSRF token (403 otherwise).

Imports: the people slice's auth, the shared access module, the web toolkit; the app
(composition) installs the middleware and the dependencies.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.people import auth
from rounds.web.auth import credential_of, csrf_problem, send_problem


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = ("http",)  # type: ignore[assignment]
    exclude_opt_key = "own_credentials"  # e.g. /metrics: its token is no user's

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
                    await send_problem(scope, receive, send, exc)
                    return
        if principal is not None:
            refused = csrf_problem(scope, bearer=bool(bearer), credential=principal.credential,
                                   csrf_token=principal.csrf_token)
            if refused is not None:
                await send_problem(scope, receive, send, refused)
                return
        state["principal"] = principal
        await next_app(scope, receive, send)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise NotAuthenticated("sign in to use this")
    return principal


def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    return principal
