"""Sign-in endpoints: a session cookie for pages, a bearer token for API clients."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.people import auth
from rounds.web.auth import SESSION_COOKIE, credential_of


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


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post("/sign-in", opt={"public": True}, status_code=200,
          summary="Sign in; a session cookie (pages) or a bearer token (API clients)")
    async def sign_in(self, db: AsyncSession, request: Request[Any, Any, Any],
                      data: SignIn) -> Response[SignedIn]:
        kind = "api" if data.kind == "api" else "session"
        try:
            user, issued = await auth.sign_in(db, data.username, data.password,
                                              ip=client_ip(request), kind=kind)
        except auth.BadCredentials:
            await db.commit()  # keep the failed attempt: it counts towards the limit
            raise
        body = SignedIn(user_id=user.id, username=user.username,
                        display_name=user.display_name, role_id=user.role_id,
                        expires_at=issued.expires_at.isoformat(),
                        token=issued.token if kind == "api" else None,
                        csrf_token=issued.csrf_token)
        cookies = []
        if kind == "session":
            cookies.append(Cookie(key=SESSION_COOKIE, value=issued.token, httponly=True,
                                  samesite="lax", path="/",
                                  max_age=int(auth.SESSION_TTL.total_seconds()),
                                  secure=request.url.scheme == "https"))
        return Response(body, cookies=cookies)

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
