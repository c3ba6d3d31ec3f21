"""The demo city on both databases: every page has something real to show at first start."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import load_documents
from rounds.demo.city import build_city
from rounds.demo.work import build_work
from rounds.runtime.definitions import service as definitions
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.plans import generate_month_plans

REPO = Path(__file__).resolve().parents[3]


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_demo_city_and_a_month_of_work(sessions: async_sessionmaker[AsyncSession],
                                             tmp_path: Path) -> None:
    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    assert await count(sessions, Site) == 100
    async with transaction(sessions) as db:
        plans = await generate_month_plans(db, "2026-11")
    assert plans.created > 0
    visits, submitted = await build_work(
        sessions, city, today=date(2026, 11, 16), data_dir=tmp_path, progress=lambda _: None)
    assert visits == await count(sessions, Visit) > 0
    assert submitted == await count(sessions, Submission) and submitted > visits * 0.9
    assert await count(sessions, FailedItem) > 0
    async with sessions() as db:
        scores = (await db.execute(select(Submission.percentage))).scalars().all()
        flagged = (await db.execute(select(func.count()).select_from(Visit)
                                    .where(Visit.flagged))).scalar_one()
    assert all(s is None or 0 <= s <= 100 for s in scores)
    assert len({round(s) for s in scores if s is not None}) > 5  # a spread, not one value
    assert flagged > 0  # some check-ins were too far or too vague, as in real life


async def test_three_months_of_work_move(sessions: async_sessionmaker[AsyncSession],
                                         tmp_path: Path) -> None:
    """Three months of history: the two months before this one whole and this one up to
    yesterday, each month's visits near its plan, people's scores changing from month to
    month (some up, some down), and a few forms sent days after their visit."""
    from collections import defaultdict

    from rounds.runtime.visits.models import PlannedVisit

    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.1, progress=lambda _: None)
    for month in ("2026-09", "2026-10", "2026-11"):
        async with transaction(sessions) as db:
            await generate_month_plans(db, month)
    visits, submitted = await build_work(sessions, city, today=date(2026, 11, 16), months=3,
                                         data_dir=tmp_path, progress=lambda _: None)
    assert visits == await count(sessions, Visit) and submitted > visits * 0.9
    async with sessions() as db:
        rows = (await db.execute(select(Submission.user_id, Submission.happened_at,
                                        Submission.submitted_at, Submission.percentage))).all()
        planned = dict((await db.execute(select(PlannedVisit.month, func.sum(
            PlannedVisit.visits)).group_by(PlannedVisit.month))).all())
    per_month: dict[str, int] = defaultdict(int)
    scores: dict[tuple[int, str], list[float]] = defaultdict(list)
    for user_id, happened, _sent, percentage in rows:
        month = happened.strftime("%Y-%m")
        per_month[month] += 1
        if percentage is not None:
            scores[(user_id, month)].append(percentage)
    assert min(rows, key=lambda r: r[1])[1].date() >= date(2026, 9, 1)
    assert max(rows, key=lambda r: r[1])[1].date() < date(2026, 11, 16)  # up to yesterday
    assert set(per_month) == {"2026-09", "2026-10", "2026-11"}
    # Whole months near their plan (paces 0.5–1.15); this month about half of it so far.
    assert 0.5 * planned["2026-09"] < per_month["2026-09"] < 1.3 * planned["2026-09"]
    assert per_month["2026-11"] < 0.75 * per_month["2026-10"]
    # Movement: people whose average score went up by 3 points or more, and down.
    moved = [sum(scores[(u, "2026-11")]) / len(scores[(u, "2026-11")])
             - sum(scores[(u, "2026-09")]) / len(scores[(u, "2026-09")])
             for u in {u for u, _ in scores}
             if scores.get((u, "2026-09")) and scores.get((u, "2026-11"))]
    assert any(m >= 3 for m in moved) and any(m <= -3 for m in moved), moved
    # Late data: some forms arrived hours or days after their visit (offline phones).
    assert any((sent - happened).total_seconds() > 6 * 3600 for _, happened, sent, _ in rows)
    assert all(sent >= happened for _, happened, sent, _ in rows)


async def test_demo_photos_load_for_the_station_head(sessions: async_sessionmaker[AsyncSession],
                                                     tmp_path: Path) -> None:
    """The demo's submissions link their photos as the API does: a station head opening a
    submission of their station sees its photos (and signature); a customer manager of
    another station does not."""
    from rounds.errors import NotFound
    from rounds.runtime.orgs.models import OrgUnit
    from rounds.runtime.people.auth import principal_for
    from rounds.runtime.people.models import User
    from rounds.runtime.storage.access import visible_photo
    from rounds.runtime.submissions.models import SubmissionPhoto

    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    async with transaction(sessions) as db:
        await generate_month_plans(db, "2026-11")
    await build_work(sessions, city, today=date(2026, 11, 16), data_dir=tmp_path,
                     progress=lambda _: None)
    async with sessions() as db:
        sub = (await db.execute(select(Submission).where(
            Submission.definition_id == "customer_manager_visit").order_by(Submission.id)
            .limit(1))).scalar_one()
        linked = set((await db.execute(select(SubmissionPhoto.photo_id).where(
            SubmissionPhoto.submission_id == sub.id))).scalars())
        signature = sub.answers["retailer_signature"]["photo"]
        assert signature in linked and len(linked) >= 1
        site = await db.get(Site, sub.site_id)
        assert site is not None
        unit = await db.get(OrgUnit, site.org_unit_id)
        assert unit is not None
        heads = (await db.execute(select(User).where(User.role_id == "station_head"))
                 ).scalars().all()
        paths = {i: p for i, p in (await db.execute(select(OrgUnit.id, OrgUnit.path))).all()}
        head = next(u for u in heads if unit.path.startswith(paths[u.org_unit_id]))
        other = next(u for u in (await db.execute(select(User).where(
            User.role_id == "customer_manager", User.id != sub.user_id))).scalars()
            if u.org_unit_id != site.org_unit_id)
        for pid in linked:
            assert (await visible_photo(db, await principal_for(db, head), pid)).id == pid
            with pytest.raises(NotFound):
                await visible_photo(db, await principal_for(db, other), pid)


async def test_demo_surveys_follow_the_customer_managers_visits(
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """Last month's satisfaction campaign (closed) and this month's (open), answered by about a
    third of the shops within three days of a customer manager's visit, about that visit and
    that customer manager; scores that differ by customer manager; suggestions in Chinese;
    the notices for retailers and consumers."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from rounds.demo.surveys import build_surveys
    from rounds.runtime.people.models import User
    from rounds.runtime.portals.models import Notice
    from rounds.runtime.surveys.models import SurveyCampaign, SurveyResponse

    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    for month in ("2026-10", "2026-11"):
        async with transaction(sessions) as db:
            await generate_month_plans(db, month)
    today = date(2026, 11, 16)
    await build_work(sessions, city, today=today, months=2, data_dir=tmp_path,
                     progress=lambda _: None)
    now = datetime(2026, 11, 16, 2, tzinfo=UTC)
    lines: list[str] = []
    made, answered = await build_surveys(sessions, today=today, now=now,
                                         tz=ZoneInfo("Asia/Shanghai"), progress=lines.append)
    assert lines and lines[0].startswith("  surveys: ")
    async with sessions() as db:
        campaigns = (await db.execute(select(SurveyCampaign).order_by(SurveyCampaign.id))
                     ).scalars().all()
        responses = (await db.execute(select(SurveyResponse))).scalars().all()
        visits = {v.id: v for v in (await db.execute(select(Visit))).scalars()}
        roles = dict((await db.execute(select(User.id, User.role_id))).all())
        notices = (await db.execute(select(Notice.audience))).scalars().all()
    assert made == len(campaigns) and answered == len(responses) > 20
    retail = [c for c in campaigns if c.audience == "retailer"]
    assert [(c.status, c.period_start) for c in retail] == [
        ("closed", date(2026, 10, 1)), ("open", date(2026, 11, 1))]
    assert all(c.follow_visit == {"within_days": 3, "roles": ["customer_manager"]}
               for c in retail)
    mine = [r for r in responses if r.respondent == "retailer"]
    assert {r.campaign_id for r in mine} == {c.id for c in retail}
    for r in mine:
        assert r.about_visit_id is not None
        visit = visits[r.about_visit_id]
        assert r.about_user_id == visit.user_id and r.site_id == visit.site_id
        assert roles[visit.user_id] == "customer_manager"
        assert timedelta(0) < r.happened_at - visit.checked_in_at <= timedelta(days=3)
        assert r.happened_at < now and r.percentage is not None and r.org_unit_id
    by_staff: dict[int, list[float]] = {}
    for r in mine:
        by_staff.setdefault(r.about_user_id or 0, []).append(r.percentage or 0)
    means = [sum(v) / len(v) for v in by_staff.values() if len(v) >= 3]
    assert len(means) >= 2 and max(means) - min(means) > 5  # customer managers differ
    texts = [r.answers["suggestions"] for r in mine if r.answers.get("suggestions")]
    assert texts and all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    assert all(r.answers.get("suggestions") for r in mine
               if r.answers["overall_satisfaction"] in ("dissatisfied", "very_dissatisfied"))
    assert sorted(notices) == ["consumer", "retailer", "retailer"]


async def test_demo_market_survey_and_the_shops_survey_to_answer(
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """The market inspectors' market survey over the three months, which the industry page's
    demand trends read: every month has records, 中华 is tighter in the last month than in
    the first; and the demo retailer (shop1) is asked about its customer manager's visit of
    the last days, which it has not answered."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from rounds.demo.market import build_market
    from rounds.demo.surveys import build_surveys
    from rounds.runtime.people.models import User
    from rounds.runtime.surveys.results import demand_trends
    from rounds.runtime.surveys.service import asked_of_shop

    tz = ZoneInfo("Asia/Shanghai")
    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    for month in ("2026-09", "2026-10", "2026-11"):
        async with transaction(sessions) as db:
            await generate_month_plans(db, month)
    today = date(2026, 11, 16)
    await build_work(sessions, city, today=today, months=3, data_dir=tmp_path, tz=tz,
                     progress=lambda _: None)
    made = await build_market(sessions, today=today, months=3, tz=tz, progress=lambda _: None)
    now = datetime(2026, 11, 16, 2, tzinfo=UTC)
    await build_surveys(sessions, today=today, now=now, tz=tz, progress=lambda _: None)
    async with sessions() as db:
        assert made == await count(sessions, Submission) - (await db.execute(
            select(func.count()).select_from(Submission).where(
                Submission.definition_id != "market_price_stock"))).scalar_one() > 50
        trends = await demand_trends(db, lang="zh", tz=tz, today=today, months=3, min_group=5)
        assert [m.count > 5 and not m.suppressed for m in trends.sales] == [True] * 3
        zhonghua = next(b for b in trends.brands if b.brand == "zhonghua")
        first, last = zhonghua.months[0], zhonghua.months[-1]
        assert first.tight_share is not None and last.tight_share is not None
        assert last.tight_share > first.tight_share + 0.1, zhonghua
        shop = (await db.execute(select(User).where(User.username == "shop1"))).scalar_one()
        site = await db.get(Site, shop.site_id)
        assert site is not None
        offers = await asked_of_shop(db, site, now, tz=tz)
    assert any(o.visit_id is not None for o in offers), offers
