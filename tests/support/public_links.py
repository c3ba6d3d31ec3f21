"""Public survey links in tests: a consumer campaign written behind a live server's back, its
links read from the manager's page, a survey answered as a phone does."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import httpx

from support.fieldwork import Live

SURVEY = "retailer_satisfaction"
GOOD = {"f-customer_manager_service": "5", "f-delivery_rating": "4", "f-market_supervision": "na",
        "f-supply_fit": "3", "f-complaint_handling": "5", "f-overall_satisfaction": "satisfied",
        "f-improve_first": ["supply", "delivery"]}


def make_campaign(live: Live, *, one_per: str = "device", status: str = "open",
                  closes_in: dt.timedelta = dt.timedelta(days=7)) -> int:
    """A consumer campaign of the satisfaction survey, written behind the server's back."""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.surveys.models import CONSUMER, SurveyCampaign

    async def run() -> int:
        engine = create_engine(live.database_url())
        try:
            async with transaction(session_factory(engine)) as db:
                version = await get_version(db, SURVEY)
                now = dt.datetime.now(dt.UTC)
                c = SurveyCampaign(
                    title="消费者满意度调查", survey_id=SURVEY, version_id=version.id,
                    audience=CONSUMER, targeting={}, follow_visit=None, one_per=one_per,
                    target_responses=100, period_start=now.date(),
                    period_end=(now + closes_in).date(), opens_at=now - dt.timedelta(hours=1),
                    closes_at=now + closes_in, status=status, created_by=live.field.users["li"])
                db.add(c)
                await db.flush()
                return int(c.id)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def link_of(live: Live, campaign_id: int, shop: str | None = None) -> str:
    """The campaign's (or a shop's) link, read from the manager's page."""
    with live.client("li") as c:
        r = c.get(f"/surveys/{campaign_id}/links", params={"lang": "zh"})
        assert r.status_code == 200, r.text
        link = re.search(r'data-campaign-link>([^<]+)<', r.text)
        assert link
        if shop is None:
            return link.group(1).replace(live.url, "")
        sheet = c.get(f"/surveys/{campaign_id}/links/sheet", params={"lang": "zh"}).text
    assert live.field.sites[shop]
    urls = re.findall(r'data-url="([^"]+)"[^>]*data-code="([^"]+)"', sheet)
    return next(u for u, code in urls if code == shop).replace(live.url, "")


def response_id(page: str) -> str:
    found = re.search(r'name="response_id" value="([0-9a-f-]{36})"', page)
    assert found, page[:2000]
    return found.group(1)


def answer(c: httpx.Client, path: str, fields: dict[str, Any] | None = None) -> httpx.Response:
    page = c.get(path)
    assert page.status_code == 200, page.text
    return c.post(path, data={"response_id": response_id(page.text), **(fields or GOOD)})


