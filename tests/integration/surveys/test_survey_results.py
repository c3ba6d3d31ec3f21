"""A survey campaign's results on SQLite and PostgreSQL, for a known set of responses: each
question's distribution, the outcome levels overall and by station, staff member and shop
grade band; the free text newest first, searched and paged; the industry view, where a
group of ``min_group - 1`` responses is hidden and one of ``min_group`` shown, with no staff,
shop or text anywhere; and the market survey's demand trends under the same rule."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.runtime.definitions.service import get_version
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission
from rounds.runtime.surveys import results
from rounds.runtime.surveys.models import CONSUMER, OPEN, RETAILER, SurveyCampaign
from rounds.runtime.surveys.responses import Respondent, store_response
from support.fieldwork import Field, load_definitions, seed

Sessions = async_sessionmaker[AsyncSession]
TZ = ZoneInfo("Asia/Shanghai")
PRESSURE = "retailer_business_pressure"
SATISFACTION = "retailer_satisfaction"
ITEMS = ("supply_short", "cash_tight", "stock_unsold", "fewer_customers",
         "nearby_competition", "price_pressure")


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        field = await seed(db)
        shop_b = await db.get(Site, field.sites["shop_b"])
        assert shop_b is not None
        shop_b.attributes = {**shop_b.attributes, "grade": "12"}
        return field


async def campaign(db: AsyncSession, field: Field, survey: str) -> SurveyCampaign:
    version = await get_version(db, survey)
    now = utcnow()
    c = SurveyCampaign(
        title="经营压力", survey_id=survey, version_id=version.id, audience=RETAILER,
        targeting={}, follow_visit=None, target_responses=10,
        period_start=now.date(), period_end=now.date() + dt.timedelta(days=7),
        opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=7),
        status=OPEN, created_by=field.users["li"])
    db.add(c)
    await db.flush()
    return c


def same(choice: str) -> bytes:
    return msgspec.json.encode({"answers": {i: choice for i in ITEMS}})


async def pressure_campaign(sessions: Sessions, field: Field) -> int:
    """Five responses: sums 0 (low), 6 (moderate), 18 (high), 12 (high), 0 (low)."""
    async with transaction(sessions) as db:
        c = await campaign(db, field, PRESSURE)
        north, south = (await db.get(Site, field.sites["shop_a"])), \
            (await db.get(Site, field.sites["shop_b"]))
        assert north is not None and south is not None
        shop = {code: Respondent(RETAILER, site_id=field.sites[code],
                                 org_unit_id=(north if code != "shop_b" else south).org_unit_id)
                for code in ("shop_a", "shop_b", "shop_c")}
        answers = [("never", shop["shop_a"]), ("sometimes", shop["shop_a"]),
                   ("always", shop["shop_b"]),
                   ("often", Respondent(RETAILER, site_id=field.sites["shop_c"],
                                        org_unit_id=north.org_unit_id,
                                        about_user_id=field.users["zhao"])),
                   ("never", Respondent(CONSUMER, device_hash="d" * 64))]
        for choice, who in answers:
            await store_response(db, c, str(uuid.uuid4()), same(choice), who)
        return c.id


def levels(group: results.ScoreGroup) -> dict[str, int]:
    return {lv.level: lv.count for lv in group.levels}


def by_name(groups: list[results.ScoreGroup]) -> dict[str, results.ScoreGroup]:
    return {g.name: g for g in groups}


async def test_distribution_outcome_levels_and_groups(sessions: Sessions, city: Field) -> None:
    cid = await pressure_campaign(sessions, city)
    async with sessions() as db:
        c = await results.campaign_of(db, cid)
        res = await results.campaign_results(db, c, lang="zh", tz=TZ)
    ov = res.overview
    assert (ov.count, ov.target, ov.rate) == (5, 10, 0.5)
    assert {k.kind: k.count for k in ov.by_kind} == {"retailer": 4, "consumer": 1}
    assert ov.first_day == ov.last_day == utcnow().astimezone(TZ).date()
    q = {x.item_id: x for x in res.questions}
    assert list(q) == list(ITEMS)
    supply = q["supply_short"]
    assert [(ch.label, ch.count) for ch in supply.choices] == [
        ("从不", 2), ("偶尔", 1), ("经常", 1), ("总是", 1), ("说不清", 0)]
    assert supply.answered == 5 and supply.unanswered == 0
    assert supply.choices[0].share == pytest.approx(0.4)

    sc = res.scores
    assert sc.model == "sum" and sc.direction == "lower_better"
    assert sc.outcome_title == "经营压力"
    assert [lv.label for lv in sc.overall.levels] == ["压力较小", "压力中等", "压力较大"]
    assert levels(sc.overall) == {"low": 2, "moderate": 1, "high": 2}
    assert sc.overall.mean_value == pytest.approx(7.2)
    stations = by_name(sc.by_station)
    assert levels(stations["north"]) == {"low": 1, "moderate": 1, "high": 1}
    assert levels(stations["south"]) == {"low": 0, "moderate": 0, "high": 1}
    assert levels(stations["无所属管理所"]) == {"low": 1, "moderate": 0, "high": 0}
    staff = by_name(sc.by_staff)
    # zhang is shop A's customer manager; shop C's response is about zhao (its visit)
    assert {n: g.count for n, g in staff.items()} == {"wang": 1, "zhang": 2, "zhao": 1,
                                                       "无对应人员": 1}
    assert staff["zhang"].mean_value == pytest.approx(3.0)
    # The export names the same staff member on each row as the staff table counts
    async with sessions() as db:
        exported = [r async for r in await db.stream(results.export_query(c, None, "zh"))]
    assert [(r.site_name, r.staff_name) for r in exported] == [
        ("Shop A", "zhang"), ("Shop A", "zhang"), ("Shop B", "wang"), ("Shop C", "zhao"),
        (None, None)]
    grades = by_name(sc.by_grade)
    assert {n: g.count for n, g in grades.items()} == {"1–5 档": 3, "11–15 档": 1,
                                                        "未定档": 1}
    assert [g.name for g in sc.by_grade] == ["1–5 档", "11–15 档", "未定档"]
    async with sessions() as db:
        en = await results.scores(db, c, await results.survey_content(db, c), lang="en")
    assert [lv.label for lv in en.overall.levels] == ["Low", "Moderate", "High"]
    assert [g.name for g in en.by_grade] == ["Grades 1–5", "Grades 11–15", "No grade"]


async def test_industry_view_hides_small_groups_and_names(sessions: Sessions,
                                                          city: Field) -> None:
    cid = await pressure_campaign(sessions, city)
    async with sessions() as db:
        c = await results.campaign_of(db, cid)
        shown = await results.industry_view(db, c, lang="zh", tz=TZ, min_group=3)
        hidden = await results.industry_view(db, c, lang="zh", tz=TZ, min_group=4)
        none = await results.industry_view(db, c, lang="zh", tz=TZ, min_group=6)
    assert shown.scores is not None and hidden.scores is not None
    north = by_name(shown.scores.by_station)["north"]  # 3 responses: min_group 3 shows them
    assert not north.suppressed and levels(north) == {"low": 1, "moderate": 1, "high": 1}
    south = by_name(shown.scores.by_station)["south"]
    assert south.suppressed and south.mean_value is None and levels(south) == {
        "low": 0, "moderate": 0, "high": 0}
    north4 = by_name(hidden.scores.by_station)["north"]  # min_group 4: 3 is too few
    assert north4.suppressed and north4.mean_value is None
    assert by_name(shown.scores.by_grade)["1–5 档"].suppressed is False
    assert shown.scores.by_staff == [] and hidden.scores.by_staff == []
    assert all(q.min is None and q.max is None for q in shown.questions)
    assert none.suppressed and none.questions == [] and none.scores is None
    text = msgspec.json.encode([shown, hidden, none]).decode()
    for name in ("Shop A", "Shop B", "Shop C", "zhang", "wang", "zhao"):
        assert name not in text


async def test_free_text_newest_first_searched_and_paged(sessions: Sessions,
                                                         city: Field) -> None:
    start = utcnow()
    async with transaction(sessions) as db:
        c = await campaign(db, city, SATISFACTION)
        for i in range(25):
            about = "送货太慢" if i % 5 == 0 else "服务很好"
            body = {"customer_manager_service": "na" if i < 3 else 4, "delivery_rating": 4,
                    "market_supervision": 4, "supply_fit": 3, "complaint_handling": 5,
                    "overall_satisfaction": "satisfied", "suggestions": f"{about} 第{i}条"}
            await store_response(db, c, str(uuid.uuid4()), msgspec.json.encode(
                {"answers": body}), Respondent(RETAILER, site_id=city.sites["shop_a"]),
                now=start + dt.timedelta(minutes=i))
        await store_response(db, c, str(uuid.uuid4()), msgspec.json.encode({"answers": {
            "customer_manager_service": 5, "delivery_rating": 5, "market_supervision": 5,
            "supply_fit": 5, "complaint_handling": 5, "overall_satisfaction": "very_satisfied"}}),
            Respondent(CONSUMER, device_hash="e" * 64), now=start + dt.timedelta(minutes=30))
        cid = c.id
    async with sessions() as db:
        c = await results.campaign_of(db, cid)
        first, total = await results.free_texts(db, c, lang="zh", limit=20)
        second, _ = await results.free_texts(db, c, lang="zh", limit=20, offset=20)
        found, n = await results.free_texts(db, c, lang="zh", q="送货")
        by_shop, n_shop = await results.free_texts(db, c, lang="zh", q="shop a", limit=5)
        res = await results.campaign_results(db, c, lang="zh", tz=TZ)
    assert total == 25 and len(first) == 20 and len(second) == 5
    assert first[0].text == "服务很好 第24条" and second[-1].text == "送货太慢 第0条"
    assert [t.at for t in first] == sorted((t.at for t in first), reverse=True)
    assert n == 5 and [t.text for t in found] == [f"送货太慢 第{i}条" for i in (20, 15, 10, 5, 0)]
    assert found[0].site_name == "Shop A" and found[0].question == "您的意见和建议"
    assert n_shop == 25 and len(by_shop) == 5
    q = {x.item_id: x for x in res.questions}
    cm = q["customer_manager_service"]
    assert (cm.answered, cm.not_applicable) == (23, 3)
    assert {ch.value: ch.count for ch in cm.choices} == {"1": 0, "2": 0, "3": 0, "4": 22,
                                                         "5": 1, "na": 3}
    assert cm.choices[-1].label == "不适用"
    assert cm.mean == pytest.approx((22 * 4 + 5) / 23)
    assert q["suggestions"].answered == 25 and q["suggestions"].unanswered == 1
    assert q["improve_first"].unanswered == 26
    assert res.texts_total == 25
    # the survey's satisfaction levels, in the definition's order, every response in one
    levels = res.scores.overall.levels
    assert [lv.level for lv in levels] == ["dissatisfied", "neutral", "satisfied",
                                           "very_satisfied"]
    assert sum(lv.count for lv in levels) == 26
    assert res.scores.overall.mean_percentage is not None


async def test_demand_trends_by_month_and_station(sessions: Sessions, city: Field) -> None:
    today = utcnow().astimezone(TZ).date()
    async with transaction(sessions) as db:
        version = await get_version(db, results.MARKET_SURVEY)
        rows: list[tuple[str, str, int, str, str]] = [
            ("shop_a", "zhang", 600, "tight", "rising"), ("shop_a", "zhang", 620, "ample",
                                                           "falling"),
            ("shop_c", "zhao", 640, "out", "steady"),
            ("shop_b", "wang", 500, "ample", "steady"), ("shop_b", "wang", 520, "tight",
                                                          "rising")]
        for code, who, price, stock, trend in rows:
            answers: dict[str, Any] = {"zhonghua_stock": stock, "sales_trend": trend,
                                       "prices_marked": "yes"}
            if stock != "out":
                answers["zhonghua_price"] = price
            db.add(Submission(id=str(uuid.uuid4()), body_hash="x", user_id=city.users[who],
                              site_id=city.sites[code], definition_id=results.MARKET_SURVEY,
                              version_id=version.id, content_hash=version.content_hash,
                              answers=answers, evidence={}, evaluation={},
                              happened_at=utcnow()))
    async with sessions() as db:
        t = await results.demand_trends(db, lang="zh", tz=TZ, today=today, months=6,
                                        min_group=3)
        small = await results.demand_trends(db, lang="zh", tz=TZ, today=today, months=6,
                                            min_group=6)
    assert len(t.months) == 6 and t.months[-1] == today.strftime("%Y-%m") and t.count == 5
    zhonghua = next(b for b in t.brands if b.brand == "zhonghua")
    assert zhonghua.name == "中华（硬）"
    now = zhonghua.months[-1]
    assert (now.count, now.suppressed) == (5, False)
    assert now.tight_share == pytest.approx(3 / 5) and now.out_share == pytest.approx(1 / 5)
    assert now.mean_price == pytest.approx((600 + 620 + 500 + 520) / 4)
    assert zhonghua.months[0].count == 0 and zhonghua.months[0].suppressed
    sales = {c.value: c.count for c in t.sales[-1].sales}
    assert sales == {"rising": 2, "steady": 2, "falling": 1, "unsure": 0}
    stations = {s.name: s for s in t.stations}
    assert (stations["north"].count, stations["north"].suppressed) == (3, False)
    assert stations["north"].rising_share == pytest.approx(1 / 3)
    assert (stations["south"].count, stations["south"].suppressed) == (2, True)
    assert stations["south"].tight_share is None
    assert small.brands[0].months[-1].suppressed and small.brands[0].months[-1].mean_price is None
