"""Survey campaigns with known responses in a server's database, for the results pages'
tests: an industry user; a business pressure campaign (scored in a sum with three outcome
levels) of five responses, and a satisfaction campaign of eight whose retailers wrote
suggestions. Written behind the server's back, as a campaign helper would have stored them
(in a thread of its own: the browser tests' Playwright keeps an event loop in the main
thread)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from support.fieldwork import PASSWORD, Field
from support.live import run_async

PRESSURE_ITEMS = ("supply_short", "cash_tight", "stock_unsold", "fewer_customers",
                  "nearby_competition", "price_pressure")
# what the retailers wrote (shop A, shop B and shop A again, oldest first), and a consumer
SUGGESTIONS = ("送货时间能不能固定在上午", "希望多来几次指导陈列", "送货员态度很好",
               "货源紧张的品规希望多分一些", "线上订货系统有时打不开", "价格标签希望统一更换")


CAMPAIGNS = (("retailer_business_pressure", "零售户经营压力调查（十二月）"),
             ("retailer_satisfaction", "零售户满意度调查（十二月）"))


@dataclass(frozen=True)
class Surveys:
    pressure: int
    satisfaction: int
    industry_user: str = "hangye"


def _pressure(choice: str) -> bytes:
    return msgspec.json.encode({"answers": {i: choice for i in PRESSURE_ITEMS}})


def _satisfaction(overall: str, text: str | None) -> bytes:
    answers: dict[str, Any] = {"customer_manager_service": 4, "delivery_rating": 3,
                               "market_supervision": 5, "supply_fit": "na",
                               "complaint_handling": 4, "overall_satisfaction": overall,
                               "improve_first": ["delivery", "supply"]}
    if text:
        answers["suggestions"] = text
    return msgspec.json.encode({"answers": answers})


def seed_surveys(url: str, field: Field) -> Surveys:
    from rounds.db import create_engine, session_factory, transaction, utcnow
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import Site
    from rounds.runtime.surveys.models import CONSUMER, OPEN, RETAILER, SurveyCampaign
    from rounds.runtime.surveys.responses import Respondent, store_response

    async def run() -> Surveys:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_user(db, username="hangye", display_name="行业用户",
                                  role_id="industry_user", org_unit_code="city",
                                  password=PASSWORD, language="zh")
                now = utcnow()
                ids = []
                for survey, title in CAMPAIGNS:
                    version = await get_version(db, survey)
                    c = SurveyCampaign(
                        title=title, survey_id=survey, version_id=version.id,
                        audience=RETAILER, targeting={}, follow_visit=None,
                        target_responses=20, period_start=now.date() - dt.timedelta(days=2),
                        period_end=now.date() + dt.timedelta(days=20),
                        opens_at=now - dt.timedelta(days=2),
                        closes_at=now + dt.timedelta(days=20), status=OPEN,
                        created_by=field.users["li"])
                    db.add(c)
                    await db.flush()
                    ids.append(c)
                units = {code: (await db.get(Site, sid)).org_unit_id  # type: ignore[union-attr]
                         for code, sid in field.sites.items()}

                def shop(code: str) -> Respondent:
                    return Respondent(RETAILER, site_id=field.sites[code],
                                      org_unit_id=units[code])
                start = now - dt.timedelta(hours=1)
                for i, (choice, who) in enumerate(
                        [("never", shop("shop_a")), ("sometimes", shop("shop_a")),
                         ("always", shop("shop_b")), ("often", shop("shop_c")),
                         ("never", Respondent(CONSUMER, device_hash="d" * 64))]):
                    await store_response(db, ids[0], str(uuid.uuid4()), _pressure(choice), who,
                                         now=start + dt.timedelta(minutes=i))
                shops = ("shop_a", "shop_b", "shop_a", "shop_c", "shop_b", "shop_a")
                for i, (code, text) in enumerate(zip(shops, SUGGESTIONS, strict=True)):
                    await store_response(db, ids[1], str(uuid.uuid4()),
                                         _satisfaction("satisfied", text), shop(code),
                                         now=start + dt.timedelta(minutes=i))
                for i in range(2):
                    await store_response(db, ids[1], str(uuid.uuid4()),
                                         _satisfaction("very_satisfied", None),
                                         Respondent(CONSUMER, device_hash=f"{i}" * 64),
                                         now=start + dt.timedelta(minutes=10 + i))
                return Surveys(ids[0].id, ids[1].id)
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


def seed_market(url: str, field: Field) -> None:
    """The staff's market survey this month: six records in the north, two in the south."""
    from rounds.db import create_engine, session_factory, transaction, utcnow
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.submissions.models import Submission

    rows = [("shop_a", "zhang", "tight", 640, "rising"), ("shop_a", "zhang", "ample", 620,
                                                          "steady"),
            ("shop_c", "zhao", "out", None, "falling"), ("shop_a", "zhang", "ample", 610,
                                                          "steady"),
            ("shop_c", "zhao", "tight", 650, "rising"), ("shop_a", "zhang", "ample", 600,
                                                          "falling"),
            ("shop_b", "wang", "ample", 580, "steady"), ("shop_b", "wang", "tight", 590,
                                                          "rising")]

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                version = await get_version(db, "market_price_stock")
                for code, who, stock, price, trend in rows:
                    answers: dict[str, Any] = {"zhonghua_stock": stock, "yuxi_stock": "ample",
                                               "yuxi_price": 230, "sales_trend": trend,
                                               "prices_marked": "yes"}
                    if price is not None:
                        answers["zhonghua_price"] = price
                    db.add(Submission(
                        id=str(uuid.uuid4()), body_hash="-", user_id=field.users[who],
                        site_id=field.sites[code], definition_id="market_price_stock",
                        version_id=version.id, content_hash=version.content_hash,
                        answers=answers, evidence={}, evaluation={}, happened_at=utcnow()))
        finally:
            await engine.dispose()

    run_async(run())


def seed_city(url: str) -> Field:
    """The field tests' small city (``support.fieldwork.seed``), from a thread of its own."""
    from rounds.db import create_engine, session_factory, transaction
    from support.fieldwork import seed

    async def run() -> Field:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                return await seed(db)
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]
