"""The staff's market survey in the demo: prices and stock of the common brands, recorded
by the market inspectors at some of the shops they patrol (a few hundred over the months of
history, whatever the scale), so the industry page's demand trends have months to compare.

The market moves: 中华 grows tight in the last month (before the Spring Festival orders),
prices drift up a little month by month, and more shops say sales are rising lately. Each
brand's stock and price follow that; the other answers (marked prices, remarks) are the
plausible answers of :func:`rounds.demo.answers.plausible_submission`. Every submission goes
through the survey's real validation, is stored on its patrol visit (``happened_at`` the
check-in) and written in bulk, as the standards' are (its failed items too: an unmarked
price becomes an issue like any other).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from time import monotonic as time_now
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import as_utc
from rounds.demo.answers import plausible_submission
from rounds.demo.work import month_start
from rounds.errors import NotFound
from rounds.forms.compiled import compile_form
from rounds.runtime.definitions.service import get_version
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.documents import (
    failed_item_rows,
    score_columns,
    stored_evaluation,
)
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.visits.models import Visit

MARKET_SURVEY = "market_price_stock"
SURVEYORS = "market_inspector"  # whose patrols record it (the role lists the survey)
TARGET = 360  # submissions over the history, about: a few a working day


@dataclass(frozen=True)
class Brand:
    """How a brand's market goes, month by month (``k``: 0 the oldest month)."""

    tight: tuple[float, ...]  # chance of "tight" per month (the last one repeated after)
    out: tuple[float, ...]  # chance of "out of stock"
    drift: float  # price change per month, as a share of the price
    base: float = 0.3  # the usual price, as a share of the item's range above its minimum


BRANDS = {
    "zhonghua": Brand(tight=(0.12, 0.15, 0.48), out=(0.02, 0.03, 0.12), drift=0.02),
    "yuxi": Brand(tight=(0.10, 0.12, 0.15), out=(0.02, 0.02, 0.03), drift=0.01),
    "yunyan": Brand(tight=(0.18, 0.12, 0.08), out=(0.04, 0.03, 0.02), drift=-0.005),
    "hongtashan": Brand(tight=(0.05, 0.06, 0.08), out=(0.01, 0.01, 0.01), drift=0.008),
}
OTHER = Brand(tight=(0.1,), out=(0.02,), drift=0.0)
# The sales trend's answers per month: rising, steady, falling, can't say.
SALES = ((0.18, 0.5, 0.22, 0.10), (0.22, 0.5, 0.18, 0.10), (0.34, 0.44, 0.12, 0.10))
TIGHT_REMARKS = {
    "zhonghua": "中华（硬）到货偏少，零售户反映临近春节不够卖。",
}
REMARKS = ["价签齐全，价格稳定。", "零售户反映近期客流有所增加。", "店内陈列整齐，库存正常。"]


def _of(values: tuple[float, ...], k: int) -> float:
    return values[min(k, len(values) - 1)]


def _items(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(i.get("id")): i for s in content.get("sections") or []
            for i in s.get("items") or []}


def market_answers(content: dict[str, Any], rng: random.Random, k: int, *,
                   position: tuple[float, float], day: date,
                   attrs: dict[str, Any]) -> dict[str, Any]:
    """One shop's answers in month ``k`` (0: the oldest of the history)."""
    answers = dict(plausible_submission(content, rng, quality=0.93, position=position,
                                        today=day, ctx={"site": attrs})["answers"])
    items = _items(content)
    tight_brands = []
    for section in content.get("sections") or []:
        bid = str(section.get("id"))
        if f"{bid}_stock" not in items:
            continue
        trend = BRANDS.get(bid, OTHER)
        roll = rng.random()
        stock = ("out" if roll < _of(trend.out, k) else
                 "tight" if roll < _of(trend.out, k) + _of(trend.tight, k) else "ample")
        answers[f"{bid}_stock"] = stock
        price = items.get(f"{bid}_price")
        answers.pop(f"{bid}_price", None)
        if price is not None and stock != "out":
            lo = float(price.get("min", 0))
            hi = float(price.get("max", lo + 100))
            usual = lo + trend.base * (hi - lo)
            scarce = 1.03 if stock == "tight" else 1.0  # a tight brand sells a little dearer
            value = usual * (1 + trend.drift * k) * scarce * rng.uniform(0.97, 1.03)
            answers[f"{bid}_price"] = int(round(min(hi, max(lo, value)) / 5) * 5)
        if stock != "ample":
            tight_brands.append(bid)
    if "sales_trend" in items:
        answers["sales_trend"] = rng.choices(("rising", "steady", "falling", "unsure"),
                                             weights=SALES[min(k, len(SALES) - 1)])[0]
    if "remarks" in items:
        said = [TIGHT_REMARKS[b] for b in tight_brands if b in TIGHT_REMARKS]
        if said and rng.random() < 0.6:
            answers["remarks"] = said[0]
        elif rng.random() < 0.15:
            answers["remarks"] = rng.choice(REMARKS)
        else:
            answers.pop("remarks", None)
    return answers


async def build_market(sessions: async_sessionmaker[AsyncSession], *, today: date,
                       months: int, tz: tzinfo, seed: int = 7,
                       progress: Callable[[str], None] = print) -> int:
    """The market survey's submissions at some of the market inspectors' patrol visits of
    the ``months`` months up to yesterday (about :data:`TARGET` of them). Returns how many."""
    started = time_now()
    rng = random.Random(seed + 21)
    firsts = [month_start(today, back) for back in range(months - 1, -1, -1)]
    async with sessions() as db:
        try:
            version = await get_version(db, MARKET_SURVEY)
        except NotFound:
            progress("  market survey: not in the definitions; none made")
            return 0
        visits = (await db.execute(
            select(Visit.id, Visit.user_id, Visit.site_id, Visit.checked_in_at,
                   Visit.checked_out_at, Site.lat, Site.lng, Site.attributes)
            .join(User, User.id == Visit.user_id).join(Site, Site.id == Visit.site_id)
            .where(User.role_id == SURVEYORS, Visit.checked_out_at.is_not(None))
            .order_by(Visit.id))).all()
    if not visits:
        progress("  market survey: no patrols to record it at")
        return 0
    content = dict(version.content)
    form = compile_form(content, version.content_hash)
    share = min(1.0, TARGET / len(visits))
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for vid, uid, site_id, checked_in, checked_out, lat, lng, attrs in visits:
        if rng.random() >= share:
            continue
        local = as_utc(checked_in).astimezone(tz)
        k = max((i for i, f in enumerate(firsts) if f <= local.date()), default=0)
        answers = market_answers(content, rng, k, position=(lat, lng), day=local.date(),
                                 attrs=attrs or {})
        body = msgspec.json.encode({"answers": answers})
        try:
            valid = form.validate(body, {"site": attrs or {}, "today": local.date().isoformat(),
                                         "now": local.isoformat()})
        except Exception:  # an implausible combination; a real inspector would fix it
            continue
        ev = valid.scored
        at = as_utc(checked_out) - timedelta(minutes=rng.randint(1, 4))
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        rows.append({
            "id": sid, "body_hash": hashlib.sha256(body).hexdigest(), "user_id": uid,
            "site_id": site_id, "visit_id": vid, "definition_id": MARKET_SURVEY,
            "version_id": version.id, "content_hash": version.content_hash,
            "answers": valid.answers, "evidence": valid.evidence, **score_columns(ev),
            "evaluation": stored_evaluation(ev), "alert_count": len(ev.alerts),
            "failed_count": len(ev.failed), "submitted_at": max(at, as_utc(checked_in)),
            "happened_at": as_utc(checked_in)})
        failed += failed_item_rows(sid, ev.failed, site_id, at)
    async with sessions() as db, db.begin():
        for i in range(0, len(rows), 500):
            await db.execute(insert(Submission), rows[i:i + 500])
        for i in range(0, len(failed), 1000):
            await db.execute(insert(FailedItem), failed[i:i + 1000])
    progress(f"  market survey: {len(rows)} submissions at the market inspectors' patrols "
             f"({len(failed)} failed items), in {time_now() - started:.1f} s")
    return len(rows)
