"""Signing in over real HTTP: sessions with CSRF, bearer tokens, deny by default, throttling."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from rounds.db import create_engine, session_factory, transaction
from rounds.runtime.orgs.service import create_org_unit
from rounds.runtime.people.service import create_user
from support.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("auth")
    srv = LiveServer(data)
    url = f"sqlite+aiosqlite:///{data / 'rounds.sqlite3'}"

    async def seed() -> None:
        engine = create_engine(url)
        async with transaction(session_factory(engine)) as db:
            await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                  name_en="City company")
            await create_user(db, username="zhang", display_name="张伟",
                              role_id="customer_manager", org_unit_code="city",
                              password="correct horse")
            await create_user(db, username="li", display_name="李娜",
                              role_id="city_leader", org_unit_code="city",
                              password="battery staple")
        await engine.dispose()

    asyncio.run(seed())
    yield srv
    srv.stop()


def test_protected_routes_need_a_signed_in_user(server: Any) -> None:
    r = httpx.get(server.url + "/api/auth/me")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert httpx.get(server.url + "/api/health").status_code == 200
    assert httpx.get(server.url + "/api/docs/openapi.json").status_code == 200


def test_session_cookie_and_csrf(server: Any) -> None:
    with httpx.Client(base_url=server.url) as client:
        r = client.post("/api/auth/sign-in", json={"username": "zhang",
                                                   "password": "correct horse"})
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        csrf = r.json()["csrf_token"]
        me = client.get("/api/auth/me").json()
        assert me["role_id"] == "customer_manager" and "visit.check_in" in me["capabilities"]
        # A state-changing request with the cookie but without the CSRF token is refused.
        refused = client.post("/api/auth/sign-out")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        assert client.get("/api/auth/me").status_code == 200
        out = client.post("/api/auth/sign-out", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200
        assert client.get("/api/auth/me").status_code == 401


def test_a_wrong_csrf_token_is_refused_whatever_its_bytes(server: Any) -> None:
    with httpx.Client(base_url=server.url) as client:
        r = client.post("/api/auth/sign-in", json={"username": "zhang",
                                                   "password": "correct horse"})
        csrf = r.json()["csrf_token"]
        for wrong in (csrf[:-1], csrf + "x", "令牌".encode(), b"\xff\xfe", b""):
            refused = client.post("/api/auth/sign-out", headers={"X-CSRF-Token": wrong})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        assert client.post("/api/auth/sign-out", headers={"X-CSRF-Token": csrf}
                           ).status_code == 200


def test_bearer_tokens_for_api_clients(server: Any) -> None:
    r = httpx.post(server.url + "/api/auth/sign-in",
                   json={"username": "li", "password": "battery staple", "kind": "api"})
    token = r.json()["token"]
    assert token and "set-cookie" not in r.headers
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(server.url + "/api/auth/me", headers=auth).json()["role_id"] == "city_leader"
    bad = httpx.get(server.url + "/api/auth/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    # No CSRF token needed with a bearer token.
    assert httpx.post(server.url + "/api/auth/sign-out", headers=auth).status_code == 200
    assert httpx.get(server.url + "/api/auth/me", headers=auth).status_code == 401


def test_failed_sign_ins_are_throttled(server: Any) -> None:
    for _ in range(5):
        r = httpx.post(server.url + "/api/auth/sign-in",
                       json={"username": "zhang", "password": "wrong"})
        assert r.status_code == 401
        assert r.json()["code"] == "bad_credentials"
    # After five, the next attempt from here waits (back-off, starting at a second).
    r = httpx.post(server.url + "/api/auth/sign-in",
                   json={"username": "zhang", "password": "correct horse"})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60
    unknown = httpx.post(server.url + "/api/auth/sign-in",
                         json={"username": "nobody", "password": "whatever1"})
    assert unknown.json()["detail"] == "wrong user name or password"
