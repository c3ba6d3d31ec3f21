"""The site's own address leads somewhere: the sign-in page, or a signed-in person's home."""

from __future__ import annotations

from pathlib import Path

import httpx

from support.live import LiveServer, add_user


def test_root_redirects_to_sign_in_or_home(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "var")
    try:
        anonymous = httpx.get(server.url + "/", follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/sign-in"
        page = httpx.get(server.url + "/", follow_redirects=True)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert 'name="password"' in page.text or 'type="password"' in page.text

        add_user(server, "wang", "customer_manager")
        with httpx.Client(base_url=server.url) as client:
            r = client.post("/api/auth/sign-in", json={"username": "wang",
                                                       "password": "password-123"})
            assert r.status_code in (200, 201), r.text
            home = client.get("/", follow_redirects=False)
            assert home.status_code == 303
            assert home.headers["location"] == "/today"
            assert client.get("/?lang=en", follow_redirects=False).headers["location"] \
                == "/today?lang=en"
            today = client.get("/", follow_redirects=True)
            assert today.status_code == 200 and "text/html" in today.headers["content-type"]

        # Those who read a unit's figures land on its dashboard; an enforcement officer,
        # whose scope is one unit without the units below it, on their day.
        for username, role, home_path in (("li", "city_leader", "/dashboard"),
                                          ("zhou", "station_head", "/dashboard"),
                                          ("zhao", "enforcement_officer", "/today")):
            add_user(server, username, role)
            with httpx.Client(base_url=server.url) as client:
                r = client.post("/api/auth/sign-in", json={"username": username,
                                                           "password": "password-123"})
                assert r.status_code in (200, 201), r.text
                home = client.get("/", follow_redirects=False)
                assert home.headers["location"] == home_path, username
                assert client.get("/", follow_redirects=True).status_code == 200
                # the sign-in page of someone signed in already sends them home too
                again = client.get("/sign-in", follow_redirects=False)
                assert again.headers["location"] == "/", username
    finally:
        server.stop()
