"""Sign-in endpoints: a session cookie for pages, a bearer token for API clients."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.people import auth, throttle
from rounds.web.auth import SESSION_COOKIE, credential_of
from rounds.web.security import require_same_origin

DEVICE_COOKIE = "rounds_device"
DEVICE_TTL_S = 400 * 24 * 3600  # the longest browsers keep a cookie


class SignIn(msgspec.Struct):
    username: str
    password: str
    kind: str = "session"  # "session": a cookie for pages; "api": a bearer token


class SignedIn(msgspec.Struct):
    user_id: int
    username: str
    display_name: str
    role_id: str
    expires_at: str
    token: str | None = None  # only for kind "api": keep it, it is shown once
    csrf_token: str | None = None  # only for kind "session": send it as X-CSRF-Token


class Me(msgspec.Struct):
    user_id: int
    username: str
    display_name: str
    role_id: str
    role_title: dict[str, str]
    capabilities: list[str]
    org_scope: str
    org_unit_id: int
    site_id: int | None
    language: str
    csrf_token: str | None


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def sign_in_throttle(state: State) -> throttle.Throttle:
    """The app's throttle: Redis when configured (shared by every process), else the SQL
    table; made on first use."""
    limiter: throttle.Throttle | None = state.get("sign_in_throttle")
    if limiter is None:
        url = state.settings.redis.url
        limiter = throttle.RedisThrottle(url) if url else throttle.SqlThrottle(
            state.sessions, state.engine)
        state.sign_in_throttle = limiter
    return limiter


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post("/sign-in", opt={"public": True}, status_code=200,
          summary="Sign in; a session cookie (pages) or a bearer token (API clients)")
    async def sign_in(self, db: AsyncSession, request: Request[Any, Any, Any],
                      data: SignIn) -> Response[SignedIn]:
        # Login CSRF: a page elsewhere must not sign the browser in (as someone else).
        require_same_origin(request)
        kind = "api" if data.kind == "api" else "session"
        device = request.cookies.get(DEVICE_COOKIE)
        user, issued = await auth.sign_in(db, data.username, data.password,
                                          ip=client_ip(request),
                                          limiter=sign_in_throttle(request.app.state),
                                          device_token=device, kind=kind)
        body = SignedIn(user_id=user.id, username=user.username,
                        display_name=user.display_name, role_id=user.role_id,
                        expires_at=issued.expires_at.isoformat(),
                        token=issued.token if kind == "api" else None,
                        csrf_token=issued.csrf_token)
        if kind != "session":  # an API client: a token, no cookies
            return Response(body)
        secure = request.url.scheme == "https"
        device = await auth.remember_device(db, user.id, device)
        return Response(body, cookies=[
            Cookie(key=SESSION_COOKIE, value=issued.token, httponly=True, samesite="lax",
                   path="/", max_age=int(auth.SESSION_TTL.total_seconds()), secure=secure),
            # The browser is known from now on; only the sign-in endpoints read the cookie.
            Cookie(key=DEVICE_COOKIE, value=device, httponly=True, samesite="strict",
                   path="/api/auth", max_age=DEVICE_TTL_S, secure=secure)])

    @post("/sign-out", status_code=200, summary="End this session or revoke this token")
    async def sign_out(self, db: AsyncSession, request: Request[Any, Any, Any]
                       ) -> Response[dict[str, str]]:
        bearer, session = credential_of(request.scope)
        token = bearer or session
        if token:
            await auth.sign_out(db, token)
        return Response({"status": "signed out"},
                        cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @get("/me", summary="Who I am and what my role allows")
    async def me(self, principal: Principal) -> Me:
        return Me(user_id=principal.user_id, username=principal.username,
                  display_name=principal.display_name, role_id=principal.role_id,
                  role_title=principal.role_title,
                  capabilities=sorted(principal.capabilities), org_scope=principal.org_scope,
                  org_unit_id=principal.org_unit_id, site_id=principal.site_id,
                  language=principal.language, csrf_token=principal.csrf_token)
