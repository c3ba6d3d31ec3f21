"""The retailer's portal and the notices over real HTTP, against a `rounds up` server on
SQLite and on PostgreSQL: the shop sees its visits with their scores and why, the problems
about it and its own feedback, never another shop's; the shop confirms the fix of what it
raised before it closes; notices reach the retailers of their unit and below, not once
expired or withdrawn; only notice.publish writes them, every mistake at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from rounds.db import create_engine, session_factory, transaction
from support.fieldwork import PASSWORD, STANDARD, Live, body, live_city, png_bytes, poor_answers
from support.live import api_token

RETAILERS = {"shop_a_owner": "shop_a", "shop_b_owner": "shop_b"}


def _add_retailers(live: Live) -> None:
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(live.database_url())
        try:
            async with transaction(session_factory(engine)) as db:
                for name, shop in RETAILERS.items():
                    unit = "north" if shop == "shop_a" else "south"
                    user = await create_user(db, username=name, display_name=f"{shop} 店主",
                                             role_id="retailer_user", org_unit_code=unit,
                                             password=PASSWORD, site_id=live.field.sites[shop],
                                             language="zh")
                    live.field.users[name] = user.id
        finally:
            await engine.dispose()

    asyncio.run(run())
    for name in RETAILERS:
        live.auth[name] = api_token(live.server, name, PASSWORD)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("portal"), request.param) as city:
        _add_retailers(city)
        yield city


def client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def photo(c: httpx.Client, seed: int) -> str:
    r = c.post("/api/photos", files={"file": ("p.png", png_bytes(seed), "image/png")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def visited(live: Live) -> dict[str, Any]:
    """zhang visits shop_a and fills the standard poorly; the visit is closed."""
    with client(live, "zhang") as c:
        visit = live.visit(c, "shop_a")
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        answers, evidence = poor_answers(photo(c, 3))
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, answers,
                                                 evidence=evidence, visit_id=visit))
        assert r.status_code == 201, r.text
        c.post(f"/api/visits/{visit}/check-out", json={})
        return {"visit": visit, "submission": r.json()}


def test_the_shop_sees_its_visits_scores_and_why(live: Live) -> None:
    done = visited(live)
    with client(live, "shop_a_owner") as c:
        home = c.get("/shop", params={"lang": "zh"})
        assert home.status_code == 200, home.text
        html = home.text
        assert "Shop A" in html and "shop_a" in html  # the card: name and code
        assert "310101000001" in html  # the licence number from the attributes
        assert "客户经理拜访" in html  # the role's own word for the visit
        assert 'data-staff-role="customer_manager"' in html and "zhang" in html
        sub = done["submission"]["id"]
        assert f"/submissions/{sub}" in html
        # The explanation: the result page opens for the shop, with the score.
        result = c.get(f"/submissions/{sub}", params={"lang": "zh"})
        assert result.status_code == 200 and "Shop A" in result.text
        assert c.get(f"/api/submissions/{sub}").status_code == 200
        visit = c.get(f"/shop/visits/{done['visit']}", params={"lang": "zh"})
        assert visit.status_code == 200 and "zhang" in visit.text
        listed = c.get("/shop/visits", params={"lang": "zh"})
        assert listed.status_code == 200 and f"/shop/visits/{done['visit']}" in listed.text
        # The problems found at the visit are the shop's to read (no link: not its own).
        problems = c.get("/shop/issues", params={"lang": "zh"}).text
        assert "data-shop-issue" in problems and "data-mine" not in problems
        # A date as people write it.
        assert f"{datetime.now(UTC).year}年" in html
    # Another shop sees none of it.
    with client(live, "shop_b_owner") as c:
        assert c.get(f"/shop/visits/{done['visit']}").status_code == 404
        assert c.get(f"/submissions/{sub}").status_code == 404
        assert c.get(f"/api/submissions/{sub}").status_code == 404
        assert f"/submissions/{sub}" not in c.get("/shop").text
        assert "data-shop-issue" not in c.get("/shop/issues").text


def test_the_root_and_the_nav_take_the_shop_to_its_portal(live: Live) -> None:
    with client(live, "shop_a_owner") as c:
        r = c.get("/", params={"lang": "zh"})
        assert r.status_code == 303 and r.headers["location"].startswith("/shop")
        html = c.get("/shop", params={"lang": "zh"}).text
        assert 'data-nav="shop"' in html and 'data-nav="shop-feedback"' in html
        assert 'href="/today' not in html  # no field staff's links
    with client(live, "zhang") as c:
        assert c.get("/").headers["location"].startswith("/today")
        assert c.get("/shop").status_code == 403


def test_the_shop_files_a_suggestion_and_confirms_the_fix(live: Live) -> None:
    with client(live, "shop_a_owner") as c:
        form = c.get("/shop/feedback/new", params={"lang": "zh"})
        assert form.status_code == 200 and "工作建议" in form.text
        r = c.post("/api/issues/feedback", json={"kind": "suggestion", "text": "希望多送新品"})
        assert r.status_code == 201, r.text
        issue = r.json()
        mine = c.get("/shop/issues", params={"show": "mine", "lang": "zh"}).text
        assert "希望多送新品" in mine and f"/issues/{issue['id']}" in mine
    with client(live, "zhang") as c:  # the shop's customer manager rectifies
        assert any(i["id"] == issue["id"]
                   for i in c.get("/api/issues/mine").json()["items"])
        step = c.post(f"/api/issues/{issue['id']}/start", json={"version": issue["version"]})
        fix = photo(c, 5)
        step = c.post(f"/api/issues/{issue['id']}/rectify", json={
            "version": step.json()["version"], "note": "已安排", "photos": [fix]})
        assert step.status_code == 200, step.text
    with client(live, "zhao") as c:  # the station head verifies, but may not close yet
        step = c.post(f"/api/issues/{issue['id']}/verify",
                      json={"version": step.json()["version"]})
        assert step.status_code == 200, step.text
        early = c.post(f"/api/issues/{issue['id']}/close",
                       json={"version": step.json()["version"]})
        assert early.status_code == 409
        assert early.json()["code"] == "issue_needs_shop_confirmation"
    with client(live, "shop_b_owner") as c:
        assert c.get(f"/issues/{issue['id']}").status_code == 404
    with client(live, "shop_a_owner") as c:
        home = c.get("/shop", params={"lang": "zh"}).text
        assert "data-to-confirm" in home
        page = c.get(f"/issues/{issue['id']}", params={"lang": "zh"}).text
        assert 'data-issue-action="confirm"' in page and "确认整改" in page
        ok = c.post(f"/api/issues/{issue['id']}/confirm",
                    json={"version": step.json()["version"]})
        assert ok.status_code == 200, ok.text
    with client(live, "zhao") as c:
        closed = c.post(f"/api/issues/{issue['id']}/close",
                        json={"version": ok.json()["version"]})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_notices_reach_the_retailers_of_their_unit(live: Live) -> None:
    now = datetime.now(UTC)
    with client(live, "zhang") as c:  # no notice.publish
        assert c.post("/api/notices", json={"title_zh": "x", "body_zh": "y",
                                            "audience": "retailer",
                                            "topic": "policy"}).status_code == 403
        assert c.get("/notices").status_code == 403
    with client(live, "li") as c:
        bad = c.post("/api/notices", json={
            "title_zh": " ", "body_zh": "", "audience": "shops", "topic": "news",
            "title_en": "Only a title", "expires_at": (now - timedelta(days=1)).isoformat()})
        assert bad.status_code == 422
        assert {e["pointer"] for e in bad.json()["errors"]} == {
            "/title_zh", "/body_zh", "/audience", "/topic", "/body_en", "/expires_at"}
        tree = c.get("/api/org-units").json()["items"]
        units = {u["code"]: u["id"] for u in tree + [k for u in tree for k in u["children"]]}

        def publish(title: str, **more: Any) -> int:
            r = c.post("/api/notices", json={"title_zh": title, "body_zh": f"{title}的内容",
                                             "audience": "retailer", "topic": "policy",
                                             **more})
            assert r.status_code == 201, r.text
            return int(r.json()["id"])

        publish("全市通知", title_en="City notice", body_en="For all")
        publish("北站通知", org_unit_id=units["north"])
        publish("南站通知", org_unit_id=units["south"])
        later = publish("定时通知", published_at=(now + timedelta(days=3)).isoformat(),
                        expires_at=(now + timedelta(days=5)).isoformat())
        gone = publish("撤回的通知")
        assert c.post(f"/api/notices/{gone}/withdraw").status_code == 200
        assert c.post(f"/api/notices/{gone}/withdraw").status_code == 409
        consumers = c.post("/api/notices", json={
            "title_zh": "新品上市", "body_zh": "……", "audience": "consumer",
            "topic": "product", "org_unit_id": units["north"]})
        assert [e["pointer"] for e in consumers.json()["errors"]] == ["/org_unit_id"]
        listing = c.get("/notices", params={"lang": "zh"})
        assert listing.status_code == 200 and "撤回的通知" in listing.text
        assert c.get("/notices/new", params={"lang": "zh"}).status_code == 200
        assert 'data-state="scheduled"' in listing.text and later
    with client(live, "shop_a_owner") as c:
        seen = [n["title"] for n in c.get("/api/notices").json()]
        assert "全市通知" in seen and "北站通知" in seen
        assert "南站通知" not in seen and "撤回的通知" not in seen and "定时通知" not in seen
        home = c.get("/shop", params={"lang": "zh"}).text
        assert "北站通知" in home and "南站通知" not in home
        assert "City notice" in c.get("/shop", params={"lang": "en"}).text
    with client(live, "shop_b_owner") as c:
        seen = [n["title"] for n in c.get("/api/notices").json()]
        assert "南站通知" in seen and "北站通知" not in seen
