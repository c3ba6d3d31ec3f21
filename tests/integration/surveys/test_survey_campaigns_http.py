"""The survey campaigns' API through a real server, on SQLite and PostgreSQL: a leader drafts
a campaign (every mistake at once, 422), opens it; the shop's own account finds it in
/api/me/surveys and answers it once (201, a retry 200, another 409); staff are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from support.fieldwork import PASSWORD, Live, live_city
from support.live import api_token

SURVEY = "retailer_satisfaction"
ANSWERS = {"customer_manager_service": 5, "delivery_rating": 4, "market_supervision": 4,
           "supply_fit": 3, "complaint_handling": 5, "overall_satisfaction": "satisfied"}


def add_owner(live: Live, username: str, shop: str) -> None:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(live.database_url())
        try:
            async with transaction(session_factory(engine)) as db:
                await create_user(db, username=username, display_name=username,
                                  role_id="retailer_user", org_unit_code="north",
                                  password=PASSWORD, site_id=live.field.sites[shop])
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("survey-campaigns"), request.param) as city:
        add_owner(city, "owner_a", "shop_a")
        city.auth["owner_a"] = api_token(city.server, "owner_a", PASSWORD)
        yield city


def spec(**changes: Any) -> dict[str, Any]:
    today = dt.date.today()
    return {"title": "零售户满意度", "survey": SURVEY, "audience": "retailer",
            "target_responses": 20,
            "period": {"start": (today - dt.timedelta(days=1)).isoformat(),
                       "end": (today + dt.timedelta(days=30)).isoformat()}, **changes}


def test_a_campaign_drafted_opened_and_answered_once(live: Live) -> None:
    with live.client("li") as leader, live.client("owner_a") as owner, \
            live.client("zhang") as staff:
        bad = leader.post("/api/survey-campaigns", json=spec(
            audience="consumer", target_responses=0, follow_visit={"within_days": 40,
                                                                   "roles": []}))
        assert bad.status_code == 422, bad.text
        problem = bad.json()
        assert problem["code"] == "survey_campaign_invalid"
        assert {e["pointer"] for e in problem["errors"]} == {
            "/survey", "/target_responses", "/follow_visit", "/follow_visit/within_days",
            "/follow_visit/roles"}
        made = leader.post("/api/survey-campaigns", json=spec())
        assert made.status_code == 201, made.text
        campaign = made.json()
        assert campaign["status"] == "draft" and campaign["responses"] == 0
        cid = campaign["id"]
        assert owner.get("/api/me/surveys").json() == []  # a draft asks nobody
        edited = leader.put(f"/api/survey-campaigns/{cid}", json=spec(target_responses=5))
        assert edited.status_code == 200 and edited.json()["target_responses"] == 5
        assert staff.post(f"/api/survey-campaigns/{cid}/open").status_code == 403
        opened = leader.post(f"/api/survey-campaigns/{cid}/open")
        assert opened.status_code == 200 and opened.json()["status"] == "open"
        mine = owner.get("/api/me/surveys").json()
        assert [(m["campaign_id"], m["survey_id"]) for m in mine] == [(cid, SURVEY)]
        assert len(mine[0]["version"]) == 64
        rid = str(uuid.uuid4())
        body = {"id": rid, "answers": ANSWERS}
        first = owner.post(f"/api/survey-campaigns/{cid}/responses", json=body)
        assert first.status_code == 201, first.text
        assert first.json()["percentage"] is not None
        again = owner.post(f"/api/survey-campaigns/{cid}/responses", json=body)
        assert again.status_code == 200 and again.json() == first.json()
        other = owner.post(f"/api/survey-campaigns/{cid}/responses",
                           json={"id": str(uuid.uuid4()), "answers": ANSWERS})
        assert other.status_code == 409 and other.json()["code"] == "survey_already_answered"
        refused = staff.post(f"/api/survey-campaigns/{cid}/responses",
                             json={"id": str(uuid.uuid4()), "answers": ANSWERS})
        assert refused.status_code == 403
        assert owner.get("/api/me/surveys").json() == []
        page = leader.get("/api/survey-campaigns", params={"per_page": 10}).json()
        assert page["total"] >= 1 and page["items"][0]["id"] == cid
        assert page["items"][0]["responses"] == 1
        closed = leader.post(f"/api/survey-campaigns/{cid}/close")
        assert closed.json()["status"] == "closed"
        assert leader.post(f"/api/survey-campaigns/{cid}/close").status_code == 409
