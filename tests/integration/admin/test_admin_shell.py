"""The admin app's shell over real HTTP (SQLite and PostgreSQL): an administrator reaches
``/admin`` (cards per section with counts) and sees the 管理 link; a customer manager gets
403 and no link; anonymous readers are sent to sign in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support.fieldwork import Live, live_city


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("admin-shell"), request.param) as city:
        yield city


def test_the_admin_lands_on_cards_with_counts(live: Live) -> None:
    with live.client("admin") as c:
        r = c.get("/admin?lang=zh")
        assert r.status_code == 200, r.text
        for key in ("definitions", "orgs", "people", "sites", "imports", "audit"):
            assert f'data-card="{key}"' in r.text and f'data-section="{key}"' in r.text
        assert 'data-nav="admin"' in r.text and "管理" in r.text
        assert "业务标准" in r.text
        en = c.get("/admin?lang=en").text
        assert "Standards" in en and "业务标准" not in en
        assert c.get("/static/admin/admin.js").status_code == 200
        # the definitions synced when the server started are in the trail, by no one
        assert "系统（命令行同步）" in r.text and 'data-recent' in r.text
        assert 'data-nav="admin"' in c.get("/today?lang=zh").text


def test_a_field_user_and_an_anonymous_reader_get_nothing(live: Live) -> None:
    with live.client("zhang") as c:
        assert c.get("/admin").status_code == 403
        assert 'data-nav="admin"' not in c.get("/today").text
    with httpx.Client(base_url=live.url, timeout=60) as anonymous:
        r = anonymous.get("/admin?lang=en")
        assert r.status_code in (302, 303)
        assert r.headers["location"].startswith("/sign-in?next=%2Fadmin")
