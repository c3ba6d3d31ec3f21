"""The demo's survey campaigns, their responses and the company's notices.

- Last month's retailer satisfaction campaign, closed, and this month's, open: each follows
  the customer managers' visits (the shop is asked within three days of a visit, about that
  visit and that customer manager), and about a third of the shops answered. How satisfied
  a shop is depends on its customer manager (each has a quality of their own, so scores by
  staff member, station and shop grade differ) and a little on chance; some write a
  suggestion (always when they are dissatisfied, as the survey asks).
- A consumer campaign through a public link, only if the definitions have a survey whose
  audience is consumers (answered anonymously, one response per device, at some shops).
- Two notices for retailers and one for consumers.

Responses are validated and scored by the survey version's compiled form, as
``store_response`` does, and inserted in bulk (the demo makes hundreds).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import monotonic as time_now
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.demo.answers import plausible_submission
from rounds.demo.work import month_end, month_start
from rounds.forms.compiled import CompiledForm, compile_form
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import current_contents, get_version
from rounds.runtime.people.models import User
from rounds.runtime.portals.models import Notice
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.documents import score_columns, stored_evaluation
from rounds.runtime.surveys.models import (
    CLOSED,
    CONSUMER,
    OPEN,
    PER_DEVICE,
    RETAILER,
    SurveyCampaign,
    SurveyResponse,
)
from rounds.runtime.surveys.responses import body_digest
from rounds.runtime.visits.models import Visit

SATISFACTION = "retailer_satisfaction"
FOLLOWS = "customer_manager"
WITHIN_DAYS = 3
ANSWERED = 0.35  # the share of visits whose shop answered

SUGGESTIONS = [
    "希望客户经理拜访时多讲讲新品规的卖点，方便向顾客推荐。",
    "送货时间不太固定，希望能提前通知大概几点到。",
    "紧俏品规的货源希望能多分一些，常常不够卖。",
    "网上订货的页面在手机上不好操作，希望改进。",
    "希望多组织一些经营培训，比如陈列和会员管理。",
    "附近有无证经营的，希望加强检查，维护公平。",
    "客户经理服务很好，希望保持。",
    "投诉后希望能尽快有个回复，告诉我们处理到哪一步了。",
    "希望订货量能根据节假日适当调整。",
    "价签和宣传物料希望能及时更新。",
]
NEGATIVE = ("dissatisfied", "very_dissatisfied")


def _at(day: date, tz: tzinfo) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _response_row(form: CompiledForm, campaign: SurveyCampaign, answers: dict[str, Any], *,
                  respondent: str, at: datetime, rng: random.Random,
                  **about: Any) -> dict[str, Any] | None:
    """A response row as ``store_response`` stores it (None: the answers do not validate)."""
    body = msgspec.json.encode({"answers": answers})
    try:
        valid = form.validate(body, None, "zh")
    except Exception:
        return None  # an implausible combination; a real respondent would have fixed it
    scored = valid.scored
    row = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
           "body_hash": body_digest(body), "campaign_id": campaign.id,
           "definition_id": campaign.survey_id, "version_id": campaign.version_id,
           "respondent": respondent, "user_id": None, "site_id": None, "org_unit_id": None,
           "about_visit_id": None, "about_user_id": None, "token_nonce": None,
           "device_hash": None, "answers": valid.answers,
           "evaluation": stored_evaluation(scored), "submitted_at": at, "happened_at": at,
           **score_columns(scored)}
    del row["passed"]
    row.update(about)
    return row


def _satisfaction_answers(content: dict[str, Any], rng: random.Random, quality: float
                          ) -> dict[str, Any]:
    answers = dict(plausible_submission(content, rng, quality=quality)["answers"])
    answers.pop("suggestions", None)
    if answers.get("overall_satisfaction") in NEGATIVE or rng.random() < 0.2:
        answers["suggestions"] = rng.choice(SUGGESTIONS)
    return answers


async def _campaign(db: AsyncSession, version: DefinitionVersion, *, title: str,
                    audience: str, first: date, last: date, tz: tzinfo, status: str,
                    target: int, created_by: int, follow: bool, one_per: str = PER_DEVICE
                    ) -> SurveyCampaign:
    closes = _at(last + timedelta(days=1), tz)
    campaign = SurveyCampaign(
        title=title, survey_id=version.definition_id, version_id=version.id,
        audience=audience, targeting={},
        follow_visit={"within_days": WITHIN_DAYS, "roles": [FOLLOWS]} if follow else None,
        one_per=one_per, target_responses=target, period_start=first, period_end=last,
        opens_at=_at(first, tz), closes_at=closes, status=status, created_by=created_by,
        closed_at=closes if status == CLOSED else None)
    db.add(campaign)
    await db.flush()
    return campaign


async def build_surveys(sessions: async_sessionmaker[AsyncSession], *, today: date,
                        now: datetime, tz: tzinfo, seed: int = 7,
                        progress: Callable[[str], None] = print) -> tuple[int, int]:
    """The campaigns, their responses (up to ``now``) and the notices. Returns (campaigns,
    responses)."""
    started = time_now()
    rng = random.Random(seed + 14)
    async with sessions() as db, db.begin():
        leader = (await db.execute(select(User.id).where(User.role_id.in_(
            ("city_leader", "administrator"))).order_by(User.role_id != "city_leader",
                                                         User.id))).scalars().first()
        if leader is None:
            progress("  surveys: no city leader to run them; none made")
            return 0, 0
        units = {int(s): int(u) for s, u in (await db.execute(
            select(Site.id, Site.org_unit_id))).all()}
        shop_users = {int(s or 0): int(u) for u, s in (await db.execute(
            select(User.id, User.site_id).where(User.role_id == "retailer_user",
                                                User.site_id.is_not(None))
            .order_by(User.id.desc()))).all()}
        # The demo retailer (the first shop account, shop1) has not yet answered about its
        # last days' visits: its shop page asks it to.
        demo_shop = min(shop_users.items(), key=lambda kv: kv[1])[0] if shop_users else None
        recent = now - timedelta(days=WITHIN_DAYS)
        version = await get_version(db, SATISFACTION)
        content = dict(version.content)
        form = compile_form(content, version.content_hash)
        this_month, last_month = month_start(today), month_start(today, 1)
        campaigns = [
            (await _campaign(db, version, title=f"{last_month.month}月零售户满意度回访",
                             audience=RETAILER, first=last_month, last=month_end(last_month),
                             tz=tz, status=CLOSED, target=0, created_by=leader, follow=True)),
            (await _campaign(db, version, title=f"{this_month.month}月零售户满意度回访",
                             audience=RETAILER, first=this_month, last=month_end(this_month),
                             tz=tz, status=OPEN, target=0, created_by=leader, follow=True)),
        ]
        visits = (await db.execute(
            select(Visit.id, Visit.user_id, Visit.site_id, Visit.checked_in_at)
            .join(User, User.id == Visit.user_id)
            .where(User.role_id == FOLLOWS, Visit.checked_in_at >= campaigns[0].opens_at,
                   Visit.checked_in_at < campaigns[1].closes_at)
            .order_by(Visit.id))).all()
        quality: dict[int, float] = {}
        rows: list[dict[str, Any]] = []
        for visit_id, user_id, site_id, checked_in in visits:
            if rng.random() >= ANSWERED or (site_id == demo_shop and checked_in >= recent):
                continue
            at = checked_in + timedelta(hours=rng.uniform(2, WITHIN_DAYS * 24))
            campaign = next((c for c in campaigns if c.opens_at <= checked_in < c.closes_at),
                            None)
            if campaign is None or at >= min(now, campaign.closes_at):
                continue
            q = quality.setdefault(int(user_id), rng.uniform(0.45, 0.95))
            row = _response_row(
                form, campaign, _satisfaction_answers(content, rng, q), respondent=RETAILER,
                at=at, rng=rng, user_id=shop_users.get(int(site_id)), site_id=int(site_id),
                org_unit_id=units.get(int(site_id)), about_visit_id=int(visit_id),
                about_user_id=int(user_id))
            if row is not None:
                rows.append(row)
        for c in campaigns:
            got = sum(1 for r in rows if r["campaign_id"] == c.id)
            # The target: what the month is expected to bring, a little more than got so far
            c.target_responses = max(10, int(round(got * (1.1 if c.status == CLOSED else 1.6), -1)))
        consumer = await _consumer_campaign(db, rng, today=today, now=now, tz=tz,
                                            leader=leader, units=units)
        if consumer is not None:
            campaigns.append(consumer[0])
            rows += consumer[1]
        for i in range(0, len(rows), 500):
            await db.execute(insert(SurveyResponse), rows[i:i + 500])
        notices = _notices(today, now, leader)
        await db.execute(insert(Notice), notices)
    suggestions = sum(1 for r in rows if r["answers"].get("suggestions"))
    progress(f"  surveys: {len(campaigns)} campaigns, {len(rows)} responses "
             f"({suggestions} with suggestions), {len(notices)} notices, "
             f"in {time_now() - started:.1f} s")
    return len(campaigns), len(rows)


async def _consumer_campaign(db: AsyncSession, rng: random.Random, *, today: date,
                             now: datetime, tz: tzinfo, leader: int, units: dict[int, int]
                             ) -> tuple[SurveyCampaign, list[dict[str, Any]]] | None:
    """This month's consumer campaign and its anonymous responses, if a survey asks
    consumers (one per device, at a few shops); None when no survey does."""
    surveys = await current_contents(db, "survey")
    survey = next((i for i, c in sorted(surveys.items()) if c.get("audience") == CONSUMER),
                  None)
    if survey is None or not units:
        return None
    version = await get_version(db, survey)
    content = dict(version.content)
    form = compile_form(content, version.content_hash)
    first = month_start(today)
    campaign = await _campaign(db, version, title=f"{first.month}月消费者问卷",
                               audience=CONSUMER, first=first, last=month_end(first), tz=tz,
                               status=OPEN, target=60, created_by=leader, follow=False,
                               one_per=PER_DEVICE)
    shops = rng.sample(sorted(units), min(8, len(units)))
    start = campaign.opens_at
    span = max((min(now, campaign.closes_at) - start).total_seconds(), 0)
    rows: list[dict[str, Any]] = []
    for _ in range(min(40, int(span // 3600))):
        site = rng.choice(shops)
        at = start + timedelta(seconds=rng.uniform(0, span))
        device = hashlib.sha256(rng.randbytes(16)).hexdigest()
        row = _response_row(form, campaign, dict(plausible_submission(
            content, rng, quality=rng.uniform(0.5, 0.9))["answers"]), respondent=CONSUMER,
            at=at, rng=rng, site_id=site, org_unit_id=units[site], device_hash=device)
        if row is not None:
            rows.append(row)
    return campaign, rows


def _date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _notices(today: date, now: datetime, leader: int) -> list[dict[str, Any]]:
    """Two notices for retailers (every unit) and one for consumers."""
    start = today + timedelta(days=7)
    return [
        {"audience": RETAILER, "topic": "policy", "org_unit_id": None, "created_by": leader,
         "published_at": now - timedelta(days=2), "expires_at": now + timedelta(days=30),
         "title": {"zh": "关于调整卷烟订货周期的通知",
                   "en": "Changes to the cigarette ordering cycle"},
         "body": {"zh": f"自{_date(start)}起，城区零售户的订货周期由每周一次调整为每周两次"
                        "（周一、周四），请您按新的周期提交订单。如有疑问，请联系您的客户经理。",
                  "en": f"From {start.isoformat()}, shops in the city districts order twice a "
                        "week (Mondays and Thursdays) instead of once. Please send your orders "
                        "on the new days; your customer manager can answer any questions."}},
        {"audience": RETAILER, "topic": "service", "org_unit_id": None, "created_by": leader,
         "published_at": now - timedelta(days=5), "expires_at": None,
         "title": {"zh": "零售户满意度回访开始了", "en": "Our satisfaction survey is open"},
         "body": {"zh": "客户经理拜访后三天内，您会收到一份满意度问卷，约需两分钟。"
                        "您的意见会直接用于改进服务，感谢您的支持！",
                  "en": "Within three days of each visit, you will be asked to fill in a "
                        "two-minute satisfaction survey. Your answers go straight into "
                        "improving our service. Thank you!"}},
        {"audience": CONSUMER, "topic": "product", "org_unit_id": None, "created_by": leader,
         "published_at": now - timedelta(days=1), "expires_at": now + timedelta(days=60),
         "title": {"zh": "未成年人不得购买烟草制品", "en": "No tobacco sales to minors"},
         "body": {"zh": "依据《中华人民共和国未成年人保护法》，"
                        "任何经营者不得向未成年人出售烟草制品。如发现违规销售，欢迎通过本页面投诉，我们将及时处理。",
                  "en": "By law, no shop may sell tobacco products to minors. If you see it "
                        "happen, please tell us through this page and we will act on it."}},
    ]
