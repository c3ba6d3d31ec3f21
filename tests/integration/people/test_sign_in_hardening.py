"""Sign-in under attack, over real HTTP (issue 9): the throttle cannot be turned against a
user, parallel guesses are counted before any password is checked, login CSRF is refused,
an API token in the cookie gets no pass on CSRF, headers, hidden characters.

Different client addresses are real: the loopback network is 127.0.0.0/8, so a client
bound to 127.0.0.2 reaches the server at 127.0.0.1 from another address.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.live import LiveServer, add_user, api_token, redis_database

PASSWORD = "password-123"


def client(server: LiveServer, address: str = "127.0.0.1", **kw: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=60,
                        transport=httpx.HTTPTransport(local_address=address), **kw)


def sign_in(server: LiveServer, username: str, password: str, address: str = "127.0.0.1",
            c: httpx.Client | None = None) -> httpx.Response:
    if c is not None:
        return c.post("/api/auth/sign-in", json={"username": username, "password": password})
    with client(server, address) as fresh:
        return fresh.post("/api/auth/sign-in", json={"username": username, "password": password})


async def parallel_sign_ins(server: LiveServer, username: str, password: str, n: int,
                            address: str = "127.0.0.1") -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits,
                                 transport=httpx.AsyncHTTPTransport(local_address=address,
                                                                    limits=limits)) as c:
        return list(await asyncio.gather(*[
            c.post("/api/auth/sign-in", json={"username": username, "password": password})
            for _ in range(n)]))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("hardening"))
    for name in ("wang", "liu", "station1", "csrf_user", "tok_user"):
        add_user(srv, name, "customer_manager")
    add_user(srv, "boss", "administrator")
    yield srv
    srv.stop()


def race_server(kind: str, tmp: Path, request: pytest.FixtureRequest
                ) -> Iterator[LiveServer]:
    """A server on SQLite, PostgreSQL, or SQLite with the throttle in Redis."""
    if kind == "redis":
        with redis_database() as url:
            srv = LiveServer(tmp, env={"ROUNDS_REDIS_URL": url})
            yield srv
            srv.stop()
        return
    url = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    srv = LiveServer(tmp, database_url=url)
    yield srv
    srv.stop()


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    yield from race_server(request.param, tmp_path, request)


def test_parallel_guesses_are_counted_before_the_password_is_checked(
        any_server: LiveServer) -> None:
    add_user(any_server, "zhang", "customer_manager")
    answers = asyncio.run(parallel_sign_ins(any_server, "zhang", "wrong guess", 40))
    codes = [r.status_code for r in answers]
    # Five free attempts were checked (and failed); the rest were refused unchecked. (A
    # sixth is checked only if a request of the flood reached the server a second after the
    # fifth: the first back-off step; a loaded machine may take that long.)
    assert set(codes) == {401, 429} and 5 <= codes.count(401) <= 6, sorted(codes)
    refused = [r for r in answers if r.status_code == 429]
    assert all(r.json()["code"] == "too_many_attempts" for r in refused)
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    # The flood from 127.0.0.1 does not lock the real user out from their own address.
    assert sign_in(any_server, "zhang", PASSWORD, "127.0.0.2").status_code == 200


def test_wrong_passwords_from_elsewhere_do_not_lock_the_user_out(server: LiveServer) -> None:
    statuses = [sign_in(server, "wang", "not it", "127.0.0.9").status_code
                for _ in range(12)]
    assert statuses[:5] == [401] * 5 and 429 in statuses, statuses
    # Same username, the user's own address: signs in at once.
    r = sign_in(server, "wang", PASSWORD, "127.0.0.2")
    assert r.status_code == 200, r.text


def test_a_known_device_signs_in_through_a_guessing_campaign(server: LiveServer) -> None:
    with client(server, "127.0.0.3") as phone:
        assert sign_in(server, "liu", PASSWORD, c=phone).status_code == 200
        assert "rounds_device" in phone.cookies
        phone.cookies.delete("rounds_session")
        # Guesses at liu's password from eight addresses, five each: past the twenty one
        # user name gets from anywhere before it slows down.
        statuses = [sign_in(server, "liu", "guess", f"127.0.0.{n}").status_code
                    for n in range(10, 18) for _ in range(5)]
        assert statuses[:20] == [401] * 20 and statuses.count(429) >= 10, statuses
        # Guessing slowed down for every address (the 429s above)... but liu's own phone,
        # known from before, is not held up.
        r = sign_in(server, "liu", PASSWORD, c=phone)
        assert r.status_code == 200, r.text
        assert r.json()["username"] == "liu"


def test_one_address_cannot_lock_out_a_whole_station(server: LiveServer) -> None:
    station = "127.0.0.4"  # everybody at the station, behind one NAT address
    with client(server, station) as phone:
        assert sign_in(server, "station1", PASSWORD, c=phone).status_code == 200
        phone.cookies.delete("rounds_session")
        # Someone at the station tries one password on many user names.
        statuses = [sign_in(server, f"nobody{i}", "guess", station).status_code
                    for i in range(36)]
        assert statuses[:30] == [401] * 30 and 429 in statuses[30:], statuses
        # Known devices at the station still sign in.
        assert sign_in(server, "station1", PASSWORD, c=phone).status_code == 200


def test_login_csrf_from_another_origin_is_refused(server: LiveServer) -> None:
    body = json.dumps({"username": "csrf_user", "password": PASSWORD})
    # What a cross-site <form enctype="text/plain"> sends.
    r = httpx.post(server.url + "/api/auth/sign-in", content=body,
                   headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert "set-cookie" not in r.headers
    for form in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = httpx.post(server.url + "/api/auth/sign-in", content=body,
                       headers={"Content-Type": form})
        assert r.status_code == 415, form
    # JSON, but a browser says it comes from a page of another site.
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        r = httpx.post(server.url + "/api/auth/sign-in", content=body,
                       headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 403 and r.json()["code"] == "cross_origin", headers
        assert "set-cookie" not in r.headers
    # Our own page, and clients that are not browsers, sign in as before.
    ours = httpx.post(server.url + "/api/auth/sign-in", content=body, headers={
        "Content-Type": "application/json; charset=utf-8", "Sec-Fetch-Site": "same-origin",
        "Origin": server.url})
    assert ours.status_code == 200, ours.text
    assert httpx.post(server.url + "/api/auth/sign-in", content=body).status_code == 200


def test_json_endpoints_refuse_other_media_types(server: LiveServer) -> None:
    admin = api_token(server, "boss")
    r = httpx.post(server.url + "/api/users", headers={**admin, "Content-Type": "text/plain"},
                   content='{"username": "x1", "display_name": "X", '
                           '"role_id": "customer_manager", "org_unit": "city"}')
    assert r.status_code == 415
    assert "application/json" in r.json()["detail"]


def test_an_api_token_in_the_session_cookie_needs_the_csrf_token(server: LiveServer) -> None:
    bearer = api_token(server, "tok_user")
    token = bearer["Authorization"].removeprefix("Bearer ")
    with httpx.Client(base_url=server.url, cookies={"rounds_session": token}) as c:
        assert c.get("/api/auth/me").json()["username"] == "tok_user"
        refused = c.post("/api/auth/sign-out")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    # The token was not revoked by that request.
    assert httpx.get(server.url + "/api/auth/me", headers=bearer).status_code == 200


def test_security_headers_on_pages_and_api(server: LiveServer) -> None:
    for path in ("/sign-in", "/api/health", "/api/auth/me", "/forms", "/api/docs"):
        r = httpx.get(server.url + path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_hidden_direction_controls_and_nul_are_refused(server: LiveServer) -> None:
    admin = api_token(server, "boss")
    for sneaky in ("Zhang\u202egpj.exe", "Li\u0000", "A\u2066B\u2069"):
        r = httpx.post(server.url + "/api/users", headers=admin, json={
            "username": "sneaky", "display_name": sneaky, "role_id": "customer_manager",
            "org_unit": "city"})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
            ("/display_name", "unsafe_characters")]
        assert "bidirectional" in problem["detail"]
    fine = httpx.post(server.url + "/api/users", headers=admin, json={
        "username": "plain", "display_name": "王\u200f芳", "role_id": "customer_manager",
        "org_unit": "city"})
    assert fine.status_code == 201, fine.text


def test_csv_imports_drop_hidden_direction_controls(server: LiveServer) -> None:
    admin = api_token(server, "boss")
    csv = ("username,display_name,role,org_unit,phone,password,site\n"
           "csvuser,Zhao\u202eLi\u0000,customer_manager,city,,long-enough-1,\n")
    r = httpx.post(server.url + "/api/imports/users", headers={**admin,
                   "Content-Type": "text/csv"}, content=csv.encode())
    assert r.status_code == 200, r.text
    users = httpx.get(server.url + "/api/users", headers=admin,
                      params={"q": "csvuser"}).json()["items"]
    assert [u["display_name"] for u in users if u["username"] == "csvuser"] == ["ZhaoLi"]


def test_names_are_escaped_on_pages(server: LiveServer) -> None:
    from support.live import in_database

    async def rename(db: Any) -> None:
        from sqlalchemy import update

        from rounds.runtime.people.models import User

        await db.execute(update(User).where(User.username == "station1").values(
            display_name='<img src=x onerror="alert(1)">'))

    in_database(server.database_url, rename)
    with client(server, "127.0.0.5") as c:
        assert sign_in(server, "station1", PASSWORD, c=c).status_code == 200
        html = c.get("/today").text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<img src=x" not in html
